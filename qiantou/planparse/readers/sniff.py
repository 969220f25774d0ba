"""Type detection from content: zip parts, OLE2 streams, ``%PDF``, RTF, MHT, HTML tags, text."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import PurePath

__all__ = ["Sniffed", "sniff"]

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _u16(name: str) -> bytes:
    return name.encode("utf-16-le")


@dataclass
class Sniffed:
    """What the bytes are. ``kind`` is a reader name or ``unknown``; ``detail`` a human label."""

    kind: str  # docx | xlsx | doc | xls | rtf | pdf | html | mht | txt | encrypted-office | unsupported
    detail: str = ""
    warnings: list[str] = field(default_factory=list)


_HTML_RE = re.compile(
    rb"<\s*(?:!doctype\s+html|html|head|body|meta|title|p|div|table|br|span)[\s>/]", re.IGNORECASE
)

_EXT_KIND = {
    ".docx": "docx",
    ".docm": "docx",
    ".dotx": "docx",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".doc": "doc",
    ".wps": "doc",
    ".dot": "doc",
    ".xls": "xls",
    ".et": "xls",
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
    ".shtml": "html",
    ".xhtml": "html",
    ".txt": "txt",
    ".text": "txt",
    ".rtf": "rtf",
    ".mht": "mht",
    ".mhtml": "mht",
}

_LABELS = {
    "docx": "Word 文档（.docx）",
    "xlsx": "Excel 工作簿（.xlsx）",
    "doc": "Word 97-2003 文档（.doc）",
    "xls": "Excel 97-2003 工作簿（.xls）",
    "pdf": "PDF 文件",
    "html": "网页（HTML）",
    "txt": "文本文件",
    "rtf": "RTF 文档",
    "mht": "单个文件网页（MHT）",
}


def label(kind: str) -> str:
    """Chinese label of a kind, for messages."""
    return _LABELS.get(kind, kind)


def extension_kind(filename: str) -> str | None:
    """The kind the file name's extension claims, or None."""
    return _EXT_KIND.get(PurePath(filename).suffix.lower())


def _zip_kind(data: bytes) -> Sniffed:
    try:
        with zipfile.ZipFile(BytesIO(data)) as zf:
            names = set(zf.namelist())
            ctypes = ""
            if "[Content_Types].xml" in names:
                ctypes = zf.read("[Content_Types].xml")[:200_000].decode("utf-8", "replace")
            mimetype = ""
            if "mimetype" in names:
                mimetype = zf.read("mimetype")[:200].decode("ascii", "replace")
    except Exception:  # corrupt zip: decided by extension later, reader reports the damage
        return Sniffed("corrupt-zip")
    if "word/document.xml" in names or "wordprocessingml.document.main" in ctypes:
        return Sniffed("docx")
    if "xl/workbook.xml" in names or "spreadsheetml.sheet.main" in ctypes:
        return Sniffed("xlsx")
    if "ppt/presentation.xml" in names:
        return Sniffed("unsupported", "PowerPoint 演示文稿")
    if mimetype.startswith("application/vnd.oasis.opendocument.text"):
        return Sniffed("odt", "OpenDocument 文本（.odt）")
    if mimetype.startswith("application/vnd.oasis.opendocument.spreadsheet"):
        return Sniffed("ods", "OpenDocument 表格（.ods）")
    if mimetype.startswith("application/epub"):
        return Sniffed("unsupported", "EPUB 电子书")
    return Sniffed("unsupported", "ZIP 压缩包（不是 Word 或 Excel 文档）")


def _ole_kind(data: bytes) -> Sniffed:
    # Directory entries store stream names in UTF-16LE; a scan is enough to tell the application.
    if _u16("EncryptedPackage") in data or _u16("EncryptionInfo") in data:
        return Sniffed("encrypted-office", "加密的 Office 文档")
    if _u16("WordDocument") in data:
        return Sniffed("doc")
    if _u16("Workbook") in data or _u16("Book") in data:
        return Sniffed("xls")
    if _u16("PowerPoint Document") in data:
        return Sniffed("unsupported", "PowerPoint 97-2003 演示文稿")
    return Sniffed("unsupported", "无法识别的 OLE 复合文档")


def _looks_binary(head: bytes) -> bool:
    if not head:
        return False
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False  # UTF-16 text
    if head.count(0):
        even = head[0::2].count(0)
        odd = head[1::2].count(0)
        # UTF-16 without BOM: the NULs (high bytes of ASCII characters) sit on one side only
        # (a CJK character such as U+4E00 一 puts an occasional NUL on the other side)
        return not (max(even, odd) >= 2 and min(even, odd) * 4 < max(even, odd))
    controls = sum(1 for b in head if b < 0x20 and b not in (9, 10, 12, 13, 27))
    return controls > len(head) * 0.05


def sniff(data: bytes, filename: str) -> Sniffed:
    """Detect the type of ``data`` from its content; the extension only breaks ties.

    A mismatch between content and extension adds a warning (the content wins).
    """
    head = data[:4096]
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        found = _zip_kind(data)
        if found.kind == "corrupt-zip":
            ext = extension_kind(filename)
            found = Sniffed(ext if ext in ("docx", "xlsx") else "docx")
            found.detail = "corrupt"
    elif data.startswith(OLE2_MAGIC):
        found = _ole_kind(data)
    elif b"%PDF-" in head[:1024]:
        found = Sniffed("pdf")
    elif stripped.startswith(b"{\\rtf"):
        found = Sniffed("rtf")
    elif re.match(rb"(?is)(?:[\w-]+:[^\n]*\r?\n)*?mime-version:", stripped[:2048]) and re.search(
        rb"(?i)content-type:\s*multipart/related", head
    ):
        found = Sniffed("mht")
    elif _looks_binary(head):
        found = Sniffed("unsupported", "无法识别的二进制文件")
    else:
        text_head = _ascii_view(head)
        found = Sniffed("html") if _HTML_RE.search(text_head) else Sniffed("txt")
    ext = extension_kind(filename)
    if found.kind in _LABELS and ext is not None and ext != found.kind:
        found.warnings.append(f"文件扩展名表示{label(ext)}，但内容是{label(found.kind)}，已按实际内容读取")
    return found


def _ascii_view(head: bytes) -> bytes:
    """Head bytes with UTF-16 NULs removed, so tag detection works on UTF-16 HTML too."""
    if (
        head.startswith((b"\xff\xfe", b"\xfe\xff"))
        or head[1:400:2].count(0) > 50
        or head[0:400:2].count(0) > 50
    ):
        return head.replace(b"\x00", b"")
    return head
