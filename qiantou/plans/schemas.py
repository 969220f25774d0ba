"""REST shapes for plans and tasks (django-ninja schemas); the models stay free of API concerns."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema
from pydantic import ConfigDict

from qiantou.plans.models import TaskStatus


class UnitBrief(Schema):
    """A unit as shown next to a plan."""

    id: int
    code: str
    name: str


class TaskUnitOut(Schema):
    """A unit named on a task: ``unit_id`` is null while the printed name is unresolved."""

    unit_id: int | None
    name: str
    printed_name: str
    resolution: str


class TaskOut(Schema):
    """A task with its units by role in printed order; ``overdue`` is computed for today (Asia/Shanghai).

    Built by ``qiantou.plans.selectors.task_rows`` (plain dicts, not model instances).
    """

    id: int
    plan_id: int
    parent_id: int | None
    no: str
    path: str
    position: int
    text: str
    lead_units: list[TaskUnitOut]
    cooperating_units: list[TaskUnitOut]
    generic_units: list[TaskUnitOut]
    deadline_text: str
    deadline_kind: str
    deadline: dt.date | None
    deadline_end: dt.date | None
    deliverables: str
    acceptance_standard: str
    weight: float
    status: str
    restricted: bool
    overdue: bool
    warnings: list[str]
    lock_version: int


class PlanOut(Schema):
    """A plan (without its tasks)."""

    id: int
    title: str
    doc_number: str
    issuing_unit: UnitBrief | None
    lead_unit: UnitBrief
    status: str
    year: int | None
    lead_rule: str
    warnings: list[str]
    issued_on: dt.date | None
    created_at: dt.datetime
    updated_at: dt.datetime
    lock_version: int


class PlanDetailOut(PlanOut):
    """A plan with the tasks the caller may see, in printed order, and what the caller may do."""

    tasks: list[TaskOut]
    can_change: bool


class PlanCreateIn(Schema):
    """A new draft plan; its lead unit is the caller's unit."""

    model_config = ConfigDict(extra="forbid")  # a misspelt or read-only field is an error, not a no-op

    title: str = Field(..., min_length=1, max_length=255)
    doc_number: str = Field("", max_length=64)
    issuing_unit_id: int | None = None
    year: int | None = Field(None, ge=1949, le=2100)
    lead_rule: str = ""


class PlanUpdateIn(Schema):
    """Changes to a draft plan; ``lock_version`` is the version the caller read (409 if it moved)."""

    model_config = ConfigDict(extra="forbid")  # a misspelt or read-only field is an error, not a no-op

    lock_version: int = Field(..., ge=0)
    title: str | None = Field(None, min_length=1, max_length=255)
    doc_number: str | None = Field(None, max_length=64)
    issuing_unit_id: int | None = None
    year: int | None = Field(None, ge=1949, le=2100)
    lead_rule: str | None = None


class TaskCreateIn(Schema):
    """A new task of a draft plan; unit ids in printed order (one lead unit is the norm)."""

    model_config = ConfigDict(extra="forbid")  # a misspelt or read-only field is an error, not a no-op

    no: str = Field("", max_length=32)
    text: str = Field(..., min_length=1)
    parent_id: int | None = None
    lead_unit_ids: list[int] = Field(default_factory=list)
    cooperating_unit_ids: list[int] = Field(default_factory=list)
    deadline_text: str = Field("", max_length=255)
    deadline: dt.date | None = None
    deadline_end: dt.date | None = None
    deliverables: str = ""
    acceptance_standard: str = ""
    restricted: bool = False


class TaskUpdateIn(Schema):
    """Changes to a task of a draft plan; only the fields sent are changed."""

    model_config = ConfigDict(extra="forbid")  # a misspelt or read-only field is an error, not a no-op

    lock_version: int = Field(..., ge=0)
    no: str | None = Field(None, max_length=32)
    text: str | None = Field(None, min_length=1)
    lead_unit_ids: list[int] | None = None
    cooperating_unit_ids: list[int] | None = None
    deadline_text: str | None = Field(None, max_length=255)
    deadline: dt.date | None = None
    deadline_end: dt.date | None = None
    deliverables: str | None = None
    acceptance_standard: str | None = None
    restricted: bool | None = None
    status: TaskStatus | None = None


class TaskFilters(Schema):
    """Query filters for the task list."""

    plan: int | None = None
    unit: int | None = None
    status: TaskStatus | None = None
    overdue: bool | None = None
    q: str | None = Field(None, max_length=100)


class TaskPage(Schema):
    """One page of a task list: ``items`` (at most ``page_size``) of ``count`` matching tasks.

    ``count`` is exact when ``count_exact`` is true. Otherwise more tasks match than the list counts
    by default (``COUNT_LIMIT`` in ``plans/api.py``, or the rows already paged past): ``count`` is then
    a lower bound, shown as "1000+"; ask with ``exact_count=true`` for the full count. A page past the
    end has no items and the exact count.
    """

    items: list[TaskOut]
    count: int
    count_exact: bool
    page: int
    page_size: int


class ErrorOut(Schema):
    """Every error body: a Chinese message."""

    detail: str
