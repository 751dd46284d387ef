# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Fleet report renderers (plain Python, no Ansible imports): the probe's endpoint results turned into
report.json, a self-contained report.html, junit.xml, a Prometheus textfile and a Markdown summary.

Every renderer is deterministic: the same results give byte-identical files, so a report written twice is
unchanged the second time. Volatile measurements (connect latency) are left out of the files on purpose."""

from __future__ import annotations

import json
import re
import typing as t
import xml.etree.ElementTree as ET

from ansible_collections.port443.https.plugins.module_utils.reasons import _classify
from ansible_collections.port443.https.plugins.module_utils.report import _vantage

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
# Which result section each reason code belongs to (one junit testcase per endpoint and section): the registry's.
CHECK_OF_REASON = _classify.CHECK_OF
CHECKS = _classify.SECTIONS
TLS_FAILURES = ("no_tls_response", "not_tls", "handshake_failure")
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
    return not any(r["code"] in TLS_FAILURES for r in res["reasons"])


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
    if report.get("matrix"):
        lines += render_matrix_markdown(report["matrix"], max_rows)
    expiring = sorted((r for r in report["endpoints"] if isinstance(_cert(r).get("days_left"), int)),
                      key=lambda r: _cert(r)["days_left"])[:5]
    if expiring:
        lines.append("Expiring first: " + ", ".join(
            f"{_md_cell(endpoint_id(r))} ({_cert(r)['days_left']} d)" for r in expiring) + ".")
        lines.append("")
    return "\n".join(lines)


def _matrix_cell(cell: dict[str, t.Any] | None) -> str:
    if not cell:
        return "\u2014"
    seen = f"TLS {cell['tls']}" if cell.get("tls") else (cell.get("tcp") or "not probed")
    return f"{cell['status']}: {seen}"


def render_matrix_markdown(matrix: dict[str, t.Any], max_rows: int = 50) -> list[str]:
    """The endpoint x vantage table: rows with a difference between vantages first, then the worst."""
    vantages = matrix["vantages"]
    rows = sorted(matrix["rows"], key=lambda r: (not r["findings"], -SEVERITIES.index(r["status"])))
    lines = [f"### Vantage matrix ({len(vantages)} vantage point(s), {matrix['differences']} endpoint(s) seen differently)", "",
             "| Endpoint | " + " | ".join(_md_cell(v) for v in vantages) + " | Findings |",
             "| --- | " + " | ".join(["---"] * len(vantages)) + " | --- |"]
    for row in rows[:max_rows]:
        cells = " | ".join(_md_cell(_matrix_cell(row["cells"].get(v))) for v in vantages)
        findings = ", ".join(_md_code(code) for code in row["findings"]) or "\u2014"
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
        check = CHECK_OF_REASON.get(reason["code"], "other")
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
            mine = [r for r in res["reasons"] if CHECK_OF_REASON.get(r["code"], "other") == check]
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


def expiry_svg(report: dict[str, t.Any], limit: int = 40) -> str:
    """Inline SVG: the endpoints that expire first as bars of days left, with warning/critical thresholds."""
    rows = [r for r in report["endpoints"] if isinstance(_cert(r).get("days_left"), int)]
    rows = sorted(rows, key=lambda r: (_cert(r)["days_left"], endpoint_id(r)))[:limit]
    warning = int(report["thresholds"].get("warning_days", 30))
    critical = int(report["thresholds"].get("critical_days", 7))
    if not rows:
        return '<p class="muted" id="expiry-empty">No certificate data in this report.</p>'
    days = [_cert(r)["days_left"] for r in rows]
    low = min(0, *days)
    high = max(*days, warning + 10, 1)
    label_w, width, row_h, top = 260, 900, 22, 30
    plot_w = width - label_w - 70
    height = top + row_h * len(rows) + 30

    def x(value: float) -> float:
        return round(label_w + (value - low) * plot_w / (high - low), 1)

    parts = [f'<svg id="expiry-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="Certificate expiry timeline: days left per endpoint" width="100%">']
    parts.append(f'<rect x="{x(low)}" y="{top - 8}" width="{round(x(critical) - x(low), 1)}" height="{row_h * len(rows) + 8}" class="zone-critical"/>')
    parts.append(f'<rect x="{x(critical)}" y="{top - 8}" width="{round(x(warning) - x(critical), 1)}" height="{row_h * len(rows) + 8}" class="zone-warning"/>')
    step = max(1, int(round((high - low) / 8.0 / 10.0)) * 10) if high - low > 20 else 5
    tick = (low // step) * step
    while tick <= high:
        parts.append(f'<line x1="{x(tick)}" x2="{x(tick)}" y1="{top - 8}" y2="{top + row_h * len(rows)}" class="grid"/>')
        parts.append(f'<text x="{x(tick)}" y="{top + row_h * len(rows) + 16}" class="tick">{tick}</text>')
        tick += step
    parts.append(f'<line x1="{x(0)}" x2="{x(0)}" y1="{top - 12}" y2="{top + row_h * len(rows)}" class="today"/>')
    parts.append(f'<text x="{x(0)}" y="{top - 14}" class="tick">today</text>')
    for idx, res in enumerate(rows):
        value = _cert(res)["days_left"]
        y = top + idx * row_h
        cls = "critical" if value <= critical else "warning" if value <= warning else "ok"
        start, end = sorted((x(0), x(value)))
        name = endpoint_id(res)
        short = name if len(name) <= 38 else name[:37] + "\u2026"
        parts.append(f'<text x="{label_w - 8}" y="{y + 14}" class="label">{_esc(short)}</text>')
        parts.append(f'<rect x="{start}" y="{y + 3}" width="{max(round(end - start, 1), 2)}" height="{row_h - 8}" class="bar {cls}">'
                     f'<title>{_esc(name)}: {value} day(s) left, not after {_esc(_cert(res).get("not_after"))}</title></rect>')
        parts.append(f'<text x="{max(start, end) + 4}" y="{y + 14}" class="value">{value} d</text>')
    parts.append("</svg>")
    more = len([r for r in report["endpoints"] if isinstance(_cert(r).get("days_left"), int)]) - len(rows)
    note = f'<p class="muted">Showing the {len(rows)} certificates that expire first ({more} more in the table).</p>' if more > 0 else ""
    return "".join(parts) + note


HTML_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>@@TITLE@@</title>
<style>
:root { --ok: #1a7f37; --warning: #b7791f; --critical: #cf222e; --muted: #57606a; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 0; color: #1f2328; background: #f6f8fa; }
header { background: #24292f; color: #fff; padding: 18px 28px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; color: #d0d7de; }
main { padding: 18px 28px 40px; max-width: 1500px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 18px; margin: 0 0 18px; }
h2 { font-size: 17px; margin: 0 0 10px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; }
.card { flex: 1 1 150px; border-radius: 8px; padding: 12px 16px; color: #fff; }
.card b { display: block; font-size: 30px; line-height: 1.1; }
.card.total { background: #424a53; } .card.ok { background: var(--ok); } .card.warning { background: var(--warning); }
.card.critical { background: var(--critical); }
.muted { color: var(--muted); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid var(--line); }
th { background: #eaeef2; position: sticky; top: 0; }
th.sortable { cursor: pointer; user-select: none; white-space: nowrap; }
th.sortable::after { content: " \\2195"; color: var(--muted); }
th[aria-sort="ascending"]::after { content: " \\2191"; color: #1f2328; }
th[aria-sort="descending"]::after { content: " \\2193"; color: #1f2328; }
.pill { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-weight: 600; font-size: 12px; }
.pill.ok { background: var(--ok); } .pill.warning { background: var(--warning); } .pill.critical { background: var(--critical); }
ul.reasons { margin: 0; padding-left: 16px; } ul.reasons li { margin: 0 0 4px; }
code { background: #eff1f3; padding: 0 4px; border-radius: 4px; }
.fix { color: var(--muted); }
td.yes { background: #dafbe1; text-align: center; } td.no { background: #f6f8fa; text-align: center; color: var(--muted); }
td.http-bad { background: #ffebe9; font-weight: 600; }
td.legacy { background: #ffebe9; text-align: center; font-weight: 600; } td.na { text-align: center; color: var(--muted); }
#filter { padding: 6px 10px; width: 320px; max-width: 100%; border: 1px solid var(--line); border-radius: 6px; margin-bottom: 10px; }
svg .label { font-size: 12px; text-anchor: end; fill: #1f2328; } svg .value, svg .tick { font-size: 11px; fill: var(--muted); }
svg .tick { text-anchor: middle; } svg .grid { stroke: #eaeef2; } svg .today { stroke: #1f2328; stroke-dasharray: 3 3; }
svg .zone-critical { fill: #ffebe9; } svg .zone-warning { fill: #fff8c5; }
svg .bar.ok { fill: var(--ok); } svg .bar.warning { fill: var(--warning); } svg .bar.critical { fill: var(--critical); }
footer { color: var(--muted); font-size: 12px; }
</style>
</head>
<body data-render-state="loading">
<header><h1>@@TITLE@@</h1><p id="subtitle">@@SUBTITLE@@</p></header>
<main>
<noscript><section>This page renders its tables with JavaScript. Without it, read report.md or report.json.</section></noscript>
<section id="summary"><h2>Summary</h2><div class="cards" id="cards"></div><p id="by-reason" class="muted"></p></section>
<section id="endpoints"><h2>Endpoints</h2>
<input id="filter" type="search" placeholder="Filter by host, status or reason code" aria-label="Filter endpoints">
<table id="endpoint-table"><thead><tr>
<th class="sortable" data-key="status" scope="col">Status</th><th class="sortable" data-key="endpoint" scope="col">Endpoint</th>
<th class="sortable" data-key="address" scope="col">Address</th><th class="sortable" data-key="tcp" scope="col">TCP</th>
<th class="sortable" data-key="tls" scope="col">TLS</th><th class="sortable" data-key="http" scope="col">HTTP</th>
<th class="sortable" data-key="redirect" scope="col">Redirect</th><th class="sortable" data-key="hsts" scope="col">HSTS</th>
<th class="sortable" data-key="days" scope="col">Days left</th>
<th class="sortable" data-key="issuer" scope="col">Issuer</th><th class="sortable" data-key="reasons" scope="col">Reasons and fixes</th>
</tr></thead><tbody></tbody></table></section>
<section id="vantage-matrix" hidden><h2>Vantage matrix</h2>
<p class="muted" id="vantage-note"></p>
<table id="vantage-table"><thead><tr></tr></thead><tbody></tbody></table></section>
<section id="expiry"><h2>Certificate expiry timeline</h2>@@CHART@@</section>
<section id="tls-matrix"><h2>TLS versions</h2><table id="tls-table"><thead><tr><th scope="col">Endpoint</th>
<th scope="col">TLS 1.0</th><th scope="col">TLS 1.1</th><th scope="col">TLS 1.2</th><th scope="col">TLS 1.3</th>
<th scope="col">Negotiated</th><th scope="col">Cipher</th></tr></thead><tbody></tbody></table></section>
<footer>Generated by port443.https.https_report. Data: report.json (schema @@SCHEMA@@).</footer>
</main>
<script type="application/json" id="report-data">@@DATA@@</script>
<script>
(function () {
  "use strict";
  var errors = [];
  window.addEventListener("error", function (ev) {
    errors.push(String(ev.message)); document.body.setAttribute("data-js-errors", errors.join(" | "));
  });
  var report = JSON.parse(document.getElementById("report-data").textContent);
  var SEV = { ok: 0, warning: 1, critical: 2 };
  var LEGACY = { "1.0": true, "1.1": true };
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }
  function id(r) {
    var s = r.host + ":" + r.port;
    if (r.server_name && r.server_name !== r.host) { s += " (" + r.server_name + ")"; }
    if (r.source) { s += " from " + r.source; }
    return s;
  }
  function cert(r) { return r.certificate || {}; }
  function tls(r) { return r.tls || {}; }
  function tcp(r) { return (r.tcp || {}).state || ""; }
  function http(r) { return r.http || {}; }
  // HTTP: the HTTPS answer's status on the probed path (and where it redirects); Redirect: port 80 to https;
  // HSTS: max-age. Empty when the http check did not run.
  function httpText(r) {
    var h = http(r);
    if (!r.http) { return ""; }
    if (h.status === null || h.status === undefined) { return "no answer"; }
    return String(h.status) + " " + (h.path || "/") + (h.location ? " \u2192 " + h.location : "");
  }
  function redirectText(r) {
    var d = http(r).redirect;
    if (!d) { return ""; }
    return d.ok ? "yes (" + d.status + ")" : "no" + (d.status ? " (" + d.status + ")" : "");
  }
  function hstsText(r) {
    var h = http(r).hsts;
    if (!h) { return ""; }
    return h.present ? "max-age=" + h.max_age + (h.include_subdomains ? "; includeSubDomains" : "") + (h.preload ? "; preload" : "") : "no";
  }
  function httpClass(r) {
    var bad = { https_downgrade: true, http_error: true };
    if (!r.http) { return "na"; }
    return r.reasons.some(function (x) { return bad[x.code]; }) ? "http-bad" : "http-ok";
  }
  var s = report.summary;
  var cards = document.getElementById("cards");
  [["total", "endpoints", s.total], ["ok", "ok", s.ok], ["warning", "warning", s.warning], ["critical", "critical", s.critical]]
    .forEach(function (c) { cards.appendChild(el("div", { "class": "card " + c[0], id: "count-" + c[0] }, [el("b", {}, [String(c[2])]), c[1]])); });
  var codes = Object.keys(s.by_reason || {});
  document.getElementById("by-reason").textContent = codes.length ?
    "Findings by reason: " + codes.map(function (c) { return c + " \\u00d7" + s.by_reason[c]; }).join(", ") : "No findings.";
  var rows = report.endpoints.map(function (r, i) {
    var reasons = el("ul", { "class": "reasons" }, r.reasons.map(function (x) {
      return el("li", {}, [el("span", { "class": "pill " + x.severity }, [x.severity]), " ", el("code", {}, [x.code]), " " + x.message,
        el("br"), el("span", { "class": "fix" }, ["Fix: " + x.fix])]);
    }));
    var days = cert(r).days_left;
    var tr = el("tr", { "class": "endpoint-row", "data-status": r.status, "data-index": String(i) }, [
      el("td", {}, [el("span", { "class": "pill " + r.status }, [r.status])]),
      el("td", {}, [id(r)]), el("td", {}, [r.address || ""]), el("td", {}, [tcp(r)]),
      el("td", {}, [tls(r).negotiated ? "TLS " + tls(r).negotiated : ""]),
      el("td", { "class": "http " + httpClass(r) }, [httpText(r)]),
      el("td", { "class": "redirect" }, [redirectText(r)]),
      el("td", { "class": "hsts" }, [hstsText(r)]),
      el("td", {}, [typeof days === "number" ? String(days) : ""]),
      el("td", {}, [cert(r).issuer || ""]),
      el("td", {}, r.reasons.length ? [reasons] : ["\\u2014"])
    ]);
    return { tr: tr, r: r, text: (id(r) + " " + r.status + " " + r.reasons.map(function (x) { return x.code; }).join(" ")).toLowerCase(),
      keys: { status: SEV[r.status], endpoint: id(r), address: r.address || "", tcp: tcp(r), tls: tls(r).negotiated || "",
        http: typeof http(r).status === "number" ? http(r).status : Infinity, redirect: redirectText(r), hsts: hstsText(r),
        days: typeof days === "number" ? days : Infinity, issuer: cert(r).issuer || "", reasons: r.reasons.length } };
  });
  var tbody = document.querySelector("#endpoint-table tbody");
  function draw() { rows.forEach(function (row) { tbody.appendChild(row.tr); }); }
  rows.sort(function (a, b) { return b.keys.status - a.keys.status; });
  draw();
  document.querySelectorAll("#endpoint-table th.sortable").forEach(function (th) {
    th.addEventListener("click", function () {
      var key = th.getAttribute("data-key");
      var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
      document.querySelectorAll("#endpoint-table th").forEach(function (o) { o.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
      rows.sort(function (a, b) {
        var x = a.keys[key], y = b.keys[key];
        if (typeof x === "number" && typeof y === "number") { return dir * (x - y); }
        return dir * String(x).localeCompare(String(y), undefined, { numeric: true });
      });
      draw();
    });
  });
  document.getElementById("filter").addEventListener("input", function (ev) {
    var q = ev.target.value.toLowerCase();
    rows.forEach(function (row) { row.tr.style.display = row.text.indexOf(q) === -1 ? "none" : ""; });
  });
  var mbody = document.querySelector("#tls-table tbody");
  report.endpoints.forEach(function (r) {
    var v = tls(r).versions || {};
    var cells = ["1.0", "1.1", "1.2", "1.3"].map(function (k) {
      if (v[k] === true) { return el("td", { "class": LEGACY[k] ? "legacy" : "yes" }, ["yes"]); }
      if (v[k] === false) { return el("td", { "class": "no" }, ["no"]); }
      return el("td", { "class": "na" }, ["\\u2014"]);
    });
    mbody.appendChild(el("tr", { "class": "tls-row" }, [el("td", {}, [id(r)])].concat(cells,
      [el("td", {}, [tls(r).negotiated || ""]), el("td", {}, [tls(r).cipher || ""])])));
  });
  // Endpoint x vantage matrix (results from several vantage points): one row per endpoint, one cell per vantage.
  if (report.matrix) {
    var mx = report.matrix;
    document.getElementById("vantage-matrix").hidden = false;
    document.getElementById("vantage-note").textContent = mx.vantages.length + " vantage point(s); " + mx.differences +
      " endpoint(s) seen differently. A cell shows that vantage's status and what it reached (TLS version, else the TCP state).";
    var head = document.querySelector("#vantage-table thead tr");
    ["Endpoint"].concat(mx.vantages, ["Findings"]).forEach(function (h) { head.appendChild(el("th", { scope: "col" }, [h])); });
    var vbody = document.querySelector("#vantage-table tbody");
    mx.rows.slice().sort(function (a, b) { return (b.findings.length ? 1 : 0) - (a.findings.length ? 1 : 0) || SEV[b.status] - SEV[a.status]; })
      .forEach(function (row) {
        var cells = mx.vantages.map(function (v) {
          var c = row.cells[v];
          if (!c) { return el("td", { "class": "na" }, ["\u2014"]); }
          var seen = c.tls ? "TLS " + c.tls : (c.tcp || "not probed");
          return el("td", { "class": "cell", "data-vantage": v, title: c.codes.join(" ") + (c.certificate ? " sha256 " + c.certificate : "") },
            [el("span", { "class": "pill " + c.status }, [c.status]), " " + seen]);
        });
        vbody.appendChild(el("tr", { "class": "vantage-row", "data-status": row.status }, [el("td", {}, [row.endpoint])].concat(cells,
          [el("td", {}, row.findings.length ? row.findings.map(function (f) { return el("code", {}, [f]); }) : ["\u2014"])])));
      });
  }
  // A link may preselect the order: report.html#sort=days or #sort=status&dir=desc
  var hash = {};
  location.hash.replace(/^#/, "").split("&").forEach(function (kv) { var p = kv.split("="); if (p[0]) { hash[p[0]] = decodeURIComponent(p[1] || ""); } });
  var pre = hash.sort && document.querySelector('#endpoint-table th[data-key="' + hash.sort.replace(/[^a-z]/g, "") + '"]');
  if (pre) { pre.click(); if (hash.dir === "desc") { pre.click(); } }
  document.body.setAttribute("data-rendered-rows", String(rows.length));
  document.body.setAttribute("data-render-state", errors.length ? "error" : "done");
}());
</script>
</body>
</html>
"""


def render_html(report: dict[str, t.Any]) -> str:
    summary = report["summary"]
    subtitle = f"{status_line(summary)} - a finding counts as failed from severity {report['failure_severity']}."
    replacements = {
        "@@TITLE@@": _esc(report["title"]),
        "@@SUBTITLE@@": _esc(subtitle),
        "@@SCHEMA@@": str(report["schema_version"]),
        "@@CHART@@": expiry_svg(report),
        "@@DATA@@": json_for_script(report),
    }
    return re.sub("@@[A-Z]+@@", lambda m: replacements[m.group(0)], HTML_TEMPLATE)


RENDERERS: dict[str, t.Callable[[dict[str, t.Any]], str]] = {
    "json": render_json,
    "html": render_html,
    "junit": render_junit,
    "prometheus": render_prometheus,
    "markdown": render_markdown,
}


def render_all(report: dict[str, t.Any], formats: t.Iterable[str]) -> dict[str, str]:
    """{format: file content} for the requested formats."""
    out = {}
    for fmt in formats:
        if fmt not in RENDERERS:
            raise ReportInputError(f"formats: unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
        out[fmt] = RENDERERS[fmt](report)
    return out
