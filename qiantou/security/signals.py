"""Logins, failures, lockouts and logouts into the accountability record (``auth.*`` events).

The payload holds the username typed, the client address and why — never the password.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction

from qiantou.audit.services import audit_record


def _ip(request: Any) -> str:
    if request is None:
        return ""
    from qiantou.security.middleware import client_ip

    return getattr(request, "axes_ip_address", None) or client_ip(request)


def _record(**kwargs: Any) -> None:
    with transaction.atomic():
        audit_record(**kwargs)


def on_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """``auth.login``; also starts the idle clock."""
    if request is not None and hasattr(request, "session"):
        import time

        from qiantou.security.middleware import LAST_SEEN

        request.session[LAST_SEEN] = time.time()
    _record(actor=user, action="auth.login", obj=user, payload={"ip": _ip(request)})


def on_logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """``auth.logout`` with the reason (``user`` or ``idle_timeout``)."""
    if user is None:
        return
    reason = getattr(request, "qiantou_logout_reason", "user")
    _record(actor=user, action="auth.logout", obj=user, payload={"ip": _ip(request), "reason": reason})


def on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    """``auth.login_failed``: the username typed (it may not exist), address, and whether it was locked."""
    username = str(credentials.get("username", ""))[:150]
    _record(
        actor=None,
        action="auth.login_failed",
        object_type="accounts.user",
        object_id=username[:64],
        payload={
            "username": username,
            "ip": _ip(request),
            "locked": bool(getattr(request, "axes_locked_out", False)),
        },
    )


def on_locked_out(sender: Any, request: Any = None, username: str | None = None, **kwargs: Any) -> None:
    """``auth.lockout`` when the failure limit is reached; ``auth.login_refused`` for a try while locked."""
    crossed = getattr(request, "axes_failures_since_start", None) is not None
    _record(
        actor=None,
        action="auth.lockout" if crossed else "auth.login_refused",
        object_type="accounts.user",
        object_id=(username or "")[:64],
        payload={
            "username": username or "",
            "ip": _ip(request),
            "failures": getattr(request, "axes_failures_since_start", None),
        },
    )


def connect() -> None:
    """Connect the receivers (from ``SecurityConfig.ready``)."""
    from axes.signals import user_locked_out

    user_logged_in.connect(on_logged_in, dispatch_uid="qiantou.security.login")
    user_logged_out.connect(on_logged_out, dispatch_uid="qiantou.security.logout")
    user_login_failed.connect(on_login_failed, dispatch_uid="qiantou.security.login_failed")
    user_locked_out.connect(on_locked_out, dispatch_uid="qiantou.security.locked_out")
