"""The unit-name resolver against the Qingshan directory and the labelled plans (no database)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qiantou.units.resolver import (
    FUZZY_ACCEPT_SCORE,
    Resolution,
    UnitRecord,
    UnitResolver,
)
from qiantou.units.tests.conftest import directory_records, plan_unit_names

# tests/fixtures/cases/units/UNKNOWN.md: printed on purpose, not in the directory.
UNKNOWN = {
    "市农业农材局": "QS0216",  # typo 材 for 村 → 市农业农村局
    "市生长改造委": "QS0201",  # synonym-spun 市发展改革委
    "青山市智慧城市运营中心": None,
    "市市场监督局": "QS0224",  # 监督 / 监管 mixed up → 市市场监管局
    "市城乡统筹办": None,  # abolished office
}
GENERIC = {"有关部门", "有关单位", "相关部门", "相关单位", "等有关部门", "其他有关单位", "有关部门和单位"}


def test_every_labelled_plan_name_resolves(resolver: UnitResolver) -> None:
    names = list(plan_unit_names())
    assert len(names) > 300
    failures = []
    for plan, field, printed in names:
        result = resolver.resolve(printed)
        if printed in UNKNOWN:
            expected = "unknown"
        elif printed in GENERIC:
            expected = "generic"
        else:
            expected = "unit/group"
        ok = result.kind in ("unit", "group") if expected == "unit/group" else result.kind == expected
        if not ok:
            failures.append((plan, field, printed, result.kind, result.method, result.candidates[:2]))
    assert failures == []


def test_labelled_generic_tails_are_generic(resolver: UnitResolver) -> None:
    tails = {printed for _plan, field, printed in plan_unit_names() if field == "optional_units"}
    assert tails  # 有关部门 / 有关单位 are printed as 等-tails in the fixtures
    for printed in tails:
        result = resolver.resolve(printed)
        assert result.kind == "generic", printed
        assert result.unit_code is None


@pytest.mark.parametrize("printed", sorted(GENERIC))
def test_generic_phrases(resolver: UnitResolver, printed: str) -> None:
    result = resolver.resolve(printed)
    assert (result.kind, result.method, result.unit_code) == ("generic", "generic", None)


@pytest.mark.parametrize(("printed", "closest"), sorted(UNKNOWN.items()))
def test_deliberately_unknown_names_stay_unknown(
    resolver: UnitResolver, printed: str, closest: str | None,
) -> None:
    result = resolver.resolve(printed)
    assert result.kind == "unknown"
    assert result.unit_code is None and result.unit_id is None
    assert result.confidence == 0.0
    assert result.printed == printed
    if closest is not None:
        assert result.candidates, printed
        assert result.candidates[0].code == closest
    else:
        # Nothing close: whatever is offered is far from a match.
        assert all(c.score < 0.6 for c in result.candidates)


@pytest.mark.parametrize(
    ("printed", "code", "kind", "method"),
    [
        ("青山市发展和改革委员会", "QS0201", "unit", "exact"),
        ("市发改委", "QS0201", "unit", "alias"),
        (" 市 发改委 ", "QS0201", "unit", "alias"),
        ("市发改委。", "QS0201", "unit", "alias"),
        ("市发改委\u200b", "QS0201", "unit", "alias"),
        ("市政務(wù)服務(wù)和大數據(jù)管理局", "QS0228", "unit", "simplified"),
        ("市政务（wù）服务（wù）和大数据管理局", "QS0228", "unit", "alias"),
        ("市統(tǒng)計局", "QS0226", "unit", "simplified"),
        ("市工業和資訊化局", "QS0204", "unit", "vocabulary"),
        ("市工业和资讯化局", "QS0204", "unit", "vocabulary"),
        ("各縣<市、區>人民政府", "QSG002", "group", "simplified"),
        ("各县〔市、区〕人民政府", "QSG002", "group", "exact"),
        ("各县[市、区]人民政府", "QSG002", "group", "exact"),
        ("各县(市、区)人民政府", "QSG002", "group", "exact"),
        ("各县（市、区）人民政府", "QSG002", "group", "exact"),
        ("各县、市、区政府", "QSG002", "group", "alias"),
        ("市级各有关部门", "QSG001", "group", "exact"),
        ("各项目牵头单位", "QSG006", "group", "exact"),
        ("青山市发改委", "QS0201", "unit", "prefix"),
        ("青山市委组织部", "QS0104", "unit", "prefix"),
        ("市委办公室", "QS0103", "unit", "alias"),
        ("市水利局等", "QS0215", "unit", "variant"),
        ("市发展改革委（牵头）", "QS0201", "unit", "variant"),
        ("（市财政局）", "QS0208", "unit", "variant"),
        ("青山市财政局(配合)", "QS0208", "unit", "variant"),
        ("青山市人力资源与社会保障局", "QS0209", "unit", "fuzzy"),
        ("青山市自然资源与规划局", "QS0210", "unit", "fuzzy"),
    ],
)
def test_resolves(resolver: UnitResolver, printed: str, code: str, kind: str, method: str) -> None:
    result = resolver.resolve(printed)
    assert (result.unit_code, result.kind, result.method) == (code, kind, method)
    assert result.printed == printed
    assert 0.9 <= result.confidence <= 1.0
    assert result.candidates[0].code == code
    assert result.unit_name == resolver.record(code).name  # type: ignore[union-attr]


def test_normalized_key(resolver: UnitResolver) -> None:
    result = resolver.resolve("市政務(wù)服務(wù)和大數據(jù)管理局")
    assert result.normalized == "市政务服务和大数据管理局"


def test_one_changed_character_is_never_accepted(resolver: UnitResolver) -> None:
    # 江北街道 is not 江滨街道: a place name differing in one character is another body.
    result = resolver.resolve("临江区江北街道办事处")
    assert result.kind == "unknown"
    assert result.candidates[0].code == "QS2001"
    assert result.candidates[0].score * 100 >= FUZZY_ACCEPT_SCORE  # close, yet not accepted


def test_empty_and_blank_names(resolver: UnitResolver) -> None:
    for printed in ("", "   ", "\u3000", "、"):
        result = resolver.resolve(printed)
        assert (result.kind, result.printed, result.candidates) == ("unknown", printed, ())


def test_resolve_many_keeps_order_and_duplicates(resolver: UnitResolver) -> None:
    names = ["市财政局", "市农业农材局", "有关部门", "市财政局", "各乡镇（街道）"]
    results = resolver.resolve_many(names)
    assert [r.printed for r in results] == names
    assert [r.kind for r in results] == ["unit", "unknown", "generic", "unit", "group"]


def test_former_names_inactive_and_ambiguous() -> None:
    records = [
        UnitRecord(code="A", name="青山市人民政府", kind="government"),
        UnitRecord(code="B", name="青山市数据资源局", short_names=("市数据局",),
                   former_names=("青山市大数据发展管理局", "市大数据局")),
        UnitRecord(code="C", name="青山市城乡统筹办公室", short_names=("市城乡统筹办",), active=False),
        UnitRecord(code="D", name="青山市东区服务中心", short_names=("服务中心",)),
        UnitRecord(code="E", name="青山市西区服务中心", short_names=("服务中心",)),
    ]
    resolver = UnitResolver(records)
    former = resolver.resolve("市大数据局")
    assert (former.kind, former.unit_code, former.method) == ("unit", "B", "former_name")
    assert former.confidence < 1.0
    inactive = resolver.resolve("市城乡统筹办")
    assert (inactive.kind, inactive.method, inactive.unit_code) == ("unknown", "inactive", None)
    assert inactive.candidates[0].code == "C"
    ambiguous = resolver.resolve("服务中心")
    assert (ambiguous.kind, ambiguous.method) == ("unknown", "ambiguous")
    assert {c.code for c in ambiguous.candidates} == {"D", "E"}


def test_works_from_mappings_and_as_dict() -> None:
    resolver = UnitResolver([
        {"code": "X1", "name": "某县人民政府", "kind": "government", "short_names": "县政府|某县政府"},
    ])
    result = resolver.resolve("县政府")
    assert result.unit_code == "X1"
    data = result.as_dict()
    assert data["candidates"] == [{"code": "X1", "name": "某县人民政府", "score": 1.0}]
    assert resolver.prefixes == ("某县",)
    assert resolver.resolve("某县政府").method == "alias"


def test_search_finds_short_names_in_any_script(resolver: UnitResolver) -> None:
    codes = [r.code for r in resolver.search("網信")]
    assert codes == ["QS0108"]
    assert "QS0201" in [r.code for r in resolver.search("发改")]


_directory_names = [n for r in directory_records() for n in (r.name, *r.short_names)]
_noise = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(max_size=40),
        st.tuples(_noise, st.sampled_from(_directory_names), _noise).map("".join),
        st.sampled_from(_directory_names).map(lambda n: n.replace("和", "(hé)")),
    )
)
def test_resolve_never_raises_and_keeps_the_printed_name(printed: str) -> None:
    resolver = _property_resolver()
    result = resolver.resolve(printed)
    assert isinstance(result, Resolution)
    assert result.printed == printed
    assert result.kind in ("unit", "group", "generic", "unknown")
    assert 0.0 <= result.confidence <= 1.0
    if result.kind in ("unit", "group"):
        record = resolver.record(result.unit_code or "")
        assert record is not None and record.name == result.unit_name
        assert (record.kind == "group") == (result.kind == "group")
    else:
        assert result.unit_code is None
    assert all(resolver.record(c.code) is not None and 0 <= c.score <= 1 for c in result.candidates)


_shared: list[UnitResolver] = []


def _property_resolver() -> UnitResolver:
    if not _shared:
        _shared.append(UnitResolver(directory_records()))
    return _shared[0]
