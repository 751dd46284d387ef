# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The doctor's iptables verdict against the kernel, both address families.

Each case runs in a private network namespace (`unshare -n`, root): the IPv4 and IPv6 rulesets are loaded with
iptables-restore and ip6tables-restore, a dual-stack listener waits on the port, and connections to 127.0.0.1 and
::1 (loopback traffic passes INPUT too) say what the kernel lets in. The doctor's own view of the host (HostView,
real commands) must call the port allowed exactly when both families reach it, and name the family that drops it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

PORT = 8443

# Run inside the namespace: load the rules, listen, connect over both families, ask the doctor.
HELPER = r"""
import json, shutil, socket, subprocess, sys
from ansible_collections.port443.https.plugins.module_utils.report import _doctor

v4, v6, port = json.loads(sys.argv[1])
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
subprocess.run(["iptables-restore"], input=v4, text=True, check=True)
subprocess.run(["ip6tables-restore"], input=v6, text=True, check=True)
srv = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
srv.bind(("::", port))
srv.listen(8)


def reach(address):
    try:
        socket.create_connection((address, port), timeout=0.5).close()
        return True
    except OSError:
        return False


def run(argv):
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    return done.returncode, done.stdout, done.stderr


view = _doctor.HostView(run, shutil.which)
print(json.dumps({"reach": {"ipv4": reach("127.0.0.1"), "ipv6": reach("::1")}, "firewall": view.firewall(port, 80)}))
"""

ESTABLISHED = "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"


def ruleset(policy: str, *rules: str) -> str:
    return f"*filter\n:INPUT {policy} [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n" + "".join(rules) + "COMMIT\n"


OPEN = ruleset("DROP", ESTABLISHED, f"-A INPUT -p tcp -m tcp --dport {PORT} -j ACCEPT\n")
CLOSED = ruleset("DROP", ESTABLISHED)
CASES = {
    "both open": (OPEN, OPEN),
    "ipv6 policy drops": (OPEN, CLOSED),
    "ipv4 policy drops": (CLOSED, OPEN),
    "ipv6 range rejected": (ruleset("ACCEPT"), ruleset("ACCEPT", "-A INPUT -p tcp -m tcp --dport 8000:9000 -j REJECT\n")),
    "ipv4 port dropped": (ruleset("ACCEPT", f"-A INPUT -p tcp -m tcp --dport {PORT} -j DROP\n"), ruleset("ACCEPT")),
    "ipv6 chain jumps to accept": (OPEN, ruleset("DROP", ESTABLISHED, "-N web\n", "-A INPUT -j web\n",
                                                 f"-A web -p tcp -m tcp --dport {PORT} -j ACCEPT\n")),
}


@pytest.fixture(scope="module")
def in_namespace():
    if os.geteuid() != 0:
        pytest.skip("needs root (a private network namespace with its own iptables rules)")
    for tool in ("unshare", "ip", "iptables-restore", "ip6tables-restore"):
        if not shutil.which(tool):
            pytest.fail(f"{tool} is needed (packages util-linux, iproute2, iptables)")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))

    def run(v4: str, v6: str) -> dict:
        done = subprocess.run(["unshare", "-n", sys.executable, "-c", HELPER, json.dumps([v4, v6, PORT])],
                              capture_output=True, text=True, env=env, timeout=60, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout)

    return run


@pytest.mark.parametrize("case", list(CASES))
def test_the_iptables_verdict_is_what_the_kernel_lets_in(in_namespace, case):
    found = in_namespace(*CASES[case])
    reach, firewall = found["reach"], found["firewall"]
    assert firewall["backend"] == "iptables", firewall
    assert firewall["allows"] is (reach["ipv4"] and reach["ipv6"]), found
    if not reach["ipv6"] and reach["ipv4"]:
        assert firewall["evidence"][0].startswith("ip6tables: "), firewall
    if not reach["ipv4"]:
        assert not firewall["evidence"][0].startswith("ip6tables"), firewall
    # Each case is built so that at least one family is refused, except the open ones.
    assert (reach["ipv4"] and reach["ipv6"]) is (case in ("both open", "ipv6 chain jumps to accept")), found
