"""Scheduling requests: a procedure for the schedulers to book, handed over by a physician's
decision or from the candidates list (both in procedures, which calls `open_request` inside its
own transaction), closed by the booking that fulfils it (`scheduling.services`) or cancelled
with a reason (`cancel_request`, one user action). The list the schedulers work from is read by
`request_list.py`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from backoffice.auth.editing import ensure_current, mark_changed, stamps
from backoffice.catalog.models import ProcedureType
from backoffice.core.actor import Actor
from backoffice.core.db import for_update, transaction
from backoffice.core.errors import FieldErrors, NotFound, Refused
from backoffice.core.extensions import db
from backoffice.core.permissions import Permission
from backoffice.scheduling.models import Appointment, SchedulingRequest
from backoffice.scheduling.request_rules import (
    CANCEL_REASON_LENGTH,
    NOTE_LENGTH,
    RequestPriority,
    RequestStatus,
    open_key,
)


@dataclass(frozen=True)
class RequestDetails:
    """What to book, for whom, with whom and from when. A priority or note left as None keeps
    the one an open request for the same already has (routine and none for a new one)."""

    patient_id: int
    procedure_type_id: int
    physician_id: int
    office_id: int
    earliest_on: date
    region: str | None = None
    side: str | None = None
    levels_count: int | None = None
    levels: str | None = None
    priority: RequestPriority | None = None
    note: str | None = None
    needs_override: bool = False


def _ensure_handler(by: Actor) -> None:
    if not by.can(Permission.HANDLE_SCHEDULING_REQUESTS):
        raise Refused("Scheduling requests are for schedulers, nurses and physicians.")


def _locked_open(key: str) -> SchedulingRequest | None:
    query = select(SchedulingRequest).where(SchedulingRequest.open_key == key)
    return db.session.scalars(for_update(query)).first()


def open_request(details: RequestDetails, *, by: Actor, now: datetime) -> SchedulingRequest:
    """Ask the schedulers to book a procedure, inside the caller's transaction. The region, side
    and levels are kept only where the procedure asks for them, as a booking keeps them. When a
    request for the same patient, procedure, region and side is open, it is updated (earliest
    day, physician, office, levels, and the priority and note when given) rather than doubled;
    it keeps its age."""
    _ensure_handler(by)
    procedure = db.session.get(ProcedureType, details.procedure_type_id)
    if procedure is None:
        raise NotFound("procedure", details.procedure_type_id)
    region = details.region if procedure.asks_region else None
    side = details.side if procedure.asks_side else None
    asks_levels = procedure.asks_levels
    values: dict[str, object] = {
        "physician_id": details.physician_id, "office_id": details.office_id, "earliest_on": details.earliest_on,
        "levels_count": details.levels_count if asks_levels else None,
        "levels": details.levels if asks_levels else None, "needs_override": details.needs_override}
    if details.priority is not None:
        values["priority"] = details.priority
    if details.note:
        values["note"] = details.note[:NOTE_LENGTH]
    key = open_key(details.patient_id, procedure.id, region, side)
    request = _locked_open(key)
    if request is None:
        request = SchedulingRequest(patient_id=details.patient_id, procedure_type_id=procedure.id, region=region,
                                    side=side, status=RequestStatus.OPEN, open_key=key, created_by_id=by.user_id,
                                    **{"priority": RequestPriority.ROUTINE, **values}, **stamps(by, now))
        db.session.add(request)
        db.session.flush()  # its id, for whoever keeps it
        return request
    for name, value in values.items():
        setattr(request, name, value)
    if db.session.is_modified(request):
        mark_changed(request, by, now)
    return request


def _close(request: SchedulingRequest, status: RequestStatus, *, by: Actor, now: datetime) -> None:
    request.status = status
    request.open_key = None
    mark_changed(request, by, now)


def withdraw_request(request: SchedulingRequest, reason: str, *, by: Actor, now: datetime) -> None:
    """Cancel an open request inside the caller's transaction (the decision that asked for it
    changed)."""
    if request.is_open:
        request.cancel_reason = reason[:CANCEL_REASON_LENGTH]
        _close(request, RequestStatus.CANCELLED, by=by, now=now)


def get_request(request_id: int, *, by: Actor, lock: bool = False) -> SchedulingRequest:
    if not by.can(Permission.HANDLE_SCHEDULING_REQUESTS):
        raise NotFound("scheduling request", request_id)
    query = select(SchedulingRequest).where(SchedulingRequest.id == request_id)
    found = db.session.scalars(for_update(query) if lock else query).first()
    if found is None:
        raise NotFound("scheduling request", request_id)
    return found


def cancel_request(request_id: int, reason: str, *, expected_version: int, by: Actor,
                   now: datetime) -> SchedulingRequest:
    """Cancel an open request, saying why (the patient declined, booked elsewhere ...).
    Raises FieldErrors, StaleEdit."""
    _ensure_handler(by)
    reason = reason.strip()
    if not reason:
        raise FieldErrors({"reason": "Say why it is cancelled."})
    if len(reason) > CANCEL_REASON_LENGTH:
        raise FieldErrors({"reason": f"Keep it under {CANCEL_REASON_LENGTH} characters."})
    with transaction(db.session, by):
        request = get_request(request_id, by=by, lock=True)
        ensure_current(db.session, request, expected_version, "This scheduling request")
        if not request.is_open:
            raise FieldErrors({"reason": f"This request is already {request.status.label.lower()}."})
        request.cancel_reason = reason
        _close(request, RequestStatus.CANCELLED, by=by, now=now)
    return request


# Booking a request.

def request_to_close(request_id: int | None, *, patient_id: int, procedure_type_id: int, region: str | None,
                     side: str | None) -> SchedulingRequest | None:
    """The open request a booking fulfils, locked, inside the booking's transaction: the one it
    was booked from (`request_id`), else the open one for the same patient, procedure, region
    and side, if any. Raises FieldErrors when the request booked from is no longer open or is
    another patient's: booking it again would book the procedure twice."""
    if request_id is None:
        return _locked_open(open_key(patient_id, procedure_type_id, region, side))
    query = select(SchedulingRequest).where(SchedulingRequest.id == request_id)
    request = db.session.scalars(for_update(query)).first()
    if request is None or request.patient_id != patient_id:
        raise FieldErrors({"request": "The scheduling request this booking came from is for another patient: "
                                      "start again from the list of requests."})
    if request.status is RequestStatus.BOOKED:
        raise FieldErrors({"request": "This scheduling request was booked meanwhile: nothing was booked again. "
                                      "Look at the patient's appointments."})
    if request.status is RequestStatus.CANCELLED:
        raise FieldErrors({"request": f"This scheduling request was cancelled meanwhile ({request.cancel_reason}): "
                                      "nothing was booked."})
    return request


def close_by_booking(request: SchedulingRequest, appointment: Appointment, *, by: Actor, now: datetime) -> None:
    """The booking fulfils the request, in the booking's transaction."""
    request.appointment_id = appointment.id
    _close(request, RequestStatus.BOOKED, by=by, now=now)
