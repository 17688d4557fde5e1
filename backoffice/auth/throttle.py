"""Sign-in throttling by username and client address together, counted in the database.

Keyed by the pair, a stranger typing wrong passwords for a colleague's username slows down only
their own attempts from their own address; the colleague signs in from theirs as usual. The
count is taken by the username typed, known or not, so an unknown username is throttled exactly
like a real one and the answers cannot tell them apart. The rule (attempts -> wait) is
`rules.next_attempt_at`; these functions only read and write the counts, inside the caller's
transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from backoffice.auth import rules
from backoffice.auth.models import SignInThrottle
from backoffice.core.db import for_update
from backoffice.core.errors import DomainError

# The longest username an account can have. A typed one can be longer once lower-cased ("İ"
# becomes two characters); no account has it, so its first 40 characters count for it.
USERNAME_LENGTH = 40


class SignInThrottled(DomainError):
    """Too many wrong passwords for this username from this address: the next try must wait."""

    def __init__(self, retry_at: datetime) -> None:
        super().__init__("Too many wrong passwords for this username from this address.")
        self.retry_at = retry_at


def count_attempt(session: Session, username: str, client_address: str,
                  policy: rules.ThrottlePolicy, now: datetime) -> None:
    """Refuse the attempt while the pair must wait; otherwise count it as a failure now.

    Counting before the password is checked (and forgetting the count when it was right) means
    that attempts sent in parallel cannot all pass the check before any of them is counted.
    """
    username = username[:USERNAME_LENGTH]
    upsert = postgresql_insert if session.connection().dialect.name == "postgresql" else sqlite_insert
    session.execute(upsert(SignInThrottle)
                    .values(username=username, client_address=client_address, failures=0)
                    .on_conflict_do_nothing(index_elements=["username", "client_address"]))
    pair = session.scalars(for_update(select(SignInThrottle).where(
        SignInThrottle.username == username,
        SignInThrottle.client_address == client_address))).one()
    retry_at = rules.next_attempt_at(pair.failures, pair.last_failure_at, now, policy)
    if retry_at is not None:
        raise SignInThrottled(retry_at)
    pair.failures = rules.failures_in_effect(pair.failures, pair.last_failure_at, now, policy) + 1
    pair.last_failure_at = now
    # Counts past remembering are dropped here, so the table holds about a day of failures.
    session.execute(delete(SignInThrottle).where(
        SignInThrottle.last_failure_at < now - policy.forget_after))


def forget_attempts(session: Session, username: str, client_address: str | None = None) -> int:
    """Clear the counts of a username: from one address (a right password), or from every
    address (an admin's unlock). Returns how many addresses had a count."""
    statement = delete(SignInThrottle).where(SignInThrottle.username == username[:USERNAME_LENGTH])
    if client_address is not None:
        statement = statement.where(SignInThrottle.client_address == client_address)
    return session.execute(statement).rowcount  # type: ignore[attr-defined]
