"""Benchmark of the data check (issue 8) against the group-operation limit measured in the same run.

    .venv/bin/python bench/matching.py                 # 1e5 roll x 1e5 registry, then 1e6 x 1e5
    .venv/bin/python bench/matching.py --size 20000    # a short run: 2e4 x 2e4 only
    .venv/bin/python bench/matching.py --size 100000 --large 0   # skip 1e6 x 1e5

1. Measures libsodium's ristretto255 scalar multiplications/s and hash-to-group (one-way map)/s
   with all cores busy (one tight ctypes loop per core, the least overhead Python allows).
2. Generates a roll and a registry with known truth (not timed), then times ``pipeline.run_local``:
   both sides, both keys per person, round files written to and read back from disk, RESULT.csv.
3. Limit = scalar mults needed / rate + hash-to-group needed / rate, with the counts the run
   actually performed (C: 2 h2g-and-blind per roll row + 1 unblind per real key; J: 1 evaluation per
   query + 1 h2g-and-mult per registry key). Prints time, ratio to the limit (targets: <= 1.3x for
   1e5 x 1e5, <= 1.5x for 1e6 x 1e5) and peak memory (parent + largest worker x workers).
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qiantou.matching import group, pipeline, synthetic
from qiantou.matching.protocol import Workers
from qiantou.matching.vault import Vault


def _rate_worker(args: tuple[str, float]) -> tuple[int, float, float]:
    op, seconds = args
    lib = group.lib()
    out = ctypes.create_string_buffer(32)
    a_out = ctypes.addressof(out)
    s = group.scalar_random()
    p = group.from_hash(os.urandom(64))
    h = os.urandom(64)
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    if op == "mult":
        f = lib.crypto_scalarmult_ristretto255
        while time.perf_counter() - t0 < seconds:
            for _ in range(200):
                f(a_out, s, p)
            n += 200
    else:
        f = lib.crypto_core_ristretto255_from_hash
        while time.perf_counter() - t0 < seconds:
            for _ in range(200):
                f(a_out, h)
            n += 200
    return n, time.perf_counter() - t0, time.process_time() - c0


@dataclass
class Rates:
    """Aggregate ops/s on all processes (wall clock), and CPU seconds per op (load-independent)."""

    mult: float
    h2g: float
    mult_cpu: float
    h2g_cpu: float

    @staticmethod
    def mean(a: Rates, b: Rates) -> Rates:
        return Rates(
            (a.mult + b.mult) / 2,
            (a.h2g + b.h2g) / 2,
            (a.mult_cpu + b.mult_cpu) / 2,
            (a.h2g_cpu + b.h2g_cpu) / 2,
        )


def measure_rates(pool: Any, procs: int, seconds: float) -> Rates:
    """Ops/s over ``procs`` concurrent processes for scalar mult and hash-to-group."""
    out = []
    for op in ("mult", "h2g"):
        res = pool.map(_rate_worker, [(op, seconds)] * procs, chunksize=1)
        out.append((sum(n / t for n, t, _ in res), sum(c for _, _, c in res) / sum(n for n, _, _ in res)))
    rates = Rates(out[0][0], out[1][0], out[0][1], out[1][1])
    print(
        f"  libsodium on {procs} processes: {rates.mult:,.0f} scalar mults/s, "
        f"{rates.h2g:,.0f} hash-to-group/s "
        f"(CPU per op {rates.mult_cpu * 1e6:.1f} us, {rates.h2g_cpu * 1e6:.1f} us)"
    )
    return rates


def _worker_stats(_: int) -> tuple[int, float, int]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    time.sleep(0.2)  # so that each worker of the pool takes one of these calls
    return os.getpid(), me.ru_utime + me.ru_stime, me.ru_maxrss


def _per_worker(workers: Workers) -> dict[int, tuple[float, int]]:
    if workers._pool is None:
        return {}
    stats = workers._pool.map(_worker_stats, range(workers.processes * 2), chunksize=1)
    return {pid: (cpu, rss) for pid, cpu, rss in stats}


def _cpu(workers: Workers) -> float:
    """CPU seconds of this process plus the (live) workers of ``workers``."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime + sum(cpu for cpu, _ in _per_worker(workers).values())


def _worker_peak_kb(workers: Workers) -> int:
    return max((rss for _, rss in _per_worker(workers).values()), default=0)


def _generate(work: Path, n_roll: int, n_registry: int) -> tuple[set[Any], set[Any], float]:
    """Write roll.csv and registry.csv into ``work``; return the expected RESULT rows (own process)."""
    t = time.perf_counter()
    shared = min(0.05, n_registry / max(n_roll, 1) / 4)
    ds = synthetic.generate(n_roll, n_registry, shared=shared, seed=n_roll)
    (work / "roll.csv").write_bytes(ds.roll_csv)
    (work / "registry.csv").write_bytes(ds.registry_csv)
    return ds.expected_id, ds.expected_candidates, time.perf_counter() - t


def run_isolated(n_roll: int, n_registry: int, procs: int, seconds: float) -> float:
    """:func:`run` in a fresh process, so its peak memory is its own and not the previous run's."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as ex:
        return ex.submit(run, n_roll, n_registry, procs, seconds).result()


def run(n_roll: int, n_registry: int, procs: int, seconds: float) -> float:
    """One timed local run between two rate measurements; returns the wall-clock ratio to the limit.

    The pools are forked, and the test data generated in another process, before this process reads
    anything (as the ``match`` command forks before reading its CSV files): the peak memory printed
    is the pipeline's own, not the generator's.
    """
    print(f"\n== roll {n_roll:,} x registry {n_registry:,} (both keys per person) ==", flush=True)
    rate_pool = multiprocessing.get_context("fork").Pool(procs)
    workers = Workers(procs).__enter__()
    with tempfile.TemporaryDirectory(prefix="qiantou-bench-") as tmp:
        work = Path(tmp)
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as ex:
            expected_id, expected_c, gen_s = ex.submit(_generate, work, n_roll, n_registry).result()
        print(f"generated test data in {gen_s:.1f} s (not timed)", flush=True)
        vault = Vault(work / "vault")
        vault.identity, vault.storage_key, vault.reference_key  # noqa: B018 - create keys untimed
        before = measure_rates(rate_pool, procs, seconds)
        cpu0 = _cpu(workers)
        t0 = time.perf_counter()
        req, resp, fin = pipeline.run_local(
            work / "roll.csv",
            work / "registry.csv",
            work / "RESULT.csv",
            vault=vault,
            workers=workers,
            workdir=work,
            as_of=synthetic.DEFAULT_AS_OF,
        )
        elapsed = time.perf_counter() - t0
        cpu = _cpu(workers) - cpu0
        worker_rss = _worker_peak_kb(workers)
        workers.__exit__(None, None, None)
        rates = Rates.mean(before, measure_rates(rate_pool, procs, seconds))
        rate_pool.close()
        rows = (work / "RESULT.csv").read_text(encoding="utf-8").splitlines()[1:]
    got_id = {tuple(r.split(",")) for r in rows if ",id," in r}
    expect_id = {(r[0], "id", r[1], r[2], r[3], str(r[4])) for r in expected_id}
    got_c = {tuple(r.split(",")) for r in rows if ",name_birth_candidate," in r}
    expect_c = {(r[0], "name_birth_candidate", r[1], r[2], r[3], str(r[4])) for r in expected_c}
    mults = sum(s.stats.values.get("scalar_mult", 0) for s in (req, resp, fin))
    h2gs = sum(s.stats.values.get("hash_to_group", 0) for s in (req, resp, fin))
    limit = mults / rates.mult + h2gs / rates.h2g
    ratio = elapsed / limit
    cpu_limit = mults * rates.mult_cpu + h2gs * rates.h2g_cpu
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = worker_rss
    print(f"group ops needed: {mults:,} scalar mults, {h2gs:,} hash-to-group")
    print(f"limit (rates averaged before/after): {limit:.1f} s   run: {elapsed:.1f} s   ratio: {ratio:.2f}x")
    print(
        f"CPU: run used {cpu:.1f} CPU-s for {cpu_limit:.1f} CPU-s of group operations: "
        f"{cpu / cpu_limit:.2f}x "
        f"(independent of other load on the machine; load average now {os.getloadavg()[0]:.1f})"
    )
    print(
        f"RESULT rows: {len(rows):,} (id {len(got_id):,}, candidates {len(got_c):,}); "
        f"id rows as expected: {got_id == expect_id}; candidates as expected: {got_c == expect_c}"
    )
    print(
        f"peak memory: parent {self_kb / 1024:.0f} MB, largest worker {child_kb / 1024:.0f} MB, "
        f"bound {(self_kb + procs * child_kb) / 1024:.0f} MB"
    )
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=100_000, help="roll and registry rows of the first run")
    parser.add_argument(
        "--large",
        type=int,
        default=1_000_000,
        help="roll rows of the second run against --size registry rows (0 to skip)",
    )
    parser.add_argument("--procs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per rate measurement")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    print(f"libsodium: {ctypes.util.find_library('sodium')}; {args.procs} processes")
    ratio = run_isolated(args.size, args.size, args.procs, args.seconds)
    print(f"target <= 1.3x: {'met' if ratio <= 1.3 else 'NOT met'}")
    if args.large:
        ratio = run_isolated(args.large, args.size, args.procs, args.seconds)
        print(f"target <= 1.5x: {'met' if ratio <= 1.5 else 'NOT met'}")


if __name__ == "__main__":
    main()
