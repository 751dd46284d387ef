# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""https_endpoint_info: on the controller, the probe runs in the controller's own process; on a managed host, the
module of the same name runs there (documentation in plugins/modules/https_endpoint_info.py).

On the controller (connection local, as with delegate_to: localhost), sending the module to the controller itself,
starting a Python for it and reading its results back as JSON cost more than the probing of a small audit, and for
a thousand endpoints about as much as the TLS handshakes. Both paths validate with the same argument spec and build
the result with the same function (module_utils/probe/_task.py), so they return the same results.
"""

from __future__ import annotations

import os
import subprocess
import typing as t

from ansible.errors import AnsibleActionFail
from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase

MODULE = "port443.https.https_endpoint_info"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = True
    _supports_async = True  # async runs the module (the wrapper polls it)

    def run(self, tmp: t.Any = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        if not self.in_controller_process():
            result.update(self._execute_module(MODULE, module_args=self._task.args, task_vars=task_vars,
                                               wrap_async=self._task.async_val))
            return result
        # Imported here, not with the plugin: Ansible loads the plugin in a new worker process for every task, and the
        # probe's core (cryptography included) costs about 0.2 s to import, which a task that sends the module to a
        # managed host never uses.
        from ansible_collections.port443.https.plugins.module_utils.probe import _task  # pylint: disable=import-outside-toplevel

        validated = ArgumentSpecValidator(_task.ARGUMENT_SPEC).validate(dict(self._task.args))
        if validated.errors.errors:
            # The module's own words (AnsibleModule validates with the same validator).
            msg = validated.errors.msg
            if isinstance(validated.errors[0], UnsupportedError):
                msg = f"Unsupported parameters for ({MODULE}) module: {msg}"
            raise AnsibleActionFail(msg)
        params = validated.validated_parameters
        missing = _task.missing_library(params)
        if missing:
            return dict(result, failed=True, msg=missing_required_lib(missing[0]), exception=missing[1])
        result.update(_task.result(params, run_command=run_command, shared=True))
        return result

    def in_controller_process(self) -> bool:
        """True when the task would run the module on the controller itself, as the controller's user, in the
        foreground: a local connection without become and without async. Anything else takes the module path."""
        transport = getattr(self._connection, "transport", None)
        return transport == "local" and not self._play_context.become and not self._task.async_val


def run_command(argv: list[str]) -> tuple[int, str]:
    """argv -> (rc, stdout), as the module's AnsibleModule.run_command(argv, data="Q") gives it (the stapled OCSP
    request of the revocation check: `openssl s_client` reads the Q that ends its session)."""
    proc = subprocess.run(argv, input="Q\n", capture_output=True, text=True, errors="surrogateescape", check=False,
                          env=dict(os.environ))
    return proc.returncode, proc.stdout
