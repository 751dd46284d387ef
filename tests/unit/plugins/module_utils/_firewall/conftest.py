# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
from __future__ import annotations

import pytest


class FakeRunner:
    """Answers commands from a table of argv prefixes -> (rc, out, err); records every call."""

    def __init__(self, table):
        self.table = table
        self.calls = []

    def __call__(self, argv, data=None):
        self.calls.append((list(argv), data))
        best = None
        for prefix, answer in self.table.items():
            if tuple(argv[: len(prefix)]) == prefix and (best is None or len(prefix) > len(best[0])):
                best = (prefix, answer)
        if best is None:
            return 0, "", ""
        return best[1]


@pytest.fixture
def fake_runner():
    return FakeRunner
