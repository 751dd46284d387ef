# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The http3 check on real local servers: an HTTPS listener on TCP (with or without an Alt-Svc h3 header) and, on the
same port number over UDP, aioquic's QUIC server (a real HTTP/3 server, in its own process), a socket that drops every
datagram, nothing at all (ICMP port unreachable), a server that answers garbage, one that answers with connection IDs
that are not the probe's, one that speaks draft versions only, one that answers after the budget, and one that loses
the first datagram. Each case names the verdict and the findings it must give."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pki
import pytest
from conftest import BH_HOST, free_port, probe, serve_http

from ansible_collections.port443.https.plugins.module_utils.probe import _quic

try:
    import aioquic  # noqa: F401  # pylint: disable=unused-import
    HAVE_AIOQUIC = True
except ImportError:
    HAVE_AIOQUIC = False

HERE = os.path.dirname(os.path.abspath(__file__))
TIMEOUT = 3.0  # generous: the lab runs beside other work on two cores (a loaded machine must not change a verdict)
NAME = "h3.test"


def _free_udp_and_tcp(host: str = "127.0.0.1") -> int:
    """A port number free for both TCP and UDP (HTTP/3 is served on the TCP port's number)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    while True:
        port = free_port(host)
        with socket.socket(family, socket.SOCK_DGRAM) as udp:
            try:
                udp.bind((host, port))
            except OSError:
                continue
        return port


def _vn_for(data: bytes, versions: list[int], wrong_cid: bool = False) -> bytes | None:
    """A Version Negotiation packet answering a long-header datagram (the server side of RFC 9000 6.1)."""
    if len(data) < 7 or not data[0] & 0x80:
        return None
    dlen = data[5]
    dcid = data[6:6 + dlen]
    slen = data[6 + dlen]
    scid = data[7 + dlen:7 + dlen + slen]
    if wrong_cid:
        scid = bytes(len(scid))
    return (b"\xc0\0\0\0\0" + bytes([len(scid)]) + scid + bytes([len(dcid)]) + dcid
            + b"".join(v.to_bytes(4, "big") for v in versions))


class UdpServer:
    """A UDP socket in a thread with a behaviour: drop, garbage, wrong_cid, drafts, slow (answers after `delay`),
    lossy (drops the first datagram, answers the next), grease_echo (its first answer lists the version the probe
    sent, as a greasing server does by chance once in 65536 times)."""

    def __init__(self, host: str, port: int, behaviour: str, delay: float = 0.0) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.behaviour, self.delay = behaviour, delay
        self.received: list[float] = []
        self._stop = False
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                data, addr = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            self.received.append(time.monotonic())
            answer = None
            if self.behaviour == "garbage":
                answer = b"\x17\x03\x03\x00\x10" + os.urandom(16)
            elif self.behaviour == "wrong_cid":
                answer = _vn_for(data, [1], wrong_cid=True)
            elif self.behaviour == "drafts":
                answer = _vn_for(data, [0xFF00001D, 0xFF00001B])
            elif self.behaviour == "slow":
                threading.Timer(self.delay, self._send, (_vn_for(data, [1]), addr)).start()
            elif self.behaviour == "lossy" and len(self.received) > 1:
                answer = _vn_for(data, [1, 0x6B3343CF])
            elif self.behaviour == "grease_echo":
                # the first answer lists the version the client sent (RFC 9000 6.2: the client discards it)
                sent = [int.from_bytes(data[1:5], "big")] if len(self.received) == 1 else []
                answer = _vn_for(data, [1] + sent)
            if answer:
                self._send(answer, addr)

    def _send(self, answer: bytes, addr) -> None:
        try:
            self.sock.sendto(answer, addr)
        except OSError:
            pass

    def close(self) -> None:
        self._stop = True
        self.sock.close()


@pytest.fixture(scope="module")
def h3_lab(lab):
    """One HTTPS listener per case on TCP, and on the same port number over UDP what the case needs."""
    leaf = pki.issue(NAME, issuer=lab.inter)
    other = pki.issue(NAME, issuer=lab.inter)  # the same name, another key and serial: another certificate
    crt = lab.write("h3.crt", leaf.pem + lab.inter.pem)
    key = lab.write("h3.key", leaf.key_pem)
    other_crt = lab.write("h3-other.crt", other.pem + lab.inter.pem)
    other_key = lab.write("h3-other.key", other.key_pem)
    udp_servers: list[UdpServer] = []
    lab.h3_cases = {}

    def case(label: str, udp: str | None, advertise: bool = True, host: str = "127.0.0.1", alt_port: int | None = None,
             **kw) -> None:
        port = _free_udp_and_tcp(host)
        headers = [("Alt-Svc", f'h3=":{alt_port or port}"; ma=86400')] if advertise else []
        lab.servers.append(serve_http(host, port, {"headers": headers}, (crt, key)))
        if udp == "quic":
            cert, k = (other_crt, other_key) if kw.get("other_cert") else (crt, key)
            args = [sys.executable, os.path.join(HERE, "quic_server.py"), host, str(port), cert, k]
            if kw.get("versions"):
                args.append(kw["versions"])
            proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
            lab.procs.append(proc)
        elif udp is not None:
            udp_servers.append(UdpServer(host, port, udp, kw.get("delay", 0.0)))
            lab.h3_cases[label + "_udp"] = udp_servers[-1]
        lab.endpoints[f"h3_{label}"] = {"host": host, "port": port, "server_name": NAME, "http_port": port}

    if HAVE_AIOQUIC:
        case("served", "quic")
        case("served_unadvertised", "quic", advertise=False)
        case("chain_differs", "quic", other_cert=True)
        case("quic_v2_only", "quic", versions="6b3343cf")
    case("dropped", "drop")
    case("dropped_unadvertised", "drop", advertise=False)
    case("nothing", None)
    case("nothing_unadvertised", None, advertise=False)
    case("garbage", "garbage")
    case("garbage_unadvertised", "garbage", advertise=False)
    case("wrong_cid", "wrong_cid")
    case("drafts", "drafts")
    case("slow", "slow", delay=TIMEOUT * 2.5)
    case("lossy", "lossy")
    case("lossy_ipv6", "lossy", host="::1")
    case("grease_echo", "grease_echo")
    if lab.netns:
        # On the host's end of the lab's veth pair (a local address that is not loopback): the doctor's cases, where a
        # listener on 127.0.0.1 would be diagnosed localhost_only first.
        case("doctor_dropped", "drop", host=BH_HOST)
        case("doctor_nothing", None, host=BH_HOST)
    yield lab
    for server in udp_servers:
        server.close()


# label -> (verdict, {code: severity}, udp state)
CASES = {
    "dropped": ("unreachable", {"h3_unreachable": "critical"}, "silent"),
    "dropped_unadvertised": ("not_served", {}, "silent"),
    "nothing": ("unreachable", {"h3_unreachable": "critical"}, "refused"),
    "nothing_unadvertised": ("not_served", {}, "refused"),
    "garbage": ("invalid", {"h3_invalid_response": "critical"}, "invalid"),
    "garbage_unadvertised": ("invalid", {"h3_invalid_response": "warning"}, "invalid"),
    "wrong_cid": ("invalid", {"h3_invalid_response": "critical"}, "invalid"),
    "drafts": ("old_versions", {"h3_versions": "warning"}, "answered"),
    "slow": ("unreachable", {"h3_unreachable": "critical"}, "silent"),
    "lossy": ("served", {}, "answered"),
    "lossy_ipv6": ("served", {}, "answered"),
    "grease_echo": ("served", {}, "answered"),
}
QUIC_CASES = {
    "served": ("served", {}, "answered"),
    "served_unadvertised": ("served", {}, "answered"),
    "chain_differs": ("served", {"h3_chain_differs": "warning"}, "answered"),
    "quic_v2_only": ("served", {}, "answered"),
}


def _probe_h3(lab, names, **options):
    opts = {"checks": ["tcp", "certificate", "http3"], "timeout": TIMEOUT}
    opts.update(options)
    return probe(lab, [f"h3_{n}" for n in names], **opts)


@pytest.fixture(scope="module")
def h3_results(h3_lab):
    """Every case probed once, concurrently (as a fleet run does)."""
    names = list(CASES) + (list(QUIC_CASES) if HAVE_AIOQUIC else [])
    start = time.monotonic()
    results = _probe_h3(h3_lab, names)
    results["_elapsed"] = time.monotonic() - start
    return results


@pytest.mark.parametrize("label", sorted(CASES) + sorted(QUIC_CASES))
def test_http3_case(h3_results, label):
    if label in QUIC_CASES and not HAVE_AIOQUIC:
        pytest.fail("aioquic (test-requirements.txt) is needed for the real QUIC server")
    verdict, expected, state = {**CASES, **QUIC_CASES}[label]
    res = h3_results[f"h3_{label}"]
    h3 = res["http3"]
    got = {r["code"]: r["severity"] for r in res["reasons"]}
    assert got == expected, (res["reasons"], h3)
    assert h3["verdict"] == verdict and h3["udp"]["state"] == state, h3
    assert h3["advertised"] is not label.endswith("_unadvertised")
    assert res["certificate"]["trusted"] is True
    for reason in res["reasons"]:
        assert reason["fix"] and f"UDP {res['port']}" in reason["message"]


def test_versions_listed(h3_results):
    assert [v["name"] for v in h3_results["h3_drafts"]["http3"]["udp"]["versions"]] == ["draft-29", "draft-27"]
    assert "draft-29 (0xff00001d), draft-27 (0xff00001b)" in h3_results["h3_drafts"]["reasons"][0]["message"]
    if HAVE_AIOQUIC:
        assert [v["name"] for v in h3_results["h3_served"]["http3"]["udp"]["versions"]] == ["v1", "v2"]
        assert [v["name"] for v in h3_results["h3_quic_v2_only"]["http3"]["udp"]["versions"]] == ["v2"]


def test_retransmission(h3_lab, h3_results):
    """The first datagram is lost: the second (a third of the timeout later) is answered."""
    udp = h3_results["h3_lossy"]["http3"]["udp"]
    assert udp["sent"] == 2
    # (what the server received after those two is aioquic's handshake, which this server does not answer)
    received = h3_lab.h3_cases["lossy_udp"].received
    assert received[1] - received[0] >= TIMEOUT / 3 - 0.05


def test_an_answer_listing_our_version_is_discarded(h3_results):
    """The next datagram is a new probe (another reserved version and new connection IDs): its answer counts."""
    assert h3_results["h3_grease_echo"]["http3"]["udp"]["sent"] == 2


def test_silence_is_waited_for_fully_and_retransmitted(h3_lab, h3_results):
    udp = h3_results["h3_dropped"]["http3"]["udp"]
    assert udp["sent"] == 3 and f"within {TIMEOUT:g}s" in udp["error"]
    assert len(h3_lab.h3_cases["dropped_udp"].received) == 3
    # the slow server answered every datagram, each later than the wait: its answers never count
    assert h3_results["h3_slow"]["http3"]["udp"]["sent"] == 3


def test_invalid_answers_are_described(h3_results):
    garbage = h3_results["h3_garbage"]["http3"]["udp"]
    assert "not a QUIC long header" in garbage["error"] and garbage["answer"].startswith("17030300")
    assert "do not echo" in h3_results["h3_wrong_cid"]["http3"]["udp"]["error"]


def test_all_cases_cost_about_one_timeout_each_at_most(h3_results):
    """The endpoints run concurrently: silent ones cost one timeout, not one each."""
    assert h3_results["_elapsed"] < 6 * TIMEOUT + 4, h3_results["_elapsed"]


def test_chain_compared(h3_results):
    if not HAVE_AIOQUIC:
        pytest.fail("aioquic (test-requirements.txt) is needed for the real QUIC server")
    served = h3_results["h3_served"]["http3"]
    assert served["chain_compared"] is True and served["chain_same"] is True, served
    assert served["handshake"]["done"] is True and served["handshake"]["alpn"] == "h3"
    assert served["handshake"]["leaf_sha256"] == h3_results["h3_served"]["certificate"]["fingerprint_sha256"].replace(":", "").lower()
    assert served["handshake"]["chain_length"] == 2
    differs = h3_results["h3_chain_differs"]
    assert differs["http3"]["chain_same"] is False and "the leaf differs" in differs["http3"]["chain_note"]
    assert h3_results["h3_quic_v2_only"]["http3"]["handshake"]["version"] == "v2"


def test_without_aioquic_the_chain_is_not_compared(h3_lab, tmp_path):
    """The probe in a Python where aioquic cannot be imported: the verdict still comes from the Version Negotiation
    exchange, and the result says that the chain comparison was not made, and why."""
    label = "h3_served" if HAVE_AIOQUIC else "h3_lossy"
    script = tmp_path / "probe_without_aioquic.py"
    script.write_text(
        "import json, sys\n"
        "sys.modules['aioquic'] = None  # import aioquic raises ImportError\n"
        "from ansible_collections.port443.https.plugins.module_utils.probe import _probe, _quic\n"
        "assert not _quic.HAS_AIOQUIC\n"
        f"params = {{'endpoints': [{json.dumps(h3_lab.endpoints[label])}], 'checks': ['tcp', 'http3'], 'timeout': {TIMEOUT},"
        f" 'ca_path': {json.dumps(h3_lab.ca_path)}}}\n"
        "print(json.dumps(_probe.probe(params)['endpoints'][0]))\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=False, timeout=60)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    h3 = res["http3"]
    assert h3["verdict"] == "served" and h3["chain_compared"] is False and h3["chain_same"] is None
    assert h3["chain_note"].startswith("not compared: the Python library aioquic is not installed")
    assert res["reasons"] == []


def test_http3_off_by_default(h3_lab):
    res = probe(h3_lab, ["h3_dropped"], checks=None)["h3_dropped"]
    assert res["http3"] is None and "h3_unreachable" not in [r["code"] for r in res["reasons"]]


def test_http3_alone_makes_one_https_request(h3_lab):
    """Without the http check the Alt-Svc header still comes from the one HTTPS request; the http section stays off."""
    res = _probe_h3(h3_lab, ["dropped"], checks=["tcp", "http3"])["h3_dropped"]
    assert res["http"] is None and res["http3"]["advertised"] is True
    assert [r["code"] for r in res["reasons"]] == ["h3_unreachable"]


def test_http3_with_http_check(h3_lab):
    res = _probe_h3(h3_lab, ["nothing"], checks=["tcp", "http", "http3"])["h3_nothing"]
    assert res["http"]["status"] == 200 and res["http3"]["verdict"] == "unreachable"


def test_exchange_against_an_independent_server_directly(h3_lab):
    """The exchange alone, against aioquic's server (an independent QUIC implementation)."""
    if not HAVE_AIOQUIC:
        pytest.fail("aioquic (test-requirements.txt) is needed for the real QUIC server")
    port = h3_lab.endpoints["h3_served"]["port"]
    got = _quic.exchange(socket.AF_INET, ("127.0.0.1", port), TIMEOUT)
    assert got["state"] == "answered" and got["sent"] == 1 and got["latency_ms"] < TIMEOUT * 1000


def test_reports_show_http3(h3_results, tmp_path):
    """Every report format shows the probe's HTTP/3 verdicts; the HTML page's own script draws the column (Chromium)."""
    import re
    import xml.etree.ElementTree as ET

    from ansible_collections.port443.https.plugins.module_utils.report import _report
    from test_report_html import _run_chromium

    names = ["h3_lossy", "h3_dropped", "h3_nothing_unadvertised", "h3_drafts", "h3_garbage"]
    report = _report.build([h3_results[n] for n in names], title="HTTP/3")
    md = _report.render_markdown(report)
    assert "| Status | Endpoint | HTTP/3 | Findings | Fix |" in md
    assert "HTTP/3: advertised, unreachable x1, drafts only (draft-29, draft-27) x1, invalid answer x1, not served x1, served (v1, v2) x1." in md
    prom = _report.render_prometheus(report)
    assert prom.count("https_http3_served{") == 5 and prom.count("https_http3_advertised{") == 5
    junit = ET.fromstring(_report.render_junit(report).split("\n", 1)[1])
    assert sum(1 for case in junit.iter("testcase") if case.get("name") == "http3") == 5
    page = tmp_path / "report.html"
    page.write_text(_report.render_html(report))
    dom = _run_chromium(["--dump-dom", page.as_uri() + "#sort=h3"], tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = re.search(r"<body[^>]*>", dom.stdout).group(0)
    assert 'data-render-state="done"' in body and "data-js-errors" not in body
    cells = [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r'<td class="h3 [^"]*"[^>]*>(.*?)</td>', dom.stdout)]
    assert cells == sorted(cells, key=str.lower) and len(cells) == 5, cells
    assert set(cells) == {"served (v1, v2)", "advertised, unreachable", "not served", "drafts only (draft-29, draft-27)", "invalid answer"}
    assert len(re.findall(r'<td class="h3 h3-bad"', dom.stdout)) == 3


def test_module_and_doctor(h3_lab, h3_results, tmp_path):
    """The real modules through ansible-playbook: https_endpoint_info with the http3 check, then https_doctor_info on
    this host with that result as its outside view (ss -lunp sees the lab's UDP sockets, or their absence)."""
    from test_module import run_playbook

    if not h3_lab.netns:
        pytest.fail("the doctor's cases need the lab's veth pair (root, ip, iptables)")
    eps = [h3_lab.endpoints[n] for n in ("h3_doctor_dropped", "h3_doctor_nothing")]
    eps += [h3_lab.endpoints["h3_served"]] if HAVE_AIOQUIC else []
    tasks = [{"name": "audit", "port443.https.https_endpoint_info": {
        "endpoints": eps, "ca_path": h3_lab.ca_path, "timeout": TIMEOUT, "checks": ["tcp", "http3"], "fail_on": "critical"},
        "ignore_errors": True}]
    audit, = run_playbook(tmp_path, tasks)
    assert audit["failed"] is True and "2 of" in audit["msg"] and "h3_unreachable" in audit["msg"]
    dropped, nothing = audit["endpoints"][:2]
    assert dropped["http3"]["udp"]["state"] == "silent" and nothing["http3"]["udp"]["state"] == "refused"
    if HAVE_AIOQUIC:
        assert audit["endpoints"][2]["http3"]["chain_same"] is True and audit["endpoints"][2]["status"] == "ok"
    tasks = [{"name": f"doctor {ep['port']}", "port443.https.https_doctor_info": {"port": ep["port"], "outside": ep}}
             for ep in (dropped, nothing)]
    doc_dropped, doc_nothing = run_playbook(tmp_path, tasks)
    for doc, ep, listening in ((doc_dropped, dropped, True), (doc_nothing, nothing, False)):
        port = str(ep["port"])
        assert doc["listen_udp"][port]["listening"] is listening, doc["listen_udp"]
        assert "allows_udp" in doc["firewall"] or doc["firewall"]["backend"] is None
        diag = doc["diagnosis"]
        if doc["firewall"].get("allows_udp") is False:
            assert diag["code"] == "udp_filtered" and diag["cause"] == f"the firewall drops {port}/udp"
        else:
            assert diag["code"] == ("h3_unreachable" if listening else "udp_not_listening"), diag
        assert any(line.startswith(f"inside: {port}/udp listening={listening}") for line in diag["evidence"]), diag["evidence"]
        assert "/usr/bin/ss -H -lunp" in doc["commands"] or any(c.endswith("ss -H -lunp") for c in doc["commands"])
