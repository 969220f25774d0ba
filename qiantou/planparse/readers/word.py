"""Word ``.docx`` → blocks, read from the WordprocessingML with lxml.

Paragraphs and tables in body order; ``vMerge``/``gridSpan`` (and legacy ``hMerge``) cells filled and
marked in :attr:`Table.merged`; list numbers that Word generates (``w:numPr``, also through the
paragraph style) rendered as printed; soft line breaks split paragraphs; tracked deletions, field
codes and the fallback copy of text boxes skipped. Headers, footers and footnotes are page furniture
and are not read.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field

from lxml import etree

from qiantou.planparse.document import Block, Paragraph, PlanFileError, Table
from qiantou.planparse.readers.limits import open_zip

__all__ = ["read_docx"]

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_W = f"{{{W}}}"


def _q(tag: str) -> str:
    return _W + tag


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_comments=True)

_CN_DIGITS = "零一二三四五六七八九"


def _chinese_counting(n: int) -> str:
    """1 → 一, 10 → 十, 11 → 十一, 21 → 二十一, 105 → 一百零五 (Word's chineseCounting)."""
    if n <= 0:
        return str(n)
    if n < 10:
        return _CN_DIGITS[n]
    if n < 20:
        return "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return _CN_DIGITS[n // 10] + "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    if n < 1000:
        rest = n % 100
        tail = "" if rest == 0 else ("零" + _CN_DIGITS[rest] if rest < 10 else _chinese_counting(rest))
        if 10 <= rest < 20:
            tail = "一" + tail
        return _CN_DIGITS[n // 100] + "百" + tail
    return str(n)


def _roman(n: int) -> str:
    vals = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ]
    out = []
    for v, s in vals:
        while n >= v:
            out.append(s)
            n -= v
    return "".join(out)


def _letters(n: int) -> str:
    # Word repeats the letter: 27 → AA, 28 → BB
    return chr(ord("A") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def format_number(n: int, fmt: str) -> str:
    """Render counter ``n`` in Word number format ``fmt`` (``decimal``, ``chineseCounting``…)."""
    if fmt in ("decimal", "decimalZero") or not fmt:
        return f"{n:02d}" if fmt == "decimalZero" and n < 10 else str(n)
    if fmt in (
        "chineseCounting",
        "chineseCountingThousand",
        "japaneseCounting",
        "taiwaneseCounting",
        "ideographLegalTraditional",
        "chineseLegalSimplified",
    ):
        return _chinese_counting(n)
    if fmt in ("ideographDigital", "taiwaneseDigital", "japaneseDigitalTenThousand"):
        return "".join("〇一二三四五六七八九"[int(d)] for d in str(n))
    if fmt in ("decimalEnclosedCircle", "decimalEnclosedCircleChinese") and 1 <= n <= 20:
        return chr(0x2460 + n - 1)
    if fmt == "decimalEnclosedParen" and 1 <= n <= 20:
        return chr(0x2474 + n - 1)
    if fmt == "decimalEnclosedFullstop" and 1 <= n <= 20:
        return chr(0x2488 + n - 1)
    if fmt == "decimalFullWidth":
        return "".join(chr(0xFF10 + int(d)) for d in str(n))
    if fmt == "ideographTraditional" and 1 <= n <= 10:
        return "甲乙丙丁戊己庚辛壬癸"[n - 1]
    if fmt == "ideographZodiac" and 1 <= n <= 12:
        return "子丑寅卯辰巳午未申酉戌亥"[n - 1]
    if fmt == "upperLetter":
        return _letters(n)
    if fmt == "lowerLetter":
        return _letters(n).lower()
    if fmt == "upperRoman":
        return _roman(n)
    if fmt == "lowerRoman":
        return _roman(n).lower()
    if fmt in ("bullet", "none"):
        return ""
    return str(n)


@dataclass
class _Level:
    start: int = 1
    fmt: str = "decimal"
    text: str = "%1."
    suffix: str = "tab"
    restart: int | None = None
    legal: bool = False


@dataclass
class _Numbering:
    """numbering.xml: which list level renders how, and the running counters."""

    abstract_levels: dict[str, dict[int, _Level]] = field(default_factory=dict)
    num_abstract: dict[str, str] = field(default_factory=dict)
    num_overrides: dict[str, dict[int, int]] = field(default_factory=dict)
    counters: dict[str, dict[int, int]] = field(default_factory=dict)
    style_numpr: dict[str, tuple[str, int]] = field(default_factory=dict)

    @classmethod
    def load(cls, numbering_xml: bytes | None, styles_xml: bytes | None) -> _Numbering:
        nb = cls()
        if numbering_xml:
            root = etree.fromstring(numbering_xml, _PARSER)
            for absnum in root.iter(_q("abstractNum")):
                aid = absnum.get(_q("abstractNumId")) or ""
                levels: dict[int, _Level] = {}
                for lvl in absnum.iter(_q("lvl")):
                    ilvl = int(lvl.get(_q("ilvl")) or 0)
                    lv = _Level()
                    if (e := lvl.find(_q("start"))) is not None:
                        lv.start = int(e.get(_q("val")) or 1)
                    if (e := lvl.find(_q("numFmt"))) is not None:
                        lv.fmt = e.get(_q("val")) or "decimal"
                    if (e := lvl.find(_q("lvlText"))) is not None:
                        lv.text = e.get(_q("val")) or ""
                    if (e := lvl.find(_q("suff"))) is not None:
                        lv.suffix = e.get(_q("val")) or "tab"
                    if (e := lvl.find(_q("lvlRestart"))) is not None:
                        lv.restart = int(e.get(_q("val")) or 0)
                    lv.legal = lvl.find(_q("isLgl")) is not None
                    levels[ilvl] = lv
                nb.abstract_levels[aid] = levels
            for num in root.iter(_q("num")):
                nid = num.get(_q("numId")) or ""
                if (e := num.find(_q("abstractNumId"))) is not None:
                    nb.num_abstract[nid] = e.get(_q("val")) or ""
                overrides: dict[int, int] = {}
                for ov in num.iter(_q("lvlOverride")):
                    so = ov.find(_q("startOverride"))
                    if so is not None:
                        overrides[int(ov.get(_q("ilvl")) or 0)] = int(so.get(_q("val")) or 1)
                nb.num_overrides[nid] = overrides
        if styles_xml:
            root = etree.fromstring(styles_xml, _PARSER)
            based: dict[str, str] = {}
            direct: dict[str, tuple[str, int]] = {}
            for st in root.iter(_q("style")):
                sid = st.get(_q("styleId")) or ""
                if (b := st.find(_q("basedOn"))) is not None:
                    based[sid] = b.get(_q("val")) or ""
                numpr = st.find(f"{_q('pPr')}/{_q('numPr')}")
                if numpr is not None:
                    nid_e = numpr.find(_q("numId"))
                    il_e = numpr.find(_q("ilvl"))
                    if nid_e is not None:
                        direct[sid] = (
                            nid_e.get(_q("val")) or "0",
                            int(il_e.get(_q("val")) or 0) if il_e is not None else 0,
                        )
            for sid in set(based) | set(direct):
                cur: str | None = sid
                seen = set()
                while cur and cur not in direct and cur not in seen:
                    seen.add(cur)
                    cur = based.get(cur)
                if cur and cur in direct:
                    nb.style_numpr[sid] = direct[cur]
        return nb

    def render(self, num_id: str, ilvl: int) -> str:
        """Advance the counter of ``num_id`` at ``ilvl`` and return the printed label (``一、``, ``1.``)."""
        aid = self.num_abstract.get(num_id)
        if aid is None or num_id == "0":
            return ""
        levels = self.abstract_levels.get(aid, {})
        lvl = levels.get(ilvl)
        if lvl is None:
            return ""
        overrides = self.num_overrides.get(num_id, {})
        key = f"n{num_id}" if overrides else f"a{aid}"
        counters = self.counters.setdefault(key, {})

        def start_of(i: int) -> int:
            if i in overrides:
                return overrides[i]
            lv = levels.get(i)
            return lv.start if lv else 1

        counters[ilvl] = counters[ilvl] + 1 if ilvl in counters else start_of(ilvl)
        for deeper in [k for k in counters if k > ilvl]:
            lv = levels.get(deeper)
            if lv is None or lv.restart != 0:
                del counters[deeper]
        if lvl.fmt in ("bullet", "none"):
            return ""
        out = lvl.text
        for i in range(9):
            token = f"%{i + 1}"
            if token in out:
                n = counters.get(i, start_of(i))
                fmt = "decimal" if lvl.legal else (levels[i].fmt if i in levels else "decimal")
                out = out.replace(token, format_number(n, fmt))
        if not out:
            return ""
        if lvl.suffix == "nothing" or out[-1] in "、．）)】〕":
            return out
        return out + " "


class _DocxReader:
    def __init__(self, zf: zipfile.ZipFile) -> None:
        names = set(zf.namelist())
        self.numbering = _Numbering.load(
            zf.read("word/numbering.xml") if "word/numbering.xml" in names else None,
            zf.read("word/styles.xml") if "word/styles.xml" in names else None,
        )
        self.style_names: dict[str, str] = {}
        if "word/styles.xml" in names:
            sroot = etree.fromstring(zf.read("word/styles.xml"), _PARSER)
            for st in sroot.iter(_q("style")):
                name_e = st.find(_q("name"))
                if name_e is not None:
                    self.style_names[st.get(_q("styleId")) or ""] = name_e.get(_q("val")) or ""

    # -- text of runs ---------------------------------------------------------------------------
    def _segments(self, p: etree._Element) -> list[str]:
        """A paragraph's text split at soft line / page breaks."""
        parts: list[str] = [""]

        def walk(el: etree._Element) -> None:
            for child in el:
                tag = child.tag
                if not isinstance(tag, str):
                    continue
                if tag in (_q("del"), _q("moveFrom"), _q("instrText"), _q("delText"), _q("pPr"), _q("rPr")):
                    continue
                if tag == f"{{{MC}}}Fallback":
                    continue
                if tag == _q("txbxContent") or tag == _q("p"):
                    continue  # nested paragraphs (text boxes) are emitted separately
                if tag == _q("t"):
                    parts[-1] += child.text or ""
                elif tag == _q("tab") and el.tag == _q("r"):
                    parts[-1] += "\t"
                elif tag in (_q("br"), _q("cr")):
                    parts.append("")
                elif tag == _q("noBreakHyphen"):
                    parts[-1] += "-"
                elif tag == _q("sym"):
                    char = child.get(_q("char"))
                    if char:
                        try:
                            code = int(char, 16)
                            if code >= 0xF000:
                                code -= 0xF000
                            parts[-1] += chr(code) if code >= 0x20 else ""
                        except ValueError:
                            pass
                else:
                    walk(child)

        walk(p)
        return parts

    def _numbering_label(self, p: etree._Element) -> str:
        ppr = p.find(_q("pPr"))
        num_id: str | None = None
        ilvl = 0
        style_id = None
        if ppr is not None:
            ps = ppr.find(_q("pStyle"))
            style_id = ps.get(_q("val")) if ps is not None else None
            numpr = ppr.find(_q("numPr"))
            if numpr is not None:
                nid = numpr.find(_q("numId"))
                il = numpr.find(_q("ilvl"))
                if nid is not None:
                    num_id = nid.get(_q("val"))
                if il is not None:
                    ilvl = int(il.get(_q("val")) or 0)
                elif style_id and style_id in self.numbering.style_numpr:
                    ilvl = self.numbering.style_numpr[style_id][1]
        if num_id is None and style_id and style_id in self.numbering.style_numpr:
            num_id, ilvl = self.numbering.style_numpr[style_id]
        if not num_id or num_id == "0":
            return ""
        return self.numbering.render(num_id, ilvl)

    def _style(self, p: etree._Element) -> str | None:
        ps = p.find(f"{_q('pPr')}/{_q('pStyle')}")
        if ps is None:
            return None
        sid = ps.get(_q("val")) or ""
        return self.style_names.get(sid, sid)

    def paragraph_texts(self, p: etree._Element) -> list[str]:
        """The printed lines of one paragraph, the list number (if any) in front of the first."""
        segments = self._segments(p)
        label = self._numbering_label(p)
        if label and any(s.strip() for s in segments):
            segments[0] = label + segments[0].lstrip()
        return segments

    def _textboxes(self, p: etree._Element) -> list[etree._Element]:
        out = []
        for tb in p.iter(_q("txbxContent")):
            if any(anc.tag == f"{{{MC}}}Fallback" for anc in tb.iterancestors()):
                continue
            out.append(tb)
        return out

    # -- blocks ---------------------------------------------------------------------------------
    def blocks(self, container: etree._Element) -> list[Block]:
        out: list[Block] = []
        for el in container:
            tag = el.tag
            if tag == _q("p"):
                style = self._style(el)
                for text in self.paragraph_texts(el):
                    out.append(Paragraph(text, style))
                for tb in self._textboxes(el):
                    out.extend(self.blocks(tb))
            elif tag == _q("tbl"):
                out.append(self.table(el))
            elif tag in (_q("sdt"),):
                content = el.find(_q("sdtContent"))
                if content is not None:
                    out.extend(self.blocks(content))
            elif tag in (_q("customXml"), _q("ins"), _q("moveTo"), _q("smartTag")):
                out.extend(self.blocks(el))
            elif tag == f"{{{MC}}}AlternateContent":
                choice = el.find(f"{{{MC}}}Choice")
                if choice is not None:
                    out.extend(self.blocks(choice))
        return out

    def cell_text(self, tc: etree._Element) -> str:
        lines: list[str] = []
        for block in self.blocks(tc):
            if isinstance(block, Paragraph):
                lines.append(block.text)
            else:
                lines.extend(" ".join(c for c in row if c) for row in block.rows)
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        return "\n".join(line.strip() for line in lines)

    def table(self, tbl: etree._Element) -> Table:
        rows: list[list[str]] = []
        merged: list[list[bool]] = []
        # vertical merge origins per grid column: text of the cell that started the merge
        for tr in _iter_rows(tbl):
            row: list[str] = []
            mrow: list[bool] = []
            trpr = tr.find(_q("trPr"))
            before = 0
            if trpr is not None and (gb := trpr.find(_q("gridBefore"))) is not None:
                before = int(gb.get(_q("val")) or 0)
            row.extend([""] * before)
            mrow.extend([False] * before)
            h_origin: str | None = None
            for tc in _iter_cells(tr):
                tcpr = tc.find(_q("tcPr"))
                span = 1
                vmerge: str | None = None
                hmerge: str | None = None
                if tcpr is not None:
                    if (gs := tcpr.find(_q("gridSpan"))) is not None:
                        span = max(1, int(gs.get(_q("val")) or 1))
                    if (vm := tcpr.find(_q("vMerge"))) is not None:
                        vmerge = vm.get(_q("val")) or "continue"
                    if (hm := tcpr.find(_q("hMerge"))) is not None:
                        hmerge = hm.get(_q("val")) or "continue"
                col = len(row)
                if vmerge == "continue" and rows:
                    above = rows[-1]
                    text = above[col] if col < len(above) else ""
                    is_merged = True
                elif hmerge == "continue" and h_origin is not None:
                    text = h_origin
                    is_merged = True
                else:
                    text = self.cell_text(tc)
                    is_merged = False
                if hmerge == "restart":
                    h_origin = text
                elif hmerge is None:
                    h_origin = None
                for i in range(span):
                    row.append(text)
                    mrow.append(is_merged or i > 0)
            rows.append(row)
            merged.append(mrow)
        width = max((len(r) for r in rows), default=0)
        for r, m in zip(rows, merged, strict=True):
            r.extend([""] * (width - len(r)))
            m.extend([False] * (width - len(m)))
        return Table(rows=rows, merged=merged)


def _iter_rows(tbl: etree._Element) -> list[etree._Element]:
    rows = []
    for child in tbl:
        if child.tag == _q("tr"):
            rows.append(child)
        elif child.tag in (_q("sdt"), _q("customXml")):
            content = child.find(_q("sdtContent")) if child.tag == _q("sdt") else child
            if content is not None:
                rows.extend(r for r in content if r.tag == _q("tr"))
    return rows


def _iter_cells(tr: etree._Element) -> list[etree._Element]:
    cells = []
    for child in tr:
        if child.tag == _q("tc"):
            cells.append(child)
        elif child.tag in (_q("sdt"), _q("customXml")):
            content = child.find(_q("sdtContent")) if child.tag == _q("sdt") else child
            if content is not None:
                cells.extend(c for c in content if c.tag == _q("tc"))
    return cells


def read_docx(data: bytes, filename: str) -> list[Block]:
    """Blocks of a ``.docx`` in body order. Raises :class:`PlanFileError` for a damaged file."""
    zf = open_zip(data, filename, "Word 文档")
    try:
        names = set(zf.namelist())
        main = "word/document.xml"
        if main not in names:
            main = next((n for n in names if n.endswith("/document.xml")), "")
        if not main:
            raise PlanFileError(filename, "Word 文档缺少正文（document.xml），文件可能已损坏")
        try:
            reader = _DocxReader(zf)
            root = etree.fromstring(zf.read(main), _PARSER)
        except etree.XMLSyntaxError as exc:
            raise PlanFileError(filename, "Word 文档内容已损坏（XML 无法解析）") from exc
        body = root.find(_q("body"))
        if body is None:
            raise PlanFileError(filename, "Word 文档没有正文")
        return reader.blocks(body)
    finally:
        zf.close()
