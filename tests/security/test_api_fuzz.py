"""Schemathesis against ``/api/openapi.json`` with valid tokens of three roles (a handler of the lead
unit, a liaison of an unrelated unit, the system administrator): no 500s, and no response carries an
object the role may not see. Then a deterministic sweep: every read route, given the id of an object
invisible to the role, answers exactly as for an id that does not exist.

Bounded: ``QIANTOU_FUZZ_EXAMPLES`` examples per operation (default 12) keeps the run well under three
minutes on a loaded two-core machine.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings

from qiantou.accounts.services import api_token_create
from qiantou.plans.models import PlanStatus
from qiantou.plans.tests.factories import make_plan, make_task, make_world

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("QIANTOU_FUZZ_EXAMPLES", "12"))
#: Marker texts of objects, and which fuzzing roles must never see them.
SECRET_OF_LEAD_UNIT = "牵头单位内部方案甲"
SECRET_OF_OTHER_UNIT = "无关单位草稿乙"


@pytest.fixture
def scene(db: Any, settings: Any) -> dict[str, Any]:
    settings.QIANTOU_RATE_API = ""  # rate limits are tested on their own; here they would only add 429s
    world = make_world()
    issued = make_plan(world.lead, status=PlanStatus.ISSUED, title=SECRET_OF_LEAD_UNIT)
    issued_task = make_task(
        issued, no="1", lead=[world.lead], cooperating=[world.named], text=SECRET_OF_LEAD_UNIT
    )
    draft = make_plan(world.other, title=SECRET_OF_OTHER_UNIT)
    draft_task = make_task(draft, no="1", lead=[world.other], text=SECRET_OF_OTHER_UNIT)
    tokens = {}
    for name in ("handler", "other_liaison", "sysadmin"):
        _token, raw = api_token_create(actor=None, user=getattr(world, name), name="fuzz")
        tokens[name] = raw
    return {
        "world": world,
        "tokens": tokens,
        "ids": {"plan": [issued.pk, draft.pk], "task": [issued_task.pk, draft_task.pk]},
        # role → marker texts it must never receive
        "hidden": {
            "handler": [SECRET_OF_OTHER_UNIT],
            "other_liaison": [SECRET_OF_LEAD_UNIT],
            "sysadmin": [SECRET_OF_LEAD_UNIT, SECRET_OF_OTHER_UNIT],
        },
        "invisible": {
            "handler": {"plan_id": draft.pk, "task_id": draft_task.pk},
            "other_liaison": {"plan_id": issued.pk, "task_id": issued_task.pk},
            "sysadmin": {"plan_id": issued.pk, "task_id": issued_task.pk},
        },
    }


def openapi() -> dict[str, Any]:
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def send(
    client: Client, method: str, path: str, query: dict[str, Any] | None, body: Any, media: str | None
) -> Any:
    """One request through Django's test client (the test's transaction stays intact)."""
    kwargs: dict[str, Any] = {"QUERY_STRING": _query(query)}
    method = method.lower()
    if body is None or method in ("get", "delete"):
        return getattr(client, method)(path, **kwargs)
    if media and media.startswith("multipart/"):
        data = {
            str(k): SimpleUploadedFile(str(k), v) if isinstance(v, bytes) else _form_value(v)
            for k, v in (body or {}).items()
            if v is not None
        }
        return getattr(client, method)(path, data, **kwargs)
    return getattr(client, method)(
        path, json.dumps(body, default=str), content_type="application/json", **kwargs
    )


def _form_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_form_value(v) for v in value if v is not None]
    return value if isinstance(value, str | int | float) else json.dumps(value, default=str)


def _query(query: dict[str, Any] | None) -> str:
    from urllib.parse import urlencode

    return urlencode(
        [(k, str(x)) for k, v in (query or {}).items() for x in (v if isinstance(v, list) else [v])],
        doseq=False,
    )


def test_fuzz_three_roles_no_500_and_no_leak(scene: dict[str, Any]) -> None:
    import schemathesis

    schema = schemathesis.openapi.from_dict(openapi())
    clients = {
        role: Client(headers={"Authorization": f"Bearer {raw}"}, raise_request_exception=False)
        for role, raw in scene["tokens"].items()
    }
    problems: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) > 30  # the whole API is in the schema, not a stub

    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            path = case.formatted_path
            for role, client in clients.items():
                # A savepoint per request: one failing statement must not poison the rest (PostgreSQL).
                savepoint = transaction.savepoint_create()
                response = send(client, case.method, path, case.query, _body(case), case.media_type)
                transaction.savepoint_rollback(savepoint)
                text = response.content.decode(errors="replace")
                label = f"{role} {case.method} {path}?{_query(case.query)}"
                if response.status_code >= 500:
                    problems.append(f"{label} → {response.status_code}")
                for marker in scene["hidden"][role]:
                    if marker in text:
                        problems.append(f"{label} → reveals {marker}")

        run()
    assert not problems, "\n".join(sorted(set(problems)))


def _body(case: Any) -> Any:
    body = case.body
    return None if body.__class__.__name__ == "NotSet" else body


ID_PARAM = re.compile(r"\{(plan_id|task_id)\}")


def test_reads_of_invisible_objects_answer_like_missing_ones(scene: dict[str, Any]) -> None:
    spec = openapi()
    clients = {
        role: Client(headers={"Authorization": f"Bearer {raw}"}) for role, raw in scene["tokens"].items()
    }
    checked = 0
    for path, methods in spec["paths"].items():
        if "get" not in methods or not ID_PARAM.search(path) or re.search(r"\{(?!plan_id|task_id)", path):
            continue
        for role, client in clients.items():
            invisible: dict[str, int] = scene["invisible"][role]
            hidden = client.get(
                path.replace("{plan_id}", str(invisible["plan_id"])).replace(
                    "{task_id}", str(invisible["task_id"])
                )
            )
            missing = client.get(ID_PARAM.sub("987654", path))
            assert hidden.status_code == missing.status_code, (role, path, hidden.status_code)
            assert hidden.content == missing.content, (role, path)
            if hidden.status_code == 404:  # (a 422 for missing required parameters comes before any lookup)
                checked += 1
    assert checked >= 9  # three roles × at least three routes
    anonymous = Client().get(f"/api/plans/{scene['ids']['plan'][0]}")
    assert anonymous.status_code == 401 and "未登录" in anonymous.json()["detail"]
