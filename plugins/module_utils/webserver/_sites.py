# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""The sites a web server already serves (plain Python): read from the server's own account of its configuration,
compared with the virtual hosts of the webserver role.

- nginx: the output of ``nginx -T`` (every loaded file after a ``# configuration file PATH:`` line) is split into
  files, each tokenized with a small lexer of nginx syntax, and walked from the main file through its ``include``
  directives, so only ``server`` blocks of the ``http`` context count (``stream``/``mail`` servers do not).
- Apache: ``apache2ctl -S`` names every virtual host with its port, names, aliases and FILE:LINE; the block is read
  from that file to carry its body.
- Caddy: the Caddyfile is tokenized (site addresses, ports from the scheme or the address); files it imports are
  not read.

A site is a dict: server, names (lower case), ports, tls, file (the path the server loaded), line, enabled (loaded
by the server, or only a file in sites-available/), enabled_by (the link in sites-enabled/ that enables it, ''
when the file is a real file or not enabled), own (a file of the collection: it carries OWN_MARK), default, body
(the block's directives other than the addresses, names and TLS settings, one line each, nested blocks indented by
four spaces).

plan() decides, for the role's virtual hosts, which names an operator's site already serves (conflicts, refused
before any change) and, for vhosts with takeover, the body carried into the role's HTTPS block and the links in
sites-enabled/ the apply step removes (the files they point to stay untouched). validator_findings() turns the
warnings of a server's configuration check that mean two sites fight for one name into errors.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import tempfile
import typing as t

from ansible_collections.port443.https.plugins.module_utils.webserver import _caddyfile, _servers

OWN_MARK = "port443.https.webserver"
ROLE_PORTS = (80, 443)
# Directives of a block that the role's own HTTPS block sets: never carried.
_NGINX_SKIP = re.compile(r"^(listen|server_name|ssl_.*|http2|http3|quic_.*)$")
_APACHE_SKIP = re.compile(r"^(servername|serveralias|ssl.*)$", re.IGNORECASE)
_CADDY_SKIP = re.compile(r"^(tls)$")
# Included TLS settings (certbot's options-ssl-*.conf, Debian's snakeoil snippet) and HSTS: the role sets its own.
_TLS_INCLUDE = re.compile(r"(options-ssl-|snakeoil)", re.IGNORECASE)
_APACHE_SKIP_LINE = re.compile(r"^(include(optional)?\s+\S*(options-ssl-|snakeoil)|header\s+(always\s+)?set\s+"
                               r"strict-transport-security\b)", re.IGNORECASE)
_CONTEXTS = ("main", "http", "stream", "mail", "events")

Site = t.Dict[str, t.Any]
Runner = t.Callable[[t.List[str], t.Optional[str]], t.Tuple[int, str, str]]


class SitesError(Exception):
    """A configuration that could not be read: never taken as "no sites"."""


def _site(server: str, file: str, line: int, **values: t.Any) -> Site:
    site: Site = {"server": server, "names": [], "ports": [], "tls": False, "file": file, "line": line,
                  "enabled": True, "enabled_by": "", "own": False, "default": False, "body": [], "named": True}
    site.update(values)
    return site


# --- nginx -------------------------------------------------------------------------------------------------------

class Directive(t.NamedTuple):
    name: str
    args: t.List[str]  # raw tokens, quotes kept
    line: int
    block: t.Optional[t.List["Directive"]]


def nginx_tokens(text: str) -> t.Iterator[tuple[str, int]]:
    """(token, line) of nginx syntax: words (quotes and escapes kept raw), ';', '{' and '}'; comments dropped."""
    i, line, n = 0, 1, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif c in ";{}":
            yield c, line
            i += 1
        else:
            start, start_line = i, line
            while i < n:
                c = text[i]
                if c in "\"'" and i == start:
                    quote = c
                    i += 1
                    while i < n and text[i] != quote:
                        if text[i] == "\\":
                            i += 1
                        elif text[i] == "\n":
                            line += 1
                        i += 1
                    i += 1
                    break
                if c == "\\" and i + 1 < n:
                    i += 2
                    continue
                if c == "$" and text[i + 1:i + 2] == "{":
                    i = text.find("}", i) + 1 or n
                    continue
                if c.isspace() or c in ";{}":
                    break
                i += 1
            yield text[start:i], start_line


def nginx_parse(text: str, path: str = "") -> list[Directive]:
    """The directive tree of one file of nginx configuration."""
    stack: list[list[Directive]] = [[]]
    words: list[tuple[str, int]] = []
    for token, line in nginx_tokens(text):
        if token == ";":
            if words:
                stack[-1].append(Directive(words[0][0], [w for w, _line in words[1:]], words[0][1], None))
            words = []
        elif token == "{":
            if not words:
                raise SitesError(f"{path}:{line}: a block without a directive name")
            block: list[Directive] = []
            stack[-1].append(Directive(words[0][0], [w for w, _line in words[1:]], words[0][1], block))
            stack.append(block)
            words = []
        elif token == "}":
            if len(stack) == 1 or words:
                raise SitesError(f"{path}:{line}: unexpected }}")
            stack.pop()
        else:
            words.append((token, line))
    if len(stack) != 1 or words:
        raise SitesError(f"{path}: unexpected end of file")
    return stack[0]


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "\"'":
        token = token[1:-1]
    return re.sub(r"\\(.)", r"\1", token)


def nginx_render(block: list[Directive], depth: int = 0) -> list[str]:
    """Directives as configuration lines, nested blocks indented by four spaces per level."""
    lines = []
    for d in block:
        head = " ".join([d.name] + d.args)
        if d.block is None:
            lines.append("    " * depth + head + ";")
        else:
            lines.append("    " * depth + head + " {")
            lines += nginx_render(d.block, depth + 1)
            lines.append("    " * depth + "}")
    return lines


def _nginx_listen(args: list[str]) -> tuple[int | None, bool, bool]:
    """(port, ssl, default_server) of a listen directive (port None for a unix socket)."""
    address = _unquote(args[0]) if args else "80"
    flags = {_unquote(a) for a in args[1:]}
    port: int | None
    if address.startswith("unix:"):
        port = None
    elif address.isdigit():
        port = int(address)
    elif re.search(r":(\d+)$", address):
        port = int(address.rsplit(":", 1)[1])
    else:
        port = 80
    return port, "ssl" in flags or "quic" in flags, bool(flags & {"default_server", "default"})


def _nginx_tls_setting(d: Directive) -> bool:
    """An include of TLS settings or an HSTS header: the role's HTTPS block has its own."""
    if d.name == "include" and d.args:
        return bool(_TLS_INCLUDE.search(_unquote(d.args[0])))
    return d.name == "add_header" and bool(d.args) and _unquote(d.args[0]).lower() == "strict-transport-security"


def _nginx_server(path: str, text_head: str, d: Directive) -> Site:
    names: list[str] = []
    ports: list[int] = []
    tls = default = False
    listens = 0
    for child in d.block or []:
        if child.name == "server_name":
            names += [_unquote(a).lower() for a in child.args]
        elif child.name == "listen":
            listens += 1
            port, ssl, dflt = _nginx_listen(child.args)
            if port is not None and port not in ports:
                ports.append(port)
            tls, default = tls or ssl, default or dflt
    if not listens:
        ports = [80]
    body = nginx_render([c for c in d.block or [] if not _NGINX_SKIP.match(c.name) and not _nginx_tls_setting(c)])
    return _site("nginx", path, d.line, names=[n for n in names if n], ports=ports, tls=tls, default=default,
                 body=body, own=OWN_MARK in text_head)


def _head(text: str) -> str:
    return "\n".join(text.splitlines()[:3])


def nginx_dump_files(dump: str) -> dict[str, str]:
    """The files of an `nginx -T` output, in order: path -> text."""
    files: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in dump.splitlines():
        m = re.match(r"^# configuration file (/.*):$", line)
        if m:
            current = files.setdefault(m.group(1), [])
        elif current is not None:
            current.append(line)
    if not files:
        raise SitesError("the output of nginx -T has no '# configuration file' section")
    return {path: "\n".join(lines) + "\n" for path, lines in files.items()}


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """glob(3) as nginx uses it: * and ? do not cross '/'; [...] classes kept."""
    out = []
    for part in re.split(r"(\*|\?|\[[^\]]*\])", pattern):
        if part == "*":
            out.append("[^/]*")
        elif part == "?":
            out.append("[^/]")
        elif part.startswith("[") and part.endswith("]") and len(part) > 2:
            out.append("[^" + part[2:] if part[1] == "!" else part)
        else:
            out.append(re.escape(part))
    return re.compile("".join(out))


def parse_nginx_dump(dump: str) -> list[Site]:
    """Every server block of the http context in an `nginx -T` output (enabled sites)."""
    files = nginx_dump_files(dump)
    trees = {path: nginx_parse(text, path) for path, text in files.items()}
    main = next(iter(files))
    prefix = os.path.dirname(main)
    sites: list[Site] = []
    seen: set[tuple[str, str]] = set()

    def walk(path: str, block: list[Directive], context: str) -> None:
        for d in block:
            if d.name == "include" and d.args:
                pattern = _unquote(d.args[0])
                pattern = pattern if pattern.startswith("/") else os.path.join(prefix, pattern)
                regex = _glob_regex(pattern)
                for included in sorted(p for p in trees if regex.fullmatch(p)):
                    if (included, context) not in seen:
                        seen.add((included, context))
                        walk(included, trees[included], context)
            elif d.name == "server" and d.block is not None and context == "http":
                sites.append(_nginx_server(path, _head(files[path]), d))
            elif d.block is not None and d.name in _CONTEXTS:
                walk(path, d.block, d.name)

    walk(main, trees[main], "main")
    return sites


def parse_nginx_file(path: str, text: str) -> list[Site]:
    """The server blocks of a file of the http context read on its own (a site in sites-available/)."""
    return [_nginx_server(path, _head(text), d) for d in nginx_parse(text, path) if d.name == "server" and d.block is not None]


# --- Apache ------------------------------------------------------------------------------------------------------

_S_PORT = re.compile(r"^(\S+):(\d+)\s+is a NameVirtualHost$")
_S_ENTRY = re.compile(r"^\s*(?:default server|port (\d+) namevhost)\s+(\S+)\s+\((/.*):(\d+)\)$")
_S_SINGLE = re.compile(r"^(\S+):(\d+)\s+(\S+)\s+\((/.*):(\d+)\)$")
_S_ALIAS = re.compile(r"^\s+(?:wild )?alias\s+(\S+)$")


def parse_apache_dump(dump: str) -> list[Site]:
    """The virtual hosts of `apache2ctl -S` (names, aliases, ports, FILE:LINE; bodies are read by apache_bodies)."""
    if "VirtualHost configuration:" not in dump:
        raise SitesError("the output of apache2ctl -S has no 'VirtualHost configuration:' section")
    by_key: dict[tuple[str, int], Site] = {}
    last: Site | None = None
    port = 0
    for line in dump.split("VirtualHost configuration:", 1)[1].splitlines():
        m = _S_PORT.match(line)
        if m:
            port, last = int(m.group(2)), None
            continue
        single = _S_SINGLE.match(line)
        entry = _S_ENTRY.match(line)
        alias = _S_ALIAS.match(line)
        if single:
            p, name, path, lineno = int(single.group(2)), single.group(3), single.group(4), int(single.group(5))
        elif entry:
            p, name, path, lineno = int(entry.group(1) or port), entry.group(2), entry.group(3), int(entry.group(4))
        elif alias and last is not None:
            if alias.group(1).lower() not in last["names"]:
                last["names"].append(alias.group(1).lower())
            continue
        else:
            if line and not line[0].isspace():
                break  # ServerRoot: ... the virtual hosts are over
            continue
        site = by_key.setdefault((path, lineno), _site("apache", path, lineno))
        if name.lower() not in site["names"]:
            site["names"].append(name.lower())
        if p not in site["ports"]:
            site["ports"].append(p)
        site["default"] = site["default"] or "default server" in line
        last = site
    for site in by_key.values():
        site["tls"] = 443 in site["ports"]
    return list(by_key.values())


def apache_lines(text: str) -> list[tuple[int, str]]:
    """(line number, logical line) of Apache configuration: continuation lines joined, comments and blanks dropped."""
    out: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        if raw.rstrip().endswith("\\"):
            pending += raw.strip()[:-1].strip() + " "
            continue
        logical = (pending + raw.strip()).strip()
        pending = ""
        if logical and not logical.startswith("#"):
            out.append((start, logical))
    return out


def apache_block(text: str, line: int, path: str = "") -> list[str]:
    """The body of the <VirtualHost> section that starts on line: one line per directive, nested sections
    indented by four spaces; ServerName, ServerAlias, SSL*, an Include of TLS settings (certbot's
    options-ssl-apache.conf, snakeoil) and the HSTS header of the section itself left out."""
    lines = apache_lines(text)
    start = next((i for i, (n, s) in enumerate(lines) if n == line and s.lower().startswith("<virtualhost")), None)
    if start is None:
        raise SitesError(f"{path}:{line}: no <VirtualHost> section starts on this line")
    body, depth = [], 0
    for _n, s in lines[start + 1:]:
        if s.startswith("</"):
            if depth == 0:
                return body
            depth -= 1
            body.append("    " * depth + s)
            continue
        if depth == 0 and (_APACHE_SKIP.match(s.split(None, 1)[0]) or _APACHE_SKIP_LINE.match(s)):
            continue
        body.append("    " * depth + s)
        if s.startswith("<"):
            depth += 1
    raise SitesError(f"{path}:{line}: the <VirtualHost> section has no end")


def parse_apache_file(path: str, text: str) -> list[Site]:
    """The virtual hosts of a file read on its own (a site in sites-available/): names and ports from the file."""
    sites = []
    for number, s in apache_lines(text):
        m = re.match(r"^<VirtualHost\s+([^>]*)>$", s, re.IGNORECASE)
        if not m:
            continue
        ports = sorted({int(a.rsplit(":", 1)[1]) if re.search(r":\d+$", a) else 80 for a in m.group(1).split()})
        body = apache_block(text, number, path)
        names, named = [], False
        for _n, inner in apache_lines(text)[[n for n, _line in apache_lines(text)].index(number) + 1:]:
            if inner.lower().startswith("</virtualhost"):
                break
            word = inner.split()
            if word[0].lower() == "servername":
                names, named = [w.lower().split(":")[0] for w in word[1:2]] + names, True
            elif word[0].lower() == "serveralias":
                names += [w.lower() for w in word[1:]]
        sites.append(_site("apache", path, number, names=names, ports=ports, body=body, own=OWN_MARK in _head(text),
                           tls=443 in ports or any(b.lower().startswith("sslengine on") for b in body), named=named))
    return sites


def apache_bodies(sites: list[Site], read: t.Callable[[str], str | None]) -> list[Site]:
    """Fill body, own and tls of the sites of parse_apache_dump from their files."""
    for site in sites:
        text = read(site["file"])
        if text is None:
            raise SitesError(f"{site['file']} (named by apache2ctl -S) cannot be read")
        site["own"] = OWN_MARK in _head(text)
        site["body"] = [] if site["own"] else apache_block(text, site["line"], site["file"])
        in_file = [s for s in parse_apache_file(site["file"], text) if s["line"] == site["line"]]
        if in_file and not in_file[0]["named"] and site["names"]:
            # apache2ctl -S shows the server's own name for a vhost without ServerName: not a name the vhost chose.
            site["names"] = site["names"][1:]
        site["tls"] = site["tls"] or any(b.lower().startswith("sslengine on") for b in site["body"])
    return sites


# --- Caddy -------------------------------------------------------------------------------------------------------

def caddy_tokens(text: str) -> list[tuple[str, int]]:
    """(token, line) of a Caddyfile as the collection's Caddyfile lexer reads it (_caddyfile.tokenize), a quoted token
    quoted (and escaped) again, and '\\n' after the last token of each line; comments dropped."""
    out: list[tuple[str, int]] = []
    for _depth, line_tokens in _caddyfile.lines(_caddyfile.tokenize(text)):
        out += [(_requote(tok.text) if tok.quoted else tok.text, tok.line) for tok in line_tokens]
        out.append(("\n", line_tokens[-1].end_line))
    return out


def _requote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _caddy_address(address: str) -> tuple[str, list[int]]:
    m = re.match(r"^(?:(https?)://)?(\[[^\]]*\]|[^:/]*)(?::(\d+))?(/.*)?$", address)
    if not m:
        return "", []
    scheme, host, port = m.group(1), m.group(2).lower(), m.group(3)
    if port:
        ports = [int(port)]
    elif scheme == "http":
        ports = [80]
    elif scheme == "https":
        ports = [443]
    else:
        ports = [80, 443] if host else [80]
    return host, ports


def parse_caddyfile(path: str, text: str) -> list[Site]:
    """The site blocks of a Caddyfile (the global options block and snippets left out)."""
    tokens = caddy_tokens(text)
    own = OWN_MARK in _head(text)
    sites: list[Site] = []
    i = 0
    while i < len(tokens):
        if tokens[i][0] == "\n":
            i += 1
            continue
        # A block's keys: the words up to '{' on the same line (or across lines ending with ',').
        keys, line = [], tokens[i][1]
        while i < len(tokens) and tokens[i][0] != "{":
            if tokens[i][0] == "\n" and not (keys and keys[-1].endswith(",")):
                break
            if tokens[i][0] != "\n":
                keys += [k for k in tokens[i][0].split(",") if k]
            i += 1
        braced = i < len(tokens) and tokens[i][0] == "{"
        body_tokens: list[tuple[str, int]] = []
        if braced:
            depth, i = 1, i + 1
            while i < len(tokens) and depth:
                depth += {"{": 1, "}": -1}.get(tokens[i][0], 0)
                if depth:
                    body_tokens.append(tokens[i])
                i += 1
            if depth:
                raise SitesError(f"{path}:{line}: the block has no closing brace")
        else:
            # A Caddyfile with one site and no braces: the rest of the file is its body.
            body_tokens, i = tokens[i:], len(tokens)
        if not keys or keys[0].startswith("(") or keys[0].startswith("&("):
            continue
        names, ports = [], []
        for key in keys:
            host, key_ports = _caddy_address(key)
            if host and host not in names:
                names.append(host)
            ports += [p for p in key_ports if p not in ports]
        body, words, depth = [], [], 0
        for token, _n in body_tokens:
            if token == "\n":
                if words:
                    if words == ["}"]:
                        depth -= 1
                    if not (depth == 0 and _CADDY_SKIP.match(words[0])):
                        body.append("    " * depth + " ".join(words))
                    if words[-1] == "{":
                        depth += 1
                words = []
            else:
                words.append(token)
        sites.append(_site("caddy", path, line, names=names, ports=sorted(ports), tls=443 in ports, own=own,
                           body=body))
    return sites


# --- on the host -------------------------------------------------------------------------------------------------

# From the registry of web servers: the command that lists the enabled sites, the directory of the others, and for
# a server without such a command (Caddy) the main file that is read instead.
DUMP_COMMANDS = {s.name: list(s.sites_dump) for s in _servers.SERVERS.values() if s.sites_dump}
AVAILABLE_DIRS = {s.name: s.sites_available for s in _servers.SERVERS.values() if s.sites_available}
CADDYFILE = _servers.facts("caddy")["main_file"]


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def enabled_link(path: str) -> str:
    """path when it is a link in a directory named sites-enabled (what a2ensite / nginx users make), else ''."""
    return path if os.path.basename(os.path.dirname(path)) == "sites-enabled" and os.path.islink(path) else ""


def written_by_collection(path: str) -> bool:
    """True when PATH carries the collection's header in its first lines."""
    text = _read(path)
    return text is not None and OWN_MARK in _head(text)


def rewrite_paths(root: str, old: str, new: str) -> None:
    """Point absolute paths OLD (a live tree) at NEW (its copy) in every file under ROOT; a link whose target holds
    OLD becomes a file of its own there."""
    for directory, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(directory, name)
            if os.path.islink(path) and not os.path.exists(path):
                continue
            try:
                with open(path, "rb") as handle:
                    data = handle.read()
            except OSError:
                continue
            if old.encode() in data:
                if os.path.islink(path):
                    os.unlink(path)
                with open(path, "wb") as handle:
                    handle.write(data.replace(old.encode(), new.encode()))


def dump_without_own(server: str, run: Runner) -> tuple[int, str]:
    """The server's dump of a private copy of its live tree without the collection's files, with the copy's paths
    read as the live ones: (rc, output)."""
    live = os.path.dirname(AVAILABLE_DIRS[server])
    work = tempfile.mkdtemp(prefix="port443-sites.")
    try:
        copy = os.path.join(work, os.path.basename(live))
        rc, _out, _err = run(["cp", "-a", live, copy], None)
        if rc != 0:
            return rc, ""
        for directory, _dirs, names in os.walk(copy):
            for name in names:
                path = os.path.join(directory, name)
                if os.path.isfile(path) and written_by_collection(path):
                    os.unlink(path)
        if _servers.get(server).stage_rewrite:
            rewrite_paths(copy, live + "/", copy + "/")
            argv = ["nginx", "-T", "-c", f"{copy}/nginx.conf"]
        else:
            argv = ["env", f"APACHE_CONFDIR={copy}", "apache2ctl", "-S"]
        rc, out, _err = run(argv, None)
        return rc, out.replace(copy, live)
    finally:
        shutil.rmtree(work, ignore_errors=True)


_HAPROXY_SECTION = re.compile(r"^\s*(frontend|listen|backend|defaults|global|peers|resolvers|userlist|program|"
                              r"http-errors|ring|cache|mailers|crt-store|traces|log-forward)\b\s*(\S*)")
_HAPROXY_PORT = re.compile(r":(\d+)(?:-(\d+))?$")


def parse_haproxy(path: str, text: str) -> list[Site]:
    """The frontends and listen sections of an HAProxy configuration file with the TCP ports they bind (each site's
    names are empty: HAProxy routes by rules, not by names). A bind on a UDP (quic) address is left out."""
    sites: list[Site] = []
    current: Site | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].rstrip()
        section = _HAPROXY_SECTION.match(line)
        if section:
            current = None
            if section.group(1) in ("frontend", "listen"):
                current = _site("haproxy", path, number, frontend=section.group(2), named=False)
                sites.append(current)
            continue
        words = line.split()
        if current is None or len(words) < 2 or words[0] != "bind":
            continue
        for address in words[1].split(","):
            if address.startswith(("quic", "udp", "unix@", "abns@", "/", "fd@", "sockpair@")):
                continue
            match = _HAPROXY_PORT.search(address)
            if match:
                low = int(match.group(1))
                high = int(match.group(2) or low)
                current["ports"] += [p for p in ROLE_PORTS if low <= p <= high] or [low]
        current["tls"] = current["tls"] or "ssl" in words[2:]
    return sites


def _entries(directory: str) -> list[tuple[str, str]]:
    """(name, path) of every entry of a directory, sorted by name; none when it cannot be listed (absent)."""
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        names = []
    return [(name, os.path.join(directory, name)) for name in names]


def _haproxy_sites(read: t.Callable[[str], str | None]) -> dict[str, t.Any]:
    """The operator's frontends: the main haproxy.cfg, and any file in the role's directory it did not write."""
    live = _servers.get("haproxy").live_root
    main = f"{live}/haproxy.cfg"
    text = read(main)
    if text is None:
        return {"installed": False, "sites": []}
    sites = parse_haproxy(main, text)
    for directory in _servers.get("haproxy").conf_dirs:
        for name, path in _entries(directory):
            if name.endswith(".cfg") and os.path.isfile(path) and not written_by_collection(path):
                sites += parse_haproxy(path, read(path) or "")
    return {"installed": True, "sites": sites}


def collect(server: str, run: Runner, read: t.Callable[[str], str | None] = _read,
            available_dir: str | None = None) -> dict[str, t.Any]:
    """Every site of the server on this host, enabled ones from the server's own dump, disabled ones from
    sites-available/. {'installed': bool, 'sites': [...], 'dump_error': str}. Raises SitesError when the
    configuration cannot be read (never "no sites" then)."""
    if server == "haproxy":
        return _haproxy_sites(read)
    if server == "caddy":
        text = read(CADDYFILE)
        return {"installed": text is not None, "sites": parse_caddyfile(CADDYFILE, text) if text is not None else []}
    argv = DUMP_COMMANDS[server]
    rc, out, err = run(argv, None)
    if rc == 127:
        root = os.path.dirname(AVAILABLE_DIRS[server])
        if os.path.exists(root):
            raise SitesError(f"{argv[0]} is not installed but {root} exists: its sites cannot be read (install "
                             f"the server, or remove {root})")
        return {"installed": False, "sites": []}
    if rc != 0:
        # The collection's own files may be what fails (a client CA copy or certificate it is about to write again):
        # read the tree once more without them. Only when that fails too was the configuration broken before the run.
        rc2, out2 = dump_without_own(server, run)
        if rc2 == 0:
            rc, out, err = rc2, out2, ""
    if rc != 0:
        # Read before the role changes anything: the live configuration fails its own check, so it was broken before
        # this run (the message names the file and line the server names).
        raise SitesError(f"the live {server} configuration was already broken before this run ({' '.join(argv)} "
                         f"failed, rc {rc}): {' | '.join(line.strip() for line in (err or out).strip().splitlines())}. "
                         "Fix that file (the problem predates the run), then run again")
    if server == "nginx":
        sites = parse_nginx_dump(out)
    else:
        sites = apache_bodies(parse_apache_dump(out), read)
    for site in sites:
        site["enabled_by"] = enabled_link(site["file"])
    loaded = {os.path.realpath(s["file"]) for s in sites}
    directory = available_dir or AVAILABLE_DIRS[server]
    for name, path in _entries(directory):
        if not os.path.isfile(path) or os.path.realpath(path) in loaded or not name.endswith(_servers.get(server).sites_available_suffix):
            continue
        text = read(path)
        if text is None:
            continue
        try:
            found = parse_nginx_file(path, text) if server == "nginx" else parse_apache_file(path, text)
        except SitesError:
            continue  # a file the server does not load and that does not parse: nothing to take over from it
        for site in found:
            site["enabled"] = False
        sites += found
    return {"installed": True, "sites": sites}


# --- decisions ---------------------------------------------------------------------------------------------------

def _shared(server: str, site: Site, names: set[str]) -> list[str]:
    """The names of names that site answers for in a way that beats or fights the role's vhost."""
    shared = [n for n in site["names"] if n in names]
    if server == "apache":
        # Apache takes the first virtual host whose name or alias matches, wildcards included.
        shared += [n for n in names for pattern in site["names"]
                   if "*" in pattern or "?" in pattern if fnmatch.fnmatchcase(n, pattern) and n not in shared]
    return sorted(set(shared))


def _where(site: Site) -> str:
    return f"{site['file']}:{site['line']}"


def plan(server: str, sites: list[Site], vhosts: list[dict[str, t.Any]],
         ports: t.Sequence[int] = ROLE_PORTS) -> dict[str, t.Any]:
    """For the role's vhosts (name, server_names, takeover): conflicts (names an operator's site already serves on
    the role's ports, vhost without takeover), refusals (a takeover that cannot be done without editing an
    operator's file), takeover (vhost name -> body, sources, disable, and whether Apache needs mod_proxy for the body)
    and disable (every link to remove)."""
    result: dict[str, t.Any] = {"conflicts": [], "refusals": [], "takeover": {}, "disable": []}
    foreign = [s for s in sites if not s["own"]]
    if server == "haproxy":
        # Two frontends on one port both bind (SO_REUSEPORT): each would take a share of the connections.
        for site in foreign:
            shared = sorted(set(site["ports"]) & set(ports))
            if site["enabled"] and shared:
                result["conflicts"].append(
                    f"{_where(site)}: the operator's HAProxy section {site.get('frontend') or '?'} binds port "
                    f"{', '.join(map(str, shared))}, where the role's frontends listen: HAProxy would accept both and "
                    "split the connections between them. Move that bind to another port or address (the role never "
                    "edits haproxy.cfg), or serve those sites through the role's vhosts.")
        result["refusals"] += [f"vhost {v.get('name', '?')}: takeover is for nginx and Apache; HAProxy vhosts name their "
                               "backends (upstream or backends)." for v in vhosts if v.get("takeover")]
        return result
    for vhost in vhosts:
        names = {str(n).lower() for n in vhost.get("server_names") or []}
        label = vhost.get("name", "?")

        def serving(enabled: bool) -> list[tuple[Site, list[str]]]:
            return [(s, _shared(server, s, names)) for s in foreign if s["enabled"] == enabled
                    and (not enabled or set(s["ports"]) & set(ports)) and _shared(server, s, names)]

        live = serving(True)
        if not vhost.get("takeover"):
            for site, shared in live:
                result["conflicts"].append(
                    f"vhost {label}: {', '.join(shared)} already served by {_where(site)} (port "
                    f"{', '.join(map(str, site['ports']))}); set takeover: true on the vhost to carry that site into "
                    f"the HTTPS one, or remove {', '.join(shared)} from the vhost or from that file.")
            continue
        if server == "caddy":
            for site, shared in live:
                result["refusals"].append(
                    f"vhost {label}: {', '.join(shared)} served by {_where(site)}: Caddy sites live in the operator's "
                    f"Caddyfile, which cannot be taken over without editing it; remove the site from it (its "
                    f"directives can go into the vhost's extra_directives), or remove {', '.join(shared)} from the vhost.")
            continue
        refusals = []
        for site, shared in live:
            if not site["enabled_by"]:
                refusals.append(
                    f"vhost {label}: {', '.join(shared)} served by {_where(site)}, a file the collection did not write "
                    f"and that no link in sites-enabled/ enables: it cannot be taken over without editing it. Move that "
                    f"server block into its own file in sites-available/ and enable it with a link in sites-enabled/ "
                    f"(a2ensite, ln -s), or remove {', '.join(shared)} from it or from the vhost.")
        links = sorted({s["enabled_by"] for s, _shared_names in live if s["enabled_by"]})
        for site in foreign:
            if site["enabled_by"] in links and not set(site["names"]) <= names:
                refusals.append(
                    f"vhost {label}: disabling {site['enabled_by']} would also stop {_where(site)} serving "
                    f"{', '.join(sorted(set(site['names']) - names))}: add those names to the vhost, or move that "
                    f"block into a file of its own.")
        sources = [s for s, _shared_names in live] or [s for s, _shared_names in serving(False)]
        if not sources:
            refusals.append(f"vhost {label}: takeover is set but no site of {server} serves "
                            f"{', '.join(sorted(names))} (enabled, or in sites-available/): remove takeover.")
        carried = [s for s in sources if s["tls"]] or sources
        bodies = {tuple(s["body"]) for s in carried}
        if len(bodies) > 1:
            refusals.append(f"vhost {label}: several sites serve these names differently "
                            f"({', '.join(_where(s) for s in carried)}): keep one of them.")
        result["refusals"] += refusals
        if not refusals:
            result["takeover"][label] = {"body": list(carried[0]["body"]), "sources": [_where(s) for s in carried],
                                         "disable": links,
                                         "proxy": server == "apache" and uses_proxy(carried[0]["body"])}
            result["disable"] += [link for link in links if link not in result["disable"]]
    return result


def uses_proxy(body: t.Iterable[str]) -> bool:
    """Whether carried Apache directives need mod_proxy (ProxyPass, ProxyPassMatch, RewriteRule [P] ...)."""
    return any(re.match(r"^\s*(Proxy\w*|<Proxy)", line, re.IGNORECASE) or re.search(r"\[[^\]]*\bP\b", line)
               for line in body)


_FINDINGS = {s.name: re.compile(s.validate_conflicts, re.IGNORECASE) for s in _servers.SERVERS.values()}


def validator_findings(server: str, output: str) -> list[str]:
    """The lines of a configuration check's output (nginx -t, apache2ctl -t, caddy validate; stdout and stderr)
    that mean two sites fight for one name or address: errors for the role, although the checker passes them.
    nginx: 'conflicting server name ... ignored'; Apache: 'VirtualHost ... overlaps with VirtualHost ...' and
    '_default_ VirtualHost overlap'; Caddy: 'ambiguous site definition'. An empty list means none was found."""
    pattern = _FINDINGS.get(server)
    if pattern is None:
        raise ValueError(f"unknown server {server!r}")
    return [line.strip() for line in output.splitlines() if pattern.search(line)]
