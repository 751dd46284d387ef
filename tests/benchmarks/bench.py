# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Benchmark: one task probing N loopback endpoints (127.x.y.z) with TCP + TLS 1.0-1.3 + certificate verdicts.

Compares, against the same nginx (bound to 0.0.0.0, so every 127/8 address reaches it):
  (a) floor   - a minimal thread-pool script doing only the same handshakes (4 pinned versions per endpoint);
  (b) sslyze  - from PyPI in its own venv (--sslyze PATH), same versions + certificate info;
  (c) module  - port443.https.https_endpoint_info run by ansible-playbook (one task; on the controller its action plugin
                runs the core in Ansible's own process), and its core called directly.
Then the same module run with a few dead endpoints (tarpit, blackhole) appended: they should add about one timeout.

Run as root (nginx, a network namespace for the blackhole) from the collection root, with ANSIBLE_COLLECTIONS_PATH
pointing at the directory that holds ansible_collections/port443/https:
  python tests/benchmarks/bench.py --count 1000 --sslyze .work/venv-sslyze/bin/sslyze
Not run in CI.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import os
import resource
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import warnings

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

SNI = "bench.test"
VERSIONS = {"1.0": ssl.TLSVersion.TLSv1, "1.1": ssl.TLSVersion.TLSv1_1, "1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}
NS = "p443bench"


def pki(tmp):
    now = datetime.datetime.now(datetime.timezone.utc)
    day = datetime.timedelta(days=1)

    def make(cn, key, issuer=None, ikey=None, ca=False):
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer.subject if issuer else subject)
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now - day).not_valid_after(now + 200 * day)
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(SNI)]), critical=False)
        return b.sign(ikey or key, hashes.SHA256())

    rk, ik, lk = (ec.generate_private_key(ec.SECP256R1()) for dummy in range(3))
    root = make("Bench Root", rk, ca=True)
    inter = make("Bench Intermediate", ik, root, rk, ca=True)
    leaf = make(SNI, lk, inter, ik)

    def pem(cert):
        return cert.public_bytes(serialization.Encoding.PEM)

    # An RSA leaf under the same intermediate as well, for servers that need RSA suites (ciphers_vs_sslyze.py).
    rsa_key = rsa.generate_private_key(65537, 2048)
    rsa_leaf = make(SNI, rsa_key, inter, ik)
    paths = {"ca": os.path.join(tmp, "ca.pem"), "chain": os.path.join(tmp, "chain.pem"), "key": os.path.join(tmp, "key.pem"),
             "rsa_chain": os.path.join(tmp, "rsa-chain.pem"), "rsa_key": os.path.join(tmp, "rsa-key.pem")}
    with open(paths["ca"], "wb") as f:
        f.write(pem(root))
    for chain, keyfile, cert, key in (("chain", "key", leaf, lk), ("rsa_chain", "rsa_key", rsa_leaf, rsa_key)):
        with open(paths[chain], "wb") as f:
            f.write(pem(cert) + pem(inter))
        with open(paths[keyfile], "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return paths


def free_port():
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        return s.getsockname()[1]


def start_nginx(tmp, paths, port):
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""
worker_processes 2;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  server {{
    listen 0.0.0.0:{port} ssl backlog=4096;
    ssl_certificate {paths['chain']};
    ssl_certificate_key {paths['key']};
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_ciphers DEFAULT@SECLEVEL=0;
    ssl_session_cache off;
    ssl_session_tickets off;
    location / {{ return 200 "ok\\n"; }}
  }}
}}
""")
    proc = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-c", conf, "-g", "daemon off;"])
    for dummy in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return proc
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nginx did not start")


def blackhole():
    cmds = [["ip", "netns", "add", NS], ["ip", "link", "add", f"{NS}a", "type", "veth", "peer", "name", f"{NS}b"],
            ["ip", "link", "set", f"{NS}b", "netns", NS], ["ip", "addr", "add", "10.243.98.1/30", "dev", f"{NS}a"],
            ["ip", "link", "set", f"{NS}a", "up"], ["ip", "netns", "exec", NS, "ip", "addr", "add", "10.243.98.2/30", "dev", f"{NS}b"],
            ["ip", "netns", "exec", NS, "ip", "link", "set", f"{NS}b", "up"],
            ["ip", "netns", "exec", NS, "iptables", "-A", "INPUT", "-p", "tcp", "-j", "DROP"]]
    for cmd in cmds:
        if subprocess.run(cmd, capture_output=True, check=False).returncode:
            return None
    return "10.243.98.2"


def addresses(count):
    return [f"127.{1 + i // 62500}.{(i // 250) % 250}.{i % 250 + 1}" for i in range(count)]


# ---- (a) the floor ---------------------------------------------------------------------------------------

def floor(endpoints, workers, timeout):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctxs = {}
        for name, version in VERSIONS.items():
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.set_ciphers("ALL:@SECLEVEL=0")
            ctx.minimum_version = ctx.maximum_version = version
            ctxs[name] = ctx

    def one(ep):
        out = {}
        for name, ctx in ctxs.items():
            try:
                sock = socket.create_connection((ep["host"], ep["port"]), timeout)
            except OSError:
                return out
            try:
                with ctx.wrap_socket(sock, server_hostname=SNI) as tls:
                    tls.getpeercert(binary_form=True)
                    out[name] = True
            except (socket.timeout, TimeoutError):
                return out
            except OSError:
                out[name] = False
        return out

    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, endpoints))


NGINX_PID = None
CPU = {}  # contender label -> [client CPU seconds, nginx CPU seconds] of its last run


def _tree_cpu(root):
    """CPU seconds (user + system) used so far by a process and its direct children (nginx master and workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == root or int(fields[1]) == root:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def cpu_snapshot():
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime, _tree_cpu(NGINX_PID) if NGINX_PID else 0.0


def cpu_since(label, before):
    """Client CPU (this process and the children it waited for) and nginx CPU since `before`, remembered per label.
    On a shared machine CPU seconds say more than wall time: other processes' load does not change them much."""
    after = cpu_snapshot()
    client, server = after[0] - before[0], after[1] - before[1]
    CPU[label.split("  [run")[0]] = [round(client, 2), round(server, 2)]
    return f"CPU: client {client:.2f} s + nginx {server:.2f} s = {client + server:.2f} s"


def timed(label, func):
    start, cpu = time.monotonic(), cpu_snapshot()
    result = func()
    elapsed = time.monotonic() - start
    print(f"{label:<42} {elapsed:8.2f} s  {cpu_since(label, cpu)}", flush=True)
    return elapsed, result


def run_child(cmd, env=None, label=None):
    """Run a command; return (wall seconds, peak RSS MB of the largest process it started, completed process).
    With a label, print its CPU use (see cpu_since)."""
    start, cpu = time.monotonic(), cpu_snapshot()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    wall = time.monotonic() - start
    if label:
        print(f"{'':<42} {cpu_since(label, cpu)}", flush=True)
    return wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, proc


CORE = """
import json, resource, sys, time
from ansible_collections.port443.https.plugins.module_utils.probe import _probe
params = json.load(open(sys.argv[1]))
t = time.monotonic(); out = _probe.probe(params); wall = time.monotonic() - t
print(json.dumps({"wall": wall, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "summary": out["summary"],
                  "versions": [e["tls"]["versions"] for e in out["endpoints"][:1]]}))
"""


def big_run(args, base, env, tmp, port):
    """N endpoints, of which D never answer: every fifth one a dead one, alternately a tarpit (connects, never speaks)
    and a dropped SYN (a listener whose accept queue is full). Bound: floor of the live ones + 3 x timeout."""
    n_live = args.big - args.big_dead
    tarpit = socket.socket()
    tarpit.bind(("0.0.0.0", 0))
    tarpit.listen(4096)
    sink = socket.socket()
    sink.bind(("0.0.0.0", 0))
    sink.listen(0)
    filler = socket.create_connection(("127.0.0.1", sink.getsockname()[1]), 2)
    try:
        live = [{"host": a, "port": port, "server_name": SNI} for a in addresses(n_live)]
        dead_hosts = [f"127.250.{i // 250}.{i % 250 + 1}" for i in range(args.big_dead)]
        dead = [{"host": h, "port": (tarpit if i % 2 else sink).getsockname()[1], "server_name": SNI} for i, h in enumerate(dead_hosts)]
        eps, li, di = [], iter(live), iter(dead)
        for i in range(args.big):
            first, second = (di, li) if i % 5 == 4 else (li, di)
            eps.append(next(first, None) or next(second))
        floor_s, _fl = timed(f"(a) floor, {n_live} live endpoints", lambda: floor(live, args.workers, args.timeout))
        equiv = [{"host": a, "port": port, "server_name": SNI} for a in addresses(args.big)]
        equiv_s, _fl = timed(f"(a) floor, {args.big} live endpoints", lambda: floor(equiv, args.workers, args.timeout))
        pfile = os.path.join(tmp, "big.json")
        with open(pfile, "w") as f:
            json.dump(dict(base, endpoints=eps), f)
        wall, _rss, proc = run_child([sys.executable, "-c", CORE, pfile], env)
        data = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 else {"error": proc.stderr[-2000:]}
        core_s = data.get("wall", float("inf"))
        summary = data.get("summary") or {}
        dead_found = sum(summary.get("by_reason", {}).get(code, 0) for code in ("no_tls_response", "filtered"))
        verdicts = " | ".join(f"floor of {label} + 3 x timeout = {f + 3 * args.timeout:.2f} s: {'within' if core_s <= f + 3 * args.timeout else 'OVER'}"
                              for label, f in ((f"{args.big} live", equiv_s), (f"{n_live} live", floor_s)))
        print(f"{f'(c) module core, {args.big} endpoints, {args.big_dead} dead':<42} {core_s:8.2f} s  (process {wall:.2f} s, "
              f"peak RSS {data.get('rss_mb', 0):.0f} MB) {verdicts}; dead found {dead_found}/{args.big_dead}; {summary}", flush=True)
        # The same endpoints as one ansible-playbook task (on the controller: the action plugin, in Ansible's own process).
        play = os.path.join(tmp, "big-play.yml")
        with open(play, "w") as f:
            json.dump([{"name": "bench", "hosts": "localhost", "gather_facts": False, "vars": {"ansible_python_interpreter": sys.executable},
                        "tasks": [{"name": "probe", "port443.https.https_endpoint_info": dict(base, endpoints=eps), "register": "r"},
                                  {"name": "summary", "ansible.builtin.debug": {"var": "r.summary"}}]}], f)

        def play_task(task_env, label):
            """(wall s, peak RSS MB, whether every endpoint came back) of the play with this environment."""
            wall_s, rss, proc = run_child([shutil.which("ansible-playbook") or "ansible-playbook", "-i", "localhost,", "-c", "local", play],
                                          task_env, label)
            return wall_s, rss, proc.returncode == 0 and f"'total': {args.big}" in proc.stdout.replace('"', "'")

        play_s, play_rss, ok = play_task(env, "(c) 10,000 via ansible-playbook")
        bound = floor_s + 3 * args.timeout
        print(f"{f'(c) ansible-playbook, {args.big} endpoints, {args.big_dead} dead':<42} {play_s:8.2f} s  (peak RSS of largest process "
              f"{play_rss:.0f} MB) ok={ok}; floor of {n_live} live + 3 x timeout = {bound:.2f} s: {'within' if play_s <= bound else 'OVER'}",
              flush=True)
        out = {"big": args.big, "big_dead": args.big_dead, "big_floor_live_s": floor_s, "big_floor_equiv_s": equiv_s,
               "big_core_s": core_s, "big_core_rss_mb": data.get("rss_mb"), "big_dead_found": dead_found,
               "big_playbook_s": play_s, "big_playbook_rss_mb": play_rss, "big_playbook_ok": ok}
        if args.baseline_collections:
            # The same task against the baseline copy, right after: peak RSS and wall time side by side.
            b_s, b_rss, b_ok = play_task(dict(env, ANSIBLE_COLLECTIONS_PATH=args.baseline_collections),
                                         "(c) 10,000 baseline via ansible-playbook")
            print(f"{f'(c) baseline ansible-playbook, {args.big} endpoints':<42} {b_s:8.2f} s  (peak RSS of largest process "
                  f"{b_rss:.0f} MB) ok={b_ok}", flush=True)
            out.update(big_baseline_playbook_s=b_s, big_baseline_playbook_rss_mb=b_rss, big_baseline_playbook_ok=b_ok)
        return out
    finally:
        filler.close()
        sink.close()
        tarpit.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=64)
    ap.add_argument("--timeout", type=float, default=5)
    ap.add_argument("--sslyze", help="path to the sslyze executable (own venv)")
    ap.add_argument("--sslyze-count", type=int, default=0, help="scan only this many endpoints with sslyze (0: all)")
    ap.add_argument("--big", type=int, default=0, metavar="N",
                    help="also run N endpoints of which --big-dead never answer (half tarpits, half dropped SYNs), against a floor "
                         "of the live ones alone (e.g. --big 10000)")
    ap.add_argument("--big-dead", type=int, default=2000)
    ap.add_argument("--baseline-collections", metavar="DIR",
                    help="also run the ansible-playbook task with ANSIBLE_COLLECTIONS_PATH=DIR (another copy of the collection, e.g. "
                         "the commit before a change), alternated with the others, to compare both in the same run; with --big, "
                         "the big task too")
    ap.add_argument("--ciphers", action="store_true",
                    help="also run the module core with checks + ciphers, and give sslyze --elliptic_curves (the equivalent scan)")
    ap.add_argument("--testssl", help="path to testssl.sh (Debian package testssl.sh): -p -E -f -P -S on --testssl-count endpoints")
    ap.add_argument("--testssl-count", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=1,
                    help="alternate floor / module core / ansible-playbook runs this many times and report the best of each "
                         "(use on a busy machine: alternating exposes both sides to the same load)")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="p443bench")
    paths = pki(tmp)
    port, tarpit_port = free_port(), free_port()
    nginx = start_nginx(tmp, paths, port)
    global NGINX_PID
    NGINX_PID = nginx.pid
    tarpit = socket.socket()
    tarpit.bind(("0.0.0.0", tarpit_port))
    tarpit.listen(1024)
    bh = blackhole()
    live = [{"host": a, "port": port, "server_name": SNI} for a in addresses(args.count)]
    dead = [{"host": f"127.250.0.{i}", "port": tarpit_port, "server_name": SNI} for i in range(1, 4)]
    if bh:
        dead += [{"host": bh, "port": 443, "server_name": SNI}, {"host": bh, "port": 8443, "server_name": SNI}]
    results = {"count": args.count, "workers": args.workers, "timeout": args.timeout, "dead": len(dead),
               "cpus": os.cpu_count(), "python": sys.version.split()[0], "openssl": ssl.OPENSSL_VERSION}
    try:
        print(f"{args.count} endpoints on 127.0.0.0/8 -> nginx :{port}; dead: {len(dead)} (tarpit x3{', blackhole x2' if bh else ''})")
        base = {"ca_path": paths["ca"], "timeout": args.timeout, "workers": args.workers, "checks": ["tcp", "tls_versions", "certificate"],
                "min_tls_version": "1.2", "warning_days": 30, "critical_days": 7, "min_rsa_bits": 2048, "fail_on": "never"}
        env = dict(os.environ)
        play = os.path.join(tmp, "play.yml")
        with open(play, "w") as f:
            json.dump([{"name": "bench", "hosts": "localhost", "gather_facts": False,
                        "vars": {"ansible_python_interpreter": sys.executable},
                        "tasks": [{"name": "probe", "port443.https.https_endpoint_info": dict(base, endpoints=live), "register": "r"},
                                  {"name": "summary", "ansible.builtin.debug": {"var": "r.summary"}}]}], f)
        floors, cores, deads, plays, cipher_cores, base_plays = [], [], [], [], [], []
        print(f"load average at the start: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
        contenders = [("(c) module core, direct", live, "core", cores, base["checks"]),
                      ("(c) module core + dead endpoints", live + dead, "core_dead", deads, base["checks"])]
        if args.ciphers:
            contenders.append(("(d) module core + ciphers", live, "core_ciphers", cipher_cores, base["checks"] + ["ciphers"]))
        # A warm-up floor run first (nginx workers, page cache), then alternate so every contender sees the same load.
        timed("(a) floor warm-up (not counted)", lambda: floor(live, args.workers, args.timeout))
        for rnd in range(args.repeat):
            wall, fl = timed(f"(a) floor: 4 pinned handshakes  [run {rnd + 1}]", lambda: floor(live, args.workers, args.timeout))
            assert all(r == {"1.0": True, "1.1": True, "1.2": True, "1.3": True} for r in fl), fl[:3]
            floors.append(wall)
            for label, eps, key, sink, checks in contenders:
                pfile = os.path.join(tmp, f"{key}.json")
                with open(pfile, "w") as f:
                    json.dump(dict(base, endpoints=eps, checks=checks), f)
                wall, _rss, proc = run_child([sys.executable, "-c", CORE, pfile], env, label)
                data = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 else {"error": proc.stderr[-2000:]}
                print(f"{label + f'  [run {rnd + 1}]':<42} {data.get('wall', float('nan')):8.2f} s  (process {wall:.2f} s, "
                      f"peak RSS {data.get('rss_mb', 0):.0f} MB) {data.get('summary')}", flush=True)
                sink.append(data.get("wall", float("inf")))
                results[key + "_rss_mb"] = max(results.get(key + "_rss_mb", 0), data.get("rss_mb", 0))
            wall, rss, proc = run_child([shutil.which("ansible-playbook") or "ansible-playbook", "-i", "localhost,", "-c", "local", play], env,
                                        "(c) module via ansible-playbook")
            ok = proc.returncode == 0 and f"'total': {args.count}" in proc.stdout.replace('"', "'")
            print(f"{f'(c) module via ansible-playbook  [run {rnd + 1}]':<42} {wall:8.2f} s  (peak RSS of largest process {rss:.0f} MB) ok={ok}",
                  flush=True)
            if not ok:
                print(proc.stdout[-3000:], proc.stderr[-3000:])
            plays.append(wall)
            results["module_playbook_rss_mb"] = rss
            if args.baseline_collections:
                wall, rss, proc = run_child([shutil.which("ansible-playbook") or "ansible-playbook", "-i", "localhost,", "-c", "local", play],
                                            dict(env, ANSIBLE_COLLECTIONS_PATH=args.baseline_collections), "(c) baseline via ansible-playbook")
                ok = proc.returncode == 0 and f"'total': {args.count}" in proc.stdout.replace('"', "'")
                print(f"{f'(c) baseline via ansible-playbook  [run {rnd + 1}]':<42} {wall:8.2f} s  (peak RSS of largest process {rss:.0f} MB) ok={ok}",
                      flush=True)
                base_plays.append(wall)
            print(f"load average after run {rnd + 1}: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
        results.update(floor_s=min(floors), core_s=min(cores), core_dead_s=min(deads), module_playbook_s=min(plays),
                       floor_runs=floors, core_runs=cores, core_dead_runs=deads, playbook_runs=plays)
        if cipher_cores:
            results.update(core_ciphers_s=min(cipher_cores), core_ciphers_runs=cipher_cores)
        if base_plays:
            results.update(baseline_playbook_s=min(base_plays), baseline_playbook_runs=base_plays)

        if args.big:
            results.update(big_run(args, base, env, tmp, port))

        if args.sslyze:
            n = args.sslyze_count or args.count
            targets = os.path.join(tmp, "targets.txt")
            with open(targets, "w") as f:
                f.writelines(f"{SNI}:{ep['port']}{{{ep['host']}}}\n" for ep in live[:n])
            out_json = os.path.join(tmp, "sslyze.json")
            wall, _rss, proc = run_child([args.sslyze, "--quiet", "--tlsv1", "--tlsv1_1", "--tlsv1_2", "--tlsv1_3", "--certinfo"]
                                         + (["--elliptic_curves"] if args.ciphers else [])
                                         + [f"--certinfo_ca_file={paths['ca']}", f"--targets_in={targets}", f"--json_out={out_json}"],
                                         label="(b) sslyze")
            print(f"{'(b) sslyze ' + str(n) + ' endpoints':<42} {wall:8.2f} s  rc={proc.returncode}", flush=True)
            if proc.returncode:
                print(proc.stdout[-2000:], proc.stderr[-2000:])
            results["sslyze_s"], results["sslyze_count"] = wall, n
        if args.testssl:
            # testssl.sh scans one endpoint per process: protocols, ciphers per protocol, forward secrecy and groups,
            # server preference, server defaults (certificate); endpoints one after the other, as a CI job would.
            start, cpu = time.monotonic(), cpu_snapshot()
            for ep in live[:args.testssl_count]:
                proc = subprocess.run([args.testssl, "--quiet", "--color", "0", "--warnings", "off", "--sneaky", "-p", "-E", "-f", "-P", "-S",
                                       "--add-ca", paths["ca"], f"{ep['host']}:{ep['port']}"], capture_output=True, text=True, check=False)
                if proc.returncode not in (0, 1) and "Done" not in proc.stdout:
                    print(proc.stdout[-1500:], proc.stderr[-1500:])
            results["testssl_s"], results["testssl_count"] = time.monotonic() - start, args.testssl_count
            print(f"{'(e) testssl.sh ' + str(args.testssl_count) + ' endpoints':<42} {results['testssl_s']:8.2f} s  "
                  f"{cpu_since('(e) testssl.sh', cpu)}", flush=True)
        results["cpu"] = CPU
        results["load_average_end"] = os.getloadavg()
        print(json.dumps(results, indent=1, default=str))
        print(f"best of {args.repeat}: floor {results['floor_s']:.2f} s | module core {results['core_s']:.2f} s "
              f"({results['core_s'] / results['floor_s']:.2f}x floor) | core + {len(dead)} dead {results['core_dead_s']:.2f} s "
              f"(+{results['core_dead_s'] - results['core_s']:.2f} s, timeout {args.timeout:g} s) | ansible-playbook "
              f"{results['module_playbook_s']:.2f} s ({results['module_playbook_s'] / results['floor_s']:.2f}x floor)"
              + (f" | baseline ansible-playbook {results['baseline_playbook_s']:.2f} s "
                 f"({results['baseline_playbook_s'] / results['floor_s']:.2f}x floor)" if "baseline_playbook_s" in results else "")
              + (f" | sslyze {results['sslyze_s']:.1f} s for {results['sslyze_count']}" if "sslyze_s" in results else "")
              + (f" | core + ciphers {results['core_ciphers_s']:.2f} s ({results['core_ciphers_s'] / results['floor_s']:.2f}x floor)"
                 if "core_ciphers_s" in results else "")
              + (f" | testssl.sh {results['testssl_s']:.1f} s for {results['testssl_count']}" if "testssl_s" in results else ""))
    finally:
        nginx.terminate()
        nginx.wait()
        tarpit.close()
        if bh:
            subprocess.run(["ip", "netns", "del", NS], capture_output=True, check=False)
            subprocess.run(["ip", "link", "del", f"{NS}a"], capture_output=True, check=False)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
