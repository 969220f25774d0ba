"""Round files: ``manifest.json`` (signed) + ``body.bin``, as a directory or a zip of the two.

The manifest is canonical JSON (sorted keys, no spaces) carrying the format, round, run id, suite,
counts, the body's length and SHA-256, the signer's Ed25519 public key and a signature over all other
fields. The body starts with ``b"QTPSI" || round || run_id(16)`` so a body moved to another run is
refused even before its hash is compared. Pure Python, no Django.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

FORMAT = "qiantou-psi"
VERSION = 1
MANIFEST = "manifest.json"
BODY = "body.bin"
_MAGIC = b"QTPSI"
HEADER_BYTES = len(_MAGIC) + 1 + 16


class RoundFileError(ValueError):
    """A round file that must not be used; the message says why (Chinese)."""


def body_header(round_no: int, run_id: str) -> bytes:
    """The first 22 bytes of a body: magic, round number, run id."""
    return _MAGIC + bytes([round_no]) + bytes.fromhex(run_id)


def canonical_json(data: dict[str, Any]) -> bytes:
    """Canonical JSON bytes (sorted keys, compact, UTF-8)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def public_key_hex(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """Raw Ed25519 public key as hex (what manifests carry and officers compare)."""
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def fingerprint(public_hex: str) -> str:
    """A short fingerprint of a signer key for officers to read out over the phone."""
    digest = hashlib.sha256(bytes.fromhex(public_hex)).hexdigest()[:20].upper()
    return " ".join(digest[i : i + 4] for i in range(0, 20, 4))


@dataclass(frozen=True)
class RoundFile:
    """One round file in memory: the exact manifest bytes and the body."""

    manifest_bytes: bytes
    body: bytes

    @property
    def manifest(self) -> dict[str, Any]:
        return json.loads(self.manifest_bytes)

    @property
    def manifest_sha256(self) -> str:
        return hashlib.sha256(self.manifest_bytes).hexdigest()

    def write_dir(self, directory: Path) -> None:
        """Write ``manifest.json`` and ``body.bin`` into ``directory`` (created if needed).

        Files are first written under temporary names, so an interrupted write leaves no round file.
        """
        directory.mkdir(parents=True, exist_ok=True)
        for name, data in ((BODY, self.body), (MANIFEST, self.manifest_bytes)):
            tmp = directory / (name + ".tmp")
            tmp.write_bytes(data)
            tmp.replace(directory / name)

    def to_zip(self) -> bytes:
        """The two files as a zip archive (for downloads and HTTP)."""
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
            zf.writestr(MANIFEST, self.manifest_bytes)
            zf.writestr(BODY, self.body)
        return buf.getvalue()


def make_round(
    *, round_no: int, run_id: str, fields: dict[str, Any], body: bytes, signer: Ed25519PrivateKey
) -> RoundFile:
    """Build and sign a round file. ``body`` must start with :func:`body_header`."""
    if not body.startswith(body_header(round_no, run_id)):
        raise ValueError("body does not start with its header")
    manifest: dict[str, Any] = {
        **fields,
        "format": FORMAT,
        "version": VERSION,
        "round": round_no,
        "run_id": run_id,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "body": {"file": BODY, "bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()},
        "signer": public_key_hex(signer),
    }
    manifest["signature"] = signer.sign(canonical_json(manifest)).hex()
    return RoundFile(canonical_json(manifest), body)


def read_dir(directory: Path) -> RoundFile:
    """Load a round file from a directory; raises :class:`RoundFileError` if a part is missing."""
    directory = Path(directory)
    try:
        return RoundFile((directory / MANIFEST).read_bytes(), (directory / BODY).read_bytes())
    except FileNotFoundError as exc:
        raise RoundFileError(f"{directory}：缺少 {Path(str(exc.filename)).name}") from None


def read_zip(data: bytes) -> RoundFile:
    """Load a round file from a zip of ``manifest.json`` and ``body.bin``."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return RoundFile(zf.read(MANIFEST), zf.read(BODY))
    except (zipfile.BadZipFile, KeyError) as exc:
        raise RoundFileError(f"不是有效的比对文件压缩包（{exc}）") from None


def verify(
    rf: RoundFile,
    *,
    round_no: int,
    run_id: str | None = None,
    signer: str | None = None,
) -> dict[str, Any]:
    """Check a round file and return its manifest.

    Checks, in order: JSON, format/version, round number, signature, body length (truncation),
    body SHA-256 (tampering or a body from another file), the body header's run id, and — when
    given — the expected run id and signer public key. Raises :class:`RoundFileError`.
    """
    try:
        manifest = json.loads(rf.manifest_bytes)
        if not isinstance(manifest, dict):
            raise ValueError
    except ValueError:
        raise RoundFileError("manifest.json 不是有效的 JSON（文件损坏或被截断）") from None
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise RoundFileError("不是牵头数据比对文件，或版本不受支持")
    if manifest.get("round") != round_no:
        raise RoundFileError(f"这是第 {manifest.get('round')} 轮文件，此处需要第 {round_no} 轮文件")
    try:
        sig = bytes.fromhex(manifest["signature"])
        pub = Ed25519PublicKey.from_public_bytes(bytes.fromhex(manifest["signer"]))
        unsigned = {k: v for k, v in manifest.items() if k != "signature"}
        pub.verify(sig, canonical_json(unsigned))
    except (KeyError, ValueError, TypeError, InvalidSignature):
        raise RoundFileError("manifest.json 签名无效：文件被改动过") from None
    body_info = manifest.get("body") or {}
    if len(rf.body) != body_info.get("bytes"):
        raise RoundFileError(
            f"body.bin 长度 {len(rf.body)} 字节，manifest 记载 {body_info.get('bytes')} 字节："
            "文件被截断或不完整"
        )
    if hashlib.sha256(rf.body).hexdigest() != body_info.get("sha256"):
        raise RoundFileError("body.bin 的 SHA-256 与 manifest 不符：内容被改动，或与另一次比对的文件混用")
    rid = manifest.get("run_id", "")
    if not rf.body.startswith(body_header(round_no, rid)):
        raise RoundFileError("body.bin 属于另一次比对（运行编号不符）")
    if run_id is not None and rid != run_id:
        raise RoundFileError(f"文件属于比对 {rid}，而当前比对为 {run_id}：不能混用不同批次的文件")
    if signer is not None and manifest["signer"] != signer:
        raise RoundFileError(f"签名者 {fingerprint(manifest['signer'])} 不是约定的对方 {fingerprint(signer)}")
    return manifest
