"""An issued plan as an official document (公文) laid out after GB/T 9704-2012
《党政机关公文格式》, as .docx and as PDF.

Layout (clause numbers of GB/T 9704-2012): A4 paper; type area 156 mm × 225 mm, top margin 37 mm,
left (binding) margin 28 mm (5.2.1/5.2.2); body in 3号仿宋 (16 pt), 22 lines of 28 characters per page
(5.2.3); the issuing authority mark (发文机关标志) in red 小标宋, centred, its top 35 mm below the type
area's top (7.2.3); the document number (发文字号) two lines below it, centred, with 六角括号 〔〕
(7.2.4); a red separator line 4 mm below the number across the type area (7.2.6); the title in 2号小标宋
two lines below the separator (7.3.1); the main recipients (主送机关) flush left one line below the title
(7.3.2); body paragraphs indented two characters, headings 一、 in 黑体 and （一） in 楷体 (7.3.3);
the attachment note (附件说明) one line below the body, indented two characters (7.3.4); the
signatory and the issuing date (成文日期, Arabic numerals, right-indented four characters) (7.3.5);
attachments on a new page headed "附件" in 黑体 flush left, the attachment title centred (8);
the colophon (版记: 抄送, 印发机关和印发日期) with rules at the end (7.4); page numbers in 4号宋体 as
"— 1 —", odd pages right and even pages left, one character in from the edge (7.5).
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from dataclasses import dataclass, field

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from qiantou.documents.fonts import FONTS, LATIN, css_family

RED = RGBColor(0xFF, 0x00, 0x00)
#: Font sizes of the standard: 二号 22 pt, 三号 16 pt, 四号 14 pt, 小四 12 pt.
SIZE_2, SIZE_3, SIZE_4, SIZE_S4 = 22.0, 16.0, 14.0, 12.0
#: Exact line pitch for 22 lines in the 225 mm type area (5.2.3): 225 mm / 22 ≈ 28.95 pt.
LINE_PITCH = 28.95
TYPE_AREA_WIDTH_MM = 156.0
CHAR = SIZE_3  # one character of body text, in points

_HEADING_1 = re.compile(r"^[一二三四五六七八九十]+、")
_HEADING_2 = re.compile(r"^（[一二三四五六七八九十]+）")


@dataclass
class AttachmentTable:
    """An attachment made of a table: ``headers`` and ``rows`` of text; widths in mm (sum ≤ 156)."""

    title: str
    headers: list[str]
    rows: list[list[str]]
    widths_mm: list[float] | None = None


@dataclass
class OfficialDocument:
    """What goes on the page. ``body`` is a list of paragraphs; a paragraph starting "一、" is set in 黑体
    and one starting "（一）" in 楷体. ``authority`` is the issuing authority mark ("××市××局文件")."""

    authority: str
    doc_number: str
    title: str
    main_recipients: str
    body: list[str]
    signatory: str
    issued_on: dt.date
    attachments: list[AttachmentTable] = field(default_factory=list)
    copy_to: str = ""
    printer: str = ""


def chinese_date(day: dt.date) -> str:
    """A date as GB/T 9704-2012 writes it (7.3.5.1): Arabic numerals, no leading zeros, "2024年3月5日"."""
    return f"{day.year}年{day.month}月{day.day}日"


def text_width(text: str) -> float:
    """Width of ``text`` in body characters: ASCII (digits, Latin) counts half."""
    return sum(0.5 if ord(ch) < 128 else 1.0 for ch in text)


def signature_indents(signatory: str, date_text: str) -> tuple[float, float]:
    """Right indents, in characters, of the signatory and the date: the date is right-indented four
    characters and starts two characters right of the signatory; the signatory keeps at least two."""
    sig_w, date_w = text_width(signatory), text_width(date_text)
    date_rs = 4.0
    sig_rs = date_rs + date_w + 2 - sig_w
    if sig_rs < 2:
        sig_rs = 2.0
        date_rs = sig_rs + sig_w - 2 - date_w
    return sig_rs, max(date_rs, 0.0)


def authority_size(authority: str) -> float:
    """Point size of the authority mark: at most 42 pt, and never wider than the type area."""
    width_pt = TYPE_AREA_WIDTH_MM / 25.4 * 72
    return float(min(42.0, int(width_pt / max(text_width(authority), 1.0))))


def attachment_label(index: int, total: int) -> str:
    """ "附件" for a single attachment, "附件1", "附件2" … for several (8)."""
    return "附件" if total == 1 else f"附件{index + 1}"


# --- .docx ----------------------------------------------------------------------------------------------


def _font(run: Run, role: str, size: float, *, bold: bool = False, color: RGBColor | None = None) -> None:
    """Set ``run`` in the role's official font (East Asian text) and Times New Roman (Latin), at ``size``."""
    official = FONTS[role][0]
    run.font.name = LATIN
    run.font.size = Pt(size)
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    fonts.set(qn("w:eastAsia"), official)
    fonts.set(qn("w:hint"), "eastAsia")


def _para(
    doc: object,
    text: str = "",
    *,
    role: str = "fangsong",
    size: float = SIZE_3,
    align: WD_ALIGN_PARAGRAPH | None = None,
    first_indent_chars: float = 0,
    left_indent_chars: float = 0,
    right_indent_chars: float = 0,
    color: RGBColor | None = None,
    pitch: float = LINE_PITCH,
    bold: bool = False,
) -> Paragraph:
    p: Paragraph = doc.add_paragraph()  # type: ignore[attr-defined]
    fmt = p.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(pitch)
    if align is not None:
        p.alignment = align
    if first_indent_chars:
        fmt.first_line_indent = Pt(first_indent_chars * CHAR)
    if left_indent_chars:
        fmt.left_indent = Pt(left_indent_chars * CHAR)
    if right_indent_chars:
        fmt.right_indent = Pt(right_indent_chars * CHAR)
    if text:
        _font(p.add_run(text), role, size, color=color, bold=bold)
    return p


def _border(p: Paragraph, side: str, *, color: str, size_eighths: int, space_pt: int) -> None:
    """A rule above/below a paragraph (``side`` "top" or "bottom"), ``size_eighths`` in eighths of a point."""
    ppr = p._p.get_or_add_pPr()
    bdr = ppr.find(qn("w:pBdr"))
    if bdr is None:
        bdr = OxmlElement("w:pBdr")
        ppr.append(bdr)
    line = OxmlElement(f"w:{side}")
    line.set(qn("w:val"), "single")
    line.set(qn("w:sz"), str(size_eighths))
    line.set(qn("w:space"), str(space_pt))
    line.set(qn("w:color"), color)
    bdr.append(line)


def _page_field(p: Paragraph) -> None:
    """ "— N —" with N the PAGE field, in 4号宋体 (7.5)."""
    _font(p.add_run("— "), "songti", SIZE_4)
    run = p.add_run()
    _font(run, "songti", SIZE_4)
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        if kind is not None:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run._element.append(fld)
        elif text == " PAGE ":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._element.append(instr)
        else:
            t = OxmlElement("w:t")
            t.text = text
            run._element.append(t)
    _font(p.add_run(" —"), "songti", SIZE_4)


def _font_table_fallbacks(document: object) -> None:
    """List each official font in the document's font table with its Noto CJK ``altName``."""
    from lxml import etree

    package = document.part.package  # type: ignore[attr-defined]
    part = next((p for p in package.iter_parts() if str(p.partname) == "/word/fontTable.xml"), None)
    if part is None:
        return
    root = etree.fromstring(part.blob)
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    present = {f.get(f"{{{w}}}name") for f in root.findall(f"{{{w}}}font")}
    for official, fallback in FONTS.values():
        if official in present:
            continue
        font = etree.SubElement(root, f"{{{w}}}font")
        font.set(f"{{{w}}}name", official)
        alt = etree.SubElement(font, f"{{{w}}}altName")
        alt.set(f"{{{w}}}val", fallback)
        charset = etree.SubElement(font, f"{{{w}}}charset")
        charset.set(f"{{{w}}}val", "86")  # GB2312
        family = etree.SubElement(font, f"{{{w}}}family")
        family.set(f"{{{w}}}val", "modern" if "Sans" in fallback else "roman")
        present.add(official)
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _cell_text(cell: object, text: str, *, role: str, size: float, align: WD_ALIGN_PARAGRAPH) -> None:
    p: Paragraph = cell.paragraphs[0]  # type: ignore[attr-defined]
    p.alignment = align
    fmt = p.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(size * 1.5)
    _font(p.add_run(text), role, size)


def official_docx(doc: OfficialDocument) -> bytes:
    """The document as .docx bytes (see the module docstring for the layout)."""
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(28) - Mm(7)  # page number 7 mm below the type area (7.5)
    normal = document.styles["Normal"]
    normal.font.name = LATIN
    normal.font.size = Pt(SIZE_3)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONTS["fangsong"][0])
    document.settings.odd_and_even_pages_header_footer = True
    odd = section.footer.paragraphs[0]
    odd.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    odd.paragraph_format.right_indent = Pt(SIZE_4)
    _page_field(odd)
    even = section.even_page_footer.paragraphs[0]
    even.alignment = WD_ALIGN_PARAGRAPH.LEFT
    even.paragraph_format.left_indent = Pt(SIZE_4)
    _page_field(even)
    first = document.paragraphs[0] if document.paragraphs else None
    if first is not None:  # the template's empty first paragraph
        first._element.getparent().remove(first._element)

    # 版头: authority mark (red 小标宋), document number, red separator line.
    size = authority_size(doc.authority)
    mark = _para(
        document,
        doc.authority,
        role="xiaobiaosong",
        size=size,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        color=RED,
        pitch=size * 1.2,
    )
    mark.paragraph_format.space_before = Mm(35) - Pt(size * 0.2)
    _para(document)
    _para(document)
    number = _para(document, doc.doc_number, align=WD_ALIGN_PARAGRAPH.CENTER)
    _border(number, "bottom", color="FF0000", size_eighths=8, space_pt=11)  # 4 mm ≈ 11 pt below
    _para(document)
    _para(document)
    # 主体: title, main recipients, body, attachment note, signatory, date.
    _para(document, doc.title, role="xiaobiaosong", size=SIZE_2, align=WD_ALIGN_PARAGRAPH.CENTER, pitch=36)
    _para(document)
    if doc.main_recipients:
        _para(document, doc.main_recipients.rstrip("：:") + "：")
    for text in doc.body:
        text = text.strip()
        if not text:
            continue
        role = "heiti" if _HEADING_1.match(text) else "kaiti" if _HEADING_2.match(text) else "fangsong"
        _para(document, text, role=role, first_indent_chars=2)
    if doc.attachments:
        _para(document)
        if len(doc.attachments) == 1:
            _para(document, f"附件：{doc.attachments[0].title}", left_indent_chars=2)
        else:
            for i, att in enumerate(doc.attachments):
                prefix = "附件：" if i == 0 else ""
                _para(document, f"{prefix}{i + 1}. {att.title}", left_indent_chars=2 if i == 0 else 5)
    date_text = chinese_date(doc.issued_on)
    sig_rs, date_rs = signature_indents(doc.signatory, date_text)
    _para(document)
    _para(document)
    _para(document, doc.signatory, align=WD_ALIGN_PARAGRAPH.RIGHT, right_indent_chars=sig_rs)
    _para(document, date_text, align=WD_ALIGN_PARAGRAPH.RIGHT, right_indent_chars=date_rs)

    # 附件: each on a new page.
    for i, att in enumerate(doc.attachments):
        brk = _para(document)
        brk.add_run().add_break(WD_BREAK.PAGE)
        _para(document, attachment_label(i, len(doc.attachments)), role="heiti")
        _para(document)
        _para(
            document, att.title, role="xiaobiaosong", size=SIZE_2, align=WD_ALIGN_PARAGRAPH.CENTER, pitch=36
        )
        _para(document)
        table = document.add_table(rows=1, cols=len(att.headers))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        widths = att.widths_mm or [TYPE_AREA_WIDTH_MM / len(att.headers)] * len(att.headers)
        for j, header in enumerate(att.headers):
            cell = table.rows[0].cells[j]
            cell.width = Mm(widths[j])
            _cell_text(cell, header, role="heiti", size=SIZE_S4, align=WD_ALIGN_PARAGRAPH.CENTER)
        for row in att.rows:
            cells = table.add_row().cells
            for j, value in enumerate(row):
                cells[j].width = Mm(widths[j])
                align = WD_ALIGN_PARAGRAPH.LEFT if len(value) > 8 else WD_ALIGN_PARAGRAPH.CENTER
                _cell_text(cells[j], value, role="fangsong", size=SIZE_S4, align=align)
        # repeat the header row on every page
        trpr = table.rows[0]._tr.get_or_add_trPr()
        header_flag = OxmlElement("w:tblHeader")
        header_flag.set(qn("w:val"), "true")
        trpr.append(header_flag)

    # 版记: 抄送, 印发机关和印发日期, between rules (7.4).
    if doc.printer or doc.copy_to:
        _para(document)
        if doc.copy_to:
            cc = _para(document, f"抄送：{doc.copy_to.rstrip('。')}。", size=SIZE_4, left_indent_chars=0.5)
            _border(cc, "top", color="000000", size_eighths=8, space_pt=4)
        printed = _para(document, size=SIZE_4)
        printed.paragraph_format.left_indent = Pt(SIZE_4)
        printed.paragraph_format.right_indent = Pt(SIZE_4)
        printed.paragraph_format.tab_stops.add_tab_stop(
            Mm(TYPE_AREA_WIDTH_MM) - Pt(2 * SIZE_4), alignment=2
        )  # right tab
        _font(printed.add_run(f"{doc.printer or doc.signatory}\t{date_text}印发"), "fangsong", SIZE_4)
        if not doc.copy_to:
            _border(printed, "top", color="000000", size_eighths=8, space_pt=4)
        _border(printed, "bottom", color="000000", size_eighths=8, space_pt=4)
    _font_table_fallbacks(document)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --- HTML / PDF ------------------------------------------------------------------------------------------


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def official_html(doc: OfficialDocument) -> str:
    """The document as print HTML for WeasyPrint (A4, the standard's margins, odd/even page numbers)."""
    fs, xbs, ht, kt, st = (css_family(r) for r in ("fangsong", "xiaobiaosong", "heiti", "kaiti", "songti"))
    size = authority_size(doc.authority)
    date_text = chinese_date(doc.issued_on)
    sig_rs, date_rs = signature_indents(doc.signatory, date_text)
    body_html = []
    for text in doc.body:
        text = text.strip()
        if not text:
            continue
        cls = "h1" if _HEADING_1.match(text) else "h2" if _HEADING_2.match(text) else ""
        body_html.append(f'<p class="para {cls}">{_esc(text)}</p>')
    att_note = ""
    if doc.attachments:
        if len(doc.attachments) == 1:
            att_note = f'<p class="att-note">附件：{_esc(doc.attachments[0].title)}</p>'
        else:
            items = "".join(
                f'<p class="att-note{" more" if i else ""}">'
                f"{'附件：' if i == 0 else ''}{i + 1}. {_esc(a.title)}</p>"
                for i, a in enumerate(doc.attachments)
            )
            att_note = items
    attachments = []
    for i, att in enumerate(doc.attachments):
        widths = att.widths_mm or [TYPE_AREA_WIDTH_MM / len(att.headers)] * len(att.headers)
        cols = "".join(f'<col style="width:{w}mm">' for w in widths)
        head = "".join(f"<th>{_esc(h)}</th>" for h in att.headers)
        rows = "".join(
            "<tr>"
            + "".join(f'<td class="{"l" if len(v) > 8 else "c"}">{_esc(v)}</td>' for v in row)
            + "</tr>"
            for row in att.rows
        )
        attachments.append(
            f'<section class="attachment">'
            f'<p class="att-label">{attachment_label(i, len(doc.attachments))}</p>'
            f'<h2 class="att-title">{_esc(att.title)}</h2>'
            f"<table><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
            f"</section>"
        )
    colophon = ""
    if doc.printer or doc.copy_to:
        cc = f'<p class="cc">抄送：{_esc(doc.copy_to.rstrip("。"))}。</p>' if doc.copy_to else ""
        colophon = (
            f'<div class="colophon">{cc}<p class="printed"><span>{_esc(doc.printer or doc.signatory)}</span>'
            f"<span>{_esc(date_text)}印发</span></p></div>"
        )
    recipients = (
        f'<p class="recipients">{_esc(doc.main_recipients.rstrip("：:"))}：</p>'
        if doc.main_recipients
        else ""
    )
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{_esc(doc.title)}</title>
<style>
@page {{ size: A4; margin: 37mm 26mm 35mm 28mm; }}
@page :right {{ @bottom-right {{ content: "— " counter(page) " —"; font-family: {st}; font-size: 14pt;
  margin-right: 14pt; vertical-align: top; padding-top: 7mm; }} }}
@page :left {{ @bottom-left {{ content: "— " counter(page) " —"; font-family: {st}; font-size: 14pt;
  margin-left: 14pt; vertical-align: top; padding-top: 7mm; }} }}
html {{ font-family: {fs}; font-size: 16pt; line-height: {LINE_PITCH}pt; color: #000; }}
body {{ margin: 0; }}
p {{ margin: 0; }}
.authority {{ font-family: {xbs}; color: #f00; font-size: {size}pt; line-height: {size * 1.2}pt;
  text-align: center;
  margin-top: 35mm; letter-spacing: 0.05em; }}
.docno {{ text-align: center; margin-top: {2 * LINE_PITCH}pt; padding-bottom: 4mm;
  border-bottom: 1px solid #f00; }}
.title {{ font-family: {xbs}; font-size: 22pt; line-height: 36pt; text-align: center; font-weight: normal;
  margin: {2 * LINE_PITCH}pt 0 {LINE_PITCH}pt; }}
.para {{ text-indent: 2em; text-align: justify; }}
.h1 {{ font-family: {ht}; }}
.h2 {{ font-family: {kt}; }}
.att-note {{ margin-top: {LINE_PITCH}pt; padding-left: 2em; }}
.att-note.more {{ margin-top: 0; padding-left: 5em; }}
.signatory {{ text-align: right; margin-top: {2 * LINE_PITCH}pt; padding-right: {sig_rs}em; }}
.date {{ text-align: right; padding-right: {date_rs}em; }}
.attachment {{ break-before: page; }}
.att-label {{ font-family: {ht}; }}
.att-title {{ font-family: {xbs}; font-size: 22pt; line-height: 36pt; text-align: center; font-weight: normal;
  margin: {LINE_PITCH}pt 0; }}
table {{ border-collapse: collapse; width: 100%; font-size: 12pt; line-height: 18pt; table-layout: fixed; }}
thead {{ display: table-header-group; }}
th {{ font-family: {ht}; font-weight: normal; }}
th, td {{ border: 0.5pt solid #000; padding: 2pt 3pt; vertical-align: middle; }}
td.c {{ text-align: center; }}
tr {{ break-inside: avoid; }}
.colophon {{ margin-top: {LINE_PITCH}pt; font-size: 14pt; border-top: 1px solid #000;
  border-bottom: 1px solid #000; }}
.colophon .cc {{ padding: 0 1em; border-bottom: 0.5px solid #000; }}
.printed {{ display: flex; justify-content: space-between; padding: 0 1em; }}
</style></head><body>
<p class="authority">{_esc(doc.authority)}</p>
<p class="docno">{_esc(doc.doc_number)}</p>
<h1 class="title">{_esc(doc.title)}</h1>
{recipients}
{"".join(body_html)}
{att_note}
<p class="signatory">{_esc(doc.signatory)}</p>
<p class="date">{_esc(date_text)}</p>
{"".join(attachments)}
{colophon}
</body></html>"""


def official_pdf(doc: OfficialDocument) -> bytes:
    """The document as PDF bytes (WeasyPrint; the Noto CJK fonts supply the glyphs on a Debian server)."""
    from weasyprint import HTML

    return bytes(HTML(string=official_html(doc)).write_pdf())
