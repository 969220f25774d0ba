"""The 14 labelled fixture plans read without error, and every labelled task start is in the text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from qiantou.planparse.document import Paragraph, SourceDocument, Table
from qiantou.planparse.readers import read_document
from qiantou.planparse.repair import fix_mojibake
from qiantou.textnorm import strip_pinyin, to_simplified, to_simplified_text

PLANS = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "cases" / "plans"
DOCUMENTS = sorted(p for p in PLANS.iterdir() if p.suffix != ".json")

EXPECTED_KIND = {
    ".txt": "txt",
    ".html": "html",
    ".docx": "docx",
    ".xlsx": "xlsx",
    ".pdf": "pdf",
    ".doc": "doc",
}


def _text(doc: SourceDocument) -> str:
    parts: list[str] = []
    for block in doc.blocks:
        if isinstance(block, Paragraph):
            parts.append(block.text)
        else:
            parts.extend(cell for row in block.rows for cell in row)
    return "\n".join(parts)


def _squash(text: str) -> str:
    return "".join(text.split())


_PARTIAL_PINYIN = re.compile(r"[(（][a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]*$")


def _variants(text_start: str) -> list[str]:
    """How a label's text start may look after repair: as printed, mojibake repaired, simplified."""
    base = _PARTIAL_PINYIN.sub("", strip_pinyin(text_start))
    repaired, _ = fix_mojibake(base)
    out = []
    for t in (base, repaired):
        out += [t, to_simplified(t), to_simplified_text(t), to_simplified(t, vocabulary=True)]
    return [_squash(v) for v in out]


def _found(text_start: str, haystack: str) -> bool:
    for variant in _variants(text_start):
        # a 15-character start may end inside a word that the vocabulary conversion rewrites, or in
        # the middle of a mojibake sequence: accept the start minus its last few characters
        for cut in range(len(variant), min(len(variant), max(len(variant) - 5, 5)) - 1, -1):
            if variant[:cut].rstrip("\ufffd") in haystack:
                return True
    return False


@pytest.fixture(scope="module")
def documents() -> dict[str, SourceDocument]:
    return {p.name: read_document(p.read_bytes(), p.name) for p in DOCUMENTS}


def test_there_are_14_documents() -> None:
    assert len(DOCUMENTS) == 14


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_fixture_reads_and_contains_every_task_start(
    path: Path, documents: dict[str, SourceDocument]
) -> None:
    doc = documents[path.name]
    assert doc.kind == EXPECTED_KIND[path.suffix]
    assert doc.blocks
    labels = json.loads(path.with_suffix(".json").read_text("utf-8"))
    haystack = _squash(_text(doc))
    missing = [t["text_start"] for t in labels["tasks"] if not _found(t["text_start"], haystack)]
    if missing and doc.traditional:
        # a cut-off start cannot be converted word-wise on its own (網際網 → ?): find the printed line
        # it starts in and require that line, converted as the reader converts it, in the text
        raw = read_document(path.read_bytes(), path.name, repair=False)
        raw_lines = [_squash(strip_pinyin(line)) for line in _text(raw).split("\n")]
        still = []
        for start in missing:
            wanted = _PARTIAL_PINYIN.sub("", _squash(strip_pinyin(start)))
            line = next((ln for ln in raw_lines if wanted in ln), None)
            if line is None or _squash(to_simplified_text(line)) not in haystack:
                still.append(start)
        missing = still
    assert not missing, f"{path.name}: task starts not in the read text: {missing}"


def test_gbk_text_is_decoded(documents: dict[str, SourceDocument]) -> None:
    doc = documents["dev01-yingshang-gbk.txt"]
    assert doc.encoding == "gbk"
    assert "列第一位者为牵头单位" in _text(doc)
    assert not any("\r" in b.text for b in doc.blocks if isinstance(b, Paragraph))


def test_traditional_pinyin_document_is_simplified(documents: dict[str, SourceDocument]) -> None:
    doc = documents["dev02-shuzi-trad-pinyin.txt"]
    text = _text(doc)
    assert doc.traditional
    assert "市政务服务和大数据管理局" in text  # 市政務(wù)服務(wù)和大數據(jù)管理局
    assert "市工业和信息化局" in text  # 資訊 → 信息 inside the unit name
    assert "排在首位的为牵头单位" in text  # variant 爲
    assert "(wù)" not in text
    assert "上一篇" not in text and "下一篇" not in text and "打印本页" not in text


def test_mojibake_lines_repaired_and_destroyed_line_kept(documents: dict[str, SourceDocument]) -> None:
    doc = documents["dev03-dishouru-mojibake.txt"]
    text = _text(doc)
    assert not doc.traditional
    assert "（四）建立主动发现机制" in text
    assert "锛堝洓" not in text
    # the destroyed item (many lost bytes) stays as printed, with a warning
    assert "锛堝崄浜岋級鍔犲己" in text
    assert any("无法可靠修复" in w for w in doc.warnings)


def test_box_table_page_number_and_repeated_doc_number_removed(documents: dict[str, SourceDocument]) -> None:
    doc = documents["dev04-chengguan-boxtable.txt"]
    lines = [b.text.strip() for b in doc.blocks if isinstance(b, Paragraph)]
    assert "— 3 —" not in lines and "— 2 —" not in lines
    assert lines.count("青政办〔2024〕31号") == 1  # kept once, at the top
    row6 = lines.index(next(x for x in lines if x.startswith("│6")))
    assert lines[row6 + 1].startswith("│")  # no gap left between the two lines of row 6


def test_big5_page_and_portal_noise(documents: dict[str, SourceDocument]) -> None:
    doc = documents["dev05-zhunong-big5.html"]
    text = _text(doc)
    assert doc.encoding in ("big5", "big5hkscs")
    assert doc.traditional
    assert "首页" not in text and "当前位置" not in text and "备案号" not in text
    assert "各县<市、区>人民政府" in text


def test_word_html_table_rowspan_colspan(documents: dict[str, SourceDocument]) -> None:
    doc = documents["dev06-gongzuobaogao-wordhtml.html"]
    table = next(b for b in doc.blocks if isinstance(b, Table))
    section = next(r for r in table.rows if r[0] == "一、扩大有效投资")
    assert set(section) == {"一、扩大有效投资"}
    i = table.rows.index(next(r for r in table.rows if r[0] == "2"))
    assert table.rows[i][3] == "市发展改革委" and table.merged[i][3]  # rowspan from row "1"
    assert "supportEmptyParas" not in _text(doc)


def test_content_farm_noise_removed(documents: dict[str, SourceDocument]) -> None:
    text = _text(documents["dev07-yingjian-contentfarm.html"])
    for noise in ("小编", "索 引 号", "发布机构", "相关推荐", "下载完整版", "范文大全 >", "网友投稿"):
        assert noise not in text, noise
    assert "篇三:青山市迎接省级食品安全示范城市评价任务清单" in text
    assert "(牵头单位:市城市管理局" not in text or "责任时限:2024年6月底前" in text  # ASCII kept


def test_docx_merged_table(documents: dict[str, SourceDocument]) -> None:
    doc = documents["dev10-renju-mergedtable.docx"]
    table = next(b for b in doc.blocks if isinstance(b, Table))
    row2 = next(i for i, r in enumerate(table.rows) if r[0] == "2")
    assert table.rows[row2][3] == "市农业农村局" and table.merged[row2][3]
    section = next(i for i, r in enumerate(table.rows) if r[0].startswith("一、"))
    assert all(table.merged[section][1:]) and not table.merged[section][0]


def test_xlsx_dates_as_displayed_and_merged(documents: dict[str, SourceDocument]) -> None:
    doc = documents["dev11-minsheng-taizhang.xlsx"]
    tables = [b for b in doc.blocks if isinstance(b, Table)]
    assert [t.sheet for t in tables] == ["督办台账", "新增事项"]
    first = tables[0]
    task1 = next(r for r in first.rows if r[0] == "1")
    assert task1[5] == "2024年8月31日"
    i2 = next(i for i, r in enumerate(first.rows) if r[0] == "2")
    assert first.rows[i2][3] == "市教育局" and first.merged[i2][3]
    assert first.rows[i2][1] == "教育" and first.merged[i2][1]
    assert any(r[0] == "15" and r[4] == "" for r in tables[1].rows)  # blank deadline stays blank


def test_pdf_table_and_running_header(documents: dict[str, SourceDocument]) -> None:
    doc = documents["dev13-anquan-table.pdf"]
    table = next(b for b in doc.blocks if isinstance(b, Table))
    assert table.rows[0] == ["序号", "工作任务", "责任单位", "完成时限"]
    row1 = table.rows[1]
    assert row1[2] == "市应急管理局、市级各有关部门、各县（市、区）人民政府"  # wrapped cell re-joined
    assert row1[3] == "2024年12月底前"
    paragraphs = [b.text for b in doc.blocks if isinstance(b, Paragraph)]
    assert "青山市安全生产委员会文件" not in paragraphs  # header repeated on every page
    assert any("责任单位中排在第一位的为牵头单位" in p for p in paragraphs)


def test_legacy_doc_through_libreoffice(documents: dict[str, SourceDocument]) -> None:
    doc = documents["dev14-gongxiaoshe-legacy.doc"]
    text = _text(doc)
    assert "牵头责任单位" in text and "协同责任单位" in text
