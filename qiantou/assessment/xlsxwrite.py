"""A small streaming .xlsx writer for one styled table (the ledger): SpreadsheetML written directly.

openpyxl builds a cell object per value and registers its style; for a 20,000-row ledger that is most of
the export time. A table with a fixed set of cell styles needs none of that: each row is one string of
``<c>`` elements with a style index and an inline string, a number or a date serial. The package holds
what Excel, WPS and openpyxl expect (ECMA-376 Part 1): content types, relationships, core properties,
workbook, styles and one worksheet with frozen panes, column widths and an autofilter.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

_EPOCH = dt.date(1899, 12, 30)
#: Characters XML 1.0 cannot hold (they would make the file unreadable).
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Style:
    """A cell style: font (name, size, bold), fill (RGB hex or ""), border, alignment, number format."""

    font: str = "宋体"
    size: float = 10.5
    bold: bool = False
    fill: str = ""
    border: bool = True
    horizontal: str = ""
    wrap: bool = False
    number_format: str = ""


def column_letter(index: int) -> str:
    """1 → A, 27 → AA."""
    out = ""
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def _text(value: str) -> str:
    return escape(_BAD_XML.sub("", value))


class TableWorkbook:
    """One worksheet: a title row, a header row, data rows; styles are chosen by index per cell."""

    def __init__(self, sheet_name: str, styles: Sequence[Style], widths: Sequence[float]) -> None:
        self.sheet_name = sheet_name
        self.styles = list(styles)
        self.widths = list(widths)
        self._rows: list[str] = []

    def add_row(self, cells: Iterable[tuple[object, int]]) -> None:
        """Append a row of ``(value, style index)``: str, int/float, date/datetime or None."""
        r = len(self._rows) + 1
        parts = [f'<row r="{r}">']
        for c, (value, style) in enumerate(cells, start=1):
            ref = f"{column_letter(c)}{r}"
            s = style + 1  # index 0 is the workbook's default style
            if value is None or value == "":
                parts.append(f'<c r="{ref}" s="{s}"/>')
            elif isinstance(value, bool):
                parts.append(f'<c r="{ref}" s="{s}" t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, (int, float)):
                parts.append(f'<c r="{ref}" s="{s}"><v>{value}</v></c>')
            elif isinstance(value, dt.date):
                day = value.date() if isinstance(value, dt.datetime) else value
                parts.append(f'<c r="{ref}" s="{s}"><v>{(day - _EPOCH).days}</v></c>')
            else:
                # Inline strings are never formulas, whatever they start with (no formula injection).
                parts.append(
                    f'<c r="{ref}" s="{s}" t="inlineStr"><is><t xml:space="preserve">'
                    f"{_text(str(value))}</t></is></c>"
                )
        parts.append("</row>")
        self._rows.append("".join(parts))

    def _styles_xml(self) -> str:
        fonts = [("宋体", 11.0, False)]
        fills = ["", "gray125"]
        formats: list[str] = []
        xfs = ['<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>']
        for st in self.styles:
            key = (st.font, st.size, st.bold)
            if key not in fonts:
                fonts.append(key)
            if st.fill and st.fill not in fills:
                fills.append(st.fill)
            if st.number_format and st.number_format not in formats:
                formats.append(st.number_format)
        for st in self.styles:
            font_id = fonts.index((st.font, st.size, st.bold))
            fill_id = fills.index(st.fill) if st.fill else 0
            fmt_id = 164 + formats.index(st.number_format) if st.number_format else 0
            align = ""
            if st.horizontal or st.wrap:
                attrs = ' vertical="top"'
                if st.horizontal:
                    attrs += f' horizontal="{st.horizontal}"'
                if st.wrap:
                    attrs += ' wrapText="1"'
                align = f"<alignment{attrs}/>"
            else:
                align = '<alignment vertical="top"/>'
            xfs.append(
                f'<xf numFmtId="{fmt_id}" fontId="{font_id}" fillId="{fill_id}" '
                f'borderId="{1 if st.border else 0}" xfId="0" applyNumberFormat="{int(bool(fmt_id))}" '
                f'applyFont="1" applyFill="{int(bool(fill_id))}" '
                f'applyBorder="{int(st.border)}" applyAlignment="1">{align}</xf>'
            )
        font_xml = "".join(
            f'<font>{"<b/>" if bold else ""}<sz val="{size}"/><name val="{escape(name)}"/>'
            '<charset val="134"/></font>'
            for name, size, bold in fonts
        )
        fill_xml = (
            '<fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
        )
        fill_xml += "".join(
            f'<fill><patternFill patternType="solid"><fgColor rgb="FF{f}"/><bgColor indexed="64"/>'
            "</patternFill></fill>"
            for f in fills[2:]
        )
        side = '<{0} style="thin"><color rgb="FF999999"/></{0}>'
        border_xml = (
            "<border><left/><right/><top/><bottom/><diagonal/></border><border>"
            + "".join(side.format(s) for s in ("left", "right", "top", "bottom"))
            + "<diagonal/></border>"
        )
        fmt_xml = "".join(
            f'<numFmt numFmtId="{164 + i}" formatCode="{escape(f, {chr(34): "&quot;"})}"/>'
            for i, f in enumerate(formats)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<numFmts count="{len(formats)}">{fmt_xml}</numFmts>'
            f'<fonts count="{len(fonts)}">{font_xml}</fonts>'
            f'<fills count="{len(fills)}">{fill_xml}</fills>'
            f'<borders count="2">{border_xml}</borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>"
        )

    def save(
        self, *, freeze_row: int, filter_row: int, columns: int, title: str = "", created: dt.datetime
    ) -> bytes:
        """The package as bytes: panes frozen below ``freeze_row``, an autofilter from ``filter_row`` down."""
        last = column_letter(columns)
        n = len(self._rows)
        cols = "".join(
            f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
            for i, w in enumerate(self.widths, start=1)
        )
        sheet_head = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<dimension ref="A1:{last}{max(n, 1)}"/>'
            '<sheetViews><sheetView workbookViewId="0" tabSelected="1">'
            f'<pane ySplit="{freeze_row}" topLeftCell="A{freeze_row + 1}" activePane="bottomLeft" '
            'state="frozen"/>'
            f'<selection pane="bottomLeft" activeCell="A{freeze_row + 1}" sqref="A{freeze_row + 1}"/>'
            "</sheetView></sheetViews>"
            '<sheetFormatPr defaultRowHeight="15"/>'
            f"<cols>{cols}</cols><sheetData>"
        )
        sheet_tail = f'</sheetData><autoFilter ref="A{filter_row}:{last}{max(n, filter_row)}"/></worksheet>'
        name = escape(self.sheet_name, {'"': "&quot;"})
        filter_ref = f"'{self.sheet_name}'!$A${filter_row}:${last}${max(n, filter_row)}"
        workbook = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            "<bookViews><workbookView/></bookViews>"
            f'<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets>'
            f'<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
            f"{escape(filter_ref)}</definedName></definedNames></workbook>"
        )
        stamp = created.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        core = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            "<cp:coreProperties "
            'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:title>{_text(title)}</dc:title><dc:creator>Qiantou</dc:creator>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified></cp:coreProperties>'
        )
        ct = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/docProps/core.xml" '
            'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/></Types>'
        )
        rels = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" '
            'Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
            'Target="docProps/core.xml"/></Relationships>'
        )
        wb_rels = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
            'Target="styles.xml"/></Relationships>'
        )
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            zf.writestr("[Content_Types].xml", ct)
            zf.writestr("_rels/.rels", rels)
            zf.writestr("docProps/core.xml", core)
            zf.writestr("xl/workbook.xml", workbook)
            zf.writestr("xl/_rels/workbook.xml.rels", wb_rels)
            zf.writestr("xl/styles.xml", self._styles_xml())
            with zf.open("xl/worksheets/sheet1.xml", "w") as fh:
                fh.write(sheet_head.encode())
                for start in range(0, n, 2000):
                    fh.write("".join(self._rows[start : start + 2000]).encode())
                fh.write(sheet_tail.encode())
        return out.getvalue()
