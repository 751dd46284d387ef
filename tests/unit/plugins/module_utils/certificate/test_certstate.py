# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""certificate_state_info's core with real keys and certificates (made like the role makes them) in temp dirs:
converged files report nothing, every drift the role's full path would fix is reported."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from ansible_collections.port443.https.plugins.module_utils.certificate import _acme, _certstate

NOW = datetime.datetime.now(datetime.timezone.utc)
CA_KEY = ec.generate_private_key(ec.SECP384R1())
LEAF_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())
PERMITTED = ("DNS:lab.test",)


@pytest.fixture(autouse=True)
def _owner(monkeypatch):
    monkeypatch.setattr(_certstate, "ROOT_UID", os.getuid())
    monkeypatch.setattr(_certstate, "ROOT_GID", os.getgid())


def _pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca_cert(key=CA_KEY, cn="port443 internal CA", permitted=PERMITTED, excluded=True):
    nc = x509.NameConstraints([x509.DNSName(p[4:]) for p in permitted],
                              [x509.IPAddress(ipaddress.ip_network("0.0.0.0/0")), x509.IPAddress(ipaddress.ip_network("::/0"))]
                              if excluded else None)
    builder = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn)).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(NOW - datetime.timedelta(days=1))
               .not_valid_after(NOW + datetime.timedelta(days=3650))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
               .add_extension(nc, critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    return builder.sign(key, hashes.SHA256())


CA = _ca_cert()
CA_PEM = CA.public_bytes(serialization.Encoding.PEM)


def _leaf(key=LEAF_KEY, names=("www.lab.test",), issuer=None, issuer_key=None, days=365, age=0, extra=None):
    """A certificate as x509_certificate builds it from the role's signing request (SAN not critical, SKI; AKI from the CA)."""
    start = NOW - datetime.timedelta(days=age)
    builder = (x509.CertificateBuilder().subject_name(_name(names[0]))
               .issuer_name(issuer.subject if issuer else _name(names[0])).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(start)
               .not_valid_after(start + datetime.timedelta(days=days))
               .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if issuer is not None:
        ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
    if extra is not None:
        builder = builder.add_extension(extra, critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def _write(path, data, mode):
    with open(path, "wb") as handle:
        handle.write(data)
    os.chmod(path, mode)


def _host(tmp_path, source="selfsigned", cert=None, trust=False, **overrides):
    cert_dir = tmp_path / "ssl"
    key_dir = cert_dir / "private"
    key_dir.mkdir(parents=True)
    os.chmod(cert_dir, 0o755)
    os.chmod(key_dir, 0o700)
    if cert is None:
        cert = _leaf(issuer=CA, issuer_key=CA_KEY) if source == "internal_ca" else _leaf()
    _write(key_dir / "www.key", _pem_key(LEAF_KEY), 0o600)
    _write(cert_dir / "www.crt", cert, 0o644)
    _write(cert_dir / "www-fullchain.crt", cert.strip() + b"\n", 0o644)
    params = {
        "source": source, "sans": ["DNS:www.lab.test"], "common_name": "www.lab.test",
        "key_type": "ECC", "key_curve": "secp256r1", "key_size": 2048,
        "cert_dir": str(cert_dir), "key_dir": str(key_dir), "cert_path": str(cert_dir / "www.crt"),
        "key_path": str(key_dir / "www.key"), "fullchain_path": str(cert_dir / "www-fullchain.crt"),
        "ca_copy_path": str(cert_dir / "ca.crt"), "trust_path": str(tmp_path / "trust-ca.crt"), "ca_trust": trust,
        "ca_cert": "", "renew_days": 30, "renew_percent": 0, "packages": [],
    }
    if source == "internal_ca":
        params["ca_cert"] = CA_PEM.decode()
        _write(cert_dir / "ca.crt", CA_PEM, 0o644)
        if trust:
            _write(tmp_path / "trust-ca.crt", CA_PEM, 0o644)
    params.update(overrides)
    return params


def test_selfsigned_converged(tmp_path):
    assert _certstate.host_state(_host(tmp_path)) == []


def test_internal_ca_converged_with_trust(tmp_path):
    assert _certstate.host_state(_host(tmp_path, "internal_ca", trust=True)) == []


@pytest.mark.parametrize("change, expected", [
    (lambda p: os.chmod(p["key_path"], 0o644), "mode 0644, expected 0600"),
    (lambda p: os.chmod(p["key_dir"], 0o755), "mode 0755, expected 0700"),
    (lambda p: os.remove(p["fullchain_path"]), "full chain missing"),
    (lambda p: _write(p["fullchain_path"], b"old\n", 0o644), "full chain differs"),
    (lambda p: os.chmod(p["fullchain_path"], 0o600), "mode 0600, expected 0644"),
    (lambda p: os.remove(p["key_path"]), "missing or unreadable"),
    (lambda p: _write(p["key_path"], b"garbage", 0o600), "cannot be loaded"),
    (lambda p: _write(p["cert_path"], _leaf(key=OTHER_KEY), 0o644), "does not match the key"),
    (lambda p: os.remove(p["cert_path"]), "missing or unreadable"),
    (lambda p: p.update(sans=["DNS:www.lab.test", "DNS:lab.test"]), "extensions differ"),
    (lambda p: p.update(common_name="other.lab.test"), "subject CN=www.lab.test, expected CN=other.lab.test"),
    (lambda p: p.update(key_curve="secp384r1"), "curve secp256r1, expected secp384r1"),
    (lambda p: p.update(key_type="RSA"), "not an RSA key"),
    (lambda p: p.update(sans=["DNS:WWW.lab.test"]), "not lower-case ASCII"),
    (lambda p: p.update(source="letsencrypt"), "always takes the full path"),
])
def test_selfsigned_drift(tmp_path, change, expected):
    params = _host(tmp_path)
    change(params)
    reasons = _certstate.host_state(params)
    assert any(expected in r for r in reasons), reasons


def test_days_window(tmp_path):
    params = _host(tmp_path, cert=_leaf(days=365, age=340), renew_days=30)
    assert any("inside the renewal window (30 days" in r for r in _certstate.host_state(params))
    params["renew_days"] = 20
    assert _certstate.host_state(params) == []


def test_percent_window(tmp_path):
    old = _leaf(days=100, age=95)
    params = _host(tmp_path, cert=old, renew_days=1, renew_percent=10)
    assert any("less than 10% of its lifetime" in r for r in _certstate.host_state(params))
    params["renew_percent"] = 4
    assert _certstate.host_state(params) == []


def _at(start, days, hours_later):
    """(start, end, now) of a certificate valid DAYS days from START, HOURS_LATER after START."""
    return start, start + datetime.timedelta(days=days), start + datetime.timedelta(hours=hours_later)


@pytest.mark.parametrize("days, hours, renew_days, renew_percent, renews", [
    # A six-day certificate with the default 30-day window: the window does not fit, a third of the lifetime decides.
    (6, 1, 30, 0, False),
    (6, 95, 30, 0, False),   # 49 hours left of 144: more than a third
    (6, 97, 30, 0, True),    # 47 hours left: less than a third
    (6, 1, 6, 0, False),     # a window as long as the lifetime falls back too
    (6, 80, 30, 50, True),   # the fallback is certificate_renew_percent when it is set
    (6, 60, 30, 0, False),
    (6, 145, 30, 0, True),   # expired
    # A 90-day certificate: the days window applies as before.
    (90, 24 * 59, 30, 0, False),
    (90, 24 * 61, 30, 0, True),
    (90, 24 * 50, 30, 50, True),
])
def test_renewal_window_fits_the_lifetime(days, hours, renew_days, renew_percent, renews):
    start, end, now = _at(NOW, days, hours)
    reason = _certstate.renewal_reason(start, end, renew_days, renew_percent, now)
    assert bool(reason) is renews, reason
    # Never renews on every run: a certificate just issued is outside its window, whatever the window in days.
    assert _certstate.renewal_reason(start, end, renew_days, renew_percent, start + datetime.timedelta(minutes=1)) == ""


def test_renewal_window_fallback_says_why():
    start, end, now = _at(NOW, 6, 100)
    assert "a 30-day window does not fit a lifetime of 6 days" in _certstate.renewal_reason(start, end, 30, 0, now)


def test_extra_extension_is_drift(tmp_path):
    params = _host(tmp_path, cert=_leaf(extra=x509.BasicConstraints(ca=False, path_length=None)))
    assert any("extensions differ" in r for r in _certstate.host_state(params))


def test_packages(tmp_path):
    params = _host(tmp_path, packages=["openssl", "ca-certificates"])
    assert _certstate.host_state(params, lambda pkgs: []) == []
    assert _certstate.host_state(params, lambda pkgs: pkgs[1:]) == ["package ca-certificates: not installed"]
    assert _certstate.host_state(params) == ["package openssl: not installed", "package ca-certificates: not installed"]


@pytest.mark.parametrize("change, expected", [
    (lambda p, t: os.remove(p["trust_path"]), "trust-store entry missing"),
    (lambda p, t: os.remove(p["ca_copy_path"]), "CA certificate copy missing"),
    (lambda p, t: _write(p["cert_path"], _leaf(), 0o644), "not issued by the internal CA"),
    (lambda p, t: p.update(ca_cert=""), "its certificate was not given"),
    (lambda p, t: p.update(ca_cert=_ca_cert(key=ec.generate_private_key(ec.SECP384R1())).public_bytes(serialization.Encoding.PEM).decode()),
     "not issued by the internal CA"),
])
def test_internal_ca_drift(tmp_path, change, expected):
    params = _host(tmp_path, "internal_ca", trust=True)
    change(params, tmp_path)
    reasons = _certstate.host_state(params)
    assert any(expected in r for r in reasons), reasons


def test_untrusted_ca_entry_of_this_ca_is_drift_and_others_are_left(tmp_path):
    params = _host(tmp_path, "internal_ca", trust=False)
    assert _certstate.host_state(params) == []
    _write(params["trust_path"], CA_PEM, 0o644)
    assert any("although certificate_ca_trust is false" in r for r in _certstate.host_state(params))
    # Somebody else's certificate at that path, or no certificate at all: the full path leaves it alone.
    _write(params["trust_path"], _leaf(key=OTHER_KEY), 0o644)
    assert _certstate.host_state(params) == []
    _write(params["trust_path"], b"not a certificate\n", 0o644)
    assert _certstate.host_state(params) == []


def _ca_dir(tmp_path, cert=CA, key=CA_KEY, permitted=PERMITTED, passphrase=None):
    ca_dir = tmp_path / "ca"
    ca_dir.mkdir()
    os.chmod(ca_dir, 0o700)
    encryption = serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else serialization.NoEncryption()
    _write(ca_dir / "ca.key", key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption), 0o600)
    _write(ca_dir / "ca.crt", cert.public_bytes(serialization.Encoding.PEM), 0o644)
    _write(ca_dir / "ca.json", (json.dumps(list(permitted), indent=4) + "\n").encode(), 0o644)
    return {"ca_dir": str(ca_dir), "passphrase": passphrase or "", "common_name": "port443 internal CA", "permitted": [],
            "ca_paths": {"key": str(ca_dir / "ca.key"), "cert": str(ca_dir / "ca.crt"), "constraints": str(ca_dir / "ca.json")}}


def test_ca_converged(tmp_path):
    reasons, pem = _certstate.ca_state(_ca_dir(tmp_path, passphrase="s3cret"))
    assert reasons == []
    assert pem.encode() == CA_PEM


@pytest.mark.parametrize("change, expected", [
    (lambda p: os.chmod(p["ca_paths"]["key"], 0o644), "mode 0644, expected 0600"),
    (lambda p: os.chmod(p["ca_dir"], 0o755), "mode 0755, expected 0700"),
    (lambda p: os.remove(p["ca_paths"]["key"]), "CA key"),
    (lambda p: os.remove(p["ca_paths"]["constraints"]), "none recorded"),
    (lambda p: p.update(passphrase="wrong"), "cannot be loaded with certificate_ca_passphrase"),
    (lambda p: p.update(permitted=["DNS:other.test"]), "CA name constraints differs"),
    (lambda p: p.update(common_name="another CA"), "expected CN=another CA"),
    (lambda p: _write(p["ca_paths"]["cert"], _ca_cert(key=ec.generate_private_key(ec.SECP384R1())).public_bytes(serialization.Encoding.PEM), 0o644),
     "does not match the CA key"),
    (lambda p: _write(p["ca_paths"]["cert"], _ca_cert(excluded=False).public_bytes(serialization.Encoding.PEM), 0o644),
     "extensions differ"),
])
def test_ca_drift(tmp_path, change, expected):
    params = _ca_dir(tmp_path, passphrase="s3cret")
    change(params)
    reasons, _pem = _certstate.ca_state(params)
    assert any(expected in r for r in reasons), reasons


def test_rsa_key_size():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert _certstate.key_drift(key, "RSA", "", 2048) == []
    assert _certstate.key_drift(key, "RSA", "", 3072) == ["key: 2048 bits, expected 3072"]
    assert _certstate.key_drift(key, "ECC", "secp256r1", 0) == ["key: not an ECC key"]


def test_nice_json_matches_ansible():
    from ansible.plugins.filter.core import to_nice_json

    value = ["DNS:lab.test", "IP:10.0.0.0/8"]
    assert _certstate.nice_json(value) == to_nice_json(value)


# ---- source acme ----------------------------------------------------------------------------------------------

DIRECTORY = "https://pebble:14000/dir"
ACCOUNT_KEY = ec.generate_private_key(ec.SECP256R1())
ACME_CA_KEY = ec.generate_private_key(ec.SECP256R1())
ACME_CA = _ca_cert(key=ACME_CA_KEY, cn="Pebble Intermediate CA")
ACME_CA_PEM = ACME_CA.public_bytes(serialization.Encoding.PEM)


def _acme_leaf(key=LEAF_KEY, names=("www.lab.test",), days=90, age=0):
    """A certificate as an ACME CA issues it: the CA's subject, empty subject is allowed but pebble sets none; AKI."""
    start = NOW - datetime.timedelta(days=age)
    ski = ACME_CA.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(ACME_CA.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number()).not_valid_before(start)
               .not_valid_after(start + datetime.timedelta(days=days))
               .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False))
    return builder.sign(ACME_CA_KEY, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def _acme_host(tmp_path, cert=None, chain=ACME_CA_PEM, challenge="http-01", **overrides):
    params = _host(tmp_path, source="acme", cert=cert or _acme_leaf())
    cert_dir = tmp_path / "ssl"
    data = (cert_dir / "www.crt").read_bytes()
    _write(cert_dir / "www-chain.crt", chain, 0o644)
    _write(cert_dir / "www.crt.acme-directory", (DIRECTORY + "\n").encode(), 0o644)
    _write(cert_dir / "www-fullchain.crt", data.strip() + b"\n" + chain.strip() + b"\n", 0o644)
    os.chmod(cert_dir / "www.crt", 0o600)  # acme_certificate writes no mode: the full path does not enforce one
    _write(cert_dir / "private" / "acme-account.key", _pem_key(ACCOUNT_KEY), 0o600)
    webroot = tmp_path / "webroot"
    (webroot / ".well-known" / "acme-challenge").mkdir(parents=True)
    for path in (webroot, webroot / ".well-known", webroot / ".well-known" / "acme-challenge"):
        os.chmod(path, 0o755)
    params.update(chain_path=str(cert_dir / "www-chain.crt"), acme_directory=DIRECTORY, acme_use_ari=True,
                  acme_challenge=challenge, acme_webroot=str(webroot),
                  acme_account_key=str(cert_dir / "private" / "acme-account.key"))
    params.update(overrides)
    return params


def _no_ari(cert):
    return ""


def test_acme_converged(tmp_path):
    assert _certstate.host_state(_acme_host(tmp_path), ari=_no_ari) == []


def test_acme_dns01_needs_no_challenge_directory(tmp_path):
    params = _acme_host(tmp_path, challenge="dns-01")
    os.rmdir(os.path.join(params["acme_webroot"], ".well-known", "acme-challenge"))
    assert _certstate.host_state(params, ari=_no_ari) == []


def _rm(path):
    os.remove(path)


@pytest.mark.parametrize("change, expected", [
    (lambda p: p.update(sans=["DNS:www.lab.test", "DNS:lab.test"]), "ACME order: the names changed"),
    (lambda p: p.update(acme_directory="https://acme-v02.api.letsencrypt.org/directory"), "ACME order: the ACME directory changed"),
    (lambda p: _rm(p["cert_path"] + ".acme-directory"), "ACME order: the ACME directory changed"),
    (lambda p: _rm(p["cert_path"]), "ACME order: no certificate yet"),
    (lambda p: _write(p["key_path"], _pem_key(OTHER_KEY), 0o600), "ACME order: the key changed"),
    (lambda p: p.update(key_curve="secp384r1"), "key: curve secp256r1, expected secp384r1"),
    (lambda p: p.update(renew_percent=100), "ACME order: inside the renewal window"),
    (lambda p: _rm(p["acme_account_key"]), "ACME account key"),
    (lambda p: os.chmod(p["acme_account_key"], 0o644), "acme-account.key: mode 0644, expected 0600"),
    (lambda p: _write(p["acme_account_key"], _pem_key(rsa.generate_private_key(65537, 2048)), 0o600),
     "ACME account key: not an ECC key"),
    (lambda p: os.rmdir(os.path.join(p["acme_webroot"], ".well-known", "acme-challenge")), "acme-challenge: missing"),
    (lambda p: _write(p["fullchain_path"], b"stale\n", 0o644), "full chain differs"),
    (lambda p: _rm(p["chain_path"]), "full chain differs"),
    (lambda p: os.chmod(p["fullchain_path"], 0o600), "www-fullchain.crt: mode 0600, expected 0644"),
    (lambda p: p.update(acme_account_key=None), "ACME account key: its path was not given"),
])
def test_acme_drift(tmp_path, change, expected):
    params = _acme_host(tmp_path)
    change(params)
    reasons = _certstate.host_state(params, ari=_no_ari)
    assert any(expected in r for r in reasons), reasons


def test_acme_expired_and_ari(tmp_path):
    params = _acme_host(tmp_path, cert=_acme_leaf(days=7, age=8), renew_days=0)
    assert "ACME order: renewal: The certificate has already expired" in _certstate.host_state(params, ari=_no_ari)
    params = _acme_host(tmp_path / "ari")
    assert _certstate.host_state(params, ari=lambda cert: "ARI: the suggested renewal window ended x") == [
        "ACME order: renewal: ARI: the suggested renewal window ended x"]


def test_acme_ari_that_cannot_be_asked_is_drift(tmp_path):
    def broken(cert):
        raise OSError("connection refused")
    params = _acme_host(tmp_path)
    assert _certstate.host_state(params, ari=broken) == [
        "ACME order: renewal: ARI: the CA's renewal information could not be read (connection refused)"]
    assert "not asked" in _certstate.host_state(params)[0]
    assert _certstate.host_state(dict(params, acme_use_ari=False)) == []


def test_acme_ari_cert_id():
    cert = x509.load_pem_x509_certificate(_acme_leaf())
    ski = ACME_CA.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    assert _certstate.ari_cert_id(cert).startswith(_acme._b64url(ski) + ".")
    assert _certstate.ari_cert_id(x509.load_pem_x509_certificate(_leaf())) is None


def test_san_strings_as_community_crypto_lists_them():
    key = LEAF_KEY
    cert = (x509.CertificateBuilder().subject_name(_name("a")).issuer_name(_name("a")).public_key(key.public_key())
            .serial_number(1).not_valid_before(NOW).not_valid_after(NOW + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("www.lab.test"), x509.IPAddress(ipaddress.ip_address("2001:DB8:0::1")),
                x509.IPAddress(ipaddress.ip_address("192.0.2.1")), x509.RFC822Name("a@lab.test")]), critical=False)
            .sign(key, hashes.SHA256()))
    assert _certstate.san_strings(cert) == ["DNS:www.lab.test", "IP:2001:db8::1", "IP:192.0.2.1", "RFC822Name:a@lab.test"]


_BASE = {"exists": True, "names": ["DNS:a", "DNS:b"], "wanted": ["DNS:b", "DNS:a"], "key_changed": False,
         "issuer": DIRECTORY + "\n", "directory": DIRECTORY, "renewal": "", "forced": False, "host_renewal": False,
         "expired": False, "in_window": False}


@pytest.mark.parametrize("change, expected", [
    ({}, []),
    ({"exists": False, "names": [], "issuer": ""}, ["no certificate yet"]),
    ({"names": ["DNS:a"]}, ["the names changed"]),
    ({"key_changed": True}, ["the key changed"]),
    ({"issuer": ""}, ["the ACME directory changed"]),
    ({"renewal": "The certificate has already expired"}, ["renewal: The certificate has already expired"]),
    ({"in_window": True}, ["inside the renewal window"]),
    ({"forced": True, "in_window": True}, ["forced (certificate_force_renew, or with the first key type of certificate_key_types)"]),
    ({"forced": True, "exists": False, "names": [], "issuer": ""}, ["no certificate yet"]),
    ({"host_renewal": True, "in_window": True}, []),
    ({"host_renewal": True, "expired": True}, ["expired (the renewal agent on the host did not renew it)"]),
    ({"names": ["DNS:c"], "issuer": "x", "in_window": True},
     ["the names changed", "the ACME directory changed", "inside the renewal window"]),
])
def test_acme_order_reasons(change, expected):
    assert _certstate.acme_order_reasons(**dict(_BASE, **change)) == expected


def test_fullchain_as_finish_writes_it():
    assert _certstate.fullchain(b"A\n\n", b"  B\n") == b"A\nB\n"
    assert _certstate.fullchain(b"A", None) == b"A\n"
    assert _certstate.fullchain(b"A", b"") == b"A\n\n"
    assert _certstate.fullchain(b"\xff", None) is None


# ---- source provided ------------------------------------------------------------------------------------------

def _provided_host(tmp_path, cert=None, key=LEAF_KEY, chain=ACME_CA_PEM, **overrides):
    cert = cert or _acme_leaf()
    params = _host(tmp_path, source="provided", cert=cert)
    cert_dir = tmp_path / "ssl"
    cert_text, key_text, chain_text = cert.decode() + "\n", _pem_key(key).decode(), chain.decode()
    _write(cert_dir / "private" / "www.key", key_text.encode(), 0o600)
    _write(cert_dir / "www.crt", (cert_text.strip() + "\n").encode(), 0o644)
    if chain_text.strip():
        _write(cert_dir / "www-chain.crt", (chain_text.strip() + "\n").encode(), 0o644)
    chain_data = chain_text.strip().encode() + b"\n" if chain_text.strip() else None
    _write(cert_dir / "www-fullchain.crt", _certstate.fullchain((cert_dir / "www.crt").read_bytes(), chain_data), 0o644)
    params.update(chain_path=str(cert_dir / "www-chain.crt"), provided_cert=cert_text, provided_key=key_text,
                  provided_chain=chain_text, key_type="RSA")  # the key's type is not the provided source's concern
    params.update(overrides)
    return params


def test_provided_converged(tmp_path):
    assert _certstate.host_state(_provided_host(tmp_path)) == []
    assert _certstate.host_state(_provided_host(tmp_path / "nochain", chain=b"")) == []


@pytest.mark.parametrize("change, expected", [
    (lambda p: p.update(provided_key=_pem_key(OTHER_KEY).decode()), "www.key: key differs"),
    (lambda p: p.update(provided_cert=_acme_leaf().decode()), "www.crt: certificate differs"),
    (lambda p: p.update(provided_chain=CA_PEM.decode()), "www-chain.crt: chain differs"),
    (lambda p: os.chmod(p["key_path"], 0o640), "mode 0640, expected 0600"),
    (lambda p: os.chmod(p["cert_path"], 0o600), "www.crt: mode 0600, expected 0644"),
    (lambda p: _rm(p["fullchain_path"]), "full chain missing"),
    (lambda p: p.update(sans=["DNS:www.lab.test", "DNS:other.lab.test"]), "refused (it does not cover DNS:other.lab.test)"),
    (lambda p: p.update(provided_cert=""), "refused (the certificate is not a PEM certificate)"),
])
def test_provided_drift(tmp_path, change, expected):
    params = _provided_host(tmp_path)
    change(params)
    reasons = _certstate.host_state(params)
    assert any(expected in r for r in reasons), reasons


def test_provided_stale_chain_file_enters_the_full_chain(tmp_path):
    """Without certificate_provided_chain the full path keeps a chain file that is there, and finish.yml includes it."""
    params = _provided_host(tmp_path, chain=b"", provided_chain="")
    _write(params["chain_path"], ACME_CA_PEM, 0o644)
    assert any("full chain differs" in r for r in _certstate.host_state(params))


def test_provided_problems():
    cert, key = _acme_leaf().decode(), _pem_key(LEAF_KEY).decode()
    assert _certstate.provided_problems(cert, key, ACME_CA_PEM.decode(), ["DNS:www.lab.test"]) == []
    expired = _certstate.provided_problems(_acme_leaf(days=7, age=8).decode(), key, "", ["DNS:www.lab.test"])
    assert len(expired) == 1 and expired[0].startswith("it expired on ")
    assert _certstate.provided_problems(cert, _pem_key(OTHER_KEY).decode(), "", []) == [
        "the private key does not belong to the certificate (public keys differ)"]
    wrong = _certstate.provided_problems(cert, key, CA_PEM.decode(), [])
    assert len(wrong) == 1 and wrong[0].startswith("the chain is in the wrong order") and "Pebble Intermediate CA" in wrong[0]
    assert _certstate.provided_problems(cert, "nokey", "", [])[0].startswith("the private key cannot be read")
    assert _certstate.provided_problems(cert, key, "", ["IP:192.0.2.1", "DNS:www.lab.test", "IP:192.0.2.1"]) == [
        "it does not cover IP:192.0.2.1"]
