# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""docs/checks.md lists every reason code of the registry, with the registry's own texts and what proves it."""

from __future__ import annotations

import os
import subprocess
import sys

TOOL = os.path.join(os.path.dirname(__file__), "..", "tools", "reason_table.py")


def test_reason_table_matches_registry():
    proc = subprocess.run([sys.executable, TOOL, "--check"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
