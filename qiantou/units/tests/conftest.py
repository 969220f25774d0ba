"""Shared fixtures for the unit-directory tests: the Qingshan directory and users by role."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qiantou.units.files import read_csv
from qiantou.units.resolver import UnitRecord, UnitResolver

REPO = Path(__file__).resolve().parents[3]
UNITS_CSV = REPO / "tests" / "fixtures" / "cases" / "units" / "qingshan-units.csv"
PLANS_DIR = REPO / "tests" / "fixtures" / "cases" / "plans"
UNIT_FIELDS = ("lead", "cooperating", "optional_units", "implicit_cooperating")


def directory_records() -> list[UnitRecord]:
    """The fixture directory as resolver records (no database)."""
    table = read_csv(UNITS_CSV.name, UNITS_CSV.read_bytes())
    return [UnitRecord.from_mapping(row.cells) for row in table.rows]


def plan_unit_names() -> Iterator[tuple[str, str, str]]:
    """Every unit name printed in the labelled plans: (plan file, field, printed name)."""

    def walk(plan: str, task: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
        for name in UNIT_FIELDS:
            for printed in task.get(name) or []:
                yield plan, name, printed
        for child in task.get("children") or []:
            yield from walk(plan, child)

    for path in sorted(PLANS_DIR.glob("*.json")):
        for task in json.loads(path.read_text(encoding="utf-8"))["tasks"]:
            yield from walk(path.name, task)


@pytest.fixture(scope="session")
def units_csv() -> bytes:
    return UNITS_CSV.read_bytes()


@pytest.fixture(scope="session")
def resolver() -> UnitResolver:
    return UnitResolver(directory_records())


@pytest.fixture
def directory(db: Any, units_csv: bytes) -> None:
    """The 93-unit Qingshan directory in the database."""
    from qiantou.units.services import unit_directory_import

    unit_directory_import(actor=None, file_name="qingshan-units.csv", data=units_csv)


@pytest.fixture
def make_user(db: Any) -> Any:
    from qiantou.accounts.models import User
    from qiantou.units.models import Unit

    def make(username: str, role: str, unit_code: str | None = None, **extra: Any) -> User:
        unit = Unit.objects.get(code=unit_code) if unit_code else None
        # No password: the tests log in with force_login (and hashing would dominate their run time).
        return User.objects.create(username=username, role=role, unit=unit, **extra)

    return make
