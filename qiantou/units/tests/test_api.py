"""The unit API: permissions per role, search, create/update through services, resolve."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from qiantou.audit.models import AuditEvent
from qiantou.units.models import Unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def users(directory: None, make_user: Any) -> dict[str, Any]:
    return {
        "liaison": make_user("liaison", "liaison", "QS0206"),
        "handler": make_user("handler", "handler", "QS0228"),
        "auditor": make_user("auditor", "auditor", "QS0222"),
        "admin": make_user("admin", "system_admin", "QS0228"),
        "admin_no_unit": make_user("admin2", "system_admin"),
        "no_unit": make_user("nobody", "handler"),
        "inactive": make_user("gone", "handler", "QS0206", is_active=False),
    }


def client_for(user: Any | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def post(client: Client, url: str, data: Any) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json")


def patch(client: Client, url: str, data: Any) -> Any:
    return client.patch(url, json.dumps(data), content_type="application/json")


@pytest.mark.parametrize(
    ("who", "read", "write"),
    [
        ("anonymous", 401, 401),
        ("inactive", 401, 401),
        ("no_unit", 403, 403),
        ("liaison", 200, 403),
        ("handler", 200, 403),
        ("auditor", 200, 403),
        ("admin", 200, 201),
        ("admin_no_unit", 200, 201),
    ],
)
def test_permission_matrix(users: dict[str, Any], who: str, read: int, write: int) -> None:
    client = client_for(users.get(who))
    unit_id = Unit.objects.get(code="QS0201").pk
    assert client.get("/api/units/").status_code == read
    assert client.get(f"/api/units/{unit_id}").status_code == read
    assert post(client, "/api/units/resolve", {"names": ["市财政局"]}).status_code == read
    new = {"code": f"N-{who}", "name": f"新单位{who}", "parent_code": "QS0001"}
    created = post(client, "/api/units/", new)
    assert created.status_code == write
    updated = patch(client, f"/api/units/{unit_id}", {"mandate": "改"})
    assert updated.status_code == (200 if write == 201 else write)
    assert Unit.objects.filter(code=f"N-{who}").exists() == (write == 201)


def test_list_filters_and_search(users: dict[str, Any]) -> None:
    client = client_for(users["liaison"])
    page = client.get("/api/units/", {"limit": 10}).json()
    assert page["count"] == 93 and len(page["items"]) == 10
    assert page["items"][0]["code"] == "QS0001"
    groups = client.get("/api/units/", {"kind": "group", "limit": "100"}).json()
    assert {u["code"] for u in groups["items"]} == {f"QSG00{i}" for i in range(1, 8)}
    # Search by a short name in traditional script with pinyin, and by a code.
    found = client.get("/api/units/", {"search": "市政務(wù)服務(wù)局"}).json()
    assert [u["code"] for u in found["items"]] == ["QS0228"]
    assert [u["code"] for u in client.get("/api/units/", {"search": "QS0307"}).json()["items"]] == ["QS0307"]
    Unit.objects.filter(code="QS0225").update(active=False)
    inactive = client.get("/api/units/", {"active": "false"}).json()
    assert [u["code"] for u in inactive["items"]] == ["QS0225"]
    one = client.get(f"/api/units/{Unit.objects.get(code='QS0307').pk}").json()
    assert one["parent_code"] == "QS0228" and one["short_names"] == ["市公共资源交易中心"]
    assert client.get("/api/units/999999").status_code == 404


def test_create_and_update_go_through_services(users: dict[str, Any]) -> None:
    client = client_for(users["admin"])
    created = post(client, "/api/units/", {
        "code": "QS0235", "name": "青山市低空经济发展局", "short_names": ["市低空办"],
        "parent_code": "QS0001",
    })
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["parent_code"] == "QS0001" and body["kind"] == "bureau"
    assert AuditEvent.objects.filter(action="unit.create", object_id=str(body["id"])).exists()
    # The resolver sees the new unit at once.
    resolved = post(client, "/api/units/resolve", {"names": ["市低空办"]}).json()["results"][0]
    assert resolved["unit_code"] == "QS0235"

    renamed = patch(client, f"/api/units/{body['id']}", {"name": "青山市低空经济发展服务局"})
    assert renamed.status_code == 200
    assert renamed.json()["former_names"] == ["青山市低空经济发展局"]
    event = AuditEvent.objects.filter(action="unit.update").last()
    assert event is not None and event.payload["changes"]["name"] == {
        "before": "青山市低空经济发展局", "after": "青山市低空经济发展服务局"}
    old_name = post(client, "/api/units/resolve", {"names": ["青山市低空经济发展局"]}).json()["results"][0]
    assert (old_name["unit_code"], old_name["method"]) == ("QS0235", "former_name")


def test_bad_writes_are_refused_with_field_errors(users: dict[str, Any]) -> None:
    client = client_for(users["admin"])
    duplicate = post(client, "/api/units/", {"code": "QS0201", "name": "重复"})
    assert duplicate.status_code == 422 and "code" in duplicate.json()["errors"]
    assert post(client, "/api/units/", {"code": "N1", "name": "甲", "kind": "ministry"}).json()["errors"] == {
        "kind": "未知的单位类型“ministry”"}
    orphan = post(client, "/api/units/", {"code": "N2", "name": "乙", "parent_code": "NOPE"})
    assert "parent_code" in orphan.json()["errors"]
    government = Unit.objects.get(code="QS0001")
    cycle = patch(client, f"/api/units/{government.pk}", {"parent_code": "QS0102"})
    assert cycle.status_code == 422 and "parent" in cycle.json()["errors"]
    assert Unit.objects.get(code="QS0001").parent is None
    assert not Unit.objects.filter(code__in=["N1", "N2"]).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": None}, "name"),
        ({"active": None}, "active"),
        ({"kind": None}, "kind"),
        ({"mandate": None}, "mandate"),
        ({"short_names": None}, "short_names"),
        ({"former_names": None}, "former_names"),
        ({"code": "QS0206"}, "code"),
        ({"colour": "red", "mandate": "改"}, "colour"),
        ({"unit": 1}, "unit"),
    ],
)
def test_update_refuses_null_and_unknown_fields_and_changes_nothing(
    users: dict[str, Any], body: dict[str, Any], field: str,
) -> None:
    """A null (or a field that cannot change) is refused with 422 naming it, not stored as "None"/False."""
    unit = Unit.objects.get(code="QS0201")
    before = Unit.objects.filter(pk=unit.pk).values().get()
    response = patch(client_for(users["admin"]), f"/api/units/{unit.pk}", body)
    assert response.status_code == 422
    assert field in response.json()["errors"] and field in response.json()["detail"]
    assert Unit.objects.filter(pk=unit.pk).values().get() == before
    assert not AuditEvent.objects.filter(action="unit.update").exists()


def test_update_null_parent_code_removes_the_parent(users: dict[str, Any]) -> None:
    unit = Unit.objects.get(code="QS0201")
    response = patch(client_for(users["admin"]), f"/api/units/{unit.pk}", {"parent_code": None})
    assert response.status_code == 200 and response.json()["parent_code"] is None


def test_unit_update_service_refuses_null(users: dict[str, Any]) -> None:
    from qiantou.units.services import UnitValidationError, unit_update

    unit = Unit.objects.get(code="QS0201")
    with pytest.raises(UnitValidationError) as raised:
        unit_update(actor=None, unit=unit, name=None, active=None)
    assert set(raised.value.errors) == {"name", "active"}
    unit.refresh_from_db()
    assert unit.name == "青山市发展和改革委员会" and unit.active


def test_resolve_endpoint(users: dict[str, Any]) -> None:
    client = client_for(users["handler"])
    names = ["市政務(wù)服務(wù)和大數據(jù)管理局", "市级各有关部门", "有关部门", "市农业农材局",
             "市城乡统筹办"]
    response = post(client, "/api/units/resolve", {"names": names})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["printed"] for r in results] == names
    assert [r["kind"] for r in results] == ["unit", "group", "generic", "unknown", "unknown"]
    assert results[0]["unit_code"] == "QS0228"
    assert results[0]["unit_id"] == Unit.objects.get(code="QS0228").pk
    assert results[3]["candidates"][0]["code"] == "QS0216"
    assert post(client, "/api/units/resolve", {"names": ["x" * 501]}).status_code == 422
    assert post(client, "/api/units/resolve", {"names": "市财政局"}).status_code == 422
