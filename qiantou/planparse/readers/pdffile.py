"""PDF → blocks with pdfplumber: text lines outside tables, tables with spans filled.

Repeated page headers/footers (the same line at the top or bottom of several pages) and page numbers
(``— 3 —``, ``第3页 共5页``, ``3/5``) are removed; lines wrapped at the right margin are joined;
a table continued on the next page is joined to the previous one (a repeated header row dropped).
A PDF without a text layer (a scan) or one that cannot be decrypted raises :class:`PlanFileError`.
"""

from __future__ import annotations

import io
import logging
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from qiantou.planparse.document import Block, Paragraph, PlanFileError, Table

__all__ = ["is_page_number", "read_pdf"]

log = logging.getLogger(__name__)

_PAGE_NO = re.compile(
    r"^\s*(?:[-—–－_·•]*\s*\d{1,4}\s*[-—–－_·•]*"
    r"|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?"
    r"|\d{1,4}\s*/\s*\d{1,4}"
    r"|[Pp]age\s*\d{1,4}(?:\s*of\s*\d{1,4})?)\s*$"
)
_CJK = r"\u3400-\u9fff\u3000-\u303f\uff00-\uffef"
_AUTOSPACE = re.compile(rf"(?<=[{_CJK}])[ \t]+(?=[0-9A-Za-z%])|(?<=[0-9A-Za-z%])[ \t]+(?=[{_CJK}])")
_CJK_SPACE = re.compile(rf"(?<=[{_CJK}])[ \t]+(?=[{_CJK}])")
_LIST_START = re.compile(
    r"^\s*(?:[（(]?[一二三四五六七八九十百]+[）)、．.]|[（(]\d+[）)]|\d+[.、．]|[①-⑳]|附件|[一二三四五六七八九十]+是)"
)


def is_page_number(line: str) -> bool:
    """True for a line that is only a page number (``— 2 —``, ``- 2 -``, ``第2页``, ``2/5``, ``12``)."""
    return bool(_PAGE_NO.match(line))


def _clean(text: str) -> str:
    text = _AUTOSPACE.sub("", text)
    return _CJK_SPACE.sub("", text).strip()


@dataclass
class _Line:
    text: str
    top: float
    x0: float
    x1: float


@dataclass
class _Item:
    top: float
    line: _Line | None = None
    table: Table | None = None


def _table_grid(table: Any) -> Table:
    """A pdfplumber table with spanned positions filled from the cell that covers them."""
    texts = table.extract()
    rows_meta = table.rows
    ncols = max((len(r.cells) for r in rows_meta), default=0)
    col_x: list[tuple[float, float] | None] = [None] * ncols
    for r in rows_meta:
        for c, bbox in enumerate(r.cells):
            if bbox is not None and col_x[c] is None:
                col_x[c] = (bbox[0], bbox[2])
    origins: list[tuple[tuple[float, float, float, float], int, int]] = []
    rows: list[list[str]] = []
    merged: list[list[bool]] = []
    for r, meta in enumerate(rows_meta):
        out: list[str] = []
        mrow: list[bool] = []
        for c in range(ncols):
            bbox = meta.cells[c] if c < len(meta.cells) else None
            if bbox is not None:
                raw = texts[r][c] if r < len(texts) and c < len(texts[r]) else None
                text = _join_cell_lines("\n".join(_clean(x) for x in (raw or "").splitlines()))
                origins.append((bbox, r, c))
                out.append(text)
                mrow.append(False)
                continue
            xs = col_x[c]
            cx = (xs[0] + xs[1]) / 2 if xs else meta.bbox[0]
            cy = (meta.bbox[1] + meta.bbox[3]) / 2
            cover = next(
                (o for o in reversed(origins) if o[0][0] <= cx <= o[0][2] and o[0][1] <= cy <= o[0][3]),
                None,
            )
            out.append(
                rows[cover[1]][cover[2]]
                if cover and cover[1] < len(rows)
                else (out[cover[2]] if cover else "")
            )
            mrow.append(cover is not None)
        rows.append(out)
        merged.append(mrow)
    return Table(rows=rows, merged=merged)


def _join_cell_lines(text: str) -> str:
    """Lines inside a PDF cell are wrap points, not separators: join them (CJK needs no space)."""
    lines = [line for line in text.split("\n") if line.strip()]
    out = ""
    for line in lines:
        if out and re.search(r"[A-Za-z0-9]$", out) and re.match(r"[A-Za-z0-9]", line):
            out += " "
        out += line
    return out


def read_pdf(data: bytes, filename: str) -> tuple[list[Block], list[str]]:
    """Blocks of a PDF's text layer plus warnings.

    Raises :class:`PlanFileError` for an encrypted PDF that cannot be opened, a damaged file, or a
    PDF without text (a scan: "请提供带文字层的 PDF 或先做文字识别").
    """
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfplumber.utils.exceptions import PdfminerException

    notes: list[str] = []
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise PlanFileError(filename, "PDF 已加密，无法读取，请提供未加密的版本") from exc
    except PdfminerException as exc:
        inner = exc.args[0] if exc.args else exc
        if isinstance(inner, PDFPasswordIncorrect | PDFEncryptionError) or "password" in str(inner).lower():
            raise PlanFileError(filename, "PDF 已加密，无法读取，请提供未加密的版本") from exc
        raise PlanFileError(filename, f"PDF 文件已损坏或不完整（{type(inner).__name__}）") from exc
    except Exception as exc:
        raise PlanFileError(filename, f"PDF 文件已损坏或不完整（{type(exc).__name__}）") from exc
    pages: list[list[_Item]] = []
    char_count = 0
    image_pages = 0
    try:
        with pdf:
            if len(pdf.pages) > 2000:
                raise PlanFileError(filename, f"PDF 页数过多（{len(pdf.pages)} 页）")
            for page in pdf.pages:
                char_count += len(page.chars)
                if page.images:
                    image_pages += 1
                pages.append(_page_items(page))
                page.flush_cache()
    except PlanFileError:
        raise
    except Exception as exc:
        log.info("pdf read failed", exc_info=True)
        raise PlanFileError(filename, f"PDF 文件已损坏或不完整（{type(exc).__name__}）") from exc
    if char_count == 0:
        if image_pages:
            raise PlanFileError(
                filename, "PDF 没有文字层（可能是扫描件），请提供带文字层的 PDF 或先做文字识别（OCR）"
            )
        raise PlanFileError(filename, "PDF 中没有可读取的文字")
    _drop_running_lines(pages, notes)
    return _assemble(pages), notes


def _page_items(page: Any) -> list[_Item]:
    tables = page.find_tables()
    bboxes = [t.bbox for t in tables]

    def outside(obj: dict[str, Any]) -> bool:
        if obj.get("object_type") != "char":
            return True
        cx = (obj["x0"] + obj["x1"]) / 2
        cy = (obj["top"] + obj["bottom"]) / 2
        return not any(b[0] <= cx <= b[2] and b[1] <= cy <= b[3] for b in bboxes)

    items: list[_Item] = []
    filtered = page.filter(outside) if bboxes else page
    for line in filtered.extract_text_lines(return_chars=False):
        text = _clean(line["text"])
        if text:
            items.append(_Item(top=line["top"], line=_Line(text, line["top"], line["x0"], line["x1"])))
    for t in tables:
        grid = _table_grid(t)
        if any(any(c for c in row) for row in grid.rows):
            items.append(_Item(top=t.bbox[1], table=grid))
    items.sort(key=lambda it: it.top)
    return items


def _norm_running(text: str) -> str:
    return re.sub(r"\d+", "#", text.replace(" ", ""))


def _drop_running_lines(pages: list[list[_Item]], notes: list[str]) -> None:
    """Remove page numbers and lines repeated at the top/bottom of several pages."""
    edge = 2
    if len(pages) >= 2:
        counts: Counter[str] = Counter()
        for items in pages:
            lines = [it for it in items if it.line]
            seen = {_norm_running(it.line.text) for it in lines[:edge] + lines[-edge:] if it.line}
            counts.update(seen)
        running = {k for k, n in counts.items() if n >= 2 and n >= len(pages) / 2}
    else:
        running = set()
    removed = 0
    for items in pages:
        lines = [it for it in items if it.line]
        edges = {id(it) for it in lines[:edge] + lines[-edge:]}
        keep = []
        for it in items:
            if (
                it.line
                and id(it) in edges
                and (is_page_number(it.line.text) or _norm_running(it.line.text) in running)
            ):
                removed += 1
                continue
            keep.append(it)
        items[:] = keep
    if removed:
        notes.append(f"已移除 {removed} 行页眉、页脚或页码")


def _assemble(pages: list[list[_Item]]) -> list[Block]:
    blocks: list[Block] = []
    right_edge = max((it.line.x1 for items in pages for it in items if it.line), default=0.0)
    left_edge = min((it.line.x0 for items in pages for it in items if it.line), default=0.0)
    prev_line: _Line | None = None
    for page_no, items in enumerate(pages):
        for idx, it in enumerate(items):
            if it.table is not None:
                last = blocks[-1] if blocks else None
                continues = (
                    page_no > 0
                    and idx == 0
                    and isinstance(last, Table)
                    and last.rows
                    and it.table.rows
                    and len(last.rows[0]) == len(it.table.rows[0])
                )
                if continues and isinstance(last, Table):
                    rows, merged = it.table.rows, it.table.merged
                    if rows and rows[0] == last.rows[0]:
                        rows, merged = rows[1:], merged[1:]
                    last.rows.extend(rows)
                    last.merged.extend(merged)
                else:
                    blocks.append(it.table)
                prev_line = None
                continue
            assert it.line is not None
            line = it.line
            wrapped = (
                prev_line is not None
                and isinstance(blocks[-1], Paragraph)
                and prev_line.x1 >= right_edge - 14
                and line.x0 <= left_edge + 4
                and not _LIST_START.match(line.text)
            )
            last_block = blocks[-1] if blocks else None
            if wrapped and isinstance(last_block, Paragraph):
                last_block.text += line.text
            else:
                blocks.append(Paragraph(line.text))
            prev_line = line
    return blocks
