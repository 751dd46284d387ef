# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The reason table of docs/checks.md is written from the registry (plugins/module_utils/reasons/_classify.py).

    python tests/tools/reason_table.py          # rewrite the table's code/severity/meaning/fix columns in place
    python tests/tools/reason_table.py --check  # exit 1 when the table and the registry disagree

The last column ("proved by") is kept from the file: it is the only part written by hand. A code missing from the
table gets a row whose last column says TODO, which the unit test refuses.
"""

from __future__ import annotations

import importlib.util
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(ROOT, "docs", "checks.md")
HEADER = "| code | check | default severity | what it means | likely fix | proved by (tests/integration) |"


def registry() -> dict[str, tuple[str, str, str, str]]:
    spec = importlib.util.spec_from_file_location("_classify", os.path.join(ROOT, "plugins", "module_utils", "reasons", "_classify.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.REASONS


def render(text: str) -> str:
    lines = text.split("\n")
    start = lines.index(HEADER)
    end = start + 2
    proved: dict[str, str] = {}
    while end < len(lines) and lines[end].startswith("| `"):
        cells = lines[end].split(" | ")
        proved[cells[0][3:-1]] = lines[end].rsplit(" | ", 1)[1][:-2]
        end += 1
    rows = []
    for code, (severity, message, fix, check) in registry().items():
        rows.append(f"| `{code}` | {check} | {severity} | {message} | {fix} | {proved.get(code, 'TODO')} |")
    return "\n".join(lines[:start + 2] + rows + lines[end:])


def main() -> int:
    with open(DOC, encoding="utf-8") as handle:
        text = handle.read()
    wanted = render(text)
    if "--check" in sys.argv:
        if wanted != text or "| TODO |" in wanted:
            print("docs/checks.md: the reason table differs from the registry; run python tests/tools/reason_table.py")
            return 1
        return 0
    with open(DOC, "w", encoding="utf-8") as handle:
        handle.write(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
