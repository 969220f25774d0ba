"""The importer (readers + parser) against each labelled fixture: the accuracy targets of issue 3."""

from __future__ import annotations

from pathlib import Path

import pytest

from qiantou.planparse import parse_file
from qiantou.planparse.accuracy import score_plan

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "cases" / "plans"
UNSEEN = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "extra"
LABELS = sorted(FIXTURES.glob("*.json"))
UNSEEN_LABELS = sorted(UNSEEN.glob("*.json"))


def _document(label: Path) -> Path:
    return next(p for p in label.parent.glob(label.stem + ".*") if p.suffix not in (".json", ".py"))


@pytest.mark.parametrize("label", LABELS + UNSEEN_LABELS, ids=[p.stem for p in LABELS + UNSEEN_LABELS])
def test_fixture_meets_the_accuracy_targets(label: Path) -> None:
    # the 14 fixtures the rules were developed on, and the unseen-style plans of tests/fixtures/extra
    doc = _document(label)
    plan = parse_file(doc.read_bytes(), doc.name)
    score = score_plan(plan, label)
    detail = "\n".join(score.problems)
    assert score.recall >= 0.98, detail
    assert score.lead.f1 >= 0.97, detail
    assert score.coop.f1 >= 0.95, detail
    assert score.deadline_accuracy >= 0.95, detail
    assert score.spurious == 0, detail


def test_there_are_fourteen_labelled_fixtures_and_unseen_style_plans() -> None:
    assert len(LABELS) == 14
    assert len(UNSEEN_LABELS) >= 6
