# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Trust verdicts for certificate chains (plain Python, no Ansible imports).

Who decides: a standards path validator, never the code in this file. For a served chain that is OpenSSL's
verification during the probe's own handshake (the verdict Python, curl and most clients get); for files on disk it is
``openssl verify -purpose sslserver``. ``trusted`` is true only when that validator accepted the chain.

What this file adds: the explanation. A walker follows the chain from the leaf to a trust anchor and names the
certificate and the rule that fails (issuer not a CA, path length, name constraints, purpose, key usage, signature,
validity, self-signed, unknown root, missing intermediate). Where the validator rejected a chain and the walker finds
no rule broken, the validator's own message is reported (``untrusted_chain``); where no validator ran, the verdict is
``unknown`` with the ``verification_unknown`` warning: never ok.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import tempfile
import threading
import typing as t

from ansible_collections.port443.https.plugins.module_utils.certificate import _x509

try:
    from cryptography import x509
    from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, ExtensionOID
except ImportError:  # pragma: no cover - the callers check _x509.HAS_CRYPTOGRAPHY
    pass

# OpenSSL's verification messages (stable across 1.1 and 3.x, unlike some codes) -> reason code. "validity" means
# the dates of some certificate: the walker says which one (leaf: expired/not_yet_valid, CA: expired_intermediate).
_MESSAGES = (
    ("self signed certificate in certificate chain", "untrusted_root"),
    ("self signed certificate", "self_signed"),
    ("unable to get local issuer certificate", "incomplete_chain"),
    ("unable to get issuer certificate", "incomplete_chain"),
    ("unable to verify the first certificate", "incomplete_chain"),
    ("invalid ca certificate", "issuer_not_ca"),
    ("path length constraint exceeded", "path_length_exceeded"),
    ("unsuitable certificate purpose", "unsuitable_purpose"),
    ("unsupported certificate purpose", "unsuitable_purpose"),
    ("key usage does not include certificate signing", "issuer_key_usage"),
    ("permitted subtree violation", "name_constraints_violated"),
    ("excluded subtree violation", "name_constraints_violated"),
    ("name constraints minimum and maximum not supported", "name_constraints_violated"),
    ("unsupported name constraint type", "name_constraints_violated"),
    ("unsupported or invalid name constraint syntax", "name_constraints_violated"),
    ("unsupported or invalid name syntax", "name_constraints_violated"),
    ("certificate signature failure", "bad_signature"),
    ("unable to decrypt certificate's signature", "bad_signature"),
    ("unable to decode issuer public key", "bad_signature"),
    ("certificate has expired", "validity"),
    ("certificate is not yet valid", "validity"),
    ("certificate revoked", "revoked"),
    ("certificate not trusted", "untrusted_root"),
    ("certificate rejected", "untrusted_root"),
    ("ee certificate key too weak", "weak_key"),
    ("ca certificate key too weak", "weak_key"),
    ("ca signature digest algorithm too weak", "weak_signature"),
)
# OpenSSL 3 codes, for messages that a build may word differently.
_CODES = {
    2: "incomplete_chain", 4: "bad_signature", 6: "bad_signature", 7: "bad_signature", 9: "validity", 10: "validity",
    18: "self_signed", 19: "untrusted_root", 20: "incomplete_chain", 21: "incomplete_chain", 23: "revoked",
    25: "path_length_exceeded", 26: "unsuitable_purpose", 27: "untrusted_root", 28: "untrusted_root",
    32: "issuer_key_usage", 47: "name_constraints_violated", 48: "name_constraints_violated",
    49: "name_constraints_violated", 51: "name_constraints_violated", 52: "name_constraints_violated",
    53: "name_constraints_violated", 66: "weak_key", 67: "weak_key", 68: "weak_key", 79: "issuer_not_ca",
}


def code_of_validator_error(code: int | None, message: str | None) -> str:
    """The reason code for an OpenSSL verification error (untrusted_chain when it is none of the known kinds)."""
    text = re.sub(r"[-_]", " ", (message or "").lower())
    for needle, reason in _MESSAGES:
        if needle in text:
            return reason
    return _CODES.get(code or -1, "untrusted_chain")


class Verification:
    """What a path validator said: ok True/False, or None when no validator ran (with why)."""

    def __init__(self, ok: bool | None, code: int | None = None, message: str | None = None, depth: int | None = None,
                 validator: str | None = None, why: str | None = None) -> None:
        self.ok = ok
        self.code = code
        self.message = message
        self.depth = depth
        self.validator = validator
        self.why = why

    def as_dict(self) -> dict[str, t.Any]:
        return {"validator": self.validator, "ok": self.ok, "error_code": self.code, "error": self.message,
                "error_depth": self.depth, "detail": self.why}

    def text(self) -> str:
        where = f" at depth {self.depth}" if self.depth is not None else ""
        return f"{self.validator}: verify error {self.code}{where}: {self.message}"


# ---- the walker: which certificate breaks which rule ----------------------------------------------------

def _ext(cert: t.Any, oid: t.Any) -> t.Any:
    try:
        return cert.extensions.get_extension_for_oid(oid).value
    except x509.ExtensionNotFound:
        return None
    except ValueError:  # a malformed extension: treat as absent; the validator decides
        return None


def _subject(cert: t.Any) -> str:
    return cert.subject.rfc4514_string() or "(empty subject)"


def _eku_allows_server(cert: t.Any) -> bool:
    eku = _ext(cert, ExtensionOID.EXTENDED_KEY_USAGE)
    if eku is None:
        return True
    oids = list(eku)
    return ExtendedKeyUsageOID.SERVER_AUTH in oids or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in oids


def _leaf_key_usage_ok(cert: t.Any) -> bool:
    ku = _ext(cert, ExtensionOID.KEY_USAGE)
    if ku is None:
        return True
    return bool(ku.digital_signature or ku.key_encipherment or ku.key_agreement)


def _dns_in_subtree(name: str, constraint: str) -> bool:
    name, constraint = name.lower().rstrip("."), constraint.lower().rstrip(".")
    if not constraint:
        return True
    if constraint.startswith("."):
        return name.endswith(constraint)
    return name == constraint or name.endswith("." + constraint)


def _leaf_names(leaf: t.Any) -> tuple[list[str], list[t.Any]]:
    san = _ext(leaf, ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    if san is not None:
        dns = [str(v) for v in san.get_values_for_type(x509.DNSName)]
        ips = list(san.get_values_for_type(x509.IPAddress))
        if dns or ips:
            return dns, ips
    # No SAN: the validator checks a host-name-like CN against the constraints, so do we.
    cns = [cn for cn in _x509.common_names(leaf) if re.match(r"^[A-Za-z0-9*_.-]+\.[A-Za-z0-9-]+$", cn)]
    return cns, []


def _name_constraint_problem(ca: t.Any, leaf: t.Any) -> str | None:
    nc = _ext(ca, ExtensionOID.NAME_CONSTRAINTS)
    if nc is None:
        return None
    dns, ips = _leaf_names(leaf)
    permitted = list(nc.permitted_subtrees or [])
    excluded = list(nc.excluded_subtrees or [])
    perm_dns = [str(g.value) for g in permitted if isinstance(g, x509.DNSName)]
    excl_dns = [str(g.value) for g in excluded if isinstance(g, x509.DNSName)]
    perm_ip = [g.value for g in permitted if isinstance(g, x509.IPAddress)]
    excl_ip = [g.value for g in excluded if isinstance(g, x509.IPAddress)]
    for name in dns:
        if any(_dns_in_subtree(name, c) for c in excl_dns):
            return f"{name} is excluded by the name constraints of {_subject(ca)}"
        if perm_dns and not any(_dns_in_subtree(name, c) for c in perm_dns):
            return f"{name} is outside the permitted names ({', '.join(perm_dns)}) of {_subject(ca)}"
    for ip in ips:
        if any(_ip_in(ip, net) for net in excl_ip):
            return f"{ip} is excluded by the name constraints of {_subject(ca)}"
        if perm_ip and not any(_ip_in(ip, net) for net in perm_ip):
            return f"{ip} is outside the permitted addresses of {_subject(ca)}"
    return None


def _ip_in(ip: t.Any, net: t.Any) -> bool:
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(net, strict=False)
    except (TypeError, ValueError):
        return False


def _is_v1_root(cert: t.Any) -> bool:
    return cert.version == x509.Version.v1 and cert.issuer == cert.subject


class Walk:
    """The path the walker found and what it saw on the way."""

    def __init__(self) -> None:
        self.path: list[t.Any] = []
        self.anchor: t.Any = None
        self.end = "incomplete"  # anchored, self_signed, untrusted_root, incomplete, broken
        self.problems: list[tuple[str, str]] = []

    def add(self, code: str, detail: str) -> None:
        if all(code != c for c, _d in self.problems):
            self.problems.append((code, detail))


def _check_issuer(walk: Walk, ca: t.Any, leaf: t.Any, now: datetime.datetime, anchor: bool) -> None:
    """The rules a certificate must meet to issue the certificate below it."""
    below = len(walk.path) - 1  # intermediates between this CA and the leaf
    bc = _ext(ca, ExtensionOID.BASIC_CONSTRAINTS)
    if not (anchor and _is_v1_root(ca)):
        if bc is None or not bc.ca:
            walk.add("issuer_not_ca", f"{_subject(walk.path[-1])} is signed by {_subject(ca)}, which is not a CA "
                                      f"(basicConstraints {'CA:FALSE' if bc is not None else 'absent'})")
        elif bc.path_length is not None and below > bc.path_length:
            walk.add("path_length_exceeded", f"{_subject(ca)} allows {bc.path_length} intermediate(s) below it (pathlen), "
                                             f"the chain has {below}")
        ku = _ext(ca, ExtensionOID.KEY_USAGE)
        if ku is not None and not ku.key_cert_sign:
            walk.add("issuer_key_usage", f"{_subject(ca)} signed {_subject(walk.path[-1])} but its keyUsage lacks keyCertSign")
    if not _eku_allows_server(ca):
        walk.add("unsuitable_purpose", f"the extendedKeyUsage of CA {_subject(ca)} does not allow serverAuth")
    problem = _name_constraint_problem(ca, leaf)
    if problem:
        walk.add("name_constraints_violated", problem)
    if _x509.not_after(ca) < now or _x509.not_before(ca) > now:
        walk.add("expired_intermediate", f"{_subject(ca)} valid {_x509.iso(_x509.not_before(ca))} to {_x509.iso(_x509.not_after(ca))}")


_WALKS: dict[tuple[t.Any, ...], Walk] = {}
_WALKS_LOCK = threading.Lock()
_WALKS_MAX = 512


def walk(chain: list[t.Any], store: t.Any, now: datetime.datetime | None = None) -> Walk:
    """Follow the served chain from the leaf to a trust anchor, checking the rules of each step.

    X.509 times have a resolution of one second and a validity period includes its last second (RFC 5280 4.1.2.5), so
    the walk looks at ``now`` to the second. Walks are shared: the same chain and store within the same second (a pool,
    one certificate behind many names, the probe's certificate, revocation and CT steps of one endpoint) are walked once
    per process. The returned Walk is shared: callers read it and never change it."""
    now = (now or _x509.utcnow()).replace(microsecond=0)
    key = (tuple(chain), store, now)  # the store itself (its identity), held by the key: no reuse of a freed id
    with _WALKS_LOCK:
        known = _WALKS.get(key)
    if known is not None:
        return known
    result = _walk(chain, store, now)
    with _WALKS_LOCK:
        if len(_WALKS) >= _WALKS_MAX:
            _WALKS.clear()
        _WALKS[key] = result
    return result


def _walk(chain: list[t.Any], store: t.Any, now: datetime.datetime) -> Walk:
    result = Walk()
    leaf = chain[0]
    result.path = [leaf]
    if not _eku_allows_server(leaf):
        result.add("unsuitable_purpose", f"the extendedKeyUsage of {_subject(leaf)} does not include serverAuth")
    elif not _leaf_key_usage_ok(leaf):
        result.add("unsuitable_purpose", f"the keyUsage of {_subject(leaf)} allows neither digitalSignature nor keyEncipherment")
    current = leaf
    served = chain[1:]
    for _step in range(len(chain) + 1):
        anchors = store.issuers_of(current)
        if anchors:
            result.anchor = anchors[0]
            if not any(result.anchor == c for c in result.path):
                _check_issuer(result, result.anchor, leaf, now, anchor=True)
            result.end = "anchored"
            return result
        if store.contains(current):
            result.anchor = current
            result.end = "anchored"
            return result
        if _x509.self_signed(current):
            result.end = "self_signed" if current is leaf else "untrusted_root"
            return result
        named = [c for c in served if c.subject == current.issuer and all(c is not p for p in result.path)]
        issuers = [c for c in named if _x509.issued_by(current, c)]
        if not issuers:
            lookalikes = named + list(store.by_subject.get(current.issuer.public_bytes(), []))
            if lookalikes:
                result.add("bad_signature", f"{_subject(current)} names {_subject(lookalikes[0])} as its issuer, "
                                            "but that certificate's key did not sign it")
                result.end = "broken"
            return result
        # Prefer a real CA among several candidates: the validator would too.
        nxt = sorted(issuers, key=lambda c: not _x509.is_ca(c))[0]
        _check_issuer(result, nxt, leaf, now, anchor=False)
        result.path.append(nxt)
        current = nxt
    result.add("untrusted_chain", "the served certificates form a loop")
    result.end = "broken"
    return result


# ---- AIA: could the chain be completed? ------------------------------------------------------------------

def ca_issuer_urls(cert: t.Any) -> list[str]:
    aia = _ext(cert, ExtensionOID.AUTHORITY_INFORMATION_ACCESS)
    if aia is None:
        return []
    return [d.access_location.value for d in aia
            if d.access_method == AuthorityInformationAccessOID.CA_ISSUERS
            and isinstance(d.access_location, x509.UniformResourceIdentifier)
            and d.access_location.value.lower().startswith("http://")]


def _parse_fetched(data: bytes) -> list[t.Any]:
    if b"-----BEGIN CERTIFICATE-----" in data:
        return _x509.load_pem_list(data)
    try:
        return [x509.load_der_x509_certificate(data)]
    except ValueError:
        pass
    try:
        from cryptography.hazmat.primitives.serialization import pkcs7

        return list(pkcs7.load_der_pkcs7_certificates(data))
    except (ImportError, ValueError):
        return []


def follow_aia(top: t.Any, store: t.Any, fetch: t.Callable[[str], bytes], hops: int = 3) -> tuple[str, list[str], t.Any]:
    """Follow caIssuers URLs from top: ('completes', urls, anchor), ('unknown_root', urls, root) or ('unknown', urls, None)."""
    current, urls = top, []
    for _hop in range(hops):
        candidates = ca_issuer_urls(current)
        if not candidates:
            return "unknown", urls, None
        url = candidates[0]
        try:
            certs = _parse_fetched(fetch(url))
        except Exception:  # network or parse trouble: the AIA route gives no answer
            return "unknown", urls, None
        issuer = next((c for c in certs if _x509.issued_by(current, c)), None)
        if issuer is None:
            return "unknown", urls, None
        urls.append(url)
        anchors = store.issuers_of(issuer)
        if anchors or store.contains(issuer):
            return "completes", urls, (anchors[0] if anchors else issuer)
        if _x509.self_signed(issuer):
            return "unknown_root", urls, issuer
        current = issuer
    return "unknown", urls, None


# ---- the verdict ------------------------------------------------------------------------------------------

def _end_finding(result: Walk, store: t.Any, fetch: t.Callable[[str], bytes] | None) -> tuple[str, str, str | None]:
    """(code, detail, fix addition) for a path that does not reach the trust store."""
    top = result.path[-1]
    if result.end == "self_signed":
        return "self_signed", f"{_subject(top)} is self-signed and not in the trust store ({store.source})", None
    if result.end == "untrusted_root":
        return "untrusted_root", f"the served chain ends at the root {_subject(top)}, which is not in the trust store ({store.source})", None
    if fetch is not None:
        outcome, urls, found = follow_aia(top, store, fetch)
        if outcome == "completes":
            return ("incomplete_chain",
                    f"{_subject(top)} is issued by {top.issuer.rfc4514_string()}, which the server does not send; the CA publishes it at "
                    f"{urls[0]} and with it the chain reaches the trusted root {_subject(found)}",
                    f"The missing certificate can be downloaded from {urls[0]}.")
        if outcome == "unknown_root":
            return ("untrusted_root",
                    f"the chain is complete up to the root {_subject(found)} (published at {urls[-1]}), which is not in the trust store ({store.source})",
                    None)
    if top is result.path[0]:
        return ("incomplete_chain",
                f"the server sends no certificate that issued {_subject(top)}, and its issuer {top.issuer.rfc4514_string()} "
                f"is not in the trust store ({store.source})", None)
    return ("untrusted_root",
            f"the served chain ends at the CA {_subject(top)}, whose issuer {top.issuer.rfc4514_string()} is not in the trust store "
            f"({store.source}): an unknown root, or a further intermediate that is neither served nor published (no usable caIssuers URL)",
            None)


def trust(chain: list[t.Any], store: t.Any, verification: Verification, now: datetime.datetime | None = None,
          fetch: t.Callable[[str], bytes] | None = None) -> tuple[dict[str, t.Any], list[tuple[str, str, str | None, str | None]]]:
    """Trust facts and findings [(code, detail, severity override, fix addition)] for a served chain.

    ``verification`` is the path validator's answer; the walker only explains it. ``fetch`` (url -> bytes) lets the
    explanation follow caIssuers URLs to tell a missing intermediate from an unknown root.
    """
    now = now or _x509.utcnow()
    result = walk(chain, store, now)
    info: dict[str, t.Any] = {"validator": verification.as_dict()}
    extra = [result.anchor] if result.anchor is not None and all(result.anchor is not c for c in result.path) else []
    info["path"] = [_subject(c) for c in result.path + extra]
    findings: list[tuple[str, str, str | None, str | None]] = []
    leaf_dates_bad = _x509.not_after(chain[0]) < now or _x509.not_before(chain[0]) > now

    if verification.ok is True:
        info["trusted"], info["verification"] = True, "trusted"
        return info, findings
    info["trusted"] = False
    for code, detail in result.problems:
        findings.append((code, detail, None, None))
    if result.end not in ("anchored", "broken"):  # broken: the walker's bad_signature already says where it stops
        code, detail, fix = _end_finding(result, store, fetch if verification.ok is False else None)
        findings.append((code, detail, None, fix))
    if verification.ok is None:
        info["verification"] = findings[0][0] if findings else "unknown"
        findings.append(("verification_unknown", verification.why or "no path validator ran", None, None))
        return info, findings
    mapped = code_of_validator_error(verification.code, verification.message)
    if not findings:
        if mapped == "validity" and leaf_dates_bad:
            info["verification"] = "expired" if _x509.not_after(chain[0]) < now else "not_yet_valid"
            return info, findings  # the leaf's own dates are reported by the expiry check
        if mapped in ("weak_key", "weak_signature", "revoked", "validity"):
            mapped = "untrusted_chain"
        findings.append((mapped, verification.text(), None, None))
    code, detail, sev, fix = findings[0]
    if verification.text() not in detail:
        findings[0] = (code, f"{detail}; {verification.text()}", sev, fix)
    info["verification"] = findings[0][0]
    return info, findings


# ---- openssl verify, for chains in files ------------------------------------------------------------------

_VERIFY_ERROR = re.compile(r"error (\d+) at (\d+) depth lookup: ?(.*)")


def openssl_verify(chain_pem: list[bytes], ca_path: str | None, run_command: t.Callable[[list[str]], tuple[int, str]] | None,
                   binary: str | None) -> Verification:
    """`openssl verify -purpose sslserver` on a leaf with its chain (intermediates untrusted, trust from ca_path or the system)."""
    if run_command is None or not binary:
        return Verification(None, validator="openssl verify", why="the openssl command is not available on the host running the check")
    with tempfile.TemporaryDirectory(prefix="port443-verify-") as tmp:
        leaf = os.path.join(tmp, "leaf.pem")
        with open(leaf, "wb") as handle:
            handle.write(chain_pem[0])
        argv = [binary, "verify", "-purpose", "sslserver", "-partial_chain"]
        if len(chain_pem) > 1:
            untrusted = os.path.join(tmp, "untrusted.pem")
            with open(untrusted, "wb") as handle:
                handle.write(b"".join(chain_pem[1:]))
            argv += ["-untrusted", untrusted]
        if ca_path:
            # Only ca_path: without these flags openssl also reads its default directory.
            argv += ["-CAfile", ca_path, "-no-CApath"] + (["-no-CAstore"] if _supports_no_store(binary, run_command) else [])
        argv.append(leaf)
        rc, out = run_command(argv)
    if rc == 0 and out.strip().endswith("OK"):
        return Verification(True, validator="openssl verify")
    match = _VERIFY_ERROR.search(out or "")
    if match:
        return Verification(False, int(match.group(1)), match.group(3).strip(), int(match.group(2)), validator="openssl verify")
    return Verification(None, validator="openssl verify", why=f"openssl verify gave no verdict (rc {rc}): {(out or '').strip()[:200]}")


_NO_STORE: dict[str, bool] = {}


def _supports_no_store(binary: str, run_command: t.Callable[[list[str]], tuple[int, str]]) -> bool:
    """OpenSSL 3 has -no-CAstore; 1.1 has only -no-CApath (and -no-CAfile). Ask once per binary."""
    if binary not in _NO_STORE:
        rc, out = run_command([binary, "version"])
        _NO_STORE[binary] = rc == 0 and bool(re.search(r"OpenSSL [3-9]\.", out or ""))
    return _NO_STORE[binary]


# ---- everything about one served chain ----------------------------------------------------------------------

def evaluate(chain_der: list[bytes], server_name: str, store: t.Any, policy: dict[str, t.Any], verification: Verification,
             now: datetime.datetime | None = None, fetch: t.Callable[[str], bytes] | None = None,
             chain_complete: bool = True) -> tuple[dict[str, t.Any], list[tuple[str, str, str | None, str | None]]]:
    """Certificate facts plus findings [(code, detail, severity override, fix addition)].

    chain_complete is False when only the leaf of the served chain could be read (Python 3.9): the trust verdict
    still comes from the validator, but the explanation cannot look at the served intermediates.
    """
    now = now or _x509.utcnow()
    chain = [_x509.load_der(der) for der in chain_der]
    leaf = chain[0]
    info = _x509.facts(leaf, now)
    info["trust_store"] = store.source
    info["chain"] = [_x509.chain_entry(c) for c in chain]
    info["chain_complete"] = chain_complete
    if not chain_complete and verification.ok is False:
        # The walker would see a lone leaf and blame a missing intermediate: let the validator's message speak.
        info.update({"validator": verification.as_dict(), "trusted": False, "path": [_subject(leaf)]})
        mapped = code_of_validator_error(verification.code, verification.message)
        leaf_dates_bad = _x509.not_after(leaf) < now or _x509.not_before(leaf) > now
        if mapped == "validity" and leaf_dates_bad:
            info["verification"] = "expired" if _x509.not_after(leaf) < now else "not_yet_valid"
            findings: list[tuple[str, str, str | None, str | None]] = []
        else:
            if mapped in ("weak_key", "weak_signature", "revoked", "validity"):
                mapped = "expired_intermediate" if mapped == "validity" else "untrusted_chain"
            info["verification"] = mapped
            findings = [(mapped, f"{verification.text()} (only the leaf of the served chain could be read on this Python)", None, None)]
    else:
        trust_info, findings = trust(chain, store, verification, now, fetch)
        info.update(trust_info)

    match, cn_only = _x509.hostname_match(leaf, server_name)
    info["hostname_match"] = match
    if cn_only:
        findings.append(("cn_only", f"{server_name} found only in the CN", None, None))
    elif not match:
        names = ", ".join(info["sans"]) or "no subjectAltName"
        findings.append(("hostname_mismatch", f"{server_name} not in {names}", None, None))

    if _x509.not_after(leaf) < now:
        findings.append(("expired", f"notAfter {info['not_after']}", None, None))
    elif _x509.not_before(leaf) > now:
        findings.append(("not_yet_valid", f"notBefore {info['not_before']}", None, None))
    else:
        left = info["days_left"]
        text = _x509.left_text(left, info.get("hours_left"))
        if left <= policy.get("critical_days", 7):
            findings.append(("expiring_soon", text, "critical", None))
        elif left <= policy.get("warning_days", 30):
            findings.append(("expiring_soon", text, "warning", None))

    min_rsa = int(policy.get("min_rsa_bits", 2048))
    min_ec = int(policy.get("min_ec_bits", 256))
    for cert in chain:
        key_type, size = _x509.key_info(cert)
        if size is None:
            continue
        if (key_type in ("RSA", "DSA") and size < min_rsa) or (key_type == "ECDSA" and size < min_ec):
            findings.append(("weak_key", f"{key_type} {size} bits in {_subject(cert)}", None, None))
            break
    for cert in chain:
        if _x509.self_signed(cert) and cert is not leaf:
            continue  # a root's self-signature is not checked by clients
        algo = _x509.signature_hash(cert)
        if algo in _x509.WEAK_HASHES:
            findings.append(("weak_signature", f"{algo} in {_subject(cert)}", None, None))
            break
    return info, findings


def issuer_for_revocation(chain_der: list[bytes], store: t.Any) -> tuple[t.Any, t.Any] | None:
    """(leaf, issuer) when the issuer is known (served or trusted)."""
    chain = [_x509.load_der(der) for der in chain_der]
    result = walk(chain, store)
    if len(result.path) > 1:
        return chain[0], result.path[1]
    if result.anchor is not None and result.anchor != chain[0]:
        return chain[0], result.anchor
    return None
