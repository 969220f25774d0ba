"""Scoring the importer against labelled plans (the label schema of ``tests/fixtures/cases/README.md``).

Tasks are matched to labels by number + the first characters of the text (``text_start``); a label
whose number was destroyed (``no: null``) is matched by the longest run of text they share. Unit
names are compared after :func:`qiantou.textnorm.normalize_name` with ``vocabulary=True`` on both
sides. ``implicit_cooperating`` units count as cooperating; ``optional_units`` are accepted present
or absent; an ``ambiguous`` task accepts all units as leads or the first listed as the lead.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qiantou.planparse.document import ParsedPlan, ParsedTask
from qiantou.textnorm import normalize_name

__all__ = ["DocScore", "Totals", "score_plan"]

_VERB_TAIL_RE = re.compile(r"^[\u4e00-\u9fff]{0,8}$")


def _n(text: str | None) -> str:
    return normalize_name(text or "", vocabulary=True)


def _text_key(text: str) -> str:
    t = unicodedata.normalize("NFKC", normalize_name(text, vocabulary=True))
    return re.sub(r"[\s\"“”'‘’]", "", t)


def deadline_matches(expected: str | None, emitted: str | None) -> bool:
    """Printed deadline text equal after normalisation, tolerating a trailing verb (…前完成, …前报送)."""
    if not expected:
        return not emitted
    if not emitted:
        return False
    e, g = _text_key(expected), _text_key(emitted)
    if e == g:
        return True
    return g.startswith(e) and bool(_VERB_TAIL_RE.match(g[len(e) :]))


@dataclass
class Counts:
    """True positives, false positives and false negatives of unit names."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, expected: list[str], got: list[str]) -> None:
        """Count one task's units (sets of normalised names)."""
        e, g = set(expected), set(got)
        self.tp += len(e & g)
        self.fp += len(g - e)
        self.fn += len(e - g)

    @property
    def f1(self) -> float:
        """F1 of the counts (1.0 when there was nothing to find and nothing was found)."""
        if self.tp == 0:
            return 1.0 if self.fp == 0 and self.fn == 0 else 0.0
        p = self.tp / (self.tp + self.fp)
        r = self.tp / (self.tp + self.fn)
        return 2 * p * r / (p + r)


@dataclass
class DocScore:
    """One document's figures and the mismatches behind them."""

    name: str
    labels: int = 0
    emitted: int = 0
    matched: int = 0
    lead: Counts = field(default_factory=Counts)
    coop: Counts = field(default_factory=Counts)
    deadlines_ok: int = 0
    spurious: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        """Share of labelled tasks the importer found."""
        return self.matched / self.labels if self.labels else 1.0

    @property
    def deadline_accuracy(self) -> float:
        """Share of labelled tasks whose deadline text is right (missing tasks count as wrong)."""
        return self.deadlines_ok / self.labels if self.labels else 1.0


@dataclass
class Totals:
    """Micro-averaged figures over several documents."""

    docs: list[DocScore]

    @property
    def recall(self) -> float:
        """Task recall."""
        labels = sum(d.labels for d in self.docs)
        return sum(d.matched for d in self.docs) / labels if labels else 1.0

    def _counts(self, which: str) -> Counts:
        c = Counts()
        for d in self.docs:
            x = getattr(d, which)
            c.tp += x.tp
            c.fp += x.fp
            c.fn += x.fn
        return c

    @property
    def lead_f1(self) -> float:
        """Lead-unit F1."""
        return self._counts("lead").f1

    @property
    def coop_f1(self) -> float:
        """Cooperating-unit F1."""
        return self._counts("coop").f1

    @property
    def deadline_accuracy(self) -> float:
        """Deadline accuracy."""
        labels = sum(d.labels for d in self.docs)
        return sum(d.deadlines_ok for d in self.docs) / labels if labels else 1.0

    @property
    def spurious(self) -> int:
        """Emitted tasks that match no label."""
        return sum(d.spurious for d in self.docs)


def _lcs(a: str, b: str) -> int:
    """Length of the longest common substring."""
    best = 0
    prev = [0] * (len(b) + 1)
    for ca in a:
        cur = [0] * (len(b) + 1)
        for j, cb in enumerate(b, 1):
            if ca == cb:
                cur[j] = prev[j - 1] + 1
                best = max(best, cur[j])
        prev = cur
    return best


def _start_key(text_start: str) -> str:
    # A text_start cut after 15 characters may end inside a pinyin annotation ("網(w"): drop the stub.
    return _text_key(re.sub(r"[(（][a-zA-Zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]*$", "", text_start))


def _match(labels: list[dict[str, Any]], tasks: list[ParsedTask]) -> dict[int, int]:
    """label index → task index."""
    pairs: dict[int, int] = {}
    used: set[int] = set()
    keys = [_text_key(t.text) for t in tasks]
    nos = [_n(t.no) if t.no else None for t in tasks]
    for i, label in enumerate(labels):
        start = _start_key(label["text_start"])
        want = _n(label["no"]) if label.get("no") else None
        for j in range(len(tasks)):
            if j in used or (want is not None and nos[j] != want):
                continue
            if keys[j].startswith(start):
                pairs[i] = j
                used.add(j)
                break
    for i, label in enumerate(labels):
        if i in pairs:
            continue
        start = _start_key(label["text_start"])
        want = _n(label["no"]) if label.get("no") else None
        best, best_j, same_no = 0, None, False
        for j in range(len(tasks)):
            if j in used or (want is not None and nos[j] is not None and nos[j] != want):
                continue
            score = _lcs(start, keys[j][: len(start) + 10])
            if score > best:
                best, best_j, same_no = score, j, want is not None and nos[j] == want
        # Same number and a shared run of text, or (number destroyed) a long shared run.
        if best_j is not None and (best >= 5 or (same_no and best >= 2)):
            pairs[i] = best_j
            used.add(best_j)
    return pairs


def score_plan(plan: ParsedPlan, label_file: Path) -> DocScore:
    """Score one parsed plan against its label file."""
    data = json.loads(label_file.read_text(encoding="utf-8"))
    labels: list[dict[str, Any]] = data["tasks"]
    score = DocScore(name=label_file.stem, labels=len(labels), emitted=len(plan.tasks))
    pairs = _match(labels, plan.tasks)
    score.matched = len(pairs)
    for i, label in enumerate(labels):
        lead = [_n(u) for u in label["lead"]]
        coop = [_n(u) for u in label["cooperating"]]
        coop += [
            _n(u) for u in label.get("implicit_cooperating", []) if _n(u) not in coop and _n(u) not in lead
        ]
        optional = {_n(u) for u in label.get("optional_units", [])}
        if i not in pairs:
            score.lead.fn += len(lead)
            score.coop.fn += len(coop)
            score.problems.append(f"missing {label['no']} {label['text_start']}")
            continue
        task = plan.tasks[pairs[i]]
        got_lead = [_n(u) for u in task.lead_units if _n(u) not in optional]
        got_coop = [_n(u) for u in task.cooperating_units if _n(u) not in optional]
        readings = [(lead, coop)]
        if label.get("ambiguous") and lead:
            readings.append((lead[:1], lead[1:] + coop))

        gl, gc = set(got_lead), set(got_coop)
        costs = [len(set(r[0]) ^ gl) + len(set(r[1]) ^ gc) for r in readings]
        exp_lead, exp_coop = readings[costs.index(min(costs))]
        score.lead.add(exp_lead, got_lead)
        score.coop.add(exp_coop, got_coop)
        if set(exp_lead) != set(got_lead) or set(exp_coop) != set(got_coop):
            score.problems.append(
                f"units {label['no']} {label['text_start'][:10]}: "
                f"lead {exp_lead}→{got_lead} coop {exp_coop}→{got_coop}"
            )
        ok = deadline_matches(label.get("deadline"), task.deadline.text)
        if not ok and not label.get("deadline") and label.get("deadline_in_text"):
            ok = deadline_matches(label["deadline_in_text"], task.deadline.text)
        if ok:
            score.deadlines_ok += 1
        else:
            score.problems.append(
                f"deadline {label['no']} {label['text_start'][:10]}: "
                f"{label.get('deadline')!r}→{task.deadline.text!r}"
            )
    matched_tasks = set(pairs.values())
    for j, task in enumerate(plan.tasks):
        if j not in matched_tasks:
            score.spurious += 1
            score.lead.fp += len(task.lead_units)
            score.coop.fp += len(task.cooperating_units)
            score.problems.append(f"spurious {task.no} {task.text[:20]}")
    return score
