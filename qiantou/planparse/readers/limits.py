"""Size limits and safe zip access for uploaded plans (oversized files, zip bombs, corrupt archives)."""

from __future__ import annotations

import io
import zipfile
from typing import BinaryIO

from qiantou.planparse.document import PlanFileError

__all__ = [
    "DEFAULT_MAX_UPLOAD_BYTES",
    "MAX_ZIP_MEMBERS",
    "MAX_ZIP_UNCOMPRESSED_BYTES",
    "check_size",
    "max_upload_bytes",
    "open_zip",
    "read_limited",
]

DEFAULT_MAX_UPLOAD_BYTES = 60 * 1024 * 1024
MAX_ZIP_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_ZIP_MEMBERS = 20_000
_CHUNK = 1024 * 1024


def max_upload_bytes() -> int:
    """``settings.QIANTOU_MAX_UPLOAD_BYTES`` when Django is configured, else 60 MB."""
    try:
        from django.conf import settings

        if settings.configured:
            return int(getattr(settings, "QIANTOU_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))
    except ImportError:  # pragma: no cover - Django is a dependency
        pass
    return DEFAULT_MAX_UPLOAD_BYTES


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB"


def check_size(size: int, filename: str) -> None:
    """Raise :class:`PlanFileError` when ``size`` bytes exceed the upload limit (or the file is empty)."""
    if size <= 0:
        raise PlanFileError(filename, "文件为空")
    limit = max_upload_bytes()
    if size > limit:
        raise PlanFileError(filename, f"文件过大（{_mb(size)}），超过上限 {_mb(limit)}")


def read_limited(stream: BinaryIO, filename: str, size: int | None = None) -> bytes:
    """Read a whole upload, refusing it as soon as it passes the limit (never reads a 200 MB file fully).

    ``size`` (e.g. ``UploadedFile.size`` or ``os.stat``) lets an oversized file be refused before reading.
    """
    limit = max_upload_bytes()
    if size is not None:
        check_size(size, filename)
    buf = io.BytesIO()
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            break
        buf.write(chunk)
        if buf.tell() > limit:
            raise PlanFileError(filename, f"文件过大，超过上限 {_mb(limit)}")
    data = buf.getvalue()
    if not data:
        raise PlanFileError(filename, "文件为空")
    return data


def open_zip(data: bytes, filename: str, what: str) -> zipfile.ZipFile:
    """Open an Office zip container after checking it is not a zip bomb.

    Checks the member count and the declared uncompressed sizes against
    :data:`MAX_ZIP_UNCOMPRESSED_BYTES`, then decompresses every member in chunks and stops as soon as
    the actual output passes the cap (declared sizes can lie). ``what`` names the type for messages
    (``Word 文档``). Raises :class:`PlanFileError` for a corrupt, truncated or oversized archive.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise PlanFileError(filename, f"{what}已损坏或不完整，无法打开（{type(exc).__name__}）") from exc
    if len(infos) > MAX_ZIP_MEMBERS:
        raise PlanFileError(filename, f"{what}内部文件过多（{len(infos)} 个），拒绝处理")
    declared = sum(i.file_size for i in infos)
    cap = MAX_ZIP_UNCOMPRESSED_BYTES
    if declared > cap:
        raise PlanFileError(filename, f"{what}解压后过大（{_mb(declared)}，上限 {_mb(cap)}），疑似压缩炸弹")
    if any(i.flag_bits & 0x1 for i in infos):
        raise PlanFileError(filename, f"{what}已加密，请先取消密码保护")
    total = 0
    try:
        for info in infos:
            with zf.open(info) as member:
                while True:
                    chunk = member.read(_CHUNK)
                    if not chunk:
                        break
                    total += len(chunk)
                    if total > cap:
                        raise PlanFileError(filename, f"{what}解压后超过 {_mb(cap)}，疑似压缩炸弹，拒绝处理")
    except PlanFileError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise PlanFileError(filename, f"{what}已损坏或不完整（{type(exc).__name__}）") from exc
    except Exception as exc:  # zlib.error and friends
        raise PlanFileError(filename, f"{what}已损坏或不完整（{type(exc).__name__}）") from exc
    return zf
