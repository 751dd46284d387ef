# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Benchmark: the ciphers check against sslyze on a set of diverse servers (issue 20), in the same run.

Starts `openssl s_server` processes on loopback, --copies of each configuration below (DHE groups, static RSA, CBC
only, NULL and anonymous suites, server order, TLS 1.3 only, a single group, TLS 1.0-1.3 with everything, the three
Mozilla 6.0 profiles, an ECDSA certificate), then alternates, --repeat times:
  (d) the module core with checks [tcp, ciphers] (timeout 5, workers 64) over all servers;
  (b) sslyze (own venv, --sslyze PATH) with --tlsv1 --tlsv1_1 --tlsv1_2 --tlsv1_3 --elliptic_curves over the same.
Prints each wall time with the load average before it, the best of each and the ratio. Every result of (d) must be
complete (no cipher_enumeration_unknown), or the figure is marked. Not run in CI.

Run from the collection root with the collection on PYTHONPATH (its parent directory), e.g.:
  python tests/benchmarks/ciphers_vs_sslyze.py --sslyze .work/venv-sslyze/bin/sslyze --copies 3 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench import SNI, free_port, pki  # noqa: E402  pylint: disable=wrong-import-position

MOZ_INTERMEDIATE = ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305")
MOZ_OLD = (MOZ_INTERMEDIATE + ":DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-SHA256:"
           "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES256-SHA:AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256:"
           "AES256-SHA256:AES128-SHA:AES256-SHA:DES-CBC3-SHA")
# label -> (certificate: rsa or ecdsa, s_server options)
CONFIGS = {
    "dhe": ("rsa", ["-no_tls1_3", "-cipher", "DHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256"]),
    "static_rsa": ("rsa", ["-no_tls1_3", "-cipher", "AES128-GCM-SHA256:AES256-SHA:AES128-SHA"]),
    "cbc_only": ("rsa", ["-no_tls1_3", "-cipher", "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA384"]),
    "null_anon": ("rsa", ["-no_tls1_3", "-cipher", "NULL-SHA:ADH-AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256@SECLEVEL=0"]),
    "server_order": ("rsa", ["-serverpref", "-cipher",
                             "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256"]),
    "tls13_only": ("rsa", ["-tls1_3"]),
    "one_group": ("rsa", ["-groups", "P-384", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384"]),
    "everything": ("rsa", ["-min_protocol", "TLSv1", "-cipher", "ALL:COMPLEMENTOFALL@SECLEVEL=0"]),
    "mozilla_modern": ("rsa", ["-tls1_3", "-groups", "X25519:P-256:P-384"]),
    "mozilla_intermediate": ("rsa", ["-min_protocol", "TLSv1.2", "-cipher", MOZ_INTERMEDIATE, "-groups", "X25519:P-256:P-384"]),
    "mozilla_old": ("rsa", ["-min_protocol", "TLSv1", "-cipher", MOZ_OLD + "@SECLEVEL=0", "-groups", "X25519:P-256:P-384"]),
    "ecdsa": ("ecdsa", ["-cipher", MOZ_INTERMEDIATE, "-groups", "X25519:P-256"]),
}


def wait_listening(port, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} did not start listening")


CORE = """
import json, sys, time
from ansible_collections.port443.https.plugins.module_utils.probe import _probe
params = json.load(open(sys.argv[1]))
t = time.monotonic(); out = _probe.probe(params); wall = time.monotonic() - t
print(json.dumps({"wall": wall, "unfinished": [e["port"] for e in out["endpoints"] if not (e["ciphers"] or {}).get("complete")],
                  "handshakes": sum((e["ciphers"] or {}).get("handshakes") or 0 for e in out["endpoints"])}))
"""


def load():
    return "load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sslyze", required=True, help="path to the sslyze executable (its own venv)")
    ap.add_argument("--copies", type=int, default=3, help="s_server processes per configuration")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="p443diverse")
    made = pki(tmp)
    paths = {"rsa": (made["rsa_chain"], made["rsa_key"]), "ecdsa": (made["chain"], made["key"])}
    procs, endpoints = [], []
    try:
        for label, (cert, options) in CONFIGS.items():
            for _copy in range(args.copies):
                port = free_port()
                procs.append(subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", paths[cert][0], "-key",
                                               paths[cert][1], "-www", "-quiet"] + options,
                                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                endpoints.append({"host": "127.0.0.1", "port": port, "server_name": SNI, "label": label})
        for ep in endpoints:
            wait_listening(ep["port"])
        print(f"{len(endpoints)} servers ({len(CONFIGS)} configurations x {args.copies}); {load()}", flush=True)
        params = os.path.join(tmp, "params.json")
        with open(params, "w") as f:
            json.dump({"endpoints": [{k: v for k, v in ep.items() if k != "label"} for ep in endpoints], "checks": ["tcp", "ciphers"],
                       "timeout": 5, "workers": 64, "fail_on": "never"}, f)
        targets = os.path.join(tmp, "targets.txt")
        with open(targets, "w") as f:
            f.writelines(f"{SNI}:{ep['port']}{{127.0.0.1}}\n" for ep in endpoints)
        ours, theirs = [], []
        for rnd in range(args.repeat):
            before = load()
            start = time.monotonic()
            proc = subprocess.run([sys.executable, "-c", CORE, params], capture_output=True, text=True, check=False)
            wall = time.monotonic() - start
            data = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 else {"error": proc.stderr[-2000:]}
            mark = "" if not data.get("unfinished") else f"  UNFINISHED: {len(data['unfinished'])}"
            print(f"(d) module core, checks [tcp, ciphers]  [run {rnd + 1}]  {data.get('wall', float('nan')):7.2f} s "
                  f"(process {wall:.2f} s, {data.get('handshakes')} ClientHellos; {before}){mark}", flush=True)
            ours.append(data.get("wall", float("inf")) if not data.get("unfinished") else float("inf"))
            before = load()
            start = time.monotonic()
            proc = subprocess.run([args.sslyze, "--quiet", "--tlsv1", "--tlsv1_1", "--tlsv1_2", "--tlsv1_3", "--elliptic_curves",
                                   f"--targets_in={targets}", f"--json_out={os.path.join(tmp, 'sslyze.json')}"],
                                  capture_output=True, text=True, check=False)
            wall = time.monotonic() - start
            print(f"(b) sslyze, 4 versions + curves       [run {rnd + 1}]  {wall:7.2f} s  rc={proc.returncode} ({before})", flush=True)
            theirs.append(wall)
        best_ours, best_theirs = min(ours), min(theirs)
        print(f"best of {args.repeat}: module core {best_ours:.2f} s, sslyze {best_theirs:.2f} s: {best_theirs / best_ours:.1f}x faster; "
              f"{load()}")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
