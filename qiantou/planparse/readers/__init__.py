"""Readers: the bytes of a published plan → :class:`~qiantou.planparse.document.SourceDocument`.

Entry point :func:`read_document`. The type is sniffed from the content (zip parts, OLE2 streams,
``%PDF``, HTML tags, text), not only from the extension; the text is repaired
(:mod:`qiantou.planparse.repair`); bad input raises
:class:`~qiantou.planparse.document.PlanFileError` with a Chinese reason.
"""

from __future__ import annotations

from qiantou.planparse.document import PlanFileError, SourceDocument
from qiantou.planparse.readers.textfile import read_text

__all__ = ["read_document"]


def read_document(data: bytes, filename: str) -> SourceDocument:
    """Read one published plan.

    ``data`` is the whole file, ``filename`` its name as uploaded (used for messages and as a hint).
    Returns blocks in reading order. Raises :class:`PlanFileError` for empty, unsupported, corrupt,
    encrypted, scanned or oversized files.
    """
    if not data:
        raise PlanFileError(filename, "文件为空")
    blocks, encoding = read_text(data, filename)
    return SourceDocument(filename=filename, kind="txt", blocks=list(blocks), encoding=encoding)
