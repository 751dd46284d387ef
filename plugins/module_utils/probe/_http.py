# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Minimal HTTP/1.1 over an existing socket: status line, headers, HSTS and redirect evaluation (plain Python)."""

from __future__ import annotations

import typing as t
from urllib.parse import unquote, urljoin, urlsplit

REDIRECT_STATUSES = (301, 302, 303, 307, 308)


def request_bytes(host_header: str, method: str = "HEAD", path: str = "/") -> bytes:
    return (f"{method} {path} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: port443.https-probe\r\n"
            "Accept: */*\r\nConnection: close\r\n\r\n").encode("ascii", "ignore")


def host_header(name: str, port: int, default_port: int) -> str:
    host = f"[{name}]" if ":" in name and not name.startswith("[") else name
    return host if port == default_port else f"{host}:{port}"


def parse_response(data: bytes | None) -> tuple[int | None, dict[str, str]]:
    """(status, lower-cased headers) of a raw HTTP response head; (None, {}) when it is not HTTP."""
    if not data or not data.startswith(b"HTTP/"):
        return None, {}
    head = data.split(b"\r\n\r\n", 1)[0].decode("iso-8859-1")
    lines = head.split("\r\n")
    parts = lines[0].split(" ", 2)
    try:
        status = int(parts[1])
    except (IndexError, ValueError):
        return None, {}
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    return status, headers


def parse_hsts(value: str | None) -> dict[str, t.Any]:
    """Strict-Transport-Security header -> {present, max_age, include_subdomains, preload}."""
    result: dict[str, t.Any] = {"present": False, "max_age": None, "include_subdomains": False, "preload": False}
    if value is None:
        return result
    result["present"] = True
    for directive in value.split(";"):
        name, _sep, arg = directive.strip().partition("=")
        name = name.strip().lower()
        if name == "max-age":
            try:
                result["max_age"] = int(arg.strip().strip('"'))
            except ValueError:
                result["max_age"] = None
        elif name == "includesubdomains":
            result["include_subdomains"] = True
        elif name == "preload":
            result["preload"] = True
    if not result["max_age"]:
        # max-age=0 (or missing/invalid) tells browsers to forget HSTS: treat as absent.
        result["present"] = False
    return result


def evaluate_redirect(status: int | None, headers: dict[str, str], server_name: str, https_port: int) -> dict[str, t.Any]:
    """Does a plain HTTP response redirect to the https:// URL of this endpoint?"""
    location = headers.get("location")
    result: dict[str, t.Any] = {"status": status, "location": location, "ok": False}
    if status not in REDIRECT_STATUSES or not location:
        return result
    parts = urlsplit(location)
    if parts.scheme.lower() != "https":
        return result
    want_host = server_name.strip("[]").lower().rstrip(".")
    got_host = (parts.hostname or "").lower().rstrip(".")
    try:
        got_port = parts.port or 443
    except ValueError:
        return result
    result["ok"] = got_host == want_host and got_port == https_port
    return result


def check_path(value: t.Any) -> str | None:
    """Why value is not a usable request path (None when it is): absolute, printable ASCII, no spaces."""
    if not isinstance(value, str) or not value:
        return "expected a path starting with '/', like / or /health"
    if not value.startswith("/") or value.startswith("//"):
        return "must start with a single '/' (a path on the endpoint, not a URL)"
    if len(value) > 2048:
        return "is longer than 2048 characters"
    if any(not 0x21 <= ord(ch) <= 0x7E for ch in value) or "#" in value:
        return "must be printable ASCII without spaces or '#' (percent-encode other characters)"
    return None


def check_expected_status(value: t.Any) -> str | None:
    """Why value is not a usable list of expected HTTP statuses (None when it is)."""
    if not isinstance(value, (list, tuple)) or not value:
        return "expected a non-empty list of HTTP status codes, like [200, 301]"
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or not 100 <= item <= 599:
            return f"{item!r} is not an HTTP status code (100-599)"
    return None


def evaluate_answer(status: int | None, headers: dict[str, str], url: str,
                    expected: t.Sequence[int] | None = None) -> list[tuple[str, str]]:
    """Findings (code, detail) about the HTTPS answer to GET url: a redirect to http:// is https_downgrade;
    no answer, a 4xx/5xx answer or (when expected is given) a status outside expected is http_error."""
    path = urlsplit(url).path or "/"
    if status is None:
        return [("http_error", f"no HTTP answer over TLS to GET {path}")]
    findings: list[tuple[str, str]] = []
    location = headers.get("location")
    if status in REDIRECT_STATUSES and location:
        target = urljoin(url, location.strip())
        if urlsplit(target).scheme.lower() == "http":
            findings.append(("https_downgrade", f"GET {path} answered {status} with Location {location}"))
    if expected:
        if status not in expected:
            want = ", ".join(str(code) for code in expected)
            findings.append(("http_error", f"GET {path} answered {status}, expected {want}"))
    elif status >= 400:
        findings.append(("http_error", f"GET {path} answered {status}"))
    return findings


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    """text split at sep where sep is not inside a quoted-string (backslash escapes honoured)."""
    parts, buf, quoted, escaped = [], [], False, False
    for ch in text:
        if escaped:
            buf.append(ch)
            escaped = False
        elif quoted and ch == "\\":
            buf.append(ch)
            escaped = True
        elif ch == '"':
            buf.append(ch)
            quoted = not quoted
        elif ch == sep and not quoted:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf))
    return parts


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        out, escaped = [], False
        for ch in value[1:-1]:
            if escaped or ch != "\\":
                out.append(ch)
                escaped = False
            else:
                escaped = True
        return "".join(out)
    return value


# Protocol ids of HTTP/3: the final one, and the drafts' (h3-29 ...), which only clients of those drafts use.
H3_FINAL = "h3"


def parse_alt_svc(value: str | None) -> dict[str, t.Any]:
    """Alt-Svc header (RFC 7838 section 3) -> {present, clear, entries, errors, h3}.

    entries: each alternative as {protocol, host, port, max_age, persist} (max_age 86400 when not given); errors:
    the parts that are not alternatives; h3: the entries whose protocol is HTTP/3 (h3, or a draft's h3-NN).
    Several header fields arrive joined with ', ' (parse_response), which is the header's own list syntax."""
    result: dict[str, t.Any] = {"present": value is not None, "clear": False, "entries": [], "errors": [], "h3": []}
    if value is None:
        return result
    for item in _split_outside_quotes(value, ","):
        item = item.strip()
        if not item:
            continue
        if item.lower() == "clear":
            result["clear"] = True
            continue
        params = _split_outside_quotes(item, ";")
        proto, sep, authority = params[0].strip().partition("=")
        proto = unquote(proto.strip())
        authority = _unquote(authority)
        host, colon, port_text = authority.rpartition(":")
        if not sep or not proto or not colon or not port_text.isdigit() or not 0 < int(port_text) <= 65535:
            result["errors"].append(item[:200])
            continue
        entry: dict[str, t.Any] = {"protocol": proto, "host": host.strip("[]").lower() or None, "port": int(port_text),
                                   "max_age": 86400, "persist": False}
        for param in params[1:]:
            name, _sep, arg = param.strip().partition("=")
            name, arg = name.strip().lower(), _unquote(arg)
            if name == "ma" and arg.isdigit():
                entry["max_age"] = int(arg)
            elif name == "persist":
                entry["persist"] = arg == "1"
        result["entries"].append(entry)
    if result["clear"]:
        # "clear" invalidates every alternative (RFC 7838 section 3): with other values the header is malformed.
        if result["entries"]:
            result["errors"].append("clear together with alternatives")
        result["entries"] = []
    result["h3"] = [e for e in result["entries"] if e["protocol"] == H3_FINAL or e["protocol"].startswith(H3_FINAL + "-")]
    return result
