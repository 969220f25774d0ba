"""Bad roll and registry files are refused whole, with the file, row and field named."""

from __future__ import annotations

import pytest

from qiantou.matching import synthetic
from qiantou.matching.csvio import CsvError, read_registry, read_roll

ROLL_HEAD = "record_id,id_number,name,birth_date,sex,benefit_start,benefit_end\n"
REG_HEAD = "record_id,id_number,name,birth_date,sex,custody_type,start,end\n"
ROW = "A1,11010519491231002X,张三,1949-12-31,女,2024-01-01,2024-12-31\n"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "文件为空"),
        (b"id,name\n1,x\n", "第 1 行表头应为"),
        ((ROLL_HEAD + ROW + "A2,11010519491231002X,李四\n").encode(), "第 3 行应有 7 列，实有 3 列"),
        ((ROLL_HEAD + ROW + ROW).encode(), "第 3 行 record_id“A1”与第 2 行重复"),
        ((ROLL_HEAD + ",11010519491231002X,张三,,,2024-01-01,\n").encode(), "第 2 行 record_id 为空"),
        ((ROLL_HEAD + "A1,x,张三,,,2024-13-01,\n").encode(), "第 2 行 benefit_start 列日期无法识别"),
        ((ROLL_HEAD + "A1,x,张三,,,,\n").encode(), "第 2 行 benefit_start 列不能为空"),
        (
            (ROLL_HEAD + "A1,x,张三,,,2024-02-01,2024-01-01\n").encode(),
            "第 2 行 benefit_end 早于 benefit_start",
        ),
        ((ROLL_HEAD + 'A1,"x,张三\n').encode(), "CSV 格式错误"),
        ((ROLL_HEAD + ROW).encode("gbk"), "不是 UTF-8 编码"),
    ],
)
def test_bad_roll(data: bytes, message: str) -> None:
    with pytest.raises(CsvError, match=message) as info:
        read_roll(data, label="ROLL.csv")
    assert str(info.value).startswith("ROLL.csv：")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ((REG_HEAD + "J1,x,张三,,,服刑,2024-01-01,\n").encode(), "第 2 行 custody_type“服刑”不是"),
        ((REG_HEAD + "J1,x,张三,,,收监执行,2024-01-01,2023-01-01\n").encode(), "第 2 行 end 早于 start"),
        ((REG_HEAD + "J1,x,张三,,,收监执行,,\n").encode(), "第 2 行 start 列不能为空"),
        (ROLL_HEAD.encode(), "表头应为"),
    ],
)
def test_bad_registry(data: bytes, message: str) -> None:
    with pytest.raises(CsvError, match=message):
        read_registry(data, label="REG.csv")


def test_bom_blank_lines_and_header_case_are_accepted() -> None:
    data = ("\ufeff" + ROLL_HEAD.upper().replace("RECORD_ID", "Record_Id") + ROW + "\n").encode()
    roll = read_roll(data)
    assert roll.record_ids == ["A1"] and roll.id_keys[0] == b"ID|11010519491231002X"


def test_same_person_several_episodes_in_the_registry() -> None:
    reg = read_registry(
        (
            REG_HEAD + "J1,11010519491231002X,张三,,,收监执行,2020-01-01,2021-01-01\n"
            "J2,11010519491231002x,張三,,,看守所羁押,2022-01-01,\n"
        ).encode()
    )
    assert list(reg.by_id.values()) == [[0, 1]] and list(reg.by_name.values()) == [[0, 1]]


class _SmallChunks:
    """A stand-in for the worker pool that cuts files into runs of a few rows (in this process)."""

    def map(self, fn, args):  # type: ignore[no-untyped-def]
        return [fn(a) for a in args]

    def chunk(self, n: int) -> int:
        return 3


def test_rows_split_by_line_runs_read_like_rows_split_whole() -> None:
    # Files without quotes are cut into runs of lines that the workers split themselves; with a
    # quoted field the whole file is split at once. Both must give the same roll, row numbers,
    # issues and errors.
    ds = synthetic.generate(60, 30, seed=7)
    lines = ds.roll_csv.decode().splitlines(keepends=True)
    lines.insert(9, "\r\n")  # a blank line moves the row numbers after it
    plain = "".join(lines).encode()
    quoted = "".join([*lines[:5], '"' + lines[5].replace(",", '",', 1), *lines[6:]])
    assert '"' in quoted and quoted.replace('"', "").encode() == plain
    fast, whole = read_roll(plain, workers=_SmallChunks()), read_roll(quoted.encode(), workers=_SmallChunks())
    assert fast == whole and len(fast) == 60 and fast.rows[-1] == 62 and fast.issues
    reg = read_registry(ds.registry_csv, workers=_SmallChunks())
    assert reg == read_registry(ds.registry_csv) and len(reg) == len(ds.registry_csv.splitlines()) - 1
    # Errors name the row of the file, whichever run it is in, and the structure of the whole file
    # is checked before any row's values.
    bad_date = [*lines[:40], lines[40].replace(",2", ",x2", 1), *lines[41:]]
    with pytest.raises(CsvError, match=r"第 41 行 .*日期无法识别"):
        read_roll("".join(bad_date).encode(), workers=_SmallChunks())
    short_row = [*bad_date[:50], "R9,1\n", *bad_date[50:]]
    with pytest.raises(CsvError, match="第 51 行应有 7 列，实有 2 列"):
        read_roll("".join(short_row).encode(), workers=_SmallChunks())
    duplicate = [*lines, lines[30]]
    with pytest.raises(CsvError, match=rf"第 {len(lines) + 1} 行 record_id.*与第 31 行重复"):
        read_roll("".join(duplicate).encode(), workers=_SmallChunks())


def test_plain_line_split_gives_what_the_csv_module_gives() -> None:
    # The workers split quote-free runs of lines with str.split; csv.reader is the reference.
    from qiantou.matching.csvio import ROLL_COLUMNS, _data_rows, _plain_rows

    text = (
        "A1,x,张三,,,2024-01-01,\r\n"
        "\r\n"
        "   \n"
        "A2, 1 ,李\x00四 ,1950-01-01,男,2024-01-01,2024-02-01\n"
        "\n"
        "A3,,,,,2024-01-01,"
    )
    assert _plain_rows(text, ROLL_COLUMNS, "R", 7) == _data_rows(text, ROLL_COLUMNS, "R", 7)
    assert [n for n, _ in _plain_rows(text, ROLL_COLUMNS, "R", 7)] == [7, 10, 12]
    for bad in ("A1,x\n", "A1,1,2,3,4,5,6,7\r\n", "\n\nA1,x,,,,,\n,\n"):
        with pytest.raises(CsvError) as plain:
            _plain_rows(bad, ROLL_COLUMNS, "R", 2)
        with pytest.raises(CsvError) as reference:
            _data_rows(bad, ROLL_COLUMNS, "R", 2)
        assert str(plain.value) == str(reference.value)
    huge = "A1," + "1" * 200_000 + ",,,,2024-01-01,\n"
    with pytest.raises(CsvError, match="第 2 行 CSV 格式错误"):
        _plain_rows(huge, ROLL_COLUMNS, "R", 2)
