# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Many names behind one server (virtual hosting): 84 server blocks on one nginx (one IP and port), generated, all with
Mozilla's intermediate profile, and one more name on the same address with a cipher configuration of its own (a CBC
suite added), probed in one task with the ciphers check while the 2-core machine is busy (CPU burners bring it to a
load average of 4 when it is quieter).

Every endpoint must finish (no `cipher_enumeration_unknown`), and each name's result must equal what the probe of
that name alone finds (a full enumeration of one endpoint, nothing to share); the name with its own configuration
must come out with its own suites, never with the other names' list."""

from __future__ import annotations

import concurrent.futures
import os
import subprocess
import sys

import pki
import pytest
from conftest import codes, local_curves, probe, start_nginx, wait_listening

from ansible_collections.port443.https.plugins.module_utils.profiles import _mozilla_guidelines

MOZ = _mozilla_guidelines.GUIDELINES["6.0"]["configurations"]["intermediate"]
NAMES = [f"vh{i:02d}.vhosts.test" for i in range(84)]
ODD = "odd.vhosts.test"
CBC = "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"
OPTIONS = {"checks": ["tcp", "tls_versions", "certificate", "ciphers"], "tls_profile": "intermediate", "tls_guideline": "6.0",
           "tls_pq": False}
SAME = ("versions", "server_order", "forward_secrecy", "groups", "dh", "complete")


@pytest.fixture(scope="module")
def vhosts(lab):
    # An RSA-4096 key and one nginx worker: every accepted TLS 1.2 ClientHello costs the server a 4096-bit signature,
    # so the server, not the client, is what many names at once wear out.
    leaf = pki.issue("vhosts.test", key=pki.rsa_key(4096), issuer=lab.inter, sans=NAMES + [ODD])
    cert = lab.write("vhosts.crt", leaf.pem + lab.inter.pem)
    key = lab.write("vhosts.key", leaf.key_pem)
    curves = local_curves(MOZ["tls_curves"])
    common = {"cert": cert, "key": key, "protocols": "TLSv1.2 TLSv1.3", "ciphers": ":".join(MOZ["ciphers"]["openssl"]), "curves": curves}
    servers = [dict(common, names=[name]) for name in NAMES]
    servers.append(dict(common, names=[ODD], ciphers=common["ciphers"] + ":ECDHE-RSA-AES128-SHA@SECLEVEL=0"))
    proc, port = start_nginx(lab.tmp, "vhosts", servers, workers=1)
    lab.procs.append(proc)
    wait_listening("127.0.0.1", port)
    for name in NAMES + [ODD]:
        lab.endpoints[name] = {"host": "127.0.0.1", "port": port, "server_name": name}
    return lab


def _busy(load: float) -> list[subprocess.Popen]:
    """CPU burners that bring the machine to a load average of about `load` (none when it is that busy already)."""
    count = max(0, int(load - os.getloadavg()[0]))
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _burner in range(count)]


@pytest.fixture(scope="module")
def together(vhosts):
    burners = _busy(4)
    try:
        return probe(vhosts, NAMES + [ODD], **OPTIONS), os.getloadavg()[0]
    finally:
        for proc in burners:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def alone(vhosts):
    """Each name probed on its own (its own task): a full enumeration per name."""
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        return dict(zip(NAMES + [ODD], pool.map(lambda name: probe(vhosts, [name], **OPTIONS)[name], NAMES + [ODD])))


def test_every_name_behind_one_server_finishes(together):
    results, load = together
    unfinished = {name: res["reasons"] for name, res in results.items() if not (res["ciphers"] or {}).get("complete")}
    assert not unfinished, (f"load {load:.1f}", len(unfinished), unfinished)
    for name in NAMES:
        assert results[name]["status"] == "ok", (name, results[name]["reasons"])


def test_each_name_equals_its_own_full_enumeration(together, alone):
    results, _load = together
    for name in NAMES + [ODD]:
        assert alone[name]["ciphers"]["complete"], (name, alone[name]["reasons"])
        got = {k: results[name]["ciphers"][k] for k in SAME}
        want = {k: alone[name]["ciphers"][k] for k in SAME}
        assert got == want, name


def test_a_name_with_its_own_configuration_is_enumerated_on_its_own(together):
    results, _load = together
    odd = results[ODD]
    assert CBC in odd["ciphers"]["versions"]["1.2"]["suites"], odd["ciphers"]
    assert "profile_mismatch" in codes(odd) and CBC in [r for r in odd["reasons"] if r["code"] == "profile_mismatch"][0]["message"]
    assert all(CBC not in results[name]["ciphers"]["versions"]["1.2"]["suites"] for name in NAMES)
