"""Account actions. Each public function is one user action and one transaction."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from faker.providers.lorem.en_US import Provider as LoremWords
from sqlalchemy import select

from backoffice.audit.trail import record_event
from backoffice.auth import rules, throttle
from backoffice.auth.editing import apply_edit, mark_changed, stamps
from backoffice.auth.models import User
from backoffice.auth.policy import AuthPolicy
from backoffice.auth.throttle import SignInThrottled as SignInThrottled  # raised by authenticate
from backoffice.core.actor import Actor
from backoffice.core.db import for_update, get_one, transaction
from backoffice.core.errors import DomainError, FieldErrors, Refused
from backoffice.core.extensions import db
from backoffice.core.permissions import Role


class InvalidCredentials(DomainError):
    """A wrong password, an unknown username or a locked account: one answer for all three, so
    a guesser learns neither which usernames exist nor which accounts are locked."""

    def __init__(self) -> None:
        super().__init__("Wrong username or password.")


class AccountInactive(DomainError):
    """Told only to someone who gave the right password, so it reveals nothing to a guesser."""

    def __init__(self) -> None:
        super().__init__("This account is deactivated. Ask a practice administrator.")


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
    """Check a sign-in. Raises SignInThrottled, InvalidCredentials or AccountInactive.

    Every attempt costs the same Argon2 work and takes the same steps whether the username is
    unknown, the account locked or the password wrong; only a right password for an active,
    unlocked account signs in. Counts live in the database, so they hold across server
    processes and machines.
    """
    username = rules.normalise_username(username)
    address = client_address or ""
    # Two commits for one attempt, on purpose: the attempt is counted (or refused) and committed
    # before the slow hash check, so attempts sent in parallel are all counted, and neither
    # transaction holds the write lock while Argon2 runs.
    with transaction(db.session, Actor(None, username, client_address=client_address)):
        throttle.count_attempt(db.session(), username, address, policy.throttle, now)
    candidate = _by_username(username)
    # The slow hash check runs outside the write transaction so it does not hold the write lock.
    password_ok = policy.verify(candidate.password_hash if candidate else None, password)
    actor = Actor(candidate.id if candidate else None, username, client_address=client_address)

    with transaction(db.session, actor):
        if candidate is None:
            record_event(db.session, actor, "login_failed", "staff_user", None,
                         subject="Unknown username")
        else:
            user = _locked_user(candidate.id)
            if _apply_login_result(user, password if password_ok else None, actor, policy, now):
                throttle.forget_attempts(db.session(), username, address)
                return user
    if candidate is not None and not candidate.active and password_ok:
        raise AccountInactive()
    raise InvalidCredentials()


def _apply_login_result(user: User, verified_password: str | None, actor: Actor,
                        policy: AuthPolicy, now: datetime) -> bool:
    """Update the account's counts on its locked row; True when the sign-in succeeds.

    `verified_password` is the password when it matched, None when it was wrong.
    """
    if not user.active or user.locked_at is not None:
        record_event(db.session, actor, "login_failed", "staff_user", user.id,
                     subject="Inactive account" if not user.active else "Account locked")
        return False
    if verified_password is not None:
        user.failed_logins = 0
        user.last_login_at = now
        if policy.needs_rehash(user.password_hash):
            user.password_hash = policy.hash(verified_password)
        record_event(db.session, actor, "login", "staff_user", user.id)
        return True
    user.failed_logins += 1
    record_event(db.session, actor, "login_failed", "staff_user", user.id, subject="Wrong password")
    if rules.reaches_account_cap(user.failed_logins, policy.throttle):
        user.locked_at = now
        record_event(db.session, actor, "account_locked", "staff_user", user.id,
                     subject=f"{user.failed_logins} wrong passwords in a row")
    return False


def sign_out(actor: Actor) -> None:
    """End the account's sessions. Sessions are signed cookies, so a copy of one (from a shared
    computer's disk, say) would outlive signing out; changing the token they carry ends them all."""
    with transaction(db.session, actor):
        if actor.user_id is not None:
            user = _locked_user(actor.user_id)
            user.session_token = secrets.token_hex(16)
        record_event(db.session, actor, "logout", "staff_user", actor.user_id)


def _check_new_password(password: str, user: User, policy: AuthPolicy, field: str,
                        current: str | None = None) -> None:
    problems = rules.password_problems(password, username=user.username,
                                       full_name=user.full_name, current=current,
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
    _check_new_password(new, user, policy, "new_password", current=current)
    new_hash = policy.hash(new)
    with transaction(db.session, by):
        user = _locked_user(user_id)
        _replace_password(user, new_hash, temporary=False, by=by, now=now)
    return user


def _replace_password(user: User, password_hash: str, *, temporary: bool, by: Actor,
                      now: datetime) -> None:
    """A new password ends every session of the account and lifts any lock and wait."""
    user.password_hash = password_hash
    user.session_token = secrets.token_hex(16)
    user.must_change_password = temporary
    user.failed_logins = 0
    user.locked_at = None
    throttle.forget_attempts(db.session(), user.username)
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
    """Lift the account's lock and every wait on signing in to it, from any address."""
    with transaction(db.session, by):
        user = _locked_user(user_id)
        waits = throttle.forget_attempts(db.session(), user.username)
        if user.failed_logins or user.locked_at or waits:
            what = ("lock lifted" if user.locked_at is not None
                    else f"{user.failed_logins} failed sign-ins cleared")
            record_event(db.session, by, "account_unlocked", "staff_user", user.id,
                         subject=f"{user.username}: {what}")
        user.failed_logins = 0
        user.locked_at = None
    return user


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.active.desc(), User.full_name)))
