# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Certificate facts with cryptography: trust store loading, validity,
host name matching (SANs, IP SANs, wildcards, CN-only), weak keys and signatures, PEM files."""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import ssl
import threading
import typing as t

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
    from cryptography.x509.oid import ExtensionOID, NameOID

    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - exercised by the sanity import test only
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = _exc

WEAK_HASHES = ("sha1", "md5", "md2", "md4")


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def not_before(cert: t.Any) -> datetime.datetime:
    value = getattr(cert, "not_valid_before_utc", None)
    return value if value is not None else cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)


def not_after(cert: t.Any) -> datetime.datetime:
    value = getattr(cert, "not_valid_after_utc", None)
    return value if value is not None else cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)


def iso(value: datetime.datetime) -> str:
    return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def days_left(cert: t.Any, now: datetime.datetime | None = None) -> int:
    """Whole days until notAfter (negative once expired)."""
    now = now or utcnow()
    delta = not_after(cert) - now
    return int(delta.total_seconds() // 86400)


def hours_left(cert: t.Any, now: datetime.datetime | None = None) -> int:
    """Whole hours until notAfter (negative once expired): what a short-lived certificate has left."""
    now = now or utcnow()
    return int((not_after(cert) - now).total_seconds() // 3600)


def left_text(days: int, hours: int | None = None) -> str:
    """'N day(s) left', or 'N hour(s) left' under two days when the hours are known."""
    if hours is not None and 0 <= hours < 48:
        return f"{hours} hour(s) left"
    return f"{days} day(s) left"


def load_der(der: bytes) -> t.Any:
    return x509.load_der_x509_certificate(der)


def load_pem_list(data: bytes | str) -> list[t.Any]:
    """All certificates in a PEM text (empty list when there is none)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if b"-----BEGIN CERTIFICATE-----" not in data:
        return []
    if hasattr(x509, "load_pem_x509_certificates"):  # cryptography >= 39
        return list(x509.load_pem_x509_certificates(data))
    # Older cryptography (Debian bookworm ships 38): one block at a time.
    blocks = re.findall(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", data, re.DOTALL)
    return [x509.load_pem_x509_certificate(block) for block in blocks]


def _sans(cert: t.Any) -> tuple[list[str], list[str]] | None:
    try:
        ext = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except x509.ExtensionNotFound:
        return None
    dns = [str(v) for v in ext.get_values_for_type(x509.DNSName)]
    ips = [str(v) for v in ext.get_values_for_type(x509.IPAddress)]
    return dns, ips


def common_names(cert: t.Any) -> list[str]:
    return [str(attr.value) for attr in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]


def key_info(cert: t.Any) -> tuple[str, int | None]:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ECDSA", key.curve.key_size
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456
    return key.__class__.__name__, None


def signature_hash(cert: t.Any) -> str | None:
    try:
        algo = cert.signature_hash_algorithm
    except Exception:  # unsupported algorithm (e.g. md2)
        return "unknown"
    return algo.name if algo is not None else None


def is_ca(cert: t.Any) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value.ca)
    except x509.ExtensionNotFound:
        return False


def issued_by(cert: t.Any, issuer: t.Any) -> bool:
    """True if issuer's key signed cert (and the names chain)."""
    if cert.issuer != issuer.subject:
        return False
    if not hasattr(cert, "verify_directly_issued_by"):  # cryptography < 40 (Debian bookworm ships 38)
        return _verify_legacy(cert, issuer)
    try:
        cert.verify_directly_issued_by(issuer)
    except ValueError:
        # cryptography refuses legacy algorithms (SHA-1, MD5) here: verify the signature by hand so such
        # chains still build and get reported as weak_signature instead of a broken chain.
        return _verify_legacy(cert, issuer)
    except Exception:  # InvalidSignature, TypeError (unsupported key type)
        return False
    return True


def _verify_legacy(cert: t.Any, issuer: t.Any) -> bool:
    from cryptography.hazmat.primitives.asymmetric import padding

    key = issuer.public_key()
    try:
        algo = cert.signature_hash_algorithm
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), algo)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(algo))
        elif isinstance(key, dsa.DSAPublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, algo)
        elif isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
            key.verify(cert.signature, cert.tbs_certificate_bytes)
        else:
            return False
    except Exception:
        return False
    return True


def self_signed(cert: t.Any) -> bool:
    return cert.issuer == cert.subject and issued_by(cert, cert)


def facts(cert: t.Any, now: datetime.datetime | None = None) -> dict[str, t.Any]:
    """JSON-safe facts about one certificate."""
    now = now or utcnow()
    sans = _sans(cert)
    key_type, key_size = key_info(cert)
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "common_name": (common_names(cert) or [None])[0],
        "serial": format(cert.serial_number, "X"),
        "not_before": iso(not_before(cert)),
        "not_after": iso(not_after(cert)),
        "days_left": days_left(cert, now),
        "hours_left": hours_left(cert, now),
        "sans": (sans[0] + sans[1]) if sans else [],
        "key_type": key_type,
        "key_size": key_size,
        "signature_algorithm": signature_hash(cert),
        "is_ca": is_ca(cert),
        "self_signed": self_signed(cert),
        "fingerprint_sha256": cert.fingerprint(hashes.SHA256()).hex(),
    }


CHAIN_FIELDS = ("subject", "issuer", "serial", "not_before", "not_after", "key_type", "key_size", "signature_algorithm", "is_ca")


def chain_entry(cert: t.Any) -> dict[str, t.Any]:
    """The compact facts reported for each served certificate (the leaf's full facts are at the top level)."""
    key_type, key_size = key_info(cert)
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "X"),
        "not_before": iso(not_before(cert)),
        "not_after": iso(not_after(cert)),
        "key_type": key_type,
        "key_size": key_size,
        "signature_algorithm": signature_hash(cert),
        "is_ca": is_ca(cert),
    }


def _match_dns(pattern: str, name: str) -> bool:
    pattern = pattern.lower().rstrip(".")
    name = name.lower().rstrip(".")
    if pattern == name:
        return True
    if not pattern.startswith("*."):
        return False
    # A wildcard covers exactly one left-most label, never a public suffix of two labels or fewer.
    suffix = pattern[2:]
    if suffix.count(".") < 1 or "*" in suffix:
        return False
    head, sep, rest = name.partition(".")
    return bool(sep) and bool(head) and rest == suffix


def hostname_match(cert: t.Any, name: str) -> tuple[bool, bool]:
    """(matches, cn_only). cn_only is True when the certificate has no SAN and the CN equals the name."""
    sans = _sans(cert)
    target = name.strip("[]")
    try:
        target_ip = ipaddress.ip_address(target)
    except ValueError:
        target_ip = None
    if sans is None:
        cn_hit = any(_match_dns(cn, target) for cn in common_names(cert))
        return False, cn_hit
    dns, ips = sans
    if target_ip is not None:
        return any(ipaddress.ip_address(ip) == target_ip for ip in ips), False
    return any(_match_dns(pattern, target) for pattern in dns), False


class TrustStore:
    """Certificates indexed by subject, loaded from a PEM bundle or the system store."""

    def __init__(self, certs: list[t.Any], source: str) -> None:
        self.source = source
        self.by_subject: dict[bytes, list[t.Any]] = {}
        for cert in certs:
            self.by_subject.setdefault(cert.subject.public_bytes(), []).append(cert)

    def issuers_of(self, cert: t.Any) -> list[t.Any]:
        return [c for c in self.by_subject.get(cert.issuer.public_bytes(), []) if issued_by(cert, c)]

    def contains(self, cert: t.Any) -> bool:
        return any(c == cert for c in self.by_subject.get(cert.subject.public_bytes(), []))


_STORE_CACHE: dict[tuple[str, int | None], TrustStore] = {}
_STORE_LOCK = threading.Lock()


def _store_owner() -> int | None:
    """Who may share a cached trust store: every thread, or (cryptography before 39, Debian bookworm's 38) only the
    thread that loaded it. cryptography 38 caches a certificate's parsed extensions behind a Rust RefCell, so two
    probe threads reading the extensions of one shared store certificate get RuntimeError('Already borrowed')."""
    if HAS_CRYPTOGRAPHY and hasattr(x509, "load_pem_x509_certificates"):  # cryptography >= 39
        return None
    return threading.get_ident()


def read_bundle(path: str) -> list[t.Any]:
    """Parse a PEM bundle; raises OSError / ValueError with a readable text."""
    with open(path, "rb") as handle:
        data = handle.read()
    certs = load_pem_list(data)
    if not certs:
        raise ValueError("no PEM certificate found in the file")
    return certs


def trust_store(ca_path: str | None) -> TrustStore:
    """The trust store: ca_path (PEM bundle) or the system default store. Cached per process (per thread with
    cryptography before 39, see _store_owner)."""
    key = (ca_path or "", _store_owner())
    with _STORE_LOCK:
        if key in _STORE_CACHE:
            return _STORE_CACHE[key]
        if ca_path:
            store = TrustStore(read_bundle(ca_path), ca_path)
        else:
            paths = ssl.get_default_verify_paths()
            certs: list[t.Any] = []
            source = "system"
            for candidate in (paths.cafile, paths.openssl_cafile):
                if candidate and os.path.isfile(candidate):
                    try:
                        certs = read_bundle(candidate)
                        source = candidate
                        break
                    except (OSError, ValueError):
                        continue
            if not certs:
                for directory in (paths.capath, paths.openssl_capath):
                    if directory and os.path.isdir(directory):
                        for entry in sorted(os.listdir(directory)):
                            if entry.endswith((".pem", ".crt")) or entry.endswith(".0"):
                                try:
                                    certs.extend(read_bundle(os.path.join(directory, entry)))
                                except (OSError, ValueError):
                                    continue
                        source = directory
                        break
            store = TrustStore(certs, source)
        _STORE_CACHE[key] = store
        return store


# ---- files on disk ------------------------------------------------------------------------------------

def load_private_key(data: bytes, password: bytes | None = None) -> t.Any:
    return serialization.load_pem_private_key(data, password=password)


def public_key_bytes(key: t.Any) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_matches(cert: t.Any, private_key: t.Any) -> bool:
    return public_key_bytes(cert.public_key()) == public_key_bytes(private_key.public_key())


def chain_order(chain: list[t.Any]) -> tuple[bool, list[str]]:
    """(in_order, problems): each certificate must be issued by the next one."""
    problems = []
    for idx in range(len(chain) - 1):
        if not issued_by(chain[idx], chain[idx + 1]):
            problems.append(f"certificate {idx} ({chain[idx].subject.rfc4514_string()}) is not issued by certificate {idx + 1} "
                            f"({chain[idx + 1].subject.rfc4514_string()})")
    return not problems, problems
