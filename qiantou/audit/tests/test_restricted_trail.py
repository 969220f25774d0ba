"""A plan's audit trail and restricted tasks: events whose payload names a restricted task (a comment on
it, its disposition, a revision changing it, a balancing change of its cooperating units) are redacted
or left out for a viewer who may not see that task — on the web page and through the API — while the
plan's lead unit, the units named on the task and the whole-record readers see them in full. The
stored events never change."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from qiantou.accounts.models import Role, User
from qiantou.allocation.services import AcceptedChange, balance_accept
from qiantou.audit.models import AuditEvent
from qiantou.audit.verification import verify_chain
from qiantou.consultation import services as consultation
from qiantou.consultation.models import Comment, ConsultationRound
from qiantou.consultation.tests.factories import World, make_world
from qiantou.plans import services as plan_services
from qiantou.plans.models import Plan, Task
from qiantou.plans.selectors import today

pytestmark = pytest.mark.django_db

SECRET_COMMENT = "名单涉密，请仅在内部通报刑释人员数据"
SECRET_REASON = "涉密名单不宜扩大知悉范围"
BALANCE = "allocation.balance_accept"
OPEN_COMMENT = "完成时限改为12月底"
SECRET_TEXT_V2 = "与监狱管理局逐月核对刑释人员名单"
SECRET_TEXT_V3 = "与监狱管理局逐周核对刑释人员名单"


def _fresh(task: Task) -> Task:
    return Task.objects.get(pk=task.pk)


@pytest.fixture
def world() -> World:
    """The consultation world with task 2 (lead: unit a; cooperating: the lead unit) restricted."""
    w = make_world()
    t2 = w.tasks[1]
    plan_services.task_update(actor=w.handler, task=t2, lock_version=t2.lock_version, restricted=True)
    return w


@pytest.fixture
def story(world: World) -> dict[str, Any]:
    """Round 1: unit a comments on restricted task 2, unit b on task 1; both disposed. Revision v2
    changes tasks 1 and 2; revision v3 changes only task 2. Balancing then changes the cooperating
    units of tasks 1 and 2 in one acceptance, and of task 2 alone in another. Round 2 opens, so the
    units named in the plan see it (and its trail) again."""
    w = world
    t1, t2 = w.tasks[0], w.tasks[1]
    rnd = consultation.round_open(actor=w.handler, plan=w.plan, closes_on=today() + dt.timedelta(days=7))
    secret = consultation.comment_create(actor=w.liaison_a, round=rnd, body=SECRET_COMMENT, task_id=t2.pk)
    open_ = consultation.comment_create(actor=w.liaison_b, round=rnd, body=OPEN_COMMENT, task_id=t1.pk)
    whole = consultation.comment_create(actor=w.liaison_c, round=rnd, body="无其他意见")
    consultation.round_close(actor=w.handler, round=rnd, early=True)
    consultation.comment_dispose(
        actor=w.handler, comment=secret, disposition="not_adopted", reason=SECRET_REASON, lock_version=0
    )
    consultation.comment_dispose(actor=w.handler, comment=open_, disposition="adopted", lock_version=0)
    plan_services.task_update(
        actor=w.handler, task=_fresh(t1), lock_version=_fresh(t1).lock_version, deadline_text="2026年12月底前"
    )
    plan_services.task_update(
        actor=w.handler, task=_fresh(t2), lock_version=_fresh(t2).lock_version, text=SECRET_TEXT_V2
    )
    v2 = consultation.plan_revision_create(actor=w.handler, plan=w.plan)
    plan_services.task_update(
        actor=w.handler, task=_fresh(t2), lock_version=_fresh(t2).lock_version, text=SECRET_TEXT_V3
    )
    v3 = consultation.plan_revision_create(actor=w.handler, plan=w.plan)
    plan = Plan.objects.get(pk=w.plan.pk)
    both = balance_accept(
        actor=w.handler,
        plan=plan,
        changes=[
            AcceptedChange(
                task_id=t1.pk,
                lock_version=_fresh(t1).lock_version,
                cooperating_unit_ids=(w.c.pk,),
            ),
            AcceptedChange(
                task_id=t2.pk,
                lock_version=_fresh(t2).lock_version,
                cooperating_unit_ids=(w.c.pk,),
            ),
        ],
    )
    assert len(both) == 2
    balance_accept(
        actor=w.handler,
        plan=plan,
        changes=[
            AcceptedChange(
                task_id=t2.pk, lock_version=_fresh(t2).lock_version, cooperating_unit_ids=(w.lead.pk,)
            )
        ],
    )
    consultation.round_open(actor=w.handler, plan=w.plan, closes_on=today() + dt.timedelta(days=7))
    return {"secret": secret, "open": open_, "whole": whole, "v2": v2, "v3": v3}


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_events(user: User, plan: Plan) -> list[dict[str, Any]]:
    """Every event of the plan's trail as the API gives it to ``user`` (all pages)."""
    client, items, page = _client(user), [], 1
    while True:
        response = client.get(f"/api/audit/events?object_type=plans.plan&object_id={plan.pk}&page={page}")
        assert response.status_code == 200, response.content
        data = response.json()
        items += data["items"]
        if len(items) >= data["count"]:
            assert len(items) == data["count"]
            return items
        page += 1


def web_page(user: User, plan: Plan) -> tuple[str, list[AuditEvent]]:
    response = _client(user).get(f"/audit/plans.plan/{plan.pk}/")
    assert response.status_code == 200
    return response.content.decode(), list(response.context["events"])


def rows(events: list[Any]) -> list[dict[str, Any]]:
    """API items as they are; the page's events as the same keys."""
    return [
        e if isinstance(e, dict) else {"action": e.action, "object_id": e.object_id, "payload": e.payload}
        for e in events
    ]


def _by_action(events: list[Any], action: str) -> list[dict[str, Any]]:
    return [r for r in rows(events) if r["action"] == action]


def _revisions(events: list[Any]) -> dict[int, list[str]]:
    """Revision events as {to version: numbers of the tasks named in its changes}."""
    return {
        r["payload"]["to"]: [c["no"] for c in r["payload"]["changes"]]
        for r in _by_action(events, "consultation.revise")
    }


def _balancing(events: list[Any]) -> list[list[int]]:
    """Balancing acceptances as the task ids each names."""
    return [[t["task"] for t in r["payload"]["tasks"]] for r in _by_action(events, BALANCE)]


def _commented(events: list[Any]) -> set[str]:
    """Object ids of the comments the trail shows an event of (commented or disposed)."""
    return {
        str(r["object_id"])
        for action in ("consultation.comment", "consultation.dispose")
        for r in _by_action(events, action)
    }


def test_other_named_unit_liaison_sees_no_restricted_task_details(
    world: World, story: dict[str, Any]
) -> None:
    """Unit b is named on tasks 1 and 3, not on restricted task 2: its liaison reads the plan's trail
    without the comment on task 2, its disposition, task 2's changes and its balancing."""
    w, plan = world, world.plan
    t1, t2 = w.tasks[0], w.tasks[1]
    open_, whole = story["open"], story["whole"]
    html, page_events = web_page(w.liaison_b, plan)
    api = api_events(w.liaison_b, plan)
    for events in (api, page_events):
        assert _commented(events) == {str(open_.pk), str(whole.pk)}
        assert _revisions(events) == {2: ["1"]}  # v3 changed only task 2: left out
        assert _balancing(events) == [[t1.pk]]  # the acceptance about task 2 alone: left out
        dumped = json.dumps(rows(events), ensure_ascii=False)
        for leak in (SECRET_COMMENT, SECRET_REASON, SECRET_TEXT_V2, SECRET_TEXT_V3):
            assert leak not in dumped
        assert all(r["payload"].get("task_id") != t2.pk for r in rows(events))
    assert OPEN_COMMENT in html and SECRET_COMMENT not in html and SECRET_REASON not in html
    assert [e["seq"] for e in api] == [e.seq for e in page_events]


def test_lead_unit_named_unit_and_auditor_see_everything(world: World, story: dict[str, Any]) -> None:
    w, plan = world, world.plan
    t1, t2 = w.tasks[0], w.tasks[1]
    everyone = {str(story[k].pk) for k in ("secret", "open", "whole")}
    for user in (w.handler, w.auditor, w.liaison_a):
        for events in (api_events(user, plan), web_page(user, plan)[1]):
            assert _commented(events) == everyone, user.username
            assert _revisions(events) == {2: ["1", "2"], 3: ["2"]}, user.username
            assert _balancing(events) == [[t1.pk, t2.pk], [t2.pk]], user.username
    html, _events = web_page(w.handler, plan)
    assert SECRET_COMMENT in html and SECRET_REASON in html


def test_stored_events_are_unchanged(world: World, story: dict[str, Any]) -> None:
    """Reading the trail as a liaison changes nothing in the record: the chain still verifies and the
    stored revision still names task 2."""
    before = list(AuditEvent.objects.order_by("seq").values_list("seq", "hash", "payload"))
    api_events(world.liaison_b, world.plan)
    web_page(world.liaison_b, world.plan)
    after = AuditEvent.objects.filter(seq__lte=before[-1][0]).order_by("seq")  # logins are recorded too
    assert list(after.values_list("seq", "hash", "payload")) == before
    stored = AuditEvent.objects.get(action="consultation.revise", payload__to=2)
    assert [c["no"] for c in stored.payload["changes"]] == ["1", "2"]
    assert verify_chain().ok


def test_a_task_restricted_after_the_round_hides_its_comment(world: World) -> None:
    """Task 3 (lead c, cooperating b) is open when unit c comments on it; the lead unit restricts it
    afterwards. Unit a (never named on task 3) no longer sees that comment on the plan's trail; unit b,
    named on task 3 in the version the round circulated, still does — as on the round's own page."""
    w = world
    t3 = w.tasks[2]
    rnd = consultation.round_open(actor=w.handler, plan=w.plan, closes_on=today() + dt.timedelta(days=7))
    late = consultation.comment_create(actor=w.liaison_c, round=rnd, body="牵头单位应调整", task_id=t3.pk)
    assert str(late.pk) in _commented(api_events(w.liaison_a, w.plan))  # open task: everyone sees it
    consultation.round_close(actor=w.handler, round=rnd, early=True)
    plan_services.task_update(
        actor=w.handler, task=_fresh(t3), lock_version=_fresh(t3).lock_version, restricted=True
    )
    consultation.round_open(actor=w.handler, plan=w.plan, closes_on=today() + dt.timedelta(days=7))
    assert str(late.pk) not in _commented(api_events(w.liaison_a, w.plan))
    for user in (w.liaison_b, w.liaison_c, w.handler):
        assert str(late.pk) in _commented(api_events(user, w.plan)), user.username


def test_trail_queries_do_not_grow_with_comments(world: World, story: dict[str, Any]) -> None:
    """The restricted-task lookup is done once per request: more comments and revisions on the plan
    do not add queries to a liaison's trail page."""
    w = world

    def count() -> int:
        client = _client(w.liaison_b)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/audit/plans.plan/{w.plan.pk}/").status_code == 200
        return len(ctx.captured_queries)

    first = count()
    rnd = ConsultationRound.objects.get(plan=w.plan, status="open")
    for i in range(5):
        for liaison, task in ((w.liaison_a, w.tasks[1]), (w.liaison_b, w.tasks[0])):
            consultation.comment_create(actor=liaison, round=rnd, body=f"意见{i}", task_id=task.pk)
    assert Comment.objects.filter(round=rnd).count() == 10
    assert count() == first


def test_whole_record_reader_api_unfiltered_is_unchanged(world: World, story: dict[str, Any]) -> None:
    """The security auditor (a whole-record reader with no unit) reads the trail in full, too."""
    secauditor = User.objects.create_user(
        username="secauditor", password="x" * 12, role=Role.SECURITY_AUDITOR, display_name="安审"
    )
    events = api_events(secauditor, world.plan)
    assert _revisions(events) == {2: ["1", "2"], 3: ["2"]}
    assert str(story["secret"].pk) in _commented(events)
