"""The scheduler's sweep (``qiantou scheduler``): claim what is due, hand the work to the workers.

One :func:`tick` at instant ``now``:

1. every ``sync_every`` seconds, bring task items in step with issued plans (:func:`task_items_sync`);
2. claim report cycles whose ``next_generate_at`` has come → ``generate_reports`` jobs;
3. claim items whose ``next_remind_at`` has come: fire their current rung (one :class:`Reminder`,
   unique per item and rung) and move ``next_remind_at`` to the next rung — one compare-and-set per item;
4. claim reminders whose ``next_dispatch_at`` has come → ``dispatch_reminders`` jobs (fan-out to
   notifications);
5. claim deliveries whose ``next_attempt_at`` has come → ``deliver`` jobs.
6. close consultation rounds whose closing date has passed (:func:`close_due_rounds`; a failure there is
   logged and never stops the reminders).

Claims and job rows are written in one transaction, so a scheduler that dies mid-tick leaves the rows
due (or leased until the lease runs out). Several schedulers may run at once on several hosts.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import connection, transaction

from qiantou.chasing.calendar import get_calendar, local_date
from qiantou.chasing.ladder import schedule
from qiantou.chasing.models import ChaseItem, ItemState, Reminder, ReportCycle
from qiantou.chasing.selectors import LadderConfig, ladder_for
from qiantou.notifications.cas import compare_and_set, memo_adapter
from qiantou.notifications.services import deliveries_claim_due
from qiantou.workdays import CalendarYearNotLoaded

logger = logging.getLogger("qiantou.chasing.scheduler")

DISPATCH_LEASE = dt.timedelta(minutes=5)
GENERATE_LEASE = dt.timedelta(minutes=10)
DISPATCH_BATCH = 50
DELIVERY_BATCH = 100


@dataclass
class TickReport:
    """What one tick did."""

    now: str = ""
    synced: dict[str, int] = field(default_factory=dict)
    cycles: int = 0
    fired: int = 0
    closed: int = 0
    dispatch_claims: int = 0
    delivery_claims: int = 0
    jobs: int = 0
    rounds_closed: int = 0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def fire_due_items(*, now: dt.datetime, limit: int = 20000) -> tuple[int, int]:
    """Fire the current rung of every item due at ``now``; returns (fired, closed).

    An item whose task is no longer open is closed instead (done items are never reminded).
    """
    rows = list(
        ChaseItem.objects.filter(next_remind_at__lte=now)
        .order_by("next_remind_at")
        .values_list("id", "next_remind_at", "next_rung", "due_date", "plan_id", "kind", "task__status")[
            :limit
        ]
    )
    if not rows:
        return 0, 0
    cal = get_calendar()
    configs: dict[int, LadderConfig] = {}
    updates: list[tuple[object, ...]] = []
    closes: list[tuple[object, ...]] = []
    pending: dict[int, tuple[object, ...]] = {}
    for pk, old, rung_index, due, plan_id, kind, task_status in rows:
        assert old is not None  # filtered on next_remind_at <= now
        if kind == "task" and task_status not in (None, "open"):
            closes.append((pk, old, None, ItemState.DONE))
            continue
        cfg = configs.get(plan_id) or configs.setdefault(plan_id, ladder_for(plan_id))
        if rung_index >= len(cfg.rungs):  # the ladder was shortened meanwhile
            updates.append((pk, old, None, rung_index))
            continue
        rung = cfg.rungs[rung_index]
        try:
            next_index, next_at = schedule(cfg.rungs, due, cal, cfg.send_time, rung_index + 1, not_before=now)
        except CalendarYearNotLoaded as exc:
            logger.error("item %s: %s — its ladder pauses until the year is loaded", pk, exc)
            next_index, next_at = rung_index + 1, None
        updates.append((pk, old, next_at, next_index))
        pending[pk] = (
            pk,
            rung.key,
            rung_index,
            rung.label,
            json.dumps(list(rung.recipients)),
            due,
            old,
            now,
            now,
        )
    with transaction.atomic():
        won = compare_and_set(ChaseItem, "next_remind_at", updates, extra_fields=["next_rung"])
        _insert_reminders([pending[pk] for pk in won if pk in pending])
        closed = compare_and_set(ChaseItem, "next_remind_at", closes, extra_fields=["state"])
    return len([pk for pk in won if pk in pending]), len(closed)


def _insert_reminders(rows: list[tuple[object, ...]]) -> None:
    """Insert fired reminders ``(item, rung, index, label, roles_json, due, scheduled_for, fired_at, now)``.

    Plain SQL (Django's bulk_create costs ~0.2 ms a row in Python); ``ON CONFLICT DO NOTHING`` keeps the
    unique (item, rung) the last word on "at most once".
    """
    if not rows:
        return
    ops = connection.ops
    table = ops.quote_name(Reminder._meta.db_table)
    columns = (
        "item_id, rung, rung_index, label, recipient_roles, due_date, scheduled_for, fired_at, "
        "next_dispatch_at, dispatched_at, recipients, cancelled, acknowledged_at, acknowledged_by_id"
    )
    if connection.vendor == "postgresql":
        # One statement: the columns travel as arrays and are unnested server-side.
        sql = (
            f"INSERT INTO {table} ({columns}) "
            "SELECT item, rung, idx, label, CAST(roles AS jsonb), due, scheduled, fired, dispatch, NULL, "
            "CAST('[]' AS jsonb), false, NULL, NULL FROM unnest(CAST(%s AS bigint[]), CAST(%s AS text[]), "
            "CAST(%s AS integer[]), CAST(%s AS text[]), CAST(%s AS text[]), CAST(%s AS date[]), "
            "CAST(%s AS timestamptz[]), CAST(%s AS timestamptz[]), CAST(%s AS timestamptz[])) "
            "AS r(item, rung, idx, label, roles, due, scheduled, fired, dispatch) "
            "ON CONFLICT (item_id, rung) DO NOTHING"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [list(column) for column in zip(*rows, strict=True)])
        return
    sql = (
        f"INSERT INTO {table} ({columns}) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, NULL, '[]', 0, NULL, NULL) "
        "ON CONFLICT (item_id, rung) DO NOTHING"
    )
    adapt_dt, adapt_date = (
        memo_adapter(ops.adapt_datetimefield_value),
        memo_adapter(ops.adapt_datefield_value),
    )
    params: list[tuple[Any, ...]] = [
        (
            item,
            rung,
            index,
            label,
            roles_json,
            adapt_date(due),
            adapt_dt(scheduled),
            adapt_dt(fired),
            adapt_dt(dispatch_at),
        )
        for item, rung, index, label, roles_json, due, scheduled, fired, dispatch_at in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _claim(
    model: type[ChaseItem] | type[Reminder] | type[ReportCycle],
    field_name: str,
    now: dt.datetime,
    lease: dt.timedelta,
    limit: int,
) -> list[tuple[int, str]]:
    rows = list(
        model.objects.filter(**{f"{field_name}__lte": now})
        .order_by(field_name)
        .values_list("id", field_name)[:limit]
    )
    until = now + lease
    won = compare_and_set(model, field_name, [(pk, old, until) for pk, old in rows])
    return [(pk, until.isoformat()) for pk in sorted(won)]


def _batches(claims: list[tuple[int, str]], size: int) -> list[list[list[str | int]]]:
    return [[list(c) for c in claims[i : i + size]] for i in range(0, len(claims), size)]


def tick(*, now: dt.datetime, limit: int = 20000, sync: bool = True) -> TickReport:
    """One sweep at ``now`` (see the module docstring). Returns what it did."""
    from qiantou.chasing import jobs
    from qiantou.chasing.services import task_items_sync
    from qiantou.notifications.jobs import deliver

    report = TickReport(now=now.isoformat())
    if sync:
        report.synced = task_items_sync(now=now)
    as_of = now.isoformat()
    with transaction.atomic():
        cycles = _claim(ReportCycle, "next_generate_at", now, GENERATE_LEASE, 1000)
        for cycle_id, claimed in cycles:
            jobs.generate_reports.enqueue(cycle_id=cycle_id, claimed=claimed, as_of=as_of)
    report.cycles = len(cycles)
    report.fired, report.closed = fire_due_items(now=now, limit=limit)
    with transaction.atomic():
        claims = _claim(Reminder, "next_dispatch_at", now, DISPATCH_LEASE, limit)
        for batch in _batches(claims, DISPATCH_BATCH):
            jobs.dispatch_reminders.enqueue(claims=batch, as_of=as_of)
            report.jobs += 1
    report.dispatch_claims = len(claims)
    with transaction.atomic():
        deliveries = deliveries_claim_due(now=now, limit=limit)
        for batch in _batches(deliveries, DELIVERY_BATCH):
            deliver.enqueue(claims=batch, as_of=as_of)
            report.jobs += 1
    report.delivery_claims = len(deliveries)
    report.jobs += len(cycles)
    report.rounds_closed = close_due_rounds(now=now)
    return report


def close_due_rounds(*, now: dt.datetime) -> int:
    """Close the consultation rounds whose closing date is before ``now``'s local day; returns how many.

    Guarded: an error here is logged and the tick goes on (reminders must not wait on consultation).
    """
    try:
        from qiantou.consultation.services import rounds_close_due
    except ImportError:  # consultation app absent
        return 0
    try:
        return rounds_close_due(on=local_date(now))
    except Exception:
        logger.exception("closing due consultation rounds failed; the reminders go on")
        return 0
