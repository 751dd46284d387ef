# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The webserver role's apply step on real temporary trees: refusals before any change (ports held by other
processes, files the collection did not write), checker warnings a change introduces, the checker's output read
with live paths, a configuration broken before the run, and a reload that fails after validation: every change of
the run is put back and the server is started again with the previous tree."""
from __future__ import annotations

import os
import subprocess

import pytest

from ansible_collections.port443.https.plugins.module_utils.host import _sockets
from ansible_collections.port443.https.plugins.module_utils.webserver import _ports
from ansible_collections.port443.https.plugins.module_utils.webserver import _webserver_apply as wa
from ansible_collections.port443.https.plugins.module_utils.webserver import _webserver_state

needs_root = pytest.mark.skipif(os.getuid() != 0, reason="the swap writes root:root files")

SS = """LISTEN 0 511 0.0.0.0:443 0.0.0.0:* users:(("python3",pid=812,fd=3))
LISTEN 0 511 0.0.0.0:80 0.0.0.0:* users:(("nginx",pid=100,fd=6),("nginx",pid=101,fd=6))
LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=50,fd=3))
"""


def test_port_conflicts_names_the_foreign_process_only():
    found = _sockets.parse_ss(SS)
    conflicts = _ports.port_conflicts([80, 443], "nginx", found, member=lambda pid, _svc: pid in (100, 101))
    assert len(conflicts) == 1
    assert conflicts[0].startswith("0.0.0.0:443 is in use by ") and conflicts[0].endswith("pid 812")
    assert _ports.port_conflicts([80], "nginx", found, member=lambda pid, _svc: pid in (100, 101)) == []
    # The server's own processes never conflict; an unknown owner (no pid visible) does.
    hidden = _ports.parse_listeners("LISTEN 0 5 [::]:443 [::]:*\n")
    assert _ports.port_conflicts([443], "nginx", hidden, member=lambda *_: True) == [
        "[::]:443 is in use by a process this user cannot see"]


def test_the_socket_cgroup_names_the_unit_when_the_process_is_hidden():
    # Caddy has file capabilities: not dumpable, so ss -p cannot name it without CAP_SYS_PTRACE; -e gives the cgroup.
    out = ("LISTEN 0 4096 *:443 *:* uid:997 ino:1436631 sk:1039 cgroup:/docker/3291/system.slice/caddy.service v6only:0 <->\n"
           "LISTEN 0 5 0.0.0.0:80 0.0.0.0:* ino:5 sk:1 cgroup:/system.slice/squatter.service <->\n")
    found = _ports.parse_listeners(out)
    assert [item["cgroup"].split("/")[-1] for item in found] == ["caddy.service", "squatter.service"]
    assert _ports.port_conflicts([80, 443], "caddy", found, member=lambda *_: False) == [
        "0.0.0.0:80 is in use by the unit squatter.service"]
    assert _ports.owned_by(found[0], "caddy") and not _ports.owned_by(found[1], "caddy")


def test_in_service_reads_the_cgroup(tmp_path):
    (tmp_path / "7").mkdir()
    (tmp_path / "7" / "cgroup").write_text("0::/system.slice/nginx.service\n")
    (tmp_path / "8").mkdir()
    (tmp_path / "8" / "cgroup").write_text("0::/system.slice/squatter.service\n")
    assert _ports.in_service(7, "nginx", proc=str(tmp_path))
    assert not _ports.in_service(8, "nginx", proc=str(tmp_path))
    assert not _ports.in_service(9, "nginx", proc=str(tmp_path))


def test_warnings_of_the_checkers():
    nginx = ('nginx: [warn] conflicting server name "app.example" on 0.0.0.0:80, ignored\n'
             "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n")
    assert wa.warnings_of("nginx", nginx) == ['conflicting server name "app.example" on 0.0.0.0:80, ignored']
    # Time stamps and pids differ between the staged and the live check: the same warning must compare equal.
    first = "[Sat Dec 05 10:00:01 2026] [core:warn] [pid 9] AH00549: VirtualHost a:443 overlaps with VirtualHost b:443\n"
    second = first.replace("10:00:01", "10:00:02").replace("pid 9", "pid 10")
    assert wa.warnings_of("apache", first) == wa.warnings_of("apache", second) != []
    assert wa.warnings_of("apache", "Syntax OK\n") == []


def test_files_ports_and_probes_from_the_role(tmp_path):
    spec = {"live_root": "/etc/nginx/", "candidate_dir": str(tmp_path),
            "files": [{"name": "a.conf", "rel": "conf.d/a.conf", "template": "x.j2"}]}
    assert wa.files_of(spec) == [{"src": f"{tmp_path}/a.conf", "dest": "/etc/nginx/conf.d/a.conf", "foreign_ok": False,
                                  "content": None}]
    for bad in ({"name": "a.conf"}, {"name": "../a", "rel": "x"}, {"name": "a", "rel": "../../etc/passwd"},
                {"name": "a", "rel": "/etc/passwd"}, {"name": "a", "rel": "a", "content": ["not", "text"]}):
        with pytest.raises(wa.ApplyError, match=r"files\[0\]"):
            wa.files_of(dict(spec, files=[bad]))
    vhosts = [{"server_names": ["a.test"], "cert_file": "/c.crt", "tls_ready": True},
              {"server_names": ["b.test"], "tls_ready": False},
              {"server_names": ["c.test"], "tls_ready": True, "caddy_automatic_https": True}]
    assert _ports.ports_of({"vhosts": vhosts}) == [80, 443]
    assert _ports.ports_of({"vhosts": vhosts[1:2]}) == [80]
    assert _ports.ports_of({"ports": [8443], "vhosts": vhosts}) == [8443]
    assert wa.probes_of({"vhosts": vhosts}) == [{"name": "a.test", "cert_file": "/c.crt", "extra_cert_files": []}]


def test_foreign_files_and_live_paths(tmp_path):
    ours = tmp_path / "ours.conf"
    ours.write_text("# Managed - port443.https.webserver; edits are overwritten.\n")
    theirs = tmp_path / "theirs.conf"
    theirs.write_text("server {}\n")
    files = [{"dest": str(ours)}, {"dest": str(theirs)}, {"dest": str(tmp_path / "new.conf")},
             {"dest": str(theirs), "foreign_ok": True}]
    assert wa.foreign_files(files) == [str(theirs)]
    text = "unknown directive in /etc/port443-stage/run.ab12/nginx/sites-enabled/op:4"
    assert wa.live_paths(text, "/etc/port443-stage/run.ab12", "/etc/port443-stage/run.ab12/nginx",
                         "/etc/nginx") == "unknown directive in /etc/nginx/sites-enabled/op:4"


class Host:
    """A runner for a fake server on a temporary tree: cp is real; the checker, systemctl and ss answer as told."""

    def __init__(self, live, valid=lambda root: True, reload_ok=True, warn=lambda root: ""):
        self.live, self.valid, self.reload_ok, self.warn = live, valid, reload_ok, warn
        self.calls = []
        self.active = True

    def __call__(self, argv, environ=None):
        self.calls.append(argv)
        if argv[0] == "cp":
            proc = subprocess.run(argv, capture_output=True, text=True, check=False)
            return proc.returncode, proc.stdout, proc.stderr
        if argv[0] == "ss":
            return 0, "", ""
        if argv[0] == "caddy":
            root = os.path.dirname(argv[-1])
            ok = self.valid(root)
            return (0 if ok else 1), "", (f"Error: adapting config: {root}/Caddyfile:2 - broken" if not ok else "") \
                + self.warn(root)
        if argv[:2] == ["systemctl", "is-active"]:
            return 0, "active\n" if self.active else "failed\n", ""
        if argv[:2] == ["systemctl", "reload"]:
            if not self.reload_ok:
                return 1, "", "Job for caddy.service failed."
            return 0, "", ""
        if argv[:2] == ["systemctl", "restart"]:
            self.active = True
            return 0, "", ""
        if argv[0] == "journalctl":
            return 0, "listen tcp :443: bind: address already in use\n", ""
        return 0, "", ""


def _tree(tmp_path):
    live = tmp_path / "caddy"
    live.mkdir()
    (live / "Caddyfile").write_text(":8081 {\n  respond operator\n}\nimport port443-https.caddy\n")
    (live / "port443-https.caddy").write_text("# old - port443.https.webserver\nold\n")
    cand = tmp_path / "cand"
    cand.mkdir()
    (cand / "port443-https.caddy").write_text("# new - port443.https.webserver\nnew\n")
    spec = {"server": "caddy", "service": "caddy", "live_root": str(live), "candidate_dir": str(cand),
            "stage_dir": str(tmp_path / "stage"), "files": [{"name": "port443-https.caddy", "rel": "port443-https.caddy"}],
            "ports": [], "vhosts": [], "prove_timeout": 0}
    return live, spec


@needs_root
def test_apply_swaps_reloads_and_is_idempotent(tmp_path):
    live, spec = _tree(tmp_path)
    host = Host(live)
    result = wa.apply(spec, host, check_mode=False)
    assert result["changed"] and result["reloaded"]
    assert (live / "port443-https.caddy").read_text().endswith("new\n")
    assert os.listdir(tmp_path / "stage") == []  # this run's staging directory is gone
    again = wa.apply(spec, Host(live), check_mode=False)
    assert not again["changed"] and not again["reloaded"]


def test_check_mode_changes_nothing(tmp_path):
    live, spec = _tree(tmp_path)
    host = Host(live)
    result = wa.apply(spec, host, check_mode=True)
    # The file is listed (the role's compare step reports it as the change, with its diff) and nothing ran.
    assert result["files"] == [f"{live}/port443-https.caddy"] and not result["changed"] and not result["reloaded"]
    assert wa.apply(dict(spec, reload=True), host, check_mode=True)["changed"] is True
    assert (live / "port443-https.caddy").read_text().endswith("old\n")
    assert not any(call[0] in ("systemctl", "cp") and call[1:2] != ["is-active"] for call in host.calls)


@needs_root
def test_a_failed_reload_restores_the_previous_tree_and_names_the_cause(tmp_path):
    live, spec = _tree(tmp_path)
    host = Host(live, reload_ok=False)
    with pytest.raises(wa.ApplyError) as err:
        wa.apply(spec, host, check_mode=False)
    msg = str(err.value)
    assert "was not applied" in msg and "restored" in msg and "serves it again" in msg
    assert "address already in use" in msg
    assert (live / "port443-https.caddy").read_text().endswith("old\n")
    assert ["systemctl", "reload", "caddy"] in host.calls


def test_a_tree_broken_before_the_run_is_named_with_its_live_path(tmp_path):
    live, spec = _tree(tmp_path)
    host = Host(live, valid=lambda root: False)
    with pytest.raises(wa.ApplyError, match="already broken before this run") as err:
        wa.apply(spec, host, check_mode=False)
    assert f"{live}/Caddyfile:2" in str(err.value) and "stage" not in str(err.value)
    assert (live / "port443-https.caddy").read_text().endswith("old\n")


def test_a_change_that_does_not_validate_changes_nothing(tmp_path):
    live, spec = _tree(tmp_path)
    host = Host(live, valid=lambda root: "stage" not in root)
    with pytest.raises(wa.ApplyError, match="did not validate") as err:
        wa.apply(spec, host, check_mode=False)
    assert "stage" not in str(err.value)
    assert (live / "port443-https.caddy").read_text().endswith("old\n")


def test_a_warning_the_change_introduces_is_an_error(tmp_path):
    live, spec = _tree(tmp_path)
    warn = "Error: adapting config using caddyfile: ambiguous site definition: app.example"
    host = Host(live, warn=lambda root: warn if "stage" in root else "")
    with pytest.raises(wa.ApplyError, match="ambiguous site definition"):
        wa.apply(spec, host, check_mode=False)
    assert (live / "port443-https.caddy").read_text().endswith("old\n")


def test_a_file_the_collection_did_not_write_is_never_replaced(tmp_path):
    live, spec = _tree(tmp_path)
    (live / "port443-https.caddy").write_text("the operator's own file\n")
    with pytest.raises(wa.ApplyError, match="not written by the collection"):
        wa.apply(spec, Host(live), check_mode=True)
    assert (live / "port443-https.caddy").read_text() == "the operator's own file\n"


def test_a_stopped_roll_changes_nothing(tmp_path):
    live, spec = _tree(tmp_path)
    with pytest.raises(wa.ApplyError, match="roll"):
        wa.apply(dict(spec, roll_stopped="the roll of pool p stopped"), Host(live), check_mode=False)
    assert (live / "port443-https.caddy").read_text().endswith("old\n")


def test_log_errors_reads_only_what_the_reload_wrote(tmp_path):
    log = tmp_path / "error.log"
    log.write_text("[Sat] [ssl:emerg] [pid 1] AH02565: old failure\n")
    offset = wa.log_size(str(log))
    with open(log, "a", encoding="utf-8") as handle:
        handle.write("[Sat] [mpm_event:notice] [pid 2] AH00489: resuming normal operations\n"
                     "[Sat] [ssl:emerg] [pid 2] AH02565: Certificate and private key x do not match\n"
                     '2026/12/05 15:50:01 [emerg] 9#9: bind() to 0.0.0.0:443 failed (98: Address already in use)\n')
    errors = wa.log_errors(str(log), offset)
    assert len(errors) == 2 and "do not match" in errors[0] and "Address already in use" in errors[1]
    assert wa.log_errors(str(tmp_path / "none.log"), 0) == []


def _text_spec(tmp_path):
    """The caddy tree, its file given with its text (as the action plugin passes a rendered template)."""
    live, spec = _tree(tmp_path)
    (tmp_path / "cand" / "port443-https.caddy").unlink()
    os.rmdir(tmp_path / "cand")
    text = "# new - port443.https.webserver\nfrom text\n"
    spec["files"] = [{"name": "port443-https.caddy", "rel": "port443-https.caddy", "content": text}]
    return live, spec, text


def test_check_mode_with_text_counts_the_file_and_writes_nothing(tmp_path):
    live, spec, text = _text_spec(tmp_path)
    host = Host(live)
    result = wa.apply(spec, host, check_mode=True)
    # A file given with its text is compared with the live file here: a change (and its candidate) in check mode too.
    assert result["changed"] and result["files"] == [f"{live}/port443-https.caddy"]
    assert result["texts"] == {f"{live}/port443-https.caddy": text}
    assert result["candidates"] == [str(tmp_path / "cand"), str(tmp_path / "cand" / "port443-https.caddy")]
    assert not (tmp_path / "cand").exists() and (live / "port443-https.caddy").read_text().endswith("old\n")
    diff = wa.file_diff(f"{live}/port443-https.caddy", text)
    assert diff["before"].endswith("old\n") and diff["after"] == text and diff["before_header"] == diff["after_header"]
    assert wa.file_diff(str(tmp_path / "none"), text)["before"] == ""


@needs_root
def test_text_is_written_to_the_candidate_and_the_live_tree_then_nothing_changes(tmp_path):
    live, spec, text = _text_spec(tmp_path)
    result = wa.apply(spec, Host(live), check_mode=False)
    assert result["changed"] and result["reloaded"]
    assert (live / "port443-https.caddy").read_text() == text == (tmp_path / "cand" / "port443-https.caddy").read_text()
    assert oct(os.stat(tmp_path / "cand").st_mode & 0o777) == "0o700"
    assert oct(os.stat(tmp_path / "cand" / "port443-https.caddy").st_mode & 0o777) == "0o644"
    again = wa.apply(spec, Host(live), check_mode=False)
    assert not again["changed"] and not again["reloaded"] and again["candidates"] == []
    # A lost candidate with the live file in place: written again (a change), without a reload.
    (tmp_path / "cand" / "port443-https.caddy").unlink()
    assert wa.apply(spec, Host(live), check_mode=True)["changed"]
    host = Host(live)
    lost = wa.apply(spec, host, check_mode=False)
    assert lost["changed"] and not lost["reloaded"] and lost["files"] == []
    assert (tmp_path / "cand" / "port443-https.caddy").read_text() == text
    assert not any(call[:2] == ["systemctl", "reload"] for call in host.calls)


def test_content_plan_follows_the_state_steps_read_of_each_root(tmp_path):
    """Where the apply step writes a placeholder page and what the state step reads (root_state) agree; the state step
    asks for the page (placeholder_needed) wherever the apply step writes one."""
    with_index, empty, link_root, a_file = tmp_path / "with_index", tmp_path / "empty", tmp_path / "link_root", tmp_path / "a_file"
    with_index.mkdir()
    (with_index / "index.php").write_text("<?php\n")
    empty.mkdir()
    link_root.mkdir()
    (link_root / "index.html").symlink_to(tmp_path / "gone")  # a dangling link is left alone, as before
    a_file.write_text("not a directory\n")
    new = tmp_path / "new" / "site"
    roots = [str(p) for p in (with_index, empty, link_root, a_file, new)]
    spec = {"dirs": [], "placeholder_roots": roots, "placeholder": "<h1>HTTPS works</h1>\n"}
    todo = wa.content_plan(spec)
    assert todo["placeholders"] == [f"{empty}/index.html", f"{new}/index.html"]
    assert todo["dirs"] == [str(new)]
    assert set(todo["placeholders"]) <= {f"{r}/index.html" for r in _webserver_state.placeholder_needed(roots)}
    assert wa.content_plan(dict(spec, placeholder="")) == {"dirs": [], "placeholders": []}
    with pytest.raises(wa.ApplyError, match="exists and is not a directory"):
        wa.content_plan(dict(spec, dirs=[str(a_file)]))


@needs_root
def test_make_content_creates_each_level_and_never_replaces_a_page(tmp_path):
    new = tmp_path / "srv" / "site"
    spec = {"dirs": [str(tmp_path / "webroot" / ".well-known" / "acme-challenge")], "placeholder_roots": [str(new)],
            "placeholder": "page\n"}
    todo = wa.content_plan(spec)
    wa.make_content(spec, todo)
    for level in (tmp_path / "webroot", tmp_path / "webroot" / ".well-known", new):
        assert oct(os.stat(level).st_mode & 0o777) == "0o755"
    assert (new / "index.html").read_text() == "page\n"
    assert wa.content_plan(spec) == {"dirs": [], "placeholders": []}
    # A page that appears between the plan and the write is kept.
    (new / "index.html").write_text("the operator's\n")
    wa.make_content(spec, todo)
    assert (new / "index.html").read_text() == "the operator's\n"
    # A directory with another mode is set back to 0755.
    os.chmod(tmp_path / "webroot" / ".well-known" / "acme-challenge", 0o700)
    assert wa.content_plan(spec)["dirs"] == spec["dirs"]


def test_service_plan_starts_and_enables_only_what_is_not(tmp_path):
    del tmp_path

    def runner(active, enabled):
        def run(argv, environ=None):
            del environ
            return (0, "active\n", "") if argv[1] == "is-active" and active else \
                (3, "inactive\n", "") if argv[1] == "is-active" else \
                (0, "enabled\n", "") if enabled else (1, "disabled\n", "")
        return run

    spec = {"service": "nginx", "enable": True}
    assert wa.service_plan(spec, runner(True, True)) == []
    assert wa.service_plan(spec, runner(False, False)) == ["start", "enable"]
    assert wa.service_plan(spec, runner(True, False)) == ["enable"]
    assert wa.service_plan(dict(spec, enable=False), runner(False, False)) == []
