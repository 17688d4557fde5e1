"""Who is acting: passed from views (or the command line) into services and onto audit rows."""

from __future__ import annotations

from dataclasses import dataclass, field

from backoffice.core.permissions import Permission, may


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    roles: frozenset[str] = field(default_factory=frozenset)
    client_address: str | None = None

    @classmethod
    def system(cls, what: str) -> Actor:
        """A command-line or maintenance action with no signed-in user behind it."""
        return cls(user_id=None, username=what)

    def can(self, permission: Permission) -> bool:
        return may(self.roles, permission)
