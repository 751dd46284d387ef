# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
from __future__ import annotations

import datetime

import pytest

from ansible_collections.port443.https.plugins.module_utils import _x509

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


def evaluate(pki, leaf, chain=None, name="www.example.test", **policy):
    chain = [leaf] + (chain if chain is not None else [pki["inter"]])
    return _x509.evaluate([der(c) for c in chain], name, pki["store"], dict(POLICY, **policy))


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
    assert codes(evaluate(pki, leaf, [])[1]) == ["incomplete_chain"]
    info, findings = _x509.evaluate([der(leaf)], "www.example.test", pki["store"], POLICY, chain_complete_known=False)
    assert info["verification"] == "unknown" and findings == []
    sk = key()
    assert codes(evaluate(pki, cert("www.example.test", sk), [])[1]) == ["self_signed"]
    expired = cert("www.example.test", key(), pki["inter"], pki["ik"], nb=NOW - 10 * DAY, na=NOW - DAY)
    assert codes(evaluate(pki, expired)[1]) == ["expired"]
    notyet = cert("www.example.test", key(), pki["inter"], pki["ik"], nb=NOW + DAY, na=NOW + 10 * DAY)
    assert codes(evaluate(pki, notyet)[1]) == ["not_yet_valid"]
    soon = cert("www.example.test", key(), pki["inter"], pki["ik"], na=NOW + 5 * DAY)
    assert evaluate(pki, soon)[1] == [("expiring_soon", "4 day(s) left", "critical")]
    assert evaluate(pki, soon, critical_days=2)[1] == [("expiring_soon", "4 day(s) left", "warning")]


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
    info, findings = _x509.evaluate([der(leaf)], "www.example.test", _x509.TrustStore([leaf], "pinned"), POLICY)
    assert info["trusted"] is True and findings == []


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
