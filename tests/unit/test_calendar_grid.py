from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from backoffice.scheduling.grid import Entry, day_rows

TZ = ZoneInfo("America/New_York")
DAY = date(2026, 11, 1)  # the clocks go back at 02:00


def local(hour, minute=0, day=DAY):
    return datetime.combine(day, time(hour, minute), TZ)


def entry(room, start, end, until, item="x"):
    return Entry(room, start, end, until, item)


def test_appointments_span_their_rows_and_turnover_follows():
    rows = day_rows(DAY, time(7), time(17), [1, 2], [entry(1, local(9), local(9, 30), local(9, 45))])
    starts = {row.start: row for row in rows}
    cell = starts[time(9)].cells[1]
    assert (cell.kind, cell.rowspan) == ("appointment", 6)
    assert starts[time(9, 30)].cells[1].kind == "turnover" and starts[time(9, 30)].cells[1].rowspan == 3
    assert 1 not in starts[time(9, 5)].cells            # covered by the span
    assert starts[time(9, 45)].cells[1].kind == "free"
    free_quarters = [row.cells[2] for row in rows if 2 in row.cells]
    assert all(cell.kind == "free" and cell.rowspan == 3 for cell in free_quarters)  # a whole quarter hour
    assert len(free_quarters) * 3 == len(rows)


def test_rows_count_wall_clock_minutes_from_opening():
    rows = day_rows(DAY, time(7), time(17), [1], [entry(1, local(9), local(10), local(10))])
    assert rows[0].start == time(7) and rows[-1].start == time(16, 55)
    nine = next(index for index, row in enumerate(rows) if row.start == time(9))
    assert rows[nine].cells[1].kind == "appointment" and nine == 24   # two hours of five-minute rows


def test_every_row_of_a_room_is_covered_exactly_once():
    entries = [entry(1, local(7), local(8), local(8, 15)), entry(1, local(8, 15), local(8, 45), local(9))]
    rows = day_rows(DAY, time(7), time(17), [1], entries)
    covered = []
    for index, row in enumerate(rows):
        if 1 in row.cells:
            covered.extend(range(index, index + row.cells[1].rowspan))
    assert covered == list(range(len(rows)))


def test_the_grid_stretches_to_show_an_appointment_outside_todays_hours():
    rows = day_rows(DAY, time(8), time(12), [1], [entry(1, local(12, 30), local(13), local(13))])
    assert rows[-1].start == time(12, 55)


def test_time_labels_every_quarter_hour():
    rows = day_rows(DAY, time(7), time(8), [1], [])
    assert [row.label for row in rows if row.label] == ["07:00", "07:15", "07:30", "07:45"]


def test_a_quarter_hour_broken_by_an_appointment_leaves_single_free_rows():
    rows = day_rows(DAY, time(7), time(8), [1], [entry(1, local(7, 5), local(7, 10), local(7, 10))])
    starts = {row.start: row for row in rows}
    assert starts[time(7)].cells[1].rowspan == 1 and starts[time(7, 10)].cells[1].rowspan == 1
    assert starts[time(7, 15)].cells[1].rowspan == 3
