"""Font names of GB/T 9704-2012 and their fallbacks.

The standard names the typefaces by their traditional names (仿宋_GB2312, 方正小标宋简体, 黑体,
楷体_GB2312); government PCs have them, a Debian server does not. Word and WPS use the named font when
installed; the .docx font table lists a Noto CJK font as ``altName`` and the PDF's CSS lists Noto CJK
after the official names, so the text never falls back to tofu.
"""

from __future__ import annotations

#: role -> (official font name, Noto CJK fallback)
FONTS: dict[str, tuple[str, str]] = {
    "fangsong": ("仿宋_GB2312", "Noto Serif CJK SC"),  # body text (3号仿宋)
    "xiaobiaosong": ("方正小标宋简体", "Noto Serif CJK SC"),  # authority mark and title (小标宋)
    "heiti": ("黑体", "Noto Sans CJK SC"),  # first-level headings, "附件" (黑体)
    "kaiti": ("楷体_GB2312", "Noto Serif CJK SC"),  # second-level headings (楷体)
    "songti": ("宋体", "Noto Serif CJK SC"),  # page numbers (4号半角宋体)
}

#: Latin text and digits in the body.
LATIN = "Times New Roman"

#: Extra CSS family names per role, between the official name and the Noto fallback (common aliases).
ALIASES: dict[str, list[str]] = {
    "fangsong": ["仿宋", "FangSong", "STFangsong"],
    "xiaobiaosong": ["FZXiaoBiaoSong-B05S", "方正小标宋_GBK"],
    "heiti": ["SimHei", "STHeiti"],
    "kaiti": ["楷体", "KaiTi", "STKaiti"],
    "songti": ["SimSun", "STSong"],
}


def css_family(role: str) -> str:
    """The CSS ``font-family`` list for a role: official name, aliases, Noto CJK, generic."""
    official, fallback = FONTS[role]
    generic = "sans-serif" if role == "heiti" else "serif"
    names = [official, *ALIASES.get(role, []), fallback]
    return ", ".join(f'"{n}"' for n in names) + f", {generic}"
