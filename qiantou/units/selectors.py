"""Reads of the unit directory, scoped to what the user may see (``rules.py``)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from qiantou.units.models import Unit


def unit_list(
    *, user: Any, search: str | None = None, kind: str | None = None, active: bool | None = None,
) -> QuerySet[Unit]:
    """Units the user may see, ordered by code; empty when the user may not view the directory.

    ``search`` matches the code or full name (substring), a short or former name (substring, after
    the resolver's normalisation, so traditional script and inline pinyin work), and the unit the
    resolver picks for the text. ``kind`` is a :class:`~qiantou.units.models.UnitKind` value.
    """
    if not user.has_perm("units.view_unit"):
        return Unit.objects.none()
    units = Unit.objects.select_related("parent").order_by("code")
    if kind:
        units = units.filter(kind=kind)
    if active is not None:
        units = units.filter(active=active)
    text = (search or "").strip()
    if text:
        units = units.filter(
            Q(code__icontains=text) | Q(name__icontains=text) | Q(pk__in=_ids_matching(text)))
    return units


def _ids_matching(text: str) -> list[int]:
    """Ids of units whose any name contains ``text`` once both are normalised, plus the resolver's pick."""
    from qiantou.units.resolver import get_resolver

    return [record.id for record in get_resolver().search(text) if record.id is not None]


def unit_get(*, user: Any, unit_id: int) -> Unit:
    """One unit the user may see. Raises ``Unit.DoesNotExist`` otherwise (callers answer 404)."""
    return unit_list(user=user).get(pk=unit_id)


def unit_get_by_code(*, user: Any, code: str) -> Unit:
    """One unit by code, if the user may see it. Raises ``Unit.DoesNotExist``."""
    return unit_list(user=user).get(code=code)
