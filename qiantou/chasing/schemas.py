"""Shapes of the chasing REST API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

#: A title's limit is its column's (``max_length=255`` in ``models.py``): longer is a 422, not a 500.
TITLE_MAX = 255
#: Free text (TextField) is unbounded in the database; this keeps one request's text to a sane size.
TEXT_MAX = 20000
#: Choice values (state, kind, decision) are short codes.
CODE_MAX = 32


class ItemOut(Schema):
    id: int
    kind: str
    title: str
    plan_id: int
    task_id: int | None
    unit_id: int
    unit_name: str
    due_date: dt.date
    state: str
    light: str
    working_days_overdue: int
    next_remind_at: dt.datetime | None


class ReminderOut(Schema):
    id: int
    rung: str
    label: str
    scheduled_for: dt.datetime
    fired_at: dt.datetime
    dispatched_at: dt.datetime | None
    cancelled: bool
    recipients: list[dict[str, Any]]
    acknowledged_at: dt.datetime | None


class ItemDetailOut(ItemOut):
    reminders: list[ReminderOut]


class MaterialRequestIn(Schema):
    unit_id: int
    title: str = Field(..., max_length=TITLE_MAX)
    description: str = Field("", max_length=TEXT_MAX)
    task_id: int | None = None
    due_date: dt.date | None = None
    due_working_days: int | None = None
    issued_on: dt.date | None = None


class MaterialRequestOut(Schema):
    id: int
    item_id: int
    plan_id: int
    task_id: int | None
    unit_id: int
    title: str
    description: str
    issued_on: dt.date
    due_working_days: int | None
    due_date: dt.date
    status: str


class AttachmentOut(Schema):
    id: int
    name: str
    kind: str
    size: int
    sha256: str
    url: str


class SubmissionOut(Schema):
    id: int
    request_id: int
    text: str
    submitted_at: dt.datetime
    decision: str
    reason: str
    files: list[str]
    attachments: list[AttachmentOut] = Field(default_factory=list)


class DecisionIn(Schema):
    accept: bool
    reason: str = Field("", max_length=TEXT_MAX)


class ReportCycleIn(Schema):
    title: str = Field("", max_length=TITLE_MAX)
    rule: dict[str, Any]
    start_date: dt.date
    end_date: dt.date
    task_id: int | None = None
    lead_working_days: int = Field(5, ge=0, le=60)


class ReportCycleOut(Schema):
    id: int
    title: str
    rule: dict[str, Any]
    describe: str
    start_date: dt.date
    end_date: dt.date
    next_generate_at: dt.datetime | None
    generate_from: dt.date | None = None


class ProgressReportIn(Schema):
    status: str = Field(..., max_length=CODE_MAX)
    text: str = Field(..., max_length=TEXT_MAX)
    figures: dict[str, Any] = Field(default_factory=dict)


class PetitionIn(Schema):
    kind: str = Field(..., max_length=CODE_MAX)
    reason: str = Field(..., max_length=TEXT_MAX)
    requested_due_date: dt.date | None = None


class PetitionDecisionIn(Schema):
    decision: str = Field(..., max_length=CODE_MAX)
    note: str = Field("", max_length=TEXT_MAX)
    granted_due_date: dt.date | None = None


class PetitionOut(Schema):
    id: int
    kind: str
    item_id: int
    unit_id: int
    reason: str
    requested_due_date: dt.date | None
    status: str
    decision_note: str
    granted_due_date: dt.date | None


class AckIn(Schema):
    token: str = Field(..., max_length=256)


class WorkdayOut(Schema):
    start: dt.date
    n: int
    result: dt.date


class CalendarDayOut(Schema):
    date: dt.date
    is_working_day: bool
    name: str


class InboxOut(Schema):
    id: int
    subject: str
    body: str
    link: str
    created_at: dt.datetime
    read: bool
