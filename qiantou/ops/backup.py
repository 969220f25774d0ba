"""Consistent backups of a running Qiantou, and restoring them (``qiantou backup`` / ``qiantou restore``).

A backup is a directory:

- ``database.sqlite3`` — SQLite's online backup API, one step, so the copy is one consistent
  snapshot while writers go on (WAL readers do not block them); or ``database.pgdump`` — ``pg_dump
  -Fc`` of a snapshot exported by a REPEATABLE READ transaction, in which the audit chain head is
  read too, so the head in the manifest is exactly the dump's;
- ``files/media/…`` and ``files/matching/…`` — ``MEDIA_ROOT`` (uploaded attachments) and the
  data-check vault (installation keys, sealed run files), copied *after* the database snapshot, so
  every file a row in the snapshot names is already there (services write files before they commit);
- ``manifest.json`` — written last (a directory without it is not a backup): format, time, database
  vendor, SHA-256 and size of every file, the audit chain head (``seq``, ``hash``, ``count``) of the
  snapshot, and the applied migrations.

``restore`` checks every checksum first, then replaces the database and the file trees (the old
trees are kept beside as ``*.before-restore-<time>``), then verifies the audit chain against the
manifest's head: ``qiantou audit verify --expect-head SEQ:HASH`` passes on the restored system.

The backup holds personal data and the data-check keys: keep it as protected as the server.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections
from django.utils import timezone

FORMAT = "qiantou-backup"
VERSION = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
_HEAD_SQL = (
    "SELECT seq, hash, (SELECT count(*) FROM audit_auditevent)"
    " FROM audit_auditevent ORDER BY seq DESC LIMIT 1"
)
GENESIS = "0" * 64


class BackupError(Exception):
    """A backup cannot be made or restored; the message says which file or step and why."""


def file_roots() -> dict[str, Path]:
    """The file trees a backup carries: name in the backup → directory on this installation."""
    return {"media": Path(settings.MEDIA_ROOT), "matching": Path(settings.DATA_DIR) / "matching"}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _walk(root: Path) -> Iterator[Path]:
    if not root.exists():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.endswith(".tmp"):
            yield path


def _head(row: Any) -> dict[str, Any]:
    if not row:
        return {"seq": 0, "hash": GENESIS, "count": 0}
    return {"seq": int(row[0]), "hash": str(row[1]), "count": int(row[2])}


def _pg_env(db: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    args = ["-h", str(db.get("HOST") or "localhost"), "-p", str(db.get("PORT") or 5432)]
    args += ["-U", str(db.get("USER") or ""), "-d", str(db["NAME"])]
    env = {**os.environ, "PGPASSWORD": str(db.get("PASSWORD") or "")}
    return args, env


def _migrations(using: str) -> dict[str, str]:
    from django.db.migrations.recorder import MigrationRecorder

    latest: dict[str, str] = {}
    for app, name in (
        MigrationRecorder(connections[using]).migration_qs.order_by("id").values_list("app", "name")
    ):
        latest[app] = name
    return latest


@dataclass
class BackupResult:
    """Where the backup went and what it holds."""

    path: Path
    manifest: dict[str, Any]


def backup_create(out: Path, *, using: str = "default") -> BackupResult:
    """Write a consistent backup of database ``using`` and the file trees into the new directory ``out``.

    Raises ``BackupError`` when ``out`` exists and is not empty, or a step fails (pg_dump's message).
    """
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise BackupError(f"{out}: 目录已存在且不为空，请指定新目录")
    out.mkdir(parents=True, exist_ok=True)
    started = timezone.now()
    connection = connections[using]
    vendor = connection.vendor
    if vendor == "sqlite":
        db_file = out / SQLITE_FILE
        connection.ensure_connection()
        target = sqlite3.connect(db_file)
        try:
            # pages=-1: the whole database in one step — one read transaction, one snapshot.
            connection.connection.backup(target, pages=-1)  # type: ignore[union-attr]
            head = _head(target.execute(_HEAD_SQL).fetchone())
        finally:
            target.close()
    elif vendor == "postgresql":
        db_file = out / PG_FILE
        head = _pg_dump(connection.settings_dict, db_file)
    else:
        raise BackupError(f"不支持的数据库：{vendor}")
    files = []
    for name, root in file_roots().items():
        for path in _walk(root):
            rel = path.relative_to(root)
            dest = out / "files" / name / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)
            files.append(
                {
                    "path": f"files/{name}/{rel.as_posix()}",
                    "bytes": dest.stat().st_size,
                    "sha256": _sha256(dest),
                }
            )
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "started_at": started.isoformat(),
        "finished_at": timezone.now().isoformat(),
        "vendor": vendor,
        "database": {"path": db_file.name, "bytes": db_file.stat().st_size, "sha256": _sha256(db_file)},
        "audit_head": head,
        "files": files,
        "migrations": _migrations(using),
    }
    tmp = out / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(out / MANIFEST)
    for path in [out, *out.rglob("*")]:
        path.chmod(0o700 if path.is_dir() else 0o600)
    return BackupResult(out, manifest)


def _pg_dump(db: dict[str, Any], dest: Path) -> dict[str, Any]:
    """Dump a snapshot that a REPEATABLE READ transaction exports, reading the audit head in it."""
    import psycopg

    args, env = _pg_env(db)
    with psycopg.connect(
        host=db.get("HOST") or "localhost",
        port=db.get("PORT") or 5432,
        user=db.get("USER"),
        password=db.get("PASSWORD"),
        dbname=db["NAME"],
        autocommit=True,
    ) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        row = conn.execute("SELECT pg_export_snapshot()").fetchone()
        assert row is not None
        snapshot = str(row[0])
        head = _head(conn.execute(_HEAD_SQL).fetchone())
        done = subprocess.run(
            [
                "pg_dump",
                *args,
                "-Fc",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                "-f",
                str(dest),
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        conn.execute("COMMIT")
    if done.returncode != 0:
        raise BackupError(f"pg_dump 失败：{done.stderr.strip()}")
    return head


def read_manifest(src: Path) -> dict[str, Any]:
    """The manifest of backup ``src`` after checking every file's size and SHA-256; raises ``BackupError``."""
    src = Path(src)
    try:
        manifest = json.loads((src / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{src}: 没有 {MANIFEST}，不是完整的备份") from None
    except (ValueError, OSError) as exc:
        raise BackupError(f"{src / MANIFEST}: 无法读取（{exc}）") from None
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BackupError(f"{src / MANIFEST}: 不是本系统的备份格式")
    for entry in [manifest["database"], *manifest["files"]]:
        path = src / entry["path"]
        if not path.is_file():
            raise BackupError(f"{path}: 备份中缺少此文件")
        if path.stat().st_size != entry["bytes"] or _sha256(path) != entry["sha256"]:
            raise BackupError(f"{path}: 校验值不符，备份已损坏或被改动")
    return manifest


def _has_data(using: str) -> bool:
    connection = connections[using]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM audit_auditevent LIMIT 1")
            return cursor.fetchone() is not None
    except Exception:  # no table yet: an empty database
        return False


def backup_restore(src: Path, *, using: str = "default", force: bool = False) -> dict[str, Any]:
    """Restore backup ``src`` into database ``using`` and the file trees, then verify the audit chain.

    Refuses (``BackupError``) a damaged backup, another database vendor, or a target that already
    holds a record unless ``force``. Returns the manifest plus ``verified`` (the chain check's result).
    The system should be stopped while this runs.
    """
    src = Path(src)
    manifest = read_manifest(src)
    connection = connections[using]
    if manifest["vendor"] != connection.vendor:
        raise BackupError(f"备份来自 {manifest['vendor']}，当前数据库是 {connection.vendor}")
    if not force and _has_data(using):
        raise BackupError("目标数据库已有审计记录；确认覆盖请加 --force")
    db_file = src / manifest["database"]["path"]
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        source = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
        try:
            source.backup(connection.connection, pages=-1)  # type: ignore[arg-type]
        finally:
            source.close()
    else:
        _pg_restore(connection, db_file)
    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    for root in file_roots().values():
        if root.exists():
            root.rename(root.with_name(f"{root.name}.before-restore-{stamp}"))
        root.mkdir(parents=True, exist_ok=True)
    for entry in manifest["files"]:
        _, name, rel = entry["path"].split("/", 2)
        dest = file_roots()[name] / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / entry["path"], dest)
    matching = file_roots()["matching"]
    for path in [*matching.rglob("*")] if matching.exists() else []:
        path.chmod(0o700 if path.is_dir() else 0o600)
    from qiantou.audit.verification import verify_chain

    result = verify_chain(using=using)
    head = manifest["audit_head"]
    ok = (
        result.ok
        and result.head_seq == head["seq"]
        and (head["seq"] == 0 or result.head_hash == head["hash"])
    )
    return {**manifest, "verified": ok, "verified_count": result.count}


def _pg_restore(connection: Any, dump: Path) -> None:
    """Empty the target schema and load the dump in one transaction (the audit triggers come with it)."""
    args, env = _pg_env(connection.settings_dict)
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE")
        cursor.execute("CREATE SCHEMA public")
    connection.close()
    done = subprocess.run(
        [
            "pg_restore",
            *args,
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            str(dump),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore 失败：{done.stderr.strip()}")


def describe(manifest: dict[str, Any]) -> str:
    """One line for the console: time, vendor, head and counts."""
    head = manifest["audit_head"]
    return (
        f"{manifest['vendor']} {manifest['started_at']} · audit head #{head['seq']} {head['hash']}"
        f" ({head['count']} events) · {len(manifest['files'])} files"
    )


def parse_time(text: str) -> dt.datetime:
    """An ISO time from a manifest."""
    return dt.datetime.fromisoformat(text)
