# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Benchmark: a converged re-run of port443.https.enable_https against the roles a user would otherwise stitch together.

On two fresh Debian 12 (bookworm) lab hosts (systemd as PID 1, docker connection, network port443-ee):
  (a) collection - `port443.https.enable_https` with nginx, ufw and a self-signed certificate;
  (b) stitched   - a plain play doing what geerlingguy.nginx + community.crypto + community.general.ufw do (public roles
                   cannot be downloaded here): apt, a templated nginx TLS server block with nginx -t + reload handlers,
                   community.crypto key / CSR / self-signed certificate, community.general.ufw rules and enable.
Both are converged once, then re-run `--repeat` times each, alternated so they share the machine's load, without and
with pipelining. Every re-run must report changed=0 and failed=0 (else the figure is marked). Reports the wall time of
each `ansible-playbook` command and the tasks per host from its recap; an ad-hoc ping and a facts-only pass are
the floor, an empty play (ansible-playbook starting and ending, no task) the floor of any play, a play of one probe of
the collection host (the webserver role's checks) the floor of a re-run that verifies what is served, and that play
with one more module call (ping) the floor of a re-run that also reads its host, in a single call. Each floor prints
its wall time and controller CPU. The hosts are removed afterwards unless --keep.

Run as root from the collection root (the copy under ansible_collections/port443/https), with the controller venv:
  ANSIBLE_COLLECTIONS_PATH=<dir holding ansible_collections> python tests/benchmarks/converged_rerun.py --repeat 3
With --first-converges N it measures first converges instead: N rounds, each side on a fresh host of its own.
Not run in CI.
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
NETWORK = "port443-ee"
LABELS = ["--label", "port443.lab=1", "--label", "port443.lab.scenario=ee"]
HOSTS = {"collection": "ee-bench-collection", "stitched": "ee-bench-stitched"}

INVENTORY = """\
all:
  vars:
    ansible_connection: community.docker.docker
    ansible_python_interpreter: /usr/bin/python3
  children:
    collection:
      hosts:
        ee-bench-collection:
          bench_name: collection.bench.test
          firewall_backend: ufw
          firewall_install: true
          firewall_enable: true
          # The controller reaches the container by its address on the lab network (read with docker inspect once the
          # host runs: enable_https gathers no facts).
          firewall_verify_address: "@ADDRESS@"
          certificate_source: selfsigned
          certificate_name: site
          certificate_sans: ["{{ bench_name }}"]
          webserver_server: nginx
          webserver_vhosts:
            - name: site
              server_names: ["{{ bench_name }}"]
              root: /var/www/html
    stitched:
      hosts:
        ee-bench-stitched:
          bench_name: stitched.bench.test
"""

# What geerlingguy.nginx (Debian: packages, a vhost template, the default site removed, handlers that run nginx -t
# and reload,
# the service enabled), community.crypto (key, CSR, self-signed certificate) and community.general.ufw (SSH first,
# then 80/443, then enable) do, as one plain play.
STITCHED = """\
- name: Stitched stand-in - nginx TLS server block, community.crypto self-signed, community.general.ufw
  hosts: stitched
  gather_facts: true
  handlers:
    - name: Validate the nginx configuration
      ansible.builtin.command: nginx -t
      changed_when: false
      listen: Reload nginx
    - name: Reload nginx service
      ansible.builtin.service:
        name: nginx
        state: reloaded
      listen: Reload nginx
  tasks:
    - name: Install nginx, ufw and python3-cryptography
      ansible.builtin.apt:
        name: [nginx, ufw, python3-cryptography]
        state: present
        update_cache: true
        cache_valid_time: 86400
    - name: Certificate directories
      ansible.builtin.file:
        path: "{{ item.path }}"
        state: directory
        mode: "{{ item.mode }}"
      loop:
        - {path: /etc/ssl/bench, mode: "0755"}
        - {path: /etc/ssl/bench/private, mode: "0700"}
    - name: Private key
      community.crypto.openssl_privatekey:
        path: /etc/ssl/bench/private/site.key
        type: ECC
        curve: secp256r1
        mode: "0600"
    - name: CSR
      community.crypto.openssl_csr:
        path: /etc/ssl/bench/site.csr
        privatekey_path: /etc/ssl/bench/private/site.key
        common_name: "{{ bench_name }}"
        subject_alt_name: ["DNS:{{ bench_name }}"]
    - name: Self-signed certificate
      community.crypto.x509_certificate:
        path: /etc/ssl/bench/site.crt
        csr_path: /etc/ssl/bench/site.csr
        privatekey_path: /etc/ssl/bench/private/site.key
        provider: selfsigned
      notify: Reload nginx
    - name: Remove the default site
      ansible.builtin.file:
        path: /etc/nginx/sites-enabled/default
        state: absent
      notify: Reload nginx
    - name: TLS server block
      ansible.builtin.template:
        src: site.conf.j2
        dest: /etc/nginx/sites-available/site.conf
        mode: "0644"
      notify: Reload nginx
    - name: Enable the site
      ansible.builtin.file:
        src: /etc/nginx/sites-available/site.conf
        dest: /etc/nginx/sites-enabled/site.conf
        state: link
      notify: Reload nginx
    - name: Nginx running and enabled
      ansible.builtin.service:
        name: nginx
        state: started
        enabled: true
    - name: Allow SSH, HTTP and HTTPS
      community.general.ufw:
        rule: allow
        port: "{{ item }}"
        proto: tcp
      loop: ["22", "80", "443"]
    - name: Enable ufw
      community.general.ufw:
        state: enabled
        policy: deny
"""

# The least a re-run that verifies what is served does: one probe of the collection host, from the host, with the
# checks the webserver role's verification runs. A floor for the converged re-run as ping and facts are for any play.
VERIFY_FLOOR = """\
- name: Verification floor - one probe of what the collection host serves, nothing else
  hosts: collection
  gather_facts: false
  tasks:
    - name: Probe what the web server serves (the webserver role's checks)
      port443.https.https_endpoint_info:
        endpoints: [{host: "{{ bench_name }}", address: 127.0.0.1}]
        checks: [tcp, tls_versions, certificate, http, ciphers]
        tls_profile: intermediate
        timeout: 5
      register: floor_probe
      failed_when: floor_probe.endpoints[0].tcp.state != 'open'
"""

# The least a re-run that reads its host and verifies what is served can cost, whatever its shape: the probe above
# and one more module call, the smallest there is (ping), where a re-run would read the firewall, the certificate and
# the web server in that one call.
VERIFY_AND_ONE_READ = VERIFY_FLOOR.replace("Verification floor - one probe of what the collection host serves, nothing else",
                                           "One read of the host and one probe - the floor of a re-run that reads its host") + """\
    - name: The smallest module call (where one call would read the whole host)
      ansible.builtin.ping:
"""

# The least any playbook costs: ansible-playbook starting, parsing one play against the collection host and ending,
# with no task (and no connection). Below this no play of any shape can go, whatever its roles do.
EMPTY_PLAY = """\
- name: Start-up floor - one play, no task
  hosts: collection
  gather_facts: false
  tasks: []
"""

SITE_TEMPLATE = """\
server {
    listen 80;
    server_name {{ bench_name }};
    return 301 https://$host$request_uri;
}
server {
    listen 443 ssl;
    server_name {{ bench_name }};
    ssl_certificate /etc/ssl/bench/site.crt;
    ssl_certificate_key /etc/ssl/bench/private/site.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE+AESGCM:ECDHE+CHACHA20;
    ssl_prefer_server_ciphers off;
    ssl_session_timeout 1d;
    ssl_session_cache shared:bench:10m;
    add_header Strict-Transport-Security "max-age=63072000" always;
    root /var/www/html;
}
"""


def start_hosts():
    _lab.start_hosts(list(HOSTS.values()), NETWORK, LABELS, IMAGE)


def remove_hosts():
    _lab.remove_hosts(list(dict.fromkeys(HOSTS.values())), NETWORK)


run = _lab.run


def first_converges(args):
    """Rounds of first converges, each on a fresh host: the sides alternate within a round, so they share the load."""
    work = tempfile.mkdtemp(prefix="p443-first-")
    for name, text in (("stitched.yml", STITCHED), ("site.conf.j2", SITE_TEMPLATE)):
        with open(os.path.join(work, name), "w") as f:
            f.write(text)
    inv = ["-i", os.path.join(work, "inventory.yml")]
    sides = {"collection": ["ansible-playbook", *inv, "port443.https.enable_https", "-e", "enable_https_hosts=collection"]}
    if args.baseline_collections:
        sides["baseline"] = ["env", f"ANSIBLE_COLLECTIONS_PATH={args.baseline_collections}", *sides["collection"]]
    sides["stitched"] = ["ansible-playbook", *inv, os.path.join(work, "stitched.yml")]
    host_of = {"collection": HOSTS["collection"], "baseline": HOSTS["collection"], "stitched": HOSTS["stitched"]}
    results = {"load_before": os.getloadavg(), "runs": []}
    print(f"load average before {results['load_before']}", flush=True)
    try:
        for pipelining in (False, True):
            for rnd in range(args.first_converges):
                for side, cmd in sides.items():
                    host = host_of[side]
                    _lab.start_hosts([host], NETWORK, LABELS, IMAGE)
                    address = _lab.sh(["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                                       HOSTS["collection"]], check=False).stdout.strip()
                    with open(os.path.join(work, "inventory.yml"), "w") as f:
                        f.write(INVENTORY.replace("@ADDRESS@", address or "127.0.0.1"))
                    r = run(cmd, work, pipelining, 1200)
                    recap = r["recap"].get(host, {})
                    ok = r["rc"] == 0 and recap.get("failed") == 0
                    results["runs"].append({"side": side, "pipelining": pipelining, "round": rnd, "wall": r["wall"], "cpu": r["cpu"],
                                            "recap": recap, "ok": ok, "load": os.getloadavg()[0]})
                    print(f"first converge {side:10} pipelining={pipelining!s:5} #{rnd + 1}: {r['wall']:6.2f} s CPU {r['cpu']:5.2f} s "
                          f"{recap} load {os.getloadavg()[0]:.2f}{'' if ok else ' FAILED'}", flush=True)
                    if not ok:
                        print(r["tail"], file=sys.stderr)
                    _lab.remove_hosts([host], NETWORK)
    finally:
        _lab.remove_hosts(list(dict.fromkeys(host_of.values())), NETWORK)
    print("\n| side | pipelining | first converges (s) | best | controller CPU (best) | recap |\n"
          "| --- | --- | --- | ---: | ---: | --- |")
    best = {}
    for pipelining in (False, True):
        for side in sides:
            runs = [r for r in results["runs"] if r["side"] == side and r["pipelining"] == pipelining and r["ok"]]
            if not runs:
                continue
            top = min(runs, key=lambda r: r["wall"])
            best[(side, pipelining)] = top
            rc = top["recap"]
            walls = " / ".join(f"{r['wall']:.2f}" for r in runs)
            print(f"| {side} | {'on' if pipelining else 'off'} | {walls} | **{top['wall']:.2f}** | {top['cpu']:.2f} s | "
                  f"ok={rc.get('ok', 0)} changed={rc.get('changed', 0)} skipped={rc.get('skipped', 0)} |")
    for pipelining in (False, True):
        for side in [s for s in sides if s != "stitched"]:
            if (side, pipelining) in best and ("stitched", pipelining) in best:
                a, b = best[(side, pipelining)], best[("stitched", pipelining)]
                print(f"{side} / stitched, pipelining {'on' if pipelining else 'off'} (best runs): wall {a['wall'] / b['wall']:.2f}, "
                      f"controller CPU {a['cpu'] / b['cpu']:.2f}")
    print(f"load average after {os.getloadavg()}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2, default=str)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="leave the two hosts running")
    ap.add_argument("--json", help="write all figures to this file")
    ap.add_argument("--baseline-collections", metavar="DIR",
                    help="also re-run the collection host with ANSIBLE_COLLECTIONS_PATH=DIR (another copy of the collection, e.g. "
                         "the commit before a change), alternated with the other sides: before and after in the same run")
    ap.add_argument("--profile", action="store_true",
                    help="print the slowest tasks of each first converge (ansible.posix.profile_tasks)")
    ap.add_argument("--first-converges", type=int, metavar="N", default=0,
                    help="instead of re-runs: N rounds of first converges, each side on a fresh host of its own (the collection, "
                         "--baseline-collections when given, the stitched play), alternated, without and with pipelining")
    args = ap.parse_args()
    if args.first_converges:
        first_converges(args)
        return

    work = tempfile.mkdtemp(prefix="p443-rerun-")
    for name, text in (("stitched.yml", STITCHED), ("site.conf.j2", SITE_TEMPLATE), ("verify_floor.yml", VERIFY_FLOOR),
                       ("empty_play.yml", EMPTY_PLAY), ("verify_and_one_read.yml", VERIFY_AND_ONE_READ)):
        with open(os.path.join(work, name), "w") as f:
            f.write(text)
    inv = ["-i", os.path.join(work, "inventory.yml")]
    sides = {
        "collection": ["ansible-playbook", *inv, "port443.https.enable_https", "-e", "enable_https_hosts=collection"],
        "stitched": ["ansible-playbook", *inv, os.path.join(work, "stitched.yml")],
    }
    if args.baseline_collections:
        # The host the collection side converged, re-run by the other copy (which must find it converged too).
        sides["baseline"] = ["env", f"ANSIBLE_COLLECTIONS_PATH={args.baseline_collections}", *sides["collection"]]
        HOSTS["baseline"] = HOSTS["collection"]
    results = {"load_before": os.getloadavg(), "converge": {}, "reruns": [], "floor": {}}
    start_hosts()
    address = _lab.sh(["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                       HOSTS["collection"]]).stdout.strip()
    with open(os.path.join(work, "inventory.yml"), "w") as f:
        f.write(INVENTORY.replace("@ADDRESS@", address))
    try:
        for side, cmd in sides.items():
            if side == "baseline":
                continue
            if args.profile:
                os.environ["ANSIBLE_CALLBACKS_ENABLED"] = "ansible.posix.profile_tasks"
            r = run(cmd, work, False, 1200)
            os.environ.pop("ANSIBLE_CALLBACKS_ENABLED", None)
            if args.profile:
                # profile_tasks' table: the lines that end in a duration, slowest first.
                print("\n".join(line for line in r["out"].splitlines() if line.rstrip().endswith("s") and " --" in line)[:6000],
                      flush=True)
            results["converge"][side] = r
            print(f"converge {side}: rc={r['rc']} {r['wall']:.1f} s, CPU {r['cpu']:.1f} s {r['recap'].get(HOSTS[side])}", flush=True)
            if r["rc"] != 0:
                print(r["tail"], file=sys.stderr)
                sys.exit(f"converging {side} failed")
        for pipelining in (False, True):
            for rep in range(args.repeat):
                for side, cmd in sides.items():
                    r = run(cmd, work, pipelining, 600)
                    host = r["recap"].get(HOSTS[side], {})
                    converged = r["rc"] == 0 and host.get("changed") == 0 and host.get("failed") == 0
                    results["reruns"].append({"side": side, "pipelining": pipelining, "repeat": rep, "wall": r["wall"], "cpu": r["cpu"],
                                              "recap": r["recap"], "converged": converged, "load": os.getloadavg()[0]})
                    print(f"re-run {side:10} pipelining={pipelining!s:5} #{rep + 1}: {r['wall']:6.2f} s CPU {r['cpu']:5.2f} s "
                          f"{host} {'' if converged else 'NOT CONVERGED'}", flush=True)
                    if not converged:
                        print(r["tail"], file=sys.stderr)
            for name, cmd in (("ping", ["ansible", *inv, "all", "-m", "ansible.builtin.ping"]),
                              ("facts", ["ansible", *inv, "all", "-m", "ansible.builtin.setup"])):
                r = run(cmd, work, pipelining, 300)
                results["floor"][f"{name}, pipelining={pipelining}"] = r["wall"]
                print(f"{name} (both hosts) pipelining={pipelining}: {r['wall']:.2f} s rc={r['rc']}", flush=True)
            for key, label, playbook in (("empty", "empty play (start-up, no task)", "empty_play.yml"),
                                         ("verify", "verify floor (one probe of the collection host)", "verify_floor.yml"),
                                         ("read", "one read and one probe (ping + the probe)", "verify_and_one_read.yml")):
                runs = []
                for _rep in range(args.repeat):
                    r = run(["ansible-playbook", *inv, os.path.join(work, playbook)], work, pipelining, 300)
                    if r["rc"] != 0:
                        print(r["tail"], file=sys.stderr)
                        sys.exit(f"the {label} failed")
                    runs.append(r)
                results["floor"][f"{key}, pipelining={pipelining}"] = min(r["wall"] for r in runs)
                results["floor"][f"{key} cpu, pipelining={pipelining}"] = min(r["cpu"] for r in runs)
                walls = " / ".join(f"{r['wall']:.2f}" for r in runs)
                cpus = " / ".join(f"{r['cpu']:.2f}" for r in runs)
                print(f"{label} pipelining={pipelining}: {walls} s, CPU {cpus} s", flush=True)
    finally:
        if not args.keep:
            remove_hosts()
    results["load_after"] = os.getloadavg()

    print("\n| side | pipelining | re-runs (s) | best | tasks per host (ok + skipped) |\n| --- | --- | --- | ---: | --- |")
    best = {}
    for pipelining in (False, True):
        for side in sides:
            runs = [r for r in results["reruns"] if r["side"] == side and r["pipelining"] == pipelining]
            walls = [r["wall"] for r in runs]
            best[(side, pipelining)] = min(walls)
            host = runs[-1]["recap"].get(HOSTS[side], {})
            flag = "" if all(r["converged"] for r in runs) else " (NOT all converged)"
            print(f"| {side} | {'on' if pipelining else 'off'} | {' / '.join(f'{w:.2f}' for w in walls)} | "
                  f"**{min(walls):.2f}** | {host.get('ok', 0)} + {host.get('skipped', 0)}{flag} |")
    for pipelining in (False, True):
        ratio = best[("collection", pipelining)] / best[("stitched", pipelining)]
        cpus = {side: min(r["cpu"] for r in results["reruns"] if r["side"] == side and r["pipelining"] == pipelining)
                for side in sides}
        print(f"ratio collection / stitched, pipelining {'on' if pipelining else 'off'} (best runs): wall {ratio:.2f}, "
              f"controller CPU {cpus['collection']:.2f} / {cpus['stitched']:.2f} s = {cpus['collection'] / cpus['stitched']:.2f}")
        for key, label in (("empty", "empty play (start-up floor)"), ("verify", "verification floor"),
                           ("read", "one read and one probe")):
            wall = results["floor"][f"{key}, pipelining={pipelining}"]
            cpu = results["floor"][f"{key} cpu, pipelining={pipelining}"]
            print(f"{label} / stitched, pipelining {'on' if pipelining else 'off'}: wall {wall:.2f} s = "
                  f"{wall / best[('stitched', pipelining)]:.2f}, controller CPU {cpu:.2f} s = {cpu / cpus['stitched']:.2f}")
        if "baseline" in sides:
            print(f"ratio baseline / stitched, pipelining {'on' if pipelining else 'off'} (best runs): wall "
                  f"{best[('baseline', pipelining)] / best[('stitched', pipelining)]:.2f}, controller CPU {cpus['baseline']:.2f} s; "
                  f"collection / baseline: wall {best[('collection', pipelining)] / best[('baseline', pipelining)]:.2f}, "
                  f"CPU {cpus['collection'] / cpus['baseline']:.2f}")
    first = results["converge"]
    print(f"first converge collection / stitched: wall {first['collection']['wall']:.1f} / {first['stitched']['wall']:.1f} s "
          f"= {first['collection']['wall'] / first['stitched']['wall']:.2f}, controller CPU {first['collection']['cpu']:.1f} / "
          f"{first['stitched']['cpu']:.1f} s = {first['collection']['cpu'] / first['stitched']['cpu']:.2f}")
    print(f"load average before {results['load_before']}, after {results['load_after']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2, default=str)


if __name__ == "__main__":
    main()
