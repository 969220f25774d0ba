"""Verifying the accountability record in the database (``qiantou audit verify``) and exporting it.

One streaming pass in ``seq`` order. The database computes, per row, whether the stored columns
still match the hashed body (SQLite JSON functions / PostgreSQL ``jsonb``) and whether rows are in
insertion and time order; Python recomputes every hash and follows the ``prev_hash`` links
(:class:`qiantou.audit.chain.ChainVerifier`). When the database cannot run that check (a body so
damaged PostgreSQL cannot parse it), the same comparisons run in Python instead (slower, same answers).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import nullcontext
from typing import IO, Any

from django.db import DatabaseError, connections, transaction
from django.utils import timezone

from qiantou.audit import chain, protection
from qiantou.audit.chain import GENESIS_HASH, ChainVerifier, VerifyResult
from qiantou.audit.models import AUDIT_TABLE

CHUNK = 5000

_COLS = "seq, alg, prev_hash, hash, body"

# Each WHEN names the first column that differs from the body; CASE evaluates in order, so the
# json_valid guard protects the JSON functions after it.
_SQLITE_CHECK = f"""
SELECT {_COLS},
  CASE
    WHEN NOT json_valid(body) THEN 'body'
    WHEN json_type(body) IS NOT 'array' OR json_array_length(body) != 10 THEN 'body'
    WHEN json_extract(body, '$[0]') IS NOT seq THEN 'fields:seq'
    WHEN json_extract(body, '$[9]') IS NOT prev_hash THEN 'fields:prev_hash'
    WHEN (CASE WHEN substr(json_extract(body, '$[1]'), 20, 7) = '.000000'
               THEN replace(substr(json_extract(body, '$[1]'), 1, 19), 'T', ' ')
               ELSE replace(substr(json_extract(body, '$[1]'), 1, 26), 'T', ' ') END) IS NOT created_at
         OR substr(json_extract(body, '$[1]'), 27) IS NOT '+00:00' THEN 'fields:created_at'
    WHEN json_extract(body, '$[2]') IS NOT actor_id THEN 'fields:actor_id'
    WHEN json_extract(body, '$[3]') IS NOT actor_name THEN 'fields:actor_name'
    WHEN json_extract(body, '$[4]') IS NOT actor_unit_id THEN 'fields:actor_unit_id'
    WHEN json_extract(body, '$[5]') IS NOT action THEN 'fields:action'
    WHEN json_extract(body, '$[6]') IS NOT object_type THEN 'fields:object_type'
    WHEN json_extract(body, '$[7]') IS NOT object_id THEN 'fields:object_id'
    WHEN payload IS NULL OR NOT json_valid(payload) THEN 'fields:payload'
    WHEN json_type(body, '$[8]') IS NOT 'object' OR json(payload) IS NOT json_extract(body, '$[8]')
         THEN 'fields:payload'
    WHEN id <= lag(id) OVER w OR created_at < lag(created_at) OVER w THEN 'order'
  END
FROM {AUDIT_TABLE}
WINDOW w AS (ORDER BY seq)
ORDER BY seq
"""

_PG_CHECK = f"""
SELECT {_COLS},
  CASE
    WHEN jsonb_typeof(b) IS DISTINCT FROM 'array' THEN 'body'
    WHEN jsonb_array_length(b) <> 10 THEN 'body'
    WHEN b->0 IS DISTINCT FROM to_jsonb(seq) THEN 'fields:seq'
    WHEN b->9 IS DISTINCT FROM to_jsonb(prev_hash) THEN 'fields:prev_hash'
    WHEN jsonb_typeof(b->1) IS DISTINCT FROM 'string' THEN 'fields:created_at'
    WHEN right(b->>1, 6) <> '+00:00' OR (b->>1)::timestamptz IS DISTINCT FROM created_at
         THEN 'fields:created_at'
    WHEN b->2 IS DISTINCT FROM coalesce(to_jsonb(actor_id), 'null'::jsonb) THEN 'fields:actor_id'
    WHEN b->3 IS DISTINCT FROM to_jsonb(actor_name) THEN 'fields:actor_name'
    WHEN b->4 IS DISTINCT FROM coalesce(to_jsonb(actor_unit_id), 'null'::jsonb) THEN 'fields:actor_unit_id'
    WHEN b->5 IS DISTINCT FROM to_jsonb(action) THEN 'fields:action'
    WHEN b->6 IS DISTINCT FROM to_jsonb(object_type) THEN 'fields:object_type'
    WHEN b->7 IS DISTINCT FROM to_jsonb(object_id) THEN 'fields:object_id'
    WHEN jsonb_typeof(b->8) IS DISTINCT FROM 'object' OR b->8 IS DISTINCT FROM payload THEN 'fields:payload'
    WHEN id <= lag(id) OVER w OR created_at < lag(created_at) OVER w THEN 'order'
  END
FROM (SELECT a.*, a.body::jsonb AS b FROM {AUDIT_TABLE} a) t
WINDOW w AS (ORDER BY seq)
ORDER BY seq
"""

# ``{created}``: SQLite's raw text (the concatenation escapes Django's datetime converter).
_RAW = f"""
SELECT {_COLS}, id, {{created}}, actor_id, actor_name, actor_unit_id, action, object_type, object_id,
       payload
FROM {AUDIT_TABLE} ORDER BY seq
"""


def _fetch(cursor: Any, sql: str) -> Iterator[list[tuple[Any, ...]]]:
    cursor.execute(sql)
    while rows := cursor.fetchmany(CHUNK):
        yield rows


def _sqlite_time(text: str) -> str:
    """SQLite's stored ``created_at`` text (Django: naive UTC) as the body holds it."""
    if "." not in text:
        text += ".000000"
    return text.replace(" ", "T") + "+00:00"


def _python_rows(cursor: Any, vendor: str) -> Iterator[list[tuple[Any, ...]]]:
    """The fallback: the same per-row checks as the SQL, in Python, from the raw columns."""
    prev_id: int | None = None
    prev_time: Any = None
    raw = _RAW.format(created="created_at || ''" if vendor == "sqlite" else "created_at")
    for rows in _fetch(cursor, raw):
        out = []
        for (
            seq,
            alg,
            prev_hash,
            hash_,
            body,
            id_,
            created,
            aid,
            aname,
            auid,
            action,
            otype,
            oid,
            payload,
        ) in rows:
            columns: dict[str, Any] = {
                "seq": seq,
                "prev_hash": prev_hash,
                "actor_id": aid,
                "actor_name": aname,
                "actor_unit_id": auid,
                "action": action,
                "object_type": otype,
                "object_id": oid,
            }
            mismatch: str | None = None
            try:
                columns["created_at"] = (
                    _sqlite_time(created) if vendor == "sqlite" else chain.format_time(created)
                )
            except (ValueError, TypeError, AttributeError):
                mismatch = "fields:created_at"
            if mismatch is None and isinstance(payload, str):  # SQLite text; Django loads jsonb as text too
                try:
                    payload = json.loads(payload)
                except (ValueError, TypeError):
                    mismatch = "fields:payload"
            if mismatch is None:
                mismatch = chain.check_fields(body, columns)
            if mismatch is None:
                fields = chain.body_fields(body)
                if not isinstance(fields["payload"], dict) or payload != fields["payload"]:
                    mismatch = "fields:payload"
            if mismatch is None and prev_id is not None and (id_ <= prev_id or created < prev_time):
                mismatch = "order"
            prev_id, prev_time = id_, created
            out.append((seq, alg, prev_hash, hash_, body, mismatch))
        yield out


def verify_chain(*, using: str = "default", fast: bool = True) -> VerifyResult:
    """Verify the whole chain in database ``using``; stops at the first broken event.

    ``fast=False`` forces the Python comparison of columns (used as the fallback, and by tests to
    check both paths agree). The result's ``notes`` say when a protection trigger is missing.
    """
    connection = connections[using]
    vendor = connection.vendor
    sql = _SQLITE_CHECK if vendor == "sqlite" else _PG_CHECK if vendor == "postgresql" else None
    result: VerifyResult | None = None
    if fast and sql is not None:
        try:
            result = _run(connection, lambda cursor: _fetch(cursor, sql))
        except DatabaseError:
            result = None  # e.g. a body PostgreSQL cannot parse as JSON: fall back
    if result is None:
        result = _run(connection, lambda cursor: _python_rows(cursor, vendor))
    missing = [name for name, present in protection.status(using).items() if not present]
    if missing:
        result.notes.append("protection triggers missing: " + ", ".join(missing))
    return result


def _run(connection: Any, rows_of: Any) -> VerifyResult:
    verifier = ChainVerifier()
    # One statement = one snapshot: the chain is read as of one moment even while events are written.
    # The savepoint lets a failed statement (PostgreSQL) be rolled back and the fallback run.
    # (SQLite: no atomic block — Qiantou's SQLite transactions are IMMEDIATE and would block writers.)
    ctx = transaction.atomic(using=connection.alias) if connection.vendor == "postgresql" else nullcontext()
    with ctx:
        with connection.chunked_cursor() as cursor:
            for rows in rows_of(cursor):
                if verifier.feed(rows) is not None:
                    break
    return verifier.result()


def chain_head(*, using: str = "default") -> tuple[int, str]:
    """The last event's ``(seq, hash)``; ``(0, GENESIS_HASH)`` for an empty record."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT seq, hash FROM {AUDIT_TABLE} ORDER BY seq DESC LIMIT 1")
        row = cursor.fetchone()
    return (int(row[0]), str(row[1])) if row else (0, GENESIS_HASH)


def export_bundle(out: IO[str], *, using: str = "default", since: int = 1) -> tuple[int, int, str]:
    """Write the events from ``since`` on as a bundle (``chain.verify_bundle`` reads it offline).

    Returns ``(count, head_seq, head_hash)``. The rows are written as stored; verify the bundle to
    know whether they are intact.
    """
    connection = connections[using]
    out.write(chain.canonical_json(chain.bundle_header(exported_at=timezone.now(), source=connection.vendor)))
    out.write("\n")
    count, head_seq, head_hash = 0, 0, GENESIS_HASH
    ctx = transaction.atomic(using=using) if connection.vendor == "postgresql" else nullcontext()
    with ctx, connection.chunked_cursor() as cursor:
        cursor.execute(f"SELECT {_COLS} FROM {AUDIT_TABLE} WHERE seq >= %s ORDER BY seq", [since])
        while rows := cursor.fetchmany(CHUNK):
            for seq, alg, prev_hash, hash_, body in rows:
                out.write(chain.bundle_line(seq, alg, prev_hash, hash_, body))
                count, head_seq, head_hash = count + 1, seq, hash_
    out.write(chain.bundle_trailer(count, head_seq, head_hash))
    return count, head_seq, head_hash


def describe(result: VerifyResult) -> str:
    """A one-line summary of a result for people (CLI output, reports)."""
    if result.ok:
        return f"OK: {result.count} events verified, head #{result.head_seq} {result.head_hash}"
    assert result.broken is not None
    return f"BROKEN at event #{result.broken.seq}: {result.broken.message} [{result.broken.reason}]"
