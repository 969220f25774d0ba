"""Backup during a write load, restore elsewhere: the restored record verifies up to the manifest's
head, and every write acknowledged before the backup began is there (row, audit event and file).

Runs the real commands in subprocesses against a scratch installation (its own data directory; on
PostgreSQL runs, two scratch databases), because a backup must cope with *other processes* writing.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
QIANTOU = [sys.executable, "-m", "qiantou.cli"]
WRITERS = 3

#: One writer: in one transaction a Unit row and an audit event naming a file written just before;
#: after the commit returns, append "<key> <time>" to its ack file — that write is acknowledged.
WRITER = r"""
import os, sys, time, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qiantou.settings")
django.setup()
from pathlib import Path
from django.conf import settings
from django.db import transaction
from qiantou.audit.services import audit_record
from qiantou.units.models import Unit
n, stop, acks = sys.argv[1], Path(sys.argv[2]), open(sys.argv[3], "a", buffering=1)
i = 0
while not stop.exists():
    key = f"w{n}-{i}"
    media = Path(settings.MEDIA_ROOT) / "load" / f"{key}.txt"
    media.parent.mkdir(parents=True, exist_ok=True)
    media.write_text(key)
    with transaction.atomic():
        unit = Unit.objects.create(code=key, name=f"负载单位{key}")
        audit_record(actor=None, action="ops.load", obj=unit, payload={"key": key, "file": f"load/{key}.txt"})
    acks.write(f"{key} {time.time()!r}\n")
    i += 1
"""


def run(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*QIANTOU, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    if check and done.returncode != 0:
        raise AssertionError(f"qiantou {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done


def environment(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["QIANTOU_DATA_DIR"] = str(data_dir)
    env["DJANGO_SETTINGS_MODULE"] = "qiantou.settings"
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def fresh_pg_database(name: str, *, drop_only: bool = False) -> str:
    """(Re)create scratch database ``name`` with the credentials of ``DATABASE_URL``; its URL."""
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(os.environ["DATABASE_URL"])
    with psycopg.connect(
        host=cfg["HOST"],
        port=cfg["PORT"],
        user=cfg["USER"],
        password=cfg["PASSWORD"],
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgres://{cfg['USER']}:{cfg['PASSWORD']}@{cfg['HOST']}:{cfg['PORT']}/{name}"


def restored_keys(env: dict[str, str]) -> tuple[set[str], set[str]]:
    """Unit codes and ``ops.load`` event keys in the restored database."""
    script = (
        "import json; from qiantou.units.models import Unit; from qiantou.audit.models import AuditEvent;"
        "print(json.dumps([list(Unit.objects.filter(code__startswith='w').values_list('code', flat=True)),"
        "[e['key'] for e in AuditEvent.objects.filter(action='ops.load')"
        ".values_list('payload', flat=True)]]))"
    )
    out = run(env, "shell", "-c", script).stdout.strip().splitlines()[-1]
    units, events = json.loads(out)
    return set(units), set(events)


def load_then_backup_then_restore(tmp_path: Path, source_url: str | None, target_url: str | None) -> None:
    source = environment(tmp_path / "source", source_url)
    run(source, "migrate", "-v0")
    stop = tmp_path / "stop"
    ack_files = [tmp_path / f"acks-{n}.txt" for n in range(WRITERS)]
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(n), str(stop), str(ack_files[n])],
            env=source,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(WRITERS)
    ]
    try:
        deadline = time.time() + 120
        while not all(_lines(f) >= 5 for f in ack_files):  # every writer is up and committing
            assert time.time() < deadline, "writers did not start"
            assert all(w.poll() is None for w in writers), [w.communicate() for w in writers]
            time.sleep(0.2)
        backup_started = time.time()
        out = run(source, "backup", "--out", str(tmp_path / "backup")).stdout
        time.sleep(1)  # writes go on after the backup too; none of them may be needed or leak in wrongly
    finally:
        stop.touch()
        outputs = [w.communicate(timeout=60) for w in writers]
    acked: dict[str, float] = {}
    for (_stdout, stderr), writer, ack_file in zip(outputs, writers, ack_files, strict=True):
        assert writer.returncode == 0, stderr
        for line in ack_file.read_text().splitlines():
            key, when = line.split()
            acked[key] = float(when)
    before = {k for k, t in acked.items() if t < backup_started}
    assert len(before) >= WRITERS * 3, f"the load was too light to mean anything: {len(before)} writes"
    assert len(acked) > len(before), "no write ran during/after the backup"
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    head = manifest["audit_head"]
    assert f"expect-head {head['seq']}:{head['hash']}" in out

    target = environment(tmp_path / "target", target_url)
    restored = run(target, "restore", str(tmp_path / "backup"))
    assert "audit chain verified" in restored.stdout
    verify = run(target, "audit", "verify", "--expect-head", f"{head['seq']}:{head['hash']}", check=False)
    assert verify.returncode == 0, verify.stderr
    assert f"head #{head['seq']} {head['hash']}" in verify.stdout
    units, events = restored_keys(target)
    # Every acknowledged write from before the backup is there: row, event and file.
    assert before <= units, sorted(before - units)[:5]
    assert before <= events, sorted(before - events)[:5]
    media = tmp_path / "target" / "media" / "load"
    assert all((media / f"{k}.txt").read_text() == k for k in before)
    # Row and event were one transaction: the snapshot never holds one without the other.
    assert units == events
    assert head["count"] == len(events)
    # The snapshot is a point in time: what it holds is exactly what was committed by then.
    assert units <= set(acked) | _in_flight(acked)


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def _in_flight(acked: dict[str, float]) -> set[str]:
    """Per writer, the one write that may have committed without printing its ack before stopping."""
    flight = set()
    for n in range(WRITERS):
        done = [k for k in acked if k.startswith(f"w{n}-")]
        flight.add(f"w{n}-{len(done)}")
    return flight


def test_backup_under_write_load_restores_every_acknowledged_write_sqlite(tmp_path: Path) -> None:
    load_then_backup_then_restore(tmp_path, None, None)
    # The SQLite copy is a single file that opens on its own.
    db = sqlite3.connect(tmp_path / "backup" / "database.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="needs DATABASE_URL=postgres://…"
)
def test_backup_under_write_load_restores_every_acknowledged_write_postgres(tmp_path: Path) -> None:
    source = fresh_pg_database("qiantou_security_ops_src")
    target = fresh_pg_database("qiantou_security_ops_dst")
    try:
        load_then_backup_then_restore(tmp_path, source, target)
    finally:
        for name in ("qiantou_security_ops_src", "qiantou_security_ops_dst"):
            fresh_pg_database(name, drop_only=True)


def test_a_damaged_backup_is_refused_before_anything_changes(tmp_path: Path) -> None:
    env = environment(tmp_path / "source", None)
    run(env, "migrate", "-v0")
    (tmp_path / "source" / "media").mkdir(parents=True, exist_ok=True)
    (tmp_path / "source" / "media" / "a.txt").write_text("原件")
    run(env, "backup", "--out", str(tmp_path / "backup"))
    (tmp_path / "backup" / "files" / "media" / "a.txt").write_text("改过")
    target = environment(tmp_path / "target", None)
    done = run(target, "restore", str(tmp_path / "backup"), check=False)
    assert done.returncode != 0 and "校验值不符" in done.stderr and "a.txt" in done.stderr
    assert not (tmp_path / "target" / "media" / "a.txt").exists()
    # A backup into a non-empty directory is refused too.
    again = run(env, "backup", "--out", str(tmp_path / "backup"), check=False)
    assert again.returncode != 0 and "不为空" in again.stderr


def test_restore_refuses_to_overwrite_a_live_record_without_force(tmp_path: Path) -> None:
    env = environment(tmp_path / "source", None)
    run(env, "migrate", "-v0")
    run(
        env,
        "shell",
        "-c",
        "from qiantou.audit.services import audit_record; audit_record(actor=None, action='x')",
    )
    run(env, "backup", "--out", str(tmp_path / "backup"))
    done = run(env, "restore", str(tmp_path / "backup"), check=False)
    assert done.returncode != 0 and "--force" in done.stderr
    forced = run(env, "restore", str(tmp_path / "backup"), "--force")
    assert "audit chain verified: 1 events" in forced.stdout
