# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""How the core runs a command on the host: a callable the module passes in (argv → rc, stdout, stderr)."""

from __future__ import annotations

import typing as t

Runner = t.Callable[..., t.Tuple[int, str, str]]
