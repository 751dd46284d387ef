# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
from __future__ import annotations

import pytest


class FakeRunner:
    """Answers commands from a table of argv prefixes -> (rc, out, err); records every call.

    A command the table does not know fails the test: a backend that runs something unexpected (or a test that
    forgot to say what the host answers) must not pass on a made-up success.
    """

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
            pytest.fail(f"unexpected command {argv!r} (not in the fake runner's table)")
        return best[1]


@pytest.fixture
def fake_runner():
    return FakeRunner
