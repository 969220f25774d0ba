"""The report signing key (Ed25519): kept in ``QIANTOU_DATA_DIR/report-signing-key.pem`` (mode 0600),
created on first use. Its public half and fingerprint are printed on every report, so an auditor can
check a checkpoint with nothing but the manifest and the published fingerprint."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

KEY_FILE = "report-signing-key.pem"
_lock = threading.Lock()


def key_path() -> Path:
    """Where the key lives (``QIANTOU_REPORT_KEY_FILE`` overrides the data directory)."""
    override = os.environ.get("QIANTOU_REPORT_KEY_FILE")
    return Path(override) if override else Path(settings.DATA_DIR) / KEY_FILE


def signing_key() -> Ed25519PrivateKey:
    """The private key, created (atomically, 0600) when missing."""
    path = key_path()
    with _lock:
        if not path.exists():
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
            try:
                os.link(tmp, path)  # fails if another process created it meanwhile: keep theirs
            except FileExistsError:
                pass
            finally:
                tmp.unlink(missing_ok=True)
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return loaded


def public_key_hex() -> str:
    """The public key as 64 hex digits."""
    return (
        signing_key()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        .hex()
    )


def sign(data: bytes) -> str:
    """An Ed25519 signature of ``data`` as hex."""
    return signing_key().sign(data).hex()
