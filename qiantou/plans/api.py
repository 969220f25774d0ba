"""REST endpoints for plans and tasks under ``/api/plans/``. Reads go through the selectors (so an
invisible object is a 404), writes through the services (403 forbidden, 409 frozen or conflict).

Authentication is set on the NinjaAPI (``qiantou/api.py``): bearer token or session with CSRF.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja import Query as QueryParam
from ninja.pagination import PageNumberPagination, paginate
from ninja.responses import NinjaJSONEncoder

from qiantou.plans import services
from qiantou.plans.models import Plan, Task, TaskUnit, TaskUnitRole
from qiantou.plans.schemas import (
    ErrorOut,
    PlanCreateIn,
    PlanDetailOut,
    PlanOut,
    PlanUpdateIn,
    TaskCreateIn,
    TaskFilters,
    TaskOut,
    TaskPage,
    TaskUpdateIn,
)
from qiantou.plans.selectors import (
    plan_get_for,
    plan_list_for,
    task_get_for,
    task_list_for,
    task_rows,
)
from qiantou.plans.tasklist import task_list_query
from qiantou.units.models import Unit
from qiantou.workdays.calendar import check_date_range

router = Router(tags=["plans"])

#: Rows per page of a list (issue 2: "a 50-row page"), and the most a caller may ask for.
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
#: A task list counts its matches up to this many unless asked for the exact count: past it the
#: count is a lower bound (as a search engine reports "1000+"). Counting every one of a busy unit's
#: 6,000 tasks, or every match of a search over a city's 100,000, costs more than the page itself.
COUNT_LIMIT = 1000

_READ_ERRORS: dict[int, Any] = {401: ErrorOut, 404: ErrorOut}
_WRITE_ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _user(request: HttpRequest) -> Any:
    """The authenticated user (bearer token or session), set by the API's auth."""
    return request.auth  # type: ignore[attr-defined]


def _unit(unit_id: int | None) -> Unit | None:
    """An active unit by id, or ``ValidationError`` (422)."""
    if unit_id is None:
        return None
    unit = Unit.objects.filter(pk=unit_id, active=True).first()
    if unit is None:
        raise ValidationError(_("单位 %(id)s 不存在或已停用。") % {"id": unit_id})
    return unit


def _units(unit_ids: list[int]) -> list[Unit]:
    """Active units in the given (printed) order; unknown ids are a ``ValidationError`` (422)."""
    if len(set(unit_ids)) != len(unit_ids):
        raise ValidationError(_("同一单位不能重复列出。"))
    found = {u.pk: u for u in Unit.objects.filter(pk__in=unit_ids, active=True)}
    missing = [str(i) for i in unit_ids if i not in found]
    if missing:
        raise ValidationError(_("单位不存在或已停用：%(ids)s") % {"ids": "、".join(missing)})
    return [found[i] for i in unit_ids]


def _plan_detail(user: Any, plan: Plan) -> dict[str, Any]:
    data = PlanOut.from_orm(plan).model_dump()
    data["tasks"] = task_rows(task_list_for(user, plan=plan))
    data["can_change"] = user.has_perm("plans.change_plan", plan)
    return data


def _task_out(task: Task) -> dict[str, Any]:
    """The task as a ``TaskOut`` row, read fresh."""
    return task_rows(Task.objects.filter(pk=task.pk))[0]


# --- plans ------------------------------------------------------------------------------------------


@router.get("/", response=list[PlanOut], summary="方案列表")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def list_plans(request: HttpRequest, status: str | None = None, q: str | None = None) -> Any:
    """Plans the caller may see, newest first; ``status`` and a search ``q`` over title and 文号."""
    plans = plan_list_for(_user(request))
    if status:
        plans = plans.filter(status=status)
    if q and q.strip():
        plans = plans.filter(Q(title__icontains=q.strip()) | Q(doc_number__icontains=q.strip()))
    return plans


@router.post("/", response={201: PlanDetailOut, **_WRITE_ERRORS}, summary="新建方案（草稿）")
def create_plan(request: HttpRequest, payload: PlanCreateIn) -> Any:
    """Create a draft plan led by the caller's unit (handler or unit head)."""
    user = _user(request)
    plan = services.plan_create(
        actor=user,
        title=payload.title,
        issuing_unit=_unit(payload.issuing_unit_id),
        doc_number=payload.doc_number,
        year=payload.year,
        lead_rule=payload.lead_rule,
    )
    return Status(201, _plan_detail(user, plan_get_for(user, plan.pk)))


@router.get("/{int:plan_id}", response={200: PlanDetailOut, **_READ_ERRORS}, summary="方案详情（含任务）")
def get_plan(request: HttpRequest, plan_id: int) -> Any:
    """One plan with the tasks the caller may see, in printed order."""
    user = _user(request)
    return _plan_detail(user, plan_get_for(user, plan_id))


@router.patch("/{int:plan_id}", response={200: PlanDetailOut, **_WRITE_ERRORS}, summary="修改方案")
def update_plan(request: HttpRequest, plan_id: int, payload: PlanUpdateIn) -> Any:
    """Change a draft plan; send the ``lock_version`` you read (409 if someone changed it meanwhile)."""
    user = _user(request)
    plan = plan_get_for(user, plan_id)
    fields = payload.model_dump(exclude_unset=True)
    lock_version = fields.pop("lock_version")
    if "issuing_unit_id" in fields:
        fields["issuing_unit"] = _unit(fields.pop("issuing_unit_id"))
    for key in ("title", "doc_number", "lead_rule"):
        if key in fields and fields[key] is None:
            raise ValidationError(_("字段 %(field)s 不能为空值。") % {"field": key})
    services.plan_update(actor=user, plan=plan, lock_version=lock_version, **fields)
    return _plan_detail(user, plan_get_for(user, plan_id))


# --- tasks ------------------------------------------------------------------------------------------


@router.get("/tasks", response={200: TaskPage, **_READ_ERRORS}, summary="任务列表（可筛选）")
def list_tasks(
    request: HttpRequest,
    filters: Query[TaskFilters],
    page: int = QueryParam(1, ge=1),
    page_size: int = QueryParam(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
    exact_count: bool = False,
) -> Any:
    """Tasks the caller may see, 50 a page, in plan then printed order; filter by plan, unit (lead or
    cooperating), status, overdue (open and past its deadline, Asia/Shanghai) and a text search ``q``.

    ``count`` is exact up to ``COUNT_LIMIT`` (1,000) matches, a lower bound past it
    (``count_exact`` false) unless ``exact_count=true``. The SQL is written out
    (``plans/tasklist.py``, the same rows as ``task_list_for``): this list must answer in
    milliseconds over a city's 100,000 tasks (bench/api_tasks.py). The shape is ``TaskPage``.
    """
    tasks = task_list_query(
        _user(request),
        plan=filters.plan,
        unit=filters.unit,
        status=filters.status,
        overdue=filters.overdue,
        q=filters.q,
    )
    offset = (page - 1) * page_size
    items = tasks.page(offset, page_size + 1)  # one more row: is there a next page?
    last_page = len(items) <= page_size and (bool(items) or not offset)
    del items[page_size:]
    if last_page:
        count, exact = offset + len(items), True  # no need to count
    elif exact_count or not items:
        # Past the last page the rows paged over are no lower bound: count them all, so the client
        # learns where the list ends.
        count, exact = tasks.count(), True
    else:
        counted = tasks.count(limit=COUNT_LIMIT + 1)
        exact = counted <= COUNT_LIMIT
        count = counted if exact else max(COUNT_LIMIT, offset + len(items))
    body = {"items": items, "count": count, "count_exact": exact, "page": page, "page_size": page_size}
    return JsonResponse(body, encoder=NinjaJSONEncoder, json_dumps_params={"ensure_ascii": False})


def _check_task_input(fields: dict[str, Any], task: Task | None = None) -> None:
    """Refuse what no published plan means: a deadline outside 2000–2100 (the working calendar's
    range), a range ending before it starts, a unit both leading and cooperating on one task.

    ``fields``: the request's fields (ids under ``lead_unit_ids``/``cooperating_unit_ids``); ``task``:
    the task being changed, whose stored values stand in for fields not sent.
    Raises ``DateOutOfRange`` or ``ValidationError`` naming the field, in Chinese.
    """
    for name in ("deadline", "deadline_end"):
        check_date_range(fields.get(name), name)  # DateOutOfRange: a 422 naming the field
    start = fields["deadline"] if "deadline" in fields else getattr(task, "deadline", None)
    end = fields["deadline_end"] if "deadline_end" in fields else getattr(task, "deadline_end", None)
    if start is not None and end is not None and end < start:
        raise ValidationError(_("deadline_end 早于 deadline：期限的结束日不能早于开始日。"))
    lead, cooperating = fields.get("lead_unit_ids"), fields.get("cooperating_unit_ids")
    if task is not None and (lead is None) != (cooperating is None):  # one list sent: the other stays
        role = TaskUnitRole.COOPERATING if cooperating is None else TaskUnitRole.LEAD
        stored = list(TaskUnit.objects.filter(task=task, role=role).values_list("unit_id", flat=True))
        lead, cooperating = (lead, stored) if cooperating is None else (stored, cooperating)
    both = set(lead or ()) & set(cooperating or ())
    if both:
        raise ValidationError(
            _("同一单位不能既是牵头单位又是配合单位（lead_unit_ids 与 cooperating_unit_ids 重复：%(ids)s）。")
            % {"ids": "、".join(str(pk) for pk in sorted(both))}
        )


@router.post("/{int:plan_id}/tasks", response={201: TaskOut, **_WRITE_ERRORS}, summary="新增任务")
def create_task(request: HttpRequest, plan_id: int, payload: TaskCreateIn) -> Any:
    """Add a task to a draft plan, with lead/cooperating unit ids in printed order."""
    user = _user(request)
    plan = plan_get_for(user, plan_id)
    _check_task_input(payload.model_dump())
    parent = None
    if payload.parent_id is not None:
        parent = Task.objects.filter(plan=plan, pk=payload.parent_id).first()
        if parent is None:
            raise ValidationError(_("上级任务不属于该方案。"))
    task = services.task_create(
        actor=user,
        plan=plan,
        no=payload.no,
        text=payload.text,
        parent=parent,
        lead_units=_units(payload.lead_unit_ids),
        cooperating_units=_units(payload.cooperating_unit_ids),
        deadline_text=payload.deadline_text,
        deadline=payload.deadline,
        deadline_end=payload.deadline_end,
        deliverables=payload.deliverables,
        acceptance_standard=payload.acceptance_standard,
        restricted=payload.restricted,
    )
    return Status(201, _task_out(task))


@router.get("/tasks/{int:task_id}", response={200: TaskOut, **_READ_ERRORS}, summary="任务详情")
def get_task(request: HttpRequest, task_id: int) -> Any:
    """One task the caller may see."""
    return _task_out(task_get_for(_user(request), task_id))


@router.patch("/tasks/{int:task_id}", response={200: TaskOut, **_WRITE_ERRORS}, summary="修改任务")
def update_task(request: HttpRequest, task_id: int, payload: TaskUpdateIn) -> Any:
    """Change a task of a draft plan; unit id lists replace that role's units."""
    user = _user(request)
    task = task_get_for(user, task_id)
    fields = payload.model_dump(exclude_unset=True)
    _check_task_input(fields, task)
    lock_version = fields.pop("lock_version")
    units: dict[str, Any] = {}
    for key, role in (("lead_unit_ids", "lead_units"), ("cooperating_unit_ids", "cooperating_units")):
        if key in fields:
            units[role] = _units(fields.pop(key) or [])
    for key in ("no", "text", "deadline_text", "deliverables", "acceptance_standard", "restricted", "status"):
        if key in fields and fields[key] is None:
            raise ValidationError(_("字段 %(field)s 不能为空值。") % {"field": key})
    updated = services.task_update(actor=user, task=task, lock_version=lock_version, **units, **fields)
    return _task_out(updated)


@router.delete("/tasks/{int:task_id}", response={204: None, **_WRITE_ERRORS}, summary="删除任务")
def delete_task(request: HttpRequest, task_id: int, lock_version: int | None = None) -> Any:
    """Delete a task of a draft plan with its sub-tasks (the record keeps what was deleted)."""
    user = _user(request)
    task = task_get_for(user, task_id)
    services.task_delete(actor=user, task=task, lock_version=lock_version)
    return Status(204, None)
