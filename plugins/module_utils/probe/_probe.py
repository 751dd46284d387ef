# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Concurrent endpoint probe: input validation, per-endpoint pipeline (TCP, TLS versions, certificate,
revocation, HTTP) and classification into status + reasons (plain Python, no Ansible imports)."""

from __future__ import annotations

import collections
import concurrent.futures
import hashlib
import socket
import ssl
import threading
import typing as t

from ansible_collections.port443.https.plugins.module_utils.certificate import _chain
from ansible_collections.port443.https.plugins.module_utils.probe import _ciphers, _clientcert, _ct, _http, _quic, _reach, _reactor, _tls
from ansible_collections.port443.https.plugins.module_utils.host import _net
from ansible_collections.port443.https.plugins.module_utils.reasons import _classify
from ansible_collections.port443.https.plugins.module_utils.certificate import _policy
from ansible_collections.port443.https.plugins.module_utils.certificate import _sct, _x509

CHECKS = ("tcp", "tls_versions", "certificate", "revocation", "http", "ciphers", "http3")
DEFAULT_CHECKS = ("tcp", "tls_versions", "certificate", "http")


class ProbeInputError(ValueError):
    """Bad input: the message names the option and the value."""


def validate(params: dict[str, t.Any]) -> tuple[list[dict[str, t.Any]], dict[str, t.Any]]:
    """Normalize endpoints and options; raise ProbeInputError naming option and value."""
    endpoints = params.get("endpoints")
    if not endpoints:
        raise ProbeInputError("endpoints: the list is empty; give at least one endpoint ({host: example.com})")
    normalized = []
    for idx, ep in enumerate(endpoints):
        if isinstance(ep, str):
            ep = {"host": ep}
        if not isinstance(ep, dict):
            raise ProbeInputError(f"endpoints[{idx}]: expected a dict with host/port, got {ep!r}")
        try:
            host = _policy.check_host(f"endpoints[{idx}].host", ep.get("host"))
            server_name = ep.get("server_name")
            if server_name is not None:
                server_name = _policy.check_host(f"endpoints[{idx}].server_name", server_name)
        except _policy.PolicyInputError as exc:
            raise ProbeInputError(str(exc)) from None
        for key in ("port", "http_port"):
            value = ep.get(key)
            if value is None:
                continue
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise ProbeInputError(f"endpoints[{idx}].{key}: {ep.get(key)!r} is not a port number") from None
            if not 1 <= value <= 65535:
                raise ProbeInputError(f"endpoints[{idx}].{key}: {value} is out of range (1-65535)")
        address = ep.get("address")
        if address is not None and not _net.is_ip(str(address)):
            raise ProbeInputError(f"endpoints[{idx}].address: {address!r} is not an IP address")
        http_path = ep.get("http_path")
        if http_path is not None and _http.check_path(http_path):
            raise ProbeInputError(f"endpoints[{idx}].http_path: {http_path!r} {_http.check_path(http_path)}")
        normalized.append({
            "host": host,
            "port": int(ep.get("port") or 443),
            "server_name": server_name or host,
            "address": str(address).strip("[]") if address else None,
            "http_port": int(ep.get("http_port") or 80),
            "http_path": http_path,
        })

    opts = dict(params)
    checks = opts.get("checks")
    checks = list(DEFAULT_CHECKS) if checks is None else list(checks)
    for check in checks:
        if check not in CHECKS:
            raise ProbeInputError(f"checks: unknown check {check!r} (choose from {', '.join(CHECKS)})")
    opts["checks"] = checks
    try:
        opts["min_tls_version"] = _classify.normalize_tls_version(opts.get("min_tls_version") or "1.2")
    except ValueError as exc:
        raise ProbeInputError(f"min_tls_version: {exc}") from None
    for key, low, high in (("timeout", 0.1, 300), ("workers", 1, 1024)):
        value = opts.get(key)
        if value is None:
            continue
        if not low <= value <= high:
            raise ProbeInputError(f"{key}: {value} is out of range ({low}-{high})")
    http_path = opts.get("http_path")
    http_path = "/" if http_path is None else http_path
    if _http.check_path(http_path):
        raise ProbeInputError(f"http_path: {http_path!r} {_http.check_path(http_path)}")
    for ep in normalized:
        ep["http_path"] = ep["http_path"] or http_path
    opts["http_path"] = http_path
    expected = opts.get("http_expected_status")
    if expected is not None and _http.check_expected_status(expected):
        raise ProbeInputError(f"http_expected_status: {_http.check_expected_status(expected)}")
    opts["http_expected_status"] = list(expected) if expected else None
    if opts.get("fail_on", "never") not in ("critical", "warning", "never"):
        raise ProbeInputError(f"fail_on: {opts.get('fail_on')!r} is not one of critical, warning, never")
    try:
        _policy.check_policy(opts)
        _ciphers.check_options(opts)
    except (_policy.PolicyInputError, _ciphers.CipherInputError) as exc:
        raise ProbeInputError(str(exc)) from None
    if "ciphers" not in checks:
        # Options that only the ciphers check reads: ignoring them would pass a profile nothing compared.
        for key in ("tls_profile", "require_pq_kex"):
            if opts.get(key):
                raise ProbeInputError(f"{key}: needs the ciphers check (add ciphers to checks)")
    problem = _clientcert.check_files(opts.get("client_cert"), opts.get("client_key"))
    if problem:
        raise ProbeInputError(problem)
    return normalized, opts


def _empty_result(ep: dict[str, t.Any]) -> dict[str, t.Any]:
    return {
        "host": ep["host"], "port": ep["port"], "server_name": ep["server_name"], "address": ep["address"],
        "status": "ok", "reasons": [],
        "tcp": {"state": None, "latency_ms": None, "error": None, "attempts": []},
        "tls": {"versions": {v: None for v in _classify.TLS_VERSIONS}, "negotiated": None, "cipher": None, "alpn": None, "error": None,
                "client_cert_requested": None},
        "certificate": None,
        "revocation": None,
        "http": None,
        "ciphers": None,
        "http3": None,
    }


# The whole probe of one endpoint (lookup, connects, handshakes, version probes, certificate and HTTP steps)
# may take at most BUDGET_FACTOR x timeout; what is not finished by then gets no verdict (deadline_exceeded).
BUDGET_FACTOR = 2.0

RunCommand = t.Callable[[t.List[str]], t.Tuple[int, str]]


class Settings:
    """What every endpoint's run shares: the validated options, and what the probe derives from them once."""

    def __init__(self, opts: dict[str, t.Any], run_command: RunCommand | None = None) -> None:
        self.opts = opts
        self.checks: list[str] = opts["checks"]
        self.timeout = float(opts.get("timeout") or 5)
        # Presented when a server asks for a client certificate: (certificate path, key path).
        self.client_cert: tuple[str, str] | None = (opts["client_cert"], opts["client_key"]) if opts.get("client_cert") else None
        # With the certificate or revocation check the first handshake verifies the chain (see _main_handshake).
        self.verify_ca: str | None = None
        if "certificate" in self.checks or "revocation" in self.checks:
            self.verify_ca = opts.get("ca_path") or ""
        self.run_command = run_command  # argv -> (rc, stdout), for the stapled OCSP request
        self.evaluations = Evaluations()


class Evaluations:
    """The certificate verdicts of one probe run, shared between endpoints served the same chain under the same name
    with the same validator's answer within the same second (a pool, one name on many addresses): the chain is read
    and judged once. A verdict that needed a download (AIA) is not shared: it depends on that endpoint's budget."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.second: t.Any = None
        self.known: dict[tuple[t.Any, ...], tuple[dict[str, t.Any], list[tuple[str, str, str | None, str | None]]]] = {}

    def evaluate(self, hs: _tls.Handshake, server_name: str, store: t.Any, opts: dict[str, t.Any],
                 fetch: t.Callable[[str], bytes] | None) -> tuple[dict[str, t.Any], list[tuple[str, str, str | None, str | None]]]:
        """_chain.evaluate of the handshake's chain: a fresh top-level dict (callers add keys to it) and findings list."""
        now = _x509.utcnow().replace(microsecond=0)
        key = (tuple(hs.chain_der), server_name, hs.verified, hs.verify_code, hs.verify_message, hs.chain_complete_known)
        with self.lock:
            if now != self.second:
                self.second, self.known = now, {}
            known = self.known.get(key)
        if known is not None:
            return dict(known[0]), list(known[1])
        fetched = []

        def counted(url: str) -> bytes:
            fetched.append(url)
            return t.cast(t.Callable[[str], bytes], fetch)(url)

        info, findings = _chain.evaluate(hs.chain_der, server_name, store, opts, _verification(hs), now=now,
                                         fetch=counted if fetch is not None else None, chain_complete=hs.chain_complete_known)
        if not fetched:
            with self.lock:
                if now == self.second:
                    self.known[key] = (dict(info), list(findings))
        return info, findings


class EndpointRun:
    """One endpoint's probe: its input, its result as the phases fill it in, the shared settings, and its one time
    budget (BUDGET_FACTOR x timeout in all, each step at most timeout; spent only while its work runs, not while it
    waits for a free slot or worker)."""

    __slots__ = ("ep", "settings", "result", "budget", "reach", "family", "sockaddr", "unfinished", "cipher_target",
                 "versions_asked", "cipher_leaf")

    def __init__(self, index: int, ep: dict[str, t.Any], settings: Settings) -> None:
        self.ep = ep
        self.settings = settings
        self.result: dict[str, t.Any] = {}  # filled in from the reachability phase on (few live objects until then)
        self.budget = _net.Budget(BUDGET_FACTOR * settings.timeout, settings.timeout, running=False)
        self.reach: _reach.Reach | None = _reach.Reach(index, ep, self.budget)  # until the reachability phase ends
        self.family: int = 0  # the address that answered, for every later connection
        self.sockaddr: tuple[t.Any, ...] = ()
        self.unfinished: list[str] = []  # what got no verdict for want of time
        self.cipher_target: _ciphers.Target | None = None  # set once the versions are known, when the ciphers check is to run
        # What the versions phase asks after the TLS phase: (negotiated, versions, where its reasons and unfinished
        # entries go in the lists); None when there is nothing to ask.
        self.versions_asked: tuple[str | None, list[str], int, int] | None = None
        # The ciphers check is to run ("" when no certificate was read): the SHA-256 of the served certificate.
        self.cipher_leaf: str | None = None

    def reason(self, code: str, detail: str | None = None, severity: str | None = None, fix: str | None = None) -> None:
        self.result["reasons"].append(_classify.reason(code, detail, severity, fix))

    def conclude(self) -> None:
        self.result["status"] = _classify.status_of(self.result["reasons"])

    # ---- reachability -----------------------------------------------------------------------------------------------

    def reached(self) -> bool:
        """The result as far as the reachability phase tells (TCP state, addresses tried, the reason when it ends
        there); True when the endpoint goes on to the TLS phase."""
        reach, ep = t.cast(_reach.Reach, self.reach), self.ep
        self.reach = None  # what the result does not copy (addresses, attempts) is not kept
        res = self.result = _empty_result(ep)
        res["tcp"].update(state=reach.state, latency_ms=reach.latency_ms, error=reach.error,
                          attempts=[{k: a.get(k) for k in ("address", "state", "latency_ms", "error")} for a in reach.attempts])
        if reach.state == "unresolvable":
            self.reason("unresolvable", ep["address"] or ep["host"])
            return False
        if reach.state == "dns_timeout":
            self.reason("dns_timeout", reach.error)
            return False
        if reach.sockaddr is not None:
            self.family, self.sockaddr = t.cast(int, reach.family), reach.sockaddr
            res["address"] = reach.sockaddr[0]
        if reach.state in ("closed", "filtered"):
            detail = "; ".join(f"{_hostport(a['address'], ep['port'])}: {a['error']}" for a in reach.attempts) or reach.error
            self.reason(reach.state, detail)
            return False
        if reach.answered is False:
            # Connected, but nothing answered the ClientHello on any address: no verdict on versions (null).
            res["tls"]["error"] = reach.error
            self.reason("no_tls_response", reach.error)
            return False
        return reach.answered is True

    # ---- TLS phase (a worker thread) --------------------------------------------------------------------------------

    def tls_phase(self) -> None:
        """TLS, versions, certificate and HTTP for an endpoint that answered, within what is left of its budget."""
        self.budget.resume()
        try:
            self._tls_steps()
        finally:
            self.budget.pause()
            if self.versions_asked is None:
                self.finish()

    def finish(self) -> None:
        """The end of the TLS work (after the versions phase when it asked anything): the ciphers check's target when
        there is time left for it, what got no verdict, the status."""
        if self.cipher_leaf is not None:
            if self.budget.expired:
                self.unfinished.append("ciphers")
            else:
                self.cipher_target = _ciphers.Target(self.family, self.sockaddr, self.ep["server_name"], self.budget,
                                                     dict(self.result["tls"]["versions"]), self.cipher_leaf or None)
        if self.unfinished:
            self.reason("deadline_exceeded", f"no verdict for {', '.join(self.unfinished)} within {self.budget.total:g}s")
        self.conclude()

    def _connect(self) -> socket.socket | None:
        """A new connection to the address that answered (None when it fails)."""
        return _net.connect(self.family, self.sockaddr, self.budget.step())[1]

    def _tls_steps(self) -> None:
        ep, cfg, budget, tls = self.ep, self.settings, self.budget, self.result["tls"]
        checks = cfg.checks
        if budget.expired:
            self.unfinished.append("tls")
            return
        state, sock, _lat, error = _net.connect(self.family, self.sockaddr, budget.step())
        if sock is None:
            if budget.expired:
                self.unfinished.append("tls")
                return
            self.result["tcp"].update(state=state, error=error)
            self.reason(state, f"{_hostport(self.sockaddr[0], ep['port'])}: answered, then a new connection failed: {error}")
            return
        step = budget.step()
        # One HTTP request over TLS serves both the http check (status, HSTS) and the http3 check (Alt-Svc).
        hs = self._main_handshake(sock, step, keep="http" in checks or "http3" in checks)
        hsts_raw = None
        tls["client_cert_requested"] = hs.cert_requested
        if hs.ok:
            tls.update(negotiated=hs.version, cipher=hs.cipher, alpn=hs.alpn)
            if hs.sock is not None:
                if hs.alpn != "h2" and not budget.expired:
                    hsts_raw = self._http_head(hs.sock)
                hs.sock.close()
                if hs.alpn == "h2" and not budget.expired:
                    # The server chose HTTP/2: ask again over a session that offers HTTP/1.1 only.
                    hsock = self._connect()
                    if hsock is not None:
                        hhs = _tls.handshake(hsock, ep["server_name"], budget.step(), alpn=("http/1.1",), keep=True,
                                             client_cert=cfg.client_cert)
                        if hhs.sock is not None:
                            if not budget.expired:
                                hsts_raw = self._http_head(hhs.sock)
                            hhs.sock.close()
        else:
            tls["error"] = hs.error
            if hs.kind == "timeout":
                if budget.expired and step < budget.cap:
                    self.unfinished.append("tls")
                else:
                    self.reason("no_tls_response", f"the TLS handshake did not complete within {step:g}s")
                return  # versions stay null: unknown
            if hs.kind == "not_tls":
                plain = None
                if not budget.expired:
                    plain = _net.tcp_request(self.family, self.sockaddr, _http.request_bytes(ep["server_name"]), budget.step())
                status, _headers = _http.parse_response(plain)
                self.reason("not_tls", f"plain HTTP answered with status {status}" if status else hs.error)
                tls["versions"] = {v: False for v in _classify.TLS_VERSIONS}
                return
            if hs.kind == "too_large":
                self.reason("oversized_certificate_list", hs.error)
            elif hs.kind == "client_cert":
                self.reason("client_cert_required", hs.error)
            else:
                self.reason("handshake_failure", hs.error)

        if "tls_versions" in checks:
            self._versions_from_handshake(hs)
        elif hs.ok:
            tls["versions"][hs.version] = True

        if "ciphers" in checks:
            # Also when the handshake failed: a server that accepts only suites the local TLS library no longer
            # speaks (3DES, RC4, export) fails it, and the hand-built ClientHellos still see what it accepts.
            # The enumeration itself runs after the TLS and versions phases, for all endpoints at once
            # (_ciphers_phase). The versions found tell the enumeration which versions must have suites, and the
            # certificate which names of one server are served alike.
            self.cipher_leaf = hashlib.sha256(hs.chain_der[0]).hexdigest() if hs.chain_der else ""

        if hs.ok and hs.chain_der and ("certificate" in checks or "revocation" in checks):
            if not _x509.HAS_CRYPTOGRAPHY:
                self.result["certificate"] = {"error": "the Python library cryptography is not installed"}
            elif "revocation" in checks and budget.expired:
                self.unfinished.append("certificate")
            else:
                self._certificate_check(hs)

        if "http" in checks:
            if budget.expired:
                self.unfinished.append("http")
            else:
                self._http_check(hsts_raw if hs.ok else None, tls_ok=hs.ok)
                if hs.ok and hs.cert_requested and self.result["http"].get("status") == 400:
                    # nginx (ssl_verify_client on) completes the handshake and refuses the request instead.
                    reasons = self.result["reasons"]
                    reasons[:] = [r for r in reasons if r["code"] != "http_error"]
                    self.reason("client_cert_required", _clientcert.http_refusal(bool(cfg.client_cert)))

        if "http3" in checks:
            self._http3_check(hs, hsts_raw if hs.ok else None)

    def _main_handshake(self, sock: socket.socket, step: float, keep: bool) -> _tls.Handshake:
        """The first handshake of an endpoint. With the certificate or revocation check it is a verifying one, so
        OpenSSL's path validation decides trust; a chain it rejects is read again over a second, non-verifying
        connection, so the explanation sees exactly what is served."""
        cfg, server_name = self.settings, self.ep["server_name"]
        hs = _tls.handshake(sock, server_name, step, alpn=("h2", "http/1.1"), keep=keep, want_chain=True, verify_ca=cfg.verify_ca,
                            client_cert=cfg.client_cert)
        if hs.kind != "verify_failed":
            return hs
        _state, again, _lat, error = _net.connect(self.family, self.sockaddr, self.budget.step())
        if again is None:
            hs.kind, hs.error = "error", f"the chain was rejected ({hs.verify_message}); reconnecting to read it failed: {error}"
            return hs
        plain = _tls.handshake(again, server_name, self.budget.step(), alpn=("h2", "http/1.1"), keep=keep, want_chain=True,
                               client_cert=cfg.client_cert)
        plain.verified, plain.verify_code, plain.verify_message = False, hs.verify_code, hs.verify_message
        return plain

    def _versions_from_handshake(self, hs: _tls.Handshake) -> None:
        """What the first handshake tells of the versions; the lower ones are asked in the versions phase.

        true: accepted; false: refused; null: unknown (no answer in time, or no time left), with a reason.
        """
        versions = self.result["tls"]["versions"]
        negotiated = hs.version if hs.ok else None
        asked = []
        for version in reversed(_classify.TLS_VERSIONS):
            if negotiated is not None and _classify.compare_tls_versions(version, negotiated) >= 0:
                # The server picked `negotiated` from an offer of 1.0-1.3: it supports no higher version.
                versions[version] = version == negotiated
            else:
                asked.append(version)
        self.versions_asked = (negotiated, asked, len(self.result["reasons"]), len(self.unfinished)) if asked else None
        if not asked:
            self.versions_found({})

    def versions_task(self) -> _reactor.Task:
        """The versions phase of this endpoint (one task of the event loop, one connection at a time): whether the
        server accepts each version below the negotiated one, from one hand-built ClientHello per version offering
        every suite and group of it, read up to the ServerHello or the refusal (_ciphers.version_accepted); nothing
        more of the handshake is needed to know the server chose that version. A close without an alert is checked
        against the negotiated version's offer, which the server answers. Then finish()."""
        if self.versions_asked is None:
            return
        negotiated, asked = self.versions_asked[0], self.versions_asked[1]
        self.budget.resume()
        target = _ciphers.Target(self.family, self.sockaddr, self.ep["server_name"], self.budget)
        asker = _ciphers.Asker({negotiated: True} if negotiated else None)
        verdicts = {}
        for version in asked:
            verdict, why = yield from _ciphers.drive(target, _ciphers.version_accepted(asker, version))
            verdicts[version] = (verdict, why, self.budget.expired)
        self.budget.pause()
        self.versions_found(verdicts)
        self.finish()

    def versions_found(self, verdicts: dict[str, tuple[bool | None, str | None, bool]]) -> None:
        """The verdicts of the versions phase in the result ((verdict, why, whether the budget was spent by then) per
        version); tls_version_unknown and legacy_tls_enabled, and the versions that got no verdict for want of time,
        where the TLS phase would have put them."""
        versions = self.result["tls"]["versions"]
        at, late_at = (self.versions_asked or (None, [], len(self.result["reasons"]), len(self.unfinished)))[2:]
        unknown, late = [], []
        for version in _classify.TLS_VERSIONS:
            if version not in verdicts:
                continue
            verdict, why, spent = verdicts[version]
            versions[version] = verdict
            if verdict is None:
                if spent:
                    late.append(version)
                else:
                    unknown.append(f"{version} ({why})")
        reasons: list[dict[str, t.Any]] = []
        if unknown:
            reasons.append(_classify.reason("tls_version_unknown", f"TLS {'; '.join(unknown)}"))
        if late:
            self.unfinished.insert(late_at, "TLS " + ", ".join(late))
        minimum = self.settings.opts["min_tls_version"]
        low = [v for v in _classify.TLS_VERSIONS if versions.get(v) and _classify.compare_tls_versions(v, minimum) < 0]
        good = [v for v in _classify.TLS_VERSIONS if versions.get(v) and _classify.compare_tls_versions(v, minimum) >= 0]
        if low:
            reasons.append(_classify.reason("legacy_tls_enabled", f"accepts TLS {', '.join(low)}; minimum is {minimum}",
                                            "warning" if good else "critical"))
        self.result["reasons"][at:at] = reasons

    def _certificate_check(self, hs: _tls.Handshake) -> None:
        cfg, ep, budget, res = self.settings, self.ep, self.budget, self.result
        opts = cfg.opts
        store = _x509.trust_store(opts.get("ca_path"))
        fetch = None
        if opts.get("aia_fetch", True):
            from ansible_collections.port443.https.plugins.module_utils.probe import _revocation

            def fetch(url):
                if budget.expired:
                    raise TimeoutError("no time left in the endpoint's budget")
                return _revocation.fetch(url, budget.step(), max_bytes=_AIA_MAX_BYTES)
        try:
            info, findings = cfg.evaluations.evaluate(hs, ep["server_name"], store, opts, fetch)
        except ValueError as exc:
            res["certificate"] = {"error": str(exc), "trusted": False, "verification": "unknown"}
            self.reason("certificate_unreadable", str(exc))
            return
        if "certificate" in cfg.checks:
            res["certificate"] = info
            for code, detail, severity, fix in findings:
                self.reason(code, detail, severity, fix)
            self._ct_check(hs, info, store)
        if "revocation" in cfg.checks:
            from ansible_collections.port443.https.plugins.module_utils.probe import _revocation

            pair = _chain.issuer_for_revocation(hs.chain_der, store)
            # Every revocation step (staple, CRL, OCSP) takes what is left of the endpoint's budget, asked anew each time.
            if _revocation.ocsp_state(_x509.load_der(hs.chain_der[0])) == "none_by_design":
                # Nothing to staple: the server cannot have an OCSP response for this certificate.
                staple = {"present": False, "status": None, "detail": _revocation.NO_OCSP_BY_DESIGN}
            else:
                staple = _revocation.stapled(res["address"], ep["port"], ep["server_name"], budget.step, cfg.run_command)
            res["revocation"] = _revocation.check(pair, budget.step, staple) if pair else {
                "status": "unknown", "source": None, "detail": "issuer certificate not available", "stapled": staple}
            status = res["revocation"]["status"]
            if status == "revoked":
                self.reason("revoked", res["revocation"].get("detail"))
            elif status != "good":
                self.reason("revocation_unknown", res["revocation"].get("detail"))

    def _ct_check(self, hs: _tls.Handshake, info: dict[str, t.Any], store: t.Any) -> None:
        """The certificate's SCTs (info['ct']), embedded and from the TLS extension; no_sct / too_few_scts only for a
        trusted chain whose anchor is a public root (_sct.PUBLIC_ROOT_SOURCES): a private or internal CA's certificates
        need none, even where the system store trusts that CA.

        The TLS extension takes one more connection (a hand-built TLS 1.2 ClientHello that asks for it, probe/_ct.py),
        so it is asked only where its answer can change the verdict: a publicly trusted chain whose embedded SCTs do
        not meet the rule. Elsewhere ct.tls_extension says not_requested."""
        try:
            pair = _chain.issuer_for_revocation(hs.chain_der, store)
            leaf = pair[0] if pair else _x509.load_der(hs.chain_der[0])
            issuer = pair[1] if pair else None
            section = _sct.evaluate(leaf, issuer, None, "not_requested")
            public = None
            if info.get("trusted"):
                walked = _chain.walk([_x509.load_der(der) for der in hs.chain_der], store)
                anchor = walked.anchor if walked.anchor is not None else (walked.path[-1] if walked.path else None)
                public = _sct.is_public_root(anchor) if anchor is not None else False
            if public and not section["satisfied"]:
                state, tls_list = "unreadable", None
                sock = None if self.budget.expired else self._connect()
                if sock is not None:
                    state, tls_list = _ct.tls_extension_scts(sock, self.ep["server_name"], self.budget.step())
                section = _sct.evaluate(leaf, issuer, tls_list, state)
        except ValueError as exc:
            info["ct"] = {"error": str(exc)}
            return
        section["publicly_trusted"] = public
        section["public_roots"] = _sct.public_roots()[1]
        info["ct"] = section
        for code, detail in _sct.findings(section, public):
            self.reason(code, detail)

    def _http_head(self, tls_sock: t.Any) -> bytes | None:
        """The HTTP answer (its head) over an established TLS session."""
        ep = self.ep
        try:
            tls_sock.sendall(_http.request_bytes(_http.host_header(ep["server_name"], ep["port"], 443), "GET", ep.get("http_path") or "/"))
            return _net.read_headers(tls_sock, self.budget.step())
        except OSError:
            return None

    def _http_check(self, hsts_raw: bytes | None, tls_ok: bool) -> None:
        ep, opts = self.ep, self.settings.opts
        out: dict[str, t.Any] = {"redirect": None, "hsts": None, "path": ep.get("http_path") or "/", "status": None, "location": None}
        self.result["http"] = out
        # Port 80 (or http_port): plain request, expect a redirect to the https URL.
        sockaddr = self.sockaddr
        http_addr = (sockaddr[0], ep["http_port"]) + tuple(sockaddr[2:])
        raw = _net.tcp_request(self.family, http_addr, _http.request_bytes(_http.host_header(ep["server_name"], ep["http_port"], 80), "GET"),
                               self.budget.step())
        status, headers = _http.parse_response(raw)
        redirect = _http.evaluate_redirect(status, headers, ep["server_name"], ep["port"])
        if raw is None:
            redirect["error"] = f"no HTTP answer on port {ep['http_port']}"
        out["redirect"] = redirect
        if not redirect["ok"]:
            detail = redirect.get("error") or f"port {ep['http_port']} answered {status} {redirect.get('location') or ''}".strip()
            self.reason("no_redirect", detail, "critical" if opts.get("require_redirect") else None)
        if tls_ok:
            hstatus, hheaders = _http.parse_response(hsts_raw)
            out["status"] = hstatus
            out["location"] = hheaders.get("location")
            out["hsts"] = _http.parse_hsts(hheaders.get("strict-transport-security"))
            if not out["hsts"]["present"]:
                detail = "no HTTP answer over TLS" if hstatus is None else f"HTTPS status {hstatus}"
                self.reason("no_hsts", detail, "critical" if opts.get("require_hsts") else None)
            url = f"https://{_http.host_header(ep['server_name'], ep['port'], 443)}{out['path']}"
            for code, detail in _http.evaluate_answer(hstatus, hheaders, url, opts.get("http_expected_status")):
                self.reason(code, detail)

    def _http3_check(self, hs: _tls.Handshake, raw: bytes | None) -> None:
        """HTTP/3: the Alt-Svc header of the HTTPS answer, then the QUIC probe of the UDP port (see _quic.check)."""
        ep = self.ep
        status, headers = _http.parse_response(raw)
        alt_svc = _http.parse_alt_svc(headers.get("alt-svc")) if status is not None else None
        outcome = _quic.check(self.family, self.sockaddr, ep["server_name"], ep["port"], alt_svc, self.budget,
                              tcp_chain=hs.chain_der if hs.ok else None, tcp_complete=hs.chain_complete_known)
        self.result["http3"] = outcome.section
        for code, detail, severity in outcome.findings:
            self.reason(code, detail, severity)
        if outcome.unfinished:
            self.unfinished.append("http3")

    # ---- ciphers (after every TLS phase, in one event loop) --------------------------------------------------------

    def ciphers_found(self, section: dict[str, t.Any]) -> None:
        self.result["ciphers"] = section
        for code, detail, severity, fix in _ciphers.findings(section, self.settings.opts):
            self.reason(code, detail, severity, fix)
        self.conclude()


_AIA_MAX_BYTES = 64 * 1024


def _hostport(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _verification(hs: _tls.Handshake) -> _chain.Verification:
    if hs.verified is None:
        return _chain.Verification(None, why="the handshake did not verify the chain")
    return _chain.Verification(hs.verified, hs.verify_code, hs.verify_message, validator=f"{ssl.OPENSSL_VERSION} (TLS handshake)")


def _run(endpoints: list[dict[str, t.Any]], settings: Settings) -> list[dict[str, t.Any]]:
    """Reachability of every endpoint at once (the event loop), the TLS work of those that answered on a bounded
    pool of `workers` threads as soon as they answer, the version ClientHellos of each back in the event loop as soon
    as its TLS work ends, then the ciphers check of all of them in the event loop. Results in input order."""
    checks = settings.checks
    want_tls = any(c in checks for c in ("tls_versions", "certificate", "revocation", "http", "ciphers", "http3"))
    workers = max(1, min(int(settings.opts.get("workers") or 64), len(endpoints)))
    runs = [EndpointRun(i, ep, settings) for i, ep in enumerate(endpoints)]
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers) if want_tls else None
    gate = _PerDestination(pool, _reactor.PER_DESTINATION) if pool is not None else None
    cap = _reach.inflight_cap(workers)
    reactor = _reactor.Reactor(cap)
    call_soon = reactor.wakeup()
    # The loop runs until every endpoint has settled (no TLS work, or its TLS work ended and its version
    # ClientHellos, if any, were handed to the loop): the timer keeps it running while worker threads may still do so.
    unsettled = [len(runs)]
    hold = reactor.call_at(float("inf"), lambda: None) if runs else None

    def settled() -> None:
        unsettled[0] -= 1
        if not unsettled[0] and hold is not None:
            reactor.cancel(hold)

    def handed_back(run: EndpointRun) -> None:
        if run.versions_asked is not None:
            reactor.submit(run.versions_task(), _reactor.destination(run.family, run.sockaddr))
        settled()

    def tls_then_back(run: EndpointRun) -> None:
        try:
            run.tls_phase()
        finally:
            call_soon(lambda: handed_back(run))

    def reached(reach: _reach.Reach) -> None:
        run = runs[reach.index]
        if run.reached() and gate is not None:
            gate.submit(_reactor.destination(run.family, run.sockaddr), lambda: tls_then_back(run))
        else:
            run.conclude()
            settled()

    try:
        _reach.reach_all([t.cast(_reach.Reach, run.reach) for run in runs], hello=want_tls, max_inflight=cap, on_done=reached,
                         reactor=reactor)
        if gate is not None:
            gate.wait()
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    if "ciphers" in checks:
        _ciphers_phase([run for run in runs if run.cipher_target is not None], workers)
    return [run.result for run in runs]


class _PerDestination:
    """The TLS phases on the worker pool, at most `limit` at a time for one destination (address and port); the others
    wait in order, their budgets not running (tls_phase starts the clock). Many names behind one server would
    otherwise take every worker at once and make each other's handshakes slow."""

    def __init__(self, pool: concurrent.futures.ThreadPoolExecutor, limit: int) -> None:
        self.pool, self.limit = pool, limit
        self.lock = threading.Lock()
        self.idle = threading.Condition(self.lock)
        self.running: dict[t.Any, int] = {}
        self.queues: dict[t.Any, collections.deque[t.Callable[[], None]]] = {}
        self.futures: list[concurrent.futures.Future] = []
        self.pending = 0

    def submit(self, key: t.Any, fn: t.Callable[[], None]) -> None:
        with self.lock:
            self.pending += 1
            if self.running.get(key, 0) < self.limit:
                self.running[key] = self.running.get(key, 0) + 1
                self.futures.append(self.pool.submit(self._run, key, fn))
            else:
                self.queues.setdefault(key, collections.deque()).append(fn)

    def _run(self, key: t.Any, fn: t.Callable[[], None]) -> None:
        try:
            fn()
        finally:
            with self.lock:
                self.pending -= 1
                queue = self.queues.get(key)
                if queue:
                    following = queue.popleft()
                    if not queue:
                        del self.queues[key]
                    self.futures.append(self.pool.submit(self._run, key, following))
                else:
                    self.running[key] -= 1
                self.idle.notify_all()

    def wait(self) -> None:
        """Until every submitted phase has run; an exception of one is raised here."""
        with self.lock:
            while self.pending:
                self.idle.wait()
        for future in list(self.futures):
            future.result()


def _ciphers_phase(pending: list[EndpointRun], workers: int) -> None:
    """The ciphers check of every endpoint whose TLS phase asked for it, in one event loop (at most 4 x workers
    endpoints at once, each within what its TLS phase left of its budget); then its findings and the status again."""
    if not pending:
        return
    cap = min(4 * workers, _reach.inflight_cap(workers))
    sections = _ciphers.enumerate_many([t.cast(_ciphers.Target, run.cipher_target) for run in pending], max_inflight=cap)
    for run, section in zip(pending, sections):
        run.ciphers_found(section)


def probe(params: dict[str, t.Any], run_command: RunCommand | None = None) -> dict[str, t.Any]:
    """Validate, probe every endpoint concurrently (results in input order), summarize.

    run_command (argv -> (rc, stdout)) is used for the stapled OCSP request; without it that part is skipped.
    """
    endpoints, opts = validate(params)
    results = _run(endpoints, Settings(opts, run_command))
    return {"endpoints": results, "summary": _classify.summarize(results), "options": opts}
