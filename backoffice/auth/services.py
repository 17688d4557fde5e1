"""Account actions. Each public function is one user action and one transaction."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from faker.providers.lorem.en_US import Provider as LoremWords
from sqlalchemy import select

from backoffice.audit.actor import Actor
from backoffice.audit.trail import record_event
from backoffice.auth import rules
from backoffice.auth.models import User
from backoffice.auth.policy import AuthPolicy
from backoffice.auth.roles import Role
from backoffice.db import for_update, get_one, transaction
from backoffice.editing import apply_edit, mark_changed, stamps
from backoffice.errors import DomainError, FieldErrors, Refused
from backoffice.extensions import db


class InvalidCredentials(DomainError):
    def __init__(self) -> None:
        super().__init__("Wrong username or password.")


class AccountInactive(DomainError):
    """Told only to someone who gave the right password, so it reveals nothing to a guesser."""

    def __init__(self) -> None:
        super().__init__("This account is deactivated. Ask a practice administrator.")


class AccountLocked(DomainError):
    def __init__(self, until: datetime) -> None:
        super().__init__("This account is locked after too many wrong passwords.")
        self.until = until


@dataclass(frozen=True)
class AccountData:
    username: str
    full_name: str
    email: str | None
    roles: frozenset[Role]


def temporary_password() -> str:
    """A one-time password an admin reads out to the person, who must replace it at first
    sign-in: four common words and two digits, about 50 bits."""
    words = [word for word in LoremWords.word_list if 4 <= len(word) <= 8]
    chosen = [secrets.choice(words) for _ in range(4)]
    return "-".join([*chosen, f"{secrets.randbelow(100):02d}"])


def get_user(user_id: int) -> User:
    return get_one(db.session, User, user_id, entity="user")


def _locked_user(user_id: int) -> User:
    return get_one(db.session, User, user_id, entity="user", lock=True)


def _by_username(username: str) -> User | None:
    return db.session.scalars(select(User).where(User.username == username)).first()


def authenticate(username: str, password: str, *, client_address: str | None,
                 policy: AuthPolicy, now: datetime) -> User:
    """Check a sign-in. Raises InvalidCredentials, AccountLocked or AccountInactive; counts failures
    in the database so that the lockout holds across server processes."""
    username = rules.normalise_username(username)
    candidate = _by_username(username)
    if candidate is not None and candidate.active and rules.is_locked(candidate.locked_until, now):
        raise AccountLocked(candidate.locked_until)  # type: ignore[arg-type]
    # The slow hash check runs outside the write transaction so it does not hold the write lock.
    password_ok = policy.verify(candidate.password_hash if candidate else None, password)
    actor = Actor(candidate.id if candidate else None, username, client_address=client_address)

    with transaction(db.session, actor):
        if candidate is None or not candidate.active:
            record_event(db.session, actor, "login_failed", "staff_user",
                         candidate.id if candidate else None,
                         subject="Unknown username" if candidate is None else "Inactive account")
            locked_at = None
        else:
            user = _locked_user(candidate.id)
            locked_at = _apply_login_result(user, password if password_ok else None, actor,
                                            policy, now)
            if locked_at is None and password_ok:
                return user
    if locked_at is not None:
        raise AccountLocked(locked_at)
    if candidate is not None and not candidate.active and password_ok:
        raise AccountInactive()
    raise InvalidCredentials()


def _apply_login_result(user: User, verified_password: str | None, actor: Actor,
                        policy: AuthPolicy, now: datetime) -> datetime | None:
    """Update the counters on the locked row. Returns the lock end when the account is locked.

    `verified_password` is the password when it matched, None when it was wrong.
    """
    if rules.is_locked(user.locked_until, now):
        return user.locked_until
    if verified_password is not None:
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
        if policy.needs_rehash(user.password_hash):
            user.password_hash = policy.hash(verified_password)
        record_event(db.session, actor, "login", "staff_user", user.id)
        return None
    outcome = rules.after_failed_login(user.failed_logins, policy.lockout, now)
    user.failed_logins = outcome.failed_logins
    user.locked_until = outcome.locked_until
    record_event(db.session, actor, "login_failed", "staff_user", user.id, subject="Wrong password")
    if outcome.locked_until is not None:
        record_event(db.session, actor, "account_locked", "staff_user", user.id,
                     subject=f"{policy.lockout.max_failures} wrong passwords")
    return outcome.locked_until



def sign_out(actor: Actor) -> None:
    """End the account's sessions. Sessions are signed cookies, so a copy of one (from a shared
    computer's disk, say) would outlive signing out; changing the token they carry ends them all."""
    with transaction(db.session, actor):
        if actor.user_id is not None:
            user = _locked_user(actor.user_id)
            user.session_token = secrets.token_hex(16)
        record_event(db.session, actor, "logout", "staff_user", actor.user_id)


def _check_new_password(password: str, user: User, policy: AuthPolicy, field: str) -> None:
    problems = rules.password_problems(password, username=user.username,
                                       other_inputs=user.full_name.split(),
                                       min_length=policy.min_password_length)
    if problems:
        raise FieldErrors({field: " ".join(problems)})


def change_own_password(user_id: int, current: str, new: str, *, by: Actor, policy: AuthPolicy,
                        now: datetime) -> User:
    """Replace one's own password; every other session of this user ends."""
    user = get_user(user_id)
    if not policy.verify(user.password_hash, current):
        raise FieldErrors({"current_password": "That is not your current password."})
    if new == current:
        raise FieldErrors({"new_password": "Choose a password different from the current one."})
    _check_new_password(new, user, policy, "new_password")
    new_hash = policy.hash(new)
    with transaction(db.session, by):
        user = _locked_user(user_id)
        _replace_password(user, new_hash, temporary=False, by=by, now=now)
    return user


def _replace_password(user: User, password_hash: str, *, temporary: bool, by: Actor,
                      now: datetime) -> None:
    """A new password ends every session of the account and lifts any lock."""
    user.password_hash = password_hash
    user.session_token = secrets.token_hex(16)
    user.must_change_password = temporary
    user.failed_logins = 0
    user.locked_until = None
    user.password_changed_at = now
    mark_changed(user, by, now)


def _roles_problem(roles: frozenset[Role]) -> dict[str, str]:
    return {} if roles else {"roles": "Give the account at least one role."}


def _active_admin_count() -> int:
    """Counted under lock: two admins demoting each other at once must not leave none."""
    admins = select(User).where(User.active.is_(True), User.roles.contains(Role.ADMIN.value))
    return len(db.session.scalars(for_update(admins)).all())


def create_user(data: AccountData, *, by: Actor, policy: AuthPolicy, now: datetime,
                password: str | None = None) -> tuple[User, str]:
    """A new account with a temporary password (or the given one). Returns it with the password."""
    username = rules.normalise_username(data.username)
    errors = _roles_problem(data.roles)
    if not rules.is_valid_username(username):
        errors["username"] = rules.USERNAME_RULE
    if errors:
        raise FieldErrors(errors)
    temporary = password is None
    password = password or temporary_password()
    draft = User(username=username, full_name=data.full_name, password_hash="")
    _check_new_password(password, draft, policy, "password")
    password_hash = policy.hash(password)
    with transaction(db.session, by):
        if _by_username(username) is not None:
            raise FieldErrors({"username": f"The username {username} is taken."})
        user = User(username=username, full_name=data.full_name, email=data.email,
                    roles=rules.format_roles(data.roles), password_hash=password_hash,
                    session_token=secrets.token_hex(16), active=True,
                    must_change_password=temporary, password_changed_at=now, **stamps(by, now))
        db.session.add(user)
    return user, password


def update_user(user_id: int, data: AccountData, *, expected_version: int, by: Actor,
                now: datetime) -> User:
    """Change name, email and roles. The username stays: the audit trail is keyed by it."""
    errors = _roles_problem(data.roles)
    if errors:
        raise FieldErrors(errors)
    with transaction(db.session, by):
        user = _locked_user(user_id)
        removes_admin = Role.ADMIN in user.role_set and Role.ADMIN not in data.roles
        if removes_admin and user.id == by.user_id:
            raise FieldErrors({"roles": "You cannot remove your own admin role; ask another admin."})
        if removes_admin and user.active and _active_admin_count() <= 1:
            raise FieldErrors({"roles": "This is the last active admin; keep the admin role."})
        apply_edit(db.session, user,
                   {"full_name": data.full_name, "email": data.email,
                    "roles": rules.format_roles(data.roles)},
                   expected_version=expected_version, by=by, now=now,
                   what=f"The account {user.username}")
    return user


def set_user_active(user_id: int, active: bool, *, by: Actor, now: datetime) -> User:
    """Deactivate (ends every session at once) or reactivate an account."""
    with transaction(db.session, by):
        user = _locked_user(user_id)
        if not active:
            if user.id == by.user_id:
                raise Refused("You cannot deactivate your own account.")
            if Role.ADMIN in user.role_set and _active_admin_count() <= 1:
                raise Refused("This is the last active admin; make another admin first.")
            user.session_token = secrets.token_hex(16)
        user.active = active
        mark_changed(user, by, now)
    return user


def reset_password(user_id: int, *, by: Actor, policy: AuthPolicy, now: datetime) -> tuple[User, str]:
    """Give the account a temporary password, end its sessions and lift any lock."""
    password = temporary_password()
    password_hash = policy.hash(password)
    with transaction(db.session, by):
        user = _locked_user(user_id)
        _replace_password(user, password_hash, temporary=True, by=by, now=now)
    return user, password


def unlock_user(user_id: int, *, by: Actor, now: datetime) -> User:
    with transaction(db.session, by):
        user = _locked_user(user_id)
        if user.failed_logins or user.locked_until:
            what = ("lock lifted" if rules.is_locked(user.locked_until, now)
                    else f"{user.failed_logins} failed sign-ins cleared")
            record_event(db.session, by, "account_unlocked", "staff_user", user.id,
                         subject=f"{user.username}: {what}")
        user.failed_logins = 0
        user.locked_until = None
    return user


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.active.desc(), User.full_name)))
