"""Who reads the record: the selectors and ``/api/audit/`` per role (the audit trail, permission matrix)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from qiantou.accounts.models import User
from qiantou.audit import chain
from qiantou.audit.selectors import audit_events_all, audit_events_for
from qiantou.audit.services import audit_record
from qiantou.plans.models import PlanStatus
from qiantou.plans.tests.factories import World, make_plan, make_task, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def trail(world: World) -> dict[str, Any]:
    """A consulting plan of the lead unit with an open and a restricted task, and an unrelated plan."""
    plan = make_plan(world.lead, status=PlanStatus.CONSULTING)
    task = make_task(plan, no="1", lead=[world.lead], cooperating=[world.named])
    secret = make_task(plan, no="2", lead=[world.lead], restricted=True)
    other_plan = make_plan(world.other, status=PlanStatus.DRAFT, title="别的方案")
    events = {
        "plan": audit_record(actor=world.handler, action="plan.create", obj=plan),
        "task": audit_record(
            actor=world.handler, action="task.assign", obj=task, payload={"unit": "市司法局"}
        ),
        "secret": audit_record(actor=world.handler, action="task.assign", obj=secret),
        "other": audit_record(actor=None, action="plan.create", obj=other_plan),
    }
    return {"plan": plan, "task": task, "secret": secret, "other_plan": other_plan, "events": events}


def seqs(qs: Any) -> list[int]:
    return [e.seq for e in qs]


def test_plan_trail_includes_visible_children_only(world: World, trail: dict[str, Any]) -> None:
    ev = trail["events"]
    # The lead unit's handler sees the plan, both tasks (restricted ones too: its own plan).
    assert seqs(audit_events_for(world.handler, trail["plan"])) == [
        ev["plan"].seq,
        ev["task"].seq,
        ev["secret"].seq,
    ]
    # The cooperating unit's liaison sees the plan's trail without the restricted task's events.
    assert seqs(audit_events_for(world.named_liaison, trail["plan"])) == [ev["plan"].seq, ev["task"].seq]
    # A task's own trail; the object given as a type and id.
    assert seqs(audit_events_for(world.named_liaison, ("plans.task", trail["task"].pk))) == [ev["task"].seq]
    assert seqs(audit_events_for(world.handler, "plans.plan", trail["plan"].pk, children=False)) == [
        ev["plan"].seq
    ]


def test_whole_record_for_auditor_roles_only(world: World, trail: dict[str, Any]) -> None:
    for user in (world.auditor, world.supervision, world.secauditor):
        assert audit_events_all(user).count() == 4, user.role
        assert len(seqs(audit_events_for(user, trail["plan"]))) == 3
    for user in (world.handler, world.named_liaison, world.sysadmin, world.secadmin):
        assert not audit_events_all(user).exists(), user.role
        assert user.has_perm("audit.view_events") is False


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        # Logins are recorded (auth.login); these tests count the record's events, so the test
        # sessions are opened without that receiver.
        from django.contrib.auth.signals import user_logged_in

        user_logged_in.disconnect(dispatch_uid="qiantou.security.login")
        try:
            client.force_login(user)
        finally:
            from qiantou.security.signals import on_logged_in

            user_logged_in.connect(on_logged_in, dispatch_uid="qiantou.security.login")
    return client


def test_api_events_per_role(world: World, trail: dict[str, Any]) -> None:
    plan, other = trail["plan"], trail["other_plan"]
    url = f"/api/audit/events?object_type=plans.plan&object_id={plan.pk}"
    ok = {"handler": 3, "unit_head": 3, "named_liaison": 2, "auditor": 3, "supervision": 3, "secauditor": 3}
    for name, n in ok.items():
        response = client_for(getattr(world, name)).get(url)
        assert response.status_code == 200, name
        assert response.json()["count"] == n, name
    # Units that may not see the plan get 404, exactly as for a plan that does not exist.
    for name in ("other_liaison", "sysadmin", "secadmin"):
        response = client_for(getattr(world, name)).get(url)
        assert response.status_code == 404, name
        missing = client_for(getattr(world, name)).get(
            "/api/audit/events?object_type=plans.plan&object_id=999999"
        )
        assert missing.status_code == 404 and missing.json() == response.json()
    # A draft plan of another unit: even its existence is hidden from the lead unit's handler.
    assert (
        client_for(world.handler)
        .get(f"/api/audit/events?object_type=plans.plan&object_id={other.pk}")
        .status_code
        == 404
    )
    # The whole record without a filter: readers only.
    assert client_for(world.auditor).get("/api/audit/events").json()["count"] == 4
    assert client_for(world.handler).get("/api/audit/events").status_code == 404
    assert client_for(None).get(url).status_code == 401
    item = client_for(world.handler).get(url).json()["items"][1]
    assert (
        item["action"] == "task.assign" and item["payload"] == {"unit": "市司法局"} and item["alg"] == "sm3"
    )


def test_api_verify_head_export(world: World, trail: dict[str, Any]) -> None:
    head = trail["events"]["other"]
    for name in ("auditor", "supervision", "secauditor"):
        data = client_for(getattr(world, name)).get("/api/audit/verify").json()
        assert data["ok"] is True and data["count"] == 4 and data["head_hash"] == head.hash, name
    assert client_for(world.auditor).get("/api/audit/head").json() == {"seq": head.seq, "hash": head.hash}
    for name in ("handler", "named_liaison", "sysadmin", "secadmin"):
        for path in ("/api/audit/verify", "/api/audit/head", "/api/audit/export"):
            assert client_for(getattr(world, name)).get(path).status_code == 403, (name, path)
    assert client_for(None).get("/api/audit/verify").status_code == 401

    response = client_for(world.auditor).get("/api/audit/export")
    assert response.status_code == 200
    bundle = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    result = chain.verify_bundle(io.StringIO(bundle), expect_head=head.hash)
    assert result.ok and result.count == 4


def test_api_verify_reports_the_broken_event(world: World, trail: dict[str, Any]) -> None:
    task_event = trail["events"]["task"]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        else:
            cursor.execute("DROP TRIGGER audit_auditevent_no_update")
        cursor.execute("UPDATE audit_auditevent SET actor_name = '别人' WHERE seq = %s", [task_event.seq])
    data = client_for(world.auditor).get("/api/audit/verify").json()
    assert (
        data["ok"] is False and data["broken_seq"] == task_event.seq and data["reason"] == "fields:actor_name"
    )


@pytest.mark.parametrize("odd", ["²", "-1", "1.0", " "])
def test_api_events_refuses_ids_that_are_no_whole_number(
    world: World, trail: dict[str, Any], odd: str
) -> None:
    """"²" passes ``str.isdigit`` but ``int()`` refuses it: that was a 500; now nobody's object (404 for
    ordinary users, an empty trail for whole-record readers, who may query any id)."""
    url = "/api/audit/events"
    params = {"object_type": "plans.plan", "object_id": odd}
    response = client_for(world.handler).get(url, params)
    assert response.status_code == 404 and "未找到" in response.json()["detail"]
    reader = client_for(world.auditor).get(url, params)
    assert reader.status_code == 200 and reader.json()["count"] == 0


@pytest.mark.parametrize("spelling", ["{pk}", "00{pk}", "full-width", " {pk} "])
def test_api_events_reads_other_spellings_of_the_id_as_the_plan(
    world: World, trail: dict[str, Any], spelling: str
) -> None:
    """Full-width digits or leading zeros name the same plan: its own events as well as its children's."""
    pk = str(trail["plan"].pk)
    oid = pk.translate(str.maketrans("0123456789", "０１２３４５６７８９")) if spelling == "full-width" else (
        spelling.format(pk=pk))
    ev = trail["events"]
    for user in (world.auditor, world.handler):
        response = client_for(user).get("/api/audit/events", {"object_type": "plans.plan", "object_id": oid})
        assert response.status_code == 200, user.role
        seqs_seen = [e["seq"] for e in response.json()["items"]]
        assert seqs_seen == [ev["plan"].seq, ev["task"].seq, ev["secret"].seq]


def test_canonical_object_id() -> None:
    from qiantou.audit.selectors import canonical_object_id

    assert canonical_object_id("00005") == canonical_object_id("５") == canonical_object_id(5) == "5"
    assert canonical_object_id("0") == "0"
    for odd in ("²", "", "-1", "1e3", "9223372036854775808", "9" * 5000):
        assert canonical_object_id(odd) is None, odd
