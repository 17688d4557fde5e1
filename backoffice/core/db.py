"""Declarative base, the UTC datetime type, and the one way services write: `transaction()`."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import Enum as PythonEnum
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Dialect,
    Engine,
    Enum,
    ForeignKey,
    MetaData,
    Select,
    String,
    event,
    select,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    declared_attr,
    mapped_column,
    scoped_session,
)
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.types import TypeDecorator

from backoffice.core.errors import ConcurrentChange, NotFound

logger = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Services pass Flask-SQLAlchemy's request-scoped session; tests and tools may pass a plain one.
AnySession = Session | scoped_session[Any]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every engine.

    PostgreSQL keeps `timestamptz`; SQLite keeps naive UTC text, which sorts and compares
    correctly because every value is written the same way.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def key_string(length: int) -> String:
    """A string column for normalised search keys, compared byte by byte on every engine.

    Prefix search is an index range (`key >= 'smi' AND key < 'smj'`), which is exact only under
    byte-wise ordering: SQLite's default, and the "C" collation on PostgreSQL.
    """
    return String(length).with_variant(String(length, collation="C"), "postgresql")


EnumT = TypeVar("EnumT", bound=PythonEnum)


def enum_column_type(enum: type[EnumT], length: int) -> Enum:
    """A column of `enum`'s members, stored as their values in a plain VARCHAR(`length`).

    SQLAlchemy's default would store the members' names, and as a native type on PostgreSQL; these
    options keep the strings and the schema the migrations made (no migration, no drift). Reading
    gives members; writing takes members or their values, and refuses any other string before it
    reaches the database.
    """
    return Enum(enum, native_enum=False, create_constraint=False, length=length,
                values_callable=lambda members: [member.value for member in members], validate_strings=True)


def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """WAL with every commit on disk, foreign keys, a busy timeout, and BEGIN emitted by us so
    writers can ask for IMMEDIATE."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite would otherwise issue its own deferred BEGIN and hide ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        # FULL syncs the write-ahead log on every commit. NORMAL would sync it only at
        # checkpoints, so a booking already confirmed to the user could vanish on power loss.
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


# SQLSTATEs of a unique and an exclusion constraint violation (PostgreSQL).
CONFLICT_SQLSTATES = {"23505", "23P01"}
# A deadlock PostgreSQL broke by rolling this transaction back: two writers locked rows in
# opposite orders (a catalog change marking every patient against a reschedule, say).
DEADLOCK_SQLSTATE = "40P01"
SQLITE_CONFLICTS = {"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"}


def constraint_conflict(error: IntegrityError) -> str | None:
    """The constraint a unique or exclusion violation names (never the values), else None."""
    original = error.orig
    if getattr(original, "sqlstate", None) in CONFLICT_SQLSTATES:
        return str(original.diag.constraint_name)  # type: ignore[union-attr]
    if getattr(original, "sqlite_errorname", None) in SQLITE_CONFLICTS:
        return str(original).removeprefix("UNIQUE constraint failed: ")
    return None


@contextmanager
def transaction(session: AnySession, actor: Any = None) -> Iterator[Session]:
    """One user action: begin a write transaction, commit on success, roll back on any error.

    On SQLite the transaction starts with BEGIN IMMEDIATE, which takes the write lock up front,
    so a service's check-then-write cannot interleave with another writer and never fails late
    with "database is locked". A read-only transaction the request already opened (loading the
    signed-in user, say) is ended first.

    `actor` is whom the audit trail records for every change flushed inside the block.
    """
    session = session() if isinstance(session, scoped_session) else session
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("changes were made outside a service transaction")
        session.commit()
    session.info["audit_actor"] = actor
    try:
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        yield session
        session.commit()
    except (IntegrityError, StaleDataError) as error:
        session.rollback()
        if isinstance(error, IntegrityError) and constraint_conflict(error) is None:
            raise  # a NOT NULL, CHECK or foreign key violation is a bug, not a race
        # A concurrent writer won a race the checks in Python could not see (two admins adding
        # the same closed day at the same moment). Services that expect a constraint to fire,
        # such as bookings, catch ConcurrentChange and read the constraint from __cause__.
        logger.warning("write refused by a concurrent change: %s",
                       constraint_conflict(error) if isinstance(error, IntegrityError) else "version")
        raise ConcurrentChange() from error
    except OperationalError as error:
        session.rollback()
        if getattr(error.orig, "sqlstate", None) != DEADLOCK_SQLSTATE:
            raise
        logger.warning("write refused: deadlock with a concurrent transaction")
        raise ConcurrentChange() from error
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop("audit_actor", None)


class Versioned:
    """Optimistic locking and change stamps for records people edit.

    SQLAlchemy adds `WHERE version = :loaded` to every UPDATE and raises StaleDataError when
    another writer got there first; services also compare the version the form was loaded with,
    so a second editor is told who changed the record and when instead of overwriting it.
    """

    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.version}



ModelT = TypeVar("ModelT", bound=Base)
# Ids are 32-bit integers on PostgreSQL; a larger number in a URL can match no row.
MAX_ID = 2**31 - 1


SelectT = TypeVar("SelectT", bound=Select[Any])


def for_update(query: SelectT, *, of: Any = None) -> SelectT:
    """Lock the selected rows for the rest of the transaction (SELECT ... FOR NO KEY UPDATE on
    PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers), refreshing any copy the
    request loaded earlier so that version checks see the row as it is now. `of` names the table
    to lock when the query also outer-joins others (PostgreSQL cannot lock their null side).

    NO KEY UPDATE, the lock an UPDATE that keeps the id takes anyway, still excludes every other
    writer of the row, but lets other transactions insert rows that refer to it (their foreign
    key checks take a key-share lock): with FOR UPDATE, an edit that waits on such a transaction
    while holding the row it refers to is a deadlock."""
    return query.with_for_update(of=of, key_share=True).execution_options(populate_existing=True)


def get_one(session: AnySession, model: type[ModelT], entity_id: int, *, entity: str,
            lock: bool = False) -> ModelT:
    """The row with this id, locked (see `for_update`) when `lock`. Raises NotFound."""
    query = select(model).where(model.id == entity_id)  # type: ignore[attr-defined]
    found: ModelT | None = session.scalars(for_update(query) if lock else query).first()
    if found is None:
        raise NotFound(entity, entity_id)
    return found


def another_with(session: AnySession, model: type[ModelT], *conditions: ColumnElement[bool],
                 besides: int | None) -> ModelT | None:
    """A row of `model` matching `conditions` other than the one with id `besides` (the record a
    form edits; None for a new one): what a form's "already used" check looks for."""
    query = select(model).where(*conditions)
    if besides is not None:
        query = query.where(model.id != besides)  # type: ignore[attr-defined]
    return session.scalars(query.limit(1)).first()
