# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Which backend packages dpkg lists as installed: canned dpkg-query output, and the real dpkg of this machine."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from ansible_collections.port443.https.plugins.module_utils.host import _packages as packages


def canned(out: str, rc: int = 0):
    calls = []

    def run(argv):
        calls.append(argv)
        return rc, out, ""
    return run, calls


def test_installed_and_missing_in_given_order():
    run, calls = canned("iptables ii \niptables-persistent un \n", rc=0)
    assert packages.missing(run, ["iptables", "iptables-persistent"]) == ["iptables-persistent"]
    assert calls[0][:2] == ["dpkg-query", "-W"] and calls[0][-2:] == ["iptables", "iptables-persistent"]


def test_unknown_half_installed_and_arch_qualified():
    # dpkg-query prints nothing for an unknown package (rc 1); "iF" is half-configured; "ufw:amd64" is still ufw.
    run, dummy = canned("ufw:amd64 ii \nnftables iF \n", rc=1)
    assert packages.missing(run, ["ufw", "nftables", "firewalld"]) == ["nftables", "firewalld"]


def test_nothing_asked_runs_nothing():
    run, calls = canned("")
    assert packages.missing(run, []) == [] and calls == []


def test_dpkg_query_that_cannot_run_means_all_missing():
    def run(argv):
        raise OSError("dpkg-query: not found")
    assert packages.missing(run, ["ufw"]) == ["ufw"]


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="needs dpkg")
def test_real_dpkg():
    def run(argv):
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        return proc.returncode, proc.stdout, proc.stderr
    assert packages.missing(run, ["dpkg", "port443-no-such-package"]) == ["port443-no-such-package"]
