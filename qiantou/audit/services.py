"""Writing the accountability record. Every service calls :func:`audit_record` inside its transaction."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives import hashes
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from qiantou.audit.models import AuditEvent

GENESIS_HASH = "0" * 64


def digest(data: bytes, algorithm: str | None = None) -> str:
    """Hex digest of ``data`` with SM3 (GB/T 32905-2016) or SHA-256; 64 hex characters either way."""
    algorithm = algorithm or settings.AUDIT_HASH_ALGORITHM
    if algorithm == "sha256":
        return hashlib.sha256(data).hexdigest()
    if algorithm == "sm3":
        h = hashes.Hash(hashes.SM3())
        h.update(data)
        return h.finalize().hex()
    raise ValueError(f"unknown audit hash algorithm {algorithm!r} (use 'sm3' or 'sha256')")


def canonical_bytes(event: AuditEvent) -> bytes:
    """The bytes an event's hash covers: its fields as canonical JSON, then the previous hash."""
    body = [
        event.seq,
        event.created_at.isoformat(timespec="microseconds"),
        event.actor_id,
        event.actor_name,
        event.actor_unit_id,
        event.action,
        event.object_type,
        event.object_id,
        event.payload,
        event.prev_hash,
    ]
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str).encode()


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
    ``payload`` JSON-serialisable detail (never personal data from a data check).
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = obj.pk
    with transaction.atomic():
        last = AuditEvent.objects.select_for_update().order_by("-seq").values("seq", "hash").first()
        seq = (last["seq"] + 1) if last else 1
        prev_hash = last["hash"] if last else GENESIS_HASH
        event = AuditEvent(
            seq=seq,
            created_at=timezone.now(),
            actor_id=getattr(actor, "pk", None),
            actor_name=str(actor) if actor is not None else "system",
            actor_unit_id=getattr(actor, "unit_id", None),
            action=action,
            object_type=object_type,
            object_id=str(object_id) if object_id != "" else "",
            payload=json.loads(json.dumps(payload or {}, ensure_ascii=False, default=str)),
            prev_hash=prev_hash,
            hash="",
        )
        event.hash = digest(canonical_bytes(event))
        event.save(force_insert=True)
    return event
