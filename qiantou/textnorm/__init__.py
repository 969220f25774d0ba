"""Chinese text normalisation shared by the importer, the unit-name resolver and the data check.

Pure Python, no Django. Conversions use OpenCC's published configurations (``t2s`` character-wise,
``tw2sp`` with Taiwan vocabulary reverted, e.g. 資訊 → 信息, 軟體 → 软件).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import opencc

__all__ = [
    "fold_brackets",
    "is_mostly_traditional",
    "nfkc",
    "normalize_name",
    "revert_vocabulary",
    "strip_pinyin",
    "to_simplified",
    "to_simplified_text",
]

# Pinyin annotation after a Han character: "務(wù)", "據（jù）". Tone-marked Latin letters or
# numbered pinyin ("wu4") inside ASCII or full-width round brackets.
_PINYIN_SYLLABLE = r"[a-zA-Zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ]{1,7}[1-5]?"
_PINYIN_RE = re.compile(
    r"(?<=[\u3400-\u9fff])\s?[(（]\s?" + _PINYIN_SYLLABLE + r"(?:\s" + _PINYIN_SYLLABLE + r")*\s?[)）]"
)
_TONE_MARKS = set("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ")


def strip_pinyin(text: str) -> str:
    """Remove inline pinyin annotations such as ``務(wù)`` → ``務``.

    Only a bracket right after a Han character and holding one or more pinyin syllables is removed;
    a syllable must carry a tone mark or a tone digit, or the bracket must be short lowercase ASCII,
    so that ``（PPP）`` or ``(A)`` stay.
    """

    def _replace(match: re.Match[str]) -> str:
        inner = match.group(0).strip(" (（)）")
        if any(ch in _TONE_MARKS for ch in inner) or re.search(r"[a-z][1-5]\b", inner):
            return ""
        if inner.islower() and len(inner) <= 6 and inner.isascii() and inner.isalpha():
            return ""
        return match.group(0)

    return _PINYIN_RE.sub(_replace, text)


def nfkc(text: str) -> str:
    """Unicode NFKC: full-width letters, digits and brackets become ASCII (（ → ()."""
    return unicodedata.normalize("NFKC", text)


@cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def to_simplified(text: str, *, vocabulary: bool = False) -> str:
    """Traditional → simplified. ``vocabulary=True`` also reverts Taiwan vocabulary (OpenCC ``tw2sp``).

    Apply ``vocabulary`` only to text known to be traditional: on simplified text it would turn
    执行 into 运行.
    """
    return _converter("tw2sp" if vocabulary else "t2s").convert(text)


# Taiwan-only terms whose mainland form is certain, in simplified characters (after ``t2s``). Words
# that are also ordinary mainland words are deliberately absent: 支援, 执行, 资料, 影片, 建立, 整合,
# 品质, 程式, 介面, 智慧 … — OpenCC ``tw2sp`` rewrites those too (建立 → 创建, 执行 → 运行), which
# changes the words of a plan. Longest terms first.
_CERTAIN_TW_TERMS: tuple[tuple[str, str], ...] = (
    ("网际网路", "互联网"),
    ("资料库", "数据库"),
    ("资通讯", "信息通信"),
    ("伺服器", "服务器"),
    ("记忆体", "内存"),
    ("最佳化", "优化"),
    ("演算法", "算法"),
    ("人工智慧", "人工智能"),
    ("部落格", "博客"),
    ("印表机", "打印机"),
    ("随身碟", "U盘"),
    ("资讯", "信息"),
    ("软体", "软件"),
    ("硬体", "硬件"),
    ("网路", "网络"),
    ("排程", "调度"),
    ("简讯", "短信"),
    ("列印", "打印"),
    ("萤幕", "屏幕"),
    ("滑鼠", "鼠标"),
    ("行动支付", "移动支付"),
    ("行动网路", "移动网络"),
)
# 数位 is 数字 (digital) except before a word for people: 数位代表 = "several representatives".
_SHUWEI_RE = re.compile(r"数位(?!代表|专家|学者|同志|领导|委员|老师|嘉宾|成员|人员|工作人员|群众|市民|居民)")
_CERTAIN_TW_RE = re.compile("|".join(re.escape(tw) for tw, _ in _CERTAIN_TW_TERMS))
_CERTAIN_TW_MAP = dict(_CERTAIN_TW_TERMS)


def to_simplified_text(text: str) -> str:
    """Traditional → simplified for a document's text: character-wise (OpenCC ``t2s``) plus a short
    list of Taiwan-only terms whose mainland form is certain (資訊 → 信息, 軟體 → 软件, 網際網路 → 互联网,
    網路 → 网络, 最佳化 → 优化, 數位 → 数字, 資料庫 → 数据库, 伺服器 → 服务器, 排程 → 调度 …).

    Unlike ``to_simplified(vocabulary=True)`` (OpenCC ``tw2sp``) it leaves words that mainland plans
    also use as printed (建立, 整合, 执行, 资料, 支援, 影片), so users read the plan's own words. Unit
    names that still differ are found by the resolver, which tries the full vocabulary reversion.
    """
    simplified = _converter("t2s").convert(text)
    if not _CERTAIN_TW_RE.search(simplified) and "数位" not in simplified:
        return simplified
    simplified = _CERTAIN_TW_RE.sub(lambda m: _CERTAIN_TW_MAP[m.group(0)], simplified)
    return _SHUWEI_RE.sub("数字", simplified)


# Taiwan vocabulary already in simplified characters (a page converted with s2twp and then back
# character-wise: 信息 → 資訊 → 资讯). OpenCC's tw2sp only knows the traditional spellings.
_SIMPLIFIED_TW_VOCABULARY = (
    ("资讯", "信息"),
    ("软体", "软件"),
    ("硬体", "硬件"),
    ("网路", "网络"),
    ("网际网路", "互联网"),
    ("资料库", "数据库"),
    ("资料", "数据"),
    ("数位", "数字"),
    ("程式", "程序"),
)
_VOCABULARY_LONGEST_FIRST = sorted(_SIMPLIFIED_TW_VOCABULARY, key=lambda pair: -len(pair[0]))


def revert_vocabulary(text: str) -> str:
    """Revert Taiwan vocabulary in simplified script (资讯 → 信息, 软体 → 软件, 网路 → 网络).

    Like ``to_simplified(vocabulary=True)`` this changes ordinary words (资料 → 数据): use it only as
    a fallback, e.g. when a unit name did not match as printed.
    """
    for taiwan, mainland in _VOCABULARY_LONGEST_FIRST:
        if taiwan in text:
            text = text.replace(taiwan, mainland)
    return text


def is_mostly_traditional(text: str, threshold: float = 0.02) -> bool:
    """True when at least ``threshold`` of the Han characters change under traditional → simplified."""
    han = [ch for ch in text if "\u4e00" <= ch <= "\u9fff"]
    if not han:
        return False
    sample = "".join(han[:20000])
    converted = to_simplified(sample)
    changed = sum(1 for a, b in zip(sample, converted, strict=False) if a != b)
    return changed / len(sample) >= threshold


_BRACKETS = str.maketrans({
    "〔": "(", "〕": ")", "［": "(", "］": ")", "[": "(", "]": ")", "【": "(", "】": ")",
    "<": "(", ">": ")", "＜": "(", "＞": ")", "〈": "(", "〉": ")", "《": "(", "》": ")",
    "（": "(", "）": ")", "｛": "(", "｝": ")", "{": "(", "}": ")",
})


def fold_brackets(text: str) -> str:
    """Map every bracket kind (〔〕 ［］ 【】 <> 〈〉 （）…) to ASCII round brackets."""
    return text.translate(_BRACKETS)


_SPACE_RE = re.compile(r"[\s\u3000\u00a0\u200b\ufeff]+")


def normalize_name(name: str, *, vocabulary: bool = False) -> str:
    """Canonical key for a unit name: pinyin stripped, NFKC, simplified, brackets folded, no spaces.

    ``各縣<市、區>人民政府`` → ``各县(市、区)人民政府``. Used for exact lookups; the resolver adds
    aliases, former names and fuzzy matching on top.
    """
    text = strip_pinyin(name)
    text = nfkc(text)
    text = to_simplified(text, vocabulary=vocabulary)
    text = fold_brackets(text)
    return _SPACE_RE.sub("", text)
