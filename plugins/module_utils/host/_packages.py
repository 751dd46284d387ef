# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Which Debian packages of a firewall backend are not installed (dpkg's own database, read-only)."""

from __future__ import annotations

from ansible_collections.port443.https.plugins.module_utils.host._run import Runner


def missing(run: Runner, names: list[str]) -> list[str]:
    """The names among `names` that dpkg does not list as installed ("ii"), in their given order.

    A package dpkg does not know, a half-installed or removed one, and every name when dpkg-query cannot run at all,
    count as missing: the caller then installs them (and apt says what is wrong), never the other way round.
    """
    if not names:
        return []
    try:
        dummy_rc, out, dummy_err = run(["dpkg-query", "-W", "-f=${Package} ${db:Status-Abbrev}\\n", "--", *names])
    except OSError:
        return list(names)
    installed = set()
    for line in (out or "").splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[1].startswith("ii"):
            installed.add(fields[0].split(":", 1)[0])
    return [name for name in names if name not in installed]
