"""Local secrets of one installation and encryption at rest. Pure Python, no Django.

Everything lives under one directory (``QIANTOU_DATA_DIR/matching`` in Qiantou):

* ``storage.key`` — 16 random bytes; seals the requester's secret state, uploads and round files at
  rest with SM4-GCM (SM4 of GB/T 32907-2016, GCM mode, 96-bit nonce, 128-bit tag). The installed
  ``cryptography`` build supports ``algorithms.SM4`` with ``modes.GCM``; :data:`AT_REST_CIPHER` says
  which cipher is in use, and AES-128-GCM is the fallback when a build lacks SM4.
* ``identity.key`` — the Ed25519 key that signs this installation's round-file manifests.
* ``reference.key`` — 32 bytes for the responder's opaque episode references (HMAC-SHA256).

Files are created with mode 0600.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_MAGIC = b"QTSEAL1"


def _sm4_available() -> bool:
    try:
        enc = Cipher(algorithms.SM4(bytes(16)), modes.GCM(bytes(12))).encryptor()
        enc.update(b"x")
        enc.finalize()
    except (UnsupportedAlgorithm, AttributeError, ValueError):
        return False
    return True


AT_REST_CIPHER = "SM4-GCM" if _sm4_available() else "AES-128-GCM"


class SealError(ValueError):
    """Sealed data is damaged, truncated, or was sealed with another key or purpose."""


def _algorithm(key: bytes) -> algorithms.SM4 | algorithms.AES:
    return algorithms.SM4(key) if AT_REST_CIPHER == "SM4-GCM" else algorithms.AES(key)


def seal(key: bytes, data: bytes, purpose: bytes) -> bytes:
    """Encrypt ``data``: ``magic || nonce(12) || ciphertext || tag(16)``; ``purpose`` is bound as AAD."""
    nonce = secrets.token_bytes(12)
    enc = Cipher(_algorithm(key), modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(_MAGIC + purpose)
    body = enc.update(data) + enc.finalize()
    return _MAGIC + nonce + body + enc.tag


def unseal(key: bytes, blob: bytes, purpose: bytes) -> bytes:
    """Decrypt what :func:`seal` wrote; raises :class:`SealError` when it was altered or truncated."""
    if len(blob) < len(_MAGIC) + 28 or not blob.startswith(_MAGIC):
        raise SealError("加密存储的文件已损坏或被截断")
    nonce, body, tag = blob[7:19], blob[19:-16], blob[-16:]
    dec = Cipher(_algorithm(key), modes.GCM(nonce, tag)).decryptor()
    dec.authenticate_additional_data(_MAGIC + purpose)
    try:
        return dec.update(body) + dec.finalize()
    except InvalidTag:
        raise SealError("加密存储的文件校验失败（被改动、截断，或不是本机生成）") from None


def _secret_file(path: Path, make: bytes) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as fh:
        fh.write(make)
    return make


class Vault:
    """The secrets of one installation, stored in ``base``."""

    def __init__(self, base: Path) -> None:
        self.base = Path(base)

    @property
    def storage_key(self) -> bytes:
        """The at-rest key (created on first use)."""
        return _secret_file(self.base / "storage.key", secrets.token_bytes(16))

    @property
    def reference_key(self) -> bytes:
        """The key of the responder's opaque episode references."""
        return _secret_file(self.base / "reference.key", secrets.token_bytes(32))

    @property
    def identity(self) -> Ed25519PrivateKey:
        """This installation's Ed25519 manifest-signing key."""
        fresh = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        return Ed25519PrivateKey.from_private_bytes(_secret_file(self.base / "identity.key", fresh))

    def seal(self, data: bytes, purpose: bytes) -> bytes:
        """Encrypt with the storage key (see :func:`seal`)."""
        return seal(self.storage_key, data, purpose)

    def unseal(self, blob: bytes, purpose: bytes) -> bytes:
        """Decrypt with the storage key (see :func:`unseal`)."""
        return unseal(self.storage_key, blob, purpose)

    def write_sealed(self, path: Path, data: bytes, purpose: bytes) -> None:
        """Seal ``data`` into ``path`` atomically (write to a temporary name, then rename)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(self.seal(data, purpose))
        tmp.replace(path)

    def read_sealed(self, path: Path, purpose: bytes) -> bytes:
        """Read and decrypt a file written by :meth:`write_sealed`."""
        return self.unseal(Path(path).read_bytes(), purpose)
