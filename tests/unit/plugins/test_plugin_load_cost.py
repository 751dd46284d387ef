# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""What loading the collection's controller plugins imports, in a fresh Python (as in each of Ansible's worker
processes, which load the plugins a task needs anew).

Ansible imports every filter and every test file of the collection the first time a template names one of them; the
https_endpoint_info action is loaded for every probe task, also when it sends the module to a managed host. Neither may
import the collection's cores or cryptography before a filter, test or in-process probe actually runs: that cost
(about 0.1 s per task for the filters, 0.2 s for the probe's core) was paid by every task whose templates used any
filter, whichever it was."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest

PLUGINS = pathlib.Path(__file__).resolve().parents[3] / "plugins"
HEAVY = ("cryptography", "ansible_collections.port443.https.plugins.module_utils.certificate._x509",
         "ansible_collections.port443.https.plugins.module_utils.certificate._certstate",
         "ansible_collections.port443.https.plugins.module_utils.certificate._certfile",
         "ansible_collections.port443.https.plugins.module_utils.webserver._decisions",
         "ansible_collections.port443.https.plugins.module_utils.webserver._servers",
         "ansible_collections.port443.https.plugins.module_utils.report._vantage",
         "ansible_collections.port443.https.plugins.module_utils.probe._task")

CHILD = """
import importlib, json, sys
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder
_AnsibleCollectionFinder(paths=[sys.argv[1]])._install()
import ansible.plugins.action  # what a worker process has already
before = set(sys.modules)
loaded = {}
for name in json.loads(sys.argv[2]):
    module = importlib.import_module("ansible_collections.port443.https.plugins." + name)
    # What Ansible calls when it loads a filter or test file: the mapping of names to functions.
    for kind, method in (("FilterModule", "filters"), ("TestModule", "tests")):
        if hasattr(module, kind):
            loaded[name] = sorted(getattr(getattr(module, kind)(), method)())
print(json.dumps({"loaded": loaded, "imported": sorted(set(sys.modules) - before)}))
"""


def _load(names: list[str]) -> dict:
    import ansible_collections.port443.https as coll

    root = str(pathlib.Path(list(coll.__path__)[0]).parents[2])
    proc = subprocess.run([sys.executable, "-c", CHILD, root, json.dumps(names)], capture_output=True, text=True,
                          check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout)


def _plugins(kind: str) -> list[str]:
    return [f"{kind}.{path.stem}" for path in sorted((PLUGINS / kind).glob("*.py")) if path.stem != "__init__"]


@pytest.mark.parametrize("names", [_plugins("filter") + _plugins("test"), ["action.https_endpoint_info"]],
                         ids=["filters and tests", "https_endpoint_info action"])
def test_loading_imports_no_core(names):
    found = _load(names)
    heavy = sorted(m for m in found["imported"] if m.startswith(HEAVY))
    assert heavy == [], f"loading {len(names)} plugin files imported {heavy}"
    # Every filter and test file was really loaded and named its functions.
    assert all(found["loaded"].get(name) for name in names if not name.startswith("action."))


def test_a_filter_still_runs_its_core():
    from ansible_collections.port443.https.plugins.filter.webserver_server import FilterModule
    from ansible_collections.port443.https.plugins.test.tls_at_least import TestModule

    assert FilterModule().filters()["webserver_server"]("nginx")["service"] == "nginx"
    assert TestModule().tests()["tls_at_least"]("TLSv1.3", "1.2") is True
