# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Which operating system a host runs, read from /etc/os-release (read-only), without gathering facts.

The roles support the Debian OS family only (apt, Debian's paths and package names). Each role's first step on the
host already runs something there (the firewall_port module, the certificate and web server state steps): they read
the host's os-release themselves, so a play needs no fact gathering (setup costs more than any other task of a
converged run). Where the play did gather facts, Ansible's os_family and distribution are used as they are.
"""

from __future__ import annotations

import shlex
import typing as t

PATH = "/etc/os-release"
FAMILY = "Debian"
# The distributions Ansible's distribution facts put in the Debian OS family, by os-release ID, with the names Ansible
# gives them; any other ID whose ID_LIKE names debian or ubuntu is of the family too.
_DEBIAN_IDS = {"debian": "Debian", "ubuntu": "Ubuntu", "raspbian": "Debian", "linuxmint": "Linux Mint",
               "kali": "Kali", "devuan": "Devuan", "pop": "Pop!_OS", "neon": "KDE neon", "elementary": "Elementary OS",
               "parrot": "Parrot", "deepin": "Deepin", "uos": "Uos", "zorin": "Zorin OS"}


def parse(text: str) -> dict[str, str]:
    """The KEY=value pairs of an os-release file (shell-quoted values unquoted; comments and bad lines skipped)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _sep, value = line.partition("=")
        try:
            words = shlex.split(value)
        except ValueError:
            continue
        fields[key.strip()] = words[0] if words else ""
    return fields


def facts(text: str | None) -> dict[str, str]:
    """{os_family, distribution} in Ansible's words from an os-release TEXT; both '' when TEXT is None (no file)."""
    if text is None:
        return {"os_family": "", "distribution": ""}
    fields = parse(text)
    os_id = fields.get("ID", "").lower()
    like = fields.get("ID_LIKE", "").lower().split()
    name = _DEBIAN_IDS.get(os_id) or fields.get("NAME") or os_id
    family = FAMILY if os_id in _DEBIAN_IDS or "debian" in like or "ubuntu" in like else (fields.get("NAME") or os_id)
    return {"os_family": family, "distribution": name}


def read(path: str = PATH) -> dict[str, str]:
    """facts() of this host's os-release (/usr/lib/os-release where /etc has none)."""
    for candidate in (path, "/usr/lib/os-release"):
        try:
            with open(candidate, encoding="utf-8", errors="replace") as handle:
                return facts(handle.read())
        except OSError:
            continue
    return facts(None)


def refusal(role: str, found: t.Mapping[str, str]) -> str:
    """'' on a host of the Debian OS family, else the one message every role refuses the host with."""
    if found.get("os_family") == FAMILY:
        return ""
    return (f"port443.https.{role} supports the Debian OS family only (Debian, Ubuntu); this host runs "
            f"{found.get('distribution') or 'an unknown distribution'} (OS family {found.get('os_family') or 'unknown'}).")
