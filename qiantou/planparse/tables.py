"""Tables in plans: text tables rebuilt from paragraphs, and headers found by their content.

Text files and web pages carry tables as text: drawn with box characters (cells wrapped mid-word, a
vertically merged cell shown by a missing rule), as ``|``-separated rows, or flattened one cell per
line. :func:`rebuild_text_tables` turns those runs of paragraphs into :class:`Table` blocks;
:func:`find_header` maps the columns of any table (Word, Excel, HTML, PDF) to roles by their header
text (序号/工作任务/牵头单位/配合单位/责任单位/完成时限/责任领导 …), wherever the header row sits.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from qiantou.planparse.attribution import is_unit_like
from qiantou.planparse.deadlines import looks_like_deadline
from qiantou.planparse.document import Block, Paragraph, Table
from qiantou.planparse.numbering import match_marker

__all__ = ["Header", "cell_role", "find_header", "rebuild_text_tables"]

# --- header vocabulary ----------------------------------------------------------------------

_EXACT: dict[str, str] = {}
for _role, _words in {
    "no": "序号|编号|序|项次|排序|号",
    "category": "类别|领域|类型|板块|分类|任务类别|重点领域|工作类别|专项|方面|所属领域",
    "task": "重点任务|工作任务|主要任务|任务|重点工作|工作内容|任务内容|目标任务|"
    "实事项目及目标任务|工作事项|事项|"
    "项目名称|项目|重点事项|改革事项|任务名称|工作要点|主要内容|内容|民生实事|实事项目|重点工作任务|任务事项",
    "measure": "具体措施|工作措施|主要措施|措施|具体内容|具体工作|任务分解|推进措施|"
    "工作举措|举措|具体任务|重点举措|"
    "具体事项|分解任务|细化任务|政策措施",
    "lead": "牵头单位|牵头部门|牵头责任单位|主责单位|牵头|"
    "责任牵头单位|主办单位|牵头处室|牵头单位（部门）|主责部门",
    "coop": "配合单位|配合部门|协同责任单位|协同单位|协办单位|"
    "参与单位|配合|协助单位|协同部门|配合单位（部门）|协作单位",
    "resp": "责任单位|责任部门|承办单位|实施单位|责任主体|落实单位|责任处室|责任单位（部门）|负责单位",
    "deadline": "完成时限|时限|完成时间|时间节点|时间安排|进度安排|完成期限|办结时限|"
    "时限要求|计划完成时间|完成时间节点|"
    "时间进度|截止时间",
    "person": "责任领导|分管领导|牵头领导|市分管领导|分管市领导|市领导|联系领导|责任人|"
    "联系人|包保领导|牵头市领导|"
    "责任市领导|领导|分管负责人",
    "deliverable": "成果形式|预期成果|工作成果|成果",
    "standard": "验收标准|完成标准|目标要求|工作目标|预期目标|考核标准|目标",
}.items():
    for _w in _words.split("|"):
        _EXACT[_w] = _role

_HEADER_PARTS = (
    "责任",
    "领导",
    "牵头",
    "配合",
    "单位",
    "完成",
    "时限",
    "工作",
    "任务",
    "重点",
    "序号",
    "部门",
)


def _norm_header(text: str) -> str:
    t = unicodedata.normalize("NFKC", text)
    t = re.sub(r"\s+", "", t)
    # A trailing bracket: no opener inside it, so that a long cell full of "（" is scanned once, not
    # once from every bracket (quadratic).
    t = re.sub(r"[（(][^)）（(]*[)）]$", "", t) if t not in _EXACT else t
    return t.strip(":：*※")


def cell_role(text: str) -> str | None:
    """The column role a header cell names, or None when it is not a header word."""
    t = _norm_header(text)
    if not t or len(t) > 16 or re.search(r"[：:，,。；;、]", t):
        return None
    if t in _EXACT:
        return _EXACT[t]
    if len(t) > 10 or match_marker(t):
        return None
    if "领导" in t or t.endswith("责任人"):
        return "person"
    if "牵头" in t and ("单位" in t or "部门" in t):
        return "lead"
    if ("配合" in t or "协同" in t or "协办" in t or "参与" in t) and ("单位" in t or "部门" in t):
        return "coop"
    if "责任" in t and ("单位" in t or "部门" in t or "主体" in t):
        return "resp"
    if "时限" in t or "时间" in t or "期限" in t:
        return "deadline"
    if "进展" in t or "情况" in t or "备注" in t or "说明" in t:
        return "other"
    if "措施" in t or "举措" in t:
        return "measure"
    if "任务" in t or "事项" in t or "工作" in t:
        return "task"
    return None


@dataclass
class Header:
    """Where a table's header is and what each column holds (``roles[c]``: no/task/lead/… or None)."""

    row: int  # index of the first header row
    height: int  # 1 or 2 header rows
    roles: list[str | None]

    @property
    def text_column(self) -> int | None:
        """The most specific text column: the rightmost of the task/measure columns."""
        cols = [i for i, r in enumerate(self.roles) if r in ("task", "measure")]
        measures = [i for i in cols if self.roles[i] == "measure"]
        if measures:
            return measures[-1]
        return cols[-1] if cols else None

    def column(self, role: str) -> int | None:
        """The first column with ``role``, or None."""
        return self.roles.index(role) if role in self.roles else None


def _row_roles(row: list[str]) -> list[str | None]:
    return [cell_role(c) if c and c.strip() else None for c in row]


def _is_header_row(roles: list[str | None], row: list[str]) -> bool:
    found = [r for r in roles if r]
    filled = [c for c in row if c and c.strip()]
    has_text = any(r in ("task", "measure") for r in found)
    has_unit = any(r in ("lead", "coop", "resp") for r in found)
    return has_text and has_unit and len(found) >= max(2, (len(set(filled)) + 1) // 2)


def find_header(rows: list[list[str]], *, max_scan: int = 15) -> Header | None:
    """Find the header row by its content (not necessarily row 1) and merge a second header row.

    A second row counts as part of the header when its cells repeat the header above (a vertical
    merge), are empty, or are header words — e.g. 责任单位 over 牵头单位 | 配合单位.
    """
    for i, row in enumerate(rows[:max_scan]):
        roles = _row_roles(row)
        if not _is_header_row(roles, row):
            continue
        height = 1
        if i + 1 < len(rows):
            below = rows[i + 1]
            below_roles = _row_roles(below)
            sub = False
            ok = True
            for c, cell in enumerate(below):
                top = row[c] if c < len(row) else ""
                if not cell.strip() or cell.strip() == top.strip():
                    continue
                if below_roles[c] is None:
                    ok = False
                    break
                sub = True
            if ok and sub:
                height = 2
                roles = [
                    (
                        below_roles[c]
                        if c < len(below_roles) and below_roles[c] and below[c].strip() != row[c].strip()
                        else roles[c]
                    )
                    for c in range(len(row))
                ]
        return Header(i, height, roles)
    return None


# --- text tables --------------------------------------------------------------------------------

_BOX_V = "│┃║|"
_BOX_START = "┌├└┏┣┗╔╠╚┍┝┕┎┠┖╒╞╘╓╟╙"
_BOX_ALL = "─━═┌┐└┘├┤┬┴┼┏┓┗┛┣┫┳┻╋╔╗╚╝╠╣╦╩╬┍┑┕┙┝┥┯┷┿┎┒┖┚┠┨┰┸╂╒╕╘╛╞╡╤╧╪╓╖╙╜╟╢╥╨╫│┃║"
_JUNCTIONS = "┌┐└┘├┤┬┴┼┏┓┗┛┣┫┳┻╋╔╗╚╝╠╣╦╩╬┍┑┕┙┝┥┯┷┿┎┒┖┚┠┨┰┸╂╒╕╘╛╞╡╤╧╪╓╖╙╜╟╢╥╨╫"


def _is_box_line(line: str) -> bool:
    s = line.strip()
    return bool(s) and (s[0] in _BOX_START or s[0] in "│┃║" or (s[0] in _BOX_ALL and s[-1] in _BOX_ALL))


def _is_rule_line(line: str) -> bool:
    s = line.strip()
    return bool(s) and s[0] in _BOX_START + "┌└" and not any(ch in s for ch in "│┃║")


def _rule_segments(line: str) -> list[bool]:
    """For a rule line, whether each column has a drawn rule (False: the cell above continues)."""
    s = line.strip()
    parts = re.split(f"[{_JUNCTIONS}]", s)
    parts = parts[1:-1] if len(parts) > 2 else parts
    return [bool(p.strip()) for p in parts]


def _box_table(lines: list[str]) -> Table | None:
    rows: list[list[list[str]]] = []  # rows → cells → lines
    rules: list[list[bool]] = []  # rule above each row
    pending_rule: list[bool] = []
    current: list[list[str]] | None = None
    for line in lines:
        s = line.strip()
        if _is_rule_line(s):
            if current is not None:
                rows.append(current)
                current = None
            pending_rule = _rule_segments(s)
            continue
        cells = re.split(f"[{_BOX_V}]", s)
        if len(cells) < 3:
            continue
        cells = cells[1:-1]
        if current is None:
            current = [[] for _ in cells]
            rules.append(pending_rule)
        for c, text in enumerate(cells[: len(current)]):
            current[c].append(text.strip())
    if current is not None:
        rows.append(current)
    if len(rows) < 2:
        return None
    width = max(len(r) for r in rows)
    texts = [[_join_lines(r[c]) if c < len(r) else "" for c in range(width)] for r in rows]
    merged = [[False] * width for _ in rows]
    # A column with no rule above a row continues the cell above: the merged region shares one text.
    for c in range(width):
        r = 0
        while r < len(rows):
            end = r + 1
            while end < len(rows) and c < len(rules[end]) and not rules[end][c] and len(rules[end]) == width:
                end += 1
            if end - r > 1:
                region = "\n".join(texts[k][c] for k in range(r, end) if texts[k][c])
                for k in range(r, end):
                    texts[k][c] = region
                    merged[k][c] = k > r
            r = end
    return Table(rows=texts, merged=merged)


def _join_lines(parts: list[str]) -> str:
    return "\n".join(p for p in parts if p)


def _pipe_cells(line: str) -> list[str] | None:
    s = line.strip()
    if s.count("|") < 2 and s.count("｜") < 2:
        return None
    cells = [c.strip() for c in re.split(r"[|｜]", s)]
    if s.startswith(("|", "｜")):
        cells = cells[1:]
    if s.endswith(("|", "｜")):
        cells = cells[:-1]
    return cells if len(cells) >= 2 else None


def _is_pipe_rule(cells: list[str]) -> bool:
    return all(re.fullmatch(r":?-{2,}:?", c.replace(" ", "")) for c in cells if c) and any(cells)


def _flattened_header(lines: list[str], start: int) -> tuple[list[str], int] | None:
    """Header cells one per line (fragments such as 责任/领导 re-joined) starting at ``start``."""
    cells: list[str] = []
    i = start
    while i < len(lines):
        s = re.sub(r"\s+", "", lines[i])
        if not s:
            break
        if _norm_header(s) in _EXACT:
            cells.append(s)
            i += 1
            continue
        if i + 1 < len(lines):
            joined = s + re.sub(r"\s+", "", lines[i + 1])
            if _norm_header(joined) in _EXACT or (s in _HEADER_PARTS and cell_role(joined)):
                cells.append(joined)
                i += 2
                continue
        if cell_role(s):
            cells.append(s)
            i += 1
            continue
        break
    roles = [cell_role(c) for c in cells]
    if len(cells) >= 3 and _is_header_row(roles, cells):
        return cells, i
    return None


def rebuild_text_tables(blocks: list[Block]) -> list[Block]:
    """Replace runs of paragraphs that are text tables with :class:`Table` blocks; other blocks stay."""
    out: list[Block] = []
    i = 0
    lines = [b.text if isinstance(b, Paragraph) else None for b in blocks]
    plain = [ln if ln is not None else "" for ln in lines]  # built once: per block it was quadratic
    while i < len(blocks):
        block = blocks[i]
        if not isinstance(block, Paragraph):
            out.append(block)
            i += 1
            continue
        text = block.text
        if _is_box_line(text) and any(ch in text for ch in _BOX_ALL):
            j, run, gap = i, [], 0
            while j < len(blocks) and isinstance(blocks[j], Paragraph):
                t = lines[j] or ""
                if _is_box_line(t):
                    run.append(t)
                    gap = 0
                elif gap < 6 and _box_continues(lines, j + 1):
                    gap += 1  # page number or document number spliced between the rows
                else:
                    break
                j += 1
            table = _box_table(run)
            if table is not None:
                out.append(table)
                i = j
                continue
        cells = _pipe_cells(text)
        if cells is not None:
            j, rows = i, []
            while j < len(blocks) and isinstance(blocks[j], Paragraph):
                c = _pipe_cells(lines[j] or "")
                if c is None:
                    break
                if not _is_pipe_rule(c):
                    rows.append(c)
                j += 1
            if rows and find_header(rows) is not None:
                width = max(len(r) for r in rows)
                out.append(Table(rows=[r + [""] * (width - len(r)) for r in rows]))
                i = j
                continue
        flat = _flattened_header(plain, i) if cell_role(text) or text.strip() in _HEADER_PARTS else None
        if flat is not None:
            header, j = flat
            rows, j = _flattened_rows(blocks, plain, j, header)
            if rows:
                out.append(Table(rows=[header, *rows]))
                i = j
                continue
        out.append(block)
        i += 1
    return out


def _box_continues(lines: list[str | None], start: int) -> bool:
    for k in range(start, min(start + 6, len(lines))):
        t = lines[k]
        if t is None:
            return False
        if _is_box_line(t):
            return True
    return False


def _flattened_rows(
    blocks: list[Block], lines: list[str], start: int, header: list[str]
) -> tuple[list[list[str]], int]:
    width = len(header)
    numbered = cell_role(header[0]) == "no"
    rows: list[list[str]] = []
    current: list[str] | None = None
    j = start
    while j < len(blocks) and isinstance(blocks[j], Paragraph):
        s = lines[j].strip()
        j += 1
        if not s:
            continue
        cells = _pipe_cells(s)
        if cells is not None:
            if _is_pipe_rule(cells):
                continue
            if current:
                rows.append(current)
            current = None
            rows.append((cells + [""] * width)[:width])
            continue
        if numbered and re.fullmatch(r"[0-9\uff10-\uff19]{1,3}", s):
            if current:
                rows.append(current)
            current = [s]
            continue
        if current is None:
            if numbered:
                j -= 1
                break
            current = []
        if len(current) >= width:
            rows.append(current)
            current = None
            j -= 1
            break
        current.append(s)
    if current:
        rows.append(current)
    return [(r + [""] * width)[:width] for r in rows], j


def split_cell_lines(cell: str) -> tuple[str, bool]:
    """A unit cell's text and whether its line breaks separate units (True) or are wraps (False).

    Line breaks separate units when the cell has no other separator and every line is a whole name
    (临江区人民政府 / 东湖区人民政府); otherwise they are wraps inside a name (市住房城乡建│设局).
    """
    lines = [ln.strip() for ln in cell.split("\n") if ln.strip()]
    if len(lines) <= 1:
        return (lines[0] if lines else ""), False
    times = [ln for ln in lines if looks_like_deadline(ln)]
    if times and len(times) < len(lines):
        # A time limit on its own line (市司法局 / 2026年6月底前) is a list item, never part of a name.
        names, newline = split_cell_lines("\n".join(ln for ln in lines if ln not in times))
        return "；".join([names, *times]), newline
    if re.search(r"[、，,；;]", cell):
        return "".join(lines), False
    if all(is_unit_like(ln) and len(ln) >= 3 for ln in lines):
        return "\n".join(lines), True
    return "".join(lines), False
