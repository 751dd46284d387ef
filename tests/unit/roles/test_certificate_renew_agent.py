# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The certificate role's renewal agent (files/port443-certificate-renew) with real keys and certificates in a temporary
directory and the commands faked: the decision a leader takes, the safe install (files written as the role writes
them; restored when the proof fails), a pool member taking the certificate the member before it serves, a bad
configuration."""
from __future__ import annotations

import datetime
import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

AGENT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles", "certificate", "files",
                     "port443-certificate-renew")
_loader = importlib.machinery.SourceFileLoader("port443_certificate_renew", AGENT)
_spec = importlib.util.spec_from_loader(_loader.name, _loader)
agent = importlib.util.module_from_spec(_spec)
_loader.exec_module(agent)

NOW = datetime.datetime.now(datetime.timezone.utc)
CA_KEY = ec.generate_private_key(ec.SECP256R1())
CA = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lab CA")]))
      .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lab CA")])).public_key(CA_KEY.public_key())
      .serial_number(1).not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=9))
      .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(CA_KEY, hashes.SHA256()))


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def leaf(key, serial, start, minutes, names=("pool.test",)):
    return (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(CA.subject).public_key(key.public_key()).serial_number(serial)
            .not_valid_before(start).not_valid_after(start + datetime.timedelta(minutes=minutes))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .sign(CA_KEY, hashes.SHA256()))


@pytest.fixture
def host(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "k.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    old = leaf(key, 100, NOW - datetime.timedelta(minutes=1), 10)
    files = agent._hostrenew.files_text(agent._hostrenew.pem_blocks(pem(old) + pem(CA)))
    for part in ("cert", "chain", "fullchain"):
        (tmp_path / part).write_text(files[part])
    config = {"name": "pool", "cert": str(tmp_path / "cert"), "chain": str(tmp_path / "chain"),
              "fullchain": str(tmp_path / "fullchain"), "key": str(tmp_path / "k.pem"), "sans": ["DNS:pool.test"],
              "directory": "https://ca.invalid/dir", "challenge": "http-01", "webroot": str(tmp_path),
              "server": "nginx", "service": "nginx", "probe_name": "pool.test", "certbot_dir": str(tmp_path / "cb"),
              "state_file": str(tmp_path / "state" / "pool.json"), "use_ari": False, "renew_percent": 50,
              "prove_timeout": 0}
    (tmp_path / "config.json").write_text(json.dumps(config))
    return {"key": key, "old": old, "config": config, "path": str(tmp_path / "config.json"), "files": files}


@pytest.fixture
def fake(monkeypatch):
    calls = {"run": [], "prove": []}

    def run(argv, environ=None, **_kwargs):
        calls["run"].append(argv)
        return 0, "active\n", ""

    monkeypatch.setattr(agent, "run", run)
    monkeypatch.setattr(agent._apply, "check_tree", lambda server, root, runner: (True, "", []))
    monkeypatch.setattr(agent._apply, "service_pid", lambda service, runner: 1)
    monkeypatch.setattr(agent._apply, "children", lambda pid: {2})
    calls["problems"] = []

    def prove(*args, **_kwargs):
        calls["prove"].append(args)
        return calls["problems"].pop(0) if calls["problems"] else []

    monkeypatch.setattr(agent._apply, "prove", prove)
    monkeypatch.setattr(agent._apply, "served_leaf", lambda address, port, name: (b"der", ""))
    return calls


def state(host):
    with open(host["config"]["state_file"], encoding="utf-8") as handle:
        return json.load(handle)


def test_leader_not_due_orders_nothing(host, fake, monkeypatch):
    monkeypatch.setattr(agent, "order", lambda *a: pytest.fail("no order is due"))
    assert agent.main(host["path"]) == 0
    got = state(host)
    assert got["result"] == "unchanged" and got["basis"] == "lifetime" and got["serial"] == "64"
    assert "50 % of the lifetime remains" in got["decision"]


def test_leader_due_orders_and_installs_through_the_safe_path(host, fake, monkeypatch):
    new = leaf(host["key"], 200, NOW - datetime.timedelta(seconds=5), 20)
    due = {"due": True, "renew_at": "", "basis": "lifetime", "why": "test"}
    monkeypatch.setattr(agent._hostrenew, "decide", lambda *a: due)
    monkeypatch.setattr(agent, "order", lambda config, key, work: agent._hostrenew.pem_blocks(pem(new) + pem(CA)))
    assert agent.main(host["path"]) == 0
    assert state(host)["result"] == "renewed" and state(host)["serial"] == "c8"
    assert ["systemctl", "reload", "nginx"] in fake["run"]
    # The files are the bytes the role's full path writes (a controller run afterwards changes nothing).
    want = agent._hostrenew.files_text(agent._hostrenew.pem_blocks(pem(new) + pem(CA)))
    for part in ("cert", "chain", "fullchain"):
        assert open(host["config"][part], encoding="utf-8").read() == want[part]
    assert fake["prove"][0][3] == [{"name": "pool.test", "cert_file": host["config"]["cert"]}]


def test_a_failed_proof_puts_the_previous_files_back(host, fake, monkeypatch):
    new = leaf(host["key"], 201, NOW, 20)
    fake["problems"] = [["https://pool.test/ on 127.0.0.1:443 serves another certificate"]]
    with pytest.raises(RuntimeError, match="previous files were put back and nginx serves them again"):
        agent.install(host["config"], agent._hostrenew.pem_blocks(pem(new) + pem(CA)),
                      agent._x509.public_key_bytes(host["key"].public_key()))
    for part in ("cert", "chain", "fullchain"):
        assert open(host["config"][part], encoding="utf-8").read() == host["files"][part]
    assert fake["run"].count(["systemctl", "reload", "nginx"]) == 2


def test_a_certificate_for_another_key_is_refused(host, fake):
    other = leaf(ec.generate_private_key(ec.SECP256R1()), 202, NOW, 20)
    with pytest.raises(RuntimeError, match="not for this host's key"):
        agent.install(host["config"], agent._hostrenew.pem_blocks(pem(other)),
                      agent._x509.public_key_bytes(host["key"].public_key()))
    assert open(host["config"]["cert"], encoding="utf-8").read() == host["files"]["cert"]


def test_member_takes_the_newer_certificate_of_the_member_before(host, fake, monkeypatch):
    config = dict(host["config"], pool={"members": ["web1", "web2"], "me": "web2"})
    with open(host["path"], "w", encoding="utf-8") as handle:
        json.dump(config, handle)
    new = leaf(host["key"], 300, NOW, 20)
    asked = []
    monkeypatch.setattr(agent, "showcerts", lambda cfg, address: asked.append(address)
                        or agent._hostrenew.pem_blocks(pem(new) + pem(CA)))
    assert agent.main(host["path"]) == 0
    assert asked == ["web1"] and state(host)["result"] == "renewed" and state(host)["role"] == "member"
    # The next run finds the same certificate served: nothing to do.
    assert agent.main(host["path"]) == 0 and state(host)["result"] == "unchanged"


def test_bad_configuration_is_one_error(tmp_path, capsys):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"name": "x"}))
    assert agent.main(str(path)) == 1
    assert "cert: missing or empty" in capsys.readouterr().out


def test_the_agent_imports_the_core_from_the_one_file_the_role_installs(tmp_path):
    # What host_renewal.yml writes: {path below plugins/module_utils: source}; the collection is not on the path.
    root = os.path.join(os.path.dirname(AGENT), "..", "..", "..", "plugins", "module_utils")
    files = {}
    for base, _dirs, names in os.walk(root):
        for name in names:
            if name.endswith(".py"):
                path = os.path.join(base, name)
                files[os.path.relpath(path, root)] = open(path, encoding="utf-8").read()
    (tmp_path / "core.json").write_text(json.dumps(files))
    code = ("import importlib.machinery, importlib.util, sys; "
            f"loader = importlib.machinery.SourceFileLoader('agent', {AGENT!r}); "
            "spec = importlib.util.spec_from_loader('agent', loader); m = importlib.util.module_from_spec(spec); "
            "loader.exec_module(m); print(m._apply.__spec__.origin); print(m._hostrenew.decide.__module__)")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PORT443_CORE"] = str(tmp_path / "core.json")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=str(tmp_path),
                          check=False)
    assert proc.returncode == 0, proc.stderr
    origin, module = proc.stdout.split()
    assert origin == f"{tmp_path}/core.json:webserver/_webserver_apply.py"
    assert module == "ansible_collections.port443.https.plugins.module_utils.certificate._hostrenew"


def test_no_order_while_the_web_server_does_not_serve(host, monkeypatch):
    monkeypatch.setattr(agent, "run", lambda argv, environ=None, **_k: (3, "inactive\n", ""))
    monkeypatch.setattr(agent, "order", lambda *a: pytest.fail("no order while nginx is inactive"))
    monkeypatch.setattr(agent._hostrenew, "decide", lambda *a: pytest.fail("not even a decision"))
    assert agent.main(host["path"]) == 0
    assert state(host)["result"] == "waiting" and "(nginx is inactive)" in state(host)["decision"]


def test_no_order_while_the_site_does_not_serve_https(host, fake, monkeypatch):
    monkeypatch.setattr(agent._apply, "served_leaf", lambda address, port, name: (None, "Connection refused"))
    monkeypatch.setattr(agent, "order", lambda *a: pytest.fail("no order while 443 does not serve"))
    assert agent.main(host["path"]) == 0
    assert state(host)["result"] == "waiting" and "(Connection refused)" in state(host)["decision"]


def test_a_checker_that_cannot_run_puts_the_previous_files_back(host, fake, monkeypatch):
    def missing(*_a):
        raise FileNotFoundError(2, "No such file or directory", "nginx")

    monkeypatch.setattr(agent._apply, "check_tree", missing)
    new = leaf(host["key"], 203, NOW, 20)
    with pytest.raises(RuntimeError, match="FileNotFoundError"):
        agent.install(host["config"], agent._hostrenew.pem_blocks(pem(new) + pem(CA)),
                      agent._x509.public_key_bytes(host["key"].public_key()))
    for part in ("cert", "chain", "fullchain"):
        assert open(host["config"][part], encoding="utf-8").read() == host["files"][part]


def test_run_reports_a_missing_command():
    rc, _out, err = agent.run(["/nonexistent/port443-no-such-command"])
    assert rc == 127 and "No such file" in err
