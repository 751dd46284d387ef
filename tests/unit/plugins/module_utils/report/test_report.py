# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.port443.https.plugins.module_utils.reasons import _classify
from ansible_collections.port443.https.plugins.module_utils.report import _report
from ansible_collections.port443.https.tests.unit.plugins.module_utils.report_samples import endpoint, fleet, large_fleet, short_lived_fleet


@pytest.fixture
def report():
    return _report.build(fleet(), title="Fleet <audit>")


def test_summary_counts(report):
    s = report["summary"]
    assert (s["total"], s["ok"], s["warning"], s["critical"]) == (6, 1, 2, 3)
    assert s["failed"] == 3
    assert s["up"] == 5
    assert s["by_reason"]["expired"] == 1
    assert _report.build(fleet(), failure_severity="warning")["summary"]["failed"] == 5


def test_volatile_fields_dropped_and_deterministic(report):
    text = _report.render_json(report)
    assert "latency_ms" not in text
    assert text == _report.render_json(_report.build(fleet(), title="Fleet <audit>"))
    data = json.loads(text)
    assert [e["host"] for e in data["endpoints"]] == [e["host"] for e in fleet()]


@pytest.mark.parametrize("results, needle", [
    ("nope", "results: expected a list"),
    ([{"port": 443}], "results[0].host: missing"),
    (["a"], "results[0]: expected a dict"),
    ([{"host": "a", "port": "x"}], "results[0].port: 'x'"),
    ([{"host": "a", "reasons": ["bad"]}], "results[0].reasons"),
])
def test_bad_input(results, needle):
    with pytest.raises(_report.ReportInputError) as exc:
        _report.build(results)
    assert needle in str(exc.value)


def test_bad_options():
    with pytest.raises(_report.ReportInputError, match="failure_severity"):
        _report.build([], failure_severity="sometimes")
    with pytest.raises(_report.ReportInputError, match="formats: unknown format 'pdf'"):
        _report.render_all(_report.build([]), ["pdf"])


def test_missing_status_is_critical_never_ok():
    res = _report.normalize([{"host": "a", "reasons": [{"code": "no_hsts", "severity": "warning"}]}])
    assert res[0]["status"] == "critical"
    assert [r["code"] for r in res[0]["reasons"]] == ["no_hsts", "unknown_status"]
    assert res[0]["port"] == 443


def test_html_is_self_contained_and_escaped(report):
    html = _report.render_html(report)
    # No external assets: no src/href to other documents, a CSP that forbids fetching anything.
    assert not re.search(r'\b(src|href)\s*=\s*"(https?:)?//', html)
    assert "default-src 'none'" in html
    # The embedded data cannot close its <script> element.
    data = html.split('<script type="application/json" id="report-data">', 1)[1].split("</script>", 1)[0]
    assert "</" not in data and "<" not in data
    assert json.loads(data)["summary"]["total"] == 6
    assert "Fleet &lt;audit&gt;" in html
    assert "<svg" in html and 'id="expiry-chart"' in html
    assert html.count('class="bar ') == 5  # every endpoint with a certificate, not the filtered one


def test_json_for_script_escapes():
    out = _report.json_for_script({"a": "</script><!-- \u2028 & >"})
    assert "<" not in out and ">" not in out and "&" not in out and "\u2028" not in out
    assert json.loads(out) == {"a": "</script><!-- \u2028 & >"}


def test_expiry_chart_empty_and_limit():
    empty = _report.build([endpoint("x", tcp="closed", status="critical")])
    assert "No certificate data" in _report.expiry_svg(empty)
    many = _report.build([endpoint(f"h{i}.example", days=i) for i in range(60)])
    svg = _report.expiry_svg(many, limit=10)
    assert svg.count('class="bar ') == 10
    assert "20 more in the table" not in svg and "50 more in the table" in svg


def test_junit(report):
    xml = _report.render_junit(report)
    root = ET.fromstring(xml.split("\n", 1)[1])
    cases = root.findall(".//testcase")
    assert int(root.get("tests")) == len(cases)
    failures = root.findall(".//testcase/failure")
    assert int(root.get("failures")) == len(failures) == 3
    msgs = " ".join(f.get("message") for f in failures)
    assert "expired:" in msgs and "filtered:" in msgs and "hostname_mismatch:" in msgs
    # Warnings below failure_severity are reported, not failed.
    outs = " ".join(o.text for o in root.findall(".//testcase/system-out"))
    assert "expiring_soon" in outs and "legacy_tls_enabled" in outs
    # A filtered endpoint: tcp fails, tls/certificate skipped.
    dropped = [c for c in cases if c.get("classname") == "dropped.example:443"]
    assert [c.get("name") for c in dropped] == ["tcp", "tls", "certificate"]
    assert dropped[1].find("skipped") is not None
    # One testcase per endpoint and check.
    assert [c.get("name") for c in cases if c.get("classname") == "good.example:443"] == ["tcp", "tls", "certificate", "http"]


def test_junit_warning_failures_and_bad_chars():
    rep = _report.build([endpoint("w", "warning", [{"code": "no_hsts", "severity": "warning", "message": "bad \x01 char", "fix": "f"}])],
                        failure_severity="warning")
    xml = _report.render_junit(rep)
    root = ET.fromstring(xml.split("\n", 1)[1])
    assert root.get("failures") == "1"
    assert root.find(".//failure").get("type") == "warning"
    assert "\x01" not in xml


def test_prometheus(report):
    text = _report.render_prometheus(report)
    for name in ("https_cert_days_left", "https_endpoint_up", "https_tls_version_enabled", "https_endpoint_status"):
        assert f"# HELP {name} " in text
        assert f"# TYPE {name} gauge" in text
    assert 'https_endpoint_up{host="dropped.example",port="443",server_name="dropped.example"} 0' in text
    assert 'https_cert_days_left{host="expired.example",port="443",server_name="expired.example"} -30' in text
    assert 'https_tls_version_enabled{host="legacy.example",port="443",server_name="legacy.example",version="1.0"} 1' in text
    assert 'https_endpoint_status{host="good.example",port="443",server_name="good.example",status="ok"} 1' in text
    assert 'https_report_endpoints{status="critical"} 3' in text
    # Every sample line is well formed.
    sample = re.compile(r'^[a-z_]+(\{([a-z_]+="([^"\\]|\\.)*",?)*\})? -?\d+$')
    for line in text.splitlines():
        assert line.startswith("# ") or sample.match(line), line


def test_prometheus_label_escaping_and_dedup():
    weird = endpoint('we"ird\\host', server_name="a\nb")
    rep = _report.build([weird, weird, endpoint("x", source="web1"), endpoint("x", source="web2")])
    text = _report.render_prometheus(rep)
    assert 'host="we\\"ird\\\\host"' in text and 'server_name="a\\nb"' in text
    assert text.count("https_endpoint_up{") == 3
    assert 'source="web1"' in text and 'source="web2"' in text
    assert _report.prom_help("a\\b\nc") == "a\\\\b\\nc"


def test_markdown(report):
    md = _report.render_markdown(report)
    assert md.startswith("## Fleet &lt;audit&gt;")
    assert "**CRITICAL** - 6 endpoint(s): 3 critical, 2 warning, 1 ok." in md
    rows = [line for line in md.splitlines() if line.startswith("| ") and not line.startswith("| Status") and not line.startswith("| ---")]
    assert [r.split(" | ")[0] for r in rows] == ["| critical"] * 3 + ["| warning"] * 2
    assert "\\|" in md and "<script>" not in md
    assert "Expiring first: expired.example:443 (-30 d)" in md


def test_markdown_all_ok_and_truncation():
    ok = _report.render_markdown(_report.build([endpoint("a")]))
    assert "**OK**" in ok and "Every endpoint passed" in ok
    bad = [endpoint(f"h{i}", "critical", [{"code": "closed", "severity": "critical", "message": "m", "fix": "f"}]) for i in range(5)]
    assert "and 3 more endpoint(s)" in _report.render_markdown(_report.build(bad), max_rows=2)


def test_endpoint_id():
    assert _report.endpoint_id({"host": "a", "port": 443, "server_name": "a"}) == "a:443"
    assert _report.endpoint_id({"host": "1.2.3.4", "port": 8443, "server_name": "b", "source": "web1"}) == "1.2.3.4:8443 (b) from web1"


def test_render_all(report):
    out = _report.render_all(report, _report.FORMATS)
    assert set(out) == set(_report.FORMATS)
    assert all(text.endswith("\n") for text in out.values())


# ---- never fail open ----------------------------------------------------------------------------------

@pytest.mark.parametrize("item, status, codes", [
    ({"host": "a", "status": "ok", "reasons": []}, "ok", []),
    ({"host": "a", "status": "unknown", "reasons": []}, "critical", ["unknown_status"]),
    ({"host": "a", "status": None, "reasons": []}, "critical", ["unknown_status"]),
    ({"host": "a", "status": "OK", "reasons": []}, "critical", ["unknown_status"]),
    ({"host": "a", "status": "ok", "reasons": [{"code": "x"}]}, "critical", ["x"]),
    ({"host": "a", "status": "ok", "reasons": [{"code": "x", "severity": "info"}]}, "critical", ["x"]),
    ({"host": "a", "status": "ok", "reasons": [{"code": "no_hsts", "severity": "warning"}]}, "warning", ["no_hsts"]),
    ({"host": "a", "status": "warning", "reasons": [{"code": "ok_note", "severity": "ok"}]}, "warning", ["ok_note"]),
])
def test_unknown_status_or_severity_is_never_ok(item, status, codes):
    report = _report.build([item])
    res = report["endpoints"][0]
    assert res["status"] == status and [r["code"] for r in res["reasons"]] == codes
    assert report["summary"][status] == 1 and report["summary"]["ok"] == (1 if status == "ok" else 0)
    assert report["summary"]["failed"] == (1 if status == "critical" else 0)
    # The probe-side summary and fail_on agree with the report.
    assert _classify.summarize([item])[status] == 1
    assert bool(_classify.failing([item], "critical")) is (status == "critical")
    if item["reasons"] and item["reasons"][0].get("severity") not in ("ok", "warning", "critical"):
        assert "counted as critical" in res["reasons"][0]["message"]


def test_classify_severity_and_status():
    assert _classify.status_of([{"code": "x"}]) == "critical"
    assert _classify.status_of([{"code": "x", "severity": "bogus"}]) == "critical"
    assert _classify.status_of([{"code": "x", "severity": "ok"}]) == "ok"
    assert _classify.status_of([]) == "ok"
    assert _classify.effective_status({"status": "ok", "reasons": [{"severity": "critical"}]}) == "critical"
    assert _classify.effective_status({}) == "critical"
    summary = _classify.summarize([{"status": "ok"}, {"status": "mystery"}, {}])
    assert (summary["ok"], summary["critical"], summary["total"]) == (1, 2, 3)


@pytest.mark.parametrize("name", [
    "[click](http://evil.example/)",
    "![img](http://evil.example/x.png)",
    "<script>alert(1)</script>",
    "a|b|c",
    "*bold* _it_ ~~s~~ `code`",
    "see http://evil.example and www.evil.example",
    "# heading",
    "line\nbreak | row",
])
def test_markdown_escapes_markup_from_results(name):
    item = {"host": "h.example", "server_name": name, "status": "critical", "port": 443,
            "reasons": [{"code": "hostname_mismatch", "severity": "critical", "message": f"CN={name}", "fix": name},
                        {"code": f"odd`{name}", "severity": "warning", "message": "m", "fix": "f"}]}
    md = _report.render_markdown(_report.build([item], title=name))
    assert md.startswith("## ")
    rows = [line for line in md.splitlines() if line.startswith("| critical")]
    assert len(rows) == 1
    # Exactly 5 unescaped pipes: the 4 columns are intact whatever the name holds.
    assert len(re.findall(r"(?<!\\)\|", rows[0])) == 5
    for bad in ("<script", "![", "http://", "www.", "**", "\n#"):
        assert bad not in md.replace("**CRITICAL**", ""), bad
    assert not re.search(r"(?<!\\)[\[\]]", md), "an unescaped bracket could start a link or an image"
    assert "*bold*" not in md and "`code`" not in md


def test_markdown_escape_round_trip():
    # What is escaped still reads the same once rendered: every escape is a backslash before punctuation or an entity.
    text = "[x](http://a.example/) <b> a|b www.c.example"
    cell = _report._md_cell(text)
    unescaped = re.sub(r"\\(.)", r"\1", cell).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert unescaped == text


# ---- the expiry timeline ------------------------------------------------------------------------------

def _ticks(svg):
    """(x, label) of the axis ticks of an expiry chart."""
    return [(float(x), label) for x, label in re.findall(r'<text x="([\d.]+)" y="\d+" class="tick">([^<]*)</text>', svg) if label != "today"]


@pytest.mark.parametrize("longest", [0, 1, 2, 3, 6, 10, 20, 30, 44, 45, 60, 90, 200, 397, 800, 3650])
def test_expiry_ticks_never_run_together(longest):
    """Whatever the longest time left, the tick labels stand at least MIN_TICK_SPACING apart (one "-365 d" label is
    about 40 wide) and there are at least three of them."""
    fleet_ = [endpoint(f"h{i}.example", days=d) for i, d in enumerate(sorted({0, longest // 3, longest}))]
    svg = _report.expiry_svg(_report.build(fleet_))
    ticks = _ticks(svg)
    assert len(ticks) >= 3, ticks
    gaps = [b[0] - a[0] for a, b in zip(ticks, ticks[1:])]
    assert min(gaps) >= _report.MIN_TICK_SPACING, ticks
    assert ticks[0][0] == 260 and ticks[-1][1].endswith(" h" if longest < 2 else " d")


def test_expiry_chart_of_six_day_certificates_shows_hours_under_two_days():
    report = _report.build(short_lived_fleet(), thresholds={"warning_days": 2, "critical_days": 1})
    svg = _report.expiry_svg(report)
    assert [label for _x, label in _ticks(svg)] == ["0 d", "1 d", "2 d", "3 d", "4 d", "5 d"]
    values = re.findall(r'class="value">([^<]*)<', svg)
    assert values[:5] == ["3 h", "11 h", "20 h", "30 h", "41 h"] and values[5:] == ["2 d", "2 d", "3 d", "3 d", "4 d"] + ["5 d"] * 4
    # Bars are placed by hours: 3 h is left of 11 h, 41 h left of the 2 d bar.
    ends = [float(x) for x in re.findall(r'<text x="([\d.]+)" y="\d+" class="value">', svg)]
    assert ends == sorted(ends) and ends[0] < ends[1] < ends[4] < ends[5]
    # Critical zone: under (critical_days + 1) x 24 hours, the warning zone up to (warning_days + 1) x 24.
    zone = re.search(r'<rect x="([\d.]+)" y="\d+" width="([\d.]+)" height="\d+" class="zone-critical"/>', svg)
    ticks = dict((label, x) for x, label in _ticks(svg))
    assert float(zone.group(1)) == ticks["0 d"] and round(float(zone.group(1)) + float(zone.group(2)), 1) == ticks["2 d"]
    assert "under 2 days left: critical_days 1" in svg


def test_expiry_axis_in_hours_when_everything_ends_within_two_days():
    report = _report.build([r for r in short_lived_fleet() if r["certificate"]["hours_left"] < 48])
    labels = [label for _x, label in _ticks(_report.expiry_svg(report))]
    assert labels[0] == "0 h" and all(label.endswith(" h") for label in labels) and len(labels) >= 3


def test_hours_left_is_kept_only_under_two_days():
    endpoints = _report.build(short_lived_fleet())["endpoints"]
    kept = [e["certificate"].get("hours_left") for e in endpoints]
    assert kept[:5] == [3, 11, 20, 30, 41] and kept[5:] == [None] * 9
    # The results given are not changed.
    assert short_lived_fleet()[6]["certificate"]["hours_left"] == 66
    md = _report.render_markdown(_report.build(short_lived_fleet()))
    assert "Expiring first: edge01.short.example:443 (3 h), edge02.short.example:443 (11 h)" in md


# ---- the HTML page ------------------------------------------------------------------------------------

def test_findings_are_one_line_each_that_open_to_the_fix():
    """The endpoint table shows each finding as a collapsed <details> (one summary line), the fix inside."""
    template = _report.render_html(_report.build(large_fleet(20)))
    assert 'el("details", { "class": "reason"' in template and 'el("summary"' in template
    assert "ul.reasons" not in template and 'el("br")' not in template
    assert "details.reason > summary { display: block; cursor: pointer; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;" in template


def test_markdown_tells_certificate_transparency_and_crl_only_revocation():
    public = endpoint("ct.example")
    public["certificate"]["ct"] = {"count": 2, "satisfied": True, "publicly_trusted": True, "signatures": "not_performed"}
    short = endpoint("short.example")
    short["certificate"]["ct"] = {"count": 1, "satisfied": False, "publicly_trusted": True, "signatures": "not_performed"}
    private = endpoint("private.example", revocation={"status": "good", "source": "crl", "ocsp": "none_by_design"})
    private["certificate"]["ct"] = {"count": 0, "satisfied": False, "publicly_trusted": False, "signatures": "not_performed"}
    text = _report.render_markdown(_report.build([public, short, private]))
    assert ("Certificate Transparency: 2 publicly trusted certificate(s), 1 with enough SCTs, 1 without; "
            "SCT signatures not performed (no CT log list carried).") in text
    assert "Revocation: 1 CRL-only certificate(s), no OCSP by design (nothing to staple)." in text
    assert "Certificate Transparency" not in _report.render_markdown(_report.build(fleet()))
