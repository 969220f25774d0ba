"""The pure hash chain (no database): hash functions, bodies, the verifier, offline bundles."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest

from qiantou.audit import chain
from qiantou.audit.chain import GENESIS_HASH, Break, BundleError, ChainVerifier, Row, VerifyResult

T0 = dt.datetime(2025, 3, 1, 2, 0, tzinfo=dt.UTC)


def test_sm3_known_answers_gbt_32905_2016() -> None:
    # GB/T 32905-2016, Appendix A examples 1 and 2.
    assert chain.digest(b"abc", "sm3") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert chain.digest(b"abcd" * 16, "sm3") == (
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    )


def test_sha256_selectable_and_unknown_refused() -> None:
    assert (
        chain.digest(b"abc", "sha256") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    with pytest.raises(ValueError, match="unknown audit hash algorithm"):
        chain.digest(b"abc", "md5")


def test_body_is_canonical_and_binds_every_field() -> None:
    fields: dict[str, Any] = dict(
        seq=1,
        created_at=T0,
        actor_id=7,
        actor_name="张三",
        actor_unit_id=3,
        action="plan.issue",
        object_type="plans.plan",
        object_id="12",
        payload={"b": 1, "a": "中文"},
        prev_hash=GENESIS_HASH,
    )
    body = chain.event_body(**fields)
    assert body == (
        '[1,"2025-03-01T02:00:00.000000+00:00",7,"张三",3,"plan.issue","plans.plan","12",'
        '{"a":"中文","b":1},"' + GENESIS_HASH + '"]'
    )
    base = chain.event_hash(body, "sm3")
    for name, other in [
        ("seq", 2),
        ("actor_name", "李四"),
        ("payload", {"a": "中文", "b": 2}),
        ("prev_hash", "1" * 64),
        ("created_at", T0 + dt.timedelta(microseconds=1)),
    ]:
        changed = chain.event_body(**{**fields, name: other})
        assert chain.event_hash(changed, "sm3") != base, name


def test_body_refuses_nan_and_naive_times() -> None:
    with pytest.raises(ValueError):
        chain.canonical_json({"x": float("nan")})
    with pytest.raises(ValueError):
        chain.format_time(dt.datetime(2025, 1, 1))


def build(n: int, alg: str = "sm3") -> list[Row]:
    """``n`` chained rows as the verifier takes them."""
    rows: list[Row] = []
    prev = GENESIS_HASH
    for seq in range(1, n + 1):
        body = chain.event_body(
            seq=seq,
            created_at=T0 + dt.timedelta(seconds=seq),
            actor_id=1,
            actor_name="经办人",
            actor_unit_id=2,
            action="task.assign",
            object_type="plans.task",
            object_id=str(seq),
            payload={"i": seq},
            prev_hash=prev,
        )
        h = chain.event_hash(body, alg)
        rows.append((seq, alg, prev, h, body.encode(), None))
        prev = h
    return rows


def broke(result: VerifyResult) -> Break:
    """The break of a failed verification."""
    assert not result.ok and result.broken is not None
    return result.broken


def verify(rows: list[Row]) -> chain.VerifyResult:
    v = ChainVerifier()
    v.feed(rows)
    return v.result()


def test_intact_chain_verifies_with_head() -> None:
    rows = build(10)
    result = verify(rows)
    assert result.ok and result.count == 10 and result.head_seq == 10 and result.head_hash == rows[-1][3]
    empty = verify([])
    assert empty.ok and empty.count == 0 and empty.head_hash == GENESIS_HASH


def test_mixed_algorithms_verify() -> None:
    rows = build(3, "sm3")
    # Continue the chain with SHA-256 (the setting changed): each event names its algorithm.
    body = chain.event_body(
        seq=4,
        created_at=T0,
        actor_id=None,
        actor_name="system",
        actor_unit_id=None,
        action="x",
        object_type="",
        object_id="",
        payload={},
        prev_hash=rows[-1][3],
    )
    rows.append((4, "sha256", rows[-1][3], chain.event_hash(body, "sha256"), body.encode(), None))
    assert verify(rows).ok


@pytest.mark.parametrize(
    ("mutate", "seq", "reason"),
    [
        (lambda r: r.pop(4), 5, "missing"),
        (lambda r: r.__setitem__(4, (*r[4][:4], r[4][4].replace(b'"i":5', b'"i":6'), None)), 5, "hash"),
        (lambda r: r.__setitem__(4, (*r[4][:3], "0" * 64, *r[4][4:])), 5, "hash"),
        (lambda r: r.__setitem__(4, (*r[4][:2], "1" * 64, *r[4][3:])), 5, "link"),
        (lambda r: r.__setitem__(2, (r[2][0], "md5", *r[2][2:])), 3, "alg"),
        (lambda r: r.__setitem__(6, (*r[6][:5], "fields:payload")), 7, "fields:payload"),
    ],
)
def test_tampered_rows_name_first_broken_event(mutate, seq: int, reason: str) -> None:
    rows = build(10)
    mutate(rows)
    result = verify(rows)
    assert not result.ok
    assert (broke(result).seq, broke(result).reason) == (seq, reason)
    assert f"#{seq}" in str(result.broken)


def test_swapped_events_are_caught_at_the_first_swapped_seq() -> None:
    rows = build(10)
    rows[2], rows[5] = rows[5], rows[2]
    result = verify(rows)
    assert (broke(result).seq, broke(result).reason) == (3, "missing")


def test_rewritten_tail_needs_an_anchor() -> None:
    rows = build(10)
    anchor = f"8:{rows[7][3]}"
    # An attacker who rewrites events 8..10 and recomputes the hashes keeps the chain consistent…
    forged = build(7)
    prev = forged[-1][3]
    for seq in range(8, 11):
        body = chain.event_body(
            seq=seq,
            created_at=T0,
            actor_id=1,
            actor_name="经办人",
            actor_unit_id=2,
            action="forged",
            object_type="",
            object_id="",
            payload={},
            prev_hash=prev,
        )
        h = chain.event_hash(body, "sm3")
        forged.append((seq, "sm3", prev, h, body.encode(), None))
        prev = h
    assert verify(forged).ok
    # …but not the head the auditor wrote down.
    bundle = make_bundle(forged)
    result = chain.verify_bundle(io.StringIO(bundle), expect_head=anchor)
    assert broke(result).reason == "head" and broke(result).seq == 8
    assert chain.verify_bundle(io.StringIO(make_bundle(rows)), expect_head=anchor).ok
    assert chain.verify_bundle(io.StringIO(make_bundle(rows)), expect_head=rows[-1][3]).ok


def make_bundle(rows: list[Row], trailer: bool = True) -> str:
    out = io.StringIO()
    out.write(json.dumps(chain.bundle_header(exported_at=T0)) + "\n")
    for seq, alg, prev, h, body, _ in rows:
        out.write(chain.bundle_line(seq, alg, prev, h, body.decode()))
    if trailer:
        last = rows[-1] if rows else None
        out.write(chain.bundle_trailer(len(rows), last[0] if last else 0, last[3] if last else GENESIS_HASH))
    return out.getvalue()


def test_bundle_verifies_offline_and_names_tampered_line(tmp_path) -> None:
    rows = build(20)
    path = tmp_path / "events.jsonl"
    path.write_text(make_bundle(rows), encoding="utf-8")
    result = chain.verify_bundle(path)
    assert result.ok and result.count == 20 and result.head_hash == rows[-1][3]

    lines = make_bundle(rows).splitlines(keepends=True)
    item = json.loads(lines[8])  # event #8
    item["body"] = item["body"].replace('"i":8', '"i":80')
    lines[8] = json.dumps(item, ensure_ascii=False) + "\n"
    result = chain.verify_bundle(io.StringIO("".join(lines)))
    assert (broke(result).seq, broke(result).reason) == (8, "hash")

    lines = make_bundle(rows).splitlines(keepends=True)
    del lines[12]  # event #12 removed from the bundle
    assert broke(chain.verify_bundle(io.StringIO("".join(lines)))).seq == 12


def test_bundle_line_must_agree_with_its_body() -> None:
    rows = build(5)
    lines = make_bundle(rows).splitlines(keepends=True)
    item = json.loads(lines[3])
    item["seq"] = 3  # the line claims #3 but its body is event #3 too: make the claim differ from the body
    body = json.loads(item["body"])
    body[0] = 99
    item["body"] = chain.canonical_json(body)
    lines[3] = json.dumps(item, ensure_ascii=False) + "\n"
    result = chain.verify_bundle(io.StringIO("".join(lines)))
    assert broke(result).seq == 3 and broke(result).reason in {"hash", "fields:seq"}


def test_cut_short_bundle_and_partial_bundle() -> None:
    rows = build(6)
    with pytest.raises(BundleError, match="trailer"):
        chain.verify_bundle(io.StringIO(make_bundle(rows, trailer=False)))
    lines = make_bundle(rows).splitlines(keepends=True)
    lines[-1] = chain.bundle_trailer(7, 7, "a" * 64)
    assert broke(chain.verify_bundle(io.StringIO("".join(lines)))).reason == "truncated"
    # A bundle exported from #3 on verifies from its first prev_hash, and says so.
    partial = make_bundle(rows[2:])
    result = chain.verify_bundle(io.StringIO(partial))
    assert result.ok and result.first_seq == 3 and result.count == 4 and "partial chain" in result.notes[0]
    with pytest.raises(BundleError):
        chain.verify_bundle(io.StringIO("not a bundle\n"))


def test_parse_anchor() -> None:
    assert chain.parse_anchor("A" * 64) == (None, "a" * 64)
    assert chain.parse_anchor("#12:" + "b" * 64) == (12, "b" * 64)
    with pytest.raises(ValueError):
        chain.parse_anchor("12:xyz")
