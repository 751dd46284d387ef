# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Which key types a server presents (the ciphers check's certificate_key_types), against real local nginx servers:
one with an ECDSA P-256 and an RSA certificate on one server block (two ssl_certificate lines), one with RSA only,
one with ECDSA only.

Oracle: `openssl s_client -sigalgs` offering only RSA, then only ECDSA signature algorithms, per TLS version: the
handshake succeeds exactly for the key types the server has, and the peer's public key is of that type."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pki
import pytest
from conftest import probe, start_nginx, wait_listening

from cryptography.hazmat.primitives.asymmetric import ec

SIGALGS = {"ECDSA": "ECDSA+SHA256:ECDSA+SHA384", "RSA": "rsa_pss_rsae_sha256:RSA+SHA256"}  # TLS 1.3 signs with RSA-PSS only
CASES = {"keytypes_dual": ["ECDSA", "RSA"], "keytypes_rsa": ["RSA"], "keytypes_ecdsa": ["ECDSA"]}
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _nginx(tmp: str, label: str, pairs: list[tuple[str, str]]) -> tuple[subprocess.Popen, int]:
    """One server block with every (certificate, key) pair, TLS 1.2 and 1.3, nginx's default suites and groups."""
    (cert, key), more = pairs[0], pairs[1:]
    extra = "\n    ".join(f"ssl_certificate {c};\n    ssl_certificate_key {k};" for c, k in more)
    return start_nginx(tmp, label, [{"cert": cert, "key": key, "protocols": "TLSv1.2 TLSv1.3", "extra": extra}])


@pytest.fixture(scope="module")
def key_lab(lab):
    if not os.path.exists(NGINX):
        pytest.skip("nginx is not installed")
    leaves = {}
    for kind, key in (("rsa", None), ("ecdsa", ec.generate_private_key(ec.SECP256R1()))):
        leaf = pki.issue(f"keytypes-{kind}.test", key=key, issuer=lab.inter,
                         sans=[f"{label}.test" for label in CASES])
        leaves[kind] = (lab.write(f"keytypes-{kind}.crt", leaf.pem + lab.inter.pem),
                        lab.write(f"keytypes-{kind}.key", leaf.key_pem))
    pairs = {"keytypes_dual": [leaves["ecdsa"], leaves["rsa"]], "keytypes_rsa": [leaves["rsa"]],
             "keytypes_ecdsa": [leaves["ecdsa"]]}
    for label, files in pairs.items():
        proc, port = _nginx(lab.tmp, label, files)
        lab.procs.append(proc)
        lab.endpoints[label] = {"host": "127.0.0.1", "port": port, "server_name": f"{label}.test"}
        wait_listening("127.0.0.1", port)
    return lab


def s_client_key_type(port: int, name: str, version: str, key_type: str) -> str | None:
    """The public key type of the certificate the server presents to `openssl s_client` offering only KEY_TYPE's
    signature algorithms in TLS VERSION (None: the handshake failed)."""
    proc = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", name,
                           f"-tls{version.replace('.', '_')}", "-sigalgs", SIGALGS[key_type]],
                          input=b"", capture_output=True, timeout=20, check=False)
    out = proc.stdout.decode("utf-8", "replace")
    if proc.returncode != 0 or "Cipher is (NONE)" in out:
        return None
    match = re.search(r"Peer signature type: (\S+)", out)
    return {"ECDSA": "ECDSA", "RSA-PSS": "RSA", "RSA": "RSA"}.get(match.group(1)) if match else None


@pytest.mark.parametrize("label", list(CASES))
def test_probe_reports_the_key_types(key_lab, label):
    result = probe(key_lab, [label], checks=["tcp", "tls_versions", "ciphers"])[label]
    section = result["ciphers"]
    assert section["complete"], section["unknown"]
    assert section["certificate_key_types"] == CASES[label]
    assert section["certificate_key_types_by_version"] == {"1.3": CASES[label], "1.2": CASES[label]}


@pytest.mark.parametrize("label", list(CASES))
def test_key_types_agree_with_openssl_s_client(key_lab, label):
    ep = key_lab.endpoints[label]
    for version in ("1.3", "1.2"):
        seen = [k for k in ("ECDSA", "RSA") if s_client_key_type(ep["port"], ep["server_name"], version, k) == k]
        assert seen == CASES[label], (version, seen)
