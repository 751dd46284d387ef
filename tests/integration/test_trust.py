# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Trust verdicts against chains an attacker or a careless CA builds, served by real `openssl s_server`s.

One table row per case: how the chain is built, the reason code expected, and whether the independent oracles
(`openssl verify`, and cryptography's own verifier where it exists) accept the chain. The probe's `trusted` must
agree with `openssl verify` on every row; the same chains as files go through certificate_file_info's core.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time

import pytest
from conftest import free_port, serve_http, wait_listening

sys.path.insert(0, os.path.dirname(__file__))

import pki  # noqa: E402  pylint: disable=wrong-import-position
from cryptography.x509.oid import ExtendedKeyUsageOID  # noqa: E402

from ansible_collections.port443.https.plugins.module_utils.certificate import _certfile
from ansible_collections.port443.https.plugins.module_utils.probe import _probe  # noqa: E402

N, D = pki.NOW, pki.DAY


def build(tmp):
    """label -> (leaf, served chain, expected code or None for trusted, extra probe checks)."""
    root = pki.issue("Trust Root", key=pki.rsa_key(fresh=True), ca=True, not_after=N + 3650 * D)
    inter = pki.issue("Trust Intermediate", key=pki.rsa_key(fresh=True), issuer=root, ca=True)
    other_root = pki.issue("Interception Root", key=pki.rsa_key(fresh=True), ca=True)
    other_inter = pki.issue("Interception Intermediate", key=pki.rsa_key(fresh=True), issuer=other_root, ca=True)
    aia_port = free_port()
    aia = f"http://127.0.0.1:{aia_port}"
    cases = {}

    # An ordinary leaf from the trusted CA, whose key then signs a certificate for another name.
    victim = pki.issue("victim.test", key=pki.rsa_key(fresh=True), issuer=inter)
    cases["forged_by_leaf"] = (pki.issue("forged.test", issuer=victim), [victim, inter], "issuer_not_ca")
    # A sub-CA under an intermediate whose pathLenConstraint is 0.
    p0 = pki.issue("Pathlen0 Intermediate", key=pki.rsa_key(fresh=True), issuer=root, ca=True, path_length=0)
    sub = pki.issue("Sub CA under pathlen 0", key=pki.rsa_key(fresh=True), issuer=p0, ca=True)
    cases["pathlen_exceeded"] = (pki.issue("pathlen.test", issuer=sub), [sub, p0], "path_length_exceeded")
    cases["client_auth_only"] = (pki.issue("clientonly.test", issuer=inter, eku=[ExtendedKeyUsageOID.CLIENT_AUTH]), [inter],
                                 "unsuitable_purpose")
    nc = pki.issue("Constrained Intermediate", key=pki.rsa_key(fresh=True), issuer=root, ca=True, permitted_dns=["allowed.test"])
    cases["outside_name_constraints"] = (pki.issue("evil.test", issuer=nc), [nc], "name_constraints_violated")
    cases["inside_name_constraints"] = (pki.issue("www.allowed.test", issuer=nc), [nc], None)
    no_sign = pki.issue("No keyCertSign Intermediate", key=pki.rsa_key(fresh=True), issuer=root, ca=True, cert_sign=False)
    cases["issuer_without_keycertsign"] = (pki.issue("nosign.test", issuer=no_sign), [no_sign], "issuer_key_usage")
    no_bc = pki.issue("No basicConstraints Intermediate", key=pki.rsa_key(fresh=True), issuer=root, basic_constraints=False)
    cases["issuer_without_basic_constraints"] = (pki.issue("nobc.test", issuer=no_bc), [no_bc], "issuer_not_ca")
    cases["bad_signature"] = (pki.issue("badsig.test", issuer=inter, signing_key=pki.rsa_key(fresh=True)), [inter], "bad_signature")
    old = pki.issue("Expired Intermediate", issuer=root, ca=True, not_before=N - 400 * D, not_after=N - 2 * D)
    cases["expired_intermediate"] = (pki.issue("oldinter.test", issuer=old, not_before=N - 100 * D), [old], "expired_intermediate")
    # A complete chain ending at a root the store does not know: served, or only reachable through AIA, or not at all.
    cases["unknown_root_served"] = (pki.issue("interception.test", issuer=other_root), [other_root], "untrusted_root")
    cases["unknown_root_behind_intermediate"] = (pki.issue("interception2.test", issuer=other_inter), [other_inter], "untrusted_root")
    cases["unknown_root_via_aia"] = (pki.issue("interception3.test", issuer=other_root, ca_issuers_url=f"{aia}/other-root.cer"), [],
                                     "untrusted_root")
    # A missing intermediate: said so, and with AIA the URL that completes the chain.
    cases["missing_intermediate"] = (pki.issue("missing.test", issuer=inter), [], "incomplete_chain")
    cases["missing_intermediate_aia"] = (pki.issue("missing-aia.test", issuer=inter, ca_issuers_url=f"{aia}/inter.cer"), [],
                                         "incomplete_chain")
    cases["self_signed"] = (pki.issue("self.test"), [], "self_signed")
    cases["good"] = (pki.issue("good.test", issuer=inter), [inter], None)
    # 14 intermediates: longer than any fixed walk limit, still a valid chain for OpenSSL (depth 100).
    level, chain = root, []
    for idx in range(14):
        level = pki.issue(f"Deep Intermediate {idx}", key=pki.rsa_key(fresh=True), issuer=level, ca=True)
        chain.insert(0, level)
    cases["long_chain"] = (pki.issue("deep.test", issuer=level), chain, None)

    from cryptography.hazmat.primitives import serialization

    files = {"/other-root.cer": other_root.cert.public_bytes(serialization.Encoding.DER),
             "/inter.cer": inter.cert.public_bytes(serialization.Encoding.DER)}
    server = serve_http("127.0.0.1", aia_port, {"path": files})
    return root, cases, server


@pytest.fixture(scope="module")
def trust_lab(lab, tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp("trust"))
    root, cases, server = build(tmp)
    ca = os.path.join(tmp, "root.pem")
    with open(ca, "wb") as handle:
        handle.write(root.pem)
    procs, endpoints, files = [], {}, {}
    for label, (leaf, chain, _code) in cases.items():
        paths = {n: os.path.join(tmp, f"{label}.{n}") for n in ("crt", "key", "chain")}
        for kind, data in (("crt", leaf.pem), ("key", leaf.key_pem), ("chain", b"".join(c.pem for c in chain))):
            with open(paths[kind], "wb") as handle:
                handle.write(data)
        port = free_port()
        cmd = ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", paths["crt"], "-key", paths["key"], "-www", "-quiet"]
        if chain:
            cmd += ["-cert_chain", paths["chain"]]
        procs.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        name = leaf.cert.subject.get_attributes_for_oid(pki.NameOID.COMMON_NAME)[0].value
        endpoints[label] = {"host": "127.0.0.1", "port": port, "server_name": name}
        files[label] = paths
    for ep in endpoints.values():
        wait_listening(ep["host"], ep["port"])
    labels = sorted(endpoints)
    outcome = _probe.probe({"endpoints": [endpoints[x] for x in labels], "ca_path": ca, "timeout": 3,
                            "checks": ["tcp", "certificate"]})
    results = dict(zip(labels, outcome["endpoints"]))
    yield {"ca": ca, "cases": cases, "results": results, "files": files}
    for proc in procs:
        proc.terminate()
        proc.wait(5)
    server.shutdown()
    server.server_close()


CASES = sorted([  # the labels, spelled out so a missing row fails loudly
    "forged_by_leaf", "pathlen_exceeded", "client_auth_only", "outside_name_constraints", "inside_name_constraints",
    "issuer_without_keycertsign", "issuer_without_basic_constraints", "bad_signature", "expired_intermediate",
    "unknown_root_served", "unknown_root_behind_intermediate", "unknown_root_via_aia", "missing_intermediate",
    "missing_intermediate_aia", "self_signed", "good", "long_chain",
])


def openssl_verify_accepts(ca, paths) -> bool:
    cmd = ["openssl", "verify", "-CAfile", ca, "-no-CApath", "-purpose", "sslserver", "-partial_chain"]
    if os.path.getsize(paths["chain"]):
        cmd += ["-untrusted", paths["chain"]]
    proc = subprocess.run(cmd + [paths["crt"]], capture_output=True, text=True, check=False)
    return proc.returncode == 0


def test_every_case_is_in_the_table(trust_lab):
    assert sorted(trust_lab["cases"]) == CASES


@pytest.mark.parametrize("label", CASES)
def test_probe_verdict(trust_lab, label):
    _leaf, _chain, expected = trust_lab["cases"][label]
    res = trust_lab["results"][label]
    cert = res["certificate"]
    codes = [r["code"] for r in res["reasons"]]
    accepted = openssl_verify_accepts(trust_lab["ca"], trust_lab["files"][label])
    # The independent oracle and the probe agree on trust, on every row.
    assert cert["trusted"] is accepted, (label, cert["validator"], res["reasons"])
    if expected is None:
        assert cert["trusted"] is True and cert["verification"] == "trusted" and res["status"] == "ok", res["reasons"]
        return
    assert cert["trusted"] is False and res["status"] == "critical"
    assert codes[0] == expected, (label, res["reasons"])
    assert cert["verification"] == expected
    assert cert["validator"]["ok"] is False and cert["validator"]["error"]
    assert "incomplete_chain" not in codes or expected == "incomplete_chain", res["reasons"]


def test_aia_tells_where_the_missing_intermediate_is(trust_lab):
    reason = trust_lab["results"]["missing_intermediate_aia"]["reasons"][0]
    assert "/inter.cer" in reason["fix"] and "Trust Root" in reason["message"]
    reason = trust_lab["results"]["unknown_root_via_aia"]["reasons"][0]
    assert "Interception Root" in reason["message"] and "not in the trust store" in reason["message"]


@pytest.mark.parametrize("label", CASES)
def test_files_get_the_same_verdict(trust_lab, label):
    """certificate_file_info's core: openssl verify decides, the same walker explains."""
    _leaf, chain, expected = trust_lab["cases"][label]
    paths = trust_lab["files"][label]
    params = {"path": paths["crt"], "chain_path": paths["chain"] if chain else None, "ca_path": trust_lab["ca"],
              "names": [], "warning_days": 30, "critical_days": 7, "min_rsa_bits": 2048}

    def run(argv):
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        return proc.returncode, proc.stdout + proc.stderr

    out = _certfile.inspect(params, run_command=run, openssl="openssl")
    codes = [r["code"] for r in out["reasons"] if r["code"] != "chain_order"]
    if expected is None:
        assert out["certificate"]["trusted"] is True and codes == [], out["reasons"]
    elif expected in ("untrusted_root", "incomplete_chain") and "aia" in label:
        # Files are judged without network access to AIA: the lone leaf says what it can.
        assert out["certificate"]["trusted"] is False and codes[0] in ("untrusted_root", "incomplete_chain")
    else:
        assert out["certificate"]["trusted"] is False and codes[0] == expected, out["reasons"]


def test_cryptography_verifier_agrees_where_it_exists(trust_lab):
    """cryptography's verifier (>= 42) is a second oracle. Known difference: it caps chains at 8 intermediates
    by default (long_chain), where OpenSSL and browsers go further."""
    verification = pytest.importorskip("cryptography.x509.verification")
    from cryptography import x509

    with open(trust_lab["ca"], "rb") as handle:
        store = verification.Store([x509.load_pem_x509_certificate(handle.read())])
    differences = {"long_chain"}
    for label in CASES:
        leaf, chain, _expected = trust_lab["cases"][label]
        name = trust_lab["results"][label]["server_name"]
        verifier = verification.PolicyBuilder().store(store).build_server_verifier(x509.DNSName(name))
        try:
            verifier.verify(leaf.cert, [c.cert for c in chain])
            accepted = True
        except verification.VerificationError:
            accepted = False
        ours = trust_lab["results"][label]["certificate"]["trusted"]
        if label in differences:
            assert accepted is False and ours is True, label
        else:
            assert accepted is ours, (label, accepted, ours)


@contextlib.contextmanager
def served(tmp_path, leaf, chain):
    """`openssl s_server` with leaf and chain on a free loopback port, for one test; yields the port."""
    crt, key, chain_file = tmp_path / "leaf.crt", tmp_path / "leaf.key", tmp_path / "chain.crt"
    crt.write_bytes(leaf.pem)
    key.write_bytes(leaf.key_pem)
    chain_file.write_bytes(b"".join(c.pem for c in chain))
    port = free_port()
    proc = subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", str(crt), "-key", str(key),
                             "-cert_chain", str(chain_file), "-www", "-quiet"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening("127.0.0.1", port)
        yield port
    finally:
        proc.terminate()
        proc.wait(5)


def test_oversized_certificate_list(lab, tmp_path):
    """10,000 SANs: more than the 100 KiB OpenSSL clients accept. The server answers every version it enables; the
    finding says why clients fail instead of a bare handshake failure."""
    leaf = pki.issue("big.test", issuer=lab.inter, sans=["big.test"] + [f"host{i}.big.test" for i in range(10000)])
    with served(tmp_path, leaf, [lab.inter]) as port:
        time.sleep(0.2)
        res = _probe.probe({"endpoints": [{"host": "127.0.0.1", "port": port, "server_name": "big.test"}], "ca_path": lab.ca_path,
                            "timeout": 3, "checks": ["tcp", "tls_versions", "certificate"]})["endpoints"][0]
    codes = [r["code"] for r in res["reasons"]]
    assert codes[0] == "oversized_certificate_list" and "handshake_failure" not in codes, res["reasons"]
    assert res["tls"]["versions"]["1.2"] is True and res["tls"]["versions"]["1.3"] is True
    assert res["status"] == "critical"


def test_intermediate_as_anchor(trust_lab, tmp_path):
    """A store holding only the intermediate: an anchor for OpenSSL with partial chains (as curl and Python 3.13's
    default context), so trusted; and the oracle agrees."""
    _leaf, chain, _expected = trust_lab["cases"]["good"]
    anchor = tmp_path / "inter-only.pem"
    anchor.write_bytes(chain[0].pem)
    ep = {"host": "127.0.0.1", "port": trust_lab["results"]["good"]["port"], "server_name": "good.test"}
    res = _probe.probe({"endpoints": [ep], "ca_path": str(anchor), "timeout": 3, "checks": ["tcp", "certificate"]})["endpoints"][0]
    assert res["certificate"]["trusted"] is True and res["status"] == "ok", res["reasons"]
    assert openssl_verify_accepts(str(anchor), trust_lab["files"]["good"])


def test_revocation_stays_inside_the_budget(lab, tmp_path):
    """CRL and OCSP URLs that accept and never answer: staple request, CRL and OCSP share the endpoint's budget of
    2 x timeout instead of a timeout each; the verdict is unknown, said so, never ok."""
    tarpit = lab.endpoints["tarpit"]["port"]
    leaf = pki.issue("slowrev.test", issuer=lab.inter, crl_url=f"http://127.0.0.1:{tarpit}/x.crl",
                     ocsp_url=f"http://127.0.0.1:{tarpit}/ocsp")

    def run(argv):
        done = subprocess.run(argv, input="Q\n", capture_output=True, text=True, check=False)
        return done.returncode, done.stdout

    with served(tmp_path, leaf, [lab.inter]) as port:
        start = time.monotonic()
        res = _probe.probe({"endpoints": [{"host": "127.0.0.1", "port": port, "server_name": "slowrev.test"}],
                            "ca_path": lab.ca_path, "timeout": 1.5, "checks": ["tcp", "certificate", "revocation"]},
                           run_command=run)["endpoints"][0]
        elapsed = time.monotonic() - start
    assert elapsed <= 2 * 1.5 + 1.0, elapsed
    codes = [r["code"] for r in res["reasons"]]
    assert res["revocation"]["status"] == "unknown" and "revocation_unknown" in codes and res["status"] != "ok", res["reasons"]
