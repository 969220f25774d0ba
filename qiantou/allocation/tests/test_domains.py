"""The government-function lexicon: loading, term matching and unit-to-domain mapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from qiantou.allocation.domains import Domain, DomainLexicon, default_lexicon


@pytest.fixture(scope="module")
def lexicon() -> DomainLexicon:
    return default_lexicon()


def keys(lexicon: DomainLexicon, indexes: set[int] | dict[int, float]) -> set[str]:
    return {lexicon.keys[i] for i in indexes}


def test_shipped_lexicon_covers_the_functional_domains(lexicon: DomainLexicon) -> None:
    expected = {
        "development_reform", "education", "public_security", "civil_affairs", "justice", "finance",
        "human_resources", "natural_resources", "ecology", "housing", "transport", "water_resources",
        "agriculture", "commerce", "culture_tourism", "health", "veterans", "emergency", "audit",
        "market_regulation", "healthcare_security", "city_management", "petition", "tax",
        "fire_rescue", "women", "youth", "trade_union", "disabled_persons", "supply_marketing",
    }
    assert expected <= set(lexicon.keys)
    assert len(lexicon.term_domains) > 1000


def test_everyday_task_words_find_their_domain(lexicon: DomainLexicon) -> None:
    cases = {
        "为既有住宅加装电梯100部": "housing",
        "新增普惠托位1000个": "health",
        "开通城乡公交线路": "transport",
        "实施城区易涝积水点改造": "housing",
        "迎接国家卫生城市复审": "patriotic_health",
    }
    for text, key in cases.items():
        scores, _ = lexicon.domain_scores(text)
        assert lexicon.keys[max(range(len(scores)), key=scores.__getitem__)] == key, text


def test_a_term_inside_a_longer_matched_term_gives_way(lexicon: DomainLexicon) -> None:
    found = lexicon.match("编制农村生活污水治理专项规划")
    assert "农村生活污水治理" in found and "农村" not in found and "污水治理" not in found
    _, terms = lexicon.domain_scores("编制农村生活污水治理专项规划")
    assert "ecology" in keys(lexicon, set(terms)) and "agriculture" not in keys(lexicon, set(terms))
    # ... but the same short term elsewhere in the text still counts
    assert "农村" in lexicon.match("农村生活污水治理，带动农村就业")


def test_ascii_terms_match_whole_numbers_only(lexicon: DomainLexicon) -> None:
    assert "120" not in lexicon.match("新增托位1200个")
    assert "12345热线" in lexicon.match("12345热线诉求5日内办结")


def test_units_map_to_domains_by_name_not_by_accidental_substrings(lexicon: DomainLexicon) -> None:
    assert keys(lexicon, lexicon.name_domains(["住房和城乡建设局"])) == {"housing"}
    assert keys(lexicon, lexicon.name_domains(["卫生健康委员会", "卫健委"])) == {"health"}
    # 人民政府办公室 holds 民政 as characters, not as a civil-affairs unit
    assert "civil_affairs" not in keys(lexicon, lexicon.name_domains(["人民政府办公室"]))
    assert keys(lexicon, lexicon.name_domains(["星河科技有限公司财务部"])) <= {"science"}


def test_mandate_terms_give_a_partial_domain(lexicon: DomainLexicon) -> None:
    shares = lexicon.mandate_domains("承担城市供水、污水处理和排水管网的建设运营")
    by_key = {lexicon.keys[i]: v for i, v in shares.items()}
    assert by_key["water_supply"] == 1.0
    assert all(0 < v <= 1 for v in by_key.values())


def test_coordination_words(lexicon: DomainLexicon) -> None:
    assert set(lexicon.coordination_terms("纳入年度考核，定期通报进展")) >= {"考核", "通报"}
    assert lexicon.coordination_terms("开展危险化学品企业隐患排查") == []


def test_a_lexicon_file_without_terms_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[[domain]]\nkey = "empty"\nunits = "空"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="empty"):
        DomainLexicon.load(path)


def test_terms_shared_by_domains_weigh_less() -> None:
    lexicon = DomainLexicon([
        Domain("a", "甲", ("甲",), ("共同词", "甲专词")),
        Domain("b", "乙", ("乙",), ("共同词", "乙专词")),
        Domain("c", "丙", ("丙",), ("丙专词",)),
    ])
    assert lexicon.term_weight["共同词"] < lexicon.term_weight["甲专词"]
