"""The app's own PostgreSQL role, and what it may do to each table.

In production two roles reach the database: the owner of the tables, which migrations connect
as (`MIGRATION_DATABASE_URL`), and the app's role (`DATABASE_URL`), which owns nothing. A role
that does not own a table cannot ALTER it (so it cannot disable or drop the audit trail's
triggers), and it cannot TRUNCATE it or grant itself more without privileges nobody gives it.

After every `flask db upgrade` the migration environment (`migrations/env.py`) applies the
grants below again, as the owner, to every table in the schema: a table a later migration adds is
covered the moment it exists, with no default privileges to keep in step, and a table listed as
append-only loses UPDATE and DELETE in the same transaction that the upgrade commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, inspect, make_url, text

SCHEMA = "public"
# Rows are added and read, never changed or removed (the triggers refuse too, for the owner).
APPEND_ONLY_TABLES = frozenset({"audit_event"})
# Alembic's bookkeeping: only migrations, as the owner, write it.
READ_ONLY_TABLES = frozenset({"alembic_version"})


def app_role(config: Mapping[str, Any]) -> str | None:
    """The role the app connects as, when migrations connect as another: the user named in
    `DATABASE_URL`. None when there is only one role (SQLite, development, the test suite)."""
    migration_url = config.get("MIGRATION_DATABASE_URL")
    if not migration_url:
        return None
    app_url, owner_url = make_url(config["SQLALCHEMY_DATABASE_URI"]), make_url(migration_url)
    if app_url.get_backend_name() != "postgresql" or app_url.username in (None, owner_url.username):
        return None
    return app_url.username


def table_privileges(table: str) -> str:
    if table in READ_ONLY_TABLES:
        return "SELECT"
    if table in APPEND_ONLY_TABLES:
        return "SELECT, INSERT"
    return "SELECT, INSERT, UPDATE, DELETE"


def grant_app_role(connection: Connection, role: str) -> None:
    """Give `role` exactly the privileges above on every table (and the use of the id sequences),
    taking back anything else it was granted. Run as the tables' owner."""
    quote = connection.dialect.identifier_preparer.quote
    grantee = quote(role)
    connection.execute(text(f"GRANT USAGE ON SCHEMA {SCHEMA} TO {grantee}"))
    connection.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA {SCHEMA} FROM {grantee}"))
    connection.execute(text(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {SCHEMA} FROM {grantee}"))
    for table in inspect(connection).get_table_names(schema=SCHEMA):
        connection.execute(text(f"GRANT {table_privileges(table)} ON {SCHEMA}.{quote(table)} TO {grantee}"))
    connection.execute(text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {SCHEMA} TO {grantee}"))
