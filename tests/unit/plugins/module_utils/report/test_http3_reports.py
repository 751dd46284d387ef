# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The http3 check's result in every report format, in the vantage matrix and in the doctor's diagnosis."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.port443.https.plugins.module_utils.reasons import _classify
from ansible_collections.port443.https.plugins.module_utils.host import _sockets
from ansible_collections.port443.https.plugins.module_utils.report import _doctor, _report, _vantage
from ansible_collections.port443.https.tests.unit.plugins.module_utils.report_samples import endpoint

V1 = {"hex": "0x00000001", "name": "v1", "kind": "standard"}
V2 = {"hex": "0x6b3343cf", "name": "v2", "kind": "standard"}
GREASE = {"hex": "0x1a2a3a4a", "name": "reserved", "kind": "reserved"}
DRAFT = {"hex": "0xff00001d", "name": "draft-29", "kind": "draft"}


def h3(verdict, versions=None, advertised=True, state=None, chain_same=None, port=443):
    state = state or {"served": "answered", "old_versions": "answered", "invalid": "invalid"}.get(verdict, "silent")
    return {"verdict": verdict, "advertised": advertised, "port": port, "alt_svc": None,
            "udp": {"state": state, "versions": versions, "latency_ms": 0.5, "sent": 1, "error": None, "answer": None},
            "handshake": None, "chain_compared": chain_same is not None, "chain_same": chain_same, "chain_note": None}


def fleet():
    unreachable = _classify.reason("h3_unreachable", 'Alt-Svc advertises h3=":443"; UDP 443: no answer')
    differs = _classify.reason("h3_chain_differs", "UDP 443: the leaf differs")
    return [
        endpoint("served.example", http3=h3("served", [V1, V2, GREASE])),
        endpoint("slow.example", "critical", [unreachable], http3=h3("unreachable")),
        endpoint("plain.example", http3=h3("not_served", advertised=False)),
        endpoint("other.example", "warning", [differs], http3=h3("served", [V1], chain_same=False)),
        endpoint("nocheck.example"),
    ]


@pytest.fixture
def report():
    return _report.build(fleet(), title="HTTP/3")


@pytest.mark.parametrize("section, text", [
    (h3("served", [V1, V2, GREASE]), "served (v1, v2)"),
    (h3("served", [V1], chain_same=False), "served (v1), another certificate"),
    (h3("old_versions", [DRAFT]), "drafts only (draft-29)"),
    (h3("not_served", advertised=False), "not served"),
    (h3("unreachable"), "advertised, unreachable"),
    (h3("invalid"), "invalid answer"),
    (h3("unknown"), "unknown"),
    (h3("bogus"), "unknown"),
    (None, None),
])
def test_http3_text(section, text):
    assert _report.http3_text({"http3": section}) == text


def test_json_carries_the_section_without_latency(report):
    data = json.loads(_report.render_json(report))
    assert data["endpoints"][0]["http3"]["verdict"] == "served"
    assert "latency_ms" not in json.dumps(data["endpoints"][0]["http3"])
    assert "http3" not in data["endpoints"][4]  # a result of an older probe, or one without the section: kept as it is


def test_markdown_column_and_summary(report):
    md = _report.render_markdown(report)
    assert "| Status | Endpoint | HTTP/3 | Findings | Fix |" in md
    assert "| critical | slow.example:443 | advertised, unreachable | `h3_unreachable`" in md
    assert "HTTP/3: advertised, unreachable x1, not served x1, served (v1), another certificate x1, served (v1, v2) x1." in md
    # without any http3 result the table keeps its four columns
    plain = _report.render_markdown(_report.build([endpoint("a.example", "warning", [_classify.reason("no_hsts")])]))
    assert "| Status | Endpoint | Findings | Fix |" in plain and "HTTP/3" not in plain


def test_junit_has_an_http3_testcase(report):
    root = ET.fromstring(_report.render_junit(report).split("\n", 1)[1])
    cases = {(c.get("classname"), c.get("name")): c for c in root.iter("testcase")}
    assert ("nocheck.example:443", "http3") not in cases
    served = cases[("served.example:443", "http3")]
    assert served.find("failure") is None and served.find("system-out").text == "HTTP/3: served (v1, v2)"
    slow = cases[("slow.example:443", "http3")]
    assert slow.find("failure").get("type") == "critical" and "h3_unreachable" in slow.find("failure").get("message")
    other = cases[("other.example:443", "http3")]
    assert other.find("failure") is None and "h3_chain_differs" in other.find("system-out").text


def test_prometheus_http3_metrics(report):
    prom = _report.render_prometheus(report)
    assert '# TYPE https_http3_served gauge' in prom
    assert 'https_http3_served{host="served.example",port="443",server_name="served.example"} 1' in prom
    assert 'https_http3_served{host="slow.example",port="443",server_name="slow.example"} 0' in prom
    assert 'https_http3_advertised{host="slow.example",port="443",server_name="slow.example"} 1' in prom
    assert 'https_http3_advertised{host="plain.example",port="443",server_name="plain.example"} 0' in prom
    assert 'nocheck.example' not in "\n".join(line for line in prom.splitlines() if "http3" in line)
    unknown = _report.render_prometheus(_report.build([endpoint("u.example", http3=h3("unknown", advertised=None))]))
    assert "https_http3_served{" not in unknown and "https_http3_advertised{" not in unknown


def test_html_has_an_http3_column(report):
    page = _report.render_html(report)
    assert 'data-key="h3"' in page and ">HTTP/3</th>" in page and "function h3Text" in page


def test_vantage_matrix_cells_carry_http3_and_differ():
    inside = endpoint("www.example", http3=h3("served", [V1]), source="inside")
    outside = endpoint("www.example", "critical", [_classify.reason("h3_unreachable")], http3=h3("unreachable"), source="controller")
    mx = _vantage.matrix([outside, inside])
    row = mx["rows"][0]
    assert row["cells"]["inside"]["http3"] == "served" and row["cells"]["controller"]["http3"] == "unreachable"
    assert "http3" in row["differs"] and mx["differences"] == 1
    md = "\n".join(_report.render_matrix_markdown(mx))
    assert "critical: TLS 1.3, HTTP/3 advertised, unreachable" in md and "ok: TLS 1.3, HTTP/3 served" in md


def test_vantage_missing_has_an_http3_key():
    planned = _vantage.plan([{"host": "a.test"}], ["controller", "p1"], ["d"])
    merged = _vantage.merge([{"item": "controller", "endpoints": [endpoint("a.test", http3=h3("served", [V1]))]}], planned)
    missing = [r for r in merged["endpoints"] if r["source"] == "p1"][0]
    assert missing["http3"] is None and [r["code"] for r in missing["reasons"]] == ["vantage_missing"]
    kept = [r for r in merged["endpoints"] if r["source"] == "controller"][0]
    assert kept["http3"]["verdict"] == "served"


# ---- the doctor ---------------------------------------------------------------------------------------------------

SS_UDP = """\
UNCONN 0      0            0.0.0.0:443       0.0.0.0:*    users:(("caddy",pid=733,fd=9))
UNCONN 0      0          127.0.0.53%lo:53    0.0.0.0:*    users:(("systemd-resolve",pid=400,fd=13))
UNCONN 0      0               [::]:443          [::]:*    users:(("caddy",pid=733,fd=10))
LISTEN 0      511          0.0.0.0:80        0.0.0.0:*    users:(("nginx",pid=812,fd=6))
"""


def test_parse_ss_udp():
    listeners = _sockets.parse_ss(SS_UDP, "udp")
    assert [(item["address"], item["port"], item["process"]) for item in listeners] == [
        ("0.0.0.0", 443, "caddy"), ("127.0.0.53", 53, "systemd-resolve"), ("::", 443, "caddy")]
    assert _doctor.port_view(listeners, 443)["scope"] == "all"
    # the TCP reading of the same text sees the TCP listener only
    assert [item["port"] for item in _sockets.parse_ss(SS_UDP)] == [80]
    assert [item["port"] for item in _sockets.parse_ss("udp UNCONN 0 0 0.0.0.0:443 0.0.0.0:*\ntcp LISTEN 0 5 0.0.0.0:80 0.0.0.0:*", "udp")] == [443]


NFT_TCP_ONLY = ('{"nftables": [{"table": {"family": "inet", "name": "filter", "handle": 1}}, {"chain": {"family": "inet", '
                '"table": "filter", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}}, '
                '{"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 2, "expr": [{"match": {"op": "==", '
                '"left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 443}}, {"accept": null}]}}]}')


def _view(outputs, bins):
    def run(argv):
        return outputs.get(" ".join([argv[0].rsplit("/", 1)[-1]] + argv[1:]), (1, "", "unknown command"))
    return _doctor.HostView(run, lambda name: f"/usr/sbin/{name}" if name in bins else None)


def test_firewall_udp_verdict_from_the_backend():
    view = _view({"nft -j -a list ruleset": (0, NFT_TCP_ONLY, "")}, {"nft"})
    fw = view.firewall(443, 80, 443)
    assert fw["allows"] is True and fw["allows_udp"] is False and fw["evidence_udp"]
    assert view.commands == ["/usr/sbin/nft -j -a list ruleset"]  # one read for every question
    assert "allows_udp" not in _view({"nft -j -a list ruleset": (0, NFT_TCP_ONLY, "")}, {"nft"}).firewall(443, 80)


def test_udp_listeners_through_ss():
    view = _view({"ss -H -lunp": (0, SS_UDP, "")}, {"ss"})
    assert [item["port"] for item in view.listeners("udp")] == [443, 53, 443]
    with pytest.raises(_doctor.DoctorError, match="ss -H -lunp failed"):
        _view({}, {"ss"}).listeners("udp")


def _unreachable_outside(port=443):
    return endpoint("www.example", "critical", [_classify.reason("h3_unreachable", "no answer")], http3=h3("unreachable", port=port))


def _inside(allows_udp, udp_listening, port=443):
    return {
        "listen": {"443": {"port": 443, "listening": True, "scope": "all", "addresses": ["0.0.0.0"], "processes": ["caddy"]}},
        "services": [{"unit": "caddy.service", "loaded": True, "active": True, "active_state": "active"}],
        "firewall": {"backend": "nftables", "allows": True, "allows_http": True, "evidence": ["inet filter input: tcp dport 443 accept"],
                     "allows_udp": allows_udp, "evidence_udp": ["inet filter input: policy drop"] if allows_udp is False else []},
        "listen_udp": {str(port): {"port": port, "listening": udp_listening, "scope": "all" if udp_listening else "none",
                                   "addresses": ["0.0.0.0"] if udp_listening else [], "processes": ["caddy"] if udp_listening else []}},
    }


@pytest.mark.parametrize("allows_udp, listening, code, cause", [
    (False, True, "udp_filtered", "the firewall drops 443/udp"),
    (False, False, "udp_filtered", "the firewall drops 443/udp"),
    (True, False, "udp_not_listening", "nothing listening on 443/udp"),
    (None, False, "udp_not_listening", "nothing listening on 443/udp"),
    (True, True, "h3_unreachable", "443/udp unreachable from outside"),
    (None, True, "h3_unreachable", "443/udp unreachable from outside"),
])
def test_doctor_explains_h3_unreachable(allows_udp, listening, code, cause):
    diag = _doctor.diagnose(_inside(allows_udp, listening), _unreachable_outside())
    assert (diag["code"], diag["cause"], diag["severity"]) == (code, cause, "critical")
    if code == "udp_filtered":
        assert "inside: the nftables firewall drops 443/udp (inet filter input: policy drop)" in diag["evidence"]
        assert "ufw allow 443/udp" in diag["fix"]
    assert "outside: UDP 443 silent, Alt-Svc advertises h3" in diag["evidence"]


def test_doctor_h3_on_the_advertised_port():
    diag = _doctor.diagnose(_inside(False, True, port=8443), _unreachable_outside(port=8443))
    assert diag["cause"] == "the firewall drops 8443/udp" and "UDP 8443" in diag["message"]


def test_doctor_without_inside_udp_facts():
    diag = _doctor.diagnose({}, _unreachable_outside())
    assert diag["code"] == "h3_unreachable"


def test_doctor_tls_problems_come_first():
    outside = endpoint("www.example", "critical", [_classify.reason("hostname_mismatch"), _classify.reason("h3_unreachable")],
                       http3=h3("unreachable"))
    assert _doctor.diagnose(_inside(False, True), outside)["code"] == "hostname_mismatch"


def test_doctor_h3_served_is_ok():
    assert _doctor.diagnose(_inside(True, True), endpoint("www.example", http3=h3("served", [V1])))["code"] == "ok"


@pytest.mark.parametrize("value, error", [
    ("x", "http3: expected the http3 section"),
    ({"port": "443"}, "http3.port: expected a port number"),
    ({"port": 0}, "http3.port: expected a port number"),
    ({"port": True}, "http3.port: expected a port number"),
])
def test_check_outside_http3(value, error):
    assert _doctor.check_outside({"host": "a", "http3": value}).startswith(error)
    assert _doctor.check_outside({"host": "a", "http3": {"port": 443}}) is None
