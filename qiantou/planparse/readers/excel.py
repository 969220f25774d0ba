"""Excel ``.xlsx`` → one :class:`Table` per sheet, values as displayed.

Every sheet is read (hidden ones too, with a warning); merged ranges are filled with the origin's
text and marked in ``merged``; fully empty rows and trailing empty columns are dropped. Dates stored
as serial numbers are rendered with their number format (``yyyy"年"m"月"d"日"`` → ``2024年8月31日``),
numbers as Excel shows them (``1`` not ``1.0``, percentages, thousands separators, fixed decimals).
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from openpyxl import load_workbook
from openpyxl.styles.numbers import BUILTIN_FORMATS
from openpyxl.utils.datetime import from_excel

from qiantou.planparse.document import PlanFileError, Table
from qiantou.planparse.readers.limits import open_zip

__all__ = ["display_value", "read_xlsx"]

# Chinese-locale built-in formats that openpyxl does not list (ids 27-36, 50-58 in zh-CN Excel).
_ZH_BUILTIN = {
    27: 'yyyy"年"m"月"',
    28: 'm"月"d"日"',
    29: 'm"月"d"日"',
    30: "m-d-yy",
    31: 'yyyy"年"m"月"d"日"',
    32: 'h"时"mm"分"',
    33: 'h"时"mm"分"ss"秒"',
    34: '上午/下午h"时"mm"分"',
    35: '上午/下午h"时"mm"分"ss"秒"',
    36: 'yyyy"年"m"月"',
    50: 'yyyy"年"m"月"',
    51: 'm"月"d"日"',
    52: 'yyyy"年"m"月"',
    53: 'm"月"d"日"',
    54: 'm"月"d"日"',
    55: '上午/下午h"时"mm"分"',
    56: '上午/下午h"时"mm"分"ss"秒"',
    57: 'yyyy"年"m"月"',
    58: 'm"月"d"日"',
}

_DATE_TOKENS = re.compile(r"(yyyy|yy|mmmm|mmm|mm|m|dddd|ddd|dd|d|hh|h|ss|s|am/pm|上午/下午)", re.IGNORECASE)


def _strip_format(fmt: str) -> str:
    """First section of a format without colours, locales and conditions (``[Red]``, ``[$-804]``)."""
    section = fmt.split(";")[0]
    return re.sub(r"\[[^\]]*\]", "", section)


def _is_date_format(fmt: str) -> bool:
    bare = re.sub(r'"[^"]*"|\\.', "", _strip_format(fmt)).lower()
    if bare in ("general", "@"):
        return False
    return bool(re.search(r"[ymdhs]|上午", bare)) and not re.search(r"[#?0]", bare)


def _render_date(value: dt.datetime | dt.date | dt.time, fmt: str) -> str:
    section = _strip_format(fmt)
    out: list[str] = []
    i = 0
    tokens = []
    while i < len(section):
        ch = section[i]
        if ch == '"':
            j = section.find('"', i + 1)
            j = len(section) if j < 0 else j
            tokens.append(("lit", section[i + 1 : j]))
            i = j + 1
            continue
        if ch == "\\" and i + 1 < len(section):
            tokens.append(("lit", section[i + 1]))
            i += 2
            continue
        m = _DATE_TOKENS.match(section, i)
        if m:
            tokens.append(("tok", m.group(0)))
            i = m.end()
            continue
        if ch in "_*":
            i += 2
            continue
        tokens.append(("lit", ch))
        i += 1
    has_ampm = any(t[0] == "tok" and t[1].lower() in ("am/pm", "上午/下午") for t in tokens)
    year = getattr(value, "year", 1900)
    month = getattr(value, "month", 1)
    day = getattr(value, "day", 1)
    hour = getattr(value, "hour", 0)
    minute = getattr(value, "minute", 0)
    second = getattr(value, "second", 0)
    for idx, (kind, tok) in enumerate(tokens):
        if kind == "lit":
            out.append(tok)
            continue
        low = tok.lower()
        # m/mm after h or before s means minutes
        prev_tok = next((t[1].lower() for t in reversed(tokens[:idx]) if t[0] == "tok"), "")
        next_tok = next((t[1].lower() for t in tokens[idx + 1 :] if t[0] == "tok"), "")
        is_minute = low in ("m", "mm") and (prev_tok.startswith("h") or next_tok.startswith("s"))
        if low == "yyyy":
            out.append(f"{year:04d}")
        elif low == "yy":
            out.append(f"{year % 100:02d}")
        elif is_minute:
            out.append(f"{minute:02d}" if low == "mm" else str(minute))
        elif low == "mmmm":
            out.append(f"{month}月")
        elif low == "mmm":
            out.append(f"{month}月")
        elif low == "mm":
            out.append(f"{month:02d}")
        elif low == "m":
            out.append(str(month))
        elif low in ("dddd", "ddd"):
            weekday = dt.date(year, month, day).weekday() if isinstance(value, dt.date) else 0
            out.append("星期" + "一二三四五六日"[weekday])
        elif low == "dd":
            out.append(f"{day:02d}")
        elif low == "d":
            out.append(str(day))
        elif low in ("hh", "h"):
            h = hour % 12 or 12 if has_ampm else hour
            out.append(f"{h:02d}" if low == "hh" else str(h))
        elif low in ("ss", "s"):
            out.append(f"{second:02d}" if low == "ss" else str(second))
        elif low == "am/pm":
            out.append("AM" if hour < 12 else "PM")
        elif low == "上午/下午":
            out.append("上午" if hour < 12 else "下午")
    return "".join(out)


def _render_number(value: float | int, fmt: str) -> str:
    section = _strip_format(fmt)
    if not section or section.lower() == "general" or section == "@":
        return _general(value)
    prefix: list[str] = []
    suffix: list[str] = []
    numfmt = ""
    i = 0
    while i < len(section):
        ch = section[i]
        target = suffix if numfmt else prefix
        if ch == '"':
            j = section.find('"', i + 1)
            j = len(section) if j < 0 else j
            target.append(section[i + 1 : j])
            i = j + 1
        elif ch == "\\" and i + 1 < len(section):
            target.append(section[i + 1])
            i += 2
        elif ch in "_*":
            i += 2
        elif ch in "0#?,." and not suffix:
            numfmt += ch
            i += 1
        else:
            target.append(ch)
            i += 1
    if not any(c in numfmt for c in "0#?"):
        return _general(value)
    number = value * 100 if "%" in "".join(prefix + suffix) else value
    decimals = len(numfmt.split(".")[1]) if "." in numfmt else 0
    rounded = Decimal(str(number)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    grouped = "," in numfmt.split(".")[0]
    text = f"{rounded:,.{decimals}f}" if grouped else f"{rounded:.{decimals}f}"
    return "".join(prefix) + text + "".join(suffix)


def _general(value: float | int) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.10g}"


def display_value(value: Any, number_format: str | None, epoch: dt.datetime | None = None) -> str:
    """A cell's value as Excel displays it with ``number_format``."""
    fmt = number_format or "General"
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        if not _is_date_format(fmt):
            fmt = "yyyy-mm-dd" if not isinstance(value, dt.time) else "h:mm"
        if (
            isinstance(value, dt.datetime)
            and value.time() == dt.time(0)
            and fmt.lower() in ("yyyy-mm-dd h:mm:ss", "general")
        ):
            fmt = "yyyy-mm-dd"
        return _render_date(value, fmt)
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, int | float):
        if _is_date_format(fmt) and 0 < float(value) < 2958466:
            try:
                converted = from_excel(value, epoch) if epoch else from_excel(value)
            except (ValueError, OverflowError):
                converted = None
            if converted is not None:
                return _render_date(converted, fmt)
        return _render_number(value, fmt)
    return str(value)


def _number_format(cell: Any) -> str:
    fmt = cell.number_format or "General"
    style_id = getattr(cell, "_style", None)
    num_fmt_id = getattr(style_id, "numFmtId", None)
    if isinstance(num_fmt_id, int) and num_fmt_id in _ZH_BUILTIN and num_fmt_id not in BUILTIN_FORMATS:
        return _ZH_BUILTIN[num_fmt_id]
    return fmt


def read_xlsx(data: bytes, filename: str) -> tuple[list[Table], list[str]]:
    """One :class:`Table` per non-empty sheet, plus warnings. Raises :class:`PlanFileError` if damaged."""
    import io

    open_zip(data, filename, "Excel 工作簿").close()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = load_workbook(io.BytesIO(data), data_only=True, read_only=False)
    except PlanFileError:
        raise
    except Exception as exc:
        raise PlanFileError(
            filename, f"Excel 工作簿已损坏或不完整，无法打开（{type(exc).__name__}）"
        ) from exc
    notes: list[str] = []
    tables: list[Table] = []
    epoch = getattr(wb, "epoch", None)
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            notes.append(f"工作表“{ws.title}”处于隐藏状态，仍已读取")
        max_row, max_col = ws.max_row, ws.max_column
        if max_row * max_col > 2_000_000:
            raise PlanFileError(filename, f"工作表“{ws.title}”过大（{max_row} 行 × {max_col} 列）")
        grid: list[list[str]] = []
        for row in ws.iter_rows(min_row=1, max_row=max_row, max_col=max_col):
            out_row = []
            for cell in row:
                if cell.__class__.__name__ == "MergedCell":
                    out_row.append("")
                    continue
                text = display_value(cell.value, _number_format(cell), epoch)
                out_row.append(text.replace("\r\n", "\n").replace("\r", "\n").strip())
            grid.append(out_row)
        merged = [[False] * max_col for _ in range(max_row)]
        for rng in ws.merged_cells.ranges:
            r0, c0, r1, c1 = rng.min_row - 1, rng.min_col - 1, rng.max_row - 1, rng.max_col - 1
            if r0 >= max_row or c0 >= max_col:
                continue
            origin = grid[r0][c0]
            for r in range(r0, min(r1, max_row - 1) + 1):
                for c in range(c0, min(c1, max_col - 1) + 1):
                    if (r, c) != (r0, c0):
                        grid[r][c] = origin
                        merged[r][c] = True
        keep = [i for i, row in enumerate(grid) if any(row)]
        if not keep:
            continue
        grid = [grid[i] for i in keep]
        merged = [merged[i] for i in keep]
        width = max((max((j + 1 for j, v in enumerate(row) if v), default=0) for row in grid), default=0)
        tables.append(
            Table(rows=[row[:width] for row in grid], merged=[m[:width] for m in merged], sheet=ws.title)
        )
    wb.close()
    return tables, notes
