# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Action plugin of port443.https.webserver_apply: runs the module on the host and keeps the roll of a pool honest.
When a member of a pool (option roll) fails, a mark on the controller, private to this ansible-playbook process,
makes every later member of the same run fail before any change: a broken change stops at the first member."""

from __future__ import annotations

import hashlib
import os
import tempfile
import typing as t

from ansible.plugins.action import ActionBase


def _mark(pool: str) -> str:
    # Worker processes are children of the ansible-playbook process: its pid names this run.
    digest = hashlib.sha256(pool.encode()).hexdigest()[:16]
    return os.path.join(tempfile.gettempdir(), f"port443-roll-{os.getppid()}-{digest}")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = True

    def run(self, tmp: t.Any = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        result = super().run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        pool = str(args.get("roll") or "")
        mark = _mark(pool) if pool else ""
        if mark and os.path.exists(mark):
            with open(mark, "r", encoding="utf-8") as handle:
                args["roll_stopped"] = (f"Nothing was changed: the roll of pool {pool} stopped before this member, "
                                        f"because {handle.read().strip()}")
        result.update(self._execute_module(module_name="port443.https.webserver_apply", module_args=args,
                                           task_vars=task_vars))
        if mark and result.get("failed") and not args.get("roll_stopped") and not self._play_context.check_mode:
            host = (task_vars or {}).get("inventory_hostname", "a member")
            with open(mark, "w", encoding="utf-8") as handle:
                handle.write(f"{host} failed: {result.get('msg', '')}")
        return result
