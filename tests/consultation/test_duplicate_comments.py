"""A comment posted twice (a network retry, a double click, two simultaneous POSTs) is saved once:
the same text from the same unit on the same task within a few minutes answers with the first comment.
A different task, a different text or a later repeat is a new comment."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from django.db import connection

from qiantou.audit.models import AuditEvent
from qiantou.consultation import services
from qiantou.consultation.models import Comment, ConsultationRound
from qiantou.consultation.tests.factories import World, client_for
from qiantou.plans.selectors import today

pytestmark = pytest.mark.django_db



def opened(world: World) -> ConsultationRound:
    return services.round_open(actor=world.handler, plan=world.plan, closes_on=today() + dt.timedelta(days=5))



def test_a_repeated_comment_is_saved_once(world: World) -> None:
    rnd = opened(world)
    task = world.tasks[0].pk
    first = services.comment_create(actor=world.liaison_b, round=rnd, body="建议明确资金来源", task_id=task)
    again = services.comment_create(actor=world.liaison_b, round=rnd, body=" 建议明确资金来源 ", task_id=task)
    assert again.pk == first.pk and Comment.objects.count() == 1
    assert AuditEvent.objects.filter(action="consultation.comment").count() == 1
    # not repeats: another task, the whole plan, another text
    services.comment_create(
        actor=world.liaison_b, round=rnd, body="建议明确资金来源", task_id=world.tasks[2].pk
    )
    services.comment_create(actor=world.liaison_b, round=rnd, body="建议明确资金来源")
    services.comment_create(actor=world.liaison_b, round=rnd, body="另一条意见", task_id=task)
    assert Comment.objects.count() == 4
    # the same text again later is a new comment
    Comment.objects.update(created_at=first.created_at - services.DUPLICATE_COMMENT_WINDOW - dt.timedelta(1))
    services.comment_create(actor=world.liaison_b, round=rnd, body="建议明确资金来源", task_id=task)
    assert Comment.objects.count() == 5


def test_web_and_api_double_posts_create_one_comment(world: World) -> None:
    rnd = opened(world)
    web = client_for(world.liaison_b)
    for _ in range(2):
        web.post(f"/consultation/rounds/{rnd.pk}/comment/", {"body": "整体意见"})
    api = client_for(world.liaison_a)
    body = json.dumps({"body": "建议调整时限", "task_id": world.tasks[1].pk})
    url = f"/api/consultation/rounds/{rnd.pk}/comments"
    ids = {api.post(url, body, content_type="application/json").json()["id"] for _ in range(2)}
    assert len(ids) == 1
    assert sorted(Comment.objects.values_list("body", flat=True)) == ["建议调整时限", "整体意见"]


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="threads need a real server (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_posts_create_one_comment(world: World) -> None:
    rnd = opened(world)
    barrier = threading.Barrier(2)
    ids: list[int] = []

    def post() -> None:
        try:
            barrier.wait()
            comment = services.comment_create(
                actor=world.liaison_b, round=ConsultationRound(pk=rnd.pk), body="同一条意见"
            )
            ids.append(comment.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == 2 and len(set(ids)) == 1
    assert Comment.objects.count() == 1
