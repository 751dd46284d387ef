# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Revocation: CRL first (distribution points), then OCSP (AIA responder); unknown when no source answers."""

from __future__ import annotations

import http.client
import re
import shutil
import time
import typing as t
from urllib.parse import urlsplit

from ansible_collections.port443.https.plugins.module_utils.certificate import _x509

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.x509 import ocsp
    from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, ExtensionOID
except ImportError:  # pragma: no cover - the caller checks _x509.HAS_CRYPTOGRAPHY
    pass

MAX_BYTES = 10 * 1024 * 1024


def fetch(url: str, timeout: float, data: bytes | None = None, content_type: str | None = None, max_bytes: int | None = None) -> bytes:
    """GET (or POST data) over plain HTTP with a bounded timeout; CRL and OCSP URLs are http:// by convention."""
    max_bytes = MAX_BYTES if max_bytes is None else max_bytes
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"unsupported URL scheme in {url}")
    conn_class = http.client.HTTPSConnection if parts.scheme.lower() == "https" else http.client.HTTPConnection
    conn = conn_class(parts.hostname, parts.port, timeout=timeout)
    try:
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        headers = {"User-Agent": "port443.https-probe", "Connection": "close"}
        if content_type:
            headers["Content-Type"] = content_type
        conn.request("POST" if data is not None else "GET", path, body=data, headers=headers)
        resp = conn.getresponse()
        if resp.status != 200:
            raise ValueError(f"HTTP status {resp.status}")
        declared = resp.getheader("Content-Length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise ValueError(f"{declared} bytes, more than the {max_bytes} the probe reads")
        # Read in pieces against one deadline: the socket timeout bounds each read, not a server that drips.
        deadline = time.monotonic() + timeout
        chunks, size = [], 0
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"not downloaded within {timeout:g}s ({size} bytes so far)")
            if conn.sock is not None:
                conn.sock.settimeout(left)
            chunk = resp.read1(min(65536, max_bytes + 1 - size)) if size <= max_bytes else b""
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                raise ValueError(f"more than the {max_bytes} bytes the probe reads")
        return b"".join(chunks)
    finally:
        conn.close()


def crl_urls(cert: t.Any) -> list[str]:
    try:
        points = cert.extensions.get_extension_for_oid(ExtensionOID.CRL_DISTRIBUTION_POINTS).value
    except x509.ExtensionNotFound:
        return []
    urls = []
    for point in points:
        for name in point.full_name or []:
            if isinstance(name, x509.UniformResourceIdentifier):
                urls.append(name.value)
    return urls


def ocsp_urls(cert: t.Any) -> list[str]:
    try:
        aia = cert.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_INFORMATION_ACCESS).value
    except x509.ExtensionNotFound:
        return []
    return [d.access_location.value for d in aia
            if d.access_method == AuthorityInformationAccessOID.OCSP and isinstance(d.access_location, x509.UniformResourceIdentifier)]


def _verify_signature(public_key: t.Any, signature: bytes, data: bytes, hash_algorithm: t.Any) -> bool:
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), hash_algorithm)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(hash_algorithm))
        else:
            public_key.verify(signature, data)
    except Exception:
        return False
    return True


Timeout = t.Union[float, t.Callable[[], float]]


def _step(timeout: Timeout) -> float:
    """The timeout for the next network step: a number, or a callable asked each time (an endpoint's remaining
    budget, so several fetches in a row never overrun it)."""
    value = timeout() if callable(timeout) else timeout
    if value <= 0.001:
        raise TimeoutError("no time left in the endpoint's budget")
    return value


def check_crl(cert: t.Any, issuer: t.Any, timeout: Timeout) -> dict[str, t.Any] | None:
    """Result from the first CRL that downloads, parses and verifies; None when none does."""
    errors = []
    for url in crl_urls(cert):
        try:
            data = fetch(url, _step(timeout))
            crl = x509.load_pem_x509_crl(data) if data.lstrip().startswith(b"-----") else x509.load_der_x509_crl(data)
        except Exception as exc:  # network errors, parse errors
            errors.append(f"{url}: {exc}")
            continue
        if crl.issuer != issuer.subject or not crl.is_signature_valid(issuer.public_key()):
            errors.append(f"{url}: CRL not signed by the issuer")
            continue
        entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
        if entry is not None:
            return {"status": "revoked", "source": "crl", "url": url, "detail": f"serial {cert.serial_number:X} listed in {url}"}
        return {"status": "good", "source": "crl", "url": url, "detail": f"not listed in {url}"}
    return {"status": "unknown", "errors": errors} if errors else None


def _ocsp_signer(response: t.Any, issuer: t.Any) -> t.Any | None:
    """The certificate that signed an OCSP response: the issuer itself or a delegated responder."""
    candidates = [issuer] + list(response.certificates)
    for cand in candidates:
        by_name = response.responder_name is not None and cand.subject == response.responder_name
        by_key = False
        if response.responder_key_hash is not None:
            try:
                by_key = x509.SubjectKeyIdentifier.from_public_key(cand.public_key()).digest == response.responder_key_hash
            except Exception:
                by_key = False
        if not (by_name or by_key):
            continue
        if cand is issuer:
            return cand
        if not _x509.issued_by(cand, issuer):
            continue
        try:
            eku = cand.extensions.get_extension_for_oid(ExtensionOID.EXTENDED_KEY_USAGE).value
        except Exception:
            continue
        if ExtendedKeyUsageOID.OCSP_SIGNING in eku:
            return cand
    return None


def check_ocsp(cert: t.Any, issuer: t.Any, timeout: Timeout) -> dict[str, t.Any] | None:
    errors = []
    for url in ocsp_urls(cert):
        try:
            request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build()
            data = fetch(url, _step(timeout), request.public_bytes(_der()), "application/ocsp-request")
            response = ocsp.load_der_ocsp_response(data)
        except Exception as exc:
            errors.append(f"{url}: {exc}")
            continue
        if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            errors.append(f"{url}: responder status {response.response_status.name}")
            continue
        signer = _ocsp_signer(response, issuer)
        if signer is None or not _verify_signature(signer.public_key(), response.signature, response.tbs_response_bytes,
                                                   response.signature_hash_algorithm):
            errors.append(f"{url}: response signature does not verify")
            continue
        if response.serial_number != cert.serial_number:
            errors.append(f"{url}: response is for another serial")
            continue
        status = response.certificate_status
        if status == ocsp.OCSPCertStatus.REVOKED:
            return {"status": "revoked", "source": "ocsp", "url": url, "detail": f"OCSP responder {url} says revoked"}
        if status == ocsp.OCSPCertStatus.GOOD:
            return {"status": "good", "source": "ocsp", "url": url, "detail": f"OCSP responder {url} says good"}
        errors.append(f"{url}: responder does not know the certificate")
    return {"status": "unknown", "errors": errors} if errors else None


def _der() -> t.Any:
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.DER


def check(pair: tuple[t.Any, t.Any], timeout: Timeout, staple: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
    """CRL first, then OCSP. 'good' only from a verified source; otherwise unknown (never a false good).

    A stapled response that says revoked is reported as revoked (a server would not staple a false revocation).
    """
    cert, issuer = pair
    errors: list[str] = []
    ocsp = ocsp_state(cert)
    for method in (check_crl, check_ocsp):
        result = method(cert, issuer, timeout)
        if result is None:
            continue
        if result["status"] in ("good", "revoked"):
            result.update(stapled=staple, ocsp=ocsp)
            return result
        errors.extend(result.get("errors", []))
    if staple and staple.get("status") == "revoked":
        return {"status": "revoked", "source": "stapled", "detail": "the stapled OCSP response says revoked", "stapled": staple,
                "ocsp": ocsp}
    detail = "; ".join(errors) if errors else "the certificate names no CRL distribution point and no OCSP responder"
    if ocsp == "none_by_design":
        detail = f"{NO_OCSP_BY_DESIGN}; its CRL gave no answer: {detail}"
    return {"status": "unknown", "source": None, "detail": detail, "stapled": staple, "ocsp": ocsp}


NO_OCSP_BY_DESIGN = "no OCSP by design: the certificate names a CRL and no OCSP responder (CRL-only revocation, as Let's Encrypt issues)"


def ocsp_state(cert: t.Any) -> str:
    """What the certificate says about OCSP: 'responder' (an AIA OCSP URL), 'none_by_design' (a CRL distribution
    point and no OCSP URL: nothing to ask and nothing to staple), or 'none' (neither)."""
    if ocsp_urls(cert):
        return "responder"
    return "none_by_design" if crl_urls(cert) else "none"


def stapled(address: str, port: int, server_name: str | None, timeout: Timeout,
            run: t.Callable[[list[str]], tuple[int, str]] | None = None) -> dict[str, t.Any] | None:
    """Ask the server for a stapled OCSP response with `openssl s_client -status` (Python's ssl cannot).

    run executes an argv list and returns (rc, stdout); the module passes AnsibleModule.run_command.
    Returns {present, status, detail}; status is what the stapled response says (good/revoked/unknown) and is
    informational only: the response is not verified here, so it never turns an unknown into a good.
    None when there is no runner or no openssl CLI.
    """
    openssl = shutil.which("openssl")
    if run is None or openssl is None:
        return None
    target = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    cmd = [openssl, "s_client", "-connect", target, "-status"]
    if server_name and not re.match(r"^[0-9.:]+$", server_name):
        cmd += ["-servername", server_name]
    limiter = shutil.which("timeout")
    try:
        step = _step(timeout)
        if limiter:
            cmd = [limiter, f"{step:.3f}"] + cmd
        dummy_rc, out = run(cmd)
    except (OSError, TimeoutError) as exc:
        return {"present": None, "status": "unknown", "detail": f"openssl s_client: {exc}"}
    if "OCSP response: no response sent" in out:
        return {"present": False, "status": None, "detail": "the server sends no stapled OCSP response"}
    match = re.search(r"Cert Status: (\w+)", out)
    if "OCSP Response Data" in out:
        status = match.group(1).lower() if match else "unknown"
        return {"present": True, "status": status if status in ("good", "revoked") else "unknown",
                "detail": "stapled OCSP response (signature not verified by the probe)"}
    return {"present": None, "status": "unknown", "detail": "no OCSP information in the handshake"}
