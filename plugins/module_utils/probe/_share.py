# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Equal parts of a result held once: the same certificate, reasons or TLS versions of many endpoints.

A fleet's endpoints repeat themselves: the names behind one load balancer serve the same chain, most endpoints
accept the same TLS versions and fail for the same reasons. In the controller's process (the action plugin) the
result is not serialised as JSON but handed to Ansible as Python objects, which Ansible copies and pickles
preserving shared objects: a part equal to one seen before is the same object, so it is held, copied and sent once.
The values are unchanged (equal JSON); only their identity is shared, so nothing may change a result in place
(nothing in the collection does, and Ansible copies before it changes anything).

Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
Do not use this from other collections or standalone plugins/modules!
"""

from __future__ import annotations

import math
import typing as t

_SCALARS = (str, int, float, bool, type(None))


def share(value: t.Any) -> t.Any:
    """``value`` (JSON-like: dicts, lists, str, int, float, bool, None) with every dict and list equal to an earlier
    one replaced by that earlier object. Other objects are kept as they are, never shared."""
    memo: dict[tuple[t.Any, ...], t.Any] = {}
    return _share(value, memo)[0]


def _share(value: t.Any, memo: dict[tuple[t.Any, ...], t.Any]) -> tuple[t.Any, t.Any]:
    """(the shared object, its key). A container's key holds its children's shared objects by identity (equal children
    are already one object), so keys stay shallow; a scalar's key is its type and value (True is not 1)."""
    kind = type(value)
    if kind is dict:
        new: dict[t.Any, t.Any] = {}
        parts = []
        for k, v in value.items():
            shared, key = _share(v, memo)
            new[k] = shared
            parts.append((k, key))
        key = ("d", tuple(parts))
    elif kind is list:
        items = []
        parts = []
        for v in value:
            shared, key = _share(v, memo)
            items.append(shared)
            parts.append(key)
        new = items
        key = ("l", tuple(parts))
    elif kind in _SCALARS and not (kind is float and math.isnan(value)):
        return value, (kind, value)
    else:
        # Anything else (a NaN, a tuple, an object): its own identity, never equal to another.
        return value, ("o", id(value))
    found = memo.get(key)
    if found is None:
        memo[key] = new
        return new, ("i", id(new))
    return found, ("i", id(found))
