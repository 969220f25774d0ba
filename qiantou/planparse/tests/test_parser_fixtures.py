"""The importer (readers + parser) against each labelled fixture: the accuracy targets of issue 3."""

from __future__ import annotations

from pathlib import Path

import pytest

from qiantou.planparse import parse_file
from qiantou.planparse.accuracy import score_plan

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "cases" / "plans"
LABELS = sorted(FIXTURES.glob("*.json"))


def _document(label: Path) -> Path:
    return next(p for p in FIXTURES.glob(label.stem + ".*") if p.suffix != ".json")


@pytest.mark.parametrize("label", LABELS, ids=[p.stem for p in LABELS])
def test_fixture_meets_the_accuracy_targets(label: Path) -> None:
    doc = _document(label)
    plan = parse_file(doc.read_bytes(), doc.name)
    score = score_plan(plan, label)
    detail = "\n".join(score.problems)
    assert score.recall >= 0.98, detail
    assert score.lead.f1 >= 0.97, detail
    assert score.coop.f1 >= 0.95, detail
    assert score.deadline_accuracy >= 0.95, detail
    assert score.spurious == 0, detail


def test_there_are_fourteen_labelled_fixtures() -> None:
    assert len(LABELS) == 14
