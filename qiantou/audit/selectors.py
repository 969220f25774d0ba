"""Reads of the accountability record, scoped to the user.

- :func:`audit_events_for` — the trail of one object (and of its children, e.g. a plan's tasks and
  versions). The caller checks that the user may see the object itself (through that object's
  selectors, e.g. ``plans.selectors.plan_get_for``); children are filtered here by the same selectors,
  so a restricted task's events do not show on its plan's trail for users who may not see the task;
  events of other objects whose payload names such a task (a comment on it, a revision changing it) are
  redacted or left out for them (``audit.redaction``). The answer is a :class:`Trail`.
- :func:`audit_events_all` — the whole record, for the roles with ``audit.view_events`` only.

Other apps add children with :func:`register_children` (e.g. consultation rounds of a plan).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, overload

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


class Trail:
    """The events of one trail as one viewer may see them, oldest first.

    Counted and sliced in SQL (a page of the API reads one page of rows); the events the viewer may not
    see are left out of the query, and the payloads they may see only in part are shown redacted
    (``audit.redaction.Screen``). Iterating, indexing and slicing give ``AuditEvent`` instances that are
    never saved: a redacted one carries the redacted payload and an empty ``body``.
    """

    def __init__(self, queryset: QuerySet[AuditEvent], payloads: dict[int, dict[str, Any]] | None = None):
        self.queryset = queryset
        self._payloads = payloads or {}
        self._cache: list[AuditEvent] | None = None

    def _shown(self, event: AuditEvent) -> AuditEvent:
        payload = self._payloads.get(event.seq)
        if payload is not None:
            event.payload = payload
            event.body = ""  # the body repeats the stored payload
        return event

    def _results(self) -> list[AuditEvent]:
        if self._cache is None:
            self._cache = [self._shown(e) for e in self.queryset]
        return self._cache

    def __iter__(self) -> Iterator[AuditEvent]:
        return iter(self._results())

    def __len__(self) -> int:
        return len(self._results())

    def __bool__(self) -> bool:
        return bool(self._results())

    @overload
    def __getitem__(self, key: int) -> AuditEvent: ...
    @overload
    def __getitem__(self, key: slice) -> list[AuditEvent]: ...
    def __getitem__(self, key: int | slice) -> AuditEvent | list[AuditEvent]:
        if self._cache is not None:
            return self._cache[key]
        if isinstance(key, slice):
            return [self._shown(e) for e in self.queryset[key]]
        return self._shown(self.queryset[key])

    def all(self) -> Trail:
        """Itself (so pagers that call ``.all().count()`` count in SQL)."""
        return self

    def count(self) -> int:
        """How many events the viewer sees (one ``COUNT`` unless already read)."""
        return len(self._cache) if self._cache is not None else self.queryset.count()

    def exists(self) -> bool:
        """True when the viewer sees any event."""
        return bool(self._cache) if self._cache is not None else self.queryset.exists()


def can_read_all(user: Any) -> bool:
    """True when ``user`` may read the whole record (``audit.view_events``)."""
    return bool(getattr(user, "is_authenticated", False) and user.has_perm("audit.view_events"))


def audit_events_for(
    user: Any, target: models.Model | tuple[str, Any] | str, object_id: Any = None, *, children: bool = True
) -> Trail:
    """Events about one object, oldest first: ``audit_events_for(user, plan)``,
    ``audit_events_for(user, ("plans.task", 12))`` or ``audit_events_for(user, "plans.task", 12)``.

    The caller has checked that ``user`` may see the object. With ``children`` (default), events about
    its registered children that the user may see are included (a plan: its tasks and versions).
    On a plan's trail, events whose payload names a restricted task the user may not see are redacted
    or left out (``audit.redaction``), unless the user reads the whole record.
    Anonymous or inactive users get nothing.
    """
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return Trail(AuditEvent.objects.none())
    object_type, oid = _target(target, object_id)
    # Stored ids are str(pk): "５" or "00005" must find plan 5's own events, not only its children's.
    canonical = canonical_object_id(oid)
    oid = canonical or oid
    q = Q(object_type=object_type, object_id=oid)
    reader = can_read_all(user)
    if children and canonical is not None:  # children functions get whole-number ids only
        for fn in _CHILDREN.get(object_type, []):
            for child_type, ids in fn(user, oid, reader):
                q |= Q(object_type=child_type, object_id__in=_ids_as_text(ids))
    events = AuditEvent.objects.filter(q).order_by("seq")
    if object_type != "plans.plan" or reader:
        return Trail(events)
    return _screened_plan_trail(user, target, canonical, events)


def _screened_plan_trail(user: Any, target: Any, plan_id: str | None, events: QuerySet[AuditEvent]) -> Trail:
    """A plan's trail for a user who is no whole-record reader: restricted tasks screened out."""
    from qiantou.audit.redaction import plan_screen
    from qiantou.plans.models import Plan

    plan = target if isinstance(target, Plan) else None
    if plan is None and plan_id is not None:
        plan = Plan.objects.filter(pk=int(plan_id)).first()
    if plan is None:  # no such plan: nothing the user was allowed to see
        return Trail(AuditEvent.objects.none())
    screen = plan_screen(user, plan, events)
    if screen is None:
        return Trail(events)
    if screen.left_out:
        events = events.exclude(seq__in=sorted(screen.left_out))
    return Trail(events, screen.payloads)


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
