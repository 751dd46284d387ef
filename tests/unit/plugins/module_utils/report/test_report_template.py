# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The HTML report's template: report.html (the file a designer edits) and its Python copy stay equal; a template
renders with its placeholders only; a template that cannot render a report is one clear error."""
from __future__ import annotations

import importlib.util
import os

import pytest

from ansible_collections.port443.https.plugins.module_utils.report import _html_template, _report
from ansible_collections.port443.https.tests.unit.plugins.module_utils.report_samples import fleet

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))))


def _tool():
    spec = importlib.util.spec_from_file_location("report_template", os.path.join(ROOT, "tests", "tools", "report_template.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_python_copy_equals_the_template_file():
    tool = _tool()
    with open(tool.SOURCE, encoding="utf-8") as handle:
        source = handle.read()
    assert _html_template.TEMPLATE == source, "report.html was edited: run python tests/tools/report_template.py"
    with open(tool.TARGET, encoding="utf-8") as handle:
        assert handle.read() == tool.generated(source), "run python tests/tools/report_template.py"
    assert tool.main(["--check"]) == 0


def test_page_has_no_template_syntax_left():
    html = _report.render_html(_report.build(fleet(), title="T {{ title }} {# x #}"))
    body = html.split('<script type="application/json" id="report-data">')[0]
    assert "{{" not in body.replace("T {{ title }} {# x #}", "") and "{#" not in body.replace("{# x #}", "")
    assert html.startswith("<!DOCTYPE html>")  # the designer's notes are not in the page
    assert "<title>T {{ title }} {# x #}</title>" in html  # a title is text, never read as a placeholder


def test_another_template():
    template = "{# mine #}<h1>{{title}}</h1><p>{{ subtitle }}</p>{{ expiry_chart }}<script type=\"application/json\">{{ report_data }}</script>"
    html = _report.render_html(_report.build(fleet(), title="<b>"), template)
    assert html.startswith("<h1>&lt;b&gt;</h1><p>6 endpoint(s): 3 critical")
    assert 'id="expiry-chart"' in html and "mine" not in html
    assert _report.render_all(_report.build(fleet()), ["html", "markdown"], template)["html"].startswith("<h1>HTTPS report</h1>")


@pytest.mark.parametrize("template, needle", [
    ("{{ report_data }}{{ titel }}", "html_template: unknown placeholder(s) {{ titel }}; the template knows {{ title }}, {{ subtitle }}"),
    ("{{ report_data }}{{ title | upper }}", "html_template: only placeholders ({{ title }}"),
    ("{{ report_data }}{% if title %}x{% endif %}", "no filters, expressions or statements in {% %}"),
    ("<p>{{ title }}</p>", "html_template: the template has no {{ report_data }} placeholder"),
    ("{{ report_data }}\n{# never closed", "html_template: the comment opened on line 2 is never closed"),
    (b"{{ report_data }}", "html_template: expected the template as text, got bytes"),
])
def test_a_template_that_cannot_render_is_one_error(template, needle):
    with pytest.raises(_report.ReportInputError) as err:
        _report.render_html(_report.build(fleet()), template)
    assert needle in str(err.value)
