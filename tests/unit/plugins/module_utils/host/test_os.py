# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The OS family and distribution from os-release, as Ansible's distribution facts name them."""

from __future__ import annotations

import pytest

from ansible_collections.port443.https.plugins.module_utils.host import _os

DEBIAN_12 = '''PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
ID=debian
'''
UBUNTU = 'NAME="Ubuntu"\nVERSION="24.04 LTS (Noble Numbat)"\nID=ubuntu\nID_LIKE=debian\n'
MINT = 'NAME="Linux Mint"\nID=linuxmint\nID_LIKE="ubuntu debian"\n'
DERIVATIVE = "NAME='Acme OS'\nID=acmeos\nID_LIKE=ubuntu\n"
ROCKY = 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\n'
ALPINE = "NAME=\"Alpine Linux\"\nID=alpine\n# a comment\nbroken line\nBAD='unterminated\n"


@pytest.mark.parametrize("text, family, distribution", [
    (DEBIAN_12, "Debian", "Debian"),
    (UBUNTU, "Debian", "Ubuntu"),
    (MINT, "Debian", "Linux Mint"),
    (DERIVATIVE, "Debian", "Acme OS"),
    (ROCKY, "Rocky Linux", "Rocky Linux"),
    (ALPINE, "Alpine Linux", "Alpine Linux"),
    ("", "", ""),
    (None, "", ""),
])
def test_facts(text, family, distribution):
    assert _os.facts(text) == {"os_family": family, "distribution": distribution}


def test_refusal_names_the_role_and_the_host():
    assert _os.refusal("firewall", _os.facts(UBUNTU)) == ""
    message = _os.refusal("webserver", _os.facts(ROCKY))
    assert message == ("port443.https.webserver supports the Debian OS family only (Debian, Ubuntu); this host runs "
                       "Rocky Linux (OS family Rocky Linux).")
    assert "an unknown distribution (OS family unknown)" in _os.refusal("certificate", _os.facts(None))


def test_read_falls_back_and_never_raises(tmp_path):
    release = tmp_path / "os-release"
    release.write_text(UBUNTU)
    assert _os.read(str(release))["distribution"] == "Ubuntu"
    # This machine's own file (a Debian host runs the tests), or nothing at all: never an exception.
    assert set(_os.read(str(tmp_path / "missing"))) == {"os_family", "distribution"}
