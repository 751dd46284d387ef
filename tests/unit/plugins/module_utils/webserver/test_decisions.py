# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The webserver role's decisions (_decisions) and the registry of web servers (_servers)."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from ansible_collections.port443.https.plugins.module_utils.profiles._mozilla_guidelines import GUIDELINES, VERSIONS
from ansible_collections.port443.https.plugins.module_utils.webserver import _decisions, _servers

ROLE = pathlib.Path(__file__).resolve().parents[5] / "roles" / "webserver"
GOOD = {"server": "nginx", "guideline": "6.0", "profile": "intermediate", "missing_certificate": "fail",
        "stage_dir": "/etc/port443-stage", "candidate_dir": "/var/lib/port443/webserver/", "caddy_caddyfile": "refuse",
        "vhosts": [{"name": "www", "server_names": ["www.example.org"], "client_verify": "optional"}]}
DEFAULTS = {"tls_profile": "intermediate", "hsts_max_age": 63072000, "hsts_include_subdomains": False,
            "hsts_preload": False, "ocsp_stapling": False, "http2": True, "cert_file": "/etc/ssl/c.crt",
            "key_file": "/etc/ssl/c.key", "probe_address": "127.0.0.1"}


def check(**change):
    return _decisions.check_input(**{**GOOD, **change})


def test_check_input_accepts_good_options_and_names_each_bad_one():
    assert check() == []
    cases = {
        "webserver_tls_profile": {"profile": "old"},
        "webserver_tls_guideline": {"guideline": "7.0"},
        "webserver_server": {"server": "lighttpd"},
        "webserver_missing_certificate": {"missing_certificate": "ignore"},
        "webserver_stage_dir=/etc": {"stage_dir": "/etc"},
        "webserver_candidate_dir=/etc/nginx/port443": {"candidate_dir": "/etc/nginx/port443"},
        "webserver_caddy_caddyfile": {"server": "caddy", "caddy_caddyfile": "yes"},
    }
    for option, change in cases.items():
        errors = check(**change)
        assert len(errors) == 1 and option in errors[0], (option, errors)
    # The Caddyfile option matters for Caddy only.
    assert check(caddy_caddyfile="yes") == []
    for path in ("relative/dir", "/var/lib/../etc", "/", "/etc/caddy/x", "/var/lib/port443/"):
        assert bool(check(stage_dir=path)) is (path != "/var/lib/port443/"), path
    for vhost in ({"name": "a b", "server_names": ["x"]}, {"name": "a", "server_names": []},
                  {"name": "a", "server_names": ["x"], "client_verify": "sometimes"},
                  {"name": "a", "server_names": [""]}, {"server_names": ["x"]},
                  {"name": "a", "server_names": ["x"], "cert_file": ""}, {"name": "a", "server_names": ["x"], "key_file": None}):
        errors = check(vhosts=[vhost])
        assert len(errors) == 1 and errors[0].startswith("webserver_vhosts ("), (vhost, errors)
    errors = check(vhosts=[{"name": "a", "server_names": ["x"], "tls_profile": "old"}])
    assert errors == ["Mozilla guideline 6.0 (webserver_tls_guideline) has the profiles modern, intermediate only: "
                      "webserver_tls_profile and each vhost tls_profile must be one of them (found intermediate, old). "
                      "The old profile exists in guideline 5.7, 5.8."]
    assert check(vhosts="www") == ["webserver_vhosts must be a list of virtual hosts (dicts)."]
    # Another OS family: that message only.
    assert check(server="x", os_family="RedHat", distribution="Rocky") == [
        "port443.https.webserver supports the Debian OS family only (Debian, Ubuntu); this host runs Rocky (OS family RedHat)."]


def test_guideline_profiles_follow_the_data():
    assert {v: sorted(p) for v, p in _decisions.GUIDELINE_PROFILES.items()} == {
        v: sorted(GUIDELINES[v]["configurations"]) for v in VERSIONS}


@pytest.mark.parametrize("server,output,library,pq", [
    ("nginx", "OpenSSL 3.5.1 1 Jul 2025\n", "OpenSSL 3.5.1", True),
    ("apache", "OpenSSL 3.0.17 1 Jul 2025\n", "OpenSSL 3.0.17", False),
    ("nginx", "", "OpenSSL 0.0.0", False),
    ("caddy", "v2.6.2\ngo\tgo1.24.4\npath\tgithub.com/caddyserver/caddy/v2/cmd/caddy\n", "Go 1.24 (Caddy 2.6.2)", False),
    ("caddy", "v2.10.0 h1:abc=\ngo\tgo1.24.1\n", "Go 1.24 (Caddy 2.10.0)", True),
    ("caddy", "v2.10.0\ngo\tgo1.23.9\n", "Go 1.23 (Caddy 2.10.0)", False),
    ("caddy", "caddy: not found\n", "Go 0.0 (Caddy 0.0.0)", False),
])
def test_tls_library(server, output, library, pq):
    found = _decisions.tls_library(server, output)
    assert (found["library"], found["pq"]) == (library, pq)
    facts = _decisions.tls_facts(output, server=server, guideline="6.0", profile="intermediate")
    assert facts["pq"] is pq and facts["library"] == library
    assert ("X25519MLKEM768" in facts["groups"]) is pq


def test_vhost_settings_fill_in_defaults_and_fallbacks():
    v = _decisions.vhost_settings({"name": "www", "server_names": ["www.example.org", "example.org"]}, defaults=DEFAULTS)
    assert v == {"name": "www", "server_names": ["www.example.org", "example.org"], "cert_file": "/etc/ssl/c.crt",
                 "key_file": "/etc/ssl/c.key", "extra_certs": [],
                 "tls_files": [["cert_file", "/etc/ssl/c.crt"], ["key_file", "/etc/ssl/c.key"]], "cert_copies": [],
                 "tls_profile": "intermediate", "root": "", "upstream": "",
                 "backends": [], "health_check": "/", "backend_ca": "/etc/ssl/certs/ca-certificates.crt",
                 "hsts_max_age": 63072000, "hsts_include_subdomains": False, "hsts_preload": False,
                 "ocsp_stapling": False, "ocsp_stapling_skipped": False, "http2": True, "http3": False,
                 "caddy_automatic_https": False, "extra_directives": [], "client_ca": "", "client_verify": "required",
                 "tls_ready": True, "takeover_body": [], "probe": {"host": "www.example.org", "address": "127.0.0.1"}}
    own = _decisions.vhost_settings({"name": "app", "server_names": ["app"], "cert_file": "/a.crt", "http2": "no",
                                     "hsts_max_age": "0", "caddy_automatic_https": "yes"},
                                    defaults=dict(DEFAULTS, key_file=""), missing=["app"],
                                    takeover={"app": {"body": ["root /srv;"], "proxy": False}})
    assert (own["cert_file"], own["key_file"], own["http2"], own["hsts_max_age"], own["caddy_automatic_https"]) == \
        ("/a.crt", "", False, 0, True)
    assert own["tls_ready"] is False and own["takeover_body"] == ["root /srv;"]


def test_vhost_settings_dual_certificates():
    """extra_certs: the certificate role's second key type for vhosts on its files; a vhost's own pair otherwise."""
    dual = dict(DEFAULTS, extra_certs=[{"cert_file": "/etc/ssl/c-rsa.crt", "key_file": "/etc/ssl/c-rsa.key"}])
    v = _decisions.vhost_settings({"name": "www", "server_names": ["www"]}, defaults=dual)
    assert v["extra_certs"] == [{"cert_file": "/etc/ssl/c-rsa.crt", "key_file": "/etc/ssl/c-rsa.key"}]
    assert v["tls_files"][2:] == [["extra_certs[0].cert_file", "/etc/ssl/c-rsa.crt"], ["extra_certs[0].key_file", "/etc/ssl/c-rsa.key"]]
    # A vhost with a certificate of its own does not take the role's second one.
    own = _decisions.vhost_settings({"name": "app", "server_names": ["app"], "cert_file": "/a.crt", "key_file": "/a.key"}, defaults=dual)
    assert own["extra_certs"] == [] and len(own["tls_files"]) == 2
    pair = {"cert_file": "/a-rsa.crt", "key_file": "/a-rsa.key"}
    assert _decisions.vhost_settings({"name": "app", "server_names": ["app"], "cert_file": "/a.crt", "extra_certs": [pair]},
                                     defaults=dual)["extra_certs"] == [pair]
    assert _decisions.vhost_settings({"name": "x", "server_names": ["x"], "extra_certs": []}, defaults=dual)["extra_certs"] == []
    errors = _decisions.check_input(server="nginx", vhosts=[{"name": "x", "server_names": ["x"], "extra_certs": [{"cert_file": "/a"}]}],
                                    guideline="5.7", profile="intermediate", missing_certificate="fail",
                                    stage_dir="/var/lib/port443/stage", candidate_dir="/var/lib/port443/candidate")
    assert any("extra_certs, where given, is a list of {cert_file, key_file} paths" in e for e in errors)


@pytest.mark.parametrize("server, copies", [
    ("nginx", []),
    ("caddy", [("cert_file", "/etc/ssl/c.crt", "/etc/caddy/port443/www.crt", True),
               ("key_file", "/etc/ssl/c.key", "/etc/caddy/port443/www.key", False)]),
    ("haproxy", [("cert_file", "/etc/ssl/c.crt", "/etc/haproxy/port443/www.crt", True),
                 ("key_file", "/etc/ssl/c.key", "/etc/haproxy/port443/www.crt.key", False),
                 ("extra_certs[0].cert_file", "/etc/ssl/c-rsa.crt", "/etc/haproxy/port443/www+2.crt", True),
                 ("extra_certs[0].key_file", "/etc/ssl/c-rsa.key", "/etc/haproxy/port443/www+2.crt.key", False)]),
])
def test_cert_copies_follow_the_server(server, copies):
    """The server's own copies: none where it reads the files in place (nginx), the first pair only where it serves
    one certificate per site (Caddy), every pair where it serves them all (HAProxy), each further pair named after the
    vhost with a '+' (no vhost name has one, so no copy of one vhost takes another's name)."""
    dual = dict(DEFAULTS, server=server, extra_certs=[{"cert_file": "/etc/ssl/c-rsa.crt", "key_file": "/etc/ssl/c-rsa.key"}])
    v = _decisions.vhost_settings({"name": "www", "server_names": ["www"]}, defaults=dual)
    assert [(c["what"], c["src"], c["dest"], c["cert"]) for c in v["cert_copies"]] == copies
    names = {c["dest"] for name in ("www", "www.2", "www-2") for c in _servers.cert_copies(server, name, v["tls_files"])}
    assert len(names) == 3 * len(copies)
    with pytest.raises(ValueError, match="none of the files"):
        _servers.cert_copies("haproxy", "www", [["chain_file", "/x"]])


def test_registry_is_complete_and_the_role_and_modules_offer_its_servers():
    for server in _servers.SERVERS.values():
        facts = _servers.facts(server.name)
        assert facts["service"] and facts["live_root"].startswith("/etc/") and facts["packages"]
        assert [f for f in server.files if f["when"] == "always"], server.name
        for item in server.files:
            assert (ROLE / "templates" / item["template"]).is_file(), item
        argv, env = _servers.validate_argv(server.name, "/tmp/x")
        assert "/tmp/x" in " ".join(argv + list(env.values())), server.name
        # A dump command, the main file the role may write, or (HAProxy) the operator's main file the sites reader reads.
        assert server.sites_dump or facts["main_file"] or server.conf_dirs, server.name
    specs = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    assert specs["webserver_server"]["choices"] == list(_servers.NAMES)
    assert _servers.LIVE_ROOTS == ("/etc/nginx", "/etc/apache2", "/etc/caddy", "/etc/haproxy")
    with pytest.raises(ValueError, match="webserver_server must be one of nginx, apache, caddy, haproxy, not 'x'"):
        _servers.get("x")


def test_files_follow_dhparam_and_the_main_file_decision():
    assert [f["name"] for f in _servers.files("nginx")] == ["port443-https.conf"]
    with_dh = ["port443-tls.conf", "port443-https.conf", "port443-ffdhe2048.pem"]
    assert [f["name"] for f in _servers.files("apache", dhparam=True)] == with_dh
    assert [f["name"] for f in _servers.files("caddy", dhparam=True)] == ["port443-https.caddy"]
    assert _servers.files("caddy", main_file={"write": True, "foreign_ok": True})[1] == {
        "name": "Caddyfile", "template": "Caddyfile.j2", "rel": "Caddyfile", "foreign_ok": True}
    assert _servers.modules("apache", proxy=True)[-2:] == ["proxy", "proxy_http"] and _servers.modules("nginx", True) == []


def test_the_certificate_roles_renewal_window_is_the_state_steps(tmp_path):
    """roles/certificate/tasks/current.yml decides with the in_renewal_window test, the state step with renewal_drift:
    both are _certstate.renewal_reason, and the role's task calls the test with the role's two options."""
    import datetime

    from ansible_collections.port443.https.plugins.module_utils.certificate import _certstate
    from ansible_collections.port443.https.plugins.test.in_renewal_window import TestModule

    test = TestModule().tests()["in_renewal_window"]
    now = datetime.datetime.now(datetime.timezone.utc)
    for start_days, end_days, days, percent in ((-80, 10, 30, 0), (-80, 40, 30, 0), (-80, 40, 30, 34), (-10, 80, 30, 34),
                                                (5, 90, 30, 0)):
        start, end = now + datetime.timedelta(days=start_days), now + datetime.timedelta(days=end_days)
        facts = {"not_before": start.strftime("%Y%m%d%H%M%SZ"), "not_after": end.strftime("%Y%m%d%H%M%SZ")}
        expected = bool(_certstate.renewal_reason(start.replace(microsecond=0), end.replace(microsecond=0), days, percent))
        assert test(facts, days, percent) is expected, (start_days, end_days, days, percent)
    current = (ROLE.parent / "certificate" / "tasks" / "current.yml").read_text()
    assert "is port443.https.in_renewal_window(certificate_renew_days, certificate_renew_percent | float)" in current
    assert "renewal_reason(_x509.not_before(cert), _x509.not_after(cert), renew_days, renew_percent, now)" in \
        pathlib.Path(_certstate.__file__).read_text()


NGINX_V3 = "nginx version: nginx/1.26.3\nconfigure arguments: --with-http_v2_module --with-http_v3_module\n"
NGINX_NO_V3 = "nginx version: nginx/1.22.1\nconfigure arguments: --with-http_v2_module\n"
WWW = {"name": "www", "server_names": ["www.example.org"]}


def test_http3_support_follows_the_server_and_its_build():
    assert _decisions.http3_support("caddy", "")
    assert _decisions.http3_support("nginx", NGINX_V3)
    assert not _decisions.http3_support("nginx", NGINX_NO_V3)
    assert not _decisions.http3_support("nginx", None)
    assert not _decisions.http3_support("apache", NGINX_V3)


def test_http3_is_available_only_where_supported_and_udp_443_reaches_the_host():
    on = _decisions.http3([WWW], server="nginx", version_output=NGINX_V3, default=True, udp=True)
    assert (on["available"], on["errors"], on["alt_svc"]) == (True, [], 'h3=":443"; ma=86400')
    # The default (webserver_http3) is a wish: where it cannot be served it is silently off.
    assert not _decisions.http3([WWW], server="nginx", version_output=NGINX_V3, default=True, udp=False)["available"]
    assert not _decisions.http3([WWW], server="nginx", version_output=NGINX_NO_V3, default=True, udp=True)["available"]
    assert not _decisions.http3([WWW], server="apache", version_output="", default=True, udp=True)["available"]


def test_http3_true_where_it_cannot_be_served_is_one_clear_error():
    asked = [dict(WWW, http3=True)]
    (error,) = _decisions.http3(asked, server="nginx", version_output=NGINX_NO_V3, default=True, udp=True)["errors"]
    assert "--with-http_v3_module" in error and "www" in error and "Nothing was changed" in error
    (error,) = _decisions.http3(asked, server="apache", version_output="", default=True, udp=True)["errors"]
    assert "Apache has no HTTP/3" in error
    (error,) = _decisions.http3(asked, server="caddy", version_output="", default=True, udp=False)["errors"]
    assert "webserver_http3_udp" in error and "firewall_http3" in error


def test_caddy_serves_http3_for_all_sites_or_none():
    mixed = [WWW, {"name": "api", "server_names": ["api.example.org"], "http3": False}]
    (error,) = _decisions.http3(mixed, server="caddy", version_output="", default=True, udp=True)["errors"]
    assert "on: www; off: api" in error
    assert _decisions.http3(mixed, server="caddy", version_output="", default=False, udp=True)["available"]


def test_the_operators_caddyfile_decides_http3_for_caddy():
    main = {"owner": "operator-imports", "h3": True, "path": "/etc/caddy/Caddyfile"}
    forced = _decisions.http3([WWW], server="caddy", version_output="", default=False, udp=False, caddy_main=main)
    assert (forced["force"], forced["available"], forced["errors"]) == (True, True, [])
    (error,) = _decisions.http3([dict(WWW, http3=True)], server="caddy", version_output="", default=True, udp=True,
                                caddy_main=dict(main, h3=False))["errors"]
    assert "/etc/caddy/Caddyfile is the operator's" in error
    settled = _decisions.vhost_settings(WWW, defaults=dict(DEFAULTS, http3=False, http3_force=True))
    assert settled["http3"] is True


def test_a_vhost_serves_http3_only_with_its_certificate():
    defaults = dict(DEFAULTS, http3=True, http3_available=True)
    assert _decisions.http3_served(_decisions.vhosts_settings(
        [WWW, {"name": "boot", "server_names": ["boot.example.org"]}, dict(WWW, name="off", http3=False)],
        defaults=defaults, missing=["boot"])) == ["www"]


def test_no_ocsp_stapling_without_an_ocsp_responder():
    defaults = {"tls_profile": "intermediate", "hsts_max_age": 0, "hsts_include_subdomains": False, "hsts_preload": False,
                "ocsp_stapling": True, "http2": True, "probe_address": ""}
    vhosts = [{"name": "crl", "server_names": ["crl.example.org"]}, {"name": "ocsp", "server_names": ["ocsp.example.org"]}]
    out = _decisions.vhosts_settings(vhosts, defaults=defaults, no_ocsp=["crl"])
    assert [(v["ocsp_stapling"], v["ocsp_stapling_skipped"]) for v in out] == [(False, True), (True, False)]
