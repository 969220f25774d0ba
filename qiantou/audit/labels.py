"""Readable labels for the audit trail page: action and object-type names, object names and payloads.

The record itself keeps the codes (``consultation.open``, ``plans.task``) and raw JSON payloads; this
module only renders them for people (the API returns the record unchanged). Every action the code base
records has a label here (``tests/test_labels.py`` greps the sources to keep the table complete).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

#: Chinese label of every audit action recorded by the code base (``grep "audit_record(" qiantou``).
ACTION_LABELS: dict[str, str] = {
    # accounts and authentication
    "accounts.bootstrap_admin": gettext_noop("初始化管理员"),
    "accounts.password_reset": gettext_noop("重置密码"),
    "accounts.role_assign": gettext_noop("分配角色"),
    "accounts.user_create": gettext_noop("新建用户"),
    "accounts.user_update": gettext_noop("修改用户"),
    "user.create": gettext_noop("新建用户"),
    "api_token.create": gettext_noop("创建 API 令牌"),
    "api_token.revoke": gettext_noop("吊销 API 令牌"),
    "auth.lockout": gettext_noop("账号锁定"),
    "auth.login": gettext_noop("登录"),
    "auth.login_failed": gettext_noop("登录失败"),
    "auth.logout": gettext_noop("退出登录"),
    "auth.otp_enable": gettext_noop("启用动态口令"),
    "auth.otp_failed": gettext_noop("动态口令验证失败"),
    "auth.otp_remove": gettext_noop("停用动态口令"),
    "auth.otp_verified": gettext_noop("动态口令验证通过"),
    "auth.password_change": gettext_noop("修改密码"),
    "auth.unlock": gettext_noop("解除锁定"),
    "personal_data.view": gettext_noop("查看个人信息"),
    "config.change": gettext_noop("修改系统配置"),
    "ops.load": gettext_noop("加载数据"),
    "after.flush": gettext_noop("清理审计记录"),
    "export.download": gettext_noop("导出下载"),
    # units
    "units.import": gettext_noop("导入单位名录"),
    "unit.create": gettext_noop("新增单位"),
    "unit.update": gettext_noop("修改单位"),
    # plans and tasks
    "plan.create": gettext_noop("创建方案"),
    "plan.update": gettext_noop("修改方案"),
    "plan.status": gettext_noop("方案状态变更"),
    "plan.version": gettext_noop("形成版本"),
    "plan.import": gettext_noop("导入方案"),
    "plan.import_replace": gettext_noop("重新导入方案"),
    "plan.issue": gettext_noop("印发"),
    "task.create": gettext_noop("新增任务"),
    "task.update": gettext_noop("修改任务"),
    "task.delete": gettext_noop("删除任务"),
    "task.assign": gettext_noop("调整承办单位"),
    "task.withdraw": gettext_noop("撤回任务"),
    "task.progress_import": gettext_noop("导入任务进展"),
    # consultation and approvals
    "consultation.open": gettext_noop("发起征求意见"),
    "consultation.close": gettext_noop("结束征求意见"),
    "consultation.comment": gettext_noop("反馈意见"),
    "consultation.no_objection": gettext_noop("无意见"),
    "consultation.silence": gettext_noop("未反馈视为无意见"),  # early or on time: the payload says
    "consultation.dispose": gettext_noop("意见处理"),
    "comment.dispose": gettext_noop("意见处理"),
    "consultation.revise": gettext_noop("修改方案稿"),
    "approval.chain": gettext_noop("设置签批顺序"),
    "approval.submit": gettext_noop("提交签批"),
    "approval.approve": gettext_noop("同意"),
    "approval.return": gettext_noop("退回"),
    # chasing
    "calendar.correct": gettext_noop("更正工作日历"),
    "calendar.edit": gettext_noop("编辑工作日历"),
    "calendar.load": gettext_noop("导入工作日历"),
    "chasing.ladder_set": gettext_noop("设置催办阶梯"),
    "reminder.sent": gettext_noop("发出催办"),
    "reminder.acknowledged": gettext_noop("确认收到催办"),
    "reminder.cancelled": gettext_noop("取消催办"),
    "material_request.create": gettext_noop("发布材料报送要求"),
    "material_request.submit": gettext_noop("报送材料"),
    "material_request.accept": gettext_noop("采纳报送材料"),
    "report_cycle.create": gettext_noop("设置报送周期"),
    "report_request.create": gettext_noop("发出报送要求"),
    "progress_report.submit": gettext_noop("报送进展"),
    "petition.difficulty": gettext_noop("反映困难"),
    "petition.extension": gettext_noop("申请延期"),
    "petition.escalated": gettext_noop("申请提请分管领导"),
    "petition.granted": gettext_noop("同意申请"),
    "petition.refused": gettext_noop("不同意申请"),
    "petition.resolved": gettext_noop("申请已协调解决"),
    "notification.retry": gettext_noop("重新推送"),
    # assessment and allocation
    "assessment.adjustment": gettext_noop("加减分"),
    "assessment.circular_draft": gettext_noop("起草通报"),
    "assessment.circular_send": gettext_noop("印发通报"),
    "assessment.circular_update": gettext_noop("修改通报"),
    "assessment.rating": gettext_noop("质量评分"),
    "assessment.report_checkpoint": gettext_noop("进展报送节点"),
    "assessment.rules_create": gettext_noop("制定考核细则"),
    "assessment.rules_update": gettext_noop("修改考核细则"),
    "ledger.import": gettext_noop("导入台账"),
    "allocation.balance_accept": gettext_noop("采纳均衡建议"),
    # matching
    "matching.finish": gettext_noop("完成数据比对"),
    "matching.registry": gettext_noop("登记比对数据"),
    "matching.request": gettext_noop("发起数据比对"),
    "matching.respond": gettext_noop("响应数据比对"),
    "matching.retention_delete": gettext_noop("到期删除比对数据"),
    "matching.tasks": gettext_noop("比对结果转任务"),
}

#: Chinese name of each object type the record names (``app_label.model``).
OBJECT_LABELS: dict[str, str] = {
    "accounts.user": gettext_noop("用户"),
    "accounts.apitoken": gettext_noop("API 令牌"),
    "units.unit": gettext_noop("单位"),
    "plans.plan": gettext_noop("方案"),
    "plans.planversion": gettext_noop("方案版本"),
    "plans.task": gettext_noop("任务"),
    "plans.taskunit": gettext_noop("承办单位"),
    "consultation.consultationround": gettext_noop("征求意见轮次"),
    "consultation.consultedunit": gettext_noop("征求意见单位"),
    "consultation.comment": gettext_noop("反馈意见"),
    "approvals.planapprover": gettext_noop("签批人"),
    "approvals.approvalrequest": gettext_noop("签批"),
    "approvals.approvalstep": gettext_noop("签批环节"),
    "notifications.groupbot": gettext_noop("群机器人"),
    "notifications.message": gettext_noop("通知"),
    "notifications.delivery": gettext_noop("推送记录"),
    "chasing.holidayyear": gettext_noop("节假日安排"),
    "chasing.calendarday": gettext_noop("节假日/调休日"),
    "chasing.reminderladder": gettext_noop("催办阶梯"),
    "chasing.chaseitem": gettext_noop("催办事项"),
    "chasing.reminder": gettext_noop("催办记录"),
    "chasing.materialrequest": gettext_noop("材料报送要求"),
    "chasing.materialsubmission": gettext_noop("报送材料"),
    "chasing.reportcycle": gettext_noop("报送周期"),
    "chasing.reportrequest": gettext_noop("报送要求"),
    "chasing.progressreport": gettext_noop("进展报送"),
    "chasing.petition": gettext_noop("困难反映/延期申请"),
    "assessment.scoringrules": gettext_noop("考核细则"),
    "assessment.qualityrating": gettext_noop("质量评分"),
    "assessment.scoreadjustment": gettext_noop("加减分"),
    "assessment.circulardraft": gettext_noop("通报"),
    "assessment.ledger": gettext_noop("台账"),
    "matching.matchrun": gettext_noop("数据比对"),
    "matching.file": gettext_noop("比对文件"),
    "matching.registry": gettext_noop("比对数据登记"),
    "imports.importupload": gettext_noop("导入文件"),
    "export": gettext_noop("导出"),
}

#: Chinese names of the payload keys services record; other keys show as they are.
KEY_LABELS: dict[str, str] = {
    "title": gettext_noop("标题"),
    "doc_number": gettext_noop("文号"),
    "lead_unit_id": gettext_noop("牵头单位"),
    "lead_unit": gettext_noop("牵头单位"),
    "issuing_unit": gettext_noop("发文单位"),
    "issued_on": gettext_noop("印发日期"),
    "no": gettext_noop("序号"),
    "task_no": gettext_noop("任务序号"),
    "text": gettext_noop("内容"),
    "body": gettext_noop("正文"),
    "units": gettext_noop("承办单位"),
    "unit": gettext_noop("单位"),
    "unit_id": gettext_noop("单位"),
    "plan": gettext_noop("方案"),
    "plan_id": gettext_noop("方案"),
    "task": gettext_noop("任务"),
    "task_id": gettext_noop("任务"),
    "tasks": gettext_noop("任务数"),
    "round_id": gettext_noop("征求意见轮次"),
    "deadline": gettext_noop("完成时限"),
    "deadline_text": gettext_noop("时限原文"),
    "deadline_kind": gettext_noop("时限类型"),
    "due_date": gettext_noop("截止日期"),
    "requested_due_date": gettext_noop("申请延至"),
    "closes_on": gettext_noop("截止日期"),
    "closed_at": gettext_noop("结束时间"),
    "closed_early": gettext_noop("提前截止"),
    "status": gettext_noop("状态"),
    "from": gettext_noop("原"),
    "to": gettext_noop("新"),
    "before": gettext_noop("修改前"),
    "after": gettext_noop("修改后"),
    "changes": gettext_noop("修改"),
    "note": gettext_noop("备注"),
    "remarks": gettext_noop("备注"),
    "reason": gettext_noop("原因"),
    "message": gettext_noop("说明"),
    "number": gettext_noop("版本号"),
    "version": gettext_noop("版本"),
    "version_id": gettext_noop("版本"),
    "role": gettext_noop("角色"),
    "username": gettext_noop("用户名"),
    "source": gettext_noop("来源"),
    "source_name": gettext_noop("来源文件"),
    "file_name": gettext_noop("文件名"),
    "files": gettext_noop("文件"),
    "rows": gettext_noop("行数"),
    "bytes": gettext_noop("字节数"),
    "format": gettext_noop("格式"),
    "created": gettext_noop("新增"),
    "updated": gettext_noop("更新"),
    "unchanged": gettext_noop("未变"),
    "replaced": gettext_noop("替换原方案"),
    "warnings": gettext_noop("警告数"),
    "unknown_units": gettext_noop("未匹配单位"),
    "chosen_units": gettext_noop("选定单位"),
    "notified_units": gettext_noop("通知单位"),
    "silent_units": gettext_noop("未反馈单位"),
    "main_recipients": gettext_noop("主送单位"),
    "recipients": gettext_noop("接收人"),
    "channels": gettext_noop("推送渠道"),
    "tasks_reopened": gettext_noop("重新打开的任务"),
    "kind": gettext_noop("类型"),
    "label": gettext_noop("名称"),
    "item": gettext_noop("催办事项"),
    "rung": gettext_noop("催办级次"),
    "step": gettext_noop("环节"),
    "late": gettext_noop("逾期"),
    "working_days": gettext_noop("工作日数"),
    "due_working_days": gettext_noop("办理时限（工作日）"),
    "scheduled_for": gettext_noop("计划时间"),
    "periods": gettext_noop("报送期次"),
    "start": gettext_noop("开始"),
    "end": gettext_noop("结束"),
    "submission": gettext_noop("报送材料"),
    "by": gettext_noop("操作人"),
    "at": gettext_noop("时间"),
    "rule": gettext_noop("规则"),
    "lead_rule": gettext_noop("牵头规则"),
    "final": gettext_noop("最终"),
    "digest": gettext_noop("摘要值"),
    "source_sha256": gettext_noop("文件摘要"),
    "chain": gettext_noop("签批顺序"),
    "describe": gettext_noop("描述"),
    "disposition": gettext_noop("处理意见"),
    "counted_in": gettext_noop("计算方式"),
    "fields": gettext_noop("字段"),
    "decision": gettext_noop("决定"),
    "response": gettext_noop("反馈"),
    "submission_id": gettext_noop("报送材料"),
    "item_id": gettext_noop("催办事项"),
    "user_id": gettext_noop("用户"),
    "name": gettext_noop("名称"),
    "size": gettext_noop("大小"),
    "sha256": gettext_noop("摘要"),
}

#: Keys whose integer values are unit ids (shown as the unit's short name).
UNIT_ID_KEYS = frozenset({"unit_id", "lead_unit_id", "lead_unit", "issuing_unit", "unit"})
#: Keys whose values are plan ids.
PLAN_ID_KEYS = frozenset({"plan_id", "plan"})
#: Keys whose integer values are ids of records the page does not name (shown as ``#12``).
ID_KEYS = frozenset({"item", "task", "version", "submission", "round"})
#: Keys whose lists hold unit ids.
UNIT_LIST_KEYS = frozenset({"notified_units", "silent_units", "main_recipients", "chosen_units"})

#: ``plan.import`` counts printed unit names by how they resolved.
UNIT_COUNT_LABELS = {
    "unit": gettext_noop("单位"),
    "group": gettext_noop("集合主体"),
    "generic": gettext_noop("泛指"),
    "unknown": gettext_noop("未匹配"),
}

NONE = "—"
SEP = "、"
MAX_TEXT = 80
#: A list longer than this shows its first items and a count (an import's hundred unit codes).
MAX_ITEMS = 12


def _choice_labels() -> dict[str, dict[str, str]]:
    """Codes that appear as payload values, per key (roles, statuses, deadline kinds …) → display names."""
    from qiantou.accounts.models import Role
    from qiantou.chasing.models import ItemKind, PetitionKind
    from qiantou.consultation.models import Disposition, Response
    from qiantou.plans.models import DeadlineKind, PlanStatus, PlanVersion, TaskStatus, TaskUnitRole

    def merged(*choices: Any) -> dict[str, str]:
        return {str(v): str(label) for c in choices for v, label in c.choices if v != ""}

    status = merged(PlanStatus, TaskStatus)
    return {
        "role": merged(Role, TaskUnitRole),
        "status": status,
        "from": status,
        "to": status,
        "deadline_kind": merged(DeadlineKind),
        "reason": merged(PlanVersion.Reason),
        "disposition": merged(Disposition),
        "response": merged(Response),
        "kind": merged(PetitionKind, ItemKind),
        "counted_in": {"calendar_days": _("自然日"), "working_days": _("工作日")},
    }


def action_label(action: str) -> str:
    """``consultation.open`` → 发起征求意见; an unknown action shows its code."""
    label = ACTION_LABELS.get(action)
    return _(label) if label else action


def object_label(object_type: str) -> str:
    """``plans.task`` → 任务; an unknown type shows its code."""
    label = OBJECT_LABELS.get(object_type)
    return _(label) if label else object_type


def key_label(key: str) -> str:
    """A payload key's Chinese name, else the key itself."""
    label = KEY_LABELS.get(key)
    return _(label) if label else key


def _short(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: How the trail names an object of each type, from one query per type:
#: ``object_type -> (fields to select_related, name of an instance)``.
_NAMERS: dict[str, tuple[tuple[str, ...], Callable[[Any], str]]] = {
    "plans.plan": ((), lambda o: _short(o.title, 40)),
    "plans.task": ((), lambda o: _short(f"{o.no} {o.text}", 30)),
    "plans.planversion": ((), lambda o: _("第%(n)s版") % {"n": o.number}),
    "units.unit": ((), lambda o: o.short_name),
    "accounts.user": ((), lambda o: str(o)),
    "consultation.consultationround": ((), lambda o: _("第%(n)s轮") % {"n": o.number}),
    "consultation.comment": (("unit",), lambda o: _short(f"{o.unit.short_name}：{o.body}", 30)),
    "approvals.approvalrequest": (("version",), lambda o: _("第%(n)s版") % {"n": o.version.number}),
    "chasing.materialrequest": ((), lambda o: _short(o.title, 30)),
    "chasing.reportcycle": ((), lambda o: _short(o.title, 30)),
    "chasing.petition": ((), lambda o: o.get_kind_display()),
}


@dataclass
class Lookups:
    """Names fetched in bulk for one page of events: units, plans and the events' objects."""

    units: dict[int, str]
    plans: dict[int, str]
    objects: dict[tuple[str, str], str]
    choices: dict[str, dict[str, str]]

    def unit(self, value: Any) -> str:
        """A unit id as its short name (a code or text as it is)."""
        if isinstance(value, int) and not isinstance(value, bool):
            return self.units.get(value, f"#{value}")
        return NONE if value in (None, "") else str(value)


def _ints(values: Iterable[Any]) -> set[int]:
    return {v for v in values if isinstance(v, int) and not isinstance(v, bool)}


def _collect_ids(payload: Any, units: set[int], plans: set[int], key: str = "") -> None:
    """Every unit and plan id a payload names (nested dicts and lists included)."""
    if isinstance(payload, dict):
        for k, v in payload.items():
            if k in UNIT_ID_KEYS and isinstance(v, int):
                units.add(v)
            elif k in PLAN_ID_KEYS and isinstance(v, int):
                plans.add(v)
            elif k in UNIT_LIST_KEYS and isinstance(v, list):
                units.update(_ints(v))
            else:
                _collect_ids(v, units, plans, k)
    elif isinstance(payload, list):
        for item in payload:
            _collect_ids(item, units, plans, key)


def lookups_for(events: Iterable[Any]) -> Lookups:
    """Fetch the names an events page needs: one query for units, one for plans, one per object type."""
    from qiantou.plans.models import Plan
    from qiantou.units.models import Unit

    events = list(events)
    unit_ids: set[int] = set()
    plan_ids: set[int] = set()
    by_type: dict[str, set[str]] = defaultdict(set)
    for e in events:
        _collect_ids(e.payload, unit_ids, plan_ids)
        if e.object_type in _NAMERS and str(e.object_id).isdecimal():
            by_type[e.object_type].add(str(e.object_id))
    units = {u.pk: u.short_name for u in Unit.objects.filter(pk__in=unit_ids)} if unit_ids else {}
    plans = (
        {p["pk"]: _short(p["title"], 40) for p in Plan.objects.filter(pk__in=plan_ids).values("pk", "title")}
        if plan_ids
        else {}
    )
    objects: dict[tuple[str, str], str] = {}
    for object_type, ids in by_type.items():
        related, name = _NAMERS[object_type]
        model = apps.get_model(object_type)
        qs = model.objects.filter(pk__in=[int(i) for i in ids])
        for obj in qs.select_related(*related) if related else qs:
            objects[(object_type, str(obj.pk))] = name(obj)
    return Lookups(units=units, plans=plans, objects=objects, choices=_choice_labels())


def _time(value: str) -> str | None:
    """An ISO timestamp as local ``Y-m-d H:i:s``; None when ``value`` is not one."""
    if len(value) < 19 or value[4] != "-" or value[10] not in "T ":
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _join(items: list[str]) -> str:
    if len(items) > MAX_ITEMS:
        return SEP.join(items[:MAX_ITEMS]) + _("等，共 %(n)d 项") % {"n": len(items)}
    return SEP.join(items)


def render_value(key: str, value: Any, lk: Lookups) -> str:
    """One payload value for people: None → —, booleans 是/否, unit ids → names, codes → their labels,
    lists joined with 、, timestamps in local time; other values as they are."""
    if value is None or value == "":
        return NONE
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if key in UNIT_ID_KEYS:
        return lk.unit(value)
    if key in PLAN_ID_KEYS and isinstance(value, int):
        return lk.plans.get(value, f"#{value}")
    if isinstance(value, int) and (key.endswith("_id") or key in ID_KEYS):
        return f"#{value}"
    if isinstance(value, list):
        if not value:
            return NONE
        if key in UNIT_LIST_KEYS or (key == "units" and all(isinstance(v, int) for v in value)):
            return _join([lk.unit(v) for v in value])
        return _join([render_value(key if key == "role" else "", v, lk) for v in value])
    if isinstance(value, dict):
        if "unit_id" in value or "printed_name" in value:
            return _task_unit(value, lk)
        if key == "units":  # counts by how the printed names resolved ({"unit": 37, "group": 1})
            return SEP.join(f"{_(UNIT_COUNT_LABELS.get(str(k), str(k)))} {v}" for k, v in value.items())
        if "name" in value:  # an approver, a file: its name says it
            return str(value["name"])
        if not value:
            return NONE
        return "；".join(f"{key_label(k)}：{render_value(k, v, lk)}" for k, v in value.items())
    if isinstance(value, str):
        if key in lk.choices:
            return lk.choices[key].get(value, value)
        return _time(value) or _short(value)
    return str(value)


def _task_unit(value: dict[str, Any], lk: Lookups) -> str:
    """``{"role": "lead", "unit_id": 23, "printed_name": "市民政局"}`` → 市民政局（牵头单位）."""
    unit_id = value.get("unit_id")
    name = lk.units.get(unit_id, "") if isinstance(unit_id, int) else ""
    name = name or str(value.get("printed_name") or NONE)
    role = value.get("role")
    return f"{name}（{lk.choices['role'].get(role, role)}）" if role else name


@dataclass
class PayloadLine:
    """One line of an event's content: a label and its readable value."""

    label: str
    value: str


def render_payload(payload: Any, lk: Lookups) -> list[PayloadLine]:
    """An event's payload as readable lines; ``before``/``after`` become one ``field: old → new`` line
    per changed field."""
    if not isinstance(payload, dict):
        return [PayloadLine("", render_value("", payload, lk))] if payload not in (None, {}) else []
    lines: list[PayloadLine] = []
    before, after = payload.get("before"), payload.get("after")
    diff = isinstance(before, dict) and isinstance(after, dict)
    if diff:
        assert isinstance(before, dict) and isinstance(after, dict)
        for k in list(before) + [k for k in after if k not in before]:
            old, new = render_value(k, before.get(k), lk), render_value(k, after.get(k), lk)
            if old != new:
                lines.append(PayloadLine(key_label(k), f"{old} → {new}"))
        if not lines:
            lines.append(PayloadLine(_("修改"), _("无变化")))
    change = "from" in payload and "to" in payload
    if change:
        key = "status" if isinstance(payload["to"], str) else "version"
        old, new = render_value(key, payload["from"], lk), render_value(key, payload["to"], lk)
        lines.append(PayloadLine(key_label(key), f"{old} → {new}"))
    for k, v in payload.items():
        if (diff and k in ("before", "after")) or (change and k in ("from", "to")):
            continue
        if k in ("digest", "source_sha256") and isinstance(v, str):
            v = v[:12] + "…"
        lines.append(PayloadLine(key_label(k), render_value(k, v, lk)))
    return lines


@dataclass
class EventRow:
    """An audit event ready for the trail page."""

    event: Any
    action: str
    object_label: str
    object_name: str
    lines: list[PayloadLine]


def event_rows(events: Iterable[Any]) -> list[EventRow]:
    """The trail page's rows: labels, object names and readable payloads, with a fixed number of queries."""
    events = list(events)
    lk = lookups_for(events)
    return [
        EventRow(
            event=e,
            action=action_label(e.action),
            object_label=object_label(e.object_type),
            object_name=lk.objects.get((e.object_type, str(e.object_id)))
            or (f"#{e.object_id}" if e.object_id not in ("", None) else NONE),
            lines=render_payload(e.payload, lk),
        )
        for e in events
    ]
