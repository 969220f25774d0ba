"""Re-verify an accountability report offline (no database, no Django): the auditor's tool.

Input: the report's ``manifest.json`` (the checkpoint: cited events' ``(seq, hash)``, the chain head,
the Ed25519 public key and signature) and the exported event bundle (``audit-bundle.jsonl``, written by
``qiantou.audit.verification.export_bundle``). Checks, in order:

1. the manifest's signature verifies with its public key (compare the key's fingerprint with the one
   the issuing office published);
2. the bundle's hash chain is intact and reaches the manifest's head (``qiantou.audit.chain.verify_bundle``);
3. every cited event is in the bundle with the hash the manifest names.

Run: ``python -m qiantou.assessment.offline manifest.json audit-bundle.jsonl`` — exit status 0 when all
hold, 1 otherwise, with one line per check.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qiantou.audit.chain import BundleError, canonical_json, verify_bundle

MANIFEST_FORMAT = "qiantou-accountability-checkpoint"


@dataclass
class OfflineResult:
    """Outcome: ``ok`` and one message per check (Chinese / English)."""

    ok: bool
    messages: list[str] = field(default_factory=list)


def signed_bytes(manifest: dict[str, Any]) -> bytes:
    """The bytes the signature covers: the manifest without ``signature`` and ``checkpoint_seq`` (the
    seq of the audit event that records the checkpoint, known only after signing), as canonical JSON."""
    body = {k: v for k, v in manifest.items() if k not in ("signature", "checkpoint_seq")}
    return canonical_json(body).encode()


def key_fingerprint(public_hex: str) -> str:
    """A short fingerprint of a public key (SHA-256, first 16 hex digits, grouped)."""
    digest = hashlib.sha256(bytes.fromhex(public_hex)).hexdigest()[:16]
    return " ".join(digest[i : i + 4] for i in range(0, 16, 4))


def check_signature(manifest: dict[str, Any]) -> bool:
    """True when ``manifest["signature"]`` is a valid Ed25519 signature of :func:`signed_bytes`."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(manifest["public_key"]))
        key.verify(bytes.fromhex(manifest["signature"]), signed_bytes(manifest))
    except (InvalidSignature, KeyError, ValueError, TypeError):
        return False
    return True


def _bundle_hashes(path: Path) -> dict[int, str]:
    hashes = {}
    with open(path, encoding="utf-8") as fh:
        next(fh, None)
        for line in fh:
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(item, dict) and "seq" in item and "hash" in item:
                hashes[int(item["seq"])] = str(item["hash"])
    return hashes


def verify_offline(manifest_path: str | Path, bundle_path: str | Path) -> OfflineResult:
    """Run the three checks on a manifest and a bundle (paths)."""
    result = OfflineResult(ok=True)
    try:
        manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return OfflineResult(False, [f"清单无法读取 / manifest unreadable: {exc}"])
    if manifest.get("format") != MANIFEST_FORMAT:
        return OfflineResult(False, ["不是问责报告的核验清单 / not a report checkpoint manifest"])
    if check_signature(manifest):
        result.messages.append(f"签名有效 / signature valid (key {key_fingerprint(manifest['public_key'])})")
    else:
        result.ok = False
        result.messages.append("签名无效：清单被改动或不是本系统签发 / signature INVALID")
    head = manifest.get("chain", {})
    try:
        chain = verify_bundle(bundle_path, expect_head=f"{head.get('head_seq')}:{head.get('head_hash')}")
    except (BundleError, ValueError) as exc:
        result.ok = False
        result.messages.append(f"事件包无法读取 / bundle unreadable: {exc}")
        return result
    if chain.ok:
        result.messages.append(
            f"哈希链完整，含链头 #{head.get('head_seq')} / chain intact up to the checkpoint head"
        )
    else:
        result.ok = False
        result.messages.append(f"哈希链验证失败 / chain BROKEN: {chain.broken}")
    found = _bundle_hashes(Path(bundle_path))
    bad = [seq for seq, h in manifest.get("cited", []) if found.get(int(seq)) != h]
    if bad:
        result.ok = False
        result.messages.append(
            f"{len(bad)}条引用事件与清单不符 / cited events differ: " + ", ".join(f"#{s}" for s in bad[:20])
        )
    else:
        result.messages.append(
            f"引用的{len(manifest.get('cited', []))}条事件均与清单一致 / all cited events match"
        )
    return result


def main(argv: list[str] | None = None) -> int:
    """Command line: ``manifest.json audit-bundle.jsonl`` → prints the checks, exit 0 when all hold."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m qiantou.assessment.offline manifest.json audit-bundle.jsonl", file=sys.stderr)
        return 2
    result = verify_offline(args[0], args[1])
    for line in result.messages:
        print(line)
    print("结论 / result:", "通过 OK" if result.ok else "不通过 FAILED")
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
