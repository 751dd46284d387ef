# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this plugin util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Run collection core functions from Jinja filters and tests: bad input becomes AnsibleFilterError."""

from __future__ import annotations

import functools
import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.port443.https.plugins.module_utils import _x509


def wrap(name: str, func: t.Callable[..., t.Any], needs_cryptography: bool = False) -> t.Callable[..., t.Any]:
    """Decorate a core function so that its ValueError/TypeError/KeyError surface as AnsibleFilterError."""

    @functools.wraps(func)
    def inner(*args: t.Any, **kwargs: t.Any) -> t.Any:
        if needs_cryptography and not _x509.HAS_CRYPTOGRAPHY:
            raise AnsibleFilterError(f"{name}: the Python library cryptography is required on the controller")
        try:
            return func(*args, **kwargs)
        except KeyError as exc:
            raise AnsibleFilterError(f"{name}: unknown value {exc}") from exc
        except (ValueError, TypeError) as exc:
            raise AnsibleFilterError(f"{name}: {exc}") from exc

    return inner
