"""Plan parsing: published task-division plans (Word, Excel, PDF, HTML, text) → tasks.

Pure Python, no Django. Two stages meet at :class:`~qiantou.planparse.document.SourceDocument`:

* ``readers`` turn bytes into a ``SourceDocument`` (type sniffed from content, encodings and
  mojibake repaired, page noise removed, tables with merged cells filled);
* ``parser`` turns a ``SourceDocument`` into a :class:`~qiantou.planparse.document.ParsedPlan`
  (numbering tree, attributions, lead rule, deadlines).
"""

from __future__ import annotations

from qiantou.planparse.document import ParsedPlan, PlanFileError, SourceDocument

__all__ = ["ParsedPlan", "PlanFileError", "SourceDocument", "parse_document", "parse_file"]


def parse_document(doc: SourceDocument, *, year: int | None = None) -> ParsedPlan:
    """Parse a read document into a :class:`ParsedPlan` (see :mod:`qiantou.planparse.parser`)."""
    from qiantou.planparse.parser import parse_document as _parse

    return _parse(doc, year=year)


def parse_file(data: bytes, filename: str, *, year: int | None = None) -> ParsedPlan:
    """Read and parse one published plan file. Raises :class:`PlanFileError` for a file it cannot read."""
    from qiantou.planparse.readers import read_document

    return parse_document(read_document(data, filename), year=year)
