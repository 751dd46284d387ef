# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""https_endpoint_info on the controller runs its probe in the controller's process (the action plugin); elsewhere,
and with async, the module runs. Both paths must give the same results for the same endpoints and the same errors
for the same bad input."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import yaml

from test_module import BAD_INPUT, _env, run_playbook

# A generous timeout: on a loaded machine a short budget can run out on one run and not on the other, whatever the path.
NAMES = ["good", "expired", "closed", "tarpit", "tls10_only", "missing_inter", "untrusted", "selfsigned", "wronghost",
         "stapled_revoked", "revoked_crl", "web_good", "web_bad"]
# Measured while probing: differs from one probe to the next whatever the path (latencies, and the time a message
# says the probe waited).
VOLATILE = ("latency_ms",)
DURATION = re.compile(r"\b\d+(\.\d+)? ?m?s\b")


def _stable(value):
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    if isinstance(value, str):
        return DURATION.sub("<duration>", value)
    return value


def _diff(mine, theirs, where=""):
    """The first places where two results differ, for the failure message."""
    if isinstance(mine, dict) and isinstance(theirs, dict) and list(mine) == list(theirs):
        return [d for k in mine for d in _diff(mine[k], theirs[k], f"{where}.{k}")][:5]
    if isinstance(mine, list) and isinstance(theirs, list) and len(mine) == len(theirs):
        return [d for i, (a, b) in enumerate(zip(mine, theirs)) for d in _diff(a, b, f"{where}[{i}]")][:5]
    return [] if mine == theirs else [(where, mine, theirs)]


def _both(args):
    """The same task twice: in the controller's process, then as the module (async forces the module path)."""
    return [{"name": "in the controller's process", "port443.https.https_endpoint_info": args, "ignore_errors": True},
            {"name": "as a module", "port443.https.https_endpoint_info": args, "ignore_errors": True, "async": 120, "poll": 1}]


def test_action_and_module_paths_return_the_same_results(lab, tmp_path):
    args = {"endpoints": [lab.endpoints[n] for n in NAMES], "ca_path": lab.ca_path, "timeout": 5, "fail_on": "critical",
            "checks": ["tcp", "tls_versions", "certificate", "revocation", "http"]}
    plain = {"endpoints": [lab.endpoints["good"]], "ca_path": lab.ca_path, "checks": ["tcp", "tls_versions", "certificate"]}
    action, module, action_ok, module_ok = run_playbook(tmp_path, _both(args) + _both(plain))
    for one, other in ((action, module), (action_ok, module_ok)):
        assert "ansible_job_id" not in one and "ansible_job_id" in other  # the second one did run as a module
        assert one.get("failed", False) == other.get("failed", False)
        assert one.get("msg") == other.get("msg")
        assert one["changed"] is other["changed"] is False
        assert json.dumps(_stable(one["summary"])) == json.dumps(_stable(other["summary"]))
        for mine, theirs in zip(one["endpoints"], other["endpoints"]):
            assert json.dumps(_stable(mine)) == json.dumps(_stable(theirs)), _diff(_stable(mine), _stable(theirs))
        assert len(one["endpoints"]) == len(other["endpoints"])
    assert action["failed"] is True and "at or above fail_on=critical" in action["msg"]
    assert [e["status"] for e in action["endpoints"]][1:4] == ["critical", "critical", "critical"]
    assert action["endpoints"][9]["revocation"]["source"] == "stapled"  # the stapled request ran on both paths
    assert action_ok.get("failed", False) is False and action_ok["summary"]["ok"] == 1


def test_action_and_module_paths_refuse_bad_input_alike(tmp_path):
    tasks = [task for args, dummy in BAD_INPUT + [({"endpoints": [{"host": "x.test"}], "nonsense": 1}, "Unsupported parameters"),
                                                  ({"checks": ["tcp"]}, "missing required arguments: endpoints")]
             for task in _both(args)]
    results = run_playbook(tmp_path, tasks)
    for idx in range(0, len(results), 2):
        action, module = results[idx], results[idx + 1]
        assert action["failed"] is True and module["failed"] is True, (action, module)
        assert action["msg"] == module["msg"], (action["msg"], module["msg"])


def test_only_the_controller_runs_in_process(tmp_path):
    """No module is sent, started or read back on the controller; async (or any other connection) sends it."""
    play = [{"name": "paths", "hosts": "localhost", "gather_facts": False, "vars": {"ansible_python_interpreter": sys.executable},
             "tasks": [{"name": "PATH-ACTION", "port443.https.https_endpoint_info": {"endpoints": [{"host": "127.0.0.1", "port": 9}],
                                                                                       "checks": ["tcp"]}},
                       {"name": "PATH-MODULE", "port443.https.https_endpoint_info": {"endpoints": [{"host": "127.0.0.1", "port": 9}],
                                                                                       "checks": ["tcp"]}, "async": 60, "poll": 1}]}]
    path = tmp_path / "paths.yml"
    path.write_text(yaml.safe_dump(play))
    env = _env()
    env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.default"
    proc = subprocess.run([shutil.which("ansible-playbook"), "-i", "localhost,", "-c", "local", "-vvv", str(path)],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    action = proc.stdout.split("TASK [PATH-ACTION]")[1].split("TASK [PATH-MODULE]")[0]
    module = proc.stdout.split("TASK [PATH-MODULE]")[1]
    assert "AnsiballZ_https_endpoint_info" not in action and "EXEC" not in action, action
    assert "AnsiballZ_https_endpoint_info" in module
