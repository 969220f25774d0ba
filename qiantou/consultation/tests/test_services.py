"""Consultation services: opening a round, comments and "no objection", closing with silence recorded,
dispositions (reasons, locking), revisions and the frozen versions, the statement files."""

from __future__ import annotations

import datetime as dt
import io
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import ProtectedError

from qiantou.audit.models import AuditEvent
from qiantou.consultation import exports, selectors, services
from qiantou.consultation.diff import version_diff
from qiantou.consultation.models import Comment, ConsultationRound, Disposition, Response, RoundStatus
from qiantou.consultation.tests.factories import World, make_world
from qiantou.errors import ConflictError, StateError
from qiantou.notifications.models import InboxItem
from qiantou.plans import services as plan_services
from qiantou.plans.models import Plan, PlanStatus, PlanVersion, Task
from qiantou.plans.selectors import today

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return make_world()


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))


def open_round(world: World, **kw: object) -> ConsultationRound:
    kw.setdefault("closes_on", today() + dt.timedelta(days=7))
    return services.round_open(actor=world.handler, plan=world.plan, **kw)  # type: ignore[arg-type]


def test_open_round_defaults_to_every_unit_named_and_freezes_version_1(world: World) -> None:
    rnd = open_round(world, note="请于截止日前反馈")
    assert [c.unit for c in rnd.consulted.order_by("position")] == [world.b, world.a, world.c]
    world.plan.refresh_from_db()
    assert world.plan.status == PlanStatus.CONSULTING
    assert rnd.version.number == 1 and rnd.version.reason == PlanVersion.Reason.CIRCULATED
    assert [t["no"] for t in rnd.version.snapshot["tasks"]] == ["1", "2", "3"]
    assert "consultation.open" in actions() and "plan.version" in actions()
    notified = set(InboxItem.objects.values_list("user__username", flat=True))
    assert notified == {"liaison_a", "liaison_b", "liaison_c"}
    # a second round cannot open while this one is open (and the plan is no longer a draft)
    with pytest.raises(StateError):
        open_round(world)


def test_open_round_only_by_lead_unit_editor_with_a_valid_date(world: World) -> None:
    for user in (world.liaison_a, world.leader, world.auditor):
        with pytest.raises(PermissionDenied):
            services.round_open(actor=user, plan=world.plan, closes_on=today() + dt.timedelta(days=3))
    with pytest.raises(ValidationError):
        services.round_open(actor=world.handler, plan=world.plan, closes_on=today() - dt.timedelta(days=1))
    with pytest.raises(ValidationError):
        services.round_open(actor=world.handler, plan=world.plan)
    assert not ConsultationRound.objects.exists() and not PlanVersion.objects.exists()


def test_closing_date_counts_working_days_when_the_year_is_loaded(world: World) -> None:
    from qiantou.chasing.models import HolidayYear
    from qiantou.chasing.services import calendar_load_year

    if not HolidayYear.objects.filter(year=2024).exists():
        calendar_load_year(actor=None, year=2024)
    start = dt.date(2024, 2, 7)  # a Wednesday before the 2024 Spring Festival
    assert services.closing_date(start, 5) == (dt.date(2024, 2, 20), True)
    far = dt.date(2090, 3, 1)  # no holiday schedule published: calendar days, and it says so
    assert services.closing_date(far, 5) == (far + dt.timedelta(days=5), False)


def test_open_round_with_working_days_and_chosen_units(world: World) -> None:
    rnd = open_round(world, closes_on=None, working_days=3, units=[world.a, world.outsider.pk])
    assert {c.unit_id for c in rnd.consulted.all()} == {world.a.pk, world.outsider.pk}
    assert rnd.closes_on >= today() + dt.timedelta(days=3)


def test_liaison_comments_only_for_own_unit_and_only_while_open(world: World) -> None:
    rnd = open_round(world)
    t1, t2, _t3 = world.tasks
    c1 = services.comment_create(
        actor=world.liaison_b, round=rnd, body="建议明确财政资金保障方式", task_id=t1.pk
    )
    assert c1.unit == world.b and c1.task_no == "1" and c1.disposition == Disposition.PENDING
    assert rnd.consulted.get(unit=world.b).response == Response.COMMENTED
    with pytest.raises(PermissionDenied):  # not consulted
        services.comment_create(actor=world.liaison_out, round=rnd, body="意见", task_id=t2.pk)
    with pytest.raises(PermissionDenied):  # consulted unit, but a handler of the lead unit is not a responder
        services.comment_create(actor=world.handler, round=rnd, body="意见")
    with pytest.raises(ValidationError):
        services.comment_create(actor=world.liaison_a, round=rnd, body="意见", task_id=999999)
    with pytest.raises(ValidationError):
        services.comment_create(actor=world.liaison_a, round=rnd, body="   ")
    services.no_objection_record(actor=world.liaison_a, round=rnd)
    with pytest.raises(StateError):  # already commented
        services.no_objection_record(actor=world.liaison_b, round=rnd)
    services.round_close(actor=world.handler, round=rnd, early=True)
    with pytest.raises(StateError):
        services.comment_create(actor=world.liaison_c, round=rnd, body="迟到的意见", task_id=t2.pk)
    assert Comment.objects.count() == 1


def test_close_records_silence_with_time_and_returns_plan_to_draft(world: World) -> None:
    rnd = open_round(world)
    services.comment_create(actor=world.liaison_b, round=rnd, body="建议调整时限", task_id=world.tasks[0].pk)
    services.no_objection_record(actor=world.liaison_a, round=rnd)
    closed = services.round_close(actor=world.handler, round=rnd, early=True)
    assert closed.status == RoundStatus.CLOSED and closed.closed_at is not None
    silent = rnd.consulted.get(unit=world.c)
    assert silent.response == Response.SILENT and silent.responded_at == closed.closed_at
    [event] = AuditEvent.objects.filter(action="consultation.silence")
    assert event.payload["unit_id"] == world.c.pk and event.payload["rule"] == "提前截止时未反馈视为无意见"
    world.plan.refresh_from_db()
    assert world.plan.status == PlanStatus.DRAFT
    with pytest.raises(StateError):
        services.round_close(actor=world.handler, round=rnd, early=True)


def test_rounds_close_due_closes_past_rounds_as_the_system(world: World) -> None:
    rnd = open_round(world, closes_on=today())
    assert services.rounds_close_due(on=today()) == 0
    assert services.rounds_close_due(on=today() + dt.timedelta(days=1)) == 1
    rnd.refresh_from_db()
    assert rnd.status == RoundStatus.CLOSED and rnd.closed_by is None
    assert AuditEvent.objects.get(action="consultation.close").actor_id is None


def _closed_round_with_comments(world: World) -> tuple[ConsultationRound, Comment, Comment]:
    rnd = open_round(world)
    c1 = services.comment_create(
        actor=world.liaison_b, round=rnd, body="完成时限改为12月底", task_id=world.tasks[0].pk
    )
    c2 = services.comment_create(
        actor=world.liaison_b, round=rnd, body="本局不宜牵头", task_id=world.tasks[2].pk
    )
    rnd = services.round_close(actor=world.handler, round=rnd, early=True)
    return rnd, c1, c2


def test_dispose_requires_reason_for_partly_and_not_adopted(world: World) -> None:
    rnd = open_round(world)
    c = services.comment_create(actor=world.liaison_b, round=rnd, body="意见", task_id=world.tasks[0].pk)
    with pytest.raises(StateError):  # still open
        services.comment_dispose(actor=world.handler, comment=c, disposition="adopted", lock_version=0)
    services.round_close(actor=world.handler, round=rnd, early=True)
    for disposition in (Disposition.NOT_ADOPTED, Disposition.PARTLY_ADOPTED):
        with pytest.raises(ValidationError):
            services.comment_dispose(
                actor=world.handler, comment=c, disposition=disposition, reason=" ", lock_version=0
            )
    with pytest.raises(ValidationError):
        services.comment_dispose(actor=world.handler, comment=c, disposition="maybe", lock_version=0)
    with pytest.raises(PermissionDenied):
        services.comment_dispose(actor=world.liaison_b, comment=c, disposition="adopted", lock_version=0)
    done = services.comment_dispose(
        actor=world.handler,
        comment=c,
        disposition=Disposition.NOT_ADOPTED,
        reason="财政保障已在第三条明确",
        lock_version=0,
    )
    assert done.disposition == Disposition.NOT_ADOPTED and done.lock_version == 1
    event = AuditEvent.objects.get(action="consultation.dispose")
    assert event.payload["after"] == {"disposition": "not_adopted", "reason": "财政保障已在第三条明确"}


def test_two_handlers_disposing_the_same_comment_one_wins(world: World) -> None:
    _rnd, c1, _c2 = _closed_round_with_comments(world)
    seen_by_first = Comment.objects.get(pk=c1.pk)
    seen_by_second = Comment.objects.get(pk=c1.pk)
    services.comment_dispose(
        actor=world.handler,
        comment=seen_by_first,
        disposition=Disposition.ADOPTED,
        lock_version=seen_by_first.lock_version,
    )
    with pytest.raises(ConflictError) as exc:
        services.comment_dispose(
            actor=world.handler2,
            comment=seen_by_second,
            disposition=Disposition.NOT_ADOPTED,
            reason="不同意",
            lock_version=seen_by_second.lock_version,
        )
    assert "handler" in str(exc.value) and "采纳" in str(exc.value) and "未保存" in str(exc.value)
    c1.refresh_from_db()
    assert c1.disposition == Disposition.ADOPTED and c1.disposed_by == world.handler and c1.reason == ""
    assert AuditEvent.objects.filter(action="consultation.dispose").count() == 1


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="threads need a real server (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_dispositions_in_threads(world: World) -> None:
    """Two requests at the same moment, each with the version it read: exactly one is saved."""
    _rnd, c1, _c2 = _closed_round_with_comments(world)
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def run(name: str, actor: object, disposition: str) -> None:
        try:
            barrier.wait()
            services.comment_dispose(
                actor=actor, comment=Comment(pk=c1.pk), disposition=disposition, reason="理由", lock_version=0
            )
            results[name] = "ok"
        except ConflictError:
            results[name] = "conflict"
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=("first", world.handler, Disposition.ADOPTED)),
        threading.Thread(target=run, args=("second", world.handler2, Disposition.NOT_ADOPTED)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == ["conflict", "ok"]
    c1.refresh_from_db()
    winner = "first" if results["first"] == "ok" else "second"
    assert c1.disposition == (Disposition.ADOPTED if winner == "first" else Disposition.NOT_ADOPTED)
    assert c1.lock_version == 1
    assert AuditEvent.objects.filter(action="consultation.dispose").count() == 1


def test_versions_are_frozen_and_the_plan_is_frozen_while_consulting(world: World) -> None:
    rnd = open_round(world)
    version = rnd.version
    version.note = "偷偷改"
    with pytest.raises(StateError), transaction.atomic():
        version.save()
    with pytest.raises((StateError, ProtectedError)), transaction.atomic():
        version.delete()
    loose = PlanVersion.objects.create(plan=world.plan, number=9, reason="revised", snapshot={})
    with pytest.raises(StateError), transaction.atomic():
        loose.delete()
    with pytest.raises(StateError):
        plan_services.task_update(actor=world.handler, task=world.tasks[0], lock_version=0, text="改")
    assert PlanVersion.objects.get(pk=version.pk).note != "偷偷改"
    assert Task.objects.get(pk=world.tasks[0].pk).text == "建立低收入人口动态监测机制"


def test_adopted_change_in_a_new_version_and_the_diff(world: World) -> None:
    rnd, _c1, _c2 = _closed_round_with_comments(world)
    t1 = Task.objects.get(pk=world.tasks[0].pk)
    with pytest.raises(StateError):  # nothing changed yet
        services.plan_revision_create(actor=world.handler, plan=world.plan)
    plan_services.task_update(
        actor=world.handler,
        task=t1,
        lock_version=t1.lock_version,
        deadline_text="2026年12月底前",
        deadline=dt.date(2026, 12, 31),
        cooperating_units=[world.b, world.c],
    )
    plan_services.task_delete(actor=world.handler, task=world.tasks[2])
    plan_services.task_create(
        actor=None,
        plan=Plan.objects.get(pk=world.plan.pk),
        no="3",
        text="加强低收入人口就业帮扶",
        lead_units=[world.lead],
    )
    v2 = services.plan_revision_create(actor=world.handler, plan=world.plan, note="采纳意见后修改")
    assert v2.number == 2 and v2.reason == PlanVersion.Reason.REVISED
    changes = {(c.kind, c.no): c for c in version_diff(rnd.version.snapshot, v2.snapshot)}
    assert set(changes) == {("changed", "1"), ("added", "3"), ("removed", "3")}
    changed = changes[("changed", "1")]
    assert changed.fields == ("cooperating_units", "deadline")
    assert changed.before["deadline"].startswith("2026年6月底前") and changed.after["deadline"].startswith(
        "2026年12月"
    )
    assert changed.after["cooperating_units"] == "青山市财政局、青山市人力资源和社会保障局"
    assert AuditEvent.objects.get(action="consultation.revise").payload["to"] == 2
    # the xlsx export holds the same rows
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(exports.diff_xlsx(world.plan, rnd.version, v2))).active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert any(r[0] == "1" and r[1] == "修改" and "完成时限" in r[2] for r in values)
    assert any(r[1] == "新增" for r in values) and any(r[1] == "删除" for r in values)


def test_statement_lists_every_comment_disposition_reason_and_silent_units(world: World) -> None:
    from docx import Document
    from openpyxl import load_workbook

    rnd, c1, c2 = _closed_round_with_comments(world)
    services.comment_dispose(actor=world.handler, comment=c1, disposition="adopted", lock_version=0)
    services.comment_dispose(
        actor=world.handler,
        comment=c2,
        disposition="not_adopted",
        reason="按三定方案该项职责属于人社局",
        lock_version=0,
    )
    st = selectors.statement_for(rnd)
    assert [c.unit for c in st.silent_units] == [world.a, world.c]
    doc = Document(io.BytesIO(exports.statement_docx(st)))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "征求意见采纳情况" in text and "视为无意见" in text and "青山市司法局" in text
    rows = [[cell.text for cell in row.cells] for row in doc.tables[0].rows]
    assert rows[0] == exports.STATEMENT_HEADERS
    assert rows[2][1:] == [
        "青山市财政局",
        "3 落实就业帮扶政策",
        "本局不宜牵头",
        "不予采纳",
        "按三定方案该项职责属于人社局",
    ]
    wb = load_workbook(io.BytesIO(exports.statement_xlsx(st)))
    units = [[c.value for c in r] for r in wb["单位反馈情况"].iter_rows(min_row=2)]
    assert ["青山市人力资源和社会保障局", "提前截止时未反馈，视为无意见"] == units[2][:2]


def test_statement_xlsx_keeps_formula_like_comments_as_text(world: World) -> None:
    from openpyxl import load_workbook

    rnd = open_round(world)
    services.comment_create(actor=world.liaison_b, round=rnd, body='=HYPERLINK("http://x","点此")')
    wb = load_workbook(io.BytesIO(exports.statement_xlsx(selectors.statement_for(rnd))))
    cells = [c for row in wb["采纳情况"].iter_rows() for c in row if c.value and str(c.value).startswith("=")]
    assert cells and all(c.data_type == "s" for c in cells)
