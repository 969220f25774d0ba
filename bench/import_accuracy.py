"""Accuracy of the plan importer (readers + parser) against the labelled fixtures (issue 3).

    .venv/bin/python bench/import_accuracy.py            # both sets: table per document + totals
    .venv/bin/python bench/import_accuracy.py -v         # also every mismatch
    .venv/bin/python bench/import_accuracy.py DIR        # another directory of NAME.EXT + NAME.json

Two sets are scored separately: the 14 labelled fixtures the rules were developed on
(``tests/fixtures/cases/plans``) and the "unseen-style" plans (``tests/fixtures/extra``, written in
wordings, numberings, layouts and encodings the fixtures do not use; built by its ``build.py``).
Prints task recall, lead-unit F1, cooperating-unit F1, deadline accuracy, spurious tasks and parse
time per document, then each set's totals against the targets (recall ≥ 0.98, lead F1 ≥ 0.97,
cooperating F1 ≥ 0.95, deadlines ≥ 0.95, no spurious task). Scoring rules:
:mod:`qiantou.planparse.accuracy`. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qiantou.planparse import PlanFileError, parse_file
from qiantou.planparse.accuracy import DocScore, Totals, score_plan

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "cases" / "plans"
UNSEEN = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "extra"
TARGETS = {"recall": 0.98, "lead_f1": 0.97, "coop_f1": 0.95, "deadline_accuracy": 0.95}


def documents(directory: Path) -> list[tuple[Path, Path]]:
    """``(document, label file)`` pairs in ``directory``."""
    out = []
    for label in sorted(directory.glob("*.json")):
        docs = [p for p in directory.glob(label.stem + ".*") if p.suffix != ".json"]
        if docs:
            out.append((docs[0], label))
    return out


def score_set(directory: Path, title: str, *, verbose: bool) -> list[str]:
    """Score every labelled document in ``directory``, print the table; the targets missed."""
    scores: list[DocScore] = []
    header = (
        f"{'document':34} {'labels':>6} {'found':>5} {'recall':>6} {'leadF1':>6} {'coopF1':>6} "
        f"{'dlAcc':>6} {'spur':>4} {'ms':>6}"
    )
    print(f"== {title} ({directory})")
    print(header)
    print("-" * len(header))
    errors = 0
    for doc, label in documents(directory):
        t0 = time.perf_counter()
        try:
            plan = parse_file(doc.read_bytes(), doc.name)
        except PlanFileError as exc:
            print(f"{doc.name:34} ERROR {exc}")
            errors += 1
            continue
        ms = (time.perf_counter() - t0) * 1000
        s = score_plan(plan, label)
        scores.append(s)
        print(
            f"{s.name[:34]:34} {s.labels:6d} {s.emitted:5d} {s.recall:6.3f} {s.lead.f1:6.3f} "
            f"{s.coop.f1:6.3f} {s.deadline_accuracy:6.3f} {s.spurious:4d} {ms:6.0f}"
        )
        if verbose:
            for p in s.problems:
                print(f"    {p}")
    totals = Totals(scores)
    print("-" * len(header))
    print(
        f"{'TOTAL':34} {sum(s.labels for s in scores):6d} {sum(s.emitted for s in scores):5d} "
        f"{totals.recall:6.3f} {totals.lead_f1:6.3f} {totals.coop_f1:6.3f} {totals.deadline_accuracy:6.3f} "
        f"{totals.spurious:4d}"
    )
    missed = [name for name, target in TARGETS.items() if getattr(totals, name) < target]
    if totals.spurious:
        missed.append("spurious")
    if errors:
        missed.append("unreadable documents")
    print(
        "targets: recall ≥ 0.98, lead F1 ≥ 0.97, cooperating F1 ≥ 0.95, deadlines ≥ 0.95, no spurious task — "
        + ("all met" if not missed else "MISSED: " + ", ".join(missed))
    )
    print()
    return missed


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("directory", nargs="?", type=Path, default=None)
    parser.add_argument("-v", "--verbose", action="store_true", help="print every mismatch")
    args = parser.parse_args()
    if args.directory is not None:
        sets = [(args.directory, "labelled plans")]
    else:
        sets = [(FIXTURES, "labelled fixtures (rules developed on these)"), (UNSEEN, "unseen-style plans")]
    missed = []
    for directory, title in sets:
        missed += score_set(directory, title, verbose=args.verbose)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
