"""The scheduling rules, table by table, with no app and no database."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from backoffice.catalog.rules import IntervalScope, IntervalUnit, MinimumInterval
from backoffice.practice.rules import Capability, WorkBlock
from backoffice.scheduling import availability_rules, rules
from backoffice.scheduling.availability_rules import PartOfDay, Slot, find_slots
from backoffice.scheduling.rules import (
    Booked,
    Leave,
    Limits,
    OfficeSpec,
    PhysicianSpec,
    PriorProcedure,
    ProcedureSpec,
    RoomSpec,
    SlotRequest,
    Status,
)
from backoffice.scheduling.slot_rules import BusyIndex, is_overridden, slot_problems

EASTERN = "America/New_York"
TZ = ZoneInfo(EASTERN)
MONDAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
WEEKDAY_HOURS = {day: (time(7, 0), time(17, 0)) for day in range(5)}
FLUORO = frozenset({Capability.FLUOROSCOPY})

ANNAPOLIS = OfficeSpec(1, "Annapolis", EASTERN, WEEKDAY_HOURS, {date(2026, 12, 25): "Christmas Day"})
GLEN_BURNIE = OfficeSpec(2, "Glen Burnie", EASTERN, WEEKDAY_HOURS)
ROOM_1 = RoomSpec(11, 1, "Room 1", FLUORO | {Capability.SEDATION})
EXAM = RoomSpec(12, 1, "Exam Room", frozenset())
GB_ROOM = RoomSpec(21, 2, "Room 2", FLUORO | {Capability.SEDATION})
MBB = ProcedureSpec(1, "Medial branch block", "MBB", timedelta(minutes=30), timedelta(minutes=15), FLUORO,
                    asks_region=True, asks_side=True, asks_levels=True, max_levels=2,
                    frequency_group="facet_diagnostic", max_per_year=4)
RFA = ProcedureSpec(2, "Radiofrequency ablation", "RFA", timedelta(minutes=60), timedelta(minutes=15),
                    FLUORO | {Capability.SEDATION})
ESI = ProcedureSpec(3, "Interlaminar epidural steroid injection", "ILESI", timedelta(minutes=30),
                    timedelta(minutes=15), FLUORO, asks_region=True, frequency_group="epidural",
                    max_per_year=4, min_interval=MinimumInterval(14), interval_scope=IntervalScope.PATIENT)
# Dr. Reyes: Annapolis mornings and Glen Burnie afternoons on Mondays.
REYES = PhysicianSpec(7, "Dr. Reyes", (
    WorkBlock(0, time(7, 0), time(12, 0), 1), WorkBlock(0, time(12, 0), time(17, 0), 2),
    WorkBlock(1, time(7, 0), time(17, 0), 1)))
OKAFOR = PhysicianSpec(8, "Dr. Okafor", (WorkBlock(0, time(7, 0), time(17, 0), 1),))


def at(hour: int, minute: int = 0, day: date = MONDAY) -> datetime:
    return datetime.combine(day, time(hour, minute), TZ).astimezone(UTC)


def booked(start: datetime, *, minutes: int = 30, turnover: int = 15, room: RoomSpec = ROOM_1,
           physician: int = 7, patient: int = 100, office: OfficeSpec = ANNAPOLIS, number: int = 1) -> Booked:
    end = start + timedelta(minutes=minutes)
    return Booked(number, office.id, room.id, physician, patient, start, end,
                  end + timedelta(minutes=turnover), "a medial branch block", "Dr. Reyes", room.name,
                  office.name, EASTERN)


def request(start: datetime, *, procedure: ProcedureSpec = MBB, room: RoomSpec = ROOM_1,
            office: OfficeSpec = ANNAPOLIS, physician: PhysicianSpec = REYES, patient: int | None = 200,
            region: str | None = "lumbar", side: str | None = "right", levels: int | None = 1) -> SlotRequest:
    return SlotRequest(procedure, office, room, physician, start, patient, region, side, levels)


def codes(req: SlotRequest, existing: list[Booked] = (), history=(), now: datetime = NOW) -> list[str]:
    return [p.code for p in slot_problems(req, BusyIndex(existing), now=now, limits=Limits(),
                                          history=history)]


@pytest.mark.parametrize("start, existing, expected", [
    (at(9, 0), [], []),
    (at(9, 45), [booked(at(9, 0))], []),                      # after the 15 minutes' turnover
    (at(9, 30), [booked(at(9, 0))], ["room_busy"]),           # inside the turnover
    (at(9, 15), [booked(at(9, 0))], ["room_busy"]),  # one appointment in the way is named once
    (at(8, 15), [booked(at(9, 0))], []),                      # ends 08:45, its turnover ends 09:00
    (at(8, 20), [booked(at(9, 0))], ["room_busy"]),           # its turnover runs into 09:00
    (at(8, 45), [booked(at(9, 0), room=EXAM)], ["physician_busy"]),
    (at(8, 30), [booked(at(9, 0), room=EXAM)], []),           # back to back for the physician
    (at(8, 45), [booked(at(9, 0), room=EXAM, physician=8)], []),
])
def test_refuses_room_overlap_including_turnover(start, existing, expected):
    assert codes(request(start), existing) == expected


def test_back_to_back_for_the_physician_is_allowed_in_another_room():
    existing = [booked(at(9, 0), room=EXAM)]
    assert codes(request(at(9, 30)), existing) == []


def test_the_conflict_message_names_what_is_in_the_way():
    problems = slot_problems(request(at(9, 15)), BusyIndex([booked(at(9, 0))]), now=NOW, limits=Limits())
    assert problems[0].message == ("Room 1, Annapolis, is taken 09:00-09:30 by a medial branch block "
                                   "with Dr. Reyes, then turned over until 09:45.")
    turnover = slot_problems(request(at(9, 30)), BusyIndex([booked(at(9, 0))]), now=NOW,
                             limits=Limits())
    assert "is being turned over until 09:45" in turnover[0].message


@pytest.mark.parametrize("start, office, room, expected", [
    (at(12, 0), GLEN_BURNIE, GB_ROOM, ["travel"]),    # Annapolis case ends 11:45: 15 minutes' travel
    (at(12, 0), ANNAPOLIS, ROOM_1, ["not_working"]),  # Mondays after noon he is in Glen Burnie
    (at(12, 15), GLEN_BURNIE, GB_ROOM, []),           # exactly 30 minutes after
    (at(12, 10), GLEN_BURNIE, GB_ROOM, ["travel"]),
])
def test_a_physician_needs_time_to_travel_between_offices(start, office, room, expected):
    existing = [booked(at(11, 15), room=EXAM)]
    assert codes(request(start, office=office, room=room), existing) == expected


def test_the_patient_cannot_be_in_two_places():
    existing = [booked(at(9, 0), room=GB_ROOM, office=GLEN_BURNIE, physician=8, patient=200)]
    assert codes(request(at(9, 15)), existing) == ["patient_busy"]
    assert codes(request(at(9, 30)), existing) == []


@pytest.mark.parametrize("start, expected", [
    (at(7, 0), []),
    (at(6, 55), ["outside_hours"]),
    (at(16, 30, day=MONDAY + timedelta(days=1)), []),       # ends 17:00 exactly; turnover may run on
    (at(16, 35, day=MONDAY + timedelta(days=1)), ["outside_hours"]),
    (at(9, 0, day=date(2026, 12, 25)), ["closed"]),          # a holiday
    (at(9, 0, day=date(2026, 12, 12)), ["closed"]),          # a Saturday
    (at(9, 3), ["off_grid"]),
    (datetime(2026, 12, 1, 11, 55, tzinfo=UTC), ["past"]),
])
def test_office_hours_grid_and_the_past(start, expected):
    assert codes(request(start, physician=PhysicianSpec(7, "Dr. Reyes", tuple(
        WorkBlock(d, time(7), time(17), 1) for d in range(7)))), []) == expected


def test_a_physician_on_leave_or_not_scheduled_is_not_bookable():
    on_leave = PhysicianSpec(7, "Dr. Reyes", REYES.blocks, (Leave(MONDAY, MONDAY, "Conference"),))
    assert codes(request(at(9, 0), physician=on_leave)) == ["on_leave"]
    problems = slot_problems(request(at(9, 0, day=MONDAY + timedelta(days=2))), BusyIndex([]),
                             now=NOW, limits=Limits())
    assert problems[0].message == "Dr. Reyes does not work at Annapolis on Wednesdays."


def test_a_schedule_block_valid_from_a_date_applies_from_that_date():
    later = PhysicianSpec(9, "Dr. Natarajan", (WorkBlock(0, time(7), time(17), 1, date(2026, 12, 14)),))
    assert codes(request(at(9, 0), physician=later)) == ["not_working"]
    assert codes(request(at(9, 0, day=date(2026, 12, 14)), physician=later)) == []


@pytest.mark.parametrize("room, procedure, expected", [
    (EXAM, MBB, ["room_capability"]),
    (ROOM_1, RFA, []),
    (RoomSpec(13, 1, "Room 3", FLUORO), RFA, ["room_capability"]),      # no sedation
    (GB_ROOM, MBB, ["room_office"]),
    (RoomSpec(14, 1, "Room 4", FLUORO, active=False), MBB, ["room_inactive"]),
])
def test_the_room_must_be_at_the_office_in_use_and_equipped(room, procedure, expected):
    assert codes(request(at(9, 0), room=room, procedure=procedure)) == expected


def test_capability_message_says_what_is_missing():
    problems = slot_problems(request(at(9, 0), room=EXAM), BusyIndex([]), now=NOW, limits=Limits())
    assert problems[0].message == "Exam Room, Annapolis, has no fluoroscopy, which a medial branch block needs."


@pytest.mark.parametrize("region, side, levels, expected", [
    ("lumbar", "right", 1, []),
    (None, "right", 1, ["region_missing"]),
    ("lumbar", None, 2, ["side_missing"]),
    ("lumbar", "left", None, ["levels_missing"]),
    ("lumbar", "left", 3, ["levels_too_many"]),
])
def test_region_side_and_levels_when_the_procedure_asks(region, side, levels, expected):
    assert codes(request(at(9, 0), region=region, side=side, levels=levels)) == expected


def prior(day: date, *, region: str = "lumbar", status: Status = Status.COMPLETED, group: str = "epidural",
          number: int = 0) -> PriorProcedure:
    return PriorProcedure(number, day, group, region, "Interlaminar epidural steroid injection", status)


ESI_DAY = date(2026, 12, 8)  # a Tuesday


def esi(day: date = ESI_DAY) -> SlotRequest:
    return request(at(9, 0, day=day), procedure=ESI, side=None, levels=None)


@pytest.mark.parametrize("history, expected", [
    ([prior(date(2026, 2, 1)), prior(date(2026, 5, 1)), prior(date(2026, 8, 1))], []),
    ([prior(date(2026, 2, 1)), prior(date(2026, 5, 1)), prior(date(2026, 8, 1)), prior(date(2026, 11, 1))],
     ["frequency"]),
    # one exactly twelve months before no longer counts; a day later it does
    ([prior(date(2025, 12, 8)), prior(date(2026, 5, 1)), prior(date(2026, 8, 1)), prior(date(2026, 11, 1))],
     []),
    ([prior(date(2025, 12, 9)), prior(date(2026, 5, 1)), prior(date(2026, 8, 1)), prior(date(2026, 11, 1))],
     ["frequency"]),
    # other regions, cancelled and no-show appointments never count
    ([prior(date(2026, 2, 1)), prior(date(2026, 5, 1)), prior(date(2026, 8, 1)),
      prior(date(2026, 11, 1), region="cervical")], []),
    ([prior(date(2026, 2, 1)), prior(date(2026, 5, 1)), prior(date(2026, 8, 1)),
      prior(date(2026, 11, 1), status=Status.CANCELLED)], []),
    ([prior(date(2026, 2, 1)), prior(date(2026, 5, 1)), prior(date(2026, 8, 1)),
      prior(date(2026, 11, 1), status=Status.NO_SHOW)], []),
    # booked ones ahead count too: no five in any twelve months
    ([prior(date(2027, 1, 10), status=Status.SCHEDULED), prior(date(2027, 3, 1), status=Status.SCHEDULED),
      prior(date(2027, 5, 1), status=Status.SCHEDULED), prior(date(2027, 7, 1), status=Status.SCHEDULED)],
     ["frequency"]),
    ([prior(date(2027, 1, 10), status=Status.SCHEDULED), prior(date(2027, 3, 1), status=Status.SCHEDULED),
      prior(date(2027, 5, 1), status=Status.SCHEDULED), prior(date(2027, 12, 8), status=Status.SCHEDULED)],
     []),
    # across the year end, the window slides: Feb 2026 is more than 12 months before Feb 2027
    ([prior(date(2026, 1, 15)), prior(date(2027, 1, 10), status=Status.SCHEDULED),
      prior(date(2027, 3, 1), status=Status.SCHEDULED), prior(date(2027, 5, 1), status=Status.SCHEDULED)],
     []),
])
def test_a_fifth_epidural_in_a_region_within_twelve_months_is_refused(history, expected):
    assert codes(esi(), history=history) == expected


@pytest.mark.parametrize("days_before, expected", [(13, ["interval"]), (14, []), (30, [])])
def test_epidurals_in_a_region_are_at_least_fourteen_days_apart(days_before, expected):
    assert codes(esi(), history=[prior(ESI_DAY - timedelta(days=days_before))]) == expected


def test_the_frequency_message_lists_the_dates_and_the_limit():
    history = [prior(date(2026, 2, 1)), prior(date(2026, 5, 1)), prior(date(2026, 8, 1)), prior(date(2026, 11, 1))]
    problem = slot_problems(esi(), BusyIndex([]), now=NOW, limits=Limits(), history=history)[0]
    assert problem.message.startswith("This would make 5 epidural steroid injections (lumbar) within 12 months")
    assert "02/01/2026, 05/01/2026, 08/01/2026, 11/01/2026" in problem.message and "limit is 4" in problem.message
    assert problem.overridable


@pytest.mark.parametrize("codes_, reason, physician, overridden", [
    (["frequency"], "Flare after fall; benefit documented", True, True),
    (["frequency"], "", True, False),
    (["frequency"], "Flare", False, False),
    (["frequency", "room_busy"], "Flare", True, False),
    ([], "Flare", True, False),
])
def test_only_a_physician_with_a_reason_overrides_only_limits(codes_, reason, physician, overridden):
    problems = [rules.Problem(code, "x", "m", overridable=code == "frequency") for code in codes_]
    assert is_overridden(problems, override_reason=reason, by_physician=physician) is overridden


@pytest.mark.parametrize("day, wall, exists", [
    (date(2026, 3, 8), time(2, 30), False),   # clocks go forward 02:00 -> 03:00
    (date(2026, 3, 8), time(3, 0), True),
    (date(2026, 11, 1), time(1, 30), True),   # happens twice; the first is taken
    (date(2026, 11, 1), time(9, 0), True),
])
def test_local_times_that_clocks_skip_do_not_exist(day, wall, exists):
    assert (rules.local_to_utc(day, wall, EASTERN) is not None) is exists


@pytest.mark.parametrize("day, utc_hour", [(date(2026, 11, 1), 14), (date(2026, 10, 31), 13),
                                           (date(2026, 3, 8), 13), (date(2026, 3, 7), 14)])
def test_nine_oclock_is_the_right_instant_on_either_side_of_a_clock_change(day, utc_hour):
    assert rules.local_to_utc(day, time(9, 0), EASTERN).hour == utc_hour


MONDAY_MORNING = at(7, 0)


def find(procedure=RFA, physicians=(REYES, OKAFOR), existing=(), earliest=MONDAY_MORNING, part=PartOfDay.ANY,
         offices=(ANNAPOLIS, GLEN_BURNIE), rooms=(ROOM_1, EXAM, GB_ROOM), count=10, days=60):
    return find_slots(procedure, offices=offices, rooms=rooms, physicians=physicians,
                      busy=BusyIndex(existing), earliest=earliest, days=days, now=NOW,
                      limits=Limits(), part=part, count=count)


def test_next_available_offers_the_first_ten_valid_slots_in_order():
    slots = find()
    assert len(slots) == 10
    assert [s.start for s in slots] == sorted(s.start for s in slots)
    assert all(s.room.capabilities >= RFA.needs for s in slots)


def test_next_available_for_a_named_physician_only_where_and_when_they_work_with_a_free_room():
    existing = [booked(at(7, 0), minutes=60), booked(at(8, 15), minutes=60, number=2)]
    slots = find(physicians=(REYES,), existing=existing, count=40)
    for slot in slots:
        local = slot.local_start
        block = next(b for b in REYES.blocks if b.weekday == local.weekday() and b.office_id == slot.office.id
                     and b.starts <= local.time())
        assert (local + RFA.duration).time() <= block.ends
        assert slot.room.id in (ROOM_1.id, GB_ROOM.id)
    first_monday = [s.local_start.strftime("%H:%M") for s in slots if s.local_start.date() == MONDAY]
    assert first_monday[:2] == ["09:30", "09:45"]   # after two cases and their turnover
    assert "11:00" in first_monday and "12:00" in first_monday  # Annapolis, then Glen Burnie


def test_next_available_leaves_time_to_travel_between_offices():
    existing = [booked(at(10, 45), minutes=60)]   # Annapolis until 11:45
    slots = find(physicians=(REYES,), existing=existing, count=40)
    monday_gb = [s.local_start.strftime("%H:%M") for s in slots
                 if s.local_start.date() == MONDAY and s.office is GLEN_BURNIE]
    assert monday_gb[0] == "12:15"


def test_next_available_keeps_to_the_part_of_the_day():
    assert all(s.local_start.time() >= time(12) for s in find(part=PartOfDay.AFTERNOON))
    assert all(s.local_start.time() < time(12) for s in find(part=PartOfDay.MORNING))


def test_next_available_finds_nothing_when_no_room_can_take_the_procedure():
    assert find(rooms=(EXAM,), days=14) == []


@pytest.mark.parametrize("current, target, allowed", [
    (Status.SCHEDULED, Status.CONFIRMED, True),
    (Status.CONFIRMED, Status.CHECKED_IN, True),
    (Status.CHECKED_IN, Status.IN_ROOM, True),
    (Status.IN_ROOM, Status.COMPLETED, True),
    (Status.SCHEDULED, Status.COMPLETED, False),
    (Status.SCHEDULED, Status.IN_ROOM, False),
    (Status.CONFIRMED, Status.SCHEDULED, False),
    (Status.COMPLETED, Status.CANCELLED, False),
    (Status.CANCELLED, Status.SCHEDULED, False),
    (Status.IN_ROOM, Status.CANCELLED, True),
    (Status.CHECKED_IN, Status.NO_SHOW, False),
    (Status.CONFIRMED, Status.NO_SHOW, True),
    (Status.NO_SHOW, Status.CHECKED_IN, False),
])
def test_the_status_flow_allows_only_its_moves(current, target, allowed):
    start = at(9, 0)
    now = start + timedelta(minutes=5)
    problem = rules.status_move_problem(current, target, start=start, now=now, timezone=EASTERN)
    assert (problem is None) is allowed


def test_check_in_is_on_the_day_and_no_show_after_the_time():
    start = at(9, 0)
    day_before = start - timedelta(days=1)
    assert "on the day" in rules.status_move_problem(Status.CONFIRMED, Status.CHECKED_IN, start=start,
                                                      now=day_before, timezone=EASTERN).message
    assert "has passed" in rules.status_move_problem(Status.CONFIRMED, Status.NO_SHOW, start=start,
                                                      now=start - timedelta(minutes=1), timezone=EASTERN).message


@pytest.mark.parametrize("current, target, now, allowed", [
    (Status.CONFIRMED, Status.CHECKED_IN, at(6, 0), True),       # patients arrive early: check-in waits for nothing
    (Status.CHECKED_IN, Status.IN_ROOM, at(7, 29), False),
    (Status.CHECKED_IN, Status.IN_ROOM, at(7, 30), True),        # from the start
    (Status.CHECKED_IN, Status.IN_ROOM, at(11, 0), True),        # late, the same day
    (Status.IN_ROOM, Status.COMPLETED, at(3, 7), False),         # the case that was completed at 03:07
    (Status.IN_ROOM, Status.COMPLETED, at(7, 29, day=MONDAY - timedelta(days=1)), False),
    (Status.IN_ROOM, Status.COMPLETED, at(7, 30), True),
    (Status.IN_ROOM, Status.COMPLETED, at(9, 0, day=MONDAY + timedelta(days=1)), True),  # completed late
])
def test_in_room_and_complete_wait_for_the_appointments_start(current, target, now, allowed):
    problem = rules.status_move_problem(current, target, start=at(7, 30), now=now, timezone=EASTERN)
    assert (problem is None) is allowed
    assert rules.waits_for_the_start(target, start=at(7, 30), now=now) is not allowed


def test_a_move_refused_before_the_start_says_from_when_it_is_possible():
    start = at(7, 30)
    problem = rules.status_move_problem(Status.IN_ROOM, Status.COMPLETED, start=start, now=at(3, 7), timezone=EASTERN)
    assert problem == rules.StatusProblem(
        "“Complete” is possible from the appointment's start, 07:30 on 12/07/2026, not before.", not_before=start)
    day_before = rules.status_move_problem(Status.CHECKED_IN, Status.IN_ROOM, start=start,
                                           now=start - timedelta(days=1), timezone=EASTERN)
    assert day_before.not_before == start and "07:30 on 12/07/2026" in day_before.message


def test_a_move_the_flow_refuses_is_not_a_matter_of_time():
    problem = rules.status_move_problem(Status.SCHEDULED, Status.COMPLETED, start=at(7, 30), now=at(3, 7),
                                        timezone=EASTERN)
    assert problem.not_before is None and "cannot become completed" in problem.message


def test_touching_blocks_at_one_office_make_one_working_span():
    split = PhysicianSpec(7, "Dr. Reyes", (WorkBlock(0, time(7), time(12), 1), WorkBlock(0, time(12), time(17), 1),
                                           WorkBlock(0, time(8), time(9), 2)))
    assert rules.working_spans(split, 1, MONDAY) == [(time(7), time(17))]
    assert codes(request(at(11, 45), physician=split)) == []


def test_any_earlier_epidural_counts_for_the_fourteen_days_between_whatever_its_region():
    history = [prior(ESI_DAY - timedelta(days=7), region="cervical")]
    assert codes(esi(), history=history) == ["interval"]
    assert codes(esi(), history=[prior(ESI_DAY - timedelta(days=14), region="cervical")]) == []


RFA_REPEAT = ProcedureSpec(2, "Radiofrequency ablation", "RFA", timedelta(minutes=60), timedelta(minutes=15),
                           FLUORO | {Capability.SEDATION}, asks_region=True, asks_side=True, asks_levels=True,
                           max_levels=3, frequency_group="ablation", max_per_year=2,
                           min_interval=MinimumInterval(6, IntervalUnit.MONTHS),
                           interval_scope=IntervalScope.REGION_SIDE)


@pytest.mark.parametrize("region, side, last_rfa, expected", [
    ("lumbar", "right", date(2026, 8, 30), ["interval"]),
    ("lumbar", "right", date(2026, 6, 9), ["interval"]),   # six calendar months on is 12/09
    ("lumbar", "right", date(2026, 6, 8), []),              # six calendar months on is the day asked
    ("lumbar", "left", date(2026, 8, 30), []),              # the other side is another target
    ("cervical", "right", date(2026, 8, 30), []),
])
def test_a_repeat_rfa_waits_six_calendar_months_on_the_same_region_and_side(region, side, last_rfa, expected):
    history = [PriorProcedure(1, last_rfa, "ablation", "lumbar", "Radiofrequency ablation", Status.COMPLETED, "right")]
    req = request(at(9, 0, day=ESI_DAY), procedure=RFA_REPEAT, region=region, side=side, levels=1)
    assert codes(req, history=history) == expected


def test_the_interval_refusal_says_the_calendar_month_date_it_allows():
    history = [PriorProcedure(1, date(2026, 6, 30), "ablation", "lumbar", "Radiofrequency ablation",
                              Status.COMPLETED, "right")]
    req = request(at(9, 0, day=ESI_DAY), procedure=RFA_REPEAT, region="lumbar", side="right", levels=1)
    problem, = slot_problems(req, BusyIndex([]), now=NOW, limits=Limits(), history=history)
    assert "Radiofrequency ablation on 06/30/2026 (lumbar, right) is less than 6 months away" in problem.message
    assert "(allowed from 12/30/2026)" in problem.message


def test_a_passed_appointment_that_nobody_attended_is_a_no_show_not_a_cancellation():
    start = at(9, 0)
    late = start + timedelta(minutes=20)
    assert "no-show" in rules.status_move_problem(Status.CONFIRMED, Status.CANCELLED, start=start, now=late,
                                                  timezone=EASTERN).message
    assert rules.status_move_problem(Status.IN_ROOM, Status.CANCELLED, start=start, now=late,
                                     timezone=EASTERN) is None


def test_next_available_for_a_patient_keeps_to_their_limits_in_that_region():
    history = [prior(MONDAY, region="lumbar")]
    slots = find_slots(ESI, offices=[ANNAPOLIS], rooms=[ROOM_1], physicians=[REYES], busy=BusyIndex([]),
                       earliest=MONDAY_MORNING, days=30, now=NOW, limits=Limits(), count=3, patient_id=200,
                       history=history, region="lumbar")
    assert slots and all((s.local_start.date() - MONDAY).days >= 14 for s in slots)


def _busy_weeks(seed: int, weeks: int = 3) -> list[Booked]:
    """A random practice's bookings on the grid, weekdays from MONDAY, never two at once in a room,
    for a physician or for a patient (as the database keeps them)."""
    chooser = random.Random(seed)
    rooms = {ROOM_1: ANNAPOLIS, EXAM: ANNAPOLIS, GB_ROOM: GLEN_BURNIE}
    found: list[Booked] = []
    free_at: dict[object, datetime] = {}
    for day in (MONDAY + timedelta(days=n) for n in range(7 * weeks) if n % 7 < 5):
        for minute in range(0, 10 * 60, 15):
            start = at(7, 0, day) + timedelta(minutes=minute)
            for room, office in rooms.items():
                physician = chooser.choice((7, 8, 9, 10))
                patient = chooser.randrange(100, 106)
                keys = (room, ("physician", physician), ("patient", patient))
                if chooser.random() < 0.3 and all(free_at.get(key, start) <= start for key in keys):
                    minutes = chooser.choice((15, 30, 60))
                    found.append(booked(start, minutes=minutes, room=room, physician=physician, patient=patient,
                                        office=office, number=len(found) + 1))
                    free_at[room] = found[-1].blocked_until
                    free_at[keys[1]] = free_at[keys[2]] = found[-1].end
    return found


class EveryBooking:
    """The overlap questions answered by looking at every booking, for BusyIndex to agree with."""

    def __init__(self, booked: list[Booked], *, ignore: int) -> None:
        self.booked = sorted((b for b in booked if b.appointment_id != ignore), key=lambda b: b.start)

    def room(self, room_id: int, start: datetime, until: datetime) -> list[Booked]:
        return [b for b in self.booked if b.room_id == room_id and b.start < until and start < b.blocked_until]

    def physician(self, physician_id: int, start: datetime, end: datetime) -> list[Booked]:
        return [b for b in self.booked if b.physician_id == physician_id and b.start < end and start < b.end]

    def patient(self, patient_id: int | None, start: datetime, end: datetime) -> list[Booked]:
        return [b for b in self.booked if b.patient_id == patient_id and b.start < end and start < b.end]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("procedure", "patient_id", "part"), [
    (MBB, None, PartOfDay.ANY), (RFA, 103, PartOfDay.ANY), (ESI, 101, PartOfDay.AFTERNOON)])
def test_bookings_read_in_start_order_as_needed_give_the_slots_that_looking_at_every_booking_gives(
        seed, procedure, patient_id, part):
    existing = _busy_weeks(seed)
    ignore = existing[seed * 7].appointment_id

    def search(busy: BusyIndex | EveryBooking) -> list[Slot]:
        return find_slots(procedure, offices=(ANNAPOLIS, GLEN_BURNIE), rooms=(ROOM_1, EXAM, GB_ROOM),
                          physicians=(REYES, OKAFOR), busy=busy, earliest=MONDAY_MORNING,
                          days=21, now=NOW, limits=Limits(), part=part, count=25, patient_id=patient_id)

    expected = search(EveryBooking(existing, ignore=ignore))
    # Some searches stop within the first week, others read all three.
    assert expected
    assert search(BusyIndex(iter(existing), ignore=ignore, in_start_order=True)) == expected
    assert search(BusyIndex(random.Random(seed).sample(existing, len(existing)), ignore=ignore)) == expected


def test_bookings_said_to_be_in_start_order_that_are_not_are_refused():
    first, *rest = _busy_weeks(seed=2)
    later = next(b for b in rest if b.start > first.start)
    busy = BusyIndex([later, first, *(b for b in rest if b is not later)], in_start_order=True)
    with pytest.raises(ValueError, match="not in start order"):
        busy.room(ROOM_1.id, at(9, 0), at(10, 0))


def test_bookings_in_start_order_are_read_only_as_far_as_the_search_goes():
    existing = _busy_weeks(seed=1)
    read: list[Booked] = []

    def reading() -> Iterator[Booked]:
        for item in existing:
            read.append(item)
            yield item

    slots = find_slots(MBB, offices=(ANNAPOLIS, GLEN_BURNIE), rooms=(ROOM_1, EXAM, GB_ROOM),
                       physicians=(REYES, OKAFOR), busy=BusyIndex(reading(), in_start_order=True),
                       earliest=MONDAY_MORNING, days=21, now=NOW, limits=Limits(), count=3)
    last_asked = slots[-1].start + timedelta(hours=1)
    assert len(slots) == 3 and slots == find(procedure=MBB, existing=existing, count=3)
    # Everything up to the last slot, one booking beyond it to know where to stop, and no more.
    assert read == [b for b in existing if b.start < read[-1].start] + [read[-1]]
    assert read[-2].start < last_asked and len(read) < len(existing) // 5


def _is_person_busy(busy: EveryBooking, physician: int, office: int, patient: int, start: datetime,
                    end: datetime, travel: timedelta) -> bool:
    """Straight from the rule: the physician booked in another office within travel time or in
    this one at the same time, or the patient booked at the same time."""
    return (any((b.office_id != office and b.start < end + travel and start - travel < b.end)
                or (b.office_id == office and b.start < end and start < b.end)
                for b in busy.booked if b.physician_id == physician)
            or any(b.start < end and start < b.end for b in busy.booked if b.patient_id == patient))


@pytest.mark.parametrize("seed", range(3))
def test_a_time_found_taken_stays_taken_until_the_instant_the_search_skips_to(seed):
    busy = EveryBooking(_busy_weeks(seed, weeks=1), ignore=0)
    limits = Limits()
    grid = [at(7, 0) + timedelta(minutes=5 * k) for k in range(12 * 11)]
    for physician, office, patient in ((7, ANNAPOLIS.id, 103), (7, GLEN_BURNIE.id, 104), (8, ANNAPOLIS.id, 105)):
        for start in grid:
            end = start + timedelta(minutes=30)
            until = availability_rules._taken_until(physician, office, patient, start, end, busy, limits)
            assert (until is not None) is _is_person_busy(busy, physician, office, patient, start, end, limits.travel)
            for later in (t for t in grid if until is not None and start <= t < until):
                assert _is_person_busy(busy, physician, office, patient, later, later + timedelta(minutes=30),
                                       limits.travel), (start, until, later)


SUNDAYS_TOO = OfficeSpec(1, "Annapolis", EASTERN, {day: (time(7, 0), time(17, 0)) for day in range(7)})
EVERY_DAY = PhysicianSpec(7, "Dr. Reyes", tuple(WorkBlock(day, time(7, 0), time(17, 0), 1) for day in range(7)))


@pytest.mark.parametrize(("day", "utc_hour"), [
    (date(2026, 10, 31), 13), (date(2026, 11, 1), 14), (date(2026, 11, 2), 14),   # clocks go back on the 1st
    (date(2026, 3, 7), 14), (date(2026, 3, 8), 13), (date(2026, 3, 9), 13),       # and forward on the 8th
])
def test_next_available_offers_the_whole_working_day_at_the_right_instants_around_a_clock_change(day, utc_hour):
    midnight = datetime.combine(day, time(0), TZ).astimezone(UTC)
    slots = find_slots(MBB, offices=[SUNDAYS_TOO], rooms=[ROOM_1], physicians=[EVERY_DAY], busy=BusyIndex([]),
                       earliest=midnight, days=1, now=midnight, limits=Limits(), count=100)
    local = [s.local_start.strftime("%H:%M") for s in slots]
    assert local[0] == "07:00" and local[-1] == "16:30" and len(local) == 39   # every quarter hour
    assert slots[8].start.hour == utc_hour and local[8] == "09:00"
