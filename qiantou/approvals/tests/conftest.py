"""Shared fixture: the consultation world (``qiantou.consultation.tests.factories.make_world``)."""

from __future__ import annotations

from typing import Any

import pytest

from qiantou.consultation.tests.factories import World, make_world


@pytest.fixture
def world(settings: Any) -> World:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins
    return make_world()
