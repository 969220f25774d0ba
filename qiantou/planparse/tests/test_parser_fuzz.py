"""Property test: the text parser never crashes, whatever the paragraphs and tables hold."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qiantou.planparse import parse_document
from qiantou.planparse.document import Paragraph, SourceDocument, Table

# Characters that drive the parser's decisions, mixed with arbitrary text.
_ALPHABET = st.sampled_from(
    [
        *"一二三四五六七八九十（）()〔〕[]【】<>、，,；;。：:0123456789①②.．|│┌├└─┼┤—…等和及由会同",
        "牵头",
        "配合",
        "负责",
        "牵头单位：",
        "配合单位：",
        "责任单位：",
        "完成时限：",
        "分别牵头",
        "市财政局",
        "各县（市、区）人民政府",
        "列第一位者为牵头单位，下同",
        "以下统称",
        "不再单独列出",
        "每月",
        "年底前",
        "序号",
        "工作任务",
        "牵头单位",
        "责任领导",
        "\n",
    ]
)
_TEXT = st.one_of(st.text(max_size=80), st.lists(_ALPHABET, max_size=40).map("".join))
_TABLE = st.lists(st.lists(_TEXT, min_size=0, max_size=6), max_size=6).map(lambda rows: Table(rows=rows))
_BLOCKS = st.lists(st.one_of(_TEXT.map(Paragraph), _TABLE), max_size=25)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_BLOCKS, st.one_of(st.none(), st.integers(1990, 2100)))
def test_parser_never_crashes(blocks: list[Paragraph | Table], year: int | None) -> None:
    plan = parse_document(SourceDocument(filename="fuzz.txt", kind="txt", blocks=blocks), year=year)
    data = plan.as_json()
    for task in data["tasks"]:
        assert isinstance(task["text"], str)
        assert all(isinstance(u, str) and u for u in task["lead_units"] + task["cooperating_units"])
