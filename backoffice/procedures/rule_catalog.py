"""What the candidacy rules and the candidates list read from the procedure catalog."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select

from backoffice.catalog.models import ProcedureType
from backoffice.core.extensions import db
from backoffice.procedures.candidacy_rules import SessionLimit


@dataclass(frozen=True)
class RuleCatalog:
    """What the rules and the worklist read from the procedure catalog's active procedures."""

    limits: dict[str, SessionLimit]  # per frequency group, the strictest its procedures set
    bookable: dict[str, list[int]]   # procedure type ids by kind, in catalog order


def _stricter(known: SessionLimit, procedure: ProcedureType) -> SessionLimit:
    """The limit of a frequency group once `procedure`, one of the group, is counted in: the fewest
    per year and the longest interval its procedures set."""
    intervals = [interval for interval in (known.min_interval, procedure.minimum_interval) if interval]
    return SessionLimit(
        max_per_year=min(filter(None, (known.max_per_year, procedure.max_per_year)), default=None),
        min_interval=max(intervals, key=lambda interval: interval.typical_days, default=None),
        interval_scope=known.interval_scope if known.min_interval else procedure.interval_scope)


def rule_catalog() -> RuleCatalog:
    limits: dict[str, SessionLimit] = {}
    bookable: dict[str, list[int]] = defaultdict(list)
    active = select(ProcedureType).where(ProcedureType.active.is_(True)).order_by(ProcedureType.id)
    for procedure in db.session.scalars(active):
        bookable[procedure.kind].append(procedure.id)
        if procedure.frequency_group is not None:
            group = procedure.frequency_group
            limits[group] = _stricter(limits.get(group, SessionLimit()), procedure)
    return RuleCatalog(limits, dict(bookable))
