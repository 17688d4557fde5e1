"""The packages keep their declared order, and docs/architecture.md tells the truth about it."""

from __future__ import annotations

import importlib
import itertools
import pkgutil
import re
import tomllib
from dataclasses import is_dataclass
from pathlib import Path

import grimp
import pytest

import backoffice
from backoffice.core.events import handlers_of
from tests.conftest import make_app, sqlite_url

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "architecture.md").read_text()


def _layers() -> list[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    [contract] = [c for c in pyproject["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    return contract["layers"]


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("backoffice", exclude_type_checking_imports=True, cache_dir=None)


def test_no_two_packages_import_each_other_directly_or_through_others(graph: grimp.ImportGraph) -> None:
    packages = sorted(m for m in graph.find_children("backoffice") if graph.find_children(m))
    cycles = [(a, b) for a, b in itertools.combinations(packages, 2)
              if graph.chain_exists(importer=a, imported=b, as_packages=True)
              and graph.chain_exists(importer=b, imported=a, as_packages=True)]
    assert cycles == []


def test_every_package_is_in_the_layered_contract(graph: grimp.ImportGraph) -> None:
    packages = {m.removeprefix("backoffice.") for m in graph.find_children("backoffice") if graph.find_children(m)}
    assert packages == set(_layers())


def test_the_picture_shows_the_layers_in_the_contracts_order() -> None:
    arrows = re.search(r"^\s*app --> (.+)$", DOC, re.MULTILINE)
    assert arrows is not None
    assert arrows.group(1).split(" --> ") == _layers()


def _event_types() -> list[type]:
    found = []
    for module_info in pkgutil.walk_packages(backoffice.__path__, "backoffice."):
        if module_info.name.endswith(".events") and module_info.name != "backoffice.core.events":
            module = importlib.import_module(module_info.name)
            found += [value for value in vars(module).values()
                      if isinstance(value, type) and is_dataclass(value) and value.__module__ == module.__name__]
    return found


def _row_of(name: str) -> str:
    rows = [line for line in DOC.splitlines() if line.startswith(f"| `{name}` |")]
    assert len(rows) == 1, f"docs/architecture.md needs one row for the event {name}"
    return rows[0]


def test_the_event_catalogue_lists_every_event_and_its_handlers(tmp_path: Path) -> None:
    make_app(sqlite_url(tmp_path / "events.db"))  # connects every subscriber, as the app does
    events = _event_types()
    assert events, "the packages publish domain events"
    for event_type in events:
        row = _row_of(event_type.__name__)
        for handler in handlers_of(event_type):
            where = f"{handler.__module__.removeprefix('backoffice.')}.{handler.__name__}"
            assert f"`{where}`" in row, f"{event_type.__name__}'s row must name its handler {where}"
