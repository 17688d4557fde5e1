"""The practice's procedures as `demo-data` seeds them, with their CPT codes and the limits and
follow-ups of ../shared/domain-rules.md (Medicare LCDs L39240, L38773 and their billing articles).
Admins edit them afterwards; these are starting values, not constants the code relies on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backoffice.catalog.rules import Category, FrequencyGroup, IntervalScope, IntervalUnit, ProcedureKind


@dataclass(frozen=True)
class ProcedureData:
    code: str
    name: str
    category: Category
    cpt_codes: str
    duration_minutes: int
    turnover_minutes: int
    needs_fluoroscopy: bool = False
    needs_sterile_implant: bool = False
    needs_sedation: bool = False
    asks_region: bool = False
    asks_side: bool = False
    asks_levels: bool = False
    max_levels: int = 1
    prior_authorization: bool = False
    frequency_group: FrequencyGroup | None = None
    max_per_year: int | None = None
    min_interval: int | None = None
    min_interval_unit: IntervalUnit = IntervalUnit.DAYS
    interval_scope: IntervalScope = IntervalScope.REGION
    follow_ups: str = ""
    kind: ProcedureKind = ProcedureKind.NONE
    active: bool = True


E, F, A = Category.EPIDURAL, Category.FACET, Category.ABLATION
# Four per region in 12 months; 14 days after any earlier epidural, whatever its region.
ESI: dict[str, Any] = {"frequency_group": FrequencyGroup.EPIDURAL, "max_per_year": 4, "min_interval": 14,
       "interval_scope": IntervalScope.PATIENT, "follow_ups": "14d", "needs_fluoroscopy": True,
       "asks_region": True, "kind": ProcedureKind.EPIDURAL}

CATALOG: tuple[ProcedureData, ...] = (
    ProcedureData("ILESI", "Interlaminar epidural steroid injection", E, "62321, 62323", 30, 15,
                  **ESI),
    ProcedureData("TFESI", "Transforaminal epidural steroid injection", E,
                  "64479, 64483, +64480, +64484", 30, 15, asks_side=True, asks_levels=True,
                  max_levels=2, **ESI),
    ProcedureData("CESI", "Caudal epidural steroid injection", E, "62323", 30, 15, **ESI),
    ProcedureData("MBB", "Medial branch block", F, "64490, 64491, 64492, 64493, 64494, 64495", 30, 15,
                  needs_fluoroscopy=True, asks_region=True, asks_side=True, asks_levels=True, max_levels=3,
                  frequency_group=FrequencyGroup.FACET_DIAGNOSTIC, max_per_year=4,
                  follow_ups="6h, 1d", kind=ProcedureKind.DIAGNOSTIC_FACET),
    ProcedureData("FJI", "Facet joint injection", F, "64490, 64491, 64492, 64493, 64494, 64495", 30, 15,
                  needs_fluoroscopy=True, asks_region=True, asks_side=True, asks_levels=True, max_levels=3,
                  frequency_group=FrequencyGroup.FACET_THERAPEUTIC, max_per_year=4,
                  follow_ups="14d, 90d", kind=ProcedureKind.THERAPEUTIC_FACET),
    ProcedureData("RFA", "Radiofrequency ablation", A, "64633, 64635, +64634, +64636", 60, 15,
                  needs_fluoroscopy=True, needs_sedation=True, asks_region=True, asks_side=True,
                  asks_levels=True, max_levels=3, frequency_group=FrequencyGroup.ABLATION,
                  max_per_year=2, min_interval=6, min_interval_unit=IntervalUnit.MONTHS,
                  interval_scope=IntervalScope.REGION_SIDE,
                  follow_ups="6w, 26w", kind=ProcedureKind.ABLATION),
    ProcedureData("SIJ", "Sacroiliac joint injection", Category.JOINT, "27096", 30, 15,
                  needs_fluoroscopy=True, asks_side=True, follow_ups="14d"),
    ProcedureData("TPI", "Trigger point injection", Category.JOINT, "20552, 20553", 20, 10),
    ProcedureData("SCS-TRIAL", "Spinal cord stimulator trial", Category.NEUROMODULATION, "63650", 90, 30,
                  needs_fluoroscopy=True, needs_sedation=True, asks_region=True, prior_authorization=True,
                  follow_ups="7d", kind=ProcedureKind.SCS_TRIAL),
    ProcedureData("SCS-IMPLANT", "Spinal cord stimulator permanent implant", Category.NEUROMODULATION,
                  "63650, 63685", 180, 45, needs_fluoroscopy=True, needs_sterile_implant=True,
                  needs_sedation=True, asks_region=True, prior_authorization=True, follow_ups="14d, 90d",
                  kind=ProcedureKind.SCS_IMPLANT),
    ProcedureData("IPG-REPLACE", "Generator replacement", Category.NEUROMODULATION, "63685", 90, 30,
                  needs_sterile_implant=True, needs_sedation=True, prior_authorization=True,
                  follow_ups="14d"),
    ProcedureData("IT-TRIAL", "Intrathecal trial", Category.INTRATHECAL, "62350", 60, 30,
                  needs_fluoroscopy=True, needs_sterile_implant=True, prior_authorization=True,
                  follow_ups="1d"),
    ProcedureData("PUMP-IMPLANT", "Intrathecal pump implant", Category.INTRATHECAL, "62362, 62350", 150, 45,
                  needs_fluoroscopy=True, needs_sterile_implant=True, needs_sedation=True,
                  prior_authorization=True, follow_ups="14d, 90d"),
    ProcedureData("PUMP-REFILL", "Pump refill", Category.INTRATHECAL, "62369, 62370, 95990, 95991", 30, 10),
    ProcedureData("REGEN", "Regenerative injection (self-pay)", Category.REGENERATIVE, "", 60, 15,
                  needs_fluoroscopy=True, asks_region=True, asks_side=True, follow_ups="6w, 90d"),
    ProcedureData("NEW", "New-patient consult", Category.VISIT, "99204", 60, 0),
    ProcedureData("FOLLOW-UP", "Follow-up visit", Category.VISIT, "99214", 20, 0),
)
