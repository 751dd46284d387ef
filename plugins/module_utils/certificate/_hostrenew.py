# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Renewal on the host (certificate_renewal: host): the decisions of the renewal agent that the certificate role leaves
on the host (a systemd timer running files/port443-certificate-renew). When to renew (the CA's ACME Renewal Information
window, else a percentage of the lifetime), the certbot command that orders with a signing request made from the key
the role wrote (the key never leaves the host and never changes), the files a new certificate is written as (the same
bytes the role's full path writes, so a controller run afterwards changes nothing), and what a pool member does with
the certificate the member before it serves, the web server's own copies of the certificate a renewal replaces, and
the settings the role refuses. Plain Python (no Ansible imports), unit-tested alone."""

from __future__ import annotations

import base64
import datetime
import hashlib
import re
import typing as t

PEM_RE = re.compile(r"-----BEGIN CERTIFICATE-----\s*(.+?)\s*-----END CERTIFICATE-----", re.S)

CHALLENGES = ("http-01", "dns-01")
# certbot's dns-rfc2136 plugin names the TSIG algorithms in upper case.
TSIG_ALGORITHMS = {"hmac-md5": "HMAC-MD5", "hmac-sha1": "HMAC-SHA1", "hmac-sha224": "HMAC-SHA224",
                   "hmac-sha256": "HMAC-SHA256", "hmac-sha384": "HMAC-SHA384", "hmac-sha512": "HMAC-SHA512"}
DEFAULT_PERCENT = 33.0


class ConfigError(ValueError):
    """The agent's configuration is unusable (one message naming the field)."""


# --- when --------------------------------------------------------------------------------------------------------

def parse_time(text: str) -> datetime.datetime:
    """An RFC 3339 time (ARI windows; Go writes nanoseconds, Python takes microseconds)."""
    match = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", text.strip())
    if not match:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    frac = (match.group(2) or ".0")[1:7].ljust(6, "0")
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    return datetime.datetime.fromisoformat(f"{match.group(1)}.{frac}{zone}").astimezone(datetime.timezone.utc)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def serial_bytes(serial: int) -> bytes:
    """The DER content octets of a positive serial number (a leading zero when the high bit is set)."""
    length = max(1, (serial.bit_length() + 8) // 8)
    return serial.to_bytes(length, "big")


def ari_cert_id(authority_key_id: bytes, serial: int) -> str:
    """RFC 9773 certificate identifier: base64url(keyIdentifier of the AKI) '.' base64url(serial)."""
    return f"{_b64url(authority_key_id)}.{_b64url(serial_bytes(serial))}"


def ari_renew_at(window: dict[str, t.Any], serial: int, not_before: datetime.datetime | None = None,
                 not_after: datetime.datetime | None = None) -> datetime.datetime:
    """The point of the CA's suggested window this certificate renews at. RFC 9773 asks for a random point, so that a
    fleet does not renew at once; this one is derived from the serial number, so that it is the same on every run of
    the timer (a fresh random draw each run would drift towards the window's start). The window is first cut to the
    certificate's validity: a CA that answers with a fixed two-day window (pebble does) would otherwise make a
    certificate valid for minutes renew on every run; a window in the past (a revoked certificate) still means now."""
    start, end = parse_time(str(window["start"])), parse_time(str(window["end"]))
    if not_before is not None and not_after is not None:
        start, end = max(start, not_before), min(end, not_after)
    if end <= start:
        return start
    fraction = int.from_bytes(hashlib.sha256(serial_bytes(serial)).digest()[:4], "big") / 2 ** 32
    return start + (end - start) * fraction


def lifetime_renew_at(not_before: datetime.datetime, not_after: datetime.datetime,
                      percent: float) -> datetime.datetime:
    """Renew when PERCENT of the lifetime remains (0 or less = DEFAULT_PERCENT, a third as certbot's default)."""
    share = (percent if percent > 0 else DEFAULT_PERCENT) / 100.0
    return not_after - (not_after - not_before) * share


def decide(not_before: datetime.datetime, not_after: datetime.datetime, now: datetime.datetime,
           percent: float, window: dict[str, t.Any] | None = None, serial: int = 0) -> dict[str, t.Any]:
    """Whether to order now: {due, renew_at (ISO), basis ('ari' or 'lifetime'), why}. The ARI window decides when
    the CA offers one, but never later than the lifetime rule (the margin the user asked for stays); the lifetime rule
    decides otherwise, and always once the certificate has expired."""
    fallback = lifetime_renew_at(not_before, not_after, percent)
    renew_at, basis = fallback, "lifetime"
    if window:
        point = ari_renew_at(window, serial, not_before, not_after)
        if point <= fallback:
            renew_at, basis = point, "ari"
    due = now >= renew_at or now >= not_after
    when = renew_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    if basis == "ari":
        why = f"the CA's renewal window (ARI) places this certificate's renewal at {when}"
    else:
        why = f"{percent if percent > 0 else DEFAULT_PERCENT:g} % of the lifetime remains at {when}" + (
            " (before the point the CA's window gives)" if window else "")
    return {"due": due, "renew_at": when, "basis": basis, "why": why}


# --- files ---------------------------------------------------------------------------------------------------------

def pem_blocks(text: str) -> list[str]:
    """Every certificate of a PEM text, each normalised to 64-character lines and a final newline."""
    out = []
    for body in PEM_RE.findall(text):
        data = "".join(body.split())
        lines = [data[i:i + 64] for i in range(0, len(data), 64)]
        out.append("-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n")
    return out


def files_text(blocks: list[str]) -> dict[str, str]:
    """The certificate, chain and full chain files of a leaf and its issuers, as the role's full path writes them
    (finish.yml: the certificate, then the chain, each trimmed, joined by a newline, a final newline)."""
    if not blocks:
        raise ValueError("no certificate")
    cert, chain = blocks[0], "".join(blocks[1:])
    parts = [cert.strip()] + ([chain.strip()] if chain.strip() else [])
    return {"cert": cert, "chain": chain, "fullchain": "\n".join(parts) + "\n"}


# The parts a copy may hold, the one a server serves first: a copy that equals several (a certificate without a chain
# is its own full chain) takes the new full chain.
COPY_PARTS = ("fullchain", "cert", "chain")


def copies_to_replace(listing: dict[str, bytes], previous: dict[str, str], new: dict[str, str]) -> dict[str, str]:
    """The web server's own copies of the certificate (Caddy's and HAProxy's cert_copy_dir) a renewal replaces:
    {path: new text} for every file of LISTING ({path: bytes}) whose bytes equal the previous text of one of
    COPY_PARTS (PREVIOUS, {part: text}); it gets the new text of that part (NEW). Matching by content, not by name,
    finds every copy of this certificate whatever its name (one per vhost, one per key type) and never touches a key,
    another certificate's copy or a file the collection did not copy. A part that was empty or does not change is no
    match."""
    out = {}
    for path in sorted(listing):
        for part in COPY_PARTS:
            old = previous.get(part) or ""
            if old and listing[path] == old.encode("utf-8"):
                if new.get(part, old) != old:
                    out[path] = new[part]
                break
    return out


# --- the order -----------------------------------------------------------------------------------------------------

def certbot_argv(config: dict[str, t.Any], csr: str, out_dir: str, ini: str = "") -> list[str]:
    """certbot certonly with the role's signing request: the certificate goes to OUT_DIR (the agent installs it)."""
    argv = ["certbot", "certonly", "--non-interactive", "--agree-tos", "--csr", csr,
            "--server", config["directory"],
            "--config-dir", f"{config['certbot_dir']}/config", "--work-dir", f"{config['certbot_dir']}/work",
            "--logs-dir", f"{config['certbot_dir']}/logs",
            "--cert-path", f"{out_dir}/cert.pem", "--chain-path", f"{out_dir}/chain.pem",
            "--fullchain-path", f"{out_dir}/fullchain.pem"]
    argv += ["-m", config["email"], "--no-eff-email"] if config.get("email") else ["--register-unsafely-without-email"]
    if not config.get("validate_certs", True):
        argv.append("--no-verify-ssl")
    if config["challenge"] == "http-01":
        argv += ["--webroot", "-w", config["webroot"], "--preferred-challenges", "http"]
    else:
        argv += ["--dns-rfc2136", "--dns-rfc2136-credentials", ini,
                 "--dns-rfc2136-propagation-seconds", str(int(config["dns"].get("propagation_seconds", 60))),
                 "--preferred-challenges", "dns"]
    return argv


def rfc2136_ini(dns: dict[str, t.Any], server_ip: str) -> str:
    """certbot-dns-rfc2136's credentials file: the role's TSIG key (the same least-privilege update policy)."""
    algorithm = TSIG_ALGORITHMS.get(str(dns.get("key_algorithm", "hmac-sha256")).lower())
    if algorithm is None:
        raise ConfigError(f"dns.key_algorithm: {dns.get('key_algorithm')!r} is none of {', '.join(TSIG_ALGORITHMS)}")
    return (f"dns_rfc2136_server = {server_ip}\n"
            f"dns_rfc2136_port = {int(dns.get('port', 53))}\n"
            f"dns_rfc2136_name = {dns['key_name']}\n"
            f"dns_rfc2136_secret = {dns['key_secret']}\n"
            f"dns_rfc2136_algorithm = {algorithm}\n")


def check_config(config: t.Any) -> dict[str, t.Any]:
    """The agent's configuration (written by the role) or ConfigError naming what is wrong."""
    if not isinstance(config, dict):
        raise ConfigError("the configuration is not a JSON object")
    for key in ("name", "cert", "chain", "fullchain", "key", "sans", "directory", "challenge", "server", "service",
                "probe_name", "certbot_dir", "state_file"):
        if not config.get(key):
            raise ConfigError(f"{key}: missing or empty")
    if config["challenge"] not in CHALLENGES:
        raise ConfigError(f"challenge: {config['challenge']!r} is none of {', '.join(CHALLENGES)}")
    if config["challenge"] == "http-01" and not config.get("webroot"):
        raise ConfigError("webroot: needed for http-01")
    if config["challenge"] == "dns-01":
        dns = config.get("dns") or {}
        for key in ("server", "key_name", "key_secret"):
            if not dns.get(key):
                raise ConfigError(f"dns.{key}: needed for dns-01 (the certbot plugin takes no SOA lookup of the primary)")
    pool = config.get("pool") or {}
    if pool:
        members = pool.get("members") or []
        if pool.get("me") not in members:
            raise ConfigError(f"pool.me: {pool.get('me')!r} is not one of pool.members {members!r}")
    return config


# --- pools ---------------------------------------------------------------------------------------------------------

def pool_role(pool: dict[str, t.Any] | None) -> tuple[str, str]:
    """('single', '') without a pool, ('leader', '') for the first member (it orders), ('member', PREVIOUS) for the
    others: each takes the certificate from the member before it, once that one serves it."""
    if not pool:
        return "single", ""
    members = list(pool["members"])
    index = members.index(pool["me"])
    return ("leader", "") if index == 0 else ("member", members[index - 1])


def member_action(mine: dict[str, t.Any] | None, served: dict[str, t.Any] | None, key_public: bytes,
                  sans: list[str]) -> tuple[bool, str]:
    """Whether a pool member installs the certificate the member before it serves. MINE and SERVED are {public_key
    (bytes), not_after (datetime), sans (list), der (bytes)} (SERVED None: it could not be read). Only a certificate for
    this member's key and names, newer than its own, is taken."""
    if served is None:
        return False, "the member before this one serves no certificate that could be read: waiting"
    if mine is not None and served["der"] == mine["der"]:
        return False, "the member before this one serves this member's certificate: nothing to do"
    if served["public_key"] != key_public:
        return False, "the member before this one serves a certificate for another key: not taken"
    if sorted(served["sans"]) != sorted(sans):
        return False, "the member before this one serves a certificate for other names: not taken"
    if mine is not None and served["not_after"] <= mine["not_after"]:
        return False, "the member before this one serves an older certificate: not taken"
    return True, "the member before this one serves a newer certificate of the pool: installing it"


# --- the role's settings -------------------------------------------------------------------------------------------

def settings_problems(server: str, key_types: list[str], servers: t.Sequence[str]) -> list[str]:
    """What the role refuses with certificate_renewal: host before it changes anything: a web server the collection
    does not set up (SERVERS: the registry's names), and dual certificates (the agent renews one certificate: a second
    key type's certificate would expire while the host renews the first)."""
    problems = []
    if server not in servers:
        problems.append(f"certificate_host_renewal_server must be one of {', '.join(servers)} (got {server!r}): the agent "
                        "reloads and proves that server; set webserver_server or certificate_host_renewal_server")
    if len(key_types or []) > 1:
        problems.append(f"certificate_renewal: host renews one certificate, not dual certificates (certificate_key_types: "
                        f"{', '.join(key_types)}): set certificate_key_types to one key type, or certificate_renewal: "
                        "controller to renew both from the controller")
    return problems
