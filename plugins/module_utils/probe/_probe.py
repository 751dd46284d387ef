# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Concurrent endpoint probe: input validation, per-endpoint pipeline (TCP, TLS versions, certificate,
revocation, HTTP) and classification into status + reasons (plain Python, no Ansible imports)."""

from __future__ import annotations

import concurrent.futures
import ssl
import typing as t

from ansible_collections.port443.https.plugins.module_utils.certificate import _chain
from ansible_collections.port443.https.plugins.module_utils.probe import _ciphers, _clientcert, _http, _reach, _tls
from ansible_collections.port443.https.plugins.module_utils.host import _net
from ansible_collections.port443.https.plugins.module_utils.reasons import _classify
from ansible_collections.port443.https.plugins.module_utils.certificate import _policy
from ansible_collections.port443.https.plugins.module_utils.certificate import _x509

CHECKS = ("tcp", "tls_versions", "certificate", "revocation", "http", "ciphers")
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
    opts["_client_cert"] = (opts["client_cert"], opts["client_key"]) if opts.get("client_cert") else None
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
    }


# The whole probe of one endpoint (lookup, connects, handshakes, version probes, certificate and HTTP steps)
# may take at most BUDGET_FACTOR x timeout; what is not finished by then gets no verdict (deadline_exceeded).
BUDGET_FACTOR = 2.0


def probe_endpoint(ep: dict[str, t.Any], opts: dict[str, t.Any]) -> dict[str, t.Any]:
    """Probe one endpoint (normalized by validate()); never raises for network conditions."""
    return _run([ep], dict(opts, workers=1))[0]


def _run(endpoints: list[dict[str, t.Any]], opts: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """Reachability of every endpoint at once (one selector loop), then the TLS work of those that answered on a
    bounded pool of `workers` threads. Results in input order."""
    checks = opts["checks"]
    timeout = float(opts.get("timeout") or 5)
    want_tls = any(c in checks for c in ("tls_versions", "certificate", "revocation", "http", "ciphers"))
    workers = max(1, min(int(opts.get("workers") or 64), len(endpoints)))
    results: list[dict[str, t.Any] | None] = [None] * len(endpoints)
    futures = []
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers) if want_tls else None
    try:
        for reach in _reach.reach_all(endpoints, timeout, BUDGET_FACTOR * timeout, hello=want_tls,
                                      max_inflight=_reach.inflight_cap(workers)):
            res = _reach_result(reach, timeout)
            if pool is not None and reach.state == "open" and reach.answered:
                futures.append(pool.submit(_tls_phase, res, reach, opts, timeout))
            else:
                res["status"] = _classify.status_of(res["reasons"])
                results[reach.index] = res
        for future in futures:
            index, res = future.result()
            results[index] = res
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    if "ciphers" in checks:
        _ciphers_phase([r for r in results if r is not None and "_ciphers_target" in r], opts, timeout, workers)
    return t.cast("list[dict[str, t.Any]]", results)


def _ciphers_phase(pending: list[dict[str, t.Any]], opts: dict[str, t.Any], timeout: float, workers: int) -> None:
    """The ciphers check of every endpoint whose TLS phase asked for it, in one event loop (at most 4 x workers
    endpoints at once, each within what its TLS phase left of its budget); then its findings and the status again."""
    if not pending:
        return
    cap = min(4 * workers, _reach.inflight_cap(workers))
    sections = _ciphers.enumerate_many([res.pop("_ciphers_target") for res in pending], timeout, max_inflight=cap)
    for res, section in zip(pending, sections):
        res["ciphers"] = section
        for code, detail, severity, fix in _ciphers.findings(section, opts):
            res["reasons"].append(_classify.reason(code, detail, severity, fix))
        res["status"] = _classify.status_of(res["reasons"])


def _reach_result(reach: _reach.Reach, timeout: float) -> dict[str, t.Any]:
    """The result as far as the reachability phase tells: TCP state, addresses tried, and the reason when it ends here."""
    ep = reach.ep
    res = _empty_result(ep)
    reasons = res["reasons"]
    tcp = res["tcp"]
    tcp.update(state=reach.state, latency_ms=reach.latency_ms, error=reach.error,
               attempts=[{k: a.get(k) for k in ("address", "state", "latency_ms", "error")} for a in reach.attempts])
    target = ep["address"] or ep["host"]
    if reach.state == "unresolvable":
        reasons.append(_classify.reason("unresolvable", target))
        return res
    if reach.state == "dns_timeout":
        reasons.append(_classify.reason("dns_timeout", reach.error))
        return res
    if reach.sockaddr is not None:
        res["address"] = reach.sockaddr[0]
    if reach.state in ("closed", "filtered"):
        detail = "; ".join(f"{_hostport(a['address'], ep['port'])}: {a['error']}" for a in reach.attempts) or reach.error
        reasons.append(_classify.reason(reach.state, detail))
        return res
    if reach.answered is False:
        # Connected, but nothing answered the ClientHello on any address: no verdict on versions (null).
        res["tls"]["error"] = reach.error
        reasons.append(_classify.reason("no_tls_response", reach.error))
    return res


def _hostport(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _tls_phase(res: dict[str, t.Any], reach: _reach.Reach, opts: dict[str, t.Any], timeout: float) -> tuple[int, dict[str, t.Any]]:
    """TLS, versions, certificate and HTTP for an endpoint that answered, within what is left of its budget."""
    deadline = _net.Deadline(reach.left())
    unfinished: list[str] = []
    try:
        _tls_steps(res, reach, opts, timeout, deadline, unfinished)
    finally:
        target = res.get("_ciphers_target")
        if target is not None:
            target["seconds"] = deadline.remaining()
            if target["seconds"] <= 0:
                del res["_ciphers_target"]
                unfinished.append("ciphers")
        if unfinished:
            res["reasons"].append(_classify.reason(
                "deadline_exceeded", f"no verdict for {', '.join(unfinished)} within {BUDGET_FACTOR * timeout:g}s"))
        res["status"] = _classify.status_of(res["reasons"])
    return reach.index, res


def _tls_steps(res, reach, opts, timeout, deadline, unfinished) -> None:
    ep = reach.ep
    reasons = res["reasons"]
    checks = opts["checks"]
    family, sockaddr = reach.family, reach.sockaddr
    tls = res["tls"]

    if deadline.expired:
        unfinished.append("tls")
        return
    state, sock, _lat, error = _net.connect(family, sockaddr, deadline.timeout(timeout))
    if sock is None:
        if deadline.expired:
            unfinished.append("tls")
            return
        res["tcp"].update(state=state, error=error)
        reasons.append(_classify.reason(state, f"{_hostport(sockaddr[0], ep['port'])}: answered, then a new connection failed: {error}"))
        return
    step = deadline.timeout(timeout)
    hs = _main_handshake(sock, family, sockaddr, ep, opts, step, keep="http" in checks, deadline=deadline)
    hsts_raw = None
    tls["client_cert_requested"] = hs.cert_requested
    if hs.ok:
        tls.update(negotiated=hs.version, cipher=hs.cipher, alpn=hs.alpn)
        if hs.sock is not None:
            if hs.alpn != "h2" and not deadline.expired:
                hsts_raw = _tls_http_head(hs.sock, ep, deadline.timeout(timeout))
            hs.sock.close()
            if hs.alpn == "h2" and not deadline.expired:
                # The server chose HTTP/2: ask again over a session that offers HTTP/1.1 only.
                _st, hsock, _lat, _err = _net.connect(family, sockaddr, deadline.timeout(timeout))
                if hsock is not None:
                    hhs = _tls.handshake(hsock, ep["server_name"], deadline.timeout(timeout), alpn=("http/1.1",), keep=True,
                                         client_cert=opts.get("_client_cert"))
                    if hhs.sock is not None:
                        if not deadline.expired:
                            hsts_raw = _tls_http_head(hhs.sock, ep, deadline.timeout(timeout))
                        hhs.sock.close()
    else:
        tls["error"] = hs.error
        if hs.kind == "timeout":
            if deadline.expired and step < timeout:
                unfinished.append("tls")
            else:
                reasons.append(_classify.reason("no_tls_response", f"the TLS handshake did not complete within {step:g}s"))
            return  # versions stay null: unknown
        if hs.kind == "not_tls":
            plain = None
            if not deadline.expired:
                plain = _net.tcp_request(family, sockaddr, _http.request_bytes(ep["server_name"]), deadline.timeout(timeout))
            status, _headers = _http.parse_response(plain)
            detail = f"plain HTTP answered with status {status}" if status else hs.error
            reasons.append(_classify.reason("not_tls", detail))
            res["tls"]["versions"] = {v: False for v in _classify.TLS_VERSIONS}
            return
        if hs.kind == "too_large":
            reasons.append(_classify.reason("oversized_certificate_list", hs.error))
        elif hs.kind == "client_cert":
            reasons.append(_classify.reason("client_cert_required", hs.error))
        else:
            reasons.append(_classify.reason("handshake_failure", hs.error))

    if "tls_versions" in checks:
        _version_probes(res, reach, opts, timeout, deadline, unfinished, hs)
    elif hs.ok:
        tls["versions"][hs.version] = True

    if "ciphers" in checks:
        # Also when the handshake failed: a server that accepts only suites the local TLS library no longer
        # speaks (3DES, RC4, export) fails it, and the hand-built ClientHellos still see what it accepts.
        # The enumeration itself runs after the TLS phase, for all endpoints at once (_ciphers_phase).
        res["_ciphers_target"] = {"family": family, "sockaddr": sockaddr, "server_name": ep["server_name"], "seconds": 0.0}

    if hs.ok and hs.chain_der and ("certificate" in checks or "revocation" in checks):
        if not _x509.HAS_CRYPTOGRAPHY:
            res["certificate"] = {"error": "the Python library cryptography is not installed"}
        elif "revocation" in checks and deadline.expired:
            unfinished.append("certificate")
        else:
            _certificate_check(res, hs, ep, opts, deadline.timeout(timeout), reasons, deadline=deadline)

    if "http" in checks:
        if deadline.expired:
            unfinished.append("http")
        else:
            res["http"] = _http_check(ep, family, sockaddr, deadline.timeout(timeout), hsts_raw if hs.ok else None, opts, reasons,
                                      tls_ok=hs.ok, deadline=deadline)
            if hs.ok and hs.cert_requested and res["http"].get("status") == 400:
                # nginx (ssl_verify_client on) completes the handshake and refuses the request instead.
                reasons[:] = [r for r in reasons if r["code"] != "http_error"]
                reasons.append(_classify.reason("client_cert_required", _clientcert.http_refusal(bool(opts.get("_client_cert")))))


def _main_handshake(sock, family, sockaddr, ep, opts, timeout, keep, deadline):
    """The first handshake of an endpoint. With the certificate or revocation check it is a verifying one, so
    OpenSSL's path validation decides trust; a chain it rejects is read again over a second, non-verifying
    connection, so the explanation sees exactly what is served."""
    verify_ca = None
    if any(c in opts["checks"] for c in ("certificate", "revocation")):
        verify_ca = opts.get("ca_path") or ""
    client_cert = opts.get("_client_cert")
    hs = _tls.handshake(sock, ep["server_name"], timeout, alpn=("h2", "http/1.1"), keep=keep, want_chain=True, verify_ca=verify_ca,
                        client_cert=client_cert)
    if hs.kind != "verify_failed":
        return hs
    _state, again, _lat, error = _net.connect(family, sockaddr, deadline.timeout(timeout))
    if again is None:
        hs.kind, hs.error = "error", f"the chain was rejected ({hs.verify_message}); reconnecting to read it failed: {error}"
        return hs
    plain = _tls.handshake(again, ep["server_name"], deadline.timeout(timeout), alpn=("h2", "http/1.1"), keep=keep, want_chain=True,
                           client_cert=client_cert)
    plain.verified, plain.verify_code, plain.verify_message = False, hs.verify_code, hs.verify_message
    return plain


def _verification(hs) -> _chain.Verification:
    if hs.verified is None:
        return _chain.Verification(None, why="the handshake did not verify the chain")
    return _chain.Verification(hs.verified, hs.verify_code, hs.verify_message, validator=f"{ssl.OPENSSL_VERSION} (TLS handshake)")


def _version_probes(res, reach, opts, timeout, deadline, unfinished, hs) -> None:
    """One pinned handshake per version the default handshake did not already decide.

    true: accepted; false: refused; null: unknown (no answer in time, or no time left), with a reason.
    """
    ep = reach.ep
    versions = res["tls"]["versions"]
    negotiated = hs.version if hs.ok else None
    unknown, late = [], []
    for version in _classify.TLS_VERSIONS:
        if negotiated is not None and _classify.compare_tls_versions(version, negotiated) >= 0:
            # The server picked `negotiated` from an offer of 1.0-1.3: it supports no higher version.
            versions[version] = version == negotiated
            continue
        if deadline.expired:
            late.append(version)
            continue
        step = deadline.timeout(timeout)
        _st, vsock, _lat, err = _net.connect(reach.family, reach.sockaddr, step)
        if vsock is None:
            versions[version] = None
            (late if deadline.expired else unknown).append(version)
            continue
        vhs = _tls.handshake(vsock, ep["server_name"], deadline.timeout(timeout), version=version, client_cert=opts.get("_client_cert"),
                             watch=False)
        if getattr(vhs, "maybe_client_cert", False):
            # Refused with an alert a client certificate demand may explain: ask again, watching for a CertificateRequest.
            # Without that second answer the version is unknown, not refused.
            vsock = None
            if not deadline.expired:
                _st, vsock, _lat, err = _net.connect(reach.family, reach.sockaddr, deadline.timeout(timeout))
            if vsock is None:
                versions[version] = None
                (late if deadline.expired else unknown).append(version)
                continue
            vhs = _tls.handshake(vsock, ep["server_name"], deadline.timeout(timeout), version=version,
                                 client_cert=opts.get("_client_cert"))
        if vhs.kind == "timeout":
            versions[version] = None
            (late if deadline.expired else unknown).append(version)
            continue
        # A certificate list too large for the client, or a demand for a client certificate, still means the server
        # chose this version.
        versions[version] = bool((vhs.ok and vhs.version == version) or vhs.kind in ("too_large", "client_cert"))
    if unknown:
        res["reasons"].append(_classify.reason(
            "tls_version_unknown", f"TLS {', '.join(unknown)}: no answer within {timeout:g}s"))
    if late:
        unfinished.append("TLS " + ", ".join(late))
    low = [v for v in _classify.TLS_VERSIONS if versions.get(v) and _classify.compare_tls_versions(v, opts["min_tls_version"]) < 0]
    good = [v for v in _classify.TLS_VERSIONS if versions.get(v) and _classify.compare_tls_versions(v, opts["min_tls_version"]) >= 0]
    if low:
        sev = "warning" if good else "critical"
        res["reasons"].append(_classify.reason("legacy_tls_enabled", f"accepts TLS {', '.join(low)}; minimum is {opts['min_tls_version']}", sev))


def _certificate_check(res, hs, ep, opts, timeout, reasons, deadline=None) -> None:
    store = _x509.trust_store(opts.get("ca_path"))
    fetch = None
    if opts.get("aia_fetch", True):
        from ansible_collections.port443.https.plugins.module_utils.probe import _revocation

        def fetch(url):
            step = deadline.timeout(timeout) if deadline is not None else timeout
            if step <= 0:
                raise TimeoutError("no time left in the endpoint's budget")
            return _revocation.fetch(url, step, max_bytes=_AIA_MAX_BYTES)
    try:
        info, findings = _chain.evaluate(hs.chain_der, ep["server_name"], store, opts, _verification(hs), fetch=fetch,
                                         chain_complete=hs.chain_complete_known)
    except ValueError as exc:
        res["certificate"] = {"error": str(exc), "trusted": False, "verification": "unknown"}
        reasons.append(_classify.reason("certificate_unreadable", str(exc)))
        return
    if "certificate" in opts["checks"]:
        res["certificate"] = info
        for code, detail, severity, fix in findings:
            reasons.append(_classify.reason(code, detail, severity, fix))
    if "revocation" in opts["checks"]:
        from ansible_collections.port443.https.plugins.module_utils.probe import _revocation

        pair = _chain.issuer_for_revocation(hs.chain_der, store)
        # Every revocation step (staple, CRL, OCSP) takes what is left of the endpoint's budget, asked anew each time.
        step = (lambda: deadline.timeout(timeout)) if deadline is not None else timeout
        staple = _revocation.stapled(res["address"], ep["port"], ep["server_name"], step, opts.get("_run_command"))
        res["revocation"] = _revocation.check(pair, step, staple) if pair else {
            "status": "unknown", "source": None, "detail": "issuer certificate not available", "stapled": staple}
        status = res["revocation"]["status"]
        if status == "revoked":
            reasons.append(_classify.reason("revoked", res["revocation"].get("detail")))
        elif status != "good":
            reasons.append(_classify.reason("revocation_unknown", res["revocation"].get("detail")))


_AIA_MAX_BYTES = 64 * 1024


def _tls_http_head(tls_sock, ep, timeout) -> bytes | None:
    try:
        tls_sock.sendall(_http.request_bytes(_http.host_header(ep["server_name"], ep["port"], 443), "GET", ep.get("http_path") or "/"))
        return _net.read_headers(tls_sock, timeout)
    except OSError:
        return None


def _http_check(ep, family, sockaddr, timeout, hsts_raw, opts, reasons, tls_ok=False, deadline=None) -> dict[str, t.Any]:
    out: dict[str, t.Any] = {"redirect": None, "hsts": None, "path": ep.get("http_path") or "/", "status": None, "location": None}
    # Port 80 (or http_port): plain request, expect a redirect to the https URL.
    http_addr = (sockaddr[0], ep["http_port"]) + tuple(sockaddr[2:])
    raw = _net.tcp_request(family, http_addr, _http.request_bytes(_http.host_header(ep["server_name"], ep["http_port"], 80), "GET"), timeout)
    status, headers = _http.parse_response(raw)
    redirect = _http.evaluate_redirect(status, headers, ep["server_name"], ep["port"])
    if raw is None:
        redirect["error"] = f"no HTTP answer on port {ep['http_port']}"
    out["redirect"] = redirect
    if not redirect["ok"]:
        detail = redirect.get("error") or f"port {ep['http_port']} answered {status} {redirect.get('location') or ''}".strip()
        reasons.append(_classify.reason("no_redirect", detail, "critical" if opts.get("require_redirect") else None))
    if tls_ok:
        hstatus, hheaders = _http.parse_response(hsts_raw)
        out["status"] = hstatus
        out["location"] = hheaders.get("location")
        out["hsts"] = _http.parse_hsts(hheaders.get("strict-transport-security"))
        if not out["hsts"]["present"]:
            detail = "no HTTP answer over TLS" if hstatus is None else f"HTTPS status {hstatus}"
            reasons.append(_classify.reason("no_hsts", detail, "critical" if opts.get("require_hsts") else None))
        url = f"https://{_http.host_header(ep['server_name'], ep['port'], 443)}{out['path']}"
        for code, detail in _http.evaluate_answer(hstatus, hheaders, url, opts.get("http_expected_status")):
            reasons.append(_classify.reason(code, detail))
    return out


def probe(params: dict[str, t.Any], run_command: t.Callable[[list[str]], tuple[int, str]] | None = None) -> dict[str, t.Any]:
    """Validate, probe every endpoint concurrently (results in input order), summarize.

    run_command (argv -> (rc, stdout)) is used for the stapled OCSP request; without it that part is skipped.
    """
    endpoints, opts = validate(params)
    opts["_run_command"] = run_command
    results = _run(endpoints, opts)
    opts.pop("_run_command", None)
    opts.pop("_client_cert", None)
    return {"endpoints": results, "summary": _classify.summarize(results), "options": opts}
