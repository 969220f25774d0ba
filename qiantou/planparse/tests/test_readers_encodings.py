"""The same plan text written in each encoding a published plan arrives in reads back the same."""

from __future__ import annotations

import codecs

import pytest

from qiantou.planparse.document import Paragraph
from qiantou.planparse.readers import read_document

TEXT = (
    "青山市优化营商环境任务分工方案\n"
    "一、重点任务\n"
    "1.推行“高效办成一件事”，年内上线10个事项。（市政务服务和大数据管理局牵头，各县（市、区）人民政府负责）\n"
    "2.完善企业投诉快速处理机制，12345热线5个工作日内办结。（市发展改革委负责，2024年底前）"
)
LINES = TEXT.split("\n")


def _lines(data: bytes, name: str = "plan.txt") -> list[str]:
    doc = read_document(data, name)
    return [b.text for b in doc.blocks if isinstance(b, Paragraph) and b.text]


@pytest.mark.parametrize(
    "encoding,expected",
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8"),
        ("gbk", "gbk"),
        ("gb18030", None),
        ("utf-16", "utf-16"),
        ("utf-16-le", "utf-16"),
        ("utf-16-be", "utf-16"),
    ],
)
def test_text_encodings_round_trip(encoding: str, expected: str | None) -> None:
    data = TEXT.encode(encoding)
    doc = read_document(data, "plan.txt")
    assert [b.text for b in doc.blocks if isinstance(b, Paragraph) and b.text] == LINES
    if expected:
        assert doc.encoding == expected


def test_gb18030_only_characters() -> None:
    text = TEXT + "\n说明：㮾树村（㮾 is outside GBK’s common set）€"
    doc = read_document(text.encode("gb18030"), "plan.txt")
    assert "㮾树村" in "\n".join(b.text for b in doc.blocks if isinstance(b, Paragraph))


def test_big5_text_is_decoded_and_simplified() -> None:
    trad = (
        "青山市消費助農任務分工\n"
        "1.組織開展消費助農季活動，每季度舉辦1次以上產銷對接會。（市商務局牽頭，市農業農村局配合）"
    )
    doc = read_document(trad.encode("big5"), "plan.txt")
    assert doc.encoding == "big5"
    assert doc.traditional
    assert "（市商务局牵头，市农业农村局配合）" in doc.blocks[1].text  # type: ignore[union-attr]


def test_crlf_and_cr_line_ends() -> None:
    assert _lines(TEXT.replace("\n", "\r\n").encode("gbk")) == LINES
    assert _lines(TEXT.replace("\n", "\r").encode("utf-8")) == LINES


def _page(body: str, meta: str) -> str:
    return f"<html><head>{meta}<title>方案</title></head><body>{body}</body></html>"


BODY = "".join(f"<p>{line}</p>" for line in LINES)


@pytest.mark.parametrize(
    "encoding,meta",
    [
        ("utf-8", '<meta charset="utf-8">'),
        ("utf-8", ""),
        ("gbk", '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">'),
        ("gbk", ""),
        ("gb18030", '<meta charset="gb18030">'),
        ("big5", '<meta http-equiv="Content-Type" content="text/html; charset=big5">'),
        ("utf-8-sig", '<meta charset="gbk">'),  # the BOM wins over a wrong meta
        ("utf-16", ""),
    ],
)
def test_html_encodings_round_trip(encoding: str, meta: str) -> None:
    if encoding == "big5":
        body = "<p>青山市優化營商環境任務分工</p><p>1.推行“高效辦成一件事”。（市商務局牽頭）</p>"
        got = _lines(_page(body, meta).encode("big5"), "plan.html")
        assert got == ["青山市优化营商环境任务分工", "1.推行“高效办成一件事”。（市商务局牵头）"]
        return
    got = _lines(_page(BODY, meta).encode(encoding), "plan.html")
    assert got == LINES


def test_html_meta_declares_wrong_charset() -> None:
    data = _page(BODY, '<meta charset="gb2312">').encode("utf-8")
    doc = read_document(data, "plan.html")
    assert [b.text for b in doc.blocks if isinstance(b, Paragraph)] == LINES
    assert any("不符" in w for w in doc.warnings)


def test_bom_constants_cover_utf32() -> None:
    doc = read_document(codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le"), "plan.txt")
    assert [b.text for b in doc.blocks if isinstance(b, Paragraph) and b.text] == LINES
