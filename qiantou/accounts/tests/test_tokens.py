"""API tokens: the console command prints a token once; only its hash is stored; it authenticates."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from qiantou.accounts.models import ApiToken, Role
from qiantou.accounts.services import (
    LAST_USED_GRANULARITY,
    api_token_authenticate,
    api_token_create,
    token_hash,
)
from qiantou.audit.models import AuditEvent
from qiantou.plans.tests.factories import make_unit, make_user

pytestmark = pytest.mark.django_db


def test_token_create_command_prints_the_token_once() -> None:
    user = make_user("zhang", role=Role.LIAISON, unit=make_unit("市司法局"))
    out, err = io.StringIO(), io.StringIO()
    call_command("token_create", "zhang", "--name", "台账同步", "--days", "30", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    assert raw.startswith("qt_") and len(raw) > 40
    assert "只显示这一次" in err.getvalue()
    token = ApiToken.objects.get()
    assert token.key_hash == token_hash(raw) and raw not in token.key_hash
    assert token.name == "台账同步" and token.expires_at is not None
    assert api_token_authenticate(raw) == user
    assert api_token_authenticate(raw[:-1]) is None
    assert api_token_authenticate("not-a-token") is None
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert AuditEvent.objects.filter(action="api_token.create", object_id=str(token.pk)).exists()


def test_token_create_command_refuses_unknown_or_inactive_users() -> None:
    with pytest.raises(CommandError, match="不存在"):
        call_command("token_create", "nobody", stdout=io.StringIO())
    make_user("gone", role=Role.HANDLER, is_active=False)
    with pytest.raises(CommandError, match="停用"):
        call_command("token_create", "gone", stdout=io.StringIO())
    assert not ApiToken.objects.exists()


def test_last_used_is_refreshed_only_when_stale_and_expiry_is_to_the_second() -> None:
    user = make_user("li", role=Role.HANDLER, unit=make_unit("市民政局"))
    now = timezone.now()
    token, raw = api_token_create(actor=None, user=user, expires_at=now + dt.timedelta(seconds=30))
    recent = now - LAST_USED_GRANULARITY + dt.timedelta(seconds=30)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recent)
    assert api_token_authenticate(raw) == user
    token.refresh_from_db()
    assert token.last_used_at == recent  # fresh enough: a read stays a read
    stale = now - LAST_USED_GRANULARITY - dt.timedelta(seconds=30)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=stale)
    assert api_token_authenticate(raw) == user
    token.refresh_from_db()
    assert token.last_used_at is not None and token.last_used_at >= now
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert api_token_authenticate(raw) is None
