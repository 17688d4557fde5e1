"""The day calendar as a table: rooms as columns, five-minute rows, appointments spanning rows.

Pure: appointments come in as plain values with their local times. A table with row spans keeps
every appointment at its wall-clock time (also on the days the clocks change), needs no inline
styles, prints, and reads as a table to a screen reader.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

STEP_MINUTES = 5


@dataclass(frozen=True)
class Entry:
    """One appointment as the grid places it, in the office's local time."""

    room_id: int
    start: datetime
    end: datetime
    blocked_until: datetime
    item: Any


@dataclass
class Cell:
    kind: str  # "appointment", "turnover", "free"
    rowspan: int
    start: time
    entry: Entry | None = None
    column: int = 0  # the room's place among the columns


@dataclass
class Row:
    start: time
    label: str | None
    clock: str = ""  # "09:05": the start as the page writes it
    quarter: bool = False  # starts a quarter hour
    cells: dict[int, Cell] = field(default_factory=dict)
    line: list[Cell] = field(default_factory=list)  # the cells that start in this row, left to right


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _row_of(moment: datetime, day: date, first: int) -> int:
    if moment.date() < day:
        return 0
    if moment.date() > day:
        return 24 * 60 // STEP_MINUTES
    return (_minutes(moment.time()) - first) // STEP_MINUTES


def day_rows(day: date, opens: time, closes: time, room_ids: Sequence[int],
             entries: Sequence[Entry]) -> list[Row]:
    """Rows from the earlier of opening or the first appointment to the later of closing or the
    last one; each room column holds appointment, turnover and free cells."""
    first = min([_minutes(opens)] + [_minutes(e.start.time()) for e in entries if e.start.date() == day])
    first -= first % STEP_MINUTES
    last = max([_minutes(closes)] + [_minutes(e.end.time()) for e in entries if e.end.date() == day])
    count = max(1, -(-(last - first) // STEP_MINUTES))
    starts = [(datetime.combine(day, time(0)) + timedelta(minutes=first + i * STEP_MINUTES)).time()
              for i in range(count)]
    rows = [Row(start=start, label=None, clock=f"{start.hour:02d}:{start.minute:02d}", quarter=start.minute % 15 == 0)
            for start in starts]
    for index, row in enumerate(rows):
        if index % 3 == 0:
            row.label = row.clock
    for room_id in room_ids:
        _fill_room(rows, room_id, [e for e in entries if e.room_id == room_id], day, first)
    for row in rows:
        # The template walks these alone: a busy grid has far fewer cells than rows times rooms.
        for column, room_id in enumerate(room_ids):
            if (cell := row.cells.get(room_id)) is not None:
                cell.column = column
                row.line.append(cell)
    return rows


def _fill_room(rows: list[Row], room_id: int, entries: Sequence[Entry], day: date, first: int) -> None:
    taken = [False] * len(rows)
    for entry in sorted(entries, key=lambda e: e.start):
        start = max(0, _row_of(entry.start, day, first))
        end = min(len(rows), max(start + 1, _row_of(entry.end, day, first)))
        if any(taken[start:end]):
            continue  # overlapping data cannot be drawn in one column; the database forbids it
        rows[start].cells[room_id] = Cell("appointment", end - start, rows[start].start, entry)
        taken[start:end] = [True] * (end - start)
        turnover_end = min(len(rows), _row_of(entry.blocked_until, day, first))
        if turnover_end > end and not any(taken[end:turnover_end]):
            rows[end].cells[room_id] = Cell("turnover", turnover_end - end, rows[end].start, entry)
            taken[end:turnover_end] = [True] * (turnover_end - end)
    index = 0
    while index < len(rows):
        if taken[index]:
            index += 1
            continue
        # A free quarter hour is one cell (a target big enough to click); odd minutes stay single.
        span = 3 if index % 3 == 0 and index + 3 <= len(rows) and not any(taken[index:index + 3]) else 1
        rows[index].cells[room_id] = Cell("free", span, rows[index].start)
        index += span
