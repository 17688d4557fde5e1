"""The practice's clinical rule settings: the thresholds the candidacy rules apply (one row,
defaults from domain-rules.md), read by the rules and edited on the settings page."""

from __future__ import annotations

from datetime import datetime

from backoffice.auth.editing import apply_edit, stamps
from backoffice.core.actor import Actor
from backoffice.core.db import transaction
from backoffice.core.events import publish
from backoffice.core.extensions import db
from backoffice.procedures.candidacy_rules import Thresholds
from backoffice.procedures.events import ClinicalSettingsChanged
from backoffice.procedures.models import ClinicalSettings


def load_thresholds() -> Thresholds:
    settings = db.session.get(ClinicalSettings, 1)
    return settings.thresholds() if settings else Thresholds()


def get_settings() -> ClinicalSettings:
    settings = db.session.get(ClinicalSettings, 1)
    if settings is None:  # a database the migration's row was deleted from
        settings = ClinicalSettings(id=1, **ClinicalSettings.columns(Thresholds()), version=0)
    return settings


def update_settings(thresholds: Thresholds, *, expected_version: int, by: Actor, now: datetime) -> ClinicalSettings:
    """Change the thresholds; the audit trail keeps each change with its before and after."""
    with transaction(db.session, by):
        settings = db.session.get(ClinicalSettings, 1, with_for_update=True, populate_existing=True)
        if settings is None:
            settings = ClinicalSettings(id=1, **ClinicalSettings.columns(thresholds), **stamps(by, now))
            db.session.add(settings)
            changed = frozenset(ClinicalSettings.columns(thresholds))
        else:
            changed = apply_edit(db.session, settings, ClinicalSettings.columns(thresholds),
                                 expected_version=expected_version, by=by, now=now, what="The clinical rule settings")
        if changed:
            publish(ClinicalSettingsChanged(changed, by=by, at=now))
    return settings
