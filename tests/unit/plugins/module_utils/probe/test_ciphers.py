# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The ciphers check without a network: prime checks, known DH groups, the enumeration loop against scripted
answers (choices, refusals, timeouts, nonsense) and the findings of hand-written results."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from ansible_collections.port443.https.plugins.module_utils.probe import _ciphers, _hello, _probe
from ansible_collections.port443.https.plugins.module_utils.host import _net


# ---- primes and DH groups -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n, prime", [(2, True), (3, True), (4, False), (1, False), (0, False), (97, True), (561, False),
                                      (2 ** 127 - 1, True), (2 ** 127 + 1, False), ((2 ** 61 - 1) * (2 ** 89 - 1), False),
                                      (3215031751, False)])
def test_miller_rabin(n, prime):
    assert _ciphers.is_probable_prime(n) is prime


def test_dh_facts_safe_composite_and_small_subgroup():
    safe = 2 * 1019 + 1  # 2039 and 1019 both prime
    assert _ciphers.dh_facts(safe, 2) == {"bits": 11, "prime": True, "safe_prime": True, "known_group": None, "generator": 2}
    mersenne = 2 ** 127 - 1  # prime, (p-1)/2 = 2^126 - 1 composite: small subgroups
    facts = _ciphers.dh_facts(mersenne, 3)
    assert facts["prime"] and not facts["safe_prime"]
    assert any("safe prime" in p for p in _ciphers.dh_problems(facts))
    composite = (2 ** 1279 - 1) * (2 ** 607 - 1) * (2 ** 521 - 1)
    facts = _ciphers.dh_facts(composite, 2)
    assert not facts["prime"] and not facts["safe_prime"] and facts["bits"] >= 2048
    assert _ciphers.dh_problems(facts) == ["the modulus p is not prime"]


@pytest.mark.skipif(not shutil.which("openssl"), reason="needs the openssl CLI to produce the RFC groups")
@pytest.mark.parametrize("group", ["ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe8192", "modp_1536", "modp_2048", "modp_4096"])
def test_known_groups_match_openssls_copies(group, tmp_path):
    from cryptography.hazmat.primitives.serialization import load_pem_parameters
    pem = subprocess.run(["openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", f"group:{group}"],
                         capture_output=True, check=True).stdout
    numbers = load_pem_parameters(pem).parameter_numbers()
    facts = _ciphers.dh_facts(numbers.p, numbers.g)
    assert facts["known_group"] == group and facts["safe_prime"]
    # A changed prime is no longer the known group, and its primality is really computed.
    other = _ciphers.dh_facts(numbers.p + 2, numbers.g)
    assert other["known_group"] is None


def test_known_group_digests_are_the_primes_of_their_size():
    assert len(_ciphers.KNOWN_GROUPS) == 11 and all(len(d) == 64 for d in _ciphers.KNOWN_GROUPS)


# ---- the enumeration loop against scripted answers ------------------------------------------------------------------

def answer(kind, version=None, suite=None, group=None, dh=None, detail=None, alert=40):
    out = _hello.Answer(kind, detail)
    out.version, out.suite, out.group, out.dh = version, suite, group, dh
    if kind == "alert":
        out.alert = alert
    return out


class FakeServer:
    """Answers like a server with these suites per version, in its own preference order when server_order."""

    def __init__(self, suites, groups13=(), groups12=(), server_order=False, dh=None, broken=None, cert_curve=None,
                 key_types=None, cert_by_offered_suites=False):
        self.suites, self.groups13, self.groups12 = suites, list(groups13), list(groups12)
        # The key types of its certificates: by default those its TLS 1.2 suites authenticate with (else RSA).
        self.key_types = key_types or sorted({_hello.suite_info(c)["auth"] for c in suites.get("1.2", [])} or {"RSA"})
        self.server_order, self.dh, self.broken = server_order, dh, broken
        self.hellos = 0
        self.cert_curve = cert_curve  # an ECDSA certificate's curve: TLS 1.2 clients must offer it
        # HAProxy 2.6 with two certificates: below TLS 1.3 it takes the ECDSA one whenever an ECDSA suite is offered
        # (one it has or not), before it picks a suite.
        self.cert_by_offered_suites = cert_by_offered_suites

    def __call__(self, family, sockaddr, hello, timeout, want_key_exchange=False):
        self.hellos += 1
        version, offered, groups, sigalgs, shares = parse_offer(hello)
        scripted = self.broken(version, offered) if self.broken else None
        if scripted:
            return answer(*scripted)
        usable = [k for k in self.key_types if set(_hello.KEY_TYPE_SIGNATURE_ALGORITHMS[k]) & set(sigalgs)]
        if not usable:
            return answer("alert")  # no certificate it may sign with: handshake_failure
        have = self.suites.get(version, [])
        if self.cert_by_offered_suites and version != "1.3":
            chosen = "ECDSA" if any(_hello.suite_info(c)["auth"] == "ECDSA" for c in offered) else "RSA"
            have = [c for c in have if _hello.suite_info(c)["auth"] == chosen]
        common = [s for s in (have if self.server_order else offered) if s in (offered if self.server_order else have)]
        if not common:
            return answer("alert")
        suite = common[0]
        if version == "1.3":
            pick = [g for g in self.groups13 if g in groups]
            if pick and pick[0] in shares:
                return answer("hello", "1.3", suite, pick[0])
            return answer("hrr", "1.3", suite, pick[0]) if pick else answer("alert")
        kex = _hello.suite_info(suite)["kex"]
        if self.cert_curve is not None and self.cert_curve not in groups:
            return answer("alert")
        if kex == "ECDHE":
            pick = [g for g in (self.groups12 if self.server_order else groups) if g in (groups if self.server_order else self.groups12)]
            return answer("hello", version, suite, pick[0] if want_key_exchange else None) if pick else answer("alert")
        return answer("hello", version, suite, dh=self.dh if want_key_exchange and kex == "DHE" else None)


def parse_offer(hello):
    body = hello[9:]
    legacy = int.from_bytes(body[:2], "big")
    pos = 2 + 32
    pos += 1 + body[pos]
    n = int.from_bytes(body[pos:pos + 2], "big")
    suites = [int.from_bytes(body[pos + 2 + i:pos + 4 + i], "big") for i in range(0, n, 2)]
    pos += 2 + n + 2
    ext_end = pos + 2 + int.from_bytes(body[pos:pos + 2], "big")
    pos += 2
    groups, version, sigalgs, shares = [], _hello.VERSION_NAMES[legacy], list(_hello.SIGNATURE_ALGORITHMS), []
    while pos < ext_end:
        kind, length = int.from_bytes(body[pos:pos + 2], "big"), int.from_bytes(body[pos + 2:pos + 4], "big")
        data = body[pos + 4:pos + 4 + length]
        if kind == 0x000A:
            groups = [int.from_bytes(data[2 + i:4 + i], "big") for i in range(0, len(data) - 2, 2)]
        if kind == 0x000D:
            sigalgs = [int.from_bytes(data[2 + i:4 + i], "big") for i in range(0, len(data) - 2, 2)]
        if kind == 0x0033:
            i = 2
            while i < len(data):
                shares.append(int.from_bytes(data[i:i + 2], "big"))
                i += 4 + int.from_bytes(data[i + 2:i + 4], "big")
        if kind == 0x002B:
            version = "1.3"
        pos += 4 + length
    return version, suites, groups, sigalgs, shares


def run(server, seconds=30, versions=None):
    """One endpoint's enumeration task, each of its ClientHellos answered by server instead of the event loop."""
    target = _ciphers.Target(2, ("192.0.2.1", 443), "www.example.com", _net.Budget(seconds, 5, running=False), versions)
    sections = [None]
    task = _ciphers.enumeration(target, sections, 0)
    answer = None
    try:
        while True:
            hello = task.send(answer)
            assert (hello.family, hello.sockaddr, hello.budget) == (target.family, target.sockaddr, target.budget)
            answer = server(hello.family, hello.sockaddr, hello.out, hello.budget.step(), hello.parser.want_key_exchange)
    except StopIteration:
        pass
    return sections[0]


INTERMEDIATE_RSA = {"1.2": [0xC02F, 0xC030, 0xCCA8], "1.3": [0x1301, 0x1302, 0x1303]}


def test_enumerates_suites_groups_and_order():
    server = FakeServer(INTERMEDIATE_RSA, groups13=[0x11EC, 0x001D, 0x0017, 0x0018], groups12=[0x001D, 0x0017, 0x0018])
    sec = run(server)
    assert sec["complete"] and sec["versions"]["1.0"] == {"suites": [], "server_order": None}
    assert set(sec["versions"]["1.2"]["suites"]) == {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                                                     "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"}
    assert sec["versions"]["1.2"]["server_order"] is False and sec["server_order"] is False
    # TLS 1.2 groups are enumerated only where TLS 1.3 is off (one server setting decides both).
    assert sec["groups"] == {"1.3": ["X25519MLKEM768", "x25519", "secp256r1", "secp384r1"]}
    assert sec["forward_secrecy"] is True and sec["dh"] is None
    assert sec["handshakes"] == server.hellos
    found = [f[0] for f in _ciphers.findings(sec, {"tls_profile": "intermediate", "tls_guideline": "6.0", "require_pq_kex": True})]
    assert found == []


def test_tls12_groups_behind_an_ecdsa_certificate():
    """The certificate's curve must stay offered in TLS 1.2, or the server refuses and the groups look fewer."""
    server = FakeServer({"1.2": [0xC02B]}, groups12=[0x001D, 0x0017, 0x0018, 0x0019], cert_curve=0x0017)
    sec = run(server)
    assert sec["complete"] and sec["groups"]["1.2"] == ["x25519", "secp256r1", "secp384r1", "secp521r1"]


def test_server_order_enforced():
    server = FakeServer({"1.2": [0xCCA8, 0xC030, 0xC02F]}, groups12=[0x001D], server_order=True)
    sec = run(server)
    assert sec["versions"]["1.2"]["suites"][0] == "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"
    assert sec["versions"]["1.2"]["server_order"] is True and sec["server_order"] is True
    assert sec["groups"] == {"1.2": ["x25519"]}


def test_tls10_and_11_take_the_order_of_tls12():
    server = FakeServer({"1.0": [0xC013, 0xC014], "1.1": [0xC013, 0xC014], "1.2": [0xC02F, 0xC030]}, groups12=[0x001D], server_order=True)
    sec = run(server)
    assert [sec["versions"][v]["server_order"] for v in ("1.0", "1.1", "1.2")] == [True, True, True]
    # 1.0 and 1.1: suites + refusal, no order probe; 1.2: suites + refusal + order; 1.3 refused; 1.2 groups: 1 + refusal
    # each of them: the ECDSA suites alone, refused; key types: TLS 1.2 RSA (no accepted suite authenticates with
    # ECDSA: no hello for it)
    assert sec["handshakes"] == 3 + 3 + 4 + 1 + 2 + 1 + 3
    assert sec["certificate_key_types"] == ["RSA"] and sec["certificate_key_types_by_version"] == {"1.2": ["RSA"]}


@pytest.mark.parametrize("key_types, tls12, expected", [
    (["ECDSA", "RSA"], [0xC02B, 0xC02F], ["ECDSA", "RSA"]),
    (["ECDSA"], [0xC02B], ["ECDSA"]),
    (["RSA"], [0xC02F], ["RSA"]),
])
def test_certificate_key_types(key_types, tls12, expected):
    """One ClientHello per key type offering only its signature algorithms, in TLS 1.3 (with key shares, so the
    answer is a ServerHello) and TLS 1.2 (with the accepted suites that authenticate with it)."""
    server = FakeServer({"1.2": tls12, "1.3": [0x1301]}, groups13=[0x001D, 0x0017], groups12=[0x001D, 0x0017],
                        key_types=key_types)
    sec = run(server)
    assert sec["complete"], sec["unknown"]
    assert sec["certificate_key_types"] == expected
    assert sec["certificate_key_types_by_version"] == {"1.3": expected, "1.2": expected}


def test_certificate_picked_from_the_offered_suites():
    """A server that takes its ECDSA certificate whenever an ECDSA suite is offered (HAProxy 2.6 with two
    certificates) accepts its RSA suites only in an offer without ECDSA suites: they are found all the same."""
    server = FakeServer({"1.2": [0xC02B, 0xC02F, 0xC030], "1.3": [0x1301]}, groups13=[0x001D], groups12=[0x001D],
                        key_types=["ECDSA", "RSA"], cert_by_offered_suites=True)
    sec = run(server)
    assert sec["complete"], sec["unknown"]
    assert sec["versions"]["1.2"]["suites"] == ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                                                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"]
    assert sec["certificate_key_types_by_version"] == {"1.3": ["ECDSA", "RSA"], "1.2": ["ECDSA", "RSA"]}


def test_certificate_key_types_unknown():
    """A key-type hello that times out leaves that version unknown, and the enumeration incomplete."""
    server = FakeServer({"1.3": [0x1301]}, groups13=[0x001D], key_types=["RSA"],
                        broken=lambda v, offered: ("timeout", None, None, None, None, "no answer") if server.hellos > 4 else None)
    sec = run(server)
    assert sec["certificate_key_types_by_version"] == {"1.3": None}
    assert any(u.startswith("TLS 1.3 ECDSA certificate: no answer") for u in sec["unknown"])


def test_timeouts_and_nonsense_make_the_enumeration_unknown():
    seen = []

    def second_tls12_hello_times_out(version, offered):
        seen.append(version)
        return ("timeout", None, None, None, None, "no answer") if seen.count("1.2") == 2 and version == "1.2" else None

    server = FakeServer(INTERMEDIATE_RSA, groups13=[0x001D], groups12=[0x001D], broken=second_tls12_hello_times_out)
    sec = run(server)
    assert not sec["complete"] and sec["versions"]["1.2"] is None and "TLS 1.2 suites: no answer" in sec["unknown"]
    assert [f[0] for f in _ciphers.findings(sec, {"tls_profile": "intermediate"})] == ["cipher_enumeration_unknown"]
    # A choice that was not offered is nonsense, never an accepted suite.
    server = FakeServer(INTERMEDIATE_RSA, groups13=[0x001D], broken=lambda v, offered: ("hello", v, 0x000A) if v == "1.2" else None)
    sec = run(server)
    assert sec["versions"]["1.2"] is None and "not offered" in sec["unknown"][0]


def test_no_time_left_is_unknown():
    sec = run(FakeServer(INTERMEDIATE_RSA), seconds=0)
    assert not sec["complete"] and all(v is None for v in sec["versions"].values())
    assert "no time left" in sec["unknown"][0]


# ---- closes, resets and contradictions: never a refusal by default ---------------------------------------------------

def closing_after(count, kind="closed"):
    """A limiter in front of the server: from ClientHello number `count` on, every connection ends without an answer."""
    seen = []

    def broken(version, offered):
        seen.append(version)
        return (kind, None, None, None, None, "the server closed the connection without an answer") if len(seen) > count else None
    return broken


MOZ_GROUPS13 = [0x001D, 0x0017, 0x0018]


def moz(**kwargs):
    """Mozilla intermediate with an RSA certificate: 16 ClientHellos (TLS 1.3 and 1.2: 3 suites, the refusal and the
    order each; one refusal each for 1.1 and 1.0; the TLS 1.3 groups: 3 and the refusal)."""
    return FakeServer(INTERMEDIATE_RSA, groups13=MOZ_GROUPS13, groups12=MOZ_GROUPS13, **kwargs)


@pytest.mark.parametrize("count", [2, 6, 11, 13])
def test_a_limiter_that_closes_mid_enumeration_is_unknown(count):
    server = moz(broken=closing_after(count))
    sec = run(server, versions={"1.0": False, "1.1": False, "1.2": True, "1.3": True})
    assert not sec["complete"] and "an offer it answered before" in " ".join(sec["unknown"]), sec["unknown"]
    found = codes(sec, tls_profile="intermediate", tls_pq=False, require_pq_kex=True)
    assert found == ["cipher_enumeration_unknown"], (found, sec)
    # Once the control offer went unanswered nothing more is asked: a limiter is not fed.
    assert server.hellos <= count + 3


def test_a_server_that_closes_instead_of_an_alert_is_still_enumerated():
    """Declining by closing (or resetting) while every offer it accepts is answered: the close repeats with a known
    offer answered in between, and the enumeration finishes with the same lists as with alerts."""
    def closes_instead(version, offered):
        have = INTERMEDIATE_RSA.get(version, [])
        return None if any(s in have for s in offered) else ("closed", None, None, None, None, "closed")

    with_alerts = run(moz())
    server = moz(broken=closes_instead)
    sec = run(server, versions={"1.0": False, "1.1": False, "1.2": True, "1.3": True})
    assert sec["complete"], sec["unknown"]
    assert {k: sec[k] for k in ("versions", "groups")} == {k: with_alerts[k] for k in ("versions", "groups")}
    assert sec["handshakes"] == server.hellos > with_alerts["handshakes"]


def test_a_close_before_any_answer_is_unknown():
    sec = run(moz(broken=closing_after(0)))
    assert not sec["complete"] and "no offer was answered before" in sec["unknown"][0]


def test_an_alert_that_declines_nothing_is_unknown():
    server = moz(broken=lambda v, offered: ("alert", None, None, None, None, "alert unrecognized_name", 112) if v == "1.2" else None)
    sec = run(server)
    assert not sec["complete"] and sec["versions"]["1.2"] is None


def test_a_version_the_tls_phase_accepted_with_every_suite_declined_is_unknown():
    server = FakeServer({"1.3": [0x1301]}, groups13=MOZ_GROUPS13)  # declines TLS 1.2 with an alert
    sec = run(server, versions={"1.2": True, "1.3": True})
    assert sec["versions"]["1.2"] is None and "TLS 1.2 suites: every offer was declined" in " ".join(sec["unknown"])
    # Without that verdict the same answers are a refused version.
    assert run(FakeServer({"1.3": [0x1301]}, groups13=MOZ_GROUPS13))["versions"]["1.2"] == {"suites": [], "server_order": None}


def test_tls13_suites_without_a_group_are_unknown():
    seen = []

    def second_full_tls13_offer_declined(version, offered):
        # The suites' first offer and the groups' first offer are the same ClientHello: decline it the second time.
        if version == "1.3" and offered == list(_hello.TLS13_SUITES):
            seen.append(1)
            return ("alert",) if len(seen) == 2 else None
        return None
    server = moz(broken=second_full_tls13_offer_declined)
    sec = run(server)
    assert not sec["complete"] and sec["groups"]["1.3"] is None and "every group was declined" in " ".join(sec["unknown"])


# ---- one server, many names -----------------------------------------------------------------------------------------

def test_fingerprint_offers_check_first_choice_extras_order_groups_and_dh():
    sec = run(FakeServer({"1.2": [0xC02F, 0xC030, 0x009E], "1.3": [0x1301, 0x1302]}, groups13=MOZ_GROUPS13, groups12=MOZ_GROUPS13,
                         dh={"p": 23, "g": 5}))
    offers = _ciphers.fingerprint_offers(sec)
    by_version = {}
    for version, suites, groups, want_kx in offers:
        by_version.setdefault(version, []).append((suites, groups, want_kx))
    assert by_version["1.0"] == [(_ciphers.candidates("1.0"), list(_hello.TLS12_GROUPS), False)]
    first, rest, backwards = by_version["1.2"][:3]
    found = [_hello.SUITE_CODES[n] for n in sec["versions"]["1.2"]["suites"]]
    assert first[0] == _ciphers.candidates("1.2") and not set(found) & set(rest[0]) and backwards[0] == found[::-1]
    assert by_version["1.2"][3] == ([0x009E], list(_hello.TLS12_GROUPS), True)  # the DH parameters
    groups13 = [g for _s, g, _k in by_version["1.3"][3:]]
    assert groups13 == [[g for g in _hello.TLS13_GROUPS if g not in MOZ_GROUPS13], MOZ_GROUPS13[::-1]]
    # The same server answers the same; one that adds a suite or enforces its order does not.

    def server(suites12, **kwargs):
        return FakeServer({"1.2": suites12, "1.3": [0x1301, 0x1302]}, groups13=MOZ_GROUPS13, groups12=MOZ_GROUPS13, dh={"p": 23, "g": 5},
                          **kwargs)

    def prints(srv):
        return [_ciphers._print(srv(2, (), _hello.client_hello(*o[:3]), 5, o[3])) for o in offers]
    same = prints(server([0xC02F, 0xC030, 0x009E]))
    assert None not in same and prints(server([0xC02F, 0xC030, 0x009E])) == same
    assert prints(server([0xC02F, 0xC030, 0x009E, 0xC013])) != same
    assert prints(server([0xC02F, 0xC030, 0x009E], server_order=True)) != same


# ---- findings -------------------------------------------------------------------------------------------------------

def section(versions, groups=None, dh=None, complete=True):
    return {"versions": {v: ({"suites": versions.get(v, []), "server_order": None}) for v in ("1.0", "1.1", "1.2", "1.3")},
            "groups": groups or {}, "dh": dh, "complete": complete, "unknown": [] if complete else ["TLS 1.2 suites: timeout"]}


def codes(sec, **opts):
    return [f[0] for f in _ciphers.findings(sec, opts)]


def test_weak_cipher_each_flag():
    for name in ("TLS_RSA_WITH_NULL_SHA", "TLS_DH_anon_WITH_AES_128_CBC_SHA", "TLS_RSA_EXPORT_WITH_RC4_40_MD5",
                 "TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_DES_CBC_SHA", "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"):
        found = _ciphers.findings(section({"1.2": [name, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]}), {})
        assert found[0][0] == "weak_cipher" and name in found[0][1], name


def test_cbc_only_static_rsa_and_dh():
    assert codes(section({"1.2": ["TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"], "1.3": ["TLS_AES_128_GCM_SHA256"]})) == ["cbc_only"]
    assert codes(section({"1.2": ["TLS_RSA_WITH_AES_128_GCM_SHA256"]})) == ["no_forward_secrecy"]
    weak = {"bits": 1024, "prime": True, "safe_prime": True, "known_group": None, "generator": 2}
    assert codes(section({"1.2": ["TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"]}, dh=weak)) == ["weak_dh"]
    good = {"bits": 2048, "prime": True, "safe_prime": True, "known_group": "ffdhe2048", "generator": 2}
    assert codes(section({"1.2": ["TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"]}, dh=good)) == []


def test_pq_only_when_asked():
    sec = section({"1.3": ["TLS_AES_128_GCM_SHA256"]}, groups={"1.3": ["x25519"]})
    assert codes(sec) == [] and codes(sec, require_pq_kex=True) == ["no_pq_kex"]
    sec["groups"]["1.3"] = ["X25519MLKEM768", "x25519"]
    assert codes(sec, require_pq_kex=True) == []
    assert codes(section({"1.2": ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]}), require_pq_kex=True) == ["no_pq_kex"]


MOZ_RSA = {"1.2": ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                   "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"],
           "1.3": ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]}


def test_profile_mismatch_lists_extra_and_missing():
    groups = {"1.3": ["X25519MLKEM768", "x25519", "secp256r1", "secp384r1"], "1.2": ["x25519", "secp256r1", "secp384r1"]}
    opts = {"tls_profile": "intermediate", "tls_guideline": "6.0"}
    assert codes(section(MOZ_RSA, groups), **opts) == []
    # Without the PQ group: a mismatch unless tls_pq says the stack cannot speak it.
    old_stack = {"1.3": ["x25519", "secp256r1", "secp384r1"], "1.2": ["x25519", "secp256r1", "secp384r1"]}
    found = _ciphers.findings(section(MOZ_RSA, old_stack), opts)
    assert [f[0] for f in found] == ["profile_mismatch"] and "missing: group X25519MLKEM768 (TLS 1.3)" in found[0][1]
    assert "ssl_ecdh_curve" in found[0][3] and "SSLCipherSuite" in found[0][3] and "Caddy" in found[0][3]
    assert codes(section(MOZ_RSA, old_stack), tls_pq=False, **opts) == []
    # Extra version and suite, missing suite.
    extra = dict(MOZ_RSA, **{"1.1": ["TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"],
                             "1.2": MOZ_RSA["1.2"][:2] + ["TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"]})
    detail = _ciphers.findings(section(extra, groups), opts)
    assert [f[0] for f in detail] == ["profile_mismatch"]
    text = detail[0][1]
    assert "extra: TLS 1.1, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA" in text
    assert "missing: TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" in text
    # The modern profile has no TLS 1.2.
    assert "extra: TLS 1.2" in _ciphers.findings(section(MOZ_RSA, groups), {"tls_profile": "modern"})[0][1]
    # An unfinished enumeration gives no profile verdict, only the unknown.
    assert codes(section(MOZ_RSA, old_stack, complete=False), **opts) == ["cipher_enumeration_unknown"]


def test_ecdsa_suites_are_not_missing_behind_an_rsa_certificate():
    text = _ciphers.findings(section({"1.2": ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"], "1.3": MOZ_RSA["1.3"]},
                                     {"1.3": ["X25519MLKEM768", "x25519", "secp256r1", "secp384r1"]}),
                             {"tls_profile": "intermediate"})[0][1]
    assert "ECDSA" not in text and "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" in text


@pytest.mark.parametrize("params, message", [
    ({"tls_profile": "fancy"}, "tls_profile: 'fancy'"),
    ({"tls_guideline": "4.0"}, "tls_guideline: '4.0'"),
    ({"tls_profile": "intermediate", "checks": ["tcp", "tls_versions"]}, "tls_profile: needs the ciphers check"),
    ({"require_pq_kex": True}, "require_pq_kex: needs the ciphers check"),
])
def test_bad_options_name_the_option(params, message):
    given = {"endpoints": [{"host": "example.com"}], "checks": ["tcp", "ciphers"] if "tls_profile" not in params else None}
    given.update(params)
    if "checks" in params or params.get("require_pq_kex"):
        given["checks"] = params.get("checks", ["tcp", "tls_versions"])
    with pytest.raises(_probe.ProbeInputError, match=message):
        _probe.validate(given)


def test_what_was_not_found_is_no_finding_while_the_enumeration_is_unfinished():
    """A partial list proves what it holds (a weak suite), never what it lacks (an AEAD suite, a PQ group, the profile)."""
    partial = section({"1.2": ["TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA"]}, complete=False)
    found = codes(partial, tls_profile="intermediate", require_pq_kex=True)
    assert "cbc_only" not in found and "no_pq_kex" not in found and "profile_mismatch" not in found
    assert {"weak_cipher", "no_forward_secrecy", "cipher_enumeration_unknown"} <= set(found)
    assert "cbc_only" in codes(dict(partial, complete=True, unknown=[]))
