from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for

from backoffice.audit import services
from backoffice.audit.forms import AuditFilterForm
from backoffice.auth.access import allow
from backoffice.auth.roles import Role
from backoffice.auth.sessions import current_actor
from backoffice.forms import form_link_args
from backoffice.practice.services import list_offices

bp = Blueprint("audit", __name__)


@bp.get("/audit")
@allow(Role.MANAGER, Role.ADMIN)
def index() -> tuple[str, int]:
    offices = list_offices()
    form = AuditFilterForm(request.args, entity_types=services.entity_types(),
                           office_choices=[(str(o.id), o.name) for o in offices])
    if not form.validate():
        return render_template("audit/index.html", form=form, events=[], offices={},
                               older_url=None, newest_url=None), 400
    events = services.search_events(form.to_filter(), viewer=current_actor(), before_id=form.before.data,
                                    timezone=current_app.config["PRACTICE_TIMEZONE"])
    filters: dict[str, Any] = form_link_args(form, (name for name in form.data if name != "before"))
    older_url = (url_for("audit.index", before=events[-1].id, **filters)
                 if len(events) == services.PAGE_SIZE else None)
    newest_url = url_for("audit.index", **filters) if form.before.data else None
    return render_template("audit/index.html", form=form, events=events,
                           offices={o.id: o.name for o in offices}, older_url=older_url,
                           newest_url=newest_url), 200
