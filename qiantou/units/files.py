"""Reading and writing the unit directory as CSV and XLSX files. Pure Python, no database.

File layout (one row per unit, header on the first row, columns in any order)::

    code,name,short_names,parent_code,kind,mandate[,former_names][,active]

``short_names`` and ``former_names`` are ``|``-separated lists. ``active`` is optional: blank means
active; ``1/0``, ``true/false``, ``yes/no``, ``是/否``, ``有效/无效`` are understood.

Row numbers are the ones a spreadsheet shows: the header is row 1, the first unit row 2.

Encodings (CSV): UTF-8 with or without BOM is the format. A file that is not valid UTF-8 is read as
GB18030 (a superset of GBK, what Excel on a Chinese Windows saves as "CSV") only when it decodes
strictly *and* the result looks like Chinese text (no control or private-use characters, at
least 90 % of its non-ASCII characters are CJK ideographs or CJK/full-width punctuation, and at
least 95 % of its distinct Han characters are in GB2312 — Big5 bytes read as GBK decode into rare
characters, which this catches); anything
else — Big5, Latin-1, UTF-16, a binary file — is refused with a message asking for UTF-8, rather
than importing mojibake into the directory.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from qiantou.errors import QiantouError

REQUIRED_COLUMNS = ("code", "name", "short_names", "parent_code", "kind", "mandate")
OPTIONAL_COLUMNS = ("former_names", "active")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
LIST_SEPARATOR = "|"

# A directory file is small; refuse a zip whose members would inflate beyond this (zip bomb).
MAX_XLSX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls / .doc


@dataclass(frozen=True)
class RowProblem:
    """One thing wrong with an input file: ``row`` as a spreadsheet numbers it (0 = the whole file)."""

    row: int
    field: str
    message: str

    def __str__(self) -> str:
        if self.row == 0:
            return self.message
        if self.field:
            return _("第 %(row)d 行 %(field)s：%(message)s") % {
                "row": self.row, "field": self.field, "message": self.message,
            }
        return _("第 %(row)d 行：%(message)s") % {"row": self.row, "message": self.message}


class UnitImportError(QiantouError):
    """A directory file was rejected whole. ``problems`` lists every bad row (row number, field, why).

    Raised for a file that cannot be read (encoding, format, header) and for rows that fail checks.
    """

    def __init__(self, file_name: str, problems: Sequence[RowProblem]) -> None:
        self.file_name = file_name
        self.problems = list(problems)
        if len(self.problems) == 1:
            message = f"{file_name}：{self.problems[0]}"
        else:
            message = _("%(file)s：未导入，共 %(count)d 处问题：") % {
                "file": file_name, "count": len(self.problems),
            } + "".join(f"\n  {p}" for p in self.problems)
        super().__init__(message)


@dataclass
class DirectoryRow:
    """One unit row as read from a file: cell texts by column, stripped; absent columns missing."""

    row: int
    cells: dict[str, str]
    extra_cells: list[str] = field(default_factory=list)

    def get(self, column: str) -> str | None:
        """The stripped cell text, or None when the file has no such column."""
        return self.cells.get(column)


@dataclass
class DirectoryTable:
    """What a directory file holds: its columns (header order) and its non-blank rows."""

    columns: list[str]
    rows: list[DirectoryRow]


def split_list(text: str | None) -> list[str]:
    """``"市政府|市人民政府| "`` → ``["市政府", "市人民政府"]`` (blank items dropped, order kept)."""
    if not text:
        return []
    return [part.strip() for part in text.split(LIST_SEPARATOR) if part.strip()]


def join_list(items: Iterable[str]) -> str:
    """Inverse of :func:`split_list`."""
    return LIST_SEPARATOR.join(items)


def _looks_like_chinese_text(text: str) -> bool:
    """Heuristic for a GB18030 decode that produced real text rather than mojibake."""
    non_ascii = 0
    cjk = 0
    for ch in text:
        if ch in "\t\r\n":
            continue
        category = unicodedata.category(ch)
        if category in ("Cc", "Co", "Cs", "Cn"):
            return False
        if ord(ch) < 0x80:
            continue
        non_ascii += 1
        code = ord(ch)
        if (
            0x4E00 <= code <= 0x9FFF  # CJK unified ideographs
            or 0x3400 <= code <= 0x4DBF  # extension A
            or 0x3000 <= code <= 0x303F  # CJK punctuation
            or 0xFF00 <= code <= 0xFFEF  # full-width forms
            or code in (0x2014, 0x2018, 0x2019, 0x201C, 0x201D, 0x2026, 0x00B7, 0x2022)
        ):
            cjk += 1
    if non_ascii and cjk / non_ascii < 0.9:
        return False
    # Big5 (or other double-byte) bytes often decode "cleanly" as GB18030 into rare characters.
    # Real simplified-Chinese text in GBK is almost all GB2312 characters; mojibake is not.
    han = [ch for ch in text if "\u3400" <= ch <= "\u9fff"]
    if han:
        common = sum(1 for ch in set(han) if _in_gb2312(ch))
        if common / len(set(han)) < 0.95:
            return False
    return True


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def decode_csv_bytes(file_name: str, data: bytes) -> tuple[str, str]:
    """Decode a CSV file; returns ``(text, encoding)``. Raises :class:`UnitImportError`.

    UTF-8 (BOM optional) first; GB18030 only when it decodes strictly and looks like Chinese text.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnitImportError(file_name, [RowProblem(0, "", _(
            "文件是 UTF-16 编码，请另存为“CSV UTF-8（逗号分隔）”后再导入"))])
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            line = data[: exc.start + 3].count(b"\n") + 1
            raise UnitImportError(file_name, [RowProblem(line, "", _(
                "文件标明为 UTF-8（带 BOM），但此行（第 %(offset)d 字节）起不是有效的 UTF-8 编码") % {
                    "offset": exc.start + 3}
            )]) from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_line = data[: exc.start].count(b"\n") + 1
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = ""
    if text and _looks_like_chinese_text(text):
        return text, "gb18030"
    raise UnitImportError(file_name, [RowProblem(utf8_line, "", _(
        "无法识别文件编码：此行起不是 UTF-8，整个文件也不是可完整解码的 GBK/GB18030，"
        "请另存为 UTF-8 编码的 CSV 后再导入"))])


def _normalise_header(cells: Sequence[object]) -> list[str]:
    return [str(c).strip().lstrip("\ufeff").strip().lower() if c is not None else "" for c in cells]


def _check_header(file_name: str, header: list[str]) -> None:
    problems: list[RowProblem] = []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        problems.append(RowProblem(1, "", _("表头缺少列：%(columns)s（需要 %(required)s）") % {
            "columns": "、".join(missing), "required": ",".join(REQUIRED_COLUMNS),
        }))
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            problems.append(RowProblem(1, name, _("表头中该列重复")))
        seen.add(name)
    if problems:
        raise UnitImportError(file_name, problems)


def _table_from_rows(file_name: str, rows: Iterable[tuple[int, Sequence[object]]]) -> DirectoryTable:
    iterator = iter(rows)
    header_row: Sequence[object] | None = None
    for _number, cells in iterator:
        if any(c is not None and str(c).strip() for c in cells):
            header_row = cells
            break
    if header_row is None:
        raise UnitImportError(file_name, [RowProblem(0, "", _("文件是空的：没有表头，也没有单位"))])
    header = _normalise_header(header_row)
    _check_header(file_name, header)
    # Columns we do not know are ignored (a ledger may carry remarks), but never misread.
    known = {i: name for i, name in enumerate(header) if name in COLUMNS}
    width = len(header)
    while width and not header[width - 1]:
        width -= 1
    table = DirectoryTable(columns=[h for h in header if h in COLUMNS], rows=[])
    for number, cells in iterator:
        texts = [_cell_text(c) for c in cells]
        if not any(texts):
            continue  # blank rows are skipped, as Excel users leave them
        row = DirectoryRow(row=number, cells={name: "" for name in known.values()})
        for i, text in enumerate(texts):
            if i in known:
                row.cells[known[i]] = text
            elif i >= width and text:
                row.extra_cells.append(text)
        table.rows.append(row)
    return table


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a code typed as a number in Excel: 1001.0 → "1001"
    return str(value).strip()


def read_csv(file_name: str, data: bytes) -> DirectoryTable:
    """Parse a directory CSV (see the module docstring). Raises :class:`UnitImportError`."""
    text, _encoding = decode_csv_bytes(file_name, data)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        numbered = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise UnitImportError(file_name, [RowProblem(0, "", _("CSV 格式错误：%(error)s") % {
            "error": exc})]) from exc
    # csv.reader's line_num counts physical lines; a cell with a line break spans several, so
    # number records instead, which is what a spreadsheet shows.
    return _table_from_rows(file_name, ((i, row) for i, (_line, row) in enumerate(numbered, start=1)))


def read_xlsx(file_name: str, data: bytes) -> DirectoryTable:
    """Parse the first worksheet of a directory XLSX. Raises :class:`UnitImportError`."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if data.startswith(_OLE_MAGIC):
        raise UnitImportError(file_name, [RowProblem(0, "", _(
            "这是旧版 Excel（.xls）文件，请另存为 .xlsx 或 UTF-8 编码的 CSV 后再导入"))])
    if not data.startswith(_ZIP_MAGIC):
        raise UnitImportError(file_name, [RowProblem(0, "", _(
            "不是有效的 xlsx 文件（文件已损坏或不是 Excel 工作簿）"))])
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = sum(info.file_size for info in archive.infolist())
            if total > MAX_XLSX_UNCOMPRESSED_BYTES:
                raise UnitImportError(file_name, [RowProblem(0, "", _(
                    "xlsx 解压后超过 %(limit)d MB，拒绝读取") % {
                        "limit": MAX_XLSX_UNCOMPRESSED_BYTES // 2**20})])
            bad = archive.testzip()
            if bad is not None:
                raise UnitImportError(file_name, [RowProblem(0, "", _(
                    "xlsx 文件已损坏（%(member)s 校验失败）") % {"member": bad})])
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise UnitImportError(file_name, [RowProblem(0, "", _(
            "不是有效的 xlsx 文件（文件已损坏或不完整）"))]) from exc
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
        raise UnitImportError(file_name, [RowProblem(0, "", _(
            "不是有效的 xlsx 文件（%(error)s）") % {"error": type(exc).__name__})]) from exc
    except Exception as exc:  # openpyxl raises many kinds on a damaged workbook (lxml, zip, parse)
        raise UnitImportError(file_name, [RowProblem(0, "", _(
            "xlsx 文件无法读取（%(error)s）") % {"error": type(exc).__name__})]) from exc
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise UnitImportError(file_name, [RowProblem(0, "", _("xlsx 文件中没有工作表"))])
        try:
            rows = [(i, list(values)) for i, values in enumerate(sheet.iter_rows(values_only=True), start=1)]
        except Exception as exc:  # damaged sheet XML
            raise UnitImportError(file_name, [RowProblem(0, "", _(
                "xlsx 工作表无法读取（%(error)s）") % {"error": type(exc).__name__})]) from exc
    finally:
        workbook.close()
    return _table_from_rows(file_name, rows)


def read_directory_file(file_name: str, data: bytes) -> DirectoryTable:
    """Read a CSV or XLSX directory file; the kind is decided by the content, then the name."""
    if not data.strip():
        raise UnitImportError(file_name, [RowProblem(0, "", _("文件是空的"))])
    lower = file_name.lower()
    if data.startswith((_ZIP_MAGIC, _OLE_MAGIC)) or lower.endswith((".xlsx", ".xlsm", ".xls")):
        return read_xlsx(file_name, data)
    return read_csv(file_name, data)


def write_csv(rows: Iterable[Sequence[str]]) -> bytes:
    """CSV bytes in UTF-8 with a BOM (so Excel opens Chinese correctly), header first, CRLF lines."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def write_xlsx(rows: Iterable[Sequence[str]], *, sheet_title: str = "units") -> bytes:
    """An XLSX workbook with one sheet: bold frozen header row, then one row per unit, all text cells."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = sheet_title
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for values in rows:
        sheet.append(list(values))
    # openpyxl stores a string starting with "=" as a formula; a unit name or mandate must stay text.
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    sheet.freeze_panes = "A2"
    widths = {"code": 10, "name": 36, "short_names": 36, "parent_code": 12, "kind": 12, "mandate": 60,
              "former_names": 24, "active": 8}
    for index, column in enumerate(COLUMNS):
        sheet.column_dimensions[chr(ord("A") + index)].width = widths[column]
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
