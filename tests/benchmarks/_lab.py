# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Shared by the benchmarks that need lab hosts with systemd: start and remove them, run a command and read its recap."""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import time

RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)", re.M)


def sh(argv, timeout=120, check=True, **kw):
    return subprocess.run(argv, check=check, timeout=timeout, text=True, capture_output=True, **kw)


def start_hosts(names, network, labels, image, boot_timeout=90):
    """Start systemd lab containers (the Molecule create's settings) on network and wait until each has booted."""
    if sh(["docker", "network", "inspect", network], check=False).returncode != 0:
        sh(["docker", "network", "create", *labels, network])
    for name in names:
        sh(["docker", "rm", "-f", name], check=False)
        sh(["docker", "run", "-d", "--name", name, "--hostname", name, "--network", network, *labels,
            "--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN", "--cap-add", "NET_RAW",
            "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined", "--cgroupns", "host",
            "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp",
            "-e", "container=docker", "--stop-signal", "SIGRTMIN+3", "-t", image, "/lib/systemd/systemd"])
    for name in names:
        deadline = time.monotonic() + boot_timeout
        while True:
            state = sh(["docker", "exec", name, "systemctl", "is-system-running"], check=False, timeout=30).stdout.strip()
            if state in ("running", "degraded"):
                break
            if time.monotonic() > deadline:
                sys.exit(f"{name}: systemd not up within {boot_timeout} s ({state!r})")
            time.sleep(1)


def remove_hosts(names, network):
    sh(["docker", "rm", "-f", *names], check=False, timeout=300)
    sh(["docker", "network", "rm", network], check=False)


def run(cmd, workdir, pipelining, timeout, forks=None):
    """Run an ansible command; its wall time, the controller's CPU seconds, return code, the recap per host and the end
    of its output."""
    env = dict(os.environ, ANSIBLE_PIPELINING=str(pipelining), ANSIBLE_HOST_KEY_CHECKING="false",
               ANSIBLE_FORCE_COLOR="0", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default",
               ANSIBLE_RETRY_FILES_ENABLED="false")
    if forks:
        env["ANSIBLE_FORKS"] = str(forks)
    t0 = time.monotonic()
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, cwd=workdir, env=env, text=True, capture_output=True, timeout=timeout, check=False)
    wall = time.monotonic() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The controller's CPU: ansible-playbook and every process it waited for (its forks, the docker exec clients).
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    recap = {m.group(1): {"ok": int(m.group(2)), "changed": int(m.group(3)), "unreachable": int(m.group(4)),
                          "failed": int(m.group(5)), "skipped": int(m.group(6))}
             for m in RECAP.finditer(proc.stdout)}
    return {"rc": proc.returncode, "wall": round(wall, 2), "cpu": round(cpu, 2), "recap": recap, "out": proc.stdout,
            "tail": proc.stdout[-3000:] + proc.stderr[-2000:]}
