# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Which Debian packages are not installed, read from dpkg's own database (read-only).

The one reader of the collection: the firewall_port module (a backend's packages), the webserver role's state step
(the server's packages) and the certificate role's state step (openssl, ca-certificates) all ask it, so they agree
with each other and with the ansible.builtin.apt task (state: present) that installs what they report missing.
"""

from __future__ import annotations

from ansible_collections.port443.https.plugins.module_utils.host._run import Runner

# dpkg-query -W prints one line per known package instance: "name[:arch] XYZ", where XYZ is db:Status-Abbrev:
# X the wanted state (u unknown, i install, h hold, r remove, p purge), Y the current state (n not-installed,
# c config-files, H half-installed, U unpacked, F half-configured, W triggers-awaited, t triggers-pending,
# i installed), Z an error flag (blank, or R reinstallation required).
QUERY = ["dpkg-query", "-W", "-f=${binary:Package} ${db:Status-Abbrev}\\n", "--"]


def installed_state(abbrev: str) -> bool:
    """Whether a db:Status-Abbrev means installed as apt's state=present sees it: the current state is "installed"
    whatever is wanted ("ii", "hi" for a held package, also "ri"/"pi" until something removes it). "rc", "un",
    "iU", "iF", "iH", "iW", "it" are not installed, and neither is a package that needs reinstalling ("iiR"): the
    full path then runs apt, which costs time only, where the opposite error would leave a host unconverged.
    """
    return len(abbrev) >= 2 and abbrev[1] == "i" and abbrev[2:].strip() == ""


def missing(run: Runner, names: list[str]) -> list[str]:
    """The names among `names` that dpkg does not list as installed, in their given order.

    `run(argv)` runs a command and returns (rc, stdout, stderr). A package dpkg does not know makes dpkg-query exit
    with 1 while it still prints the others, so that output is read. Any other failure (dpkg-query missing, exit 2,
    an OSError) counts every name as missing: the caller then installs them and apt says what is wrong, never the
    other way round. A name with an architecture ("libc6:amd64") matches that instance only; a name without one
    matches the package whatever dpkg prints after it.
    """
    if not names:
        return []
    try:
        rc, out, dummy_err = run([*QUERY, *names])
    except OSError:
        return list(names)
    if rc not in (0, 1):
        return list(names)
    installed: set[str] = set()
    for line in (out or "").splitlines():
        package, dummy_sep, abbrev = line.partition(" ")
        if package and installed_state(abbrev):
            installed.add(package)
            installed.add(package.split(":", 1)[0])
    return [name for name in names if name not in installed]
