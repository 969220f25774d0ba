"""Reads of the data check: only data officers, and only the runs of their own unit."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from qiantou.accounts.models import Role
from qiantou.matching.models import MatchRun


def is_data_officer(user: Any) -> bool:
    """True for an active, logged-in user with role ``data_officer`` (数据核对专员)."""
    return bool(
        getattr(user, "is_authenticated", False) and user.is_active and user.role == Role.DATA_OFFICER
    )


def require_data_officer(user: Any) -> None:
    """Raise ``PermissionDenied`` unless ``user`` is a data officer."""
    if not is_data_officer(user):
        raise PermissionDenied(_("只有数据核对专员可以使用数据比对。"))


def matchrun_list_for(user: Any) -> QuerySet[MatchRun]:
    """Runs ``user`` may see: those of the user's unit, or started by the user; none for others."""
    if not is_data_officer(user):
        return MatchRun.objects.none()
    q = Q(created_by=user)
    if user.unit_id is not None:
        q |= Q(unit_id=user.unit_id)
    return MatchRun.objects.filter(q)


def matchrun_get_for(user: Any, pk: Any) -> MatchRun:
    """One visible run; ``Http404`` when missing or not visible."""
    try:
        return matchrun_list_for(user).get(pk=pk)
    except (MatchRun.DoesNotExist, ValueError, TypeError):
        raise Http404(_("未找到该比对，或您无权查看。")) from None
