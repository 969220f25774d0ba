"""Balancing proposal (issue 7, item 3): which cooperating units each task of a draft plan should
have so that no unit is buried — solved with OR-Tools CP-SAT.

Pure Python (no Django): :func:`solve` takes :class:`BalanceTask` and :class:`BalanceUnit` objects
and returns a :class:`BalanceResult`. The web and service layers build those from the database
(:mod:`qiantou.allocation.services`).

Model. A boolean ``x[t, u]`` for each task ``t`` that is not fixed and each *eligible* unit ``u``:

* eligible = not the task's lead, available, below its cap, and either a mandate fit ≥ the
  threshold for that task or explicitly allowed (by the handler for that task, or already printed
  as a cooperating unit of the task);
* each free task gets exactly ``need`` cooperating units (``sum_u x[t, u] == need``);
* ``load[u] = base[u] + sum_t weight[t] * x[t, u]`` (``base`` = the unit's load elsewhere plus this
  plan's lead tasks and fixed tasks, in the same weighted units) and ``load[u] ≤ cap[u]``;
* objective, lexicographic in two solves: (1) minimise the maximum load over the units that can
  receive work; (2) with that maximum fixed, minimise the spread (max − min) and, with a small
  weight, the number of changes from the printed cooperating units (so the diff stays small).

Reproducibility: ``random_seed`` and ``num_workers`` are fixed and ``interleave_search`` is on, so
the same input gives the same proposal. Weights are scaled to integers (hundredths).

Infeasible inputs raise nothing: the result has ``status == "infeasible"`` and ``problems`` naming
each task that cannot be covered and why (no eligible unit above the fit threshold, all at their
cap or unavailable), or — when every task has candidates but the caps are jointly too tight — the
capacity shortfall and the tasks competing for the same units.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

#: A task or unit key (a database id, or anything hashable in tests and benchmarks).
Key = Any

#: Weights are decimals (``Task.weight`` has two places); the model works in hundredths.
SCALE = 100
#: Default mandate-fit threshold (the suggester's relative score, 0–1).
DEFAULT_FIT_THRESHOLD = 0.2
#: Solver parameters: fixed for reproducible proposals.
RANDOM_SEED = 0
NUM_WORKERS = 2
#: Phase 1 stops once the maximum load is proven within this relative gap (issue 7: ≤ 1 %).
GAP_LIMIT = 0.01


@dataclass(frozen=True)
class BalanceUnit:
    """A unit that may receive work. ``base_load`` is already weighted (see the module docstring).

    ``cap``: the highest total load allowed (None = no cap); ``available``: False when the handler
    marked it unavailable (it keeps what it has and gets nothing more).
    """

    key: Key
    name: str
    base_load: float = 0.0
    cap: float | None = None
    available: bool = True


@dataclass(frozen=True)
class BalanceTask:
    """A task of the plan. ``fit`` maps unit key → mandate fit (0–1); ``allowed`` are units the handler
    allows regardless of fit; ``current`` the printed cooperating units; ``fixed`` tasks keep them.
    ``weight`` is the task's load for one cooperating unit (task weight × cooperating weight).
    """

    key: Key
    label: str
    lead: Key | None
    weight: float = 1.0
    need: int = 1
    fit: dict[Key, float] = field(default_factory=dict)
    allowed: frozenset[Key] = frozenset()
    current: tuple[Key, ...] = ()
    fixed: bool = False


@dataclass
class BalanceResult:
    """What the solver proposes.

    ``status``: ``optimal`` | ``feasible`` (time limit hit; ``gap`` is the relative gap of the
    maximum load) | ``infeasible`` (``problems`` says why) | ``empty`` (nothing to balance).
    ``assignment`` maps each free task key to its proposed cooperating unit keys (sorted by fit);
    ``loads`` each unit's load after the proposal; ``greedy_max_load`` the greedy baseline's maximum.
    """

    status: str
    assignment: dict[Key, tuple[Key, ...]] = field(default_factory=dict)
    loads: dict[Key, float] = field(default_factory=dict)
    max_load: float | None = None
    min_load: float | None = None
    bound: float | None = None
    gap: float | None = None
    greedy_max_load: float | None = None
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)


def _scaled(value: float) -> int:
    return round(value * SCALE)


def eligible_units(
    task: BalanceTask, units: dict[Key, BalanceUnit], threshold: float
) -> list[Key]:
    """Units that may cooperate on ``task``: not its lead, available, below cap, fit or allowed."""
    out = []
    for key, unit in units.items():
        if key == task.lead or not unit.available:
            continue
        if unit.cap is not None and unit.base_load + task.weight > unit.cap + 1e-9:
            continue
        if task.fit.get(key, 0.0) >= threshold or key in task.allowed or key in task.current:
            out.append(key)
    return out


def _why_uncoverable(
    task: BalanceTask, units: dict[Key, BalanceUnit], threshold: float, found: int
) -> str:
    fitting = [
        k for k, u in units.items()
        if k != task.lead and (task.fit.get(k, 0.0) >= threshold or k in task.allowed or k in task.current)
    ]
    if not fitting:
        reason = f"没有职责匹配度达到 {threshold:.2f} 或被允许的单位"
    else:
        blocked = [units[k].name for k in fitting if not units[k].available]
        capped = [units[k].name for k in fitting if units[k].available]
        parts = []
        if blocked:
            parts.append("不可用：" + "、".join(blocked[:6]))
        if capped:
            parts.append("已达上限：" + "、".join(capped[:6]))
        reason = "符合条件的单位均" + "；".join(parts)
    return f"任务“{task.label}”需要 {task.need} 个配合单位，可用 {found} 个（{reason}）"


def greedy(
    tasks: Sequence[BalanceTask], units: dict[Key, BalanceUnit], threshold: float
) -> tuple[dict[Key, tuple[Key, ...]], dict[Key, float]] | None:
    """Baseline: heaviest task first, each to its least-loaded eligible units; None if it gets stuck."""
    loads = {k: u.base_load for k, u in units.items()}
    for t in tasks:
        if t.fixed:
            for k in t.current:
                if k in loads:
                    loads[k] += t.weight
    out: dict[Key, tuple[Key, ...]] = {}
    for t in sorted((t for t in tasks if not t.fixed), key=lambda t: -t.weight):
        cands = [
            k for k in eligible_units(t, units, threshold)
            if units[k].cap is None or loads[k] + t.weight <= units[k].cap + 1e-9  # type: ignore[operator]
        ]
        cands.sort(key=lambda k: (loads[k], -t.fit.get(k, 0.0), str(k)))
        if len(cands) < t.need:
            return None
        chosen = tuple(cands[: t.need])
        for k in chosen:
            loads[k] += t.weight
        out[t.key] = chosen
    return out, loads


def solve(
    tasks: Sequence[BalanceTask],
    units: Sequence[BalanceUnit],
    *,
    fit_threshold: float = DEFAULT_FIT_THRESHOLD,
    time_limit: float = 10.0,
    change_weight: int = 1,
) -> BalanceResult:
    """Propose cooperating units for the free tasks (see the module docstring). Never raises on
    infeasible input: returns ``status="infeasible"`` with ``problems``."""
    started = time.perf_counter()
    by_key = {u.key: u for u in units}
    free = [t for t in tasks if not t.fixed and t.need > 0]
    if not free:
        return BalanceResult(status="empty", seconds=time.perf_counter() - started)
    candidates = {t.key: eligible_units(t, by_key, fit_threshold) for t in free}
    problems = [
        _why_uncoverable(t, by_key, fit_threshold, len(candidates[t.key]))
        for t in free
        if len(candidates[t.key]) < t.need
    ]
    if problems:
        return BalanceResult(status="infeasible", problems=problems, seconds=time.perf_counter() - started)

    base = {k: _scaled(u.base_load) for k, u in by_key.items()}
    for t in tasks:
        if t.fixed:
            for k in t.current:
                if k in base:
                    base[k] += _scaled(t.weight)
    pool = sorted({k for c in candidates.values() for k in c}, key=str)
    baseline = greedy(tasks, by_key, fit_threshold)

    from ortools.sat.python import cp_model  # heavy import: only when a proposal is asked for

    model = cp_model.CpModel()
    x: dict[tuple[Key, Key], Any] = {}
    incoming: dict[Key, list[tuple[int, Any]]] = {k: [] for k in pool}
    changes = []
    for t in free:
        w = _scaled(t.weight)
        row = []
        for k in candidates[t.key]:
            var = model.new_bool_var("")
            x[t.key, k] = var
            row.append(var)
            incoming[k].append((w, var))
            if k not in t.current:
                changes.append(var)
        model.add(cp_model.LinearExpr.sum(row) == t.need)
    upper = max(base[k] + sum(w for w, _ in incoming[k]) for k in pool)
    lower_any = min(base[k] for k in pool)
    max_load = model.new_int_var(max(base[k] for k in pool), upper, "max_load")
    min_load = model.new_int_var(lower_any, upper, "min_load")
    load_vars = {}
    for k in pool:
        cap = by_key[k].cap
        hi = upper if cap is None else min(upper, _scaled(cap))
        lv = model.new_int_var(base[k], max(hi, base[k]), f"load_{k}")
        terms = incoming[k]
        weighted = cp_model.LinearExpr.weighted_sum([v for _, v in terms], [w for w, _ in terms])
        model.add(lv == base[k] + weighted)
        model.add(lv <= max_load)
        model.add(lv >= min_load)
        load_vars[k] = lv
    total = sum(base[k] for k in pool) + sum(_scaled(t.weight) * t.need for t in free)
    model.add(max_load * len(pool) >= total)  # the average is a lower bound: helps the proof
    work = total - sum(base[k] for k in pool)
    model.add(max_load >= _water_level(pool, base, {k: by_key[k].cap for k in pool}, work))
    if baseline is not None:
        chosen = _improve(free, candidates, by_key, baseline)
        for (tk, k), var in x.items():
            model.add_hint(var, k in chosen[tk])

    built = time.perf_counter() - started
    solver = cp_model.CpSolver()
    solver.parameters.random_seed = RANDOM_SEED
    solver.parameters.num_workers = NUM_WORKERS
    solver.parameters.interleave_search = True
    solver.parameters.max_time_in_seconds = max(0.1, (time_limit - built) * 0.7)
    solver.parameters.relative_gap_limit = GAP_LIMIT / 2
    model.minimize(max_load)
    status1 = solver.solve(model)
    phase1 = time.perf_counter() - started - built
    if status1 == cp_model.INFEASIBLE:
        return BalanceResult(
            status="infeasible",
            problems=_capacity_problems(free, candidates, by_key, base),
            seconds=time.perf_counter() - started,
            greedy_max_load=None,
        )
    if status1 not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return BalanceResult(
            status="unknown",
            problems=["求解超时，未找到可行方案；请放宽上限或职责匹配阈值后重试。"],
            seconds=time.perf_counter() - started,
        )
    best_max = int(solver.objective_value)
    bound = float(solver.best_objective_bound)
    proven = status1 == cp_model.OPTIMAL
    first_assignment = {key: bool(solver.value(v)) for key, v in x.items()}

    # Phase 2: keep the maximum, minimise the spread, then the number of changes.
    model.add(max_load <= best_max)
    model.clear_hints()
    for key, var in x.items():
        model.add_hint(var, first_assignment[key])
    spread_weight = max(1, len(changes) * change_weight + 1)
    model.minimize(spread_weight * (max_load - min_load) + change_weight * cp_model.LinearExpr.sum(changes))
    solver.parameters.relative_gap_limit = 0.0
    elapsed = time.perf_counter() - started
    # Leave a margin for reading the answer back so the whole call stays within ``time_limit``.
    solver.parameters.max_time_in_seconds = max(0.1, 0.95 * time_limit - elapsed)
    status2 = solver.solve(model)
    if status2 in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        values = {key: bool(solver.value(v)) for key, v in x.items()}
    else:  # keep phase 1's answer
        values = first_assignment
    loads = {k: base[k] / SCALE for k in pool}
    weights = {t.key: t.weight for t in free}
    for (tk, k), on in values.items():
        if on:
            loads[k] += weights[tk]
    assignment: dict[Key, tuple[Key, ...]] = {}
    for t in free:
        picked = [k for k in candidates[t.key] if values[t.key, k]]
        picked.sort(key=lambda k: (-t.fit.get(k, 0.0), str(k)))
        assignment[t.key] = tuple(picked)
    max_value = best_max / SCALE
    gap = (best_max - bound) / best_max if best_max else 0.0
    return BalanceResult(
        status="optimal" if proven and gap == 0 else "feasible",
        assignment=assignment,
        loads=loads,
        max_load=max_value,
        min_load=min(loads.values()) if loads else None,
        bound=bound / SCALE,
        gap=gap,
        greedy_max_load=max(baseline[1][k] for k in pool) if baseline else None,
        seconds=time.perf_counter() - started,
        stats={
            "variables": len(x),
            "tasks": len(free),
            "units": len(pool),
            "spread_proven": status2 == cp_model.OPTIMAL,
            "build_seconds": round(built, 3),
            "phase1_seconds": round(phase1, 3),
        },
    )


def _improve(
    free: Sequence[BalanceTask],
    candidates: dict[Key, list[Key]],
    units: dict[Key, BalanceUnit],
    start: tuple[dict[Key, tuple[Key, ...]], dict[Key, float]],
    rounds: int = 20000,
) -> dict[Key, tuple[Key, ...]]:
    """Local search from the greedy answer (the solver's hint): move work off the most loaded unit
    to a lighter eligible one while that lowers the maximum."""
    chosen = {k: list(v) for k, v in start[0].items()}
    loads = dict(start[1])
    holding: dict[Key, list[BalanceTask]] = {}
    for t in free:
        for k in chosen[t.key]:
            holding.setdefault(k, []).append(t)
    for _ in range(rounds):
        top = max(holding, key=lambda k: loads[k], default=None)
        if top is None:
            break
        moved = False
        for t in sorted(holding[top], key=lambda t: -t.weight):
            best = None
            for k in candidates[t.key]:
                if k in chosen[t.key]:
                    continue
                cap = units[k].cap
                new = loads[k] + t.weight
                if new < loads[top] - 1e-9 and (cap is None or new <= cap + 1e-9):
                    if best is None or loads[k] < loads[best]:
                        best = k
            if best is not None:
                chosen[t.key][chosen[t.key].index(top)] = best
                loads[top] -= t.weight
                loads[best] += t.weight
                holding[top].remove(t)
                holding.setdefault(best, []).append(t)
                moved = True
                break
        if not moved:
            break
    return {k: tuple(v) for k, v in chosen.items()}


def _water_level(
    pool: Sequence[Key], base: dict[Key, int], caps: dict[Key, float | None], work: int
) -> int:
    """Lowest level L such that filling every unit up to L (within its cap) absorbs ``work``.

    A valid lower bound of the maximum load whatever the eligibility (it only relaxes it).
    """
    lo, hi = 0, max(base[k] for k in pool) + work
    while lo < hi:
        level = (lo + hi) // 2
        room = 0
        for k in pool:
            top = level if caps[k] is None else min(level, _scaled(caps[k]))  # type: ignore[arg-type]
            room += max(0, top - base[k])
        if room >= work:
            hi = level
        else:
            lo = level + 1
    return lo


def _capacity_problems(
    free: Sequence[BalanceTask],
    candidates: dict[Key, list[Key]],
    units: dict[Key, BalanceUnit],
    base: dict[Key, int],
) -> list[str]:
    """Explain a capacity infeasibility: groups of tasks whose eligible units lack room together."""
    problems: list[str] = []
    # Group tasks by their candidate set; a set whose spare capacity is below what its tasks need
    # cannot be covered, whatever the other tasks do.
    groups: dict[frozenset[Key], list[BalanceTask]] = {}
    for t in free:
        groups.setdefault(frozenset(candidates[t.key]), []).append(t)
    for cand in groups:
        members = [t for t in free if set(candidates[t.key]) <= cand]
        need = sum(_scaled(t.weight) * t.need for t in members)
        room = 0
        for k in cand:
            cap = units[k].cap
            room += need if cap is None else _scaled(cap) - base[k]
        if room < need:
            labels = "、".join(f"“{t.label}”" for t in members[:8])
            more = f"等{len(members)}项" if len(members) > 8 else ""
            names = "、".join(units[k].name for k in list(cand)[:6])
            problems.append(
                f"任务{labels}{more}只能由{names}配合，这些单位距上限合计仅余 {room / SCALE:g}，"
                f"而这些任务需要 {need / SCALE:g}"
            )
    if not problems:
        labels = "、".join(f"“{t.label}”" for t in free[:8])
        problems.append(f"各单位上限合计不足以覆盖全部任务（涉及{labels}等）；请提高上限或允许更多单位。")
    return problems
