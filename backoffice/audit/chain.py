"""The audit trail's hash chain: every row carries the hash of the row before it.

    prev_hash = the row_hash of the row with the next lower id (GENESIS for the first row)
    row_hash  = sha256_hex(prev_hash + canonical(row))

`canonical(row)` is the JSON of {column name: value} over every column of `audit_event` except
`id`, `prev_hash` and `row_hash`, leaving out NULLs, with keys sorted and no whitespace
(`json.dumps(..., sort_keys=True, separators=(",", ":"))`, ASCII): datetimes as UTC ISO 8601 with
microseconds, dates and times ISO, Decimals normalised ("40.00" is "40"), enums as their value,
JSON columns as the value they hold. Columns are read from the table, so a column added later is
covered without a change here; leaving out NULLs keeps the rows written before it valid.

Changing, removing or inserting a row anywhere breaks the chain at that row or the next one
(`verify` names it). Someone who can rewrite every hash from that row on could forge a
consistent chain, so the head that `flask audit verify` prints is worth keeping elsewhere.

Appends are serialised so two writers never link to the same head: on PostgreSQL
`audit_chain_head()` (migration 0018) takes a transaction-scoped advisory lock before it reads
the last hash, so the next writer waits until this transaction ends and then sees its rows; on
SQLite a writer holds the database's write lock from its first insert (BEGIN IMMEDIATE in
`transaction()`, before any read) until it commits. Within one transaction the head is then
remembered, so a write costs one extra statement however many audit rows it adds.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Column, Connection, RowMapping, Table, bindparam, insert, select, text
from sqlalchemy.sql.schema import CallableColumnDefault, ScalarElementColumnDefault

GENESIS = "0" * 64
HASH_COLUMNS = frozenset({"prev_hash", "row_hash"})
_NOT_HASHED = HASH_COLUMNS | {"id"}
_HEAD = "audit_chain_head"


def content_columns(table: Table) -> list[Column[Any]]:
    return [column for column in table.columns if column.name not in _NOT_HASHED]


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if isinstance(value, datetime):
        # SQLite hands back the naive UTC the app stores there.
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def canonical(content: Mapping[str, Any]) -> str:
    return json.dumps({name: _plain(value) for name, value in content.items() if value is not None},
                      sort_keys=True, separators=(",", ":"))


def row_hash(prev_hash: str, content: Mapping[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(content)).encode()).hexdigest()


def _completed(table: Table, row: Mapping[str, Any]) -> dict[str, Any]:
    """Every content column with the value the insert will store: the row's own, else the
    column's Python default, else NULL. All are then inserted explicitly, so no default the
    database would fill in can differ from what was hashed."""
    values: dict[str, Any] = {}
    for column in content_columns(table):
        if column.name in row:
            values[column.name] = row[column.name]
        elif isinstance(column.default, ScalarElementColumnDefault):
            values[column.name] = column.default.arg
        elif isinstance(column.default, CallableColumnDefault):
            # SQLAlchemy wraps the callable to take an execution context, which no default here uses.
            values[column.name] = cast(Any, column.default.arg)(None)
        else:
            values[column.name] = None
    return values


def _innermost_transaction(connection: Connection) -> object | None:
    return connection.get_nested_transaction() or connection.get_transaction()


def _head(connection: Connection, table: Table) -> str:
    """The last row's hash, the append lock held (see the module's docstring)."""
    remembered = connection.info.get(_HEAD)
    if remembered is not None and remembered[0] is _innermost_transaction(connection):
        return str(remembered[1])
    if connection.dialect.name == "postgresql":
        last = connection.execute(text("SELECT audit_chain_head()")).scalar()
    else:
        last = connection.execute(select(table.c.row_hash).order_by(table.c.id.desc()).limit(1)).scalar()
    return str(last) if last is not None else GENESIS


def link(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The rows, completed and chained to the head, ready to be inserted in this order by this
    connection's transaction (which then holds the append lock until it ends)."""
    previous = _head(connection, table)
    linked = []
    for row in rows:
        values = _completed(table, row)
        current = row_hash(previous, values)
        linked.append({**values, "prev_hash": previous, "row_hash": current})
        previous = current
    connection.info[_HEAD] = (_innermost_transaction(connection), previous)
    return linked


def append(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    connection.execute(insert(table), link(connection, table, rows))


@dataclass(frozen=True)
class Break:
    """The first row that does not match the chain."""

    id: int
    at: datetime | None
    reason: str


@dataclass(frozen=True)
class ChainCheck:
    checked: int
    last_id: int | None
    last_hash: str
    broken: Break | None


def _rows(connection: Connection, table: Table, batch: int) -> Iterator[RowMapping]:
    """Every row in id order, a batch at a time (keyset pages, so memory stays flat). Rows are
    turned into values one by one, so a row that cannot be read fails where it stands."""
    last_id: int | None = None
    while True:
        query = select(table).order_by(table.c.id).limit(batch)
        if last_id is not None:
            query = query.where(table.c.id > last_id)
        seen = 0
        for row in connection.execute(query).mappings():
            seen += 1
            last_id = row["id"]
            yield row
        if seen < batch:
            return


def verify(connection: Connection, table: Table, *, anchor: tuple[int, str] | None = None,
           batch: int = 1000) -> ChainCheck:
    """Walk the chain in id order; stop at the first row that does not match. `anchor` is a row
    id and hash an earlier run printed: that row must still be there with that hash, which holds
    every row up to it to what it was then (a chain rewritten from some row on is consistent
    again, but not with a head recorded before)."""
    previous, previous_id, checked = GENESIS, None, 0
    columns = content_columns(table)
    try:
        for row in _rows(connection, table, batch):
            checked += 1
            at = row.get("at")
            if anchor is not None and row["id"] == anchor[0] and row["row_hash"] != anchor[1]:
                return ChainCheck(checked, previous_id, previous, Break(
                    row["id"], at, "its hash is not the one recorded earlier: it or a row before it was rewritten"))
            if row["prev_hash"] != previous:
                after = f"row {previous_id}" if previous_id is not None else "the start of the trail"
                return ChainCheck(checked, previous_id, previous, Break(
                    row["id"], at, f"does not follow {after}: a row between them was removed, "
                                   "or that row was rewritten"))
            if row["row_hash"] != row_hash(previous, {c.name: row[c.name] for c in columns}):
                return ChainCheck(checked, previous_id, previous,
                                  Break(row["id"], at, "its content does not match its hash: it was changed"))
            previous, previous_id = row["row_hash"], row["id"]
    except (ValueError, TypeError) as error:
        # A value the app could never have written (a date that is not one, say).
        unreadable = connection.execute(select(table.c.id).where(table.c.id > (previous_id or 0))
                                        .order_by(table.c.id).limit(1)).scalar()
        return ChainCheck(checked, previous_id, previous, Break(
            int(unreadable or 0), None, f"its values cannot be read ({type(error).__name__}): it was changed"))
    if anchor is not None and (previous_id is None or previous_id < anchor[0]):
        return ChainCheck(checked, previous_id, previous,
                          Break(anchor[0], None, "the row recorded earlier is gone: the trail was cut short"))
    return ChainCheck(checked, previous_id, previous, None)


def rechain(connection: Connection, table: Table) -> int:
    """Hash every row again in id order, for a migration that has to rewrite audit rows (as the
    tables' owner, with the append-only triggers off). Never offered to the app. Returns the rows."""
    previous, updates = GENESIS, []
    for row in _rows(connection, table, 1000):
        current = row_hash(previous, {c.name: row[c.name] for c in content_columns(table)})
        updates.append({"row_id": row["id"], "prev_hash": previous, "row_hash": current})
        previous = current
    if updates:
        connection.execute(table.update().where(table.c.id == bindparam("row_id")), updates)
    return len(updates)
