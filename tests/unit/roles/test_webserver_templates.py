# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The webserver role's templates, rendered for every guideline version x profile x server, read back and compared
with Mozilla's guideline data: protocols, TLS 1.2 suites, TLS 1.3 suites, groups, HSTS max-age, session tickets, DH
parameters. The data is read from _mozilla_guidelines directly, not through the code that renders it."""

from __future__ import annotations

import base64
import json
import pathlib
import re
import subprocess
import sys
import typing as t

import pytest
import yaml

from ansible_collections.port443.https.plugins.module_utils.webserver import _servers

from ansible_collections.port443.https.plugins.module_utils.profiles._mozilla_guidelines import GUIDELINES, LATEST, VERSIONS

ROLE = pathlib.Path(__file__).resolve().parents[3] / "roles" / "webserver"
GO_MISSING = {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
              "TLS_RSA_WITH_AES_256_CBC_SHA256"}
CASES = [(v, p) for v in VERSIONS for p in GUIDELINES[v]["configurations"]]
SERVERS = {"nginx": ["nginx-vhosts.conf.j2"], "apache": ["apache-tls.conf.j2", "apache-vhosts.conf.j2"],
           "caddy": ["port443-https.caddy.j2", "Caddyfile.j2"], "haproxy": ["haproxy-crt-list.j2", "haproxy-https.cfg.j2"]}
CADDY_NAMES = {"x25519mlkem768": "X25519MLKEM768", "x25519": "X25519", "secp256r1": "prime256v1",
               "secp384r1": "secp384r1"}


# Ansible resolves port443.https.tls_profile through its collection loader, which must be installed before anything
# imports ansible_collections (pytest has done that already): the templates are rendered in one child interpreter, with
# the helpers of webserver_parity_child.py (importing it installs the loader for the collection root in argv[1]).
_RENDERER = r"""
import json, sys
sys.path.insert(0, sys.argv[2])
from webserver_parity_child import DataLoader, Templar, trust_as_template, trusted
out = []
for job in json.load(sys.stdin):
    templar = Templar(loader=DataLoader(), variables=trusted(job["variables"]))
    out.append([str(templar.template(trust_as_template(text))) for text in job["texts"]])
json.dump(out, sys.stdout)
"""
HERE = str(pathlib.Path(__file__).resolve().parent)


def _variables(server: str, guideline: str, profile: str, pq: bool) -> dict[str, t.Any]:
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    role_vars = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
    variables = {**defaults, **role_vars}
    variables.update({
        "webserver_server": server,
        "webserver_tls_guideline": guideline,
        "webserver_tls_profile": profile,
        "__webserver_tls_pq": pq,
        "__webserver_version": {"stderr": "nginx version: nginx/1.26.3"},
        "__webserver_caddy_main": {"write": True, "foreign_ok": False},
        "__webserver_vhosts": [{
            "name": "site", "server_names": ["www.example.org"], "cert_file": "/c.crt", "key_file": "/c.key",
            "tls_profile": profile, "root": "/var/www/site", "upstream": "",
            "hsts_max_age": defaults["webserver_hsts_max_age"], "hsts_include_subdomains": False,
            "hsts_preload": False, "ocsp_stapling": False, "http2": True, "http3": False, "caddy_automatic_https": False,
            "client_ca": "", "client_verify": "required",
            "extra_directives": [], "tls_ready": True,
            "backends": ["http://10.0.0.2:8080"], "health_check": "/", "backend_ca": "/etc/ssl/certs/ca-certificates.crt",
            "cert_copies": _servers.cert_copies(server, "site", [["cert_file", "/c.crt"], ["key_file", "/c.key"]]),
        }],
    })
    return variables


FILES_EXPR = "{{ __webserver_files | map(attribute='name') | join(' ') }}"


def _jobs() -> list[tuple[tuple[t.Any, ...], dict[str, t.Any]]]:
    jobs = []
    for server, names in SERVERS.items():
        texts = [(ROLE / "templates" / n).read_text() for n in names] + [FILES_EXPR]
        for guideline, profile in CASES:
            for pq in (True, False):
                jobs.append(((server, guideline, profile, pq),
                             {"variables": _variables(server, guideline, profile, pq), "texts": texts}))
    return jobs


@pytest.fixture(scope="module")
def rendered() -> dict[tuple[t.Any, ...], list[str]]:
    import ansible_collections.port443.https as coll

    jobs = _jobs()
    root = str(pathlib.Path(list(coll.__path__)[0]).parents[2])
    proc = subprocess.run([sys.executable, "-c", _RENDERER, root, HERE], input=json.dumps([job for unused_key, job in jobs]),
                          capture_output=True, text=True, check=False, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {key: out for (key, unused_job), out in zip(jobs, json.loads(proc.stdout))}


def render(rendered: dict[tuple[t.Any, ...], list[str]], server: str, guideline: str, profile: str, pq: bool = True) -> str:
    return "\n".join(rendered[(server, guideline, profile, pq)][:-1])


def files(rendered: dict[tuple[t.Any, ...], list[str]], server: str, guideline: str, profile: str) -> list[str]:
    return rendered[(server, guideline, profile, True)][-1].split()


def one(pattern: str, text: str) -> str | None:
    found = re.findall(pattern, text, re.M)
    assert len(set(found)) <= 1, (pattern, found)
    return found[0] if found else None


# The directives nginx and Apache get, as patterns whose group is the value.
DIRECTIVES = {
    "nginx": {
        "protocols": r"^\s*ssl_protocols ([^;]+);",
        "tls12": r"^\s*ssl_ciphers (\S+);",
        "tls13": r"^\s*ssl_conf_command Ciphersuites (\S+);",
        "groups": r"^\s*ssl_ecdh_curve (\S+);",
        "tickets_off": r"^\s*(ssl_session_tickets off);",
        "order": r"^\s*ssl_prefer_server_ciphers (\w+);",
        "dhparam": r"^\s*ssl_dhparam (\S+);",
    },
    "apache": {
        "protocols": r"^\s*SSLProtocol -all (.+)$",
        "tls12": r"^\s*SSLCipherSuite (?!TLSv1\.3)(\S+)$",
        "tls13": r"^\s*SSLCipherSuite TLSv1\.3 (\S+)$",
        "groups": r"^\s*SSLOpenSSLConfCmd Curves (\S+)$",
        "tickets_off": r"^\s*(SSLSessionTickets off)$",
        "order": r"^\s*SSLHonorCipherOrder (\w+)$",
        "dhparam": r"^\s*SSLOpenSSLConfCmd DHParameters (\S+)$",
    },
}
HSTS = r'Strict-Transport-Security "max-age=(\d+)'
HAPROXY_HSTS = r'set-var\(txn.port443_hsts\) str\("max-age=(\d+)'
OPENSSL_VERSIONS = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]


def _haproxy_option(options: str, name: str) -> str | None:
    match = re.search(rf"(?:^|\s){re.escape(name)}(?:\s+(\S+))?(?=\s|$)", options)
    return (match.group(1) or name) if match else None


def parse_haproxy(text: str) -> dict[str, t.Any]:
    """HAProxy: the vhost's crt-list entry (its TLS profile in brackets) and the bind line of the HTTPS frontend."""
    entry = one(r"^/\S+ \[([^\]]*)\] ", text)
    bind = one(r"^\s*bind :::443 (.+)$", text)
    low, high = (OPENSSL_VERSIONS.index(_haproxy_option(entry, k).replace("TLSv1.0", "TLSv1"))
                 for k in ("ssl-min-ver", "ssl-max-ver"))
    ciphers = _haproxy_option(entry, "ciphers")
    return {
        "protocols": OPENSSL_VERSIONS[low:high + 1],
        "tls12": ciphers.split(":") if ciphers else [],
        "tls13": _haproxy_option(entry, "ciphersuites").split(":"),
        "groups": _haproxy_option(entry, "curves").split(":"),
        "hsts": int(one(HAPROXY_HSTS, text)),
        "tickets_off": _haproxy_option(bind, "no-tls-tickets") is not None,
        "order": _haproxy_option(bind, "prefer-client-ciphers") is None,
        # HAProxy uses RFC 7919 ffdhe2048 for DHE by itself (no parameters file).
        "dhparam": "builtin ffdhe2048" if any(c.startswith("DHE-") for c in (ciphers or "").split(":")) else None,
        "bind": bind,
    }


def parse(server: str, text: str) -> dict[str, t.Any]:
    """Read the rendered configuration back into protocols, suites, groups, HSTS, tickets and DH parameters."""
    if server == "haproxy":
        return parse_haproxy(text)
    if server in DIRECTIVES:
        found = {key: one(pattern, text) for key, pattern in DIRECTIVES[server].items()}
        return {
            "protocols": [p.lstrip("+") for p in found["protocols"].split()],
            "tls12": found["tls12"].split(":") if found["tls12"] else [],
            "tls13": found["tls13"].split(":"),
            "groups": found["groups"].split(":"),
            "hsts": int(one(HSTS, text)),
            "tickets_off": found["tickets_off"] is not None,
            "order": found["order"] == "on",
            "dhparam": found["dhparam"],
        }
    block = text.split("tls /", 1)[1].split("}", 1)[0]
    protocols = one(r"^\s*protocols (.+)$", block).split()
    ciphers = one(r"^\s*ciphers (.+)$", block)
    curves = one(r"^\s*curves (.+)$", block)
    return {
        "protocols": protocols,
        "tls12": ciphers.split() if ciphers else [],
        "groups": [CADDY_NAMES[c] for c in curves.split()],
        "hsts": int(one(HSTS, text)),
    }


def _caddy_protocols(versions: list[str]) -> list[str]:
    names = [("tls1.0" if v == "TLSv1" else "tls" + v[4:]) for v in versions]
    return list(dict.fromkeys([names[0], names[-1]]))


@pytest.mark.parametrize("pq", [True, False])
@pytest.mark.parametrize(("guideline", "profile"), CASES)
@pytest.mark.parametrize("server", sorted(SERVERS))
def test_rendered_block_matches_the_guideline(rendered: t.Any, server: str, guideline: str, profile: str, pq: bool) -> None:
    data = GUIDELINES[guideline]["configurations"][profile]
    got = parse(server, render(rendered, server, guideline, profile, pq))
    groups = [g for g in data["tls_curves"] if pq or g != "X25519MLKEM768"]
    assert got["hsts"] == data["hsts_min_age"]
    if server == "caddy":
        assert got["protocols"] == _caddy_protocols(data["tls_versions"])
        # Go has no finite-field DHE and lacks three CBC suites: Caddy gets the rest, in the guideline's order.
        assert got["tls12"] == [c for c in data["ciphers"]["iana"] if "_DHE_" not in c and c not in GO_MISSING]
        assert got["groups"] == groups
        return
    assert got["protocols"] == data["tls_versions"]
    assert got["tls12"] == data["ciphers"]["openssl"]
    assert got["tls13"] == data["ciphersuites"]
    assert got["groups"] == groups
    assert got["tickets_off"]
    assert got["order"] is data["server_preferred_order"]
    has_dhe = any(c.startswith("DHE-") for c in data["ciphers"]["openssl"])
    assert (got["dhparam"] is not None) is has_dhe
    if has_dhe:
        assert data["dh_param_size"] in (1024, 2048)  # ffdhe2048 either way, as Mozilla's generator hands out
    if server == "haproxy" and profile == "intermediate" and guideline == LATEST:
        # The bind line carries the default profile too (a client without SNI gets the first entry's certificate).
        assert f"ciphersuites {':'.join(data['ciphersuites'])} curves {':'.join(groups)}" in got["bind"]


def test_guideline_6_0_puts_the_hybrid_group_first_only_with_pq(rendered: t.Any) -> None:
    assert parse("nginx", render(rendered, "nginx", LATEST, "intermediate"))["groups"][0] == "X25519MLKEM768"
    assert "X25519MLKEM768" not in parse("apache", render(rendered, "apache", LATEST, "intermediate", pq=False))["groups"]


def _der_integers(der: bytes) -> list[int]:
    """The INTEGERs of a DER SEQUENCE (PKCS#3 DHParameter: prime, base)."""
    def length(pos: int) -> tuple[int, int]:
        first = der[pos]
        if first < 0x80:
            return first, pos + 1
        count = first & 0x7F
        return int.from_bytes(der[pos + 1:pos + 1 + count], "big"), pos + 1 + count

    assert der[0] == 0x30
    pos = length(1)[1]
    values = []
    while pos < len(der):
        assert der[pos] == 0x02
        size, pos = length(pos + 1)
        values.append(int.from_bytes(der[pos:pos + size], "big"))
        pos += size
    return values


def test_dh_parameter_file_is_rfc7919_ffdhe2048() -> None:
    pem = (ROLE / "templates" / "ffdhe2048.pem").read_text()
    assert pem.startswith("-----BEGIN DH PARAMETERS-----\n")
    prime, base = _der_integers(base64.b64decode("".join(pem.strip().splitlines()[1:-1])))
    assert base == 2
    assert prime.bit_length() == 2048
    # RFC 7919 appendix A.1: 64 one bits, then the digits of e, then 64 one bits.
    assert f"{prime:x}".startswith("ffffffffffffffffadf85458a2bb4a9aafdc5620273d3cf1")
    assert f"{prime:x}".endswith("ffffffffffffffff")


def test_dh_parameter_file_is_deployed_only_with_dhe(rendered: t.Any) -> None:
    for server in ("nginx", "apache"):
        for guideline, profile in CASES:
            deployed = files(rendered, server, guideline, profile)
            assert deployed[0].startswith("port443-")
            has_dhe = any(c.startswith("DHE-") for c in GUIDELINES[guideline]["configurations"][profile]["ciphers"]["openssl"])
            assert ("port443-ffdhe2048.pem" in deployed) is has_dhe, (server, guideline, profile, deployed)


def test_role_choices_follow_the_data() -> None:
    specs = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    assert specs["webserver_tls_guideline"]["choices"] == list(VERSIONS)
    assert specs["webserver_tls_guideline"]["default"] == LATEST
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    assert defaults["webserver_tls_guideline"] == LATEST
    assert sorted(specs["webserver_tls_profile"]["choices"]) == sorted({p for v in VERSIONS for p in GUIDELINES[v]["configurations"]})


def _render_jobs(jobs: list[dict[str, t.Any]]) -> list[list[str]]:
    import ansible_collections.port443.https as coll

    root = str(pathlib.Path(list(coll.__path__)[0]).parents[2])
    proc = subprocess.run([sys.executable, "-c", _RENDERER, root, HERE], input=json.dumps(jobs),
                          capture_output=True, text=True, check=False, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_caddy_site_file_needs_no_global_options_and_the_main_file_imports_it() -> None:
    """The role's Caddy sites: ACME settings in each automatic-HTTPS site's tls block (no global options block, so
    an operator's Caddyfile can import the file); the main file the role writes holds the global options and the
    import, and the package's :80 default site only with webserver_remove_default_site false. __webserver_files
    follows the ownership decision of the main file."""
    names = ["port443-https.caddy.j2", "Caddyfile.j2"]
    texts = [(ROLE / "templates" / n).read_text() for n in names]
    files_expr = "{{ __webserver_files | to_json }}"
    jobs = []
    for remove_default, acme, decision in ((True, True, {"write": True, "foreign_ok": False}),
                                           (False, False, {"write": True, "foreign_ok": True}),
                                           (True, True, {"write": False, "foreign_ok": False})):
        variables = _variables("caddy", LATEST, "intermediate", False)
        variables["__webserver_vhosts"].append(dict(variables["__webserver_vhosts"][0], name="auto",
                                                    server_names=["auto.example.org"], caddy_automatic_https=True))
        variables.update(webserver_remove_default_site=remove_default, webserver_http2=not acme,
                         __webserver_caddy_main=decision,
                         webserver_caddy_acme_directory="https://pebble:14000/dir" if acme else "",
                         webserver_caddy_acme_ca_root="/etc/ssl/pebble.pem" if acme else "",
                         webserver_caddy_acme_email="admin@example.org" if acme else "")
        jobs.append({"variables": variables, "texts": texts + [files_expr]})
    (site, main, files), (site2, main2, files2), (_site3, _main3, files3) = _render_jobs(jobs)
    for text in (site, site2):
        assert text.startswith("# Managed by Ansible - port443.https.webserver; edits are overwritten.\n")
        # No global options block: every top-level "{" follows a site address.
        assert not re.search(r"^\{", text, re.M)
        assert not re.search(r"^\s*(acme_ca|acme_ca_root|email|servers)\b", text, re.M)
    auto = site.split("https://auto.example.org {", 1)[1]
    assert re.search(r"^    tls admin@example.org \{\n        ca https://pebble:14000/dir\n        ca_root /etc/ssl/pebble.pem\n",
                     auto, re.M), auto
    assert "tls {\n        protocols" in site2.split("https://auto.example.org {", 1)[1]
    # Our own certificate: no ACME settings in its tls block.
    own = site.split("https://www.example.org {", 1)[1].split("https://auto", 1)[0]
    assert "tls /etc/caddy/port443/site.crt /etc/caddy/port443/site.key {" in own and " ca " not in own
    for text, http2 in ((main, False), (main2, True)):
        assert text.startswith("# Managed by Ansible - port443.https.webserver; edits are overwritten.\n")
        assert "protocols h1" + (" h2" if http2 else "") + "\n" in text
        assert re.search(r"^import port443-https.caddy$", text, re.M)
    assert ":80 {" not in main
    assert ":80 {\n    root * /usr/share/caddy\n    file_server\n}" in main2
    assert json.loads(files) == [
        {"name": "port443-https.caddy", "template": "port443-https.caddy.j2", "rel": "port443-https.caddy"},
        {"name": "Caddyfile", "template": "Caddyfile.j2", "rel": "Caddyfile"}]
    assert json.loads(files2)[1] == {"name": "Caddyfile", "template": "Caddyfile.j2", "rel": "Caddyfile", "foreign_ok": True}
    assert [f["name"] for f in json.loads(files3)] == ["port443-https.caddy"]


def test_tls_served_reads_which_vhosts_the_rendered_configuration_serves_over_tls() -> None:
    """The state step reads the live configuration with _webserver_state.tls_served: for each server, a vhost with its
    certificate (tls_ready) is found serving TLS, a vhost on port 80 only (http_only, no certificate yet) is not."""
    from ansible_collections.port443.https.plugins.module_utils.webserver._webserver_state import tls_served

    jobs = []
    for server, names in SERVERS.items():
        variables = _variables(server, LATEST, "intermediate", False)
        ready = variables["__webserver_vhosts"][0]
        boot = dict(ready, name="boot", server_names=["boot.example.org"], tls_ready=False)
        variables["__webserver_vhosts"] = [boot, ready, dict(boot, name="later", server_names=["later.example.org"])]
        jobs.append({"variables": variables, "texts": [(ROLE / "templates" / n).read_text() for n in names]})
    for server, texts in zip(SERVERS, _render_jobs(jobs)):
        assert tls_served("\n".join(texts)) == ["site"], server


def test_http3_is_rendered_where_a_vhost_serves_it() -> None:
    """nginx: a QUIC listener on both addresses for each vhost that serves HTTP/3, reuseport only on the first one (nginx
    refuses it twice per address), no 0-RTT, no Retry, the Alt-Svc header; nothing of it for a vhost without HTTP/3.
    Caddy: h3 among the global protocols exactly when a vhost serves HTTP/3."""
    import ansible_collections.port443.https as coll
    from ansible_collections.port443.https.plugins.module_utils.webserver import _decisions

    jobs = []
    for server in ("nginx", "caddy"):
        for served in ((True, False, True), (False, False, False)):
            variables = _variables(server, LATEST, "intermediate", False)
            variables["__webserver_http3"] = {"alt_svc": _decisions.ALT_SVC}
            variables["__webserver_vhosts"] = [dict(variables["__webserver_vhosts"][0], name=f"v{i}", http3=h3,
                                                    server_names=[f"v{i}.example.org"]) for i, h3 in enumerate(served)]
            jobs.append({"variables": variables, "texts": [(ROLE / "templates" / n).read_text() for n in SERVERS[server]]})
    root = str(pathlib.Path(list(coll.__path__)[0]).parents[2])
    proc = subprocess.run([sys.executable, "-c", _RENDERER, root, HERE], input=json.dumps(jobs), capture_output=True,
                          text=True, check=False, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (nginx_on, nginx_off, caddy_on, caddy_off) = ["\n".join(texts) for texts in json.loads(proc.stdout)]
    blocks = re.split(r"(?m)^# --- ", nginx_on)[1:]
    assert [len(re.findall(r"(?m)^\s*listen (?:\[::\]:)?443 quic", b)) for b in blocks] == [2, 0, 2]
    assert len(re.findall(r"(?m)^\s*listen 443 quic reuseport;", nginx_on)) == 1
    assert len(re.findall(r"(?m)^\s*listen \[::\]:443 quic reuseport;", nginx_on)) == 1
    assert len(re.findall(r"(?m)^\s*add_header Alt-Svc 'h3=\":443\"; ma=86400' always;", nginx_on)) == 2
    assert len(re.findall(r"(?m)^\s*ssl_early_data off;", nginx_on)) == 2
    assert "quic" not in nginx_off and "Alt-Svc" not in nginx_off
    assert re.search(r"(?m)^\s*protocols h1 h2 h3$", caddy_on)
    assert re.search(r"(?m)^\s*protocols h1 h2$", caddy_off)
