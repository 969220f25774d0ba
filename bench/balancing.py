"""Speed and quality of the balancing proposal (issue 7 targets).

    .venv/bin/python bench/balancing.py

* **large** — 2,000 tasks × 150 units (a city's whole year of work): target ≤ 10 s with a proven
  optimum or a gap ≤ 1 % on the maximum load, printed beside a greedy baseline's maximum load.
* **plan** — a 40-task plan over the same 150 units: target ≤ 1 s.

Synthetic but shaped like real plans (fixed seed): units have a skewed existing load (a few
comprehensive departments carry much more), each task has a weight of 0.5–3 and needs 1–3
cooperating units, mandate fits are drawn so that each task has 6–20 units above the threshold,
a few units are unavailable or capped, and a tenth of the tasks are fixed by the handler.
Exit status 1 when a target is missed.
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qiantou.allocation.balancing import BalanceTask, BalanceUnit, solve


def instance(n_tasks: int, n_units: int, seed: int = 7) -> tuple[list[BalanceTask], list[BalanceUnit]]:
    """A reproducible synthetic instance."""
    rng = random.Random(seed)
    units = []
    for i in range(n_units):
        base = rng.paretovariate(2.5) * 4 - 4  # most units light, a few heavy
        unavailable = rng.random() < 0.03
        cap = base + rng.uniform(15, 40) if rng.random() < 0.1 else None
        units.append(
            BalanceUnit(key=i, name=f"单位{i}", base_load=round(base, 2), cap=cap, available=not unavailable)
        )
    tasks = []
    for t in range(n_tasks):
        lead = rng.randrange(n_units)
        k = rng.randint(6, 20)
        fitting = rng.sample([u for u in range(n_units) if u != lead], k)
        fit = {u: rng.uniform(0.25, 1.0) for u in fitting}
        for u in rng.sample(range(n_units), 5):
            fit.setdefault(u, rng.uniform(0.0, 0.19))
        need = rng.choice((1, 1, 1, 2, 2, 3))
        current = tuple(rng.sample(fitting, need))
        tasks.append(
            BalanceTask(
                key=t,
                label=f"任务{t + 1}",
                lead=lead,
                weight=rng.choice((0.5, 1, 1, 1, 1.5, 2, 3)),
                need=need,
                fit=fit,
                current=current,
                fixed=rng.random() < 0.1,
            )
        )
    return tasks, units


def run(name: str, n_tasks: int, n_units: int, limit: float) -> bool:
    tasks, units = instance(n_tasks, n_units)
    cpu = time.process_time()
    result = solve(tasks, units, time_limit=limit)
    cpu = time.process_time() - cpu
    ok = result.seconds <= limit and result.status in ("optimal", "feasible") and (result.gap or 0) <= 0.01
    print(
        f"{name:6} {n_tasks:5d} tasks × {n_units} units: {result.status:8} in {result.seconds:6.2f} s "
        f"(target ≤ {limit:g} s; CPU {cpu:.2f} s)  max load {result.max_load}  bound {result.bound}  "
        f"gap {100 * (result.gap or 0):.2f} %  | greedy max load {result.greedy_max_load}  "
        f"| spread {None if result.min_load is None else round(result.max_load - result.min_load, 2)}"  # type: ignore[operator]
        f"  vars {result.stats.get('variables')}"
    )
    if result.problems:
        print("   ", result.problems[:3])
    return ok


def main() -> int:
    print(
        f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
        "(wall time suffers when the machine is busy)"
    )
    ok = run("large", 2000, 150, 10.0)
    ok &= run("plan", 40, 150, 1.0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
