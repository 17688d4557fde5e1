"""The list of scheduling requests the schedulers work from: the open ones, urgent first, then
oldest first, with what to book and from when (never the clinical course that led to them), in
a fixed number of queries; showing it adds the audit row saying who saw it. Requests are made
and closed by `requests.py`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import joinedload

from backoffice.audit.readings import record_reading
from backoffice.core.actor import Actor
from backoffice.core.extensions import db
from backoffice.core.permissions import Permission
from backoffice.scheduling.models import SchedulingRequest
from backoffice.scheduling.request_rules import RequestPriority, RequestStatus, age_in_days, search_from
from backoffice.scheduling.requests import get_request


@dataclass(frozen=True)
class RequestRow:
    """An open request with its patient, procedure, physician and office, how many days it has
    waited and the day next available should search from (None: from today)."""

    request: SchedulingRequest
    age_days: int
    search_from: date | None


@dataclass(frozen=True)
class RequestList:
    rows: list[RequestRow] = field(default_factory=list)
    count: int = 0
    limit: int = 0
    offset: int = 0


# Urgent first, then the longest waiting.
LIST_ORDER = (case((SchedulingRequest.priority == RequestPriority.URGENT.value, 0), else_=1),
              SchedulingRequest.created_at, SchedulingRequest.id)


def open_requests(*, office_id: int | None, now: datetime, today: date, limit: int, offset: int,
                  by: Actor) -> RequestList:
    """A page of `limit` open requests from `offset`, of one office or both, with the count of
    all: two queries, whatever the practice's size, and the audit row."""
    if not by.can(Permission.HANDLE_SCHEDULING_REQUESTS):
        return RequestList(limit=limit)
    where: list[ColumnElement[bool]] = [SchedulingRequest.status == RequestStatus.OPEN]
    if office_id is not None:
        where.append(SchedulingRequest.office_id == office_id)
    count = db.session.scalar(select(func.count()).select_from(SchedulingRequest).where(*where)) or 0
    query = (select(SchedulingRequest).where(*where)
             .options(joinedload(SchedulingRequest.patient), joinedload(SchedulingRequest.procedure_type),
                      joinedload(SchedulingRequest.physician), joinedload(SchedulingRequest.office),
                      joinedload(SchedulingRequest.created_by))
             .order_by(*LIST_ORDER).offset(offset).limit(limit))
    rows = [RequestRow(request, age_in_days(request.created_at, now, request.office.timezone),
                       search_from(request.earliest_on, today))
            for request in db.session.scalars(query)]
    record_reading(by, "scheduling_request", office_id=office_id,
                   subject=f"scheduling requests: {len(rows)} listed")
    return RequestList(rows, count, limit, offset)


def request_for_booking(request_id: int | None, *, by: Actor) -> SchedulingRequest | None:
    """The open request a search or a booking form was opened from, with what the page names
    (one query); None when there is none, it is closed, or `by` may not see requests."""
    if request_id is None or not by.can(Permission.HANDLE_SCHEDULING_REQUESTS):
        return None
    query = (select(SchedulingRequest)
             .where(SchedulingRequest.id == request_id, SchedulingRequest.status == RequestStatus.OPEN)
             .options(joinedload(SchedulingRequest.patient), joinedload(SchedulingRequest.procedure_type),
                      joinedload(SchedulingRequest.physician)))
    return db.session.scalars(query).first()


def show_request(request_id: int, *, by: Actor) -> SchedulingRequest:
    """One request for its page, which names its patient: the reading is audited."""
    found = get_request(request_id, by=by)
    record_reading(by, "scheduling_request", found.id, patient_id=found.patient_id, office_id=found.office_id)
    return found
