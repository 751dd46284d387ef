# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Running an action plugin's run() in a unit test without a host: each module call records its arguments in CALLS
and is answered by the next of ANSWERS. The test patches ActionBase.run itself (it needs a connection)."""
from __future__ import annotations

import types
import typing as t


def plugin(action_class: type, args: dict[str, t.Any], answers: list[dict[str, t.Any]], calls: list[dict[str, t.Any]],
           check_mode: bool = False) -> t.Any:
    """An instance of ACTION_CLASS for a task with ARGS, built without Ansible's task executor."""
    instance = object.__new__(action_class)
    instance._task = types.SimpleNamespace(args=args)
    instance._play_context = types.SimpleNamespace(check_mode=check_mode)

    def execute(module_name: str, module_args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        del module_name, task_vars
        calls.append(dict(module_args))
        return answers.pop(0)

    instance._execute_module = execute
    return instance
