# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The HTML report's template: plugins/module_utils/report/report.html, the file to edit, and its Python copy
_html_template.py beside it (modules run on the target with only their Python module_utils shipped).

    python tests/tools/report_template.py                # write _html_template.py from report.html
    python tests/tools/report_template.py --check        # exit 1 when the two differ (the unit tests do the same)
    python tests/tools/report_template.py --preview DIR  # render sample reports into DIR to look at in a browser

The preview writes short-lived.html (six-day certificates, hours to days left), fleet-200.html (200 hosts with
findings) and vantages.html (two vantage points that disagree), rendered from report.html as it is now.
"""

from __future__ import annotations

import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCE = os.path.join(ROOT, "plugins", "module_utils", "report", "report.html")
TARGET = os.path.join(ROOT, "plugins", "module_utils", "report", "_html_template.py")

HEADER = '''# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
#
# GENERATED from report.html beside this file by tests/tools/report_template.py: edit report.html, then run
#   python tests/tools/report_template.py
# (tests/unit/plugins/module_utils/report/test_report_template.py fails while the two differ).
"""The HTML report's template as Python text: AnsiballZ ships only the Python files of module_utils."""

'''


def generated(template: str) -> str:
    """The Python module that carries template: one string literal (one long line, so it is not a second copy of
    the template's lines to review)."""
    return HEADER + f"TEMPLATE = {template!r}  # noqa: E501\n"


def read_source() -> str:
    with open(SOURCE, encoding="utf-8") as handle:
        return handle.read()


def _import_report():
    """plugins/module_utils/report/_report.py, imported through the collection's name."""
    parts = ROOT.split(os.sep)
    if parts[-3:-1] == ["ansible_collections", "port443"] and parts[-1] == "https":
        sys.path.insert(0, os.sep.join(parts[:-3]))
    else:
        parent = tempfile.mkdtemp(prefix="report-template-")
        os.makedirs(os.path.join(parent, "ansible_collections", "port443"))
        os.symlink(ROOT, os.path.join(parent, "ansible_collections", "port443", "https"))
        sys.path.insert(0, parent)
    from ansible_collections.port443.https.plugins.module_utils.report import _report
    from ansible_collections.port443.https.tests.unit.plugins.module_utils import report_samples

    return _report, report_samples


def preview(directory: str) -> list[str]:
    _report, samples = _import_report()
    template = read_source()
    os.makedirs(directory, exist_ok=True)
    written = []
    for name, report in samples.preview_reports().items():
        path = os.path.join(directory, f"{name}.html")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(_report.render_html(report, template))
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    if argv[:1] == ["--preview"] and len(argv) == 2:
        for path in preview(argv[1]):
            print(path)
        return 0
    wanted = generated(read_source())
    if argv == ["--check"]:
        try:
            with open(TARGET, encoding="utf-8") as handle:
                current = handle.read()
        except FileNotFoundError:
            current = ""
        if current != wanted:
            print(f"{os.path.relpath(TARGET, ROOT)} differs from report.html: run python tests/tools/report_template.py")
            return 1
        return 0
    if argv:
        print(__doc__)
        return 2
    with open(TARGET, "w", encoding="utf-8") as handle:
        handle.write(wanted)
    print(f"wrote {os.path.relpath(TARGET, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
