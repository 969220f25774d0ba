"""REST API of the unit directory, mounted at ``/api/units/`` (see ``qiantou/api.py``).

Reads need ``units.view_unit``; writes ``units.change_unit`` (``rules.py``). Writes go through
``services.py`` like the web UI's. A refused write answers 422 ``{"detail", "errors": {field: message}}``.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate

from qiantou.units import selectors, services
from qiantou.units.models import Unit
from qiantou.units.resolver import get_resolver
from qiantou.units.schemas import (
    ErrorOut,
    ResolveIn,
    ResolveOut,
    UnitCreateIn,
    UnitOut,
    UnitUpdateIn,
)

# Authentication is the API-wide list (bearer token or session with CSRF, ``qiantou/api.py``).
router = Router(tags=["units"])

MAX_NAME_LENGTH = 500


def _user(request: HttpRequest) -> Any:
    auth = getattr(request, "auth", None)
    return auth if getattr(auth, "is_authenticated", False) else request.user


def _require(request: HttpRequest, perm: str) -> Any:
    user = _user(request)
    if not user.has_perm(perm):
        raise HttpError(403, _("没有权限"))
    return user


def _parent(code: str | None) -> Unit | None:
    if not code:
        return None
    try:
        return Unit.objects.get(code=code)
    except Unit.DoesNotExist:
        raise services.UnitValidationError({"parent_code": _("上级单位编码 %(code)s 不存在") % {
            "code": code}}) from None


@router.get("/", response=list[UnitOut])
@paginate(LimitOffsetPagination)
def list_units(
    request: HttpRequest, search: str | None = None, kind: str | None = None, active: bool | None = None,
) -> Any:
    """Units, ordered by code: ``search`` (name/alias/code, traditional or pinyin-annotated too),
    ``kind``, ``active``; paginated with ``limit``/``offset``."""
    user = _require(request, "units.view_unit")
    return selectors.unit_list(user=user, search=search, kind=kind, active=active)


@router.get("/{int:unit_id}", response=UnitOut)
def get_unit(request: HttpRequest, unit_id: int) -> Any:
    """One unit."""
    user = _require(request, "units.view_unit")
    return get_object_or_404(selectors.unit_list(user=user), pk=unit_id)


@router.post("/", response={201: UnitOut, 422: ErrorOut})
def create_unit(request: HttpRequest, payload: UnitCreateIn) -> Any:
    """Create a unit (system administrator)."""
    user = _require(request, "units.change_unit")
    try:
        unit = services.unit_create(
            actor=user, code=payload.code, name=payload.name, kind=payload.kind,
            short_names=payload.short_names, former_names=payload.former_names,
            parent=_parent(payload.parent_code), mandate=payload.mandate, active=payload.active,
        )
    except services.UnitValidationError as exc:
        return Status(422, {"detail": str(exc), "errors": exc.errors})
    return Status(201, Unit.objects.select_related("parent").get(pk=unit.pk))


@router.patch("/{int:unit_id}", response={200: UnitOut, 422: ErrorOut})
def update_unit(request: HttpRequest, unit_id: int, payload: UnitUpdateIn) -> Any:
    """Change a unit's fields (system administrator); fields left out are unchanged."""
    user = _require(request, "units.change_unit")
    unit = get_object_or_404(Unit, pk=unit_id)
    # ninja drops keys the schema does not list; read them from the body to refuse them by name.
    sent = json.loads(request.body or b"{}")
    extra = sorted(set(sent) - set(UnitUpdateIn.model_fields)) if isinstance(sent, dict) else []
    refused = {key: _("单位编码不能修改") if key == "code" else _("没有这个字段，或该字段不能修改")
               for key in extra}
    data = payload.dict(exclude_unset=True)
    refused.update({k: _("不能为空（null）") for k, v in data.items() if v is None and k != "parent_code"})
    if refused:
        detail = _("以下字段不能这样修改：%(fields)s") % {"fields": "、".join(refused)}
        return Status(422, {"detail": detail, "errors": refused})
    changes: dict[str, Any] = {k: v for k, v in data.items() if k != "parent_code"}
    try:
        if "parent_code" in data:
            changes["parent"] = _parent(data["parent_code"])
        services.unit_update(actor=user, unit=unit, **changes)
    except services.UnitValidationError as exc:
        return Status(422, {"detail": str(exc), "errors": exc.errors})
    return Status(200, Unit.objects.select_related("parent").get(pk=unit.pk))


@router.post("/resolve", response={200: ResolveOut, 422: ErrorOut})
def resolve_names(request: HttpRequest, payload: ResolveIn) -> Any:
    """Resolve printed unit names: one result per name, in order (unit / group / generic / unknown)."""
    _require(request, "units.view_unit")
    too_long = [i for i, name in enumerate(payload.names) if len(name) > MAX_NAME_LENGTH]
    if too_long:
        detail = _("第 %(n)d 个名称超过 %(max)d 个字符") % {"n": too_long[0] + 1, "max": MAX_NAME_LENGTH}
        return Status(422, {"detail": detail, "errors": {"names": _("名称过长")}})
    resolver = get_resolver()
    return Status(200, {"results": [r.as_dict() for r in resolver.resolve_many(payload.names)]})
