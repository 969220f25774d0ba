"""A JSON field that stores canonical JSON text on SQLite, so SQL can compare it with the hashed body."""

from __future__ import annotations

from typing import Any

from django.db import models

from qiantou.audit.chain import canonical_json


class CanonicalJSONField(models.JSONField):
    """``JSONField`` whose SQLite text is :func:`qiantou.audit.chain.canonical_json` (sorted, compact, UTF-8).

    Verification compares ``json(payload)`` with the payload inside the hashed body in SQL; with the
    default encoder (``ensure_ascii``, ", " separators) the two texts would differ. PostgreSQL
    stores ``jsonb``, which compares by value, so nothing changes there.
    """

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        """Canonical text on SQLite; Django's adaptation elsewhere (and for expressions)."""
        if connection.vendor == "sqlite" and not hasattr(value, "as_sql"):
            if not prepared:
                value = self.get_prep_value(value)
            return canonical_json(value)
        return super().get_db_prep_value(value, connection, prepared)
