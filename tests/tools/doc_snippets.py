# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Configuration snippets in the docs are checked by the program they configure.

A fenced block in docs/*.md, roles/*/README.md or README.md that is configuration for another program carries a
marker on the line before its fence (blank lines between are allowed) and the fence names its language:

    <!-- snippet-check: named-checkconf -->
    ```named
    zone "example.com" { ... };
    ```

    <!-- snippet-check: nginx context=server -->
    ```nginx
    ssl_protocols TLSv1.2 TLSv1.3;
    ```

The checker decides how the block is wrapped into a file its program accepts (CHECKERS below: its contexts, the
default first) and which command judges it. `…` in a snippet stands for a secret the reader fills in; the check puts
a valid value there. Commands:

    python tests/tools/doc_snippets.py lint [FILE.md …]          # exit 1 when a config block is not marked (and why)
    python tests/tools/doc_snippets.py extract OUT [FILE.md …]   # lint, then write OUT/manifest.json (it holds
        # every wrapped snippet) and each wrapped snippet as a file of its own, to read
    python tests/tools/doc_snippets.py check DIR [--expect-reject]
        # on a host with the checkers: run each one; exit 1 naming the doc file and line of every snippet that was
        # rejected (with --expect-reject: of every snippet that was accepted, for fixtures that must fail)

Without FILE.md arguments the collection's own docs are read. `lint` and `extract` need no checker; `check` needs
only Python 3 and the checkers' Debian packages (manifest.json lists them), so it runs on a test host.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import typing as t

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MARKER = re.compile(r"^\s*<!--\s*snippet-check:\s*(?P<args>.*?)\s*-->\s*$")
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
# A dummy TSIG secret (32 bytes, base64) and a stand-in for other secrets.
PLACEHOLDER = {"named-checkconf": "c25pcHBldC1jaGVjayBkdW1teSB0c2lnIHNlY3JldCE=", "*": "snippet-check-placeholder"}

_APACHE_HEAD = """ServerRoot /etc/apache2
ServerName snippet-check.test
Mutex file:${APACHE_LOCK_DIR} default
PidFile ${APACHE_PID_FILE}
ErrorLog /dev/null
IncludeOptional mods-enabled/*.load
IncludeOptional mods-enabled/*.conf
""" + "".join(
    f"<IfModule !{mod}_module>\n  LoadModule {mod}_module /usr/lib/apache2/modules/mod_{mod}.so\n</IfModule>\n"
    for mod in ("socache_shmcb", "ssl", "headers", "rewrite", "http2", "proxy", "proxy_http"))

# checker -> what it needs and does. "contexts": how a snippet is wrapped (the first is the default; {} = snippet);
# "program": what must be installed (default: the command's first word).
CHECKERS: dict[str, dict[str, t.Any]] = {
    "named-checkconf": {
        "languages": ["named", "bind"], "packages": ["bind9-utils"], "ext": "conf",
        "command": ["named-checkconf", "{file}"],
        "contexts": {"file": "{}\n", "zone": 'zone "snippet-check.test" {{\n  type primary;\n  file "/dev/null";\n{}\n}};\n',
                     "options": "options {{\n{}\n}};\n"},
    },
    "nginx": {
        "languages": ["nginx"], "packages": ["nginx"], "ext": "conf",
        "command": ["nginx", "-t", "-q", "-e", "stderr", "-g", "pid /tmp/snippet-check-nginx.pid;", "-c", "{file}"],
        "contexts": {"http": "events {{}}\nhttp {{\n{}\n}}\n", "server": "events {{}}\nhttp {{\nserver {{\n{}\n}}\n}}\n",
                     "main": "{}\n"},
    },
    "apache": {
        "languages": ["apache", "apacheconf"], "packages": ["apache2"], "ext": "conf", "program": "apache2",
        "command": ["sh", "-c", '. /etc/apache2/envvars && mkdir -p "$APACHE_RUN_DIR" "$APACHE_LOCK_DIR" '
                    '&& exec apache2 -t -f "$0"', "{file}"],
        "contexts": {"server": _APACHE_HEAD.replace("{", "{{").replace("}", "}}") + "{}\n",
                     "vhost": _APACHE_HEAD.replace("{", "{{").replace("}", "}}")
                     + "<VirtualHost *:443>\n{}\n</VirtualHost>\n"},
    },
    "caddy": {
        "languages": ["caddyfile", "caddy"], "packages": ["caddy"], "ext": "Caddyfile",
        "command": ["caddy", "validate", "--adapter", "caddyfile", "--config", "{file}"],
        "contexts": {"file": "{}\n", "site": "snippet-check.test {{\n{}\n}}\n"},
    },
    "nft": {
        "languages": ["nft", "nftables"], "packages": ["nftables"], "ext": "nft",
        "command": ["nft", "-c", "-f", "{file}"],
        "contexts": {"file": "{}\n",
                     "chain": "table inet snippet_check {{\n  chain input {{\n"
                              "    type filter hook input priority filter; policy accept;\n{}\n  }}\n}}\n"},
    },
}
LANGUAGE_CHECKER = {lang: name for name, spec in CHECKERS.items() for lang in spec["languages"]}
# Configuration languages that no checker covers yet: a block in one of them fails the lint until one is added.
UNCHECKED_CONFIG_LANGUAGES = {"conf", "cfg", "ini", "toml", "systemd", "sudoers", "haproxy", "iptables", "ufw",
                              "squid", "dnsmasq", "named.conf", "nginxconf", "apache2", "zone", "dns-zone"}
# What a configuration looks like, for blocks whose fence names no such language.
SNIFF = [
    (re.compile(r"^\s*(zone|options|key|acl|view|controls)\s+(\"[^\"]*\"\s*)?\{", re.M), "named"),
    (re.compile(r"^\s*update-policy\s*\{", re.M), "named"),
    (re.compile(r"^\s*(server|http|upstream|events|location\s+\S+)\s*\{", re.M), "nginx"),
    (re.compile(r"^\s*(ssl_certificate(_key)?|ssl_protocols|listen\s+\S*443)\b[^\n]*;\s*$", re.M), "nginx"),
    (re.compile(r"^\s*<(VirtualHost|Directory|IfModule|Location)\b", re.M), "apache"),
    (re.compile(r"^\s*(SSLEngine|SSLCertificate(Key)?File|SSLProtocol)\s", re.M), "apache"),
    (re.compile(r"^\s*table\s+(inet|ip|ip6|bridge|arp|netdev)\s+\S+\s*\{", re.M), "nft"),
    (re.compile(r"^\s*(tls\s+internal|reverse_proxy\s|file_server\b)", re.M), "caddyfile"),
]


class Block(t.NamedTuple):
    path: str          # as given (relative to the root for the collection's docs)
    line: int          # line of the opening fence, 1-based
    language: str
    text: str
    marker: str | None  # the marker's arguments, None when unmarked
    marker_line: int
    end: int           # line of the closing fence


def doc_files(root: str = ROOT) -> list[str]:
    """The collection's docs that may carry snippets, relative to root."""
    found = sorted(glob.glob(os.path.join(root, "docs", "*.md"))) + sorted(
        glob.glob(os.path.join(root, "roles", "*", "README.md"))) + [os.path.join(root, "README.md")]
    return [os.path.relpath(p, root) for p in found if os.path.isfile(p)]


def blocks(path: str, root: str = ROOT) -> list[Block]:
    """Every fenced block of a Markdown file, with the marker right above it (if any)."""
    with open(os.path.join(root, path), encoding="utf-8") as handle:
        lines = handle.read().split("\n")
    found: list[Block] = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match or (match.group("fence")[0] == "`" and "`" in match.group("info")):  # CommonMark: no fence
            i += 1
            continue
        start, fence, indent = i, match.group("fence"), len(match.group("indent"))
        body: list[str] = []
        i += 1
        while i < len(lines) and not (lines[i].strip().startswith(fence) and lines[i].strip().strip(fence[0]) == ""):
            body.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i])
            i += 1
        marker, marker_line = None, 0
        j = start - 1
        while j >= 0 and lines[j].strip() == "":
            j -= 1
        if j >= 0 and (mark := MARKER.match(lines[j])):
            marker, marker_line = mark.group("args"), j + 1
        found.append(Block(path, start + 1, match.group("info").strip().split(" ")[0].lower(), "\n".join(body),
                           marker, marker_line, i + 1))
        i += 1
    return found


def parse_marker(args: str) -> tuple[str, dict[str, str]]:
    words = args.split()
    checker = words[0] if words else ""
    options = dict(w.split("=", 1) if "=" in w else (w, "") for w in words[1:])
    return checker, options


def problems(block: Block) -> list[str]:
    """Why a block escapes the check (empty: it is checked, or it is no configuration)."""
    where = f"{block.path}:{block.line}"
    if block.marker is None:
        if not block.language:
            return [f"{where}: a fenced block without a language: name it (```yaml, ```bash, ```text, ```nginx …)"]
        if block.language in LANGUAGE_CHECKER:
            checker = LANGUAGE_CHECKER[block.language]
            return [f"{where}: a ```{block.language} block without a marker: put "
                    f"'<!-- snippet-check: {checker} -->' on the line before it"]
        if block.language in UNCHECKED_CONFIG_LANGUAGES:
            return [f"{where}: a ```{block.language} block is configuration that no checker covers: add one to "
                    "tests/tools/doc_snippets.py (CHECKERS) and mark the block"]
        if block.language in ("markdown", "md"):  # an example of the docs' own markup (markers included)
            return []
        for pattern, language in SNIFF:
            if pattern.search(block.text):
                return [f"{where}: this ```{block.language} block looks like {language} configuration: fence it as "
                        f"```{language} and put '<!-- snippet-check: {LANGUAGE_CHECKER[language]} -->' before it"]
        return []
    checker, options = parse_marker(block.marker)
    where = f"{block.path}:{block.marker_line}"
    if checker not in CHECKERS:
        return [f"{where}: unknown checker {checker!r} in the snippet-check marker (known: {', '.join(CHECKERS)})"]
    spec = CHECKERS[checker]
    found = []
    if block.language not in spec["languages"]:
        found.append(f"{where}: a {checker} snippet must be fenced as ```{spec['languages'][0]} "
                     f"(it is {('```' + block.language) if block.language else 'fenced without a language'})")
    unknown = set(options) - {"context"}
    if unknown:
        found.append(f"{where}: unknown option(s) {', '.join(sorted(unknown))} in the snippet-check marker")
    context = options.get("context")
    if context is not None and context not in spec["contexts"]:
        found.append(f"{where}: {checker} has no context {context!r} (known: {', '.join(spec['contexts'])})")
    return found


def orphan_markers(path: str, root: str = ROOT) -> list[str]:
    """Markers that stand before no fenced block."""
    with open(os.path.join(root, path), encoding="utf-8") as handle:
        lines = handle.read().split("\n")
    found = blocks(path, root)
    used = {b.marker_line for b in found if b.marker is not None}
    inside = {n for b in found for n in range(b.line, b.end + 1)}  # a marker shown inside a block is an example
    return [f"{path}:{n}: a snippet-check marker that no fenced block follows"
            for n, line in enumerate(lines, 1) if MARKER.match(line) and n not in used | inside]


def lint(paths: list[str], root: str = ROOT) -> list[str]:
    found: list[str] = []
    for path in paths:
        found.extend(orphan_markers(path, root))
        for block in blocks(path, root):
            found.extend(problems(block))
    return found


def render(block: Block) -> tuple[str, str, int]:
    """The checker's name, the whole file for it, and the file's line that holds the snippet's first line."""
    checker, options = parse_marker(block.marker or "")
    spec = CHECKERS[checker]
    template = spec["contexts"][options.get("context", next(iter(spec["contexts"])))]
    text = block.text.replace("…", PLACEHOLDER.get(checker, PLACEHOLDER["*"]))
    head = template.format("\0")
    offset = head[:head.index("\0")].count("\n") + 1
    return checker, template.format(text), offset


def extract(paths: list[str], out: str, root: str = ROOT) -> list[dict[str, t.Any]]:
    found = lint(paths, root)
    if found:
        raise SystemExit("configuration snippets that escape the check:\n" + "\n".join(found))
    os.makedirs(out, exist_ok=True)
    manifest: list[dict[str, t.Any]] = []
    for path in paths:
        for block in blocks(path, root):
            if block.marker is None:
                continue
            checker, text, offset = render(block)
            name = f"{len(manifest) + 1:03d}-{checker}.{CHECKERS[checker]['ext']}"
            with open(os.path.join(out, name), "w", encoding="utf-8") as handle:
                handle.write(text)
            manifest.append({"doc": path, "line": block.line + 1, "checker": checker, "file": name,
                             "offset": offset, "packages": CHECKERS[checker]["packages"], "text": text})
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as handle:
        json.dump({"snippets": manifest,
                   "packages": sorted({p for m in manifest for p in m["packages"]})}, handle, indent=1)
    return manifest


# Files that web server snippets name: a missing one is made (a self-signed pair) before the checker runs, on the
# test host only, so that `nginx -t` and friends judge the configuration rather than the host's files.
_FILE_DIRECTIVES = re.compile(
    r"^\s*(?P<d>ssl_certificate_key|ssl_certificate|ssl_trusted_certificate|ssl_client_certificate|"
    r"SSLCertificateKeyFile|SSLCertificateFile|SSLCACertificateFile|SSLCertificateChainFile)\s+\"?(?P<p>/[^\s;\"]+)",
    re.M)
_CADDY_TLS = re.compile(r"^\s*tls\s+(?P<cert>/\S+)\s+(?P<key>/\S+)", re.M)


def _provide_files(text: str, work: str) -> None:
    wanted = [(m.group("p"), "key" in m.group("d").lower()) for m in _FILE_DIRECTIVES.finditer(text)]
    wanted += [(p, k) for m in _CADDY_TLS.finditer(text) for p, k in ((m.group("cert"), False), (m.group("key"), True))]
    missing = [(p, k) for p, k in wanted if not os.path.exists(p)]
    if not missing:
        return
    key, cert = os.path.join(work, "key.pem"), os.path.join(work, "cert.pem")
    if not os.path.exists(cert):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-days", "2", "-subj", "/CN=snippet-check.test", "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
    for path, is_key in missing:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shutil.copyfile(key if is_key else cert, path)


def check(directory: str, expect_reject: bool = False) -> int:
    with open(os.path.join(directory, "manifest.json"), encoding="utf-8") as handle:  # the only file it reads
        manifest = json.load(handle)["snippets"]
    if not manifest:
        print(f"no snippets in {directory}/manifest.json: nothing was checked")
        return 1
    bad = 0
    with tempfile.TemporaryDirectory(prefix="snippet-check-") as work:
        for item in manifest:
            path, text = os.path.join(work, item["file"]), item["text"]
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
            _provide_files(text, work)
            argv = [a.replace("{file}", path) for a in CHECKERS[item["checker"]]["command"]]
            program = CHECKERS[item["checker"]].get("program", argv[0])
            if shutil.which(program) is None:  # a missing checker judges nothing: never a pass, nor a rejection
                bad += 1
                print(f"FAILED {item['doc']}:{item['line']}: {program} is not installed "
                      f"(Debian packages: {' '.join(item['packages'])})")
                continue
            proc = subprocess.run(argv, capture_output=True, text=True, check=False, env=dict(os.environ, HOME=work))
            accepted = proc.returncode == 0
            where = f"{item['doc']}:{item['line']}"
            if accepted != expect_reject:
                print(f"ok {where}: {item['checker']} {'accepted' if accepted else 'rejected'} it")
                continue
            bad += 1
            said = re.sub(re.escape(path) + r":(\d+)", lambda m: f"{item['doc']}:"
                          f"{item['line'] + int(m.group(1)) - item['offset']}", (proc.stdout + proc.stderr).strip())
            numbered = "\n".join(f"{n:4d} | {line}" for n, line in enumerate(text.rstrip("\n").split("\n"), 1))
            print(f"FAILED {where}: {item['checker']} {'accepted' if accepted else 'rejected'} the snippet "
                  f"(doc line {item['line']} is line {item['offset']} of {item['file']}); {' '.join(argv)} said:\n"
                  f"{said or '(nothing)'}\n{numbered}")
    print(f"{len(manifest) - bad} passed, {bad} failed")
    return 1 if bad else 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("lint", "extract", "check"):
        print(__doc__, file=sys.stderr)
        return 2
    if argv[0] == "check":
        return check(argv[1], "--expect-reject" in argv[2:])
    root, rest = ROOT, argv[2:] if argv[0] == "extract" else argv[1:]
    paths = doc_files(root) if not rest else rest
    if rest:
        root = os.getcwd()
    if argv[0] == "lint":
        found = lint(paths, root)
        print("\n".join(found) if found else f"{len(paths)} files: every configuration snippet is marked")
        return 1 if found else 0
    manifest = extract(paths, argv[1], root)
    print(f"{len(manifest)} snippets from {len(paths)} files written to {argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
