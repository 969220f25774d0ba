"""The data-check pages and API: data officers only, a full check through the browser forms,
sealed downloads, matches turned into tasks."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from qiantou.accounts.models import Role, User
from qiantou.audit.models import AuditEvent
from qiantou.matching import files, synthetic
from qiantou.matching.models import MatchRun, RunStatus, Side
from qiantou.units.models import Unit

pytestmark = pytest.mark.django_db


def _user(username: str, role: str, unit: Unit | None) -> User:
    return User.objects.create_user(username=username, password="x-password-123", role=role, unit=unit)


@pytest.fixture
def units() -> tuple[Unit, Unit]:
    return (
        Unit.objects.create(code="MZ", name="青山市民政局"),
        Unit.objects.create(code="SF", name="青山市司法局"),
    )


@pytest.fixture
def civil(units: tuple[Unit, Unit]) -> Client:
    client = Client()
    client.force_login(_user("mz_data", Role.DATA_OFFICER, units[0]))
    return client


@pytest.fixture
def justice(units: tuple[Unit, Unit]) -> Client:
    client = Client()
    client.force_login(_user("sf_data", Role.DATA_OFFICER, units[1]))
    return client


def test_pages_need_login_and_the_data_officer_role(units: tuple[Unit, Unit]) -> None:
    assert Client().get("/matching/").status_code == 302
    handler = Client()
    handler.force_login(_user("handler", Role.HANDLER, units[0]))
    assert handler.get("/matching/").status_code == 403
    assert handler.post("/matching/request/", {}).status_code == 403
    assert handler.get("/api/matching/runs").status_code == 403


def _upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def test_full_check_through_the_pages(civil: Client, justice: Client) -> None:
    ds = synthetic.generate(150, 150, seed=31)
    page = civil.get("/matching/")
    assert page.status_code == 200 and "签名公钥指纹" in page.content.decode()

    r = civil.post("/matching/request/", {"roll": _upload("roll.csv", ds.roll_csv)})
    c_run = MatchRun.objects.get(side=Side.REQUESTER)
    assert r.status_code == 302 and r["Location"] == f"/matching/runs/{c_run.pk}/"
    round1 = civil.get(f"/matching/runs/{c_run.pk}/download/round1.zip")
    assert round1.status_code == 200 and round1["Content-Type"] == "application/zip"
    issues = civil.get(f"/matching/runs/{c_run.pk}/download/issues.csv").content.decode()
    assert all(f"roll,{row}," in issues for row in ds.roll_invalid_rows)
    # Justice cannot see civil affairs' run.
    assert justice.get(f"/matching/runs/{c_run.pk}/").status_code == 404

    r = justice.post(
        "/matching/respond/",
        {
            "registry": _upload("reg.csv", ds.registry_csv),
            "round1": _upload("round1.zip", round1.content),
            "max_roll": "150",
        },
    )
    j_run = MatchRun.objects.get(side=Side.RESPONDER)
    assert r.status_code == 302
    round2 = justice.get(f"/matching/runs/{j_run.pk}/download/round2.zip").content
    assert justice.get(f"/matching/runs/{j_run.pk}/download/result.csv").status_code == 404

    r = civil.post("/matching/finish/", {"round2": _upload("round2.zip", round2)})
    assert r.status_code == 302
    c_run.refresh_from_db()
    assert c_run.status == RunStatus.FINISHED
    detail = civil.get(f"/matching/runs/{c_run.pk}/").content.decode()
    some_match = sorted(ds.expected_id)[0][0]
    assert some_match in detail and "身份号码命中" in detail and "待核实" in detail
    # The counts are named in Chinese, not by the protocol's keys.
    assert "名单行数" in detail and "标量乘法" in detail and "scalar_mult" not in detail
    result = civil.get(f"/matching/runs/{c_run.pk}/download/result.csv").content.decode()
    assert result.startswith("record_id,match_kind,custody_type,start,end,overlap_days\n")
    assert {line.split(",")[0] for line in result.splitlines()[1:]} >= {r[0] for r in ds.expected_id if r[3]}

    # Files at rest are sealed: no record id, no ID number in the data directory.
    from qiantou.matching.services import vault

    for path in vault().base.rglob("*.sealed"):
        blob = path.read_bytes()
        assert blob.startswith(b"QTSEAL1") and some_match.encode() not in blob and b"record_id" not in blob
    actions = list(AuditEvent.objects.filter(action__startswith="matching.").values_list("action", flat=True))
    assert actions == ["matching.request", "matching.respond", "matching.finish"]


def test_bad_uploads_show_a_message_and_store_nothing(civil: Client, justice: Client) -> None:
    r = civil.post("/matching/request/", {"roll": _upload("roll.csv", b"a,b\n1,2\n")}, follow=True)
    assert "表头应为" in r.content.decode()
    r = justice.post(
        "/matching/respond/",
        {"registry": _upload("reg.csv", b"x"), "round1": _upload("round1.zip", b"not a zip")},
        follow=True,
    )
    assert "表头应为" in r.content.decode() or "压缩包" in r.content.decode()
    r = civil.post("/matching/finish/", {"round2": _upload("round2.zip", b"PK\x03\x04garbage")}, follow=True)
    assert "压缩包" in r.content.decode()
    assert MatchRun.objects.count() == 0


def _zip_of(rf: files.RoundFile) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("manifest.json", rf.manifest_bytes)
        zf.writestr("body.bin", rf.body)
    return buf.getvalue()


def test_api_round_trip_between_installations(civil: Client, justice: Client) -> None:
    ds = synthetic.generate(80, 80, seed=41)
    run = civil.post("/api/matching/request", {"roll": _upload("roll.csv", ds.roll_csv)})
    assert run.status_code == 200, run.content
    run_pk = run.json()["id"]
    round1 = civil.get(f"/api/matching/runs/{run_pk}/files/round1.zip").content
    assert justice.post(
        "/api/matching/registry", {"registry": _upload("reg.csv", ds.registry_csv)}
    ).json() == {"registry_rows": len(ds.registry_csv.splitlines()) - 1}
    round2 = justice.post("/api/matching/respond", {"round1": _upload("r1.zip", round1)})
    assert round2.status_code == 200 and round2["Content-Type"] == "application/zip"
    replay = justice.post("/api/matching/respond", {"round1": _upload("r1.zip", round1)})
    assert replay.status_code == 422 and "已答复过" in replay.json()["detail"]
    done = civil.post("/api/matching/finish", {"round2": _upload("r2.zip", round2.content)})
    assert done.status_code == 200 and done.json()["status"] == "finished"
    result = civil.get(f"/api/matching/runs/{run_pk}/files/result.csv").content.decode()
    assert {line.split(",")[0] for line in result.splitlines()[1:]} >= {r[0] for r in ds.expected_id if r[3]}


def test_confirmed_matches_become_tasks(civil: Client, units: tuple[Unit, Unit]) -> None:
    from qiantou.plans.models import Plan, Task

    ds = synthetic.generate(120, 120, seed=51)
    civil.post("/matching/request/", {"roll": _upload("roll.csv", ds.roll_csv)})
    c_run = MatchRun.objects.get(side=Side.REQUESTER)
    round1 = civil.get(f"/matching/runs/{c_run.pk}/download/round1.zip").content
    civil.post(
        "/matching/respond/",
        {"registry": _upload("reg.csv", ds.registry_csv), "round1": _upload("round1.zip", round1)},
    )
    j_run = MatchRun.objects.get(side=Side.RESPONDER)
    round2 = civil.get(f"/matching/runs/{j_run.pk}/download/round2.zip").content
    civil.post("/matching/finish/", {"round2": _upload("round2.zip", round2)})

    handler: Any = _user("mz_handler", Role.HANDLER, units[0])
    plan = Plan.objects.create(title="低保动态管理", lead_unit=units[0], created_by=handler)
    matched = sorted({r[0] for r in ds.expected_id})[:2]
    r = civil.post(f"/matching/runs/{c_run.pk}/tasks/", {"plan": plan.pk, "record_id": matched}, follow=True)
    assert "已在方案中生成 2 项任务" in r.content.decode()
    tasks = list(Task.objects.filter(plan=plan).order_by("position"))
    assert [t.text.split("：记录 ")[1].split("（")[0] for t in tasks] == matched
    assert all(t.text.startswith("暂停发放低保待遇：记录 ") for t in tasks)
    assert all(list(t.units.all()) == [units[0]] for t in tasks)
    assert AuditEvent.objects.filter(action="matching.tasks", payload__tasks=2).exists()
    # A record id that the run did not match is never accepted; nor a plan of another unit.
    r = civil.post(
        f"/matching/runs/{c_run.pk}/tasks/", {"plan": plan.pk, "record_id": ["NOT-A-MATCH"]}, follow=True
    )
    assert "不在本次比对的结果中" in r.content.decode()
    other = Plan.objects.create(title="司法局方案", lead_unit=units[1], created_by=handler)
    r = civil.post(f"/matching/runs/{c_run.pk}/tasks/", {"plan": other.pk, "record_id": matched}, follow=True)
    assert r.status_code in (200, 404)
    assert not Task.objects.filter(plan=other).exists()
    assert Task.objects.filter(plan=plan).count() == 2
