"""What the audit chain hashes: every column but the id and the hashes, whatever the table holds."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table

from backoffice.audit.chain import GENESIS, canonical, content_columns, row_hash

AT = datetime(2026, 11, 24, 14, 0, 5, 120000, tzinfo=UTC)


def _trail(*extra: Column) -> Table:
    return Table("audit_event", MetaData(), Column("id", Integer, primary_key=True), Column("at", DateTime),
                 Column("summary", String), Column("changes", JSON), Column("prev_hash", String),
                 Column("row_hash", String), *extra)


def test_the_hash_covers_every_column_but_the_id_and_the_hashes_including_ones_added_later():
    later = _trail(Column("clinical_value", String))
    assert [c.name for c in content_columns(later)] == ["at", "summary", "changes", "clinical_value"]
    row = {"at": AT, "summary": "pump refill", "changes": None, "clinical_value": "40 mL"}
    assert row_hash(GENESIS, row) != row_hash(GENESIS, {**row, "clinical_value": "4 mL"})


def test_a_column_added_later_leaves_the_hashes_of_the_rows_before_it_valid():
    before = {"at": AT, "summary": "opened", "changes": {"phone": ["1", "2"]}}
    assert row_hash(GENESIS, before) == row_hash(GENESIS, {**before, "clinical_value": None})


def test_a_value_hashes_the_same_as_written_and_as_read_back():
    written = {"at": AT, "changes": {"dose": Decimal("40"), "b": 1, "a": [None, "x"]}}
    read_back = {"changes": {"a": [None, "x"], "b": 1, "dose": Decimal("40.00")},
                 "at": AT.replace(tzinfo=None)}  # SQLite's naive UTC
    assert canonical(written) == canonical(read_back)
    assert canonical(written) == ('{"at":"2026-11-24T14:00:05.120000+00:00",'
                                  '"changes":{"a":[null,"x"],"b":1,"dose":"40"}}')


def test_each_hash_depends_on_the_one_before():
    row = {"at": AT, "summary": "signed in"}
    assert row_hash(GENESIS, row) != row_hash(row_hash(GENESIS, row), row)
    assert len(row_hash(GENESIS, row)) == 64
