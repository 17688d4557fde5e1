from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from backoffice.core.access import public, signed_in
from backoffice.core.extensions import db

bp = Blueprint("core", __name__)


@bp.get("/")
@signed_in
def home() -> str:
    return render_template("core/home.html")


@bp.get("/healthz")
@public
def healthz() -> tuple[Response, int]:
    """For load balancers and monitoring: the app answers and its database does."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200
