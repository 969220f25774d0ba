"""The record in the database: append-only triggers, and ``qiantou audit verify`` against tampering.

Each tamper test acts like an attacker with database access: first get past the triggers (drop them,
or on PostgreSQL ``session_replication_role = replica``), then edit, delete, insert or reorder rows
with raw SQL. Runs on SQLite and, with ``DATABASE_URL=postgres://…``, on PostgreSQL.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import override_settings

from qiantou.accounts.models import Role, User
from qiantou.audit import chain, protection, verification
from qiantou.audit.models import AuditEvent
from qiantou.audit.services import audit_record
from qiantou.audit.tests.test_chain import broke
from qiantou.audit.verification import chain_head, verify_chain

pytestmark = pytest.mark.django_db
PG = connection.vendor == "postgresql"


@pytest.fixture
def events() -> list[AuditEvent]:
    """Eight events from a user and the system, with Chinese text, nested payloads and numbers."""
    user = User.objects.create(username="handler1", display_name="王经办", role=Role.HANDLER)
    out = []
    for i in range(1, 9):
        out.append(
            audit_record(
                actor=user if i % 2 else None,
                action="task.assign" if i % 3 else "reminder.send",
                object_type="plans.task",
                object_id=i,
                payload={
                    "第": i,
                    "units": ["市民政局", "市司法局"],
                    "ratio": i / 4,
                    "nested": {"z": None, "a": True},
                },
            )
        )
    return out


def run_verify(*args: str) -> tuple[int, str, str]:
    """``qiantou audit verify``: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit", "verify", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


@contextmanager
def bypass(way: str = "drop") -> Iterator[None]:
    """Get past the append-only triggers as an attacker would (rolled back with the test)."""
    with connection.cursor() as cursor:
        if way == "replica":
            cursor.execute("SET LOCAL session_replication_role = replica")
        elif PG:
            cursor.execute(f"DROP TRIGGER {protection.PG_TRIGGERS[0]} ON audit_auditevent")
        else:
            for name in protection.SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER {name}")
        yield
        if way == "replica":
            cursor.execute("SET LOCAL session_replication_role = origin")


def sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def assert_broken_at(seq: int, reasons: set[str]) -> None:
    """Both verification paths and the command name the same first broken event."""
    for fast in (True, False):
        result = verify_chain(fast=fast)
        assert not result.ok, f"fast={fast}"
        assert broke(result).seq == seq and broke(result).reason in reasons, (fast, result.broken)
    code, _, err = run_verify()
    assert code == 1
    assert f"BROKEN event #{seq} " in err


BYPASSES = ["drop", "replica"] if PG else ["drop"]


def test_untouched_chain_verifies(events: list[AuditEvent]) -> None:
    for fast in (True, False):
        result = verify_chain(fast=fast)
        assert result.ok and result.count == 8 and result.head_hash == events[-1].hash and not result.notes
    code, out, _ = run_verify()
    assert code == 0 and f"OK 8 events verified; head #8 {events[-1].hash}" in out
    head = io.StringIO()
    call_command("audit", "head", stdout=head)
    assert head.getvalue().strip() == f"8 {events[-1].hash}"
    assert chain_head() == (8, events[-1].hash)


def test_an_untouched_chain_is_checked_in_the_database_without_the_fallback(
    events: list[AuditEvent], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The Python fallback gives the same answers, many times slower: it must only run when the
    # database cannot check a row, never because the fast path itself is broken.
    def no_fallback(*args: object) -> None:
        raise AssertionError("the fast path fell back to Python")

    monkeypatch.setattr(verification, "_python_rows", no_fallback)
    result = verify_chain()
    assert result.ok and result.count == 8


def test_events_are_chained_with_sm3_by_default(events: list[AuditEvent]) -> None:
    first, second = AuditEvent.objects.order_by("seq")[:2]
    assert first.prev_hash == chain.GENESIS_HASH and second.prev_hash == first.hash
    assert first.alg == "sm3" and first.hash == chain.digest(first.body.encode(), "sm3")
    fields = chain.body_fields(second.body)
    assert fields["payload"] == second.payload and fields["actor_name"] == "system"
    assert chain.body_fields(first.body)["actor_name"] == "王经办"


def test_switching_to_sha256_keeps_the_chain_verifiable(events: list[AuditEvent]) -> None:
    with override_settings(AUDIT_HASH_ALGORITHM="sha256"):
        event = audit_record(actor=None, action="config.change", payload={"alg": "sha256"})
    assert event.alg == "sha256" and event.hash == chain.digest(event.body.encode(), "sha256")
    assert verify_chain().ok


def test_orm_and_sql_updates_and_deletes_are_refused(events: list[AuditEvent]) -> None:
    attempts = [
        lambda: AuditEvent.objects.filter(seq=3).update(action="tampered"),
        lambda: AuditEvent.objects.filter(seq=3).delete(),
        lambda: events[2].delete(),
        lambda: sql("UPDATE audit_auditevent SET payload = %s WHERE seq = 3", ['{"x":1}']),
        lambda: sql("DELETE FROM audit_auditevent WHERE seq = 8"),
    ]
    if PG:
        attempts.append(lambda: sql("TRUNCATE audit_auditevent"))
    for attempt in attempts:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    assert AuditEvent.objects.count() == 8 and verify_chain().ok
    assert all(protection.status().values())


@pytest.mark.django_db(transaction=True)
def test_flush_may_empty_the_record_but_nothing_else_may(events: list[AuditEvent]) -> None:
    # Transactional tests are isolated by ``flush`` — it must get through the triggers (and does so
    # again after this test).
    call_command("flush", interactive=False, verbosity=0)
    assert AuditEvent.objects.count() == 0
    audit_record(actor=None, action="after.flush")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.all().delete()


@pytest.mark.parametrize("way", BYPASSES)
def test_raw_payload_edit_is_named(events: list[AuditEvent], way: str) -> None:
    with bypass(way):
        if PG:
            sql("UPDATE audit_auditevent SET payload = jsonb_set(payload, '{第}', '300') WHERE seq = 3")
        else:
            sql("UPDATE audit_auditevent SET payload = json_set(payload, '$.第', 300) WHERE seq = 3")
    assert_broken_at(3, {"fields:payload"})


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("action", "task.withdraw"),
        ("actor_id", 999),
        ("actor_name", "李四"),
        ("object_id", "77"),
        ("actor_unit_id", 5),
        ("object_type", "plans.plan"),
    ],
)
def test_raw_column_edits_are_named(events: list[AuditEvent], column: str, value: object) -> None:
    with bypass():
        sql(f"UPDATE audit_auditevent SET {column} = %s WHERE seq = 4", [value])
    assert_broken_at(4, {f"fields:{column}"})


def test_raw_time_edit_is_named(events: list[AuditEvent]) -> None:
    with bypass():
        if PG:
            sql("UPDATE audit_auditevent SET created_at = created_at - interval '1 day' WHERE seq = 5")
        else:
            sql("UPDATE audit_auditevent SET created_at = '2020-01-01 00:00:00.000001' WHERE seq = 5")
    assert_broken_at(5, {"fields:created_at"})


ESCAPED = ['他说"好"', "C:\\路径\\", "一行\n二行\t\x01", "平常"]


@pytest.mark.parametrize("odd", ESCAPED)
def test_strings_json_must_escape_verify_and_an_edit_is_named(events: list[AuditEvent], odd: str) -> None:
    # Quotes, backslashes and control characters in the text columns (each escaped in the body).
    audit_record(actor=None, action=f"x.{odd}", object_type=odd, object_id=odd, payload={"k": odd})
    assert verify_chain().ok and verify_chain(fast=False).ok
    with bypass():
        sql("UPDATE audit_auditevent SET object_id = object_id || 'x' WHERE seq = 9")
    assert_broken_at(9, {"fields:object_id"})


def test_a_column_spelling_the_escaped_form_of_the_body_value_is_named(events: list[AuditEvent]) -> None:
    # The body holds "a\"b" (the string a"b); a column holding a\"b (with the backslash) spells the
    # same characters unescaped, yet is another value.
    audit_record(actor=None, action="x.quote", object_type="plans.task", object_id='a"b')
    with bypass():
        sql("UPDATE audit_auditevent SET object_id = %s WHERE seq = 9", ['a\\"b'])
    assert_broken_at(9, {"fields:object_id"})


def test_body_edit_without_rehash_is_named(events: list[AuditEvent]) -> None:
    with bypass():
        sql("UPDATE audit_auditevent SET body = replace(body, '市司法局', '市公安局') WHERE seq = 6")
    assert_broken_at(6, {"hash"})


def test_body_made_unparseable_is_named(events: list[AuditEvent]) -> None:
    with bypass():
        sql("UPDATE audit_auditevent SET body = 'not json' WHERE seq = 6")
    assert_broken_at(6, {"hash"})


def test_body_whose_payload_the_database_cannot_parse_is_named(events: list[AuditEvent]) -> None:
    # Columns before and after the payload still match the body, so on PostgreSQL the check reaches
    # the payload, cannot parse it, and verification falls back to Python: same answer either way.
    with bypass():
        sql("""UPDATE audit_auditevent SET body = replace(body, '"nested":', '"nested"') WHERE seq = 6""")
    assert_broken_at(6, {"hash"})


def test_a_break_early_in_a_long_stream_leaves_the_connection_usable(
    events: list[AuditEvent], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Batches of two: verification stops at #3 with rows of the result still unread on PostgreSQL.
    monkeypatch.setattr(verification, "CHUNK", 2)
    with bypass():
        sql("UPDATE audit_auditevent SET action = 'task.withdraw' WHERE seq = 3")
    assert broke(verify_chain()).reason == "fields:action"
    assert AuditEvent.objects.count() == 8  # the same connection and transaction go on working
    assert broke(verify_chain()).seq == 3


def test_consistent_rewrite_of_one_event_breaks_the_next_link(events: list[AuditEvent]) -> None:
    # A careful attacker rewrites body, columns and hash of #3 together: #4 no longer links to it.
    e = events[2]
    body = chain.event_body(
        seq=3,
        created_at=e.created_at,
        actor_id=e.actor_id,
        actor_name=e.actor_name,
        actor_unit_id=e.actor_unit_id,
        action="task.withdraw",
        object_type=e.object_type,
        object_id=e.object_id,
        payload=e.payload,
        prev_hash=e.prev_hash,
    )
    with bypass():
        sql(
            "UPDATE audit_auditevent SET action = %s, body = %s, hash = %s WHERE seq = 3",
            ["task.withdraw", body, chain.event_hash(body, "sm3")],
        )
    assert_broken_at(4, {"link"})


@pytest.mark.parametrize("way", BYPASSES)
def test_deleted_event_is_named(events: list[AuditEvent], way: str) -> None:
    with bypass(way):
        sql("DELETE FROM audit_auditevent WHERE seq = 5")
    assert_broken_at(5, {"missing"})


def test_deleted_last_event_is_caught_by_the_trusted_head(events: list[AuditEvent]) -> None:
    head = f"{events[-1].seq}:{events[-1].hash}"
    assert run_verify("--expect-head", head)[0] == 0
    assert run_verify("--expect-head", f"5:{events[4].hash}")[0] == 0
    with bypass():
        sql("DELETE FROM audit_auditevent WHERE seq = 8")
    assert verify_chain().ok  # a shorter chain is still a chain…
    code, _, err = run_verify("--expect-head", head)
    assert code == 1 and "BROKEN event #8 [head]" in err  # …but not the one the auditor anchored
    assert run_verify("--expect-head", events[-1].hash)[0] == 1


def forged_row(seq: int, prev_hash: str, *, action: str = "task.accept", good_hash: bool = True) -> None:
    """Insert an event with raw SQL (inserts are never refused), as if written by the application."""
    last = AuditEvent.objects.order_by("-seq").first()
    assert last is not None
    body = chain.event_body(
        seq=seq,
        created_at=last.created_at,
        actor_id=None,
        actor_name="system",
        actor_unit_id=None,
        action=action,
        object_type="plans.task",
        object_id="1",
        payload={},
        prev_hash=prev_hash,
    )
    hash_ = chain.event_hash(body, "sm3") if good_hash else "f" * 64
    payload = "{}"
    sql(
        "INSERT INTO audit_auditevent (seq, created_at, actor_id, actor_name, actor_unit_id, action,"
        " object_type, object_id, payload, prev_hash, hash, alg, body)"
        " VALUES (%s, %s, NULL, 'system', NULL, %s, 'plans.task', '1', %s, %s, %s, 'sm3', %s)",
        [
            seq,
            connection.ops.adapt_datetimefield_value(last.created_at),
            action,
            payload,
            prev_hash,
            hash_,
            body,
        ],
    )


def test_forged_row_appended_with_a_wrong_hash_is_named(events: list[AuditEvent]) -> None:
    forged_row(9, events[-1].hash, good_hash=False)
    assert_broken_at(9, {"hash"})


def test_forged_row_inserted_in_the_middle_is_named(events: list[AuditEvent]) -> None:
    # Make room after #4 (renumber 5..8 to 6..9, highest first), then insert a well-formed #5.
    with bypass():
        for seq in range(8, 4, -1):
            sql("UPDATE audit_auditevent SET seq = seq + 1 WHERE seq = %s", [seq])
        forged_row(5, events[3].hash)
    # The forged #5 links to #4 and hashes correctly; the old #5 (now #6) does not link to it.
    assert_broken_at(6, {"link"})


@pytest.mark.parametrize("way", BYPASSES)
def test_reordered_events_are_named(events: list[AuditEvent], way: str) -> None:
    with bypass(way):
        sql("UPDATE audit_auditevent SET seq = -1 WHERE seq = 3")
        sql("UPDATE audit_auditevent SET seq = 3 WHERE seq = 6")
        sql("UPDATE audit_auditevent SET seq = 6 WHERE seq = -1")
    assert_broken_at(3, {"link", "fields:seq"})


def test_missing_triggers_are_reported(events: list[AuditEvent]) -> None:
    with bypass():
        result = verify_chain()
        assert result.ok and any("protection triggers missing" in note for note in result.notes)
        code, _, err = run_verify()
        assert code == 0 and "protection triggers missing" in err


def test_export_then_verify_offline(events: list[AuditEvent], tmp_path) -> None:
    path = tmp_path / "bundle.jsonl"
    call_command("audit", "export", "--out", str(path), stderr=io.StringIO())
    code, out, _ = run_verify("--bundle", str(path))
    assert code == 0 and f"OK 8 events verified; head #8 {events[-1].hash}" in out
    assert chain.verify_bundle(path, expect_head=events[-1].hash).ok
    # The bundle holds the hashed record itself: what the auditor reads is what was signed.
    lines = path.read_text(encoding="utf-8").splitlines()
    assert chain.body_fields(json.loads(lines[3])["body"])["payload"]["units"] == ["市民政局", "市司法局"]
    lines[3] = lines[3].replace("市民政局", "市财政局")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, err = run_verify("--bundle", str(path))
    assert code == 1 and "BROKEN event #3 [hash]" in err


def test_export_of_a_tampered_database_fails_offline_too(events: list[AuditEvent], tmp_path) -> None:
    with bypass():
        sql("DELETE FROM audit_auditevent WHERE seq = 2")
    path = tmp_path / "bundle.jsonl"
    call_command("audit", "export", "--out", str(path), stderr=io.StringIO())
    result = chain.verify_bundle(path)
    assert not result.ok and broke(result).seq == 2 and broke(result).reason == "missing"
