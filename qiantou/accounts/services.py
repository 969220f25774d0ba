"""Writes to accounts: API tokens (created, revoked) and token authentication bookkeeping."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from typing import Any

from django.db import connection, transaction
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


@functools.cache
def _token_user_sql() -> str:
    """The active user of a live token, with the token's id and whether its ``last_used_at`` is stale.

    One statement, written out: the ORM's ``select_related`` query took 0.57 ms of CPU to build on
    every API request, a tenth of the task list's budget (issue 2, bench/api_tasks.py); this takes
    0.16 ms. Parameters: now minus ``LAST_USED_GRANULARITY``, the token hash, now.
    """
    user_columns = ", ".join(f'u."{f.column}"' for f in User._meta.concrete_fields)
    return (
        f'SELECT {user_columns}, t."id" AS token_id, '
        '(t."last_used_at" IS NULL OR t."last_used_at" < %s) AS token_stale '
        f'FROM "{ApiToken._meta.db_table}" t JOIN "{User._meta.db_table}" u ON u."id" = t."user_id" '
        'WHERE t."key_hash" = %s AND t."revoked_at" IS NULL '
        'AND (t."expires_at" IS NULL OR t."expires_at" > %s) AND u."is_active"'
    )


def api_token_authenticate(raw: str) -> User | None:
    """The active user a raw bearer token belongs to, or None (unknown, revoked, expired, inactive user).

    Refreshes ``last_used_at`` at most every ``LAST_USED_GRANULARITY`` (a conditional UPDATE).
    """
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    now = timezone.now()
    stale_before = now - LAST_USED_GRANULARITY
    adapt = connection.ops.adapt_datetimefield_value  # SQLite stores naive UTC text
    params = [adapt(stale_before), token_hash(raw), adapt(now)]
    user = next(iter(User.objects.raw(_token_user_sql(), params)), None)
    if user is None:
        return None
    token_id, stale = user.__dict__.pop("token_id"), user.__dict__.pop("token_stale")  # not User fields
    if stale:
        ApiToken.objects.filter(pk=token_id).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale_before)
        ).update(last_used_at=now)
    return user
