# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Who holds the web server's ports: the listening TCP sockets (ss), whether each belongs to the server's unit, and
the refusal the role stops with before any change (read by the state step, port443.https.webserver_state) or gives
after a failed reload (port443.https.webserver_apply)."""

from __future__ import annotations

import re
import typing as t

from ansible_collections.port443.https.plugins.module_utils.host import _sockets

Runner = t.Callable[..., t.Tuple[int, str, str]]


class PortsError(Exception):
    """The listening sockets could not be read."""


def _unit(service: str) -> str:
    return service if service.endswith(".service") else f"{service}.service"


def in_service(pid: int, service: str, proc: str = "/proc") -> bool:
    """True when the process runs in the systemd unit SERVICE (its cgroup path names SERVICE.service)."""
    unit = _unit(service)
    try:
        with open(f"{proc}/{pid}/cgroup", "r", encoding="utf-8") as handle:
            return any(line.rstrip("\n").split("/")[-1] == unit or f"/{unit}/" in line for line in handle)
    except OSError:
        return False


_CGROUP = re.compile(r"\scgroup:(\S+)")


def parse_listeners(output: str) -> list[dict[str, t.Any]]:
    """Listening TCP sockets of `ss -H -ltnpe`: address, port, processes and pids (host/_sockets, as the doctor reads them) and the
    cgroup of the socket (-e). The cgroup names the unit even where the process is hidden: a server with file
    capabilities (Caddy's cap_net_bind_service) is not dumpable, and without CAP_SYS_PTRACE `ss -p` cannot name it."""
    found = []
    for line in output.splitlines():
        parsed = _sockets.parse_ss(line)
        if parsed:
            match = _CGROUP.search(line)
            found.append(dict(parsed[0], cgroup=match.group(1) if match else ""))
    return found


def listeners(run: Runner) -> list[dict[str, t.Any]]:
    rc, out, err = run(["ss", "-H", "-ltnpe"])
    if rc != 0:
        raise PortsError(f"the listening sockets could not be read (ss -H -ltnpe: {err.strip() or rc}): "
                         "install iproute2 so the role can check that ports 80 and 443 are free")
    return parse_listeners(out)


def socket_unit(item: dict[str, t.Any]) -> str:
    """The systemd unit (service or scope) whose cgroup created the socket, '' when ss did not say."""
    cgroup = str(item.get("cgroup") or "")
    last = cgroup.rstrip("/").rsplit("/", maxsplit=1)[-1]
    return last if cgroup.startswith("/") and last.endswith((".service", ".scope")) else ""


def owned_by(item: dict[str, t.Any], service: str, member: t.Callable[[int, str], bool] = in_service) -> bool:
    """True when the listening socket belongs to SERVICE: its cgroup is the unit's, or every process holding it runs
    in the unit."""
    if socket_unit(item):
        return socket_unit(item) == _unit(service)
    return bool(item["pids"]) and all(member(pid, service) for pid in item["pids"])


def port_conflicts(ports: list[int], service: str, found: list[dict[str, t.Any]],
                   member: t.Callable[[int, str], bool] = in_service) -> list[str]:
    """'0.0.0.0:443 is in use by python3, pid 812' for each listener on PORTS that is not the server's."""
    out = []
    for item in found:
        if item["port"] not in ports or owned_by(item, service, member):
            continue
        others = [pid for pid in item["pids"] if not member(pid, service)] or item["pids"]
        unit = socket_unit(item)
        if others:
            who = ", ".join(f"{_comm(pid) or item['process'] or '?'}, pid {pid}" for pid in others)
        elif unit:
            who = f"the unit {unit}"
        else:
            who = "a process this user cannot see"
        out.append(f"{_addr(item)} is in use by {who}")
    return sorted(set(out))


def port_refusal(spec: dict[str, t.Any], run: Runner) -> str:
    """Why the server could not listen where its configuration asks ('' when the ports are free or its own)."""
    conflicts = port_conflicts(ports_of(spec), spec["service"], listeners(run))
    if not conflicts:
        return ""
    return ("; ".join(conflicts) + f": {spec['service']} could not listen there. Stop that process or move it to "
            "another port, then run again.")


def _addr(item: dict[str, t.Any]) -> str:
    address = item["address"] or "*"
    return f"[{address}]:{item['port']}" if ":" in address else f"{address}:{item['port']}"


def _comm(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/comm", "r", encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError:
        return None


def ports_of(spec: dict[str, t.Any]) -> list[int]:
    """The ports the configuration listens on: ports, else 80 and 443 when a vhost serves TLS."""
    if spec.get("ports") is not None:
        return [int(p) for p in spec["ports"]]
    vhosts = spec.get("vhosts") or []
    return [80] + ([443] if any(v.get("tls_ready") or v.get("caddy_automatic_https") for v in vhosts) else [])
