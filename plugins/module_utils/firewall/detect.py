# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Which firewall does this host actually use, and which SSH port must never be cut."""

from __future__ import annotations

import re
import typing as t

from .base import Runner, Which
from ._registry import detect


def detect_backend(runner: Runner, which: Which, enable: bool = False) -> tuple[str, str]:
    """Return ``(backend, reason)``: an active firewalld or ufw wins; else an nftables ruleset; else iptables.

    The checks and their order are the registry's (``_registry.BACKENDS``, by rank).
    """
    return detect(runner, which, enable)


_SSH_UNIT = re.compile(r"^sshd?(@[^ ]*)?\.(socket|service)$")
_SS_USERS = re.compile(r'\("([^"]+)",pid=(\d+),')


def _listen_port(text: str) -> int | None:
    """The port of a listen address: ``*:2222``, ``[::]:22``, ``0.0.0.0:22``, ``22`` or ``[::]:2222 (Stream)``."""
    text = text.split(" (", 1)[0].strip()
    m = re.search(r"(?:^|:)(\d+)$", text)
    if m and 1 <= int(m.group(1)) <= 65535:
        return int(m.group(1))
    return None


def parse_ss(text: str) -> list[tuple[int, list[tuple[str, int]]]]:
    """``ss -Htlnp`` lines as (local port, [(process name, pid), ...])."""
    out = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[0] != "LISTEN":
            continue
        port = _listen_port(fields[3])
        if port is not None:
            out.append((port, [(m.group(1), int(m.group(2))) for m in _SS_USERS.finditer(line)]))
    return out


def parse_sshd_t(text: str) -> list[int]:
    """Ports from ``sshd -T``: every ``port N`` and the port of every ``listenaddress HOST:PORT``."""
    ports: list[int] = []
    for line in text.splitlines():
        words = line.split()
        if len(words) != 2:
            continue
        key = words[0].lower()
        port = int(words[1]) if key == "port" and words[1].isdigit() else (_listen_port(words[1]) if key == "listenaddress" else None)
        if port is not None and port not in ports:
            ports.append(port)
    return ports


def parse_list_sockets(text: str) -> list[tuple[int, str]]:
    """``systemctl list-sockets --no-legend --full``: (port, unit) of the sockets whose unit or service is sshd/ssh."""
    out = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 2:
            continue
        unit = fields[-2] if len(fields) >= 3 else fields[-1]
        activates = fields[-1] if len(fields) >= 3 else ""
        if not (_SSH_UNIT.match(unit) or _SSH_UNIT.match(activates)):
            continue
        port = _listen_port(" ".join(fields[:-2] if len(fields) >= 3 else fields[:-1]))
        if port is not None:
            out.append((port, unit))
    return out


def parse_show_sockets(text: str) -> list[tuple[int, str]]:
    """``systemctl show ssh.socket sshd.socket -p Id -p Listen -p ActiveState``: (port, unit) of active units."""
    out = []
    for block in re.split(r"\n\s*\n", text):
        props: dict[str, list[str]] = {}
        for line in block.splitlines():
            key, sep, value = line.partition("=")
            if sep:
                props.setdefault(key.strip(), []).append(value.strip())
        unit = (props.get("Id") or ["ssh.socket"])[0]
        if (props.get("ActiveState") or [""])[0] != "active":
            continue
        for listen in props.get("Listen", []):
            if "(Stream)" in listen or "(" not in listen:
                port = _listen_port(listen)
                if port is not None:
                    out.append((port, unit))
    return out


def _proc_parent(proc: str, pid: int) -> tuple[int, str] | None:
    """(parent pid, command name) of a process from ``/proc/<pid>/stat``."""
    try:
        with open(f"{proc}/{pid}/stat") as fh:
            stat = fh.read()
    except OSError:
        return None
    comm = stat[stat.find("(") + 1:stat.rfind(")")]
    rest = stat[stat.rfind(")") + 2:].split()
    if len(rest) < 2 or not rest[1].isdigit():
        return None
    return int(rest[1]), comm


def _proc_ssh_connection(proc: str, pid: int) -> str | None:
    try:
        with open(f"{proc}/{pid}/environ", "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    for item in data.split(b"\0"):
        if item.startswith(b"SSH_CONNECTION="):
            return item[len("SSH_CONNECTION="):].decode("ascii", "replace")
    return None


def _conn_port(value: str) -> int | None:
    conn = value.split()
    if len(conn) == 4 and conn[3].isdigit() and 1 <= int(conn[3]) <= 65535:
        return int(conn[3])
    return None


def connection_port(environ: t.Mapping[str, str], proc: str = "/proc", pid: int | None = None) -> tuple[int, str] | None:
    """The server port of the SSH connection this process came in on.

    ``SSH_CONNECTION`` of the process itself; under sudo/become, where it is stripped, that of the parent
    processes up to the sshd session (``/proc/<ppid>/environ``).
    """
    port = _conn_port(environ.get("SSH_CONNECTION", ""))
    if port is not None:
        return port, "SSH_CONNECTION"
    import os

    pid = os.getpid() if pid is None else pid
    for _depth in range(64):
        parent = _proc_parent(proc, pid)
        if parent is None or parent[0] <= 1:
            return None
        pid = parent[0]
        value = _proc_ssh_connection(proc, pid)
        if value is not None and _conn_port(value) is not None:
            name = (_proc_parent(proc, pid) or (0, "?"))[1]
            return t.cast(int, _conn_port(value)), f"SSH_CONNECTION of parent process {pid} ({name})"
    return None


def ssh_ports(environ: t.Mapping[str, str], runner: Runner | None = None, which: Which | None = None,
              explicit: t.Sequence[int] = (), proc: str = "/proc", pid: int | None = None,
              default: int = 22) -> dict[str, t.Any]:
    """Every port that really accepts SSH on this host, each with where it was seen.

    Sources: the ``ssh_ports`` option, the connection the play came in on (also through sudo), systemd socket units
    of ssh/sshd and the sockets systemd (pid 1) or sshd listen on, and ``sshd -T`` (unless a socket unit is active,
    where sshd's own Port is not what listens). ``default`` only when nothing else is known.
    Returns ``{"ports": [...], "port_sources": {"PORT": [...]}, "notes": [...]}``.
    """
    found: dict[int, list[str]] = {}
    notes: list[str] = []

    def add(port: int, source: str) -> None:
        if source not in found.setdefault(port, []):
            found[port].append(source)

    for port in explicit:
        add(int(port), "ssh_ports option")
    conn = connection_port(environ, proc, pid)
    if conn:
        add(conn[0], conn[1])

    def run(name: str, args: list[str]) -> str | None:
        path = which(name) if which else None
        if not (runner and path):
            return None
        rc, out, err = runner([path] + args)
        if rc != 0:
            notes.append(f"{name} {' '.join(args)} failed (rc={rc}): {(err or out).strip()[:200]}")
            return None
        return out

    unit_ports: list[tuple[int, str]] = []
    out = run("systemctl", ["list-sockets", "--no-legend", "--full"])
    if out is not None:
        unit_ports += parse_list_sockets(out)
    out = run("systemctl", ["show", "ssh.socket", "sshd.socket", "-p", "Id", "-p", "Listen", "-p", "ActiveState"])
    if out is not None:
        unit_ports += parse_show_sockets(out)
    socket_units = sorted({unit for _p, unit in unit_ports if unit.endswith(".socket")})
    for port, unit in unit_ports:
        add(port, f"systemd socket unit {unit}")
    out = run("ss", ["-Htlnp"])
    for port, users in parse_ss(out or ""):
        names = {name for name, _pid in users}
        if any(name.startswith("sshd") for name in names):
            add(port, "listening socket of sshd")
        if ("systemd", 1) in users:
            if any(p == port for p, _unit in unit_ports):
                add(port, "listening socket of systemd (pid 1) for an ssh socket unit")
    out = run("sshd", ["-T"])
    if out is not None:
        ports = parse_sshd_t(out)
        if socket_units:
            notes.append(f"sshd -T names port(s) {', '.join(map(str, ports))}, not used: {', '.join(socket_units)} "
                         "is active, so the socket unit decides where SSH listens")
        else:
            for port in ports:
                add(port, "sshd -T")
    if not found:
        add(default, "default (nothing else found)")
        notes.append(f"no SSH port found on the host: port {default} is assumed")
    ports = sorted(found)
    if len(ports) > 1:
        notes.append(f"several SSH port candidates ({', '.join(map(str, ports))}): every one is kept open")
    return {"ports": ports, "port_sources": {str(p): found[p] for p in ports}, "notes": notes}
