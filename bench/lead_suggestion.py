"""Accuracy of the lead-unit suggestion (issue 7 targets: top-1 ≥ 0.65, top-3 ≥ 0.85).

    .venv/bin/python bench/lead_suggestion.py            # summary per plan and overall
    .venv/bin/python bench/lead_suggestion.py -v         # also every miss, with the evidence

Uses the labelled plans in ``tests/fixtures/cases/plans`` and the directory in
``tests/fixtures/cases/units`` (no database). A labelled task counts when its printed lead is one
name that the unit-name resolver maps to a single directory unit (``kind == "unit"``); tasks with
several leads, a collective party or an unknown name as lead are left out (and counted).

The task text is what the importer reads: each fixture document is parsed with
:mod:`qiantou.planparse` and the parsed tasks are paired with the labels as the import accuracy
benchmark pairs them (number + start of text); a label the parser did not produce falls back to its
``text_start`` (counted and printed). The plan title is not given to the suggester: it ranks on the
task text alone, as for a task typed into the editor.

Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REPO = Path(__file__).resolve().parent.parent
CASES = REPO / "tests" / "fixtures" / "cases"
UNITS_CSV = CASES / "units" / "qingshan-units.csv"
TARGET_TOP1 = 0.65
TARGET_TOP3 = 0.85


def load_directory() -> tuple[list[Any], Any]:
    """Suggester profiles and a resolver built from the fixture directory CSV."""
    from qiantou.allocation.suggestion import UnitProfile
    from qiantou.units.files import read_csv
    from qiantou.units.resolver import UnitRecord, UnitResolver

    table = read_csv(UNITS_CSV.name, UNITS_CSV.read_bytes())
    rows = [row.cells for row in table.rows]
    profiles = [
        UnitProfile(
            code=str(r["code"]),
            name=str(r["name"]),
            kind=str(r.get("kind") or "bureau"),
            short_names=tuple(s for s in str(r.get("short_names") or "").split("|") if s),
            mandate=str(r.get("mandate") or ""),
            parent_code=str(r.get("parent_code") or "") or None,
        )
        for r in rows
    ]
    resolver = UnitResolver([UnitRecord.from_mapping(r) for r in rows])
    return profiles, resolver


def labelled_cases() -> tuple[list[tuple[str, str, str, str]], dict[str, int]]:
    """``(plan, task no, text, lead code)`` for every countable labelled task, and the skip counts."""
    from qiantou.planparse import parse_file
    from qiantou.planparse.accuracy import _match

    _, resolver = load_directory()
    cases: list[tuple[str, str, str, str]] = []
    skipped = {"several_leads": 0, "lead_not_a_unit": 0, "text_from_label": 0}
    for label_file in sorted((CASES / "plans").glob("*.json")):
        doc = next(p for p in label_file.parent.glob(label_file.stem + ".*") if p.suffix != ".json")
        labels = json.loads(label_file.read_text(encoding="utf-8"))["tasks"]
        parsed = parse_file(doc.read_bytes(), doc.name)
        pairs = _match(labels, parsed.tasks)
        for i, label in enumerate(labels):
            if len(label["lead"]) != 1:
                skipped["several_leads"] += 1
                continue
            found = resolver.resolve(label["lead"][0])  # type: ignore[attr-defined]
            if found.kind != "unit":
                skipped["lead_not_a_unit"] += 1
                continue
            if i in pairs:
                text = parsed.tasks[pairs[i]].text
            else:
                text = label["text_start"]
                skipped["text_from_label"] += 1
            cases.append((label_file.stem, label.get("no") or "?", text, found.unit_code))
    return cases, skipped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="print every miss")
    args = parser.parse_args()

    from qiantou.allocation.suggestion import LeadSuggester

    profiles, _ = load_directory()
    cases, skipped = labelled_cases()
    t0 = time.perf_counter()
    cold = LeadSuggester(profiles)  # type: ignore[arg-type]
    build_s = time.perf_counter() - t0
    # History: every other plan's labelled leads, as stored plans would give them. Each plan is
    # scored with its own tasks left out (leave-one-plan-out), so no plan vouches for itself.
    warm = LeadSuggester(profiles, [(plan, code, text) for plan, _no, text, code in cases])  # type: ignore[arg-type]
    rc = 0
    for label, suggester in (("mandates only (cold start)", cold), ("mandates + other plans' history", warm)):
        print(f"\n== {label}")
        rc |= score(suggester, cases, skipped, profiles, verbose=args.verbose)
    print(f"\nindex build: {build_s * 1000:.0f} ms")
    return rc


def score(suggester: object, cases: list[tuple[str, str, str, str]], skipped: dict[str, int],
          profiles: list[object], *, verbose: bool) -> int:
    """Print per-plan and overall top-1/top-3; 1 when a target is missed."""
    by_plan: dict[str, list[int]] = {}
    hits1 = hits3 = 0
    t0 = time.perf_counter()
    for plan, no, text, code in cases:
        ranked = suggester.suggest(text, top=5, exclude_plan=plan)  # type: ignore[attr-defined]
        codes = [s.code for s in ranked]
        rank = codes.index(code) + 1 if code in codes else 0
        hits1 += rank == 1
        hits3 += 1 <= rank <= 3
        stats = by_plan.setdefault(plan, [0, 0, 0])
        stats[0] += 1
        stats[1] += rank == 1
        stats[2] += 1 <= rank <= 3
        if verbose and rank != 1:
            names = {p.code: p.name for p in profiles}  # type: ignore[attr-defined]
            print(f"  miss {plan} {no} want {names[code]} (rank {rank or '>5'}): {text[:40]}")
            for s in ranked[:3]:
                named = " [named]" if s.named_in_text else ""
                print(f"      {s.score:.2f} {s.name} {list(s.matched_terms)[:5]}{named}")
    query_ms = (time.perf_counter() - t0) * 1000 / max(len(cases), 1)
    n = len(cases)
    print(f"{'plan':34} {'tasks':>5} {'top-1':>6} {'top-3':>6}")
    for plan, (count, one, three) in by_plan.items():
        print(f"{plan:34} {count:5d} {one / count:6.2f} {three / count:6.2f}")
    top1, top3 = hits1 / n, hits3 / n
    print(f"\ncounted tasks: {n}  (left out: {skipped['several_leads']} with several leads, "
          f"{skipped['lead_not_a_unit']} whose lead is a collective party or unknown; "
          f"text from label for {skipped['text_from_label']})")
    print(f"top-1 accuracy: {top1:.3f}  (target ≥ {TARGET_TOP1})")
    print(f"top-3 accuracy: {top3:.3f}  (target ≥ {TARGET_TOP3})")
    print(f"per query: {query_ms:.2f} ms")
    return 0 if top1 >= TARGET_TOP1 and top3 >= TARGET_TOP3 else 1


if __name__ == "__main__":
    sys.exit(main())
