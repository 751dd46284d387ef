# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Certificate Transparency: Signed Certificate Timestamps (RFC 6962) embedded in a certificate or sent in the TLS
extension signed_certificate_timestamp, what they prove (count, distinct logs, timestamps), the browsers' count rule
for publicly trusted certificates, and the SCT signature check against a log's key (plain Python; cryptography for
the certificate and the signatures)."""

from __future__ import annotations

import datetime
import hashlib
import threading
import typing as t

# The X.509v3 extension holding the SCT list (RFC 6962 3.3) and the precertificate poison (RFC 6962 3.1).
SCT_LIST_OID = "1.3.6.1.4.1.11129.2.4.2"
POISON_OID = "1.3.6.1.4.1.11129.2.4.3"
# The TLS extension that carries an SCT list (RFC 6962 3.3.1).
TLS_EXTENSION = 0x0012

# The CT policy of Chrome and Apple for SCTs embedded in a certificate: a certificate valid for at most 180 days
# needs SCTs from 2 distinct logs, a longer one from 3; SCTs delivered in the TLS handshake (or an OCSP staple) need
# 2, whatever the lifetime. Both also ask for distinct log operators, which only a log list can tell (LOG_LIST).
# Sources: https://googlechrome.github.io/CertificateTransparency/ct_policy.html and
# https://support.apple.com/en-us/103214 (both read 2026-12; docs/checks.md "Certificate Transparency").
SHORT_LIFETIME_DAYS = 180
EMBEDDED_SHORT, EMBEDDED_LONG, DELIVERED = 2, 3, 2

# The CT log list the SCT signatures are checked against: log id (SHA-256 of the log's key) -> {key (DER
# SubjectPublicKeyInfo), operator, description}. Empty: no log list is carried (LOG_LIST_SOURCE says why), so no
# signature is ever reported valid; callers may pass their own list (tests do, with a test log's key).
LOG_LIST: dict[bytes, dict[str, t.Any]] = {}
LOG_LIST_SOURCE = ("not carried: the Google and Apple log lists are published on the web only; no package of the "
                   "PyPI, Debian or npm registries carries a current one (docs/checks.md)")

# Where the public roots come from (what makes a certificate "publicly trusted", so that the browsers' CT policy
# applies): the roots of Mozilla's program as the distribution ships them (Debian's ca-certificates keeps them apart
# from the roots an administrator or the certificate role added, which all end up in the system store), else the
# certifi package's copy of the same program. A directory of PEM files or a PEM bundle; "certifi" means certifi's.
PUBLIC_ROOT_SOURCES: tuple[str, ...] = ("/usr/share/ca-certificates/mozilla", "certifi")
_PUBLIC_ROOTS: dict[tuple[str, ...], tuple[frozenset[bytes], str | None]] = {}
# Held while the public roots are read: the probe's worker threads all ask at once, and each reading the whole system
# store itself cost seconds of CPU at the start of every run.
_PUBLIC_ROOTS_LOCK = threading.Lock()

_HASHES = {4: "SHA256", 5: "SHA384", 6: "SHA512"}
_SIGNATURES = {1: "rsa", 3: "ecdsa"}


class SctError(ValueError):
    """The bytes are not a well-formed SignedCertificateTimestampList."""


def _take(data: bytes, pos: int, n: int, what: str) -> tuple[bytes, int]:
    if n < 0 or pos + n > len(data):
        raise SctError(f"truncated {what} (needs {n} bytes at offset {pos}, {len(data) - pos} left)")
    return data[pos:pos + n], pos + n


def _vec(data: bytes, pos: int, width: int, what: str) -> tuple[bytes, int]:
    raw, pos = _take(data, pos, width, f"length of {what}")
    return _take(data, pos, int.from_bytes(raw, "big"), what)


def parse_sct(data: bytes) -> dict[str, t.Any]:
    """One SerializedSCT (RFC 6962 3.2): version 0 (v1), log id, timestamp (ms since the epoch), extensions, hash and
    signature algorithm, signature. Raises SctError on anything else."""
    if not data:
        raise SctError("an empty SCT")
    version = data[0]
    if version != 0:
        raise SctError(f"SCT version {version} (only v1, 0, is defined)")
    log_id, pos = _take(data, 1, 32, "log id")
    stamp, pos = _take(data, pos, 8, "timestamp")
    extensions, pos = _vec(data, pos, 2, "SCT extensions")
    algs, pos = _take(data, pos, 2, "signature algorithm")
    signature, pos = _vec(data, pos, 2, "signature")
    if pos != len(data):
        raise SctError(f"{len(data) - pos} bytes after the SCT's signature")
    if not signature:
        raise SctError("an SCT without a signature")
    return {"version": 1, "log_id": log_id, "timestamp_ms": int.from_bytes(stamp, "big"), "extensions": extensions,
            "hash_algorithm": algs[0], "signature_algorithm": algs[1], "signature": signature}


def parse_list(data: bytes) -> list[dict[str, t.Any]]:
    """A SignedCertificateTimestampList (RFC 6962 3.3): a 2-byte length, then SCTs each behind a 2-byte length.
    Raises SctError when the lengths do not add up, the list is empty or an SCT is malformed."""
    body, pos = _vec(data, 0, 2, "SCT list")
    if pos != len(data):
        raise SctError(f"{len(data) - pos} bytes after the SCT list")
    if not body:
        raise SctError("an empty SCT list")
    out, pos = [], 0
    while pos < len(body):
        one, pos = _vec(body, pos, 2, "SCT")
        out.append(parse_sct(one))
    return out


def _der_octet_string(data: bytes) -> bytes:
    """The content of a DER OCTET STRING (the X.509 extension wraps the TLS-encoded list in one)."""
    if len(data) < 2 or data[0] != 0x04:
        raise SctError("the SCT list extension is not an OCTET STRING")
    first = data[1]
    if first < 0x80:
        length, pos = first, 2
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or len(data) < 2 + count:
            raise SctError("bad DER length in the SCT list extension")
        length, pos = int.from_bytes(data[2:2 + count], "big"), 2 + count
    if pos + length != len(data):
        raise SctError("the SCT list extension's length does not match its content")
    return data[pos:]


def embedded_list(cert: t.Any) -> bytes | None:
    """The TLS-encoded SCT list embedded in a certificate (None when it has none)."""
    from cryptography import x509
    from cryptography.x509.oid import ObjectIdentifier

    try:
        ext = cert.extensions.get_extension_for_oid(ObjectIdentifier(SCT_LIST_OID))
    except x509.ExtensionNotFound:
        return None
    value = ext.value
    raw = value.value if isinstance(value, x509.UnrecognizedExtension) else value.public_bytes()
    # public_bytes() is the extension's DER value: an OCTET STRING around the TLS structure. An unrecognized
    # extension's value is that DER as well.
    return _der_octet_string(raw)


def is_precertificate(cert: t.Any) -> bool:
    from cryptography import x509
    from cryptography.x509.oid import ObjectIdentifier

    try:
        cert.extensions.get_extension_for_oid(ObjectIdentifier(POISON_OID))
    except x509.ExtensionNotFound:
        return False
    return True


def _u24(data: bytes) -> bytes:
    return len(data).to_bytes(3, "big") + data


def signed_data(sct: dict[str, t.Any], cert: t.Any, issuer: t.Any | None, source: str) -> bytes | None:
    """What the log signed (RFC 6962 3.2, digitally-signed struct): for an embedded SCT the precertificate entry
    (the issuer's key hash and the certificate's TBS without the SCT list, which is the precertificate's TBS without
    its poison); for a delivered one the X.509 entry (the certificate itself). None when the issuer is needed and
    not known."""
    from cryptography.hazmat.primitives import serialization

    head = bytes([0, 0]) + sct["timestamp_ms"].to_bytes(8, "big")
    tail = len(sct["extensions"]).to_bytes(2, "big") + sct["extensions"]
    if source == "embedded":
        if issuer is None:
            return None
        spki = issuer.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return head + b"\x00\x01" + hashlib.sha256(spki).digest() + _u24(cert.tbs_precertificate_bytes) + tail
    return head + b"\x00\x00" + _u24(cert.public_bytes(serialization.Encoding.DER)) + tail


def verify(sct: dict[str, t.Any], signed: bytes, key_der: bytes) -> bool:
    """The SCT's signature over `signed` with the log's key (DER SubjectPublicKeyInfo)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    name = _HASHES.get(sct["hash_algorithm"])
    if name is None:
        return False
    algorithm = getattr(hashes, name)()
    try:
        key = serialization.load_der_public_key(key_der)
        if isinstance(key, ec.EllipticCurvePublicKey) and sct["signature_algorithm"] == 3:
            key.verify(sct["signature"], signed, ec.ECDSA(algorithm))
        elif isinstance(key, rsa.RSAPublicKey) and sct["signature_algorithm"] == 1:
            key.verify(sct["signature"], signed, padding.PKCS1v15(), algorithm)
        else:
            return False
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def log_id(key_der: bytes) -> bytes:
    """A log's id: SHA-256 of its DER SubjectPublicKeyInfo (RFC 6962 3.2)."""
    return hashlib.sha256(key_der).digest()


def _spki_hash(cert: t.Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return hashlib.sha256(cert.public_key().public_bytes(serialization.Encoding.DER,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo)).digest()


def public_roots() -> tuple[frozenset[bytes], str | None]:
    """The keys (SHA-256 of the SubjectPublicKeyInfo) of the public roots and where they were read (None: no source
    was found, so nothing can be called publicly trusted). Read once per process and sources."""
    key = tuple(PUBLIC_ROOT_SOURCES)
    with _PUBLIC_ROOTS_LOCK:
        if key not in _PUBLIC_ROOTS:
            _PUBLIC_ROOTS[key] = _read_public_roots(key)
        return _PUBLIC_ROOTS[key]


def _read_public_roots(key: tuple[str, ...]) -> tuple[frozenset[bytes], str | None]:
    import os

    from ansible_collections.port443.https.plugins.module_utils.certificate import _x509

    for source in key:
        path = source
        if source == "certifi":
            try:
                import certifi  # type: ignore[import-not-found]
            except ImportError:
                continue
            path = certifi.where()
        files = [os.path.join(path, n) for n in sorted(os.listdir(path)) if n.endswith((".crt", ".pem"))] \
            if os.path.isdir(path) else ([path] if os.path.isfile(path) else [])
        certs: list[t.Any] = []
        for name in files:
            try:
                certs += _x509.read_bundle(name)
            except (OSError, ValueError):
                continue
        if certs:
            return frozenset(_spki_hash(c) for c in certs), path
    return frozenset(), None


def is_public_root(anchor: t.Any) -> bool | None:
    """Whether a trust anchor is one of the public roots (None when no list of public roots was found)."""
    keys, source = public_roots()
    if source is None:
        return None
    return _spki_hash(anchor) in keys


def _lifetime_days(cert: t.Any) -> float:
    before = getattr(cert, "not_valid_before_utc", None) or cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)
    after = getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return (after - before).total_seconds() / 86400


def required(cert: t.Any, source: str) -> int:
    """How many SCTs from distinct logs the browsers' policy asks for (SHORT_LIFETIME_DAYS, EMBEDDED_*, DELIVERED)."""
    if source != "embedded":
        return DELIVERED
    return EMBEDDED_SHORT if _lifetime_days(cert) <= SHORT_LIFETIME_DAYS else EMBEDDED_LONG


def evaluate(cert: t.Any, issuer: t.Any | None, tls_list: bytes | None = None, tls_state: str = "not_requested",
             now: datetime.datetime | None = None, logs: dict[bytes, dict[str, t.Any]] | None = None) -> dict[str, t.Any]:
    """The certificate's SCTs, embedded and from the TLS extension (tls_list: the extension's bytes when the server
    sent one; tls_state says how the extension was asked for: sent, not_sent, not_requested, unreadable).

    Returns the report section: scts (each: source, log_id hex, timestamp ISO, future, log, signature: valid,
    invalid, unknown_log or not_performed), count, distinct_logs, required, satisfied (the count rule met by one
    delivery path), errors, log_list (where the keys come from). Signatures are checked only against `logs` (default
    LOG_LIST); without a key the signature is 'not_performed', never 'valid'."""
    logs = LOG_LIST if logs is None else logs
    now = now or datetime.datetime.now(datetime.timezone.utc)
    now_ms = int(now.timestamp() * 1000)
    errors: list[str] = []
    found: list[tuple[str, dict[str, t.Any]]] = []
    try:
        raw = embedded_list(cert)
        if raw is not None:
            found += [("embedded", sct) for sct in parse_list(raw)]
    except (SctError, ValueError) as exc:
        errors.append(f"embedded SCT list: {exc}")
    if tls_list is not None:
        try:
            found += [("tls_extension", sct) for sct in parse_list(tls_list)]
        except SctError as exc:
            errors.append(f"TLS extension SCT list: {exc}")
    scts = []
    for source, sct in found:
        entry = logs.get(sct["log_id"])
        if not logs:
            signature = "not_performed"
        elif entry is None:
            signature = "unknown_log"
        else:
            signed = signed_data(sct, cert, issuer, source)
            signature = "not_performed" if signed is None else ("valid" if verify(sct, signed, entry["key"]) else "invalid")
        stamp = datetime.datetime.fromtimestamp(sct["timestamp_ms"] / 1000, datetime.timezone.utc)
        scts.append({"source": source, "log_id": sct["log_id"].hex(), "timestamp": stamp.isoformat().replace("+00:00", "Z"),
                     "future": sct["timestamp_ms"] > now_ms, "log": (entry or {}).get("description"),
                     "operator": (entry or {}).get("operator"), "signature": signature})
    out: dict[str, t.Any] = {"count": len(scts), "scts": scts, "errors": errors, "tls_extension": tls_state,
                             "log_list": "carried" if logs is LOG_LIST and logs else ("given" if logs else LOG_LIST_SOURCE),
                             "signatures": "checked" if logs else "not_performed"}
    # Per delivery path: the SCTs that count (not in the future, signature not shown invalid), their distinct logs.
    paths = []
    for source in ("embedded", "tls_extension"):
        usable = [s for s in scts if s["source"] == source and not s["future"] and s["signature"] in ("valid", "not_performed")]
        logs_seen = {s["log_id"] for s in usable}
        operators = {s["operator"] for s in usable if s["operator"]}
        need = required(cert, source)
        paths.append({"source": source, "distinct_logs": len(logs_seen), "required": need,
                      "satisfied": len(logs_seen) >= need and (not logs or len(operators) >= 2)})
    met = [p for p in paths if p["satisfied"]]
    best = met[0] if met else max(paths, key=lambda p: p["distinct_logs"])
    out.update(distinct_logs=len({s["log_id"] for s in scts}), required=best["required"], satisfied=best["satisfied"],
               counted=best["source"], future=sum(1 for s in scts if s["future"]))
    return out


def findings(section: dict[str, t.Any], publicly_trusted: bool) -> list[tuple[str, str]]:
    """Reason codes for a publicly trusted certificate only (a private CA's certificates need no SCT): no_sct, or
    too_few_scts when the count rule is not met."""
    if not publicly_trusted:
        return []
    if section["count"] == 0:
        detail = "no SCT embedded in the certificate"
        if section["tls_extension"] == "not_sent":
            detail += " and none in the TLS extension"
        elif section["tls_extension"] == "unreadable":
            detail += "; the TLS extension could not be read (no TLS 1.2 answer: in TLS 1.3 it travels encrypted)"
        else:
            detail += " (SCTs delivered in the TLS extension are not read)"
        detail += "; SCTs in a stapled OCSP response are not read"
        return [("no_sct", detail + "; " + "; ".join(section["errors"]) if section["errors"] else detail)]
    if not section["satisfied"]:
        parts = [f"{section['count']} SCT(s) from {section['distinct_logs']} distinct log(s); {section['required']} needed "
                 f"({section['counted'].replace('_', ' ')})"]
        if section["future"]:
            parts.append(f"{section['future']} dated in the future")
        bad = sum(1 for s in section["scts"] if s["signature"] == "invalid")
        if bad:
            parts.append(f"{bad} with an invalid signature")
        return [("too_few_scts", "; ".join(parts + section["errors"]))]
    return []
