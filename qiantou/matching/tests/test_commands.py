"""``qiantou match …``: the four steps on files, bad input, replays, and the audit record."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from qiantou.audit.models import AuditEvent
from qiantou.matching import synthetic
from qiantou.matching.models import MatchRun, RunStatus, Side

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(tmp_path: Path) -> tuple[Path, Path, synthetic.Dataset]:
    ds = synthetic.generate(300, 300, seed=21)
    (tmp_path / "roll.csv").write_bytes(ds.roll_csv)
    (tmp_path / "reg.csv").write_bytes(ds.registry_csv)
    return tmp_path / "roll.csv", tmp_path / "reg.csv", ds


def _result(path: Path) -> tuple[set, set]:  # type: ignore[type-arg]
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert rows[0] == ["record_id", "match_kind", "custody_type", "start", "end", "overlap_days"]
    ids = {(r[0], r[2], r[3], r[4], int(r[5])) for r in rows[1:] if r[1] == "id"}
    cands = {(r[0], r[2], r[3], r[4], int(r[5])) for r in rows[1:] if r[1] == "name_birth_candidate"}
    return ids, cands


def test_request_respond_finish_across_directories(tmp_path: Path, data: tuple) -> None:  # type: ignore[type-arg]
    roll, reg, ds = data
    err = io.StringIO()
    call_command(
        "match",
        "request",
        "--roll",
        str(roll),
        "--out",
        str(tmp_path / "r1"),
        stderr=err,
        stdout=io.StringIO(),
    )
    assert sorted((tmp_path / "r1").iterdir()) == [
        tmp_path / "r1" / "body.bin",
        tmp_path / "r1" / "manifest.json",
    ]
    assert "身份号码无效" in err.getvalue() and f"第 {min(ds.roll_invalid_rows)} 行" in err.getvalue()
    call_command(
        "match",
        "respond",
        "--registry",
        str(reg),
        "--in",
        str(tmp_path / "r1"),
        "--out",
        str(tmp_path / "r2"),
        "--max-roll",
        "300",
        stderr=io.StringIO(),
        stdout=io.StringIO(),
    )
    call_command(
        "match",
        "finish",
        "--in",
        str(tmp_path / "r2"),
        "--out",
        str(tmp_path / "RESULT.csv"),
        stdout=io.StringIO(),
    )
    ids, cands = _result(tmp_path / "RESULT.csv")
    # Open-ended overlaps run to today, the generator's truth to its own date: compare closed rows exactly.
    assert {r for r in ids if r[3]} == {r for r in ds.expected_id if r[3]}
    assert {r[:4] for r in ids} == {r[:4] for r in ds.expected_id}
    assert {r[:4] for r in cands} == {r[:4] for r in ds.expected_candidates}
    run_id = json.loads((tmp_path / "r1" / "manifest.json").read_bytes())["run_id"]
    assert MatchRun.objects.get(run_id=run_id, side=Side.REQUESTER).status == RunStatus.FINISHED
    assert MatchRun.objects.get(run_id=run_id, side=Side.RESPONDER).status == RunStatus.RESPONDED

    # Replays: justice answers a run once; civil affairs finishes it once.
    with pytest.raises(CommandError, match="已答复过"):
        call_command(
            "match",
            "respond",
            "--registry",
            str(reg),
            "--in",
            str(tmp_path / "r1"),
            "--out",
            str(tmp_path / "r3"),
            stderr=io.StringIO(),
            stdout=io.StringIO(),
        )
    assert not (tmp_path / "r3").exists()
    with pytest.raises(CommandError, match="已经完成过"):
        call_command("match", "finish", "--in", str(tmp_path / "r2"), "--out", str(tmp_path / "again.csv"))
    assert not (tmp_path / "again.csv").exists()


def test_audit_record_has_counts_and_run_id_only(tmp_path: Path, data: tuple) -> None:  # type: ignore[type-arg]
    roll, reg, ds = data
    call_command(
        "match",
        "local",
        "--roll",
        str(roll),
        "--registry",
        str(reg),
        "--out",
        str(tmp_path / "R.csv"),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    events = list(AuditEvent.objects.filter(action__startswith="matching."))
    assert [e.action for e in events] == ["matching.request", "matching.respond", "matching.finish"]
    text = json.dumps([e.payload for e in events], ensure_ascii=False)
    for e in events:
        assert all(isinstance(v, int) for k, v in e.payload.items() if k not in {"run_id", "mode"})
    people = list(ds.people.items())
    assert not any(rid in text or p.id_number in text or p.name in text for rid, p in people)
    assert events[2].payload["id_matches"] > 0
    issues = (tmp_path / "R.issues.csv").read_text(encoding="utf-8")
    assert all(f"roll,{row}," in issues for row in ds.roll_invalid_rows)
    assert all(f"registry,{row}," in issues for row in ds.registry_invalid_rows)


@pytest.mark.parametrize(
    ("roll_text", "message"),
    [
        ("record_id,id_number,name\nA,1,x\n", "表头应为"),
        (
            "record_id,id_number,name,birth_date,sex,benefit_start,benefit_end\n"
            "A,1,x,,,2024-01-01,\nA,2,y,,,2024-01-01,\n",
            "第 3 行 record_id“A”与第 2 行重复",
        ),
        (
            "record_id,id_number,name,birth_date,sex,benefit_start,benefit_end\nA,1,x,,,2024-01-01\n",
            "应有 7 列",
        ),
    ],
)
def test_bad_input_writes_nothing(tmp_path: Path, data: tuple, roll_text: str, message: str) -> None:  # type: ignore[type-arg]
    _, reg, _ = data
    bad = tmp_path / "bad.csv"
    bad.write_text(roll_text, encoding="utf-8")
    before = MatchRun.objects.count(), AuditEvent.objects.count()
    with pytest.raises(CommandError, match=message) as info:
        call_command(
            "match", "local", "--roll", str(bad), "--registry", str(reg), "--out", str(tmp_path / "R.csv")
        )
    assert "bad.csv" in str(info.value)
    with pytest.raises(CommandError, match=message):
        call_command("match", "request", "--roll", str(bad), "--out", str(tmp_path / "r1"))
    assert not (tmp_path / "R.csv").exists() and not (tmp_path / "r1").exists()
    assert (MatchRun.objects.count(), AuditEvent.objects.count()) == before


def test_truncated_and_mixed_round_files_are_refused(tmp_path: Path, data: tuple) -> None:  # type: ignore[type-arg]
    roll, reg, _ = data
    for name in ("a", "b"):
        call_command(
            "match",
            "request",
            "--roll",
            str(roll),
            "--out",
            str(tmp_path / f"{name}1"),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
        call_command(
            "match",
            "respond",
            "--registry",
            str(reg),
            "--in",
            str(tmp_path / f"{name}1"),
            "--out",
            str(tmp_path / f"{name}2"),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    body = (tmp_path / "a2" / "body.bin").read_bytes()
    (tmp_path / "a2" / "body.bin").write_bytes(body[: len(body) // 2])
    with pytest.raises(CommandError, match="截断"):
        call_command("match", "finish", "--in", str(tmp_path / "a2"), "--out", str(tmp_path / "R.csv"))
    (tmp_path / "a2" / "body.bin").write_bytes((tmp_path / "b2" / "body.bin").read_bytes())
    with pytest.raises(CommandError, match=r"SHA-256|截断"):
        call_command("match", "finish", "--in", str(tmp_path / "a2"), "--out", str(tmp_path / "R.csv"))
    (tmp_path / "a2" / "body.bin").unlink()
    with pytest.raises(CommandError, match=r"缺少 body\.bin"):
        call_command("match", "finish", "--in", str(tmp_path / "a2"), "--out", str(tmp_path / "R.csv"))
    assert not (tmp_path / "R.csv").exists()
    # The intact second run still finishes.
    call_command(
        "match",
        "finish",
        "--in",
        str(tmp_path / "b2"),
        "--out",
        str(tmp_path / "R.csv"),
        stdout=io.StringIO(),
    )
    assert (tmp_path / "R.csv").exists()
