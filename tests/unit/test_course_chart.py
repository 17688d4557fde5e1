"""The course chart's geometry, table by table: plain values in, coordinates out, no app and no database."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest

from backoffice.procedures.chart import (
    LABEL_GAP,
    MARGIN_DAYS,
    MIN_DAYS,
    Chart,
    ChartProcedure,
    Dot,
    PainReading,
    ReliefSpan,
    course_chart,
)

TODAY = date(2026, 11, 24)
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def reading(day: date, nrs: int = 5, episode: int = 0, label: str = "before MBB") -> PainReading:
    return PainReading(day, nrs, label, episode)


def procedure(day: date, code: str = "MBB", place: str = "lumbar right", category: str = "facet") -> ChartProcedure:
    return ChartProcedure(day, code, place, category)


def relief(start: date, days: float | None, *, ongoing: bool = False, percent: int = 80, code: str = "MBB",
           said: str | None = None) -> ReliefSpan:
    return ReliefSpan(start, days, ongoing, percent, code, said)


def chart_of(readings=(), procedures=(), spans=(), *, today: date = TODAY) -> Chart:
    chart = course_chart(list(readings), list(procedures), list(spans), today=today)
    assert chart is not None
    return chart


def days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def course_of(length: int, *, readings=(), procedures=(), spans=()) -> Chart:
    """A chart `length` days wide (at least MIN_DAYS), ending a margin after TODAY: a reading pins its left end."""
    anchor = reading(days_ago(length - 2 * MARGIN_DAYS), episode=-1, label="anchor")
    chart = chart_of([anchor, *readings], procedures, spans)
    assert (chart.last_day - chart.first_day).days == length
    return chart


# A chart of 357 days is 714 px wide (760 less 34 on the left and 12 on the right): exactly 2 px a day, so
# distances in days turn into distances in pixels without rounding.
WIDE_FIRST = days_ago(350)


def on(day_number: int) -> date:
    """The day so many days after the left edge of the two-pixels-a-day chart."""
    return WIDE_FIRST + timedelta(days=day_number)


def two_px_a_day(*, readings=(), procedures=(), spans=()) -> Chart:
    chart = course_of(357, readings=readings, procedures=procedures, spans=spans)
    assert chart.first_day == WIDE_FIRST and (chart.right - chart.left) / 357 == 2
    return chart


def dot(chart: Chart, label: str) -> Dot:
    (found,) = [d for d in chart.dots if d.title.endswith(f", {label}")]
    return found


def points(line: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in (point.split(",") for point in line.split())]


def labels(chart: Chart) -> list[str]:
    return [label for _, label, _ in chart.x_ticks]


# Nothing to draw.

@pytest.mark.parametrize("spans", [[], [relief(TODAY, 3)]])
def test_no_chart_when_there_is_nothing_to_draw(spans: list[ReliefSpan]) -> None:
    assert course_chart([], [], spans, today=TODAY) is None


@pytest.mark.parametrize("readings, procedures", [
    ([reading(days_ago(3))], []),
    ([], [procedure(days_ago(3))]),
])
def test_one_reading_or_one_procedure_is_enough_for_a_chart(readings, procedures) -> None:
    chart = chart_of(readings, procedures)
    assert (len(chart.dots), len(chart.markers)) == (len(readings), len(procedures))


# Pain goes up the chart.

@pytest.mark.parametrize("lower, higher", [(0, 1), (4, 5), (9, 10), (0, 10), (3, 7)])
def test_higher_pain_is_drawn_higher(lower: int, higher: int) -> None:
    chart = chart_of([reading(days_ago(20), lower, label="low"), reading(days_ago(10), higher, label="high")])
    assert dot(chart, "high").y < dot(chart, "low").y


@pytest.mark.parametrize("nrs, share_of_the_height_above", [(10, 0), (5, 0.5), (0, 1)])
def test_the_pain_scale_runs_from_ten_at_the_top_to_zero_at_the_bottom(nrs: int,
                                                                      share_of_the_height_above: float) -> None:
    chart = chart_of([reading(days_ago(5), nrs)])
    assert chart.dots[0].y == chart.top + share_of_the_height_above * (chart.bottom - chart.top)


def test_every_second_score_is_labelled_level_with_the_readings_of_that_score() -> None:
    chart = chart_of([reading(days_ago(30 - score), score, label=f"score {score}") for score in range(11)])
    assert [label for _, label in chart.y_ticks] == ["0", "2", "4", "6", "8", "10"]
    for y, label in chart.y_ticks:
        assert y == dot(chart, f"score {label}").y


def test_a_dot_says_the_day_the_score_and_what_the_reading_was() -> None:
    chart = chart_of([reading(date(2026, 11, 3), 7, label="MBB follow-up (6 hours)")])
    assert chart.dots[0].title == "11/03/2026: pain 7/10, MBB follow-up (6 hours)"


# Time goes across the chart.

@pytest.mark.parametrize("course_days", [10, 59, 90, 400, 2000])
def test_later_days_are_further_right(course_days: int) -> None:
    days = [days_ago(course_days * share // 8) for share in (8, 0, 5, 2, 7, 1)]   # given out of order
    chart = chart_of([reading(day, label=f"{day}") for day in days], [procedure(day) for day in days])
    dot_xs = [dot(chart, f"{day}").x for day in sorted(days)]
    assert dot_xs == sorted(dot_xs) and len(set(dot_xs)) == len(days)
    assert [m.x for m in chart.markers] == dot_xs      # a procedure's marker stands where its day is


@pytest.mark.parametrize("course_days, relief_days", [(0, 0), (10, 2), (45, 30), (400, 90), (2000, 180), (2000, 0.2)])
def test_everything_is_drawn_inside_the_plot(course_days: int, relief_days: float) -> None:
    days = [days_ago(course_days), days_ago(course_days // 2), days_ago(course_days // 3)]
    chart = chart_of([reading(day) for day in days], [procedure(day) for day in days],
                     [relief(day, relief_days) for day in days] + [relief(days[0], None, ongoing=True)])
    xs = ([d.x for d in chart.dots] + [m.x for m in chart.markers] + [x for x, _, _ in chart.x_ticks]
          + [b.x1 for b in chart.bars] + [b.x2 for b in chart.bars])
    assert all(chart.left <= x <= chart.right for x in xs)
    assert chart.x_ticks                                # at least one date to read the chart by


@pytest.mark.parametrize("course_days, length", [
    (0, MIN_DAYS),                        # a single reading today
    (30, MIN_DAYS),
    (MIN_DAYS - 2 * MARGIN_DAYS, MIN_DAYS),   # 46 days and two margins: exactly long enough
    (MIN_DAYS - 2 * MARGIN_DAYS + 1, MIN_DAYS + 1),
    (300, 300 + 2 * MARGIN_DAYS),
])
def test_a_short_course_is_stretched_into_the_past_and_today_is_always_shown(course_days: int, length: int) -> None:
    chart = chart_of([reading(days_ago(course_days))])
    assert (chart.last_day - chart.first_day).days == length
    assert chart.last_day == TODAY + timedelta(days=MARGIN_DAYS)
    assert (days_ago(course_days) - chart.first_day).days >= MARGIN_DAYS


def test_today_is_shown_even_when_the_last_reading_is_months_old() -> None:
    chart = chart_of([reading(days_ago(400)), reading(days_ago(300))], [procedure(days_ago(400))])
    assert chart.last_day == TODAY + timedelta(days=MARGIN_DAYS)
    assert chart.first_day == days_ago(400 + MARGIN_DAYS)


# One line per procedure.

def test_the_readings_of_one_procedure_make_one_line_through_its_dots_in_day_order() -> None:
    readings = [reading(days_ago(10), 3, 7, "b"), reading(days_ago(20), 8, 7, "a"), reading(days_ago(5), 2, 7, "c")]
    chart = chart_of(readings)
    assert len(chart.lines) == 1 and chart.gaps == ()
    assert points(chart.lines[0]) == [(dot(chart, label).x, dot(chart, label).y) for label in "abc"]


@pytest.mark.parametrize("sizes, lines", [
    ([2], 1),
    ([2, 2], 2),
    ([3, 2, 4], 3),
    ([2, 1, 2], 2),      # a procedure with only its baseline has a dot but no line
    ([1, 1, 1], 0),
])
def test_each_procedure_has_its_own_line_joined_to_the_next_by_a_dotted_gap(sizes: list[int], lines: int) -> None:
    readings = [reading(days_ago(50 - 15 * episode - n), 8 - n, 100 + episode, f"{episode}.{n}")
                for episode, size in enumerate(sizes) for n in range(size)]
    chart = chart_of(readings)
    assert len(chart.dots) == sum(sizes)
    assert len(chart.lines) == lines
    assert len(chart.gaps) == len(sizes) - 1
    for episode, gap in enumerate(chart.gaps):
        last, first = dot(chart, f"{episode}.{sizes[episode] - 1}"), dot(chart, f"{episode + 1}.0")
        assert gap == (last.x, last.y, first.x, first.y)


def test_procedures_follow_each_other_by_day_whatever_their_numbers() -> None:
    # Episodes are appointment ids: a later procedure may well have a smaller one.
    chart = chart_of([reading(days_ago(10), 6, 3, "later"), reading(days_ago(30), 9, 900, "earlier"),
                      reading(days_ago(25), 2, 900, "earlier follow-up")])
    earlier, later = dot(chart, "earlier follow-up"), dot(chart, "later")
    assert chart.gaps == ((earlier.x, earlier.y, later.x, later.y),)


# Procedure markers.

@pytest.mark.parametrize("days_apart, staggered", [
    (0, True),
    (21, True),      # 42 px: too close for two labels on one row
    (22, False),     # 44 px: exactly LABEL_GAP
    (60, False),
])
def test_labels_of_procedures_close_together_are_staggered(days_apart: int, staggered: bool) -> None:
    chart = two_px_a_day(procedures=[procedure(on(100), "MBB"), procedure(on(100 + days_apart), "RFA")])
    first, second = chart.markers
    assert second.x - first.x == 2 * days_apart
    assert (second.x - first.x < LABEL_GAP) is staggered
    assert (first.label_y != second.label_y) is staggered


def test_a_procedure_far_from_the_last_one_goes_back_to_the_first_row() -> None:
    chart = two_px_a_day(procedures=[procedure(on(100)), procedure(on(105)), procedure(on(200))])
    first, second, third = chart.markers
    assert second.label_y != first.label_y
    assert third.label_y == first.label_y


def test_procedure_labels_sit_above_the_plot() -> None:
    chart = chart_of([], [procedure(days_ago(5)), procedure(days_ago(4))])
    assert all(m.label_y < chart.top for m in chart.markers)


@pytest.mark.parametrize("code, place, title", [
    ("MBB", "lumbar right", "11/03/2026: MBB lumbar right"),
    ("SCS-TRIAL", "", "11/03/2026: SCS-TRIAL"),
])
def test_a_marker_is_labelled_with_the_code_and_titled_with_the_day_and_place(code: str, place: str,
                                                                               title: str) -> None:
    chart = chart_of([], [procedure(date(2026, 11, 3), code, place, "ablation")])
    (marker,) = chart.markers
    assert (marker.label, marker.title, marker.category) == (code, title, "ablation")


def test_markers_are_in_day_order_whatever_the_order_given() -> None:
    chart = chart_of([], [procedure(days_ago(5), "RFA"), procedure(days_ago(50), "MBB"),
                          procedure(days_ago(20), "FJI")])
    assert [m.label for m in chart.markers] == ["MBB", "FJI", "RFA"]


# Relief bars.

@pytest.mark.parametrize("first_days, second_starts, same_lane", [
    (10, 5, False),      # the second relief began while the first lasted
    (10, 10, True),      # the second began the day the first ended
    (10, 40, True),
    (0, 1, False),       # a same-day relief is still 3 px wide: it covers the next day at 2 px a day
    (0, 2, True),
])
def test_overlapping_reliefs_are_drawn_one_above_the_other(first_days: int, second_starts: int,
                                                           same_lane: bool) -> None:
    chart = two_px_a_day(spans=[relief(on(100), first_days, code="A"), relief(on(100 + second_starts), 5, code="B")])
    first, second = chart.bars
    assert (first.y == second.y) is same_lane
    assert all(bar.y < chart.bottom for bar in chart.bars)


def test_reliefs_are_given_lanes_in_day_order_whatever_the_order_given() -> None:
    chart = two_px_a_day(spans=[relief(on(200), 10, code="later"), relief(on(100), 10, code="earlier")])
    assert [bar.title.split()[0] for bar in chart.bars] == ["earlier", "later"]
    assert chart.bars[0].y == chart.bars[1].y


def test_a_relief_takes_the_lowest_lane_that_is_free_again() -> None:
    chart = two_px_a_day(spans=[relief(on(100), 30), relief(on(110), 10), relief(on(125), 20)])
    long, short, after_short = chart.bars
    assert short.y < long.y                # stacked above the one it overlaps
    assert after_short.y == short.y        # still overlaps the long one, but the short one has ended


def test_relief_still_going_on_without_a_duration_reaches_today() -> None:
    chart = chart_of([reading(TODAY, label="today"), reading(days_ago(40), label="procedure day")],
                     spans=[relief(days_ago(40), None, ongoing=True)])
    (bar,) = chart.bars
    assert (bar.x1, bar.x2) == (dot(chart, "procedure day").x, dot(chart, "today").x)
    assert bar.ongoing


def test_relief_still_going_on_after_the_weeks_entered_reaches_today() -> None:
    chart = chart_of([reading(TODAY, label="today"), reading(days_ago(40), label="procedure day")],
                     spans=[relief(days_ago(40), 21, ongoing=True, said="3 weeks")])
    (bar,) = chart.bars
    assert (bar.x1, bar.x2) == (dot(chart, "procedure day").x, dot(chart, "today").x)


def test_a_same_day_relief_on_the_last_day_of_a_long_course_stays_inside_the_plot() -> None:
    chart = course_of(2000, spans=[relief(TODAY + timedelta(days=MARGIN_DAYS), 0)])
    (bar,) = chart.bars
    assert chart.left <= bar.x1 < bar.x2 <= chart.right and bar.x2 - bar.x1 >= 3


def test_a_relief_ends_on_the_day_its_duration_runs_out() -> None:
    chart = chart_of([reading(days_ago(40), label="procedure day"), reading(days_ago(19), label="three weeks on")],
                     spans=[relief(days_ago(40), 21)])
    (bar,) = chart.bars
    assert (bar.x1, bar.x2) == (dot(chart, "procedure day").x, dot(chart, "three weeks on").x)
    assert not bar.ongoing


def test_relief_that_outlasts_the_chart_is_cut_at_its_right_edge() -> None:
    chart = chart_of([reading(days_ago(40))], spans=[relief(days_ago(40), 365)])
    assert chart.bars[0].x2 == chart.right


@pytest.mark.parametrize("days, width", [
    (0, 3),
    (5 / 24, 3),     # five hours
    (1, 3),          # 2 px would hardly show
    (2, 4),
    (10, 20),
])
def test_a_relief_bar_is_at_least_three_pixels_wide(days: float, width: float) -> None:
    chart = two_px_a_day(spans=[relief(on(100), days)])
    (bar,) = chart.bars
    assert bar.x1 == chart.left + 200
    assert bar.x2 - bar.x1 == pytest.approx(width)


@pytest.mark.parametrize("percent, said, ongoing, title", [
    (80, "5 hours", False, "MBB 11/03/2026: 80% relief for 5 hours"),
    (60, None, True, "MBB 11/03/2026: 60% relief, still going on"),
    (90, "3 weeks", True, "MBB 11/03/2026: 90% relief for 3 weeks, still going on"),
    (50, None, False, "MBB 11/03/2026: 50% relief"),
])
def test_a_bar_says_how_much_relief_for_how_long_as_it_was_entered(percent: int, said: str | None, ongoing: bool,
                                                                     title: str) -> None:
    chart = chart_of([reading(date(2026, 11, 3))],
                     spans=[relief(date(2026, 11, 3), None if ongoing else 1, ongoing=ongoing, percent=percent,
                                   said=said)])
    assert chart.bars[0].title == title
    assert chart.bars[0].ongoing is ongoing


# Dates along the bottom.

def test_a_short_course_is_marked_on_the_first_and_the_fifteenth() -> None:
    chart = chart_of([reading(date(2026, 3, 10))], today=date(2026, 4, 20))   # Feb 26 to Apr 27, once stretched
    assert labels(chart) == ["Mar 1, 2026", "Mar 15", "Apr 1", "Apr 15"]


def test_a_short_course_across_new_year_shows_the_new_year() -> None:
    chart = chart_of([reading(date(2025, 12, 1))], today=date(2026, 1, 10))
    assert labels(chart) == ["Dec 1, 2025", "Dec 15", "Jan 1, 2026", "Jan 15"]


@pytest.mark.parametrize("length, expected", [
    (120, ["Aug 15, 2026", "Sep 1", "Sep 15", "Oct 1", "Oct 15", "Nov 1", "Nov 15", "Dec 1"]),
    (121, ["Sep 2026", "Oct", "Nov", "Dec"]),
])
def test_the_fifteenths_are_marked_up_to_four_months(length: int, expected: list[str]) -> None:
    assert labels(course_of(length)) == expected    # Aug 3 (or Aug 2) 2026 to Dec 1 2026


@pytest.mark.parametrize("length, step, months", [
    (400, 1, set(MONTHS)),
    (401, 3, {"Jan", "Apr", "Jul", "Oct"}),
    (1100, 3, {"Jan", "Apr", "Jul", "Oct"}),
    (1101, 6, {"Jan", "Jul"}),
    (3000, 6, {"Jan", "Jul"}),
])
def test_long_courses_are_marked_every_three_or_six_months(length: int, step: int, months: set[str]) -> None:
    chart = course_of(length)
    shown = [label[:3] for label in labels(chart)]
    assert all((MONTHS.index(b) - MONTHS.index(a)) % 12 == step for a, b in pairwise(shown))
    month_starts = [date(year, month, 1) for year in range(chart.first_day.year, chart.last_day.year + 1)
                    for month in range(1, 13)]
    assert shown == [MONTHS[d.month - 1] for d in month_starts
                     if chart.first_day <= d <= chart.last_day and MONTHS[d.month - 1] in months]


@pytest.mark.parametrize("first_reading, today, expected", [
    (date(2025, 8, 1), date(2026, 2, 10), ["Aug 2025", "Sep", "Oct", "Nov", "Dec", "Jan 2026", "Feb"]),
    (date(2024, 5, 10), TODAY,
     ["Jul 2024", "Oct", "Jan 2025", "Apr", "Jul", "Oct", "Jan 2026", "Apr", "Jul", "Oct"]),
])
def test_the_year_is_shown_on_the_first_date_and_on_every_january(first_reading: date, today: date,
                                                                  expected: list[str]) -> None:
    assert labels(chart_of([reading(first_reading)], today=today)) == expected


@pytest.mark.parametrize("today, edge_tick", [
    (date(2026, 4, 22), ("Mar 1, 2026", "start")),     # one day in from the left edge
    (date(2026, 4, 21), ("Mar 1, 2026", "start")),     # two days, 23.8 px in
    (date(2026, 4, 20), ("Mar 1, 2026", "middle")),    # three days, 35.7 px in: room to centre it
    (date(2026, 4, 24), ("May 1", "end")),       # on the right edge
    (date(2026, 4, 26), ("May 1", "end")),       # two days in from the right edge
    (date(2026, 4, 27), ("May 1", "middle")),
])
def test_dates_near_an_edge_are_written_inwards_so_they_are_not_cut_off(today: date,
                                                                         edge_tick: tuple[str, str]) -> None:
    chart = chart_of([reading(today)], today=today)    # a 60-day chart: 11.9 px a day
    anchors = {label: anchor for _, label, anchor in chart.x_ticks}
    label, anchor = edge_tick
    assert anchors[label] == anchor
    assert all(anchor == "middle" for _, _, anchor in chart.x_ticks[1:-1])   # the inner ones are centred
