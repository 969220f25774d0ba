"""Accuracy of the lead-unit suggestion (issue 7 targets: top-1 ≥ 0.65, top-3 ≥ 0.85).

    .venv/bin/python bench/lead_suggestion.py            # per plan and overall, default weights
    .venv/bin/python bench/lead_suggestion.py -v         # also every miss, with the evidence
    .venv/bin/python bench/lead_suggestion.py --ablation # each part of the scorer on and off
    .venv/bin/python bench/lead_suggestion.py --tune     # weight grid, leave-one-plan-out tuning
    .venv/bin/python bench/lead_suggestion.py --robust   # lexicon/directory stress checks
    .venv/bin/python bench/lead_suggestion.py --all      # everything above

Uses the labelled plans in ``tests/fixtures/cases/plans`` and the directory in
``tests/fixtures/cases/units`` (no database). A labelled task counts when its printed lead is one
name that the unit-name resolver maps to a single directory unit (``kind == "unit"``); tasks with
several leads, a collective party or an unknown name as lead are left out (and counted).

The task text is what the importer reads: each fixture document is parsed with
:mod:`qiantou.planparse` and the parsed tasks are paired with the labels as the import accuracy
benchmark pairs them (number + start of text); a label the parser did not produce falls back to its
``text_start`` (counted and printed). The plan title is not given to the suggester: it ranks on the
task text alone, as for a task typed into the editor.

Two settings are scored: **mandates only** (a cold start: directory and lexicon, no stored plans)
and **with history** (every other plan's labelled leads as stored plans; each plan is scored with
its own tasks left out, so no plan vouches for itself).

``--tune`` scores a small grid of channel weights and reports (a) the best grid point on all 14
plans (in-sample: optimistic) and (b) leave-one-plan-out tuning: for each plan the weights are
chosen on the other 13 and scored on it, so the figure shows how much of the gain survives on plans
the weights were not fitted to. ``--robust`` reports two stress checks of the hand-written lexicon
and the directory: the lexicon with, for each plan, every term that occurs in that plan's tasks and
in no other plan's nor any mandate removed (as if the lexicon's author had never met that plan's
vocabulary — a pessimistic bound for unseen plans), and the directory with every mandate text blanked
(only names map units to domains).

Exit status 1 when a target is missed with the default weights.
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


Case = tuple[str, str, str, str]


def ranks(suggester: Any, cases: list[Case], weights: Any, channels: list[Any]) -> list[int]:
    """Rank of the labelled lead per case (1-based; 0 when not in the top 5)."""
    out: list[int] = []
    for ch, (_plan, _no, _text, code) in zip(channels, cases, strict=True):
        if ch is None:
            out.append(0)
            continue
        order = suggester._order(suggester.combine(ch, weights)[0])[:5]
        codes = [suggester.units[i].code for i in order]
        out.append(codes.index(code) + 1 if code in codes else 0)
    return out


def accuracy(rank_list: list[int]) -> tuple[float, float]:
    """Top-1 and top-3 accuracy of a list of ranks."""
    n = len(rank_list) or 1
    return sum(r == 1 for r in rank_list) / n, sum(1 <= r <= 3 for r in rank_list) / n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="print every miss")
    parser.add_argument("--ablation", action="store_true", help="each part of the scorer on and off")
    parser.add_argument("--tune", action="store_true", help="weight grid with leave-one-plan-out tuning")
    parser.add_argument("--robust", action="store_true", help="lexicon and directory stress checks")
    parser.add_argument("--all", action="store_true", help="all of the above")
    args = parser.parse_args()

    from qiantou.allocation.suggestion import DEFAULT_WEIGHTS, LeadSuggester

    profiles, _ = load_directory()
    cases, skipped = labelled_cases()
    t0 = time.perf_counter()
    cold = LeadSuggester(profiles)  # type: ignore[arg-type]
    build_s = time.perf_counter() - t0
    history = [(plan, code, text) for plan, _no, text, code in cases]
    warm = LeadSuggester(profiles, history)  # type: ignore[arg-type]
    settings = (("mandates only (cold start)", cold), ("mandates + other plans' history", warm))
    rc = 0
    for label, suggester in settings:
        print(f"\n== {label}")
        rc |= score(suggester, cases, skipped, profiles, verbose=args.verbose)
    print(f"\nindex build: {build_s * 1000:.0f} ms; weights: {DEFAULT_WEIGHTS}")

    cached = {id(s): [s.channels(text, plan) for plan, _no, text, _code in cases] for _, s in settings}
    by_signal(settings, cases, cached)
    if args.ablation or args.tune or args.all:
        if args.ablation or args.all:
            ablation(settings, cases, cached)
        if args.tune or args.all:
            tune(settings, cases, cached)
    if args.robust or args.all:
        robustness(profiles, cases, history)
    return rc


def by_signal(settings: Any, cases: list[Case], cached: dict[int, list[Any]]) -> None:
    """Accuracy by the kind of signal a task text carries: lexicon terms, only mandate words or
    phrases, or nothing (then only history and names in the text can rank)."""
    print("\n== by signal (default weights; tasks, top-1 / top-3)")
    for label, suggester in settings:
        channels = cached[id(suggester)]
        rank_list = ranks(suggester, cases, suggester.weights, channels)
        groups: dict[str, list[int]] = {}
        for ch, r in zip(channels, rank_list, strict=True):
            if ch is None:
                kind = "empty text"
            elif max(ch.domain_name + ch.domain_mandate, default=0) > 0:
                kind = "lexicon terms"
            elif max(ch.word + ch.phrase, default=0) > 0:
                kind = "mandate words only"
            else:
                kind = "no signal (history/names)"
            groups.setdefault(kind, []).append(r)
        cells = ", ".join(
            "{}: {} tasks {:.3f} / {:.3f}".format(k, len(v), *accuracy(v)) for k, v in sorted(groups.items())
        )
        print(f"{label}: {cells}")


def ablation(settings: Any, cases: list[Case], cached: dict[int, list[Any]]) -> None:
    """Top-1/top-3 with each part of the scorer switched on (from the old scorer) and off."""
    from qiantou.allocation.suggestion import DEFAULT_WEIGHTS as final

    old = final.replace(domain=0.0, trigram=0.0, office_host=False, enterprise=1.0)
    rows = [
        ("before: mandate words, bigrams, phrases, names", old),
        (
            "  + government-function lexicon",
            old.replace(domain=final.domain, mandate_domain=final.mandate_domain),
        ),
        ("  + character trigrams", old.replace(trigram=final.trigram or 0.5)),
        ("  + office-vs-host rule", old.replace(office_host=True)),
        ("  + enterprise prior", old.replace(enterprise=final.enterprise)),
        ("final (default weights)", final),
        ("  − lexicon", final.replace(domain=0.0)),
        ("  − lexicon domains held through mandates", final.replace(mandate_domain=0.0)),
        (
            "  − trigrams" if final.trigram else "  + trigrams 0.5",
            final.replace(trigram=0.0 if final.trigram else 0.5),
        ),
        ("  − office-vs-host rule", final.replace(office_host=False)),
        ("  − enterprise prior", final.replace(enterprise=1.0)),
        ("  − word channel", final.replace(word=0.0)),
        ("  − bigram channel", final.replace(bigram=0.0)),
        ("  − phrase channel", final.replace(phrase=0.0)),
        ("  − named-in-text boost", final.replace(named=0.0)),
    ]
    print("\n== ablation (each row: top-1 / top-3)")
    print(f"{'':50} {'mandates only':>15} {'with history':>15}")
    for label, weights in rows:
        cells = []
        for _, suggester in settings:
            t1, t3 = accuracy(ranks(suggester, cases, weights, cached[id(suggester)]))
            cells.append(f"{t1:.3f} / {t3:.3f}")
        print(f"{label:50} {cells[0]:>15} {cells[1]:>15}")


GRID = {
    "domain": (1.0, 2.0, 4.0, 6.0, 8.0, 12.0),
    "mandate_domain": (0.25, 0.5, 1.0),
    "trigram": (0.0, 0.5),
    "enterprise": (1.0, 0.8, 0.6),
}


def tune(settings: Any, cases: list[Case], cached: dict[int, list[Any]]) -> None:
    """In-sample best grid point and leave-one-plan-out tuning (choose on 13 plans, score the 14th)."""
    import itertools

    from qiantou.allocation.suggestion import DEFAULT_WEIGHTS

    plans = sorted({c[0] for c in cases})
    names = list(GRID)
    grid = [DEFAULT_WEIGHTS.replace(**dict(zip(names, values, strict=True)))
            for values in itertools.product(*(GRID[k] for k in names))]
    print(f"\n== tuning over {len(grid)} grid points ({', '.join(f'{k} ∈ {v}' for k, v in GRID.items())})")
    for label, suggester in settings:
        per_point: list[dict[str, tuple[int, int, int]]] = []
        for weights in grid:
            rank_list = ranks(suggester, cases, weights, cached[id(suggester)])
            by_plan: dict[str, tuple[int, int, int]] = {}
            for (plan, *_), r in zip(cases, rank_list, strict=True):
                n, one, three = by_plan.get(plan, (0, 0, 0))
                by_plan[plan] = (n + 1, one + (r == 1), three + (1 <= r <= 3))
            per_point.append(by_plan)

        def objective(point: dict[str, tuple[int, int, int]], keep: list[str]) -> int:
            return sum(point[p][1] + point[p][2] for p in keep)

        best = max(range(len(grid)), key=lambda g: objective(per_point[g], plans))
        n = len(cases)
        in1 = sum(per_point[best][p][1] for p in plans) / n
        in3 = sum(per_point[best][p][2] for p in plans) / n
        default = grid.index(DEFAULT_WEIGHTS) if DEFAULT_WEIGHTS in grid else None
        lopo1 = lopo3 = 0
        chosen: dict[str, int] = {}
        for held in plans:
            others = [p for p in plans if p != held]
            pick = max(range(len(grid)), key=lambda g, o=others: objective(per_point[g], o))  # type: ignore[misc]
            lopo1 += per_point[pick][held][1]
            lopo3 += per_point[pick][held][2]
            key = ", ".join(f"{k}={getattr(grid[pick], k)}" for k in names)
            chosen[key] = chosen.get(key, 0) + 1
        print(f"\n-- {label}")
        if default is not None:
            d1 = sum(per_point[default][p][1] for p in plans) / n
            d3 = sum(per_point[default][p][2] for p in plans) / n
            print(f"default weights:                         top-1 {d1:.3f}  top-3 {d3:.3f}")
        print(f"best grid point on all plans (in-sample): top-1 {in1:.3f}  top-3 {in3:.3f}  "
              f"({', '.join(f'{k}={getattr(grid[best], k)}' for k in names)})")
        print(f"leave-one-plan-out tuned:                top-1 {lopo1 / n:.3f}  top-3 {lopo3 / n:.3f}")
        for key, count in sorted(chosen.items(), key=lambda kv: -kv[1]):
            print(f"   chosen in {count:2d} of {len(plans)} folds: {key}")


def robustness(profiles: list[Any], cases: list[Case], history: list[tuple[str, str, str]]) -> None:
    """Stress checks: plan-unique lexicon terms removed per plan; a directory without mandates.

    Scored for the default weights and for other weights of the lexicon channel, so the price of
    leaning on the lexicon when its vocabulary misses is visible."""
    from dataclasses import replace

    from qiantou.allocation.domains import Domain, DomainLexicon, default_lexicon
    from qiantou.allocation.suggestion import DEFAULT_WEIGHTS, LeadSuggester, normalize_text

    variants = [DEFAULT_WEIGHTS] + [
        DEFAULT_WEIGHTS.replace(domain=d) for d in (0.0, 1.0, 2.0, 4.0, 8.0) if d != DEFAULT_WEIGHTS.domain
    ]
    lexicon = default_lexicon()
    mandates = " ".join(normalize_text(p.mandate) for p in profiles)
    plans = sorted({c[0] for c in cases})
    plan_terms: dict[str, set[str]] = {
        p: {t for c in cases if c[0] == p for t in lexicon.match(normalize_text(c[2]))} for p in plans
    }
    reduced_ranks: dict[tuple[bool, int], list[int]] = {}
    removed_total = 0
    for held in plans:
        elsewhere = set().union(*(plan_terms[p] for p in plans if p != held))
        unique = {t for t in plan_terms[held] if t not in elsewhere and t not in mandates}
        removed_total += len(unique)
        reduced = DomainLexicon(
            [Domain(d.key, d.name, d.markers, tuple(t for t in d.terms if t not in unique))
             for d in lexicon.domains],
            lexicon.coordination,
        )
        held_cases = [c for c in cases if c[0] == held]
        for with_history in (False, True):
            suggester = LeadSuggester(profiles, history if with_history else (), lexicon=reduced)
            channels = [suggester.channels(text, plan) for plan, _no, text, _code in held_cases]
            for v, weights in enumerate(variants):
                reduced_ranks.setdefault((with_history, v), []).extend(
                    ranks(suggester, held_cases, weights, channels)
                )
    blank_ranks: dict[tuple[bool, int], list[int]] = {}
    blank = [replace(p, mandate="") for p in profiles]
    for with_history in (False, True):
        suggester = LeadSuggester(blank, history if with_history else ())
        channels = [suggester.channels(text, plan) for plan, _no, text, _code in cases]
        for v, weights in enumerate(variants):
            blank_ranks[(with_history, v)] = ranks(suggester, cases, weights, channels)
    print(f"\n== robustness (top-1 / top-3; {removed_total} plan-unique lexicon terms removed over "
          f"{len(plans)} plans)")
    print(f"{'':28} {'lexicon w/o plan-unique terms':>32} {'directory without mandates':>32}")
    print(f"{'':28} {'mandates only':>15} {'with history':>16} {'mandates only':>15} {'with history':>16}")
    for v, weights in enumerate(variants):
        label = f"domain={weights.domain}" + (" (default)" if v == 0 else "")
        cells = [
            "{:.3f} / {:.3f}".format(*accuracy(table[(h, v)]))
            for table in (reduced_ranks, blank_ranks)
            for h in (False, True)
        ]
        print(f"{label:28} {cells[0]:>15} {cells[1]:>16} {cells[2]:>15} {cells[3]:>16}")


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
