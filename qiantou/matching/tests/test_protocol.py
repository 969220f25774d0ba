"""The protocol end to end on generated data with known truth; privacy; tampered and replayed files."""

from __future__ import annotations

import base64
import datetime as dt
import gc
import hashlib
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from qiantou.matching import files, group, pipeline, protocol, synthetic
from qiantou.matching.csvio import CsvError, read_registry, read_roll
from qiantou.matching.files import RoundFileError
from qiantou.matching.keys import canonical_id, normalize_person_name
from qiantou.matching.protocol import ProtocolError, Workers
from qiantou.matching.vault import SealError, Vault

AS_OF = synthetic.DEFAULT_AS_OF


@dataclass
class Exchange:
    ds: synthetic.Dataset
    c: Vault
    j: Vault
    round1: files.RoundFile
    round2: files.RoundFile
    state: protocol.ClientState


def _exchange(tmp: Path, n: int = 400, seed: int = 11, mode: str = "oprf", processes: int = 1) -> Exchange:
    ds = synthetic.generate(n, n, seed=seed)
    c, j = Vault(tmp / "c"), Vault(tmp / "j")
    with Workers(processes) as w:
        req = pipeline.request(ds.roll_csv, vault=c, workers=w, mode=mode)
        assert req.round_file is not None
        state = pipeline.load_state(c, req.run_id)
        resp = pipeline.respond(req.round_file, ds.registry_csv, vault=j, workers=w, max_roll=n)
    assert resp.round_file is not None
    return Exchange(ds, c, j, req.round_file, resp.round_file, state)


@pytest.fixture(scope="module")
def ex(tmp_path_factory: pytest.TempPathFactory) -> Exchange:
    return _exchange(tmp_path_factory.mktemp("psi"))


def _finish(ex: Exchange, rf: files.RoundFile | None = None, processes: int = 1) -> protocol.Outcome:
    with Workers(processes) as w:
        return protocol.client_finish(ex.state, rf or ex.round2, workers=w, as_of=AS_OF)


def _split(rows: list[tuple[str, str, str, str, str, int]]) -> tuple[set, set]:  # type: ignore[type-arg]
    ids = {(r[0], r[2], r[3], r[4], r[5]) for r in rows if r[1] == "id"}
    cands = {(r[0], r[2], r[3], r[4], r[5]) for r in rows if r[1] == "name_birth_candidate"}
    return ids, cands


# --- correctness ----------------------------------------------------------------------------------


def test_every_true_id_match_found_and_no_false_one(ex: Exchange) -> None:
    ids, cands = _split(_finish(ex).result_rows())
    assert ex.ds.expected_id and ids == ex.ds.expected_id
    assert ex.ds.expected_candidates and cands == ex.ds.expected_candidates


@pytest.mark.parametrize(("mode", "processes"), [("oprf", 2), ("voprf", 2), ("voprf", 1)])
def test_same_result_with_a_process_pool_and_in_verifiable_mode(
    tmp_path: Path, mode: str, processes: int
) -> None:
    ex = _exchange(tmp_path, n=300, seed=5, mode=mode, processes=processes)
    ids, cands = _split(_finish(ex, processes=processes).result_rows())
    assert ids == ex.ds.expected_id and cands == ex.ds.expected_candidates


def test_invalid_ids_reported_with_rows_never_dropped(ex: Exchange) -> None:
    roll = read_roll(ex.ds.roll_csv)
    reg = read_registry(ex.ds.registry_csv)
    assert {i.row for i in roll.issues if i.field == "id_number"} == ex.ds.roll_invalid_rows
    assert {i.row for i in reg.issues if i.field == "id_number"} == ex.ds.registry_invalid_rows
    assert ex.ds.roll_invalid_rows and ex.ds.registry_invalid_rows
    # Every roll row is queried: two queries per row, whatever its keys.
    assert ex.round1.manifest["query_count"] == 2 * len(roll) == len(ex.round1.body[22:]) // 32


def test_small_hand_made_case(tmp_path: Path) -> None:
    roll = (
        "record_id,id_number,name,birth_date,sex,benefit_start,benefit_end\n"
        "A1,110105491231002,張三,,,2024-01-01,2024-12-31\n"  # legacy ID, traditional name
        "A2,11010519491231002x,李四,1949-12-31,女,2024-01-01,\n"
        "A3,110105194912310021,王五,1949-12-31,女,2024-01-01,2024-06-30\n"  # bad check digit
        "A4,440524188001010014,赵六,1880-01-01,男,2024-01-01,2024-12-31\n"
    ).encode()
    registry = (
        "record_id,id_number,name,birth_date,sex,custody_type,start,end\n"
        "J1,11010519491231002X,张三,1949-12-31,2,收监执行,2023-06-01,2024-01-01\n"
        "J2,11010519491231002X,张三,1949-12-31,2,社区矫正,2024-02-01,\n"
        "J3,11010519491231002X,張三,1949-12-31,2,看守所羁押,2024-12-31,\n"
        "J4,110101194912310026,王五,1949年12月31日,F,看守所羁押,2024-06-30,2024-07-15\n"
        "J5,440524188001010014,赵六,1880-01-01,男,收监执行,2025-01-01,\n"
    ).encode()
    c, j = Vault(tmp_path / "c"), Vault(tmp_path / "j")
    with Workers(1) as w:
        req = pipeline.request(roll, vault=c, workers=w)
        assert req.round_file is not None
        resp = pipeline.respond(req.round_file, registry, vault=j, workers=w, max_roll=10)
        assert resp.round_file is not None
        out = pipeline.finish(resp.round_file, vault=c, workers=w, as_of=dt.date(2025, 6, 30)).outcome
    assert out is not None
    assert out.result_rows() == [
        # A1 and A2 are the same ID (the 15-digit form upgrades to it); 社区矫正 never counts.
        ("A1", "id", "收监执行", "2023-06-01", "2024-01-01", 1),
        ("A1", "id", "看守所羁押", "2024-12-31", "", 1),
        ("A2", "id", "收监执行", "2023-06-01", "2024-01-01", 1),
        ("A2", "id", "看守所羁押", "2024-12-31", "", 182),
        # A3's number is invalid: matched only on name + birth date + sex, as a candidate.
        ("A3", "name_birth_candidate", "看守所羁押", "2024-06-30", "2024-07-15", 1),
    ]
    assert [(i.row, i.field) for i in req.issues] == [(4, "id_number")]
    assert [m.record_id for m in out.matches] == ["A1", "A2", "A3", "A4"]  # A4 matched, no overlap


# --- privacy ----------------------------------------------------------------------------------------


def _encodings(text: str) -> list[bytes]:
    out = []
    for raw in {text.encode("utf-8"), text.encode("gb18030"), text.encode("utf-16-le")}:
        out.append(raw)
        for name in ("md5", "sha1", "sha256", "sha512"):
            d = hashlib.new(name, raw).digest()
            out += [
                d,
                d.hex().encode(),
                d.hex().upper().encode(),
                base64.b64encode(d),
                base64.urlsafe_b64encode(d),
            ]
        h = hashes.Hash(hashes.SM3())
        h.update(raw)
        d = h.finalize()
        out += [d, d.hex().encode(), d.hex().upper().encode(), base64.b64encode(d)]
        out.append(base64.b64encode(raw))
    return out


def _personal_strings(ds: synthetic.Dataset) -> list[str]:
    strings: set[str] = set()
    for person in ds.people.values():
        strings |= {
            person.id_number,
            person.name,
            person.name + person.birth.strftime("%Y%m%d"),
            f"ID|{person.id_number}",
            f"NB|{person.name}|{person.birth:%Y%m%d}|{person.sex}",
        }
    for line in ds.registry_csv.decode().splitlines()[1:]:
        cells = line.split(",")
        try:
            strings.add(canonical_id(cells[1]))
        except ValueError:
            strings.add(cells[1])
        strings.add(normalize_person_name(cells[2]))
    return sorted(s for s in strings if len(s) >= 2)


def test_round_files_carry_no_id_number_name_or_hash_of_one(ex: Exchange) -> None:
    blobs = {
        "C round 1": ex.round1.manifest_bytes + ex.round1.body,
        "J round 2": ex.round2.manifest_bytes + ex.round2.body,
        "J round 2 zip": ex.round2.to_zip(),
    }
    found = []
    for text in _personal_strings(ex.ds)[:1500]:
        for pattern in _encodings(text):
            for where, blob in blobs.items():
                if len(pattern) >= 4 and pattern in blob:
                    found.append((where, text))
    assert found == []


def test_round_one_reveals_only_the_roll_size(ex: Exchange) -> None:
    m = ex.round1.manifest
    assert set(m) == {
        "format",
        "version",
        "round",
        "run_id",
        "created_at",
        "body",
        "signer",
        "signature",
        "suite",
        "mode",
        "roll_size",
        "query_count",
    }
    # Padding: rows with an invalid ID or no name key are still two random-looking queries.
    elements = [ex.round1.body[22 + i * 32 : 22 + i * 32 + 32] for i in range(m["query_count"])]
    assert all(group.is_valid(e) for e in elements) and len(set(elements)) == len(elements)


def test_requester_can_decrypt_only_its_matches(ex: Exchange) -> None:
    m2 = ex.round2.manifest
    rid = bytes.fromhex(ex.state.run_id)
    start = 22 + 32 * m2["query_count"]
    size = m2["entry_bytes"]
    entries = [ex.round2.body[start + i * size : start + (i + 1) * size] for i in range(m2["table_count"])]
    # Every label key the requester can derive: one per real key of its roll.
    count = m2["query_count"]
    _, outputs, tags = protocol._unblind_chunk(
        (
            rid,
            [ex.state.slot_keys[ex.state.perm[q]] for q in range(count)],
            ex.state.rinv,
            ex.round2.body[22 : 22 + 32 * count],
        )
    )
    assert len(outputs) == sum(1 for k in ex.state.slot_keys if k is not None)
    label_keys = [protocol._hkdf(o, rid, protocol._INFO_LABEL, 32) for o in outputs]
    by_tag = {e[:16]: e for e in entries}
    opened = [t for t in tags if t in by_tag]
    # Exactly the keys both sides hold: distinct shared ID keys and name keys of the truth.
    roll, reg = read_roll(ex.ds.roll_csv), read_registry(ex.ds.registry_csv)
    shared = ({k for k in roll.id_keys if k} & set(reg.by_id)) | (
        {k for k in roll.name_keys if k} & set(reg.by_name)
    )
    assert len(set(opened)) == len(shared) > 0
    others = [e for e in entries if e[:16] not in set(tags)][:40]
    assert len(others) == 40
    for entry in others:
        for key in label_keys[:300]:
            with pytest.raises(InvalidTag):
                AESGCM(key).decrypt(protocol.AEAD_NONCE, entry[16:], rid)
    # Labels are padded to one length: the ciphertext does not tell how many episodes it holds.
    assert len({len(e) for e in entries}) == 1


def test_tag_table_order_tells_nothing_and_any_order_is_read(ex: Exchange) -> None:
    # J shuffles its table (no order of the registry survives); an answer whose table is sorted by
    # tag, as earlier versions wrote it, gives the same result.
    m2 = ex.round2.manifest
    start, size = 22 + 32 * m2["query_count"], m2["entry_bytes"]
    entries = [ex.round2.body[start + i * size : start + (i + 1) * size] for i in range(m2["table_count"])]
    assert entries != sorted(entries)
    old_style = _resign(ex.round2, ex.j.identity, body=ex.round2.body[:start] + b"".join(sorted(entries)))
    assert _finish(ex, old_style).result_rows() == _finish(ex).result_rows()


def test_fast_key_derivations_equal_the_reference_ones() -> None:
    # Tags and label keys are HKDF-SHA256 (RFC 5869) as computed by `cryptography`; references are
    # HMAC-SHA256 — the faster per-run derivations must give the same bytes.
    for _ in range(20):
        rid, output = secrets.token_bytes(16), secrets.token_bytes(64)
        kdf = protocol._KDF(rid)
        tag = protocol._hkdf(output, rid, protocol._INFO_TAG, protocol.TAG_BYTES)
        label_key = protocol._hkdf(output, rid, protocol._INFO_LABEL, 32)
        assert kdf.tag(output) == tag and kdf.label_key(output) == label_key
        assert kdf.tag_and_label_key(output) == (tag, label_key)
        ref_key, record_id = secrets.token_bytes(32), f"J{secrets.randbelow(10**6)}·甲"
        assert protocol._Referencer(ref_key, rid)(record_id) == protocol.episode_reference(
            ref_key, rid.hex(), record_id
        )


# --- tampering, replay, mixed runs -----------------------------------------------------------------


def _resign(
    rf: files.RoundFile, key: Ed25519PrivateKey, body: bytes | None = None, **changes: object
) -> files.RoundFile:
    manifest = json.loads(rf.manifest_bytes)
    manifest.pop("signature")
    manifest.update(changes)
    if body is not None:
        manifest["body"] = {
            **manifest["body"],
            "bytes": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
        }
    manifest["signature"] = key.sign(files.canonical_json(manifest)).hex()
    return files.RoundFile(files.canonical_json(manifest), rf.body if body is None else body)


def _respond(ex: Exchange, rf: files.RoundFile, max_roll: int = 10_000) -> files.RoundFile:
    with Workers(1) as w:
        return protocol.server_respond(
            rf,
            read_registry(ex.ds.registry_csv),
            signer=ex.j.identity,
            reference_key=ex.j.reference_key,
            workers=w,
            max_roll=max_roll,
        )


def test_tampered_body_is_rejected(ex: Exchange) -> None:
    body = bytearray(ex.round1.body)
    body[100] ^= 1
    with pytest.raises(RoundFileError, match="SHA-256"):
        _respond(ex, files.RoundFile(ex.round1.manifest_bytes, bytes(body)))


def test_tampered_manifest_is_rejected(ex: Exchange) -> None:
    forged = ex.round1.manifest_bytes.replace(b'"roll_size":400', b'"roll_size":401')
    assert forged != ex.round1.manifest_bytes
    with pytest.raises(RoundFileError, match="签名无效"):
        _respond(ex, files.RoundFile(forged, ex.round1.body))


def test_truncated_round_file_is_rejected(ex: Exchange) -> None:
    with pytest.raises(RoundFileError, match="截断"):
        _respond(ex, files.RoundFile(ex.round1.manifest_bytes, ex.round1.body[:-32]))
    with pytest.raises(RoundFileError, match="截断"):
        _finish(ex, files.RoundFile(ex.round2.manifest_bytes, ex.round2.body[:-1]))
    with pytest.raises(RoundFileError, match="JSON"):
        _finish(ex, files.RoundFile(ex.round2.manifest_bytes[:-20], ex.round2.body))


def test_wrong_round_is_rejected(ex: Exchange) -> None:
    with pytest.raises(RoundFileError, match="第 2 轮"):
        _respond(ex, ex.round2)


def test_request_over_the_agreed_roll_size_is_refused(ex: Exchange) -> None:
    with pytest.raises(ProtocolError, match="上限"):
        _respond(ex, ex.round1, max_roll=399)


def test_unexpected_query_count_is_refused(ex: Exchange) -> None:
    c_key = ex.c.identity
    extra = ex.round1.body + group.from_hash(secrets.token_bytes(64))
    forged = _resign(ex.round1, c_key, body=extra, query_count=801)
    with pytest.raises(ProtocolError, match="两个查询"):
        _respond(ex, forged)


@pytest.mark.parametrize(
    "bad",
    [
        "00" * 32,
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0100000000000000000000000000000000000000000000000000000000000000",
    ],
)
def test_non_canonical_query_is_refused(ex: Exchange, bad: str) -> None:
    body = bytearray(ex.round1.body)
    body[22 + 32 * 7 : 22 + 32 * 8] = bytes.fromhex(bad)
    forged = _resign(ex.round1, ex.c.identity, body=bytes(body))
    with pytest.raises(ProtocolError, match="第 8 个查询不是规范"):
        _respond(ex, forged)


def test_non_canonical_answer_is_refused(ex: Exchange) -> None:
    body = bytearray(ex.round2.body)
    for q in range(ex.round2.manifest["query_count"]):  # corrupt every answer: some are real keys
        body[22 + 32 * q : 22 + 32 * q + 32] = bytes.fromhex("ed" + "ff" * 30 + "7f")
    forged = _resign(ex.round2, ex.j.identity, body=bytes(body))
    with pytest.raises(ProtocolError, match="不规范"):
        _finish(ex, forged)


def test_answer_to_another_request_is_refused(ex: Exchange) -> None:
    forged = _resign(ex.round2, ex.j.identity, request_sha256="0" * 64)
    with pytest.raises(ProtocolError, match="请求摘要不符"):
        _finish(ex, forged)


def test_mixed_run_files_are_refused(tmp_path: Path, ex: Exchange) -> None:
    other = _exchange(tmp_path, n=60, seed=2)
    # Another run's answer, intact: its run id is not this state's.
    with pytest.raises(RoundFileError, match="不能混用"):
        _finish(ex, other.round2)
    # This run's manifest with the other run's body (caught by its length, or else by its hash).
    with pytest.raises(RoundFileError, match=r"SHA-256|截断"):
        _finish(ex, files.RoundFile(ex.round2.manifest_bytes, other.round2.body))
    # A body re-labelled to this run id by a forger who re-signs it: the header still names its run.
    forged = _resign(other.round2, other.j.identity, body=other.round2.body, run_id=ex.state.run_id)
    with pytest.raises(RoundFileError, match="另一次比对"):
        _finish(ex, forged)


def test_pinned_peer_key_rejects_a_forger(ex: Exchange) -> None:
    forger = Ed25519PrivateKey.generate()
    state = protocol.ClientState.unpack(ex.state.pack())
    state.peer = files.public_key_hex(ex.j.identity)
    with Workers(1) as w:
        protocol.client_finish(state, ex.round2, workers=w, as_of=AS_OF)
        with pytest.raises(RoundFileError, match="不是约定的对方"):
            protocol.client_finish(
                state, _resign(ex.round2, forger, signer=files.public_key_hex(forger)), workers=w, as_of=AS_OF
            )


def test_swapped_answer_fails_the_dleq_proof(tmp_path: Path) -> None:
    ex = _exchange(tmp_path, n=80, seed=3, mode="voprf")
    body = bytearray(ex.round2.body)
    body[22 : 22 + 32], body[22 + 32 : 22 + 64] = body[22 + 32 : 22 + 64], body[22 : 22 + 32]
    forged = _resign(ex.round2, ex.j.identity, body=bytes(body))
    with pytest.raises(ProtocolError, match="DLEQ"):
        _finish(ex, forged)


def test_finished_run_cannot_be_replayed_and_responder_refuses_a_replay(tmp_path: Path) -> None:
    ex = _exchange(tmp_path, n=50, seed=4)
    with Workers(1) as w:
        pipeline.finish(ex.round2, vault=ex.c, workers=w)
        with pytest.raises(pipeline.StateError, match="已经完成过"):
            pipeline.finish(ex.round2, vault=ex.c, workers=w)
        with pytest.raises(ProtocolError, match="已答复过"):
            pipeline.respond(
                ex.round1, ex.ds.registry_csv, vault=ex.j, workers=w, max_roll=50, answered={ex.state.run_id}
            )
    # The requester's secret state is gone once it has been used.
    assert not (ex.c.base / "requests" / f"{ex.state.run_id}.state").exists()


def test_a_state_opened_in_advance_is_used_once_and_only_for_its_own_run(tmp_path: Path) -> None:
    ex, other = _exchange(tmp_path / "a", n=50, seed=4), _exchange(tmp_path / "b", n=50, seed=5)
    opened = pipeline.load_state(ex.c, ex.state.run_id)
    with Workers(1) as w:
        # Another run's state is not used: the answer is finished with its own (read from disk).
        result = pipeline.finish(ex.round2, vault=ex.c, workers=w, opened=other.state)
        assert result.run_id == ex.state.run_id and result.outcome is not None
        # Once finished, a state opened before is refused like a replay.
        with pytest.raises(pipeline.StateError, match="已经完成过"):
            pipeline.finish(ex.round2, vault=ex.c, workers=w, opened=opened)


def test_state_is_sealed_at_rest(ex: Exchange) -> None:
    path = ex.c.base / "requests" / f"{ex.state.run_id}.state"
    blob = path.read_bytes()
    assert blob.startswith(b"QTSEAL1") and b"ID|" not in blob and b"C0000001" not in blob
    with pytest.raises(SealError, match="校验失败"):
        Vault(ex.c.base.parent / "elsewhere").unseal(
            blob, b"qiantou-psi client state " + ex.state.run_id.encode()
        )
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    path.write_bytes(tampered)
    try:
        with pytest.raises(pipeline.StateError, match="校验失败"):
            pipeline.load_state(ex.c, ex.state.run_id)
    finally:
        path.write_bytes(blob)


def test_state_round_trips_and_a_state_sealed_by_the_previous_layout_still_opens(ex: Exchange) -> None:
    packed = ex.state.pack()
    assert protocol.ClientState.unpack(packed) == ex.state
    # QTCS1 (before the key lengths were stored together): each key preceded by its length.
    parts, pos = [], 5
    for _ in range(6):
        n = int.from_bytes(packed[pos : pos + 8], "little")
        parts.append(packed[pos + 8 : pos + 8 + n])
        pos += 8 + n
    parts[3] = b"".join(len(k).to_bytes(2, "little") + k if k else b"\xff\xff" for k in ex.state.slot_keys)
    old = b"QTCS1" + b"".join(len(p).to_bytes(8, "little") + p for p in parts)
    assert protocol.ClientState.unpack(old) == ex.state


def test_the_collector_is_paused_during_a_step_and_restored_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    real = protocol.client_request

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(protocol, "client_request", spy)
    ds = synthetic.generate(20, 20, seed=1)
    assert gc.isenabled()
    with Workers(1) as w:
        pipeline.request(ds.roll_csv, vault=Vault(tmp_path), workers=w)
        assert seen == [False] and gc.isenabled()
        with pytest.raises(CsvError):
            pipeline.request(b"id,name\n", vault=Vault(tmp_path), workers=w)
        assert gc.isenabled()
        gc.disable()  # a caller that runs without the collector keeps it off
        try:
            pipeline.request(ds.roll_csv, vault=Vault(tmp_path), workers=w)
            assert not gc.isenabled()
        finally:
            gc.enable()


@pytest.mark.parametrize("n", [0, 1, 100, 5_000, 200_000])
def test_work_is_cut_into_runs_covering_every_item_once_finer_at_the_end(n: int) -> None:
    spans = Workers(2).spans(n)
    assert [i for a, b in spans for i in range(a, b)] == list(range(n))
    if n >= 5_000:
        sizes = [b - a for a, b in spans]
        assert max(sizes[-4:]) * 4 <= max(sizes)


def _big_result(i: int) -> bytes:
    return bytes(1 << 20) + bytes([i])


def test_the_pool_does_not_spin_while_results_are_in_transit(monkeypatch: pytest.MonkeyPatch) -> None:
    # The parent's pool-maintenance thread must sleep while workers send results (it used to poll
    # every worker in a loop for as long as a result was in the pipe, taking the GIL).
    import multiprocessing.pool

    rounds = [0]
    real = multiprocessing.pool.Pool._maintain_pool  # type: ignore[attr-defined]

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        rounds[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(multiprocessing.pool.Pool, "_maintain_pool", staticmethod(counting))
    with Workers(2) as w:
        assert [r[-1] for r in w.map(_big_result, list(range(40)))] == list(range(40))
    assert rounds[0] < 10
