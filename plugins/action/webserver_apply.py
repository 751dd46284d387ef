# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Action plugin of port443.https.webserver_apply: renders the files given by template on the controller (as the
template action and the role's state step render them), runs the module on the host with their text, and keeps the
roll of a pool honest. When a member of a pool (option roll) fails, a mark on the controller, private to this
ansible-playbook process, makes every later member of the same run fail before any change: a broken change stops at
the first member."""

from __future__ import annotations

import hashlib
import os
import tempfile
import typing as t

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.port443.https.plugins.plugin_utils import _templates


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
        try:
            args["files"] = self._rendered(args.get("files"), task_vars or {}, str(args.get("live_root") or ""))
            template = args.pop("placeholder_template", None)
            if template:
                args["placeholder"] = _templates.render(self, dict(task_vars or {}), str(template), "index.html")
        except (AnsibleError, OSError) as exc:
            result.update(failed=True, msg=f"Nothing was changed: a file could not be rendered: {exc}")
            return result
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

    def _rendered(self, files: t.Any, task_vars: dict[str, t.Any], live_root: str) -> t.Any:
        """Each entry of FILES with a template: its text (content), rendered for its live path; the others as given."""
        if not isinstance(files, list):
            return files
        out = []
        for item in files:
            if isinstance(item, dict) and item.get("template"):
                item = dict(item)
                dest = f"{live_root.rstrip('/')}/{item.get('rel', '')}"
                item["content"] = _templates.render(self, dict(task_vars), str(item.pop("template")), dest)
            out.append(item)
        return out
