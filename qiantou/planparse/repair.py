"""Text repair applied to everything a reader produces.

* :func:`fix_mojibake` — UTF-8 bytes that were decoded as GBK (``锛堝洓锛夊缓绔嬩富`` → ``（四）建立主``)
  and UTF-8/GBK bytes decoded as Latin-1/cp1252 (``é\\x9d\\x92å±±`` → ``青山``; ftfy for the Latin
  cases). Runs that lost bytes are repaired with one ``�`` per lost character; a line with more
  losses than :data:`MAX_LOST_PER_LINE` is kept as printed (it is destroyed, not repairable).
* :func:`repair_text` — mojibake, inline pinyin (``務(wù)`` → ``務``), CJK compatibility / Kangxi
  radical characters and common variant characters (``爲`` → ``为``), zero-width characters.
* :func:`repair_document` — the above on every block, traditional → simplified (character-wise plus
  the certain Taiwan-only terms, :func:`qiantou.textnorm.to_simplified_text`) when the document is mostly
  traditional, and page noise dropped: portal navigation and
  breadcrumbs, 上一篇/下一篇, print/close/share links, site footers, content-farm preambles,
  ``索 引 号`` metadata blocks, page-number lines and a document number repeated inside the text.

Full-width punctuation is kept as printed (no NFKC of whole lines).
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from functools import cache

from qiantou.planparse.document import Block, Paragraph, SourceDocument, Table
from qiantou.textnorm import is_mostly_traditional, strip_pinyin, to_simplified_text

__all__ = [
    "MAX_LOST_PER_LINE",
    "fix_mojibake",
    "is_noise_line",
    "repair_document",
    "repair_text",
]

MAX_LOST_PER_LINE = 2
REPLACEMENT = "\ufffd"


# --- mojibake: UTF-8 read as GBK --------------------------------------------------------------


@cache
def _gbk_start_chars() -> frozenset[str]:
    """Characters whose GBK bytes start a UTF-8 multi-byte sequence for CJK or CJK punctuation.

    Lead bytes E2–E9 and EF (``锛`` = EF BC, the start of full-width punctuation) with a trail byte in
    80–BF: in GBK these are rare characters, so a line containing one is worth a closer look.
    """
    out = set()
    for lead in [*range(0xE2, 0xEA), 0xEF]:
        for trail in range(0x80, 0xC0):
            try:
                out.add(bytes([lead, trail]).decode("gbk"))
            except UnicodeDecodeError:
                continue
    return frozenset(out)


def _plausible(text: str) -> bool:
    """Repaired text should be Chinese: CJK ideographs, CJK/full-width punctuation, digits, quotes."""
    han = 0
    for ch in text:
        o = ord(ch)
        if 0x4E00 <= o <= 0x9FFF:
            han += 1
        elif not (
            0x3000 <= o <= 0x303F or 0xFF00 <= o <= 0xFFEF or 0x2010 <= o <= 0x206F or ch == REPLACEMENT
        ):
            return False
    return han >= 1 and len(text) >= 2


def _repair_run(line: str, start: int) -> tuple[str, int, int] | None:
    """Try to undo GBK-decoding of UTF-8 from ``line[start]``; returns (fixed, end, lost) or None."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    best: tuple[str, int, int] | None = None
    out = ""
    i = start
    n = len(line)
    while i < n:
        ch = line[i]
        if ch.isascii():
            break
        try:
            raw = ch.encode("gbk")
        except UnicodeEncodeError:
            break
        if len(raw) != 2:
            break
        try:
            out += decoder.decode(raw)
        except UnicodeDecodeError:
            break
        i += 1
        pending = decoder.getstate()[0]
        if not pending and _plausible(out):
            best = (out, i, 0)
        elif pending and i < n and line[i] == REPLACEMENT and _plausible(out + REPLACEMENT):
            # the byte after these was lost and printed as �: one lost character
            best = (out + REPLACEMENT, i + 1, 1)
    if best is None:
        return None
    fixed, end, lost = best
    # a genuine run consumes at least 3 garbled characters (2 CJK characters = 6 bytes)
    if end - start < 3 and not lost:
        return None
    return fixed, end, lost


@cache
def _gbk_start_re() -> re.Pattern[str]:
    return re.compile("[" + "".join(sorted(_gbk_start_chars())) + "]")


def _fix_gbk_mojibake(line: str) -> tuple[str, int]:
    if not _gbk_start_re().search(line):
        return line, 0
    starts = _gbk_start_chars()
    out: list[str] = []
    lost_total = 0
    i = 0
    while i < len(line):
        if line[i] in starts:
            fixed = _repair_run(line, i)
            if fixed is not None:
                text, end, lost = fixed
                out.append(text)
                lost_total += lost
                i = end
                continue
        out.append(line[i])
        i += 1
    return "".join(out), lost_total


_LATIN_RUN = re.compile(
    r"[\u0080-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]{2,}"
)


def _fix_latin_mojibake(line: str) -> str:
    """UTF-8 or GBK bytes decoded as Latin-1/cp1252 (``é\\x9d\\x92å±±``)."""
    if not _LATIN_RUN.search(line):
        return line

    def repl(m: re.Match[str]) -> str:
        run = m.group(0)
        for enc in ("cp1252", "latin-1"):
            try:
                raw = run.encode(enc)
            except UnicodeEncodeError:
                continue
            for target in ("utf-8", "gbk"):
                try:
                    fixed = raw.decode(target)
                except UnicodeDecodeError:
                    continue
                if _plausible(fixed):
                    return fixed
        return run

    fixed = _LATIN_RUN.sub(repl, line)
    if fixed == line:
        import ftfy

        fixed = ftfy.fix_encoding(line)
        if fixed != line and not _plausible("".join(ch for ch in fixed if not ch.isascii()) or "x"):
            return line
    return fixed


def fix_mojibake(line: str) -> tuple[str, bool]:
    """Repair mojibake in one line. Returns ``(text, destroyed)``.

    ``destroyed`` is True when the line has more than :data:`MAX_LOST_PER_LINE` lost characters: it is
    then returned as printed, because a guess would invent text.
    """
    if line.isascii():
        return line, False
    fixed, _lost = _fix_gbk_mojibake(line)
    if fixed.count(REPLACEMENT) > MAX_LOST_PER_LINE:
        return line, True
    return _fix_latin_mojibake(fixed), False


# --- characters ---------------------------------------------------------------------------------

# Variant characters that show up in simplified documents (input methods, old fonts, conversions).
_VARIANTS = str.maketrans(
    {
        "爲": "为",
        "僞": "伪",
        "靑": "青",
        "淸": "清",
        "眞": "真",
        "敎": "教",
        "衞": "卫",
        "戶": "户",
        "內": "内",
        "兌": "兑",
        "稅": "税",
        "說": "说",
        "悅": "悦",
        "銳": "锐",
        "爭": "争",
        "淨": "净",
        "溫": "温",
        "絕": "绝",
        "録": "录",
        "頽": "颓",
        "鷄": "鸡",
        "為": "为",
        "\u200b": None,
        "\u200c": None,
        "\u200d": None,
        "\u2060": None,
        "\ufeff": None,
        "\u00ad": None,
    }
)


_COMPAT_RE = re.compile("[\u2e80-\u2fdf\uf900-\ufaff\U0002f800-\U0002fa1f]")
_VARIANT_RE = re.compile("[" + "".join(chr(k) for k in _VARIANTS) + "]")


def _variants(text: str) -> str:
    return text.translate(_VARIANTS) if _VARIANT_RE.search(text) else text


def _fold_compat(text: str) -> str:
    """CJK compatibility ideographs and Kangxi/CJK radicals (PDF extraction) → unified ideographs."""
    if not _COMPAT_RE.search(text):
        return text
    return "".join(
        unicodedata.normalize("NFKC", ch)
        if ("\u2e80" <= ch <= "\u2fdf" or "\uf900" <= ch <= "\ufaff" or "\U0002f800" <= ch <= "\U0002fa1f")
        else ch
        for ch in text
    )


def repair_text(text: str) -> str:
    """Line-level repair of one text (see module doc); multi-line texts are repaired line by line."""
    if not text:
        return text
    lines = text.split("\n")
    out = []
    for line in lines:
        line, _destroyed = fix_mojibake(line)
        line = strip_pinyin(line)
        line = _variants(_fold_compat(line))
        out.append(line)
    return "\n".join(out)


# --- page noise ---------------------------------------------------------------------------------

_NOISE_PATTERNS = [
    re.compile(p)
    for p in (
        r"^(?:上一篇|下一篇|上一条|下一条|上一页|下一页|上一则|下一则)\s*[:：]",
        r"^(?:当前位置|您的位置|您现在的位置|您当前的位置|所在位置|现在位置)\s*[:：]",
        r"^(?:首页\s*[>＞»/|]\s*)+",
        # (列印/视窗: a Taiwan-vocabulary page converted character-wise keeps those words)
        r"^[【\[]?\s*(?:打印本页|打印|关闭窗口|关闭视窗|关闭本页|关闭|列印本页|列印|返回顶部|收藏本页|加入收藏|"
        r"打印文章)\s*[】\]]?"
        r"(?:\s*[【\[]?\s*(?:打印本页|打印|关闭窗口|关闭视窗|关闭本页|关闭|列印本页|列印|返回顶部|收藏本页|加入收藏|"
        r"保存|纠错)\s*[】\]]?)*$",
        r"^(?:分享到|分享|扫一扫|扫描二维码|微信扫一扫|手机扫一扫)",
        r"^(?:下面是|以下是|本文是|这是)(?:小编|本站|编辑|网友)?(?:为大家|为您|给大家)?(?:整理|收集|精心整理|分享)",
        r"^(?:本文由网友投稿|本文来源于网络|免责声明|版权声明|如有侵权|Copyright|©|版权所有)",
        r"(?:ICP备|网站标识码|公网安备|京公网|技术支持[:：])",
        r"^(?:主办单位|主办|承办单位|承办|联系我们|网站地图|网站声明|关于我们)\s*[:：]",
        r"^[(（]?全文未完.{0,30}(?:下载|未读|阅读全文)",
        r"^(?:相关推荐|相关阅读|相关文章|相关链接|猜你喜欢|热门推荐|延伸阅读|推荐阅读|阅读排行)\s*[:：]?\s*$",
        r"^(?:字体|字号)\s*[:：]\s*[\[【]?\s*大\s*中\s*小",
        r"^(?:登录|注册)\s*[|｜/]\s*(?:登录|注册)$",
        r"^下载完整版|^点击下载|^立即下载",
    )
]
_META_KEYS = re.compile(
    r"(?:索\s*引\s*号|主\s*题\s*分\s*类|分\s*类|发\s*布\s*机\s*构|发\s*文\s*机\s*关|成\s*文\s*日\s*期|"
    r"发\s*文\s*日\s*期|发\s*布\s*日\s*期|发\s*布\s*时\s*间|来\s*源|浏\s*览\s*次\s*数|阅\s*读|点\s*击|"
    r"访\s*问\s*量|作\s*者|时\s*间|字\s*[体号]|生\s*效\s*日\s*期|有\s*效\s*性|主\s*题\s*词|信\s*息\s*来\s*源|"
    r"发\s*布\s*者|责\s*任\s*编\s*辑|编\s*辑)\s*[:：|｜]"
)
_PAGE_NO_LINE = re.compile(
    r"^\s*(?:[-—–－]+\s*\d{1,4}\s*[-—–－]+|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?|"
    r"\d{1,4}\s*/\s*\d{1,4}|[Pp]age\s*\d{1,4}(?:\s*of\s*\d{1,4})?)\s*$"
)
_DOC_NUMBER_LINE = re.compile(
    r"^\s*[\u4e00-\u9fff]{1,10}\s*[〔\[［【(（]\s*\d{4}\s*[〕\]］】)）]\s*\d{1,4}\s*号\s*$"
)
_BOX_LINE = re.compile(r"^\s*[│┃|├┌└┤┐┘┬┴┼─━║╔╚╠╟╞]")


def is_noise_line(text: str) -> bool:
    """True for page noise (navigation, metadata, 上一篇/下一篇, print links, footers, farm preambles)."""
    line = text.strip()
    if not line:
        return False
    if len(line) <= 160 and any(p.search(line) for p in _NOISE_PATTERNS):
        return True
    if len(line) <= 200 and len(_META_KEYS.findall(line)) >= 2:
        return True
    return bool(_PAGE_NO_LINE.match(line))


def _repair_table(table: Table, fn: object) -> None:
    from collections.abc import Callable

    assert callable(fn)
    f: Callable[[str], str] = fn
    cache_: dict[str, str] = {}
    for row in table.rows:
        for c, cell in enumerate(row):
            if cell not in cache_:
                cache_[cell] = f(cell)
            row[c] = cache_[cell]


def repair_document(doc: SourceDocument) -> SourceDocument:
    """Repair every block of ``doc`` in place and return it (see the module doc for what is done)."""
    destroyed = 0
    repaired = 0
    clean_sample: list[str] = []  # text without destroyed lines, to judge the script

    def line_repair(text: str) -> str:
        nonlocal destroyed, repaired
        out = []
        for line in text.split("\n"):
            fixed, bad = fix_mojibake(line)
            if bad:
                destroyed += 1
            elif len(clean_sample) < 4000:
                clean_sample.append(fixed)
            if not bad and fixed != line:
                repaired += 1
            fixed = strip_pinyin(fixed)
            out.append(_variants(_fold_compat(fixed)))
        return "\n".join(out)

    for block in doc.blocks:
        if isinstance(block, Paragraph):
            block.text = line_repair(block.text)
        else:
            _repair_table(block, line_repair)
    if repaired:
        doc.warnings.append(f"已修复 {repaired} 处乱码（UTF-8 文字被按 GBK 等编码误读）")
    if destroyed:
        doc.warnings.append(f"有 {destroyed} 行乱码损坏严重、无法可靠修复，已按原样保留，请核对原件")

    if is_mostly_traditional("".join(clean_sample)):
        doc.traditional = True
        conv: dict[str, str] = {}

        def simp(text: str) -> str:
            if text not in conv:
                conv[text] = _variants(to_simplified_text(text))
            return conv[text]

        for block in doc.blocks:
            if isinstance(block, Paragraph):
                block.text = simp(block.text)
            else:
                _repair_table(block, simp)
        doc.warnings.append("原文为繁体字，已转换为简体（台湾用语仅转换含义确定的词，如“資訊”→“信息”）")

    doc.blocks = _drop_noise(doc.blocks, doc.warnings)
    return doc


def _drop_noise(blocks: list[Block], warnings: list[str]) -> list[Block]:
    out: list[Block] = []
    dropped = 0
    seen_doc_numbers: set[str] = set()
    for block in blocks:
        if isinstance(block, Table):
            out.append(block)
            continue
        text = block.text.strip()
        if is_noise_line(text):
            dropped += 1
            continue
        if _DOC_NUMBER_LINE.match(text):
            key = re.sub(r"\s", "", text)
            if key in seen_doc_numbers:
                dropped += 1  # a running header repeating the document number
                continue
            seen_doc_numbers.add(key)
        out.append(block)
    # blank lines left between two lines of a box-drawing table (where a page break was spliced in)
    # next_filled[i]: the first block after i that is not a blank paragraph (one backward pass; a
    # forward search from every blank line was quadratic on texts with blank lines between items).
    next_filled: list[Block | None] = [None] * len(out)
    following: Block | None = None
    for i in range(len(out) - 1, -1, -1):
        next_filled[i] = following
        b = out[i]
        if not (isinstance(b, Paragraph) and not b.text.strip()):
            following = b
    cleaned: list[Block] = []
    for i, block in enumerate(out):
        if isinstance(block, Paragraph) and not block.text.strip() and cleaned:
            prev = cleaned[-1]
            nxt = next_filled[i]
            if (
                isinstance(prev, Paragraph)
                and isinstance(nxt, Paragraph)
                and _BOX_LINE.match(prev.text)
                and _BOX_LINE.match(nxt.text)
            ):
                continue
        cleaned.append(block)
    if dropped:
        warnings.append(f"已移除 {dropped} 行网页或页面杂项（导航、页码、元数据、转载说明等）")
    return cleaned
