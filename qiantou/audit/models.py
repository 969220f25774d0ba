"""The accountability record: an append-only, hash-chained event log (see ``chain.py`` for the hash)."""

from __future__ import annotations

from django.db import models

from qiantou.audit.fields import CanonicalJSONField

#: The table name the triggers and the verifier's SQL use.
AUDIT_TABLE = "audit_auditevent"


class AuditEvent(models.Model):
    """One recorded action. ``seq`` is dense from 1; ``hash`` = H(``body``), where ``body`` is the
    canonical JSON of the fields below plus ``prev_hash`` (the previous event's hash), and H is the
    event's ``alg`` (SM3 by default, SHA-256 selectable).

    Rows are never updated or deleted: database triggers refuse it (migration 0002). ``qiantou audit
    verify`` checks that the columns still match the hashed body and that the chain is unbroken.
    ``actor_id``/``actor_unit_id`` are plain integers, not foreign keys, so the record outlives the rows.

    A later migration that makes Django rebuild this table on SQLite (most ``AlterField``s) drops the
    triggers with the old table: recreate them there with ``qiantou.audit.protection.install``.
    """

    seq = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_name = models.CharField(max_length=150, blank=True)
    actor_unit_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    payload = CanonicalJSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    #: Hash algorithm of this event ("sm3" or "sha256"): the chain verifies whatever the setting is now.
    alg = models.CharField(max_length=16, default="sm3")
    #: The canonical JSON text the hash covers (``chain.event_body``); the columns above must match it.
    body = models.TextField(default="", editable=False)

    class Meta:
        ordering = ["seq"]  # noqa: RUF012
        indexes = [models.Index(fields=["object_type", "object_id"])]  # noqa: RUF012

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"
