"""Writes to accounts: API tokens (created, revoked) and token authentication bookkeeping."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from qiantou.accounts.models import ApiToken, User
from qiantou.audit.services import audit_record

#: Every token starts with this, so a leaked one is easy to recognise (and to search for in logs).
TOKEN_PREFIX = "qt_"
#: ``last_used_at`` is refreshed at most this often, so reads do not turn into writes.
LAST_USED_GRANULARITY = dt.timedelta(minutes=5)


def token_hash(raw: str) -> str:
    """The stored form of a token: SHA-256 hex of its UTF-8 bytes."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def api_token_create(
    *, actor: Any, user: User, name: str = "", expires_at: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a bearer token for ``user``; returns the row and the raw token (shown once, never stored).

    ``actor`` is the person (or None for the console) who created it; recorded as ``api_token.create``.
    """
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=raw[: len(TOKEN_PREFIX) + 6],
            key_hash=token_hash(raw),
            expires_at=expires_at,
        )
        audit_record(
            actor=actor,
            action="api_token.create",
            obj=token,
            payload={"user_id": user.pk, "name": name, "prefix": token.prefix},
        )
    return token, raw


def api_token_revoke(*, actor: Any, token: ApiToken) -> None:
    """Revoke a token (it stops working at once); recorded as ``api_token.revoke``."""
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        audit_record(
            actor=actor,
            action="api_token.revoke",
            obj=token,
            payload={"user_id": token.user_id, "prefix": token.prefix},
        )


def api_token_authenticate(raw: str) -> User | None:
    """The active user a raw bearer token belongs to, or None (unknown, revoked, expired, inactive user).

    Refreshes ``last_used_at`` at most every ``LAST_USED_GRANULARITY`` (a conditional UPDATE).
    """
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=token_hash(raw), revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_GRANULARITY)
        ).update(last_used_at=now)
    return token.user
