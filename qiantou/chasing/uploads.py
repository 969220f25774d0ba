"""Checking uploaded files: size limit and a type sniffed from the content, not the name.

Accepted: PDF, OFD, Word/Excel/PowerPoint (OOXML and the old binary formats), WPS, images (PNG, JPEG),
plain text and CSV. Refused with a message naming the file: executables and scripts, HTML/SVG, archives
that are not office documents, anything unrecognised, and files whose extension claims another type
than their content.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass

from django.conf import settings

from qiantou.errors import QiantouError

DEFAULT_MAX_BYTES = 20 * 1024 * 1024

#: kind → (label, extensions that may carry it)
ALLOWED: dict[str, tuple[str, tuple[str, ...]]] = {
    "pdf": ("PDF 文档", (".pdf",)),
    "ofd": ("OFD 版式文档", (".ofd",)),
    "docx": ("Word 文档", (".docx", ".wps")),
    "xlsx": ("Excel 表格", (".xlsx", ".et")),
    "pptx": ("PowerPoint 演示文稿", (".pptx", ".dps")),
    "ole": ("Office 97–2003 文档", (".doc", ".xls", ".ppt", ".wps", ".et", ".dps")),
    "png": ("PNG 图片", (".png",)),
    "jpeg": ("JPEG 图片", (".jpg", ".jpeg")),
    "text": ("文本文件", (".txt", ".csv", ".md", "")),
}


#: kind → the content type a stored file of that kind is served with (always as an attachment).
CONTENT_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "ofd": "application/ofd",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "text": "text/plain",
}


def content_type(kind: str) -> str:
    """The content type to serve a stored file of ``kind`` with (unknown kinds: octet-stream)."""
    return CONTENT_TYPES.get(kind, "application/octet-stream")


class UploadRejected(QiantouError):
    """An upload was refused; the message names the file and the reason."""


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed the checks."""

    name: str
    kind: str
    label: str
    data: bytes


def max_upload_bytes() -> int:
    """The size limit for one attachment (``QIANTOU_CHASING_MAX_UPLOAD_BYTES``, default 20 MB)."""
    return int(
        getattr(settings, "QIANTOU_CHASING_MAX_UPLOAD_BYTES", 0)
        or os.environ.get("QIANTOU_CHASING_MAX_UPLOAD_BYTES", DEFAULT_MAX_BYTES)
    )


def _forbidden(data: bytes) -> str | None:
    head = data[:512]
    stripped = head.lstrip().lower()
    if head.startswith(b"MZ"):
        return "Windows 可执行程序"
    if head.startswith(b"\x7fELF"):
        return "Linux 可执行程序"
    if head[:4] in (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe"):
        return "macOS 可执行程序"
    if head.startswith(b"#!"):
        return "脚本"
    if (
        stripped.startswith((b"<!doctype html", b"<html", b"<script", b"<svg", b"<?xml"))
        or b"<script" in stripped
    ):
        return "网页/脚本（HTML、SVG 或 XML）"
    if head.startswith((b"Rar!", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b", b"BZh")):
        return "压缩包"
    return None


def _zip_kind(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError):
        return None
    if "OFD.xml" in names:
        return "ofd"
    if "[Content_Types].xml" in names:
        if any(n.startswith("word/") for n in names):
            return "docx"
        if any(n.startswith("xl/") for n in names):
            return "xlsx"
        if any(n.startswith("ppt/") for n in names):
            return "pptx"
    return None


def _is_text(data: bytes) -> bool:
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    sample = data[:65536]
    for encoding in ("utf-8-sig", "utf-16", "gb18030"):
        try:
            sample.decode(encoding)
        except UnicodeDecodeError:
            # a sample cut mid-character: retry without the last few bytes
            try:
                sample[:-4].decode(encoding)
            except UnicodeDecodeError:
                continue
        return True
    return False


def sniff(data: bytes) -> str | None:
    """The kind of ``data`` from its first bytes (a key of :data:`ALLOWED`), or None when unknown."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if _is_text(data):
        return "text"
    return None


def check_upload(name: str, data: bytes, *, max_bytes: int | None = None) -> CheckedFile:
    """Check one upload; raises :class:`UploadRejected` with a message naming the file and the reason."""
    name = os.path.basename(name or "").strip() or "未命名文件"
    limit = max_bytes if max_bytes is not None else max_upload_bytes()
    if len(data) > limit:
        raise UploadRejected(
            f"文件“{name}”大小为 {len(data) / 1048576:.1f} MB，超过上限 {limit / 1048576:.0f} MB，未上传。"
        )
    if not data:
        raise UploadRejected(f"文件“{name}”是空文件，未上传。")
    bad = _forbidden(data)
    if bad:
        raise UploadRejected(f"不允许上传文件“{name}”：内容识别为{bad}，出于安全原因拒收。")
    kind = sniff(data)
    if kind is None:
        raise UploadRejected(
            f"不允许上传文件“{name}”：无法识别的文件类型。可上传 PDF、OFD、Word、Excel、PowerPoint、WPS、"
            "PNG/JPEG 图片或文本文件。"
        )
    label, extensions = ALLOWED[kind]
    ext = os.path.splitext(name)[1].lower()
    if ext not in extensions:
        suffixes = "、".join(e for e in extensions if e)
        raise UploadRejected(
            f"文件“{name}”的扩展名与内容不符：内容是{label}，请使用正确的扩展名（{suffixes}）。"
        )
    return CheckedFile(name=name, kind=kind, label=label, data=data)
