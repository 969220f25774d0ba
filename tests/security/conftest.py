"""Fixtures for the security tests: one user per role with a known password, clean rate counters."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from qiantou.accounts.models import Role, User
from qiantou.security import ratelimit
from qiantou.units.models import Unit

#: Passes every validator (length ≥ 10, letters, digits, symbols, not common).
PASSWORD = "Qiantou#2026-ok"


@pytest.fixture(autouse=True)
def _fresh_counters(settings: Any) -> Iterator[None]:
    """Rate-limit counters live in the cache: start every test from zero; fast hashing in tests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    ratelimit.clear()
    yield
    ratelimit.clear()


@pytest.fixture
def unit(db: Any) -> Unit:
    return Unit.objects.create(code="MZJ", name="青山市民政局")


@pytest.fixture
def make_user(db: Any, unit: Unit) -> Callable[..., User]:
    """``make_user("name", role=…, **fields)`` → an active user with :data:`PASSWORD`."""

    def make(username: str, *, role: str = Role.HANDLER, with_unit: bool = True, **fields: Any) -> User:
        user = User(username=username, role=role, unit=unit if with_unit else None, **fields)
        user.set_password(PASSWORD)
        user.save()
        return user

    return make
