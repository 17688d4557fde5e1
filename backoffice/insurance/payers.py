"""The payer list (admin): the insurers and programs a coverage may name, with the numbers of
their prior-authorization lines. Each public function that writes is one user action and one
transaction; every change is audited (payers are `Audited`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from backoffice.auth.editing import apply_edit, stamps
from backoffice.core.actor import Actor
from backoffice.core.db import another_with, get_one, transaction
from backoffice.core.errors import FieldErrors, Refused
from backoffice.core.extensions import db
from backoffice.core.permissions import Permission
from backoffice.insurance.models import Payer
from backoffice.insurance.rules import PayerKind, payer_key, tidy_payer_name


@dataclass(frozen=True)
class PayerData:
    """A payer as an administrator enters it."""

    name: str
    kind: PayerKind
    prior_auth_phone: str | None = None
    prior_auth_fax: str | None = None
    active: bool = True

    def columns(self) -> dict[str, Any]:
        name = tidy_payer_name(self.name)
        return {"name": name, "name_key": payer_key(name), "kind": self.kind, "prior_auth_phone": self.prior_auth_phone,
                "prior_auth_fax": self.prior_auth_fax, "active": self.active}


def list_payers() -> list[Payer]:
    """Every payer, those no longer offered last (the admin page)."""
    return list(db.session.scalars(select(Payer).order_by(Payer.active.desc(), Payer.name_key)))


def offered_payers(keeping: int | None = None) -> list[Payer]:
    """The payers a coverage form offers: those on offer, and the one a coverage names already
    (`keeping`) even if it no longer is, so that editing the coverage does not lose it."""
    offered = Payer.active.is_(True) if keeping is None else or_(Payer.active.is_(True), Payer.id == keeping)
    return list(db.session.scalars(select(Payer).where(offered).order_by(Payer.name_key)))


def get_payer(payer_id: int) -> Payer:
    return get_one(db.session, Payer, payer_id, entity="payer")


def _require_admin(by: Actor) -> None:
    if not by.can(Permission.ADMINISTER_PRACTICE):
        raise Refused("Only administrators keep the payer list.")


def _problems(data: PayerData, editing_id: int | None) -> dict[str, str]:
    other = another_with(db.session, Payer, Payer.name_key == payer_key(data.name), besides=editing_id)
    if other is not None:
        return {"name": f"The list has this payer already: {other.name}."}
    return {}


def add_payer(data: PayerData, *, by: Actor, now: datetime) -> Payer:
    """Raises FieldErrors (a payer of that name is on the list)."""
    _require_admin(by)
    with transaction(db.session, by):
        if errors := _problems(data, None):
            raise FieldErrors(errors)
        payer = Payer(**data.columns(), **stamps(by, now))
        db.session.add(payer)
    return payer


def update_payer(payer_id: int, data: PayerData, *, expected_version: int, by: Actor, now: datetime) -> Payer:
    """Raises FieldErrors, or StaleEdit when someone saved the payer after the form was opened.
    Taking a payer off the list leaves it on the coverage that names it."""
    _require_admin(by)
    with transaction(db.session, by):
        payer = get_one(db.session, Payer, payer_id, entity="payer", lock=True)
        if errors := _problems(data, payer_id):
            raise FieldErrors(errors)
        apply_edit(db.session, payer, data.columns(), expected_version=expected_version, by=by, now=now,
                   what=f"The payer {payer.name}")
    return payer
