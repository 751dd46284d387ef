# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The listening sockets `ss` prints, parsed: address, port, scope and the processes holding each (the doctor's view
of who listens, and the web server role's check of who holds its ports)."""

from __future__ import annotations

import ipaddress
import re
import typing as t

_PROC = re.compile(r'\("([^"]*)",pid=(\d+)')


def _split_addr(local: str) -> tuple[str, int] | None:
    host, sep, port = local.rpartition(":")
    if not sep or not port.isdigit():
        return None
    host = host.strip("[]")
    host = host.split("%", 1)[0]  # 192.168.1.5%eth0 (bound to an interface)
    return host, int(port)


def scope_of(address: str) -> str:
    """all (wildcard), loopback or specific."""
    if address in ("*", "0.0.0.0", "::", ""):
        return "all"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "specific"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return "loopback" if ip.is_loopback else "specific"


def parse_ss(output: str, proto: str = "tcp") -> list[dict[str, t.Any]]:
    """Listening TCP sockets from `ss -H -ltnp`, or with proto "udp" bound UDP sockets from `ss -H -lunp` (also accepts
    output with a header line)."""
    listeners = []
    state = "LISTEN" if proto == "tcp" else "UNCONN"
    for line in output.splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[0] in ("State", "Netid"):
            continue
        # With -H: State Recv-Q Send-Q Local Peer [Process]; with -a / tcp and udp mixed there may be a Netid first.
        if fields[0] in ("tcp", "tcp6", "udp", "udp6"):
            if not fields[0].startswith(proto):
                continue
            fields = fields[1:]
        if fields[0] != state or len(fields) < 5:
            continue
        parsed = _split_addr(fields[3])
        if parsed is None:
            continue
        address, port = parsed
        procs = _PROC.findall(" ".join(fields[5:]))
        names = list(dict.fromkeys(name for name, _pid in procs))
        listeners.append({
            "address": address,
            "port": port,
            "scope": scope_of(address),
            "process": names[0] if names else None,
            "processes": names,
            "pids": sorted({int(pid) for _name, pid in procs}),
        })
    return listeners
