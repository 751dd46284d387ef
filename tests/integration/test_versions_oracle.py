# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Which TLS versions a server accepts, judged against `openssl s_client` (one handshake pinned to each version, every
suite OpenSSL has at security level 0, every TLS 1.3 suite), on real `openssl s_server`s; and the version probe behind
a connection limiter and behind a server that declines by closing instead of sending an alert.

The probe asks each version below the negotiated one with one hand-built ClientHello read up to the ServerHello. Where
it disagrees with s_client it must be because s_client cannot offer what the server wants (the TLS 1.3 CCM suite
below: s_client offers it only when told to), never the other way round."""

from __future__ import annotations

import socket
import subprocess

import pki
import pytest
from conftest import codes, probe, wait_listening
from limiter import AlertsAsCloses, LimitingProxy

from ansible_collections.port443.https.plugins.module_utils.host import _net
from ansible_collections.port443.https.plugins.module_utils.probe import _tls

FLAGS = {"1.0": "-tls1", "1.1": "-tls1_1", "1.2": "-tls1_2", "1.3": "-tls1_3"}
ALL_TLS13 = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256"
SERVERS = ["tls10_only", "tls11_only", "tls12_only", "tls13_only", "all_versions", "good", "ecdsa", "no_shared_cipher",
           "tls13_ccm_only", "dhe_only"]


@pytest.fixture(scope="module")
def version_lab(lab):
    """Two servers more than the shared lab's: TLS 1.3 with only TLS_AES_128_CCM_SHA256 (a suite Python's ssl never
    offers), and TLS 1.2 with only a DHE suite."""
    leaf = pki.issue("modern.test", issuer=lab.inter)
    lab.s_server("tls13_ccm_only", leaf, [lab.inter], ["-tls1_3", "-ciphersuites", "TLS_AES_128_CCM_SHA256"], server_name="modern.test")
    lab.s_server("dhe_only", leaf, [lab.inter], ["-tls1_2", "-cipher", "DHE-RSA-AES128-GCM-SHA256"], server_name="modern.test")
    for label in ("tls13_ccm_only", "dhe_only"):
        wait_listening(*lab.endpoints[label].pop("_wait"))
    return lab


def s_client_accepts(ep: dict, version: str) -> bool:
    argv = ["openssl", "s_client", "-connect", f"{ep['host']}:{ep['port']}", "-servername", ep["server_name"], FLAGS[version],
            "-brief", "-cipher", "ALL:@SECLEVEL=0", "-ciphersuites", ALL_TLS13]
    out = subprocess.run(argv, input="Q\n", capture_output=True, text=True, timeout=20, check=False)
    return out.returncode == 0 and f"Protocol version: TLSv{version.replace('1.0', '1')}" in out.stdout + out.stderr


@pytest.fixture(scope="module")
def probed(version_lab):
    return probe(version_lab, SERVERS, checks=["tcp", "tls_versions"])


@pytest.mark.parametrize("label", SERVERS)
def test_versions_agree_with_openssl_s_client(version_lab, probed, label):
    ep = version_lab.endpoints[label]
    oracle = {version: s_client_accepts(ep, version) for version in FLAGS}
    assert probed[label]["tls"]["versions"] == oracle, (label, probed[label]["reasons"])
    assert "tls_version_unknown" not in codes(probed[label])


def test_a_suite_pythons_ssl_never_offers_does_not_hide_the_version(version_lab, probed):
    """Python's ssl offers three TLS 1.3 suites and cannot be told to offer the CCM ones: its handshake with this
    server fails, so a probe built on pinned handshakes would call TLS 1.3 refused. The hand-built ClientHello offers
    every TLS 1.3 suite, as s_client does when told to."""
    ep = version_lab.endpoints["tls13_ccm_only"]
    _state, sock, _lat, _err = _net.connect(socket.AF_INET, (ep["host"], ep["port"]), 5)
    pinned = _tls.handshake(sock, ep["server_name"], 5, version="1.3")
    assert not pinned.ok, "Python's ssl completed a handshake it should not have been able to"
    assert probed["tls13_ccm_only"]["tls"]["versions"] == {"1.0": False, "1.1": False, "1.2": False, "1.3": True}


@pytest.mark.parametrize("mode", ["close", "reset"])
def test_a_limiter_after_the_first_handshake_leaves_versions_unknown_never_refused(version_lab, mode):
    """A limiter passes the reachability check and the first handshake, then closes or resets every connection: the
    versions below the negotiated one are unknown (the server's answered offer was closed too), never refused."""
    upstream = version_lab.endpoints["all_versions"]
    proxy = LimitingProxy((upstream["host"], upstream["port"]), mode, 2)
    version_lab.endpoints[f"limited_versions_{mode}"] = {"host": "127.0.0.1", "port": proxy.port, "server_name": "modern.test"}
    try:
        res = probe(version_lab, [f"limited_versions_{mode}"], checks=["tcp", "tls_versions"])[f"limited_versions_{mode}"]
    finally:
        proxy.close()
    assert res["tls"]["negotiated"] == "1.3", res
    assert res["tls"]["versions"] == {"1.0": None, "1.1": None, "1.2": None, "1.3": True}, res
    assert "tls_version_unknown" in codes(res) and res["status"] != "ok", res["reasons"]


def test_a_server_that_declines_by_closing_is_refused_once_the_close_is_confirmed(version_lab):
    """TLS 1.2 only, behind a proxy that turns every alert into a close: TLS 1.1 and 1.0 are closed twice while the
    TLS 1.2 offer is answered in between, so they are refused, as s_client says of the server itself."""
    upstream = version_lab.endpoints["tls12_only"]
    proxy = AlertsAsCloses((upstream["host"], upstream["port"]))
    version_lab.endpoints["closes_instead"] = {"host": "127.0.0.1", "port": proxy.port, "server_name": "modern.test"}
    try:
        res = probe(version_lab, ["closes_instead"], checks=["tcp", "tls_versions"])["closes_instead"]
    finally:
        proxy.close()
    assert res["tls"]["versions"] == {"1.0": False, "1.1": False, "1.2": True, "1.3": False}, res
    assert "tls_version_unknown" not in codes(res), res["reasons"]
    assert {v: s_client_accepts(upstream, v) for v in FLAGS} == res["tls"]["versions"]
