"""Labelled DH-OPRF private set intersection between a requester (C) and a responder (J).

Pure Python over libsodium (:mod:`group`) and ``cryptography``; no Django. The roles:

* **C** (civil affairs, holds the roll) — :func:`client_request` turns each roll row into two OPRF
  inputs (ID number; name+birth+sex), blinds each with a fresh scalar ``r`` (RFC 9497 Blind), puts
  the ``2·rows`` blinded elements in a random order, and replaces every missing or invalid key by a
  random element (padding), so J sees only the roll size. Secret state (blinds, order, keys) stays
  with C. :func:`client_finish` unblinds J's answers, computes each key's tag, and decrypts the
  labels of the tags it finds — only those of its own matches.
* **J** (justice, holds the registry) — :func:`server_respond` draws a fresh key ``k``, returns
  ``k·B_i`` in the same order (optionally with batched DLEQ proofs, RFC 9497 VOPRF mode), and
  publishes per registry key ``y`` a tag ``HKDF(F(k,y), "tag")`` and its custody episodes encrypted
  with AES-256-GCM under ``HKDF(F(k,y), "label")``, where ``F`` is RFC 9497 Finalize. The table is
  in a uniformly random order (earlier versions sorted it by tag, also a random order; C accepts
  either). J refuses more queries than the agreed roll size.

The run id (16 random bytes chosen by C) is the HKDF salt of every tag and label key, the AEAD's
associated data, and is signed into both manifests. Group-operation counts are returned so that the
benchmark can compare the run with the raw libsodium rate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac as std_hmac
import json
import multiprocessing
import multiprocessing.pool
import os
import secrets
import struct
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from qiantou.matching import files, group, oprf
from qiantou.matching.csvio import CUSTODY_NAMES, CUSTODY_TYPES, IN_CUSTODY, Registry, Roll

SUITE = "ristretto255-SHA512"
MODES = {"oprf": oprf.MODE_OPRF, "voprf": oprf.MODE_VOPRF}
TAG_BYTES = 16
REF_BYTES = 10
EPISODE = struct.Struct("<BII10s")  # custody type code, start ordinal, end ordinal (0 = open), reference
_COUNT = struct.Struct("<H")  # episodes in a label, before them
AEAD_NONCE = bytes(12)  # every label key encrypts exactly one label
PROOF_BATCH = 0xFFFF  # RFC 9497 encodes the composite index in two bytes
_INFO_TAG = b"qiantou-psi/1 tag"
_INFO_LABEL = b"qiantou-psi/1 label"

T = TypeVar("T")
R = TypeVar("R")


class ProtocolError(ValueError):
    """A round file is well-formed and signed but cannot belong to this exchange (Chinese message)."""


# --- workers --------------------------------------------------------------------------------------


class _Pool(multiprocessing.pool.Pool):
    """A process pool whose worker-maintenance thread sleeps until a worker exits or the pool
    changes state.

    The stock pool's maintenance thread also waits on the result pipe, so while a result is in
    transit (ours are up to a few hundred KB) it wakes, polls every worker and waits again, in a
    tight loop that takes the GIL from the threads feeding tasks and reading results: measured,
    ~0.5 of the parent's ~2.3 CPU-s at 1e5 x 1e5. Workers are never retired after some number of
    tasks here, and an exiting worker still wakes the thread through its own sentinel.
    """

    def _get_sentinels(self) -> list[Any]:
        return [self._change_notifier._reader]  # type: ignore[attr-defined]


class Workers:
    """A process pool for the group operations (or in-process work when ``processes`` is 1).

    Create it before loading large inputs: forked workers then share no big pages with the parent.
    Uses ``fork`` when the parent is single-threaded, else ``forkserver`` (forking a threaded web
    server is unsafe).
    """

    def __init__(self, processes: int | None = None) -> None:
        self.processes = max(1, processes if processes is not None else (os.cpu_count() or 1))
        self._pool: Any = None

    def __enter__(self) -> Workers:
        if self.processes > 1:
            method = "fork" if threading.active_count() == 1 else "forkserver"
            self._pool = _Pool(self.processes, context=multiprocessing.get_context(method))
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            if exc[0] is None:
                self._pool.close()
            else:
                self._pool.terminate()
            self._pool.join()
            self._pool = None

    def map(self, fn: Callable[[T], R], args: Sequence[T]) -> list[R]:
        """Apply ``fn`` to every item, in order, spread over the pool."""
        return self.submit(fn, args)()

    def submit(self, fn: Callable[[T], R], args: Sequence[T]) -> Callable[[], list[R]]:
        """Start :meth:`map` in the pool and return a function that waits for its results.

        The parent can do its own serial work meanwhile, so both cores stay busy. Results come in
        order; the first failing item's exception is raised when the results are collected.
        Without a pool the work runs when the results are asked for.
        """
        results = self.stream(fn, args)
        return lambda: list(results)

    def stream(self, fn: Callable[[T], R], args: Iterable[T]) -> Iterator[R]:
        """Start :meth:`map` in the pool; its results, in order, as each becomes available.

        The parent handles each result while the pool computes the next ones, so only the last
        result's handling is left when the pool is done. ``args`` may be a generator: the pool's
        feeder thread then builds each item just before sending it, so the first items are being
        worked on while the later ones are built. A failing item's exception is raised when its
        result is reached. Without a pool each item runs when its result is asked for.
        """
        if self._pool is None or (isinstance(args, Sequence) and len(args) < 2):
            return (fn(a) for a in args)
        return self._pool.imap(fn, args, chunksize=1)  # type: ignore[no-any-return]

    def chunk(self, n: int) -> int:
        """A chunk size giving each worker many chunks of 256..8192 items.

        Small enough that the last chunk of a step leaves the other cores idle only briefly (a
        step waits for all its chunks), large enough that sending them costs little.
        """
        return max(256, min(8192, n // (self.processes * 32) or 1))

    def spans(self, n: int) -> list[tuple[int, int]]:
        """``range(n)`` cut into runs of :meth:`chunk` items, the last ``2·processes`` runs' worth
        cut four times finer: a step that waits for all its runs then leaves the other cores idle
        for at most a quarter of a run."""
        size = self.chunk(n)
        tail = min(n, 2 * self.processes * size)
        head = n - tail
        return _split(head, size) + [(head + a, head + b) for a, b in _split(tail, max(64, size // 4))]


def _split(n: int, size: int) -> list[tuple[int, int]]:
    return [(i, min(n, i + size)) for i in range(0, n, size)]


def _hkdf(output: bytes, run_id: bytes, info: bytes, length: int) -> bytes:
    return HKDF(hashes.SHA256(), length, salt=run_id, info=info).derive(output)


_IPAD = int.from_bytes(b"\x36" * 64, "big")
_OPAD = int.from_bytes(b"\x5c" * 64, "big")
_TAG_BLOCK = _INFO_TAG + b"\x01"
_LABEL_BLOCK = _INFO_LABEL + b"\x01"


class _KDF:
    """HKDF-SHA256 (RFC 5869) with salt ``run_id`` for the tag and label keys of one run.

    Gives exactly :func:`_hkdf`'s bytes (a test checks it), cheaper: the HMAC pads of the salt are
    hashed once per run, the extracted key is shared by the tag and the label key, each output
    fits in one expand block (``T(1) = HMAC(PRK, info || 0x01)``), and the expand HMACs are two
    SHA-256 calls on the key's pads (XORed as one integer) instead of a keyed HMAC object each.
    """

    def __init__(self, run_id: bytes) -> None:
        key = run_id.ljust(64, b"\0")  # a 16-byte salt is shorter than SHA-256's block
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def prk(self, output: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(output)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def _pads(self, output: bytes) -> tuple[bytes, bytes]:
        key = int.from_bytes(self.prk(output), "big") << 256  # the 32-byte PRK, zero-padded to 64
        return (key ^ _IPAD).to_bytes(64, "big"), (key ^ _OPAD).to_bytes(64, "big")

    def tag(self, output: bytes) -> bytes:
        ipad, opad = self._pads(output)
        sha256 = hashlib.sha256
        return sha256(opad + sha256(ipad + _TAG_BLOCK).digest()).digest()[:TAG_BYTES]

    def tag_and_label_key(self, output: bytes) -> tuple[bytes, bytes]:
        ipad, opad = self._pads(output)
        sha256 = hashlib.sha256
        return (
            sha256(opad + sha256(ipad + _TAG_BLOCK).digest()).digest()[:TAG_BYTES],
            sha256(opad + sha256(ipad + _LABEL_BLOCK).digest()).digest(),
        )

    def label_key(self, output: bytes) -> bytes:
        ipad, opad = self._pads(output)
        return hashlib.sha256(opad + hashlib.sha256(ipad + _LABEL_BLOCK).digest()).digest()


def _blind_chunk(args: tuple[int, list[bytes | None]]) -> tuple[bytes, bytes, int]:
    """C: ``r_i·HashToGroup(x_i)`` (random element for padding); returns blinded, ``r_i^-1``, h2g count."""
    mode, keys = args
    xmd = oprf.Suite(mode).xmd_group()
    uniforms = [xmd(k) if k is not None else secrets.token_bytes(64) for k in keys]
    points = group.from_hash_many(uniforms)
    blinds = group.scalars_random(len(keys))
    blinded = group.mul_many(blinds, points)
    return blinded, group.scalars_invert(blinds), len(keys)


def _evaluate_chunk(args: tuple[bytes, bytes, int]) -> tuple[bytes, int | None]:
    """J: ``k·B_i`` for a run of blinded elements; returns (evaluated, index of a bad element or None)."""
    k, blinded, offset = args
    try:
        return group.mul_many(k, blinded), None
    except group.GroupError as exc:
        return b"", offset + (exc.index or 0)


def _table_chunk(args: tuple[int, bytes, bytes, int, list[tuple[bytes, bytes]]]) -> bytes:
    """J: tag || AES-256-GCM(label) for each (key, its packed episodes), concatenated; labels
    padded to ``slots`` episodes (see :func:`_table_items`)."""
    mode, k, run_id, slots, items = args
    xmd = oprf.Suite(mode).xmd_group()
    points = group.from_hash_many([xmd(key) for key, _ in items])
    evaluated = group.mul_many(k, points)
    kdf = _KDF(run_id)
    count, width, size = _COUNT.pack, slots * EPISODE.size, EPISODE.size
    out = []
    for i, (key, episodes) in enumerate(items):
        # Every label has the same length: a ciphertext does not tell how many episodes it holds.
        label = count(len(episodes) // size) + episodes.ljust(width, b"\0")
        tag, label_key = kdf.tag_and_label_key(oprf.finalize_hash(key, evaluated[i * 32 : i * 32 + 32]))
        out.append(tag + AESGCM(label_key).encrypt(AEAD_NONCE, label, run_id))
    return b"".join(out)


def _unblind_chunk(
    args: tuple[bytes, list[bytes | None], bytes, bytes],
) -> tuple[list[int], list[bytes], list[bytes]]:
    """C: ``F(k, x) = Finalize(x, r^-1·Z)`` and its tag for the real keys of a run of query positions.

    ``keys`` has one entry per position (None for padding, which is never touched); ``rinv`` and
    ``evaluated`` are the positions' 32-byte values, concatenated. Returns the positions of the real
    keys in the run, and their outputs and tags.
    """
    run_id, keys, rinv, evaluated = args
    real = [i for i, key in enumerate(keys) if key is not None]
    if len(real) < len(keys):
        rinv = b"".join([rinv[i * 32 : i * 32 + 32] for i in real])
        evaluated = b"".join([evaluated[i * 32 : i * 32 + 32] for i in real])
    unblinded = group.mul_many(rinv, evaluated)
    kdf = _KDF(run_id)
    outputs = [oprf.finalize_hash(keys[i], unblinded[j * 32 : j * 32 + 32]) for j, i in enumerate(real)]  # type: ignore[arg-type]
    return real, outputs, [kdf.tag(o) for o in outputs]


def _proof_chunk(args: tuple[int, bytes, bytes, list[bytes], list[bytes]]) -> bytes:
    mode, k, pk, cs, ds = args
    return oprf.generate_proof(oprf.Suite(mode), k, pk, cs, ds)


def _verify_chunk(args: tuple[int, bytes, list[bytes], list[bytes], bytes]) -> bool:
    mode, pk, cs, ds, proof = args
    return oprf.verify_proof(oprf.Suite(mode), pk, cs, ds, proof)


def _elements(buf: bytes, start: int, count: int) -> list[bytes]:
    return [buf[start + i * 32 : start + i * 32 + 32] for i in range(count)]


def _shuffled(n: int) -> list[int]:
    """A uniformly random permutation of ``range(n)`` (Fisher–Yates on 64-bit OS randomness)."""
    perm = list(range(n))
    rnd = memoryview(os.urandom(8 * n)).cast("Q") if n else []
    for i in range(n - 1, 0, -1):
        j = rnd[i] % (i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    return perm


# --- C: request -------------------------------------------------------------------------------------


@dataclass
class ClientState:
    """C's secret state between the rounds (sealed at rest by the caller)."""

    run_id: str
    mode: str
    request_sha256: str
    roll_size: int
    rinv: bytes  # 32 bytes per query position
    perm: array  # query position -> slot (2*row + 0 for ID, + 1 for name)
    slot_keys: list[bytes | None]
    record_ids: list[str]
    rows: list[int]
    benefit_start: list[int]
    benefit_end: list[int]
    blinded: bytes = b""  # kept in VOPRF mode to verify J's proofs
    peer: str | None = None

    def pack(self) -> bytes:
        """Serialise (binary; sealed by the caller before it touches the disk)."""
        header = json.dumps(
            {
                "run_id": self.run_id,
                "mode": self.mode,
                "request_sha256": self.request_sha256,
                "roll_size": self.roll_size,
                "peer": self.peer,
            }
        ).encode()
        rows = json.dumps(
            [self.record_ids, self.rows, self.benefit_start, self.benefit_end], ensure_ascii=False
        ).encode()
        lengths = array("H", [len(k) if k else 0xFFFF for k in self.slot_keys])
        keys = lengths.tobytes() + b"".join([k for k in self.slot_keys if k])
        parts = [header, self.rinv, self.perm.tobytes(), keys, rows, self.blinded]
        return b"QTCS2" + b"".join(struct.pack("<Q", len(p)) + p for p in parts)

    @classmethod
    def unpack(cls, data: bytes) -> ClientState:
        """Inverse of :meth:`pack` (also reads the QTCS1 layout, one length before each key)."""
        if not data.startswith((b"QTCS1", b"QTCS2")):
            raise ProtocolError("本地比对状态文件格式不符")
        parts, pos = [], 5
        for _ in range(6):
            (n,) = struct.unpack_from("<Q", data, pos)
            parts.append(data[pos + 8 : pos + 8 + n])
            pos += 8 + n
        header = json.loads(parts[0])
        perm = array("I")
        perm.frombytes(parts[2])
        keys: list[bytes | None] = []
        raw = parts[3]
        if data.startswith(b"QTCS2"):
            lengths = array("H")
            lengths.frombytes(raw[: 2 * len(perm)])
            p = 2 * len(perm)
            for n in lengths:
                if n == 0xFFFF:
                    keys.append(None)
                else:
                    keys.append(raw[p : p + n])
                    p += n
        else:
            p = 0
            while p < len(raw):
                (n,) = struct.unpack_from("<H", raw, p)
                if n == 0xFFFF:
                    keys.append(None)
                    p += 2
                else:
                    keys.append(raw[p + 2 : p + 2 + n])
                    p += 2 + n
        record_ids, rows, bs, be = json.loads(parts[4])
        return cls(
            header["run_id"],
            header["mode"],
            header["request_sha256"],
            header["roll_size"],
            parts[1],
            perm,
            keys,
            record_ids,
            rows,
            bs,
            be,
            parts[5],
            header.get("peer"),
        )


@dataclass
class Stats:
    """Counts of one side's work (no personal data): safe for the audit record and the benchmark."""

    values: dict[str, int] = field(default_factory=dict)

    def add(self, **kw: int) -> None:
        for k, v in kw.items():
            self.values[k] = self.values.get(k, 0) + v


def client_request(
    roll: Roll,
    *,
    signer: Ed25519PrivateKey,
    workers: Workers,
    mode: str = "oprf",
    pad_to: int = 0,
    run_id: str | None = None,
    peer: str | None = None,
    stats: Stats | None = None,
) -> tuple[files.RoundFile, ClientState]:
    """Round 1 (C): blinded queries for every roll row, padded to ``max(len(roll), pad_to)`` rows.

    Returns the signed round file for J and the secret state to keep. ``peer`` pins J's signing key.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}")
    run_id = run_id or secrets.token_hex(16)
    n_rows = max(len(roll), pad_to)
    slots: list[bytes | None] = [None] * (2 * n_rows)
    slots[0 : 2 * len(roll) : 2] = roll.id_keys
    slots[1 : 2 * len(roll) : 2] = roll.name_keys
    perm = _shuffled(2 * n_rows)
    mode_no = MODES[mode]
    spans = workers.spans(len(perm))
    parts = list(workers.stream(_blind_chunk, ((mode_no, [slots[s] for s in perm[a:b]]) for a, b in spans)))
    blinded = b"".join(p[0] for p in parts)
    rinv = b"".join(p[1] for p in parts)
    body = files.body_header(1, run_id) + blinded
    rf = files.make_round(
        round_no=1,
        run_id=run_id,
        fields={"suite": SUITE, "mode": mode, "roll_size": n_rows, "query_count": 2 * n_rows},
        body=body,
        signer=signer,
    )
    if stats is not None:
        stats.add(hash_to_group=2 * n_rows, scalar_mult=2 * n_rows, roll_rows=len(roll), queries=2 * n_rows)
    state = ClientState(
        run_id=run_id,
        mode=mode,
        request_sha256=rf.manifest_sha256,
        roll_size=n_rows,
        rinv=rinv,
        perm=array("I", perm),
        slot_keys=slots,
        record_ids=roll.record_ids,
        rows=roll.rows,
        benefit_start=roll.benefit_start,
        benefit_end=roll.benefit_end,
        blinded=blinded if mode == "voprf" else b"",
        peer=peer,
    )
    return rf, state


# --- J: respond -------------------------------------------------------------------------------------


def episode_reference(reference_key: bytes, run_id: str, record_id: str) -> bytes:
    """J's opaque reference to one registry row: HMAC-SHA256(key, run_id || record_id), 10 bytes.

    J can find the row again by recomputing it over its registry; C learns nothing from it.
    """
    h = hmac.HMAC(reference_key, hashes.SHA256())
    h.update(bytes.fromhex(run_id) + record_id.encode())
    return h.finalize()[:REF_BYTES]


class _Referencer:
    """:func:`episode_reference` for the rows of one run (record ids are unique: nothing to cache)."""

    def __init__(self, reference_key: bytes, run_id: bytes) -> None:
        self._key, self._run_id = reference_key, run_id

    def __call__(self, record_id: str) -> bytes:
        return std_hmac.digest(self._key, self._run_id + record_id.encode(), "sha256")[:REF_BYTES]


def server_respond(
    request: files.RoundFile,
    registry: Registry,
    *,
    signer: Ed25519PrivateKey,
    reference_key: bytes,
    workers: Workers,
    max_roll: int,
    expected_signer: str | None = None,
    answered: set[str] | None = None,
    stats: Stats | None = None,
) -> files.RoundFile:
    """Round 2 (J): evaluate C's queries with a fresh key and publish the labelled tag table.

    Raises :class:`files.RoundFileError` / :class:`ProtocolError` for a tampered, truncated,
    oversized or already answered request, or a query that is not a canonical element.
    """
    manifest = files.verify(request, round_no=1, signer=expected_signer)
    run_id = manifest["run_id"]
    if answered is not None and run_id in answered:
        raise ProtocolError(f"比对 {run_id} 已答复过一次：拒绝重放的请求")
    mode = manifest.get("mode")
    if manifest.get("suite") != SUITE or mode not in MODES:
        raise ProtocolError(f"不支持的算法套件 {manifest.get('suite')}/{mode}")
    roll_size, count = manifest.get("roll_size"), manifest.get("query_count")
    if (
        not isinstance(roll_size, int)
        or not isinstance(count, int)
        or roll_size < 0
        or count != 2 * roll_size
    ):
        raise ProtocolError("请求的查询数与名册规模不符（每人应恰好两个查询）")
    if roll_size > max_roll:
        raise ProtocolError(f"请求含 {roll_size} 人，超过约定的名册规模上限 {max_roll} 人：拒绝答复")
    if len(request.body) != files.HEADER_BYTES + 32 * count:
        raise ProtocolError("请求正文长度与查询数不符")
    mode_no = MODES[mode]
    rid = bytes.fromhex(run_id)
    k = group.scalar_random()
    size = workers.chunk(count)
    blinded = request.body[files.HEADER_BYTES :]
    # The queries go to the pool first; the tag table (independent of them) is prepared meanwhile
    # and queued behind them, so both cores stay busy while this process does its own share.
    evaluating = workers.submit(
        _evaluate_chunk, [(k, blinded[a * 32 : b * 32], a) for a, b in _split(count, size)]
    )
    items, slots = _table_items(registry, reference_key, rid)
    tabling = workers.submit(
        _table_chunk, [(mode_no, k, rid, slots, items[a:b]) for a, b in workers.spans(len(items))]
    )
    evaluated_parts = evaluating()
    for _, bad in evaluated_parts:
        if bad is not None:
            raise ProtocolError(f"第 {bad + 1} 个查询不是规范的 ristretto255 群元素：拒绝答复")
    evaluated = b"".join(p for p, _ in evaluated_parts)

    pk = group.mul_base(k)
    proofs = b""
    if mode == "voprf":
        batches = _split(count, PROOF_BATCH)
        proofs = b"".join(
            workers.map(
                _proof_chunk,
                [
                    (mode_no, k, pk, _elements(blinded, a * 32, b - a), _elements(evaluated, a * 32, b - a))
                    for a, b in batches
                ],
            )
        )

    entry_bytes = TAG_BYTES + 2 + slots * EPISODE.size + 16
    body = b"".join([files.body_header(2, run_id), evaluated, proofs, *tabling()])
    if stats is not None:
        stats.add(
            scalar_mult=count + len(items),
            hash_to_group=len(items),
            table_count=len(items),
            registry_rows=len(registry),
            queries=count,
        )
    return files.make_round(
        round_no=2,
        run_id=run_id,
        fields={
            "suite": SUITE,
            "mode": mode,
            "request_sha256": request.manifest_sha256,
            "query_count": count,
            "table_count": len(items),
            "label_slots": slots,
            "entry_bytes": entry_bytes,
            "public_key": pk.hex() if mode == "voprf" else None,
            "proof_batch": PROOF_BATCH if mode == "voprf" else None,
        },
        body=body,
        signer=signer,
    )


def _table_items(
    registry: Registry, reference_key: bytes, run_id: bytes
) -> tuple[list[tuple[bytes, bytes]], int]:
    """Each distinct key of the registry (ID keys and name keys) with its episodes packed as in a
    label (with J's references), in a uniformly random order unrelated to the registry's; and the
    label slots (the most episodes any key has). Each episode is packed once, here, and the items
    go to the workers as a few bytes objects each."""
    ref = _Referencer(reference_key, run_id)
    pack = EPISODE.pack
    packed = [
        pack(
            CUSTODY_TYPES[e.custody_type],
            e.start.toordinal(),
            e.end.toordinal() if e.end else 0,
            ref(e.record_id),
        )
        for e in registry.episodes
    ]
    items = [
        (key, packed[idx[0]] if len(idx) == 1 else b"".join([packed[i] for i in idx]))
        for table in (registry.by_id, registry.by_name)
        for key, idx in table.items()
    ]
    slots = max(
        (len(idx) for table in (registry.by_id, registry.by_name) for idx in table.values()), default=1
    )
    return [items[i] for i in _shuffled(len(items))], slots


# --- C: finish ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatchedEpisode:
    """A decrypted custody episode of one roll row."""

    custody_type: str
    start: dt.date
    end: dt.date | None
    reference: str  # J's opaque reference, hex


@dataclass
class RowMatch:
    """What C learned about one roll row: episodes by ID match, and name-only candidates."""

    record_id: str
    row: int
    benefit_start: dt.date
    benefit_end: dt.date | None
    by_id: list[MatchedEpisode] = field(default_factory=list)
    candidates: list[MatchedEpisode] = field(default_factory=list)


@dataclass
class Outcome:
    """C's result: matched rows (in roll order) and the RESULT.csv rows."""

    matches: list[RowMatch]
    as_of: dt.date

    def result_rows(self) -> list[tuple[str, str, str, str, str, int]]:
        """One row per in-custody episode overlapping the benefit period (see :func:`overlap_days`)."""
        out = []
        for m in self.matches:
            for kind, eps in (("id", m.by_id), ("name_birth_candidate", m.candidates)):
                for e in sorted(eps, key=lambda e: (e.start, e.end or dt.date.max)):
                    days = overlap_days(e, m.benefit_start, m.benefit_end, self.as_of)
                    if days is not None:
                        out.append(
                            (
                                m.record_id,
                                kind,
                                e.custody_type,
                                e.start.isoformat(),
                                e.end.isoformat() if e.end else "",
                                days,
                            )
                        )
        return out


def overlap_days(e: MatchedEpisode, start: dt.date, end: dt.date | None, as_of: dt.date) -> int | None:
    """Days (inclusive) an in-custody episode overlaps the benefit period, or None if it does not.

    Rule of the issue: an episode overlaps [start, end] when episode start ≤ end and (episode end is
    open or ≥ start); an open benefit end never excludes. Only :data:`IN_CUSTODY` types count. Open
    ends are counted up to ``as_of`` (0 days if the overlap only begins after it).
    """
    if e.custody_type not in IN_CUSTODY:
        return None
    if end is not None and e.start > end:
        return None
    if e.end is not None and e.end < start:
        return None
    lo = max(e.start, start)
    hi = min(e.end or as_of, end or as_of)
    return max(0, (hi - lo).days + 1)


def client_finish(
    state: ClientState,
    response: files.RoundFile,
    *,
    workers: Workers,
    as_of: dt.date | None = None,
    stats: Stats | None = None,
) -> Outcome:
    """Round 2 (C): check J's answer against the state, unblind, look up tags, decrypt own matches.

    Raises :class:`files.RoundFileError` / :class:`ProtocolError` for a tampered, truncated,
    mixed-run or unexpected answer, a non-canonical element, or a failed DLEQ proof.
    """
    manifest = files.verify(response, round_no=2, run_id=state.run_id, signer=state.peer)
    if manifest.get("request_sha256") != state.request_sha256:
        raise ProtocolError("该答复不是针对本机发出的请求（请求摘要不符）")
    count = 2 * state.roll_size
    if manifest.get("query_count") != count or manifest.get("mode") != state.mode:
        raise ProtocolError(f"答复的查询数 {manifest.get('query_count')} 与请求的 {count} 不符")
    table_count, slots, entry_bytes = (manifest.get(k) for k in ("table_count", "label_slots", "entry_bytes"))
    if not (isinstance(table_count, int) and isinstance(slots, int) and table_count >= 0 and slots >= 1):
        raise ProtocolError("答复的标签表参数无效")
    if entry_bytes != TAG_BYTES + 2 + slots * EPISODE.size + 16:
        raise ProtocolError("答复的标签长度与参数不符")
    n_proofs = -(-count // PROOF_BATCH) if state.mode == "voprf" else 0
    expected = files.HEADER_BYTES + 32 * count + 64 * n_proofs + table_count * entry_bytes
    if len(response.body) != expected:
        raise ProtocolError(f"答复正文应为 {expected} 字节，实为 {len(response.body)} 字节")
    body = response.body
    ev_start = files.HEADER_BYTES
    rid = bytes.fromhex(state.run_id)

    if state.mode == "voprf":
        try:
            pk = bytes.fromhex(manifest.get("public_key") or "")
        except ValueError:
            pk = b""
        if not group.is_valid(pk):
            raise ProtocolError("答复缺少有效的公钥，无法验证证明")
        pstart = ev_start + 32 * count
        checks = workers.map(
            _verify_chunk,
            [
                (
                    MODES[state.mode],
                    pk,
                    _elements(state.blinded, a * 32, b - a),
                    _elements(body, ev_start + a * 32, b - a),
                    body[pstart + 64 * i : pstart + 64 * i + 64],
                )
                for i, (a, b) in enumerate(_split(count, PROOF_BATCH))
            ],
        )
        if not all(checks):
            raise ProtocolError("对方未能证明所有答复使用同一密钥（DLEQ 证明无效）：拒绝结果")

    # Unblind only real keys; padding positions are never touched. Jobs are runs of query positions;
    # while the pool works, this process indexes the tag table, then looks up each run's tags as
    # soon as the run is done, so little is left to do when the pool finishes.
    slot_keys, perm, rinv = state.slot_keys, state.perm, state.rinv
    spans = workers.spans(count)
    unblinding = workers.stream(
        _unblind_chunk,
        (
            (
                rid,
                [slot_keys[s] for s in perm[a:b]],
                rinv[a * 32 : b * 32],
                body[ev_start + a * 32 : ev_start + b * 32],
            )
            for a, b in spans
        ),
    )
    tstart = ev_start + 32 * count + 64 * n_proofs
    table = {
        body[off : off + TAG_BYTES]: off
        for off in range(tstart, tstart + table_count * entry_bytes, entry_bytes)
    }
    kdf = _KDF(rid)
    found: dict[int, list[MatchedEpisode]] = {}
    unblinded = 0
    try:
        for (a, _), (real, outputs, tags) in zip(spans, unblinding, strict=True):
            unblinded += len(tags)
            for j, tag in enumerate(tags):
                off = table.get(tag)
                if off is None:
                    continue
                try:
                    plain = AESGCM(kdf.label_key(outputs[j])).decrypt(
                        AEAD_NONCE, body[off + TAG_BYTES : off + entry_bytes], rid
                    )
                except InvalidTag:
                    raise ProtocolError("答复中的标签无法解密：内容被改动") from None
                found[perm[a + real[j]]] = _unpack_label(plain)
    except group.GroupError:
        raise ProtocolError("答复含不规范的 ristretto255 群元素：拒绝结果") from None

    matches: list[RowMatch] = []
    for row in sorted({slot // 2 for slot in found}):
        by_id = found.get(2 * row, [])
        by_name = found.get(2 * row + 1, [])
        if not by_id and not by_name:
            continue
        id_refs = {e.reference for e in by_id}
        be = state.benefit_end[row]
        matches.append(
            RowMatch(
                record_id=state.record_ids[row],
                row=state.rows[row],
                benefit_start=dt.date.fromordinal(state.benefit_start[row]),
                benefit_end=dt.date.fromordinal(be) if be else None,
                by_id=by_id,
                candidates=[e for e in by_name if e.reference not in id_refs],
            )
        )
    if stats is not None:
        stats.add(
            scalar_mult=unblinded,
            tags_received=table_count,
            id_matches=sum(1 for m in matches if m.by_id),
            candidate_rows=sum(1 for m in matches if m.candidates and not m.by_id),
        )
    return Outcome(matches, as_of or dt.date.today())


def _unpack_label(plain: bytes) -> list[MatchedEpisode]:
    (n,) = struct.unpack_from("<H", plain, 0)
    out = []
    for i in range(n):
        code, start, end, ref = EPISODE.unpack_from(plain, 2 + i * EPISODE.size)
        out.append(
            MatchedEpisode(
                CUSTODY_NAMES[code],
                dt.date.fromordinal(start),
                dt.date.fromordinal(end) if end else None,
                ref.hex(),
            )
        )
    return out


def digest_for_audit(rf: files.RoundFile) -> str:
    """SHA-256 of a round file's manifest (what the audit record names; no personal data)."""
    return hashlib.sha256(rf.manifest_bytes).hexdigest()
