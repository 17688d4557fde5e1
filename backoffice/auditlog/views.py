from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for
from werkzeug.wrappers import Response

from backoffice.auditlog import services
from backoffice.auditlog.forms import AuditFilterForm
from backoffice.auth.sessions import current_actor
from backoffice.core.access import allow
from backoffice.core.csvexport import csv_response
from backoffice.core.forms import form_link_args
from backoffice.core.permissions import Permission
from backoffice.practice.services import list_offices

bp = Blueprint("auditlog", __name__)

EXPORT_COLUMNS = ("When", "Who", "Action", "Record", "Subject", "Details", "Office", "Changes", "Address")


def _filter_form() -> AuditFilterForm:
    """The filters from the query string; only clinical readers get the patient filter."""
    return AuditFilterForm(request.args, entity_types=services.entity_types(),
                           office_choices=[(str(o.id), o.name) for o in list_offices()],
                           patient_filter=services.may_see_clinical(current_actor()))


@bp.get("/audit")
@allow(Permission.READ_AUDIT_TRAIL)
def index() -> tuple[str, int]:
    form = _filter_form()
    if not form.validate():
        return render_template("auditlog/index.html", form=form, events=[], older_url=None, newest_url=None,
                               export_url=None), 400
    events = services.search_events(form.to_filter(), viewer=current_actor(), before_id=form.before.data,
                                    timezone=current_app.config["PRACTICE_TIMEZONE"])
    # Links carry the filters as the form read them, never the raw query string.
    filters: dict[str, Any] = form_link_args(form, (name for name in form.data if name != "before"))
    older_url = (url_for("auditlog.index", before=events[-1].id, **filters)
                 if len(events) == services.PAGE_SIZE else None)
    newest_url = url_for("auditlog.index", **filters) if form.before.data else None
    return render_template("auditlog/index.html", form=form, events=events, older_url=older_url,
                           newest_url=newest_url, export_url=url_for("auditlog.export", **filters)), 200


@bp.get("/audit.csv")
@allow(Permission.EXPORT_AUDIT_TRAIL)
def export() -> Response | tuple[str, int]:
    """The filtered trail as a spreadsheet, redacted as the page is for the same reader."""
    form = _filter_form()
    if not form.validate():
        return render_template("auditlog/index.html", form=form, events=[], older_url=None, newest_url=None,
                               export_url=None), 400
    rows = services.export_events(form.to_filter(), viewer=current_actor(),
                                  timezone=current_app.config["PRACTICE_TIMEZONE"])
    return csv_response("audit-trail.csv", EXPORT_COLUMNS, (
        [row.at, row.username, row.action.replace("_", " "), row.record, row.subject,
         "; ".join(f"{label}: {value}" for label, value in row.details) or row.summary, row.office,
         "; ".join(_change_text(change) for change in row.changes), row.client_address]
        for row in rows))


def _change_text(change: services.FieldChange) -> str:
    if not change.shown:
        return change.label
    before = f"{change.before} → " if change.before is not None else ""
    return f"{change.label}: {before}{change.after}"
