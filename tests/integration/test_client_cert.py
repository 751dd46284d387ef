# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Servers that demand a client certificate (openssl s_server -Verify 1 -verify_return_error, TLS 1.2 and 1.3):
without one the probe reports client_cert_required (not a bare handshake_failure), with one from the right CA the
endpoint is ok, with one from another CA it is client_cert_required naming the server's alert."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from conftest import Lab, codes, free_port, wait_listening
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

import pki
from ansible_collections.port443.https.plugins.module_utils.probe import _probe, _reach

VERSIONS = {"1.2": {"1.0": False, "1.1": False, "1.2": True, "1.3": False},
            "1.3": {"1.0": False, "1.1": False, "1.2": False, "1.3": True}}


@pytest.fixture(scope="module")
def staff(tmp_path_factory):
    """s_server endpoints that require (or only ask for) a client certificate signed by a staff CA."""
    lab = Lab(str(tmp_path_factory.mktemp("staff")))
    root = pki.issue("Staff Server Root", ca=True)
    lab.ca_path = lab.write("ca.pem", root.pem)
    # Distinct keys: a CA or client that shared a key with another would prove less.
    staff_ca = pki.issue("Staff Client CA", key=pki.ec_key(), ca=True)
    other_ca = pki.issue("Other Client CA", key=pki.ec_key(), ca=True)
    client_ca = lab.write("client-ca.pem", staff_ca.pem)
    for label, issuer in (("alice", staff_ca), ("mallory", other_ca)):
        cert = pki.issue(label, key=pki.ec_key(), issuer=issuer, eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
        setattr(lab, label, (lab.write(f"{label}.crt", cert.pem), lab.write(f"{label}.key", cert.key_pem)))
        if label == "alice":
            encrypted = cert.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.BestAvailableEncryption(b"secret"))
            lab.alice_encrypted_key = lab.write("alice-encrypted.key", encrypted)
    leaf = pki.issue("staff.test", issuer=root)
    for version in ("1.2", "1.3"):
        pinned = [f"-tls1_{version[-1]}", "-verify_return_error", "-CAfile", client_ca]
        lab.s_server(f"required_{version}", leaf, [], pinned + ["-Verify", "1"], server_name="staff.test")
        lab.s_server(f"optional_{version}", leaf, [], pinned + ["-verify", "1"], server_name="staff.test")
    # Both versions: the pinned TLS 1.2 probe is refused with a bare handshake_failure after a CertificateRequest.
    lab.s_server("required_both", leaf, [], ["-no_tls1", "-no_tls1_1", "-verify_return_error", "-CAfile", client_ca,
                                             "-Verify", "1"], server_name="staff.test")
    if shutil.which("nginx"):
        _nginx(lab, leaf, client_ca)
    for ep in lab.endpoints.values():
        wait_listening(*ep.pop("_wait"))
    yield lab
    lab.close()


def _nginx(lab, leaf, client_ca):
    """nginx with ssl_verify_client on: it completes the handshake and answers HTTP 400 without a valid certificate."""
    prefix = os.path.join(lab.tmp, "nginx")
    os.makedirs(prefix)
    port, http_port = free_port(), free_port()
    cert, key = lab.write("nginx.crt", leaf.pem), lab.write("nginx.key", leaf.key_pem)
    temps = " ".join(f"{k}_temp_path {prefix};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    lab.write("nginx/nginx.conf", f"""
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{}}
http {{
    access_log off;
    {temps}
    server {{
        listen 127.0.0.1:{http_port};
        return 301 https://$host:{port}$request_uri;
    }}
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_client_certificate {client_ca};
        ssl_verify_client on;
        add_header Strict-Transport-Security "max-age=63072000" always;
        location / {{ return 200 "staff only\n"; }}
    }}
}}
""".encode())
    lab.procs.append(subprocess.Popen(["nginx", "-c", f"{prefix}/nginx.conf", "-p", prefix], stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    lab.endpoints["nginx"] = {"host": "127.0.0.1", "port": port, "http_port": http_port, "server_name": "staff.test",
                              "_wait": ("127.0.0.1", port)}


def _probe_staff(lab, names, **options):
    params = {"endpoints": [lab.endpoints[n] for n in names], "ca_path": lab.ca_path, "timeout": 3, "workers": 8,
              "min_tls_version": "1.2", "warning_days": 30, "critical_days": 7, "min_rsa_bits": 2048, "fail_on": "never",
              "checks": ["tcp", "tls_versions", "certificate"]}
    params.update(options)
    return dict(zip(names, _probe.probe(params)["endpoints"]))


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_no_certificate_is_client_cert_required(staff, version):
    res = _probe_staff(staff, [f"required_{version}"])[f"required_{version}"]
    assert codes(res) == ["client_cert_required"], res["reasons"]
    reason = res["reasons"][0]
    assert reason["severity"] == "warning" and res["status"] == "warning"
    assert "none was presented" in reason["message"], reason
    # The server did choose its version: the versions are known, not all false.
    assert res["tls"]["versions"] == VERSIONS[version]


def test_versions_of_a_server_that_demands_a_certificate(staff):
    """Version probes go without watching for a CertificateRequest (it costs time on every handshake): a refusal
    that a certificate demand may explain is asked again, watched, so TLS 1.2 still counts as accepted."""
    res = _probe_staff(staff, ["required_both"])["required_both"]
    assert codes(res) == ["client_cert_required"], res["reasons"]
    assert res["tls"]["versions"] == {"1.0": False, "1.1": False, "1.2": True, "1.3": True}


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_certificate_from_the_right_ca_is_ok(staff, version):
    alice_cert, alice_key = staff.alice
    res = _probe_staff(staff, [f"required_{version}"], client_cert=alice_cert, client_key=alice_key)[f"required_{version}"]
    assert res["status"] == "ok" and res["reasons"] == [], res["reasons"]
    assert res["tls"]["negotiated"] == version and res["tls"]["versions"] == VERSIONS[version]
    assert res["certificate"]["trusted"] is True and res["certificate"]["sans"] == ["staff.test"]


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_certificate_from_another_ca_is_refused(staff, version):
    cert, key = staff.mallory
    res = _probe_staff(staff, [f"required_{version}"], client_cert=cert, client_key=key)[f"required_{version}"]
    assert codes(res) == ["client_cert_required"], res["reasons"]
    message = res["reasons"][0]["message"]
    assert "refused the presented client certificate with alert unknown_ca" in message, message
    assert res["tls"]["versions"] == VERSIONS[version]


@pytest.mark.parametrize("client, refused", [("alice", False), ("mallory", True)])
def test_tls13_verdict_on_a_socket_numbered_above_1023(staff, client, refused):
    """The server's TLS 1.3 verdict on a presented certificate is read in the probe's event loop (epoll), not by
    select(), which cannot watch a file descriptor above 1023: a large probe holds that many sockets at once."""
    if _reach.raise_nofile() < 1200:
        pytest.skip("the open-files limit cannot be raised above 1,200")
    filler = [os.open(os.devnull, os.O_RDONLY) for dummy in range(1100)]
    try:
        cert, key = getattr(staff, client)
        res = _probe_staff(staff, ["required_1.3"], client_cert=cert, client_key=key)["required_1.3"]
    finally:
        for fd in filler:
            os.close(fd)
    assert codes(res) == (["client_cert_required"] if refused else []), res["reasons"]
    assert res["tls"]["versions"] == VERSIONS["1.3"]


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_optional_client_certificate_is_not_a_finding(staff, version):
    """A server that asks for a certificate but goes on without one is ok, whatever the version."""
    res = _probe_staff(staff, [f"optional_{version}"])[f"optional_{version}"]
    assert res["status"] == "ok" and res["reasons"] == [], res["reasons"]
    assert res["tls"]["versions"] == VERSIONS[version]


@pytest.mark.parametrize("options, message", [
    ({"client_cert": "alice"}, "client_cert and client_key: give both"),
    ({"client_key": "alice"}, "client_cert and client_key: give both"),
    ({"client_cert": "/nonexistent/alice.crt", "client_key": "alice"}, "client_cert: '/nonexistent/alice.crt' does not exist"),
    ({"client_cert": "alice", "client_key": "mallory"}, "are not a PEM certificate and its matching unencrypted private key"),
    ({"client_cert": "alice", "client_key": "encrypted"}, "are not a PEM certificate and its matching unencrypted private key"),
])
def test_bad_client_certificate_options(staff, options, message):
    files = {"alice": staff.alice, "mallory": staff.mallory}
    real = {}
    for option, value in options.items():
        if value == "encrypted":
            real[option] = staff.alice_encrypted_key
        elif value in files:
            real[option] = files[value][0 if option == "client_cert" else 1]
        else:
            real[option] = value
    with pytest.raises(_probe.ProbeInputError, match=message.replace("(", r"\(").replace(".", r"\.")):
        _probe_staff(staff, ["required_1.3"], **real)


@pytest.fixture
def nginx(staff):
    if "nginx" not in staff.endpoints:
        pytest.fail("nginx is not installed: the integration tests need it (bash scripts/test integration installs it)")
    return staff


@pytest.mark.parametrize("client, expected", [
    (None, "answered HTTP 400 without one"),
    ("alice", None),
    ("mallory", "answered HTTP 400 to the request with the presented one"),
])
def test_nginx_refuses_the_request_not_the_handshake(nginx, client, expected):
    options = {"checks": ["tcp", "tls_versions", "certificate", "http"]}
    if client:
        options["client_cert"], options["client_key"] = getattr(nginx, client)
    res = _probe_staff(nginx, ["nginx"], **options)["nginx"]
    assert res["tls"]["client_cert_requested"] is True
    assert res["tls"]["versions"] == {"1.0": False, "1.1": False, "1.2": True, "1.3": True}
    if expected is None:
        assert res["status"] == "ok" and res["reasons"] == [], res["reasons"]
        assert res["http"]["status"] == 200
    else:
        assert codes(res) == ["client_cert_required"], res["reasons"]
        assert expected in res["reasons"][0]["message"]
        assert res["http"]["status"] == 400
