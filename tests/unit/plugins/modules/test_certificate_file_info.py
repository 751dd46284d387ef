# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
from __future__ import annotations

import datetime

import pytest

from ansible_collections.port443.https.plugins.modules import certificate_file_info
from ansible_collections.port443.https.tests.unit.plugins.modules.module_harness import ExitJson, FailJson, patch_exit, run_module

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def _patch_exit(monkeypatch):
    patch_exit(monkeypatch)


def run(args, expect=ExitJson):
    return run_module(certificate_file_info.main, args, expect)


def _cert(cn, key, issuer=None, ikey=None, ca=False, days=90, sans=None):
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer.subject if issuer else subject)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(NOW - DAY).not_valid_after(NOW + days * DAY)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in (sans or [cn])]), critical=False)
    return b.sign(ikey or key, hashes.SHA256())


def pem(c):
    return c.public_bytes(serialization.Encoding.PEM)


def key_pem(k):
    return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("certs")
    rk, ik, lk, other = (ec.generate_private_key(ec.SECP256R1()) for dummy in range(4))
    root = _cert("Root", rk, ca=True)
    inter = _cert("Inter", ik, root, rk, ca=True)
    leaf = _cert("www.example.test", lk, inter, ik, sans=["www.example.test", "*.api.example.test"])
    soon = _cert("soon.example.test", lk, inter, ik, days=10)
    paths = {}
    for name, data in {"ca": pem(root), "fullchain": pem(leaf) + pem(inter), "leaf": pem(leaf), "inter": pem(inter),
                       "reversed": pem(inter) + pem(leaf), "key": key_pem(lk), "otherkey": key_pem(other),
                       "soon": pem(soon) + pem(inter), "garbage": b"not a certificate\n"}.items():
        p = d / f"{name}.pem"
        p.write_bytes(data)
        paths[name] = str(p)
    return paths


def test_good_files(files):
    res = run({"path": files["fullchain"], "key_path": files["key"], "ca_path": files["ca"],
               "names": ["www.example.test", "x.api.example.test"], "_ansible_check_mode": True})
    assert res["changed"] is False and res["status"] == "ok", res["reasons"]
    cert = res["certificate"]
    assert cert["key_matches"] is True and cert["chain_in_order"] is True and cert["trusted"] is True
    assert cert["hostname_match"] is True and cert["sans"] == ["www.example.test", "*.api.example.test"]
    assert len(cert["chain"]) == 2 and cert["days_left"] >= 88


def test_separate_chain_file(files):
    res = run({"path": files["leaf"], "chain_path": files["inter"], "ca_path": files["ca"]})
    assert res["status"] == "ok" and res["certificate"]["hostname_match"] is None


def test_problems(files):
    res = run({"path": files["leaf"], "key_path": files["otherkey"], "ca_path": files["ca"], "names": ["other.example.test"]})
    assert sorted(r["code"] for r in res["reasons"]) == ["hostname_mismatch", "incomplete_chain", "key_mismatch"]
    assert res["status"] == "critical"
    res = run({"path": files["reversed"], "ca_path": files["ca"]})
    assert "chain_order" in [r["code"] for r in res["reasons"]]
    res = run({"path": files["soon"], "ca_path": files["ca"]})
    assert [(r["code"], r["severity"]) for r in res["reasons"]] == [("expiring_soon", "warning")]


@pytest.mark.parametrize("args, needle", [
    ({"path": "/nonexistent/cert.pem"}, "path: '/nonexistent/cert.pem' does not exist (nor does its directory '/nonexistent')"),
    ({"path": "LEAF", "chain_path": "/nonexistent/chain.pem"}, "chain_path: '/nonexistent/chain.pem' does not exist"),
    ({"path": "LEAF", "key_path": "/nonexistent/key.pem"}, "key_path: '/nonexistent/key.pem' does not exist"),
    ({"path": "GARBAGE"}, "path: no PEM certificate found in"),
    ({"path": "LEAF", "key_path": "GARBAGE"}, "key_path: cannot load the private key"),
    ({"path": "LEAF", "ca_path": "GARBAGE"}, "ca_path: cannot use the CA bundle"),
])
def test_bad_input(files, args, needle):
    args = {k: files["garbage"] if v == "GARBAGE" else files["leaf"] if v == "LEAF" else v for k, v in args.items()}
    res = run(args, FailJson)
    assert needle in res["msg"]


@pytest.mark.parametrize("option", ["path", "chain_path", "ca_path"])
def test_missing_file_is_not_called_bad_pem(files, tmp_path, option):
    """A certificate file that does not exist is said to be missing: one message, never "is not valid PEM"."""
    missing = str(tmp_path / "gone.pem")
    args = {"path": files["leaf"], option: missing}
    res = run(args, FailJson)
    what = "the CA bundle " if option == "ca_path" else ""
    assert res["msg"] == f"{option}: {what}{missing!r} does not exist"


def test_directory_and_unreadable_file(files, tmp_path, monkeypatch):
    res = run({"path": str(tmp_path)}, FailJson)
    assert res["msg"] == f"path: {str(tmp_path)!r} is a directory, not a file"
    from ansible_collections.port443.https.plugins.module_utils.host import _files

    def denied(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", path)

    # Tests run as root, who may read any file: the open call is refused instead.
    monkeypatch.setattr(_files, "open", denied, raising=False)
    res = run({"path": files["leaf"]}, FailJson)
    assert res["msg"] == f"path: {files['leaf']!r} is not readable by this user (permission denied)"
