# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The https_endpoint_info task: its argument spec and what it returns, in one place for both of its paths.

The module (on a managed host) and the action plugin (in the controller's process, when the task runs on the
controller) validate with ARGUMENT_SPEC and build their result with result(); neither keeps a copy.

Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
Do not use this from other collections or standalone plugins/modules!
"""

from __future__ import annotations

import typing as t

from ansible_collections.port443.https.plugins.module_utils.certificate import _policy, _x509
from ansible_collections.port443.https.plugins.module_utils.probe import _ciphers, _probe, _share
from ansible_collections.port443.https.plugins.module_utils.reasons import _classify

ARGUMENT_SPEC: dict[str, dict[str, t.Any]] = {
    "endpoints": {
        "type": "list",
        "elements": "dict",
        "required": True,
        "options": {
            "host": {"type": "str", "required": True},
            "port": {"type": "int", "default": 443},
            "server_name": {"type": "str"},
            "address": {"type": "str"},
            "http_port": {"type": "int", "default": 80},
            "http_path": {"type": "str"},
        },
    },
    "checks": {
        "type": "list",
        "elements": "str",
        "choices": list(_probe.CHECKS),
        "default": list(_probe.DEFAULT_CHECKS),
    },
    "aia_fetch": {"type": "bool", "default": True},
    "timeout": {"type": "float", "default": 5},
    "workers": {"type": "int", "default": 64},
    "min_tls_version": {"type": "str", "choices": list(_classify.TLS_VERSIONS), "default": "1.2"},
    **_policy.ARGUMENT_SPEC,
    **_ciphers.ARGUMENT_SPEC,
    "client_cert": {"type": "path"},
    "client_key": {"type": "path"},
    "http_path": {"type": "str", "default": "/"},
    "http_expected_status": {"type": "list", "elements": "int"},
    "require_hsts": {"type": "bool", "default": False},
    "require_redirect": {"type": "bool", "default": False},
    "fail_on": {"type": "str", "choices": ["critical", "warning", "never"], "default": "never"},
}


def missing_library(params: dict[str, t.Any]) -> tuple[str, str] | None:
    """(library, import error) when the checks asked for need a library this Python lacks; None otherwise."""
    needs_crypto = any(c in params["checks"] for c in ("certificate", "revocation"))
    if needs_crypto and not _x509.HAS_CRYPTOGRAPHY:
        return "cryptography", str(_x509.CRYPTOGRAPHY_IMPORT_ERROR)
    return None


def result(params: dict[str, t.Any], run_command: _probe.RunCommand | None, shared: bool = False) -> dict[str, t.Any]:
    """The task's result for validated params (missing_library() checked first): changed, endpoints, summary; plus
    failed and msg when the input is bad or an endpoint reaches fail_on (then with every result still in it).
    ``shared``: equal parts of the endpoints' results are one object (the action plugin, which hands Python objects
    to Ansible; _share.py). The module's JSON is the same either way."""
    try:
        outcome = _probe.probe(params, run_command=run_command)
    except _probe.ProbeInputError as exc:
        return {"failed": True, "msg": str(exc)}
    endpoints = _share.share(outcome["endpoints"]) if shared else outcome["endpoints"]
    out: dict[str, t.Any] = {"changed": False, "endpoints": endpoints, "summary": outcome["summary"]}
    bad = _classify.failing(outcome["endpoints"], params["fail_on"])
    if bad:
        out.update(failed=True, msg=_classify.failure_message(bad, len(outcome["endpoints"]), params["fail_on"]))
    return out
