# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Reason codes, their explanations and fixes, severities, and fleet summaries (plain Python)."""

from __future__ import annotations

import typing as t

SEVERITIES = ("ok", "warning", "critical")
# The TLS versions the collection knows, oldest first (the probe's checks, the profiles, the report's matrix).
TLS_VERSIONS = ("1.0", "1.1", "1.2", "1.3")

# The sections of an endpoint result that reasons belong to (report grouping, one junit test case per endpoint and
# section). "tls" is the whole TLS section of a result: the handshake and, with the tls_versions check, the versions.
SECTIONS = ("tcp", "tls", "ciphers", "certificate", "revocation", "http", "http3")


class Reason(t.NamedTuple):
    """One entry of the registry: default severity, one-line explanation, likely fix, and the section of an endpoint
    result it belongs to (one of SECTIONS, or "other": a verdict about the whole endpoint)."""

    severity: str
    message: str
    fix: str
    check: str


# code -> Reason. The wording follows one troubleshooting logic: closed means nothing listens
# (or the wrong interface), a timeout means a firewall drops packets, open-but-TLS-fails means certificate, SNI or
# proxy configuration.
REASONS: dict[str, Reason] = {
    "unresolvable": Reason(
        "critical",
        "The host name does not resolve to an address.",
        "Fix DNS: the name needs an A/AAAA record pointing at the server's public address (or pass address: to test a specific IP).",
        "tcp",
    ),
    "closed": Reason(
        "critical",
        "The connection was refused: nothing listens on this port, or the service listens only on localhost or another interface.",
        "Start the web server and make it listen on this address and port (check with 'ss -tlnp'); publish the port if it runs in a container.",
        "tcp",
    ),
    "filtered": Reason(
        "critical",
        "The connection timed out: a host firewall, cloud security group, router or upstream provider drops the packets.",
        "Allow inbound TCP on this port in the host firewall (ufw/firewalld/nftables/iptables), the cloud security group and any router or NAT in between.",
        "tcp",
    ),
    "no_tls_response": Reason(
        "critical",
        "TCP connects but nothing answers the TLS ClientHello (tarpit, stuck proxy or a backend that never speaks).",
        "Check what really listens on the port (ss -tlnp), the reverse proxy upstream and the application logs; the listener must speak TLS.",
        "tls",
    ),
    "not_tls": Reason(
        "critical",
        "The port answers, but not with TLS (plain HTTP or another protocol on the HTTPS port).",
        "Enable TLS on this listener (for example nginx 'listen 443 ssl;' with a certificate), or move the plain-text service to another port.",
        "tls",
    ),
    "handshake_failure": Reason(
        "critical",
        "TCP is open but the TLS handshake fails.",
        "Check the certificate and key configuration, SNI (server name) routing, enabled TLS versions and ciphers on the server or proxy.",
        "tls",
    ),
    "legacy_tls_enabled": Reason(
        "warning",
        "The server accepts TLS versions below the minimum policy version.",
        "Disable obsolete protocols, e.g. nginx 'ssl_protocols TLSv1.2 TLSv1.3;', Apache 'SSLProtocol -all +TLSv1.2 +TLSv1.3'.",
        "tls",
    ),
    "expired": Reason(
        "critical",
        "The server certificate has expired.",
        "Renew the certificate (check that automatic renewal runs) and reload the web server so it serves the new file.",
        "certificate",
    ),
    "not_yet_valid": Reason(
        "critical",
        "The server certificate is not valid yet (its notBefore date is in the future).",
        "Check the clock of the issuing CA and of this host, or deploy the currently valid certificate.",
        "certificate",
    ),
    "expiring_soon": Reason(
        "warning",
        "The server certificate expires soon.",
        "Renew the certificate now and make sure automatic renewal (e.g. certbot timer) works.",
        "certificate",
    ),
    "hostname_mismatch": Reason(
        "critical",
        "The certificate does not cover the name clients use (SAN DNS/IP entries, wildcards checked).",
        "Issue a certificate whose subjectAltName lists this name, or fix SNI routing so the right certificate is served.",
        "certificate",
    ),
    "cn_only": Reason(
        "critical",
        "The name appears only in the certificate's Common Name; modern clients ignore the CN and require a subjectAltName.",
        "Reissue the certificate with the host name in the subjectAltName extension.",
        "certificate",
    ),
    "self_signed": Reason(
        "critical",
        "The server presents a self-signed certificate that is not in the trust store.",
        "Use a certificate from a public or internal CA, or distribute this certificate to clients and pass it as ca_path.",
        "certificate",
    ),
    "untrusted_root": Reason(
        "critical",
        "The chain ends in a root CA that is not in the trust store.",
        "Use a certificate from a CA the clients trust, or add the private root to the clients' trust store (ca_path for this check).",
        "certificate",
    ),
    "incomplete_chain": Reason(
        "critical",
        "The server does not send the intermediate certificate(s) needed to reach a trusted root (even if clients could fetch them via AIA).",
        "Serve the full chain: leaf followed by intermediates (nginx ssl_certificate fullchain.pem, Apache SSLCertificateFile with the chain).",
        "certificate",
    ),
    "expired_intermediate": Reason(
        "critical",
        "An intermediate or root certificate in the chain has expired or is not valid yet.",
        "Replace the chain file with the CA's current intermediate certificates.",
        "certificate",
    ),
    "weak_key": Reason(
        "critical",
        "A certificate in the served chain uses a weak key (RSA below the minimum size, EC below 256 bits).",
        "Reissue the certificate with an RSA key of at least 2048 bits or an ECDSA P-256/P-384 key.",
        "certificate",
    ),
    "weak_signature": Reason(
        "critical",
        "A certificate in the served chain is signed with SHA-1 or MD5, which clients reject.",
        "Reissue the certificate (and intermediates) with a SHA-256 or stronger signature.",
        "certificate",
    ),
    "no_sct": Reason(
        "critical",
        "A publicly trusted certificate carries no Signed Certificate Timestamp (Certificate Transparency): browsers reject it.",
        "Obtain the certificate from a CA that logs it (every public CA embeds SCTs); never serve a precertificate.",
        "certificate",
    ),
    "too_few_scts": Reason(
        "critical",
        "A publicly trusted certificate has fewer SCTs from distinct logs than the browsers' CT policy asks for its lifetime.",
        "Reissue the certificate (the CA embeds enough SCTs), or serve SCTs from more logs in the TLS extension.",
        "certificate",
    ),
    "revoked": Reason(
        "critical",
        "The certificate has been revoked by its CA (CRL or OCSP).",
        "Obtain and deploy a new certificate; find out why the old one was revoked (key compromise?).",
        "revocation",
    ),
    "no_hsts": Reason(
        "warning",
        "The HTTPS response carries no Strict-Transport-Security header.",
        "Send 'Strict-Transport-Security: max-age=31536000' (nginx add_header ... always) once HTTPS works everywhere.",
        "http",
    ),
    "no_redirect": Reason(
        "warning",
        "Port 80 does not redirect plain HTTP to the https:// URL.",
        "Serve a 301/308 redirect to https://$host$request_uri on port 80 (or close port 80 deliberately and require_redirect: false).",
        "http",
    ),
    "key_mismatch": Reason(
        "critical",
        "The private key does not belong to the certificate.",
        "Deploy the key that was used for the certificate request (compare 'openssl x509 -noout -pubkey' with 'openssl pkey -pubout').",
        "certificate",
    ),
    "chain_order": Reason(
        "warning",
        "The chain file is not in order: each certificate must be followed by its issuer.",
        "Order the file leaf first, then each intermediate, each one issued by the next.",
        "certificate",
    ),
    "certificate_unreadable": Reason(
        "critical",
        "The served certificate could not be parsed.",
        "Check the certificate file configured on the server; it must be a valid X.509 certificate in PEM format.",
        "certificate",
    ),
    "issuer_not_ca": Reason(
        "critical",
        "A certificate in the chain was signed by a certificate that is not a CA (basicConstraints CA:FALSE or absent): "
        "anyone holding an ordinary server certificate's key could have made it (forged chain).",
        "Serve a certificate issued by a real CA, with the CA's intermediate certificates; never sign certificates with a leaf key.",
        "certificate",
    ),
    "path_length_exceeded": Reason(
        "critical",
        "The chain is longer than a CA's pathLenConstraint allows (a sub-CA was issued where the CA may issue only leaves).",
        "Get the certificate from an intermediate that is allowed to issue it (check the CA's basicConstraints pathlen) and serve that chain.",
        "certificate",
    ),
    "name_constraints_violated": Reason(
        "critical",
        "The certificate names fall outside the name constraints of a CA in the chain.",
        "Issue the certificate from a CA whose nameConstraints permit these names, or request names inside the permitted subtrees.",
        "certificate",
    ),
    "unsuitable_purpose": Reason(
        "critical",
        "A certificate in the chain is not valid for TLS servers (extendedKeyUsage without serverAuth, e.g. clientAuth only).",
        "Reissue the certificate with extendedKeyUsage serverAuth (and intermediates that allow it).",
        "certificate",
    ),
    "issuer_key_usage": Reason(
        "critical",
        "A certificate in the chain was signed by a certificate whose keyUsage does not include keyCertSign.",
        "Serve a chain whose CA certificates carry keyUsage keyCertSign; reissue from a properly configured CA.",
        "certificate",
    ),
    "bad_signature": Reason(
        "critical",
        "A signature in the chain does not verify (tampered certificate, or the wrong intermediate with the same name).",
        "Serve the intermediate that really issued the certificate (compare the Authority Key Identifier with the intermediate's Subject Key Identifier).",
        "certificate",
    ),
    "untrusted_chain": Reason(
        "critical",
        "The certificate path validator rejected the chain for a reason not covered by a more specific code "
        "(its message is in the detail).",
        "Read the validator's message in the detail, check the chain with "
        "'openssl s_client -connect HOST:443 -servername NAME -showcerts', and reissue or fix the chain.",
        "certificate",
    ),
    "verification_unknown": Reason(
        "warning",
        "Whether the certificate is trusted could not be established (the reason is in the detail); this is not an ok.",
        "Fix what prevented verification (the detail names it), e.g. install python3-cryptography and openssl on the host "
        "that runs the check, or run the check from the controller.",
        "certificate",
    ),
    "revocation_unknown": Reason(
        "warning",
        "Revocation was requested but no answer could be reached (no OCSP/CRL URL, responder unreachable or the issuer is unknown).",
        "Make sure the host running the check reaches the CA's OCSP responder or CRL, and that the server sends its intermediates; OCSP stapling helps.",
        "revocation",
    ),
    "oversized_certificate_list": Reason(
        "critical",
        "The certificate list the server sends is larger than OpenSSL clients accept (100 KiB): curl, Python and other OpenSSL-based clients cannot connect.",
        "Serve a smaller certificate: fewer subjectAltNames per certificate (split into several certificates) and no superfluous certificates in the chain.",
        "tls",
    ),
    "dns_timeout": Reason(
        "critical",
        "The host name did not resolve within the timeout (the resolver did not answer).",
        "Check the resolvers configured on the host running the check (/etc/resolv.conf) and the name's authoritative DNS servers.",
        "tcp",
    ),
    "tls_version_unknown": Reason(
        "warning",
        "A TLS version probe got no verdict (no answer within the timeout, a close or reset that an answered offer did not confirm, "
        "or an alert that declines nothing), so whether the server accepts that version is unknown.",
        "Re-run with a larger timeout; check the server's load and any middlebox that delays or drops handshakes.",
        "tls",
    ),
    "deadline_exceeded": Reason(
        "warning",
        "The endpoint used up its time budget (about twice the timeout) before every check finished; the unfinished checks have no verdict.",
        "Look at why the server answers slowly (load, a drip-feeding proxy); re-run with a larger timeout for this endpoint.",
        "other",
    ),
    "https_downgrade": Reason(
        "critical",
        "The HTTPS answer redirects to a plain http:// URL, downgrading visitors to an unencrypted connection.",
        "Make the HTTPS site redirect only to https:// URLs (check the application's base URL and the proxy's X-Forwarded-Proto handling).",
        "http",
    ),
    "http_error": Reason(
        "warning",
        "The HTTPS answer on the probed path is an HTTP error (4xx/5xx) or not the expected status.",
        "Serve content on the probed path (document root, index file, upstream application), "
        "or set http_path/http_expected_status to what the site should answer.",
        "http",
    ),
    "weak_cipher": Reason(
        "critical",
        "The server accepts a broken cipher suite (NULL, anonymous, export, RC4, DES or 3DES).",
        "Remove the suite from the server's cipher list: set the list of the chosen Mozilla profile "
        "(nginx ssl_ciphers, Apache SSLCipherSuite, Caddy tls ciphers).",
        "ciphers",
    ),
    "cbc_only": Reason(
        "warning",
        "Below TLS 1.3 the server accepts only CBC-mode suites (no AEAD suite such as AES-GCM or ChaCha20-Poly1305).",
        "Enable the AEAD suites of the chosen Mozilla profile (ECDHE with AES-GCM or ChaCha20-Poly1305), or enable TLS 1.3.",
        "ciphers",
    ),
    "no_forward_secrecy": Reason(
        "warning",
        "The server accepts suites with static RSA key exchange: a stolen server key decrypts recorded traffic.",
        "Remove the TLS_RSA_WITH_* suites (OpenSSL names without ECDHE/DHE, such as AES128-GCM-SHA256) from the cipher list.",
        "ciphers",
    ),
    "weak_dh": Reason(
        "critical",
        "The server's finite-field Diffie-Hellman group is weak: under 2048 bits, not prime, or not a safe prime.",
        "Stop offering DHE suites (Mozilla's 6.0 profiles have none), or use the RFC 7919 ffdhe2048 group "
        "(nginx ssl_dhparam, Apache SSLOpenSSLConfCmd DHParameters).",
        "ciphers",
    ),
    "no_pq_kex": Reason(
        "warning",
        "The server does not accept the hybrid post-quantum key exchange group X25519MLKEM768.",
        "Serve TLS with OpenSSL 3.5 or newer (Debian 13) or Caddy built with Go 1.24 or newer, with X25519MLKEM768 first in the groups.",
        "ciphers",
    ),
    "profile_mismatch": Reason(
        "warning",
        "What the server accepts differs from the chosen Mozilla profile (extra or missing protocol versions, suites or groups).",
        "Render the server's TLS settings from the profile (port443.https.webserver role, or the settings at ssl-config.mozilla.org) "
        "and reload the server.",
        "ciphers",
    ),
    "client_cert_required": Reason(
        "warning",
        "The server demands a client certificate, and none (or one it does not accept) was presented.",
        "Expected for a staff-only service: pass client_cert and client_key to probe it. Otherwise remove the client "
        "certificate requirement (nginx ssl_verify_client, Apache SSLVerifyClient).",
        "tls",
    ),
    "cipher_enumeration_unknown": Reason(
        "warning",
        "The cipher suite enumeration did not finish (timeouts, connections closed or reset without an answer, answers that contradict "
        "each other or cannot be read), so which suites the server accepts is unknown.",
        "Re-run with a larger timeout; check for a connection limiter (nginx limit_conn, fail2ban, a load balancer) or a middlebox that "
        "closes, drops or rewrites handshakes, and allow the probing address more connections.",
        "ciphers",
    ),
    "h3_unreachable": Reason(
        "critical",
        "The HTTPS answer advertises HTTP/3 (Alt-Svc h3), but nothing answers QUIC on the UDP port: browsers try HTTP/3 "
        "first and wait for it to time out before they fall back to TCP, so the site is slow although every TCP check passes.",
        "Open the UDP port in the host firewall (ufw allow 443/udp; firewall-cmd --add-port=443/udp; an nftables or iptables "
        "'udp dport 443 accept' rule) and any cloud security group, and make the server listen on it (Caddy: no "
        "'protocols h1 h2' that leaves out h3; nginx: 'listen 443 quic reuseport;' beside 'listen 443 ssl;'; HAProxy: a "
        "'bind quic4@:443' line). Or stop advertising HTTP/3: remove the Alt-Svc header (nginx and HAProxy "
        "'add_header'/'http-response set-header Alt-Svc', Apache 'Header unset Alt-Svc': Apache has no HTTP/3 at all).",
        "http3",
    ),
    "h3_versions": Reason(
        "warning",
        "The QUIC server on the UDP port offers no standard QUIC version (v1, RFC 9000, or v2, RFC 9369), only draft or "
        "vendor versions: current browsers cannot use its HTTP/3.",
        "Upgrade the QUIC server (Caddy 2.6 or later, nginx 1.25 or later built with the HTTP/3 module, HAProxy 2.6 or later "
        "with QUIC) so that it speaks QUIC v1; until then remove the Alt-Svc h3 advertisement (Apache: no HTTP/3, remove "
        "the Alt-Svc header).",
        "http3",
    ),
    "h3_chain_differs": Reason(
        "warning",
        "The certificate chain served over QUIC (HTTP/3) differs from the one served over TCP: browsers that use HTTP/3 "
        "see another certificate (often a stale one the QUIC listener never reloaded, or another server on UDP 443).",
        "Serve the same certificate files on both listeners and reload the server after a renewal (Caddy serves one "
        "certificate for both; nginx: the same ssl_certificate for the 'quic' and 'ssl' listens; HAProxy: the same crt "
        "on the quic4@ and TCP binds; Apache: no HTTP/3, remove the Alt-Svc header), and check that nothing else "
        "(a second server, a load balancer) answers UDP on the port.",
        "http3",
    ),
    "h3_invalid_response": Reason(
        "warning",
        "Something answers on the UDP port, but not with a valid QUIC Version Negotiation packet (garbage, a truncated "
        "packet, or connection IDs that are not the probe's): another protocol listens there, or a middlebox rewrites it.",
        "Find what listens on the UDP port (ss -ulnp) and give the port to the web server's QUIC listener (Caddy; nginx "
        "'listen 443 quic'; HAProxy 'bind quic4@:443'), or stop advertising HTTP/3 (remove the Alt-Svc header; Apache "
        "has no HTTP/3); check any firewall or NAT that rewrites UDP.",
        "http3",
    ),
    "unknown_status": Reason(
        "critical",
        "A result handed to the report has no status, or one that is not ok, warning or critical; it is counted as critical, never as ok.",
        "Pass the endpoints list of port443.https.https_endpoint_info unchanged (its status is always ok, warning or critical).",
        "other",
    ),
    "vantage_filtered": Reason(
        "critical",
        "The port is open from another vantage point but times out from this one: a host firewall, cloud security group "
        "or upstream filter drops this vantage's packets.",
        "Allow inbound TCP on this port from this vantage's network in the host firewall, the security group and any "
        "router or NAT in between (or accept that the service is internal only).",
        "tcp",
    ),
    "vantage_refused": Reason(
        "critical",
        "The port is open from another vantage point but refuses connections from this one: a firewall REJECT rule, "
        "a missing port forward or NAT, or a listener bound to another interface.",
        "Check the firewall rules that reject this vantage's network, the port forward or NAT in front of the host, and the address the web server listens on.",
        "tcp",
    ),
    "vantage_answer_differs": Reason(
        "warning",
        "This vantage point is served a different certificate (or no TLS) than another one: a proxy, load balancer, "
        "CDN or TLS-intercepting device sits in between on one path.",
        "Find what answers on that path (compare the certificates' issuers and fingerprints in the report) and give it "
        "the same certificate, or route the path to the server directly.",
        "tls",
    ),
    "vantage_missing": Reason(
        "critical",
        "The probe from this vantage point did not run or did not return this endpoint, so its view is unknown.",
        "Make the vantage host reachable by Ansible (ansible -m ping HOST) with Python 3 on it, then run the audit again.",
        "other",
    ),
}


# TCP connects but no TLS session comes up: nothing in the TLS section after these can be judged.
TLS_FAILURES = ("no_tls_response", "not_tls", "handshake_failure")

# The findings of the ciphers check that mean a server is not shown to serve the Mozilla profile rendered for it:
# a mismatch, a broken suite or DH group, or an enumeration that did not finish (no proof). The webserver role's
# verification and the verify_https playbook fail on them (the port443.https.profile_failure test).
PROFILE_FAILURES = ("profile_mismatch", "cipher_enumeration_unknown", "weak_cipher", "weak_dh")


def reason(code: str, detail: str | None = None, severity: str | None = None, fix_detail: str | None = None) -> dict[str, str]:
    """Build one reason dict {code, severity, message, fix}; fix_detail adds what is known about this case to the fix."""
    entry = REASONS[code]
    message = f"{entry.message} ({detail})" if detail else entry.message
    fix = f"{entry.fix} {fix_detail}" if fix_detail else entry.fix
    return {"code": code, "severity": severity or entry.severity, "message": message, "fix": fix}


def check_of(code: str) -> str:
    """The section of an endpoint result a reason code belongs to ("other" for a code the registry does not know)."""
    entry = REASONS.get(code)
    return entry.check if entry else "other"


def explain(code: str) -> dict[str, str]:
    """Explanation and fix of a reason code; raises KeyError for unknown codes."""
    entry = REASONS[code]
    return {"code": code, "severity": entry.severity, "message": entry.message, "fix": entry.fix}


def severity_of(value: t.Any) -> str:
    """A severity as given when it is ok, warning or critical; anything else (missing, misspelt) is critical.

    Never fail open: a finding whose severity cannot be read must not make an endpoint look healthy."""
    return value if value in SEVERITIES else "critical"


def status_of(reasons: t.Iterable[dict[str, t.Any]]) -> str:
    """The worst severity among reasons (ok when there is none; a reason without a known severity is critical)."""
    worst = 0
    for item in reasons:
        sev = severity_of(item.get("severity") if isinstance(item, dict) else None)
        worst = max(worst, SEVERITIES.index(sev))
    return SEVERITIES[worst]


def effective_status(res: dict[str, t.Any]) -> str:
    """An endpoint result's status, never better than its reasons; a missing or unknown status is critical."""
    status = severity_of(res.get("status"))
    reasons = res.get("reasons") or []
    worst = status_of(reasons if isinstance(reasons, list) else [{}])
    return max(status, worst, key=SEVERITIES.index)


def summarize(results: t.Iterable[dict[str, t.Any]]) -> dict[str, t.Any]:
    """Fleet summary: counts per status and per reason code (an unknown status counts as critical)."""
    summary: dict[str, t.Any] = {"total": 0, "ok": 0, "warning": 0, "critical": 0, "by_reason": {}}
    for res in results:
        summary["total"] += 1
        summary[effective_status(res)] += 1
        reasons = res.get("reasons") or []
        for item in reasons if isinstance(reasons, list) else []:
            code = item.get("code") if isinstance(item, dict) else None
            if code:
                summary["by_reason"][code] = summary["by_reason"].get(code, 0) + 1
    return summary


def normalize_tls_version(value: t.Any) -> str:
    """'TLSv1.2', 'tls1_2', '1.2', 1.2 -> '1.2'. Raises ValueError for anything else."""
    text = str(value).strip().lower().replace("_", ".")
    for prefix in ("tlsv", "tls "):
        if text.startswith(prefix):
            text = text[len(prefix):]
    if text.startswith("tls"):
        text = text[3:]
    if text in ("1", "1.0"):
        text = "1.0"
    if text not in TLS_VERSIONS:
        raise ValueError(f"{value!r} is not a TLS version (expected one of {', '.join(TLS_VERSIONS)})")
    return text


def compare_tls_versions(left: t.Any, right: t.Any) -> int:
    """-1, 0 or 1 as left is lower than, equal to or higher than right."""
    a = TLS_VERSIONS.index(normalize_tls_version(left))
    b = TLS_VERSIONS.index(normalize_tls_version(right))
    return (a > b) - (a < b)


def failing(results: t.Iterable[dict[str, t.Any]], fail_on: str) -> list[dict[str, t.Any]]:
    """Endpoints whose status reaches the fail_on level (never: none)."""
    if fail_on == "never":
        return []
    levels = ("critical",) if fail_on == "critical" else ("warning", "critical")
    return [res for res in results if effective_status(res) in levels]


def failure_message(bad: list[dict[str, t.Any]], total: int, fail_on: str) -> str:
    """Readable one-paragraph summary of failing endpoints."""
    parts = []
    for res in bad[:20]:
        codes = ", ".join(r["code"] for r in res.get("reasons", []) if r.get("severity") != "ok")
        parts.append(f"{res.get('host')}:{res.get('port')} {res.get('status')} ({codes})")
    more = f"; and {len(bad) - 20} more" if len(bad) > 20 else ""
    # What each failing code means (closed: nothing listens; filtered: something drops the packets ...), once per code.
    codes: list[str] = []
    for res in bad:
        for reason in res.get("reasons", []):
            if reason.get("severity") != "ok" and reason.get("code") in REASONS and reason["code"] not in codes:
                codes.append(reason["code"])
    why = " ".join(f"{code}: {REASONS[code].message}" for code in codes[:5])
    return (f"{len(bad)} of {total} endpoint(s) at or above fail_on={fail_on}: " + "; ".join(parts) + more
            + (f". Why - {why}" if why else ""))
