"""Domain errors: typed, carrying the data a view needs to explain them. Views turn them into
messages; nothing below a view aborts or flashes."""

from __future__ import annotations

from datetime import datetime


class DomainError(Exception):
    """A user action the rules refuse. `message` is fit to show to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """No such record among those the user may see (the same answer whether it exists or not)."""

    def __init__(self, entity: str, entity_id: object) -> None:
        super().__init__(f"No {entity} {entity_id}.")
        self.entity = entity
        self.entity_id = entity_id


class FieldErrors(DomainError):
    """Input that passed the form but breaks a rule; each message belongs next to its field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors


class Refused(DomainError):
    """A rule that refuses the action as a whole (not one field)."""


class ConcurrentChange(DomainError):
    """Someone else saved a conflicting change at the same moment; nothing of this one was saved."""

    def __init__(self) -> None:
        super().__init__("Someone else saved a conflicting change at the same moment, so nothing "
                         "was saved. Reload the page, check, and try again.")


class StaleEdit(DomainError):
    """Someone saved the record after this user opened it; their save is refused, not merged."""

    def __init__(self, what: str, changed_by: str, changed_at: datetime, current_version: int) -> None:
        self.headline = f"{what} was changed by {changed_by} after you opened it."
        super().__init__(f"{self.headline} The form now holds what they saved together with your "
                         "changes: check it and save again.")
        self.what = what
        self.changed_by = changed_by
        self.changed_at = changed_at
        self.current_version = current_version
