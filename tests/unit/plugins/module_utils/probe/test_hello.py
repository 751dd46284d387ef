# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The ClientHello builder and the answer parser against bytes recorded from real openssl s_server exchanges
(tests/tools/record_hellos.py; the X25519MLKEM768 case from OpenSSL 3.5 in the lab's Debian 13 image), plus
hand-built answers for what no local OpenSSL serves any more (3DES)."""
from __future__ import annotations

import glob
import json
import os

import pytest

from ansible_collections.port443.https.plugins.module_utils.probe import _hello

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "..", "data", "hello")


def load(case):
    with open(os.path.join(DATA, f"{case}.json"), encoding="utf-8") as f:
        return json.load(f)


def test_all_cases_recorded():
    names = {os.path.basename(p)[:-5] for p in glob.glob(os.path.join(DATA, "*.json"))}
    assert names >= {"tls13_hrr_x25519", "tls13_hrr_x25519mlkem768", "tls12_ecdhe_secp384r1", "tls12_dhe_1024",
                     "tls10_static_rsa", "tls12_handshake_failure", "tls10_protocol_version"}


@pytest.mark.parametrize("case", sorted(os.path.basename(p)[:-5] for p in glob.glob(os.path.join(DATA, "*.json"))))
def test_builder_reproduces_recorded_client_hello(case):
    ch = load(case)["client_hello"]
    built = _hello.client_hello(ch["version"], ch["suites"], ch["groups"], ch["server_name"],
                                random=bytes.fromhex(ch["random"]), session_id=bytes.fromhex(ch["session_id"]))
    assert built.hex() == ch["hex"]


# What each server was set up to answer, written down independently of the parser.
EXPECTED = {
    "tls13_hrr_x25519": dict(kind="hrr", version="1.3", suite=0x1302, group=0x001D),
    "tls13_hrr_x25519mlkem768": dict(kind="hrr", version="1.3", suite=0x1301, group=0x11EC),
    "tls12_ecdhe_secp384r1": dict(kind="hello", version="1.2", suite=0xC030, group=0x0018),
    "tls12_dhe_1024": dict(kind="hello", version="1.2", suite=0x009E, group=None),
    "tls10_static_rsa": dict(kind="hello", version="1.0", suite=0x002F, group=None),
    "tls12_handshake_failure": dict(kind="alert", version=None, suite=None, alert=40),
    "tls10_protocol_version": dict(kind="alert", version=None, suite=None, alert=70),
}


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_parser_reads_recorded_answers(case):
    rec = load(case)
    answer = _hello.parse_bytes(bytes.fromhex(rec["answer_hex"]), rec["want_key_exchange"])
    for key, value in EXPECTED[case].items():
        assert getattr(answer, key) == value, (case, key)
    assert answer.refused == (EXPECTED[case]["kind"] == "alert")


def test_dhe_server_key_exchange_gives_p_and_g():
    rec = load("tls12_dhe_1024")
    answer = _hello.parse_bytes(bytes.fromhex(rec["answer_hex"]), want_key_exchange=True)
    assert answer.dh["p"].bit_length() == 1024 and answer.dh["g"] == 2
    # Without asking for the key exchange the parser stops at the ServerHello.
    assert _hello.parse_bytes(bytes.fromhex(rec["answer_hex"])).dh is None


def test_answer_split_into_single_bytes_is_reassembled():
    """Records and handshake messages arrive in arbitrary pieces: the reader reassembles them."""
    rec = load("tls12_ecdhe_secp384r1")
    raw = bytes.fromhex(rec["answer_hex"])
    reader = _hello.Reader()
    messages = []
    for i in range(len(raw)):
        messages += reader.feed(raw[i:i + 1])
    assert [m[0] for m in messages][:3] == [2, 11, 12]


def _server_hello(version: int, suite: int, record_version: int = 0x0303) -> bytes:
    body = version.to_bytes(2, "big") + bytes(32) + b"\x00" + suite.to_bytes(2, "big") + b"\x00"
    msg = b"\x02" + len(body).to_bytes(3, "big") + body
    return b"\x16" + record_version.to_bytes(2, "big") + len(msg).to_bytes(2, "big") + msg


def test_hand_built_3des_server_hello():
    """No local OpenSSL 3 serves 3DES any more: a hand-built ServerHello choosing TLS_RSA_WITH_3DES_EDE_CBC_SHA."""
    answer = _hello.parse_bytes(_server_hello(0x0301, 0x000A, 0x0301))
    assert (answer.kind, answer.version, answer.suite) == ("hello", "1.0", 0x000A)
    assert _hello.suite_info(0x000A)["flags"] == ["3DES"]


@pytest.mark.parametrize("raw, kind", [
    (b"HTTP/1.1 400 Bad Request\r\n\r\n", "garbage"),
    (b"", "closed"),
    (b"\x16\x03\x03\x00\x04\x0b\x00\x00\x00", "garbage"),     # a Certificate before any ServerHello
    (b"\x16\x03\x03\x00\x08\x02\x00\x00\x04\x03\x03\x00\x00", "garbage"),  # truncated ServerHello
    (b"\x15\x03\x03\x00\x02\x02\x28", "alert"),
])
def test_unreadable_answers_are_never_a_choice(raw, kind):
    answer = _hello.parse_bytes(raw)
    assert answer.kind == kind and answer.suite is None


@pytest.mark.parametrize("code, kex, auth, mode, bits, flags, fs", [
    (0x1301, "any", "any", "AEAD", 128, [], True),
    (0xC02F, "ECDHE", "RSA", "AEAD", 128, [], True),
    (0xCCA9, "ECDHE", "ECDSA", "AEAD", 256, [], True),
    (0x002F, "RSA", "RSA", "CBC", 128, [], False),
    (0x000A, "RSA", "RSA", "CBC", 112, ["3DES"], False),
    (0x0009, "RSA", "RSA", "CBC", 56, ["DES"], False),
    (0x0005, "RSA", "RSA", "stream", 128, ["RC4"], False),
    (0x0003, "RSA", "RSA", "stream", 40, ["RC4", "export"], False),
    (0x0014, "DHE", "RSA", "CBC", 40, ["export"], True),
    (0x0002, "RSA", "RSA", "none", 0, ["NULL"], False),
    (0x0034, "DH", "anon", "CBC", 128, ["anon"], True),
    (0xC018, "ECDH", "anon", "CBC", 128, ["anon"], True),
    (0x009E, "DHE", "RSA", "AEAD", 128, [], True),
])
def test_suite_properties(code, kex, auth, mode, bits, flags, fs):
    info = _hello.suite_info(code)
    assert (info["kex"], info["auth"], info["mode"], info["bits"], sorted(info["flags"]), info["forward_secrecy"]) == (
        kex, auth, mode, bits, sorted(flags), fs)


def test_tls12_only_suites_are_not_offered_below_tls12():
    from ansible_collections.port443.https.plugins.module_utils.probe import _ciphers
    below = _ciphers.candidates("1.0")
    assert 0xC02F not in below and 0x003C not in below and 0x002F in below and 0x000A in below
    assert set(_ciphers.candidates("1.3")) == set(_hello.TLS13_SUITES)


def test_tls13_client_hello_offers_only_tls13_and_no_key_share():
    raw = _hello.client_hello("1.3", [0x1301], [0x11EC], "example.com", random=bytes(32), session_id=bytes(32))
    assert raw[:3] == b"\x16\x03\x01" and raw[9:11] == b"\x03\x03"
    assert bytes.fromhex("002b00030203 04".replace(" ", "")) in raw  # supported_versions: 1.3 only
    assert bytes.fromhex("003300020000") in raw  # key_share: empty list, the server names its group in a HelloRetryRequest
    assert b"example.com" in raw


def test_no_sni_for_ip_literals():
    assert b"192.0.2.1" not in _hello.client_hello("1.2", [0xC02F], [], "192.0.2.1")
    assert b"www.example.com" in _hello.client_hello("1.2", [0xC02F], [], "www.example.com")
    with pytest.raises(ValueError):
        _hello.client_hello("1.4", [0x1301])


@pytest.mark.parametrize("version", ["1.0", "1.2", "1.3"])
def test_cached_offer_gets_a_fresh_random(version):
    """The record of an offer is built once; every ClientHello still carries its own random (and TLS 1.3 session id)."""
    one = _hello.client_hello(version, [0x1301, 0x1302] if version == "1.3" else [0xC02F, 0x002F], [0x001D], "www.example.com")
    two = _hello.client_hello(version, [0x1301, 0x1302] if version == "1.3" else [0xC02F, 0x002F], [0x001D], "www.example.com")
    assert one != two and one[11:43] != two[11:43]
    sid = one[44:76] if version == "1.3" else b""
    rebuilt = _hello.client_hello(version, [0x1301, 0x1302] if version == "1.3" else [0xC02F, 0x002F], [0x001D], "www.example.com",
                                  random=one[11:43], session_id=sid)
    assert rebuilt == one
