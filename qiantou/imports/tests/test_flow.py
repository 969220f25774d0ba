"""The web import flow: upload → preview → pick units for unknown names → confirm / cancel; replace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from qiantou.accounts.models import Role
from qiantou.audit.models import AuditEvent
from qiantou.imports.models import ImportUpload
from qiantou.plans.models import Plan, PlanStatus, PlanVersion, TaskUnit
from qiantou.plans.tests.factories import make_user
from qiantou.units.models import Unit
from qiantou.units.services import unit_directory_import

CASES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "cases"
DOCX = CASES / "plans" / "dev10-renju-mergedtable.docx"  # prints the typo 市农业农材局 (unknown)

pytestmark = pytest.mark.django_db


@pytest.fixture
def handler() -> Any:
    data = (CASES / "units" / "qingshan-units.csv").read_bytes()
    unit_directory_import(actor=None, file_name="qingshan-units.csv", data=data)
    return make_user("nyj_handler", role=Role.HANDLER, unit=Unit.objects.get(code="QS0216"))


@pytest.fixture
def client_for(handler: Any) -> Client:
    c = Client()
    c.force_login(handler)
    return c


def _upload(client: Client, path: Path = DOCX, data: bytes | None = None, **extra: Any) -> Any:
    f = SimpleUploadedFile(path.name, data if data is not None else path.read_bytes())
    return client.post(reverse("imports:upload"), {"file": f, **extra})


def test_upload_shows_preview_with_source_and_coloured_units(client_for: Client) -> None:
    response = _upload(client_for)
    assert response.status_code == 302
    upload = ImportUpload.objects.get()
    assert response["Location"] == reverse("imports:preview", args=[upload.token])
    assert Plan.objects.count() == 0  # nothing but the pending upload is stored
    page = client_for.get(response["Location"]).content.decode()
    assert "农村人居环境整治" in page
    assert 'class="chip u-unknown"' in page and "市农业农材局" in page
    assert 'class="chip u-matched"' in page
    assert "<blockquote>" in page  # the source excerpt beside each task
    assert "需要确认的单位" in page
    # the resolver's candidate for the typo is offered first
    assert f'<option value="{Unit.objects.get(code="QS0216").pk}">青山市农业农村局</option>' in page


def test_confirm_applies_the_chosen_unit_atomically(client_for: Client, handler: Any) -> None:
    _upload(client_for)
    upload = ImportUpload.objects.get()
    unit = Unit.objects.get(code="QS0216")
    r = client_for.post(
        reverse("imports:choose", args=[upload.token]),
        {"name": "市农业农材局", "unit": unit.pk},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200 and r["HX-Trigger"] == "import-choices-changed"
    assert "已选定" in r.content.decode()
    r = client_for.post(reverse("imports:confirm", args=[upload.token]))
    plan = Plan.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("plans:plan_detail", args=[plan.pk])
    assert plan.status == PlanStatus.DRAFT and plan.lead_unit == handler.unit and plan.tasks.count() == 14
    typo = TaskUnit.objects.filter(task__plan=plan, printed_name="市农业农材局")
    assert typo and all(tu.unit == unit and tu.resolution == "matched" for tu in typo)
    assert not ImportUpload.objects.exists()  # the temporary upload is cleaned up
    event = AuditEvent.objects.get(action="plan.import")
    assert event.payload["chosen_units"] == {"市农业农材局": unit.pk}
    assert event.payload["unknown_units"] == []


def test_unpicked_unknown_names_stay_unknown(client_for: Client) -> None:
    _upload(client_for)
    upload = ImportUpload.objects.get()
    client_for.post(reverse("imports:confirm", args=[upload.token]))
    typo = TaskUnit.objects.filter(printed_name="市农业农材局")
    assert typo and all(tu.unit is None and tu.resolution == "unknown" for tu in typo)


def test_cancel_changes_nothing(client_for: Client) -> None:
    _upload(client_for)
    upload = ImportUpload.objects.get()
    events = AuditEvent.objects.count()
    r = client_for.post(reverse("imports:cancel", args=[upload.token]))
    assert r.status_code == 302
    assert not ImportUpload.objects.exists() and not Plan.objects.exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.docx", b"", "文件为空"),
        ("broken.docx", b"PK\x03\x04 this is not a complete zip archive" * 3, "broken.docx"),
        ("scan.pdf", None, "扫描件"),
    ],
)
def test_bad_files_show_the_reason_on_the_form(
    client_for: Client, name: str, data: bytes | None, reason: str
) -> None:
    if data is None:  # a scanned PDF: an image page and no text layer
        import io

        from PIL import Image

        buf = io.BytesIO()
        Image.new("RGB", (400, 300), "white").save(buf, "PDF")
        data = buf.getvalue()
    r = _upload(client_for, Path(name), data=data)
    assert r.status_code == 400
    page = r.content.decode()
    assert 'class="errorlist"' in page and reason in page
    assert not ImportUpload.objects.exists() and not Plan.objects.exists()


def test_someone_elses_upload_is_not_found(client_for: Client, handler: Any) -> None:
    _upload(client_for)
    upload = ImportUpload.objects.get()
    other = Client()
    other.force_login(make_user("other", role=Role.HANDLER, unit=handler.unit))
    assert other.get(reverse("imports:preview", args=[upload.token])).status_code == 404
    assert other.post(reverse("imports:confirm", args=[upload.token])).status_code == 404
    assert other.post(reverse("imports:cancel", args=[upload.token])).status_code == 404
    assert ImportUpload.objects.exists()


@pytest.mark.parametrize("role", [Role.LIAISON, Role.AUDITOR])
def test_a_role_that_may_not_import_is_refused_before_the_form(handler: Any, role: str) -> None:
    c = Client()
    c.force_login(make_user("reader", role=role, unit=handler.unit))
    page = c.get(reverse("imports:upload"))
    assert page.status_code == 403 and "无权" in page.content.decode()
    assert 'type="file"' not in page.content.decode()  # no form that could only fail
    r = _upload(c)
    assert r.status_code == 403 and not ImportUpload.objects.exists()


def test_confirming_a_name_with_no_unit_picked_says_so(client_for: Client) -> None:
    _upload(client_for)
    upload = ImportUpload.objects.get()
    r = client_for.post(
        reverse("imports:choose", args=[upload.token]),
        {"name": "市农业农材局", "unit": ""},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200 and "请先在列表中选择一个单位" in r.content.decode()
    assert ImportUpload.objects.get().choices == {}


def test_draft_import_can_be_replaced_until_consultation(client_for: Client) -> None:
    _upload(client_for)
    client_for.post(reverse("imports:confirm", args=[ImportUpload.objects.get().token]))
    plan = Plan.objects.get()
    first_ids = set(plan.tasks.values_list("pk", flat=True))
    other = CASES / "plans" / "dev08-wenming-block.docx"
    r = _upload(client_for, other, plan=plan.pk)
    assert r.status_code == 302
    upload = ImportUpload.objects.get()
    assert upload.plan == plan
    client_for.post(reverse("imports:confirm", args=[upload.token]))
    plan.refresh_from_db()
    assert Plan.objects.count() == 1 and plan.source_name == other.name
    assert plan.tasks.count() == 12 and not (set(plan.tasks.values_list("pk", flat=True)) & first_ids)
    assert AuditEvent.objects.filter(action="plan.import_replace").count() == 1

    # once circulated for comments, a new import is refused and nothing changes
    PlanVersion.objects.create(plan=plan, number=1, reason=PlanVersion.Reason.CIRCULATED, snapshot={})
    Plan.objects.filter(pk=plan.pk).update(status=PlanStatus.CONSULTING)
    r = _upload(client_for, DOCX, plan=plan.pk)
    assert r.status_code == 400 and "不能再重新导入" in r.content.decode()
    assert plan.tasks.count() == 12


def test_failed_confirm_keeps_the_plan_unchanged(client_for: Client) -> None:
    _upload(client_for)
    client_for.post(reverse("imports:confirm", args=[ImportUpload.objects.get().token]))
    plan = Plan.objects.get()
    _upload(client_for, CASES / "plans" / "dev08-wenming-block.docx", plan=plan.pk)
    upload = ImportUpload.objects.get()
    # the plan goes out for consultation between the preview and the confirmation
    Plan.objects.filter(pk=plan.pk).update(status=PlanStatus.CONSULTING)
    r = client_for.post(reverse("imports:confirm", args=[upload.token]), follow=True)
    assert "不能再重新导入" in r.content.decode()
    assert plan.tasks.count() == 14 and Plan.objects.get().source_name == DOCX.name
    assert ImportUpload.objects.filter(pk=upload.pk).exists()  # kept: the user can cancel it


def test_candidates_search_the_directory(client_for: Client) -> None:
    _upload(client_for)
    upload = ImportUpload.objects.get()
    r = client_for.get(
        reverse("imports:candidates", args=[upload.token]), {"name": "市农业农材局", "q": "民政"}
    )
    page = r.content.decode()
    assert page.index("青山市农业农村局") < page.index("青山市民政局")


def test_stale_uploads_are_purged(client_for: Client) -> None:
    import datetime as dt

    from django.utils import timezone

    _upload(client_for)
    ImportUpload.objects.update(created_at=timezone.now() - dt.timedelta(days=2))
    _upload(client_for)
    assert ImportUpload.objects.count() == 1
