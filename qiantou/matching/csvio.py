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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

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


class Mapper(Protocol):
    """What the readers need from a worker pool (``protocol.Workers``): an ordered map and a chunk size."""

    def map(self, fn: Callable[[Any], Any], args: Sequence[Any]) -> list[Any]: ...

    def chunk(self, n: int) -> int: ...


def _record_ids(raw: list[tuple[int, list[str]]], name: str) -> list[str]:
    seen: dict[str, int] = {}
    return [_check_record_id(r[0], seen, name, row_no) for row_no, r in raw]


def _chunks(raw: list[tuple[int, list[str]]], name: str, workers: Mapper | None) -> list[Any]:
    size = workers.chunk(len(raw)) if workers is not None else max(1, len(raw))
    return [(name, raw[i : i + size]) for i in range(0, len(raw), size)]


def _map(fn: Callable[[Any], Any], jobs: list[Any], workers: Mapper | None) -> list[Any]:
    return workers.map(fn, jobs) if workers is not None else [fn(j) for j in jobs]


_RollRow = tuple[bytes | None, bytes | None, int, int, list[tuple[str, str]]]


def _roll_chunk(job: tuple[str, list[tuple[int, list[str]]]]) -> list[_RollRow]:
    """Keys, benefit period and issues of a run of roll rows (runs in a worker process)."""
    name, raw = job
    names = normalize_person_names([r[2] for _, r in raw])
    out: list[_RollRow] = []
    for (row_no, r), norm_name in zip(raw, names, strict=True):
        start = _date(r[5], name, row_no, "benefit_start", required=True)
        end = _date(r[6], name, row_no, "benefit_end", required=False)
        assert start is not None
        if end is not None and end < start:
            raise CsvError(f"{name}：第 {row_no} 行 benefit_end 早于 benefit_start")
        keys = person_keys(r[1], norm_name, r[3], r[4])
        problems = [(f, m) for f, m in (("id_number", keys.id_error), ("name", keys.name_error)) if m]
        out.append((keys.id_key, keys.name_key, start.toordinal(), end.toordinal() if end else 0, problems))
    return out


def read_roll(source: str | Path | bytes, *, label: str = "roll.csv", workers: Mapper | None = None) -> Roll:
    """Parse and check a roll CSV (columns :data:`ROLL_COLUMNS`); raises :class:`CsvError`.

    With ``workers``, the per-row work (names, ID numbers, dates) is spread over the pool.
    """
    name = Path(source).name if not isinstance(source, bytes) else label
    raw = list(_rows(source, ROLL_COLUMNS, label))
    roll = Roll(record_ids=_record_ids(raw, name), rows=[row_no for row_no, _ in raw])
    done = 0
    for part in _map(_roll_chunk, _chunks(raw, name, workers), workers):
        for id_key, name_key, start, end, problems in part:
            for field_name, message in problems:
                roll.issues.append(Issue(roll.rows[done], roll.record_ids[done], field_name, message))
            roll.id_keys.append(id_key)
            roll.name_keys.append(name_key)
            roll.benefit_start.append(start)
            roll.benefit_end.append(end)
            done += 1
    return roll


_RegRow = tuple[bytes | None, bytes | None, str, dt.date, dt.date | None, list[tuple[str, str]]]


def _registry_chunk(job: tuple[str, list[tuple[int, list[str]]]]) -> list[_RegRow]:
    """Keys, episode and issues of a run of registry rows (runs in a worker process)."""
    name, raw = job
    names = normalize_person_names([r[2] for _, r in raw])
    out: list[_RegRow] = []
    for (row_no, r), norm_name in zip(raw, names, strict=True):
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
        problems = [(f, m) for f, m in (("id_number", keys.id_error), ("name", keys.name_error)) if m]
        out.append((keys.id_key, keys.name_key, custody_type, start, end, problems))
    return out


def read_registry(
    source: str | Path | bytes, *, label: str = "registry.csv", workers: Mapper | None = None
) -> Registry:
    """Parse and check a registry CSV (columns :data:`REGISTRY_COLUMNS`); raises :class:`CsvError`.

    Several rows may describe the same person (one custody episode each); record ids must differ.
    """
    name = Path(source).name if not isinstance(source, bytes) else label
    raw = list(_rows(source, REGISTRY_COLUMNS, label))
    record_ids = _record_ids(raw, name)
    reg = Registry()
    index = 0
    for part in _map(_registry_chunk, _chunks(raw, name, workers), workers):
        for id_key, name_key, custody_type, start, end, problems in part:
            record_id = record_ids[index]
            for field_name, message in problems:
                reg.issues.append(Issue(raw[index][0], record_id, field_name, message))
            reg.episodes.append(Episode(record_id, custody_type, start, end))
            if id_key:
                reg.by_id.setdefault(id_key, []).append(index)
            if name_key:
                reg.by_name.setdefault(name_key, []).append(index)
            index += 1
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
