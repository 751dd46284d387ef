# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Who owns Caddy's main Caddyfile, decided read-only before the webserver role changes anything.

The role keeps its Caddy site blocks in a file of its own (/etc/caddy/port443-https.caddy) that the main Caddyfile
imports. The main file is written by the role only when it is absent, byte-equal to the caddy package's shipped
default, or carries the role's managed header; a main file that already imports the role's file is the operator's and
is never touched; any other main file is the operator's too, and the role stops before any change unless the
operator handed it over (webserver_caddy_caddyfile: replace).

Plain Python (no Ansible imports): the caddyfile_info module and the webserver_state module call it on the host."""

from __future__ import annotations

import hashlib
import os
import re
import typing as t

from ansible_collections.port443.https.plugins.module_utils.webserver import _servers

TAKEOVER = ("refuse", "replace")
# The main Caddyfile and the role's own site file, from the registry of web servers.
MAIN = _servers.facts("caddy")["main_file"]
SITE_FILE = _servers.facts("caddy")["site_file"]
ORIGINALS = "/var/lib/port443/webserver/originals"
# The last words of the managed header every template of the role starts with.
_HEADER = re.compile(r"^#.*\bport443\.https\.webserver; edits are overwritten\.\s*$")

# How commands run: (argv, stdin text or None) -> (rc, stdout, stderr).
Runner = t.Callable[[t.List[str], t.Optional[str]], t.Tuple[int, str, str]]


class Token(t.NamedTuple):
    text: str
    line: int  # line the token starts on
    end_line: int  # line it ends on (a quoted token may span lines)
    quoted: bool


def tokenize(text: str) -> list[Token]:
    """Caddyfile tokens as Caddy's lexer reads them: whitespace separates tokens, '#' at the start of a token starts a
    comment up to the end of the line, "..." is one token (backslash escapes a quote or a backslash) and `...` is
    one raw token. Heredocs (Caddy 2.7+) are not read: a file with one is still tokenized, only less exactly."""
    tokens: list[Token] = []
    i, line, n = 0, 1, len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
            i += 1
        elif ch.isspace():
            i += 1
        elif ch == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif ch in "\"`":
            start, value, i = line, [], i + 1
            while i < n and text[i] != ch:
                if ch == '"' and text[i] == "\\" and i + 1 < n and text[i + 1] in '"\\':
                    i += 1
                if text[i] == "\n":
                    line += 1
                value.append(text[i])
                i += 1
            i += 1  # the closing quote (an unclosed one ends the file)
            tokens.append(Token("".join(value), start, line, True))
        else:
            start = i
            while i < n and not text[i].isspace():
                i += 1
            tokens.append(Token(text[start:i], line, line, False))
    return tokens


def lines(tokens: list[Token]) -> list[tuple[int, list[Token]]]:
    """Tokens grouped into lines, each with its brace depth before the line (0 = outside every block)."""
    grouped: list[tuple[int, list[Token]]] = []
    depth, last_end = 0, 0
    for token in tokens:
        if not grouped or token.line != last_end:
            grouped.append((depth, []))
        grouped[-1][1].append(token)
        last_end = token.end_line
        if not token.quoted and token.text == "{":
            depth += 1
        elif not token.quoted and token.text == "}":
            depth = max(depth - 1, 0)
    return grouped


def top_level_imports(text: str) -> list[str]:
    """The argument of every `import` line outside any block (global options, snippets and sites are blocks), in
    order. Snippet imports ('import name' of a '(name)' defined at the top level) are left out."""
    grouped = lines(tokenize(text))
    snippets = {toks[0].text[1:-1] for depth, toks in grouped
                if depth == 0 and not toks[0].quoted and re.match(r"^\(.+\)$", toks[0].text)}
    return [toks[1].text for depth, toks in grouped
            if depth == 0 and len(toks) >= 2 and not toks[0].quoted and toks[0].text == "import"
            and toks[1].text not in snippets]


def _glob_regex(segment: str) -> str:
    """Go's filepath.Match pattern of one path segment as a regular expression."""
    out, i = [], 0
    while i < len(segment):
        ch = segment[i]
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\" and i + 1 < len(segment):
            i += 1
            out.append(re.escape(segment[i]))
        elif ch == "[":
            end = segment.find("]", i + 2)
            if end < 0:
                return r"(?!)"  # Go: a malformed pattern matches nothing
            body = segment[i + 1:end]
            negate = body.startswith("^")
            body = body[1:] if negate else body
            out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


def import_matches(pattern: str, caddyfile: str, target: str) -> bool:
    """Whether `import pattern` in caddyfile imports target: a relative path is relative to the Caddyfile's directory
    (as Caddy resolves it), a glob (* ? [) matches per path segment as Go's filepath.Match. An environment
    placeholder ({$VAR}) cannot be resolved here: no match."""
    if "{$" in pattern or not pattern:
        return False
    if not os.path.isabs(pattern):
        pattern = os.path.join(os.path.dirname(os.path.abspath(caddyfile)), pattern)
    pattern, target = os.path.normpath(pattern), os.path.normpath(target)
    if not any(c in pattern for c in "*?["):
        return pattern == target
    want, have = pattern.split("/"), target.split("/")
    if len(want) != len(have):
        return False
    return all(re.fullmatch(_glob_regex(w), h) is not None for w, h in zip(want, have))


def imports(text: str, caddyfile: str, target: str) -> bool:
    """Whether the Caddyfile's text imports target at the top level."""
    return any(import_matches(p, caddyfile, target) for p in top_level_imports(text))


def serves_h3(text: str) -> bool:
    """Whether a Caddyfile serves HTTP/3: Caddy's default (h1 h2 h3) unless the global options block (a block opened
    by a bare `{` as the file's first token) holds `protocols` lines, none of which names h3."""
    tokens = tokenize(text)
    if not tokens or tokens[0].quoted or tokens[0].text != "{":
        return True
    protocols = []
    for depth, toks in lines(tokens)[1:]:
        if depth == 0:
            break
        if not toks[0].quoted and toks[0].text == "protocols":
            protocols.append([tok.text for tok in toks[1:]])
    return not protocols or any("h3" in names for names in protocols)


def has_header(text: str) -> bool:
    """Whether the file starts with the role's managed header (among its leading comment lines)."""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped:
            continue
        if not stripped.startswith("#"):
            return False
        if _HEADER.match(stripped):
            return True
    return False


def conffile_md5(conffiles: str, path: str) -> str | None:
    """The md5 dpkg recorded for path, from `dpkg-query -W -f='${Conffiles}' PACKAGE` output."""
    for raw in conffiles.splitlines():
        parts = raw.split()
        if len(parts) >= 2 and parts[0] == path and re.fullmatch(r"[0-9a-f]{32}", parts[1]):
            return parts[1]
    return None


def refusal(path: str, site_file: str, option: str = "webserver_caddy_caddyfile") -> str:
    return (f"{path} is the operator's: it lacks the port443.https.webserver header, differs from the caddy package's "
            f"default and does not import {site_file}. Nothing was changed. Either add this line to it (outside any "
            f"block) and run again: `import {site_file}` (the role then writes only {site_file} and never touches "
            f"{path}), or set {option}: replace to hand {path} over to the role (your file is first copied to "
            f"{ORIGINALS}/ and never deleted there).")


def http2_refusal(path: str) -> str:
    return (f"webserver_http2 is false, but {path} is the operator's: the HTTP versions are Caddy's global option "
            f"`servers {{ protocols ... }}`, which only the main Caddyfile can hold. Nothing was changed. Either put "
            f"`servers {{ protocols h1 }}` in its global options block yourself and leave webserver_http2 at true (the "
            f"role then leaves the HTTP versions to your file), or set webserver_caddy_caddyfile: replace.")


def decide(content: bytes | None, shipped_md5: str | None, takeover: str, http2: bool = True,
           path: str = MAIN, site_file: str = SITE_FILE) -> dict[str, t.Any]:
    """The role's decision about the main Caddyfile.

    owner: absent | distribution | collection | operator-imports | operator
    write: the role writes the main file (global options + import of its own file)
    foreign_ok: writing it replaces a live file without the role's header (or the one the package is about to install)
    keep: a copy of the live file is kept first (the operator's file handed over with replace)
    refusal: '' or the one message the role stops with before any change
    h3: whether the operator's file that imports the role's file serves HTTP/3 (serves_h3; only for operator-imports)"""
    if takeover not in TAKEOVER:
        raise ValueError(f"webserver_caddy_caddyfile must be one of {', '.join(TAKEOVER)}, not {takeover!r}.")
    result: dict[str, t.Any] = {"path": path, "site_file": site_file, "write": True, "foreign_ok": False,
                                "keep": False, "refusal": "", "sha256": None, "imports": []}
    if content is None:
        # No file: the one the caddy package installs next (if it is not installed yet) is the distribution's.
        return dict(result, owner="absent", foreign_ok=True)
    result["sha256"] = hashlib.sha256(content).hexdigest()
    text = content.decode("utf-8", errors="replace")
    result["imports"] = top_level_imports(text)
    if has_header(text):
        return dict(result, owner="collection")
    if any(import_matches(p, path, site_file) for p in result["imports"]):
        return dict(result, owner="operator-imports", write=False, refusal="" if http2 else http2_refusal(path),
                    h3=serves_h3(text))
    if shipped_md5 and hashlib.md5(content).hexdigest() == shipped_md5:  # noqa: S324 - dpkg's conffile checksum
        return dict(result, owner="distribution", foreign_ok=True)
    if takeover == "replace":
        return dict(result, owner="operator", foreign_ok=True, keep=True)
    return dict(result, owner="operator", write=False, refusal=refusal(path, site_file))


def inspect(path: str, site_file: str, takeover: str, http2: bool, run: Runner,
            package: str = "caddy") -> dict[str, t.Any]:
    """decide() with what the host says: the file's bytes and the md5 dpkg recorded for it. An unreadable file (other
    than a missing one) is an error, never a decision."""
    try:
        with open(path, "rb") as handle:
            content: bytes | None = handle.read()
    except FileNotFoundError:
        content = None
    rc, out, _err = run(["dpkg-query", "-W", "-f", "${Conffiles}\n", package], None)
    shipped = conffile_md5(out, path) if rc == 0 else None
    return decide(content, shipped, takeover, http2, path=path, site_file=site_file)


def kept_copy(sha256: str, directory: str = ORIGINALS, name: str = "Caddyfile") -> str:
    """Where the operator's file is kept before the role replaces it: named after its content, so a re-run that
    failed later never piles up copies and a copy is never overwritten by another file."""
    return f"{directory}/{name}.sha256-{sha256[:16]}"
