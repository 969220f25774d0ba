"""Fixtures for API tests: a small city with one plan per state, and clients per role and auth mode."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from qiantou.accounts.services import api_token_create
from qiantou.plans.models import Plan, PlanStatus, Task
from qiantou.plans.tests.factories import World, make_plan, make_task, make_world

CSRF_SECRET = "a" * 32


@dataclass
class Scene:
    """The city, a draft plan and an issued plan, each with one task led by the lead unit."""

    world: World
    draft: Plan
    issued: Plan
    draft_task: Task
    issued_task: Task


@pytest.fixture
def scene(db: Any) -> Scene:
    world = make_world()
    draft = make_plan(world.lead, issuing_unit=world.issuing, title="草稿方案")
    issued = make_plan(world.lead, status=PlanStatus.ISSUED, issuing_unit=world.issuing, title="已印发方案")
    draft_task = make_task(draft, no="1", lead=[world.lead], cooperating=[world.named])
    issued_task = make_task(
        issued, no="1", lead=[world.lead], cooperating=[world.named], deadline=dt.date(2026, 6, 30)
    )
    return Scene(world=world, draft=draft, issued=issued, draft_task=draft_task, issued_task=issued_task)


def api_client(user: Any, auth: str) -> Client:
    """A test client acting as ``user`` (None: anonymous) through a bearer token or a CSRF-checked session."""
    if auth == "token":
        headers = {}
        if user is not None:
            _token, raw = api_token_create(actor=None, user=user, name="test")
            headers["Authorization"] = f"Bearer {raw}"
        return Client(headers=headers)
    client = Client(enforce_csrf_checks=True, headers={"X-CSRFToken": CSRF_SECRET})
    client.cookies["csrftoken"] = CSRF_SECRET
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def client_for() -> Callable[[Any, str], Client]:
    return api_client
