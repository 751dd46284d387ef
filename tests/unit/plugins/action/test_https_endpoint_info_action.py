# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Which path https_endpoint_info takes: the controller's process only for a local connection without become and
without async; every other case sends the module, with the task's arguments unchanged."""
from __future__ import annotations

import types

import pytest

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.port443.https.plugins.action import https_endpoint_info as action

ARGS = {"endpoints": [{"host": "127.0.0.1", "port": 9}], "checks": ["tcp"], "timeout": 1}


def _plugin(transport, become=False, async_val=0, args=None):
    plugin = object.__new__(action.ActionModule)
    plugin._task = types.SimpleNamespace(args=dict(args or ARGS), async_val=async_val)
    plugin._play_context = types.SimpleNamespace(become=become, check_mode=False)
    plugin._connection = types.SimpleNamespace(transport=transport)
    plugin.sent = []

    def execute(module_name, module_args, task_vars, wrap_async):
        del task_vars
        plugin.sent.append((module_name, dict(module_args), wrap_async))
        return {"changed": False, "endpoints": [], "summary": {}}

    plugin._execute_module = execute
    return plugin


@pytest.fixture(autouse=True)
def _no_base(monkeypatch):
    monkeypatch.setattr(ActionBase, "run", lambda self, tmp=None, task_vars=None: {})


@pytest.mark.parametrize("transport, become, async_val", [
    ("ssh", False, 0), ("community.docker.docker", False, 0), ("local", True, 0), ("local", False, 30)])
def test_the_module_runs_everywhere_else(transport, become, async_val):
    plugin = _plugin(transport, become, async_val)
    plugin.run(task_vars={})
    assert plugin.sent == [(action.MODULE, ARGS, async_val)]


def test_the_controller_runs_the_probe_in_its_process():
    plugin = _plugin("local")
    result = plugin.run(task_vars={})
    assert plugin.sent == []
    assert result["changed"] is False and result["endpoints"][0]["tcp"]["state"] in ("closed", "filtered")
    assert result["summary"]["total"] == 1


def test_bad_input_in_the_controller_process_speaks_like_the_module():
    with pytest.raises(AnsibleActionFail, match=r"^Unsupported parameters for \(port443.https.https_endpoint_info\) module: nonsense"):
        _plugin("local", args=dict(ARGS, nonsense=1)).run(task_vars={})
    with pytest.raises(AnsibleActionFail, match="missing required arguments: endpoints"):
        _plugin("local", args={"checks": ["tcp"]}).run(task_vars={})
    result = _plugin("local", args={"endpoints": []}).run(task_vars={})
    assert result["failed"] is True and "endpoints: the list is empty" in result["msg"]


def test_run_command_feeds_the_session_end():
    rc, out = action.run_command(["cat"])
    assert (rc, out) == (0, "Q\n")
