# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The backend registry is the one list of backends: what YAML must state literally is checked against it."""
from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.port443.https.plugins.module_utils.firewall import _registry as registry
from ansible_collections.port443.https.plugins.module_utils.firewall.base import Backend, FirewallError
from ansible_collections.port443.https.plugins.modules import firewall_port

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "..")


def test_module_documentation_choices_are_the_registry():
    doc = yaml.safe_load(firewall_port.DOCUMENTATION)
    assert doc["options"]["backend"]["choices"] == ["auto"] + registry.names()


def test_role_argument_spec_choices_are_the_registry():
    with open(os.path.join(ROOT, "roles", "firewall", "meta", "argument_specs.yml"), encoding="utf-8") as fh:
        spec = yaml.safe_load(fh)
    assert spec["argument_specs"]["main"]["options"]["firewall_backend"]["choices"] == ["auto"] + registry.names()


@pytest.mark.parametrize("entry", registry.BACKENDS, ids=registry.names())
def test_entry(entry):
    assert issubclass(entry.cls, Backend) and entry.cls.name == entry.name
    assert entry.binaries and entry.packages and entry.detect
    backend = registry.create(entry.name, lambda argv, data=None: (0, "", ""), {}, lambda name: f"/usr/sbin/{name}")
    assert isinstance(backend, entry.cls)


def test_ranks_are_unique():
    ranks = [rank for entry in registry.BACKENDS for rank, _check in entry.detect]
    assert len(ranks) == len(set(ranks))


def test_lookups():
    assert registry.tools().startswith("ufw, firewall-cmd, nft") and registry.tools().count(" or ") == 1
    assert registry.get("iptables").packages == ("iptables", "iptables-persistent")
    assert registry.get("nftables").boot_service == "nftables" and registry.get("ufw").boot_service is None
    with pytest.raises(FirewallError, match="'pf' is not one of ufw, firewalld, nftables, iptables"):  # and any later one
        registry.get("pf")
    with pytest.raises(FirewallError, match="backend=nftables: nft is not installed on this host"):
        registry.require("nftables", lambda name: None)
    assert registry.require("ufw", lambda name: "/usr/sbin/ufw").name == "ufw"


def test_a_backend_without_a_verdict_is_unknown_to_the_doctor():
    with pytest.raises(FirewallError, match="not supported"):
        Backend(lambda argv, data=None: (0, "", "")).allows(443)
