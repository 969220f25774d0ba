"""Personal data: masking in lists, full values only to permitted roles with the viewing recorded,
data-check files sealed at rest and deleted after the retention period (recorded), exports stamped."""

from __future__ import annotations

import datetime as dt
import io
import os
import time
import zipfile
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.template import Context, Template
from django.utils import timezone

from qiantou.accounts.models import Role
from qiantou.audit.models import AuditEvent
from qiantou.matching.models import MatchRun, RunStatus, Side
from qiantou.matching.services import load, store, vault
from qiantou.security import masking, services
from qiantou.security.middleware import stamp_ooxml

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "value, masked",
    [
        ("11010519900307123X", "110***********123X"),
        ("110105900307123", "110********7123"),
        ("", ""),
        ("1234", "****"),
    ],
)
def test_resident_id_numbers_are_masked(value: str, masked: str) -> None:
    assert masking.mask_id_number(value) == masked


@pytest.mark.parametrize(
    "value, masked", [("张三", "张*"), ("张三丰", "张**"), ("欧阳修文", "欧阳**"), ("王", "*"), ("", "")]
)
def test_names_are_masked(value: str, masked: str) -> None:
    assert masking.mask_name(value) == masked


def test_template_filters_mask_in_lists() -> None:
    out = Template("{% load security_tags %}{{ id|mask_id }} {{ n|mask_name }}").render(
        Context({"id": "11010519900307123X", "n": "李四"})
    )
    assert out == "110***********123X 李*"


def test_full_values_only_for_data_officers_and_the_viewing_is_recorded(make_user: Any) -> None:
    officer = make_user("officer", role=Role.DATA_OFFICER)
    for role in (Role.HANDLER, Role.AUDITOR, Role.SYSTEM_ADMIN, Role.SECURITY_AUDITOR):
        other = make_user(f"u-{role}", role=role)
        with pytest.raises(PermissionDenied):
            services.personal_data_reveal(
                actor=other,
                value="11010519900307123X",
                field="id_number",
                object_type="matching.match",
                object_id="R1",
            )
    assert not AuditEvent.objects.filter(action="personal_data.view").exists()
    value = services.personal_data_reveal(
        actor=officer,
        value="11010519900307123X",
        field="id_number",
        object_type="matching.match",
        object_id="R1",
    )
    assert value == "11010519900307123X"
    event = AuditEvent.objects.get(action="personal_data.view")
    assert (
        event.actor_id == officer.pk and event.object_id == "R1" and event.payload == {"field": "id_number"}
    )
    assert "11010519900307123X" not in event.body  # the record names the viewing, never the value


def _run(run_id: str, side: str = Side.REQUESTER) -> MatchRun:
    return MatchRun.objects.create(run_id=run_id, side=side, status=RunStatus.FINISHED)


def test_data_check_files_are_sealed_at_rest() -> None:
    run = _run("a" * 32)
    secret = "11010519900307123X,张三".encode()
    store(run, "result.csv", secret)
    path = vault().base / "runs" / run.run_id / run.side / "result.csv.sealed"
    raw = path.read_bytes()
    assert secret not in raw and "张三".encode() not in raw
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert load(run, "result.csv") == secret


def test_retention_deletes_old_data_check_files_and_records_it(settings: Any) -> None:
    settings.QIANTOU_MATCHING_RETENTION_DAYS = 30
    old, fresh = _run("b" * 32), _run("c" * 32)
    for run in (old, fresh):
        store(run, "result.csv", b"x")
        store(run, "matches.json", b"{}")
    MatchRun.objects.filter(pk=old.pk).update(updated_at=timezone.now() - dt.timedelta(days=31))
    state = vault().base / "requests" / ("d" * 32 + ".state")
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_bytes(b"sealed state")
    long_ago = time.time() - 40 * 86400
    os.utime(state, (long_ago, long_ago))
    call_command("retention_purge", stdout=io.StringIO())
    assert load(old, "result.csv") is None and load(old, "matches.json") is None
    assert load(fresh, "result.csv") == b"x"
    assert not state.exists()
    events = list(AuditEvent.objects.filter(action="matching.retention_delete").order_by("seq"))
    assert [e.payload.get("run_id") or e.payload.get("file") for e in events] == [old.run_id, state.name]
    assert sorted(events[0].payload["files"]) == ["matches.json.sealed", "result.csv.sealed"]
    assert events[0].object_type == "matching.matchrun" and events[0].object_id == str(old.pk)
    assert MatchRun.objects.filter(pk=old.pk).exists()  # the run's counts stay on record
    # Nothing more is old enough: a second purge deletes and records nothing.
    call_command("retention_purge", stdout=io.StringIO())
    assert AuditEvent.objects.filter(action="matching.retention_delete").count() == 2


def test_retention_job_runs_the_same_purge(settings: Any) -> None:
    from qiantou.security.jobs import retention_purge_job

    run = _run("e" * 32)
    store(run, "result.csv", b"x")
    MatchRun.objects.filter(pk=run.pk).update(updated_at=timezone.now() - dt.timedelta(days=400))
    retention_purge_job.call(days=365)
    assert load(run, "result.csv") is None


def _docx() -> bytes:
    from docx import Document

    buffer = io.BytesIO()
    Document().save(buffer)
    return buffer.getvalue()


def test_exported_office_files_carry_the_exporting_user_and_time() -> None:
    when = dt.datetime(2026, 5, 4, 8, 30, tzinfo=dt.UTC)
    stamped = stamp_ooxml(_docx(), exported_by="张三（zhangsan）", exported_at=when)
    assert stamped is not None
    from docx import Document

    props = Document(io.BytesIO(stamped)).core_properties
    assert props.last_modified_by == "张三（zhangsan）"
    assert props.modified == when
    assert stamp_ooxml(b"not a zip", exported_by="x", exported_at=when) is None
    with zipfile.ZipFile(io.BytesIO(stamped)) as z:
        assert z.testzip() is None


def test_downloads_are_stamped_and_recorded(make_user: Any) -> None:
    from django.test import Client

    officer = make_user("dl", role=Role.DATA_OFFICER, display_name="王五")
    run = MatchRun.objects.create(
        run_id="f" * 32, side=Side.REQUESTER, status=RunStatus.FINISHED, unit=officer.unit, created_by=officer
    )
    store(run, "result.csv", b"record_id\nR1\n")
    client = Client()
    client.force_login(officer)
    response = client.get(f"/matching/runs/{run.pk}/download/result.csv")
    assert response.status_code == 200
    assert response["X-Qiantou-Exported-By"]
    assert response["X-Qiantou-Exported-At"].startswith(str(timezone.now().year))
    event = AuditEvent.objects.get(action="export.download")
    assert event.actor_id == officer.pk and event.payload["bytes"] == len(response.content)
    assert event.payload["filename"].endswith(".csv")


def test_stamping_keeps_the_core_properties_well_formed() -> None:
    """A producer that declares ``xsi`` only on the element being replaced (seen in our own .docx)."""
    from lxml import etree

    core = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/">'
        "<dc:title>分工方案</dc:title>"
        '<dcterms:modified xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="dcterms:W3CDTF">'
        "2020-01-01T00:00:00Z</dcterms:modified></cp:coreProperties>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("docProps/core.xml", core)
    stamped = stamp_ooxml(
        buffer.getvalue(), exported_by="李四", exported_at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    )
    assert stamped is not None
    with zipfile.ZipFile(io.BytesIO(stamped)) as z:
        tree = etree.fromstring(z.read("docProps/core.xml"))
    ns = {
        "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
        "dcterms": "http://purl.org/dc/terms/",
    }
    assert tree.findtext("cp:lastModifiedBy", namespaces=ns) == "李四"
    assert tree.findtext("dcterms:modified", namespaces=ns) == "2026-01-02T00:00:00Z"
    assert tree.findtext("{http://purl.org/dc/elements/1.1/}title") == "分工方案"


def test_the_recorded_file_name_keeps_chinese_names() -> None:
    """Django writes ``filename*=utf-8''…`` (lower case) for a non-ASCII name: the record keeps it."""
    from django.utils.http import content_disposition_header

    from qiantou.security.middleware import _filename

    assert _filename(content_disposition_header(True, "低保台账-第2版.xlsx") or "") == "低保台账-第2版.xlsx"
    assert _filename(content_disposition_header(True, "result.csv") or "") == "result.csv"
