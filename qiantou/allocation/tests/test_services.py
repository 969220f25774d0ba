"""Balancing a draft plan: the proposal changes nothing; acceptance changes only the accepted tasks,
through the plans service, with audit events. Load figures across plans. Suggestions from the DB."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from qiantou.accounts.models import Role
from qiantou.allocation.selectors import plan_lead_suggestions, unit_loads
from qiantou.allocation.services import AcceptedChange, balance_accept, plan_balance_proposal
from qiantou.allocation.suggestion import suggest_lead_units
from qiantou.audit.models import AuditEvent
from qiantou.errors import ConflictError
from qiantou.plans.models import PlanStatus, Task, TaskUnitRole
from qiantou.plans.tests.factories import make_plan, make_task, make_unit, make_user
from qiantou.units.models import UnitKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict:
    gov = make_unit("江城市人民政府", kind=UnitKind.GOVERNMENT, mandate="领导各工作部门。")
    civil = make_unit(
        "江城市民政局",
        short_names=["市民政局"],
        parent=gov,
        mandate="负责社会救助和养老服务，承担最低生活保障和特困供养。",
    )
    justice = make_unit(
        "江城市司法局",
        short_names=["市司法局"],
        parent=gov,
        mandate="负责社区矫正和刑满释放人员安置帮教，掌握服刑人员信息，承担养老服务法律援助。",
    )
    finance = make_unit(
        "江城市财政局",
        short_names=["市财政局"],
        parent=gov,
        mandate="管理财政资金，落实社会救助、养老服务和民生资金保障。",
    )
    health = make_unit(
        "江城市卫生健康委员会",
        short_names=["市卫生健康委"],
        parent=gov,
        mandate="负责公共卫生和医养结合，承担养老服务中的医疗卫生保障。",
    )
    make_unit("市级各有关部门", kind=UnitKind.GROUP, mandate="养老服务、社会救助等各有关部门。")
    handler = make_user("handler", role=Role.HANDLER, unit=civil)
    plan = make_plan(civil, title="养老服务方案")
    t1 = make_task(
        plan, no="1", text="完善养老服务补贴和社会救助资金保障。", lead=[civil], cooperating=[finance]
    )
    t2 = make_task(
        plan, no="2", text="推进医养结合，加强养老机构医疗卫生服务。", lead=[civil], cooperating=[finance]
    )
    t3 = make_task(plan, no="3", text="为养老服务提供法律援助。", lead=[civil], cooperating=[finance])
    # Another plan in force keeps the finance bureau busy.
    other = make_plan(finance, status=PlanStatus.ISSUED, title="预算方案")
    for i in range(4):
        make_task(other, no=str(i + 1), text="预算编制。", lead=[finance], cooperating=[civil])
    return {
        "plan": plan,
        "handler": handler,
        "tasks": [t1, t2, t3],
        "civil": civil,
        "finance": finance,
        "justice": justice,
        "health": health,
        "gov": gov,
    }


def coop_ids(task: Task) -> list[int]:
    return list(task.task_units.filter(role=TaskUnitRole.COOPERATING).values_list("unit_id", flat=True))


def test_load_counts_lead_more_than_cooperating_and_skips_drafts(world: dict) -> None:
    loads = {u.unit_id: u for u in unit_loads(user=world["handler"])}
    finance, civil = loads[world["finance"].pk], loads[world["civil"].pk]
    assert finance.lead_tasks == 4 and finance.score == 8.0  # lead weight 2 × 4 tasks
    assert civil.cooperating_tasks == 4 and civil.score == 4.0  # the draft plan is not counted
    admin = make_user("admin", role=Role.SYSTEM_ADMIN)  # the three administrators see no business data
    with pytest.raises(PermissionDenied):
        unit_loads(user=admin)


def test_proposal_changes_nothing_and_acceptance_changes_only_accepted_tasks(world: dict) -> None:
    plan, handler, (t1, t2, t3) = world["plan"], world["handler"], world["tasks"]
    before = {t.pk: coop_ids(t) for t in (t1, t2, t3)}
    proposal = plan_balance_proposal(user=handler, plan=plan, fit_threshold=0.2)
    assert proposal.result.status in {"optimal", "feasible"}
    assert {t.pk: coop_ids(t) for t in (t1, t2, t3)} == before  # nothing written
    rows = {r.task.pk: r for r in proposal.rows}
    # The busy finance bureau is relieved somewhere; leads never cooperate on their own task.
    assert any(r.changed for r in rows.values())
    for r in rows.values():
        assert world["civil"].pk not in r.after and world["gov"].pk not in r.after
    changed = [r for r in proposal.rows if r.changed]
    accepted, skipped = changed[0], [r for r in proposal.rows if r is not changed[0]]
    events = AuditEvent.objects.count()
    balance_accept(
        actor=handler,
        plan=plan,
        changes=[
            AcceptedChange(
                task_id=accepted.task.pk,
                lock_version=accepted.task.lock_version,
                cooperating_unit_ids=tuple(accepted.after),
            )
        ],
    )
    assert sorted(coop_ids(accepted.task)) == sorted(accepted.after)
    for r in skipped:
        assert coop_ids(r.task) == before[r.task.pk]
    assert AuditEvent.objects.filter(action="allocation.balance_accept").count() == 1
    assert AuditEvent.objects.count() > events + 1  # the task update's own event too


def test_stale_proposal_conflicts_and_writes_nothing(world: dict) -> None:
    plan, handler, (t1, t2, _t3) = world["plan"], world["handler"], world["tasks"]
    Task.objects.filter(pk=t2.pk).update(lock_version=5)  # someone edited task 2 meanwhile
    with pytest.raises(ConflictError):
        balance_accept(
            actor=handler,
            plan=plan,
            changes=[
                AcceptedChange(task_id=t1.pk, lock_version=0, cooperating_unit_ids=(world["justice"].pk,)),
                AcceptedChange(task_id=t2.pk, lock_version=0, cooperating_unit_ids=(world["health"].pk,)),
            ],
        )
    assert coop_ids(t1) == [world["finance"].pk]  # all or nothing


def test_only_plan_editors_may_balance(world: dict) -> None:
    outsider = make_user("other", role=Role.HANDLER, unit=world["justice"])
    with pytest.raises(PermissionDenied):
        plan_balance_proposal(user=outsider, plan=world["plan"])
    with pytest.raises(PermissionDenied):
        balance_accept(
            actor=outsider,
            plan=world["plan"],
            changes=[AcceptedChange(task_id=world["tasks"][0].pk, lock_version=0, cooperating_unit_ids=())],
        )


def test_infeasible_proposal_names_the_tasks(world: dict) -> None:
    everyone = [world[k].pk for k in ("finance", "justice", "health")]
    proposal = plan_balance_proposal(user=world["handler"], plan=world["plan"], unavailable=everyone)
    assert proposal.result.status == "infeasible"
    assert any("完善养老服务补贴" in p for p in proposal.result.problems)


def test_suggestions_from_the_directory_and_the_printed_lead_note(world: dict) -> None:
    ranked = suggest_lead_units("开展服刑人员信息核对，做好刑满释放人员安置帮教。", top=3)
    assert ranked[0].unit_id == world["justice"].pk
    rows = plan_lead_suggestions(user=world["handler"], plan=world["plan"])
    by_no = {r.task.no: r for r in rows}
    assert by_no["3"].suggestions and by_no["3"].differs == (
        by_no["3"].suggestions[0].unit_id != world["civil"].pk
    )
    assert (
        Task.objects.get(pk=world["tasks"][2].pk).task_units.get(role=TaskUnitRole.LEAD).unit
        == world["civil"]
    )
