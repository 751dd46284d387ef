# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The roll of a pool: when one member's apply step fails, every later member of the same ansible-playbook run is
told to change nothing (the module then fails before any change); outside pools, and in check mode, no mark is left."""
from __future__ import annotations

import os
import types

import pytest

from ansible.plugins.action import ActionBase

from ansible_collections.port443.https.plugins.action import webserver_apply as action


class Task:
    def __init__(self, args):
        self.args = args


def _plugin(args, answers, calls, check_mode=False):
    plugin = object.__new__(action.ActionModule)
    plugin._task = Task(args)
    plugin._play_context = types.SimpleNamespace(check_mode=check_mode)

    def execute(module_name, module_args, task_vars):
        del module_name, task_vars
        calls.append(dict(module_args))
        return answers.pop(0)

    plugin._execute_module = execute
    return plugin


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    monkeypatch.setattr(ActionBase, "run", lambda self, tmp=None, task_vars=None: {})
    monkeypatch.setattr(action.tempfile, "gettempdir", lambda: str(tmp_path))


def test_a_failed_member_stops_the_roll_for_the_next_ones():
    calls = []
    first = _plugin({"roll": "web"}, [{"failed": True, "msg": "apache2 is failed (it stopped)"}], calls)
    assert first.run(task_vars={"inventory_hostname": "web1"})["failed"]
    mark = action._mark("web")
    assert os.path.exists(mark)
    second = _plugin({"roll": "web"}, [{"failed": True, "msg": "stopped"}], calls)
    second.run(task_vars={"inventory_hostname": "web2"})
    assert "roll_stopped" not in calls[0]
    assert "web1 failed: apache2 is failed" in calls[1]["roll_stopped"]
    # Another pool of the same run is not affected.
    _plugin({"roll": "api"}, [{"changed": False}], calls).run(task_vars={})
    assert "roll_stopped" not in calls[2]


def test_no_mark_outside_pools_or_in_check_mode(tmp_path):
    calls = []
    _plugin({"roll": ""}, [{"failed": True, "msg": "x"}], calls).run(task_vars={})
    _plugin({"roll": "web"}, [{"failed": True, "msg": "x"}], calls, check_mode=True).run(task_vars={})
    assert not os.listdir(tmp_path)
