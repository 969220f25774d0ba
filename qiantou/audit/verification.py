"""Verifying the accountability record in the database (``qiantou audit verify``) and exporting it.

One pass in ``seq`` order, one statement (one snapshot), split between the two sides:

* **the database** checks, per row, that the stored columns still match the hashed body: the body
  is rebuilt from the columns as text and compared (on PostgreSQL all but the payload, whose slice
  of the body is parsed and compared with the ``jsonb`` column by value). Any difference → a
  "fields" mismatch; the column is named afterwards, for that one row, in Python;
* **this process** recomputes every hash from the body bytes and follows the ``seq`` numbers and
  the ``prev_hash`` links (:class:`qiantou.audit.chain.ChainVerifier`), stopping at the first break.

On PostgreSQL the result is streamed (psycopg ``stream``, binary), so the server checks rows while
this process hashes those already received: on two cores the wall time is about the slower of the
two, not their sum. When the database cannot run its check (a body so damaged PostgreSQL cannot
parse it), the same comparisons run in Python instead (slower, same answers).
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from contextlib import nullcontext
from itertools import islice
from typing import IO, Any, cast

import psycopg
from django.db import DatabaseError, connections, transaction
from django.utils import timezone

from qiantou.audit import chain, protection
from qiantou.audit.chain import GENESIS_HASH, ChainVerifier, VerifyResult
from qiantou.audit.models import AUDIT_TABLE

CHUNK = 5000

# SQLite: rebuild the body text from the stored columns and compare — no JSON parsing per row.
# Django stores ``created_at`` as naive UTC text, without the fraction when it is zero; ``payload`` is
# canonical text (``CanonicalJSONField``); ``json_quote`` escapes strings exactly as Python's
# ``json.dumps(ensure_ascii=False)`` does. The type and length guards make the rebuilt text
# unambiguous (integers are digits, strings are quoted, the time has a fixed width, the hash is hex),
# so equal text means equal columns: a value cannot smuggle a field boundary into its neighbour.
# Any difference → "fields" (the column is named afterwards, for that one row, in Python).
_SQLITE_CHECK = f"""
SELECT seq, alg, prev_hash, hash, CAST(body AS BLOB),
  CASE
    WHEN typeof(seq) IS NOT 'integer' OR typeof(actor_id) NOT IN ('integer', 'null')
      OR typeof(actor_unit_id) NOT IN ('integer', 'null') OR typeof(created_at) IS NOT 'text'
      OR length(created_at) NOT IN (19, 26) OR typeof(payload) IS NOT 'text' THEN 'fields'
    WHEN body IS NOT (
      '[' || seq || ',"' || substr(created_at, 1, 10) || 'T' || substr(created_at, 12, 8)
      || CASE WHEN length(created_at) = 19 THEN '.000000' ELSE substr(created_at, 20, 7) END
      || '+00:00",' || coalesce(actor_id, 'null') || ',' || json_quote(actor_name) || ','
      || coalesce(actor_unit_id, 'null') || ',' || json_quote(action) || ',' || json_quote(object_type)
      || ',' || json_quote(object_id) || ',' || payload || ',' || json_quote(prev_hash) || ']'
    ) THEN 'fields'
  END
FROM {AUDIT_TABLE}
ORDER BY seq
"""

# PostgreSQL: the same rebuild for every column but the payload. ``to_json`` escapes strings like
# Python's ``json.dumps``; when none of the four strings holds a character either would escape (``"``,
# ``\`` or a control character), quoting them gives the same text, far cheaper. ``to_char`` writes the
# time, quotes included (it never needs escaping). The payload's slice of the body — between the
# rebuilt prefix and the fixed-width ``,"<prev_hash>"]`` suffix — is parsed and compared with the
# ``jsonb`` column by value. Each WHEN guards the next, so the slice is only parsed once the prefix and
# suffix agree. The suffix is built from ``prev_hash`` unescaped: a ``prev_hash`` that is not the
# previous event's hash (64 hex digits, or the genesis zeros) is already a "link" break, which the
# verifier reports before "fields".
# The inner query computes the body bytes ``b`` and the prefix ``p`` once per row: ``OFFSET 0`` keeps
# PostgreSQL from inlining them into every use in the CASE (which made it build each several times),
# and ``ORDER BY seq`` inside lets the outer ORDER BY reuse the index order instead of sorting.
_PG_CHECK = f"""
SELECT seq, alg, prev_hash, hash, b,
  CASE
    WHEN substring(b FOR octet_length(p)) IS DISTINCT FROM p THEN 'fields'
    WHEN substring(b FROM octet_length(b) - 67) IS DISTINCT FROM convert_to(',"' || prev_hash || '"]', 'UTF8')
      THEN 'fields'
    WHEN octet_length(b) - octet_length(p) - 68 < 2 THEN 'fields'
    WHEN convert_from(substring(b FROM octet_length(p) + 1 FOR octet_length(b) - octet_length(p) - 68),
                      'UTF8')::jsonb IS DISTINCT FROM payload
      OR jsonb_typeof(payload) IS DISTINCT FROM 'object' THEN 'fields'
  END
FROM (
  SELECT seq, alg, prev_hash, hash, payload, convert_to(body, 'UTF8') AS b,
    convert_to('[' || seq || ',' || to_char(created_at AT TIME ZONE 'UTC',
                                            '\\"YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"\\"')
    || ',' || coalesce(actor_id::text, 'null') || ',' ||
    CASE WHEN (actor_name || action || object_type || object_id) ~ '[\\x01-\\x1f"\\\\]' THEN
      to_json(actor_name)::text || ',' || coalesce(actor_unit_id::text, 'null')
      || ',' || to_json(action)::text || ',' || to_json(object_type)::text || ',' || to_json(object_id)::text
    ELSE
      '"' || actor_name || '",' || coalesce(actor_unit_id::text, 'null') || ',"' || action
      || '","' || object_type || '","' || object_id || '"'
    END || ',', 'UTF8') AS p
  FROM {AUDIT_TABLE}
  ORDER BY seq
  OFFSET 0
) t
ORDER BY seq
"""

# ``{created}``: SQLite's raw text (the concatenation escapes Django's datetime converter).
_RAW = f"""
SELECT seq, alg, prev_hash, hash, body, {{created}}, actor_id, actor_name, actor_unit_id, action,
       object_type, object_id, payload
FROM {AUDIT_TABLE} {{where}} ORDER BY seq
"""


def _fetch(cursor: Any, sql: str, params: list[Any] | None = None) -> Iterator[list[tuple[Any, ...]]]:
    cursor.execute(sql, params)
    while rows := cursor.fetchmany(CHUNK):
        yield rows


def _stream(connection: Any, sql: str) -> Iterator[list[tuple[Any, ...]]]:
    """PostgreSQL: the rows of ``sql`` as one streamed result (psycopg ``stream``), in batches.

    The server keeps computing and sending rows while this process hashes the ones received, so the
    two run on two cores at once; a server-side cursor would leave the server idle between FETCHes.
    Batches come from libpq's chunked-rows mode (libpq ≥ 17) or, before that, single-row mode.
    """
    size = CHUNK if psycopg.pq.version() >= 170000 else 1
    # A plain psycopg cursor on Django's connection (same transaction): Django's own cursor class may
    # bind parameters client-side, and such cursors cannot ask for binary results. Binary: the body
    # bytes arrive as they are (no hex to decode), integers as 8 bytes.
    with psycopg.Cursor(connection.connection) as cursor, connection.wrap_database_errors:
        rows = cast(Generator[tuple[Any, ...]], cursor.stream(sql, size=size, binary=True))
        try:
            while batch := list(islice(rows, CHUNK)):
                yield batch
        finally:
            rows.close()  # stopped early: psycopg cancels the query and drains the connection


def _sqlite_time(text: str) -> str:
    """SQLite's stored ``created_at`` text (Django: naive UTC) as the body holds it."""
    if "." not in text:
        text += ".000000"
    return text.replace(" ", "T") + "+00:00"


def _raw_sql(vendor: str, where: str = "") -> str:
    return _RAW.format(created="created_at || ''" if vendor == "sqlite" else "created_at", where=where)


def _column_mismatch(vendor: str, row: tuple[Any, ...]) -> str | None:
    """Which stored column of a ``_RAW`` row differs from its body: ``fields:<name>``, ``body`` or None."""
    seq, _alg, prev_hash, _hash, body, created, aid, aname, auid, action, otype, oid, payload = row
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
    try:
        columns["created_at"] = _sqlite_time(created) if vendor == "sqlite" else chain.format_time(created)
    except (ValueError, TypeError, AttributeError):
        return "fields:created_at"
    mismatch = chain.check_fields(body, columns)
    if mismatch is not None:
        return mismatch
    if isinstance(payload, str):  # SQLite text; Django loads jsonb as text too
        try:
            payload = json.loads(payload)
        except (ValueError, TypeError):
            return "fields:payload"
    if payload != chain.body_fields(body)["payload"]:
        return "fields:payload"
    if vendor == "sqlite" and chain.canonical_json(payload) != row[12]:
        return "fields:payload"  # same value, different stored text
    return None


def _python_rows(cursor: Any, vendor: str) -> Iterator[list[chain.Row]]:
    """The fallback: the same per-row checks as the SQL, in Python, from the raw columns."""
    for rows in _fetch(cursor, _raw_sql(vendor)):
        yield [(r[0], r[1], r[2], r[3], r[4].encode(), _column_mismatch(vendor, r)) for r in rows]


def _explain(connection: Any, result: VerifyResult) -> None:
    """Name the column behind a "fields" break found in SQL (one row, checked in Python)."""
    broken = result.broken
    if broken is None or broken.reason != "fields":
        return
    with connection.cursor() as cursor:
        cursor.execute(_raw_sql(connection.vendor, "WHERE seq = %s"), [broken.seq])
        row = cursor.fetchone()
    reason = (_column_mismatch(connection.vendor, row) if row else None) or "fields:body"
    result.broken = chain.make_break(broken.seq, reason)


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
        streamed = vendor == "postgresql" and _streams(connection)
        try:
            if streamed:
                result = _run(connection, lambda _cursor: _stream(connection, sql), chunked=False)
            else:
                result = _run(connection, lambda cursor: _fetch(cursor, sql))
            _explain(connection, result)
        except DatabaseError:
            result = None  # e.g. a body PostgreSQL cannot parse as JSON: fall back
    if result is None:
        result = _run(connection, lambda cursor: _python_rows(cursor, vendor))
    missing = [name for name, present in protection.status(using).items() if not present]
    if missing:
        result.notes.append("protection triggers missing: " + ", ".join(missing))
    return result


def _streams(connection: Any) -> bool:
    """Whether ``connection`` runs on psycopg 3 (whose cursors can stream a result; psycopg2 cannot)."""
    connection.ensure_connection()
    return isinstance(connection.connection, psycopg.Connection)


def _run(connection: Any, rows_of: Any, *, chunked: bool = True) -> VerifyResult:
    verifier = ChainVerifier()
    # One statement = one snapshot: the chain is read as of one moment even while events are written.
    # The savepoint lets a failed statement (PostgreSQL) be rolled back and the fallback run.
    # (SQLite: no atomic block — Qiantou's SQLite transactions are IMMEDIATE and would block writers.)
    ctx = transaction.atomic(using=connection.alias) if connection.vendor == "postgresql" else nullcontext()
    with ctx:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # One long scan on a busy server: parallel workers and JIT cost more than they save.
                # Read in the seq index's order: a sort (the planner's pick when statistics are
                # missing or stale, e.g. just after a bulk load) spills the computed rows to disk and
                # sends nothing until it is done, so the server and this process no longer overlap.
                cursor.execute(
                    "SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL jit = off;"
                    " SET LOCAL enable_sort = off"
                )
        with connection.chunked_cursor() if chunked else nullcontext() as cursor:
            batches = rows_of(cursor)
            for rows in batches:
                if verifier.feed(rows) is not None:
                    break
            batches.close()
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
        cursor.execute(
            f"SELECT seq, alg, prev_hash, hash, body FROM {AUDIT_TABLE} WHERE seq >= %s ORDER BY seq", [since]
        )
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
