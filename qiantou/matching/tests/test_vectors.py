"""Test vectors of RFC 9496 (ristretto255) and RFC 9497 (OPRF ristretto255-SHA512) against libsodium."""

from __future__ import annotations

import hashlib
import secrets

import pytest

from qiantou.matching import group, oprf

# RFC 9496 Appendix A.1: encodings of B·i, i = 0..15.
MULTIPLES = """
0000000000000000000000000000000000000000000000000000000000000000
e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76
6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919
94741f5d5d52755ece4f23f044ee27d5d1ea1e2bd196b462166b16152a9d0259
da80862773358b466ffadfe0b3293ab3d9fd53c5ea6c955358f568322daf6a57
e882b131016b52c1d3337080187cf768423efccbb517bb495ab812c4160ff44e
f64746d3c92b13050ed8d80236a7f0007c3b3f962f5ba793d19a601ebb1df403
44f53520926ec81fbd5a387845beb7df85a96a24ece18738bdcfa6a7822a176d
903293d8f2287ebe10e2374dc1a53e0bc887e592699f02d077d5263cdd55601c
02622ace8f7303a31cafc63f8fc48fdc16e1c8c8d234b2f0d6685282a9076031
20706fd788b2720a1ed2a5dad4952b01f413bcf0e7564de8cdc816689e2db95f
bce83f8ba5dd2fa572864c24ba1810f9522bc6004afe95877ac73241cafdab42
e4549ee16b9aa03099ca208c67adafcafa4c3f3e4e5303de6026e3ca8ff84460
aa52e000df2e16f55fb1032fc33bc42742dad6bd5a8fc0be0167436c5948501f
46376b80f409b29dc2b5f6f0c52591990896e5716f41477cd30085ab7f10301e
e0c418f7c8d9c4cdd7395b93ea124f3ad99021bb681dfc3302a9d99a2e53e64e
""".split()

# RFC 9496 Appendix A.2: invalid encodings, by the reason they must be rejected.
NON_CANONICAL = """
00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f
f3ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f
edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f
""".split()
NEGATIVE = """
0100000000000000000000000000000000000000000000000000000000000000
01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f
ed57ffd8c914fb201471d1c3d245ce3c746fcbe63a3679d51b6a516ebebe0e20
c34c4e1826e5d403b78e246e88aa051c36ccf0aafebffe137d148a2bf9104562
c940e5a4404157cfb1628b108db051a8d439e1a421394ec4ebccb9ec92a8ac78
47cfc5497c53dc8e61c91d17fd626ffb1c49e2bca94eed052281b510b1117a24
f1c6165d33367351b0da8f6e4511010c68174a03b6581212c71c0e1d026c3c72
87260f7a2f12495118360f02c26a470f450dadf34a413d21042b43b9d93e1309
""".split()
NON_SQUARE = """
26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371
4eac077a713c57b4f4397629a4145982c661f48044dd3f96427d40b147d9742f
de6a7b00deadc788eb6b6c8d20c0ae96c2f2019078fa604fee5b87d6e989ad7b
bcab477be20861e01e4a0e295284146a510150d9817763caf1a6f4b422d67042
2a292df7e32cababbd9de088d1d1abec9fc0440f637ed2fba145094dc14bea08
f4a9e534fc0d216c44b218fa0c42d99635a0127ee2e53c712f70609649fdff22
8268436f8c4126196cf64b3c7ddbda90746a378625f9813dd9b8457077256731
2810e5cbc2cc4d4eece54f61c6f69758e289aa7ab440b3cbeaa21995c2f4232b
""".split()
NEGATIVE_XY = """
3eb858e78f5a7254d8c9731174a94f76755fd3941c0ac93735c07ba14579630e
a45fdc55c76448c049a1ab33f17023edfb2be3581e9c7aade8a6125215e04220
d483fe813c6ba647ebbfd3ec41adca1c6130c2beeee9d9bf065c8d151c5f396e
8a2e1d30050198c65a54483123960ccc38aef6848e1ec8f5f780e8523769ba32
32888462f8b486c68ad7dd9610be5192bbeaf3b443951ac1a8118419d9fa097b
227142501b9d4355ccba290404bde41575b037693cef1f438c47f8fbf35d1165
5c37cc491da847cfeb9281d407efc41e15144c876e0170b499a96a22ed31e01e
445425117cb8c90edcbc7c1cc0e74f747f2c1efa5630a967c64f287792a48a4b
""".split()
S_MINUS_ONE = ["ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"]

# RFC 9496 Appendix A.3: element derivation (one-way map). Inputs 2..7 are SHA-512 of the labels of
# the ristretto.group test set; the RFC prints them as hex, checked here by their first bytes.
ONE_WAY_MAP = [
    (
        "5d1be09e3d0c82fc538112490e35701979d99e06ca3e2b5b54bffe8b4dc772c1"
        "4d98b696a1bbfb5ca32c436cc61c16563790306c79eaca7705668b47dffe5bb6",
        "3066f82a1a747d45120d1740f14358531a8f04bbffe6a819f86dfe50f44a0a46",
    ),
]
LABELLED = [
    (
        "made with the normal amount of ground coffee but extracted with",
        "f116b34b8f17ceb5",
        "f26e5b6f7d362d2d2a94c5d0e7602cb4773c95a2e5c31a64f133189fa76ed61b",
    ),
    (
        "about half the amount of water in the same amount of time",
        "8422e1bbdaab5293",
        "006ccd2a9e6867e6a2c5cea83d3302cc9de128dd2a9a57dd8ee7b9d7ffe02826",
    ),
    (
        "by using a finer grind.",
        "ac22415129b61427",
        "f8f0c87cf237953c5890aec3998169005dae3eca1fbb04548c635953c817f92a",
    ),
    (
        "This produces a concentrated shot of coffee per volume.",
        "165d697a1ef3d5cf",
        "ae81e7dedf20a497e10c304a765c1767a42d6e06029758d2d7e8ef7cc4c41179",
    ),
    (
        "Just pulling a normal shot short will produce a weaker shot",
        "a836e6c9a9ca9f1e",
        "e2705652ff9f5e44d3e841bf1c251cf7dddb77d140870d1ab2ed64f1a9ce8628",
    ),
    (
        "and is not a Ristretto as some believe.",
        "2cdc11eaeb95daf0",
        "80bd07262511cdde4863f8a7434cef696750681cb9510eea557088f76d9e5065",
    ),
]
# Non-canonical field elements in the input: all four map to the same element.
ONE_WAY_MAP_NONCANONICAL = (
    [
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"
        "1200000000000000000000000000000000000000000000000000000000000000",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0000000000000000000000000000000000000000000000000000000000000080"
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0000000000000000000000000000000000000000000000000000000000000000"
        "1200000000000000000000000000000000000000000000000000000000000080",
    ],
    "304282791023b73128d277bdcb5c7746ef2eac08dde9f2983379cb8e5ef0517f",
)


@pytest.mark.parametrize("i", range(1, 16))
def test_multiples_of_the_generator(i: int) -> None:
    assert group.mul_base(i.to_bytes(32, "little")).hex() == MULTIPLES[i]


def test_multiples_by_repeated_addition() -> None:
    b = bytes.fromhex(MULTIPLES[1])
    acc = b
    for i in range(2, 16):
        acc = group.add(acc, b)
        assert acc.hex() == MULTIPLES[i]


def test_identity_encoding_is_all_zero_and_refused_as_a_product() -> None:
    # B·L = identity: libsodium refuses to return it, which is what the protocol relies on.
    order = group.ORDER.to_bytes(32, "little")
    assert MULTIPLES[0] == "00" * 32
    with pytest.raises(group.GroupError):
        group.mul(order, bytes.fromhex(MULTIPLES[1]))
    with pytest.raises(group.GroupError):
        group.mul(b"\x01" + bytes(31), bytes(32))  # the identity is never a valid query


@pytest.mark.parametrize("encoding", NON_CANONICAL + NEGATIVE + NON_SQUARE + NEGATIVE_XY + S_MINUS_ONE)
def test_bad_encodings_are_rejected(encoding: str) -> None:
    raw = bytes.fromhex(encoding)
    assert not group.is_valid(raw)
    with pytest.raises(group.GroupError):
        group.mul(b"\x02" + bytes(31), raw)


def test_negative_field_elements_have_the_low_bit_set() -> None:
    # Sanity of the typed vectors: RFC 9496 calls s negative when its encoding's low bit is 1.
    assert all(bytes.fromhex(e)[0] & 1 for e in NEGATIVE)


@pytest.mark.parametrize(("uniform", "element"), ONE_WAY_MAP)
def test_one_way_map(uniform: str, element: str) -> None:
    assert group.from_hash(bytes.fromhex(uniform)).hex() == element


@pytest.mark.parametrize(("label", "prefix", "element"), LABELLED)
def test_one_way_map_of_labels(label: str, prefix: str, element: str) -> None:
    uniform = hashlib.sha512(label.encode()).digest()
    assert uniform.hex().startswith(prefix)
    assert group.from_hash(uniform).hex() == element


def test_one_way_map_reduces_non_canonical_inputs() -> None:
    inputs, element = ONE_WAY_MAP_NONCANONICAL
    assert {group.from_hash(bytes.fromhex(i)).hex() for i in inputs} == {element}


# RFC 9497 Appendix A.1.1 (OPRF(ristretto255, SHA-512)), mode 0x00 and 0x01.
SEED = bytes([0xA3]) * 32
KEY_INFO = bytes.fromhex("74657374206b6579")
BLIND = bytes.fromhex("64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706")


def test_rfc9497_oprf_key_derivation() -> None:
    sk, _ = oprf.Suite(oprf.MODE_OPRF).derive_key_pair(SEED, KEY_INFO)
    assert sk.hex() == "5ebcea5ee37023ccb9fc2d2019f9d7737be85591ae8652ffa9ef0f4d37063b0e"


@pytest.mark.parametrize(
    ("msg", "blinded", "evaluated", "output"),
    [
        (
            "00",
            "609a0ae68c15a3cf6903766461307e5c8bb2f95e7e6550e1ffa2dc99e412803c",
            "7ec6578ae5120958eb2db1745758ff379e77cb64fe77b0b2d8cc917ea0869c7e",
            "527759c3d9366f277d8c6020418d96bb393ba2afb20ff90df23fb7708264e2f3"
            "ab9135e3bd69955851de4b1f9fe8a0973396719b7912ba9ee8aa7d0b5e24bcf6",
        ),
        (
            "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",
            "da27ef466870f5f15296299850aa088629945a17d1f5b7f5ff043f76b3c06418",
            "b4cbf5a4f1eeda5a63ce7b77c7d23f461db3fcab0dd28e4e17cecb5c90d02c25",
            "f4a74c9c592497375e796aa837e907b1a045d34306a749db9f34221f7e750cb4"
            "f2a6413a6bf6fa5e19ba6348eb673934a722a7ede2e7621306d18951e7cf2c73",
        ),
    ],
)
def test_rfc9497_oprf_vectors(msg: str, blinded: str, evaluated: str, output: str) -> None:
    suite = oprf.Suite(oprf.MODE_OPRF)
    sk, _ = suite.derive_key_pair(SEED, KEY_INFO)
    m = bytes.fromhex(msg)
    b = oprf.blind(suite, m, BLIND)
    assert b.hex() == blinded
    e = group.mul(sk, b)
    assert e.hex() == evaluated
    assert oprf.finalize(m, BLIND, e).hex() == output
    # The server's own evaluation gives the same PRF value: what makes tags comparable.
    assert oprf.evaluate(sk, m, suite).hex() == output


def test_rfc9497_voprf_vector_and_proof() -> None:
    suite = oprf.Suite(oprf.MODE_VOPRF)
    sk, pk = suite.derive_key_pair(SEED, KEY_INFO)
    assert sk.hex() == "e6f73f344b79b379f1a0dd37e07ff62e38d9f71345ce62ae3a9bc60b04ccd909"
    assert pk.hex() == "c803e2cc6b05fc15064549b5920659ca4a77b2cca6f04f6b357009335476ad4e"
    b = oprf.blind(suite, b"\x00", BLIND)
    assert b.hex() == "863f330cc1a1259ed5a5998a23acfd37fb4351a793a5b3c090b642ddc439b945"
    e = group.mul(sk, b)
    assert e.hex() == "aa8fa048764d5623868679402ff6108d2521884fa138cd7f9c7669a9a014267e"
    r = bytes.fromhex("222a5e897cf59db8145db8d16e597e8facb80ae7d4e26d9881aa6f61d645fc0e")
    proof = oprf.generate_proof(suite, sk, pk, [b], [e], r=r)
    assert proof.hex() == (
        "ddef93772692e535d1a53903db24367355cc2cc78de93b3be5a8ffcc6985dd06"
        "6d4346421d17bf5117a2a1ff0fcb2a759f58a539dfbe857a40bce4cf49ec600d"
    )
    assert oprf.verify_proof(suite, pk, [b], [e], proof)
    assert not oprf.verify_proof(suite, pk, [b], [b], proof)


def test_batched_proof_detects_one_answer_under_another_key() -> None:
    suite = oprf.Suite(oprf.MODE_VOPRF)
    sk = group.scalar_random()
    pk = group.mul_base(sk)
    cs = [group.from_hash(bytes([i]) * 64) for i in range(1, 9)]
    ds = [group.mul(sk, c) for c in cs]
    assert oprf.verify_proof(suite, pk, cs, ds, oprf.generate_proof(suite, sk, pk, cs, ds))
    other = group.scalar_random()
    cheat = [*ds[:5], group.mul(other, cs[5]), *ds[6:]]
    assert not oprf.verify_proof(suite, pk, cs, cheat, oprf.generate_proof(suite, sk, pk, cs, cheat))


def test_batch_inversion_matches_single_inversion() -> None:
    scalars = group.scalar_random_many(50)
    assert group.scalar_invert_many(scalars) == [group.scalar_invert(s) for s in scalars]
    assert group.scalars_invert(b"".join(scalars[:1])) == group.scalar_invert(scalars[0])
    # one scalar per element, concatenated, as the blinding and unblinding pass them
    points = b"".join(group.from_hash(secrets.token_bytes(64)) for _ in scalars)
    assert group.mul_many(b"".join(scalars), points) == b"".join(
        group.mul(s, points[i * 32 : i * 32 + 32]) for i, s in enumerate(scalars)
    )
