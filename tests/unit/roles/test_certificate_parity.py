# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The certificate role's full path and its state step decide alike for the acme and provided sources.

The full path's decisions are rendered from the role's own task files (certificate_parity_child.py) with what its
read-only tasks would register, worked out here independently of the state step (community.crypto's own name
formatting, cryptography for keys and dates); the state step (certificate_state_info's core) reads the same files.
"Converged here implies no order and no refusal there": the test fails when one side changes alone.

The full chain (tasks/finish.yml): sources with a chain file (acme, provided) assemble it from the certificate and the
chain read through the controller; the others (selfsigned, internal_ca) copy the certificate on the host (one module).
The decisions are compared with the rule the copy replaced: the full chain was written when the certificate could be
read and, with certificate_renewal: host, only when this run issued the certificate or the key; its content was each
part trimmed, joined by a newline, plus a newline. The copy writes the same bytes, and the state step calls a host
converged with them."""

from __future__ import annotations

import base64
import itertools
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import typing as t

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ansible_collections.port443.https.plugins.module_utils.certificate import _certstate, _x509
from ansible_collections.port443.https.tests.unit.plugins.module_utils.certificate import test_certstate as fx

CHILD = pathlib.Path(__file__).with_name("certificate_parity_child.py")
ROLE = pathlib.Path(__file__).resolve().parents[3] / "roles" / "certificate"
CHAIN_SOURCES = {"acme", "provided"}
CERT = fx._leaf()
CHAIN = fx.CA_PEM
ISSUED = {"changed": {"changed": True}, "unchanged": {"changed": False}, "skipped": {"changed": False, "skipped": True},
          "undefined": None}


@pytest.fixture(autouse=True)
def _owner(monkeypatch):
    monkeypatch.setattr(_certstate, "ROOT_UID", os.getuid())
    monkeypatch.setattr(_certstate, "ROOT_GID", os.getgid())


def _decode_name(name: t.Any) -> str:
    """subject_alt_name as community.crypto's x509_certificate_info lists it (its own code when importable)."""
    try:
        from ansible_collections.community.crypto.plugins.module_utils._crypto.cryptography_support import (
            cryptography_decode_name)
    except ImportError:  # pragma: no cover - community.crypto is part of the test requirements
        pytest.skip("community.crypto is not importable")
    return cryptography_decode_name(name)


def _public_pem(key: t.Any) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _registered(p: dict[str, t.Any]) -> dict[str, t.Any]:
    """What the full path's read-only tasks of acme.yml/current.yml register on this host (ARI off: the renewal check
    then says renew only for an expired certificate)."""
    exists = os.path.exists(p["cert_path"])
    variables: dict[str, t.Any] = {
        "__certificate_state": {"exists": [exists]}, "__certificate_force": False,
        "certificate_renewal": "controller", "certificate_acme_directory": p["acme_directory"],
        "certificate_renew_days": p["renew_days"], "certificate_renew_percent": p["renew_percent"],
        "__certificate_san_list": p["sans"],
    }
    key = serialization.load_pem_private_key(pathlib.Path(p["key_path"]).read_bytes(), None)
    variables["__certificate_key_info"] = {"public_key": _public_pem(key.public_key())}
    issuer = p["cert_path"] + ".acme-directory"
    variables["__certificate_acme_issuer"] = (
        {"content": base64.b64encode(pathlib.Path(issuer).read_bytes()).decode()} if os.path.exists(issuer)
        else {"failed": True, "msg": "file not found"})
    if not exists:
        variables["__certificate_current"] = {"skipped": True}
        variables["__certificate_acme_renewal"] = {"skipped": True}
        return variables
    cert = x509.load_pem_x509_certificate(pathlib.Path(p["cert_path"]).read_bytes())
    end, start = _x509.not_after(cert), _x509.not_before(cert)
    expired = fx.NOW >= end
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    variables["__certificate_current"] = {
        "subject_alt_name": [_decode_name(n) for n in sans], "public_key": _public_pem(cert.public_key()),
        "not_before": start.strftime("%Y%m%d%H%M%SZ"), "not_after": end.strftime("%Y%m%d%H%M%SZ"), "expired": expired}
    variables["__certificate_acme_renewal"] = {
        "should_renew": expired, "msg": "The certificate has already expired" if expired
        else "The certificate is still valid and no condition was reached"}
    return variables


def _rm(path: str) -> None:
    os.remove(path)


ACME = {
    "converged": lambda p: None,
    "one more name": lambda p: p.update(sans=["DNS:www.lab.test", "DNS:lab.test"]),
    "another directory": lambda p: p.update(acme_directory="https://acme-v02.api.letsencrypt.org/directory"),
    "no issuer record": lambda p: _rm(p["cert_path"] + ".acme-directory"),
    "issuer record with spaces": lambda p: fx._write(p["cert_path"] + ".acme-directory", f"  {fx.DIRECTORY} \n".encode(), 0o644),
    "no certificate": lambda p: _rm(p["cert_path"]),
    "another key": lambda p: fx._write(p["key_path"], fx._pem_key(fx.OTHER_KEY), 0o600),
    "inside the window (percent)": lambda p: p.update(renew_percent=100),
    "a days window longer than the lifetime (a third of it instead)": lambda p: p.update(renew_days=95),
}
ACME_CERTS = {
    "expired": lambda: fx._acme_leaf(days=7, age=8),
    "six-day, fresh": lambda: fx._acme_leaf(days=6),
    "six-day, old": lambda: fx._acme_leaf(days=6, age=5),
    "inside the 30-day window": lambda: fx._acme_leaf(days=90, age=70),
}


def _acme_cases(tmp_path: pathlib.Path) -> list[tuple[str, dict[str, t.Any]]]:
    out = []
    for name, change in ACME.items():
        params = fx._acme_host(tmp_path / name.replace(" ", "_"), acme_use_ari=False)
        change(params)
        out.append((name, params))
    for name, make in ACME_CERTS.items():
        out.append((name, fx._acme_host(tmp_path / name.replace(" ", "_"), cert=make(), acme_use_ari=False)))
    two = fx._acme_leaf(names=("www.lab.test", "lab.test"))
    out.append(("names in another order", fx._acme_host(tmp_path / "order", cert=two, acme_use_ari=False,
                                                        sans=["DNS:lab.test", "DNS:www.lab.test"])))
    return out


PROVIDED = {
    "accepted": lambda p: None,
    "another key": lambda p: p.update(provided_key=fx._pem_key(fx.OTHER_KEY).decode()),
    "a name not covered": lambda p: p.update(sans=["DNS:www.lab.test", "DNS:other.lab.test"]),
    "chain out of order": lambda p: p.update(provided_chain=fx.CA_PEM.decode()),
    "expired": lambda p: p.update(provided_cert=fx._acme_leaf(days=7, age=8).decode()),
    "no chain": lambda p: p.update(provided_chain=""),
}


def _run_child(cases: list[dict[str, t.Any]]) -> list[t.Any]:
    import ansible_collections.port443.https as coll

    root = str(pathlib.Path(list(coll.__path__)[0]).parents[2])
    proc = subprocess.run([sys.executable, str(CHILD), root], input=json.dumps(cases), capture_output=True, text=True,
                          check=False, timeout=240)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout)


def test_acme_the_full_path_orders_exactly_when_the_state_step_says(tmp_path):
    cases = _acme_cases(tmp_path)
    roles = _run_child([{"kind": "acme", "vars": _registered(p)} for _name, p in cases])
    for (name, params), role in zip(cases, roles):
        state = [r[len("ACME order: "):] for r in _certstate.host_state(params) if r.startswith("ACME order: ")]
        assert role == state, name
    decided = dict(zip((case[0] for case in cases), roles))
    assert decided["converged"] == [] and decided["names in another order"] == []
    assert decided["no certificate"] == ["no certificate yet"] and decided["six-day, fresh"] == []
    converged = ("converged", "issuer record with spaces", "a days window longer than the lifetime (a third of it instead)")
    assert all(decided[name] for name in ACME if name not in converged)
    assert not any(decided[name] for name in converged)
    assert decided["six-day, old"] and decided["expired"] and decided["inside the 30-day window"]


def test_provided_the_full_path_refuses_exactly_when_the_state_step_says(tmp_path):
    cases = []
    for name, change in PROVIDED.items():
        params = fx._provided_host(tmp_path / name.replace(" ", "_"))
        change(params)
        cases.append((name, params))
    roles = _run_child([{"kind": "provided", "vars": {
        "certificate_provided_cert": p["provided_cert"], "certificate_provided_key": p["provided_key"],
        "certificate_provided_chain": p["provided_chain"], "__certificate_san_list": p["sans"]}} for _name, p in cases])
    for (name, params), role in zip(cases, roles):
        prefix = "provided certificate: refused ("
        state = [r[len(prefix):-1] for r in _certstate.host_state(params) if r.startswith(prefix)]
        assert role == state, name
        assert bool(role) == (name not in ("accepted", "no chain")), name


# --- the full chain ------------------------------------------------------------------------------------------------

def _fullchain(cases: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    return _run_child([{"kind": "fullchain", "vars": variables} for variables in cases])


def _fullchain_tasks() -> dict[str, t.Any]:
    return _run_child([{"kind": "fullchain_tasks"}])[0]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _parts(source: str, cert_there: bool, chain_there: bool) -> dict[str, t.Any]:
    """What the read of certificate and chain registers: skipped for a source without a chain file."""
    if source not in CHAIN_SOURCES:
        return {"skipped": True, "results": [{"skipped": True}, {"skipped": True}]}
    return {"results": [{"content": _b64(CERT)} if cert_there else {"failed": True},
                        {"content": _b64(CHAIN)} if chain_there else {"failed": True}]}


def _matrix() -> list[tuple[dict[str, t.Any], dict[str, t.Any]]]:
    out = []
    for source, check, existed, issued, key, renewal in itertools.product(
            ["selfsigned", "internal_ca", "provided", "acme"], [False, True], [False, True], ISSUED, [False, True],
            ["controller", "host"]):
        issued_changed = issued == "changed"
        # The certificate is on the host after obtaining it when it was there before or this run wrote it (a run in
        # check mode only reports what it would write).
        cert_there = existed or (issued_changed and not check)
        variables = {
            "certificate_source": source, "ansible_check_mode": check, "certificate_renewal": renewal,
            "__certificate_stat": {"stat": {"exists": existed}}, "__certificate_key": {"changed": key},
            "__certificate_parts": _parts(source, cert_there, existed),
        }
        if ISSUED[issued] is not None:
            variables["__certificate_issued"] = ISSUED[issued]
        renewal_ok = renewal != "host" or issued_changed or key
        chain = source in CHAIN_SOURCES
        # Sources with a chain file (unchanged): written from whatever part could be read (chain file: as before).
        assemble = chain and renewal_ok and (cert_there or existed)
        out.append((variables, {"read": chain, "assemble": assemble, "copy": not chain and renewal_ok and cert_there}))
    return out


def test_the_full_chain_is_written_by_exactly_one_task_when_the_certificate_is_there():
    matrix = _matrix()
    got = _fullchain([variables for variables, _expected in matrix])
    for (variables, expected), result in zip(matrix, got):
        assert {k: result[k] for k in expected} == expected, variables
        assert not (result["assemble"] and result["copy"]), variables


def test_the_sources_with_a_chain_file_are_decided_in_one_place():
    got = _fullchain_tasks()
    assert set(got["chain_sources"]) == CHAIN_SOURCES
    assert set(got["chain_sources"]) <= set(got["sources"])
    # pool.yml reads a pool's chain file for the same sources, from the same list; no task lists sources itself.
    pool = (ROLE / "tasks" / "pool.yml").read_text()
    assert "certificate_source in __certificate_chain_sources" in pool
    for path in (ROLE / "tasks").glob("*.yml"):
        assert re.search(r"certificate_source (not )?in \[", path.read_text()) is None, path.name


def test_both_tasks_write_the_same_file_alike():
    args = _fullchain_tasks()
    copy = dict(args["copy_args"])
    assert copy.pop("remote_src") is True
    assert copy.pop("src") == "{{ __certificate_paths.cert }}"
    assert copy == args["assemble_args"] == {"dest": "{{ __certificate_paths.fullchain }}", "owner": "root",
                                             "group": "root", "mode": "0644"}


@pytest.mark.parametrize("source", ["acme", "provided"])
@pytest.mark.parametrize("chain_there", [True, False])
def test_the_assembled_full_chain_is_what_the_state_step_expects(source, chain_there):
    variables = {"certificate_source": source, "ansible_check_mode": False, "certificate_renewal": "controller",
                 "__certificate_state": {"exists": [True]},
                 "__certificate_parts": _parts(source, True, chain_there)}
    result = _fullchain([variables])[0]
    assert result["assemble"] and result["content"].encode() == _certstate.fullchain(CERT, CHAIN if chain_there else None)
    assert result["content"] == CERT.decode().strip() + "\n" + ((CHAIN.decode().strip() + "\n") if chain_there else "")


@pytest.mark.parametrize("source", ["selfsigned", "internal_ca"])
def test_the_copy_writes_the_bytes_the_assembly_wrote(source, tmp_path):
    """A PEM as community.crypto and cryptography write it (one final newline): the assembly of the certificate alone
    (the tasks before this change) gave its exact bytes, so hosts converged by them stay converged."""
    cert = fx._leaf(issuer=fx.CA, issuer_key=fx.CA_KEY) if source == "internal_ca" else fx._leaf()
    assert cert.endswith(b"-----\n") and not cert.endswith(b"\n\n")
    variables = {"certificate_source": source, "ansible_check_mode": False, "certificate_renewal": "controller",
                 "__certificate_state": {"exists": [True]},
                 "__certificate_parts": {"results": [{"content": _b64(cert)}]}}
    result = _fullchain([variables])[0]
    assert result["copy"] and not result["assemble"]
    assert result["content"].encode() == cert
    # The state step: a full chain that is a byte copy of the certificate is converged.
    params = fx._host(tmp_path, source=source, cert=cert)
    shutil.copyfile(params["cert_path"], params["fullchain_path"])
    assert _certstate.host_state(params) == []


@pytest.mark.parametrize(("assembled", "copied", "changed"), [
    ({"changed": True}, {"changed": False, "skipped": True}, True),
    ({"changed": False, "skipped": True}, {"changed": True}, True),
    ({"changed": False, "skipped": True}, {"changed": False}, False),
])
def test_either_task_changing_the_full_chain_counts_as_a_change(assembled, copied, changed):
    variables = {"certificate_source": "selfsigned", "ansible_check_mode": False, "certificate_renewal": "controller",
                 "__certificate_state": {"exists": [True]}, "__certificate_issued": {"changed": False},
                 "__certificate_key": {"changed": False}, "__certificate_fullchain": assembled,
                 "__certificate_fullchain_copy": copied}
    assert _fullchain([variables])[0]["changed"] is changed
