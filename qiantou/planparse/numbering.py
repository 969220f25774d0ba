"""Item numbers as printed in Chinese official documents: 一、 （一） 1. （1） ① 第一条 and their variants.

Each marker has a *kind* (which numbering sequence it belongs to) and a *value*; the parser nests
kinds in the order a document first uses them, the usual 一、 → （一） → 1. → （1） → ① ladder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Marker", "chinese_to_int", "match_marker"]

_DIGITS = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN = "一二三四五六七八九十百〇零两"


def chinese_to_int(text: str) -> int | None:
    """``十三`` → 13, ``二十一`` → 21, ``一百零五`` → 105; None for anything else."""
    if not text or any(ch not in _CN for ch in text):
        return None
    total = 0
    current = 0
    for ch in text:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _DIGITS[ch]
    return total + current


@dataclass(frozen=True)
class Marker:
    """A number at the start of a line: ``no`` as printed without its separator, ``kind``, ``value``."""

    no: str
    kind: str  # cn | pcn | ar | ar_paren | par | circ | art
    value: int
    end: int  # index in the line where the item's text starts


_OPEN = "(（"
_CLOSE = ")）"
_SEP = r"[、.．,，:：]"
_CN_RE = re.compile(
    rf"^[\s\u3000]*(?P<no>[{_CN}]{{1,4}})[\s\u3000]*(?P<sep>、|[.．](?![\d\uff10-\uff19]))[\s\u3000]*"
)
_PCN_RE = re.compile(
    rf"^[\s\u3000]*(?P<no>[{_OPEN}][\s\u3000]*[{_CN}]{{1,4}}[\s\u3000]*[{_CLOSE}])(?:{_SEP})?[\s\u3000]*"
)
_AR_RE = re.compile(
    r"^[\s\u3000]*(?P<no>[0-9\uff10-\uff19]{1,3})[\s\u3000]*"
    r"(?P<sep>[、．]|\.(?![0-9\uff10-\uff19])|[)）](?![0-9\uff10-\uff19]))[\s\u3000]*"
)
_PAR_RE = re.compile(
    rf"^[\s\u3000]*(?P<no>[{_OPEN}][\s\u3000]*[0-9\uff10-\uff19]{{1,3}}[\s\u3000]*[{_CLOSE}])(?:{_SEP})?[\s\u3000]*"
)
_CIRC = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_CIRC_RE = re.compile(rf"^[\s\u3000]*(?P<no>[{_CIRC}])(?:{_SEP})?[\s\u3000]*")
_ART_RE = re.compile(rf"^[\s\u3000]*(?P<no>第[{_CN}0-9]{{1,4}}[条章节部分项])[\s\u3000:：、]*")


def _int(text: str) -> int:
    digits = "".join(ch for ch in text if ch.isdigit())
    if digits:
        return int(digits.translate(str.maketrans("０１２３４５６７８９", "0123456789")))
    return chinese_to_int("".join(ch for ch in text if ch in _CN)) or 0


def match_marker(line: str) -> Marker | None:
    """The item number at the start of ``line``, or None.

    ``1.2万户`` and ``2024年`` are not numbers; ``一是`` is not (no separator). ``1)`` counts as its own kind.
    """
    m = _PCN_RE.match(line)
    if m:
        return Marker(_clean(m["no"]), "pcn", _int(m["no"]), m.end())
    m = _PAR_RE.match(line)
    if m:
        return Marker(_clean(m["no"]), "par", _int(m["no"]), m.end())
    m = _CN_RE.match(line)
    if m and chinese_to_int(m["no"]) is not None:
        return Marker(m["no"], "cn", _int(m["no"]), m.end())
    m = _AR_RE.match(line)
    if m:
        kind = "ar_paren" if m["sep"] in ")）" else "ar"
        return Marker(
            m["no"].translate(str.maketrans("０１２３４５６７８９", "0123456789")),
            kind,
            _int(m["no"]),
            m.end(),
        )
    m = _CIRC_RE.match(line)
    if m:
        return Marker(m["no"], "circ", _CIRC.index(m["no"]) + 1, m.end())
    m = _ART_RE.match(line)
    if m:
        return Marker(m["no"], "art", _int(m["no"][1:-1]), m.end())
    return None


def _clean(no: str) -> str:
    return re.sub(r"[\s\u3000]", "", no)
