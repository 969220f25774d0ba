"""Writing the accountability record. Every service calls :func:`audit_record` inside its transaction."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from qiantou.audit import chain
from qiantou.audit.chain import GENESIS_HASH, canonical_json, format_time
from qiantou.audit.models import AuditEvent

__all__ = ["GENESIS_HASH", "audit_record", "canonical_bytes", "digest"]

#: Key of the PostgreSQL advisory lock that serialises appends (any constant bigint; this is "qiantou").
CHAIN_LOCK_KEY = 0x7169616E746F75


def digest(data: bytes, algorithm: str | None = None) -> str:
    """Hex digest of ``data`` with SM3 (GB/T 32905-2016) or SHA-256; default: ``AUDIT_HASH_ALGORITHM``."""
    return chain.digest(data, algorithm or settings.AUDIT_HASH_ALGORITHM)


def canonical_bytes(event: AuditEvent) -> bytes:
    """The bytes an event's hash covers: fields and ``prev_hash`` as canonical JSON (``chain.event_body``)."""
    return chain.event_body(
        seq=event.seq,
        created_at=event.created_at,
        actor_id=event.actor_id,
        actor_name=event.actor_name,
        actor_unit_id=event.actor_unit_id,
        action=event.action,
        object_type=event.object_type,
        object_id=event.object_id,
        payload=event.payload,
        prev_hash=event.prev_hash,
    ).encode()


def _lock_chain() -> None:
    """Serialise appends until the caller's transaction ends, so two writers never fork the chain.

    PostgreSQL: a transaction-level advisory lock. SQLite: nothing to do — Qiantou's settings open
    every transaction with ``BEGIN IMMEDIATE``, which already admits one writer at a time. The unique
    ``seq`` stops a fork on any other configuration.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


def audit_record(
    *,
    actor: Any | None,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    payload: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction.

    ``actor`` is a user or None (the system); ``action`` a dotted verb such as ``plan.issue``;
    ``obj`` a model instance (its ``app_label.model`` and pk are recorded) or ``object_type``/``object_id``;
    ``payload`` JSON-serialisable detail (never personal data from a data check); values JSON cannot
    hold (dates, decimals) are recorded as their ``str``; NaN/Infinity raise ``ValueError``.
    The hash algorithm is ``settings.AUDIT_HASH_ALGORITHM`` ("sm3" or "sha256"), recorded per event.
    Appends are serialised until the caller's transaction commits.
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = obj.pk
    algorithm = settings.AUDIT_HASH_ALGORITHM
    chain.hasher(algorithm)  # fail before taking the lock on a bad setting
    payload_value = json.loads(canonical_json(payload or {}, default=str))
    with transaction.atomic():
        _lock_chain()
        last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash", "created_at").first()
        if last is None:
            seq, prev_hash, created_at = 1, GENESIS_HASH, timezone.now()
        else:
            # Never earlier than the previous event: verification checks that time runs forward.
            seq, prev_hash, created_at = last[0] + 1, last[1], max(timezone.now(), last[2])
        event = AuditEvent(
            seq=seq,
            created_at=created_at,
            actor_id=getattr(actor, "pk", None),
            actor_name=(str(actor) if actor is not None else "system")[:150],
            actor_unit_id=getattr(actor, "unit_id", None),
            action=action,
            object_type=object_type,
            object_id=str(object_id) if object_id != "" else "",
            payload=payload_value,
            prev_hash=prev_hash,
            hash="",
            alg=algorithm,
        )
        event.body = chain.event_body(
            seq=seq,
            created_at=format_time(created_at),
            actor_id=event.actor_id,
            actor_name=event.actor_name,
            actor_unit_id=event.actor_unit_id,
            action=action,
            object_type=event.object_type,
            object_id=event.object_id,
            payload=payload_value,
            prev_hash=prev_hash,
        )
        event.hash = chain.event_hash(event.body, algorithm)
        event.save(force_insert=True)
    return event
