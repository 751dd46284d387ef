# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
from __future__ import annotations

import json
import os

import pytest

from ansible_collections.port443.https.plugins.modules import https_report
from ansible_collections.port443.https.tests.unit.plugins.modules.module_harness import ExitJson, FailJson, patch_exit, run_module
from ansible_collections.port443.https.tests.unit.plugins.module_utils.report_samples import fleet


@pytest.fixture(autouse=True)
def _patch_exit(monkeypatch):
    patch_exit(monkeypatch)


def run(args, expect=ExitJson):
    return run_module(https_report.main, args, expect)


def test_check_mode_writes_nothing(tmp_path):
    dest = tmp_path / "out"
    res = run({"results": fleet(), "dest": str(dest), "_ansible_check_mode": True})
    assert res["changed"] is True
    assert not dest.exists()
    assert set(res["changed_files"]) == {"json", "html", "junit", "prometheus", "markdown"}
    assert res["summary"]["critical"] == 3 and res["status"] == "critical"
    assert res["markdown"].startswith("## HTTPS report")


def test_write_then_idempotent_then_check(tmp_path):
    dest = tmp_path / "out"
    first = run({"results": fleet(), "dest": str(dest), "title": "T"})
    assert first["changed"] is True
    names = sorted(os.listdir(dest))
    assert names == ["https_report.prom", "junit.xml", "report.html", "report.json", "report.md"]
    assert json.loads((dest / "report.json").read_text())["title"] == "T"
    assert first["files"]["html"] == str(dest / "report.html")
    again = run({"results": fleet(), "dest": str(dest), "title": "T"})
    assert again["changed"] is False and again["changed_files"] == []
    check_same = run({"results": fleet(), "dest": str(dest), "title": "T", "_ansible_check_mode": True})
    assert check_same["changed"] is False
    changed = fleet()[:2]
    check_diff = run({"results": changed, "dest": str(dest), "title": "T", "_ansible_check_mode": True, "_ansible_diff": True})
    assert check_diff["changed"] is True
    assert {d["before_header"] for d in check_diff["diff"]} == {str(dest / "report.md"), str(dest / "report.json")}
    assert json.loads((dest / "report.json").read_text())["summary"]["total"] == 6  # untouched in check mode


def test_formats_subset_and_mode(tmp_path):
    res = run({"results": fleet(), "dest": str(tmp_path), "formats": ["junit", "junit", "prometheus"], "mode": "0600"})
    assert sorted(res["files"]) == ["junit", "prometheus"]
    assert sorted(os.listdir(tmp_path)) == ["https_report.prom", "junit.xml"]
    assert oct(os.stat(tmp_path / "junit.xml").st_mode & 0o777) == "0o600"
    assert res["markdown"]  # always returned


def test_bad_input(tmp_path):
    (tmp_path / "file").write_text("x")
    assert "is not a directory" in run({"results": fleet(), "dest": str(tmp_path / "file")}, FailJson)["msg"]
    assert "results[0].host: missing" in run({"results": [{"port": 1}], "dest": str(tmp_path)}, FailJson)["msg"]
    assert "formats" in run({"results": [], "dest": str(tmp_path), "formats": ["pdf"]}, FailJson)["msg"]


def test_empty_results(tmp_path):
    res = run({"results": [], "dest": str(tmp_path)})
    assert res["summary"]["total"] == 0 and res["status"] == "ok"


@pytest.mark.parametrize("check_mode", [False, True])
def test_directory_as_target_file(tmp_path, check_mode):
    dest = tmp_path / "out"
    (dest / "report.html").mkdir(parents=True)
    res = run({"results": fleet(), "dest": str(dest), "_ansible_check_mode": check_mode}, FailJson)
    assert res["msg"].startswith(f"dest: '{dest / 'report.html'}' is a directory; the html report is written to that path")
    assert "Traceback" not in res["msg"] and "Errno" not in res["msg"]
    # Nothing was written before the error.
    assert sorted(os.listdir(dest)) == ["report.html"]
    # Leaving that format out works.
    ok = run({"results": fleet(), "dest": str(dest), "formats": ["json", "markdown"]})
    assert ok["changed"] is True and sorted(os.listdir(dest)) == ["report.html", "report.json", "report.md"]


def test_fifo_as_target_file(tmp_path):
    dest = tmp_path / "out"
    dest.mkdir()
    os.mkfifo(dest / "report.json")
    res = run({"results": fleet(), "dest": str(dest), "formats": ["json"]}, FailJson)
    assert "report.json' is not a regular file" in res["msg"]


def test_html_template_of_your_own(tmp_path):
    template = tmp_path / "mine.html"
    template.write_text("<!-- ours -->\n<h1>{{ title }}</h1>\n<script type=\"application/json\" id=\"report-data\">{{ report_data }}</script>\n")
    dest = tmp_path / "out"
    res = run({"results": fleet(), "dest": str(dest), "title": "Ours", "html_template": str(template)})
    html = (dest / "report.html").read_text()
    assert res["changed"] is True and html.startswith("<!-- ours -->\n<h1>Ours</h1>")
    # Same template, same results: unchanged; the collection's template is another page.
    assert run({"results": fleet(), "dest": str(dest), "title": "Ours", "html_template": str(template)})["changed"] is False
    back = run({"results": fleet(), "dest": str(dest), "title": "Ours"})
    assert back["changed_files"] == ["html"] and "<!-- ours -->" not in (dest / "report.html").read_text()


def test_html_template_errors_before_writing(tmp_path):
    dest = tmp_path / "out"
    missing = str(tmp_path / "nope.html")
    res = run({"results": fleet(), "dest": str(dest), "html_template": missing}, FailJson)
    assert res["msg"] == f"html_template: the template {missing!r} does not exist"
    bad = tmp_path / "bad.html"
    bad.write_text("<h1>{{ heading }}</h1>{{ report_data }}")
    res = run({"results": fleet(), "dest": str(dest), "html_template": str(bad)}, FailJson)
    assert res["msg"].startswith("html_template: unknown placeholder(s) {{ heading }}")
    binary = tmp_path / "bin.html"
    binary.write_bytes(b"\xff\xfe{{ report_data }}")
    assert "is not UTF-8 text" in run({"results": fleet(), "dest": str(dest), "html_template": str(binary)}, FailJson)["msg"]
    assert not dest.exists()
    # Without the html format the template is not read.
    ok = run({"results": fleet(), "dest": str(dest), "formats": ["json"], "html_template": missing})
    assert ok["changed"] is True
