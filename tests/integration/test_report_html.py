# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""End to end: port443.https.verify_https (FQCN) audits real local endpoints under --check, writes the report
files, fails the play on critical findings; the HTML report is then opened in headless Chromium, which must
render every endpoint row with the page's own JavaScript, without console errors. The screenshot is kept
in tests/output/."""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import http.server
import xml.etree.ElementTree as ET

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

OUTPUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "output")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--enable-logging=stderr", "--v=0"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"127.0.0.1:{port} did not start")


def _pki(directory: str) -> tuple[str, str, str, str]:
    """A private root CA, a leaf for localhost/127.0.0.1 and a leaf for another name."""
    now = datetime.datetime.now(datetime.timezone.utc)
    day = datetime.timedelta(days=1)

    def make(cn, days, issuer=None, ca=False, sans=()):
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer[0].subject if issuer else subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   # Half a day past the whole days: days_left is the same number for hours on either side (a
                   # certificate valid exactly N days from now turns from N to N - 1 left within seconds, and the
                   # second run's report would differ from the first's by that).
                   .not_valid_before(now - day).not_valid_after(now + days * day + day / 2)
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if sans:
            import ipaddress
            names = [x509.IPAddress(ipaddress.ip_address(s)) if s[0].isdigit() else x509.DNSName(s) for s in sans]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return builder.sign(issuer[1] if issuer else key, hashes.SHA256()), key

    root = make("Report Test Root", 3650, ca=True)
    good = make("localhost", 200, root, sans=("localhost", "127.0.0.1"))
    wrong = make("wrong.example", 20, root, sans=("wrong.example",))
    paths = []
    for label, (cert, key) in (("good", good), ("wrong", wrong)):
        cpath, kpath = os.path.join(directory, f"{label}.pem"), os.path.join(directory, f"{label}.key")
        with open(cpath, "wb") as handle:
            handle.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(kpath, "wb") as handle:
            handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        paths += [cpath, kpath]
    ca = os.path.join(directory, "ca.pem")
    with open(ca, "wb") as handle:
        handle.write(root[0].public_bytes(serialization.Encoding.PEM))
    return ca, paths[0], paths[1], paths[2] + "|" + paths[3]


class _Plain(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"hi\n")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def endpoints(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("openssl CLI required")
    directory = str(tmp_path_factory.mktemp("report-pki"))
    ca, good_cert, good_key, wrong = _pki(directory)
    wrong_cert, wrong_key = wrong.split("|")
    procs = []
    ports = {}
    for label, cert, key in (("good", good_cert, good_key), ("wrong", wrong_cert, wrong_key)):
        port = _free_port()
        procs.append(subprocess.Popen(["openssl", "s_server", "-quiet", "-www", "-accept", f"127.0.0.1:{port}", "-cert", cert, "-key", key],
                                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        ports[label] = port
    plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Plain)
    threading.Thread(target=plain.serve_forever, daemon=True).start()
    ports["plain"] = plain.server_address[1]
    ports["closed"] = _free_port()
    for label in ("good", "wrong"):
        _wait(ports[label])
    eps = [
        {"host": "localhost", "port": ports["good"], "address": "127.0.0.1"},
        {"host": "127.0.0.1", "port": ports["wrong"], "server_name": "api.example"},
        {"host": "127.0.0.1", "port": ports["plain"]},
        {"host": "127.0.0.1", "port": ports["closed"]},
        {"host": "127.0.0.1", "port": ports["closed"], "server_name": "x.example"},
    ]
    yield {"ca": ca, "endpoints": eps}
    for proc in procs:
        proc.terminate()
        proc.wait(5)
    plain.shutdown()


def _playbook(tmp_path, endpoints, *extra):
    env = dict(os.environ)
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", os.path.abspath(os.path.join(os.path.dirname(__file__), "../../../../..")))
    env["ANSIBLE_NOCOLOR"] = "1"
    env["ANSIBLE_PYTHON_INTERPRETER"] = sys.executable
    varsfile = tmp_path / "vars.json"
    varsfile.write_text(json.dumps({"verify_https_inventory": False, "verify_https_endpoints": endpoints["endpoints"],
                                    "verify_https_ca_path": endpoints["ca"], "verify_https_report_dir": str(tmp_path / "report"),
                                    "verify_https_checks": ["tcp", "tls_versions", "certificate"], "verify_https_timeout": 5,
                                    "verify_https_report_title": "Integration <fleet> & friends"}))
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
           "port443.https.verify_https", "-e", f"@{varsfile}", *extra]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def report_dir(endpoints, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("verify")
    first = _playbook(tmp_path, endpoints, "--check")
    # Critical findings fail the play (exit code 2), and the report is written even under --check.
    assert first.returncode == 2, first.stdout + first.stderr
    assert "endpoint(s) at or above critical" in first.stdout
    assert "changed=1" in first.stdout
    # --diff: where the second run finds a finding the first did not (openssl s_server answers one connection at a
    # time; a timeout on a busy machine is a finding of its own), the failure shows which.
    second = _playbook(tmp_path, endpoints, "-e", "verify_https_fail_on=never", "--diff")
    assert second.returncode == 0, second.stdout + second.stderr
    assert re.search(r"localhost\s+: ok=\d+\s+changed=0", second.stdout), second.stdout  # same report: unchanged
    assert "**CRITICAL** - 5 endpoint(s): 4 critical, 0 warning, 1 ok." in second.stdout
    return tmp_path / "report"


def test_report_files(report_dir):
    assert sorted(os.listdir(report_dir)) == ["https_report.prom", "junit.xml", "report.html", "report.json", "report.md"]
    data = json.loads((report_dir / "report.json").read_text())
    statuses = [e["status"] for e in data["endpoints"]]
    assert statuses == ["ok", "critical", "critical", "critical", "critical"]
    codes = [[r["code"] for r in e["reasons"]] for e in data["endpoints"]]
    assert "hostname_mismatch" in codes[1] and codes[2] == ["not_tls"] and codes[3] == ["closed"]
    junit = ET.parse(report_dir / "junit.xml").getroot()
    assert junit.get("failures") == "4"
    prom = (report_dir / "https_report.prom").read_text()
    assert re.search(r'https_endpoint_up\{host="localhost",port="\d+",server_name="localhost"\} 1', prom)
    assert re.search(r'https_cert_days_left\{host="localhost",port="\d+",server_name="localhost"\} 200$', prom, re.M)


def _chromium():
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
                       env=env, check=False, capture_output=True, timeout=900)
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        # Not a skip: a page nobody looked at has not passed (scripts/test installs chromium with apt_need).
        pytest.fail("Debian's chromium is not installed and could not be installed (apt-get install chromium)")
    return found


def _run_chromium(args, tmp_path):
    cmd = [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def test_html_in_chromium(report_dir, tmp_path):
    url = (report_dir / "report.html").as_uri()
    data = json.loads((report_dir / "report.json").read_text())
    dom = _run_chromium(["--dump-dom", url + "#sort=days"], tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert ":CONSOLE" not in dom.stderr, [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    body = re.search(r"<body[^>]*>", dom.stdout).group(0)
    assert 'data-render-state="done"' in body and "data-js-errors" not in body
    assert f'data-rendered-rows="{len(data["endpoints"])}"' in body
    rows = re.findall(r'<tr class="endpoint-row"[^>]*>(.*?)</tr>', dom.stdout, re.S)
    assert len(rows) == len(data["endpoints"]) == 5
    for ep in data["endpoints"]:
        ident = f"{ep['host']}:{ep['port']}" + (f" ({ep['server_name']})" if ep["server_name"] != ep["host"] else "")
        assert sum(f"<td>{ident}</td>" in row for row in rows) == 1, ident
    # #sort=days sorted the table by the time left, ascending (endpoints without a certificate last).
    left = [int(n) * (24 if unit == "d" else 1) for n, unit in re.findall(r'<td class="left[^"]*"[^>]*>(-?\d+) ([dh])</td>', "".join(rows))]
    assert left == sorted(left) and len(left) == 2
    assert 'aria-sort="ascending"' in dom.stdout
    # Reasons and fixes are in the rows; the TLS matrix and the expiry chart are rendered.
    assert "hostname_mismatch" in dom.stdout and "Fix: " in dom.stdout
    assert '<details class="reason" data-code="hostname_mismatch">' in dom.stdout
    assert len(re.findall(r'<tr class="tls-row"', dom.stdout)) == 5
    assert 'id="expiry-chart"' in dom.stdout
    os.makedirs(OUTPUT, exist_ok=True)
    shot = os.path.join(OUTPUT, "report-screenshot.png")
    if os.path.exists(shot):
        os.unlink(shot)
    snap = _run_chromium(["--window-size=1400,1400", f"--screenshot={shot}", url], tmp_path)
    assert snap.returncode == 0, snap.stderr[-2000:]
    assert ":CONSOLE" not in snap.stderr
    with open(shot, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.path.getsize(shot) > 20000
    shutil.copy(report_dir / "report.html", os.path.join(OUTPUT, "report.html"))
    # scripts/test re-syncs the collection copy (and its tests/output) per stage: keep a copy in the work dir too.
    if os.environ.get("PORT443_WORK"):
        keep = os.path.join(os.environ["PORT443_WORK"], "test-output")
        os.makedirs(keep, exist_ok=True)
        for name in ("report-screenshot.png", "report.html"):
            shutil.copy(os.path.join(OUTPUT, name), os.path.join(keep, name))


def test_vantage_matrix_in_chromium(tmp_path):
    """A report merged from two vantage points renders its endpoint x vantage matrix, without console errors; an
    endpoint whose vantages disagree without a comparison finding is counted as seen differently and says in what."""
    from ansible_collections.port443.https.plugins.module_utils.report import _report
    from ansible_collections.port443.https.tests.unit.plugins.module_utils.report_samples import two_vantages

    page = tmp_path / "report.html"
    page.write_text(_report.render_html(_report.build(two_vantages(), title="Two views")))
    dom = _run_chromium(["--dump-dom", page.as_uri()], tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert ":CONSOLE" not in dom.stderr
    body = re.search(r"<body[^>]*>", dom.stdout).group(0)
    assert 'data-render-state="done"' in body and "data-js-errors" not in body
    assert re.search(r'<section id="vantage-matrix">', dom.stdout)  # no longer hidden
    assert "2 vantage point(s); 2 endpoint(s) seen differently" in dom.stdout
    rows = re.findall(r'<tr class="vantage-row"[^>]*>(.*?)</tr>', dom.stdout, re.S)
    assert len(rows) == 3
    assert "<td>a.test:443</td>" in rows[0] and "<code>vantage_filtered</code>" in rows[0]
    assert 'data-vantage="controller"' in rows[0] and "filtered" in rows[0] and "TLS 1.3" in rows[0]
    assert "<td>b.test:443</td>" in rows[1] and "differs: status, reasons" in rows[1]
    assert "<td>c.test:443</td>" in rows[2] and rows[2].endswith("<td>\u2014</td>")


# ---- how the page reads: row heights, axis labels, width, in a real browser ----------------------------

# Run in the page after its own script: what a person would see, measured, written into the DOM for --dump-dom.
MEASURE = """<script>
(function () {
  var body = document.body;
  function rect(node) { return node.getBoundingClientRect(); }
  var rows = Array.prototype.slice.call(document.querySelectorAll("#endpoint-table tr.endpoint-row"));
  body.setAttribute("data-max-row-height", String(Math.round(Math.max.apply(null, rows.map(function (r) { return rect(r).height; })))));
  var ticks = Array.prototype.slice.call(document.querySelectorAll("#expiry-chart text.tick"))
    .filter(function (t) { return t.textContent !== "today"; }).map(rect);
  var overlaps = 0;
  for (var i = 1; i < ticks.length; i++) { if (ticks[i].left < ticks[i - 1].right + 4) { overlaps += 1; } }
  body.setAttribute("data-ticks", String(ticks.length));
  body.setAttribute("data-tick-overlaps", String(overlaps));
  var values = Array.prototype.slice.call(document.querySelectorAll("#expiry-chart text.value")).map(function (t) { return t.textContent; });
  body.setAttribute("data-bar-values", values.join("|"));
  var table = rect(document.getElementById("endpoint-table")), section = rect(document.getElementById("endpoints"));
  body.setAttribute("data-table-overflow", String(Math.max(0, Math.round(table.right - section.right))));
  var first = document.querySelector("#endpoint-table details.reason");
  if (first) {
    var closed = rect(first).height;
    first.open = true;
    // Opened, the finding shows its whole message and the fix below it: at least one more line.
    body.setAttribute("data-finding-opens", String(rect(first).height >= closed + 16));
    body.setAttribute("data-finding-line-height", String(Math.round(closed)));
    first.open = false;
  }
}());
</script>"""

WINDOW = (1400, 2000)


def _shots_dir():
    """Where the screenshots are kept: the work directory when scripts/test runs (it survives the next stage's
    re-sync of the collection copy), else tests/output."""
    base = os.environ.get("PORT443_WORK")
    return os.path.join(base, "screenshots") if base else os.path.join(OUTPUT, "screenshots")


def _png_size(path):
    with open(path, "rb") as handle:
        head = handle.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def _measured(page, tmp_path):
    """The page's body attributes after the page's script and MEASURE ran in Chromium at WINDOW."""
    html = page.read_text()
    probe = tmp_path / ("measured-" + page.name)
    probe.write_text(html.replace("</body>", MEASURE + "\n</body>"))
    dom = _run_chromium([f"--window-size={WINDOW[0]},{WINDOW[1]}", "--dump-dom", probe.as_uri()], tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert ":CONSOLE" not in dom.stderr, [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    body = re.search(r"<body[^>]*>", dom.stdout).group(0)
    return dict(re.findall(r'(data-[a-z-]+)="([^"]*)"', body)), dom.stdout


def _screenshot(page, name, tmp_path, height=WINDOW[1]):
    os.makedirs(_shots_dir(), exist_ok=True)
    shot = os.path.join(_shots_dir(), name)
    if os.path.exists(shot):
        os.unlink(shot)
    snap = _run_chromium([f"--window-size={WINDOW[0]},{height}", "--hide-scrollbars", f"--screenshot={shot}", page.as_uri()], tmp_path)
    assert snap.returncode == 0, snap.stderr[-2000:]
    assert ":CONSOLE" not in snap.stderr
    assert _png_size(shot) == (WINDOW[0], height)
    assert os.path.getsize(shot) > 50000, "an almost empty screenshot"
    return shot


def _fleet_page(tmp_path, name, results, title, **thresholds):
    from ansible_collections.port443.https.plugins.module_utils.report import _report

    page = tmp_path / f"{name}.html"
    page.write_text(_report.render_html(_report.build(results, title=title, thresholds=thresholds or None)))
    return page


def test_short_lived_certificates_read_well(tmp_path):
    """Six-day certificates (hours to six days left): the axis labels stand apart, under two days the bars say hours,
    each row is one line per finding, and the table fits the page."""
    from ansible_collections.port443.https.tests.unit.plugins.module_utils.report_samples import short_lived_fleet

    page = _fleet_page(tmp_path, "short-lived", short_lived_fleet(), "Short-lived certificates", warning_days=2, critical_days=1)
    found, dom = _measured(page, tmp_path)
    assert found["data-render-state"] == "done" and "data-js-errors" not in found
    assert int(found["data-ticks"]) >= 4 and found["data-tick-overlaps"] == "0", found
    values = found["data-bar-values"].split("|")
    assert values[:5] == ["3 h", "11 h", "20 h", "30 h", "41 h"] and values[5] == "2 d", values
    assert int(found["data-max-row-height"]) <= 40, found  # one finding: one line
    assert int(found["data-table-overflow"]) == 0, found
    assert found["data-finding-opens"] == "true" and int(found["data-finding-line-height"]) <= 24, found
    assert re.findall(r'<td class="left nowrap soon"[^>]*>(\d+ h)</td>', dom)[:2] == ["3 h", "11 h"]
    _screenshot(page, "report-short-lived.png", tmp_path, height=1900)
    # With the default thresholds (30/7 days) the same fleet once got a one-day step: 41 labels, 30 of them overlapping.
    default = _fleet_page(tmp_path, "short-lived-default", short_lived_fleet(), "Short-lived certificates")
    found, dummy = _measured(default, tmp_path)
    assert found["data-tick-overlaps"] == "0" and 4 <= int(found["data-ticks"]) <= 10, found


def test_a_fleet_of_200_hosts_reads_well(tmp_path):
    """200 hosts with up to four findings each: rows stay short (a line per finding), nothing runs out of the page."""
    from ansible_collections.port443.https.tests.unit.plugins.module_utils.report_samples import large_fleet

    page = _fleet_page(tmp_path, "fleet-200", large_fleet(200), "A fleet of 200 hosts")
    found, dom = _measured(page, tmp_path)
    assert found["data-render-state"] == "done" and found["data-rendered-rows"] == "200"
    assert len(re.findall(r'<tr class="endpoint-row"', dom)) == 200
    assert int(found["data-max-row-height"]) <= 4 * 24 + 16, found  # four findings: four lines and the padding
    assert found["data-tick-overlaps"] == "0" and int(found["data-ticks"]) >= 3, found
    assert int(found["data-table-overflow"]) == 0, found
    assert found["data-finding-opens"] == "true", found
    assert "Showing the 40 certificates that expire first (140 more in the table)." in dom
    _screenshot(page, "report-fleet-200.png", tmp_path)
