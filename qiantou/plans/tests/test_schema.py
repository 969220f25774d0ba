"""Database settings the task list's speed relies on (bench/api_tasks.py)."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL statistics target")
def test_every_unit_keeps_its_own_frequency_in_the_planner_statistics() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attstattarget FROM pg_attribute "
            "WHERE attrelid = 'plans_taskunit'::regclass AND attname = 'unit_id'"
        )
        assert cursor.fetchone()[0] == 1000


def test_named_units_are_indexed_by_unit_then_plan() -> None:
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, "plans_taskunit")
    assert indexes["taskunit_unit_plan"]["columns"] == ["unit_id", "plan_id"]
