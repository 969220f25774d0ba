"""The accountability record: an append-only, hash-chained event log."""

from __future__ import annotations

from django.db import models


class AuditEvent(models.Model):
    """One recorded action. ``seq`` is dense from 1; ``hash`` chains over the previous event's hash.

    Rows are never updated or deleted: database triggers refuse it (see migrations).
    ``actor_id``/``actor_unit_id`` are plain integers, not foreign keys, so the record outlives the rows.
    """

    seq = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_name = models.CharField(max_length=150, blank=True)
    actor_unit_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"
