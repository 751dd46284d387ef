# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""A lab of real local endpoints: openssl s_server processes with generated certificates, in-process
HTTP(S) servers, a tarpit, a closed port, a blackholed address in a network namespace, a CRL server and an
`openssl ocsp` responder. Everything binds to loopback (or a veth pair into a private namespace)."""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import typing as t

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import pki  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.port443.https.plugins.module_utils.probe import _probe  # noqa: E402


def pytest_configure(config):
    """The lab needs these tools: without them the run stops with one error instead of skipping (a skipped
    integration test passes nothing). A pytestmark here would do nothing: pytest reads it from test modules only."""
    missing = [tool for tool in ("openssl", "ansible-playbook") if not shutil.which(tool)]
    if not os.environ.get("ANSIBLE_COLLECTIONS_PATH"):
        missing.append("ANSIBLE_COLLECTIONS_PATH (pointing at a copy of this collection)")
    if missing:
        raise pytest.UsageError(f"the integration tests need {', '.join(missing)} (bash scripts/test integration sets them up)")


NS = f"p443bh{os.getpid() % 10000}"
BH_HOST, BH_NS = "10.243.99.1", "10.243.99.2"


_PORTS_GIVEN: set[int] = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A free port, never the same one twice in a test session. The lab starts its servers first and waits for them
    afterwards: a port given to a server that has not bound it yet (a slow start, under load) is still free, the
    kernel hands it out again (in about 1 of 11 runs of 50 calls), and two servers race for it; the loser exits
    and its label is answered by the winner (a TLS 1.2-only server probed as the TLS 1.3-only one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    while True:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if port not in _PORTS_GIVEN:
            _PORTS_GIVEN.add(port)
            return port


def wait_listening(host: str, port: int, timeout: float = 10) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.settimeout(0.5)
                s.connect((host, port))
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{host}:{port} did not start listening")


class _Handler(http.server.BaseHTTPRequestHandler):
    behaviour: dict = {}

    def do_GET(self):  # noqa: N802
        cfg = self.server.behaviour  # type: ignore[attr-defined]
        if cfg.get("redirect"):
            host = self.headers.get("Host", "").split(":")[0]
            port = "" if cfg["redirect"] is True else f":{cfg['redirect']}"
            self.send_response(301)
            self.send_header("Location", f"https://{host}{port}{self.path}")
            self.end_headers()
            return
        if cfg.get("silent"):  # read the request, close without an answer
            self.close_connection = True
            return
        body = cfg.get("body", b"hello\n")
        if cfg.get("path") and self.path.split("?")[0] in cfg["path"]:
            body = cfg["path"][self.path.split("?")[0]]
        # status: the answer's status (an int, or {path: status} with "*" for every other path); location: a Location header.
        status = cfg.get("status", 200)
        if isinstance(status, dict):
            status = status.get(self.path.split("?")[0], status.get("*", 200))
        self.send_response(status)
        if cfg.get("location"):
            self.send_header("Location", cfg["location"])
        if cfg.get("hsts"):
            self.send_header("Strict-Transport-Security", cfg["hsts"])
        for name, value in cfg.get("headers", ()):  # extra headers: (name, value) pairs, a name may repeat
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, *args):  # silence
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Server6(_Server):
    address_family = socket.AF_INET6


def serve_http(host: str, port: int, behaviour: dict, tls: tuple[str, str] | None = None) -> _Server:
    server = (_Server6 if ":" in host else _Server)((host, port), _Handler)
    server.behaviour = behaviour  # type: ignore[attr-defined]
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*tls)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def local_curves(groups: t.Iterable[str]) -> str:
    """An ssl_ecdh_curve value for the local OpenSSL from a profile's groups: OpenSSL 3.0 has no X25519MLKEM768."""
    return ":".join(g for g in groups if g != "X25519MLKEM768")


def start_nginx(tmp: str, label: str, servers: list[dict], workers: int = 1, host: str = "127.0.0.1",
                port: int | None = None, blocks: t.Sequence[str] = ()) -> tuple[subprocess.Popen, int]:
    """nginx serving HTTPS on one port of `host` (a free one unless `port` is given) with one server block per entry of
    `servers` (the first is the default server): names (server_name, or none), cert and key (paths), and where given
    protocols, ciphers, curves (else nginx's defaults), prefer_server (ssl_prefer_server_ciphers) and extra (more
    directives, as written). `blocks`: more server blocks of the http section, as written (a plain HTTP listener).
    The process and the port; the caller waits for it to listen."""
    port = port or free_port(host)
    root = os.path.join(tmp, label)
    os.makedirs(root, exist_ok=True)
    blocks = list(blocks)
    for index, srv in enumerate(servers):
        names = " ".join(srv.get("names") or ())
        tls = "".join(f"\n    {directive} {srv[key]};" for directive, key in
                      (("ssl_protocols", "protocols"), ("ssl_ciphers", "ciphers"), ("ssl_ecdh_curve", "curves")) if key in srv)
        blocks.append(f"""
  server {{
    listen {host}:{port} ssl{" default_server" if index == 0 else ""};
    {f"server_name {names};" if names else ""}
    ssl_certificate {srv["cert"]};
    ssl_certificate_key {srv["key"]};{tls}
    ssl_prefer_server_ciphers {"on" if srv.get("prefer_server") else "off"};
    {srv.get("extra", "")}
    location / {{ return 200 "ok\\n"; }}
  }}""")
    conf = os.path.join(root, "nginx.conf")
    with open(conf, "w", encoding="utf-8") as f:
        f.write(f"""
worker_processes {workers};
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  server_names_hash_bucket_size 128;{"".join(blocks)}
}}
""")
    proc = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-c", conf, "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, port


class Lab:
    def __init__(self, tmp: str) -> None:
        self.tmp = tmp
        self.procs: list[subprocess.Popen] = []
        self.servers: list[_Server] = []
        self.socks: list[socket.socket] = []
        self.endpoints: dict[str, dict] = {}
        self.netns = False

    def write(self, fname: str, data: bytes) -> str:
        path = os.path.join(self.tmp, fname)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def s_server(self, label: str, leaf: pki.Issued, chain: list[pki.Issued] = (), extra: list[str] = (),
                 host: str = "127.0.0.1", server_name: str | None = None, **ep) -> None:
        port = free_port(host)
        cert = self.write(f"{label}.crt", leaf.pem)
        key = self.write(f"{label}.key", leaf.key_pem)
        cmd = ["openssl", "s_server", "-accept", f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
               "-cert", cert, "-key", key, "-www", "-quiet"]
        if chain:
            cmd += ["-cert_chain", self.write(f"{label}-chain.crt", b"".join(c.pem for c in chain))]
        cmd += list(extra)
        self.procs.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        self.endpoints[label] = {"host": host, "port": port, "server_name": server_name or f"{label}.test", "_wait": (host, port), **ep}

    def close(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
        for server in self.servers:
            server.shutdown()
            server.server_close()
        for sock in self.socks:
            sock.close()
        if self.netns:
            subprocess.run(["ip", "netns", "del", NS], check=False, capture_output=True)
            subprocess.run(["ip", "link", "del", f"{NS}a"], check=False, capture_output=True)


def _blackhole() -> bool:
    """A veth pair into a private network namespace whose INPUT chain drops TCP: SYNs vanish."""
    cmds = [
        ["ip", "netns", "add", NS],
        ["ip", "link", "add", f"{NS}a", "type", "veth", "peer", "name", f"{NS}b"],
        ["ip", "link", "set", f"{NS}b", "netns", NS],
        ["ip", "addr", "add", f"{BH_HOST}/30", "dev", f"{NS}a"],
        ["ip", "link", "set", f"{NS}a", "up"],
        ["ip", "netns", "exec", NS, "ip", "addr", "add", f"{BH_NS}/30", "dev", f"{NS}b"],
        ["ip", "netns", "exec", NS, "ip", "link", "set", f"{NS}b", "up"],
        ["ip", "netns", "exec", NS, "iptables", "-A", "INPUT", "-p", "tcp", "-j", "DROP"],
    ]
    for cmd in cmds:
        if shutil.which(cmd[0]) is None or subprocess.run(cmd, capture_output=True, check=False).returncode != 0:
            return False
    return True


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp("lab"))
    lab = Lab(tmp)
    N, D = pki.NOW, pki.DAY
    root = pki.issue("port443 Test Root", key=pki.rsa_key(fresh=True), ca=True, not_after=N + 3650 * D)
    inter = pki.issue("port443 Test Intermediate", key=pki.rsa_key(fresh=True), issuer=root, ca=True, not_after=N + 1825 * D)
    old_inter = pki.issue("port443 Expired Intermediate", issuer=root, ca=True, not_before=N - 400 * D, not_after=N - 2 * D)
    root2 = pki.issue("Unknown Root", key=pki.rsa_key(fresh=True), ca=True)
    inter2 = pki.issue("Unknown Intermediate", issuer=root2, ca=True)
    lab.ca_path = lab.write("ca.pem", root.pem)
    lab.root, lab.inter = root, inter

    # Revocation sources: a CRL over HTTP and an `openssl ocsp` responder.
    crl_port, ocsp_port = free_port(), free_port()
    crl_url = f"http://127.0.0.1:{crl_port}/inter.crl"
    dead_crl = f"http://127.0.0.1:{free_port()}/inter.crl"
    ocsp_url = f"http://127.0.0.1:{ocsp_port}"
    rev_crl = pki.issue("revoked-crl.test", issuer=inter, crl_url=crl_url)
    good_crl = pki.issue("good-crl.test", issuer=inter, crl_url=crl_url)
    rev_ocsp = pki.issue("revoked-ocsp.test", issuer=inter, ocsp_url=ocsp_url)
    good_ocsp = pki.issue("good-ocsp.test", issuer=inter, ocsp_url=ocsp_url)
    unknown_rev = pki.issue("unknown-rev.test", issuer=inter, crl_url=dead_crl)
    lab.servers.append(serve_http("127.0.0.1", crl_port, {"path": {"/inter.crl": pki.crl(inter, [rev_crl.cert.serial_number])}}))
    index = lab.write("ocsp-index.txt", (pki.ocsp_index_line(rev_ocsp.cert, True) + pki.ocsp_index_line(good_ocsp.cert, False)).encode())
    lab.write("ocsp-index.txt.attr", b"unique_subject = no\n")
    inter_crt, inter_key = lab.write("inter.crt", inter.pem), lab.write("inter.key", inter.key_pem)
    lab.procs.append(subprocess.Popen(["openssl", "ocsp", "-index", index, "-port", str(ocsp_port), "-rsigner", inter_crt,
                                       "-rkey", inter_key, "-CA", inter_crt, "-nmin", "60"],
                                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    # Not wait_listening(): `openssl ocsp` hangs forever on a connection that closes without a request.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        out = subprocess.run(["ss", "-Hltn", f"sport = :{ocsp_port}"], capture_output=True, text=True, check=False).stdout
        if out.strip():
            break
        time.sleep(0.05)

    legacy = ["-cipher", "DEFAULT@SECLEVEL=0"]
    lab.s_server("good", pki.issue("good.test", issuer=inter), [inter])
    lab.s_server("expired", pki.issue("expired.test", issuer=inter, not_before=N - 90 * D, not_after=N - D), [inter])
    lab.s_server("notyet", pki.issue("notyet.test", issuer=inter, not_before=N + 2 * D, not_after=N + 90 * D), [inter])
    lab.s_server("expiring_warn", pki.issue("expiring_warn.test", issuer=inter, not_after=N + 20 * D + 3600 * 1e-3 * D), [inter])
    lab.s_server("expiring_crit", pki.issue("expiring_crit.test", issuer=inter, not_after=N + 3 * D), [inter])
    lab.s_server("wronghost", pki.issue("other.test", issuer=inter), [inter], server_name="wronghost.test")
    lab.s_server("selfsigned", pki.issue("selfsigned.test"), [])
    lab.s_server("untrusted", pki.issue("untrusted.test", issuer=inter2), [inter2, root2])
    lab.s_server("missing_inter", pki.issue("missing_inter.test", issuer=inter), [])
    lab.s_server("expired_inter", pki.issue("expired_inter.test", issuer=old_inter, not_before=N - 100 * D, not_after=N + 100 * D),
                 [old_inter])
    lab.s_server("rsa1024", pki.issue("rsa1024.test", key=pki.rsa_key(1024), issuer=inter), [inter], legacy)
    lab.s_server("sha1", pki.sha1_leaf(tmp, "sha1.test", inter), [inter], legacy)
    lab.s_server("ecdsa", pki.issue("ecdsa.test", key=pki.ec_key(), issuer=inter), [inter])
    lab.s_server("cnonly", pki.issue("cnonly.test", issuer=inter, no_san=True), [inter])
    wild = pki.issue("wildcard", sans=["*.wild.test"], issuer=inter)
    lab.s_server("wildcard", wild, [inter], server_name="www.wild.test")
    lab.s_server("wildcard_deep", wild, [inter], server_name="a.b.wild.test")
    lab.s_server("ipv6", pki.issue("ipv6", sans=["::1"], issuer=inter), [inter], host="::1", server_name="::1")
    lab.s_server("ip_san", pki.issue("ip_san", sans=["127.0.0.1"], issuer=inter), [inter], server_name="127.0.0.1")
    lab.s_server("revoked_crl", rev_crl, [inter], server_name="revoked-crl.test")
    lab.s_server("good_crl", good_crl, [inter], server_name="good-crl.test")
    lab.s_server("revoked_ocsp", rev_ocsp, [inter], server_name="revoked-ocsp.test")
    lab.s_server("good_ocsp", good_ocsp, [inter], server_name="good-ocsp.test")
    lab.s_server("unknown_rev", unknown_rev, [inter], server_name="unknown-rev.test")
    for label, revoked in (("stapled_good", False), ("stapled_revoked", True)):
        leaf = pki.issue(f"{label}.test", issuer=inter)
        status = lab.write(f"{label}.ocsp.der", pki.ocsp_response(leaf.cert, inter, revoked))
        lab.s_server(label, leaf, [inter], ["-status_file", status])
    modern = pki.issue("modern.test", issuer=inter)
    lab.s_server("tls10_only", modern, [inter], ["-tls1"] + legacy, server_name="modern.test")
    lab.s_server("tls11_only", modern, [inter], ["-tls1_1"] + legacy, server_name="modern.test")
    lab.s_server("tls12_only", modern, [inter], ["-tls1_2"], server_name="modern.test")
    lab.s_server("tls13_only", modern, [inter], ["-tls1_3"], server_name="modern.test")
    lab.s_server("all_versions", modern, [inter], ["-min_protocol", "TLSv1"] + legacy, server_name="modern.test")
    lab.s_server("alpn_h2", modern, [inter], ["-alpn", "h2,http/1.1"], server_name="modern.test")
    lab.s_server("client_cert_required", modern, [inter], ["-tls1_2", "-Verify", "1"], server_name="modern.test")
    # Only a PSK suite, which a client without a pre-shared key never offers: the handshake fails with a bare alert.
    lab.s_server("no_shared_cipher", modern, [inter], ["-tls1_2", "-cipher", "PSK-AES128-CBC-SHA"], server_name="modern.test")

    # Plain HTTP on a TLS port, a tarpit (listens, never accepts, never answers), a closed port.
    port = free_port()
    lab.servers.append(serve_http("127.0.0.1", port, {}))
    lab.endpoints["plain_http"] = {"host": "127.0.0.1", "port": port, "server_name": "plain.test"}
    tarpit = socket.socket()
    tarpit.bind(("127.0.0.1", 0))
    tarpit.listen(64)
    lab.socks.append(tarpit)
    lab.endpoints["tarpit"] = {"host": "127.0.0.1", "port": tarpit.getsockname()[1], "server_name": "tarpit.test"}
    lab.endpoints["closed"] = {"host": "127.0.0.1", "port": free_port(), "server_name": "closed.test"}
    lab.endpoints["unresolvable"] = {"host": "does-not-exist.invalid", "port": 443}
    lab.netns = _blackhole()
    if lab.netns:
        lab.endpoints["blackhole"] = {"host": BH_NS, "port": 443, "server_name": "blackhole.test"}

    # HTTPS web servers with a plain HTTP listener next to them (http_port): one does it right, one does not.
    # Free high ports, not 80/443: a distribution nginx may already hold 0.0.0.0:80 on the test machine.
    web = pki.issue("web.test", sans=["web.test", "127.0.0.52", "127.0.0.53"], issuer=inter)
    web_crt = lab.write("web.crt", web.pem + inter.pem)
    web_key = lab.write("web.key", web.key_pem)
    for label, addr, good_site in (("web_good", "127.0.0.52", True), ("web_bad", "127.0.0.53", False)):
        tls_port, http_port = free_port(addr), free_port(addr)
        hsts = {"hsts": "max-age=63072000; includeSubDomains; preload"} if good_site else {}
        lab.servers.append(serve_http(addr, tls_port, hsts, (web_crt, web_key)))
        lab.servers.append(serve_http(addr, http_port, {"redirect": tls_port} if good_site else {}))
        lab.endpoints[label] = {"host": addr, "port": tls_port, "http_port": http_port, "server_name": "web.test"}

    for ep in lab.endpoints.values():
        if "_wait" in ep:
            wait_listening(*ep.pop("_wait"))
    # A server that exited (its port taken by another process) would leave its label answered by someone else.
    exited = [" ".join(proc.args[:4]) for proc in lab.procs if proc.poll() is not None]
    if exited:
        raise RuntimeError(f"lab servers exited at start: {exited}")
    yield lab
    lab.close()


def _run(argv):
    proc = subprocess.run(argv, input="Q\n", capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout


def probe(lab: Lab, names: list[str], **options) -> dict[str, dict]:
    """Probe lab endpoints by label through the module's core; results by label."""
    params = {"endpoints": [lab.endpoints[n] for n in names], "ca_path": lab.ca_path, "timeout": 2, "workers": 64,
              "min_tls_version": "1.2", "warning_days": 30, "critical_days": 7, "min_rsa_bits": 2048, "fail_on": "never",
              "checks": ["tcp", "tls_versions", "certificate"]}
    params.update(options)
    outcome = _probe.probe(params, run_command=_run)
    return dict(zip(names, outcome["endpoints"]))


def codes(result: dict) -> list[str]:
    return [r["code"] for r in result["reasons"]]


@pytest.fixture(scope="session")
def core_results(lab):
    """Every lab endpoint probed once, concurrently, with TCP + TLS versions + certificate."""
    names = [n for n in lab.endpoints if not n.startswith("web_")]
    start = time.monotonic()
    results = probe(lab, names)
    results["_elapsed"] = time.monotonic() - start
    return results
