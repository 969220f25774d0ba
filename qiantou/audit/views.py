"""The audit trail page: the accountability record of one object the user may see."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from qiantou.plans.selectors import plan_get_for, task_get_for
from qiantou.units.models import Unit


def _unit_get_for(user: Any, pk: Any) -> Unit:
    """A unit of the directory (reference data every active user may read)."""
    if not user.has_perm("units.view_unit"):
        raise Http404
    try:
        return Unit.objects.get(pk=pk)
    except (Unit.DoesNotExist, ValueError, TypeError):
        raise Http404(_("未找到该单位。")) from None


def _events_for(user: Any, obj: Any) -> Any:
    """The object's events through the audit selector; until it lands, the object's own events
    (the caller has already checked that ``user`` may see ``obj``)."""
    try:
        from qiantou.audit.selectors import audit_events_for
    except ModuleNotFoundError:
        from qiantou.audit.models import AuditEvent

        return AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk)).order_by(
            "seq"
        )
    return audit_events_for(user, obj)


#: ``object_type`` (``app_label.model``, as the audit record stores it) → (getter that 404s, page URL name).
OBJECT_GETTERS: dict[str, tuple[Callable[[Any, Any], Any], str]] = {
    "plans.plan": (plan_get_for, "plans:plan_detail"),
    "plans.task": (task_get_for, "plans:task_detail"),
    "units.unit": (_unit_get_for, "units:unit_detail"),
}


@login_required
def audit_trail(request: HttpRequest, object_type: str, object_id: str) -> HttpResponse:
    """Every audit event of one object, oldest first; 404 when the user may not see the object."""
    entry = OBJECT_GETTERS.get(object_type)
    if entry is None or not object_id.isdigit():
        raise Http404(_("不支持查看该对象的审计记录。"))
    getter, url_name = entry
    obj = getter(request.user, int(object_id))
    events = list(_events_for(request.user, obj))
    ctx = {
        "nav": "",
        "obj": obj,
        "object_type": object_type,
        "object_url": reverse(url_name, args=[obj.pk]),
        "events": events,
    }
    return render(request, "audit/audit_trail.html", ctx)
