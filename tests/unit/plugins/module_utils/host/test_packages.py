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
    assert calls[0][:2] == ["dpkg-query", "-W"] and calls[0][-3:] == ["--", "iptables", "iptables-persistent"]


@pytest.mark.parametrize("abbrev, installed", [
    ("ii ", True),    # installed
    ("hi ", True),    # installed and held (apt-mark hold): apt's state=present has nothing to do
    ("ri ", True),    # still installed although selected for removal: apt's state=present leaves it
    ("rc ", False),   # removed, its configuration files remain
    ("un ", False),   # known to dpkg, never installed
    ("pn ", False),   # purged
    ("iU ", False),   # unpacked, not configured
    ("iF ", False),   # half-configured
    ("iH ", False),   # half-installed
    ("iW ", False),   # awaiting triggers
    ("it ", False),   # triggers pending
    ("iiR", False),   # installed but dpkg wants it reinstalled
    ("hiR", False),
    ("", False),
])
def test_each_dpkg_state(abbrev, installed):
    run, dummy = canned(f"nginx {abbrev}\n")
    assert packages.missing(run, ["nginx"]) == ([] if installed else ["nginx"])
    assert packages.installed_state(abbrev) is installed


def test_unknown_half_installed_and_arch_qualified():
    # dpkg-query prints nothing for an unknown package and exits 1, but still prints the others; "iF" is
    # half-configured; "ufw:amd64" is still ufw.
    run, dummy = canned("ufw:amd64 ii \nnftables iF \n", rc=1)
    assert packages.missing(run, ["ufw", "nftables", "firewalld"]) == ["nftables", "firewalld"]


def test_held_packages_are_installed_even_when_another_name_is_not_known():
    run, dummy = canned("nginx hi \nnftables hi \n", rc=1)
    assert packages.missing(run, ["nginx", "port443-no-such-package", "nftables"]) == ["port443-no-such-package"]


def test_a_name_with_an_architecture_matches_that_instance_only():
    run, dummy = canned("libssl3:amd64 ii \nlibssl3:i386 rc \n")
    assert packages.missing(run, ["libssl3:amd64", "libssl3:i386", "libssl3"]) == ["libssl3:i386"]


def test_nothing_asked_runs_nothing():
    run, calls = canned("")
    assert packages.missing(run, []) == [] and calls == []


def test_dpkg_query_that_cannot_run_means_all_missing():
    def run(argv):
        raise OSError("dpkg-query: not found")
    assert packages.missing(run, ["ufw"]) == ["ufw"]


@pytest.mark.parametrize("rc", [2, 127, -9])
def test_dpkg_query_that_fails_means_all_missing_whatever_it_printed(rc):
    # A fatal error (exit 2: database locked or unreadable), no dpkg-query (127), a signal: the output is not trusted.
    run, dummy = canned("ufw ii \n", rc=rc)
    assert packages.missing(run, ["ufw", "nftables"]) == ["ufw", "nftables"]


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="needs dpkg")
def test_real_dpkg():
    def run(argv):
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        return proc.returncode, proc.stdout, proc.stderr
    assert packages.missing(run, ["dpkg", "port443-no-such-package"]) == ["port443-no-such-package"]
    # The format is one dpkg-query understands: the real output has the name and a known state.
    rc, out, dummy = run([*packages.QUERY, "dpkg"])
    assert rc == 0 and out.split()[0] == "dpkg" and packages.installed_state(out.split(" ", 1)[1])
