"""Tabular documents: .xlsx workbooks (openpyxl) and a .docx with a title, paragraphs and a table.

Used for the disposition statement (征求意见采纳情况说明), the version diff and similar lists. Headers are
bold, columns sized to their content (CJK characters count double), the header row is frozen.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from qiantou.documents.official import SIZE_2, SIZE_S4, _font

#: Characters that would make a spreadsheet program read a cell as a formula (CSV/XLSX injection).
_FORMULA_START = ("=", "+", "-", "@")


@dataclass
class Sheet:
    """One worksheet: a name (≤ 31 characters), a header row, rows of cell values, optional title lines."""

    name: str
    headers: list[str]
    rows: list[list[object]]
    title_lines: list[str] = field(default_factory=list)


def _width(value: object) -> int:
    text = "" if value is None else str(value)
    longest = max(
        (sum(2 if ord(c) > 127 else 1 for c in line) for line in text.splitlines() or [""]), default=0
    )
    return longest


def xlsx_bytes(sheets: list[Sheet]) -> bytes:
    """A workbook with one worksheet per :class:`Sheet`, as .xlsx bytes."""
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="EEEEEE")
    wrap = Alignment(wrap_text=True, vertical="top")
    for sheet in sheets:
        ws = wb.create_sheet(title=sheet.name[:31])
        for line in sheet.title_lines:
            ws.append([line])
            ws.cell(row=ws.max_row, column=1).font = bold
        header_row = ws.max_row + 1 if sheet.title_lines else 1
        ws.append(sheet.headers)
        for cell in ws[header_row]:
            cell.font = bold
            cell.fill = fill
        for row in sheet.rows:
            ws.append(list(row))
            for cell in ws[ws.max_row]:
                # Text that starts like a formula stays text (no formula injection from a comment).
                if isinstance(cell.value, str) and cell.value.startswith(_FORMULA_START):
                    cell.data_type = "s"
        for col, header in enumerate(sheet.headers, start=1):
            widest = max([_width(header), *(_width(r[col - 1]) for r in sheet.rows if len(r) >= col)])
            ws.column_dimensions[get_column_letter(col)].width = min(max(widest + 2, 8), 60)
            for r in range(header_row + 1, ws.max_row + 1):
                ws.cell(row=r, column=col).alignment = wrap
        ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@dataclass
class TableDocument:
    """A titled document: paragraphs before the table, the table, paragraphs after it."""

    title: str
    headers: list[str]
    rows: list[list[str]]
    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    widths_mm: list[float] | None = None
    landscape: bool = True


def table_docx(doc: TableDocument) -> bytes:
    """The document as .docx bytes: A4 (landscape by default), title in 小标宋, text in 仿宋, table grid."""
    document = Document()
    section = document.sections[0]
    if doc.landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Mm(297), Mm(210)
    else:
        section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(20)
    section.top_margin = section.bottom_margin = Mm(20)
    title = document.paragraphs[0] if document.paragraphs else document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(title.add_run(doc.title), "xiaobiaosong", SIZE_2)
    for text in doc.before:
        p = document.add_paragraph()
        p.paragraph_format.first_line_indent = Pt(2 * 14)
        _font(p.add_run(text), "fangsong", 14)
    table = document.add_table(rows=1, cols=len(doc.headers))
    table.style = "Table Grid"
    for j, header in enumerate(doc.headers):
        cell = table.rows[0].cells[j]
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        _font(cell.paragraphs[0].add_run(header), "heiti", SIZE_S4)
    for row in doc.rows:
        cells = table.add_row().cells
        for j, value in enumerate(row):
            _font(cells[j].paragraphs[0].add_run(str(value)), "fangsong", SIZE_S4)
    if doc.widths_mm:
        for r in table.rows:
            for j, width in enumerate(doc.widths_mm):
                r.cells[j].width = Mm(width)
    for text in doc.after:
        p = document.add_paragraph()
        p.paragraph_format.first_line_indent = Pt(2 * 14)
        _font(p.add_run(text), "fangsong", 14)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
