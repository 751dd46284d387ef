# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The thin DNS client: wire format, TSIG signing and checking, name validation, CAA rules, and dns_update /
acme_preflight_info against an in-memory authoritative server that checks TSIG like BIND does."""
from __future__ import annotations

import hashlib
import hmac
import struct

import pytest

from ansible_collections.port443.https.plugins.module_utils.certificate import _dns
from ansible_collections.port443.https.plugins.modules import acme_preflight_info, dns_update

SECRET = "O+AGymf/AZEyZVaAc/SQhJQC9JTGHPItaIOAntOof3I="
KEY = _dns.make_key("port443-acme", SECRET, "hmac-sha256")


class FakeServer:
    """One authoritative server for example.test at 192.0.2.53: answers queries from its records, applies updates
    signed with KEY (TXT only, like update-policy zonesub TXT), and signs its answers to signed requests."""

    def __init__(self, records=None, key=KEY):
        self.key = key
        self.records = {("example.test", "SOA"): [_dns.encode_name("ns.example.test") + b"\x00" * 22],
                        ("example.test", "NS"): [_dns.encode_name("ns.example.test")],
                        ("ns.example.test", "A"): [bytes([192, 0, 2, 53])]}
        self.records.update(records or {})
        self.updates = 0
        self.frozen = False  # True: ignore updates (a secondary that lags)

    def txt(self, name):
        return [_dns.txt_value(r) for r in self.records.get((name, "TXT"), [])]

    def exchange(self, message, server, port=53):
        qid, flags = struct.unpack("!HH", message[:4])
        qname, offset = _dns.decode_name(message, 12)
        qtype = {v: k for k, v in _dns.TYPES.items()}[struct.unpack("!H", message[offset:offset + 2])[0]]
        if (flags >> 11) & 0xF == _dns.OPCODE_UPDATE:
            return self._update(message, qid)
        if not (qname == "example.test" or qname.endswith(".example.test")):
            return _dns._header(qid, 0x8403, (1, 0, 0, 0)) + message[12:offset + 4]
        answers = [_dns._rr(qname, _dns.TYPES[qtype], 1, 60, rdata) for rdata in self.records.get((qname, qtype), [])]
        return _dns._header(qid, 0x8400, (1, len(answers), 0, 0)) + message[12:offset + 4] + b"".join(answers)

    def _update(self, message, qid):
        parsed = _dns.parse(message)
        tsig = parsed.additional[-1]
        _alg, pos = _dns.decode_name(message, tsig.offset)
        hi, lo, fudge, size = struct.unpack("!HIHH", message[pos:pos + 10])
        mac = message[pos + 10:pos + 10 + size]
        start = tsig.offset - 10 - len(_dns.encode_name(tsig.name))
        body = message[:10] + struct.pack("!H", 0) + message[12:start]
        expected = hmac.new(self.key.secret, body + _dns._tsig_variables(self.key, (hi << 32) | lo, fudge),
                            hashlib.sha256).digest()
        if tsig.name != self.key.name:
            return self._answer(qid, 9, b"", error=17)
        if not hmac.compare_digest(mac, expected):
            return self._answer(qid, 9, b"", error=16)
        self.updates += 1
        if not self.frozen:
            for rec in parsed.authority:
                values = self.records.setdefault((rec.name, "TXT"), [])
                if rec.rclass == _dns.CLASS_NONE and rec.rdata in values:
                    values.remove(rec.rdata)
                elif rec.rclass == 1 and rec.rdata not in values:
                    values.append(rec.rdata)
        return self._answer(qid, 0, mac)

    def _answer(self, qid, rcode, request_mac, error=0):
        head = _dns._header(qid, 0xA800 | rcode, (1, 0, 0, 0)) + _dns.encode_name("example.test") + struct.pack("!HH", 6, 1)
        now = 1_700_000_000
        mac = b""
        if not error:
            variables = _dns._tsig_variables(self.key, now, 300)
            mac = hmac.new(self.key.secret, struct.pack("!H", len(request_mac)) + request_mac + head + variables,
                           hashlib.sha256).digest()
        rdata = (_dns.encode_name("hmac-sha256") + struct.pack("!HIHH", 0, now, 300, len(mac)) + mac
                 + struct.pack("!HHH", qid, error, 0))
        return head[:10] + struct.pack("!H", 1) + head[12:] + _dns._rr(self.key.name, 250, 255, 0, rdata)


def params(**overrides):
    base = {"records": [{"name": "_acme-challenge.www.example.test", "values": ["token-1"]}], "state": "present",
            "server": "192.0.2.53", "resolver": None, "port": 53, "zone": None, "key_name": "port443-acme",
            "key_secret": SECRET, "key_algorithm": "hmac-sha256", "ttl": 60, "publish": True, "wait": True,
            "wait_timeout": 3, "wait_interval": 1.0, "check_servers": [], "timeout": 1.0}
    base.update(overrides)
    return base


def test_names_round_trip_with_compression():
    msg = b"\x00" * 12 + _dns.encode_name("www.example.test") + b"\x03_ac\xc0\x0c"
    assert _dns.decode_name(msg, 12) == ("www.example.test", 30)
    assert _dns.decode_name(msg, 30) == ("_ac.www.example.test", len(msg))


def test_pointer_loop_is_an_error():
    with pytest.raises(_dns.DNSError, match="loop"):
        _dns.decode_name(b"\xc0\x00", 0)


def test_txt_and_caa_values():
    long = "x" * 300
    assert _dns.txt_value(_dns.txt_rdata(long)) == long
    assert _dns.caa_value(b"\x80\x05issueletsencrypt.org") == (128, "issue", "letsencrypt.org")


@pytest.mark.parametrize("names, challenge, expected", [
    (["*.example.com", "example.com"], "dns-01", []),
    (["www.example.com", "192.0.2.7"], "http-01", []),
    (["*.example.com"], "http-01", ["names[0] '*.example.com': a wildcard certificate can only be validated through DNS-01"]),
    (["192.0.2.7"], "dns-01", ["names[0] '192.0.2.7': an IP address cannot be validated through DNS-01"]),
    (["w*w.example.com"], "dns-01", ["names[0] 'w*w.example.com': a wildcard must be the whole leftmost label"]),
    (["*.*.example.com"], "dns-01", ["names[0] '*.*.example.com': a wildcard must be the whole leftmost label"]),
    (["-bad.example.com"], "dns-01", ["names[0] '-bad.example.com': not a DNS name"]),
    (["a..example.com"], "dns-01", ["names[0] 'a..example.com': not a DNS name"]),
    (["*.com"], "dns-01", ["names[0] '*.com': a wildcard directly below a top-level domain"]),
    (["a.example.com", "A.example.com."], "dns-01", ["names[1] 'A.example.com.': listed twice"]),
    ([], "dns-01", ["names: the list is empty"]),
])
def test_validate_names(names, challenge, expected):
    problems = _dns.validate_names(names, challenge)
    assert len(problems) == len(expected)
    for problem, start in zip(problems, expected):
        assert problem.startswith(start)


@pytest.mark.parametrize("records, wildcard, verdict", [
    ([], False, None),
    ([(0, "iodef", "mailto:x@example.com")], False, None),
    ([(0, "issue", "letsencrypt.org")], False, None),
    ([(0, "issue", "LetsEncrypt.org; validationmethods=dns-01")], False, None),
    ([(0, "issue", "ca.invalid")], False, "CAA issue allows only 'ca.invalid'"),
    ([(0, "issue", ";")], False, "CAA issue allows only ';'"),
    ([(0, "issue", "letsencrypt.org"), (0, "issuewild", ";")], True, "CAA issuewild allows only ';'"),
    ([(0, "issue", "ca.invalid"), (0, "issuewild", "letsencrypt.org")], True, None),
    ([(0, "issue", "ca.invalid"), (0, "issuewild", "letsencrypt.org")], False, "CAA issue allows only"),
    ([(128, "tbs", "x"), (0, "issue", "letsencrypt.org")], False, "a critical CAA property 'tbs'"),
])
def test_caa_verdict(records, wildcard, verdict):
    found = _dns.caa_verdict(records, wildcard, ["letsencrypt.org"])
    assert (found is None) if verdict is None else found.startswith(verdict)


def test_make_key_rejects_bad_input():
    with pytest.raises(ValueError, match="not base64"):
        _dns.make_key("k", "not base64!", "hmac-sha256")
    with pytest.raises(ValueError, match="algorithm"):
        _dns.make_key("k", SECRET, "hmac-sha3")


def test_present_adds_then_changes_nothing_and_waits_for_the_server():
    server = FakeServer()
    client = _dns.Client(server)
    first = dns_update.run(params(), client, check_mode=False, sleep=lambda s: None)
    assert first["changed"] and first["zones"][0]["added"] == [["_acme-challenge.www.example.test", "token-1"]]
    assert first["zones"][0]["zone"] == "example.test"
    assert first["checked"] == ["ns.example.test (192.0.2.53)"]
    assert server.txt("_acme-challenge.www.example.test") == ["token-1"]
    again = dns_update.run(params(), client, check_mode=False, sleep=lambda s: None)
    assert not again["changed"] and server.updates == 1


def test_check_mode_predicts_and_sends_nothing():
    server = FakeServer()
    result = dns_update.run(params(), _dns.Client(server), check_mode=True)
    assert result["changed"] and server.updates == 0 and server.txt("_acme-challenge.www.example.test") == []


def test_absent_removes_only_the_listed_value():
    name = "_acme-challenge.www.example.test"
    server = FakeServer({(name, "TXT"): [_dns.txt_rdata("token-1"), _dns.txt_rdata("someone-else")]})
    result = dns_update.run(params(state="absent"), _dns.Client(server), check_mode=False, sleep=lambda s: None)
    assert result["changed"] and server.txt(name) == ["someone-else"]


def test_wrong_secret_is_named():
    server = FakeServer(key=_dns.make_key("port443-acme", "c29tZSBvdGhlciBzZWNyZXQ=", "hmac-sha256"))
    with pytest.raises(_dns.DNSError, match="NOTAUTH.*key_secret.*BADSIG"):
        dns_update.run(params(state="probe"), _dns.Client(server), check_mode=False)


def test_probe_leaves_nothing_behind():
    server = FakeServer()
    result = dns_update.run(params(state="probe", records=[{"name": "_acme-challenge.www.example.test", "values": []}]),
                            _dns.Client(server), check_mode=True)
    assert not result["changed"] and server.updates == 2 and server.txt("_acme-challenge.www.example.test") == []


def test_a_lagging_server_fails_after_wait_timeout():
    server = FakeServer()
    server.frozen = True
    slept = []
    with pytest.raises(_dns.DNSError, match=r"wait_timeout.*ns.example.test \(192.0.2.53\) lacks _acme-challenge"):
        dns_update.run(params(wait_timeout=2, wait_interval=0.5), _dns.Client(server), check_mode=False, sleep=slept.append)
    assert slept  # it asked again before giving up


def test_a_forged_answer_is_refused():
    server = FakeServer()
    real = server._answer

    def forged(qid, rcode, request_mac, error=0):
        raw = bytearray(real(qid, rcode, request_mac, error))
        raw[-10] ^= 0xFF  # one byte of the MAC
        return bytes(raw)

    server._answer = forged
    with pytest.raises(_dns.DNSError, match="signature does not match"):
        dns_update.run(params(), _dns.Client(server), check_mode=False, sleep=lambda s: None)


def test_records_outside_the_zone_option():
    with pytest.raises(ValueError, match="zone 'other.test' does not hold"):
        dns_update.run(params(zone="other.test"), _dns.Client(FakeServer()), check_mode=False)


def preflight(**overrides):
    base = {"names": ["www.example.test"], "challenge": "dns-01", "caa_identities": ["letsencrypt.org"],
            "resolver": "192.0.2.53", "lookups": True, "port": 53, "timeout": 1.0}
    base.update(overrides)
    return base


def test_preflight_caa_climbs_to_the_zone_and_names_the_fix():
    server = FakeServer({("example.test", "CAA"): [b"\x00\x05issueca.invalid"]})
    found, problems = acme_preflight_info.run(preflight(), _dns.Client(server))
    assert found[0]["zone"] == "example.test" and found[0]["caa_domain"] == "example.test"
    assert problems and "ca.invalid" in problems[0] and "caa_identities" in problems[0]
    allowed = FakeServer({("example.test", "CAA"): [b"\x00\x05issueletsencrypt.org"]})
    assert acme_preflight_info.run(preflight(), _dns.Client(allowed))[1] == []


def test_preflight_http01_needs_an_address_and_dns01_a_zone():
    server = FakeServer({("www.example.test", "A"): [bytes([192, 0, 2, 10])]})
    found, problems = acme_preflight_info.run(preflight(challenge="http-01", names=["www.example.test", "no.example.test"]),
                                              _dns.Client(server))
    assert found[0]["addresses"] == ["192.0.2.10"]
    assert len(problems) == 1 and problems[0].startswith("names[1] no.example.test: no A or AAAA record")
    _found, problems = acme_preflight_info.run(preflight(names=["www.other.test"]), _dns.Client(server))
    assert problems == ["names[0] www.other.test: 192.0.2.53 knows no zone that holds www.other.test"]
