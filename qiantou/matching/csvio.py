"""Reading the roll (civil affairs) and the registry (justice) CSV files, and writing RESULT.csv.

CSV is UTF-8 (a BOM is accepted) with a header row naming exactly the issue's columns. Row numbers
in messages count the header as row 1, as a spreadsheet shows them. A file with a structural error
(wrong columns, a short or long row, a duplicate record id, a bad date or custody type) is refused as
a whole with :class:`CsvError`; an invalid identity number is *not* an error: the row still takes
part through its name key and the number is reported back with its row (never silently dropped).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol

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


class Episode(NamedTuple):
    """One custody episode of the registry (a named tuple: one is made for every registry row)."""

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


def _load(source: str | Path | bytes, label: str) -> tuple[bytes, str]:
    if isinstance(source, bytes):
        return source, label
    path = Path(source)
    try:
        return path.read_bytes(), path.name
    except OSError as exc:
        raise CsvError(f"{path.name}：无法读取文件（{exc.strerror}）") from None


_DECODE_STEP = 8 << 20


def _check_utf8(data: bytes, name: str) -> None:
    """Refuse a file that is not UTF-8, naming the line; decodes a few MB at a time, keeping none."""
    pos = 0
    while pos < len(data):
        nl = data.find(b"\n", pos + _DECODE_STEP)
        end = len(data) if nl < 0 else nl + 1  # a line break is never inside a UTF-8 sequence
        try:
            data[pos:end].decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: pos + exc.start].count(b"\n") + 1
            raise CsvError(f"{name}：不是 UTF-8 编码（第 {line} 行附近）") from None
        pos = end


def _check_header(header: list[str] | None, columns: tuple[str, ...], name: str) -> None:
    if header is None:
        raise CsvError(f"{name}：文件为空，应有表头 {','.join(columns)}")
    got = tuple(h.strip().lower() for h in header)
    if got != columns:
        raise CsvError(f"{name}：第 1 行表头应为“{','.join(columns)}”，实为“{','.join(header)}”")


def _data_rows(
    text: str, columns: tuple[str, ...], name: str, first_line: int, *, header: bool = False
) -> list[tuple[int, list[str]]]:
    """The non-blank rows of ``text`` (whose first line is line ``first_line`` of the file).

    With ``header``, the first row is checked as the header row (see :func:`_check_header`).
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    offset = first_line - 1
    out = []
    try:
        if header:
            _check_header(next(reader, None), columns, name)
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != len(columns):
                raise CsvError(
                    f"{name}：第 {offset + reader.line_num} 行应有 {len(columns)} 列，实有 {len(row)} 列"
                )
            out.append((offset + reader.line_num, row))
    except csv.Error as exc:
        raise CsvError(f"{name}：第 {offset + reader.line_num} 行 CSV 格式错误（{exc}）") from None
    return out


def _plain_rows(
    text: str, columns: tuple[str, ...], name: str, first_line: int
) -> list[tuple[int, list[str]]]:
    """:func:`_data_rows` for text without a quote character or a bare carriage return.

    There every line is one row and every comma separates two fields, which is exactly what
    ``csv.reader`` gives, at a fraction of its cost (the workers split every row of both files).
    A line longer than ``csv``'s field size limit goes through :func:`_data_rows` for its error.
    """
    lines = text.split("\n")
    if max(map(len, lines), default=0) > csv.field_size_limit():
        return _data_rows(text, columns, name, first_line)
    width = len(columns)
    out = []
    for line_no, line in enumerate(lines, first_line):
        row = (line[:-1] if line.endswith("\r") else line).split(",")
        if len(row) != width:
            if len(row) == 1 and not row[0].strip():
                continue  # a blank line
            raise CsvError(f"{name}：第 {line_no} 行应有 {width} 列，实有 {len(row)} 列")
        out.append((line_no, row))
    return out


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


# A job for a worker: (kind, file name, either the bytes of whole lines and the number of their first
# line, or rows already split by this process).
_Job = tuple[str, str, bytes | list[tuple[int, list[str]]], int]


def _jobs(
    source: str | Path | bytes, columns: tuple[str, ...], kind: str, label: str, workers: Mapper | None
) -> tuple[str, list[_Job]]:
    """Check the encoding and header and cut the rows into jobs for the workers.

    Without a quote character or a bare carriage return, every line break ends a row: the workers
    get runs of whole lines and split them into fields themselves, and this process never holds
    the file's rows. Otherwise (quoted fields may span lines) the rows are split here.
    """
    data, name = _load(source, label)
    _check_utf8(data, name)
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    if b'"' in data or data.count(b"\r") != data.count(b"\r\n"):
        raw = _data_rows(data[start:].decode("utf-8"), columns, name, 1, header=True)
        size = workers.chunk(len(raw)) if workers is not None else max(1, len(raw))
        return name, [(kind, name, raw[i : i + size], 0) for i in range(0, len(raw), size)]
    nl = data.find(b"\n", start)
    body = len(data) if nl < 0 else nl + 1
    _check_header(
        next(csv.reader(io.StringIO(data[start:body].decode("utf-8"), newline="")), None), columns, name
    )
    lines = data.count(b"\n", body) + 1
    size = workers.chunk(lines) if workers is not None else lines
    step = max(1, (len(data) - body) * size // lines)
    jobs: list[_Job] = []
    pos, line = body, 2
    while pos < len(data):
        nl = data.find(b"\n", pos + step - 1)
        end = len(data) if nl < 0 else nl + 1
        jobs.append((kind, name, data[pos:end], line))
        line += data.count(b"\n", pos, end)
        pos = end
    return name, jobs


_RollPart = tuple[list[bytes | None], list[bytes | None], list[int], list[int], list[tuple[int, str, str]]]
_RegPart = tuple[
    list[bytes | None],
    list[bytes | None],
    list[str],
    list[dt.date],
    list[dt.date | None],
    list[tuple[int, str, str]],
]
# What a worker returns: (error kind, message) or None, row numbers, record ids as written, the part.
_Read = tuple[tuple[str, str] | None, list[int], list[str], Any]


def _read_chunk(job: _Job) -> _Read:
    """Split (if needed) and check a run of rows, and compute their keys (runs in a worker process).

    Errors are returned, not raised, so that the caller reports them in the file's order of checks:
    the structure of the whole file first, then record ids, then the values of the rows.
    """
    kind, name, payload, first_line = job
    columns = ROLL_COLUMNS if kind == "roll" else REGISTRY_COLUMNS
    if isinstance(payload, bytes):
        try:
            raw = _plain_rows(payload.decode("utf-8"), columns, name, first_line)
        except CsvError as exc:
            return ("structure", str(exc)), [], [], None
    else:
        raw = payload
    row_nos, record_ids = [n for n, _ in raw], [r[0].strip() for _, r in raw]
    try:
        part = _roll_chunk(name, raw) if kind == "roll" else _registry_chunk(name, raw)
    except CsvError as exc:
        return ("row", str(exc)), row_nos, record_ids, None
    return None, row_nos, record_ids, part


def _read(
    source: str | Path | bytes, columns: tuple[str, ...], kind: str, label: str, workers: Mapper | None
) -> tuple[list[int], list[str], list[Any]]:
    name, jobs = _jobs(source, columns, kind, label, workers)
    results: list[_Read] = (
        workers.map(_read_chunk, jobs) if workers is not None else [_read_chunk(j) for j in jobs]
    )
    for error, *_ in results:
        if error is not None and error[0] == "structure":
            raise CsvError(error[1])
    rows = [n for r in results for n in r[1]]
    record_ids = [rid for r in results for rid in r[2]]  # stripped by the workers
    if "" in record_ids or len(set(record_ids)) < len(record_ids):
        seen: dict[str, int] = {}  # find the first empty or repeated id, in the file's order
        for rid, n in zip(record_ids, rows, strict=True):
            _check_record_id(rid, seen, name, n)
    for error, *_ in results:
        if error is not None:
            raise CsvError(error[1])
    return rows, record_ids, [r[3] for r in results]


def _roll_chunk(name: str, raw: list[tuple[int, list[str]]]) -> _RollPart:
    """Keys, benefit period and issues of a run of roll rows."""
    names = normalize_person_names([r[2] for _, r in raw])
    id_keys: list[bytes | None] = []
    name_keys: list[bytes | None] = []
    starts: list[int] = []
    ends: list[int] = []
    issues: list[tuple[int, str, str]] = []
    for i, ((row_no, r), norm_name) in enumerate(zip(raw, names, strict=True)):
        start = _date(r[5], name, row_no, "benefit_start", required=True)
        end = _date(r[6], name, row_no, "benefit_end", required=False)
        assert start is not None
        if end is not None and end < start:
            raise CsvError(f"{name}：第 {row_no} 行 benefit_end 早于 benefit_start")
        keys = person_keys(r[1], norm_name, r[3], r[4])
        if keys.id_error:
            issues.append((i, "id_number", keys.id_error))
        if keys.name_error:
            issues.append((i, "name", keys.name_error))
        id_keys.append(keys.id_key)
        name_keys.append(keys.name_key)
        starts.append(start.toordinal())
        ends.append(end.toordinal() if end else 0)
    return id_keys, name_keys, starts, ends, issues


def read_roll(source: str | Path | bytes, *, label: str = "roll.csv", workers: Mapper | None = None) -> Roll:
    """Parse and check a roll CSV (columns :data:`ROLL_COLUMNS`); raises :class:`CsvError`.

    With ``workers``, the per-row work (fields, names, ID numbers, dates) is spread over the pool.
    """
    rows, record_ids, parts = _read(source, ROLL_COLUMNS, "roll", label, workers)
    roll = Roll(record_ids=record_ids, rows=rows)
    for id_keys, name_keys, starts, ends, issues in parts:
        done = len(roll.id_keys)
        roll.issues += [Issue(rows[done + i], record_ids[done + i], f, m) for i, f, m in issues]
        roll.id_keys += id_keys
        roll.name_keys += name_keys
        roll.benefit_start += starts
        roll.benefit_end += ends
    return roll


def _registry_chunk(name: str, raw: list[tuple[int, list[str]]]) -> _RegPart:
    """Keys, episode and issues of a run of registry rows."""
    names = normalize_person_names([r[2] for _, r in raw])
    id_keys: list[bytes | None] = []
    name_keys: list[bytes | None] = []
    types: list[str] = []
    starts: list[dt.date] = []
    ends: list[dt.date | None] = []
    issues: list[tuple[int, str, str]] = []
    for i, ((row_no, r), norm_name) in enumerate(zip(raw, names, strict=True)):
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
            issues.append((i, "id_number", keys.id_error))
        if keys.name_error:
            issues.append((i, "name", keys.name_error))
        id_keys.append(keys.id_key)
        name_keys.append(keys.name_key)
        types.append(custody_type)
        starts.append(start)
        ends.append(end)
    return id_keys, name_keys, types, starts, ends, issues


def read_registry(
    source: str | Path | bytes, *, label: str = "registry.csv", workers: Mapper | None = None
) -> Registry:
    """Parse and check a registry CSV (columns :data:`REGISTRY_COLUMNS`); raises :class:`CsvError`.

    Several rows may describe the same person (one custody episode each); record ids must differ.
    """
    rows, record_ids, parts = _read(source, REGISTRY_COLUMNS, "registry", label, workers)
    reg = Registry()
    by_id, by_name = reg.by_id, reg.by_name
    for id_keys, name_keys, types, starts, ends, issues in parts:
        done = len(reg.episodes)
        reg.issues += [Issue(rows[done + i], record_ids[done + i], f, m) for i, f, m in issues]
        reg.episodes += map(Episode, record_ids[done : done + len(types)], types, starts, ends)
        for table, keys in ((by_id, id_keys), (by_name, name_keys)):
            for index, key in enumerate(keys, done):
                if key:
                    same = table.get(key)
                    if same is None:
                        table[key] = [index]
                    else:
                        same.append(index)
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
