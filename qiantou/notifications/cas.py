"""Claiming scheduled rows with compare-and-set updates (the healthchecks ``sendalerts`` pattern).

Periodic work is data on the rows: a ``next_*_at`` column says when a row is due. A scheduler claims a
due row by moving that column on, but only if it still holds the value the scheduler read::

    UPDATE t SET next_at = <new> WHERE id = <id> AND next_at = <old>

Of several schedulers reading the same row, exactly one update matches; the others see zero rows. For
throughput the rows are claimed many at a time in one statement (a ``VALUES`` list joined on id, with
``RETURNING`` the ids that won), which is the same per-row compare-and-set.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models

CHUNK = 500


def memo_adapter(adapt: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``adapt`` with a memo: claimed rows share a few lease and fire times, and adapting costs ~10 µs."""
    memo: dict[Any, Any] = {}

    def cached(value: Any) -> Any:
        if value not in memo:
            memo[value] = adapt(value)
        return memo[value]

    return cached


def compare_and_set(
    model: type[models.Model], field: str, rows: Sequence[tuple[Any, ...]], extra_fields: Sequence[str] = ()
) -> list[int]:
    """For each ``(id, old, new, *extra)`` set ``field = new`` (and the extra fields) where ``field = old``.

    ``field`` is a DateTimeField (``old`` is never None); ``extra_fields`` are integer or text columns.
    Returns the ids whose update matched — the rows this caller now owns. Runs in the caller's
    transaction.
    """
    if not rows:
        return []
    meta = model._meta

    def column(name: str) -> str:
        found = meta.get_field(name)
        assert isinstance(found, models.Field) and found.column
        return connection.ops.quote_name(found.column)

    table = connection.ops.quote_name(meta.db_table)
    assert meta.pk is not None and meta.pk.column
    pk_col = connection.ops.quote_name(meta.pk.column)
    col = column(field)
    extra_cols = [column(f) for f in extra_fields]
    sets = [f"{col} = v.new"] + [f"{c} = v.x{i}" for i, c in enumerate(extra_cols)]
    names = ["id", "old", "new", *[f"x{i}" for i in range(len(extra_fields))]]
    where = f"WHERE {table}.{pk_col} = v.id AND {table}.{col} = v.old RETURNING {table}.{pk_col}"
    won: list[int] = []
    if connection.vendor == "postgresql":
        # One statement whatever the number of rows: the columns travel as arrays, joined with unnest().
        extra_types = []
        for f in extra_fields:
            internal = meta.get_field(f).get_internal_type()
            extra_types.append("text" if internal in ("CharField", "TextField") else "bigint")
        types = ["bigint", "timestamptz", "timestamptz", *extra_types]
        arrays = ", ".join(f"CAST(%s AS {t}[])" for t in types)
        columns: list[list[Any]] = [[] for _ in types]
        for row in rows:
            pk, old, new, *extra = row
            for k, value in enumerate((pk, old, new if isinstance(new, dt.datetime) else None, *extra)):
                columns[k].append(value)
        sql = f"UPDATE {table} SET {', '.join(sets)} FROM unnest({arrays}) AS v({', '.join(names)}) {where}"
        with connection.cursor() as cursor:
            cursor.execute(sql, columns)
            won.extend(int(r[0]) for r in cursor.fetchall())
        return won
    adapt = memo_adapter(connection.ops.adapt_datetimefield_value)
    cell = "(" + ", ".join(["%s"] * len(names)) + ")"
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        params: list[Any] = []
        for row in chunk:
            pk, old, new, *extra = row
            params.extend([pk, adapt(old), adapt(new) if isinstance(new, dt.datetime) else None, *extra])
        sql = (
            f"WITH v({', '.join(names)}) AS (VALUES {', '.join([cell] * len(chunk))}) "
            f"UPDATE {table} SET {', '.join(sets)} FROM v {where}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            won.extend(int(r[0]) for r in cursor.fetchall())
    return won
