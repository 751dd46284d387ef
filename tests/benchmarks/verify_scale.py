# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""verify_https at 3 / 10 / 30 lab hosts: wall time of the whole ansible-playbook run, per count.

Every host is a lab container (port443-lab/debian:bookworm) whose only process is `openssl s_server -www` on 443
with a leaf + intermediate from a private root (no systemd, no package installs, so 30 hosts start in seconds).
Each count is audited twice from the controller (`verify_https_vantages: [controller]`, the best of
--repeat runs) and, with --vantage, once more with one of the containers as a second vantage point (it has Python
but not the cryptography library, so its certificate verdicts are errors; only the wall time matters here).

    ANSIBLE_COLLECTIONS_PATH=<dir holding ansible_collections> \
      .work/venv-python3.13/bin/python tests/benchmarks/verify_scale.py --counts 3,10,30 --vantage

Containers and the network carry the lab labels (port443.lab=true, port443.lab.scenario=bench-verify) and are
removed at the end, also after a failure (`bash tests/lab/lab.sh clean bench-verify` removes leftovers).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MAKE_PKI = os.path.join(ROOT, "extensions", "molecule", "doctor", "files", "make_pki.py")
NETWORK = "port443-bench-verify"
PREFIX = "bench-verify-"
NAME = "bench.verify.test"
LABELS = ["--label", "port443.lab=true", "--label", "port443.lab.scenario=bench-verify"]


def sh(*argv: str, check: bool = True) -> str:
    return subprocess.run(argv, check=check, capture_output=True, text=True).stdout.strip()


def up(count: int, pki: str, image: str) -> dict[str, str]:
    sh("docker", "network", "create", *LABELS, NETWORK)
    names = [f"{PREFIX}{i}" for i in range(1, count + 1)]
    for name in names:
        sh("docker", "run", "-d", "--name", name, "--hostname", name, "--network", NETWORK, *LABELS,
           "-v", f"{pki}:/pki:ro", image, "openssl", "s_server", "-quiet", "-www", "-accept", "443",
           "-cert", f"/pki/{NAME}.pem", "-key", f"/pki/{NAME}.key", "-cert_chain", "/pki/intermediate.pem")
    out = json.loads(sh("docker", "network", "inspect", NETWORK))[0]["Containers"]
    return {c["Name"]: c["IPv4Address"].split("/")[0] for c in out.values()}


def down(count: int) -> None:
    names = [f"{PREFIX}{i}" for i in range(1, count + 1)]
    subprocess.run(["docker", "rm", "-f", *names], capture_output=True, check=False)
    subprocess.run(["docker", "network", "rm", NETWORK], capture_output=True, check=False)


def inventory(path: str, addresses: dict[str, str]) -> None:
    hosts = {}
    for name in sorted(addresses, key=lambda n: int(n[len(PREFIX):])):
        hosts[name] = {"ansible_connection": "community.docker.docker", "ansible_python_interpreter": "/usr/bin/python3",
                       "https_endpoints": [{"host": NAME, "address": addresses[name]}]}
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"bench": {"hosts": hosts}}, handle)


def run(inv: str, count: int, vantages: list[str], workdir: str, forks: int) -> tuple[float, float, str]:
    extra = {
        "verify_https_hosts": f"bench[0:{count - 1}]",
        "verify_https_vantages": vantages,
        "verify_https_ca_path": os.path.join(workdir, "pki", "root.pem"),
        "verify_https_checks": ["tcp", "tls_versions", "certificate"],
        "verify_https_report_dir": os.path.join(workdir, f"report-{count}-{len(vantages)}"),
        "verify_https_fail_on": "critical" if vantages == ["controller"] else "never",
    }
    env = dict(os.environ, ANSIBLE_FORKS=str(forks), ANSIBLE_HOST_KEY_CHECKING="false", ANSIBLE_PIPELINING="true",
               ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks")
    t0 = time.monotonic()
    proc = subprocess.run(["ansible-playbook", "-i", inv, "port443.https.verify_https", "-e", json.dumps(extra)],
                          capture_output=True, text=True, env=env, check=False)
    elapsed = time.monotonic() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-2000:])
        raise SystemExit(f"verify_https failed at {count} hosts (rc={proc.returncode})")
    with open(os.path.join(extra["verify_https_report_dir"], "report.json"), encoding="utf-8") as handle:
        summary = json.load(handle)["summary"]
    # The probe task's own time (profile_tasks); the rest of the wall time is Ansible and the other tasks.
    probe = re.search(r"^Probe the endpoints from each vantage point.*?(\d+\.\d+)s$", proc.stdout, re.M)
    return elapsed, float(probe.group(1)) if probe else float("nan"), f"{summary['total']} results, {summary['ok']} ok"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--counts", default="3,10,30")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--forks", type=int, default=10)
    parser.add_argument("--vantage", action="store_true", help="also audit with a second vantage point (a lab host)")
    parser.add_argument("--image", default="port443-lab/debian:bookworm")
    args = parser.parse_args()
    counts = sorted({int(c) for c in args.counts.split(",")})
    workdir = tempfile.mkdtemp(prefix="port443-bench-verify-")
    pki = os.path.join(workdir, "pki")
    subprocess.run([sys.executable, MAKE_PKI, pki, NAME], check=True)
    os.chmod(pki, 0o755)
    down(max(counts))
    rows = []
    try:
        t0 = time.monotonic()
        addresses = up(max(counts), pki, args.image)
        print(f"{max(counts)} lab hosts up in {time.monotonic() - t0:.1f} s", file=sys.stderr)
        inv = os.path.join(workdir, "inventory.json")
        inventory(inv, addresses)
        for count in counts:
            best = min(run(inv, count, ["controller"], workdir, args.forks) for _repeat in range(args.repeat))
            row = [count, f"{best[0]:.1f}", f"{best[1]:.1f}", f"{best[0] - best[1]:.1f}", best[2]]
            if args.vantage:
                timed = run(inv, count, ["controller", f"{PREFIX}1"], workdir, args.forks)
                row += [f"{timed[0]:.1f}", f"{timed[1]:.1f}", timed[2]]
            rows.append(row)
            print(row, file=sys.stderr)
    finally:
        down(max(counts))
    with open("/proc/loadavg", encoding="ascii") as handle:
        load = " ".join(handle.read().split()[:3])
    head = f"| hosts | controller only: wall s (best of {args.repeat}) | probe task s | rest s | results |"
    sep = "| --- | --- | --- | --- | --- |"
    if args.vantage:
        head += " controller + 1 lab vantage: wall s | probe tasks s (longest) | results |"
        sep += " --- | --- | --- |"
    print(head)
    print(sep)
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")
    print(f"\nforks {args.forks}, {os.cpu_count()} cores, load average at the end {load}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
