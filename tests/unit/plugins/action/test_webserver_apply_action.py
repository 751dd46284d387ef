# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The roll of a pool: when one member's apply step fails, every later member of the same ansible-playbook run is
told to change nothing (the module then fails before any change); outside pools, and in check mode, no mark is left."""
from __future__ import annotations

import os

import pytest

from ansible.plugins.action import ActionBase

from ansible_collections.port443.https.plugins.action import webserver_apply as action
from ansible_collections.port443.https.tests.unit.plugins.action import action_harness


def _plugin(args, answers, calls, check_mode=False):
    return action_harness.plugin(action.ActionModule, args, answers, calls, check_mode)


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


def test_files_given_by_template_reach_the_module_as_their_text(monkeypatch):
    rendered = []

    def render(plugin, variables, template, dest):
        del plugin
        rendered.append((template, dest, variables["site"]))
        return f"text of {template}\n"

    monkeypatch.setattr(action._templates, "render", render)
    calls = []
    files = [{"name": "a.conf", "rel": "conf.d/a.conf", "template": "a.conf.j2"},
             {"name": "b.conf", "rel": "conf.d/b.conf", "content": "given\n"}]
    _plugin({"live_root": "/etc/nginx/", "files": files}, [{"changed": False}], calls).run(task_vars={"site": "x"})
    # Rendered for its live path with the task's variables; the template name is not passed on; the other is kept.
    assert rendered == [("a.conf.j2", "/etc/nginx/conf.d/a.conf", "x")]
    assert calls[0]["files"] == [{"name": "a.conf", "rel": "conf.d/a.conf", "content": "text of a.conf.j2\n"},
                                 {"name": "b.conf", "rel": "conf.d/b.conf", "content": "given\n"}]


def test_a_template_that_does_not_render_changes_nothing(monkeypatch):
    def render(*_args):
        raise action.AnsibleError("'vhost' is undefined")

    monkeypatch.setattr(action._templates, "render", render)
    calls = []
    result = _plugin({"live_root": "/etc/nginx", "files": [{"name": "a", "rel": "a", "template": "a.j2"}]}, [], calls).run(task_vars={})
    assert result["failed"] and "Nothing was changed" in result["msg"] and "'vhost' is undefined" in result["msg"]
    assert not calls
