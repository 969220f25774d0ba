"""The OPRF of RFC 9497 for suite ristretto255-SHA512, modes OPRF (0x00) and VOPRF (0x01).

Pure functions over byte strings; the batch versions used by the data check live in
:mod:`qiantou.matching.protocol`. Section numbers refer to RFC 9497 unless noted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from qiantou.matching import group

IDENTIFIER = b"ristretto255-SHA512"
MODE_OPRF = 0x00
MODE_VOPRF = 0x01


def i2osp(value: int, length: int) -> bytes:
    """Big-endian ``length``-byte encoding (RFC 8017 I2OSP)."""
    return value.to_bytes(length, "big")


def context_string(mode: int) -> bytes:
    """``"OPRFV1-" || I2OSP(mode, 1) || "-" || identifier`` (section 3.1)."""
    return b"OPRFV1-" + i2osp(mode, 1) + b"-" + IDENTIFIER


class XMD:
    """expand_message_xmd with SHA-512 for 64 output bytes (RFC 9380 section 5.3.1), one DST.

    With ``len_in_bytes = 64 = b_in_bytes``, ``ell = 1``: the output is ``b_1``. The hash state after
    the 128-byte zero pad is computed once and copied.
    """

    def __init__(self, dst: bytes) -> None:
        if len(dst) > 255:
            raise ValueError("DST longer than 255 bytes")
        self.dst_prime = dst + i2osp(len(dst), 1)
        self._tail = i2osp(64, 2) + b"\x00" + self.dst_prime
        self._tail1 = b"\x01" + self.dst_prime
        self._zpad = hashlib.sha512(bytes(128))

    def __call__(self, msg: bytes) -> bytes:
        h = self._zpad.copy()
        h.update(msg)
        h.update(self._tail)
        return hashlib.sha512(h.digest() + self._tail1).digest()


@dataclass(frozen=True)
class Suite:
    """The hash functions of one mode: HashToGroup, HashToScalar and the key-derivation DST."""

    mode: int

    @property
    def context(self) -> bytes:
        return context_string(self.mode)

    def xmd_group(self) -> XMD:
        """expand_message_xmd for ``HashToGroup`` (DST ``"HashToGroup-" || contextString``)."""
        return XMD(b"HashToGroup-" + self.context)

    def hash_to_group(self, msg: bytes) -> bytes:
        """RFC 9497 section 4.1: hash_to_ristretto255 with expand_message_xmd(SHA-512)."""
        return group.from_hash(self.xmd_group()(msg))

    def hash_to_scalar(self, msg: bytes, dst: bytes | None = None) -> bytes:
        """RFC 9497 section 4.1: 64 bytes of expand_message_xmd, little-endian, reduced mod L."""
        return group.scalar_reduce(XMD(dst if dst is not None else b"HashToScalar-" + self.context)(msg))

    def derive_key_pair(self, seed: bytes, info: bytes) -> tuple[bytes, bytes]:
        """Section 3.2.1 DeriveKeyPair: ``(skS, pkS)`` from a 32-byte seed and public info."""
        derive_input = seed + i2osp(len(info), 2) + info
        dst = b"DeriveKeyPair" + self.context
        for counter in range(256):
            sk = self.hash_to_scalar(derive_input + i2osp(counter, 1), dst=dst)
            if sk != bytes(32):
                return sk, group.mul_base(sk)
        raise ValueError("DeriveKeyPairError")  # pragma: no cover - probability 2^-2000


def finalize_hash(msg: bytes, unblinded: bytes) -> bytes:
    """Section 3.3.1 Finalize: ``Hash(len||input||len||element||"Finalize")`` with SHA-512."""
    return hashlib.sha512(
        i2osp(len(msg), 2) + msg + i2osp(len(unblinded), 2) + unblinded + b"Finalize"
    ).digest()


def blind(suite: Suite, msg: bytes, r: bytes) -> bytes:
    """Section 3.3.1 Blind with a given blind ``r``: ``r·HashToGroup(msg)``."""
    return group.mul(r, suite.hash_to_group(msg))


def finalize(msg: bytes, r: bytes, evaluated: bytes) -> bytes:
    """Section 3.3.1 Finalize: unblind ``evaluated`` with ``r`` and hash with the input."""
    return finalize_hash(msg, group.mul(group.scalar_invert(r), evaluated))


def evaluate(sk: bytes, msg: bytes, suite: Suite) -> bytes:
    """The server's direct evaluation of the PRF on its own input (section 3.3.1 BlindEvaluate + Finalize)."""
    return finalize_hash(msg, group.mul(sk, suite.hash_to_group(msg)))


# --- batched DLEQ proof, section 2.2 -------------------------------------------------------------


def _len_prefixed(*parts: bytes) -> bytes:
    return b"".join(i2osp(len(p), 2) + p for p in parts)


def _composite_scalars(suite: Suite, pk: bytes, cs: Sequence[bytes], ds: Sequence[bytes]) -> list[bytes]:
    if len(cs) != len(ds) or not 0 < len(cs) <= 0xFFFF:
        raise ValueError("a DLEQ batch holds 1..65535 pairs")
    seed_dst = b"Seed-" + suite.context
    seed = hashlib.sha512(_len_prefixed(pk, seed_dst)).digest()
    xmd = XMD(b"HashToScalar-" + suite.context)
    prefix = i2osp(len(seed), 2) + seed
    return [
        group.scalar_reduce(xmd(prefix + i2osp(i, 2) + _len_prefixed(c, d) + b"Composite"))
        for i, (c, d) in enumerate(zip(cs, ds, strict=True))
    ]


def _weighted_sum(weights: Sequence[bytes], points: Sequence[bytes]) -> bytes:
    total: bytes | None = None
    for w, p in zip(weights, points, strict=True):
        term = group.mul(w, p)
        total = term if total is None else group.add(total, term)
    assert total is not None
    return total


def _challenge(suite: Suite, pk: bytes, m: bytes, z: bytes, t2: bytes, t3: bytes) -> bytes:
    return suite.hash_to_scalar(_len_prefixed(pk, m, z, t2, t3) + b"Challenge")


def generate_proof(
    suite: Suite, sk: bytes, pk: bytes, cs: Sequence[bytes], ds: Sequence[bytes], r: bytes | None = None
) -> bytes:
    """Section 2.2.1 GenerateProof with A = generator, B = pk: 64 bytes ``c || s``."""
    weights = _composite_scalars(suite, pk, cs, ds)
    m = _weighted_sum(weights, cs)
    z = group.mul(sk, m)
    r = r or group.scalar_random()
    t2 = group.mul_base(r)
    t3 = group.mul(r, m)
    c = _challenge(suite, pk, m, z, t2, t3)
    s = group.scalar_sub(r, group.scalar_mul(c, sk))
    return c + s


def verify_proof(suite: Suite, pk: bytes, cs: Sequence[bytes], ds: Sequence[bytes], proof: bytes) -> bool:
    """Section 2.2.2 VerifyProof: True when one key ``k`` with ``pk = k·G`` maps every ``C_i`` to ``D_i``."""
    if len(proof) != 64:
        return False
    c, s = proof[:32], proof[32:]
    try:
        weights = _composite_scalars(suite, pk, cs, ds)
        m = _weighted_sum(weights, cs)
        z = _weighted_sum(weights, ds)
        t2 = group.add(group.mul_base(s), group.mul(c, pk))
        t3 = group.add(group.mul(s, m), group.mul(c, z))
    except group.GroupError:
        return False
    return _challenge(suite, pk, m, z, t2, t3) == c
