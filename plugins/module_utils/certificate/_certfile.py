# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Certificate files on disk: PEM certificate/chain/key, key match, chain order and completeness, names."""

from __future__ import annotations

import typing as t

from ansible_collections.port443.https.plugins.module_utils.host import _files
from ansible_collections.port443.https.plugins.module_utils.certificate import _chain
from ansible_collections.port443.https.plugins.module_utils.reasons import _classify
from ansible_collections.port443.https.plugins.module_utils.certificate import _policy
from ansible_collections.port443.https.plugins.module_utils.certificate import _x509


class CertFileError(ValueError):
    """A file cannot be read or parsed; the message names the option and the path."""


def _read(option: str, path: str) -> bytes:
    try:
        return _files.read_bytes(option, path)
    except _files.FileReadError as exc:
        raise CertFileError(str(exc)) from None


def _certs(option: str, path: str) -> list[t.Any]:
    # Read first: a file that cannot be read is said so, never reported as bad PEM.
    data = _read(option, path)
    try:
        certs = _x509.load_pem_list(data)
    except ValueError as exc:
        raise CertFileError(f"{option}: {path!r} is not valid PEM: {exc}") from None
    if not certs:
        raise CertFileError(f"{option}: no PEM certificate found in {path!r}")
    return certs


def pem_facts(data: str | bytes) -> dict[str, t.Any]:
    """Facts about every certificate in a PEM text (first = leaf); raises ValueError when there is none."""
    certs = _x509.load_pem_list(data)
    if not certs:
        raise ValueError("no PEM certificate found in the input")
    now = _x509.utcnow()
    facts = _x509.facts(certs[0], now)
    facts["chain"] = [_x509.facts(c, now) for c in certs]
    return facts


def inspect(params: dict[str, t.Any], run_command: t.Callable[[list[str]], tuple[int, str]] | None = None,
            openssl: str | None = None) -> dict[str, t.Any]:
    """Evaluate certificate (+ chain + key) files like the probe evaluates a served chain.

    Trust is decided by ``openssl verify`` (run through run_command with the binary openssl); without it the
    verdict is unknown and says so (verification_unknown), never trusted.
    """
    try:
        # The same policy and name checks as https_endpoint_info: one validation for both modules.
        policy = _policy.check_policy(params)
        names = _policy.check_names(params.get("names"))
    except _policy.PolicyInputError as exc:
        raise CertFileError(str(exc)) from None
    certs = _certs("path", params["path"])
    if params.get("chain_path"):
        certs += _certs("chain_path", params["chain_path"])
    store = _x509.trust_store(params.get("ca_path") or None)

    ders = [c.public_bytes(_x509.serialization.Encoding.DER) for c in certs]
    pems = [c.public_bytes(_x509.serialization.Encoding.PEM) for c in certs]
    verification = _chain.openssl_verify(pems, params.get("ca_path"), run_command, openssl)
    info, findings = _chain.evaluate(ders, names[0] if names else "", store, policy, verification)
    reasons = []
    for code, detail, severity, fix in findings:
        if code in ("hostname_mismatch", "cn_only") and not names:
            continue
        reasons.append(_classify.reason(code, detail, severity, fix))
    unmatched = []
    for name in names[1:]:
        match, _cn_only = _x509.hostname_match(certs[0], name)
        if not match:
            unmatched.append(name)
    if unmatched:
        reasons.append(_classify.reason("hostname_mismatch", f"{', '.join(unmatched)} not in {', '.join(info['sans']) or 'no subjectAltName'}"))
    if names:
        first_match, _cn = _x509.hostname_match(certs[0], names[0])
        info["hostname_match"] = first_match and not unmatched
        info["names_not_covered"] = ([] if first_match else names[:1]) + unmatched
    else:
        info["hostname_match"] = None
        info["names_not_covered"] = []

    in_order, problems = _x509.chain_order(certs)
    if not in_order:
        reasons.append(_classify.reason("chain_order", "; ".join(problems)))
    info["chain_in_order"] = in_order
    info["chain_problems"] = problems

    key_match = None
    if params.get("key_path"):
        data = _read("key_path", params["key_path"])
        passphrase = params.get("key_passphrase")
        try:
            key = _x509.load_private_key(data, passphrase.encode("utf-8") if passphrase else None)
        except (ValueError, TypeError) as exc:
            raise CertFileError(f"key_path: cannot load the private key {params['key_path']!r}: {exc}") from None
        key_match = _x509.key_matches(certs[0], key)
        if not key_match:
            reasons.append(_classify.reason("key_mismatch", params["key_path"]))
    info["key_matches"] = key_match
    info["names"] = names
    return {"certificate": info, "status": _classify.status_of(reasons), "reasons": reasons}


def days_left_of(value: t.Any, now: t.Any = None) -> int:
    """Days left for a PEM certificate, a facts dict (not_after) or a date ('2026-12-31T23:59:59Z', '20261231235959Z')."""
    import datetime

    now = now or _x509.utcnow()
    if isinstance(value, dict):
        if "not_after" not in value:
            raise ValueError("the dict has no not_after key (expected certificate facts)")
        value = value["not_after"]
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("expected a PEM certificate or a date as text, got bytes that are not UTF-8") from None
    if not isinstance(value, str):
        raise TypeError(f"expected a PEM certificate, certificate facts or a date string, got {type(value).__name__}")
    text = value.strip()
    if "-----BEGIN CERTIFICATE-----" in text:
        certs = _x509.load_pem_list(text)
        return _x509.days_left(certs[0], now)
    when = None
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y%m%d%H%M%SZ", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            when = datetime.datetime.strptime(text, fmt)
            break
        except ValueError:
            continue
    if when is None:
        raise ValueError(f"cannot read {text[:40]!r} as a PEM certificate or a date")
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return int((when - now).total_seconds() // 86400)
