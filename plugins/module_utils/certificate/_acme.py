# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""What an ACME directory (RFC 8555 section 7.1.1) offers, read before an order: the profiles of
draft-aaron-acme-profiles, advertised as the object meta.profiles (profile name -> description). An order that names
a profile the CA does not advertise is refused by the CA (or, worse, ignored by an older one); the certificate role
stops before it is sent.

And ACME Renewal Information (ARI, RFC 9773): the certificate's identifier and the verdict on the window the CA
suggests, as community.crypto's acme_certificate_renewal_info decides it (its default algorithm picks a random time
inside the window, so only "before the window" is a sure "no").

Plain Python (no Ansible imports)."""

from __future__ import annotations

import base64
import datetime
import json
import re
import typing as t


def parse_directory(body: t.Any) -> dict[str, t.Any] | None:
    """The directory object from its JSON text (None when it is not a JSON object)."""
    try:
        value = json.loads(body) if isinstance(body, (str, bytes)) else body
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def profiles(directory: dict[str, t.Any]) -> dict[str, str]:
    """The profiles a directory advertises (name -> description; empty when it advertises none)."""
    meta = directory.get("meta")
    found = meta.get("profiles") if isinstance(meta, dict) else None
    if not isinstance(found, dict):
        return {}
    return {str(name): str(text) for name, text in found.items()}


def profile_problem(directory: dict[str, t.Any] | None, profile: str, url: str) -> str:
    """Why PROFILE cannot be ordered from the directory at URL ('' when the directory advertises it)."""
    if directory is None:
        return f"the ACME directory {url} is not a JSON object; cannot tell whether it offers the profile {profile!r} (profile)"
    offered = profiles(directory)
    if not offered:
        return (f"the CA at {url} advertises no ACME profiles (its directory has no meta.profiles), so it cannot issue "
                f"the profile {profile!r} (profile): remove the profile, or order from a CA that offers profiles")
    if profile not in offered:
        return (f"the CA at {url} does not offer the ACME profile {profile!r} (profile); it offers "
                f"{', '.join(sorted(offered))}")
    return ""


# ---- ACME Renewal Information (RFC 9773) ------------------------------------------------------------------------

def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def cert_id(authority_key_identifier: bytes, serial: int) -> str:
    """The ARI certificate identifier: base64url(AKI keyIdentifier) '.' base64url(serial, DER integer bytes)."""
    serial_bytes = serial.to_bytes(max(1, (serial.bit_length() + 7) // 8), "big")
    if serial_bytes[0] >= 0x80:
        serial_bytes = b"\x00" + serial_bytes
    return f"{_b64url(authority_key_identifier)}.{_b64url(serial_bytes)}"


_TIMESTAMP = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)$")


def parse_timestamp(value: t.Any) -> datetime.datetime:
    """An RFC 3339 timestamp (as ACME sends them) as an aware datetime; ValueError when it is not one."""
    match = _TIMESTAMP.match(str(value).strip()) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"not an RFC 3339 timestamp: {value!r}")
    year, month, day, hour, minute, second = (int(x) for x in match.groups()[:6])
    micro = int((match.group(7) or "0")[:6].ljust(6, "0"))
    zone = match.group(8)
    offset = datetime.timedelta(0) if zone in ("Z", "z") else (
        (1 if zone[0] == "+" else -1) * datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    return datetime.datetime(year, month, day, hour, minute, second, micro, tzinfo=datetime.timezone(offset))


def renewal_window(body: t.Any) -> tuple[datetime.datetime, datetime.datetime]:
    """The suggestedWindow (start, end) of a renewalInfo response; ValueError when it has none."""
    info = parse_directory(body)
    window = info.get("suggestedWindow") if info else None
    if not isinstance(window, dict):
        raise ValueError("the renewalInfo response has no suggestedWindow object")
    return parse_timestamp(window.get("start")), parse_timestamp(window.get("end"))


def ari_reason(start: datetime.datetime, end: datetime.datetime, now: datetime.datetime) -> str:
    """Why the full path's renewal check (community.crypto acme_certificate_renewal_info, use_ari, algorithm standard)
    would or might order a new certificate ('' = it surely does not): after the window it renews, inside it it renews
    when a random time in the window has passed (not decidable beforehand), before it it does not."""
    if now > end:
        return f"ARI: the suggested renewal window ended {end.isoformat()}"
    if now > start:
        return (f"ARI: inside the suggested renewal window ({start.isoformat()} to {end.isoformat()}; "
                "the renewal check picks a random time in it)")
    return ""
