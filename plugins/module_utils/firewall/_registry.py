# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The firewall backends the collection drives, one entry each; every other place reads this list.

The module's ``backend`` choices, the binaries ``backend=<name>`` needs, the Debian packages of the role's install
path (through the module's ``check_packages``), the boot service ``enable=true`` enables, the order in which
``backend=auto`` tries the backends, and the backend the doctor asks whether a port is allowed all come from here.
The ``choices`` written out in YAML (the module's DOCUMENTATION, the role's argument spec) are checked against it by
a unit test.
"""

from __future__ import annotations

import typing as t

from .base import Backend, Check, FirewallError, Runner, Which, installed, installed_if_enable
from .firewalld import FirewalldBackend
from .iptables import IptablesBackend
from .nftables import NftablesBackend
from .ufw import UfwBackend


class Entry(t.NamedTuple):
    name: str
    cls: t.Type[Backend]
    binaries: t.Tuple[str, ...]  # all required; the first is the tool that names the backend in messages
    packages: t.Tuple[str, ...]  # the Debian packages that install it
    detect: t.Tuple[t.Tuple[int, Check], ...]  # (rank, check) for backend=auto: all checks run by rank, first hit wins
    boot_service: t.Optional[str] = None  # the unit enable=true enables so the persisted rules load at boot


# The order is the order of the choices; the ranks are the order of detection.
BACKENDS: t.Tuple[Entry, ...] = (
    Entry("ufw", UfwBackend, ("ufw",), ("ufw",),
          ((20, UfwBackend.detect_active), (40, installed_if_enable("ufw is installed but inactive, and enable=true")))),
    Entry("firewalld", FirewalldBackend, ("firewall-cmd",), ("firewalld",),
          ((10, FirewalldBackend.detect_running), (30, installed_if_enable("firewalld is installed but stopped, and enable=true")))),
    Entry("nftables", NftablesBackend, ("nft",), ("nftables",),
          ((50, NftablesBackend.detect_native), (70, installed("nft is installed and the ruleset is empty"))), "nftables"),
    Entry("iptables", IptablesBackend, ("iptables",), ("iptables", "iptables-persistent"),
          ((60, installed("no active firewalld/ufw and no native nftables tables; iptables is installed")),), "netfilter-persistent"),
)


def names() -> list[str]:
    return [entry.name for entry in BACKENDS]


def get(name: str) -> Entry:
    for entry in BACKENDS:
        if entry.name == name:
            return entry
    raise FirewallError(f"backend: {name!r} is not one of {', '.join(names())}")


def tools(last: str = " or ") -> str:
    """The tool of every backend, for messages: ``ufw, firewall-cmd, nft or iptables``."""
    found = [entry.binaries[0] for entry in BACKENDS]
    return ", ".join(found[:-1]) + last + found[-1] if len(found) > 1 else "".join(found)


def require(name: str, which: Which) -> Entry:
    """The entry of a backend asked for by name; FirewallError when one of its binaries is not installed."""
    entry = get(name)
    missing = [binary for binary in entry.binaries if not which(binary)]
    if missing:
        raise FirewallError(f"backend={name}: {', '.join(missing)} is not installed on this host")
    return entry


def create(name: str, runner: Runner, options: dict[str, t.Any], which: Which) -> Backend:
    return get(name).cls.create(runner, options, which)


def detect(runner: Runner, which: Which, enable: bool = False) -> tuple[str, str]:
    """``(backend, reason)`` for backend=auto: the first check, by rank over every backend, that holds."""
    checks = sorted(((rank, i, entry, check) for i, entry in enumerate(BACKENDS) for rank, check in entry.detect),
                    key=lambda item: item[:2])
    for _rank, _i, entry, check in checks:
        reason = check(runner, which, enable, entry.binaries)
        if reason:
            return entry.name, reason
    raise FirewallError(f"backend=auto found no firewall tool ({tools()}); install one")
