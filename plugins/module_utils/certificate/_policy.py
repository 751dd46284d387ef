# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Certificate policy options shared by https_endpoint_info and certificate_file_info (ca_path, warning_days,
critical_days, min_rsa_bits) and host name checks: one validation, so both modules accept and reject the same
values with the same message (plain Python, no Ansible imports)."""

from __future__ import annotations

import typing as t

from ansible_collections.port443.https.plugins.module_utils.host import _files
from ansible_collections.port443.https.plugins.module_utils.host import _net
from ansible_collections.port443.https.plugins.module_utils.certificate import _x509

# The argument spec of the shared options (documented once in the port443.https._policy doc fragment).
ARGUMENT_SPEC: dict[str, dict[str, t.Any]] = {
    "ca_path": {"type": "path"},
    "warning_days": {"type": "int", "default": 30},
    "critical_days": {"type": "int", "default": 7},
    "min_rsa_bits": {"type": "int", "default": 2048},
}

# option -> (lowest, highest) accepted value
RANGES: dict[str, tuple[int, int]] = {
    "warning_days": (0, 3650),
    "critical_days": (0, 3650),
    "min_rsa_bits": (512, 16384),
}


class PolicyInputError(ValueError):
    """Bad policy input: the message names the option and the value."""


def check_host(option: str, value: t.Any) -> str:
    """The host name or IP literal (brackets removed); PolicyInputError naming the option otherwise."""
    if not _net.valid_host(value):
        raise PolicyInputError(f"{option}: {value!r} is not a valid host name or IP address")
    return value.strip("[]")


def check_names(names: t.Any, option: str = "names") -> list[str]:
    """A list of host names / IP addresses, each one checked like an endpoint's host."""
    if names is None:
        return []
    if not isinstance(names, (list, tuple)):
        raise PolicyInputError(f"{option}: expected a list of host names, got {type(names).__name__}")
    return [check_host(f"{option}[{idx}]", name) for idx, name in enumerate(names)]


def check_ca_path(ca_path: t.Any) -> None:
    """The CA bundle must be a readable file that holds at least one usable certificate."""
    if not ca_path:
        return
    try:
        _files.read_bytes("ca_path", ca_path, "the CA bundle")
    except _files.FileReadError as exc:
        raise PolicyInputError(str(exc)) from None
    if _x509.HAS_CRYPTOGRAPHY:
        try:
            _x509.trust_store(ca_path)
        except (OSError, ValueError) as exc:
            raise PolicyInputError(f"ca_path: cannot use the CA bundle {ca_path!r}: {exc}") from None


def check_policy(params: dict[str, t.Any]) -> dict[str, int]:
    """Range-check warning_days, critical_days and min_rsa_bits and check ca_path; returns the numeric options given."""
    out: dict[str, int] = {}
    for key, (low, high) in RANGES.items():
        value = params.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise PolicyInputError(f"{key}: {value!r} is not a whole number")
        if not low <= value <= high:
            raise PolicyInputError(f"{key}: {value} is out of range ({low}-{high})")
        out[key] = value
    check_ca_path(params.get("ca_path"))
    return out
