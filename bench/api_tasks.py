"""Latency of the filtered task-list API over 100,000 tasks (issue 2 target: p95 ≤ 50 ms, 8 clients).

    .venv/bin/python bench/api_tasks.py                    # fresh SQLite database in a temp dir
    DATABASE_URL=postgres://qiantou:qiantou@127.0.0.1:5432/qiantou .venv/bin/python bench/api_tasks.py
                                                           # PostgreSQL: a scratch database
                                                           # ``<name>_api_bench``, dropped after
    .venv/bin/python bench/api_tasks.py --tasks 20000 --requests 400 --server runserver

Builds a city (units, 500 plans, N tasks with lead/cooperating units, users of several roles with
API tokens), starts a real server on 127.0.0.1 (``gunicorn`` with cores+1 sync workers by default,
or Django's threaded ``runserver``), then 8 concurrent clients request 50-row pages of
``GET /api/plans/tasks`` with the filters people use (my unit's open/overdue tasks, one plan, a
plan and a text search, overdue across the city) over bearer-token auth. Prints p50/p95/p99
latency per query kind and overall; exit status 1 when the overall p95 misses the target.

On PostgreSQL the scratch database gets ``random_page_cost = 1.1`` (the README's recommendation for
data in memory or on SSD). ``BENCH_GUNICORN="--worker-class=gthread --threads=2"`` tries another
gunicorn worker class.

Also printed: the server's CPU time per request (its processes' user+system time from /proc, which
does not depend on how busy the machine is) and the load average, since on a shared machine the
wall-clock latency mostly measures the other processes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_P95_MS = 50.0
PLANS = 500
UNITS = 240
POOL = 15  # units involved in one plan besides its lead unit
WORDS = ["数据", "低保", "养老", "安全生产", "营商环境", "乡村振兴", "信息共享", "督查", "台账", "培训"]


def _setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "qiantou.settings"
    import django

    django.setup()


def build_city(n_tasks: int, seed: int = 7) -> dict[str, Any]:
    """Units, plans, tasks and users; returns what the clients need (tokens, ids)."""
    from qiantou.accounts.models import Role, User
    from qiantou.accounts.services import api_token_create
    from qiantou.plans.models import DeadlineKind, Plan, PlanStatus, Task, TaskStatus, TaskUnit, TaskUnitRole
    from qiantou.units.models import Unit, UnitKind

    rng = random.Random(seed)
    gov = Unit.objects.create(code="G000", name="青山市人民政府", kind=UnitKind.GOVERNMENT)
    Unit.objects.bulk_create(
        [
            Unit(code=f"B{i:03d}", name=f"青山市第{i}局", parent=gov, kind=UnitKind.BUREAU)
            for i in range(UNITS)
        ]
    )
    units = list(Unit.objects.filter(kind=UnitKind.BUREAU).order_by("pk").values_list("pk", flat=True))
    # A few busy units lead many plans (as in a real city); the rest lead a few.
    weights = [30 if i < 5 else 3 if i < 40 else 1 for i in range(len(units))]
    statuses = [PlanStatus.ISSUED] * 7 + [PlanStatus.DRAFT, PlanStatus.CONSULTING, PlanStatus.CLOSED]
    Plan.objects.bulk_create(
        [
            Plan(
                title=f"青山市2026年{rng.choice(WORDS)}工作任务分工方案（{i}）",
                doc_number=f"青政办〔2026〕{i}号",
                issuing_unit_id=gov.pk,
                lead_unit_id=rng.choices(units, weights)[0],
                status=rng.choice(statuses),
                year=2026,
            )
            for i in range(PLANS)
        ],
        batch_size=1000,
    )
    plans = list(Plan.objects.order_by("pk").values_list("pk", "lead_unit_id"))
    per_plan = n_tasks // len(plans)
    start = dt.date(2026, 1, 1)
    tasks = []
    for plan_id, _lead in plans:
        for j in range(per_plan):
            top = j % 10 == 0
            tasks.append(
                Task(
                    plan_id=plan_id,
                    no=str(j // 10 + 1) if top else f"（{j % 10}）",
                    path=str(j // 10 + 1) if top else f"{j // 10 + 1}.{j % 10}",
                    position=j,
                    text=f"推进{rng.choice(WORDS)}相关工作，第{j}项，完善{rng.choice(WORDS)}机制并按时报送进展情况。",
                    deadline_text="6月底前",
                    deadline_kind=DeadlineKind.DATE,
                    deadline=start + dt.timedelta(days=rng.randrange(0, 540)),
                    status=rng.choices([TaskStatus.OPEN, TaskStatus.DONE, TaskStatus.CANCELLED], [70, 25, 5])[
                        0
                    ],
                    restricted=rng.random() < 0.02,
                )
            )
    t0 = time.perf_counter()
    Task.objects.bulk_create(tasks, batch_size=5000)
    task_rows = list(Task.objects.order_by("pk").values_list("pk", "plan_id", "position"))
    lead_of_plan = dict(plans)
    # Parents: every task points at the top-level task of its group of ten.
    parent_updates = []
    group_top: dict[tuple[int, int], int] = {}
    for pk, plan_id, pos in task_rows:
        if pos % 10 == 0:
            group_top[(plan_id, pos // 10)] = pk
        else:
            parent_updates.append(Task(pk=pk, parent_id=group_top[(plan_id, pos // 10)]))
    Task.objects.bulk_update(parent_updates, ["parent"], batch_size=5000)
    # Each plan involves a pool of units (a plan on elderly care names civil affairs, health, finance…,
    # not all 240 units): tasks draw their second lead and cooperating units from that pool.
    pools = {plan_id: rng.sample(units, POOL) for plan_id, _lead in plans}
    links = []
    for pk, plan_id, _pos in task_rows:
        lead_count = rng.choices([1, 2, 0], [92, 5, 3])[0]
        leads = [lead_of_plan[plan_id]] if lead_count else []
        if lead_count == 2:
            leads.append(rng.choice(pools[plan_id]))
        for i, unit_id in enumerate(leads):
            links.append(TaskUnit(task_id=pk, unit_id=unit_id, role=TaskUnitRole.LEAD, position=i))
        cooperating = rng.sample(pools[plan_id], rng.choice([0, 1, 2, 3, 4]))
        for i, unit_id in enumerate(u for u in cooperating if u not in leads):
            links.append(TaskUnit(task_id=pk, unit_id=unit_id, role=TaskUnitRole.COOPERATING, position=i))
    TaskUnit.objects.bulk_create(links, batch_size=10000)
    build_s = time.perf_counter() - t0

    office = Unit.objects.create(code="S000", name="青山市委督查室", kind=UnitKind.OFFICE, parent=gov)
    people: list[tuple[str, str, int | None]] = [
        ("handler_busy", Role.HANDLER, units[0]),
        ("handler_small", Role.HANDLER, units[60]),
        ("liaison_busy", Role.LIAISON, units[1]),
        ("liaison_a", Role.LIAISON, units[100]),
        ("liaison_b", Role.LIAISON, units[200]),
        ("head_a", Role.UNIT_HEAD, units[3]),
        ("supervision", Role.SUPERVISION_OFFICE, office.pk),
        ("auditor", Role.AUDITOR, None),
    ]
    users = []
    for username, role, member_of in people:
        user = User.objects.create(username=username, role=role, unit_id=member_of)
        _token, raw = api_token_create(actor=None, user=user, name="bench")
        users.append({"username": username, "role": role, "unit_id": member_of, "token": raw})
    return {
        "users": users,
        "units": units,
        "plans": [pk for pk, _ in plans],
        "led_plans": {u: [pk for pk, lead in plans if lead == u] for u in units},
        "tasks": len(task_rows),
        "links": len(links),
        "build_s": build_s,
    }


def request_mix(city: dict[str, Any], rng: random.Random) -> list[tuple[str, str, str]]:
    """(kind, token, path) triples: the filtered task lists the people of the city ask for."""
    out: list[tuple[str, str, str]] = []
    for user in city["users"]:
        token, unit = user["token"], user["unit_id"]
        mine = city["led_plans"].get(unit) or city["plans"]
        for _ in range(6):
            plan = rng.choice(mine)
            any_unit = rng.choice(city["units"])
            word = rng.choice(WORDS)
            if unit is not None:
                out.append(("my unit, open", token, f"/api/plans/tasks?unit={unit}&status=open"))
                out.append(("my unit, overdue", token, f"/api/plans/tasks?unit={unit}&overdue=true"))
                out.append(("my unit, page 3", token, f"/api/plans/tasks?unit={unit}&page=3"))
            out.append(("one plan", token, f"/api/plans/tasks?plan={plan}"))
            out.append(("plan + search", token, f"/api/plans/tasks?plan={plan}&q={quote(word)}"))
            out.append(("overdue, a unit", token, f"/api/plans/tasks?unit={any_unit}&overdue=true"))
            out.append(("everything visible", token, "/api/plans/tasks"))
            out.append(("search", token, f"/api/plans/tasks?q={quote(word)}&status=open"))
    rng.shuffle(out)
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(kind: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start the server process and wait until it answers."""
    if kind == "gunicorn":
        # Sync workers: one request at a time each, a process per core and one more for I/O waits.
        workers = str((os.cpu_count() or 2) + 1)
        cmd = [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            *os.environ.get("BENCH_GUNICORN", "--worker-class=sync").split(),
            "--log-level=warning",
            "qiantou.wsgi:application",
        ]
    else:
        cmd = [str(ROOT / ".venv" / "bin" / "qiantou"), "runserver", f"127.0.0.1:{port}", "--noreload"]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start within 60 s")


def run_clients(
    port: int, mix: list[tuple[str, str, str]], clients: int, total: int
) -> list[tuple[str, float]]:
    """``clients`` threads, each with a keep-alive connection, share ``total`` requests; returns timings."""
    timings: list[tuple[str, float]] = []
    lock = threading.Lock()
    counter = iter(range(total))
    errors: list[str] = []

    def worker() -> None:
        try:
            _work()
        except Exception as exc:  # a crash in a client thread must fail the run, not vanish
            errors.append(repr(exc))

    def _work() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        local: list[tuple[str, float]] = []
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            kind, token, path = mix[i % len(mix)]
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
                resp = conn.getresponse()
                body = resp.read()
            except (http.client.HTTPException, OSError):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
                resp = conn.getresponse()
                body = resp.read()
            elapsed = (time.perf_counter() - t0) * 1000
            if resp.status != 200:
                errors.append(f"{resp.status} {path}: {body[:200]!r}")
                continue
            if len(json.loads(body)["items"]) > 50:
                errors.append(f"more than 50 rows: {path}")
            local.append((kind, elapsed))
        conn.close()
        with lock:
            timings.extend(local)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"{len(errors)} failed requests, e.g. {errors[0]}")
    return timings


def server_cpu_seconds(pid: int) -> float:
    """User+system CPU seconds of process ``pid`` and its live children (Linux /proc)."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    return pids_cpu_seconds(pids)


def backend_pids(admin: dict[str, Any], dbname: str) -> list[int]:
    """The PostgreSQL backends connected to ``dbname`` (the web workers keep theirs for 60 s)."""
    import psycopg

    with psycopg.connect(dbname="postgres", autocommit=True, **admin) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [dbname]).fetchall()
    return [int(pid) for (pid,) in rows]


def pids_cpu_seconds(pids: list[int]) -> float:
    """User+system CPU seconds of processes ``pids`` (Linux /proc; a process gone counts 0)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def report(label: str, timings: list[tuple[str, float]], wall: float) -> bool:
    """Print the latency table; True when the overall p95 meets the target."""
    print(f"\n{label}: {len(timings)} requests in {wall:.1f} s ({len(timings) / wall:.0f} req/s)")
    print(f"{'query':<22}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    kinds = sorted({k for k, _ in timings})
    for kind in [*kinds, "ALL"]:
        values = [ms for k, ms in timings if kind in (k, "ALL")]
        print(
            f"{kind:<22}{len(values):>6}{statistics.median(values):>10.1f}{pct(values, 95):>10.1f}"
            f"{pct(values, 99):>10.1f}{max(values):>10.1f}"
        )
    overall = pct([ms for _, ms in timings], 95)
    ok = overall <= TARGET_P95_MS
    print(f"overall p95 {overall:.1f} ms — target ≤ {TARGET_P95_MS:.0f} ms: {'met' if ok else 'MISSED'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000, help="total requests (after a warm-up pass)")
    parser.add_argument("--server", choices=["gunicorn", "runserver"], default="gunicorn")
    parser.add_argument(
        "--data-dir",
        help="keep the city (SQLite: the database file; PostgreSQL: the scratch database, not dropped) "
        "and reuse it on the next run with the same directory",
    )
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    scratch: str | None = None
    admin: dict[str, Any] | None = None
    with tempfile.TemporaryDirectory(prefix="qiantou-bench-api-") as tmp:
        if args.data_dir:
            tmp = args.data_dir
            Path(tmp).mkdir(parents=True, exist_ok=True)
        saved = Path(tmp) / "bench_city.json"
        env = dict(os.environ, QIANTOU_DATA_DIR=tmp, QIANTOU_DEBUG="0", QIANTOU_LOG_LEVEL="ERROR")
        label = "SQLite"
        if url.startswith("postgres"):
            import dj_database_url
            import psycopg

            cfg = dj_database_url.parse(url)
            scratch = f"{cfg['NAME']}_api_bench"
            admin = dict(
                host=cfg["HOST"], port=cfg["PORT"] or 5432, user=cfg["USER"], password=cfg["PASSWORD"]
            )
            keep = bool(args.data_dir)
            if not (keep and saved.exists()):
                with psycopg.connect(dbname="postgres", autocommit=True, **(admin or {})) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
                    conn.execute(f'CREATE DATABASE "{scratch}"')
                    # As the README recommends for a server whose data sits in memory or on SSD.
                    conn.execute(f'ALTER DATABASE "{scratch}" SET random_page_cost = 1.1')
            env["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + scratch
            label = "PostgreSQL"
        server = None
        try:
            _setup_django(env)
            from django.core.management import call_command
            from django.db import connection

            t0 = time.perf_counter()
            call_command("migrate", verbosity=0)
            if saved.exists():
                city = json.loads(saved.read_text())
                city["led_plans"] = {int(k): v for k, v in city["led_plans"].items()}
            else:
                city = build_city(args.tasks)
                with connection.cursor() as cursor:
                    # Fresh statistics, as after any bulk load; on PostgreSQL also the visibility map
                    # that autovacuum would set soon after (index-only scans skip the table then).
                    cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
                if args.data_dir:
                    saved.write_text(json.dumps(city))
            connection.close()
            print(
                f"{label}: {city['tasks']:,} tasks, {city['links']:,} task-unit links, {PLANS} plans, "
                f"{UNITS} units; ready in {time.perf_counter() - t0:.1f} s"
            )
            mix = request_mix(city, random.Random(11))
            port = _free_port()
            server = start_server(args.server, port, env)
            run_clients(port, mix, args.clients, len(mix))  # warm-up: every query once
            cpu0, load0 = server_cpu_seconds(server.pid), os.getloadavg()[0]
            db_pids = backend_pids(admin, scratch) if scratch and admin else []
            db0 = pids_cpu_seconds(db_pids)
            own0 = time.process_time()
            t1 = time.perf_counter()
            timings = run_clients(port, mix, args.clients, args.requests)
            wall = time.perf_counter() - t1
            cpu1, load1 = server_cpu_seconds(server.pid), os.getloadavg()[0]
            db1 = pids_cpu_seconds(db_pids)
            own1 = time.process_time()
            ok = report(f"{label}, {args.server}, {args.clients} clients", timings, wall)
            print(
                f"server CPU per request {(cpu1 - cpu0) / len(timings) * 1000:.1f} ms; "
                f"load average {load0:.1f} → {load1:.1f} on {os.cpu_count()} CPUs; "
                f"the clients' own CPU per request {(own1 - own0) / len(timings) * 1000:.1f} ms"
            )
            if scratch:
                print(
                    f"PostgreSQL backends' CPU per request {(db1 - db0) / len(timings) * 1000:.1f} ms "
                    f"({len(db_pids)} backends of the web workers; on the same cores)"
                )
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=10)
            if scratch and admin and not args.data_dir:
                from django.db import connections

                connections.close_all()
                import psycopg

                with psycopg.connect(dbname="postgres", autocommit=True, **admin) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
