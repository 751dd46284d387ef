# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""The inside-the-host view for HTTPS troubleshooting (plain Python, no Ansible imports): HostView runs the
read-only commands (`ss -H -ltnp`, `systemctl show`) through the caller's runner and parsers read their output; the
firewall is found and asked whether it allows a port by its backend (firewall._registry), certificate files are judged
by _certfile;
`diagnose()` combines the inside facts with the probe's outside result into one diagnosis and a fix."""

from __future__ import annotations

import re
import typing as t

from ansible_collections.port443.https.plugins.module_utils.certificate import _certfile
from ansible_collections.port443.https.plugins.module_utils.firewall import _registry as _firewalls
from ansible_collections.port443.https.plugins.module_utils.firewall.base import FirewallError, read_cache
from ansible_collections.port443.https.plugins.module_utils.host import _sockets
from ansible_collections.port443.https.plugins.module_utils.reasons import _classify

WEB_SERVICES = ("nginx", "apache2", "httpd", "caddy", "haproxy", "lighttpd", "traefik", "envoy")


# ---- listeners (ss): host/_sockets ----------------------------------------------------------------------------------

def port_view(listeners: list[dict[str, t.Any]], port: int) -> dict[str, t.Any]:
    """Who listens on a port and where: listening, scope (all|specific|loopback|none), addresses, processes."""
    mine = [item for item in listeners if item["port"] == port]
    scopes = {item["scope"] for item in mine}
    scope = "none" if not mine else "all" if "all" in scopes else "specific" if "specific" in scopes else "loopback"
    return {
        "port": port,
        "listening": bool(mine),
        "scope": scope,
        "addresses": sorted({item["address"] for item in mine}),
        "processes": sorted({name for item in mine for name in item["processes"]}),
        "pids": sorted({pid for item in mine for pid in item["pids"]}),
    }


# ---- services (systemctl show) ------------------------------------------------------------------------

def parse_systemctl_show(output: str) -> list[dict[str, t.Any]]:
    """Blocks of Key=Value lines from `systemctl show -p Id,LoadState,ActiveState,SubState unit…`."""
    units = []
    for block in re.split(r"\n\s*\n", output.strip()):
        props = {}
        for line in block.splitlines():
            key, sep, value = line.partition("=")
            if sep:
                props[key.strip()] = value.strip()
        if props.get("Id"):
            units.append({
                "unit": props["Id"],
                "loaded": props.get("LoadState") == "loaded",
                "load_state": props.get("LoadState"),
                "active_state": props.get("ActiveState"),
                "sub_state": props.get("SubState"),
                "active": props.get("ActiveState") == "active",
            })
    return units


# ---- certificate files --------------------------------------------------------------------------------

# The files are judged by the collection's certificate-file check (_certfile, as certificate_file_info does), except
# for trust in a root: whether clients trust the issuer is the outside probe's verdict, not the host's store's.
_HOST_TRUST_CODES = ("untrusted_root", "self_signed", "verification_unknown")
_OPTION_OF = {"path": "cert", "chain_path": "chain", "key_path": "key"}


def check_certificate_files(item: dict[str, t.Any], names: list[str], run_command: t.Callable[[list[str]], tuple[int, str]] | None,
                            openssl: str | None) -> dict[str, t.Any]:
    """Facts and problems for one configured certificate (+ key, + chain): item has cert, key and chain paths.

    problems are the critical findings of _certfile.inspect, trust in the root left out; reasons are all of them."""
    params = {"path": item["cert"], "chain_path": item.get("chain"), "key_path": item.get("key"), "names": names}
    try:
        found = _certfile.inspect(params, run_command, openssl)
    except _certfile.CertFileError as exc:
        option, sep, rest = str(exc).partition(": ")
        return {"ok": False, "problems": [f"{_OPTION_OF.get(option, option)}: {rest}" if sep else str(exc)], "reasons": []}
    info = found["certificate"]
    reasons = found["reasons"]
    problems = [f"{r['message']}: {r['detail']}" if r.get("detail") else r["message"]
                for r in reasons if r["severity"] == "critical" and r["code"] not in _HOST_TRUST_CODES]
    result = {key: info.get(key) for key in ("subject", "issuer", "sans", "not_after", "days_left", "self_signed",
                                             "chain_in_order", "key_matches")}
    result.update(
        chain_length=len(info.get("chain", [])),
        names_not_covered=list(info.get("names_not_covered", [])),
        names_match=not info.get("names_not_covered"),
        chain_complete=info.get("verification") != "incomplete_chain",
        reasons=reasons,
        problems=problems,
        ok=not problems,
    )
    return result


# ---- diagnosis ----------------------------------------------------------------------------------------

# code -> (severity, cause, message, fix). A diagnosis that is one reason code of the registry (_classify.REASONS)
# carries that code (unresolvable, filtered, hostname_mismatch, incomplete_chain); the others are the doctor's own:
# what only the inside view tells apart (service_not_running, localhost_only ...) or a group of reason codes
# (tls_broken, certificate_problem).
DIAGNOSES = {
    "ok": ("ok", "ok", "HTTPS works from the outside.", "Nothing to fix."),
    "unresolvable": ("critical", "name does not resolve", "The host name does not resolve from the probing side.",
                     "Create the DNS A/AAAA record for the name, or probe the IP with address:."),
    "service_not_running": ("critical", "service not running", "The web server unit is not running and nothing listens on {port}.",
                            "Start it and look at why it stopped: systemctl start {unit}; journalctl -u {unit} -n 50."),
    "nothing_listening": ("critical", "nothing listening on {port}", "No process listens on TCP {port} on this host.",
                          "Configure the web server with a TLS listener on {port} (nginx 'listen {port} ssl;') and reload it; check with ss -tlnp."),
    "localhost_only": ("critical", "listening on localhost only", "The service listens on {port} only on the loopback address, so other hosts cannot connect.",
                       "Bind the listener to all interfaces or the public address (nginx 'listen {port} ssl;' not 'listen 127.0.0.1:{port}'), then reload."),
    "filtered": ("critical", "firewall drops {port} (timeout)", "Connections to {port} time out: a firewall drops the packets.",
                 "Allow inbound TCP {port} in the host firewall (ufw allow {port}/tcp, firewall-cmd --add-service=https, an nft accept rule) "
                 "and in any cloud security group or router in between."),
    "firewall_rejects": ("critical", "firewall rejects {port}", "The service listens but connections to {port} are refused by a firewall REJECT rule.",
                         "Allow inbound TCP {port} in the host firewall instead of rejecting it."),
    "unreachable": ("critical", "{port} unreachable from outside", "The service listens on all interfaces but the outside probe cannot connect.",
                    "Check the network path: container port publishing, NAT/port forwarding, cloud security groups, load balancer listeners."),
    "tls_broken": ("critical", "port open but TLS broken", "TCP {port} accepts connections but the TLS handshake fails.",
                   "Check what listens (ss -tlnp): the listener must speak TLS with a certificate; check SNI routing and the proxy upstream."),
    "hostname_mismatch": ("critical", "certificate does not match hostname", "The served certificate does not cover the name clients use.",
                          "Issue a certificate whose subjectAltName lists the name (or fix SNI so the right certificate is served)."),
    "incomplete_chain": ("critical", "chain incomplete", "The server sends its certificate without the intermediate CA certificate(s).",
                         "Serve the full chain: leaf followed by intermediates (nginx ssl_certificate fullchain.pem)."),
    "certificate_problem": ("critical", "certificate problem", "The served certificate is not acceptable to clients.",
                            "See the probe's reasons and fixes."),
    "not_probed": ("warning", "no outside view", "Only the inside view is available (the endpoint was not probed).",
                   "Run the probe from the controller (delegate_to: localhost) for the outside view."),
    # HTTP/3 advertised (Alt-Svc h3) and nothing answers on UDP (the probe's h3_unreachable), told apart from inside.
    "udp_filtered": ("critical", "the firewall drops {port}/udp",
                     "HTTP/3 is advertised (Alt-Svc h3) but UDP {port} gets no answer from outside: the host firewall drops "
                     "{port}/udp, so browsers wait for QUIC to time out before they fall back to TCP.",
                     "Allow inbound UDP {port} in the host firewall (ufw allow {port}/udp, firewall-cmd --add-port={port}/udp, an "
                     "nftables or iptables 'udp dport {port} accept' rule; the port443.https.firewall role opens it for a vhost "
                     "that serves HTTP/3), or stop advertising HTTP/3 (remove the Alt-Svc header)."),
    "udp_not_listening": ("critical", "nothing listening on {port}/udp",
                          "HTTP/3 is advertised (Alt-Svc h3) but no process listens on UDP {port}: browsers try QUIC first and "
                          "wait for it to time out.",
                          "Serve HTTP/3 on UDP {port} (Caddy: no 'protocols h1 h2' that leaves out h3; nginx: 'listen {port} quic "
                          "reuseport;'; HAProxy: 'bind quic4@:{port}') or remove the Alt-Svc header (Apache has no HTTP/3)."),
    "h3_unreachable": ("critical", "{port}/udp unreachable from outside",
                       "HTTP/3 is advertised (Alt-Svc h3) and UDP {port} gets no answer from outside, although the host "
                       "firewall does not drop it.",
                       "Check the path for UDP: cloud security groups and routers that allow TCP {port} only, NAT or port "
                       "forwarding of UDP, a load balancer that passes TCP only; or remove the Alt-Svc header."),
}


def _make(code: str, evidence: list[str], port: int, detail: str | None = None, fix: str | None = None,
          unit: str = "the service") -> dict[str, t.Any]:
    severity, cause, message, default_fix = DIAGNOSES[code]
    values = {"port": port, "unit": unit}
    cause, message = cause.format(**values), message.format(**values)
    fix_text = fix if fix else default_fix.format(**values)
    if code == "tls_broken" and detail:
        cause = f"{cause}: {detail}"
        detail = f"({detail})"
    if detail:
        message = f"{message} {detail}"
    return {"code": code, "cause": cause, "severity": severity, "message": message, "fix": fix_text, "evidence": evidence}


def check_outside(outside: t.Any) -> str | None:
    """Why outside is not one item of https_endpoint_info's endpoints list (None when it can be used)."""
    if outside is None:
        return None
    if not isinstance(outside, dict):
        return f"expected one item of https_endpoint_info's endpoints list (a dict), got {type(outside).__name__}"
    for key in ("host", "server_name", "status"):
        if outside.get(key) is not None and not isinstance(outside[key], str):
            return f"{key}: expected a string, got {type(outside[key]).__name__}"
    tcp = outside.get("tcp")
    if tcp is not None and not isinstance(tcp, dict):
        return f"tcp: expected a dict with state (open, closed, filtered, unresolvable), got {type(tcp).__name__}"
    if tcp and tcp.get("state") is not None and not isinstance(tcp["state"], str):
        return f"tcp.state: expected a string, got {type(tcp['state']).__name__}"
    h3 = outside.get("http3")
    if h3 is not None and not isinstance(h3, dict):
        return f"http3: expected the http3 section of a probe result (a dict), got {type(h3).__name__}"
    if h3 and h3.get("port") is not None:
        port = h3["port"]
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            return f"http3.port: expected a port number (1-65535), got {port!r}"[:200]
    reasons = outside.get("reasons")
    if reasons is not None and not isinstance(reasons, list):
        return f"reasons: expected a list of dicts with code, severity, message and fix, got {type(reasons).__name__}"
    for idx, item in enumerate(reasons or []):
        if not isinstance(item, dict):
            return f"reasons[{idx}]: expected a dict with code, severity, message and fix, got {type(item).__name__}"
        for key in ("code", "severity", "message", "fix"):
            if item.get(key) is not None and not isinstance(item[key], str):
                return f"reasons[{idx}].{key}: expected a string, got {type(item[key]).__name__}"
    return None


def diagnose(inside: dict[str, t.Any] | None, outside: dict[str, t.Any] | None, port: int = 443) -> dict[str, t.Any]:
    """One diagnosis for a host from the inside facts (https_doctor_info) and the outside probe result
    (one item of https_endpoint_info's endpoints). Either side may be missing."""
    inside = inside or {}
    listen = inside.get("listen", {}).get(str(port)) or inside.get("listen", {}).get(port) or {}
    services = [s for s in inside.get("services") or [] if s.get("loaded")]
    firewall = inside.get("firewall") or {}
    evidence: list[str] = []
    if listen:
        where = ", ".join(listen.get("addresses") or []) or "nowhere"
        who = ", ".join(listen.get("processes") or []) or "unknown process"
        evidence.append(f"inside: {port}/tcp listening={listen.get('listening')} on {where} ({who})")
    for svc in services:
        evidence.append(f"inside: {svc['unit']} is {svc.get('active_state')}")
    if firewall and firewall.get("backend"):
        verdict = {True: "allows", False: "blocks", None: "may or may not allow"}[firewall.get("allows")]
        evidence.append(f"inside: the {firewall['backend']} firewall {verdict} {port}/tcp")
    elif firewall:
        evidence.append("inside: no host firewall tool found")
    reasons = (outside or {}).get("reasons") or []
    codes = [r.get("code") for r in reasons]
    tcp_state = ((outside or {}).get("tcp") or {}).get("state")
    if outside:
        evidence.append(f"outside: tcp {tcp_state}, status {outside.get('status')}"
                        + (f", reasons {', '.join(c for c in codes if c)}" if codes else ""))

    if tcp_state == "unresolvable":
        return _make("unresolvable", evidence, port)
    inactive = [s for s in services if not s.get("active")]
    listening = listen.get("listening")
    if listening is False or (listening is None and tcp_state == "closed" and inactive):
        if inactive and not [s for s in services if s.get("active")]:
            unit = inactive[0]["unit"]
            return _make("service_not_running", evidence, port, detail=f"({unit} is {inactive[0].get('active_state')})", unit=unit)
        return _make("nothing_listening", evidence, port)
    if listen.get("scope") == "loopback":
        return _make("localhost_only", evidence, port, detail=f"(bound to {', '.join(listen.get('addresses') or [])})")
    blocked = firewall.get("allows") is False
    if tcp_state == "filtered" or (outside is None and blocked):
        detail = "(the host firewall drops it)" if blocked else "(the host firewall looks open: check cloud security groups and routers)"
        return _make("filtered", evidence, port, detail=detail)
    if tcp_state == "closed":
        if blocked:
            return _make("firewall_rejects", evidence, port)
        if listening:
            return _make("unreachable", evidence, port)
        return _make("nothing_listening", evidence, port)
    if outside is None:
        return _make("not_probed", evidence, port)
    tls_fail = [r for r in reasons if r.get("code") in _classify.TLS_FAILURES]
    if tls_fail:
        first = tls_fail[0]
        detail = {"not_tls": "plain HTTP (or another protocol) on 443", "no_tls_response": "no answer to the TLS ClientHello",
                  "handshake_failure": "TLS handshake failure"}[first["code"]]
        return _make("tls_broken", evidence, port, detail=detail, fix=first.get("fix") or None)
    if "hostname_mismatch" in codes or "cn_only" in codes:
        hit = next(r for r in reasons if r.get("code") in ("hostname_mismatch", "cn_only"))
        return _make("hostname_mismatch", evidence, port, detail=_paren(hit.get("message")), fix=hit.get("fix") or None)
    if "incomplete_chain" in codes:
        return _make("incomplete_chain", evidence, port)
    if "h3_unreachable" in codes:
        return _diagnose_h3(inside, outside or {}, evidence, port)
    critical = [r for r in reasons if r.get("severity") == "critical"]
    if critical:
        return _make("certificate_problem", evidence, port, detail=critical[0].get("message"), fix=critical[0].get("fix") or None)
    diag = _make("ok", evidence, port)
    warnings = [r for r in reasons if r.get("severity") == "warning"]
    if warnings:
        diag["severity"] = "warning"
        diag["message"] += " Warnings: " + "; ".join(str(r.get("code")) for r in warnings) + "."
        diag["fix"] = " ".join(dict.fromkeys(str(r.get("fix")) for r in warnings if r.get("fix")))
    return diag


def _diagnose_h3(inside: dict[str, t.Any], outside: dict[str, t.Any], evidence: list[str], port: int) -> dict[str, t.Any]:
    """HTTP/3 advertised and UDP silent from outside: the host firewall's verdict for the UDP port and whether anything
    listens on it tell the cause."""
    h3 = outside.get("http3") if isinstance(outside.get("http3"), dict) else {}
    udp_port = int(h3.get("port") or port)
    udp = (inside.get("listen_udp") or {}).get(str(udp_port)) or {}
    firewall = inside.get("firewall") or {}
    if udp:
        where = ", ".join(udp.get("addresses") or []) or "nowhere"
        who = ", ".join(udp.get("processes") or []) or "unknown process"
        evidence.append(f"inside: {udp_port}/udp listening={udp.get('listening')} on {where} ({who})")
    allows = firewall.get("allows_udp")
    if firewall.get("backend"):
        verdict = {True: "allows", False: "drops", None: "may or may not allow"}[allows]
        shown = "; ".join(firewall.get("evidence_udp") or [])
        evidence.append(f"inside: the {firewall['backend']} firewall {verdict} {udp_port}/udp" + (f" ({shown})" if shown else ""))
    udp_state = (h3.get("udp") or {}).get("state") if isinstance(h3.get("udp"), dict) else None
    if udp_state:
        evidence.append(f"outside: UDP {udp_port} {udp_state}, Alt-Svc advertises h3")
    if allows is False:
        return _make("udp_filtered", evidence, udp_port)
    if udp.get("listening") is False:
        return _make("udp_not_listening", evidence, udp_port)
    return _make("h3_unreachable", evidence, udp_port)


def _paren(message: t.Any) -> str | None:
    if not message:
        return None
    match = re.search(r"\(([^()]*)\)\s*$", str(message))
    return f"({match.group(1)})" if match else None


# ---- the host view: the read-only commands, run through the caller's runner ---------------------------

Runner = t.Callable[[t.List[str]], t.Tuple[int, str, str]]
Which = t.Callable[[str], t.Optional[str]]


class DoctorError(Exception):
    """The inside view cannot be taken (a required tool is missing or failed)."""


class HostView:
    """What the host itself says about its HTTPS service. Every command it runs is read-only and recorded."""

    def __init__(self, run: Runner, which: Which) -> None:
        self._run = run
        self.which = which
        self.commands: list[str] = []

    def run(self, argv: list[str], data: str | None = None) -> tuple[int, str, str]:
        if data is not None:
            raise DoctorError(f"{' '.join(argv)}: the host view runs read-only commands only")
        self.commands.append(" ".join(argv))
        return self._run(argv)

    def listeners(self, proto: str = "tcp") -> list[dict[str, t.Any]]:
        """Listening TCP sockets (`ss -H -ltnp`), or with proto "udp" the bound UDP sockets (`ss -H -lunp`: who could
        answer QUIC)."""
        ss = self.which("ss")
        if not ss:
            raise DoctorError("ss (package iproute2) is required to list listening sockets")
        flags = "-ltnp" if proto == "tcp" else "-lunp"
        rc, out, err = self.run([ss, "-H", flags])
        if rc != 0:
            raise DoctorError(f"ss -H {flags} failed: {err.strip()}")
        return _sockets.parse_ss(out, proto)

    def services(self, names: list[str]) -> list[dict[str, t.Any]]:
        systemctl = self.which("systemctl")
        if not systemctl or not names:
            return []
        units = [n if "." in n else f"{n}.service" for n in names]
        rc, out, _err = self.run([systemctl, "show", "-p", "Id,LoadState,ActiveState,SubState", "--"] + units)
        if rc != 0:
            return []
        return [u for u in parse_systemctl_show(out) if u["loaded"]]

    def firewall(self, port: int, http_port: int, udp_port: int | None = None) -> dict[str, t.Any]:
        """The verdict of the firewall the host really uses (found as firewall_port finds it) for both ports, and with
        udp_port for that port over UDP (allows_udp, evidence_udp: HTTP/3)."""
        run, _drop = read_cache(self.run)  # the detection's read of the ruleset is the backend's
        try:
            name, _why = _firewalls.detect(run, self.which)
        except FirewallError:
            return {"backend": None, "allows": None, "allows_http": None,
                    "evidence": [f"no firewall tool ({_firewalls.tools(', ')}) could be queried"]}
        backend = _firewalls.create(name, run, {}, self.which)
        try:
            main, http = backend.allows(port), backend.allows(http_port)
        except FirewallError:
            return {"backend": name, "allows": None, "allows_http": None, "evidence": [f"the {name} rules could not be read"]}
        out = {"backend": name, "allows": main["allows"], "allows_http": http["allows"], "evidence": main["evidence"]}
        if udp_port is not None:
            try:
                udp = backend.allows(udp_port, "udp")
                out.update(allows_udp=udp["allows"], evidence_udp=udp["evidence"])
            except FirewallError:
                out.update(allows_udp=None, evidence_udp=[f"the {name} rules for {udp_port}/udp could not be read"])
        return out

    def certificates(self, items: list[dict[str, t.Any]], default_names: list[str]) -> list[dict[str, t.Any]]:
        openssl = self.which("openssl")

        def run_joined(argv: list[str]) -> tuple[int, str]:
            rc, out, err = self.run(argv)
            return rc, out + err

        out = []
        for idx, item in enumerate(items):
            names = item.get("names") or default_names
            entry: dict[str, t.Any] = {k: item[k] for k in ("cert", "key", "chain") if item.get(k)}
            checked = check_certificate_files(item, names, run_joined, openssl)
            if not checked["ok"] and "subject" not in checked:
                checked["problems"] = [f"certificates[{idx}].{p}" for p in checked["problems"]]
            entry.update(checked)
            entry["names"] = names
            out.append(entry)
        return out
