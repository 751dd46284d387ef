# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The webserver role decides twice: in its full path (the tasks, through the collection's filters) and in its state
step (plugins/action/webserver_state.py, which lets a converged host skip the full path). Both must reach the same
decisions, or a converged host is served less than it should be, or --check says converged where a run would change
something. For several input sets (nginx, Apache, Caddy, HAProxy; post-quantum on and off; missing certificates, a client CA,
a takeover, refused options) this test works the decisions out both ways, from the role's task files as they are and
from the state step's code as it is (webserver_parity_child.py), and compares them: it fails when one side changes
alone."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import typing as t

import pytest

CHILD = pathlib.Path(__file__).with_name("webserver_parity_child.py")
CERTS = {"certificate_files": {"fullchain": "/etc/ssl/port443/site-fullchain.crt", "key": "/etc/ssl/port443/private/site.key"}}
# Dual certificates (certificate_key_types [ECC, RSA]): the certificate role's second key type in alternates.
DUAL = {"certificate_files": dict(CERTS["certificate_files"], key_type="ECC", alternates=[
    {"key_type": "RSA", "cert": "/etc/ssl/port443/site-rsa.crt", "chain": "/etc/ssl/port443/site-rsa-chain.crt",
     "fullchain": "/etc/ssl/port443/site-rsa-fullchain.crt", "key": "/etc/ssl/port443/private/site-rsa.key", "ca": ""}])}
EXISTING = ["/etc/ssl/port443/site-fullchain.crt", "/etc/ssl/port443/private/site.key", "/etc/ssl/own/app.crt",
            "/etc/ssl/own/app.key", "/etc/ssl/port443/site-rsa-fullchain.crt", "/etc/ssl/port443/private/site-rsa.key",
            "/etc/ssl/own/app-rsa.crt"]
CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
HOST = {"tls_probe": "", "version": "", "takeover": {}, "client_ca_files": {},
        "caddyfile": {"write": True, "foreign_ok": False, "refusal": "", "owner": "collection", "keep": False}}
OPENSSL_35 = "OpenSSL 3.5.1 1 Jul 2025\n"
OPENSSL_30 = "OpenSSL 3.0.17 1 Jul 2025\n"
CADDY_210 = "v2.10.0 h1:abc=\ngo\tgo1.24.4\n"
CADDY_262 = "v2.6.2\ngo\tgo1.24.4\n"

NGINX_126_V = ("nginx version: nginx/1.26.3\nbuilt with OpenSSL 3.5.1 1 Jul 2025\nTLS SNI support enabled\n"
               "configure arguments: --with-http_ssl_module --with-http_v2_module --with-http_v3_module\n")
NGINX_122_V = ("nginx version: nginx/1.22.1\nbuilt with OpenSSL 3.0.17 1 Jul 2025\nTLS SNI support enabled\n"
               "configure arguments: --with-http_ssl_module --with-http_v2_module\n")

CASES: dict[str, dict[str, t.Any]] = {
    "nginx-pq-dhparam-http3": {
        "vars": dict(CERTS, webserver_server="nginx", webserver_tls_guideline="5.7", webserver_tls_profile="intermediate",
                     webserver_http3_udp=True,
                     webserver_vhosts=[
                         {"name": "www", "server_names": ["www.example.org", "example.org"], "root": "/var/www/www/"},
                         {"name": "api", "server_names": ["api.example.org"], "upstream": "http://127.0.0.1:8080",
                          "tls_profile": "modern", "hsts_max_age": 0, "http2": False, "http3": False},
                         {"name": "app", "server_names": ["app.example.org"], "cert_file": "/etc/ssl/own/app.crt",
                          "key_file": "/etc/ssl/own/app.key", "extra_directives": ["client_max_body_size 10m;"]}],
                     webserver_ocsp_stapling=True),
        # app's certificate names no OCSP responder (CRL only): no stapling for it, whatever was asked.
        "host": dict(HOST, tls_probe=OPENSSL_35, version=NGINX_126_V, no_ocsp=["app"]),
    },
    "nginx-http3-without-udp": {
        "vars": dict(CERTS, webserver_server="nginx", webserver_vhosts=[{"name": "www", "server_names": ["www.example.org"]}]),
        "host": dict(HOST, tls_probe=OPENSSL_35, version=NGINX_126_V),
    },
    "nginx-http3-refused-without-the-module": {
        "vars": dict(CERTS, webserver_server="nginx", webserver_http3_udp=True,
                     webserver_vhosts=[{"name": "www", "server_names": ["www.example.org"], "http3": True}]),
        "host": dict(HOST, tls_probe=OPENSSL_30, version=NGINX_122_V),
    },
    "nginx-missing-certificate-http-only": {
        "vars": dict(webserver_server="nginx", webserver_missing_certificate="http_only", webserver_placeholder_page=False,
                     webserver_vhosts=[{"name": "boot", "server_names": ["boot.example.org"]},
                                       {"name": "own", "server_names": ["own.example.org"], "cert_file": "/etc/ssl/own/gone.crt",
                                        "key_file": "/etc/ssl/own/app.key"}]),
        "host": dict(HOST, tls_probe=OPENSSL_30, version=NGINX_122_V),
    },
    "apache-client-ca-takeover": {
        "vars": dict(CERTS, webserver_server="apache", webserver_tls_profile="modern", webserver_ocsp_stapling=True,
                     webserver_vhosts=[
                         {"name": "staff", "server_names": ["staff.example.org"], "client_ca": CA, "client_verify": "optional"},
                         {"name": "shop", "server_names": ["shop.example.org"], "takeover": True},
                         {"name": "docs", "server_names": ["docs.example.org"], "root": "/srv/docs", "takeover": False}]),
        "host": dict(HOST, tls_probe=OPENSSL_30, no_ocsp=["staff", "shop", "docs"],
                     takeover={"shop": {"body": ["ProxyPass / http://127.0.0.1:9000/"], "proxy": True,
                                        "sources": ["/etc/apache2/sites-enabled/shop.conf:1"],
                                        "disable": ["/etc/apache2/sites-enabled/shop.conf"]}},
                     client_ca_files={"staff": "/etc/port443/client-ca/staff-0123456789abcdef.pem"}),
    },
    "apache-pq-no-install-keep-default": {
        "vars": dict(CERTS, webserver_server="apache", webserver_install=False, webserver_remove_default_site=False,
                     webserver_verify=False, webserver_tls_guideline="5.8", webserver_tls_profile="old",
                     webserver_vhosts=[{"name": "legacy", "server_names": ["legacy.example.org"], "upstream": "http://10.0.0.2"}]),
        "host": dict(HOST, tls_probe=OPENSSL_35),
    },
    "caddy-pq-automatic-https": {
        "vars": dict(CERTS, webserver_server="caddy", webserver_http2=False, webserver_http3_udp=True,
                     webserver_vhosts=[{"name": "site", "server_names": ["site.example.org"]},
                                       {"name": "auto", "server_names": ["auto.example.org"], "caddy_automatic_https": True}]),
        "host": dict(HOST, tls_probe=CADDY_210),
    },
    "caddy-no-pq-operator-caddyfile-replaced": {
        "vars": dict(CERTS, webserver_server="caddy", webserver_caddy_caddyfile="replace",
                     webserver_vhosts=[{"name": "site", "server_names": ["site.example.org"], "client_ca": "/etc/ssl/ca.pem"}]),
        "host": dict(HOST, tls_probe=CADDY_262, client_ca_files={"site": "/etc/port443/client-ca/site-0123456789abcdef.pem"},
                     caddyfile={"write": True, "foreign_ok": True, "refusal": "", "owner": "operator", "keep": True}),
    },
    "caddy-main-file-imports-the-role": {
        "vars": dict(CERTS, webserver_server="caddy",
                     webserver_vhosts=[{"name": "site", "server_names": ["site.example.org"]}]),
        "host": dict(HOST, tls_probe="", caddyfile={"write": False, "foreign_ok": False, "refusal": "",
                                                    "owner": "operator-imports", "keep": False}),
    },
    "haproxy-pool-pq": {
        "vars": dict(CERTS, webserver_server="haproxy", webserver_tls_profile="modern",
                     webserver_vhosts=[
                         {"name": "pool", "server_names": ["pool.example.org"], "health_check": "/healthz",
                          "backends": ["http://10.0.0.2", "http://10.0.0.3:8080", "https://[2001:db8::4]"]},
                         {"name": "staff", "server_names": ["staff.example.org"], "upstream": "http://127.0.0.1:8080",
                          "client_ca": CA, "http2": False, "hsts_max_age": 0, "tls_profile": "intermediate"},
                         {"name": "boot", "server_names": ["boot.example.org"], "upstream": "http://10.0.0.9",
                          "cert_file": "/etc/ssl/own/gone.crt", "key_file": "/etc/ssl/own/app.key"}],
                     webserver_missing_certificate="http_only"),
        "host": dict(HOST, tls_probe=OPENSSL_35, client_ca_files={"staff": "/etc/port443/client-ca/staff-0123456789abcdef.pem"}),
    },
    "haproxy-no-pq-guideline-5.7": {
        "vars": dict(CERTS, webserver_server="haproxy", webserver_tls_guideline="5.7", webserver_tls_profile="old",
                     webserver_vhosts=[{"name": "legacy", "server_names": ["legacy.example.org"], "upstream": "http://10.0.0.2"}]),
        "host": dict(HOST, tls_probe=OPENSSL_30),
    },
    "refused-haproxy-root": {
        "vars": dict(CERTS, webserver_server="haproxy",
                     webserver_vhosts=[{"name": "files", "server_names": ["files.example.org"], "root": "/srv/files"}]),
        "host": HOST,
    },
    "caddy-operator-caddyfile-without-h3-refuses-http3": {
        "vars": dict(CERTS, webserver_server="caddy", webserver_http3_udp=True,
                     webserver_vhosts=[{"name": "site", "server_names": ["site.example.org"], "http3": True}]),
        "host": dict(HOST, tls_probe=CADDY_262, caddyfile={"write": False, "foreign_ok": False, "refusal": "", "h3": False,
                                                           "owner": "operator-imports", "keep": False}),
    },
    "caddy-http3-vhosts-ask-differently": {
        "vars": dict(CERTS, webserver_server="caddy", webserver_http3_udp=True,
                     webserver_vhosts=[{"name": "a", "server_names": ["a.example.org"]},
                                       {"name": "b", "server_names": ["b.example.org"], "http3": False}]),
        "host": dict(HOST, tls_probe=CADDY_262),
    },
    "apache-http3-refused": {
        "vars": dict(CERTS, webserver_server="apache", webserver_http3_udp=True,
                     webserver_vhosts=[{"name": "www", "server_names": ["www.example.org"], "http3": True}]),
        "host": dict(HOST, tls_probe=OPENSSL_35),
    },
    "nginx-dual-certificates": {
        "vars": dict(DUAL, webserver_server="nginx",
                     webserver_vhosts=[
                         {"name": "www", "server_names": ["www.example.org"]},
                         {"name": "app", "server_names": ["app.example.org"], "cert_file": "/etc/ssl/own/app.crt",
                          "key_file": "/etc/ssl/own/app.key"},
                         {"name": "own", "server_names": ["own.example.org"], "cert_file": "/etc/ssl/own/app.crt",
                          "key_file": "/etc/ssl/own/app.key",
                          "extra_certs": [{"cert_file": "/etc/ssl/own/app-rsa.crt", "key_file": "/etc/ssl/own/app.key"}]}]),
        "host": dict(HOST, tls_probe=OPENSSL_30, version="nginx version: nginx/1.22.1\n"),
    },
    "haproxy-dual-certificates": {
        "vars": dict(DUAL, webserver_server="haproxy",
                     webserver_vhosts=[{"name": "www", "server_names": ["www.example.org"], "upstream": "http://127.0.0.1:8080"}]),
        "host": dict(HOST, tls_probe=OPENSSL_30),
    },
    "caddy-dual-certificates-first-only": {
        "vars": dict(DUAL, webserver_server="caddy",
                     webserver_vhosts=[{"name": "www", "server_names": ["www.example.org"], "root": "/srv/www"}]),
        "host": dict(HOST, tls_probe=CADDY_262),
    },
    "apache-dual-second-key-missing": {
        "vars": dict(DUAL, webserver_server="apache", webserver_missing_certificate="http_only",
                     webserver_vhosts=[
                         {"name": "www", "server_names": ["www.example.org"]},
                         {"name": "gone", "server_names": ["gone.example.org"], "cert_file": "/etc/ssl/own/app.crt",
                          "key_file": "/etc/ssl/own/app.key",
                          "extra_certs": [{"cert_file": "/etc/ssl/own/app-rsa.crt", "key_file": "/etc/ssl/own/gone-rsa.key"}]}]),
        "host": dict(HOST, tls_probe=OPENSSL_35),
    },
    "refused-options": {
        "vars": dict(webserver_server="nginx", webserver_tls_profile="old", webserver_stage_dir="/etc/nginx/stage",
                     webserver_vhosts=[{"name": "a b", "server_names": ["x.example.org"]}]),
        "host": HOST,
    },
    "refused-server": {
        "vars": dict(webserver_server="lighttpd", webserver_missing_certificate="maybe", webserver_vhosts=[]),
        "host": HOST,
    },
    "refused-os-family": {
        "vars": dict(webserver_server="nginx", webserver_vhosts=[],
                     ansible_facts={"os_family": "RedHat", "distribution": "Rocky"}),
        "host": HOST,
    },
}


@pytest.fixture(scope="module")
def decided() -> dict[str, dict[str, t.Any]]:
    import ansible_collections.port443.https as coll

    root = str(pathlib.Path(list(coll.__path__)[0]).parents[2])
    cases = [{"vars": case["vars"], "host": case["host"], "existing": EXISTING} for case in CASES.values()]
    proc = subprocess.run([sys.executable, str(CHILD), root], input=json.dumps(cases), capture_output=True, text=True,
                          check=False, timeout=240)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return dict(zip(CASES, json.loads(proc.stdout)))


@pytest.mark.parametrize("name", list(CASES))
def test_the_full_path_and_the_state_step_decide_alike(decided: dict[str, dict[str, t.Any]], name: str) -> None:
    role, state = decided[name]["role"], decided[name]["state"]
    spec, facts = state["spec"], state["facts"]
    if role["refusals"]:
        # The state step refuses the same options with the same words: the full path runs and stops with them.
        assert state["drift"] == ["refused options: " + " ".join(role["refusals"])]
        return
    assert not any(d.startswith("refused options") for d in state["drift"]), state["drift"]
    assert role["service"] == spec["service"] and role["port_check"] is True
    assert role["packages"] == spec["packages"]
    # The full path reads the host through the state step (converge.yml, vars/main.yml __webserver_read).
    assert role["read_from_state"] is True
    assert role["webserver_tls"] == facts["webserver_tls"]
    assert role["webserver_h3"] == facts["webserver_h3"]
    assert [d for d in state["drift"] if "HTTP/3" in d] == [f"refused: {e}" for e in role["http3_errors"]]
    assert role["tls_pq"] == facts["__webserver_tls_pq"] == facts["webserver_tls"]["pq"]
    assert role["dirs"] == spec["dirs"]
    assert role["content_roots"] == spec["content_roots"]
    # The service the state step checks (running, started at boot) is the one the apply step starts and enables.
    assert role["service_enabled"] is True
    assert [[c["name"], c["what"]] for c in state["read"]["cert_files"]] == [[v["name"], what] for v in spec["vhost_certs"] for what, _p in v["files"]]
    assert role["vhosts"] == facts["__webserver_vhosts"]
    assert role["cert_copy_dir"] == spec.get("cert_copy_dir", "")
    # The server's own copies are the ones the state step compares (each vhost's cert_copies), in the registry's
    # directory and named after the vhost.
    ready = [v["name"] for v in role["vhosts"] if v["tls_ready"]]
    assert role["cert_copies"] == [[c["src"], c["dest"]] for v in spec["vhost_certs"] if v["name"] in ready
                                   for c in v["copies"]] if spec["cert_copy_dir"] else role["cert_copies"] == []
    assert all(dest.startswith(f"{spec['cert_copy_dir']}/") for _src, dest in role["cert_copies"])
    assert role["client_cas"] == [[c["name"], c["client_ca"]] for c in spec["client_cas"]]
    assert role["client_ca_dir"] == spec["client_ca_dir"]
    assert role["candidate_dir"] == spec["candidate_dir"]
    assert role["version_checked"] is bool(state_version_command(spec["server"]))
    assert role["main_file"] is ("caddyfile" in spec)
    if role["main_file"]:
        assert role["caddyfile"] == spec["caddyfile"]
    # The files the full path renders and compares are the ones the state step renders, with the same text.
    assert role["files"] == state["files"]
    assert set(p for _t, p in role["files"]) <= set(spec["files"])
    assert role["texts"] == state["texts"]
    # The Apache modules the full path enables are the ones the state step checks.
    assert set(role["modules"]) <= {p.rsplit("/", 1)[1][:-len(".load")] for p in spec["modules"]}
    # The default site the full path removes is the one the state step looks for.
    assert ([spec["default_site"]] if spec["default_site"] else []) == [p for p in role["disable"] if "sites-enabled/shop" not in p]
    # A missing certificate: the full path fails (fail) or serves port 80 only (http_only); the state step never
    # reports converged with fail.
    missing = [v["name"] for v in role["vhosts"] if not v["tls_ready"]]
    assert role["missing"] == missing
    if missing and CASES[name]["vars"].get("webserver_missing_certificate", "fail") == "fail":
        assert any(d.startswith("no certificate or key for") for d in state["drift"]), state["drift"]
    # OCSP stapling: never for a certificate without an OCSP responder, on both sides.
    no_ocsp = CASES[name]["host"].get("no_ocsp", [])
    for vhost in role["vhosts"]:
        if vhost["name"] in no_ocsp:
            assert vhost["ocsp_stapling"] is False
    assert facts["no_ocsp"] == no_ocsp


def state_version_command(server: str) -> list[str]:
    from ansible_collections.port443.https.plugins.module_utils.webserver import _servers

    return list(_servers.get(server).version_command)


def test_the_cases_cover_what_the_decisions_depend_on(decided: dict[str, dict[str, t.Any]]) -> None:
    """Every server, post-quantum on and off, a missing certificate, a client CA, a takeover, DH parameters, Caddy's
    automatic HTTPS and main-file decisions, and refusals are among the input sets."""
    roles = [d["role"] for d in decided.values() if not d["role"]["refusals"]]
    assert {r["service"] for r in roles} == {"nginx", "apache2", "caddy", "haproxy"}
    assert {r["webserver_tls"]["pq"] for r in roles} == {True, False}
    assert any(not v["tls_ready"] for r in roles for v in r["vhosts"])
    assert any(v["client_ca"] for r in roles for v in r["vhosts"])
    assert any(v["takeover_body"] for r in roles for v in r["vhosts"])
    assert any(r["webserver_tls"]["dhparam"] for r in roles)
    # Stapling asked for: kept where the certificate names an OCSP responder, skipped where it names none.
    assert any(v["ocsp_stapling"] for r in roles for v in r["vhosts"])
    assert {r["service"] for r in roles if any(v["ocsp_stapling_skipped"] for v in r["vhosts"])} >= {"nginx", "apache2"}
    assert any(v["caddy_automatic_https"] for r in roles for v in r["vhosts"])
    assert "proxy" in {m for r in roles for m in r["modules"]}
    assert sum(1 for d in decided.values() if d["role"]["refusals"]) == 4
    assert any(len(v["backends"]) > 1 for r in roles for v in r["vhosts"])
    # HTTP/3: served (nginx with the module, Caddy), not where UDP 443 is not known to reach the host, and refused
    # (nginx without the module, Apache, Caddy vhosts that disagree or disagree with the operator's Caddyfile).
    assert {r["service"] for r in roles if r["webserver_h3"]["vhosts"]} == {"nginx", "caddy"}
    assert any(r["webserver_h3"]["supported"] and not r["webserver_h3"]["udp"] for r in roles)
    assert sum(1 for r in roles if r["http3_errors"]) == 4
    # Dual certificates: from the certificate role's alternates, a vhost's own pair, and a missing second key.
    assert any(v["extra_certs"] and not v["tls_ready"] for r in roles for v in r["vhosts"])
    assert {len(v["extra_certs"]) for r in roles for v in r["vhosts"] if v["tls_ready"]} == {0, 1}
    # HAProxy serves the further certificate from copies of its own (four copies), Caddy the first only (two).
    assert {(r["service"], len(r["cert_copies"])) for r in roles if r["service"] in ("caddy", "haproxy")
            and any(v["extra_certs"] and v["tls_ready"] for v in r["vhosts"])} == {("haproxy", 4), ("caddy", 2)}
