"""Masking personal data for lists (PIPL 个人信息保护法 art. 51 去标识化; GB/T 35273-2020 §6.2 展示限制).

``mask_id_number("110105199001011234")`` → ``"110***********1234"``: the first three and last four
characters of a resident identity number (GB 11643-1999, 18 or 15 characters) stay, the rest is ``*``.
``mask_name("张三丰")`` → ``"张**"``: the family name stays. Full values are shown only to permitted
roles, and the showing is recorded (:func:`qiantou.security.services.personal_data_reveal`).
"""

from __future__ import annotations


def mask_id_number(value: str | None) -> str:
    """Mask a resident identity number for display; short or empty values become all ``*``."""
    text = (value or "").strip()
    if len(text) < 8:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


#: Two-character family names (复姓) whose second character would otherwise be shown unmasked.
_COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙".split()
    + "宇文 司徒 夏侯 轩辕 令狐 端木 独孤 南宫 西门 澹台".split()
)


def mask_name(value: str | None) -> str:
    """Mask a person's name: keep the family name (one character, or a known 复姓), star the rest.

    A one-character value becomes ``*``; Latin-script names keep their first letter.
    """
    text = (value or "").strip()
    if len(text) <= 1:
        return "*" * len(text)
    keep = 2 if text[:2] in _COMPOUND_SURNAMES and len(text) > 2 else 1
    return text[:keep] + "*" * (len(text) - keep)
