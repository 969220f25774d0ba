"""Reading the roll (civil affairs) and the registry (justice) CSV files, and writing RESULT.csv.

CSV is UTF-8 (a BOM is accepted) with a header row naming exactly the issue's columns. Row numbers
in messages count the header as row 1, as a spreadsheet shows them. A file with a structural error
(wrong columns, a short or long row, a duplicate record id, a bad date or custody type) is refused as
a whole with :class:`CsvError`; an invalid identity number is *not* an error: the row still takes
part through its name key and the number is reported back with its row (never silently dropped).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from qiantou.matching.keys import normalize_person_names, parse_date, person_keys

ROLL_COLUMNS = ("record_id", "id_number", "name", "birth_date", "sex", "benefit_start", "benefit_end")
REGISTRY_COLUMNS = ("record_id", "id_number", "name", "birth_date", "sex", "custody_type", "start", "end")
RESULT_COLUMNS = ("record_id", "match_kind", "custody_type", "start", "end", "overlap_days")

# Custody types of the registry, with the one-byte code used inside encrypted labels.
CUSTODY_TYPES = {"收监执行": 1, "看守所羁押": 2, "监外执行": 3, "假释": 4, "社区矫正": 5}
CUSTODY_NAMES = {code: name for name, code in CUSTODY_TYPES.items()}
# Only episodes in which the person is held in custody stop the allowance. 监外执行 (temporary
# execution outside prison, Criminal Procedure Law art. 265), 假释 (parole, Criminal Law art. 81) and
# 社区矫正 (community correction) leave the person living at home: the Community Corrections Law
# (2019) art. 34 protects their access to social security and art. 43 lets them apply for social
# assistance, while the MCA's 《最低生活保障审核确认办法》 (2021) treats as outside the household only
# persons serving a sentence *in prison*. So those three types are reported by the check but never
# count as an overlap.
IN_CUSTODY = frozenset({"收监执行", "看守所羁押"})


class CsvError(ValueError):
    """A CSV file that cannot be used; the message names the file, row and field (Chinese)."""


@dataclass(frozen=True)
class Issue:
    """A problem with one row that did not stop the check (e.g. an invalid identity number)."""

    row: int
    record_id: str
    field: str
    message: str


@dataclass
class Roll:
    """The roll as the protocol needs it: per row the record id, both keys and the benefit period."""

    record_ids: list[str] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    id_keys: list[bytes | None] = field(default_factory=list)
    name_keys: list[bytes | None] = field(default_factory=list)
    benefit_start: list[int] = field(default_factory=list)  # date ordinals
    benefit_end: list[int] = field(default_factory=list)  # 0 = still receiving
    issues: list[Issue] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.record_ids)


@dataclass(frozen=True)
class Episode:
    """One custody episode of the registry."""

    record_id: str
    custody_type: str
    start: dt.date
    end: dt.date | None


@dataclass
class Registry:
    """The registry: episodes, and for each key the indexes of the episodes carrying it."""

    episodes: list[Episode] = field(default_factory=list)
    by_id: dict[bytes, list[int]] = field(default_factory=dict)
    by_name: dict[bytes, list[int]] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.episodes)


def _rows(
    source: str | Path | bytes, columns: tuple[str, ...], label: str
) -> Iterable[tuple[int, list[str]]]:
    if isinstance(source, bytes):
        data, name = source, label
    else:
        path = Path(source)
        name = path.name
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CsvError(f"{name}：无法读取文件（{exc.strerror}）") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvError(f"{name}：不是 UTF-8 编码（第 {data[: exc.start].count(b'\n') + 1} 行附近）") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise CsvError(f"{name}：文件为空，应有表头 {','.join(columns)}")
        got = tuple(h.strip().lower() for h in header)
        if got != columns:
            raise CsvError(f"{name}：第 1 行表头应为“{','.join(columns)}”，实为“{','.join(header)}”")
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != len(columns):
                raise CsvError(f"{name}：第 {reader.line_num} 行应有 {len(columns)} 列，实有 {len(row)} 列")
            yield reader.line_num, row
    except csv.Error as exc:
        raise CsvError(f"{name}：第 {reader.line_num} 行 CSV 格式错误（{exc}）") from None


def _date(value: str, name: str, row: int, column: str, *, required: bool) -> dt.date | None:
    try:
        parsed = parse_date(value)
    except ValueError:
        raise CsvError(f"{name}：第 {row} 行 {column} 列日期无法识别“{value}”") from None
    if parsed is None and required:
        raise CsvError(f"{name}：第 {row} 行 {column} 列不能为空")
    return parsed


def _check_record_id(record_id: str, seen: dict[str, int], name: str, row: int) -> str:
    record_id = record_id.strip()
    if not record_id:
        raise CsvError(f"{name}：第 {row} 行 record_id 为空")
    if record_id in seen:
        raise CsvError(f"{name}：第 {row} 行 record_id“{record_id}”与第 {seen[record_id]} 行重复")
    seen[record_id] = row
    return record_id


def read_roll(source: str | Path | bytes, *, label: str = "roll.csv") -> Roll:
    """Parse and check a roll CSV (columns :data:`ROLL_COLUMNS`); raises :class:`CsvError`."""
    name = Path(source).name if not isinstance(source, bytes) else label
    raw = list(_rows(source, ROLL_COLUMNS, label))
    names = normalize_person_names([r[2] for _, r in raw])
    roll = Roll()
    seen: dict[str, int] = {}
    for (row_no, r), norm_name in zip(raw, names, strict=True):
        record_id = _check_record_id(r[0], seen, name, row_no)
        start = _date(r[5], name, row_no, "benefit_start", required=True)
        end = _date(r[6], name, row_no, "benefit_end", required=False)
        assert start is not None
        if end is not None and end < start:
            raise CsvError(f"{name}：第 {row_no} 行 benefit_end 早于 benefit_start")
        keys = person_keys(r[1], norm_name, r[3], r[4])
        if keys.id_error:
            roll.issues.append(Issue(row_no, record_id, "id_number", keys.id_error))
        if keys.name_error:
            roll.issues.append(Issue(row_no, record_id, "name", keys.name_error))
        roll.record_ids.append(record_id)
        roll.rows.append(row_no)
        roll.id_keys.append(keys.id_key)
        roll.name_keys.append(keys.name_key)
        roll.benefit_start.append(start.toordinal())
        roll.benefit_end.append(end.toordinal() if end else 0)
    return roll


def read_registry(source: str | Path | bytes, *, label: str = "registry.csv") -> Registry:
    """Parse and check a registry CSV (columns :data:`REGISTRY_COLUMNS`); raises :class:`CsvError`.

    Several rows may describe the same person (one custody episode each); record ids must differ.
    """
    name = Path(source).name if not isinstance(source, bytes) else label
    raw = list(_rows(source, REGISTRY_COLUMNS, label))
    names = normalize_person_names([r[2] for _, r in raw])
    reg = Registry()
    seen: dict[str, int] = {}
    for (row_no, r), norm_name in zip(raw, names, strict=True):
        record_id = _check_record_id(r[0], seen, name, row_no)
        custody_type = r[5].strip()
        if custody_type not in CUSTODY_TYPES:
            raise CsvError(
                f"{name}：第 {row_no} 行 custody_type“{custody_type}”不是 {'、'.join(CUSTODY_TYPES)} 之一"
            )
        start = _date(r[6], name, row_no, "start", required=True)
        end = _date(r[7], name, row_no, "end", required=False)
        assert start is not None
        if end is not None and end < start:
            raise CsvError(f"{name}：第 {row_no} 行 end 早于 start")
        keys = person_keys(r[1], norm_name, r[3], r[4])
        if keys.id_error:
            reg.issues.append(Issue(row_no, record_id, "id_number", keys.id_error))
        if keys.name_error:
            reg.issues.append(Issue(row_no, record_id, "name", keys.name_error))
        index = len(reg.episodes)
        reg.episodes.append(Episode(record_id, custody_type, start, end))
        if keys.id_key:
            reg.by_id.setdefault(keys.id_key, []).append(index)
        if keys.name_key:
            reg.by_name.setdefault(keys.name_key, []).append(index)
    return reg


def write_issues(path: Path, groups: list[tuple[str, list[Issue]]]) -> None:
    """Write the rows that could not be fully checked: ``side,row,record_id,field,message``."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["side", "row", "record_id", "field", "message"])
        for side, issues in groups:
            for i in issues:
                w.writerow([side, i.row, i.record_id, i.field, i.message])


def result_csv_bytes(rows: Iterable[tuple[str, str, str, str, str, int]]) -> bytes:
    """RESULT.csv as UTF-8 bytes with the header :data:`RESULT_COLUMNS`."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(RESULT_COLUMNS)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")
