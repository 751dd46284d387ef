# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""What an ACME directory (RFC 8555 section 7.1.1) offers, read before an order: the profiles of
draft-aaron-acme-profiles, advertised as the object meta.profiles (profile name -> description). An order that names
a profile the CA does not advertise is refused by the CA (or, worse, ignored by an older one); the certificate role
stops before it is sent.

Plain Python (no Ansible imports)."""

from __future__ import annotations

import json
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
