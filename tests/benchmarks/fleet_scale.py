# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""enable_https and verify_https at 3 / 10 / 30 lab hosts: first converge, converged re-run and audit, per count.

For each count, that many fresh Debian 12 lab hosts (systemd as PID 1, docker connection) are started and
  1. converged by `port443.https.enable_https` (ufw, an internal-CA certificate signed on the controller, nginx),
  2. re-run converged --repeat times (every re-run must report changed=0 and failed=0; the best wall time is kept),
  3. audited from the controller by `port443.https.verify_https` (trusting the internal CA),
then removed. Pipelining is on, forks = the host count (at most --max-forks). The internal CA is created once, on the
controller, by the first converge and reused by the next counts, as a fleet's CA is. The table gives the wall time of
each `ansible-playbook` command and the per-host cost (wall / hosts); the figures go to tests/benchmarks/README.md.

Run as root from the collection root (the copy under ansible_collections/port443/https), with the controller venv:
  ANSIBLE_COLLECTIONS_PATH=<dir holding ansible_collections> python tests/benchmarks/fleet_scale.py --counts 3,10,30
Containers and the network carry the lab labels (scenario bench-fleet); `bash tests/lab/lab.sh clean` removes
leftovers. Not run in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _lab  # noqa: E402

IMAGE = "port443-lab/debian:bookworm"
NETWORK = "port443-bench-fleet"
PREFIX = "bench-fleet-"
LABELS = ["--label", "port443.lab=1", "--label", "port443.lab.scenario=bench-fleet"]


def inventory(path, names, addresses, workdir):
    hosts = {}
    for name in names:
        fqdn = f"{name}.fleet.test"
        hosts[name] = {"bench_name": fqdn, "firewall_verify_address": addresses[name],
                       "https_endpoints": [{"host": fqdn, "address": addresses[name]}]}
    data = {"all": {
        "vars": {
            "ansible_connection": "community.docker.docker", "ansible_python_interpreter": "/usr/bin/python3",
            "firewall_backend": "ufw", "firewall_install": True, "firewall_enable": True,
            "certificate_source": "internal_ca", "certificate_ca_dir": os.path.join(workdir, "ca"),
            "certificate_ca_name_constraints": ["fleet.test"], "certificate_ca_trust": True,
            "certificate_name": "site", "certificate_sans": ["{{ bench_name }}"],
            "webserver_server": "nginx",
            "webserver_vhosts": [{"name": "site", "server_names": ["{{ bench_name }}"], "root": "/var/www/html"}],
        },
        "children": {"fleet": {"hosts": hosts}}}}
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1)


def addresses_of(names):
    out = json.loads(_lab.sh(["docker", "network", "inspect", NETWORK]).stdout)[0]["Containers"]
    found = {c["Name"]: c["IPv4Address"].split("/")[0] for c in out.values()}
    return {n: found[n] for n in names}


def measure(count, args, workdir):
    names = [f"{PREFIX}{i}" for i in range(1, count + 1)]
    forks = min(count, args.max_forks)
    inv = os.path.join(workdir, f"inventory-{count}.json")
    _lab.start_hosts(names, NETWORK, LABELS, IMAGE)
    try:
        inventory(inv, names, addresses_of(names), workdir)
        enable = ["ansible-playbook", "-i", inv, "port443.https.enable_https"]
        row = {"hosts": count, "forks": forks, "load_before": os.getloadavg()[0]}
        first = _lab.run(enable, workdir, True, 3600, forks)
        if first["rc"] != 0:
            sys.stderr.write(first["tail"])
            sys.exit(f"first converge at {count} hosts failed")
        row["converge"], row["converge_cpu"] = first["wall"], first["cpu"]
        reruns = []
        for _attempt in range(args.repeat):
            r = _lab.run(enable, workdir, True, 1800, forks)
            bad = [h for h, s in r["recap"].items() if s["changed"] or s["failed"] or s["unreachable"]]
            if r["rc"] != 0 or bad:
                sys.stderr.write(r["tail"])
                sys.exit(f"re-run at {count} hosts not converged: {bad or r['rc']}")
            reruns.append(r)
        best = min(reruns, key=lambda r: r["wall"])
        row["rerun"], row["rerun_cpu"] = best["wall"], best["cpu"]
        row["rerun_all"] = [r["wall"] for r in reruns]
        row["tasks"] = sorted({(s["ok"], s["skipped"]) for s in best["recap"].values()})
        verify = ["ansible-playbook", "-i", inv, "port443.https.verify_https", "-e", json.dumps({
            "verify_https_ca_path": os.path.join(workdir, "ca", "port443-internal-ca.crt"),
            "verify_https_report_dir": os.path.join(workdir, f"report-{count}"), "verify_https_fail_on": "critical"})]
        v = _lab.run(verify, workdir, True, 1800, forks)
        if v["rc"] != 0:
            sys.stderr.write(v["tail"])
            sys.exit(f"verify_https at {count} hosts failed")
        row["verify"], row["verify_cpu"] = v["wall"], v["cpu"]
        row["load_after"] = os.getloadavg()[0]
        return row
    finally:
        _lab.remove_hosts(names, NETWORK)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--counts", default="3,10,30")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--max-forks", type=int, default=30)
    ap.add_argument("--json", help="write all figures to this file")
    args = ap.parse_args()
    workdir = tempfile.mkdtemp(prefix="port443-bench-fleet-")
    rows = []
    for count in sorted({int(c) for c in args.counts.split(",")}):
        rows.append(measure(count, args, workdir))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print("| hosts | forks | first converge s (controller CPU s) | s/host | converged re-run s, best (CPU s) | s/host "
          "| tasks per host (ok, skipped) | verify_https s (CPU s) | load before / after |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |")
    for r in rows:
        n = r["hosts"]
        print(f"| {n} | {r['forks']} | {r['converge']:.1f} ({r['converge_cpu']:.0f}) | {r['converge'] / n:.2f} | "
              f"{r['rerun']:.1f} ({r['rerun_cpu']:.0f}) | {r['rerun'] / n:.2f} | "
              f"{', '.join(f'{o} + {s}' for o, s in r['tasks'])} | {r['verify']:.1f} ({r['verify_cpu']:.0f}) | "
              f"{r['load_before']:.1f} / {r['load_after']:.1f} |")
    print(f"\n{os.cpu_count()} cores, pipelining on")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(rows, handle, indent=2)


if __name__ == "__main__":
    main()
