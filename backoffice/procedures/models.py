from __future__ import annotations

from dataclasses import fields
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.audit.trail import Audited
from backoffice.auth.models import User
from backoffice.catalog.rules import parse_follow_ups
from backoffice.core.db import Base, UTCDateTime, Versioned, enum_column_type
from backoffice.patients.models import Patient
from backoffice.practice.models import Office, Physician
from backoffice.procedures.candidacy_rules import Thresholds
from backoffice.procedures.rules import (
    DECISION_NOTE_LENGTH,
    Contact,
    FollowUpStatus,
    FunctionChange,
    PlanDecision,
    ReliefUnit,
    relief_said,
)

if TYPE_CHECKING:
    from backoffice.scheduling.models import Appointment, SchedulingRequest


class FollowUp(Audited, Versioned, Base):
    """A follow-up a completed procedure calls for: who is responsible, when it is due, and
    whether it is done (with an outcome) or closed without one."""

    __tablename__ = "follow_up"
    __table_args__ = (
        UniqueConstraint("appointment_id", "delay"),
        CheckConstraint("status IN ('open', 'done', 'closed')", name="known_status"),
        Index("ix_follow_up_status_due", "status", "due_at"),
        Index("ix_follow_up_physician_status_due", "physician_id", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    physician_id: Mapped[int] = mapped_column(ForeignKey("physician.id"))
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"))
    delay: Mapped[str] = mapped_column(String(5))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[FollowUpStatus] = mapped_column(enum_column_type(FollowUpStatus, 6), default=FollowUpStatus.OPEN)
    closed_reason: Mapped[str | None] = mapped_column(String(200))

    appointment: Mapped[Appointment] = relationship()
    patient: Mapped[Patient] = relationship()
    physician: Mapped[Physician] = relationship()
    office: Mapped[Office] = relationship()
    outcome: Mapped[Outcome | None] = relationship(back_populates="follow_up")

    @property
    def delay_label(self) -> str:
        return parse_follow_ups(self.delay)[0].label

    def audit_patient_id(self) -> int | None:
        return self.patient_id

    def audit_office_id(self) -> int | None:
        return self.office_id

    def audit_details(self) -> dict[str, Any]:
        return {"delay": self.delay, "appointment_id": self.appointment_id, "status": self.status}


class Outcome(Audited, Versioned, Base):
    """What a follow-up found: pain before and after, relief and how long it lasted, function,
    complications and the physician's decision."""

    __tablename__ = "outcome"
    __table_args__ = (
        CheckConstraint("baseline_nrs BETWEEN 0 AND 10", name="baseline_nrs_range"),
        CheckConstraint("post_nrs BETWEEN 0 AND 10", name="post_nrs_range"),
        CheckConstraint("percent_relief BETWEEN 0 AND 100", name="percent_relief_range"),
        CheckConstraint("relief_amount > 0", name="relief_amount_positive"),
        CheckConstraint("odi_score BETWEEN 0 AND 100", name="odi_score_range"),
        # The physicians' decisions list reads the recent outcomes without a decision.
        Index("ix_outcome_decision_recorded_on", "decision", "recorded_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_up.id"), unique=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    recorded_on: Mapped[date]
    contact: Mapped[Contact] = mapped_column(enum_column_type(Contact, 10))
    baseline_nrs: Mapped[int | None]
    post_nrs: Mapped[int | None]
    percent_relief: Mapped[int]
    relief_amount: Mapped[int | None]
    relief_unit: Mapped[ReliefUnit | None] = mapped_column(enum_column_type(ReliefUnit, 10))
    relief_hours: Mapped[int | None]
    relief_ongoing: Mapped[bool] = mapped_column(default=False)
    function_change: Mapped[FunctionChange | None] = mapped_column(enum_column_type(FunctionChange, 10))
    odi_answers: Mapped[list[int | None] | None] = mapped_column(JSON)
    odi_score: Mapped[int | None]
    complications: Mapped[str | None] = mapped_column(String(500))
    decision: Mapped[PlanDecision | None] = mapped_column(enum_column_type(PlanDecision, 20))
    # What the physician added to the decision ("refer to surgery" for "other").
    decision_note: Mapped[str | None] = mapped_column(String(DECISION_NOTE_LENGTH))
    # The request the decision handed to the schedulers (repeat block, RFA, SCS trial).
    scheduling_request_id: Mapped[int | None] = mapped_column(ForeignKey("scheduling_request.id"))
    notes: Mapped[str | None] = mapped_column(String(2000))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    follow_up: Mapped[FollowUp] = relationship(back_populates="outcome")
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    scheduling_request: Mapped[SchedulingRequest | None] = relationship()

    @property
    def relief_said(self) -> str | None:
        return relief_said(self.relief_amount, self.relief_unit)

    @property
    def decision_label(self) -> str | None:
        return self.decision.label if self.decision else None

    def audit_patient_id(self) -> int | None:
        return self.patient_id

    def audit_details(self) -> dict[str, Any]:
        return {"appointment_id": self.appointment_id, "percent_relief": self.percent_relief}


class PsychEvaluation(Audited, Versioned, Base):
    """A psychological evaluation before spinal cord stimulation (NCD 160.7)."""

    __tablename__ = "psych_evaluation"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    evaluated_on: Mapped[date]
    cleared: Mapped[bool]
    evaluator: Mapped[str] = mapped_column(String(120))
    notes: Mapped[str | None] = mapped_column(String(500))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    def audit_patient_id(self) -> int | None:
        return self.patient_id

    def audit_details(self) -> dict[str, Any]:
        return {"evaluated_on": self.evaluated_on, "cleared": self.cleared}


class ClinicalSettings(Audited, Versioned, Base):
    """The practice's thresholds for the candidacy rules: one row, defaults from domain-rules.md."""

    __tablename__ = "clinical_settings"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    mbb_relief_percent: Mapped[int] = mapped_column(default=Thresholds.mbb_relief_percent)
    mbb_relief_hours: Mapped[int] = mapped_column(default=Thresholds.mbb_relief_hours)
    blocks_for_rfa: Mapped[int] = mapped_column(default=Thresholds.blocks_for_rfa)
    rfa_repeat_relief_percent: Mapped[int] = mapped_column(default=Thresholds.rfa_repeat_relief_percent)
    rfa_repeat_relief_months: Mapped[int] = mapped_column(default=Thresholds.rfa_repeat_relief_months)
    epidural_repeat_relief_percent: Mapped[int] = mapped_column(default=Thresholds.epidural_repeat_relief_percent)
    epidural_repeat_relief_months: Mapped[int] = mapped_column(default=Thresholds.epidural_repeat_relief_months)
    facet_repeat_relief_percent: Mapped[int] = mapped_column(default=Thresholds.facet_repeat_relief_percent)
    facet_repeat_relief_months: Mapped[int] = mapped_column(default=Thresholds.facet_repeat_relief_months)
    scs_trial_relief_percent: Mapped[int] = mapped_column(default=Thresholds.scs_trial_relief_percent)
    soon_days: Mapped[int] = mapped_column(default=Thresholds.soon_days)

    def thresholds(self) -> Thresholds:
        return Thresholds(**{field.name: getattr(self, field.name) for field in fields(Thresholds)})

    @staticmethod
    def columns(thresholds: Thresholds) -> dict[str, Any]:
        return {field.name: getattr(thresholds, field.name) for field in fields(Thresholds)}

    def audit_subject(self) -> str:
        return "Clinical rule settings"


class CandidacyCheck(Base):
    """The day a patient's candidacies were last worked out and the first day they may no longer
    hold. A change to the patient's procedures, outcomes or evaluations empties `holds_until`, as
    does a change of the thresholds or the catalog for everyone; the candidates list works such
    patients out again before it reads `StoredCandidacy`."""

    __tablename__ = "candidacy_check"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), primary_key=True)
    assessed_on: Mapped[date | None] = mapped_column(index=True)
    holds_until: Mapped[date | None] = mapped_column(index=True)


class StoredCandidacy(Base):
    """A candidacy the candidates list may show, as the rules gave it on the patient's
    `CandidacyCheck.assessed_on`. Derived data: rebuilt, never edited, not audited."""

    __tablename__ = "stored_candidacy"
    __table_args__ = (Index("ix_stored_candidacy_section_order", "section", "eligible_from", "anchor_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    section: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(String(16))
    side: Mapped[str | None] = mapped_column(String(16))
    eligibility: Mapped[str] = mapped_column(String(16))
    eligible_from: Mapped[date | None]
    rule: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[list[Any]]] = mapped_column(JSON)  # [text, appointment id or null] in order
    # None for a stimulator candidacy resting on a trial with no procedure done here, or for one
    # resting only on procedures done elsewhere.
    anchor_appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"))
    anchor_day: Mapped[date]
    anchor_side: Mapped[str | None] = mapped_column(String(16))
    anchor_levels: Mapped[str | None] = mapped_column(String(60))
    anchor_levels_count: Mapped[int | None]
    # None for a candidacy resting only on procedures done elsewhere: no physician here has the
    # patient yet, and the office is the patient's preferred one, when they have one.
    physician_id: Mapped[int | None] = mapped_column(ForeignKey("physician.id"))
    office_id: Mapped[int | None] = mapped_column(ForeignKey("office.id"))
    # What its Schedule button books: the anchor's procedure when it is of the kind wanted, else
    # the catalog's first of that kind; none when the catalog has none.
    schedule_procedure_type_id: Mapped[int | None] = mapped_column(ForeignKey("procedure_type.id"))

    patient: Mapped[Patient] = relationship()
    physician: Mapped[Physician | None] = relationship()
    office: Mapped[Office | None] = relationship()
