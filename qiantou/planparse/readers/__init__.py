"""Readers: the bytes of a published plan → :class:`~qiantou.planparse.document.SourceDocument`.

Entry point :func:`read_document` (and :func:`read_upload` / :func:`read_path` that refuse an
oversized file before reading it). The type is sniffed from the content — zip parts (docx/xlsx),
OLE2 streams (doc/xls), ``%PDF``, RTF, MHT, HTML tags, text — not only from the extension; a
mismatch is read by content with a warning. Legacy formats go through LibreOffice headless. The text
is then repaired (:func:`qiantou.planparse.repair.repair_document`: mojibake, pinyin, traditional
script, variant characters, page noise). Bad input raises
:class:`~qiantou.planparse.document.PlanFileError` with a Chinese reason, never another exception.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import BinaryIO

from qiantou.planparse.document import Block, PlanFileError, SourceDocument
from qiantou.planparse.readers.limits import check_size, read_limited
from qiantou.planparse.readers.sniff import sniff

__all__ = ["read_document", "read_path", "read_upload"]

log = logging.getLogger(__name__)

_SUPPORTED = "请上传 Word（.docx/.doc）、Excel（.xlsx/.xls）、PDF、网页（.html）或文本（.txt）文件"


def read_document(data: bytes, filename: str, *, repair: bool = True) -> SourceDocument:
    """Read one published plan.

    ``data`` is the whole file, ``filename`` its name as uploaded (for messages, and as a hint only).
    Returns the blocks (paragraphs and tables, merged cells filled) in reading order, repaired unless
    ``repair=False``. Raises :class:`PlanFileError` for an empty, oversized, unsupported, corrupt,
    encrypted or scanned file, or a zip bomb.
    """
    check_size(len(data), filename)
    try:
        doc = _read(data, filename)
    except PlanFileError:
        raise
    except MemoryError as exc:
        raise PlanFileError(filename, "文件内容过大，无法处理") from exc
    except Exception as exc:
        log.warning("unexpected error reading %s", filename, exc_info=True)
        raise PlanFileError(filename, f"文件无法读取，可能已损坏（{type(exc).__name__}）") from exc
    if repair:
        from qiantou.planparse.repair import repair_document

        repair_document(doc)
    if not any(_has_text(b) for b in doc.blocks):
        raise PlanFileError(filename, "文件中没有可读取的文字")
    return doc


def read_upload(stream: BinaryIO, filename: str, size: int | None = None) -> SourceDocument:
    """Read an uploaded file object; ``size`` (e.g. ``UploadedFile.size``) refuses a big file unread."""
    return read_document(read_limited(stream, filename, size), filename)


def read_path(path: str | os.PathLike[str]) -> SourceDocument:
    """Read a file from disk, refusing it by its size before reading when it is too large."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise PlanFileError(p.name, "文件不存在或无法访问") from exc
    check_size(size, p.name)
    with p.open("rb") as fh:
        return read_upload(fh, p.name, size)


def _has_text(block: Block) -> bool:
    from qiantou.planparse.document import Paragraph

    if isinstance(block, Paragraph):
        return bool(block.text.strip())
    return any(cell.strip() for row in block.rows for cell in row)


def _read(data: bytes, filename: str) -> SourceDocument:
    found = sniff(data, filename)
    warnings = list(found.warnings)
    kind = found.kind
    if kind == "txt":
        from qiantou.planparse.readers.textfile import read_text

        paragraphs, encoding = read_text(data, filename)
        _check_text(paragraphs, filename)
        return SourceDocument(filename, "txt", list(paragraphs), encoding=encoding, warnings=warnings)
    if kind in ("html", "mht"):
        from qiantou.planparse.readers.htmlpage import read_html

        if kind == "mht":
            from qiantou.planparse.readers.legacy import mht_html

            html_bytes, charset = mht_html(data, filename)
            if charset and b"charset" not in html_bytes[:4096].lower():
                html_bytes = f'<meta charset="{charset}">'.encode("ascii") + html_bytes
            data = html_bytes
        blocks, encoding, notes = read_html(data, filename)
        return SourceDocument(filename, "html", blocks, encoding=encoding, warnings=warnings + notes)
    if kind == "docx":
        from qiantou.planparse.readers.word import read_docx

        return SourceDocument(filename, "docx", read_docx(data, filename), warnings=warnings)
    if kind == "xlsx":
        from qiantou.planparse.readers.excel import read_xlsx

        tables, notes = read_xlsx(data, filename)
        return SourceDocument(filename, "xlsx", list(tables), warnings=warnings + notes)
    if kind in ("doc", "rtf", "odt"):
        from qiantou.planparse.readers.legacy import convert_with_soffice
        from qiantou.planparse.readers.word import read_docx

        ext = {"doc": ".doc", "rtf": ".rtf", "odt": ".odt"}[kind]
        what = {"doc": "Word 97-2003 文档", "rtf": "RTF 文档", "odt": "OpenDocument 文本"}[kind]
        converted = convert_with_soffice(data, filename, ext, "docx", what)
        if kind != "doc":
            warnings.append(f"{what}已通过 LibreOffice 转换后读取")
        return SourceDocument(
            filename, "doc" if kind != "odt" else "docx", read_docx(converted, filename), warnings=warnings
        )
    if kind in ("xls", "ods"):
        from qiantou.planparse.readers.excel import read_xlsx
        from qiantou.planparse.readers.legacy import convert_with_soffice

        what = "Excel 97-2003 工作簿" if kind == "xls" else "OpenDocument 表格"
        converted = convert_with_soffice(data, filename, "." + kind, "xlsx", what)
        tables, notes = read_xlsx(converted, filename)
        return SourceDocument(
            filename, "xls" if kind == "xls" else "xlsx", list(tables), warnings=warnings + notes
        )
    if kind == "pdf":
        from qiantou.planparse.readers.pdffile import read_pdf

        blocks, notes = read_pdf(data, filename)
        return SourceDocument(filename, "pdf", blocks, warnings=warnings + notes)
    if kind == "encrypted-office":
        raise PlanFileError(filename, "Office 文档设置了打开密码，请取消密码保护后再上传")
    detail = found.detail or "未知类型"
    raise PlanFileError(filename, f"不支持的文件类型（{detail}），{_SUPPORTED}")


def _check_text(paragraphs: list, filename: str) -> None:  # type: ignore[type-arg]
    text = "".join(p.text for p in paragraphs[:2000])[:20000]
    if not text.strip():
        raise PlanFileError(filename, "文件中没有可读取的文字")
    bad = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\t\n\r\f") or ch == "\ufffd")
    if bad > max(20, len(text) * 0.1):
        raise PlanFileError(
            filename, f"不支持的文件类型（无法识别的内容，不是文本也不是支持的文档格式），{_SUPPORTED}"
        )
