"""Web hardening: headers and CSP (no inline script anywhere), CSRF, error pages without internals,
request-size and upload limits, rate limits on login and API, and ``check --deploy`` in production."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from qiantou.accounts.models import Role
from qiantou.accounts.services import api_token_create

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_security_headers_on_every_page() -> None:
    response = Client().get("/login/")
    csp = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if " " in d.strip())
    assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval', no other host
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    cookie = response.cookies["csrftoken"]
    assert cookie["samesite"] == "Lax"


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=|\shx-on[:\-]|javascript:", re.I)


def test_no_template_carries_inline_script_or_handlers() -> None:
    offenders = []
    for path in sorted((ROOT / "qiantou").rglob("templates/**/*.html")):
        text = path.read_text(encoding="utf-8")
        for regex in (INLINE_SCRIPT, INLINE_HANDLER):
            for match in regex.finditer(text):
                offenders.append(f"{path.relative_to(ROOT)}: {match.group(0)!r}")
    assert offenders == []


def test_pages_render_no_inline_script(make_user: Any, unit: Any) -> None:
    from qiantou.plans.models import PlanStatus
    from qiantou.plans.tests.factories import make_plan, make_task

    plan = make_plan(unit, status=PlanStatus.ISSUED, title="图表方案")
    make_task(plan, no="1", lead=[unit], text="有负荷的任务")
    make_user("page")
    client = Client()
    client.post("/login/", {"username": "page", "password": PASSWORD})
    for url in ("/", "/plans/", "/plans/tasks/", "/units/", "/accounts/password/", "/allocation/load/"):
        body = client.get(url).content.decode()
        assert not INLINE_SCRIPT.search(body), url
        assert "/static/qiantou/app.js" in body and "htmx" in body


def test_csrf_is_enforced_on_pages_and_api(make_user: Any) -> None:
    user = make_user("csrf")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/logout/")
    assert response.status_code == 403 and "CSRF" in response.content.decode()
    assert "Traceback" not in response.content.decode()
    api = client.post("/api/plans/", {"title": "x"}, content_type="application/json")
    assert api.status_code == 403 and "CSRF" in api.json()["detail"]
    # Anonymous login POST without a token is refused too.
    assert Client(enforce_csrf_checks=True).post("/login/", {"username": "csrf"}).status_code == 403


@pytest.mark.urls("tests.security.urls_boom")
def test_errors_show_a_chinese_page_without_internals(make_user: Any) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(make_user("err"))
    response = client.get("/boom/")
    body = response.content.decode()
    assert response.status_code == 500 and "系统出错" in body
    assert "secret internals" not in body and "Traceback" not in body and "settings.py" not in body
    missing = client.get("/no/such/page/")
    assert missing.status_code == 404 and "页面不存在" in missing.content.decode()


def test_oversized_requests_are_refused_before_reading(make_user: Any, settings: Any) -> None:
    settings.QIANTOU_MAX_REQUEST_BYTES = 10_000
    client = Client()
    client.force_login(make_user("big"))
    response = client.post("/plans/", data="x" * 20_000, content_type="text/plain")
    assert response.status_code == 413 and "过大" in response.content.decode()
    api = client.post("/api/plans/", data="x" * 20_000, content_type="application/json")
    assert api.status_code == 413 and "上限" in api.json()["detail"]


@pytest.mark.parametrize(
    "name, content",
    [
        ("报告.pdf", b"\x7fELF\x02\x01\x01" + b"\0" * 100),
        ("名单.csv", b"MZ\x90\x00" + b"\0" * 60 + b"This program cannot be run in DOS mode" + b"\0" * 100),
        ("run.sh", b"echo hi\n"),
        ("tool.csv", b"#!/bin/sh\nrm -rf /\n"),
    ],
)
def test_executable_uploads_are_refused_whatever_their_name(
    make_user: Any, name: str, content: bytes
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = Client()
    client.force_login(make_user("up", role=Role.DATA_OFFICER))
    response = client.post("/matching/request/", {"roll": SimpleUploadedFile(name, content)})
    assert response.status_code == 400
    assert "可执行程序或脚本" in response.content.decode() and name in response.content.decode()
    api = client.post("/api/matching/request", {"roll": SimpleUploadedFile(name, content)})
    assert api.status_code == 422 and name in api.json()["detail"]  # the API's status for invalid input


def test_ordinary_uploads_pass_the_floor(make_user: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = Client()
    client.force_login(make_user("ok", role=Role.DATA_OFFICER))
    csv = b"record_id,id_number,name,birth_date,sex,benefit_start,benefit_end\nMZ001,,,,,,\n"
    response = client.post("/matching/request/", {"roll": SimpleUploadedFile("roll.csv", csv)})
    assert response.status_code != 400 or "可执行" not in response.content.decode()


def test_login_attempts_are_rate_limited_per_address(make_user: Any, settings: Any) -> None:
    settings.QIANTOU_RATE_LOGIN = "3/60"
    make_user("rate")
    client = Client()
    for i in range(3):
        assert client.post("/login/", {"username": f"nobody{i}", "password": "x"}).status_code == 200
    response = client.post("/login/", {"username": "rate", "password": PASSWORD})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "频繁" in response.content.decode()
    # Another address is not affected.
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert other.post("/login/", {"username": "rate", "password": PASSWORD}).status_code == 302


def test_api_calls_are_rate_limited_per_credential(make_user: Any, settings: Any) -> None:
    settings.QIANTOU_RATE_API = "5/60"
    user = make_user("apirate")
    _t1, raw1 = api_token_create(actor=None, user=user, name="a")
    _t2, raw2 = api_token_create(actor=None, user=user, name="b")
    first = Client(headers={"Authorization": f"Bearer {raw1}"})
    statuses = [first.get("/api/plans/").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    limited = first.get("/api/plans/")
    assert limited.status_code == 429 and "频繁" in limited.json()["detail"]
    assert Client(headers={"Authorization": f"Bearer {raw2}"}).get("/api/plans/").status_code == 200


def _check_deploy(extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("QIANTOU_SECRET") and "ASYNC_UNSAFE" not in k
    }
    env.update({"QIANTOU_PRODUCTION": "1", "QIANTOU_ALLOWED_HOSTS": "qiantou.example.gov.cn", **extra})
    return subprocess.run(
        [sys.executable, "-m", "qiantou.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    key_file = tmp_path / "secret_key"
    key_file.write_text(secrets.token_urlsafe(64))
    done = _check_deploy({"QIANTOU_SECRET_KEY_FILE": str(key_file)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout
    # Without a real secret key, production refuses to start at all.
    refused = _check_deploy({})
    assert refused.returncode != 0 and "QIANTOU_SECRET_KEY" in refused.stderr


def test_input_no_database_can_store_is_refused_not_a_500(make_user: Any) -> None:
    user = make_user("nul")
    _t, raw = api_token_create(actor=None, user=user, name="n")
    api = Client(headers={"Authorization": f"Bearer {raw}"}, raise_request_exception=False)
    assert api.get("/api/plans/tasks?q=%00abc").status_code == 400
    assert api.get("/api/plans/99999999999999999999").status_code == 404
    too_big = api.get("/api/plans/tasks?page=5089348867438574305280")
    assert too_big.status_code == 422 and "page" in too_big.json()["detail"]
    body = api.post("/api/plans/", '{"title": "a\\u0000b"}', content_type="application/json")
    assert body.status_code == 400 and "NUL" in body.json()["detail"]
    ids = api.post(
        "/api/plans/",
        '{"title": "t", "lead_unit_id": 123456789012345678901}',
        content_type="application/json",
    )
    assert ids.status_code == 422
    page = Client(raise_request_exception=False)
    page.force_login(user)
    assert (
        page.post(
            "/login/", "username=a%00b&password=x", content_type="application/x-www-form-urlencoded"
        ).status_code
        == 400
    )
