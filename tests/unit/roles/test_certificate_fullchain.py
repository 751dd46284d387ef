# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The certificate role's full chain (tasks/finish.yml): sources with a chain file (acme, provided) assemble it from the
certificate and the chain read through the controller; the others (selfsigned, internal_ca) copy the certificate on the
host (one module). The decisions are rendered from the role's own files (certificate_fullchain_child.py) and compared
with the rule they replace: the full chain was written when the certificate could be read and, with
certificate_renewal: host, only when this run issued the certificate or the key; its content was each part trimmed,
joined by a newline, plus a newline. The copy writes the same bytes, and the state step (certificate_state_info)
calls a host converged with them."""

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

from ansible_collections.port443.https.plugins.module_utils.certificate import _certstate
from ansible_collections.port443.https.tests.unit.plugins.module_utils.certificate import test_certstate as fx

CHILD = pathlib.Path(__file__).with_name("certificate_fullchain_child.py")
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


def _run_child(cases: list[dict[str, t.Any]]) -> dict[str, t.Any]:
    import ansible_collections.port443.https as coll

    root = str(pathlib.Path(list(coll.__path__)[0]).parents[2])
    proc = subprocess.run([sys.executable, str(CHILD), root], input=json.dumps(cases), capture_output=True, text=True,
                          check=False, timeout=240)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout)


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
    got = _run_child([variables for variables, _expected in matrix])
    for (variables, expected), result in zip(matrix, got["results"]):
        assert {k: result[k] for k in expected} == expected, variables
        assert not (result["assemble"] and result["copy"]), variables


def test_the_sources_with_a_chain_file_are_decided_in_one_place():
    got = _run_child([])
    assert set(got["chain_sources"]) == CHAIN_SOURCES
    assert set(got["chain_sources"]) <= set(got["sources"])
    # pool.yml reads a pool's chain file for the same sources, from the same list; no task lists sources itself.
    pool = (ROLE / "tasks" / "pool.yml").read_text()
    assert "certificate_source in __certificate_chain_sources" in pool
    for path in (ROLE / "tasks").glob("*.yml"):
        assert re.search(r"certificate_source (not )?in \[", path.read_text()) is None, path.name


def test_both_tasks_write_the_same_file_alike():
    args = _run_child([])
    copy = dict(args["copy_args"])
    assert copy.pop("remote_src") is True
    assert copy.pop("src") == "{{ __certificate_paths.cert }}"
    assert copy == args["assemble_args"] == {"dest": "{{ __certificate_paths.fullchain }}", "owner": "root",
                                             "group": "root", "mode": "0644"}


@pytest.mark.parametrize("source", ["acme", "provided"])
@pytest.mark.parametrize("chain_there", [True, False])
def test_the_assembled_full_chain_is_what_the_state_step_expects(source, chain_there):
    variables = {"certificate_source": source, "ansible_check_mode": False, "certificate_renewal": "controller",
                 "__certificate_stat": {"stat": {"exists": True}},
                 "__certificate_parts": _parts(source, True, chain_there)}
    result = _run_child([variables])["results"][0]
    assert result["assemble"] and result["content"].encode() == _certstate.fullchain(CERT, CHAIN if chain_there else None)
    assert result["content"] == CERT.decode().strip() + "\n" + ((CHAIN.decode().strip() + "\n") if chain_there else "")


@pytest.mark.parametrize("source", ["selfsigned", "internal_ca"])
def test_the_copy_writes_the_bytes_the_assembly_wrote(source, tmp_path):
    """A PEM as community.crypto and cryptography write it (one final newline): the assembly of the certificate alone
    (the tasks before this change) gave its exact bytes, so hosts converged by them stay converged."""
    cert = fx._leaf(issuer=fx.CA, issuer_key=fx.CA_KEY) if source == "internal_ca" else fx._leaf()
    assert cert.endswith(b"-----\n") and not cert.endswith(b"\n\n")
    variables = {"certificate_source": source, "ansible_check_mode": False, "certificate_renewal": "controller",
                 "__certificate_stat": {"stat": {"exists": True}},
                 "__certificate_parts": {"results": [{"content": _b64(cert)}]}}
    result = _run_child([variables])["results"][0]
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
                 "__certificate_stat": {"stat": {"exists": True}}, "__certificate_issued": {"changed": False},
                 "__certificate_key": {"changed": False}, "__certificate_fullchain": assembled,
                 "__certificate_fullchain_copy": copied}
    assert _run_child([variables])["results"][0]["changed"] is changed
