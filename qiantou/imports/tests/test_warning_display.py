"""People see parser warnings in Chinese only: no internal code (odd_unit_name：…) is stored or shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qiantou.imports.services import preview_as_json
from qiantou.plans.importing import plan_import, plan_import_preview
from qiantou.units.services import unit_directory_import

CASES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "cases"
CODE = re.compile(r"^[a-z_]+：")
PLAN = (
    "青山市重点任务分工方案\n"
    "一、重点任务\n"
    "1.推进档案数字化。（牵头单位：市档案馆；完成时限：1900年1月1日前）\n"
    "2.完善财政保障。（市财政局、市民政局负责，2026年底前）\n"
    "3.推进政务公开。（牵头单位：市政府办；完成时限：2026年6月底前；……\n"
).encode()

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def directory() -> None:
    data = (CASES / "units" / "qingshan-units.csv").read_bytes()
    unit_directory_import(actor=None, file_name="qingshan-units.csv", data=data)


def test_stored_plan_and_task_warnings_carry_no_code() -> None:
    parsed = plan_import_preview(data=PLAN, filename="plan.txt").plan
    # The parser keeps its codes for programs (qiantou parse --json) …
    assert any(CODE.match(w) for t in parsed.tasks for w in t.warnings)
    plan = plan_import(actor=None, data=PLAN, filename="plan.txt", lead_unit="QS0216")
    task_warnings = [w for t in plan.tasks.all() for w in t.warnings]
    # … what the plan and task pages show is the explanation alone.
    assert any("1900" in w for w in task_warnings)
    assert plan.warnings and task_warnings
    assert not [w for w in plan.warnings + task_warnings if CODE.match(w)]


def test_preview_shows_no_code() -> None:
    data = preview_as_json(plan_import_preview(data=PLAN, filename="plan.txt"))
    shown = data["warnings"] + [w for t in data["tasks"] for w in t["warnings"]]
    assert any("均暂列为牵头单位" in w for w in shown)
    assert not [w for w in shown if CODE.match(w)]
    ruled = preview_as_json(
        plan_import_preview(data=("列第一位者为牵头单位。\n".encode() + PLAN), filename="plan.txt")
    )
    assert ruled["lead_rule"] and not CODE.match(ruled["lead_rule"])
