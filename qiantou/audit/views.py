"""The audit trail page: the accountability record of one object the user may see."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from qiantou.audit.labels import event_rows, object_label
from qiantou.audit.selectors import audit_events_for, object_get_for

#: The page of each object type that has a trail (``app_label.model``, as the record stores it).
OBJECT_PAGES = {
    "plans.plan": "plans:plan_detail",
    "plans.task": "plans:task_detail",
    "units.unit": "units:unit_detail",
}


@login_required
def audit_trail(request: HttpRequest, object_type: str, object_id: str) -> HttpResponse:
    """Every audit event of one object (a plan's trail includes its visible tasks and versions, and
    leaves out or redacts what names a restricted task the user may not see), oldest first; 404 when
    the user may not see the object or it has no trail page. Actions, object types and payloads are
    shown in words (``audit.labels``); the action code stays in the cell's ``title``."""
    obj = object_get_for(request.user, object_type, object_id)
    events = list(audit_events_for(request.user, obj))
    ctx = {
        "nav": "",
        "obj": obj,
        "object_type": object_type,
        "object_type_label": object_label(object_type),
        "object_url": reverse(OBJECT_PAGES[object_type], args=[obj.pk]),
        "events": events,
        "rows": event_rows(events),
    }
    return render(request, "audit/audit_trail.html", ctx)
