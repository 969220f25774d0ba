"""The API's task list (``GET /api/plans/tasks``) in hand-written SQL.

Same rows, order and visibility as :func:`qiantou.plans.selectors.task_list_for` followed by
:func:`~qiantou.plans.selectors.task_rows` — ``tests/api/test_task_list_sql.py`` compares the two for
every role and filter — but built as three short statements instead of ORM querysets: building and
compiling those querysets cost more CPU than running them (about 2 of the 6 ms a list request took;
issue 2 asks for a p95 ≤ 50 ms with 8 clients on 2 cores, ``bench/api_tasks.py``).

The visibility rule is the one written in ``plans/rules.py``: a unit member sees the plans its unit
leads or issued, and once out of draft every plan that names the unit on a task; a restricted task
only in a plan the unit leads or on a task that names it. The supervision office and auditors see
everything; everyone else nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from qiantou.accounts.rules import is_business_user_, is_overseer_
from qiantou.plans.models import TaskStatus
from qiantou.plans.rules import CIRCULATED_STATUSES
from qiantou.plans.selectors import (
    BINDING_PLAN_STATUSES,
    TASK_ROW_FIELDS,
    add_named_unit,
    has_cased_letter,
    is_overdue,
    today,
)


def _marks(values: Any) -> str:
    return ", ".join(["%s"] * len(values))


def _id_list(ids: Any) -> str:
    """Integer ids written into the SQL as literals (``1, 2, 3``), for the id lists read from the
    database: each ``%s`` costs the driver a placeholder to find and a value to quote, which for a
    busy unit's 70 visible plans was 0.5 ms of CPU per request (bench/api_tasks.py profile)."""
    return ", ".join(str(int(pk)) for pk in ids)


@dataclass
class TaskListQuery:
    """The WHERE clause of one user's filtered task list; ``empty`` when nothing can match."""

    where: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    empty: bool = False

    def add(self, sql: str, *params: Any) -> None:
        self.where.append(sql)
        self.params.extend(params)

    def _from(self) -> str:
        sql = "FROM plans_task t"
        if self.where:
            sql += " WHERE " + " AND ".join(f"({w})" for w in self.where)
        return sql

    def page(self, offset: int, limit: int) -> list[dict[str, Any]]:
        """Rows ``offset``…``offset + limit`` in plan then printed order, shaped as ``TaskOut``.

        The shape of :func:`qiantou.plans.selectors.task_rows`: the task columns, ``overdue`` and the
        named units by role (``[{"unit_id", "name", "printed_name", "resolution"}]``, printed order).
        """
        if self.empty:
            return []
        # The page first, then its plans: joining the plans before the LIMIT let PostgreSQL pick a
        # plan-ordered nested loop that compared a busy unit's 8,700 tasks with every plan (40 ms).
        inner = ", ".join(f"t.{name}" for name in TASK_ROW_FIELDS)
        outer = ", ".join(f"s.{name}" for name in TASK_ROW_FIELDS)
        sql = (
            f"SELECT {outer}, p.status FROM (SELECT {inner} {self._from()} "
            "ORDER BY t.plan_id, t.position, t.id LIMIT %s OFFSET %s) s "
            "JOIN plans_plan p ON p.id = s.plan_id ORDER BY s.plan_id, s.position, s.id"
        )
        day = today()
        rows: list[dict[str, Any]] = []
        with connection.cursor() as cursor:
            cursor.execute(sql, [*self.params, limit, offset])
            for values in cursor.fetchall():
                row = dict(zip(TASK_ROW_FIELDS, values[:-1], strict=True))
                for name in ("deadline", "deadline_end"):  # the driver may hand dates over as text
                    if isinstance(row[name], str):
                        row[name] = dt.date.fromisoformat(row[name])
                row["restricted"] = bool(row["restricted"])
                row["weight"] = float(row["weight"])
                row["warnings"] = (
                    json.loads(row["warnings"]) if isinstance(row["warnings"], str) else row["warnings"]
                )
                row["overdue"] = is_overdue(row["status"], row["deadline"], values[-1], day)
                row["lead_units"], row["cooperating_units"], row["generic_units"] = [], [], []
                rows.append(row)
            if rows:
                by_id = {row["id"]: row for row in rows}
                cursor.execute(
                    "SELECT tu.task_id, tu.role, tu.unit_id, u.name, tu.printed_name, tu.resolution "
                    "FROM plans_taskunit tu LEFT JOIN units_unit u ON u.id = tu.unit_id "
                    f"WHERE tu.task_id IN ({_id_list(by_id)}) ORDER BY tu.task_id, tu.position, tu.id"
                )
                for task_id, role, unit_id, unit_name, printed_name, resolution in cursor.fetchall():
                    add_named_unit(by_id[task_id], role, unit_id, unit_name, printed_name, resolution)
        return rows

    def count(self, limit: int | None = None) -> int:
        """How many tasks match; with ``limit``, counting stops there (the answer is ≤ ``limit``)."""
        if self.empty:
            return 0
        inner = f"SELECT 1 {self._from()}"
        params = list(self.params)
        if limit is not None:
            inner += " LIMIT %s"
            params.append(limit)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({inner}) s", params)
            return int(cursor.fetchone()[0])


def _visible_plans(unit_id: int) -> dict[int, tuple[bool, str]]:
    """``{plan id: (led by the unit, status)}`` for the plans a member of ``unit_id`` may see.

    The plans naming the unit are read as a skip scan of the (unit, plan) index: one probe per plan
    instead of one row per named task (a busy unit is named 8,700 times in 70 plans; 1.3 ms -> 0.4 ms
    on PostgreSQL, 0.6 -> 0.2 ms on SQLite).
    """
    circulated = sorted(CIRCULATED_STATUSES)
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH RECURSIVE named(plan_id) AS ("
            "SELECT min(plan_id) FROM plans_taskunit WHERE unit_id = %s "
            "UNION ALL SELECT (SELECT min(tu.plan_id) FROM plans_taskunit tu "
            "WHERE tu.unit_id = %s AND tu.plan_id > n.plan_id) FROM named n WHERE n.plan_id IS NOT NULL) "
            "SELECT id, lead_unit_id, status FROM plans_plan WHERE lead_unit_id = %s OR issuing_unit_id = %s "
            f"OR (status IN ({_marks(circulated)}) AND id IN (SELECT plan_id FROM named))",
            [unit_id, unit_id, unit_id, unit_id, *circulated],
        )
        return {pk: (lead == unit_id, status) for pk, lead, status in cursor.fetchall()}


def _binding_plans(plan: int | None) -> list[int]:
    """Ids of the plans whose tasks bind their units (issued), or only ``plan`` if it is one."""
    binding = sorted(BINDING_PLAN_STATUSES)
    sql = f"SELECT id FROM plans_plan WHERE status IN ({_marks(binding)})"
    params: list[Any] = list(binding)
    if plan is not None:
        sql += " AND id = %s"
        params.append(plan)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [pk for (pk,) in cursor.fetchall()]


def task_list_query(
    user: Any,
    *,
    plan: int | None = None,
    unit: int | None = None,
    status: str | None = None,
    overdue: bool | None = None,
    q: str | None = None,
) -> TaskListQuery:
    """The tasks ``user`` may see, filtered as :func:`~qiantou.plans.selectors.task_list_for` does.

    ``plan``/``unit``: ids (a unit filter means tasks naming it, lead or cooperating); ``status``: a
    ``TaskStatus`` value; ``overdue``: True for open tasks of issued plans past their deadline
    (Asia/Shanghai), False for the rest; ``q``: a substring of the number or text. Runs one query for
    a unit member's visible plans; the rest runs in :meth:`TaskListQuery.page` and ``count``.
    """
    query = TaskListQuery()
    if not is_business_user_(user) or (not is_overseer_(user) and user.unit_id is None):
        query.empty = True
        return query
    if plan is not None:
        query.add("t.plan_id = %s", plan)
    visible: dict[int, tuple[bool, str]] | None = None  # None: every plan
    if not is_overseer_(user):
        unit_id = user.unit_id
        visible = _visible_plans(unit_id)
        if plan is not None:
            visible = {plan: visible[plan]} if plan in visible else {}
        if not visible:
            query.empty = True
            return query
        led = [pk for pk, (leads, _status) in visible.items() if leads]
        # Restricted tasks of plans the unit does not lead: only those naming it. A filter on the
        # member's own unit keeps only tasks naming it already, so it needs no arm.
        if len(led) < len(visible) and unit != unit_id:
            arms = ["NOT t.restricted"]
            if led:
                arms.append(f"t.plan_id IN ({_id_list(led)})")
            named = "(SELECT 1 FROM plans_taskunit tu WHERE tu.task_id = {}.id AND tu.unit_id = %s)"
            if connection.vendor == "postgresql":
                # PostgreSQL hashes this arm once per statement. Restricted tasks are few (2 % of a
                # city's), so start from them (partial index ``task_restricted_plan``), not from
                # every task naming the unit (8,700 for a busy one): a count 1.7 -> 0.65 ms.
                others = [pk for pk in visible if pk not in set(led)]
                arms.append(
                    "t.id IN (SELECT r.id FROM plans_task r WHERE r.restricted "
                    f"AND r.plan_id IN ({_id_list(others)}) AND EXISTS {named.format('r')})"
                )
            else:
                # SQLite runs a correlated EXISTS only for the rows that reach it, the restricted
                # ones; the IN list above it would build in full first (a count 0.10 -> 0.56 ms).
                arms.append(f"EXISTS {named.format('t')}")
            query.add(" OR ".join(arms), unit_id)
    if unit is not None:
        query.add("t.id IN (SELECT task_id FROM plans_taskunit WHERE unit_id = %s)", unit)
    text = (q or "").strip()
    if status:
        # With a text search every row is read anyway: SQLite would drive the count from the status
        # index (70,000 random lookups over a city's open tasks, 77 ms instead of a 20 ms scan).
        sqlite_hint = text and connection.vendor == "sqlite"
        query.add("likely(t.status = %s)" if sqlite_hint else "t.status = %s", status)
    plan_ids = None if visible is None else list(visible)  # the plans the tasks may be in
    if overdue is not None:
        # The issued plans as a list of ids, not a join: a join let PostgreSQL walk the plans in id
        # order against every candidate task (49,000 rows dropped by the join filter for one unit).
        if visible is None:
            binding = _binding_plans(plan)
        else:
            binding = [pk for pk, (_leads, status) in visible.items() if status in BINDING_PLAN_STATUSES]
        if not binding and overdue:
            query.empty = True  # no issued plan: nothing is overdue
            return query
        day = connection.ops.adapt_datefield_value(today())
        if overdue:
            # One list of plans (visible and issued): two lists on plan_id made PostgreSQL multiply
            # their selectivities and pick a plan for 600 rows that met 4,500.
            query.add("t.status = %s AND t.deadline IS NOT NULL AND t.deadline < %s", TaskStatus.OPEN, day)
            plan_ids = binding
        elif binding:
            query.add(
                "NOT (t.status = %s AND t.deadline IS NOT NULL AND t.deadline < %s "
                f"AND t.plan_id IN ({_id_list(binding)}))",
                TaskStatus.OPEN,
                day,
            )
    if plan_ids is not None and plan is None:
        query.add(f"t.plan_id IN ({_id_list(plan_ids)})")
    elif plan_ids is not None and plan not in plan_ids:
        query.empty = True
        return query
    if text:
        pattern = "%" + connection.ops.prep_for_like_query(text) + "%"
        if connection.vendor == "postgresql":
            # Only a search with cased letters needs folding (see selectors.has_cased_letter).
            arm = "UPPER({}::text) LIKE UPPER(%s)" if has_cased_letter(text) else "{}::text LIKE %s"
        else:
            arm = "{} LIKE %s ESCAPE '\\'"  # SQLite's LIKE folds ASCII case, as Django's icontains
        query.add(f"{arm.format('t.text')} OR {arm.format('t.no')}", pattern, pattern)
    return query
