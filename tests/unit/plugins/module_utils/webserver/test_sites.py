# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The sites a server already serves: parsers fed with outputs captured on lab hosts (nginx -T on Debian 12,
apache2ctl -S on Debian 13, tests/unit/data/sites), the takeover plan and the validator findings."""
from __future__ import annotations

import os
import pathlib
import subprocess

import pytest

from ansible_collections.port443.https.plugins.module_utils.webserver import _sites

DATA = pathlib.Path(__file__).parents[3] / "data" / "sites"
NGINX_T = (DATA / "nginx-T-bookworm.txt").read_text()
APACHE_S = (DATA / "apache-S-trixie.txt").read_text()
APACHE_S_SSL = (DATA / "apache-S-ssl-trixie.txt").read_text()
APP_BODY = ["access_log /var/log/nginx/app.access.log;", "location / {", "    proxy_pass http://127.0.0.1:8080;",
            "    proxy_set_header Host $host;", "}", "location = /health {", '    return 200 "ok\\n";', "}"]


def by_file(sites):
    return {s["file"]: s for s in sites}


def test_nginx_dump_lists_every_http_server_block_with_file_line_names_ports_and_body():
    sites = by_file(_sites.parse_nginx_dump(NGINX_T))
    # Files in the order nginx.conf includes them: conf.d before sites-enabled.
    assert list(sites) == ["/etc/nginx/conf.d/legacy.conf", "/etc/nginx/sites-enabled/app",
                           "/etc/nginx/sites-enabled/default", "/etc/nginx/sites-enabled/other"]
    app = sites["/etc/nginx/sites-enabled/app"]
    assert (app["names"], app["ports"], app["line"], app["tls"], app["own"]) == (["app.example"], [80], 2, False, False)
    # listen and server_name are not carried; comments are dropped; quotes and variables kept raw.
    assert app["body"] == APP_BODY
    assert sites["/etc/nginx/conf.d/legacy.conf"]["names"] == ["legacy.example", "quoted.example"]
    default = sites["/etc/nginx/sites-enabled/default"]
    assert default["default"] and default["names"] == ["_"] and default["line"] == 21


def test_nginx_includes_follow_globs_contexts_and_skip_stream_servers():
    dump = (
        "# configuration file /etc/nginx/nginx.conf:\n"
        "events { }\nhttp {\n    include /etc/nginx/sites-enabled/*;\n    include mime.types;\n}\n"
        "stream {\n    include /etc/nginx/streams/*.conf;\n}\n\n"
        "# configuration file /etc/nginx/sites-enabled/a:\n"
        "# port443.https.webserver\nserver { listen 443 ssl; listen [::]:443 ssl; server_name A.example; }\n\n"
        "# configuration file /etc/nginx/streams/tcp.conf:\n"
        "server { listen 5000; proxy_pass 127.0.0.1:6000; }\n\n"
        "# configuration file /etc/nginx/sites-enabled/sub/b:\n"
        "server { server_name b.example; }\n"
    )
    sites = _sites.parse_nginx_dump(dump)
    # sites-enabled/* does not match sites-enabled/sub/b (glob: * stops at /); the stream server is no site.
    assert [(s["file"], s["names"], s["ports"], s["tls"], s["own"]) for s in sites] == [
        ("/etc/nginx/sites-enabled/a", ["a.example"], [443], True, True)]


@pytest.mark.parametrize("text", ["server {", "server { listen 80; }}", "{ }", "server { listen 80 }"])
def test_nginx_syntax_errors_are_errors_never_no_sites(text):
    with pytest.raises(_sites.SitesError):
        _sites.nginx_parse(text, "x.conf")


def test_nginx_tokens_keep_quotes_escapes_and_variables():
    tokens = [tok for tok, _line in _sites.nginx_tokens('a "b c;" \'{d}\' ${e}f \\; g; # c { ; }\nh;')]
    assert tokens == ["a", '"b c;"', "'{d}'", "${e}f", "\\;", "g", ";", "h", ";"]


def test_nginx_listen_forms():
    assert _sites._nginx_listen(["[::]:443", "ssl", "default_server"]) == (443, True, True)
    assert _sites._nginx_listen(["127.0.0.1:8080"]) == (8080, False, False)
    assert _sites._nginx_listen(["localhost"]) == (80, False, False)
    assert _sites._nginx_listen(["unix:/run/x.sock"]) == (None, False, False)
    assert _sites._nginx_listen(["443", "quic"]) == (443, True, False)


def test_apache_S_lists_names_aliases_ports_and_file_line():
    sites = by_file(_sites.parse_apache_dump(APACHE_S))
    app = sites["/etc/apache2/sites-enabled/app.conf"]
    assert (app["names"], app["ports"], app["line"]) == (["app.example", "www.app.example"], [80], 2)
    assert sites["/etc/apache2/conf-enabled/legacy.conf"]["default"]
    ssl = by_file(_sites.parse_apache_dump(APACHE_S_SSL))
    assert ssl["/etc/apache2/sites-enabled/ip.conf"]["ports"] == [8081]
    assert ssl["/etc/apache2/sites-enabled/default-ssl.conf"]["tls"]
    assert len(ssl) == 6
    with pytest.raises(_sites.SitesError):
        _sites.parse_apache_dump("AH00526: Syntax error on line 3")


APACHE_APP = """# The operator's application
<VirtualHost *:80>
    ServerName app.example
    ServerAlias www.app.example
    ProxyPreserveHost On
    ProxyPass / \\
        http://127.0.0.1:8080/
    <Location /health>
        # allowed
        Require all granted
    </Location>
    SSLEngine off
</VirtualHost>
"""


def test_apache_block_carries_the_body_with_nested_sections_and_continuations():
    assert _sites.apache_block(APACHE_APP, 2) == [
        "ProxyPreserveHost On", "ProxyPass / http://127.0.0.1:8080/", "<Location /health>",
        "    Require all granted", "</Location>"]
    with pytest.raises(_sites.SitesError):
        _sites.apache_block(APACHE_APP, 3, "app.conf")
    with pytest.raises(_sites.SitesError):
        _sites.apache_block("<VirtualHost *:80>\n ServerName x\n", 1, "cut.conf")


def test_apache_bodies_and_file_reading_agree():
    """The body read through apache2ctl -S (enabled) and from sites-available (disabled) is the same text: a run
    after the takeover renders exactly what the run that took over rendered."""
    enabled = _sites.apache_bodies(_sites.parse_apache_dump(APACHE_S),
                                   lambda p: APACHE_APP if p.endswith("app.conf") else "<VirtualHost *:80>\n</VirtualHost>\n")
    app = by_file(enabled)["/etc/apache2/sites-enabled/app.conf"]
    disabled = _sites.parse_apache_file("/etc/apache2/sites-available/app.conf", APACHE_APP)
    assert [app["body"]] == [s["body"] for s in disabled]
    assert disabled[0]["names"] == ["app.example", "www.app.example"] and disabled[0]["ports"] == [80]
    # 000-default.conf has no ServerName: -S shows the server's own name (172.17.0.3), which is no name of the site.
    assert by_file(enabled)["/etc/apache2/sites-enabled/000-default.conf"]["names"] == []
    with pytest.raises(_sites.SitesError):
        _sites.apache_bodies(_sites.parse_apache_dump(APACHE_S), lambda p: None)


def test_nginx_glob():
    regex = _sites._glob_regex("/etc/nginx/conf.d/*.conf")
    assert regex.fullmatch("/etc/nginx/conf.d/a.conf") and not regex.fullmatch("/etc/nginx/conf.d/x/a.conf")
    assert not regex.fullmatch("/etc/nginx/conf.d/aXconf")
    assert _sites._glob_regex("/e/site?-[ab]").fullmatch("/e/site1-a")
    assert not _sites._glob_regex("/e/[!a]").fullmatch("/e/a")


def test_nginx_dump_and_file_reading_agree():
    text = _sites.nginx_dump_files(NGINX_T)["/etc/nginx/sites-enabled/app"]
    assert [s["body"] for s in _sites.parse_nginx_file("/etc/nginx/sites-available/app", text)] == [APP_BODY]


def test_caddyfile_sites():
    text = ("{\n    email a@b\n}\n(snip) {\n    header X 1\n}\n:80 {\n    root * /usr/share/caddy\n    file_server\n}\n"
            "http://Plain.example, www.example:8443 {\n    reverse_proxy 127.0.0.1:8080 {\n        header_up Host {host}\n"
            "    }\n    tls internal\n}\n# port443.https.webserver is not on line 1-3 here\n")
    sites = _sites.parse_caddyfile("/etc/caddy/Caddyfile", text)
    assert [(s["names"], s["ports"], s["line"]) for s in sites] == [([], [80], 7), (["plain.example", "www.example"], [80, 8443], 11)]
    assert sites[1]["body"] == ["reverse_proxy 127.0.0.1:8080 {", "    header_up Host {host}", "}"]
    single = _sites.parse_caddyfile("/etc/caddy/Caddyfile", "app.example\nreverse_proxy 127.0.0.1:8080\n")
    assert [(s["names"], s["ports"], s["tls"], s["body"]) for s in single] == [
        (["app.example"], [80, 443], True, ["reverse_proxy 127.0.0.1:8080"])]
    with pytest.raises(_sites.SitesError):
        _sites.parse_caddyfile("/etc/caddy/Caddyfile", "a.example {\n")


def _nginx_sites(**app):
    sites = _sites.parse_nginx_dump(NGINX_T)
    for s in sites:
        if s["file"].startswith("/etc/nginx/sites-enabled/"):
            s["enabled_by"] = s["file"]
        if s["file"].endswith("/app"):
            s.update(app)
    return sites


def test_plan_refuses_a_vhost_whose_names_an_operator_site_serves_naming_file_and_line():
    decided = _sites.plan("nginx", _nginx_sites(), [{"name": "app", "server_names": ["App.example"]}])
    assert len(decided["conflicts"]) == 1
    assert "app.example already served by /etc/nginx/sites-enabled/app:2 (port 80)" in decided["conflicts"][0]
    assert "takeover: true" in decided["conflicts"][0]
    assert decided["takeover"] == {} and decided["disable"] == []
    # Another port, or the collection's own file, is no conflict.
    assert _sites.plan("nginx", _nginx_sites(ports=[8080]), [{"name": "app", "server_names": ["app.example"]}])["conflicts"] == []
    assert _sites.plan("nginx", _nginx_sites(own=True), [{"name": "app", "server_names": ["app.example"]}])["conflicts"] == []


def test_plan_takes_over_a_site_enabled_by_a_link():
    decided = _sites.plan("nginx", _nginx_sites(), [{"name": "app", "server_names": ["app.example"], "takeover": True}])
    assert decided["conflicts"] == [] and decided["refusals"] == []
    assert decided["takeover"] == {"app": {"body": APP_BODY, "sources": ["/etc/nginx/sites-enabled/app:2"],
                                           "disable": ["/etc/nginx/sites-enabled/app"], "proxy": False}}
    assert decided["disable"] == ["/etc/nginx/sites-enabled/app"]


def test_plan_after_the_takeover_carries_the_body_from_sites_available():
    sites = _nginx_sites(enabled=False, enabled_by="", file="/etc/nginx/sites-available/app")
    decided = _sites.plan("nginx", sites, [{"name": "app", "server_names": ["app.example"], "takeover": True}])
    assert decided["takeover"]["app"] == {"body": APP_BODY, "sources": ["/etc/nginx/sites-available/app:2"], "disable": [], "proxy": False}
    # Without takeover a disabled site is no conflict.
    assert _sites.plan("nginx", sites, [{"name": "app", "server_names": ["app.example"]}])["conflicts"] == []


def test_plan_refuses_a_takeover_that_needs_an_operator_file_edited():
    vhosts = [{"name": "legacy", "server_names": ["legacy.example", "quoted.example"], "takeover": True}]
    decided = _sites.plan("nginx", _nginx_sites(), vhosts)
    assert len(decided["refusals"]) == 1 and decided["takeover"] == {} and decided["disable"] == []
    assert "/etc/nginx/conf.d/legacy.conf:1" in decided["refusals"][0]
    assert "cannot be taken over without editing it" in decided["refusals"][0]
    # The same file serves names the vhost does not have: disabling its link would stop them.
    other = _sites.plan("nginx", _nginx_sites(names=["app.example", "api.example"]),
                        [{"name": "app", "server_names": ["app.example"], "takeover": True}])
    assert other["takeover"] == {} and "also stop /etc/nginx/sites-enabled/app:2 serving api.example" in other["refusals"][0]
    nothing = _sites.plan("nginx", _nginx_sites(), [{"name": "x", "server_names": ["x.example"], "takeover": True}])
    assert "no site of nginx serves x.example" in nothing["refusals"][0]


def test_plan_carries_the_tls_block_of_a_site_with_both_ports():
    dump = ("# configuration file /etc/nginx/nginx.conf:\nhttp { include /etc/nginx/sites-enabled/*; }\n"
            "# configuration file /etc/nginx/sites-enabled/app:\n"
            "server { listen 80; server_name app.example; return 301 https://$host$request_uri; }\n"
            "server { listen 443 ssl; server_name app.example; ssl_certificate /x; root /srv/app; }\n")
    sites = _sites.parse_nginx_dump(dump)
    for s in sites:
        s["enabled_by"] = s["file"]
    decided = _sites.plan("nginx", sites, [{"name": "app", "server_names": ["app.example"], "takeover": True}])
    assert decided["takeover"]["app"]["body"] == ["root /srv/app;"]
    assert decided["takeover"]["app"]["sources"] == ["/etc/nginx/sites-enabled/app:2"]


def test_tls_settings_of_a_certbot_site_are_not_carried():
    nginx = ("server {\n    listen 443 ssl;\n    server_name app.example;\n    ssl_certificate /etc/letsencrypt/live/a/fullchain.pem;\n"
             "    include /etc/letsencrypt/options-ssl-nginx.conf;\n    include snippets/snakeoil.conf;\n"
             "    add_header Strict-Transport-Security \"max-age=1\";\n    add_header X-Frame-Options DENY;\n"
             "    include snippets/app.conf;\n    root /srv/app;\n}\n")
    assert _sites.parse_nginx_file("/etc/nginx/sites-available/app", nginx)[0]["body"] == [
        "add_header X-Frame-Options DENY;", "include snippets/app.conf;", "root /srv/app;"]
    apache = ("<VirtualHost *:443>\n    ServerName app.example\n    SSLCertificateFile /x\n"
              "    Include /etc/letsencrypt/options-ssl-apache.conf\n    Header always set Strict-Transport-Security \"max-age=1\"\n"
              "    Header always set X-Frame-Options DENY\n    DocumentRoot /srv/app\n</VirtualHost>\n")
    site = _sites.parse_apache_file("/etc/apache2/sites-available/app.conf", apache)[0]
    assert site["body"] == ["Header always set X-Frame-Options DENY", "DocumentRoot /srv/app"] and site["tls"]


def test_plan_apache_wildcard_alias_and_caddy_takeover():
    sites = _sites.parse_apache_dump(APACHE_S)
    sites[0]["names"].append("*.example")  # legacy.conf, loaded first: Apache's first match wins
    decided = _sites.plan("apache", sites, [{"name": "x", "server_names": ["x.example"]}])
    assert decided["conflicts"] and "/etc/apache2/conf-enabled/legacy.conf:1" in decided["conflicts"][0]
    caddy = _sites.parse_caddyfile("/etc/caddy/Caddyfile", "app.example {\n    respond hi\n}\n")
    refused = _sites.plan("caddy", caddy, [{"name": "app", "server_names": ["app.example"], "takeover": True}])
    assert "/etc/caddy/Caddyfile:1" in refused["refusals"][0] and refused["takeover"] == {}
    own = _sites.parse_caddyfile("/etc/caddy/Caddyfile", "# x - port443.https.webserver\napp.example {\n}\n")
    assert _sites.plan("caddy", own, [{"name": "app", "server_names": ["app.example"]}])["conflicts"] == []


def test_validator_findings_on_captured_output():
    captured = (DATA / "nginx-t-conflict-bookworm.txt").read_text()
    assert _sites.validator_findings("nginx", captured) == [
        '2026/12/05 15:31:19 [warn] 191#191: conflicting server name "app.example" on 0.0.0.0:80, ignored']
    assert _sites.validator_findings("nginx", "nginx: configuration file /etc/nginx/nginx.conf test is successful") == []
    apache = ("[Sat Dec 05 15:31:19 2026] [warn] VirtualHost 127.0.0.1:443 overlaps with VirtualHost 127.0.0.1:443, "
              "the first has precedence, perhaps you need a NameVirtualHost directive\nSyntax OK\n")
    assert len(_sites.validator_findings("apache", apache)) == 1
    assert _sites.validator_findings("apache", "AH00558: apache2: Could not reliably determine\nSyntax OK") == []
    with pytest.raises(ValueError):
        _sites.validator_findings("iis", "")


def test_uses_proxy():
    assert _sites.uses_proxy(["ProxyPass / http://127.0.0.1:8080/"])
    assert _sites.uses_proxy(["RewriteRule ^/(.*) http://b/$1 [P,L]"])
    assert not _sites.uses_proxy(["DocumentRoot /srv", "RewriteRule ^ https://x [R=301,L]"])


def test_collect_marks_links_in_sites_enabled_and_lists_disabled_sites(tmp_path):
    available, enabled = tmp_path / "sites-available", tmp_path / "sites-enabled"
    available.mkdir()
    enabled.mkdir()
    (available / "app").write_text("server { listen 80; server_name app.example; root /srv/app; }\n")
    (available / "old").write_text("server { listen 80; server_name old.example; }\n")
    (available / "broken").write_text("server {\n")
    (enabled / "app").symlink_to(available / "app")
    real = tmp_path / "conf.d.conf"
    real.write_text("server { server_name real.example; }\n")
    dump = (f"# configuration file {tmp_path}/nginx.conf:\nhttp {{ include {enabled}/*; include {real}; }}\n"
            f"# configuration file {enabled}/app:\n{(available / 'app').read_text()}"
            f"# configuration file {real}:\n{real.read_text()}")
    found = _sites.collect("nginx", lambda argv, stdin: (0, dump, ""), available_dir=str(available))
    sites = by_file(found["sites"])
    assert sites[f"{enabled}/app"]["enabled_by"] == f"{enabled}/app"
    assert sites[str(real)]["enabled_by"] == ""
    # Disabled: old only (app is loaded through its link, broken does not parse).
    assert [s["file"] for s in found["sites"] if not s["enabled"]] == [f"{available}/old"]
    with pytest.raises(_sites.SitesError, match=r"already broken before this run \(nginx -T failed"):
        _sites.collect("nginx", lambda argv, stdin: (1, "", "nginx: [emerg] unknown directive"))


def test_a_dump_that_fails_only_on_the_collections_own_files_is_read_without_them(tmp_path, monkeypatch):
    """The live check fails because of a file the collection is about to write again (a missing client CA copy named
    in its own vhost file): the sites are read from a copy without the collection's files, with live paths. When the
    copy fails as well, the configuration was broken before the run."""
    live = tmp_path / "nginx"
    (live / "sites-available").mkdir(parents=True)
    (live / "conf.d").mkdir()
    (live / "nginx.conf").write_text(f"http {{ include {live}/conf.d/*.conf; include {live}/sites-available/*; }}\n")
    (live / "conf.d" / "port443-https.conf").write_text("# Managed - port443.https.webserver\nserver { bad; }\n")
    (live / "sites-available" / "app").write_text("server { listen 80; server_name app.example; }\n")
    monkeypatch.setattr(_sites, "AVAILABLE_DIRS", {"nginx": str(live / "sites-available")})
    seen = []

    def run(argv, stdin):
        seen.append(argv)
        if argv[0] == "cp":
            return subprocess.run(argv, capture_output=True, text=True, check=False).returncode, "", ""
        if argv == ["nginx", "-T"]:
            return 1, "", f"[emerg] cannot load certificate in {live}/conf.d/port443-https.conf:2"
        conf = argv[-1]
        files = [os.path.join(d, n) for d, _s, ns in os.walk(os.path.dirname(conf)) for n in sorted(ns)]
        if any("port443-https.conf" in f for f in files):
            return 1, "", "still broken"
        dump = "".join(f"# configuration file {f}:\n{open(f, encoding='utf-8').read()}" for f in
                       [conf, os.path.join(os.path.dirname(conf), "sites-available", "app")])
        return 0, dump, ""

    found = _sites.collect("nginx", run)
    assert [s["file"] for s in found["sites"] if "app.example" in s.get("names", [])] == [str(live / "sites-available" / "app")]
    assert (live / "conf.d" / "port443-https.conf").exists()  # the live tree is never touched
    (live / "sites-available" / "app").write_text("server { listen 80; server_name app.example; bogus; }\n")
    (live / "sites-available" / "port443-https.conf").write_text("not ours\n")
    with pytest.raises(_sites.SitesError, match="already broken before this run"):
        _sites.collect("nginx", run)


def test_plan_says_whether_a_carried_apache_body_needs_mod_proxy():
    """One decision for the role and the state step: the takeover plan says whether Apache must load mod_proxy."""
    link = "/etc/apache2/sites-enabled/app.conf"
    vhost = [{"name": "app", "server_names": ["app.example", "www.app.example"], "takeover": True}]
    for text, proxy in ((APACHE_APP, True),
                        ("<VirtualHost *:80>\n    ServerName app.example\n    DocumentRoot /srv/app\n</VirtualHost>\n", False)):
        sites = [dict(site, enabled=True, enabled_by=link) for site in _sites.parse_apache_file(link, text)]
        assert _sites.plan("apache", sites, vhost)["takeover"]["app"]["proxy"] is proxy


def test_caddy_tokens_are_the_caddyfile_lexers():
    """One Caddyfile lexer for the sites reader and the Caddyfile owner decision: a quoted string keeps its escapes and
    may span lines, a '#' inside a token is no comment."""
    text = 'a.example {\n\trespond "say \\"hi\\"\nthere" 200 # comment\n\theader X-A a#b\n}\n'
    assert _sites.caddy_tokens(text) == [
        ("a.example", 1), ("{", 1), ("\n", 1), ("respond", 2), ('"say \\"hi\\"\nthere"', 2), ("200", 3), ("\n", 3),
        ("header", 4), ("X-A", 4), ("a#b", 4), ("\n", 4), ("}", 5), ("\n", 5)]
