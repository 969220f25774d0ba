"""HTML / Word-saved HTML → blocks with lxml.html.

Charset from the BOM, then ``<meta charset>`` / ``http-equiv``, then detection (UTF-8, GB18030/GBK,
Big5). Only visible text: ``script``/``style``/``noscript``/``head`` and navigation-like containers
(``nav``, ``footer``, class/id such as ``nav``, ``crumb``, ``footer``, ``share``, ``related``, or a
block made almost only of links) are dropped. Word's downlevel conditionals
(``<![if !supportEmptyParas]>``) are unwrapped. Block elements become paragraphs, ``<br>`` splits
lines; data tables get ``rowspan``/``colspan`` filled and marked; layout tables (holding other
tables or a single cell) are read as flowing text.
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

from qiantou.planparse.document import Block, Paragraph, PlanFileError, Table
from qiantou.planparse.readers.textfile import decode_text

__all__ = ["decode_html", "read_html"]

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.IGNORECASE)
_DOWNLEVEL = re.compile(r"<!\[(?:if[^\]]*|endif)\]>", re.IGNORECASE)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)

_DROP_TAGS = {
    "script",
    "style",
    "noscript",
    "head",
    "title",
    "template",
    "iframe",
    "object",
    "embed",
    "select",
    "button",
    "svg",
    "canvas",
    "nav",
    "footer",
    "aside",
    "form",
    "input",
    "textarea",
}
_BLOCK_TAGS = {
    "p",
    "div",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "blockquote",
    "dd",
    "dt",
    "dl",
    "section",
    "article",
    "header",
    "main",
    "address",
    "center",
    "tr",
    "figure",
    "figcaption",
    "hr",
    "caption",
    "body",
    "html",
    "fieldset",
    "legend",
    "details",
    "summary",
}
_NOISE_CLASS = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|menu|crumbs?|breadcrumbs?|bread|position|location|footer|foot|copyright|"
    r"share|bdshare|jiathis|related|relate|recommend|sidebar|side|login|comment|comments|pager|pagination|"
    r"prev-?next|top-?bar|topbar|toolbar|ad|ads|advert|banner|more|download|qrcode|ewm|print|font-?size|"
    r"fontsize|search|hot|tags?)(?:$|[\s_\d-])",
    re.IGNORECASE,
)
_CJK = r"\u3400-\u9fff\u3000-\u303f\uff00-\uffef“”‘’—…"
_NEWLINE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])[ \t]*[\r\n]+[ \t\r\n]*(?=[{_CJK}])")
_SPACES = re.compile(r"[ \t\r\n\f\v]+")


def decode_html(data: bytes, filename: str) -> tuple[str, str, list[str]]:
    """Decode an HTML page: BOM, declared charset (if the bytes agree), else detection."""
    notes: list[str] = []
    declared = None
    m = _META_CHARSET.search(data[:8192])
    if m:
        declared = m.group(1).decode("ascii", "replace")
    text, encoding = decode_text(data, filename, declared=declared)
    if (
        declared
        and _canon(declared) != _canon(encoding)
        and not data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"))
    ):
        notes.append(f"网页声明的编码 {declared} 与实际内容不符，已按 {encoding} 读取")
    return text, encoding, notes


def _canon(name: str) -> str:
    key = name.lower().replace("_", "-")
    return {
        "gb2312": "gbk",
        "gb18030": "gbk",
        "cp936": "gbk",
        "x-gbk": "gbk",
        "big5hkscs": "big5",
        "big5-hkscs": "big5",
        "cp950": "big5",
        "utf8": "utf-8",
    }.get(key, key)


def _is_noise_container(el: etree._Element) -> bool:
    attrs = " ".join(filter(None, [el.get("class"), el.get("id"), el.get("role")]))
    if (
        attrs
        and _NOISE_CLASS.search(attrs)
        and not re.search(r"article|content|main|zoom|text|body", attrs, re.I)
    ):
        return True
    if el.tag in ("div", "ul", "ol", "section", "table", "td", "span", "p"):
        text = _SPACES.sub("", el.text_content() or "")
        if not text or len(text) > 400:
            return False
        link_text = "".join(_SPACES.sub("", a.text_content() or "") for a in el.iter("a"))
        links = sum(1 for _ in el.iter("a"))
        if links >= 3 and len(link_text) >= 0.6 * len(text):
            return True
    return False


def _norm_inline(text: str) -> str:
    text = text.replace("\xa0", " ").replace("\u200b", "")
    text = _NEWLINE_BETWEEN_CJK.sub("", text)
    return _SPACES.sub(" ", text)


class _Walker:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.buf: list[str] = []
        self.style: str | None = None

    def flush(self) -> None:
        text = _norm_inline("".join(self.buf)).strip()
        if text:
            self.blocks.append(Paragraph(text, self.style))
        self.buf = []

    def walk(self, el: etree._Element) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        tag = tag.split("}")[-1].lower()
        if not tag:  # comment / processing instruction
            if el.tail:
                self.buf.append(el.tail)
            return
        if tag in _DROP_TAGS or _hidden(el) or (tag not in ("body", "html") and _is_noise_container(el)):
            if el.tail:
                self.buf.append(el.tail)
            return
        if tag == "table" and _is_data_table(el):
            self.flush()
            table = _table(el)
            if table.rows:
                self.blocks.append(table)
            if el.tail:
                self.buf.append(el.tail)
            return
        if tag == "br":
            self.flush()
            if el.tail:
                self.buf.append(el.tail)
            return
        is_block = tag in _BLOCK_TAGS or tag in ("table", "tbody", "thead", "tfoot", "td", "th")
        if is_block:
            self.flush()
            self.style = tag
        if el.text:
            self.buf.append(el.text)
        for child in el:
            self.walk(child)
        if is_block or tag in ("td", "th"):
            self.flush()
        if el.tail:
            self.buf.append(el.tail)


def _hidden(el: etree._Element) -> bool:
    style = (el.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style or el.get("hidden") is not None


def _rows(table: etree._Element) -> list[etree._Element]:
    rows = []
    for child in table:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == "tr":
            rows.append(child)
        elif tag in ("tbody", "thead", "tfoot"):
            rows.extend(r for r in child if r.tag == "tr")
    return rows


def _is_data_table(table: etree._Element) -> bool:
    if any(True for _ in table.iterdescendants("table")):
        return False  # layout table holding other tables
    rows = _rows(table)
    cells = [c for r in rows for c in r if c.tag in ("td", "th")]
    if len(cells) <= 1:
        return False
    max_cells = max((sum(1 for c in r if c.tag in ("td", "th")) for r in rows), default=0)
    return max_cells >= 2


def _cell_text(cell: etree._Element) -> str:
    walker = _Walker()
    walker.walk(cell)
    walker.flush()
    lines = []
    for b in walker.blocks:
        if isinstance(b, Paragraph):
            lines.append(b.text)
        else:
            lines.extend(" ".join(c for c in row if c) for row in b.rows)
    return "\n".join(line for line in lines if line.strip())


def _table(table: etree._Element) -> Table:
    rows: list[list[str]] = []
    merged: list[list[bool]] = []
    pending: dict[tuple[int, int], str] = {}  # (row, col) → text carried down by rowspan
    for r, tr in enumerate(_rows(table)):
        row: list[str] = []
        mrow: list[bool] = []
        col = _fill_pending(pending, r, 0, row, mrow)
        for cell in tr:
            if cell.tag not in ("td", "th") or _hidden(cell):
                continue
            text = _cell_text(cell)
            colspan = _span(cell.get("colspan"))
            rowspan = _span(cell.get("rowspan"))
            for i in range(colspan):
                row.append(text)
                mrow.append(i > 0)
                for k in range(1, rowspan):
                    pending[(r + k, col)] = text
                col = _fill_pending(pending, r, col + 1, row, mrow)
        if row:
            rows.append(row)
            merged.append(mrow)
    # rowspans running past the last row are ignored; pad ragged rows
    width = max((len(x) for x in rows), default=0)
    for row, mrow in zip(rows, merged, strict=True):
        row.extend([""] * (width - len(row)))
        mrow.extend([False] * (width - len(mrow)))
    return Table(rows=rows, merged=merged)


def _fill_pending(
    pending: dict[tuple[int, int], str], r: int, col: int, row: list[str], mrow: list[bool]
) -> int:
    """Put the texts that rowspans from above carry into row ``r`` from column ``col`` on."""
    while (r, col) in pending:
        row.append(pending.pop((r, col)))
        mrow.append(True)
        col += 1
    return col


def _span(value: str | None) -> int:
    try:
        return max(1, min(int(re.sub(r"\D", "", value or "1") or 1), 200))
    except ValueError:
        return 1


def read_html(data: bytes, filename: str) -> tuple[list[Block], str, list[str]]:
    """Blocks of an HTML page, the encoding used, and warnings."""
    text, encoding, notes = decode_html(data, filename)
    return read_html_text(text, filename), encoding, notes


def read_html_text(text: str, filename: str) -> list[Block]:
    """Blocks of already-decoded HTML."""
    text = _XML_DECL.sub("", text)
    text = _DOWNLEVEL.sub("", text)
    text = text.replace("\x00", "")
    if not text.strip():
        raise PlanFileError(filename, "网页内容为空")
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise PlanFileError(filename, "网页无法解析") from exc
    body = root.find("body")
    walker = _Walker()
    walker.walk(body if body is not None else root)
    walker.flush()
    return walker.blocks
