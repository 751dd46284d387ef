# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""caddyfile_info on real files: the decision, the kept copy's path, the option's choices, and an unreadable file
failing (never a decision)."""
from __future__ import annotations

import hashlib

import pytest

from ansible_collections.port443.https.plugins.modules import caddyfile_info
from ansible_collections.port443.https.tests.unit.plugins.modules.module_harness import ExitJson, FailJson, patch_exit, run_module

OPERATOR = b':8081 {\n\trespond "operator"\n}\n'


@pytest.fixture(autouse=True)
def _patch_exit(monkeypatch):
    patch_exit(monkeypatch)


def run(args, expect=ExitJson):
    return run_module(caddyfile_info.main, args, expect)


def test_operator_file_is_refused_then_handed_over(tmp_path):
    main = tmp_path / "Caddyfile"
    main.write_bytes(OPERATOR)
    site = str(tmp_path / "port443-https.caddy")
    refused = run({"path": str(main), "site_file": site})
    assert refused["changed"] is False
    assert (refused["owner"], refused["write"], refused["kept_copy"]) == ("operator", False, "")
    assert f"`import {site}`" in refused["refusal"]
    replaced = run({"path": str(main), "site_file": site, "takeover": "replace"})
    sha = hashlib.sha256(OPERATOR).hexdigest()
    assert (replaced["write"], replaced["foreign_ok"], replaced["refusal"], replaced["sha256"]) == (True, True, "", sha)
    assert replaced["kept_copy"] == f"/var/lib/port443/webserver/originals/Caddyfile.sha256-{sha[:16]}"
    main.write_bytes(OPERATOR + b"import port443-https.caddy\n")
    imports = run({"path": str(main), "site_file": site, "takeover": "replace", "http2": False})
    assert (imports["owner"], imports["write"]) == ("operator-imports", False)
    assert "webserver_http2 is false" in imports["refusal"]
    assert imports["imports"] == ["port443-https.caddy"]


def test_bad_takeover_is_refused_naming_the_choices(tmp_path):
    failed = run({"path": str(tmp_path / "Caddyfile"), "takeover": "overwrite"}, FailJson)
    assert "takeover" in failed["msg"] and "refuse, replace" in failed["msg"]


def test_unreadable_file_fails(tmp_path):
    failed = run({"path": str(tmp_path)}, FailJson)
    assert "cannot be read" in failed["msg"] and "Nothing was changed" in failed["msg"]
