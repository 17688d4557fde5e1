"""A patient's course as a picture: pain (NRS 0-10) over time, marked by the procedures done and
how long each one's relief lasted. Pure geometry: plain values in, coordinates out; the template
draws them as SVG."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from backoffice.procedures.rules import MAX_NRS

WIDTH, HEIGHT = 760, 250
LEFT, RIGHT, TOP, BOTTOM = 34, 12, 34, 30
LANE = 7            # height of one relief bar, in pixels
MIN_DAYS = 60       # a course shorter than this is stretched so that days stay readable
MARGIN_DAYS = 7


@dataclass(frozen=True)
class PainReading:
    day: date
    nrs: int
    label: str          # "before MBB", "MBB follow-up (6 hours)"
    episode: int = 0    # readings of one procedure (its baseline and follow-ups) share a line


@dataclass(frozen=True)
class ChartProcedure:
    day: date
    code: str
    place: str          # "lumbar right"
    category: str       # for the marker's colour
    outside: str | None = None  # done elsewhere: by whom and where ("Dr Lee, Valley Pain")


@dataclass(frozen=True)
class ReliefSpan:
    start: date
    days: float | None  # None when only "still going on" is known
    ongoing: bool
    percent: int
    code: str
    said: str | None = None  # "5 hours", as it was entered


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class Marker:
    x: float
    label: str
    title: str
    category: str
    label_y: float      # labels of procedures close together are staggered so they stay legible
    outside: bool = False  # done elsewhere: drawn apart, its label starred


@dataclass(frozen=True)
class Bar:
    x1: float
    x2: float
    y: float
    title: str
    ongoing: bool


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    top: int
    bottom: float
    left: int
    right: float
    x_ticks: tuple[tuple[float, str, str], ...]            # x, label, text-anchor
    y_ticks: tuple[tuple[float, str], ...]
    lines: tuple[str, ...]                                  # one polyline per procedure
    gaps: tuple[tuple[float, float, float, float], ...]     # from a procedure's last reading to the next's first
    dots: tuple[Dot, ...]
    markers: tuple[Marker, ...]
    bars: tuple[Bar, ...]
    first_day: date
    last_day: date


def _ticks(first: date, last: date) -> list[tuple[date, str]]:
    """Month starts (every 3 or 6 months over long courses); also the 15th over short ones."""
    days = [date(year, month, 1) for year in range(first.year, last.year + 1) for month in range(1, 13)]
    short = (last - first).days <= 120
    if short:
        days += [d.replace(day=15) for d in days]
    step = 1 if (last - first).days <= 400 else 3 if (last - first).days <= 1100 else 6
    shown = sorted(d for d in days if first <= d <= last and (d.month - 1) % step == 0)
    def label(d: date, first_shown: bool) -> str:
        new_year = first_shown or (d.month == 1 and d.day == 1)
        if short:
            return f"{d:%b} {d.day}, {d.year}" if new_year else f"{d:%b} {d.day}"
        return f"{d:%b %Y}" if new_year or d.month == 1 else f"{d:%b}"
    return [(d, label(d, i == 0)) for i, d in enumerate(shown)]


def _lanes(spans: Sequence[tuple[float, float]]) -> list[int]:
    """A lane for each bar so that overlapping bars sit one above the other."""
    ends: list[float] = []
    lanes = []
    for x1, x2 in spans:
        lane = next((i for i, end in enumerate(ends) if end <= x1), len(ends))
        if lane == len(ends):
            ends.append(x2)
        else:
            ends[lane] = x2
        lanes.append(lane)
    return lanes


LABEL_GAP = 44     # pixels a label needs before the next may share its line


def _markers(procedures: Sequence[ChartProcedure], x: Callable[[date], float]) -> tuple[Marker, ...]:
    markers: list[Marker] = []
    last_on_row: list[float] = [-LABEL_GAP, -LABEL_GAP]
    for procedure in sorted(procedures, key=lambda p: p.day):
        at = x(procedure.day)
        row = 0 if at - last_on_row[0] >= LABEL_GAP else 1 if at - last_on_row[1] >= LABEL_GAP else 0
        last_on_row[row] = at
        title = f"{procedure.day:%m/%d/%Y}: {procedure.code} {procedure.place}".strip()
        if procedure.outside:
            title += f", outside ({procedure.outside})"
        label = f"{procedure.code}*" if procedure.outside else procedure.code
        markers.append(Marker(at, label, title, procedure.category, TOP - 6 - row * 13, procedure.outside is not None))
    return tuple(markers)


def course_chart(readings: Sequence[PainReading], procedures: Sequence[ChartProcedure],
                 spans: Sequence[ReliefSpan], *, today: date) -> Chart | None:
    """The chart, or None when there is nothing to draw."""
    if not readings and not procedures:
        return None
    days = [r.day for r in readings] + [p.day for p in procedures]
    first = min(days) - timedelta(days=MARGIN_DAYS)
    last = max([*days, today]) + timedelta(days=MARGIN_DAYS)
    if (last - first).days < MIN_DAYS:
        first = last - timedelta(days=MIN_DAYS)
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM
    scale = (right - LEFT) / (last - first).days

    def x(day: date) -> float:
        return round(LEFT + (day - first).days * scale, 1)

    def y(nrs: int) -> float:
        return round(TOP + (MAX_NRS - nrs) / MAX_NRS * (bottom - TOP), 1)

    ordered = sorted(readings, key=lambda r: r.day)
    dots = tuple(Dot(x(r.day), y(r.nrs), f"{r.day:%m/%d/%Y}: pain {r.nrs}/10, {r.label}") for r in ordered)
    episodes: dict[int, list[PainReading]] = {}
    for reading in ordered:
        episodes.setdefault(reading.episode, []).append(reading)
    runs = sorted(episodes.values(), key=lambda run: run[0].day)
    lines = tuple(" ".join(f"{x(r.day)},{y(r.nrs)}" for r in run) for run in runs if len(run) > 1)
    gaps = tuple((x(a[-1].day), y(a[-1].nrs), x(b[0].day), y(b[0].nrs)) for a, b in pairwise(runs))
    markers = _markers(procedures, x)
    extents = []
    for span in sorted(spans, key=lambda s: s.start):
        lasted = span.start + timedelta(days=span.days or 0)
        # relief still going on lasts until today, whatever duration was entered so far
        end = min(max(lasted, today) if span.ongoing or span.days is None else lasted, last)
        x1 = min(x(span.start), right - 3)
        extents.append((x1, max(x(end), x1 + 3)))
    bars = tuple(
        Bar(x1, x2, round(bottom - (lane + 1) * LANE, 1),
            f"{span.code} {span.start:%m/%d/%Y}: {span.percent}% relief"
            + (f" for {span.said}" if span.said else "") + (", still going on" if span.ongoing else ""), span.ongoing)
        for span, (x1, x2), lane in zip(sorted(spans, key=lambda s: s.start), extents, _lanes(extents), strict=True))
    x_ticks = tuple((x(day), label, "end" if x(day) > right - 24 else "start" if x(day) < LEFT + 24 else "middle")
                    for day, label in _ticks(first, last))
    y_ticks = tuple((y(score), str(score)) for score in range(0, MAX_NRS + 1, 2))
    return Chart(WIDTH, HEIGHT, TOP, bottom, LEFT, right, x_ticks, y_ticks, lines, gaps, dots, markers, bars,
                 first, last)
