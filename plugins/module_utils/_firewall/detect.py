# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Which firewall does this host actually use, and which SSH port must never be cut."""

from __future__ import annotations

import re
import typing as t

from .base import FirewallError, Runner
from .nftables import iptables_made, parse_ruleset

Which = t.Callable[[str], t.Optional[str]]

BINARIES = {
    "ufw": ["ufw"],
    "firewalld": ["firewall-cmd"],
    "nftables": ["nft"],
    "iptables": ["iptables"],
}


def detect_backend(runner: Runner, which: Which, enable: bool = False) -> tuple[str, str]:
    """Return ``(backend, reason)``: an active firewalld or ufw wins; else an nftables ruleset; else iptables."""
    firewall_cmd = which("firewall-cmd")
    if firewall_cmd:
        rc, _out, _err = runner([firewall_cmd, "--state"])
        if rc == 0:
            return "firewalld", "firewalld is running"
    ufw = which("ufw")
    if ufw:
        rc, out, _err = runner([ufw, "status"])
        if rc == 0 and "Status: active" in out:
            return "ufw", "ufw is active"
    if enable and firewall_cmd:
        return "firewalld", "firewalld is installed but stopped, and enable=true"
    if enable and ufw:
        return "ufw", "ufw is installed but inactive, and enable=true"
    nft = which("nft")
    if nft:
        rc, out, _err = runner([nft, "-j", "list", "ruleset"])
        if rc == 0:
            parsed = parse_ruleset(out)
            made = iptables_made(parsed["table"], parsed["chain"])
            native = [tb for tb in parsed["table"] if (tb.get("family"), tb.get("name")) not in made]
            if native:
                names = ", ".join(f"{tb.get('family')} {tb.get('name')}" for tb in native[:5])
                return "nftables", f"the nftables ruleset has native tables ({names})"
    iptables = which("iptables")
    if iptables:
        return "iptables", "no active firewalld/ufw and no native nftables tables; iptables is installed"
    if nft:
        return "nftables", "nft is installed and the ruleset is empty"
    raise FirewallError("backend=auto found no firewall tool (ufw, firewall-cmd, nft or iptables); install one")


def ssh_port(environ: t.Mapping[str, str], runner: Runner | None = None, ss: str | None = None, default: int = 22) -> tuple[int, str]:
    """The SSH port in use: from SSH_CONNECTION, else from the sockets sshd listens on, else the default."""
    conn = environ.get("SSH_CONNECTION", "").split()
    if len(conn) == 4 and conn[3].isdigit():
        return int(conn[3]), "SSH_CONNECTION"
    if runner and ss:
        rc, out, _err = runner([ss, "-Htlnp"])
        if rc == 0:
            for line in out.splitlines():
                if '"sshd' not in line:
                    continue
                fields = line.split()
                if len(fields) >= 4:
                    m = re.search(r":(\d+)$", fields[3])
                    if m:
                        return int(m.group(1)), "sshd listening socket"
    return default, "default"
