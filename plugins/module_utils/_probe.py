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

from ansible_collections.port443.https.plugins.module_utils import _chain, _classify, _http, _net, _policy, _tls, _x509

CHECKS = ("tcp", "tls_versions", "certificate", "revocation", "http")
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
    except _policy.PolicyInputError as exc:
        raise ProbeInputError(str(exc)) from None
    return normalized, opts


def _empty_result(ep: dict[str, t.Any]) -> dict[str, t.Any]:
    return {
        "host": ep["host"], "port": ep["port"], "server_name": ep["server_name"], "address": ep["address"],
        "status": "ok", "reasons": [],
        "tcp": {"state": None, "latency_ms": None, "error": None},
        "tls": {"versions": {v: None for v in _classify.TLS_VERSIONS}, "negotiated": None, "cipher": None, "alpn": None, "error": None},
        "certificate": None,
        "revocation": None,
        "http": None,
    }


def probe_endpoint(ep: dict[str, t.Any], opts: dict[str, t.Any]) -> dict[str, t.Any]:
    """Probe one endpoint; never raises for network conditions."""
    res = _empty_result(ep)
    reasons = res["reasons"]
    checks = opts["checks"]
    timeout = float(opts.get("timeout") or 5)
    want_tls = any(c in checks for c in ("tls_versions", "certificate", "revocation", "http"))

    target = ep["address"] or ep["host"]
    resolved = _net.resolve(target, ep["port"])
    if resolved is None:
        res["tcp"]["state"] = "unresolvable"
        reasons.append(_classify.reason("unresolvable", target))
        res["status"] = _classify.status_of(reasons)
        return res
    family, sockaddr = resolved
    res["address"] = sockaddr[0]

    state, sock, latency, error = _net.connect(family, sockaddr, timeout)
    res["tcp"].update(state=state, latency_ms=latency, error=error)
    if sock is None:
        reasons.append(_classify.reason(state, f"{sockaddr[0]}:{ep['port']}: {error}"))
        res["status"] = _classify.status_of(reasons)
        return res
    if not want_tls:
        sock.close()
        res["status"] = _classify.status_of(reasons)
        return res

    hs = _main_handshake(sock, family, sockaddr, ep, opts, timeout, keep="http" in checks)
    tls = res["tls"]
    hsts_raw = None
    if hs.ok:
        tls.update(negotiated=hs.version, cipher=hs.cipher, alpn=hs.alpn)
        if hs.sock is not None:
            if hs.alpn != "h2":
                hsts_raw = _tls_http_head(hs.sock, ep, timeout)
            hs.sock.close()
            if hs.alpn == "h2":
                # The server chose HTTP/2: ask again over a session that offers HTTP/1.1 only.
                _st, hsock, _lat, _err = _net.connect(family, sockaddr, timeout)
                if hsock is not None:
                    hhs = _tls.handshake(hsock, ep["server_name"], timeout, alpn=("http/1.1",), keep=True)
                    if hhs.sock is not None:
                        hsts_raw = _tls_http_head(hhs.sock, ep, timeout)
                        hhs.sock.close()
    else:
        tls["error"] = hs.error
        if hs.kind == "timeout":
            reasons.append(_classify.reason("no_tls_response", f"nothing received within {timeout:g}s"))
        elif hs.kind == "too_large":
            reasons.append(_classify.reason("oversized_certificate_list", hs.error))
        elif hs.kind == "not_tls":
            plain = _net.tcp_request(family, sockaddr, _http.request_bytes(ep["server_name"]), timeout)
            status, _headers = _http.parse_response(plain)
            detail = f"plain HTTP answered with status {status}" if status else hs.error
            reasons.append(_classify.reason("not_tls", detail))
        else:
            reasons.append(_classify.reason("handshake_failure", hs.error))
        if hs.kind in ("timeout", "not_tls"):
            res["tls"]["versions"] = {v: False for v in _classify.TLS_VERSIONS}
            res["status"] = _classify.status_of(reasons)
            return res

    if "tls_versions" in checks:
        versions = tls["versions"]
        negotiated = hs.version if hs.ok else None
        for version in _classify.TLS_VERSIONS:
            if negotiated is not None and _classify.compare_tls_versions(version, negotiated) >= 0:
                # The server picked `negotiated` from an offer of 1.0-1.3: it supports no higher version.
                versions[version] = version == negotiated
                continue
            st, vsock, _lat, _err = _net.connect(family, sockaddr, timeout)
            if vsock is None:
                versions[version] = None
                continue
            vhs = _tls.handshake(vsock, ep["server_name"], timeout, version=version)
            # A certificate list too large for the client still means the server chose this version.
            versions[version] = bool((vhs.ok and vhs.version == version) or vhs.kind == "too_large")
        low = [v for v in _classify.TLS_VERSIONS if versions.get(v) and _classify.compare_tls_versions(v, opts["min_tls_version"]) < 0]
        good = [v for v in _classify.TLS_VERSIONS if versions.get(v) and _classify.compare_tls_versions(v, opts["min_tls_version"]) >= 0]
        if low:
            sev = "warning" if good else "critical"
            reasons.append(_classify.reason("legacy_tls_enabled", f"accepts TLS {', '.join(low)}; minimum is {opts['min_tls_version']}", sev))
    elif hs.ok:
        tls["versions"][hs.version] = True

    if hs.ok and hs.chain_der and ("certificate" in checks or "revocation" in checks):
        if not _x509.HAS_CRYPTOGRAPHY:
            res["certificate"] = {"error": "the Python library cryptography is not installed"}
        else:
            _certificate_check(res, hs, ep, opts, timeout, reasons)

    if "http" in checks:
        res["http"] = _http_check(ep, family, sockaddr, timeout, hsts_raw if hs.ok else None, opts, reasons, tls_ok=hs.ok)
    res["status"] = _classify.status_of(reasons)
    return res


def _main_handshake(sock, family, sockaddr, ep, opts, timeout, keep):
    """The first handshake of an endpoint. With the certificate or revocation check it is a verifying one, so
    OpenSSL's path validation decides trust; a chain it rejects is read again over a second, non-verifying
    connection, so the explanation sees exactly what is served."""
    verify_ca = None
    if any(c in opts["checks"] for c in ("certificate", "revocation")):
        verify_ca = opts.get("ca_path") or ""
    hs = _tls.handshake(sock, ep["server_name"], timeout, alpn=("h2", "http/1.1"), keep=keep, want_chain=True, verify_ca=verify_ca)
    if hs.kind != "verify_failed":
        return hs
    _state, again, _lat, error = _net.connect(family, sockaddr, timeout)
    if again is None:
        hs.kind, hs.error = "error", f"the chain was rejected ({hs.verify_message}); reconnecting to read it failed: {error}"
        return hs
    plain = _tls.handshake(again, ep["server_name"], timeout, alpn=("h2", "http/1.1"), keep=keep, want_chain=True)
    plain.verified, plain.verify_code, plain.verify_message = False, hs.verify_code, hs.verify_message
    return plain


def _verification(hs) -> _chain.Verification:
    if hs.verified is None:
        return _chain.Verification(None, why="the handshake did not verify the chain")
    return _chain.Verification(hs.verified, hs.verify_code, hs.verify_message, validator=f"{ssl.OPENSSL_VERSION} (TLS handshake)")


def _certificate_check(res, hs, ep, opts, timeout, reasons) -> None:
    store = _x509.trust_store(opts.get("ca_path"))
    fetch = None
    if opts.get("aia_fetch", True):
        from ansible_collections.port443.https.plugins.module_utils import _revocation

        def fetch(url):
            return _revocation.fetch(url, timeout, max_bytes=_AIA_MAX_BYTES)
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
        from ansible_collections.port443.https.plugins.module_utils import _revocation

        pair = _chain.issuer_for_revocation(hs.chain_der, store)
        staple = _revocation.stapled(res["address"], ep["port"], ep["server_name"], timeout, opts.get("_run_command"))
        res["revocation"] = _revocation.check(pair, timeout, staple) if pair else {
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


def _http_check(ep, family, sockaddr, timeout, hsts_raw, opts, reasons, tls_ok=False) -> dict[str, t.Any]:
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
    workers = max(1, min(int(opts.get("workers") or 64), len(endpoints)))
    if workers == 1:
        results = [probe_endpoint(ep, opts) for ep in endpoints]
    else:
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(lambda ep: probe_endpoint(ep, opts), endpoints))
    opts.pop("_run_command", None)
    return {"endpoints": results, "summary": _classify.summarize(results), "options": opts}
