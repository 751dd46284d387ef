# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The HTTP/3 probe without a network: the reserved-version packet, the Version Negotiation parser (every malformed
answer is its own error), version classes, the Alt-Svc parser and the verdicts of the check."""
from __future__ import annotations

import itertools
import os

import pytest

from ansible_collections.port443.https.plugins.module_utils.host import _net
from ansible_collections.port443.https.plugins.module_utils.probe import _http, _quic


def _counter_random():
    """A deterministic os.urandom: 0, 1, 2 ... (mod 256)."""
    seq = itertools.count()

    def random(n):
        return bytes(next(seq) % 256 for _i in range(n))
    return random


def vn(probe, versions=(1, 0x6B3343CF), first=0x80, dcid=None, scid=None):
    """A Version Negotiation packet answering probe (its fields overridable to build broken ones)."""
    dcid = probe.scid if dcid is None else dcid
    scid = probe.dcid if scid is None else scid
    return (bytes([first]) + b"\0\0\0\0" + bytes([len(dcid)]) + dcid + bytes([len(scid)]) + scid
            + b"".join(v.to_bytes(4, "big") for v in versions))


# ---- the packet -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(40))
def test_probe_packet_layout(seed):
    probe = _quic.build_probe(os.urandom)
    data = probe.datagram
    assert len(data) == _quic.DATAGRAM_SIZE == 1200
    assert data[0] & 0xC0 == 0xC0          # long header, fixed bit
    assert data[0] & 0x30 == 0              # type Initial
    version = int.from_bytes(data[1:5], "big")
    assert version == probe.version and _quic.is_reserved(version)
    assert version not in (_quic.VERSION_1, _quic.VERSION_2)
    dlen = data[5]
    assert 8 <= dlen <= 20 and data[6:6 + dlen] == probe.dcid
    pos = 6 + dlen
    slen = data[pos]
    assert 8 <= slen <= 20 and data[pos + 1:pos + 1 + slen] == probe.scid
    pos += 1 + slen
    assert data[pos] == 0                   # empty token
    length = int.from_bytes(data[pos + 1:pos + 3], "big")
    assert length >> 14 == 1                # a 2-byte variable-length integer
    assert (length & 0x3FFF) == len(data) - pos - 3


def test_probe_packet_is_random():
    first, second = _quic.build_probe(), _quic.build_probe()
    assert first.dcid != second.dcid and first.datagram != second.datagram


def test_probe_packet_deterministic_random():
    probe = _quic.build_probe(_counter_random())
    assert probe.version & 0x0F0F0F0F == 0x0A0A0A0A
    assert len(probe.dcid) == 8 + 4 % 13 and len(probe.scid) == 8 + 5 % 13


def test_aioquic_reads_the_probe_as_a_long_header_packet():
    """An independent parser (aioquic's, where installed) reads the probe as a long header of the reserved version."""
    packet = pytest.importorskip("aioquic.quic.packet")
    buffer = pytest.importorskip("aioquic.buffer")
    probe = _quic.build_probe()
    header = packet.pull_quic_header(buffer.Buffer(data=probe.datagram), host_cid_length=8)
    assert header.version == probe.version
    assert header.destination_cid == probe.dcid and header.source_cid == probe.scid
    assert header.version not in (_quic.VERSION_1, _quic.VERSION_2)
    # and its own Version Negotiation encoder produces an answer our parser accepts
    answer = packet.encode_quic_version_negotiation(source_cid=probe.dcid, destination_cid=probe.scid,
                                                    supported_versions=[1, 0x6B3343CF])
    assert _quic.parse_answer(answer, probe) == _quic.Answer([1, 0x6B3343CF], None)


# ---- the answer -----------------------------------------------------------------------------------------------------

def test_valid_answer():
    probe = _quic.build_probe()
    assert _quic.parse_answer(vn(probe), probe) == _quic.Answer([1, 0x6B3343CF], None)
    # the unused bits of the first byte are arbitrary (RFC 9000 17.2.1)
    assert _quic.parse_answer(vn(probe, first=0xFF), probe).versions == [1, 0x6B3343CF]
    assert _quic.parse_answer(vn(probe, versions=(0xFF00001D,)), probe).versions == [0xFF00001D]


@pytest.mark.parametrize("label, build, error", [
    ("empty", lambda p: b"", "0-byte datagram"),
    ("short", lambda p: b"\x80\0\0\0", "4-byte datagram"),
    ("short header", lambda p: b"\x40" + vn(p)[1:], "not a QUIC long header"),
    ("text", lambda p: b"HTTP/1.1 400 Bad Request\r\n\r\n", "not a QUIC long header"),
    ("other version", lambda p: b"\xc0\0\0\0\x01" + vn(p)[5:], "version 0x00000001, not Version Negotiation"),
    ("truncated dcid", lambda p: vn(p)[:6 + len(p.scid) - 1], "truncated Destination Connection ID"),
    ("truncated scid", lambda p: vn(p, versions=())[:-1], "truncated Source Connection ID"),
    ("wrong dcid", lambda p: vn(p, dcid=bytes(len(p.scid))), "do not echo"),
    ("wrong scid", lambda p: vn(p, scid=p.dcid[::-1]), "do not echo"),
    ("swapped cids", lambda p: vn(p, dcid=p.dcid, scid=p.scid), "do not echo"),
    ("empty dcid", lambda p: vn(p, dcid=b""), "do not echo"),
    ("no versions", lambda p: vn(p, versions=()), "lists no version"),
    ("ragged list", lambda p: vn(p) + b"\x01", "not a multiple of 4"),
    ("lists ours", lambda p: vn(p, versions=(1, p.version)), "lists the version the probe sent"),
])
def test_malformed_answers(label, build, error):
    probe = _quic.build_probe()
    answer = _quic.parse_answer(build(probe), probe)
    assert answer.versions is None, label
    assert error in answer.error, (label, answer.error)


def test_match_answer_against_every_probe_sent():
    first, second = _quic.build_probe(), _quic.build_probe()
    assert _quic.match_answer(vn(first), [first, second]).versions == [1, 0x6B3343CF]
    assert _quic.match_answer(vn(second), [first, second]).versions == [1, 0x6B3343CF]
    # an answer to the first that lists its version: that probe's error, not "do not echo" from the second
    assert "lists the version the probe sent" in _quic.match_answer(vn(first, versions=(1, first.version)), [first, second]).error
    assert "do not echo" in _quic.match_answer(vn(_quic.build_probe()), [first, second]).error


@pytest.mark.parametrize("version, name, kind", [
    (0x00000001, "v1", "standard"),
    (0x6B3343CF, "v2", "standard"),
    (0xFF00001D, "draft-29", "draft"),
    (0xFF000022, "draft-34", "draft"),
    (0x1A2A3A4A, "reserved", "reserved"),
    (0xFAFAFAFA, "reserved", "reserved"),
    (0x51303530, "other", "other"),     # Google QUIC Q050
    (0xFACEB002, "other", "other"),     # mvfst
    (0x00000000, "other", "other"),
])
def test_classify_version(version, name, kind):
    assert _quic.classify_version(version) == {"hex": f"0x{version:08x}", "name": name, "kind": kind}


# ---- Alt-Svc ------------------------------------------------------------------------------------------------------

def test_alt_svc_absent():
    assert _http.parse_alt_svc(None) == {"present": False, "clear": False, "entries": [], "errors": [], "h3": []}


def test_alt_svc_entries():
    got = _http.parse_alt_svc('h3=":443"; ma=2592000, h3-29=":443"; ma=2592000,h2="alt.example.com:8443";persist=1, '
                              'h3="[2001:db8::1]:4433"')
    assert [(e["protocol"], e["host"], e["port"], e["max_age"], e["persist"]) for e in got["entries"]] == [
        ("h3", None, 443, 2592000, False), ("h3-29", None, 443, 2592000, False), ("h2", "alt.example.com", 8443, 86400, True),
        ("h3", "2001:db8::1", 4433, 86400, False)]
    assert [e["protocol"] for e in got["h3"]] == ["h3", "h3-29", "h3"]
    assert got["errors"] == []


def test_alt_svc_quoted_comma_and_percent_encoding():
    got = _http.parse_alt_svc('w%3Dx%3Ay="host,with:443"; ma="60", h3=":8443"; ma=x')
    assert got["entries"][0]["protocol"] == "w=x:y" and got["entries"][0]["host"] == "host,with"
    assert got["entries"][0]["max_age"] == 60
    assert got["entries"][1]["port"] == 8443 and got["entries"][1]["max_age"] == 86400  # unreadable ma: the default


@pytest.mark.parametrize("value", ["clear", "Clear", " clear "])
def test_alt_svc_clear(value):
    got = _http.parse_alt_svc(value)
    assert got["clear"] is True and got["entries"] == [] and got["h3"] == [] and got["errors"] == []


@pytest.mark.parametrize("value", ['h3', 'h3=":0"', 'h3=":99999"', 'h3="host"', '=":443"', 'h3=":x"'])
def test_alt_svc_errors(value):
    got = _http.parse_alt_svc(value)
    assert got["entries"] == [] and got["errors"] and got["h3"] == []


def test_alt_svc_clear_with_alternatives_is_an_error():
    got = _http.parse_alt_svc('clear, h3=":443"')
    assert got["clear"] is True and got["entries"] == [] and got["errors"] == ["clear together with alternatives"]


@pytest.mark.parametrize("alt, port", [
    (None, 443),
    ('h2=":8443"', 443),
    ('h3=":8443"', 8443),
    ('h3="www.example.com:9443"', 9443),
    ('h3="cdn.example.net:9443"', 443),           # another host: not probed here
    ('h3="cdn.example.net:9443", h3=":7443"', 7443),
])
def test_target_port(alt, port):
    parsed = _http.parse_alt_svc(alt) if alt else None
    assert _quic.target_port(parsed, "www.example.com", 443) == port


# ---- verdicts -------------------------------------------------------------------------------------------------------

LEAF, OTHER, INTER = b"leaf-der", b"other-der", b"inter-der"


def _udp(state, versions=None):
    return lambda family, addr, timeout: {
        "state": state, "versions": [_quic.classify_version(v) for v in versions] if versions else None,
        "latency_ms": 1.0, "sent": 1 if state == "answered" else 3, "answer": "00" if state == "invalid" else None,
        "error": {"silent": "no answer to 3 datagram(s) within 5s", "refused": "ICMP port unreachable",
                  "invalid": "not a QUIC long header", "error": "no UDP socket"}.get(state)}


def _hs(chain, done=True, error=None):
    return lambda family, addr, name, timeout: {"done": done, "version": "v1", "alpn": "h3", "chain_der": chain, "error": error}


def _run(alt, udp, hs=None, tcp_chain=(LEAF, INTER), budget=None, complete=True):
    parsed = None if alt is None else _http.parse_alt_svc(alt or None)
    return _quic.check(2, ("192.0.2.1", 443), "www.example.com", 443, parsed, budget or _net.Budget(10, 5),
                       tcp_chain=list(tcp_chain) if tcp_chain else None, tcp_complete=complete,
                       exchange_fn=udp, handshake_fn=hs or _hs([LEAF, INTER]))


ADV = 'h3=":443"; ma=86400'


@pytest.mark.parametrize("alt, state, versions, verdict, codes", [
    (ADV, "answered", [1, 0x6B3343CF], "served", []),
    ("", "answered", [1], "served", []),                                  # served, not advertised: no finding
    (ADV, "silent", None, "unreachable", [("h3_unreachable", None)]),
    (ADV, "refused", None, "unreachable", [("h3_unreachable", None)]),
    ("", "silent", None, "not_served", []),                               # nothing advertised, nothing answers
    ("", "refused", None, "not_served", []),
    (None, "silent", None, "not_served", []),                             # no HTTPS answer: Alt-Svc unknown
    ('h2=":443", clear', "silent", None, "not_served", []),
    ('h3=":443", clear', "silent", None, "not_served", []),               # clear withdraws the advertisement
    (ADV, "answered", [0xFF00001D, 0xFF00001B], "old_versions", [("h3_versions", None)]),
    ("", "answered", [0x1A2A3A4A], "old_versions", [("h3_versions", None)]),
    (ADV, "invalid", None, "invalid", [("h3_invalid_response", "critical")]),
    ("", "invalid", None, "invalid", [("h3_invalid_response", None)]),
    (ADV, "error", None, "unknown", [("h3_unreachable", None)]),
    ("", "error", None, "unknown", []),
])
def test_verdicts(alt, state, versions, verdict, codes):
    outcome = _run(alt, _udp(state, versions))
    assert outcome.section["verdict"] == verdict
    assert [(c, s) for c, _d, s in outcome.findings] == codes
    assert outcome.unfinished is False
    assert outcome.section["advertised"] is (None if alt is None else "h3=" in alt and "clear" not in alt)


def test_unreachable_detail_names_advert_and_port():
    outcome = _run(ADV, _udp("silent"))
    assert outcome.findings[0][1] == 'Alt-Svc advertises h3=":443"; UDP 443: no answer to 3 datagram(s) within 5s'


def test_chain_same():
    outcome = _run(ADV, _udp("answered", [1]))
    assert outcome.section["chain_compared"] is True and outcome.section["chain_same"] is True
    assert outcome.section["handshake"]["chain_length"] == 2 and outcome.section["handshake"]["leaf_sha256"]
    assert "chain_der" not in outcome.section["handshake"]


@pytest.mark.parametrize("quic_chain, what", [
    ([OTHER, INTER], "the leaf differs"),
    ([LEAF], "another chain: 2 certificate(s) over TCP, 1 over QUIC"),
])
def test_chain_differs(quic_chain, what):
    outcome = _run(ADV, _udp("answered", [1]), hs=_hs(quic_chain))
    assert outcome.section["chain_same"] is False
    assert [c for c, _d, _s in outcome.findings] == ["h3_chain_differs"]
    assert what in outcome.findings[0][1] and what in outcome.section["chain_note"]


def test_chain_leaf_only_when_tcp_chain_incomplete():
    outcome = _run(ADV, _udp("answered", [1]), hs=_hs([LEAF]), tcp_chain=[LEAF], complete=False)
    assert outcome.section["chain_same"] is True and "only the leaf" in outcome.section["chain_note"]


@pytest.mark.parametrize("hs, tcp_chain, note", [
    (_hs([], done=False, error="the QUIC handshake did not complete within 5s"), (LEAF,), "did not complete"),
    (_hs([], done=None, error="aioquic is not installed"), (LEAF,), "aioquic is not installed"),
    (None, (), "no certificate was read over TCP"),
])
def test_chain_not_compared_says_why(hs, tcp_chain, note):
    outcome = _run(ADV, _udp("answered", [1]), hs=hs, tcp_chain=tcp_chain)
    assert outcome.section["chain_compared"] is False and outcome.section["chain_same"] is None
    assert note in outcome.section["chain_note"] and outcome.section["chain_note"].startswith("not compared")
    assert outcome.findings == []


def test_without_aioquic_the_result_says_so(monkeypatch):
    monkeypatch.setattr(_quic, "HAS_AIOQUIC", False)
    outcome = _quic.check(2, ("192.0.2.1", 443), "www.example.com", 443, _http.parse_alt_svc(ADV), _net.Budget(10, 5),
                          tcp_chain=[LEAF], exchange_fn=_udp("answered", [1]))
    assert outcome.section["chain_compared"] is False
    assert "aioquic is not installed" in outcome.section["chain_note"]


def test_no_time_left_is_no_verdict():
    budget = _net.Budget(0.0, 5)
    outcome = _run(ADV, _udp("silent"), budget=budget)
    assert outcome.unfinished is True and outcome.section["verdict"] == "unknown" and outcome.findings == []


def test_silence_cut_short_by_the_budget_is_no_verdict():
    budget = _net.Budget(10, 5)

    def udp(family, addr, timeout):
        budget._spent = 10.0  # the budget runs out during the wait
        return _udp("silent")(family, addr, timeout)
    budget._since = None
    budget._spent = 7.0  # 3 s left: the step (3 s) is shorter than the cap (5 s)
    outcome = _run(ADV, udp, budget=budget)
    assert outcome.unfinished is True and outcome.findings == [] and outcome.section["verdict"] == "unknown"


def test_probe_address_keeps_ipv6_fields():
    seen = {}

    def udp(family, addr, timeout):
        seen["addr"] = addr
        return _udp("silent")(family, addr, timeout)
    _quic.check(10, ("2001:db8::1", 443, 0, 0), "www.example.com", 443, _http.parse_alt_svc('h3=":8443"'),
                _net.Budget(10, 5), exchange_fn=udp)
    assert seen["addr"] == ("2001:db8::1", 8443, 0, 0)
