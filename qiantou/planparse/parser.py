"""SourceDocument → ParsedPlan: numbering tree, attributions, the document's lead rule, deadlines.

A task is a numbered item (or table row) that carries an attribution; headings, targets, guiding
principles, safeguards and notice text carry none and are not tasks. The attribution may sit in a
bracket of any kind (one item may hold several, each closing one task), in block lines after the
item (牵头单位：/配合单位：/完成时限：…), in a narrative clause (由X会同Y负责，…) or in table columns.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from qiantou.planparse.attribution import (
    UNIT_SUFFIXES,
    Attribution,
    assign_roles,
    bracket_groups,
    find_lead_rule,
    is_unit_like,
    parse_attribution,
    parse_fields,
    split_top,
    split_units,
    take_deadlines,
)
from qiantou.planparse.deadlines import find_deadline_in_text, looks_like_deadline, parse_deadline
from qiantou.planparse.document import Deadline, Paragraph, ParsedPlan, ParsedTask, SourceDocument, Table
from qiantou.planparse.numbering import Marker, match_marker
from qiantou.planparse.tables import Header, find_header, rebuild_text_tables, split_cell_lines
from qiantou.textnorm import is_mostly_traditional, strip_pinyin, to_simplified, to_simplified_text

__all__ = ["PlanParser", "parse_document"]

_PAGE_NOISE_RE = re.compile(
    r"^[—\-－–\s]*\d{1,3}[—\-－–\s]*$|^第\s*\d+\s*页(?:\s*[/,，]?\s*共\s*\d+\s*页)?$|^\d+\s*/\s*\d+$"
)
_DOC_NUMBER_RE = re.compile(
    r"[\u4e00-\u9fff]{1,12}[〔\[［(（【]\s*(?:19|20)\d{2}\s*[〕\]］)）】]\s*第?\s*\d{1,4}\s*号"
)
_SIGNING_DATE_RE = re.compile(r"\s*((?:19|20)\d{2})\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*")
_YEAR_RE = re.compile(r"((?:19|20)\d{2})\s*年")
# Deadlines before 2000 or this many years after the plan's year are misprints, not plans.
_FIRST_PLAUSIBLE_YEAR = 2000
_YEARS_AHEAD = 10
_YEAR_SPREAD = 5  # years the plan's year may lie before the most common year the text names


def _plausible_year(year: int) -> bool:
    return _FIRST_PLAUSIBLE_YEAR <= year <= dt.date.today().year + _YEARS_AHEAD


_CARRY_RE = re.compile(r"不再(?:单独|一一|逐项|另行|重复|逐一)?(?:列出|标注|列明|注明)")
_CARRY_UNITS_RE = re.compile(
    r"(?:均需|均须|均要|均由|都需|都要|需要|需由|需|须)(?P<units>[^，。；;,]+?)"
    r"(?:共同)?(?:抓好|负责|配合|参与|落实|推进|组织)"
    r"|(?P<units2>[^，。；;,]+?)(?:均为|均是|均作为|为)[^，。；;,]{0,10}?(?:配合|责任|参与|协同)(?:单位|部门)"
)
_PUNCT = " \u3000。.；;，,、"
_HEADING_WORDS = (
    "指导思想",
    "工作目标",
    "总体目标",
    "主要目标",
    "具体目标",
    "基本原则",
    "工作原则",
    "总体要求",
    "保障措施",
    "工作要求",
    "组织保障",
    "组织领导",
    "组织实施",
    "实施步骤",
    "工作步骤",
    "重点任务",
    "主要任务",
    "任务分工",
    "目标任务",
)


@dataclass(slots=True)
class _Item:
    """A numbered item (or an unnumbered paragraph that carries an attribution) being collected.

    ``parts`` are the item's text pieces (its first line after the number, then continuation lines);
    ``source`` the lines as printed (number and attribution lines included) for the import preview.
    """

    marker: Marker | None
    parts: list[str]
    path: str
    depth: int
    parent: _Item | None
    block_lines: list[str] = field(default_factory=list)
    implicit: tuple[str, ...] = ()
    source: list[str] = field(default_factory=list)
    # Whether the text so far holds an attribution, and the text from its last unclosed bracket: a
    # continuation line is checked together with that tail only, not the whole text again (which was
    # quadratic on long unnumbered passages).
    attributed: bool = False
    open_tail: str = ""

    @property
    def text(self) -> str:
        return self.parts[0] if len(self.parts) == 1 else "".join(self.parts)

    def release(self) -> None:
        """Drop the collected text once the item's tasks are made (it may stay on the stack as a parent)."""
        self.parts.clear()
        self.block_lines.clear()
        self.source.clear()
        self.open_tail = ""

    @property
    def no(self) -> str | None:
        return self.marker.no if self.marker else None

    @property
    def kind(self) -> str | None:
        return self.marker.kind if self.marker else None


class PlanParser:
    """Parse one :class:`SourceDocument`; :meth:`parse` returns the :class:`ParsedPlan`.

    After parsing, :attr:`aliases` maps alias names defined in the document (以下统称…, 以下简称…) to the
    full names they stand for, for the resolver.
    """

    def __init__(self, doc: SourceDocument, *, year: int | None = None) -> None:
        self.doc = doc
        self.blocks = self._prepare(doc)
        # No joined copy of the whole text: on a 50 MB plan that alone is ~35 MB; scan the blocks.
        self.year = year or self._infer_year()
        self.issue_date = self._issue_date()
        rule = next((r for r in map(find_lead_rule, self._block_texts()) if r), None)
        self.lead_rule_text = rule
        self.first_listed = rule is not None
        self.aliases: dict[str, str] = {}
        self.warnings: list[str] = []
        self.tasks: list[ParsedTask] = []
        # Per task (same order as self.tasks): its item's parent, and the kinds of items that made
        # tasks, for _set_parents. Not the items themselves: that would keep every item's text alive.
        self._task_parents: list[_Item | None] = []
        self._task_kinds: set[str | None] = set()
        self._shared: dict[str, str] = {}
        self._stack: list[_Item] = []
        self._current: _Item | None = None
        self._implicit: list[str] = []
        self._paths: Counter[str] = Counter()
        self._last_header: Header | None = None
        self._last_width = 0

    # --- preparation ---------------------------------------------------------------------------

    @staticmethod
    def _prepare(doc: SourceDocument) -> list[Paragraph | Table]:
        """Split multi-line paragraphs, undo leftover traditional script/pinyin, rebuild text tables."""
        texts: list[str] = []
        for b in doc.blocks:
            if isinstance(b, Paragraph):
                texts.append(b.text)
            else:
                texts.extend(c for row in b.rows for c in row)
        sample = "".join(texts)[:20000]
        convert = not doc.traditional and is_mostly_traditional(sample, threshold=0.05)

        def fix(text: str) -> str:
            text = strip_pinyin(text)
            return to_simplified_text(text) if convert else text

        blocks: list[Paragraph | Table] = []
        for b in doc.blocks:
            if isinstance(b, Paragraph):
                fixed = fix(b.text)
                if fixed is b.text and "\n" not in fixed:
                    blocks.append(b)  # unchanged: share the reader's block (memory on large plans)
                    continue
                for line in fixed.split("\n"):
                    blocks.append(Paragraph(line, b.style))
            else:
                rows = [[fix(c or "") for c in row] for row in b.rows]
                blocks.append(Table(rows=rows, merged=b.merged, sheet=b.sheet))
        return list(rebuild_text_tables(list(blocks)))

    def _block_texts(self) -> Iterator[str]:
        for b in self.blocks:
            if isinstance(b, Paragraph):
                yield b.text
            else:
                yield from (" ".join(row) for row in b.rows)

    def _head_text(self, limit: int = 3000) -> str:
        """The first ``limit`` characters of the document's text (title area, notice, doc number)."""
        parts: list[str] = []
        size = 0
        for text in self._block_texts():
            parts.append(text)
            size += len(text) + 1
            if size >= limit:
                break
        return "\n".join(parts)[:limit]

    def _infer_year(self) -> int | None:
        """The plan's year: in the title, else the document number, else the signing date, else the
        years the text names: the earliest of those near the most common one (plans look forward, so
        later years are deadlines; a stray 1900年 or 2099年 is an outlier, not the plan's year)."""
        title = self._title()
        m = re.search(r"((?:19|20)\d{2})\s*(?:年|[—\-－–~～至])", title)
        if m and _plausible_year(int(m.group(1))):
            return int(m.group(1))
        m = next(filter(None, map(_DOC_NUMBER_RE.search, self._block_texts())), None)
        if m:
            y = re.search(r"(?:19|20)\d{2}", m.group(0))
            if y and _plausible_year(int(y.group(0))):
                return int(y.group(0))
        signed = self._issue_date()
        if signed is not None:
            return signed.year
        counts: Counter[int] = Counter()
        for text in self._block_texts():
            counts.update(int(y) for y in _YEAR_RE.findall(text))
        plausible = Counter({y: n for y, n in counts.items() if _plausible_year(y)}) or counts
        if not plausible:
            return None
        common = plausible.most_common(1)[0][0]
        return min(y for y in plausible if abs(y - common) <= _YEAR_SPREAD)

    def _issue_date(self) -> dt.date | None:
        """The signing date printed on a line of its own (2026年3月15日), if any."""
        for text in self._block_texts():
            m = _SIGNING_DATE_RE.fullmatch(text)
            if m:
                d = re.findall(r"\d+", m.group(0))
                try:
                    return dt.date(int(d[0]), int(d[1]), int(d[2]))
                except ValueError:
                    continue
        return None

    def _title(self) -> str:
        paras = [b.text.strip() for b in self.blocks[:40] if isinstance(b, Paragraph) and b.text.strip()]
        tables = [b for b in self.blocks[:5] if isinstance(b, Table)]
        candidates = [
            p for p in paras if len(p) <= 80 and not match_marker(p) and not _DOC_NUMBER_RE.fullmatch(p)
        ]
        for t in tables:
            if t.rows and t.rows[0] and len(set(c for c in t.rows[0] if c)) == 1:
                candidates.append(t.rows[0][0].strip())
        for p in candidates:
            if re.search(r"关于印发|的通知|[。，,；;]", p):
                continue
            if re.search(r"分工|方案|清单|台账|任务|要点|分解|计划|措施", p) and not p.endswith(("：", ":")):
                return p
        for p in candidates:
            m = re.search(r"关于印发(.+?)的通知", p)
            if m:
                return m.group(1).strip("《》")
        return candidates[0] if candidates else self.doc.filename

    # --- the walk ------------------------------------------------------------------------------

    def parse(self) -> ParsedPlan:
        """Walk the blocks in reading order and return the plan."""
        for block in self.blocks:
            if isinstance(block, Table):
                self._table(block)
            else:
                self._paragraph(block.text)
        self._close_item()
        self._set_parents()
        doc_number = _DOC_NUMBER_RE.search(self._head_text())
        lead_rule = f"first_listed：{self.lead_rule_text}" if self.lead_rule_text else None
        if not self.tasks:
            self.warnings.append("no_tasks：没有找到任务（带牵头单位或责任单位的条目），请核对文件")
        return ParsedPlan(
            title=self._title(),
            doc_number=re.sub(r"\s+", "", doc_number.group(0)) if doc_number else None,
            lead_rule=lead_rule,
            tasks=self.tasks,
            warnings=list(self.doc.warnings) + self.warnings,
            year=self.year,
        )

    def _paragraph(self, raw: str) -> None:
        line = raw.strip().strip("\u3000\ufeff")
        if not line or _PAGE_NOISE_RE.match(line):
            return
        fields = parse_fields(line)
        if fields and fields[0][0] != "":
            if self._current is not None:
                self._current.block_lines.append(line)
                self._current.source.append(line)
            return
        marker = match_marker(line)
        if _CARRY_RE.search(line) and not marker:
            units = self._carry_units(line)
            if units:
                self._implicit = units
                return
        if marker:
            self._close_item()
            self._open_item(marker, line[marker.end :].strip(), line)
            return
        cur = self._current
        if cur is not None and not cur.block_lines and not cur.attributed:
            if not self._heading_like(cur.parts) or self._attribution_only(line):
                # The item's text (or its attribution) goes on in the next paragraph.
                cur.parts.append(line)
                cur.source.append(line)
                self._note_text(cur, cur.open_tail + line)
                return
        if self._has_attribution(line) and not self._is_notice(line):
            # An unnumbered paragraph with its own attribution is a task whose number is missing
            # (destroyed by mojibake, or never printed).
            self._close_item()
            parent = self._stack[-1] if self._stack else None
            depth = parent.depth + 1 if parent else 0
            item = _Item(
                None,
                [line],
                self._unique_path((parent.path + "." if parent else "") + "0"),
                depth,
                parent,
                implicit=tuple(self._implicit),
                source=[line],
            )
            self._note_text(item, line)
            self._current = item

    def _note_text(self, item: _Item, text: str) -> None:
        """Record whether ``text`` (new text of ``item``, after its open tail) holds an attribution."""
        item.attributed = item.attributed or self._has_attribution(text)
        groups = bracket_groups(text)
        item.open_tail = text[groups[-1].start :] if groups and not groups[-1].closed else ""

    def _open_item(self, marker: Marker, text: str, line: str) -> None:
        # The usual ladder 一、 → （一） → 1. → （1）: a kind seen before closes everything below it.
        while (
            self._stack
            and self._stack[-1].kind != marker.kind
            and any(i.kind == marker.kind for i in self._stack)
        ):
            self._stack.pop()
        if self._stack and self._stack[-1].kind == marker.kind:
            self._stack.pop()
        parent = self._stack[-1] if self._stack else None
        path = (parent.path + "." if parent else "") + str(marker.value)
        item = _Item(
            marker,
            [text],
            self._unique_path(path),
            len(self._stack),
            parent,
            implicit=tuple(self._implicit),
            source=[line],
        )
        self._note_text(item, text)
        self._stack.append(item)
        self._current = item

    def _unique_path(self, path: str) -> str:
        self._paths[path] += 1
        n = self._paths[path]
        return path if n == 1 else f"{path}-{n}"

    def _close_item(self) -> None:
        item = self._current
        self._current = None
        if item is None:
            return
        for task in self._item_tasks(item):
            self._task_parents.append(item.parent)
            self._task_kinds.add(item.kind)
            self.tasks.append(task)
        item.release()

    @staticmethod
    def _heading_like(parts: list[str]) -> bool:
        # A heading is short or starts with a heading word: look at the first 40 characters only, so
        # that a long passage is not joined again for every line added to it.
        head: list[str] = []
        size = 0
        for part in parts:
            head.append(part)
            size += len(part)
            if size > 40:
                return any("".join(head).strip().startswith(w) for w in _HEADING_WORDS)
        t = "".join(parts).strip()
        if any(t.startswith(w) for w in _HEADING_WORDS):
            return True
        return len(t) <= 30 and not re.search(r"[，,；;]", t)

    def _attribution_only(self, line: str) -> bool:
        """A paragraph that is nothing but an attribution bracket: （责任单位：市财政局）."""
        groups = bracket_groups(line)
        if len(groups) != 1 or groups[0].start != 0 or line[groups[0].end :].strip(" 。.；;"):
            return False
        return self._bracket_attr(line, groups[0]) is not None

    @staticmethod
    def _is_notice(line: str) -> bool:
        return bool(re.match(r"^(?:注|说明|备注|附件)[:：]", line))

    def _has_attribution(self, text: str) -> bool:
        return any(self._bracket_attr(text, g) is not None for g in bracket_groups(text))

    def _carry_units(self, line: str) -> list[str]:
        m = _CARRY_UNITS_RE.search(line)
        if not m:
            return []
        text = m.group("units") or m.group("units2") or ""
        units, _generic = split_units(text)
        return units if units and all(is_unit_like(u) for u in units) else []

    # --- attributions of one item --------------------------------------------------------------

    def _bracket_attr(self, text: str, group: object) -> Attribution | None:
        from qiantou.planparse.attribution import Group

        assert isinstance(group, Group)
        attr = parse_attribution(group.content)
        if attr is None:
            return None
        if not group.closed:
            attr.truncated = True
        if attr.bare:
            # A bare unit list in brackets only counts at the end of the item (…。（市财政局、市民政局）).
            after = text[group.end :].strip(" 。.；;，,\u3000")
            if after:
                return None
        if not attr.has_units:
            return None
        return attr

    def _item_tasks(self, item: _Item) -> list[ParsedTask]:
        text = item.text
        segments: list[tuple[str, Attribution]] = []
        start = 0
        pending_deadline: tuple[int, int, str] | None = None  # a bracket holding only a time
        for g in bracket_groups(text):
            attr = self._bracket_attr(text, g)
            if attr is None:
                content = g.content.strip()
                if g.closed and looks_like_deadline(content):
                    between = text[start : g.start].strip(_PUNCT)
                    if segments and not between and not segments[-1][1].deadline:
                        segments[-1][1].deadline = content  # （市财政局负责）（2024年底前）
                        start = g.end
                    else:
                        pending_deadline = (g.start, g.end, content)
                continue
            cut = g.start
            if pending_deadline is not None:
                # （2024年底前）（市财政局负责）: the time bracket right before belongs to the attribution.
                if not text[pending_deadline[1] : g.start].strip(_PUNCT):
                    attr.deadline = attr.deadline or pending_deadline[2]
                    cut = pending_deadline[0]
                pending_deadline = None
            segment = self._strip_nonattr(text[start:cut])
            if not segment.strip(" 。.；;，,") and segments:
                segments[-1][1].merge(attr)
            else:
                segments.append((segment, attr))
            start = g.end
        tail = text[start:].strip(" \u3000。.；;，,")
        if segments and tail:
            last_text, last_attr = segments[-1]
            segments[-1] = (last_text + text[start:], last_attr)
        if not segments:
            fields = parse_fields(text)
            if fields and fields[0][0] == "" and any(role in ("lead", "coop", "resp") for role, _v in fields):
                # "…。牵头单位：市财政局；配合单位：市民政局" printed in the item's own paragraph.
                key_start = self._first_key_start(text)
                attr = parse_attribution(text[key_start:])
                if attr is not None and attr.has_units:
                    segments.append((text[:key_start], attr))
        if not segments:
            attr = self._narrative_attr(text)
            if attr is not None:
                segments.append((text, attr))
        block = self._block_attr(item.block_lines)
        if block is not None:
            if segments:
                segments[-1][1].merge(block)
            else:
                segments.append((text, block))
        tasks = []
        for k, (segment, attr) in enumerate(segments):
            self.aliases.update(attr.aliases)
            seg_text = self._clean_text(segment)
            if attr.truncated:
                self.warnings.append(
                    f"truncated：第{item.no or '（无编号）'}项“{seg_text[:20]}”的责任单位在原文中被截断，"
                    "未导入该项，请核对原件"
                )
                continue
            if not (attr.leads or attr.responsible or attr.cooperating):
                continue
            path = item.path if k == 0 else f"{item.path}-{k + 1}"
            source = item.source[0] if len(item.source) == 1 else "\n".join(item.source)
            tasks.append(self._task(item.no, path, seg_text, attr, item.implicit, source=source))
        return tasks

    @staticmethod
    def _first_key_start(text: str) -> int:
        fields = parse_fields(text)
        pre = fields[0][1] if fields and fields[0][0] == "" else ""
        idx = text.find(pre) + len(pre) if pre else 0
        while idx < len(text) and text[idx] in " \u3000，,；;。":
            idx += 1
        return idx

    def _narrative_attr(self, text: str) -> Attribution | None:
        """由X会同Y负责，… at the start, or a closing sentence made only of an attribution."""
        pieces = [p for p in split_top(text, "，,；;。") if p.strip()]
        if pieces:
            first = pieces[0]
            if re.search(r"会同|牵头|负责|配合", first):
                attr = parse_attribution(first, strict=True)
                if attr is not None and (attr.explicit or first.lstrip().startswith("由")):
                    return attr
        sentences = [s for s in split_top(text, "。") if s.strip()]
        if len(sentences) >= 2:
            attr = parse_attribution(sentences[-1], strict=True)
            if attr is not None and (attr.explicit or self._plain_responsibility(attr)):
                return attr
        return None

    @staticmethod
    def _plain_responsibility(attr: Attribution) -> bool:
        """A closing sentence "X、Y负责" / "X按职责分工负责" with no lead marker: an attribution when
        every name ends like an organisation (not "各有关部门要…", which is an instruction)."""
        names = attr.responsible + attr.cooperating
        return bool(attr.responsible) and all(n.endswith(UNIT_SUFFIXES) for n in names)

    def _block_attr(self, lines: list[str]) -> Attribution | None:
        total: Attribution | None = None
        for line in lines:
            attr = parse_attribution(line)
            if attr is None:
                continue
            if total is None:
                total = attr
            else:
                total.merge(attr)
        return total

    @staticmethod
    def _strip_nonattr(text: str) -> str:
        return text

    @staticmethod
    def _clean_text(text: str) -> str:
        t = text.strip(" \u3000；;，,")
        return re.sub(r"\s*\n\s*", "", t)

    def _task(
        self,
        no: str | None,
        path: str,
        text: str,
        attr: Attribution,
        implicit: tuple[str, ...],
        *,
        source: str,
        deadline_text: str | None = None,
    ) -> ParsedTask:
        leads, coop, warnings = assign_roles(attr, first_listed=self.first_listed)
        leads = [self._name(u) for u in leads]
        coop = [self._name(u) for u in coop]
        for unit in implicit:
            name = self._name(unit)
            if name not in coop and name not in leads:
                coop.append(name)
        generic = [self._name(g) for g in attr.generic]
        dl_text = deadline_text if deadline_text is not None else attr.deadline
        deadline = parse_deadline(dl_text, self.year)
        if not dl_text:
            in_text = find_deadline_in_text(text)
            if in_text:
                deadline = parse_deadline(in_text, self.year)
                warnings.append(f"deadline_in_text：完成时限取自任务内容（“{in_text}”），请核对")
        elif "nonexistent_date" in deadline.rule:
            day = deadline.rule["nonexistent_date"]
            warnings.append(f"deadline_nonexistent：完成时限“{dl_text}”中的{day}不存在，请核对原件")
        elif deadline.kind == "none":
            warnings.append(f"deadline_unreadable：无法识别完成时限“{dl_text}”")
        implausible = self._implausible_deadline(deadline)
        if implausible:
            warnings.append(implausible)
        for name in leads + coop:
            if not is_unit_like(name):
                warnings.append(f"odd_unit_name：“{name}”不像单位名称，请核对")
        if any("\ufffd" in s for s in [text, *leads, *coop, *generic, deadline.text or ""]):
            warnings.append("unreadable_chars：本项含无法识别的字符（�），文字不可信，请核对原件")
        return ParsedTask(
            no=self._shared.setdefault(no, no) if no is not None else None,  # numbers repeat
            path=path,
            text=text,
            lead_units=leads,
            cooperating_units=coop,
            generic_units=generic,
            deadline=deadline,
            warnings=warnings,
            source_excerpt=source,
        )

    def _implausible_deadline(self, deadline: Deadline) -> str | None:
        """A warning for a due date no plan means: before 2000, more than ten years after the plan's
        year, or before the plan was issued (its signing date, else the start of its year)."""
        due = deadline.date
        if due is None:
            return None
        start = deadline.start or due
        printed = deadline.text or due.isoformat()
        too_late = self.year is not None and due.year > self.year + _YEARS_AHEAD
        if start.year < _FIRST_PLAUSIBLE_YEAR or too_late:
            return f"deadline_implausible：完成时限“{printed}”（{due.year}年）明显有误，请核对原件"
        issued = self.issue_date or (dt.date(self.year, 1, 1) if self.year is not None else None)
        if issued is not None and due < issued:
            return (
                f"deadline_before_issue：完成时限“{printed}”早于方案印发时间（{issued.isoformat()}），"
                "请核对原件"
            )
        return None

    @staticmethod
    def _name(name: str) -> str:
        return _clean_name(name)

    def _set_parents(self) -> None:
        for task, parent in zip(self.tasks, self._task_parents, strict=True):
            if parent is not None and parent.kind in self._task_kinds and parent.marker is not None:
                task.parent_no = parent.no

    # --- tables ----------------------------------------------------------------------------------

    def _table(self, table: Table) -> None:
        rows = table.rows
        header = find_header(rows)
        start = 0
        if header is None:
            width = max((len(r) for r in rows), default=0)
            if (
                self._last_header is not None
                and width == self._last_width
                and rows
                and self._looks_like_data(rows[0])
            ):
                header = Header(-1, 1, self._last_header.roles)
            else:
                # A layout table or a sheet of notes: read its cells as paragraphs.
                seen: set[str] = set()
                for row in rows:
                    for cell in row:
                        if cell and cell not in seen:
                            seen.add(cell)
                            for ln in cell.split("\n"):
                                self._paragraph(ln)
                return
        self._close_item()
        self._stack = []
        self._last_header = header
        self._last_width = max(len(r) for r in rows)
        start = header.row + header.height
        section: Marker | None = None
        section_path = ""
        for r in range(start, len(rows)):
            row = rows[r]
            self._table_row(table, r, row, header, section_path)
            sec = self._section_row(row, header)
            if sec is not None:
                section = sec
                section_path = f"{section.value}."
        self._last_header = header

    def _looks_like_data(self, row: list[str]) -> bool:
        return bool(row and re.fullmatch(r"\s*[0-9０-９]{1,3}\s*[.、．]?\s*", row[0] or ""))

    def _section_row(self, row: list[str], header: Header) -> Marker | None:
        filled = [c.strip() for c in row if c and c.strip()]
        if not filled or len(set(filled)) != 1:
            return None
        text = filled[0]
        marker = match_marker(text)
        if marker is not None and marker.kind in ("cn", "pcn", "art"):
            return marker
        return None

    def _table_row(self, table: Table, r: int, row: list[str], header: Header, section_path: str) -> None:
        roles = header.roles
        filled = [c.strip() for c in row if c and c.strip()]
        if not filled or (len(set(filled)) == 1 and len(row) > 1 and len(filled) > 1):
            return  # empty, or a section row merged across all columns
        text_col = header.text_column
        if text_col is None or text_col >= len(row):
            return
        text = self._clean_text(row[text_col] or "")
        if not text:
            return
        if len(filled) == 1 and text:
            return  # a footnote or section title in one cell
        no_col = header.column("no")
        no: str | None = None
        value: int | None = None
        if no_col is not None and no_col < len(row) and (row[no_col] or "").strip():
            raw_no = row[no_col].strip()
            m = match_marker(raw_no + ("" if re.search(r"[、.．)）]$", raw_no) else "、"))
            no = re.sub(r"[、.．\s]+$", "", raw_no)
            value = m.value if m else None
        else:
            m = match_marker(text)
            if m is not None:
                no, value = m.no, m.value
                text = text[m.end :].strip()
        cells: dict[str, list[str]] = {}
        for c, role in enumerate(roles):
            if role and c < len(row) and row[c] and row[c].strip():
                cells.setdefault(role, []).append(row[c])
        attr = Attribution()
        cell_deadlines: list[str] = []  # a time limit printed in a unit cell (市财政局 2026年底前)
        for cell in cells.get("lead", []):
            units, generic, trunc, times = self._cell_units(cell)
            cell_deadlines += times
            attr.leads += units
            attr.generic += generic
            attr.truncated |= trunc
            attr.explicit = True
        for cell in cells.get("coop", []):
            units, generic, trunc, times = self._cell_units(cell)
            cell_deadlines += times
            attr.cooperating += units
            attr.generic += generic
            attr.truncated |= trunc
        for cell in cells.get("resp", []):
            joined, newline = split_cell_lines(cell)
            if "\n" in cell and any(parse_fields(ln.strip()) for ln in cell.split("\n")):
                joined, newline = "；".join(ln.strip() for ln in cell.split("\n") if ln.strip()), False
            parsed = parse_attribution(joined, newline_separates=newline)
            if parsed is not None and parsed.explicit:
                attr.merge(parsed)
                continue
            units, generic, trunc, times = self._cell_units(cell)
            cell_deadlines += times
            attr.responsible += units
            attr.generic += generic
            attr.truncated |= trunc
        deadline = None
        if cells.get("deadline"):
            deadline = "".join(ln.strip() for ln in cells["deadline"][0].split("\n")).strip() or None
        deadline = deadline or attr.deadline or (cell_deadlines[0] if cell_deadlines else None)
        if attr.truncated or self._truncated_row(row):
            self.warnings.append(
                f"truncated：表格第{no or r + 1}行“{text[:20]}”的内容在原文中被截断，未导入该行，请核对原件"
            )
            return
        if not (attr.leads or attr.responsible or attr.cooperating):
            return
        path = self._unique_path(section_path + str(value if value is not None else r))
        task = self._task(
            no, path, text, attr, tuple(self._implicit), source=" | ".join(row), deadline_text=deadline or ""
        )
        if not deadline:
            task.deadline = parse_deadline(None) if not task.deadline.text else task.deadline
        self.tasks.append(task)
        self._task_parents.append(None)
        self._task_kinds.add(None)

    @staticmethod
    def _truncated_row(row: list[str]) -> bool:
        return any(re.fullmatch(r"\s*(?:……|…|\.{3,}|⋯)+\s*", c or "") for c in row)

    @staticmethod
    def _cell_units(cell: str) -> tuple[list[str], list[str], bool, list[str]]:
        joined, newline = split_cell_lines(cell)
        joined = re.sub(r"(?:分别牵头负责|分别牵头|牵头负责|牵头|负责|配合)$", "", joined.strip())
        trunc = bool(re.search(r"(?:……|…|\.{3,}|⋯)\s*$", joined))
        units, generic = split_units(joined, newline_separates=newline)
        units, times = take_deadlines(units)
        return units, generic, trunc, times


@lru_cache(maxsize=8192)
def _clean_name(name: str) -> str:
    """A printed unit name without spaces and pinyin, in simplified characters (cached: names repeat)."""
    n = _NAME_SPACE_RE.sub("", strip_pinyin(name))
    return to_simplified(n)


_NAME_SPACE_RE = re.compile(r"[\s\u3000\u00a0]+")


def parse_document(doc: SourceDocument, *, year: int | None = None) -> ParsedPlan:
    """Parse a read document into tasks; ``year`` is the plan's year for dates printed without one
    (default: the year in the title or document number, else the most frequent year in the text)."""
    return PlanParser(doc, year=year).parse()
