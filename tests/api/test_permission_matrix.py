"""The permission matrix: every plans/tasks endpoint × role × auth mode, with the expected status code.

Roles: handler of the lead unit, liaison of a unit named on the tasks, liaison of an unrelated unit,
supervision office, auditor, system administrator, anonymous. 404 means "missing or invisible";
403 "visible but not yours to change"; 409 "frozen (not a draft)".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.api.conftest import Scene

ROLES = ["handler", "named_liaison", "other_liaison", "supervision", "auditor", "sysadmin", "anonymous"]

TASK_BODY = {"no": "2", "text": "新增任务", "lead_unit_ids": []}

# (name, method, url template, body, expected codes in ROLES order)
MATRIX: list[tuple[str, str, str, dict[str, Any] | None, list[int]]] = [
    ("list plans", "get", "/api/plans/", None, [200, 200, 200, 200, 200, 200, 401]),
    ("create plan", "post", "/api/plans/", {"title": "新方案"}, [201, 403, 403, 403, 403, 403, 401]),
    ("get draft plan", "get", "/api/plans/{draft}", None, [200, 404, 404, 200, 200, 404, 401]),
    ("get issued plan", "get", "/api/plans/{issued}", None, [200, 200, 404, 200, 200, 404, 401]),
    ("get missing plan", "get", "/api/plans/999999", None, [404, 404, 404, 404, 404, 404, 401]),
    (
        "update draft plan",
        "patch",
        "/api/plans/{draft}",
        {"lock_version": 0, "title": "改"},
        [200, 404, 404, 403, 403, 404, 401],
    ),
    (
        "update issued plan",
        "patch",
        "/api/plans/{issued}",
        {"lock_version": 0, "title": "改"},
        [409, 403, 404, 403, 403, 404, 401],
    ),
    ("list tasks", "get", "/api/plans/tasks?overdue=true", None, [200, 200, 200, 200, 200, 200, 401]),
    (
        "create task in draft",
        "post",
        "/api/plans/{draft}/tasks",
        TASK_BODY,
        [201, 404, 404, 403, 403, 404, 401],
    ),
    (
        "create task in issued",
        "post",
        "/api/plans/{issued}/tasks",
        TASK_BODY,
        [409, 403, 404, 403, 403, 404, 401],
    ),
    ("get draft task", "get", "/api/plans/tasks/{draft_task}", None, [200, 404, 404, 200, 200, 404, 401]),
    ("get issued task", "get", "/api/plans/tasks/{issued_task}", None, [200, 200, 404, 200, 200, 404, 401]),
    ("get missing task", "get", "/api/plans/tasks/999999", None, [404, 404, 404, 404, 404, 404, 401]),
    (
        "update draft task",
        "patch",
        "/api/plans/tasks/{draft_task}",
        {"lock_version": 0, "text": "改"},
        [200, 404, 404, 403, 403, 404, 401],
    ),
    (
        "update issued task",
        "patch",
        "/api/plans/tasks/{issued_task}",
        {"lock_version": 0, "text": "改"},
        [409, 403, 404, 403, 403, 404, 401],
    ),
    (
        "delete draft task",
        "delete",
        "/api/plans/tasks/{draft_task}",
        None,
        [204, 404, 404, 403, 403, 404, 401],
    ),
    (
        "delete issued task",
        "delete",
        "/api/plans/tasks/{issued_task}",
        None,
        [409, 403, 404, 403, 403, 404, 401],
    ),
]

CASES = [
    pytest.param(method, url, body, role, codes[i], auth, id=f"{name}-{role}-{auth}")
    for name, method, url, body, codes in MATRIX
    for i, role in enumerate(ROLES)
    for auth in ("token", "session")
]


def call(client: Client, method: str, url: str, body: dict[str, Any] | None) -> Any:
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(("method", "url", "body", "role", "expected", "auth"), CASES)
def test_permission_matrix(
    scene: Scene,
    client_for: Callable[[Any, str], Client],
    method: str,
    url: str,
    body: dict[str, Any] | None,
    role: str,
    expected: int,
    auth: str,
) -> None:
    user = None if role == "anonymous" else getattr(scene.world, role)
    url = url.format(
        draft=scene.draft.pk,
        issued=scene.issued.pk,
        draft_task=scene.draft_task.pk,
        issued_task=scene.issued_task.pk,
    )
    response = call(client_for(user, auth), method, url, body)
    assert response.status_code == expected, response.content.decode()
    if expected >= 400:
        detail = response.json()["detail"]
        assert isinstance(detail, str) and any("\u4e00" <= ch <= "\u9fff" for ch in detail), detail


def test_matrix_covers_every_plans_endpoint() -> None:
    """A new endpoint must get a row: compare the table with the OpenAPI document."""
    from qiantou.api import api

    paths = api.get_openapi_schema()["paths"]
    served = {
        (method, path) for path, ops in paths.items() if path.startswith("/api/plans/") for method in ops
    }
    covered = set()
    for _name, method, url, _body, _codes in MATRIX:
        path = url.split("?")[0]
        for key in ("draft_task", "issued_task"):
            path = path.replace("{" + key + "}", "{task_id}")
        for key in ("draft", "issued"):
            path = path.replace("{" + key + "}", "{plan_id}")
        path = path.replace("tasks/999999", "tasks/{task_id}").replace("plans/999999", "plans/{plan_id}")
        covered.add((method, path))
    assert served <= covered, served - covered
