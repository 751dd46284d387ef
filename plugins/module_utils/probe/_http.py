# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Minimal HTTP/1.1 over an existing socket: status line, headers, HSTS and redirect evaluation (plain Python)."""

from __future__ import annotations

import typing as t
from urllib.parse import urljoin, urlsplit

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
