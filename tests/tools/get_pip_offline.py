# SPDX-License-Identifier: GPL-3.0-or-later
"""Offline stand-in for ansible-test's downloaded get-pip bootstrap script.

ansible-test runs ``python get_pip.py --disable-pip-version-check pip==X … --no-setuptools --no-wheel`` in a
fresh venv created without pip. This script installs pip from the interpreter's own ``ensurepip`` wheel and then
lets that pip install the requested versions from the configured index (PyPI mirror), passing the *original*
environment through (``ensurepip`` sets PIP_CONFIG_FILE=/dev/null, which would drop /etc/pip.conf's CA settings).

scripts/test copies it to ~/.ansible/test/cache/get_pip_<version>.py for every pip version ansible-test asks for.
"""

from __future__ import annotations

import ensurepip
import os
import subprocess
import sys


def main() -> int:
    env = dict(os.environ)
    ensurepip.bootstrap(upgrade=True, default_pip=True)
    args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
    if not args:
        return 0
    return subprocess.call([sys.executable, "-m", "pip", "install", *args], env=env)


if __name__ == "__main__":
    sys.exit(main())
