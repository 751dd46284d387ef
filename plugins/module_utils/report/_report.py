# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Fleet report renderers (plain Python, no Ansible imports): the probe's endpoint results turned into
report.json, a self-contained report.html, junit.xml, a Prometheus textfile and a Markdown summary.

Every renderer is deterministic: the same results give byte-identical files, so a report written twice is
unchanged the second time. Volatile measurements (connect latency, and a certificate's hours left unless it has less
than two days) are left out of the files on purpose.

report.html is rendered from a template a designer can edit (report.html beside this file, see render_html)."""

from __future__ import annotations

import json
import re
import typing as t
import xml.etree.ElementTree as ET

from ansible_collections.port443.https.plugins.module_utils.reasons import _classify
from ansible_collections.port443.https.plugins.module_utils.report import _html_template, _vantage

SEVERITIES = _classify.SEVERITIES
TLS_VERSIONS = _classify.TLS_VERSIONS
FORMATS = ("json", "html", "junit", "prometheus", "markdown")
FILENAMES = {
    "json": "report.json",
    "html": "report.html",
    "junit": "junit.xml",
    "prometheus": "https_report.prom",
    "markdown": "report.md",
}
# The result sections (one junit testcase per endpoint and section; each reason's section is the registry's).
CHECKS = _classify.SECTIONS
VOLATILE_KEYS = ("latency_ms",)
SCHEMA_VERSION = 1


class ReportInputError(ValueError):
    """Bad input: the message names the option and the value."""


# ---- normalization ------------------------------------------------------------------------------------

def _strip_volatile(value: t.Any) -> t.Any:
    if isinstance(value, dict):
        return {k: _strip_volatile(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [_strip_volatile(v) for v in value]
    return value


def _severity(value: t.Any) -> str:
    """Never fail open: a missing or unknown severity (or status) counts as critical."""
    return _classify.severity_of(value)


def _worst(values: t.Iterable[str]) -> str:
    worst = 0
    for value in values:
        worst = max(worst, SEVERITIES.index(_severity(value)))
    return SEVERITIES[worst]


def _hours_kept(value: t.Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 48


def normalize(results: t.Any) -> list[dict[str, t.Any]]:
    """Validate and normalize the probe's endpoint list (possibly concatenated from several hosts)."""
    if not isinstance(results, list):
        raise ReportInputError(f"results: expected a list of endpoint results, got {type(results).__name__}")
    out = []
    for idx, res in enumerate(results):
        if not isinstance(res, dict):
            raise ReportInputError(f"results[{idx}]: expected a dict (an item of the probe's endpoints list), got {res!r}"[:300])
        if not res.get("host"):
            raise ReportInputError(f"results[{idx}].host: missing; pass the probe's 'endpoints' list")
        item = _strip_volatile(dict(res))
        cert = item.get("certificate")
        if isinstance(cert, dict) and "hours_left" in cert and not _hours_kept(cert["hours_left"]):
            # Hours change every hour: kept only under two days (short-lived certificates), else the days tell it.
            del cert["hours_left"]
        try:
            item["port"] = int(item.get("port") or 443)
        except (TypeError, ValueError):
            raise ReportInputError(f"results[{idx}].port: {res.get('port')!r} is not a port number") from None
        item["host"] = str(item["host"])
        item["server_name"] = str(item.get("server_name") or item["host"])
        reasons = []
        for reason in item.get("reasons") or []:
            if not isinstance(reason, dict):
                raise ReportInputError(f"results[{idx}].reasons: expected dicts with code/severity/message/fix, got {reason!r}"[:300])
            message = str(reason.get("message") or "")
            if reason.get("severity") not in SEVERITIES:
                message += f" [severity {reason.get('severity')!r} is not ok, warning or critical: counted as critical]"
            reasons.append({
                "code": str(reason.get("code") or "unknown"),
                "severity": _severity(reason.get("severity")),
                "message": message.strip(),
                "fix": str(reason.get("fix") or ""),
            })
        status = item.get("status")
        if status not in SEVERITIES:
            reasons.append(_classify.reason("unknown_status", f"status {status!r}"))
        item["reasons"] = reasons
        # Never better than its findings, and an unknown status is critical (never counted as ok).
        item["status"] = _worst([_severity(status)] + [r["severity"] for r in reasons])
        out.append(item)
    return out


def endpoint_id(res: dict[str, t.Any]) -> str:
    """host:port, plus the SNI name when it differs, plus the probing host when given."""
    text = f"{res['host']}:{res['port']}"
    if res.get("server_name") and res["server_name"] != res["host"]:
        text += f" ({res['server_name']})"
    if res.get("source"):
        text += f" from {res['source']}"
    return text


def _tcp_state(res: dict[str, t.Any]) -> str | None:
    tcp = res.get("tcp") or {}
    return tcp.get("state") if isinstance(tcp, dict) else None


def is_up(res: dict[str, t.Any]) -> bool:
    """TCP open and no TLS-level failure."""
    if _tcp_state(res) != "open":
        return False
    return not any(r["code"] in _classify.TLS_FAILURES for r in res["reasons"])


def _cert(res: dict[str, t.Any]) -> dict[str, t.Any]:
    cert = res.get("certificate")
    return cert if isinstance(cert, dict) else {}


def _versions(res: dict[str, t.Any]) -> dict[str, t.Any]:
    tls = res.get("tls") or {}
    versions = tls.get("versions") if isinstance(tls, dict) else None
    return versions if isinstance(versions, dict) else {}


def summarize(results: list[dict[str, t.Any]], failure_severity: str = "critical") -> dict[str, t.Any]:
    levels = ("critical",) if failure_severity == "critical" else ("warning", "critical")
    summary: dict[str, t.Any] = {"total": 0, "ok": 0, "warning": 0, "critical": 0, "failed": 0, "up": 0, "by_reason": {}}
    for res in results:
        summary["total"] += 1
        summary[res["status"]] += 1
        if res["status"] in levels:
            summary["failed"] += 1
        if is_up(res):
            summary["up"] += 1
        for reason in res["reasons"]:
            summary["by_reason"][reason["code"]] = summary["by_reason"].get(reason["code"], 0) + 1
    summary["by_reason"] = dict(sorted(summary["by_reason"].items(), key=lambda kv: (-kv[1], kv[0])))
    return summary


def build(results: t.Any, title: str = "HTTPS report", failure_severity: str = "critical",
          thresholds: dict[str, int] | None = None) -> dict[str, t.Any]:
    """The report document (what report.json holds)."""
    if failure_severity not in ("critical", "warning"):
        raise ReportInputError(f"failure_severity: {failure_severity!r} is not one of critical, warning")
    endpoints = normalize(results)
    report = {
        "schema_version": SCHEMA_VERSION,
        "title": str(title),
        "failure_severity": failure_severity,
        "thresholds": dict(thresholds or {"warning_days": 30, "critical_days": 7}),
        "summary": summarize(endpoints, failure_severity),
        "endpoints": endpoints,
    }
    if any(res.get("source") for res in endpoints):
        # Results from several vantage points (verify_https_vantages): one row per endpoint, one cell per vantage.
        report["matrix"] = _vantage.matrix(endpoints)
    return report


def ordered_by_severity(endpoints: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """Worst first, input order within a status (stable)."""
    return sorted(endpoints, key=lambda r: -SEVERITIES.index(r["status"]))


# ---- JSON ---------------------------------------------------------------------------------------------

def render_json(report: dict[str, t.Any]) -> str:
    return json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"


def json_for_script(value: t.Any) -> str:
    """JSON safe inside <script>: no '</script>', '<!--' or line separators can break out of the element."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


# ---- Markdown -----------------------------------------------------------------------------------------

# A link or image needs "[": escaping the brackets is enough, so parentheses and "!" stay readable.
_MD_PUNCT = re.compile(r"([\\`*\[\]|~])")
_MD_EMPHASIS_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_MD_AUTOLINK = re.compile(r"(?i)(:)(//)|(www)(\.)")
_MD_CODE = re.compile(r"^[A-Za-z0-9_.-]+$")


def _md_cell(text: t.Any) -> str:
    """Text from results as literal Markdown (table cells included): no link, image, HTML, emphasis or autolink
    can come from a certificate name, host or message; pipes cannot split a table row."""
    value = str(text if text is not None else "").replace("\r", " ").replace("\n", " ")
    value = _MD_PUNCT.sub(r"\\\1", value)
    value = _MD_EMPHASIS_UNDERSCORE.sub(r"\\_", value)
    value = _MD_AUTOLINK.sub(lambda m: f"\\{m.group(1)}{m.group(2)}" if m.group(1) else f"{m.group(3)}\\{m.group(4)}", value)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if value.startswith(("#", "+", "-", "=")):
        value = "\\" + value
    return value


def _md_code(code: t.Any) -> str:
    """A reason code in a code span when it is a plain word, else escaped text."""
    text = str(code)
    return f"`{text}`" if _MD_CODE.match(text) else _md_cell(text)


def status_line(summary: dict[str, t.Any]) -> str:
    return (f"{summary['total']} endpoint(s): {summary['critical']} critical, {summary['warning']} warning, "
            f"{summary['ok']} ok")


def render_markdown(report: dict[str, t.Any], max_rows: int = 50) -> str:
    summary = report["summary"]
    mark = {"ok": "OK", "warning": "WARNING", "critical": "CRITICAL"}
    overall = _worst(r["status"] for r in report["endpoints"])
    lines = [f"## {_md_cell(report['title'])}", "", f"**{mark[overall]}** - {status_line(summary)}.", ""]
    bad = [r for r in ordered_by_severity(report["endpoints"]) if r["status"] != "ok"]
    if bad:
        lines += ["| Status | Endpoint | Findings | Fix |", "| --- | --- | --- | --- |"]
        for res in bad[:max_rows]:
            shown = [r for r in res["reasons"] if r["severity"] != "ok"]
            findings = "; ".join(f"{_md_code(r['code'])} {_md_cell(r['message'])}" for r in shown)
            fixes = "; ".join(dict.fromkeys(r["fix"] for r in shown if r["fix"]))
            lines.append(f"| {res['status']} | {_md_cell(endpoint_id(res))} | {findings} | {_md_cell(fixes)} |")
        if len(bad) > max_rows:
            lines.append(f"\n... and {len(bad) - max_rows} more endpoint(s) with findings: see report.html / report.json.")
        lines.append("")
    else:
        lines += ["Every endpoint passed every check.", ""]
    if summary["by_reason"]:
        lines.append("Findings by reason: " + ", ".join(f"{_md_code(code)} x{count}" for code, count in summary["by_reason"].items()) + ".")
        lines.append("")
    answers: dict[str, int] = {}
    for res in report["endpoints"]:
        http = res.get("http")
        if isinstance(http, dict):
            key = str(http.get("status")) if http.get("status") is not None else "no answer"
            answers[key] = answers.get(key, 0) + 1
    if answers:
        lines.append("HTTPS answers: " + ", ".join(f"{_md_cell(k)} x{v}" for k, v in sorted(answers.items())) + ".")
        lines.append("")
    lines += transparency_lines(report["endpoints"])
    if report.get("matrix"):
        lines += render_matrix_markdown(report["matrix"], max_rows)
    expiring = sorted((r for r in report["endpoints"] if hours_left(_cert(r)) is not None),
                      key=lambda r: hours_left(_cert(r)))[:5]
    if expiring:
        lines.append("Expiring first: " + ", ".join(
            f"{_md_cell(endpoint_id(r))} ({left_short(_cert(r))})" for r in expiring) + ".")
        lines.append("")
    return "\n".join(lines)


def transparency_lines(endpoints: list[dict[str, t.Any]]) -> list[str]:
    """Certificate Transparency (the certificate check's C(ct)) and CRL-only revocation, one line each when any
    endpoint has them."""
    lines = []
    cts = [c["ct"] for c in (_cert(r) for r in endpoints) if isinstance(c.get("ct"), dict) and "count" in c["ct"]]
    public = [ct for ct in cts if ct.get("publicly_trusted")]
    if public:
        short = sum(1 for ct in public if not ct.get("satisfied"))
        checked = "SCT signatures not performed (no CT log list carried)" if any(
            ct.get("signatures") == "not_performed" for ct in public) else "SCT signatures checked against the log list"
        lines += [f"Certificate Transparency: {len(public)} publicly trusted certificate(s), {len(public) - short} with enough "
                  f"SCTs, {short} without; {checked}.", ""]
    crl_only = sum(1 for r in endpoints if isinstance(r.get("revocation"), dict) and r["revocation"].get("ocsp") == "none_by_design")
    if crl_only:
        lines += [f"Revocation: {crl_only} CRL-only certificate(s), no OCSP by design (nothing to staple).", ""]
    return lines


def _matrix_cell(cell: dict[str, t.Any] | None) -> str:
    if not cell:
        return "\u2014"
    seen = f"TLS {cell['tls']}" if cell.get("tls") else (cell.get("tcp") or "not probed")
    return f"{cell['status']}: {seen}"


def _differs_text(row: dict[str, t.Any]) -> str:
    """A row seen differently without a comparison finding: in what its cells disagree."""
    return f"differs: {', '.join(row['differs'])}" if row.get("differs") else ""


def render_matrix_markdown(matrix: dict[str, t.Any], max_rows: int = 50) -> list[str]:
    """The endpoint x vantage table: rows with a difference between vantages first, then the worst."""
    vantages = matrix["vantages"]
    rows = sorted(matrix["rows"], key=lambda r: (not (r["findings"] or r.get("differs")), -SEVERITIES.index(r["status"])))
    lines = [f"### Vantage matrix ({len(vantages)} vantage point(s), {matrix['differences']} endpoint(s) seen differently)", "",
             "| Endpoint | " + " | ".join(_md_cell(v) for v in vantages) + " | Findings |",
             "| --- | " + " | ".join(["---"] * len(vantages)) + " | --- |"]
    for row in rows[:max_rows]:
        cells = " | ".join(_md_cell(_matrix_cell(row["cells"].get(v))) for v in vantages)
        findings = ", ".join(_md_code(code) for code in row["findings"]) or _differs_text(row) or "\u2014"
        lines.append(f"| {_md_cell(row['endpoint'])} | {cells} | {findings} |")
    if len(rows) > max_rows:
        lines.append(f"\n... and {len(rows) - max_rows} more endpoint(s): see report.html / report.json.")
    lines.append("")
    return lines


# ---- JUnit --------------------------------------------------------------------------------------------

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _x(text: t.Any) -> str:
    return _XML_BAD.sub("?", str(text if text is not None else ""))


def _checks_run(res: dict[str, t.Any]) -> list[str]:
    ran = ["tcp"]
    if _tcp_state(res) == "open":
        tls = res.get("tls") if isinstance(res.get("tls"), dict) else {}
        tested = any(v is not None for v in _versions(res).values()) or tls.get("negotiated") or tls.get("error")
        if tested:
            ran.append("tls")
        if res.get("certificate") is not None:
            ran.append("certificate")
        if res.get("revocation") is not None:
            ran.append("revocation")
        if res.get("http") is not None:
            ran.append("http")
    for reason in res["reasons"]:
        check = _classify.check_of(reason["code"])
        if check not in ran:
            ran.append(check)
    order = CHECKS + ("other",)
    return sorted(ran, key=order.index)


def render_junit(report: dict[str, t.Any]) -> str:
    levels = ("critical",) if report["failure_severity"] == "critical" else ("warning", "critical")
    root = ET.Element("testsuites", {"name": _x(report["title"])})
    suite = ET.SubElement(root, "testsuite", {"name": _x(report["title"])})
    tests = failures = skipped = 0
    for res in report["endpoints"]:
        classname = _x(endpoint_id(res))
        ran = _checks_run(res)
        for check in ran:
            tests += 1
            case = ET.SubElement(suite, "testcase", {"classname": classname, "name": check, "time": "0"})
            mine = [r for r in res["reasons"] if _classify.check_of(r["code"]) == check]
            failing = [r for r in mine if r["severity"] in levels]
            if failing:
                failures += 1
                worst = _worst(r["severity"] for r in failing)
                node = ET.SubElement(case, "failure", {
                    "type": worst,
                    "message": _x("; ".join(f"{r['code']}: {r['message']}" for r in failing)),
                })
                node.text = _x("\n".join(f"[{r['severity']}] {r['code']}: {r['message']}\n  fix: {r['fix']}" for r in failing))
            others = [r for r in mine if r not in failing]
            if others:
                out = ET.SubElement(case, "system-out")
                out.text = _x("\n".join(f"[{r['severity']}] {r['code']}: {r['message']}\n  fix: {r['fix']}" for r in others))
        if _tcp_state(res) != "open":
            for check in ("tls", "certificate"):
                if check not in ran:
                    tests += 1
                    skipped += 1
                    case = ET.SubElement(suite, "testcase", {"classname": classname, "name": check, "time": "0"})
                    ET.SubElement(case, "skipped", {"message": _x(f"not tested: TCP {_tcp_state(res) or 'not reached'}")})
    for node in (root, suite):
        node.set("tests", str(tests))
        node.set("failures", str(failures))
        node.set("errors", "0")
        node.set("skipped", str(skipped))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# ---- Prometheus textfile ------------------------------------------------------------------------------

def prom_label(value: t.Any) -> str:
    """Escape a label value: backslash, double quote and line feed."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prom_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _labels(pairs: list[tuple[str, t.Any]]) -> str:
    return "{" + ",".join(f'{k}="{prom_label(v)}"' for k, v in pairs) + "}"


METRICS = (
    ("https_endpoint_up", "1 when the endpoint accepts TCP connections and completes a TLS handshake, else 0."),
    ("https_endpoint_status", "1 for the endpoint's current status (ok, warning or critical), 0 for the others."),
    ("https_cert_days_left", "Whole days until the served leaf certificate expires (negative once expired)."),
    ("https_tls_version_enabled", "1 when the endpoint accepts the TLS version, 0 when it refuses it."),
    ("https_endpoint_reason", "1 for each finding (reason code) of the endpoint."),
    ("https_report_endpoints", "Endpoints in the report by status."),
)


def render_prometheus(report: dict[str, t.Any]) -> str:
    samples: dict[str, list[str]] = {name: [] for name, _help in METRICS}
    seen: set[str] = set()
    for res in report["endpoints"]:
        base = [("host", res["host"]), ("port", res["port"]), ("server_name", res["server_name"])]
        if res.get("source"):
            base.append(("source", res["source"]))
        key = _labels(base)
        if key in seen:  # the same endpoint probed twice from the same place: one series only
            continue
        seen.add(key)
        samples["https_endpoint_up"].append(f"https_endpoint_up{key} {1 if is_up(res) else 0}")
        for status in SEVERITIES:
            samples["https_endpoint_status"].append(
                f"https_endpoint_status{_labels(base + [('status', status)])} {1 if res['status'] == status else 0}")
        days = _cert(res).get("days_left")
        if isinstance(days, (int, float)) and not isinstance(days, bool):
            samples["https_cert_days_left"].append(f"https_cert_days_left{key} {int(days)}")
        for version in TLS_VERSIONS:
            value = _versions(res).get(version)
            if value is not None:
                samples["https_tls_version_enabled"].append(
                    f"https_tls_version_enabled{_labels(base + [('version', version)])} {1 if value else 0}")
        for code in dict.fromkeys(r["code"] for r in res["reasons"]):
            severity = _worst(r["severity"] for r in res["reasons"] if r["code"] == code)
            samples["https_endpoint_reason"].append(
                f"https_endpoint_reason{_labels(base + [('code', code), ('severity', severity)])} 1")
    for status in SEVERITIES:
        samples["https_report_endpoints"].append(f'https_report_endpoints{{status="{status}"}} {report["summary"][status]}')
    lines = []
    for name, help_text in METRICS:
        lines.append(f"# HELP {name} {prom_help(help_text)}")
        lines.append(f"# TYPE {name} gauge")
        lines.extend(samples[name])
    return "\n".join(lines) + "\n"


# ---- HTML ---------------------------------------------------------------------------------------------

def _esc(text: t.Any) -> str:
    return (str(text if text is not None else "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


# Tick steps of the expiry axis, in hours: hours while the axis spans under two days, then days (1, 2, 5, 7, 14, 30…).
TICK_STEPS_HOURS = (1, 2, 3, 6, 12)
TICK_STEPS_DAYS = (1, 2, 5, 7, 14, 30, 60, 90, 180, 365, 730, 1825, 3650, 7300, 36500)
# The least distance between two tick labels, in the chart's units (a label such as "-365 d" is about 40 wide).
MIN_TICK_SPACING = 64


def hours_left(cert: dict[str, t.Any]) -> int | None:
    """Hours until the certificate expires: its hours_left (kept under two days), else whole days x 24."""
    hours = cert.get("hours_left")
    if isinstance(hours, int) and not isinstance(hours, bool):
        return hours
    days = cert.get("days_left")
    if isinstance(days, int) and not isinstance(days, bool):
        return days * 24
    return None


def left_short(cert: dict[str, t.Any]) -> str:
    """'41 h' under two days when the hours are known, else '12 d'."""
    hours = cert.get("hours_left")
    if isinstance(hours, int) and not isinstance(hours, bool) and 0 <= hours < 48:
        return f"{hours} h"
    return f"{cert.get('days_left')} d"


def expiry_ticks(low: float, high: float, width: float, min_spacing: float = MIN_TICK_SPACING) -> tuple[int, int, int]:
    """(step, first, last) of the expiry axis in hours: the smallest "nice" step whose ticks stand at least
    min_spacing apart on a plot of the given width; first and last are the multiples of step around [low, high]."""
    steps = (list(TICK_STEPS_HOURS) if high - low < 48 else []) + [d * 24 for d in TICK_STEPS_DAYS]
    for step in steps:
        first = int(low // step) * step
        last = -int(-high // step) * step
        if last <= first:
            last = first + step
        if width * step / (last - first) >= min_spacing:
            return step, first, last
    return steps[-1], int(low // steps[-1]) * steps[-1], -int(-high // steps[-1]) * steps[-1]


def tick_label(hours: int, step: int) -> str:
    return f"{hours} h" if step < 24 else f"{hours // 24} d"


def expiry_svg(report: dict[str, t.Any], limit: int = 40) -> str:
    """Inline SVG: the endpoints that expire first as bars of the time left, over the warning/critical zones."""
    dated = [r for r in report["endpoints"] if hours_left(_cert(r)) is not None]
    rows = sorted(dated, key=lambda r: (hours_left(_cert(r)), endpoint_id(r)))[:limit]
    warning = int(report["thresholds"].get("warning_days", 30))
    critical = int(report["thresholds"].get("critical_days", 7))
    if not rows:
        return '<p class="muted" id="expiry-empty">No certificate data in this report.</p>'
    values = [hours_left(_cert(r)) for r in rows]
    label_w, width, row_h, top = 260, 900, 22, 30
    plot_w = width - label_w - 70
    step, low, high = expiry_ticks(min(0, *values), max(*values, 24), plot_w)
    bottom = top + row_h * len(rows)
    height = bottom + 30

    def x(value: float) -> float:
        return round(label_w + (min(max(value, low), high) - low) * plot_w / (high - low), 1)

    parts = [f'<svg id="expiry-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="Certificate expiry timeline: time left per endpoint" width="100%" data-tick-step-hours="{step}">']
    # A certificate is critical while its whole days left are at most critical_days: under (critical_days + 1) x 24 hours.
    for cls, start, end in (("zone-critical", low, (critical + 1) * 24), ("zone-warning", (critical + 1) * 24, (warning + 1) * 24)):
        if x(end) > x(start):
            parts.append(f'<rect x="{x(start)}" y="{top - 8}" width="{round(x(end) - x(start), 1)}" height="{bottom - top + 8}" class="{cls}"/>')
    for tick in range(low, high + 1, step):
        parts.append(f'<line x1="{x(tick)}" x2="{x(tick)}" y1="{top - 8}" y2="{bottom}" class="grid"/>')
        parts.append(f'<text x="{x(tick)}" y="{bottom + 16}" class="tick">{tick_label(tick, step)}</text>')
    parts.append(f'<line x1="{x(0)}" x2="{x(0)}" y1="{top - 12}" y2="{bottom}" class="today"/>')
    parts.append(f'<text x="{x(0)}" y="{top - 14}" class="tick">today</text>')
    for idx, res in enumerate(rows):
        cert = _cert(res)
        value = hours_left(cert)
        days = cert["days_left"] if isinstance(cert.get("days_left"), int) else value // 24
        y = top + idx * row_h
        cls = "critical" if days <= critical else "warning" if days <= warning else "ok"
        start, end = sorted((x(0), x(value)))
        name = endpoint_id(res)
        short = name if len(name) <= 38 else name[:37] + "\u2026"
        parts.append(f'<text x="{label_w - 8}" y="{y + 14}" class="label">{_esc(short)}</text>')
        parts.append(f'<rect x="{start}" y="{y + 3}" width="{max(round(end - start, 1), 2)}" height="{row_h - 8}" class="bar {cls}">'
                     f'<title>{_esc(name)}: {_esc(left_short(cert))} left, not after {_esc(cert.get("not_after"))}</title></rect>')
        parts.append(f'<text x="{max(start, end) + 4}" y="{y + 14}" class="value">{_esc(left_short(cert))}</text>')
    parts.append("</svg>")
    notes = [f"Shaded: critical (under {critical + 1} days left: critical_days {critical}) and warning (under {warning + 1} "
             f"days: warning_days {warning}). Under two days the time left is in hours."]
    more = len(dated) - len(rows)
    if more > 0:
        notes.append(f"Showing the {len(rows)} certificates that expire first ({more} more in the table).")
    return "".join(parts) + f'<p class="muted" id="expiry-note">{_esc(" ".join(notes))}</p>'


# The page is rendered from a template a designer can edit: report.html beside this file, shipped to the module as
# the Python text in _html_template.py (AnsiballZ carries only Python files). Its only syntax: {{ name }}
# placeholders (values already safe where they stand) and {# comments #}, which are left out of the page.
TEMPLATE_PLACEHOLDERS = ("title", "subtitle", "schema_version", "expiry_chart", "report_data")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_TEMPLATE_COMMENT = re.compile(r"\{#.*?#\}\n?", re.S)


def check_template(text: t.Any, option: str = "html_template") -> str:
    """The template without its comments; ReportInputError naming the option when it cannot render a report."""
    if not isinstance(text, str):
        raise ReportInputError(f"{option}: expected the template as text, got {type(text).__name__}")
    body = _TEMPLATE_COMMENT.sub("", text)
    known = ", ".join("{{ %s }}" % name for name in TEMPLATE_PLACEHOLDERS)
    if "{#" in body:
        line = text[:text.rindex("{#")].count("\n") + 1
        raise ReportInputError(f"{option}: the comment opened on line {line} is never closed (with #}})")
    names = _PLACEHOLDER.findall(body)
    unknown = sorted(set(names) - set(TEMPLATE_PLACEHOLDERS))
    if unknown:
        raise ReportInputError(f"{option}: unknown placeholder(s) {', '.join('{{ %s }}' % n for n in unknown)}; the template knows {known}")
    if body.count("{{") != len(names) or "{%" in body:
        raise ReportInputError(f"{option}: only placeholders ({known}) and comments in {{# #}} are supported, "
                               "no filters, expressions or statements in {% %}")
    if "report_data" not in names:
        raise ReportInputError(f"{option}: the template has no {{{{ report_data }}}} placeholder, so the page would have no data")
    return body


def render_html(report: dict[str, t.Any], template: str | None = None) -> str:
    """report.html from the collection's template, or from template (the text of another one)."""
    body = check_template(_html_template.TEMPLATE if template is None else template)
    summary = report["summary"]
    subtitle = f"{status_line(summary)} - a finding counts as failed from severity {report['failure_severity']}."
    values = {
        "title": _esc(report["title"]),
        "subtitle": _esc(subtitle),
        "schema_version": str(report["schema_version"]),
        "expiry_chart": expiry_svg(report),
        "report_data": json_for_script(report),
    }
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], body)


RENDERERS: dict[str, t.Callable[[dict[str, t.Any]], str]] = {
    "json": render_json,
    "html": render_html,
    "junit": render_junit,
    "prometheus": render_prometheus,
    "markdown": render_markdown,
}


def render_all(report: dict[str, t.Any], formats: t.Iterable[str], html_template: str | None = None) -> dict[str, str]:
    """{format: file content} for the requested formats; html_template: the text of another HTML template."""
    out = {}
    for fmt in formats:
        if fmt not in RENDERERS:
            raise ReportInputError(f"formats: unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
        out[fmt] = render_html(report, html_template) if fmt == "html" else RENDERERS[fmt](report)
    return out
