"""Next available: the first free slots for a procedure, read in a fixed number of queries and
found by the pure search of `availability_rules`. A slot it offers books: the search checks
each as a booking would (`slot_rules`), and leaves out the days the booking checks other
packages add (`booking_checks`) refuse for the patient."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import select

from backoffice.catalog.models import ProcedureType
from backoffice.core.errors import FieldErrors
from backoffice.core.extensions import db
from backoffice.practice.models import Office, Physician, Room
from backoffice.scheduling import booking_checks
from backoffice.scheduling.availability_rules import PartOfDay, Slot, find_slots
from backoffice.scheduling.rule_inputs import (
    active_query,
    as_booked,
    office_spec,
    offices_query,
    patient_history,
    physician_spec,
    physicians_query,
    procedure_spec,
    room_spec,
)
from backoffice.scheduling.rules import Limits, OfficeSpec, ProcedureSpec
from backoffice.scheduling.slot_rules import BusyIndex


def find_next_available(procedure_type_id: int, *, physician_id: int | None = None,
                        office_id: int | None = None, earliest: datetime, now: datetime, limits: Limits,
                        part: PartOfDay = PartOfDay.ANY, count: int = 10, days: int = 60,
                        patient_id: int | None = None, region: str | None = None, side: str | None = None,
                        ignore: int | None = None, apply_booking_checks: bool = True) -> list[Slot]:
    """The first free slots for a procedure, for a patient and region when given (so that their
    own bookings, limits and booking checks count), leaving out appointment `ignore` (one being
    moved): a fixed number of queries, then pure rules. Without `apply_booking_checks`, room for
    the procedure whatever the booking checks say (the demo data places made-up histories)."""
    procedure = db.session.get(ProcedureType, procedure_type_id)
    if procedure is None:
        raise FieldErrors({"procedure_type_id": "Choose a procedure."})
    earliest = max(earliest, now)  # the search starts there, and the bookings read must too
    from_day = (earliest - timedelta(days=1)).date()
    which_offices = offices_query(from_day).where(Office.active.is_(True)).order_by(Office.name)
    if office_id is not None:
        which_offices = which_offices.where(Office.id == office_id)
    offices = [office_spec(office) for office in db.session.scalars(which_offices).unique()]
    which_physicians = physicians_query(from_day).where(Physician.active.is_(True)).order_by(Physician.last_name)
    if physician_id is not None:
        which_physicians = which_physicians.where(Physician.id == physician_id)
    physicians = [physician_spec(physician) for physician in db.session.scalars(which_physicians).unique()]
    rooms = [room_spec(room) for room in db.session.scalars(
        select(Room).where(Room.active.is_(True), Room.office_id.in_([o.id for o in offices])))]
    history = patient_history(patient_id, earliest.date(), ignore=ignore)
    bookings = active_query(earliest - timedelta(days=1), earliest + timedelta(days=days + 1),
                            room_ids=[r.id for r in rooms], physician_ids=[p.id for p in physicians],
                            patient_ids=[patient_id] if patient_id else [], by_start=True)
    if bookings is None:  # no physician (nor room), so no slot
        return []
    spec = procedure_spec(procedure)
    refused_on = _refused_days(spec, offices, patient_id=patient_id if apply_booking_checks else None,
                               region=region, side=side, now=now, ignore=ignore)
    # One statement for the whole search, its rows read only as far as the search goes: a full
    # week costs more rows, never another query. Through the connection, as the ORM would fetch
    # every row before handing over the first.
    with db.session.connection().execute(bookings) as rows:
        busy = BusyIndex(map(as_booked, rows), ignore=ignore, in_start_order=True)
        return find_slots(spec, offices=offices, rooms=rooms, physicians=physicians, busy=busy, earliest=earliest,
                          days=days, now=now, limits=limits, part=part, count=count, patient_id=patient_id,
                          history=history, region=region, side=side, refused_on=refused_on)


def _refused_days(procedure: ProcedureSpec, offices: Sequence[OfficeSpec], *, patient_id: int | None,
                  region: str | None, side: str | None, now: datetime,
                  ignore: int | None) -> Callable[[OfficeSpec, date], bool]:
    """Whether the booking checks refuse the procedure for the patient on a day at an office. The
    checks are prepared once for each time zone the offices are in (their `today` is the
    office's), so the search asks about any number of days without another query."""
    if patient_id is None:
        return lambda office, day: False
    problems_on = {timezone: booking_checks.prepare(booking_checks.case_of(
        procedure, patient_id=patient_id, region=region, side=side, now=now, timezone=timezone, moving=ignore))
        for timezone in sorted({office.timezone for office in offices})}
    return lambda office, day: bool(problems_on[office.timezone](day))
