"""Generated roll and registry files with known truth, for tests, the demo and the benchmark.

Every person has a canonical identity (18-digit ID, simplified name, birth date, sex); what is
*written* to the CSV is a dirty form of it (15-digit legacy number, lower-case x, full-width digits,
spaces, traditional characters, middle-dot variants…). The expected RESULT rows are computed here
from the canonical identities with a straightforward reading of the issue's rules, independently of
the protocol code. Pure Python, no Django.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass, field

from qiantou.matching.keys import check_digit

_AREAS = ["110101", "310104", "420106", "510107", "650102", "440305", "330106", "370102", "610113"]
_SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
)
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红兰凤云玉兰东海学兴国庆春"
_MINORITY = ["阿依古丽·买买提", "热依拉·艾力", "古丽娜尔·吐尔逊", "买买提·艾则孜", "迪丽娜·阿不都"]
# simplified -> traditional for the characters above that differ
_TRAD = str.maketrans(
    "张刘陈杨赵黄郭罗郑谢邓许韩冯苏吕丁沈伟娜丽军杰娟涛凤云东学兴国庆华红兰买热艾则尔孙马叶蒋蔡",
    "張劉陳楊趙黃郭羅鄭謝鄧許韓馮蘇呂丁沈偉娜麗軍傑娟濤鳳雲東學興國慶華紅蘭買熱艾則爾孫馬葉蔣蔡",
)
_DOTS = ["·", "・", "•", "‧", "･", "．", "∙"]
_FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
IN_CUSTODY = ("收监执行", "看守所羁押")
NOT_IN_CUSTODY = ("监外执行", "假释", "社区矫正")
DEFAULT_AS_OF = dt.date(2025, 6, 30)  # "today" of the generated data, for open-ended overlaps


@dataclass
class Person:
    """A canonical identity."""

    id_number: str
    name: str
    birth: dt.date
    sex: str  # "1" male, "2" female


@dataclass
class Dataset:
    """Roll and registry CSV bytes plus the expected results."""

    roll_csv: bytes
    registry_csv: bytes
    expected_id: set[tuple[str, str, str, str, int]] = field(default_factory=set)
    expected_candidates: set[tuple[str, str, str, str, int]] = field(default_factory=set)
    roll_invalid_rows: set[int] = field(default_factory=set)
    registry_invalid_rows: set[int] = field(default_factory=set)
    people: dict[str, Person] = field(default_factory=dict)  # roll record id -> person


def make_id(rng: random.Random, birth: dt.date, sex: str) -> str:
    """A valid 18-digit number for the birth date and sex."""
    seq = rng.randrange(0, 500) * 2 + (1 if sex == "1" else 0)
    body = rng.choice(_AREAS) + birth.strftime("%Y%m%d") + f"{seq:03d}"[-3:]
    return body + check_digit(body)


def dirty_id(rng: random.Random, canonical: str) -> str:
    """A written form of a valid number that canonicalises back to it."""
    form = rng.randrange(7)
    if form == 0 and canonical[6:8] == "19":
        return canonical[:6] + canonical[8:17]  # legacy 15-digit number
    if form == 1:
        return canonical.lower()
    if form == 2:
        return canonical.translate(_FULLWIDTH)
    if form == 3:
        return f" {canonical[:6]} {canonical[6:14]} {canonical[14:]} "
    if form == 4:
        return "'" + canonical
    if form == 5:
        return canonical[:6] + "-" + canonical[6:]
    return canonical


def break_id(canonical: str) -> str:
    """A number with a wrong check digit (a typical typing error)."""
    digits = "0123456789X"
    return canonical[:17] + digits[(digits.index(canonical[17]) + 3) % 11]


def dirty_name(rng: random.Random, name: str) -> str:
    """A written form of a name: traditional characters, another middle dot, stray spaces."""
    if rng.random() < 0.3:
        name = name.translate(_TRAD)
    if "·" in name:
        name = name.replace("·", rng.choice(_DOTS))
    if rng.random() < 0.1:
        name = name[0] + " " + name[1:]
    return name


def _date_text(rng: random.Random, d: dt.date) -> str:
    form = rng.randrange(4)
    if form == 0:
        return d.strftime("%Y/%m/%d").replace("/0", "/")
    if form == 1:
        return f"{d.year}年{d.month}月{d.day}日"
    if form == 2:
        return d.strftime("%Y%m%d")
    return d.isoformat()


def _sex_text(rng: random.Random, sex: str) -> str:
    return rng.choice({"1": ["男", "1", "M"], "2": ["女", "2", "F"]}[sex])


def random_person(rng: random.Random) -> Person:
    """A fresh random identity."""
    birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 65))
    sex = rng.choice("12")
    if rng.random() < 0.03:
        name = rng.choice(_MINORITY)
    else:
        name = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))
    return Person(make_id(rng, birth, sex), name, birth, sex)


def _overlap(
    ep: tuple[str, dt.date, dt.date | None], bs: dt.date, be: dt.date | None, as_of: dt.date
) -> int | None:
    kind, s, e = ep
    if kind not in IN_CUSTODY:
        return None
    if be is not None and s > be:
        return None
    if e is not None and e < bs:
        return None
    return max(0, (min(e or as_of, be or as_of) - max(s, bs)).days + 1)


def generate(
    n_roll: int,
    n_registry: int,
    *,
    shared: float = 0.05,
    seed: int = 1,
    as_of: dt.date | None = None,
    dirty: bool = True,
) -> Dataset:
    """A roll of ``n_roll`` rows and a registry of about ``n_registry`` episode rows.

    ``shared`` of the roll also appear in the registry (by ID; a few of those only by name because
    one side mistyped the ID); some registry people share name, birth date and sex with a roll
    recipient but are someone else (same-name collisions); episodes straddle the benefit edges.
    """
    rng = random.Random(seed)
    as_of = as_of or DEFAULT_AS_OF
    ds = Dataset(b"", b"")
    roll_rows: list[list[str]] = []
    reg_rows: list[list[str]] = []
    # canonical truth per row: (person, written ID valid?) and, for the registry, the episode
    roll_truth: list[tuple[str, Person, bool, dt.date, dt.date | None]] = []
    reg_truth: list[tuple[Person, bool, tuple[str, dt.date, dt.date | None]]] = []
    seen_ids: set[str] = set()

    def fresh() -> Person:
        while True:
            p = random_person(rng)
            if p.id_number not in seen_ids:
                seen_ids.add(p.id_number)
                return p

    def id_text(p: Person) -> str:
        return dirty_id(rng, p.id_number) if dirty else p.id_number

    def name_text(p: Person) -> str:
        return dirty_name(rng, p.name) if dirty else p.name

    def add_episode(p: Person, valid_id: bool, ep: tuple[str, dt.date, dt.date | None]) -> None:
        kind, start, end = ep
        written = id_text(p) if valid_id else break_id(p.id_number)
        if not valid_id:
            ds.registry_invalid_rows.add(len(reg_rows) + 2)
        reg_rows.append(
            [
                f"J{len(reg_rows) + 1:07d}",
                written,
                name_text(p),
                _date_text(rng, p.birth),
                _sex_text(rng, p.sex),
                kind,
                _date_text(rng, start),
                _date_text(rng, end) if end else "",
            ]
        )
        reg_truth.append((p, valid_id, ep))

    def episodes_around(bs: dt.date, be: dt.date | None) -> list[tuple[str, dt.date, dt.date | None]]:
        eps = []
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            kind = rng.choice(IN_CUSTODY + IN_CUSTODY + NOT_IN_CUSTODY)
            edge = rng.randrange(6)
            end: dt.date | None
            if edge == 0:  # ends the day before the benefit starts: no overlap
                end = bs - dt.timedelta(days=1)
                start = end - dt.timedelta(days=rng.randrange(30, 900))
            elif edge == 1:  # ends on the first benefit day: one day
                end = bs
                start = end - dt.timedelta(days=rng.randrange(30, 900))
            elif edge == 2 and be is not None:  # starts on the last benefit day
                start = be
                end = start + dt.timedelta(days=rng.randrange(30, 900))
            elif edge == 3 and be is not None:  # starts the day after: no overlap
                start = be + dt.timedelta(days=1)
                end = start + dt.timedelta(days=rng.randrange(30, 900))
            else:  # open-ended or inside
                start = bs + dt.timedelta(days=rng.randrange(-400, 400))
                end = None if rng.random() < 0.4 else start + dt.timedelta(days=rng.randrange(0, 700))
            eps.append((kind, start, end))
        return eps

    n_shared = int(n_roll * shared)
    for i in range(n_roll):
        p = fresh()
        rid = f"C{i + 1:07d}"
        ds.people[rid] = p
        bs = dt.date(2020, 1, 1) + dt.timedelta(days=rng.randrange(0, 1500))
        be = None if rng.random() < 0.3 else bs + dt.timedelta(days=rng.randrange(30, 1200))
        valid = not (rng.random() < 0.02)
        if not valid:
            ds.roll_invalid_rows.add(len(roll_rows) + 2)
        roll_rows.append(
            [
                rid,
                id_text(p) if valid else break_id(p.id_number),
                name_text(p),
                _date_text(rng, p.birth),
                _sex_text(rng, p.sex),
                _date_text(rng, bs),
                _date_text(rng, be) if be else "",
            ]
        )
        roll_truth.append((rid, p, valid, bs, be))
        if i < n_shared:  # also in the registry; justice mistyped some numbers
            reg_valid = rng.random() > 0.05
            for ep in episodes_around(bs, be):
                add_episode(p, reg_valid, ep)
        elif i < n_shared * 2:  # same name, birth date and sex; a different person
            other = Person(make_id(rng, p.birth, p.sex), p.name, p.birth, p.sex)
            if other.id_number in seen_ids:
                continue
            seen_ids.add(other.id_number)
            for ep in episodes_around(bs, be):
                add_episode(other, True, ep)
    while len(reg_rows) < n_registry:  # registry people not on the roll
        p = fresh()
        start = dt.date(2010, 1, 1) + dt.timedelta(days=rng.randrange(0, 5000))
        end = None if rng.random() < 0.3 else start + dt.timedelta(days=rng.randrange(30, 3000))
        add_episode(p, rng.random() > 0.01, (rng.choice(IN_CUSTODY + NOT_IN_CUSTODY), start, end))

    # The truth, from canonical identities only.
    by_id: dict[str, list[int]] = {}
    by_name: dict[tuple[str, dt.date, str], list[int]] = {}
    for j, (q, q_valid, _) in enumerate(reg_truth):
        if q_valid:
            by_id.setdefault(q.id_number, []).append(j)
        by_name.setdefault((q.name, q.birth, q.sex), []).append(j)
    for rid, p, valid, bs, be in roll_truth:
        id_rows = set(by_id.get(p.id_number, [])) if valid else set()
        for j in id_rows:
            _expect(ds.expected_id, rid, reg_truth[j][2], bs, be, as_of)
        for j in by_name.get((p.name, p.birth, p.sex), []):
            if j not in id_rows:
                _expect(ds.expected_candidates, rid, reg_truth[j][2], bs, be, as_of)
    ds.roll_csv = _csv(
        ["record_id", "id_number", "name", "birth_date", "sex", "benefit_start", "benefit_end"], roll_rows
    )
    ds.registry_csv = _csv(
        ["record_id", "id_number", "name", "birth_date", "sex", "custody_type", "start", "end"], reg_rows
    )
    return ds


def _expect(
    into: set[tuple[str, str, str, str, int]],
    rid: str,
    ep: tuple[str, dt.date, dt.date | None],
    bs: dt.date,
    be: dt.date | None,
    as_of: dt.date,
) -> None:
    days = _overlap(ep, bs, be, as_of)
    if days is not None:
        into.add((rid, ep[0], ep[1].isoformat(), ep[2].isoformat() if ep[2] else "", days))


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")
