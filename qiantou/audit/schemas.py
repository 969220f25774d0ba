"""API shapes of the accountability record."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema


class EventOut(Schema):
    """One event as recorded; ``hash``/``prev_hash``/``alg`` let a client check it against a bundle."""

    seq: int
    created_at: dt.datetime
    actor_id: int | None
    actor_name: str
    actor_unit_id: int | None
    action: str
    object_type: str
    object_id: str
    payload: dict[str, Any]
    alg: str
    prev_hash: str
    hash: str


class VerifyOut(Schema):
    """Outcome of verifying the whole chain: the head on success, the first broken event otherwise."""

    ok: bool
    count: int
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    reason: str | None = None
    message: str | None = None
    notes: list[str] = Field(default_factory=list)


class HeadOut(Schema):
    """The chain head: the last event's seq and hash (an anchor to compare later verifications with)."""

    seq: int
    hash: str


class ErrorOut(Schema):
    """Every error body: a Chinese message."""

    detail: str
