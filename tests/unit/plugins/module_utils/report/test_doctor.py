# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
from __future__ import annotations

import datetime
import shutil
import subprocess

import pytest

from ansible_collections.port443.https.plugins.module_utils.reasons import _classify
from ansible_collections.port443.https.plugins.module_utils.host import _sockets
from ansible_collections.port443.https.plugins.module_utils.report import _doctor
from ansible_collections.port443.https.plugins.module_utils.certificate import _x509
from ansible_collections.port443.https.tests.unit.plugins.module_utils.report_samples import endpoint

SS = """\
LISTEN 0      511          0.0.0.0:80        0.0.0.0:*    users:(("nginx",pid=812,fd=6),("nginx",pid=811,fd=6))
LISTEN 0      511        127.0.0.1:443       0.0.0.0:*    users:(("nginx",pid=812,fd=7))
LISTEN 0      4096   127.0.0.53%lo:53        0.0.0.0:*    users:(("systemd-resolve",pid=400,fd=14))
LISTEN 0      128             [::]:22           [::]:*    users:(("sshd",pid=600,fd=4))
LISTEN 0      5                  *:8443             *:*    users:(("openssl",pid=900,fd=3))
LISTEN 0      5      192.0.2.7%eth0:9443      0.0.0.0:*
LISTEN 0      5                [::1]:6443        [::]:*
LISTEN 0      5   [::ffff:127.0.0.1]:7443          *:*
"""


def test_parse_ss():
    listeners = _sockets.parse_ss(SS)
    by_port = {item["port"]: item for item in listeners}
    assert by_port[80]["scope"] == "all" and by_port[80]["processes"] == ["nginx"] and by_port[80]["pids"] == [811, 812]
    assert by_port[443]["scope"] == "loopback" and by_port[443]["process"] == "nginx"
    assert by_port[53]["address"] == "127.0.0.53" and by_port[53]["scope"] == "loopback"
    assert by_port[22]["scope"] == "all" and by_port[8443]["scope"] == "all"
    assert by_port[9443]["scope"] == "specific" and by_port[9443]["process"] is None
    assert by_port[6443]["scope"] == "loopback" and by_port[7443]["scope"] == "loopback"
    # A header line (ss without -H) and garbage are ignored.
    assert _sockets.parse_ss("State Recv-Q Send-Q Local Address:Port Peer Address:Port\nnonsense\n") == []


def test_port_view():
    listeners = _sockets.parse_ss(SS)
    assert _doctor.port_view(listeners, 443)["scope"] == "loopback"
    assert _doctor.port_view(listeners, 80)["listening"] is True
    assert _doctor.port_view(listeners, 444) == {"port": 444, "listening": False, "scope": "none", "addresses": [], "processes": [], "pids": []}
    both = _sockets.parse_ss("LISTEN 0 5 127.0.0.1:443 0.0.0.0:*\nLISTEN 0 5 192.0.2.1:443 0.0.0.0:*\n")
    assert _doctor.port_view(both, 443)["scope"] == "specific"


def test_parse_systemctl_show():
    out = ("Id=nginx.service\nLoadState=loaded\nActiveState=failed\nSubState=failed\n\n"
           "Id=apache2.service\nLoadState=not-found\nActiveState=inactive\nSubState=dead\n")
    units = _doctor.parse_systemctl_show(out)
    assert units[0] == {"unit": "nginx.service", "loaded": True, "load_state": "loaded", "active_state": "failed",
                        "sub_state": "failed", "active": False}
    assert units[1]["loaded"] is False


# ---- firewall: the backend the host uses answers (its own tests: firewall/test_allows.py) ----


def _view(outputs, bins):
    def run(argv):
        for key, value in outputs.items():
            if key in " ".join(argv):
                return value
        return 1, "", "unexpected"

    return _doctor.HostView(run, lambda name: f"/usr/sbin/{name}" if name in bins else None)


def test_firewall_asks_the_backend():
    ruleset = ('{"nftables": [{"table": {"family": "inet", "name": "filter", "handle": 1}}, {"chain": {"family": "inet", '
               '"table": "filter", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}}, '
               '{"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 2, "expr": [{"match": {"op": "==", '
               '"left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 443}}, {"accept": null}]}}]}')
    view = _view({"nft -j -a list ruleset": (0, ruleset, "")}, {"nft"})
    assert view.firewall(443, 80) == {"backend": "nftables", "allows": True, "allows_http": False,
                                      "evidence": ["inet filter input: tcp dport 443 accept"]}
    # the detection's read is the backend's: one listing for the detection and both ports
    assert view.commands == ["/usr/sbin/nft -j -a list ruleset"]


def test_firewall_unknown():
    unknown = _doctor.HostView(lambda argv: (1, "", ""), lambda name: None).firewall(443, 80)
    assert unknown["backend"] is None and unknown["allows"] is None and unknown["allows_http"] is None
    assert unknown["evidence"][0].startswith("no firewall tool (ufw, firewall-cmd, nft, iptables")
    view = _view({"ufw status": (0, "Status: active\n", "")}, {"ufw"})
    view._run = lambda argv: (0, "Status: active\n", "") if argv[1:] == ["status"] else (1, "", "boom")
    assert view.firewall(443, 80) == {"backend": "ufw", "allows": None, "allows_http": None,
                                      "evidence": ["the ufw rules could not be read"]}


def test_the_view_is_read_only():
    with pytest.raises(_doctor.DoctorError, match="read-only"):
        _view({}, set()).run(["nft", "-f", "-"], data="flush ruleset\n")


# ---- certificate files ----


def _pki(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def make(cn, issuer_cert=None, issuer_key=None, ca=False, sans=None):
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        builder = (x509.CertificateBuilder().subject_name(name)
                   .issuer_name(issuer_cert.subject if issuer_cert else name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=90))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), critical=False)
        cert = builder.sign(issuer_key or key, hashes.SHA256())
        return cert, key

    root, root_key = make("Root", ca=True)
    inter, inter_key = make("Inter", root, root_key, ca=True)
    leaf, leaf_key = make("www.example", inter, inter_key, sans=["www.example"])
    other, other_key = make("other", sans=["other"])

    def pem(c):
        return c.public_bytes(serialization.Encoding.PEM)

    def keypem(k):
        return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())

    return {"leaf": pem(leaf), "inter": pem(inter), "key": keypem(leaf_key), "other_key": keypem(other_key), "self": pem(other)}


def _openssl(argv):
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.skipif(not _x509.HAS_CRYPTOGRAPHY, reason="cryptography missing")
def test_certificate_files(tmp_path):
    """The files are judged by _certfile (real openssl verify); trust in the lab's private root is left out."""
    p = _pki(tmp_path)
    for name, data in {"full": p["leaf"] + p["inter"], "leaf": p["leaf"], "inter": p["inter"], "reversed": p["inter"] + p["leaf"],
                       "key": p["key"], "other_key": p["other_key"], "junk": b"nothing", "self": p["self"]}.items():
        (tmp_path / name).write_bytes(data)
    openssl = shutil.which("openssl")

    def check(names=(), **item):
        return _doctor.check_certificate_files({k: str(tmp_path / v) for k, v in item.items()}, list(names), _openssl, openssl)

    good = check(["www.example"], cert="full", key="key")
    assert good["ok"], good["problems"]
    assert good["key_matches"] and good["names_match"] and good["chain_in_order"] and good["chain_length"] == 2
    assert good["chain_complete"] and [r["code"] for r in good["reasons"]] == ["untrusted_root"]
    wrong = check(["api.example"], cert="leaf", key="other_key")
    assert not wrong["ok"] and not wrong["chain_complete"]
    assert wrong["key_matches"] is False and wrong["names_not_covered"] == ["api.example"] and wrong["names_match"] is False
    assert sorted(r["code"] for r in wrong["reasons"]) == ["hostname_mismatch", "incomplete_chain", "key_mismatch"]
    assert len(wrong["problems"]) == 3 and any("api.example" in text for text in wrong["problems"])
    assert check(["www.example"], cert="leaf", chain="inter")["ok"]
    assert check([], cert="reversed")["chain_in_order"] is False
    unreadable = check([], cert="junk")
    assert unreadable == {"ok": False, "problems": [f"cert: no PEM certificate found in {str(tmp_path / 'junk')!r}"], "reasons": []}
    assert check([], cert="self", key="junk")["problems"][0].startswith("key: cannot load the private key")


# ---- diagnosis ----


def inside(listening=True, scope="all", services=None, allows=True):
    return {
        "listen": {"443": {"listening": listening, "scope": scope, "addresses": ["127.0.0.1"] if scope == "loopback" else ["0.0.0.0"],
                           "processes": ["nginx"] if listening else []}},
        "services": services if services is not None else [{"unit": "nginx.service", "loaded": True, "active": True, "active_state": "active"}],
        "firewall": {"backend": "nftables", "allows": allows},
    }


def crit(code, message="m (detail)"):
    return {"code": code, "severity": "critical", "message": message, "fix": f"fix {code}"}


CLOSED = endpoint("h", "critical", [crit("closed")], tcp="closed")
FILTERED = endpoint("h", "critical", [crit("filtered")], tcp="filtered")
STOPPED = [{"unit": "nginx.service", "loaded": True, "active": False, "active_state": "inactive"}]


@pytest.mark.parametrize("ins, out, code", [
    (inside(listening=False, services=STOPPED), CLOSED, "service_not_running"),
    (inside(listening=False, services=[]), CLOSED, "nothing_listening"),
    (inside(listening=False), CLOSED, "nothing_listening"),
    (inside(scope="loopback"), CLOSED, "localhost_only"),
    (inside(allows=False), FILTERED, "filtered"),
    (inside(), FILTERED, "filtered"),
    (inside(allows=False), CLOSED, "firewall_rejects"),
    (inside(), CLOSED, "unreachable"),
    (inside(), endpoint("h", "critical", [crit("not_tls", "not TLS (plain HTTP answered with status 200)")]), "tls_broken"),
    (inside(), endpoint("h", "critical", [crit("hostname_mismatch", "does not cover (h not in wrong.example)")]), "hostname_mismatch"),
    (inside(), endpoint("h", "critical", [crit("incomplete_chain")]), "incomplete_chain"),
    (inside(), endpoint("h", "critical", [crit("expired")]), "certificate_problem"),
    (inside(), endpoint("h"), "ok"),
    (inside(), None, "not_probed"),
    (None, endpoint("h", "critical", [crit("unresolvable")], tcp="unresolvable"), "unresolvable"),
    (None, CLOSED, "nothing_listening"),
    (None, FILTERED, "filtered"),
    (inside(allows=False), None, "filtered"),
])
def test_diagnose(ins, out, code):
    diag = _doctor.diagnose(ins, out)
    assert diag["code"] == code
    assert diag["cause"] and diag["fix"] and diag["message"]
    assert diag["severity"] in ("ok", "warning", "critical")


def test_diagnose_texts():
    diag = _doctor.diagnose(inside(listening=False, services=STOPPED), CLOSED)
    assert diag["cause"] == "service not running" and "systemctl start nginx.service" in diag["fix"]
    tls = _doctor.diagnose(inside(), endpoint("h", "critical", [crit("not_tls")]))
    assert tls["cause"] == "port open but TLS broken: plain HTTP (or another protocol) on 443"
    assert _doctor.diagnose(inside(), FILTERED)["cause"] == "firewall drops 443 (timeout)"
    assert _doctor.diagnose(inside(scope="loopback"), CLOSED)["cause"] == "listening on localhost only"
    mism = _doctor.diagnose(inside(), endpoint("h", "critical", [crit("hostname_mismatch", "x (h not in wrong.example)")]))
    assert mism["cause"] == "certificate does not match hostname" and "(h not in wrong.example)" in mism["message"]
    warn = _doctor.diagnose(inside(), endpoint("h", "warning", [{"code": "no_hsts", "severity": "warning", "message": "m", "fix": "add HSTS"}]))
    assert warn["code"] == "ok" and warn["severity"] == "warning" and "no_hsts" in warn["message"] and warn["fix"] == "add HSTS"
    other = _doctor.diagnose(inside(listening=False), CLOSED, port=8443)
    assert other["cause"] == "nothing listening on 8443"
    assert any(e.startswith("outside: tcp closed") for e in diag["evidence"])


# The diagnoses that are no reason code: what only the inside view tells apart, or a group of reason codes. A new
# diagnosis that means one reason code must be that code (and this list does not grow).
DOCTOR_OWN = {"ok", "service_not_running", "nothing_listening", "localhost_only", "firewall_rejects", "unreachable",
              "tls_broken", "certificate_problem", "not_probed", "udp_filtered", "udp_not_listening"}


def test_diagnosis_codes_are_the_reason_codes_they_mean():
    shared = set(_doctor.DIAGNOSES) - DOCTOR_OWN
    assert shared == {"unresolvable", "filtered", "hostname_mismatch", "incomplete_chain", "h3_unreachable"}
    assert not DOCTOR_OWN & set(_classify.REASONS)
    for code in shared:
        assert _doctor.DIAGNOSES[code][0] == _classify.REASONS[code].severity, code
