# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Read-only state of what the certificate role manages: does its full path have anything to change?

Each check returns the reasons for drift (empty = converged). A check that cannot be sure reports drift: a false
drift only costs a run of the full path, a missed one would make ``--check`` lie. The checks mirror what the
role's tasks compare (community.crypto's openssl_privatekey, x509_certificate(_pipe) with their defaults,
ansible.builtin.copy/file, apt) so that "converged" here implies "no change" there.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import re
import stat
import typing as t

from ansible_collections.port443.https.plugins.module_utils.certificate import _acme, _x509

# Sources whose every step this module can decide (pools, client certificates, a forced renewal and, for acme,
# certificate_renewal host always take the full path: the role passes them as full_path_reasons).
DECIDED_SOURCES = ("selfsigned", "internal_ca", "provided", "acme")
# The ACME account key the role creates (acme.yml) and the challenge directory under the webroot (http-01).
ACME_ACCOUNT_KEY = ("ECC", "secp256r1")
ACME_CHALLENGE_DIR = ".well-known/acme-challenge"
# A PEM certificate block as provided.yml splits certificate_provided_chain.
_PEM_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----")
# Owner and group of the role's files on the host (root); the unit tests point them at the user running them.
ROOT_UID = ROOT_GID = 0
_NAME_CONSTRAINT = re.compile(r"^(DNS:[A-Za-z0-9*._-]+|IP:[0-9a-fA-F.:]+/[0-9.]+)$")


# ---- files ------------------------------------------------------------------------------------------------

def file_attrs(path: str, mode: int, kind: str = "file", owned: bool = True) -> list[str]:
    """Drift of one path against what ansible.builtin.file/copy would enforce (followed like they follow links);
    owned: the role sets owner and group root."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return [f"{path}: missing"]
    except OSError as exc:
        return [f"{path}: cannot be read ({exc.strerror or exc})"]
    wanted = stat.S_ISDIR if kind == "directory" else stat.S_ISREG
    if not wanted(info.st_mode):
        return [f"{path}: not a {kind}"]
    reasons = []
    if stat.S_IMODE(info.st_mode) != mode:
        reasons.append(f"{path}: mode {stat.S_IMODE(info.st_mode):04o}, expected {mode:04o}")
    if owned and info.st_uid != ROOT_UID:
        reasons.append(f"{path}: owner uid {info.st_uid}, expected {ROOT_UID}")
    if owned and info.st_gid != ROOT_GID:
        reasons.append(f"{path}: group gid {info.st_gid}, expected {ROOT_GID}")
    return reasons


def read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _content(path: str, expected: bytes, what: str) -> list[str]:
    data = read(path)
    if data is None:
        return [f"{path}: {what} missing or unreadable"]
    if data != expected:
        return [f"{path}: {what} differs from what the role writes"]
    return []


# ---- keys and names -----------------------------------------------------------------------------------------

def key_drift(key: t.Any, key_type: str, curve: str, size: int) -> list[str]:
    """openssl_privatekey regenerates a key of another type, curve or size."""
    if key_type == "ECC":
        if not isinstance(key, _x509.ec.EllipticCurvePrivateKey):
            return ["key: not an ECC key"]
        if key.curve.name != curve:
            return [f"key: curve {key.curve.name}, expected {curve}"]
        return []
    if key_type == "RSA":
        if not isinstance(key, _x509.rsa.RSAPrivateKey):
            return ["key: not an RSA key"]
        if key.key_size != size:
            return [f"key: {key.key_size} bits, expected {size}"]
        return []
    return [f"key: type {key_type} is not decided here"]


def general_name(entry: str, network: bool = False) -> t.Any:
    """x509 GeneralName of 'DNS:name' / 'IP:address' as community.crypto builds it; ValueError when unsure."""
    if entry.startswith("DNS:"):
        name = entry[4:]
        # community.crypto rewrites IDNs; only plain lower-case ASCII names are compared here.
        if not name or not name.isascii() or name != name.lower():
            raise ValueError(f"name {name!r} is not compared here (not lower-case ASCII)")
        return _x509.x509.DNSName(name)
    if entry.startswith("IP:"):
        value = entry[3:]
        return _x509.x509.IPAddress(ipaddress.ip_network(value) if network or "/" in value else ipaddress.ip_address(value))
    raise ValueError(f"subjectAltName entry {entry!r} is not compared here")


def _extensions(cert: t.Any) -> tuple[dict[t.Any, t.Any], list[str]]:
    try:
        exts = list(cert.extensions)
    except Exception as exc:  # malformed extensions
        return {}, [f"certificate: extensions cannot be read ({exc})"]
    return {ext.oid: ext for ext in exts}, []


def _ski_drift(cert: t.Any, label: str) -> list[str]:
    """x509_certificate (create_subject_key_identifier: create_if_not_provided) wants the SKI of the public key."""
    try:
        ski = cert.extensions.get_extension_for_class(_x509.x509.SubjectKeyIdentifier).value
    except _x509.x509.ExtensionNotFound:
        return [f"{label}: no subject key identifier"]
    if ski.digest != _x509.x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest:
        return [f"{label}: subject key identifier does not match its key"]
    return []


def extensions_drift(cert: t.Any, expected: list[t.Any], label: str, aki: bool) -> list[str]:
    """Extensions besides SKI (and AKI when the issuer adds one) must equal the signing request's, as compared by
    community.crypto (same count, each equal, criticality included)."""
    exts, reasons = _extensions(cert)
    if reasons:
        return reasons
    skip = {_x509.ExtensionOID.SUBJECT_KEY_IDENTIFIER}
    if aki:
        skip.add(_x509.ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
    have = {oid: ext for oid, ext in exts.items() if oid not in skip}
    want = {ext.oid: ext for ext in expected}
    if have != want:
        return [f"{label}: extensions differ from the signing request's"]
    return _ski_drift(cert, label)


# The share of the lifetime left at which a certificate renews when a window of days cannot apply (see renewal_reason):
# a third, as Let's Encrypt advises for its short-lived (six-day) certificates and for the others alike.
FALLBACK_PERCENT = 100.0 / 3


def renewal_reason(start: datetime.datetime, end: datetime.datetime, renew_days: int, renew_percent: float,
                   now: datetime.datetime | None = None) -> str:
    """Why a certificate valid from START to END is inside its renewal window ('' when it is not): not valid any more
    in RENEW_DAYS days, or less than RENEW_PERCENT of its lifetime left. A window of days as long as the lifetime or
    longer (30 days for a six-day certificate) would renew on every run: the window is then a share of the lifetime
    instead, RENEW_PERCENT when it is set, else FALLBACK_PERCENT (a third). The certificate role's current.yml decides
    with it too (the port443.https.in_renewal_window test)."""
    now = now or _x509.utcnow()
    lifetime = (end - start).total_seconds()
    if lifetime > 0 and renew_days * 86400 >= lifetime:
        share = renew_percent if renew_percent > 0 else FALLBACK_PERCENT
        if not start <= now <= end:
            return f"certificate: not valid now (valid {_x509.iso(start)} to {_x509.iso(end)})"
        if (end - now).total_seconds() * 100 < share * lifetime:
            return (f"certificate: less than {share:.3g}% of its lifetime left (a {renew_days}-day window does not fit "
                    f"a lifetime of {lifetime / 86400:.3g} days)")
        return ""
    probe = now + datetime.timedelta(days=renew_days)
    if not start <= probe <= end:
        return f"certificate: inside the renewal window ({renew_days} days; valid {_x509.iso(start)} to {_x509.iso(end)})"
    if renew_percent > 0 and (end - now).total_seconds() * 100 < renew_percent * lifetime:
        return f"certificate: less than {renew_percent:g}% of its lifetime left"
    return ""


def renewal_drift(cert: t.Any, renew_days: int, renew_percent: float, now: datetime.datetime | None = None) -> list[str]:
    """The renewal window (renewal_reason) of a certificate."""
    reason = renewal_reason(_x509.not_before(cert), _x509.not_after(cert), renew_days, renew_percent, now)
    return [reason] if reason else []


# ---- the host ---------------------------------------------------------------------------------------------

def _load_cert(path: str, label: str) -> tuple[t.Any, bytes | None, list[str]]:
    data = read(path)
    if data is None:
        return None, None, [f"{label} {path}: missing or unreadable"]
    try:
        certs = _x509.load_pem_list(data)
    except ValueError as exc:
        return None, data, [f"{label} {path}: not a PEM certificate ({exc})"]
    if not certs:
        return None, data, [f"{label} {path}: no PEM certificate"]
    return certs[0], data, []


def _leaf_drift(p: dict[str, t.Any], key: t.Any, ca: t.Any, now: datetime.datetime | None) -> tuple[list[str], bytes | None]:
    cert, data, reasons = _load_cert(p["cert_path"], "certificate")
    if cert is None:
        return reasons, data
    reasons += file_attrs(p["cert_path"], 0o644)
    if key is not None and not _x509.key_matches(cert, key):
        reasons.append("certificate: does not match the key")
    name = _x509.x509.Name([_x509.x509.NameAttribute(_x509.NameOID.COMMON_NAME, p["common_name"])])
    if cert.subject != name:
        reasons.append(f"certificate: subject {cert.subject.rfc4514_string()}, expected CN={p['common_name']}")
    try:
        san = _x509.x509.SubjectAlternativeName([general_name(entry) for entry in p["sans"]])
    except ValueError as exc:
        reasons.append(f"certificate: {exc}")
    else:
        expected = [_x509.x509.Extension(_x509.ExtensionOID.SUBJECT_ALTERNATIVE_NAME, False, san)]
        reasons += extensions_drift(cert, expected, "certificate", aki=p["source"] == "internal_ca")
    if p["source"] == "selfsigned":
        if not _x509.self_signed(cert):
            reasons.append("certificate: not self-signed by its key")
    elif ca is not None:
        if not _x509.issued_by(cert, ca):
            reasons.append("certificate: not issued by the internal CA")
        reasons += _aki_drift(cert, ca)
    reasons += renewal_drift(cert, p["renew_days"], p["renew_percent"], now)
    return reasons, data


def _aki_drift(cert: t.Any, ca: t.Any) -> list[str]:
    """x509_certificate's ownca provider wants the authority key identifier of the CA (from its SKI, else its key)."""
    try:
        ski = ca.extensions.get_extension_for_class(_x509.x509.SubjectKeyIdentifier).value
        expected = _x509.x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
    except _x509.x509.ExtensionNotFound:
        expected = _x509.x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key())
    try:
        have = cert.extensions.get_extension_for_class(_x509.x509.AuthorityKeyIdentifier).value
    except _x509.x509.ExtensionNotFound:
        return ["certificate: no authority key identifier"]
    return [] if have == expected else ["certificate: authority key identifier is not the CA's"]


def certificate_exists(path: str) -> bool:
    """Whether the certificate file is there: a path that exists as any kind of file, a dangling link included, as
    ansible.builtin.stat reports it without follow. The role's full path starts its decisions from it (the renewal
    window, ACME's staging order, a pool's copy)."""
    return os.path.lexists(path)


def host_state(p: dict[str, t.Any], packages_missing: t.Callable[[list[str]], list[str]] | None = None,
               now: datetime.datetime | None = None, ari: t.Callable[[t.Any], str] | None = None) -> list[str]:
    """Reasons the role's full path would change something on this host (empty = converged). packages_missing
    (the collection's dpkg reader, host/_packages) names the packages not installed; without it all of them are.
    ari (source acme with acme_use_ari): asks the CA's renewal information for a certificate and returns the reason
    to renew ('' none); it raises OSError or ValueError when it cannot tell, which is drift."""
    if p["source"] not in DECIDED_SOURCES:
        return [f"source {p['source']}: always takes the full path"]
    reasons: list[str] = []
    if p.get("packages"):
        absent = packages_missing(p["packages"]) if packages_missing else list(p["packages"])
        reasons += [f"package {package}: not installed" for package in absent]
    if not _x509.HAS_CRYPTOGRAPHY:
        return reasons + ["cryptography: not importable on the host"]
    reasons += file_attrs(p["cert_dir"], 0o755, "directory")
    reasons += file_attrs(p["key_dir"], 0o700, "directory")
    if p["source"] == "provided":
        return reasons + provided_drift(p, now)

    key, key_reasons = _key(p["key_path"], "key", p["key_type"], p["key_curve"], p["key_size"])
    reasons += key_reasons
    if p["source"] == "acme":
        return reasons + acme_drift(p, key, now, ari)

    ca = ca_pem = None
    if p["source"] == "internal_ca":
        ca_pem = (p.get("ca_cert") or "").encode("utf-8")
        certs = _x509.load_pem_list(ca_pem) if ca_pem else []
        if not certs:
            reasons.append("internal CA: its certificate was not given (not on the controller, or missing)")
        else:
            ca = certs[0]
    leaf, cert_data = _leaf_drift(p, key, ca, now)
    reasons += leaf
    if cert_data is not None:
        # finish.yml: a copy of the certificate (selfsigned and internal_ca have no chain file); the role writes it as PEM
        # with one final newline, so the copy is the certificate trimmed and a newline.
        reasons += _content(p["fullchain_path"], fullchain(cert_data, None), "full chain") or file_attrs(p["fullchain_path"], 0o644)
    if p["source"] == "internal_ca" and ca is not None:
        reasons += _content(p["ca_copy_path"], ca_pem, "CA certificate copy") or file_attrs(p["ca_copy_path"], 0o644)
        reasons += trust_drift(p["trust_path"], ca, ca_pem, bool(p.get("ca_trust")))
    return reasons


def _key(path: str, label: str, key_type: str, curve: str, size: int) -> tuple[t.Any, list[str]]:
    """A private key openssl_privatekey (owner root, mode 0600) would keep: loaded, of the asked type, curve or size."""
    data = read(path)
    if data is None:
        return None, [f"{label} {path}: missing or unreadable"]
    reasons = file_attrs(path, 0o600)
    try:
        key = _x509.load_private_key(data)
    except (ValueError, TypeError) as exc:
        return None, reasons + [f"{label} {path}: cannot be loaded ({exc})"]
    return key, reasons + [f"{label}: {r[5:]}" if r.startswith("key: ") else r for r in key_drift(key, key_type, curve, size)]


def fullchain(cert: bytes, chain: bytes | None) -> bytes | None:
    """What finish.yml writes to the full chain from the certificate and chain files it could read (chain None when
    it could not): each part trimmed, joined by newlines, a final newline. None when a part is not UTF-8 text."""
    try:
        parts = [part.decode("utf-8").strip() for part in (cert, chain) if part is not None]
    except UnicodeDecodeError:
        return None
    return ("\n".join(parts) + "\n").encode("utf-8")


def _fullchain_drift(p: dict[str, t.Any], cert_data: bytes) -> list[str]:
    """finish.yml for acme and provided: the certificate and, when readable, the chain file next to it."""
    expected = fullchain(cert_data, read(p["chain_path"]) if p.get("chain_path") else None)
    if not p.get("chain_path") or expected is None:
        return [f"{p['fullchain_path']}: full chain not decided here (no chain path, or files that are not UTF-8)"]
    return _content(p["fullchain_path"], expected, "full chain") or file_attrs(p["fullchain_path"], 0o644)


# ---- source acme ------------------------------------------------------------------------------------------

def san_strings(cert: t.Any) -> list[str]:
    """The subjectAltName entries as community.crypto's x509_certificate_info lists them (DNS:name, IP:address; other
    kinds under their own prefix, which never equal the role's entries)."""
    try:
        ext = cert.extensions.get_extension_for_class(_x509.x509.SubjectAlternativeName).value
    except _x509.x509.ExtensionNotFound:
        return []
    out = []
    for name in ext:
        if isinstance(name, _x509.x509.DNSName):
            out.append(f"DNS:{name.value}")
        elif isinstance(name, _x509.x509.IPAddress):
            out.append(f"IP:{name.value}")
        else:
            out.append(f"{type(name).__name__}:{name.value}")
    return out


def acme_order_reasons(exists: bool, names: list[str], wanted: list[str], key_changed: bool, issuer: str, directory: str,
                       renewal: str, forced: bool, host_renewal: bool, expired: bool, in_window: bool) -> list[str]:
    """Why the certificate role orders an ACME certificate (empty = it does not): acme.yml decides with it (the
    port443.https.acme_order_reasons filter) and so does this module's state step. exists: the certificate file
    exists; names: its subjectAltName entries; wanted: the role's; key_changed: its public key is not the key's;
    issuer: the recorded ACME directory (the .acme-directory file, '' without); renewal: the renewal check's message
    when it says renew ('' otherwise); forced: certificate_force_renew (or the dual certificate's second pass);
    host_renewal: certificate_renewal host (the agent renews, only an expired certificate is ordered here);
    in_window: inside the role's renewal window (renewal_reason)."""
    reasons = [] if exists else ["no certificate yet"]
    if exists and sorted(names) != sorted(wanted):
        reasons.append("the names changed")
    if exists and key_changed:
        reasons.append("the key changed")
    if exists and issuer.strip() != directory:
        reasons.append("the ACME directory changed")
    if renewal:
        reasons.append(f"renewal: {renewal}")
    if exists and forced:
        reasons.append("forced (certificate_force_renew, or with the first key type of certificate_key_types)")
    elif host_renewal:
        if expired:
            reasons.append("expired (the renewal agent on the host did not renew it)")
    elif in_window:
        reasons.append("inside the renewal window")
    return reasons


def acme_drift(p: dict[str, t.Any], key: t.Any, now: datetime.datetime | None = None,
               ari: t.Callable[[t.Any], str] | None = None) -> list[str]:
    """acme.yml, obtain.yml and finish.yml on this host: the challenge directory (http-01), the account key, whether
    an order would run (acme_order_reasons with the facts read here), and the full chain."""
    reasons = []
    if p.get("acme_challenge", "http-01") == "http-01":
        reasons += file_attrs(os.path.join(p.get("acme_webroot") or "/var/www/acme", ACME_CHALLENGE_DIR), 0o755, "directory")
    if not p.get("acme_account_key"):
        reasons.append("ACME account key: its path was not given")
    else:
        reasons += _key(p["acme_account_key"], "ACME account key", ACME_ACCOUNT_KEY[0], ACME_ACCOUNT_KEY[1], 0)[1]
    cert, data, cert_reasons = _load_cert(p["cert_path"], "certificate")
    if cert is None:
        exists = os.path.exists(p["cert_path"])
        if exists:
            return reasons + cert_reasons
        return reasons + [f"ACME order: {r}" for r in acme_order_reasons(
            False, [], p["sans"], False, "", p.get("acme_directory") or "", "", False, False, False, False)]
    now = now or _x509.utcnow()
    renewal = ""
    if now >= _x509.not_after(cert):
        renewal = "The certificate has already expired"
    elif p.get("acme_use_ari", True):
        if ari is None:
            renewal = "ARI: the CA's renewal information was not asked"
        else:
            try:
                renewal = ari(cert)
            except (OSError, ValueError) as exc:
                renewal = f"ARI: the CA's renewal information could not be read ({exc})"
    issuer = read(p["cert_path"] + ".acme-directory")
    order = acme_order_reasons(
        exists=True, names=san_strings(cert), wanted=list(p["sans"]),
        key_changed=key is not None and not _x509.key_matches(cert, key),
        issuer=issuer.decode("utf-8", "replace") if issuer is not None else "",
        directory=p.get("acme_directory") or "", renewal=renewal, forced=False, host_renewal=False,
        expired=False, in_window=bool(renewal_drift(cert, p["renew_days"], p["renew_percent"], now)))
    reasons += [f"ACME order: {r}" for r in order]
    return reasons + _fullchain_drift(p, data)


def ari_cert_id(cert: t.Any) -> str | None:
    """The certificate's ARI identifier (None without an authority key identifier: then the CA is not asked)."""
    try:
        aki = cert.extensions.get_extension_for_class(_x509.x509.AuthorityKeyIdentifier).value
    except _x509.x509.ExtensionNotFound:
        return None
    if aki.key_identifier is None:
        return None
    return _acme.cert_id(aki.key_identifier, cert.serial_number)


# ---- source provided --------------------------------------------------------------------------------------

def _name_list(name: t.Any) -> list[tuple[str, t.Any]]:
    return [(attr.oid.dotted_string, attr.value) for rdn in name.rdns for attr in rdn]


def provided_problems(cert_pem: str, key_pem: str, chain_pem: str, wanted: list[str],
                      now: datetime.datetime | None = None) -> list[str]:
    """Why provided.yml refuses certificate_provided_cert/key/chain for the names WANTED (empty = accepted): it expired,
    the key is not the certificate's, the chain is out of order (each certificate followed by its issuer), or names are
    missing. The role's refusal (the port443.https.provided_certificate_problems filter) and the state step call it."""
    try:
        certs = _x509.load_pem_list(cert_pem or "")
    except ValueError as exc:
        return [f"the certificate cannot be read ({exc})"]
    if not certs:
        return ["the certificate is not a PEM certificate"]
    cert = certs[0]
    problems = []
    end = _x509.not_after(cert)
    if (now or _x509.utcnow()) > end:
        problems.append(f"it expired on {_x509.iso(end)}")
    try:
        key = _x509.load_private_key((key_pem or "").encode("utf-8"))
    except (ValueError, TypeError) as exc:
        problems.append(f"the private key cannot be read ({exc})")
    else:
        if not _x509.key_matches(cert, key):
            problems.append("the private key does not belong to the certificate (public keys differ)")
    try:
        chain = [_x509.load_pem_list(block)[0] for block in _PEM_BLOCK.findall(chain_pem or "")]
    except (ValueError, IndexError) as exc:
        return problems + [f"the chain cannot be read ({exc})"]
    issuers = [_name_list(cert.issuer)] + [_name_list(c.issuer) for c in chain]
    subjects = [_name_list(c.subject) for c in chain]
    if subjects != issuers[:len(subjects)]:
        expected = " > ".join(json.dumps([list(pair) for pair in name]) for name in issuers[:len(subjects)])
        problems.append(f"the chain is in the wrong order (each certificate must be followed by its issuer: expected issuers {expected})")
    have = san_strings(cert)
    missing = [name for name in wanted if name not in have]
    if missing:
        problems.append(f"it does not cover {', '.join(dict.fromkeys(missing))}")
    return problems


def provided_drift(p: dict[str, t.Any], now: datetime.datetime | None = None) -> list[str]:
    """provided.yml and finish.yml on this host: the refusal, the key, certificate and chain as the copy tasks write
    them (content, owner root, modes 0600 and 0644), and the full chain."""
    cert_pem, key_pem, chain_pem = (p.get(name) or "" for name in ("provided_cert", "provided_key", "provided_chain"))
    reasons = [f"provided certificate: refused ({problem})" for problem in provided_problems(cert_pem, key_pem, chain_pem, p["sans"], now)]
    reasons += _content(p["key_path"], key_pem.encode("utf-8"), "key") or file_attrs(p["key_path"], 0o600)
    cert_data = (cert_pem.strip() + "\n").encode("utf-8")
    reasons += _content(p["cert_path"], cert_data, "certificate") or file_attrs(p["cert_path"], 0o644)
    if chain_pem.strip():
        if not p.get("chain_path"):
            return reasons + ["chain: its path was not given"]
        reasons += _content(p["chain_path"], (chain_pem.strip() + "\n").encode("utf-8"), "chain") or file_attrs(p["chain_path"], 0o644)
    return reasons + _fullchain_drift(p, cert_data)


def trust_drift(path: str, ca: t.Any, ca_pem: bytes, trusted: bool) -> list[str]:
    """certificate_ca_trust: the entry holds the CA (true), or an entry of this CA (same key) is gone (false)."""
    if trusted:
        return _content(path, ca_pem, "trust-store entry") or file_attrs(path, 0o644)
    data = read(path)
    if data is None:
        return [] if not os.path.lexists(path) else [f"{path}: trust-store entry unreadable"]
    try:
        certs = _x509.load_pem_list(data)
    except ValueError:
        return []  # not a certificate: the full path leaves it alone
    if certs and _x509.public_key_bytes(certs[0].public_key()) == _x509.public_key_bytes(ca.public_key()):
        return [f"{path}: trust-store entry of this CA present although certificate_ca_trust is false"]
    return []


# ---- the internal CA on the controller --------------------------------------------------------------------

def nice_json(value: t.Any) -> str:
    """What ansible.builtin.to_nice_json writes (indent 4, sorted keys)."""
    return json.dumps(value, indent=4, sort_keys=True, separators=(",", ": "), ensure_ascii=False)


def ca_state(p: dict[str, t.Any]) -> tuple[list[str], str]:
    """Reasons the CA block of internal_ca.yml would change something on the controller, and the CA certificate."""
    reasons = file_attrs(p["ca_dir"], 0o700, "directory", owned=False)
    paths = p["ca_paths"]
    key = None
    data = read(paths["key"])
    if data is None:
        reasons.append(f"CA key {paths['key']}: missing or unreadable")
    else:
        reasons += file_attrs(paths["key"], 0o600, owned=False)
        passphrase = p.get("passphrase") or None
        try:
            key = _x509.load_private_key(data, passphrase.encode("utf-8") if passphrase else None)
        except (ValueError, TypeError) as exc:
            reasons.append(f"CA key {paths['key']}: cannot be loaded with certificate_ca_passphrase ({exc})")
        else:
            reasons += key_drift(key, "ECC", "secp384r1", 0)

    permitted = list(p.get("permitted") or [])
    if not permitted:
        raw = read(paths["constraints"])
        try:
            permitted = json.loads(raw) if raw is not None else []
        except ValueError:
            permitted = []
        if not isinstance(permitted, list) or not all(isinstance(x, str) for x in permitted):
            permitted = []
    if not permitted or not all(_NAME_CONSTRAINT.match(x) for x in permitted):
        reasons.append(f"CA name constraints: none recorded in {paths['constraints']} or malformed")
    else:
        reasons += (_content(paths["constraints"], (nice_json(permitted) + "\n").encode("utf-8"), "CA name constraints")
                    or file_attrs(paths["constraints"], 0o644, owned=False))

    cert, pem, cert_reasons = _load_cert(paths["cert"], "CA certificate")
    reasons += cert_reasons
    if cert is not None:
        reasons += file_attrs(paths["cert"], 0o644, owned=False)
        reasons += ca_cert_drift(cert, key, p["common_name"], permitted)
    return reasons, (pem or b"").decode("utf-8", "replace")


def ca_cert_drift(cert: t.Any, key: t.Any, common_name: str, permitted: list[str]) -> list[str]:
    """The CA certificate against the signing request internal_ca.yml makes (ignore_timestamps as there)."""
    reasons = []
    if key is not None and not _x509.key_matches(cert, key):
        reasons.append("CA certificate: does not match the CA key")
    if not _x509.self_signed(cert):
        reasons.append("CA certificate: not self-signed")
    name = _x509.x509.Name([_x509.x509.NameAttribute(_x509.NameOID.COMMON_NAME, common_name)])
    if cert.subject != name:
        reasons.append(f"CA certificate: subject {cert.subject.rfc4514_string()}, expected CN={common_name}")
    if not permitted:
        return reasons + ["CA certificate: name constraints unknown"]
    x = _x509.x509
    try:
        allowed = [general_name(entry, network=True) for entry in permitted]
    except ValueError as exc:
        return reasons + [f"CA certificate: {exc}"]
    excluded = None if any(e.startswith("IP:") for e in permitted) else [
        x.IPAddress(ipaddress.ip_network("0.0.0.0/0")), x.IPAddress(ipaddress.ip_network("::/0"))]
    expected = [
        x.Extension(_x509.ExtensionOID.BASIC_CONSTRAINTS, True, x.BasicConstraints(ca=True, path_length=0)),
        x.Extension(_x509.ExtensionOID.KEY_USAGE, True, x.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False)),
        x.Extension(_x509.ExtensionOID.NAME_CONSTRAINTS, True, x.NameConstraints(allowed, excluded)),
    ]
    return reasons + extensions_drift(cert, expected, "CA certificate", aki=False)
