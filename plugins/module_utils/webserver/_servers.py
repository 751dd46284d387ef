# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""The web servers the collection sets up, and every fact about each one in one place: packages, service, live
configuration tree, the files the webserver role writes there (and their templates), the distribution's default site,
how the TLS library is read, the server's own checker, how a reload is proven, where the sites it already serves are
read. The webserver role (through the port443.https.webserver_server filter), its state step, its apply step and the
sites reader all read this registry; adding a server starts with an entry here (see the collection's recipe).

Plain Python (no Ansible imports)."""

from __future__ import annotations

import dataclasses
import re
import typing as t

# Reads the OpenSSL version of the libssl a binary links (argv[1]): the TLS library of nginx and Apache's mod_ssl.
OPENSSL_SCRIPT = r"""
import ctypes, re, subprocess, sys
out = subprocess.run(["ldd", sys.argv[1]], capture_output=True, text=True, check=True).stdout
lib = ctypes.CDLL(re.search(r"libssl\.so[.0-9]*\s+=>\s+(\S+)", out).group(1))
lib.OpenSSL_version.restype = ctypes.c_char_p
lib.OpenSSL_version.argtypes = [ctypes.c_int]
print(lib.OpenSSL_version(0).decode())
"""

# The names the servers look for as a directory index (the role's placeholder page is written where none exists).
INDEX_NAMES = ("index.html", "index.htm", "index.xhtml", "index.php", "index.shtml", "index.txt", "index.cgi",
               "index.pl")

# RFC 7919 ffdhe2048, written next to the configuration only while a profile in use still has DHE suites.
DH_FILE = {"name": "port443-ffdhe2048.pem", "template": "ffdhe2048.pem", "rel": "port443-ffdhe2048.pem", "when": "dhparam"}


@dataclasses.dataclass(frozen=True)
class Server:
    """One web server on the Debian OS family.

    files: every file the role may write into live_root, each {name (candidate file), template, rel (path in
    live_root), when}: when is 'always', 'dhparam' (only while a profile in use has DHE suites) or 'main_file' (only
    when the main-file decision says the role writes it: Caddy's main Caddyfile).
    tls_library: 'openssl' (the libssl tls_linked links) or 'caddy' (Go and Caddy versions of `caddy build-info`).
    validate: the checker's argv and environment, '{root}' standing for the tree checked (a staged copy or the live
    tree). stage_rewrite: absolute paths into the live tree are pointed at the staged copy while it is checked.
    validate_conflicts: a pattern of the checker's output lines that mean two sites fight for one name or address
    (errors for the role, although the checker passes them).
    proof_new_workers: a refused reload keeps the old workers running (nginx), so the proof wants new ones.
    sites_dump: the command that lists the enabled sites (empty: the sites reader reads the main file the role may
    write, when='main_file'); sites_available: the directory of sites an operator has not enabled.
    http3: how the server serves HTTP/3 over UDP 443: 'builtin' (always there), 'module' (only where the output of
    version_command names the build's HTTP/3 module, HTTP3_MODULE) or '' (never)."""

    name: str
    packages: tuple[str, ...]
    service: str
    live_root: str
    files: tuple[dict[str, str], ...]
    default_site: str
    tls_linked: str
    tls_library: str
    validate: tuple[str, ...]
    validate_conflicts: str
    validate_env: dict[str, str] = dataclasses.field(default_factory=dict)
    stage_rewrite: bool = False
    proof_new_workers: bool = False
    error_log: str = ""
    version_command: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    proxy_modules: tuple[str, ...] = ()
    cert_copy_dir: str = ""
    cert_copy_owner: str = ""
    sites_dump: tuple[str, ...] = ()
    sites_available: str = ""
    sites_available_suffix: str = ""
    # The names of the server's own copies of certificate (with its chain) and key in cert_copy_dir ({name}: vhost).
    cert_copy_names: tuple[str, str] = ("{name}.crt", "{name}.key")
    # Whether the server serves a vhost's further certificates (extra_certs, dual certificates) from copies of its own
    # (HAProxy: one crt-list line each). Caddy's site block takes one certificate: it serves the first only.
    cert_copy_extras: bool = False
    # False: the server serves no files (HAProxy), every vhost needs an upstream.
    serves_files: bool = True
    # Directories in live_root the role creates (root:root 0755) before it writes files there.
    conf_dirs: tuple[str, ...] = ()
    # systemd units the role writes outside live_root, each {name, template, dest, service (to run, '' for a
    # drop-in)}; written before the apply step, followed by a daemon-reload.
    units: tuple[dict[str, str], ...] = ()
    # A path the running server's command line must name (a drop-in adds `-f DIR`): without it, the apply step
    # restarts the server instead of reloading it (a reload re-executes the old command line).
    cmdline_needs: str = ""
    http3: str = ""


SERVERS: dict[str, Server] = {s.name: s for s in (
    Server(
        name="nginx", packages=("nginx",), service="nginx", live_root="/etc/nginx",
        files=({"name": "port443-https.conf", "template": "nginx-vhosts.conf.j2", "rel": "conf.d/port443-https.conf",
                "when": "always"}, DH_FILE),
        default_site="/etc/nginx/sites-enabled/default",
        tls_linked="/usr/sbin/nginx", tls_library="openssl",
        # Without -q: warnings (conflicting server name …) are printed and judged.
        validate=("nginx", "-t", "-c", "{root}/nginx.conf"), validate_conflicts=r"conflicting server name",
        stage_rewrite=True, proof_new_workers=True, error_log="/var/log/nginx/error.log",
        # Its http2 syntax changed in 1.25.1 (the template reads the version); -V also prints the build's configure
        # arguments, which say whether it has the HTTP/3 module (Debian 13's 1.26 has, Debian 12's 1.22 has not).
        version_command=("nginx", "-V"), http3="module",
        sites_dump=("nginx", "-T"), sites_available="/etc/nginx/sites-available",
    ),
    Server(
        name="apache", packages=("apache2",), service="apache2", live_root="/etc/apache2",
        files=({"name": "port443-tls.conf", "template": "apache-tls.conf.j2", "rel": "conf-enabled/port443-tls.conf",
                "when": "always"},
               {"name": "port443-https.conf", "template": "apache-vhosts.conf.j2",
                "rel": "sites-enabled/port443-https.conf", "when": "always"},
               DH_FILE),
        default_site="/etc/apache2/sites-enabled/000-default.conf",
        tls_linked="/usr/lib/apache2/modules/mod_ssl.so", tls_library="openssl",
        # -S checks the syntax like -t and also lists the virtual hosts and their overlap warnings.
        validate=("apache2ctl", "-S"), validate_env={"APACHE_CONFDIR": "{root}"},
        validate_conflicts=r"overlapping VirtualHost|VirtualHost\s+\S+\s+overlaps|VirtualHost overlap",
        error_log="/var/log/apache2/error.log",
        # proxy and proxy_http only where a vhost proxies (an upstream, or a carried site body that needs mod_proxy).
        modules=("ssl", "headers", "http2", "rewrite", "alias", "socache_shmcb"), proxy_modules=("proxy", "proxy_http"),
        sites_dump=("apache2ctl", "-S"), sites_available="/etc/apache2/sites-available", sites_available_suffix=".conf",
    ),
    Server(
        name="caddy", packages=("caddy",), service="caddy", live_root="/etc/caddy",
        # The role's sites live in a file of their own, imported by the main Caddyfile; the main file is written only
        # when the main-file decision (_caddyfile.inspect) says so.
        files=({"name": "port443-https.caddy", "template": "port443-https.caddy.j2", "rel": "port443-https.caddy",
                "when": "always"},
               {"name": "Caddyfile", "template": "Caddyfile.j2", "rel": "Caddyfile", "when": "main_file"}),
        default_site="",
        # Caddy's TLS is Go's crypto/tls, compiled in: `caddy build-info` names the Go version.
        tls_linked="/usr/bin/caddy", tls_library="caddy",
        validate=("caddy", "validate", "--adapter", "caddyfile", "--config", "{root}/Caddyfile"),
        validate_conflicts=r"ambiguous site definition|duplicate site address",
        stage_rewrite=True,
        # Caddy runs as its own user: it gets its own copies of key and certificate.
        cert_copy_dir="/etc/caddy/port443", cert_copy_owner="caddy",
        # HTTP/3 is built in (Caddy 2.6 and later serve it unless the global option `protocols` leaves h3 out).
        http3="builtin",
    ),
    Server(
        name="haproxy", packages=("haproxy",), service="haproxy", live_root="/etc/haproxy",
        # The operator's haproxy.cfg is never touched: the role's frontends live in port443.d/, which a drop-in of the
        # unit adds to HAProxy's command line (-f DIR loads its *.cfg files after the main file); the crt-list names
        # each vhost's certificate with its names and its TLS profile (one more line per certificate).
        files=({"name": "port443-crt-list.txt", "template": "haproxy-crt-list.j2", "rel": "port443-crt-list.txt",
                "when": "always"},
               {"name": "port443-https.cfg", "template": "haproxy-https.cfg.j2", "rel": "port443.d/port443-https.cfg",
                "when": "always"}),
        default_site="",
        tls_linked="/usr/sbin/haproxy", tls_library="openssl",
        validate=("haproxy", "-c", "-f", "{root}/haproxy.cfg", "-f", "{root}/port443.d"),
        # haproxy -c passes two frontends on one port (SO_REUSEPORT splits the connections between them): the sites
        # reader refuses an operator's bind on 80/443 before any change. Its warnings about a certificate that no
        # SNI selects are judged here.
        validate_conflicts=r"\[WARNING\].*(SNI|server name).*(already|ignored)",
        stage_rewrite=True,
        # HAProxy reads certificate and key as root before it drops privileges: its copies are root's, 0600, the key
        # next to the certificate as <crt>.key (ssl-load-extra-files' default).
        cert_copy_dir="/etc/haproxy/port443", cert_copy_owner="root", cert_copy_names=("{name}.crt", "{name}.crt.key"),
        cert_copy_extras=True, serves_files=False, conf_dirs=("/etc/haproxy/port443.d",),
        units=({"name": "port443-https.conf", "template": "haproxy-dropin.conf.j2",
                "dest": "/etc/systemd/system/haproxy.service.d/port443-https.conf", "service": ""},
               # HAProxy serves no files: ACME HTTP-01 requests on port 80 go to this loopback server of the webroot.
               {"name": "port443-acme-http.service", "template": "port443-acme-http.service.j2",
                "dest": "/etc/systemd/system/port443-acme-http.service", "service": "port443-acme-http"}),
        cmdline_needs="/etc/haproxy/port443.d",
    ),
)}

NAMES = tuple(SERVERS)
# What a build of nginx with HTTP/3 lists among its configure arguments (nginx -V).
HTTP3_MODULE = "--with-http_v3_module"
# Live configuration trees of every supported server: the staging and candidate directories must not be one of them,
# lie inside one, or contain one.
LIVE_ROOTS = tuple(s.live_root for s in SERVERS.values())


def get(name: t.Any) -> Server:
    """The registry entry of NAME; ValueError naming the supported servers otherwise."""
    if not isinstance(name, str) or name not in SERVERS:
        raise ValueError(f"webserver_server must be one of {', '.join(NAMES)}, not {name!r}")
    return SERVERS[name]


def _file(item: dict[str, str], **extra: t.Any) -> dict[str, t.Any]:
    return dict({k: v for k, v in item.items() if k != "when"}, **extra)


def tls_probe(name: str) -> list[str]:
    """The read-only command whose output tls_library (the decision) reads."""
    server = get(name)
    if server.tls_library == "caddy":
        return ["sh", "-c", "caddy version; caddy build-info"]
    return ["python3", "-c", OPENSSL_SCRIPT, server.tls_linked]


def files(name: str, dhparam: bool = False, main_file: dict[str, t.Any] | None = None) -> list[dict[str, t.Any]]:
    """The files the role writes this run ({name, template, rel}, foreign_ok where the main file it replaces is not
    the collection's): DH parameters only with dhparam, the main file only when the main-file decision says so."""
    out = []
    for item in get(name).files:
        if item["when"] == "dhparam" and not dhparam:
            continue
        if item["when"] == "main_file":
            if not (main_file or {}).get("write"):
                continue
            out.append(_file(item, **({"foreign_ok": True} if main_file.get("foreign_ok") else {})))
            continue
        out.append(_file(item))
    return out


def modules(name: str, proxy: bool = False) -> list[str]:
    """The server modules the vhosts need (Apache: the proxy modules only where a vhost proxies)."""
    server = get(name)
    return list(server.modules) + (list(server.proxy_modules) if proxy else [])


def facts(name: t.Any, dhparam: bool = False, main_file: dict[str, t.Any] | None = None,
          proxy: bool = False) -> dict[str, t.Any]:
    """The registry entry as plain data for the role (port443.https.webserver_server), with the decisions that depend
    on this run resolved: files (to write), modules (to enable), packages."""
    server = get(name)
    by_when = {item["when"]: item for item in server.files}
    return {
        "name": server.name,
        "packages": list(server.packages),
        "service": server.service,
        "live_root": server.live_root,
        # Every file the role may write (the state step looks at all of them), and the configuration among them.
        "all_files": [_file(item) for item in server.files],
        "conf_files": [_file(item) for item in server.files if item["when"] != "dhparam"],
        "files": files(name, dhparam, main_file),
        "default_site": server.default_site,
        "tls_probe": tls_probe(name),
        "version_command": list(server.version_command),
        "modules": modules(name, proxy),
        "module_candidates": modules(name, True),
        "cert_copy_dir": server.cert_copy_dir,
        "cert_copy_owner": server.cert_copy_owner,
        "cert_copy_names": list(server.cert_copy_names),
        "serves_files": server.serves_files,
        "conf_dirs": list(server.conf_dirs),
        "units": [dict(u) for u in server.units],
        # The role's own site file, and the main file it may write (Caddy: the decision of _caddyfile.inspect).
        "site_file": f"{server.live_root}/{by_when['always']['rel']}",
        "main_file": f"{server.live_root}/{by_when['main_file']['rel']}" if "main_file" in by_when else "",
        "index_names": list(INDEX_NAMES),
        "http3": server.http3,
    }


_EXTRA = re.compile(r"^extra_certs\[(\d+)\]\.(cert_file|key_file)$")


def cert_copies(name: str, vhost_name: str, tls_files: t.Iterable[t.Sequence[str]]) -> list[dict[str, t.Any]]:
    """The server's own copies of a vhost's certificates and keys, [] for a server that reads them in place: {what,
    src, dest, cert (a certificate, not a key)} for each [what, path] pair of TLS_FILES (the vhost's tls_files,
    _decisions.vhost_settings). The copies of a further certificate (extra_certs[i]) exist only where the server serves
    them (cert_copy_extras) and are named after {vhost_name}+{i + 2}: a vhost name has no '+', so a copy of one vhost
    never takes the name of another's. The role's copy task, its state step, its templates and the renewal agent read
    this list."""
    server = get(name)
    if not server.cert_copy_dir:
        return []
    copies = []
    for what, src in tls_files:
        extra = _EXTRA.match(what)
        if extra and not server.cert_copy_extras:
            continue
        if not extra and what not in ("cert_file", "key_file"):
            raise ValueError(f"{what!r} is none of the files a vhost serves")
        kind = extra.group(2) if extra else what
        base = f"{vhost_name}+{int(extra.group(1)) + 2}" if extra else vhost_name
        copy_name = server.cert_copy_names[1 if kind == "key_file" else 0].replace("{name}", base)
        copies.append({"what": what, "src": src, "dest": f"{server.cert_copy_dir}/{copy_name}", "cert": kind == "cert_file"})
    return copies


def validate_argv(name: str, root: str) -> tuple[list[str], dict[str, str]]:
    """The server's own checker run against the tree ROOT, and its environment."""
    server = get(name)
    return ([arg.replace("{root}", root) for arg in server.validate],
            {key: value.replace("{root}", root) for key, value in server.validate_env.items()})
