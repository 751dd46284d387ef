# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The collection's guideline data is exactly what Mozilla published (tests/unit/data/mozilla-guidelines/)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ansible_collections.port443.https.plugins.module_utils.profiles import _mozilla_guidelines as mg

HERE = os.path.dirname(__file__)
DATA = os.path.join(HERE, "data", "mozilla-guidelines")
TOOL = os.path.join(HERE, "..", "tools", "mozilla_guidelines.py")


def _published():
    out = {}
    for name in os.listdir(DATA):
        if name.endswith(".json"):
            with open(os.path.join(DATA, name), encoding="utf-8") as f:
                doc = json.load(f)
            out[str(doc["version"])] = doc
    return out


def test_every_published_version_is_carried_verbatim():
    published = _published()
    assert set(published) == set(mg.VERSIONS) == set(mg.GUIDELINES)
    for version, doc in published.items():
        assert mg.GUIDELINES[version] == doc, version


def test_latest_is_6_0_with_the_hybrid_group_first():
    assert mg.LATEST == "6.0"
    for profile in ("modern", "intermediate"):
        conf = mg.GUIDELINES["6.0"]["configurations"][profile]
        assert conf["tls_curves"][0] == "X25519MLKEM768"
    assert not [c for c in mg.GUIDELINES["6.0"]["configurations"]["intermediate"]["ciphers"]["iana"] if "_DHE_" in c]


def test_generated_module_is_up_to_date():
    proc = subprocess.run([sys.executable, TOOL, "--check"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
