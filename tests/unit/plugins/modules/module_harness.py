# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Running a module's main() in a unit test: exit_json/fail_json raise instead of exiting."""
from __future__ import annotations

import typing as t

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


class ExitJson(Exception):
    pass


class FailJson(Exception):
    pass


def patch_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    def exit_json(self, **kwargs):
        raise ExitJson(kwargs)

    def fail_json(self, **kwargs):
        raise FailJson(kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)


def run_module(main: t.Callable[[], t.Any], args: dict[str, t.Any], expect: type[Exception] = ExitJson) -> dict[str, t.Any]:
    """Run main() with args; return the result dict of the exit (or of the failure, with expect=FailJson)."""
    with patch_module_args(args):
        with pytest.raises(expect) as exc:
            main()
    return exc.value.args[0]
