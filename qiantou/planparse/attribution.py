"""Who does a task: reading attributions (牵头单位/配合单位/责任单位 lines, bracketed and narrative forms).

Rules (from the labelled fixtures' README, "Rules used to assign units", and the glossary):

1. explicit markers win: ``牵头单位：X；配合单位/责任单位：Y``, ``X牵头，Y配合``,
   ``牵头责任单位/协同责任单位``;
2. ``X、Y分别牵头`` and ``X、Y牵头负责`` → every listed unit leads;
3. ``X会同Y负责`` / ``由X会同Y…`` → X leads, Y cooperate;
4. only a responsibility list: a stated first-listed rule → the first unit leads; a single unit leads;
   otherwise all units lead and the task is flagged *lead undetermined*;
5. lists split on ``、，,；;`` and ``及``, never inside brackets nor inside level phrases (各县、市、区政府);
6. a trailing ``等`` is dropped, ``等有关部门`` goes to the generic parties, a unit after ``等和`` is kept;
7. markers and rule text are not units; 8. persons (分管领导 …) are never units.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from qiantou.planparse.deadlines import looks_like_deadline

__all__ = [
    "Attribution",
    "bracket_groups",
    "find_lead_rule",
    "is_unit_like",
    "parse_attribution",
    "parse_fields",
    "split_top",
    "split_units",
    "take_deadlines",
]

OPENERS = {
    "（": "）",
    "(": ")",
    "〔": "〕",
    "[": "]",
    "【": "】",
    "<": ">",
    "〈": "〉",
    "［": "］",
    "｛": "｝",
    "{": "}",
    "＜": "＞",
}
CLOSERS = {v: k for k, v in OPENERS.items()}
# Nesting that protects separators but never holds an attribution: book titles and quotations.
_SOFT_OPEN = {"《": "》", "“": "”", "‘": "’", "「": "」", "『": "』"}
_SOFT_CLOSE = set(_SOFT_OPEN.values())


@dataclass
class Group:
    """A top-level bracket group in a line: ``text[start:end]``; ``content`` without the brackets."""

    start: int
    end: int
    content: str
    closed: bool


_BRACKET_CHAR_RE = re.compile("[" + re.escape("".join(OPENERS) + "".join(CLOSERS)) + "]")


def bracket_groups(text: str) -> list[Group]:
    """Top-level bracket groups of any kind (（）()〔〕[]【】<>〈〉…); an unclosed one runs to the end."""
    groups: list[Group] = []
    depth = 0
    start = 0
    # Visit only the bracket characters (a regex scan), not every character of the line.
    for m in _BRACKET_CHAR_RE.finditer(text):
        ch = m.group()
        i = m.start()
        if ch in OPENERS:
            if depth == 0:
                start = i
            depth += 1
        elif depth > 0:
            depth -= 1
            if depth == 0:
                groups.append(Group(start, i + 1, text[start + 1 : i], True))
    if depth > 0:
        groups.append(Group(start, len(text), text[start + 1 :], False))
    return groups


@lru_cache(maxsize=64)
def _special_re(seps: str) -> re.Pattern[str]:
    chars = "".join(OPENERS) + "".join(CLOSERS) + "".join(_SOFT_OPEN) + "".join(_SOFT_CLOSE) + seps
    return re.compile("[" + re.escape("".join(sorted(set(chars)))) + "]")


def split_top(text: str, seps: str) -> list[str]:
    """Split ``text`` on any character of ``seps`` outside brackets and quotes."""
    parts: list[str] = []
    depth = 0
    soft: list[str] = []
    last = 0
    # Visit only separators, brackets and quotes (a regex scan), not every character.
    for m in _special_re(seps).finditer(text):
        ch = m.group()
        if ch in OPENERS:
            depth += 1
        elif ch in CLOSERS and depth > 0:
            depth -= 1
        elif ch in _SOFT_OPEN and not (soft and ch == soft[-1]):
            soft.append(_SOFT_OPEN[ch])
        elif soft and ch == soft[-1]:
            soft.pop()
        if ch in seps and depth == 0 and not soft:
            parts.append(text[last : m.start()])
            last = m.end()
    parts.append(text[last:])
    return parts


# --- the document's lead rule ------------------------------------------------------------------

_RULE_RE = re.compile(
    r"(?:列|排|位列|排名|排序|排列)?在?(?:第一位|首位|第一个|第一名|第一|最前面|最前|前面|靠前|(?<=在)前)(?:者|的|单位|部门)*"
    r"(?:为|是|系)(?:牵头|主办|主责|总牵头)(?:或汇总|和汇总|或总牵头)?(?:单位|部门)?"
)


def find_lead_rule(text: str) -> str | None:
    """The printed first-listed rule in ``text`` ("列第一位者为牵头单位，下同" and variants), else None."""
    m = _RULE_RE.search(text)
    if not m:
        return None
    start, end = m.start(), m.end()
    seps = "，,；;。（(【[〔"
    cut = max(text.rfind(c, 0, start) for c in seps)
    start = cut + 1
    # "除标注“分别牵头”外，列第一位者…": keep the exception clause with the rule.
    if cut >= 0 and text[cut] in "，,":
        prev_cut = max(text.rfind(c, 0, cut) for c in seps)
        if re.fullmatch(r"除.{0,24}外", text[prev_cut + 1 : cut]):
            start = prev_cut + 1
    tail = re.match(r"[，,]?\s*(?:下同|以下同|后同)", text[end:])
    if tail:
        end += tail.end()
    return text[start:end].strip(" ，,")


def _is_rule_piece(piece: str) -> bool:
    p = piece.strip()
    return bool(
        _RULE_RE.search(p)
        or p in ("下同", "以下同", "后同")
        or re.fullmatch(r"除.{0,24}外", p)
        or re.fullmatch(r"(?:其余|其他|其它)(?:单位)?(?:为|是)(?:配合|责任|参与)(?:单位|部门)", p)
    )


# --- unit names -------------------------------------------------------------------------------

UNIT_SUFFIXES = (
    "局",
    "委",
    "办",
    "厅",
    "部",
    "院",
    "会",
    "府",
    "公司",
    "集团",
    "行",
    "社",
    "联",
    "中心",
    "所",
    "队",
    "站",
    "处",
    "室",
    "科",
    "股",
    "组",
    "团",
    "馆",
    "署",
    "台",
    "校",
    "街道",
    "单位",
    "部门",
    "机构",
    "协",
    "关",
    "区",
    "县",
    "市",
    "镇",
    "乡",
    "村",
    "社区",
    "园",
    "场",
    "厂",
    "港",
    "司",
    "庭",
    "宫",
    "报",
    "网",
    "盟",
    "党",
    "军",
    "旗",
    "州",
    "盟",
    "区政府",
    "监狱",
    "总队",
    "支队",
    "大队",
    "中队",
    "医院",
    "学校",
    "大学",
    "学院",
    "银行",
    "保险",
    "管委会",
)
GENERIC_RE = re.compile(
    r"^(?:其他|其它)?(?:有关|相关)(?:部门|单位|方面|机构|处室|企业)$|^(?:有关|相关)?(?:部门|单位)$"
)
_NOT_UNIT_RE = re.compile(
    r"[，。；：:！？!?]|要求|需要|应当|进行|开展|按照|根据|同志|的|负责|配合|牵头(?!单位|部门)|落实"
)


def is_unit_like(name: str) -> bool:
    """True when ``name`` reads like an organisation (市财政局, 各县（市、区）人民政府, 团市委, 有关部门)."""
    n = name.strip()
    if not 2 <= len(n) <= 40:
        return False
    if GENERIC_RE.match(n):
        return True
    if _NOT_UNIT_RE.search(re.sub(r"[（(][^)）]*[)）]", "", n)):
        return False
    if n[-1] in ")）>〉〕]】":
        return True
    if n.startswith("各") and len(n) >= 3:
        return True
    return n.endswith(UNIT_SUFFIXES)


_LEVEL_RE = re.compile(
    r"(?:各|(?<=^)|(?<=[、，,；;]))(?:[省市县区乡镇旗]|街道)(?:、(?:[省市县区乡镇旗]|街道)){1,4}"
    r"(?:[\u4e00-\u9fff]{0,8}?(?:人民政府|党委和政府|党委政府|政府|党委|管委会|两级政府|两级|三级)?)"
)
_PROTECT = "\x00"


def _protect_levels(text: str) -> str:
    return _LEVEL_RE.sub(lambda m: m.group(0).replace("、", _PROTECT), text)


_DENG_RE = re.compile(r"^(?P<head>.+?)等(?P<tail>.*)$")


_LEAD_TAG_RE = re.compile(r"[（(【\[](?:牵头|牵头单位|牵头部门|主责|主办)[)）】\]]$")


def pop_lead_tags(units: list[str]) -> tuple[list[str], list[str]]:
    """Units tagged as lead inside a list, and all names untagged.

    ``["市财政局（牵头）", "市民政局"]`` → ``(["市财政局"], ["市财政局", "市民政局"])``.
    """
    leads = []
    names = []
    for u in units:
        m = _LEAD_TAG_RE.search(u)
        if m:
            u = u[: m.start()]
            leads.append(u)
        names.append(u)
    return leads, names


def split_units(text: str, *, newline_separates: bool = False) -> tuple[list[str], list[str]]:
    """Split a printed unit list into ``(units, generic_parties)`` in printed order.

    ``各县（市、区）人民政府`` and ``各县、市、区政府`` stay whole; ``市妇联等`` → 市妇联;
    ``…等有关部门`` → generic ``有关部门``; ``…等和各县（市、区）人民政府`` keeps both units.
    """
    seps = "、，,；;" + ("\n" if newline_separates else "")
    text = _protect_levels(text.strip().strip("，,；;。、 "))
    units: list[str] = []
    generic: list[str] = []
    for raw in split_top(text, seps):
        for token in _split_ji(raw.replace(_PROTECT, "、").strip()):
            token = _clean_token(token)
            if not token:
                continue
            m = _DENG_RE.match(token)
            if m and not _looks_like_name_with_deng(token):
                head, tail = m["head"].strip(), m["tail"].strip()
                if head:
                    units.append(head)
                if tail.startswith(("和", "及", "以及")):
                    rest = tail[2:] if tail.startswith("以及") else tail[1:]
                    if rest:
                        units.append(_clean_token(rest))
                elif tail:
                    generic.append(tail)
                continue
            if GENERIC_RE.match(token):
                generic.append(token)
            else:
                units.append(token)
    return [u for u in units if u], generic


def take_deadlines(units: list[str]) -> tuple[list[str], list[str]]:
    """Split list items that read as completion times off a unit list: ``(units, deadlines)``.

    ``配合单位：市司法局；2026年6月底前`` lists the time limit with the units; it is never a unit.
    """
    kept: list[str] = []
    found: list[str] = []
    for u in units:
        (found if looks_like_deadline(u) else kept).append(u)
    return kept, found


def _looks_like_name_with_deng(token: str) -> bool:
    # 等 inside a name (市高等教育局…): what follows 等 is neither empty, a conjunction nor a generic tail.
    m = _DENG_RE.match(token)
    assert m
    tail = m["tail"]
    if not tail or tail.startswith(("和", "及", "以及")):
        return False
    return not re.search(r"部门|单位|方面|机构|处室|企业|地区|县|区", tail)


def _split_ji(token: str) -> list[str]:
    """Split on 及/以及 when the left side is a complete unit name (市财政局及各县区 → two)."""
    text = token
    out: list[str] = []
    while True:
        m = re.search(r"以及|及", text)
        if not m:
            break
        left, right = text[: m.start()], text[m.end() :]
        depth = sum(left.count(o) for o in OPENERS) - sum(left.count(c) for c in CLOSERS)
        if depth == 0 and is_unit_like(_clean_token(left)) and right.strip():
            out.append(left)
            text = right
        else:
            break
    out.append(text)
    return out


def _clean_token(token: str) -> str:
    t = re.sub(r"[\s\u3000\u00a0]+", "", token)
    t = t.strip("“”\"'‘’「」·•.。、，,；;:：")
    t = re.sub(r"^(?:由|会同|和|与|及|以及)", "", t)
    return t


# --- attribution clauses ----------------------------------------------------------------------

_LEAD_MARK_RE = re.compile(
    # 分别负责 ("each answers for its part") reads like 分别牵头: every listed unit leads; X为主 = X leads.
    r"(?:分别牵头负责|分别牵头|分别负责|分别落实|各自负责|共同牵头负责|共同牵头|牵头负责|牵头落实|牵头实施|牵头抓总|"
    r"牵头推进|牵头办理|牵头|为主负责|为主|"
    r"牵头(?!单位|部门)[\u4e00-\u9fff]{1,2})$"
)
_COOP_MARK_RE = re.compile(
    # An adverb before 配合 belongs to the marker: "市医保局、市财政局协同配合".
    r"(?:(?:协同|积极|密切|共同|全力|协助|主动|参与)配合(?:落实|推进|实施|做好)?|按职责分工负责|按职责分工落实|按照职责分工负责|按职责负责|按职能分工负责|按职能职责负责|分工负责|配合落实|配合实施|配合推进|配合|"
    r"协助|协同推进|协同|协办|参与|参加)$"
)
_DUTY_MARK_RE = re.compile(r"(?:按照?职责分工|按职能分工|按职能职责|按职责|分工)(?:负责|落实)$")
_RESP_MARK_RE = re.compile(r"(?:共同负责|具体负责|负责落实|负责实施|负责推进|负责办理|主责|负责)$")

_KEYS = {
    "lead": "牵头责任单位|责任牵头单位|牵头单位|牵头部门|牵头处室|主责单位|主办单位|主责部门",
    "coop": "协同责任单位|责任配合单位|配合单位|配合部门|配合处室|"
    "协同单位|协同部门|协办单位|协助单位|参与单位|参与部门",
    "resp": "责任单位|责任部门|责任处室|承办单位|实施单位|责任主体|落实单位|负责单位",
    "deadline": "完成时限|责任时限|完成时间|完成期限|时间节点|"
    "时限要求|时间要求|办结时限|进度安排|时间安排|时限",
    "person": "牵头市领导|分管市领导|市分管领导|牵头领导|分管领导|"
    "责任领导|联系领导|包保领导|督办领导|联系市领导|责任人|联系人|市领导|领导",
    "other": "督办单位|联系电话|电话|备注|工作目标|目标要求|预期成果|成果形式|完成标准|验收标准|工作标准",
    "division": "部门分工|责任分工|任务分工|分工",
}
_KEY_RE = re.compile(
    "(?:" + "|".join(f"(?P<{role}>{alts})" for role, alts in _KEYS.items()) + r")[\s\u3000]*[:：]"
)


@dataclass
class Attribution:
    """One attribution as printed: explicit leads, cooperating and responsible lists, deadline, flags."""

    leads: list[str] = field(default_factory=list)
    cooperating: list[str] = field(default_factory=list)
    responsible: list[str] = field(default_factory=list)
    generic: list[str] = field(default_factory=list)
    deadline: str | None = None
    rule: str | None = None
    aliases: dict[str, str] = field(default_factory=dict)
    explicit: bool = False  # a marker or field said who leads / cooperates
    bare: bool = False  # a unit list with no marker at all
    truncated: bool = False
    fields: bool = False

    @property
    def has_units(self) -> bool:
        """True when any unit or generic party was found."""
        return bool(self.leads or self.cooperating or self.responsible or self.generic)

    def copy(self) -> Attribution:
        """An independent copy (lists and aliases copied)."""
        return replace(
            self,
            leads=list(self.leads),
            cooperating=list(self.cooperating),
            responsible=list(self.responsible),
            generic=list(self.generic),
            aliases=dict(self.aliases),
        )

    def merge(self, other: Attribution) -> None:
        """Add another attribution's units (block lines spread over several paragraphs)."""
        self.leads += other.leads
        self.cooperating += other.cooperating
        self.responsible += other.responsible
        self.generic += other.generic
        self.deadline = self.deadline or other.deadline
        self.rule = self.rule or other.rule
        self.aliases.update(other.aliases)
        self.explicit = self.explicit or other.explicit
        self.bare = self.bare and other.bare if self.has_units else other.bare
        self.truncated = self.truncated or other.truncated
        self.fields = self.fields or other.fields


_ALIAS_RE = re.compile(r"^(?:以下|下文|下)?(?:统称|简称|合称)[“\"「]?(?P<alias>.+?)[”\"」]?$")


_ALIAS_LOOKBACK = 120  # a unit name is at most 40 characters: look no further back for the aliased name


def _strip_aliases(text: str, attr: Attribution) -> str:
    """Remove ``（以下统称X）`` / ``（以下简称X）`` and record X → the name it follows."""
    pieces: list[str] = []
    last = 0
    for g in bracket_groups(text):
        m = _ALIAS_RE.match(g.content.strip())
        if not m:
            continue
        # Only the text just before the bracket can hold the name (splitting all of it again for
        # every alias was quadratic on a long line).
        before = text[max(0, g.start - _ALIAS_LOOKBACK) : g.start]
        tokens = split_top(_protect_levels(before), "、，,；;：:")
        full = _clean_token(tokens[-1].replace(_PROTECT, "、")) if tokens else ""
        if full:
            attr.aliases[_clean_token(m["alias"])] = full
        pieces.append(text[last : g.start])
        last = g.end
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


def _strip_rule_groups(text: str) -> str:
    """Remove nested brackets that only state the lead rule or an alias."""
    pieces: list[str] = []
    last = 0
    for g in bracket_groups(text):
        if _RULE_RE.search(g.content):
            pieces.append(text[last : g.start])
            last = g.end
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


def parse_fields(text: str) -> list[tuple[str, str]]:
    """``牵头单位：X；配合单位：Y`` → ``[("lead", "X"), ("coop", "Y")]``.

    Text before the first key comes as ``("", text)``.
    """
    matches = list(_KEY_RE.finditer(text))
    depths = _depths_at(text, [m.start() for m in matches])
    keys = [m for m, depth in zip(matches, depths, strict=True) if depth == 0]
    # A key must start the text or follow a separator: "有关责任单位：" inside prose is not a field.
    keys = [m for m in keys if m.start() == 0 or text[m.start() - 1] in "，,；;。 \u3000（(【[〔:：、\t"]
    if not keys:
        return []
    out: list[tuple[str, str]] = []
    pre = text[: keys[0].start()].strip(" ，,；;。")
    if pre:
        out.append(("", pre))
    for i, m in enumerate(keys):
        end = keys[i + 1].start() if i + 1 < len(keys) else len(text)
        role = next(k for k, v in m.groupdict().items() if v)
        out.append((role, text[m.end() : end].strip(" \u3000，,；;。")))
    return out


def _depths_at(text: str, positions: list[int]) -> list[int]:
    """Bracket depth of ``text`` just before each of the (ascending) ``positions``, in one pass.

    One scan over the bracket characters for all positions: asking from the start of the text for
    every field key was quadratic on a long line holding many keys.
    """
    out: list[int] = []
    depth = 0
    brackets = _BRACKET_CHAR_RE.finditer(text)
    pending = next(brackets, None)
    for pos in positions:
        while pending is not None and pending.start() < pos:
            ch = pending.group()
            if ch in OPENERS:
                depth += 1
            elif depth:
                depth -= 1
            pending = next(brackets, None)
        out.append(depth)
    return out


def parse_attribution(
    text: str, *, strict: bool = False, newline_separates: bool = False
) -> Attribution | None:
    """Read one attribution clause (a bracket's content, a block line, or a narrative clause).

    ``strict``: every piece must be a unit list with a marker or a deadline (for narrative text outside
    brackets). Returns None when the text is not an attribution. The result is the caller's to change.
    """
    # The parser asks about the same bracket several times (is this line an attribution? then which
    # one?): answers are cached and handed out as copies.
    found = _parse_attribution_cached(text, strict, newline_separates)
    return found.copy() if found is not None else None


@lru_cache(maxsize=4096)
def _parse_attribution_cached(text: str, strict: bool, newline_separates: bool) -> Attribution | None:
    return _parse_attribution(text, strict=strict, newline_separates=newline_separates)


def _parse_attribution(text: str, *, strict: bool, newline_separates: bool) -> Attribution | None:
    attr = Attribution()
    text = text.strip()
    if not text:
        return None
    rule = find_lead_rule(text)
    if rule:
        attr.rule = rule
    text = _strip_aliases(_strip_rule_groups(text), attr)
    fields = parse_fields(text)
    if fields:
        attr.fields = True
        listed_deadlines: list[str] = []  # times printed inside a unit list: used unless a field says
        for role, value in fields:
            if role == "":
                sub = _narrative(value, strict=False, newline_separates=newline_separates)
                if sub is not None:
                    attr.merge(sub)
            elif role in ("person", "other"):
                continue
            elif role == "deadline":
                attr.deadline = attr.deadline or (value or None)
            elif role == "division":
                sub = _narrative(value, strict=False, newline_separates=newline_separates)
                if sub is not None:
                    attr.merge(sub)
            else:
                if role == "resp":
                    # "责任单位：X为主，Y配合" — a responsibility field that itself says who leads.
                    sub = _narrative(value, strict=True, newline_separates=newline_separates)
                    if sub is not None and sub.explicit:
                        attr.merge(sub)
                        continue
                if _is_truncated(value):
                    attr.truncated = True
                units, generic = split_units(value, newline_separates=newline_separates)
                units = [u for u in units if not _is_rule_piece(u)]
                units, times = take_deadlines(units)
                listed_deadlines += times
                attr.generic += generic
                tagged, units = pop_lead_tags(units)
                if tagged and role != "lead":
                    attr.leads += tagged
                    attr.explicit = True
                    units = [u for u in units if u not in tagged]
                    role = "coop"
                if role == "lead":
                    attr.leads += units
                    attr.explicit = True
                elif role == "coop":
                    attr.cooperating += units
                    attr.explicit = True
                else:
                    attr.responsible += units
        if listed_deadlines and not attr.deadline:
            attr.deadline = listed_deadlines[0]
        if not attr.has_units and not attr.deadline:
            return None
        return attr
    sub = _narrative(text, strict=strict, newline_separates=newline_separates)
    if sub is None:
        return None
    sub.rule = sub.rule or attr.rule
    sub.aliases.update(attr.aliases)
    return sub


def _is_truncated(value: str) -> bool:
    return bool(re.search(r"(?:……|…|\.{3,}|⋯)\s*$", value.strip()))


_HUITONG_TRIES = 3


def _huitong(piece: str) -> tuple[list[str], list[str], list[str]] | None:
    """``由X会同Y负责`` → (leads, cooperating, generic); None when no 会同 split yields unit lists."""
    # Only the first few 会同: trying every one splits the rest of the piece again each time
    # (quadratic on a long piece), and a real clause has its 会同 near the start.
    for m in itertools.islice(re.finditer("会同", piece), _HUITONG_TRIES):
        left = _clean_token(piece[: m.start()])
        right = piece[m.end() :]
        right = re.sub(r"(?:共同|联合|一起)?(?:负责|落实|实施|推进|办理|研究|制定)$", "", right)
        lu, lg = split_units(left)
        ru, rg = split_units(right)
        if lu and ru and all(is_unit_like(u) for u in lu + ru):
            return lu, ru, lg + rg
    return None


def _narrative(text: str, *, strict: bool, newline_separates: bool = False) -> Attribution | None:
    attr = Attribution()
    duty: list[str] = []  # "…按职责分工负责": cooperating after a lead, else simply responsible
    pending: list[str] = []
    ok = True
    marked = False
    for piece in split_top(text, "，,；;。"):
        p = piece.strip(" \u3000")
        if not p:
            continue
        if _is_rule_piece(p):
            continue
        if "会同" in p:
            hu = _huitong(p)
            if hu:
                attr.leads += pending + hu[0]
                attr.cooperating += hu[1]
                attr.generic += hu[2]
                pending = []
                attr.explicit = marked = True
                continue
        role = None
        rest = p
        for name, rx in (("lead", _LEAD_MARK_RE), ("coop", _COOP_MARK_RE), ("resp", _RESP_MARK_RE)):
            m = rx.search(p)
            if m and m.start() > 0:
                role, rest = name, p[: m.start()]
                break
        if role:
            units, generic = split_units(rest, newline_separates=newline_separates)
            units, times = take_deadlines(units)
            if times:
                attr.deadline = attr.deadline or times[0]
            if not units and not generic:
                ok = False
                continue
            if not all(is_unit_like(u) for u in units):
                ok = False
                continue
            attr.generic += generic
            units = pending + units
            pending = []
            marked = True
            tagged, units = pop_lead_tags(units)
            if tagged:
                attr.leads += tagged
                attr.explicit = True
                units = [u for u in units if u not in tagged]
                if role == "resp":
                    role = "coop"
            if role == "coop" and _DUTY_MARK_RE.search(p):
                duty += units
            elif role == "lead":
                attr.leads += units
                attr.explicit = True
            elif role == "coop":
                attr.cooperating += units
                attr.explicit = True
            else:
                attr.responsible += units
            continue
        if looks_like_deadline(p):
            attr.deadline = attr.deadline or p
            continue
        units, generic = split_units(p, newline_separates=newline_separates)
        units, times = take_deadlines(units)
        if times:
            # "市财政局、市民政局、2026年底前": the time limit closes the unit list.
            attr.deadline = attr.deadline or times[0]
            if not units and not generic:
                continue
        tagged, units = pop_lead_tags(units)
        if tagged:
            attr.leads += tagged
            attr.explicit = marked = True
            units = [u for u in units if u not in tagged]
        if (units or generic or tagged) and all(is_unit_like(u) for u in units):
            pending += units
            attr.generic += generic
            if _is_truncated(p):
                attr.truncated = True
            continue
        ok = False
    if strict and (not ok or not marked):
        return None
    if duty:
        if attr.leads:
            attr.cooperating += duty
            attr.explicit = True
        else:
            attr.responsible += duty
    if pending:
        if attr.leads:
            attr.cooperating += pending
        elif marked:
            attr.responsible += pending
        else:
            attr.responsible += pending
            attr.bare = True
    if not attr.has_units:
        return None
    return attr


LEAD_UNDETERMINED = "lead_undetermined"


def assign_roles(attr: Attribution, *, first_listed: bool) -> tuple[list[str], list[str], list[str]]:
    """Apply rules 1–4: ``(lead_units, cooperating_units, warnings)`` in printed order.

    ``first_listed`` is True when the document states that the first-listed unit leads.
    """
    warnings: list[str] = []
    coop = list(attr.cooperating)
    if attr.leads:
        leads = list(attr.leads)
        # "X牵头，Y负责" / 牵头单位 + 责任单位: the responsible units cooperate.
        coop = coop + attr.responsible
    elif attr.responsible:
        resp = attr.responsible
        if len(resp) == 1:
            leads = resp[:1]
            coop = coop + resp[1:]
        elif first_listed:
            leads = resp[:1]
            coop = resp[1:] + coop
        else:
            leads = list(resp)
            warnings.append(
                f"{LEAD_UNDETERMINED}：未注明牵头单位，所列{len(resp)}个单位按原文顺序均暂列为牵头单位"
            )
    else:
        leads = []
        if coop:
            warnings.append("no_lead：只有配合单位，未注明牵头单位")
    leads = _dedupe(leads)
    coop = [u for u in _dedupe(coop) if u not in leads]
    if len(leads) > 1 and not warnings:
        warnings.append(f"several_leads：{len(leads)}个牵头单位（{'、'.join(leads)}），需明确一个主责单位")
    return leads, coop, warnings


def _dedupe(names: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for n in names:
        if n and n not in seen:
            seen.add(n)
            out.append(n)
    return out
