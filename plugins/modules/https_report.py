#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: https_report
short_description: Write the fleet HTTPS report (JSON, HTML, JUnit, Prometheus, Markdown) from probe results
version_added: 1.0.0
description:
  - "Turns the RV(port443.https.https_endpoint_info#module:endpoints) list of M(port443.https.https_endpoint_info)
    into report files in one directory of the node the task runs on, normally the controller
    (C(delegate_to: localhost), C(run_once: true))."
  - "C(report.json): every endpoint and every finding. C(report.html): a self-contained page (no external assets)
    with counts by status, a sortable table with reasons and fixes, a certificate expiry timeline and a TLS version
    matrix. C(junit.xml): one test case per endpoint and check, for CI systems. C(https_report.prom): a Prometheus
    textfile for the node exporter's textfile collector. C(report.md): a short summary for pull-request comments."
  - The files contain no timestamps and no connect latencies, so the same results write the same bytes and a
    second run reports no change.
  - "Never fail open: a result whose C(status) is missing or not V(ok), V(warning) or V(critical) counts as V(critical)
    and gets the finding C(unknown_status); a reason without a known severity counts as V(critical); an endpoint's
    status is never better than its worst reason."
  - "Text from the results (host and certificate names, messages) is inert in every file: C(report.md) escapes Markdown
    links, images, emphasis, autolinks, HTML and table pipes; the HTML page inserts it as text."
  - "The HTML page and C(report.md) show per endpoint what the HTTPS answer said (status, probed path, redirect target),
    the port 80 redirect and HSTS."
  - "The HTML page shows each finding as one line (severity, code, the start of the message) that opens to the whole
    message and its fix. The expiry timeline chooses its ticks from a short list of steps (hours while the axis
    spans under two days, then 1, 2, 5, 7, 14, 30... days) so that labels never run together; a certificate with
    under two days left is shown in hours."
  - "The page is rendered from a template that can be edited (O(html_template)); see C(docs/reports.md)."
  - "Results probed from several vantage points (each with C(source), as the C(port443.https.verify_https) playbook
    merges them with the C(port443.https.vantage_merge) filter) also give an endpoint x vantage matrix: C(matrix) in
    C(report.json), a section of the HTML page and a table in C(report.md), rows with a difference between vantages
    (C(vantage_filtered), C(vantage_refused), C(vantage_answer_differs), C(vantage_missing)) first."
  - "In check mode the module computes whether each file would change from its current contents and writes nothing.
    Run it with C(check_mode: false) to write the report of a C(--check) audit."
author:
  - port443.https contributors (@port443)
extends_documentation_fragment:
  - port443.https._attributes
  - port443.https._attributes.idempotent
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - The diff covers C(report.md) and C(report.json) (the HTML, JUnit and Prometheus files are rendered from the same data).
options:
  results:
    description:
      - The RV(port443.https.https_endpoint_info#module:endpoints) list returned by M(port443.https.https_endpoint_info).
      - Lists from several hosts may be concatenated. An optional C(source) key per item (the host that probed)
        is shown in the report, becomes a Prometheus label and groups the results into the vantage matrix.
    type: list
    elements: dict
    required: true
  dest:
    description:
      - Directory to write the report files into. It is created when missing.
      - When the path of a requested report file in it is a directory or another non-regular file, the task fails
        naming that path before anything is written.
    type: path
    required: true
  formats:
    description:
      - Which files to write.
    type: list
    elements: str
    choices: [json, html, junit, prometheus, markdown]
    default: [json, html, junit, prometheus, markdown]
  title:
    description: Title of the report (HTML heading, JUnit suite name, Markdown heading).
    type: str
    default: HTTPS report
  failure_severity:
    description:
      - The severity from which a finding is a failed JUnit test case and counts as C(failed) in RV(summary).
      - Findings below it are reported in the test case's C(system-out).
    type: str
    choices: [critical, warning]
    default: critical
  warning_days:
    description: Warning threshold drawn on the expiry timeline (use the probe's value).
    type: int
    default: 30
  critical_days:
    description: Critical threshold drawn on the expiry timeline (use the probe's value).
    type: int
    default: 7
  html_template:
    description:
      - "Path of an HTML template to render C(report.html) from instead of the collection's own, read on the node the
        module runs on (normally the controller, with C(delegate_to: localhost))."
      - "Start from a copy of the collection's template, C(plugins/module_utils/report/report.html) in the installed
        collection. Its only syntax is C({{ name }}) placeholders (C(title), C(subtitle), C(schema_version),
        C(expiry_chart) and, required, C(report_data)) and C({# comments #}), which are left out of the page;
        the values are already safe where they stand."
      - A template that cannot render a report (an unknown placeholder, a filter or statement, no C(report_data))
        fails the task with one message naming it, before anything is written.
    type: path
    version_added: 0.2.0
seealso:
  - module: port443.https.https_endpoint_info
  - module: port443.https.https_doctor_info
"""

EXAMPLES = r"""
---
- name: Probe the fleet from the controller
  port443.https.https_endpoint_info:
    # One {host: NAME} per host, with ansible.builtin only.
    endpoints: >-
      {%- set ns = namespace(items=[]) -%}
      {%- for h in groups['web'] -%}{%- set ns.items = ns.items + [{'host': h}] -%}{%- endfor -%}
      {{ ns.items }}
  delegate_to: localhost
  run_once: true
  register: probe

- name: Write the report files, also under --check
  port443.https.https_report:
    results: "{{ probe.endpoints }}"
    dest: "{{ playbook_dir }}/reports/https"
    title: HTTPS audit of the web group
  check_mode: false
  delegate_to: localhost
  run_once: true
  register: report

- name: Print the Markdown summary
  ansible.builtin.debug:
    msg: "{{ report.markdown }}"
  run_once: true
"""

RETURN = r"""
files:
  description: Path of each written (or, in check mode, planned) file by format.
  returned: always
  type: dict
  sample:
    json: /srv/reports/report.json
    html: /srv/reports/report.html
    junit: /srv/reports/junit.xml
    prometheus: /srv/reports/https_report.prom
    markdown: /srv/reports/report.md
changed_files:
  description: The formats whose file was (or in check mode would be) created or rewritten.
  returned: always
  type: list
  elements: str
  sample: [json, html]
summary:
  description:
    - Counts per status (C(total), C(ok), C(warning), C(critical)), C(up) (endpoints that completed a TLS handshake),
      C(failed) (endpoints at or above O(failure_severity)) and C(by_reason) (count per reason code).
  returned: always
  type: dict
  sample: {total: 3, ok: 1, warning: 1, critical: 1, failed: 1, up: 2, by_reason: {no_hsts: 1, filtered: 1}}
status:
  description: The worst endpoint status in the report (V(ok), V(warning), V(critical)).
  returned: always
  type: str
  sample: critical
markdown:
  description: The Markdown summary (also written to C(report.md) when that format is selected).
  returned: always
  type: str
  sample: "## HTTPS report\n\n**CRITICAL** - 3 endpoint(s): 1 critical, 1 warning, 1 ok.\n"
"""

import os
import tempfile
import typing as t

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native

from ansible_collections.port443.https.plugins.module_utils.host import _files
from ansible_collections.port443.https.plugins.module_utils.report import _report

DIFF_FORMATS = ("markdown", "json")


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def main() -> t.NoReturn:
    module = AnsibleModule(
        argument_spec={
            "results": {"type": "list", "elements": "dict", "required": True},
            "dest": {"type": "path", "required": True},
            "formats": {"type": "list", "elements": "str", "choices": list(_report.FORMATS), "default": list(_report.FORMATS)},
            "title": {"type": "str", "default": "HTTPS report"},
            "failure_severity": {"type": "str", "choices": ["critical", "warning"], "default": "critical"},
            "warning_days": {"type": "int", "default": 30},
            "critical_days": {"type": "int", "default": 7},
            "html_template": {"type": "path"},
        },
        add_file_common_args=True,
        supports_check_mode=True,
    )
    dest: str = module.params["dest"]
    formats: list[str] = list(dict.fromkeys(module.params["formats"]))
    template = None
    if module.params["html_template"] and "html" in formats:
        try:
            raw = _files.read_bytes("html_template", module.params["html_template"], "the template")
            template = raw.decode("utf-8")
        except _files.FileReadError as exc:
            module.fail_json(msg=str(exc))
        except UnicodeDecodeError as exc:
            module.fail_json(msg=f"html_template: {module.params['html_template']!r} is not UTF-8 text ({exc.reason} at byte {exc.start})")
    try:
        report = _report.build(
            module.params["results"],
            title=module.params["title"],
            failure_severity=module.params["failure_severity"],
            thresholds={"warning_days": module.params["warning_days"], "critical_days": module.params["critical_days"]},
        )
        contents = _report.render_all(report, formats, template)
        markdown = contents.get("markdown") or _report.render_markdown(report)
    except _report.ReportInputError as exc:
        module.fail_json(msg=str(exc))

    if os.path.exists(dest) and not os.path.isdir(dest):
        module.fail_json(msg=f"dest: {dest!r} exists and is not a directory")

    for fmt in formats:
        # Check every target before writing any: a directory (or device, FIFO) where a report file goes is one clear error.
        path = os.path.join(dest, _report.FILENAMES[fmt])
        if os.path.lexists(path) and not os.path.isfile(path):
            kind = "a directory" if os.path.isdir(path) else "not a regular file"
            module.fail_json(msg=f"dest: {path!r} is {kind}; the {fmt} report is written to that path, "
                                 "so move it away or choose another dest")

    changed = False
    if not os.path.isdir(dest):
        changed = True
        if not module.check_mode:
            try:
                os.makedirs(dest, exist_ok=True)
            except OSError as exc:
                module.fail_json(msg=f"dest: cannot create the directory {dest!r}: {to_native(exc)}")

    files: dict[str, str] = {}
    changed_files: list[str] = []
    diffs = []
    for fmt in formats:
        path = os.path.join(dest, _report.FILENAMES[fmt])
        files[fmt] = path
        data = to_bytes(contents[fmt], errors="surrogate_or_strict")
        before = _read(path)
        if before != data:
            changed_files.append(fmt)
            if fmt in DIFF_FORMATS:
                diffs.append({
                    "before_header": path, "after_header": path,
                    "before": to_native(before or b"", errors="surrogate_or_replace"), "after": contents[fmt],
                })
            if not module.check_mode:
                fd, tmp = tempfile.mkstemp(prefix=".https_report.", dir=dest)
                try:
                    with os.fdopen(fd, "wb") as handle:
                        handle.write(data)
                except OSError as exc:
                    os.unlink(tmp)
                    module.fail_json(msg=f"cannot write {path!r}: {to_native(exc)}")
                module.atomic_move(tmp, path)
        if not module.check_mode or before is not None:
            file_args = module.load_file_common_arguments(module.params, path=path)
            if os.path.exists(path) and module.set_fs_attributes_if_different(file_args, False) and fmt not in changed_files:
                changed_files.append(fmt)
    changed = changed or bool(changed_files)

    result: dict[str, t.Any] = {
        "changed": changed,
        "files": files,
        "changed_files": changed_files,
        "summary": report["summary"],
        "status": _report.ordered_by_severity(report["endpoints"])[0]["status"] if report["endpoints"] else "ok",
        "markdown": markdown,
    }
    if module._diff and diffs:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
