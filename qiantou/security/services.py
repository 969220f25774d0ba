"""Writes of the security baseline: accounts under separation of duties, passwords, the TOTP second
factor, personal-data viewing, export records and the retention purge. Each records its event."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qiantou.accounts.models import ADMINISTRATOR_ROLES, Role, User
from qiantou.audit.services import audit_record

#: Roles that use the Django admin screens (/admin/): their own part of it only (``accounts.admin``).
STAFF_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN})


def _require(actor: Any, role: str, what: str) -> None:
    """``actor`` None is the console (a person at the server); else it must hold ``role``."""
    if actor is not None and getattr(actor, "role", None) != role:
        raise PermissionDenied(
            _("三员分立：%(what)s只能由%(role)s执行。") % {"what": what, "role": Role(role).label}
        )


# --- Accounts under separation of duties -------------------------------------------------------------


def duties_violations(user: User) -> list[str]:
    """What is wrong with ``user`` under 三员分立 (empty when nothing): superuser, or a staff flag that
    does not follow from the role, or direct permissions/groups on an administrator."""
    problems = []
    if user.is_superuser:
        problems.append(_("超级用户可同时行使三员的全部权限"))
    if user.is_staff != (user.role in STAFF_ROLES):
        problems.append(_("管理后台权限与角色不符"))
    if (
        user.pk
        and user.role in ADMINISTRATOR_ROLES
        and (user.user_permissions.exists() or user.groups.exists())
    ):
        problems.append(_("三员账号不应另有权限或用户组"))
    return problems


def user_create(
    *,
    actor: Any,
    username: str,
    initial_password: str,
    display_name: str = "",
    unit: Any = None,
    phone: str = "",
) -> User:
    """System administrator: create an account, inactive until the security administrator grants it a
    role (:func:`user_role_assign`); the initial password must be changed at first login.

    Raises ``PermissionDenied`` (not the system administrator), ``ValidationError`` (weak password,
    name taken).
    """
    _require(actor, Role.SYSTEM_ADMIN, _("创建账号"))
    if User.objects.filter(username=username).exists():
        raise ValidationError(_("用户名“%(u)s”已被使用。") % {"u": username})
    user = User(username=username, display_name=display_name, unit=unit, phone=phone, role=Role.LIAISON)
    password_validation.validate_password(initial_password, user)
    with transaction.atomic():
        user.is_active = False
        user.must_change_password = True
        user.set_password(initial_password)
        user.save()
        audit_record(
            actor=actor,
            action="accounts.user_create",
            obj=user,
            payload={"username": username, "unit_id": getattr(unit, "pk", None)},
        )
    return user


def user_update(
    *,
    actor: Any,
    user: User,
    display_name: str | None = None,
    unit: Any = ...,
    phone: str | None = None,
    is_active: bool | None = None,
) -> User:
    """System administrator: change an account's name, unit, phone or active flag (never its role)."""
    _require(actor, Role.SYSTEM_ADMIN, _("修改账号"))
    if actor is not None and actor.pk == user.pk and is_active is False:
        raise ValidationError(_("不能停用自己的账号。"))
    changed: dict[str, Any] = {}
    for field, value in (("display_name", display_name), ("phone", phone), ("is_active", is_active)):
        if value is not None and getattr(user, field) != value:
            setattr(user, field, value)
            changed[field] = value
    if unit is not ... and user.unit_id != getattr(unit, "pk", None):
        user.unit = unit
        changed["unit_id"] = getattr(unit, "pk", None)
    if changed:
        with transaction.atomic():
            user.save()
            audit_record(actor=actor, action="accounts.user_update", obj=user, payload=changed)
    return user


def user_password_reset(*, actor: Any, user: User, initial_password: str) -> None:
    """System administrator: set a new initial password (to be changed at next login)."""
    _require(actor, Role.SYSTEM_ADMIN, _("重置密码"))
    password_validation.validate_password(initial_password, user)
    with transaction.atomic():
        user.set_password(initial_password)
        user.must_change_password = True
        user.save()
        audit_record(actor=actor, action="accounts.password_reset", obj=user, payload={})


def user_role_assign(*, actor: Any, user: User, role: str) -> User:
    """Security administrator: give ``user`` its one role; never one's own. The staff flag follows the
    role, superuser is cleared; an account never used before is activated by its first grant.

    Raises ``PermissionDenied`` (wrong actor or own account), ``ValidationError`` (unknown role).
    """
    _require(actor, Role.SECURITY_ADMIN, _("分配角色"))
    if actor is not None and actor.pk == user.pk:
        raise PermissionDenied(_("三员分立：不能给自己分配角色。"))
    if role not in Role.values:
        raise ValidationError(_("未知角色：%(r)s") % {"r": role})
    before = user.role
    with transaction.atomic():
        user.role = role
        user.is_staff = role in STAFF_ROLES
        user.is_superuser = False
        if not user.is_active and user.last_login is None:
            user.is_active = True
        user.save()
        if role in ADMINISTRATOR_ROLES:
            user.user_permissions.clear()
            user.groups.clear()
        audit_record(
            actor=actor, action="accounts.role_assign", obj=user, payload={"from": before, "to": role}
        )
    return user


def password_change(*, actor: User, old_password: str, new_password: str) -> None:
    """A user changes their own password (the forced first change too); validators apply, the new one
    must differ from the old. Raises ``ValidationError``."""
    if not actor.check_password(old_password):
        raise ValidationError(_("原密码不正确。"))
    if old_password == new_password:
        raise ValidationError(_("新密码不能与原密码相同。"))
    password_validation.validate_password(new_password, actor)
    with transaction.atomic():
        actor.set_password(new_password)
        forced = actor.must_change_password
        actor.must_change_password = False
        actor.save(update_fields=["password", "must_change_password"])
        audit_record(actor=actor, action="auth.password_change", obj=actor, payload={"forced": forced})


def lockout_release(*, actor: Any, attempts: Any) -> list[str]:
    """Security administrator: release locked usernames before the period ends (django-axes
    ``AccessAttempt`` rows); one ``auth.unlock`` event per username. Returns the usernames."""
    _require(actor, Role.SECURITY_ADMIN, _("解除锁定"))
    names = sorted({a.username or "" for a in attempts})
    with transaction.atomic():
        for name in names:
            audit_record(
                actor=actor,
                action="auth.unlock",
                object_type="accounts.user",
                object_id=name[:64],
                payload={"username": name},
            )
        attempts.delete()
    return names


# --- TOTP second factor (django-otp) -------------------------------------------------------------


def otp_allowed_for(user: Any) -> bool:
    """Administrators and approvers may add a TOTP device (``QIANTOU_OTP_ROLES``)."""
    return getattr(user, "role", None) in settings.QIANTOU_OTP_ROLES


def otp_required_for(user: Any) -> bool:
    """True when the user's role must use TOTP (``QIANTOU_OTP_REQUIRED_ROLES``)."""
    return getattr(user, "role", None) in settings.QIANTOU_OTP_REQUIRED_ROLES


def otp_device_for(user: Any) -> Any:
    """The user's confirmed TOTP device, or None."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def otp_device_start(*, actor: User) -> Any:
    """Begin binding a TOTP device: a new unconfirmed device (earlier unconfirmed ones are dropped)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if not otp_allowed_for(actor):
        raise PermissionDenied(_("您的角色不使用动态口令。"))
    TOTPDevice.objects.filter(user=actor, confirmed=False).delete()
    return TOTPDevice.objects.create(user=actor, name="TOTP", confirmed=False)


def otp_device_confirm(*, actor: User, device: Any, token: str) -> bool:
    """Confirm a device with a code from the authenticator app; recorded as ``auth.otp_enable``."""
    if device.user_id != actor.pk or device.confirmed:
        raise PermissionDenied
    if not device.verify_token(token):
        return False
    with transaction.atomic():
        type(device).objects.filter(user=actor, confirmed=True).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit_record(actor=actor, action="auth.otp_enable", obj=actor, payload={})
    return True


def otp_device_remove(*, actor: Any, user: User) -> None:
    """Security administrator: remove a user's TOTP device (a lost phone); recorded."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    _require(actor, Role.SECURITY_ADMIN, _("解绑动态口令"))
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        audit_record(actor=actor, action="auth.otp_remove", obj=user, payload={})


# --- Personal data and exports -------------------------------------------------------------------


def personal_data_reveal(
    *, actor: Any, value: str, field: str, object_type: str, object_id: str | int
) -> str:
    """The full value of a masked field (``id_number``/``name``) for a permitted role; the viewing is
    recorded as ``personal_data.view`` (field and object only — never the value).

    Raises ``PermissionDenied`` for anyone without ``security.view_personal_data``.
    """
    if actor is None or not actor.has_perm("security.view_personal_data"):
        raise PermissionDenied(_("您无权查看完整的个人信息。"))
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="personal_data.view",
            object_type=object_type,
            object_id=object_id,
            payload={"field": field},
        )
    return value


def export_record(
    *, actor: Any, path: str, filename: str, content: bytes, content_type: str, exported_at: dt.datetime
) -> None:
    """Record a download: who, when, which file, and its SHA-256 (so a copy found later can be traced)."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="export.download",
            object_type="export",
            object_id=path[:64],
            payload={
                "path": path,
                "filename": filename,
                "bytes": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
                "content_type": content_type.split(";")[0],
                "exported_at": exported_at.isoformat(),
            },
        )


# --- Retention of data-check files ---------------------------------------------------------------


def retention_purge(
    *, actor: Any = None, days: int | None = None, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Delete data-check files (sealed round files, results, pending secret state, the kept registry)
    older than ``days`` (default ``QIANTOU_MATCHING_RETENTION_DAYS``); one ``matching.retention_delete``
    event per run or file deleted. Returns what was deleted. The run rows (counts only) stay.

    Age: a run's ``updated_at``; files without a run row, their modification time.
    """
    from qiantou.matching.models import MatchRun
    from qiantou.matching.services import vault

    days = settings.QIANTOU_MATCHING_RETENTION_DAYS if days is None else days
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    base = vault().base
    deleted: list[dict[str, Any]] = []

    def _mtime(path: Path) -> dt.datetime:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)

    runs_dir = base / "runs"
    for side_dir in sorted(runs_dir.glob("*/*")) if runs_dir.exists() else []:
        run_id, side = side_dir.parent.name, side_dir.name
        run = MatchRun.objects.filter(run_id=run_id, side=side).first()
        files = sorted(p for p in side_dir.rglob("*") if p.is_file())
        if not files:
            continue
        changed = run.updated_at if run else max(_mtime(p) for p in files)
        if changed >= cutoff:
            continue
        entry = {
            "run_id": run_id,
            "side": side,
            "files": [p.name for p in files],
            "bytes": sum(p.stat().st_size for p in files),
            "retention_days": days,
        }
        with transaction.atomic():
            audit_record(
                actor=actor,
                action="matching.retention_delete",
                obj=run,
                object_type="" if run else "matching.matchrun",
                object_id="" if run else run_id,
                payload=entry,
            )
            shutil.rmtree(side_dir)
        if not any(side_dir.parent.iterdir()):
            side_dir.parent.rmdir()
        deleted.append(entry)
    loose = [*sorted((base / "requests").glob("*.state")), base / "active-registry.csv.sealed"]
    for path in loose:
        if not path.exists() or _mtime(path) >= cutoff:
            continue
        entry = {"file": path.name, "bytes": path.stat().st_size, "retention_days": days}
        with transaction.atomic():
            audit_record(
                actor=actor,
                action="matching.retention_delete",
                object_type="matching.file",
                object_id=path.name[:64],
                payload=entry,
            )
            path.unlink()
        deleted.append(entry)
    return deleted
