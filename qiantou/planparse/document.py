"""The shapes exchanged between the readers, the parser and the importer."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Literal

_CODE_RE = re.compile(r"^[a-z][a-z_]*：")


def warning_text(warning: str) -> str:
    """A parser warning as a person reads it: ``"odd_unit_name：“X”不像单位名称"`` → ``"“X”不像单位名称"``.

    The parser prefixes its warnings (and the lead rule) with a code for programs (``qiantou parse
    --json``); what the import stores and shows to people is the Chinese explanation only.
    """
    return _CODE_RE.sub("", warning, count=1)


class PlanFileError(Exception):
    """A file that cannot be read as a plan. ``str(error)`` names the file and the reason, in Chinese."""

    def __init__(self, filename: str, reason: str) -> None:
        super().__init__(f"{filename}：{reason}")
        self.filename = filename
        self.reason = reason


@dataclass(slots=True)
class Paragraph:
    """One paragraph (a line of a text file, a <p> of HTML, a Word paragraph)."""

    text: str
    style: str | None = None  # e.g. Word style name or HTML tag, when known


@dataclass(slots=True)
class Table:
    """A table with merged cells filled in: ``rows[r][c]`` is the cell's text.

    ``merged[r][c]`` is True when that cell continues a vertical or horizontal merge started above
    or to the left (its text repeats the origin's). ``sheet`` names the Excel sheet, if any.
    """

    rows: list[list[str]]
    merged: list[list[bool]] = field(default_factory=list)
    sheet: str | None = None


Block = Paragraph | Table


@dataclass
class SourceDocument:
    """What a reader produces: blocks in reading order plus what it learnt about the file."""

    filename: str
    kind: Literal["docx", "doc", "xlsx", "xls", "pdf", "html", "txt"]
    blocks: list[Block]
    encoding: str | None = None
    traditional: bool = False  # the text was traditional script and has been converted
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Deadline:
    """A deadline as printed plus what it means (immutable: one object is shared by the tasks that
    print the same time limit).

    ``kind``: date | range | recurring | open_ended | relative | none. ``date`` is the resolved due
    date (end of a range), ``start`` a range's start; ``rule`` a recurring/relative rule such as
    ``{"every": "month", "day": 28}`` or ``{"anchor": "测评反馈", "working_days": 15}``.
    """

    text: str | None
    kind: str = "none"
    date: dt.date | None = None
    start: dt.date | None = None
    rule: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ParsedTask:
    """One task. Unit names are simplified script without pinyin, in printed order."""

    no: str | None
    path: str
    text: str
    lead_units: list[str]
    cooperating_units: list[str]
    generic_units: list[str] = field(default_factory=list)
    deadline: Deadline = field(default_factory=lambda: Deadline(text=None))
    warnings: list[str] = field(default_factory=list)
    parent_no: str | None = None
    source_excerpt: str = ""  # the source text the task was read from, as printed (import preview)


@dataclass
class ParsedPlan:
    """The parser's result; :meth:`as_json` is the ``qiantou parse --json`` object."""

    title: str
    doc_number: str | None
    lead_rule: str | None
    tasks: list[ParsedTask]
    warnings: list[str] = field(default_factory=list)
    year: int | None = None

    def as_json(self) -> dict[str, Any]:
        """The JSON shape promised by ``qiantou parse --json``."""
        return {
            "title": self.title,
            "doc_number": self.doc_number,
            "lead_rule": self.lead_rule,
            "tasks": [
                {
                    "no": t.no,
                    "path": t.path,
                    "text": t.text,
                    "lead_units": t.lead_units,
                    "cooperating_units": t.cooperating_units,
                    "generic_units": t.generic_units,
                    "deadline_text": t.deadline.text,
                    "deadline": {
                        "kind": t.deadline.kind,
                        "date": t.deadline.date.isoformat() if t.deadline.date else None,
                        "start": t.deadline.start.isoformat() if t.deadline.start else None,
                        "rule": t.deadline.rule or None,
                    },
                    "warnings": t.warnings,
                }
                for t in self.tasks
            ],
            "warnings": self.warnings,
        }
