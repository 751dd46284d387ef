# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
from __future__ import annotations

import json

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.port443.https.plugins.module_utils.firewall import rollback
from ansible_collections.port443.https.plugins.module_utils.firewall.base import Plan
from ansible_collections.port443.https.plugins.modules import firewall_port


class ExitJson(Exception):
    pass


class FailJson(Exception):
    pass


RULESET = json.dumps({"nftables": [
    {"table": {"family": "inet", "name": "filter", "handle": 1}},
    {"chain": {"family": "inet", "table": "filter", "name": "input", "handle": 1, "type": "filter", "hook": "input",
               "prio": 0, "policy": "drop"}},
]})


@pytest.fixture(autouse=True)
def _patch(monkeypatch, tmp_path):
    calls = []
    # the rollback state and the run lock live under tmp_path; locks a test's module run took are released after it
    monkeypatch.setattr(rollback, "STATE_DIR", str(tmp_path / "rollback"))
    monkeypatch.setattr(rollback, "LOCK_PATH", str(tmp_path / "firewall.lock"))
    monkeypatch.setattr(rollback, "RUN_MARK", str(tmp_path / "run-mark"))
    monkeypatch.setattr(rollback, "systemd_running", lambda: False)

    def exit_json(self, **kwargs):
        raise ExitJson(kwargs)

    def fail_json(self, **kwargs):
        raise FailJson(kwargs)

    def run_command(self, argv, data=None, **kwargs):
        calls.append(argv)
        if argv[:2] == ["/usr/sbin/nft", "-j"]:
            return 0, RULESET, ""
        if argv[:2] == ["/usr/sbin/nft", "-f"]:
            raise AssertionError("check mode must not apply")
        return 1, "", ""

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return "/usr/sbin/" + name if name in ("nft", "systemctl") else None

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", get_bin_path)
    yield calls


def run(args, expect=ExitJson):
    with patch_module_args(args):
        with pytest.raises(expect) as exc:
            firewall_port.main()
    for lock in list(rollback.HELD):  # a real module process releases its lock when it exits
        lock.release()
    return exc.value.args[0]


@pytest.mark.parametrize("args,msg", [
    ({"port": [0]}, "out of range"),
    ({"port": ["70000"]}, "out of range"),
    ({"port": [443], "source": ["10.0.0.300/8"]}, "CIDR"),
    ({"port": [443], "backend": "ufw"}, "ufw is not installed"),
    ({"port": [443], "rollback_timeout": 0}, "rollback_timeout"),
])
def test_bad_input_fails_before_anything(args, msg, _patch):
    result = run(args, FailJson)
    assert msg in result["msg"]
    assert not any(c[:2] == ["/usr/sbin/nft", "-f"] for c in _patch)


def test_check_mode_predicts(tmp_path, monkeypatch):
    monkeypatch.setattr("ansible_collections.port443.https.plugins.module_utils.firewall.nftables.INCLUDE_PATH", str(tmp_path / "x.nft"))
    result = run({"port": ["443", "8000-8010"], "persistent": False, "_ansible_check_mode": True, "_ansible_diff": True})
    assert result["changed"] is True
    assert result["backend"] == "nftables"
    assert [r["port"] for r in result["rules_added"]] == ["443", "8000-8010"]
    assert result["commands"] == [["/usr/sbin/nft", "-f", "-"]]
    assert "ipv6: allow tcp/443 from any" in result["diff"]["after"]
    assert result["diff"]["before"] == ""


def test_confirm_without_pending(monkeypatch, tmp_path):
    result = run({"confirm": True})
    assert result["changed"] is False


def test_enable_reports_the_ssh_guard(tmp_path, monkeypatch):
    monkeypatch.setattr("ansible_collections.port443.https.plugins.module_utils.firewall.nftables.INCLUDE_PATH", str(tmp_path / "x.nft"))
    monkeypatch.setattr("ansible_collections.port443.https.plugins.module_utils.firewall.nftables.CONF_PATH", str(tmp_path / "none.conf"))
    monkeypatch.setattr("ansible_collections.port443.https.plugins.module_utils.firewall.nftables.NftablesBackend.__init__.__defaults__",
                        (None, "nft", str(tmp_path / "x.nft"), str(tmp_path / "none.conf"), "unshare"))
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    result = run({"port": ["443"], "enable": True, "ssh_ports": [2222], "persistent": False, "_ansible_check_mode": True})
    guard = result["ssh_guard"]
    assert guard["ports"] == [2222] and guard["port_sources"]["2222"][0] == "ssh_ports option"
    assert guard["action"] == "none" and guard["added"] == [] and guard["missing"] == [2222]
    assert "changes no policy" in guard["reason"]
    assert result["ssh_port"] == 2222


def test_ssh_ports_out_of_range_fails_before_anything(_patch):
    result = run({"port": ["443"], "enable": True, "ssh_ports": [70000]}, FailJson)
    assert result["msg"] == "ssh_ports: 70000 is out of range (1-65535)"
    assert not any(c[:2] == ["/usr/sbin/nft", "-f"] for c in _patch)


def test_a_change_without_rollback_is_refused_while_an_earlier_one_is_pending(tmp_path):
    rollback.arm(lambda argv, data=None: (0, "", ""), Plan(), [], 60, lambda n: None)
    failed = run({"port": ["8443"], "persistent": False}, expect=FailJson)
    assert "nothing changed: a commit-confirmed change of an earlier run is pending" in failed["msg"]
    assert "confirm=true" in failed["msg"] and failed["rollback"]["earlier"]["pending"]
    # no change at all is fine; a confirm disarms it
    assert run({"confirm": True})["rollback"] == {"armed": False, "confirmed": True, "generations": 1}
    assert not (tmp_path / "rollback").exists()


def test_stale_state_is_reported_and_moved_aside(tmp_path):
    rollback.arm(lambda argv, data=None: (0, "", ""), Plan(), [], 60, lambda n: None)
    (tmp_path / "run-mark").unlink()  # what a reboot does to /run
    result = run({"port": ["443"], "persistent": False, "_ansible_check_mode": True})
    assert result["rollback"]["earlier"]["stale"] and (tmp_path / "rollback").exists()
    result = run({"confirm": True})
    assert result["changed"] and result["rollback"]["earlier"]["stale"] and not result["rollback"]["confirmed"]
    assert not (tmp_path / "rollback").exists() and (tmp_path / "rollback.stale").is_dir()


def test_rules_apply_in_one_run(tmp_path, monkeypatch, _patch):
    monkeypatch.setattr("ansible_collections.port443.https.plugins.module_utils.firewall.nftables.INCLUDE_PATH", str(tmp_path / "x.nft"))
    result = run({"rules": [{"port": ["443", "80"]}, {"port": ["8000-8010"], "source": ["10.0.0.0/8"], "comment": "admin"},
                            {"port": ["8443"], "state": "closed"}],
                  "comment": "https", "persistent": False, "_ansible_check_mode": True})
    assert result["changed"] is True
    assert [r["port"] for r in result["rules_added"]] == ["443", "80", "8000-8010"]
    assert result["commands"] == [["/usr/sbin/nft", "-f", "-"]]  # one transaction
    # the detection's read of the ruleset is the backend's read: the ruleset is listed once
    assert [c for c in _patch if c[:2] == ["/usr/sbin/nft", "-j"]] == [["/usr/sbin/nft", "-j", "-a", "list", "ruleset"]]


@pytest.mark.parametrize("args,msg", [
    ({"rules": [{"port": ["443"]}, {"port": ["443"], "state": "closed"}]}, "rules[1]: tcp/443 is asked both open and closed"),
    ({"rules": [{"port": ["70000"]}]}, "rules[0].port: 70000 is out of range"),
    ({"rules": [{"port": ["443"]}], "port": ["443"]}, "mutually exclusive"),
    ({"protocol": "tcp"}, "port, rules"),
])
def test_rules_bad_input(args, msg, _patch):
    assert msg in run(args, FailJson)["msg"]
    assert not any(c[:2] == ["/usr/sbin/nft", "-f"] for c in _patch)


def test_check_packages_knows_the_backends_packages(_patch):
    # dpkg-query fails in the fake: every package counts as missing, and nothing else is done
    result = run({"port": ["443"], "backend": "iptables", "check_packages": True})
    assert result == {"changed": False, "missing_packages": ["iptables", "iptables-persistent"], "backend": "iptables",
                      "rules_added": [], "rules_removed": [], "commands": [], "files": []}
    assert [c[0] for c in _patch] == ["dpkg-query"]
    assert run({"port": ["443"], "backend": "nftables", "check_packages": True, "packages": ["nftables", "curl"]})[
        "missing_packages"] == ["nftables", "curl"]
    failed = run({"port": ["443"], "check_packages": True}, FailJson)
    assert failed["msg"].startswith("check_packages: needs a backend other than auto")


def test_observe_reads_without_changing(tmp_path, monkeypatch, _patch):
    """observe says whether opening or closing a rule would change anything, from the run's own read, changing nothing."""
    monkeypatch.setattr("ansible_collections.port443.https.plugins.module_utils.firewall.nftables.INCLUDE_PATH", str(tmp_path / "x.nft"))
    observe = [{"port": ["443"], "protocol": "udp"}, {"port": ["8443"], "source": ["10.0.0.0/8"]}]
    result = run({"rules": [{"port": ["443"]}], "observe": observe, "persistent": False, "_ansible_check_mode": True})
    assert result["observed"] == [
        {"port": ["443"], "protocol": "udp", "source": None, "open": False, "closed": True},
        {"port": ["8443"], "protocol": "tcp", "source": ["10.0.0.0/8"], "open": False, "closed": True},
    ]
    # only the rules are planned: nothing for the observed entries
    assert [r["port"] + "/" + r["protocol"] for r in result["rules_added"]] == ["443/tcp"]
    assert [c for c in _patch if c[:2] == ["/usr/sbin/nft", "-j"]] == [["/usr/sbin/nft", "-j", "-a", "list", "ruleset"]]


def test_observe_sees_the_collections_rule(tmp_path, monkeypatch):
    monkeypatch.setattr("ansible_collections.port443.https.plugins.module_utils.firewall.nftables.INCLUDE_PATH", str(tmp_path / "x.nft"))
    ours = json.loads(RULESET)
    ours["nftables"].append({"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 7,
                                      "comment": "port443.https:udp/443", "expr": [{"accept": None}]}})
    monkeypatch.setattr(__name__ + ".RULESET", json.dumps(ours))
    result = run({"rules": [{"port": ["80"], "state": "closed"}], "observe": [{"port": ["443"], "protocol": "udp"}],
                  "persistent": False, "_ansible_check_mode": True})
    assert result["changed"] is False
    assert result["observed"] == [{"port": ["443"], "protocol": "udp", "source": None, "open": True, "closed": False}]


@pytest.mark.parametrize("observe,msg", [
    ([{"port": ["0"], "protocol": "udp"}], "observe[0].port: 0 is out of range"),
    ([{"port": ["443"]}, {"port": ["443"], "source": ["10.0.0.300/8"]}], "observe[1].source"),
])
def test_observe_bad_input(observe, msg, _patch):
    failed = run({"rules": [{"port": ["443"]}], "observe": observe}, FailJson)
    assert msg in failed["msg"]
    assert not any(c[:2] == ["/usr/sbin/nft", "-j"] for c in _patch)


def _ruleset_with_udp443():
    ours = json.loads(RULESET)
    ours["nftables"].append({"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 7,
                                      "comment": "port443.https:udp/443", "expr": [{"accept": None}]}})
    return json.dumps(ours)


@pytest.fixture
def changing_firewall(tmp_path, monkeypatch, _patch):
    """A firewall whose ruleset holds udp/443 once ``nft -f`` ran; ``fail_after`` makes the read after it fail."""
    monkeypatch.setattr("ansible_collections.port443.https.plugins.module_utils.firewall.nftables.INCLUDE_PATH", str(tmp_path / "x.nft"))
    fw = {"ruleset": RULESET, "fail_after": False, "applied": False}

    def run_command(self, argv, data=None, **kwargs):
        _patch.append(argv)
        if argv[:2] == ["/usr/sbin/nft", "-j"]:
            if fw["applied"] and fw["fail_after"]:
                raise OSError("nft went away")
            return 0, fw["ruleset"], ""
        if argv[:2] == ["/usr/sbin/nft", "-f"]:
            fw["applied"] = True
            fw["ruleset"] = _ruleset_with_udp443()
            return 0, "", ""
        return 1, "", ""

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    return fw


OBSERVE_UDP443 = {"rules": [{"port": ["443"], "protocol": "udp"}], "observe": [{"port": ["443"], "protocol": "udp"}],
                  "persistent": False}


def test_observe_after_a_change_reads_again(changing_firewall, _patch):
    """A real run that changes the firewall reports what it holds after the change, from a fresh read."""
    result = run(dict(OBSERVE_UDP443))
    assert result["changed"] is True and changing_firewall["applied"]
    assert result["observed"] == [{"port": ["443"], "protocol": "udp", "source": None, "open": True, "closed": False}]
    # read, change, read again (the read cache is dropped)
    assert [c[1] for c in _patch if c[0] == "/usr/sbin/nft"] == ["-j", "-f", "-j"]


def test_observe_in_check_mode_is_the_read_before(changing_firewall, _patch):
    """Check mode changes nothing and reads once: observed is the state before the predicted change."""
    result = run(dict(OBSERVE_UDP443, _ansible_check_mode=True))
    assert result["changed"] is True and not changing_firewall["applied"]
    assert result["observed"] == [{"port": ["443"], "protocol": "udp", "source": None, "open": False, "closed": True}]
    assert len([c for c in _patch if c[:2] == ["/usr/sbin/nft", "-j"]]) == 1


def test_observe_without_a_change_reads_once(changing_firewall, _patch):
    changing_firewall["ruleset"] = _ruleset_with_udp443()
    result = run(dict(OBSERVE_UDP443))
    assert result["changed"] is False and not changing_firewall["applied"]
    assert result["observed"] == [{"port": ["443"], "protocol": "udp", "source": None, "open": True, "closed": False}]
    assert len([c for c in _patch if c[:2] == ["/usr/sbin/nft", "-j"]]) == 1


def test_observe_after_a_change_left_out_when_the_read_fails(changing_firewall, monkeypatch):
    """The change stands and the run succeeds; observed is left out rather than reporting the read before the change."""
    warned = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, msg: warned.append(msg))
    changing_firewall["fail_after"] = True
    result = run(dict(OBSERVE_UDP443))
    assert result["changed"] is True and changing_firewall["applied"]
    assert "observed" not in result
    assert [r["port"] + "/" + r["protocol"] for r in result["rules_added"]] == ["443/udp"]
    assert warned == []


def test_observe_after_a_change_left_out_when_the_output_is_unreadable(changing_firewall, monkeypatch):
    def after(self, argv, data=None, **kwargs):
        if argv[:2] == ["/usr/sbin/nft", "-j"] and changing_firewall["applied"]:
            return 0, "not json", ""
        return before(self, argv, data=data, **kwargs)

    before = basic.AnsibleModule.run_command
    monkeypatch.setattr(basic.AnsibleModule, "run_command", after)
    result = run(dict(OBSERVE_UDP443))
    assert result["changed"] is True and "observed" not in result
