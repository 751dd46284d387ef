# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
from __future__ import annotations

import datetime

import pytest

from ansible_collections.port443.https.plugins.module_utils.certificate import _chain
from ansible_collections.port443.https.plugins.module_utils.certificate import _x509

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)
POLICY = {"warning_days": 30, "critical_days": 7, "min_rsa_bits": 2048}


def key():
    return ec.generate_private_key(ec.SECP256R1())


def cert(cn, k, issuer=None, ikey=None, sans=None, ca=False, nb=None, na=None, no_san=False):
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer.subject if issuer else subject)
         .public_key(k.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(nb or NOW - DAY).not_valid_after(na or NOW + 100 * DAY)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca and not no_san:
        names = []
        for s in sans or [cn]:
            try:
                import ipaddress

                names.append(x509.IPAddress(ipaddress.ip_address(s)))
            except ValueError:
                names.append(x509.DNSName(s))
        b = b.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return b.sign(ikey or k, hashes.SHA256())


def der(c):
    return c.public_bytes(serialization.Encoding.DER)


@pytest.fixture(scope="module")
def pki():
    rk, ik = key(), key()
    root = cert("Root", rk, ca=True)
    inter = cert("Inter", ik, root, rk, ca=True)
    return {"root": root, "rk": rk, "inter": inter, "ik": ik, "store": _x509.TrustStore([root], "test")}


TRUSTED = _chain.Verification(True, validator="canned")
NO_ISSUER = _chain.Verification(False, 20, "unable to get local issuer certificate", validator="canned")


def evaluate(pki, leaf, chain=None, name="www.example.test", verification=TRUSTED, **policy):
    """The walker explains a canned validator answer (the real validator runs in tests/integration)."""
    chain = [leaf] + (chain if chain is not None else [pki["inter"]])
    info, findings = _chain.evaluate([der(c) for c in chain], name, pki["store"], dict(POLICY, **policy), verification)
    return info, [f[:3] for f in findings]


def codes(findings):
    return [f[0] for f in findings]


@pytest.mark.parametrize("pattern, name, ok", [
    ("www.example.test", "WWW.example.test", True),
    ("*.example.test", "www.example.test", True),
    ("*.example.test", "a.b.example.test", False),
    ("*.example.test", "example.test", False),
    ("*.test", "x.test", False),
    ("w*.example.test", "www.example.test", False),
])
def test_dns_match(pattern, name, ok):
    assert _x509._match_dns(pattern, name) is ok


def test_trusted_chain(pki):
    leaf = cert("www.example.test", key(), pki["inter"], pki["ik"])
    info, findings = evaluate(pki, leaf)
    assert findings == [] and info["trusted"] and info["hostname_match"]
    assert info["path"] == ["CN=www.example.test", "CN=Inter", "CN=Root"]


def test_unordered_chain_still_builds(pki):
    leaf = cert("www.example.test", key(), pki["inter"], pki["ik"])
    info, findings = evaluate(pki, leaf, [pki["root"], pki["inter"]])
    assert info["verification"] == "trusted" and findings == []


def test_verdicts(pki):
    leaf = cert("www.example.test", key(), pki["inter"], pki["ik"])
    assert codes(evaluate(pki, leaf, [], verification=NO_ISSUER)[1]) == ["incomplete_chain"]
    # No validator ran: never trusted, never silent.
    info, findings = evaluate(pki, leaf, verification=_chain.Verification(None, why="test"))
    assert info["verification"] == "unknown" and info["trusted"] is False and codes(findings) == ["verification_unknown"]
    # Only the leaf could be read (Python 3.9): the validator's message decides the code.
    info, findings = _chain.evaluate([der(leaf)], "www.example.test", pki["store"], POLICY,
                                     _chain.Verification(False, 79, "invalid CA certificate"), chain_complete=False)
    assert info["verification"] == "issuer_not_ca" and codes(findings) == ["issuer_not_ca"]
    sk = key()
    self_signed = _chain.Verification(False, 18, "self-signed certificate")
    assert codes(evaluate(pki, cert("www.example.test", sk), [], verification=self_signed)[1]) == ["self_signed"]
    expired_v = _chain.Verification(False, 10, "certificate has expired")
    expired = cert("www.example.test", key(), pki["inter"], pki["ik"], nb=NOW - 10 * DAY, na=NOW - DAY)
    info, findings = evaluate(pki, expired, verification=expired_v)
    assert codes(findings) == ["expired"] and info["verification"] == "expired" and info["trusted"] is False
    notyet = cert("www.example.test", key(), pki["inter"], pki["ik"], nb=NOW + DAY, na=NOW + 10 * DAY)
    assert codes(evaluate(pki, notyet, verification=_chain.Verification(False, 9, "certificate is not yet valid"))[1]) == ["not_yet_valid"]
    soon = cert("www.example.test", key(), pki["inter"], pki["ik"], na=NOW + 5 * DAY)
    assert evaluate(pki, soon)[1] == [("expiring_soon", "4 day(s) left", "critical")]
    assert evaluate(pki, soon, critical_days=2)[1] == [("expiring_soon", "4 day(s) left", "warning")]
    # A short-lived certificate under two days from its end: the hours it has left.
    hours = cert("www.example.test", key(), pki["inter"], pki["ik"], na=NOW + datetime.timedelta(hours=30))
    info, findings = evaluate(pki, hours)
    assert findings == [("expiring_soon", "29 hour(s) left", "critical")] and (info["days_left"], info["hours_left"]) == (1, 29)


def test_hostname_and_ip(pki):
    leaf = cert("x", key(), pki["inter"], pki["ik"], sans=["*.example.test", "192.0.2.1", "2001:db8::1"])
    assert evaluate(pki, leaf, name="a.example.test")[1] == []
    assert evaluate(pki, leaf, name="192.0.2.1")[1] == []
    assert evaluate(pki, leaf, name="2001:db8:0::1")[1] == []
    assert codes(evaluate(pki, leaf, name="192.0.2.2")[1]) == ["hostname_mismatch"]
    cn_only = cert("www.example.test", key(), pki["inter"], pki["ik"], no_san=True)
    assert codes(evaluate(pki, cn_only)[1]) == ["cn_only"]
    assert codes(evaluate(pki, cn_only, name="other.test")[1]) == ["hostname_mismatch"]


def test_self_signed_leaf_in_store_is_trusted():
    k = key()
    leaf = cert("www.example.test", k)
    info, findings = _chain.evaluate([der(leaf)], "www.example.test", _x509.TrustStore([leaf], "pinned"), POLICY, TRUSTED)
    assert info["trusted"] is True and findings == []


@pytest.mark.parametrize("message, code, expected", [
    ("invalid CA certificate", 79, "issuer_not_ca"),
    ("invalid CA certificate", 24, "issuer_not_ca"),  # OpenSSL 1.1 numbering
    ("self signed certificate", 18, "self_signed"),  # OpenSSL 1.1 wording
    ("self-signed certificate in certificate chain", 19, "untrusted_root"),
    ("path length constraint exceeded", 25, "path_length_exceeded"),
    ("unsuitable certificate purpose", 26, "unsuitable_purpose"),
    ("permitted subtree violation", 47, "name_constraints_violated"),
    ("key usage does not include certificate signing", 32, "issuer_key_usage"),
    ("certificate signature failure", 7, "bad_signature"),
    ("something new", 999, "untrusted_chain"),
    (None, 21, "incomplete_chain"),
])
def test_validator_messages_map_to_codes(message, code, expected):
    assert _chain.code_of_validator_error(code, message) == expected


def test_validator_rejection_without_explanation_is_never_ok(pki):
    """The walker finds nothing wrong, the validator rejects: its message is the finding."""
    leaf = cert("www.example.test", key(), pki["inter"], pki["ik"])
    info, findings = evaluate(pki, leaf, verification=_chain.Verification(False, 34, "unhandled critical extension", validator="v"))
    assert info["trusted"] is False and codes(findings) == ["untrusted_chain"] and "unhandled critical extension" in findings[0][1]


def test_trust_store_errors(tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("nothing here")
    with pytest.raises(ValueError):
        _x509.read_bundle(str(bad))
    with pytest.raises(OSError):
        _x509.read_bundle(str(tmp_path / "missing.pem"))


def test_system_store_loads():
    store = _x509.trust_store(None)
    assert store.source


def test_trust_store_per_thread_with_cryptography_38(monkeypatch):
    """cryptography 38 (no load_pem_x509_certificates) raises 'Already borrowed' when two threads read one
    certificate's extensions: its cached store certificates are then never shared between threads."""
    import threading

    monkeypatch.setattr(_x509, "_STORE_CACHE", {})
    seen = []

    def load():
        seen.append((_x509.trust_store(None), _x509.trust_store(None)))

    monkeypatch.delattr(_x509.x509, "load_pem_x509_certificates", raising=False)
    threads = [threading.Thread(target=load), threading.Thread(target=load)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (a1, a2), (b1, b2) = seen
    assert a1 is a2 and b1 is b2 and a1 is not b1
    monkeypatch.undo()
    monkeypatch.setattr(_x509, "_STORE_CACHE", {})
    shared = []
    threads = [threading.Thread(target=lambda: shared.append(_x509.trust_store(None))) for _thread in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert shared[0] is shared[1]


def test_key_match_and_chain_order(pki):
    k = key()
    leaf = cert("www.example.test", k, pki["inter"], pki["ik"])
    assert _x509.key_matches(leaf, pki["ik"]) is False
    assert _x509.key_matches(cert("a", k), k) is True
    assert _x509.chain_order([leaf, pki["inter"], pki["root"]]) == (True, [])
    ok, problems = _x509.chain_order([leaf, pki["root"]])
    assert ok is False and "is not issued by" in problems[0]


class _OldCert:
    """A certificate as cryptography < 40 shows it: no verify_directly_issued_by (Debian bookworm has 38)."""

    def __init__(self, real):
        self._real = real

    def __getattr__(self, name):
        if name == "verify_directly_issued_by":
            raise AttributeError(name)
        return getattr(self._real, name)


def test_issued_by_without_verify_directly_issued_by(pki):
    leaf = cert("www.example.test", key(), pki["inter"], pki["ik"], sans=["www.example.test"])
    assert _x509.issued_by(_OldCert(leaf), pki["inter"])
    assert _x509.issued_by(_OldCert(pki["inter"]), pki["root"])
    # An impostor with the issuer's name but another key is refused by the signature check itself.
    impostor = cert("Inter", key(), ca=True)
    assert impostor.subject == pki["inter"].subject
    assert not _x509.issued_by(_OldCert(leaf), impostor)


def test_load_pem_list_without_load_pem_x509_certificates(pki, monkeypatch):
    pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (pki["inter"], pki["root"]))
    new = _x509.load_pem_list(pem)
    monkeypatch.delattr(_x509.x509, "load_pem_x509_certificates", raising=False)
    old = _x509.load_pem_list(pem)
    assert [c.subject for c in old] == [c.subject for c in new] == [pki["inter"].subject, pki["root"].subject]
    assert _x509.load_pem_list(b"no certificate here") == []


def test_walks_are_shared_per_chain_store_and_second(pki):
    """One walk per chain, store and second: many endpoints serving one chain cost one walk; another store, another
    chain or another second is walked anew."""
    leaf = cert("www.example.test", key(), pki["inter"], pki["ik"])
    chain = [leaf, pki["inter"]]
    at = datetime.datetime(2026, 12, 6, 12, 0, 0, 300000, tzinfo=datetime.timezone.utc)
    first = _chain.walk(chain, pki["store"], at)
    assert first.end == "anchored" and first.anchor == pki["root"]
    # The same certificates parsed again, later in the same second: the same walk.
    again = [_x509.load_der(der(c)) for c in chain]
    assert _chain.walk(again, pki["store"], at.replace(microsecond=900000)) is first
    assert _chain.walk(chain, pki["store"], at + datetime.timedelta(seconds=1)) is not first
    other_store = _x509.TrustStore([pki["root"]], "test")
    assert _chain.walk(chain, other_store, at) is not first
    empty = _chain.walk(chain, _x509.TrustStore([], "empty"), at)
    assert empty.end != "anchored" and empty.anchor is None


def test_walk_looks_at_the_second_a_validity_period_includes(pki):
    """RFC 5280: notAfter is the last second of the validity period, inclusive; within that second an intermediate
    is still valid, one second later it has expired."""
    end = (NOW + 10 * DAY).replace(microsecond=0)
    ik = key()
    inter = cert("Short Inter", ik, pki["root"], pki["rk"], ca=True, na=end)
    leaf = cert("www.example.test", key(), inter, ik)
    inside = _chain.walk([leaf, inter], pki["store"], end + datetime.timedelta(microseconds=500000))
    after = _chain.walk([leaf, inter], pki["store"], end + datetime.timedelta(seconds=1))
    assert "expired_intermediate" not in [code for code, _detail in inside.problems]
    assert "expired_intermediate" in [code for code, _detail in after.problems]
