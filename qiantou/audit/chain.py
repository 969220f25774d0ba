"""The hash chain of the accountability record, as pure Python (no Django, no database).

Every event is stored with its **body**: the canonical JSON text of

    [seq, created_at, actor_id, actor_name, actor_unit_id, action, object_type, object_id, payload, prev_hash]

(``created_at`` in UTC, ISO 8601 with microseconds; keys sorted, no spaces, UTF-8, see
:func:`canonical_json`). The event's hash is ``H(body as UTF-8)`` with H = SM3 (GB/T 32905-2016)
or SHA-256, named per event (``alg``), so a chain verifies whatever the current setting is.
Because the body embeds ``prev_hash``, each hash covers every field of the event *and* the whole
chain before it.

Verification (:class:`ChainVerifier`) walks the events in ``seq`` order and names the first broken
one: a gap in ``seq`` (an event removed), a ``seq`` out of order (inserted or reordered), a hash that
does not match the body (altered), a ``prev_hash`` that does not match the previous event's hash
(altered, inserted or removed before it), or stored columns that differ from the hashed body.

This module is what an auditor runs offline on an exported bundle (:func:`verify_bundle`): one
JSON object per line — a header, one line per event ``{"seq", "alg", "prev_hash", "hash", "body"}``,
and a trailer ``{"end": true, "count", "head_seq", "head_hash"}``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from cryptography.hazmat.primitives import hashes

GENESIS_HASH = "0" * 64
ALGORITHMS = ("sm3", "sha256")
#: The fields a body holds, in order (the body is a JSON array, not an object, to stay short).
FIELDS = (
    "seq",
    "created_at",
    "actor_id",
    "actor_name",
    "actor_unit_id",
    "action",
    "object_type",
    "object_id",
    "payload",
    "prev_hash",
)
BUNDLE_FORMAT = "qiantou-audit-bundle"
#: What the verifier takes per event: ``(seq, alg, prev_hash, hash, body as UTF-8 bytes, mismatch)``.
Row = tuple[int, str, str, str, bytes, str | None]
BUNDLE_VERSION = 1

_SM3 = hashes.SM3()
#: GB/T 32905-2016, Appendix A, example 1.
_SM3_ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def sm3_reference(data: bytes) -> str:
    """SM3 through ``cryptography`` (the reference used here)."""
    h = hashes.Hash(_SM3)
    h.update(data)
    return h.finalize().hex()


def _fast_sm3() -> Callable[[bytes], str] | None:
    """The same OpenSSL SM3 through ``hashlib`` (cheaper per call: verification hashes every event),
    when this OpenSSL offers it and it agrees with the reference; else None."""
    try:
        seed = hashlib.new("sm3")
    except ValueError:
        return None
    copy = seed.copy

    def sm3_hashlib(data: bytes) -> str:
        h = copy()
        h.update(data)
        return h.hexdigest()

    ok = sm3_hashlib(b"abc") == _SM3_ABC == sm3_reference(b"abc")
    ok = ok and sm3_hashlib(b"abcd" * 40) == sm3_reference(b"abcd" * 40)
    return sm3_hashlib if ok else None


_sm3_hex: Callable[[bytes], str] = _fast_sm3() or sm3_reference


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_HASHERS: dict[str, Callable[[bytes], str]] = {"sm3": _sm3_hex, "sha256": _sha256_hex}


def hasher(algorithm: str) -> Callable[[bytes], str]:
    """The function ``bytes -> 64 hex characters`` for ``algorithm`` ("sm3" or "sha256"); ValueError else."""
    try:
        return _HASHERS[algorithm]
    except KeyError:
        raise ValueError(f"unknown audit hash algorithm {algorithm!r} (use 'sm3' or 'sha256')") from None


def digest(data: bytes, algorithm: str) -> str:
    """Hex digest of ``data`` with SM3 (GB/T 32905-2016) or SHA-256; 64 hex characters either way."""
    return hasher(algorithm)(data)


def canonical_json(value: Any, *, default: Callable[[Any], Any] | None = None) -> str:
    """Canonical JSON text: keys sorted, no whitespace, non-ASCII kept as UTF-8, NaN/Infinity refused."""
    return json.dumps(
        value, ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False, default=default
    )


def format_time(moment: dt.datetime) -> str:
    """An aware datetime as the body holds it: UTC, ISO 8601, microseconds (``…T02:00:00.000000+00:00``)."""
    if moment.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def event_body(
    *,
    seq: int,
    created_at: dt.datetime | str,
    actor_id: int | None,
    actor_name: str,
    actor_unit_id: int | None,
    action: str,
    object_type: str,
    object_id: str,
    payload: Any,
    prev_hash: str,
) -> str:
    """The canonical body text of one event (what its hash covers)."""
    when = created_at if isinstance(created_at, str) else format_time(created_at)
    return canonical_json(
        [seq, when, actor_id, actor_name, actor_unit_id, action, object_type, object_id, payload, prev_hash]
    )


def event_hash(body: str, algorithm: str) -> str:
    """The hash of an event from its body text."""
    return hasher(algorithm)(body.encode())


def body_fields(body: str) -> dict[str, Any]:
    """The fields of a body as a dict (``FIELDS`` keys); ValueError if it is not a well-formed body."""
    try:
        items = json.loads(body)
    except (json.JSONDecodeError, TypeError) as exc:
        raise ValueError(f"body is not JSON: {exc}") from None
    if not isinstance(items, list) or len(items) != len(FIELDS):
        raise ValueError(f"body is not an array of {len(FIELDS)} fields")
    return dict(zip(FIELDS, items, strict=True))


@dataclass(frozen=True)
class Break:
    """The first broken event: its ``seq``, a reason code and a message for people.

    Reason codes: ``missing`` (seq gap: an event was removed or moved), ``unexpected`` (seq repeated or going
    back: inserted or reordered), ``alg`` (unknown hash algorithm), ``hash`` (the body does not
    match its hash: altered), ``link`` (prev_hash differs from the previous event's hash: something
    before it was altered, inserted or removed), ``body`` (the body is malformed), ``fields:<name>``
    (a stored column differs from the hashed body: altered; plain ``fields`` before the column is
    named), ``truncated``/``head`` (a bundle shorter than its trailer says, or a head other
    than the one expected).
    """

    seq: int
    reason: str
    message: str

    def __str__(self) -> str:
        return f"event #{self.seq}: {self.message} [{self.reason}]"


@dataclass
class VerifyResult:
    """Outcome of a verification: ``ok``, how many events, the head (last seq and hash), the first break."""

    ok: bool
    count: int
    head_seq: int
    head_hash: str
    first_seq: int = 1
    broken: Break | None = None
    notes: list[str] = field(default_factory=list)


_MESSAGES = {
    "missing": "事件缺失：应为 #{expect}，实为 #{seq}（记录被删除或移位） / event missing (removed or moved)",
    "unexpected": (
        "序号异常：应为 #{expect}，实为 #{seq}（记录被插入或调换顺序）"
        " / seq out of order (inserted or reordered)"
    ),
    "alg": "未知哈希算法 {alg!r} / unknown hash algorithm",
    "hash": "哈希值与记录内容不符（记录被篡改） / hash does not match the recorded content (altered)",
    "link": (
        "前序哈希与 #{before} 的哈希不符（此处或之前的记录被篡改、插入或删除）"
        " / prev_hash does not match the hash of #{before}"
    ),
    "body": "记录内容格式错误 / malformed body",
    "fields": (
        "字段 {name} 与已签记录不符（记录被篡改） / column {name} differs from the hashed record (altered)"
    ),
}


def make_break(seq: int, reason: str, **kw: Any) -> Break:
    """A :class:`Break` with the standard message for ``reason``."""
    return _break(seq, reason, **kw)


def _break(seq: int, reason: str, **kw: Any) -> Break:
    base = reason.split(":", 1)[0]
    if base == "fields":
        kw.setdefault("name", reason.split(":", 1)[1] if ":" in reason else "?")
    return Break(seq=seq, reason=reason, message=_MESSAGES[base].format(seq=seq, **kw))


class ChainVerifier:
    """Checks events fed in ``seq`` order; stops at the first break.

    ``feed`` takes rows ``(seq, alg, prev_hash, hash, body as UTF-8, mismatch)`` where ``mismatch`` is None or
    the reason code of a check done elsewhere on that row (e.g. in SQL: the stored columns against
    the body). Start at ``first_seq`` with ``prev_hash`` (the genesis hash for a whole chain).
    """

    def __init__(self, *, first_seq: int = 1, prev_hash: str = GENESIS_HASH) -> None:
        self.first_seq = first_seq
        self.expect = first_seq
        self.last_hash = prev_hash
        self.broken: Break | None = None

    def feed(self, rows: Iterable[Row]) -> Break | None:
        """Verify a batch of rows; returns (and keeps) the first break, None while all is well."""
        if self.broken is not None:
            return self.broken
        expect = self.expect
        last = self.last_hash
        alg_now = ""
        fn: Callable[[bytes], str] = _sm3_hex
        # The hot loop: locals only, one hash per event, no JSON work (columns are checked in SQL).
        for seq, alg, prev, stored, body, mismatch in rows:
            if seq != expect:
                reason = "missing" if seq > expect else "unexpected"
                self.broken = Break(
                    seq=expect if seq > expect else seq,
                    reason=reason,
                    message=_MESSAGES[reason].format(expect=expect, seq=seq),
                )
                break
            if alg != alg_now:
                if alg not in _HASHERS:
                    self.broken = _break(seq, "alg", alg=alg)
                    break
                fn = _HASHERS[alg]
                alg_now = alg
            if fn(body) != stored:
                self.broken = _break(seq, "hash")
                break
            if prev != last:
                self.broken = _break(seq, "link", before=seq - 1)
                break
            if mismatch:
                self.broken = _break(seq, mismatch)
                break
            last = stored
            expect += 1
        self.expect = expect
        self.last_hash = last
        return self.broken

    def result(self) -> VerifyResult:
        """The outcome so far (call after the last ``feed``)."""
        count = self.expect - self.first_seq
        return VerifyResult(
            ok=self.broken is None,
            count=count,
            head_seq=self.expect - 1,
            head_hash=self.last_hash,
            first_seq=self.first_seq,
            broken=self.broken,
        )


def check_fields(body: str, columns: dict[str, Any]) -> str | None:
    """Compare stored columns (already normalised to body form) with the body; the first differing reason.

    ``columns`` maps names from ``FIELDS`` to values as the body would hold them (``created_at`` as
    :func:`format_time` text). Returns ``"body"``, ``"fields:<name>"`` or None.
    """
    try:
        fields = body_fields(body)
    except ValueError:
        return "body"
    for name in FIELDS:
        if name in columns and columns[name] != fields[name]:
            return f"fields:{name}"
        if name in columns and name in ("seq", "actor_id", "actor_unit_id"):
            # JSON 1 and 1.0 and True compare equal in Python: insist on the same type.
            if type(columns[name]) is not type(fields[name]):
                return f"fields:{name}"
    return None


# --- Bundles ---------------------------------------------------------------------------------------


def bundle_header(*, exported_at: dt.datetime, source: str = "") -> dict[str, Any]:
    """The first line of an exported bundle."""
    return {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "exported_at": format_time(exported_at),
        "source": source,
        "fields": list(FIELDS),
    }


def bundle_line(seq: int, alg: str, prev_hash: str, hash_: str, body: str) -> str:
    """One event of a bundle, as a line of JSON (with its newline)."""
    return (
        canonical_json({"seq": seq, "alg": alg, "prev_hash": prev_hash, "hash": hash_, "body": body}) + "\n"
    )


def bundle_trailer(count: int, head_seq: int, head_hash: str) -> str:
    """The last line of a bundle: how many events it holds and the chain head it ends at."""
    return canonical_json({"end": True, "count": count, "head_seq": head_seq, "head_hash": head_hash}) + "\n"


class BundleError(ValueError):
    """The bundle file itself is unreadable (not JSON lines, wrong format, no trailer)."""


def _bundle_rows(lines: Iterator[str], state: dict[str, Any]) -> Iterator[Row]:
    for lineno, line in enumerate(lines, start=2):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BundleError(f"line {lineno}: not JSON ({exc.msg})") from None
        if item.get("end") is True:
            state["trailer"] = item
            return
        try:
            seq, alg, prev, stored, body = (
                item["seq"],
                item["alg"],
                item["prev_hash"],
                item["hash"],
                item["body"],
            )
        except (KeyError, TypeError):
            raise BundleError(f"line {lineno}: not an event line") from None
        if state.get("first_seq") is None:
            state["first_seq"] = seq
            state["first_prev"] = prev
            return_first = True
        else:
            return_first = False
        try:
            fields = body_fields(body)
        except ValueError:
            mismatch: str | None = "body"
        else:
            # In a bundle the body is the record; only the line's own seq/prev_hash must agree with it.
            if type(fields["seq"]) is not int or fields["seq"] != seq:
                mismatch = "fields:seq"
            elif fields["prev_hash"] != prev:
                mismatch = "fields:prev_hash"
            else:
                mismatch = None
        if return_first:
            state["verifier"] = ChainVerifier(first_seq=seq, prev_hash=prev if seq != 1 else GENESIS_HASH)
        yield seq, alg, prev, stored, body.encode() if isinstance(body, str) else b"", mismatch


def verify_bundle(source: str | Path | IO[str], *, expect_head: str | None = None) -> VerifyResult:
    """Verify an exported bundle offline (no database, no Django).

    ``source`` is a path or an open text file. A bundle starting after #1 is verified from its first
    event's ``prev_hash`` (reported in ``notes``). ``expect_head`` is a head the auditor trusts (e.g.
    written down at the last audit or taken from a backup manifest): ``"HASH"`` — the chain must end
    at it; ``"SEQ:HASH"`` — event SEQ must carry it (the chain may have grown since). Raises
    :class:`BundleError` when the file is not a bundle.
    """
    if isinstance(source, (str, Path)):
        with open(source, encoding="utf-8") as fh:
            return verify_bundle(fh, expect_head=expect_head)
    lines = iter(source)
    try:
        header = json.loads(next(lines))
    except (StopIteration, json.JSONDecodeError):
        raise BundleError("line 1: not a Qiantou audit bundle header") from None
    if not isinstance(header, dict) or header.get("format") != BUNDLE_FORMAT:
        raise BundleError("line 1: not a Qiantou audit bundle header")
    if header.get("version") != BUNDLE_VERSION:
        raise BundleError(f"line 1: unsupported bundle version {header.get('version')!r}")
    state: dict[str, Any] = {}
    rows: Iterator[Row] = _bundle_rows(lines, state)
    anchor = parse_anchor(expect_head) if expect_head else None
    if anchor is not None and anchor[0] is not None:
        rows = watch_anchor(rows, anchor[0], state)
    first = next(rows, None)
    if first is None:
        verifier = ChainVerifier()
    else:
        verifier = state["verifier"]
        verifier.feed([first])
        verifier.feed(rows)
    result = verifier.result()
    if result.ok:
        # Drain the rest so a missing trailer is noticed even on success.
        for _ in rows:
            pass
        trailer = state.get("trailer")
        if trailer is None:
            raise BundleError("bundle has no trailer line (cut short?)")
        if trailer.get("count") != result.count or trailer.get("head_hash") != result.head_hash:
            result.ok = False
            result.broken = Break(
                seq=result.head_seq + 1,
                reason="truncated",
                message="导出包不完整：结尾的事件数或链头与内容不符 / bundle cut short or trailer altered",
            )
    if result.first_seq != 1:
        result.notes.append(
            f"partial chain from #{result.first_seq}, anchored at prev_hash {state.get('first_prev')}"
        )
    if result.ok and anchor is not None:
        check_anchor(result, anchor, state)
    return result


def parse_anchor(text: str) -> tuple[int | None, str]:
    """``"HASH"`` → ``(None, HASH)``; ``"SEQ:HASH"`` → ``(SEQ, HASH)``; ValueError when malformed."""
    seq_text, sep, hash_text = text.strip().rpartition(":")
    hash_text = hash_text.lower()
    if len(hash_text) != 64 or any(c not in "0123456789abcdef" for c in hash_text):
        raise ValueError(f"not a chain head {text!r} (64 hex digits, optionally prefixed by 'SEQ:')")
    if not sep:
        return None, hash_text
    try:
        return int(seq_text.lstrip("#")), hash_text
    except ValueError:
        raise ValueError(f"not a chain head {text!r} (SEQ:HASH)") from None


def watch_anchor(rows: Iterable[Row], seq: int, state: dict[str, Any]) -> Iterator[Row]:
    """Pass rows through, remembering the stored hash of event ``seq`` in ``state["anchor_hash"]``."""
    for row in rows:
        if row[0] == seq:
            state["anchor_hash"] = row[3]
        yield row


def check_anchor(result: VerifyResult, anchor: tuple[int | None, str], state: dict[str, Any]) -> None:
    """Mark ``result`` broken when the verified chain does not carry the trusted head ``anchor``."""
    seq, expected = anchor
    found: str | None
    if seq is None:
        found, where = result.head_hash, result.head_seq
    else:
        found, where = state.get("anchor_hash"), seq
    if found != expected:
        result.ok = False
        result.broken = Break(
            seq=where,
            reason="head",
            message=(
                f"链头不符：预期 #{where} 的哈希为 {expected}，实为 {found or '（无此事件）'}"
                " / the chain does not carry the expected head (rewritten or cut short)"
            ),
        )
