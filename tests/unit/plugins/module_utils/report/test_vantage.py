# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
from __future__ import annotations

import pytest

from ansible_collections.port443.https.plugins.module_utils.reasons import _classify
from ansible_collections.port443.https.plugins.module_utils.report import _report
from ansible_collections.port443.https.plugins.module_utils.report import _vantage
from ansible_collections.port443.https.tests.unit.plugins.module_utils.report_samples import endpoint

EPS = [{"host": "a.test"}, {"host": "b.test", "port": 8443}, {"host": "c.test", "address": "192.0.2.3"}]


def _filtered(host, **kw):
    return endpoint(host, "critical", [_classify.reason("filtered")], tcp="filtered", **kw)


def _closed(host, **kw):
    return endpoint(host, "critical", [_classify.reason("closed")], tcp="closed", **kw)


def _with_cert(res, fingerprint):
    res["certificate"]["fingerprint_sha256"] = fingerprint
    return res


def _loop(*items):
    """What a registered loop looks like on one driver host."""
    return {"changed": False, "results": list(items)}


def test_plan_all_gives_every_vantage_every_endpoint_and_one_driver_each():
    plan = _vantage.plan(EPS, ["controller", "inside"], ["web1", "web2", "web3"])
    assert plan["endpoints"]["controller"] == EPS and plan["endpoints"]["inside"] == EPS
    assert plan["drivers"] == {"web1": ["controller"], "web2": ["inside"]}
    assert plan["connect"] == {"controller": "localhost", "inside": "inside"}
    assert plan["label"] is True


def test_plan_controller_only_is_unlabelled_and_fewer_drivers_wrap():
    assert _vantage.plan(EPS, None, ["web1"])["label"] is False
    plan = _vantage.plan(EPS, ["controller", "p1", "p2"], ["only"])
    assert plan["drivers"] == {"only": ["controller", "p1", "p2"]}


def test_plan_shard_splits_round_robin_and_skips_idle_vantages():
    plan = _vantage.plan(EPS, ["p1", "p2"], ["h1", "h2"], mode="shard")
    assert [e["host"] for e in plan["endpoints"]["p1"]] == ["a.test", "c.test"]
    assert [e["host"] for e in plan["endpoints"]["p2"]] == ["b.test"]
    idle = _vantage.plan(EPS[:1], ["p1", "p2"], ["h1", "h2"], mode="shard")
    assert idle["drivers"] == {"h1": ["p1"]}


@pytest.mark.parametrize("vantages, mode, drivers, needle", [
    ([], "all", ["h"], "verify_https_vantages: expected a non-empty list"),
    (["controller", "controller"], "all", ["h"], "verify_https_vantages: 'controller' is listed twice"),
    (["controller", 3], "all", ["h"], "verify_https_vantages: 3 is not a vantage point"),
    (["controller"], "both", ["h"], "verify_https_vantage_mode: 'both' is not one of all, shard"),
    (["controller"], "all", [], "drivers: the play has no host"),
])
def test_plan_bad_input_names_the_option(vantages, mode, drivers, needle):
    with pytest.raises(_vantage.VantageInputError, match=None) as err:
        _vantage.plan(EPS, vantages, drivers, mode)
    assert needle in str(err.value)


def test_merge_open_inside_filtered_outside_is_vantage_filtered():
    plan = _vantage.plan(EPS[:1], ["controller", "inside"], ["web1", "web2"])
    probes = [_loop({"item": "controller", "endpoints": [_filtered("a.test")]}),
              _loop({"item": "inside", "endpoints": [endpoint("a.test")]})]
    merged = _vantage.merge(probes, plan)
    outside, inside = merged["endpoints"]
    assert (outside["source"], inside["source"]) == ("controller", "inside")
    assert [r["code"] for r in outside["reasons"]] == ["filtered", "vantage_filtered"]
    assert "open from inside, timed out from controller" in outside["reasons"][1]["message"]
    assert inside["reasons"] == [] and inside["status"] == "ok"
    row = merged["matrix"]["rows"][0]
    assert row["findings"] == ["vantage_filtered"] and row["status"] == "critical"
    assert row["cells"]["inside"]["tcp"] == "open" and row["cells"]["controller"]["tcp"] == "filtered"
    assert merged["matrix"]["vantages"] == ["controller", "inside"] and merged["matrix"]["differences"] == 1


def test_merge_refused_and_everywhere_filtered():
    plan = _vantage.plan(EPS[:2], ["controller", "inside"], ["w"])
    probes = [{"item": "controller", "endpoints": [_closed("a.test"), _filtered("b.test", port=8443)]},
              {"item": "inside", "endpoints": [endpoint("a.test"), _filtered("b.test", port=8443)]}]
    merged = _vantage.merge(probes, plan)
    codes = {(r["host"], r["source"]): [x["code"] for x in r["reasons"]] for r in merged["endpoints"]}
    assert codes[("a.test", "controller")] == ["closed", "vantage_refused"]
    # Filtered from everywhere: a plain 'filtered', no comparison finding.
    assert codes[("b.test", "controller")] == ["filtered"] and codes[("b.test", "inside")] == ["filtered"]


def test_merge_other_certificate_or_no_tls_is_answer_differs():
    plan = _vantage.plan(EPS[:1], ["inside", "outside", "plain"], ["w1", "w2", "w3"])
    probes = [_loop({"item": "inside", "endpoints": [_with_cert(endpoint("a.test"), "aa" * 32)]}),
              _loop({"item": "outside", "endpoints": [_with_cert(endpoint("a.test"), "bb" * 32)]}),
              _loop({"item": "plain", "endpoints": [endpoint("a.test", "critical", [_classify.reason("not_tls")])]})]
    merged = _vantage.merge(probes, plan)
    inside, outside, plain = merged["endpoints"]
    assert [r["code"] for r in inside["reasons"]] == []
    assert outside["reasons"][-1]["code"] == "vantage_answer_differs" and outside["status"] == "warning"
    assert "outside sees certificate sha256 bbbbbbbbbbbbbbbb, inside sees certificate sha256 aaaaaaaaaaaaaaaa" in outside["reasons"][-1]["message"]
    assert "plain sees no TLS" in plain["reasons"][-1]["message"]
    assert merged["matrix"]["rows"][0]["cells"]["outside"]["certificate"] == "b" * 16


@pytest.mark.parametrize("item, needle", [
    (None, "the probe returned no endpoint results"),
    ({"item": "inside", "unreachable": True, "msg": "Failed to connect"}, "unreachable: Failed to connect"),
    ({"item": "inside", "failed": True, "msg": "boom"}, "the probe task failed: boom"),
    ({"item": "inside", "endpoints": []}, "returned 0 result(s) for 1 planned"),
    ({"item": "inside", "endpoints": [endpoint("other.test")]}, "returned 1 result(s) for 1 planned"),
])
def test_merge_never_fails_open_on_a_missing_vantage(item, needle):
    plan = _vantage.plan(EPS[:1], ["controller", "inside"], ["w1", "w2"])
    probes = [_loop({"item": "controller", "endpoints": [endpoint("a.test")]})] + ([_loop(item)] if item else [{"skipped": True}])
    merged = _vantage.merge(probes, plan)
    missing = merged["endpoints"][1]
    assert missing["source"] == "inside" and missing["status"] == "critical"
    assert missing["reasons"][0]["code"] == "vantage_missing" and needle in missing["reasons"][0]["message"]
    assert merged["matrix"]["rows"][0]["findings"] == ["vantage_missing"]


def test_merge_controller_only_keeps_results_unlabelled():
    plan = _vantage.plan(EPS[:1], ["controller"], ["w1"])
    merged = _vantage.merge([_loop({"item": "controller", "endpoints": [endpoint("a.test")]})], plan)
    assert "source" not in merged["endpoints"][0]
    assert merged["matrix"]["vantages"] == ["controller"]


def test_merge_shard_has_one_cell_per_endpoint():
    plan = _vantage.plan(EPS, ["p1", "p2"], ["w1", "w2"], mode="shard")
    probes = [_loop({"item": "p1", "endpoints": [endpoint("a.test"), endpoint("c.test")]}),
              _loop({"item": "p2", "endpoints": [endpoint("b.test", port=8443)]})]
    merged = _vantage.merge(probes, plan)
    assert [(r["host"], r["source"]) for r in merged["endpoints"]] == [("a.test", "p1"), ("c.test", "p1"), ("b.test", "p2")]
    assert all(len(row["cells"]) == 1 for row in merged["matrix"]["rows"]) and merged["matrix"]["differences"] == 0


def test_report_carries_the_matrix_in_every_human_format():
    plan = _vantage.plan(EPS[:1], ["controller", "inside"], ["w1", "w2"])
    merged = _vantage.merge([{"item": "controller", "endpoints": [_filtered("a.test")]},
                             {"item": "inside", "endpoints": [endpoint("a.test")]}], plan)
    report = _report.build(merged["endpoints"], title="Two views")
    assert report["matrix"]["rows"][0]["findings"] == ["vantage_filtered"]
    md = _report.render_markdown(report)
    assert "| Endpoint | controller | inside | Findings |" in md
    assert "| a.test:443 | critical: filtered | ok: TLS 1.3 | `vantage_filtered` |" in md
    html = _report.render_html(report)
    assert 'id="vantage-matrix"' in html and '"vantage_filtered"' in html
    # A single-vantage report has no matrix section.
    single = _report.build([endpoint("a.test")])
    assert "matrix" not in single and "Endpoint | controller" not in _report.render_markdown(single)


def test_filters_turn_bad_input_into_one_error_naming_the_option():
    from ansible.errors import AnsibleFilterError

    from ansible_collections.port443.https.plugins.filter.vantage_merge import FilterModule as MergeFilters
    from ansible_collections.port443.https.plugins.filter.vantage_plan import FilterModule as PlanFilters

    plan = PlanFilters().filters()["vantage_plan"]
    merge = MergeFilters().filters()["vantage_merge"]
    with pytest.raises(AnsibleFilterError, match="vantage_plan: verify_https_vantages: 'x' is listed twice"):
        plan(EPS, ["x", "x"], ["h"])
    with pytest.raises(AnsibleFilterError, match="vantage_merge: plan: expected the output of the vantage_plan filter"):
        merge([], {})
    # A registered loop whose items carry the value under loop_control.loop_var.
    planned = plan(EPS[:1], ["controller", "inside"], ["h1", "h2"])
    merged = merge([{"results": [{"ansible_loop_var": "v", "v": "controller", "endpoints": [endpoint("a.test")]}]},
                    {"results": [{"ansible_loop_var": "v", "v": "inside", "endpoints": [endpoint("a.test")]}]}], planned)
    assert [r["status"] for r in merged["endpoints"]] == ["ok", "ok"]


def test_a_status_that_differs_between_vantages_is_seen_differently():
    """The same certificate from both vantages, trusted from one and not from the other (each vantage has its own CA
    bundle): warning from one vantage, critical from the other. No comparison code explains it, yet the endpoint is
    seen differently, and the matrix (and every report format) counts it so."""
    plan = _vantage.plan(EPS[:2], ["controller", "inside"], ["w1", "w2"])
    fingerprint = "ab" * 32
    controller = [_with_cert(endpoint("a.test", "warning", [_classify.reason("no_hsts")]), fingerprint),
                  _with_cert(endpoint("b.test", port=8443), "cd" * 32)]
    inside = [_with_cert(endpoint("a.test", "critical", [_classify.reason("no_hsts"), _classify.reason("untrusted_root")]), fingerprint),
              _with_cert(endpoint("b.test", port=8443), "cd" * 32)]
    probes = [_loop({"item": "controller", "endpoints": controller}), _loop({"item": "inside", "endpoints": inside})]
    merged = _vantage.merge(probes, plan)
    a_row, b_row = merged["matrix"]["rows"]
    assert [c["status"] for c in a_row["cells"].values()] == ["warning", "critical"]
    assert merged["matrix"]["differences"] == 1
    assert a_row["findings"] == [] and a_row["differs"] == ["status", "reasons"]
    assert b_row["differs"] == []
    report = _report.build(merged["endpoints"], title="Two trust stores")
    assert report["matrix"]["differences"] == 1
    md = _report.render_markdown(report)
    assert "1 endpoint(s) seen differently" in md
    assert "| a.test:443 | warning: TLS 1.3 | critical: TLS 1.3 | differs: status, reasons |" in md
    # One view per endpoint (shard mode) cannot differ.
    shard = _vantage.matrix([endpoint("a.test", source="p1"), endpoint("b.test", "critical", [_classify.reason("expired")], source="p2")])
    assert shard["differences"] == 0 and all(row["differs"] == [] for row in shard["rows"])
