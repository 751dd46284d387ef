# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The action group port443.https.checks (meta/runtime.yml): one module_defaults entry sets ca_path, timeout and
the thresholds for every check module, and a task's own value still wins."""

from __future__ import annotations

import os

from test_module import run_playbook


def test_group_module_defaults_reach_every_check_module(lab, tmp_path):
    files = {name: os.path.join(lab.tmp, name) for name in ("good.crt", "good-chain.crt")}
    endpoint = {"endpoints": [lab.endpoints["good"]], "checks": ["tcp", "certificate"]}
    certfile = {"path": files["good.crt"], "chain_path": files["good-chain.crt"], "names": ["good.test"]}
    defaults = {"group/port443.https.checks": {"ca_path": lab.ca_path, "timeout": 3, "warning_days": 3650,
                                               "critical_days": 1, "min_rsa_bits": 2048}}
    tasks = [
        {"name": "endpoint, options from the group", "port443.https.https_endpoint_info": endpoint},
        {"name": "files, options from the group", "port443.https.certificate_file_info": certfile},
        {"name": "endpoint, the task's own warning_days", "port443.https.https_endpoint_info": dict(endpoint, warning_days=30)},
        {"name": "files, the task's own warning_days", "port443.https.certificate_file_info": dict(certfile, warning_days=30)},
    ]
    results = run_playbook(tmp_path, tasks, module_defaults=defaults)
    assert len(results) == 4, results
    ep_group, file_group, ep_own, file_own = results
    # ca_path came from the group: the lab's private root is trusted; warning_days=3650 makes the certificate "expiring".
    for result in (ep_group["endpoints"][0], file_group):
        assert result["certificate"]["trusted"] is True, result
        assert [r["code"] for r in result["reasons"]] == ["expiring_soon"], result["reasons"]
    for result in (ep_own["endpoints"][0], file_own):
        assert result["status"] == "ok" and result["reasons"] == [], result["reasons"]

    # Without the group defaults the same tasks do not trust the lab's root: the defaults really were applied.
    bare_ep, bare_file = run_playbook(tmp_path, tasks[:2])
    assert bare_ep["endpoints"][0]["certificate"]["trusted"] is False
    assert bare_file["certificate"]["trusted"] is not True
