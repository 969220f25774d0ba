"""Append-only in the database: triggers that refuse UPDATE and DELETE on the audit table.

SQLite: a ``BEFORE UPDATE`` trigger always raises; a ``BEFORE DELETE`` trigger raises unless the
application function ``qiantou_audit_unlocked()`` returns 1. Django registers that function on its
own connections and it returns 1 only inside :func:`unlocked` (used by ``flush``, which empties every
table). Any other client (the ``sqlite3`` shell, a script) lacks the function, so its DELETE fails too.

PostgreSQL: a row trigger refuses UPDATE and DELETE always; a statement trigger refuses TRUNCATE unless
the session set ``qiantou.audit_unlocked`` (again only ``flush`` does).

Inserting rows cannot be refused (that is how the record grows); ``qiantou audit verify`` catches
forged rows. Someone who owns the database can drop the triggers: verification catches what they
then change, and :func:`status` reports missing triggers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from qiantou.audit.models import AUDIT_TABLE

SQLITE_TRIGGERS = ("audit_auditevent_no_update", "audit_auditevent_no_delete")
PG_TRIGGERS = ("audit_auditevent_no_update_delete", "audit_auditevent_no_truncate")
PG_FUNCTION = "qiantou_audit_append_only"
SQLITE_UNLOCK_FUNCTION = "qiantou_audit_unlocked"

_SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS audit_auditevent_no_update BEFORE UPDATE ON {AUDIT_TABLE}
    BEGIN SELECT RAISE(ABORT, 'audit record is append-only: UPDATE refused'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS audit_auditevent_no_delete BEFORE DELETE ON {AUDIT_TABLE}
    WHEN NOT {SQLITE_UNLOCK_FUNCTION}()
    BEGIN SELECT RAISE(ABORT, 'audit record is append-only: DELETE refused'); END""",
]
_SQLITE_UNINSTALL = [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS]

_PG_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND current_setting('qiantou.audit_unlocked', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit record is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$""",
    f"""CREATE OR REPLACE TRIGGER audit_auditevent_no_update_delete BEFORE UPDATE OR DELETE ON {AUDIT_TABLE}
    FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()""",
    f"""CREATE OR REPLACE TRIGGER audit_auditevent_no_truncate BEFORE TRUNCATE ON {AUDIT_TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()""",
]
_PG_UNINSTALL = [
    f"DROP TRIGGER IF EXISTS audit_auditevent_no_update_delete ON {AUDIT_TABLE}",
    f"DROP TRIGGER IF EXISTS audit_auditevent_no_truncate ON {AUDIT_TABLE}",
    f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()",
]


def _statements(vendor: str, install: bool) -> list[str]:
    if vendor == "sqlite":
        return _SQLITE_INSTALL if install else _SQLITE_UNINSTALL
    if vendor == "postgresql":
        return _PG_INSTALL if install else _PG_UNINSTALL
    return []


def install(schema_editor: Any) -> None:
    """Create the triggers (in a migration's ``RunPython``); other vendors: nothing."""
    for sql in _statements(schema_editor.connection.vendor, True):
        schema_editor.execute(sql, params=None)


def uninstall(schema_editor: Any) -> None:
    """Drop the triggers (the reverse of :func:`install`)."""
    for sql in _statements(schema_editor.connection.vendor, False):
        schema_editor.execute(sql, params=None)


def status(using: str = "default") -> dict[str, bool]:
    """Which protection triggers exist on database ``using``: ``{trigger name: present}``."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [AUDIT_TABLE]
            )
            names = SQLITE_TRIGGERS
        elif connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass(%s) AND NOT tgisinternal"
                " AND tgenabled <> 'D'",
                [AUDIT_TABLE],
            )
            names = PG_TRIGGERS
        else:
            return {}
        found = {row[0] for row in cursor.fetchall()}
    return {name: name in found for name in names}


def register_sqlite_function(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """``connection_created`` receiver: give Django's SQLite connections ``qiantou_audit_unlocked()``."""
    if connection.vendor != "sqlite":
        return

    def audit_unlocked() -> int:
        return 1 if getattr(connection, "qiantou_audit_unlocked", False) else 0

    connection.connection.create_function(SQLITE_UNLOCK_FUNCTION, 0, audit_unlocked)


@contextmanager
def unlocked(using: str = "default") -> Iterator[None]:
    """Let this connection empty the audit table (SQLite DELETE, PostgreSQL TRUNCATE) — for ``flush`` only.

    Row UPDATEs stay refused on both databases, and row DELETEs on PostgreSQL.
    """
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('qiantou.audit_unlocked', 'on', false)")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('qiantou.audit_unlocked', 'off', false)")
    else:
        connection.qiantou_audit_unlocked = True  # type: ignore[attr-defined]
        try:
            yield
        finally:
            connection.qiantou_audit_unlocked = False  # type: ignore[attr-defined]
