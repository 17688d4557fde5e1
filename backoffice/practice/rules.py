"""Rules of the practice setup. Pure: plain values in, plain values out."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, time
from enum import StrEnum

from stdnum import luhn

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class Capability(StrEnum):
    """What a room offers and a procedure may need."""

    FLUOROSCOPY = "fluoroscopy"
    STERILE_IMPLANT = "sterile implant room"
    SEDATION = "sedation"


@dataclass(frozen=True)
class WorkBlock:
    """One recurring working block of a physician, as the rules see it."""

    weekday: int
    starts: time
    ends: time
    office_id: int
    effective_from: date | None = None
    effective_until: date | None = None
    label: str = ""


def physician_short_name(last_name: str) -> str:
    """"Dr. Reyes", as lists, calendars and messages name a physician."""
    return f"Dr. {last_name}"


def slugify(name: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", name.lower()))


def is_valid_slug(slug: str) -> bool:
    return bool(SLUG.match(slug)) and len(slug) <= 40


def periods_overlap(a_from: date | None, a_until: date | None,
                    b_from: date | None, b_until: date | None) -> bool:
    """Whether two inclusive date ranges share a day; None means open-ended."""
    starts_before_b_ends = a_from is None or b_until is None or a_from <= b_until
    b_starts_before_a_ends = b_from is None or a_until is None or b_from <= a_until
    return starts_before_b_ends and b_starts_before_a_ends


def times_overlap(a_start: time, a_end: time, b_start: time, b_end: time) -> bool:
    """Half-open [start, end): back-to-back blocks do not overlap."""
    return a_start < b_end and b_start < a_end


def clashing_blocks(new: WorkBlock, existing: Iterable[WorkBlock]) -> list[WorkBlock]:
    """Existing blocks that would have the physician in two places (or twice in one) at once."""
    return [
        block for block in existing
        if block.weekday == new.weekday
        and times_overlap(new.starts, new.ends, block.starts, block.ends)
        and periods_overlap(new.effective_from, new.effective_until,
                            block.effective_from, block.effective_until)
    ]


def is_within_hours(block: WorkBlock, hours: Mapping[int, tuple[time, time]]) -> bool:
    """Whether the block lies inside the office's opening hours on its weekday."""
    opening = hours.get(block.weekday)
    return opening is not None and opening[0] <= block.starts and block.ends <= opening[1]


def is_valid_npi(npi: str) -> bool:
    """A National Provider Identifier: 10 digits, the last a Luhn check digit computed over the
    number prefixed with 80840 (the CMS NPI check digit rule)."""
    return len(npi) == 10 and npi.isdigit() and luhn.is_valid("80840" + npi)
