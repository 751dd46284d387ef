# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The core stays plain Python, free of import cycles, within its package layers, and docs/architecture.md shows its
import graph as it is."""

from __future__ import annotations

import os
import subprocess
import sys

TOOL = os.path.join(os.path.dirname(__file__), "..", "tools", "import_graph.py")


def test_import_graph_is_layered_acyclic_and_documented():
    proc = subprocess.run([sys.executable, TOOL, "--check"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_check_fails_on_a_cycle(tmp_path):
    sys.path.insert(0, os.path.dirname(TOOL))
    try:
        import import_graph  # pylint: disable=import-error
    finally:
        sys.path.pop(0)
    edges = {"probe._a": {"probe._b"}, "probe._b": {"probe._a"}, "host._run": {"webserver._x"}, "webserver._x": set()}
    problems = import_graph.check(edges)
    assert any(p.startswith("import cycle: probe._a") for p in problems)
    assert any("host._run imports webserver._x" in p for p in problems)
