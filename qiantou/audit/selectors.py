"""Reads of the accountability record, scoped to the user.

- :func:`audit_events_for` — the trail of one object (and of its children, e.g. a plan's tasks and
  versions). The caller checks that the user may see the object itself (through that object's
  selectors, e.g. ``plans.selectors.plan_get_for``); children are filtered here by the same selectors,
  so a restricted task's events do not show on its plan's trail for users who may not see the task.
- :func:`audit_events_all` — the whole record, for the roles with ``audit.view_events`` only.

Other apps add children with :func:`register_children` (e.g. consultation rounds of a plan).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import models
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast

from qiantou.audit.models import AuditEvent

#: ``(user, parent object_id, user may read the whole record) -> [(child object_type, ids queryset)]``.
ChildrenFn = Callable[[Any, str, bool], Iterable[tuple[str, QuerySet[Any]]]]
_CHILDREN: dict[str, list[ChildrenFn]] = {}


def register_children(object_type: str, fn: ChildrenFn) -> None:
    """Include events about the children ``fn`` names in the trail of an ``object_type`` object.

    ``fn`` returns ``(child object_type, queryset of the children's primary keys)`` pairs; restrict the
    queryset to what the user may see unless the third argument (whole-record reader) is True.
    """
    _CHILDREN.setdefault(object_type, []).append(fn)


#: Largest primary key a lookup may name (PostgreSQL bigint); a longer digit string names no row.
_MAX_PK = 2**63 - 1


def canonical_object_id(value: Any) -> str | None:
    """The id as ``audit_record`` stores it (``str(pk)``): decimal digits of any script (full-width
    "５") read as a number, leading zeros dropped ("00005" → "5"). None when ``value`` is not a whole
    number in range (e.g. "²", which ``str.isdigit`` accepts but is no decimal digit, or "-1")."""
    text = str(value).strip()
    if not text.isdecimal() or len(text) > 19:
        return None
    number = int(text)
    return str(number) if number <= _MAX_PK else None


def _ids_as_text(qs: QuerySet[Any]) -> QuerySet[Any]:
    """``object_id`` is text: compare against the children's keys cast to text, in one subquery."""
    return qs.order_by().annotate(_audit_oid=Cast("pk", output_field=CharField())).values("_audit_oid")


def _plan_children(user: Any, plan_id: str, reader: bool) -> Iterable[tuple[str, QuerySet[Any]]]:
    from qiantou.plans.models import PlanVersion, Task
    from qiantou.plans.selectors import task_list_for

    if canonical_object_id(plan_id) != plan_id:  # audit_events_for passes canonical ids only
        return []
    tasks = Task.objects.filter(plan_id=int(plan_id)) if reader else task_list_for(user, plan=int(plan_id))
    return [
        ("plans.task", tasks),
        ("plans.planversion", PlanVersion.objects.filter(plan_id=int(plan_id))),
    ]


register_children("plans.plan", _plan_children)


def _target(target: models.Model | tuple[str, Any] | str, object_id: Any) -> tuple[str, str]:
    if isinstance(target, models.Model):
        return target._meta.label_lower, str(target.pk)
    if isinstance(target, tuple):
        object_type, object_id = target
        return str(object_type), str(object_id)
    return str(target), str(object_id)


def can_read_all(user: Any) -> bool:
    """True when ``user`` may read the whole record (``audit.view_events``)."""
    return bool(getattr(user, "is_authenticated", False) and user.has_perm("audit.view_events"))


def audit_events_for(
    user: Any, target: models.Model | tuple[str, Any] | str, object_id: Any = None, *, children: bool = True
) -> QuerySet[AuditEvent]:
    """Events about one object, oldest first: ``audit_events_for(user, plan)``,
    ``audit_events_for(user, ("plans.task", 12))`` or ``audit_events_for(user, "plans.task", 12)``.

    The caller has checked that ``user`` may see the object. With ``children`` (default), events about
    its registered children that the user may see are included (a plan: its tasks and versions).
    Anonymous or inactive users get nothing.
    """
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return AuditEvent.objects.none()
    object_type, oid = _target(target, object_id)
    # Stored ids are str(pk): "５" or "00005" must find plan 5's own events, not only its children's.
    canonical = canonical_object_id(oid)
    oid = canonical or oid
    q = Q(object_type=object_type, object_id=oid)
    if children and canonical is not None:  # children functions get whole-number ids only
        reader = can_read_all(user)
        for fn in _CHILDREN.get(object_type, []):
            for child_type, ids in fn(user, oid, reader):
                q |= Q(object_type=child_type, object_id__in=_ids_as_text(ids))
    return AuditEvent.objects.filter(q).order_by("seq")


def _unit_get_for(user: Any, pk: Any) -> Any:
    from django.http import Http404

    from qiantou.units.models import Unit

    if not user.has_perm("units.view_unit"):
        raise Http404
    try:
        return Unit.objects.get(pk=pk)
    except (Unit.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def _getters() -> dict[str, Callable[[Any, Any], Any]]:
    from qiantou.plans.selectors import plan_get_for, task_get_for

    return {"plans.plan": plan_get_for, "plans.task": task_get_for, "units.unit": _unit_get_for}


def object_get_for(user: Any, object_type: str, object_id: Any) -> models.Model:
    """The object whose trail is asked for, if ``user`` may see it; ``Http404`` otherwise (also for types
    without a trail page: plans.plan, plans.task and units.unit have one)."""
    from django.http import Http404

    getter = _getters().get(object_type)
    oid = canonical_object_id(object_id)
    if getter is None or oid is None:
        raise Http404
    obj: models.Model = getter(user, int(oid))
    return obj


def audit_events_all(user: Any) -> QuerySet[AuditEvent]:
    """The whole record, oldest first, for auditors, supervision office and security auditors; else none."""
    if not can_read_all(user):
        return AuditEvent.objects.none()
    return AuditEvent.objects.order_by("seq")
