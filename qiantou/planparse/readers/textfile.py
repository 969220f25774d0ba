"""Plain-text plans: decode the bytes (BOM, UTF-8, UTF-16, GB18030/GBK, Big5) into paragraphs."""

from __future__ import annotations

import codecs

import charset_normalizer

from qiantou.planparse.document import Paragraph, PlanFileError

__all__ = ["decode_text", "read_text"]

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _looks_utf16(data: bytes) -> str | None:
    """UTF-16 without a BOM: NUL bytes (the high byte of ASCII characters) on one side of each pair only."""
    sample = data[:20000]
    if len(sample) < 4 or len(sample) % 2:
        return None
    even_nul = sample[0::2].count(0)
    odd_nul = sample[1::2].count(0)
    if odd_nul >= 2 and even_nul * 4 < odd_nul:
        return "utf-16-le"
    if even_nul >= 2 and odd_nul * 4 < even_nul:
        return "utf-16-be"
    return None


def _han_score(text: str) -> float:
    """Share of characters that are common CJK, CJK punctuation, ASCII or whitespace."""
    if not text:
        return 0.0
    good = 0
    for ch in text:
        o = ord(ch)
        if o < 0x80 or 0x4E00 <= o <= 0x9FFF or 0x3000 <= o <= 0x303F or 0xFF00 <= o <= 0xFFEF:
            good += 1
        elif ch in "“”‘’—…·│─┌┐└┘├┤┬┴┼━┃":
            good += 1
    return good / len(text)


def decode_text(data: bytes, filename: str, declared: str | None = None) -> tuple[str, str]:
    """Decode ``data`` and return ``(text, encoding)``.

    Order: a BOM; the ``declared`` charset (HTML meta) when the bytes decode cleanly with it; strict
    UTF-8; UTF-16 without BOM; then the Chinese legacy encodings GB18030 (a superset of GBK) and Big5,
    choosing the one whose result is most plausibly Chinese text, with ``charset_normalizer`` as the
    last resort. Raises :class:`PlanFileError` when nothing decodes.
    """
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(enc), enc.replace("-sig", "")
            except UnicodeDecodeError:
                break
    if declared:
        wanted = _normalise_encoding(declared)
        if wanted:
            try:
                return data.decode(wanted), wanted
            except (UnicodeDecodeError, LookupError):
                pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    utf16 = _looks_utf16(data)
    if utf16:
        try:
            decoded = data.decode(utf16)
        except UnicodeDecodeError:
            decoded = ""
        if decoded and _han_score(decoded) > 0.9:
            return decoded, "utf-16"
    candidates: list[tuple[float, str, str]] = []
    for enc in ("gb18030", "big5hkscs"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        candidates.append((_han_score(text), enc, text))
    if candidates:
        # GB18030 decodes almost any byte string; prefer Big5 only when it is clearly more plausible.
        candidates.sort(key=lambda c: (c[0], c[1] == "gb18030"), reverse=True)
        score, enc, text = candidates[0]
        if score > 0.9:
            if enc.startswith("big5"):
                return text, "big5"
            return text, "gbk" if _is_gbk(data) else "gb18030"
    best = charset_normalizer.from_bytes(data).best()
    if best is not None:
        return str(best), best.encoding
    for enc in ("gb18030",):
        return data.decode(enc, errors="replace"), enc
    raise PlanFileError(filename, "无法识别文本编码")  # pragma: no cover - loop above always returns


def _is_gbk(data: bytes) -> bool:
    try:
        data.decode("gbk")
    except UnicodeDecodeError:
        return False
    return True


_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "gb18030": "gb18030",
    "big5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "x-x-big5": "big5hkscs",
    "utf8": "utf-8",
    "utf-8": "utf-8",
}


def _normalise_encoding(name: str) -> str | None:
    key = name.strip().strip("\"'").lower()
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        return codecs.lookup(key).name
    except LookupError:
        return None


def read_text(data: bytes, filename: str) -> tuple[list[Paragraph], str]:
    """Split a text file into one :class:`Paragraph` per line (CRLF/CR/LF); returns ``(blocks, encoding)``."""
    text, encoding = decode_text(data, filename)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return [Paragraph(line.rstrip()) for line in lines], encoding
