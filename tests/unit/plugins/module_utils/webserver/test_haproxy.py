# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""HAProxy: the operator's frontends the sites reader finds (a bind on 80 or 443 is refused), the command line a
reload cannot change (the apply step restarts then), the input checks of a server that serves no files."""

from __future__ import annotations

import os

from ansible_collections.port443.https.plugins.module_utils.webserver import _decisions, _servers, _sites, _webserver_state

OPERATOR = """global
    log /dev/log local0
    ssl-default-bind-options ssl-min-ver TLSv1.2  # the operator's defaults stay
defaults
    mode http
frontend stats
    bind 127.0.0.1:8404
frontend web   # the operator's own site
    bind :::443 v4v6 ssl crt /etc/ssl/private/site.pem
    bind quic4@:443 ssl crt /etc/ssl/private/site.pem
listen range
    bind 10.0.0.1:79-81,10.0.0.2:8080
backend app
    server a 127.0.0.1:9000
"""


def test_parse_haproxy_reads_each_frontend_and_its_tcp_ports():
    sites = _sites.parse_haproxy("/etc/haproxy/haproxy.cfg", OPERATOR)
    assert [(s["frontend"], s["line"], s["ports"], s["tls"]) for s in sites] == [
        ("stats", 6, [8404], False), ("web", 8, [443], True), ("range", 11, [80, 8080], False)]


def test_plan_refuses_every_operator_bind_on_the_role_ports_and_takeover():
    sites = _sites.parse_haproxy("/etc/haproxy/haproxy.cfg", OPERATOR)
    plan = _sites.plan("haproxy", sites, [{"name": "www", "server_names": ["www.example.org"], "takeover": True}])
    assert len(plan["conflicts"]) == 2
    assert plan["conflicts"][0].startswith("/etc/haproxy/haproxy.cfg:8: the operator's HAProxy section web binds port 443")
    assert "/etc/haproxy/haproxy.cfg:11" in plan["conflicts"][1] and "port 80," in plan["conflicts"][1]
    assert plan["refusals"] == ["vhost www: takeover is for nginx and Apache; HAProxy vhosts name their backends "
                                "(upstream or backends)."]
    assert _sites.plan("haproxy", sites[:1], [])["conflicts"] == []


def test_collect_reads_the_main_file_and_foreign_files_of_the_role_directory(tmp_path, monkeypatch):
    conf_dir = tmp_path / "port443.d"
    conf_dir.mkdir()
    (conf_dir / "port443-https.cfg").write_text("# Managed - port443.https.webserver\nfrontend x\n    bind :::443\n")
    (conf_dir / "operator.cfg").write_text("frontend op\n    bind :80\n")
    files = {"/etc/haproxy/haproxy.cfg": "global\n"}
    # The registry entry is frozen: a copy of it names the temporary directory.
    real = _servers.get("haproxy")
    monkeypatch.setitem(_servers.SERVERS, "haproxy", type(real)(**{**real.__dict__, "conf_dirs": (str(conf_dir),)}))
    found = _sites.collect("haproxy", lambda argv, stdin: (127, "", ""), read=lambda p: files.get(p) or _sites._read(p))
    assert found["installed"] is True
    assert [(s["file"], s["ports"]) for s in found["sites"]] == [(str(conf_dir / "operator.cfg"), [80])]
    assert _sites.collect("haproxy", lambda argv, stdin: (0, "", ""), read=lambda p: None) == {"installed": False, "sites": []}


def test_cmdline_names_reads_the_main_process(tmp_path):
    (tmp_path / "42").mkdir()
    (tmp_path / "42" / "cmdline").write_bytes(b"/usr/sbin/haproxy\0-Ws\0-f\0/etc/haproxy/haproxy.cfg\0")

    def run(argv, stdin):
        return 0, "42\n", ""

    assert not _webserver_state.cmdline_names("haproxy", "/etc/haproxy/port443.d", run, proc=str(tmp_path))
    (tmp_path / "42" / "cmdline").write_bytes(b"/usr/sbin/haproxy\0-f\0/etc/haproxy/haproxy.cfg\0-f\0/etc/haproxy/port443.d\0")
    assert _webserver_state.cmdline_names("haproxy", "/etc/haproxy/port443.d", run, proc=str(tmp_path))
    assert not _webserver_state.cmdline_names("haproxy", "/x", lambda a, s: (0, "0\n", ""), proc=str(tmp_path))


def test_a_server_without_files_needs_backends():
    good = {"server": "haproxy", "guideline": "6.0", "profile": "intermediate", "missing_certificate": "fail",
            "stage_dir": "/etc/port443-stage", "candidate_dir": "/var/lib/port443/webserver"}
    ok = [{"name": "a", "server_names": ["a.example.org"], "backends": ["http://10.0.0.2"]},
          {"name": "b", "server_names": ["b.example.org"], "upstream": "http://10.0.0.3"}]
    assert _decisions.check_input(vhosts=ok, **good) == []
    bad = ok + [{"name": "c", "server_names": ["c.example.org"], "root": "/srv"},
                {"name": "d", "server_names": ["d.example.org"], "upstream": "http://x", "takeover": True}]
    assert _decisions.check_input(vhosts=bad, **good) == [
        "webserver_vhosts (c, d): haproxy serves no files and takes no site over: each vhost needs upstream or backends "
        "(the members it balances), and no root or takeover."]
    settings = _decisions.vhost_settings(ok[1], defaults={"tls_profile": "modern", "hsts_max_age": 1,
                                                          "hsts_include_subdomains": False, "hsts_preload": False,
                                                          "ocsp_stapling": False, "http2": True, "probe_address": "::1"})
    assert settings["backends"] == ["http://10.0.0.3"] and settings["health_check"] == "/"


def test_registry_entry_keeps_the_operator_file_out_of_what_the_role_writes():
    facts = _servers.facts("haproxy")
    assert all(not f["rel"].startswith("haproxy.cfg") for f in facts["all_files"])
    assert [u["dest"] for u in facts["units"]] == ["/etc/systemd/system/haproxy.service.d/port443-https.conf",
                                                   "/etc/systemd/system/port443-acme-http.service"]
    assert _servers.validate_argv("haproxy", "/stage/haproxy")[0] == [
        "haproxy", "-c", "-f", "/stage/haproxy/haproxy.cfg", "-f", "/stage/haproxy/port443.d"]
    assert os.path.basename(facts["cert_copy_dir"]) == "port443" and facts["cert_copy_names"][1] == "{name}.crt.key"
