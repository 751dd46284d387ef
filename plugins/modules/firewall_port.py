#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: firewall_port
short_description: Open or close ports in the host firewall (ufw, firewalld, nftables, iptables) without locking out SSH
version_added: 1.0.0
description:
  - Ensures that inbound TCP or UDP ports (single ports or ranges) are allowed, or no longer allowed, by the firewall the
    host really uses, one of C(ufw), C(firewalld), C(nftables) or C(iptables)/C(ip6tables).
  - With O(backend=auto) the module detects the backend (an active firewalld or ufw wins; else a native nftables
    ruleset; else iptables) and reports which one and why in RV(backend) and RV(backend_reason).
  - Only rules the module wrote are ever changed; foreign rules (Docker, fail2ban, the host's own) are never flushed,
    reset or reordered. Every rule it writes carries the marker C(port443.https:<proto>/<port>) in its comment
    (ufw, nftables, iptables), so the second run finds them and changes nothing.
  - B(ufw) adds or deletes exactly the needed rules, never resets and never reloads.
  - B(firewalld) changes the runtime and the permanent configuration of the zone in the same run, and works with a
    stopped daemon through C(firewall-offline-cmd).
  - B(nftables) inserts into the host's existing input base chains that drop (policy drop or an unconditional
    drop/reject rule), before that drop, because an accept in a separate table does not beat a drop elsewhere. When
    there is no such chain, it uses a table of its own (C(inet port443_https)). Persistence is an include file
    C(/etc/nftables.d/port443-https.nft) loaded from the end of C(/etc/nftables.conf) that rebuilds the live order at
    boot. Its rules are inserted at the index of the chain's final drop in the ruleset the host loads at boot (read
    by loading C(/etc/nftables.conf) into a scratch network namespace), and the new boot path is loaded there and
    checked before the file is written.
  - B(iptables) inserts before the first unconditional DROP/REJECT in C(INPUT) for IPv4 and IPv6 and persists the
    marked rules in C(/etc/iptables/rules.v4) and C(rules.v6) (what C(netfilter-persistent) restores at boot),
    editing only the marked lines. A missing file is created with the marked rules only (no policy), never from
    C(iptables-save), so runtime chains of Docker and fail2ban never end up in the boot ruleset.
  - "Anti-lockout: enabling an inactive ufw or firewalld (only with O(enable=true)) first makes sure every SSH port
    in use stays reachable. The guard reads the rules that will be in force once the firewall is enabled (ufw: the
    stored user rules, C(ufw show added) and C(/etc/ufw/user.rules), C(user6.rules); firewalld: the permanent
    configuration through C(firewall-offline-cmd --list-all-zones), the target and default zone and every zone bound
    to a source or interface, with services, ports and rich rules). It adds an SSH allow only for a port that no
    rule of any scope allows, so a rule that allows SSH from a management network only is never widened. nftables
    and iptables are never enabled in a way that changes a policy, so the guard only reports the SSH rules of the
    live and the persisted ruleset. RV(ssh_guard) says what it found and did."
  - "The SSH ports are found from what really accepts SSH: O(ssh_ports), the server port of the connection the play
    came in on (E(SSH_CONNECTION) of the module, or under C(sudo)/become, where it is stripped, of its parent
    processes up to the sshd session), systemd socket units of ssh/sshd (C(ssh.socket) socket activation), the
    sockets sshd or systemd (for such a unit) listen on (C(ss -tlnp)), and C(sshd -T) (ignored while an ssh socket
    unit is active, because then the unit decides where SSH listens). Every candidate is kept open, and the result
    says so; V(22) only when nothing is known."
  - "With O(rollback_timeout), the change is commit-confirmed: a detached timer on the host reverts it unless a
    follow-up task with O(confirm=true) runs in time, which also works when the change cut the Ansible connection."
author:
  - port443.https contributors (@port443)
extends_documentation_fragment:
  - port443.https._attributes
  - port443.https._attributes.idempotent
attributes:
  check_mode:
    support: full
    details:
      - Check mode computes the same plan as a real run and returns the same RV(ignore:changed), diff, RV(rules_added),
        RV(rules_removed) and RV(commands); only running them is skipped.
  diff_mode:
    support: full
    details:
      - The diff lists the allow rules the module manages, per family (C(ipv4:), C(ipv6:)), before and after.
requirements:
  - One of C(ufw), C(firewalld) (C(firewall-cmd), C(firewall-offline-cmd)), C(nft), C(iptables)/C(ip6tables) on the target.
  - C(systemd-run) for O(rollback_timeout) on systemd hosts (otherwise C(setsid) is used); C(flock) (util-linux) so a
    restore waits for a running change.
  - C(unshare) (util-linux) and C(CAP_SYS_ADMIN) to persist nftables rules into a chain that ends with a drop rule.
options:
  port:
    description:
      - Port numbers or ranges (V(8000-8010) or V(8000:8010)), one or a list.
      - Required unless O(confirm=true) or O(rules) is given; mutually exclusive with O(rules).
    type: list
    elements: str
  packages:
    description:
      - Debian packages the backend needs (for example V(ufw), or V(iptables) and V(iptables-persistent)).
      - When one of them is not installed (as dpkg's database says; a held package counts as installed, as for
        M(ansible.builtin.apt) with O(ansible.builtin.apt#module:state=present)), the module changes nothing and
        returns them in RV(missing_packages), so that the caller installs them and runs the module again; when all are
        installed it proceeds. This spares a package-manager run on every converged run.
    type: list
    elements: str
    default: []
  check_packages:
    description:
      - Check the Debian packages the collection knows O(backend) needs (V(ufw); V(firewalld); V(nftables); V(iptables)
        and V(iptables-persistent)) as O(packages) does, so that the caller need not list them. Needs a O(backend) other
        than V(auto).
    type: bool
    default: false
  os_family:
    description:
      - Refuse, changing nothing, a host whose OS family (read from its C(/etc/os-release), no fact gathering) is not this
        one, with a message naming the distribution. The firewall role passes V(Debian). Unset, any host is accepted.
    type: str
  rules:
    description:
      - Several sets of ports, each with its own protocol, state, sources and comment, applied in one run. The
        firewall is read once, every change is made in the same step, and one rollback generation
        (O(rollback_timeout)) covers them all.
      - An entry's missing O(rules[].protocol), O(rules[].state), O(rules[].source) or O(rules[].comment) takes the
        value of the top-level option of that name.
      - A rule asked both V(open) and V(closed) is an error. Errors name the entry, for example C(rules[1].port).
      - Mutually exclusive with O(port).
    type: list
    elements: dict
    suboptions:
      port:
        description: Port numbers or ranges, one or a list, as in O(port).
        type: list
        elements: str
        required: true
      protocol:
        description: Transport protocol; default O(protocol).
        type: str
        choices: [tcp, udp]
      state:
        description: V(open) or V(closed); default O(state).
        type: str
        choices: [open, closed]
      source:
        description: Networks allowed, as in O(source); default O(source). An empty list means anywhere.
        type: list
        elements: str
      comment:
        description: Free text for the rule comments, as in O(comment); default O(comment).
        type: str
  observe:
    description:
      - Rules to look at without changing them, in the format of O(rules) without a state (missing O(observe[].protocol),
        O(observe[].source) and O(observe[].comment) taken from the top-level options, as for O(rules)).
      - For each entry RV(observed) says whether a run opening it, and whether a run closing it, would change anything.
        When this run changes the firewall (not in check mode) it is computed from a fresh read after the change;
        otherwise from the same read as this run's own plan. The C(port443.https.firewall) role uses it to skip its
        HTTP/3 pass when 443/udp is already as wanted.
      - An entry may name ports that O(rules) also names; nothing is changed for an observed entry either way.
    type: list
    elements: dict
    version_added: 1.1.0
    suboptions:
      port:
        description: Port numbers or ranges, one or a list, as in O(port).
        type: list
        elements: str
        required: true
      protocol:
        description: Transport protocol; default O(protocol).
        type: str
        choices: [tcp, udp]
      source:
        description: Networks, as in O(source); default O(source).
        type: list
        elements: str
      comment:
        description: Free text for the rule comments, as in O(comment); default O(comment).
        type: str
  protocol:
    description: Transport protocol.
    type: str
    choices: [tcp, udp]
    default: tcp
  state:
    description:
      - V(open) allows the ports, V(closed) removes the allow rules the module manages for them.
      - V(closed) never adds a drop rule; a port is closed when nothing allows it.
    type: str
    choices: [open, closed]
    default: open
  source:
    description:
      - Networks (IPv4 or IPv6 CIDR, or single addresses) allowed to connect. Default is anywhere, both families.
      - A source limits the rules to its address family.
    type: list
    elements: str
  backend:
    description: Firewall to drive; V(auto) detects it.
    type: str
    choices: [auto, ufw, firewalld, nftables, iptables]
    default: auto
  zone:
    description: firewalld zone; default is the zone firewalld calls its default. Ignored by the other backends.
    type: str
  comment:
    description:
      - "Free text stored after the marker in the rule comment (ufw, nftables, iptables). Up to 64 characters of
        letters, digits, space and C(_ . , : / @ + = -)."
      - Rules are recognised by their marker, not by this text, so changing it does not rewrite existing rules.
    type: str
  persistent:
    description:
      - Make the change survive a reboot or a reload of the firewall (firewalld permanent configuration, nftables include
        file, C(/etc/iptables/rules.v4|v6)). ufw rules are always persistent.
    type: bool
    default: true
  enable:
    description:
      - Enable the firewall when it is inactive. ufw and firewalld are enabled (started) after the SSH port in use has been
        allowed; for nftables and iptables the boot service (C(nftables), C(netfilter-persistent)) is enabled so persisted
        rules load at boot, without changing any policy.
      - With V(false) an inactive firewall stays inactive; rules are still stored where the backend allows it.
    type: bool
    default: false
  ssh_ports:
    description:
      - SSH ports to keep reachable when O(enable=true) enables ufw or firewalld, in addition to the ports found on
        the host (the connection, also under become; ssh socket units; sshd's listening sockets; C(sshd -T)).
      - The C(port443.https.firewall) role passes the connection's C(ansible_port) here when the host is reached
        over SSH.
      - An allow is added only for a port no existing rule of any scope allows.
      - V(22) is used only when neither this option nor the host tells anything.
    type: list
    elements: int
    aliases: [ssh_port]
  rollback_timeout:
    description:
      - Seconds after which a change is reverted automatically unless confirmed with O(confirm=true).
      - The previous state (undo commands and the previous content of the files the backend writes) is saved on the
        target and a detached timer is armed before anything changes, then restarted once the change is in place, so the
        window counts from the end of the change. Nothing is armed when nothing changes.
      - Each run adds a generation with its own snapshot and timer; a timer reverts its generation and every newer one,
        newest first, so each restores the state its run started from. A file changed after the run is left as it is.
      - Runs are serialised by a lock on the target (a second run waits up to 120 seconds). A run without
        O(rollback_timeout) that would change something while a rollback is pending fails with nothing changed.
      - State armed before a reboot (its timer is gone) is moved aside, reported in C(rollback.earlier) and never
        reused; a generation whose deadline passed while the run waited for the lock is reverted first.
    type: int
  confirm:
    description:
      - Disarm every pending rollback generation (confirm the previous changes). Returns RV(ignore:changed=true) when one
        was pending or stale state was moved aside; fails when the deadline has already passed (the change was reverted).
      - With V(true), all other options except O(backend) are ignored.
    type: bool
    default: false
notes:
  - Port C(0), ports over C(65535), bad CIDRs, unknown backends and backends that are not installed fail before anything
    is changed.
  - Tested in containers (Debian 12 and 13) with ufw, firewalld, nftables and iptables (nft variant).
seealso:
  - name: The port443.https.firewall role
    description: Opens 443 (and 80) with this module and proves reachability from a peer.
    link: https://github.com/port443/https/tree/main/roles/firewall
"""

EXAMPLES = r"""
---
- name: Open HTTPS with whatever firewall the host uses
  port443.https.firewall_port:
    port: 443

- name: Open HTTP and HTTPS, enabling an inactive ufw or firewalld (SSH is allowed first)
  port443.https.firewall_port:
    port: [80, 443]
    enable: true

- name: Enable ufw on a host whose sshd listens on 2222 (also found by itself from the connection and ssh.socket)
  port443.https.firewall_port:
    port: 443
    enable: true
    ssh_ports: [2222]
  register: fw

- name: Show what the lockout guard found and did
  ansible.builtin.debug:
    var: fw.ssh_guard

- name: Allow an admin port range from two networks only
  port443.https.firewall_port:
    port: "8000-8010"
    source:
      - 192.0.2.0/24
      - 2001:db8::/32
    comment: admin

- name: Open 443 commit-confirmed - reverted after 60 seconds unless confirmed
  port443.https.firewall_port:
    port: 443
    rollback_timeout: 60

- name: Confirm the change (disarms the rollback)
  port443.https.firewall_port:
    confirm: true

- name: Close a port again (removes only the module's allow rules)
  port443.https.firewall_port:
    port: 8443
    state: closed

- name: HTTPS from anywhere, an admin range from one network, close an old port - one read, one change, one rollback
  port443.https.firewall_port:
    rules:
      - port: [443, 80]
      - port: "8000-8010"
        source: [192.0.2.0/24]
        comment: admin
      - port: 8443
        state: closed
    comment: https
    rollback_timeout: 60
"""

RETURN = r"""
missing_packages:
  description: The packages of O(packages) and O(check_packages) that are not installed; when returned, nothing else was done.
  returned: when some of them are not installed
  type: list
  elements: str
  sample: [ufw]
backend:
  description: The backend used.
  returned: success
  type: str
  sample: nftables
backend_reason:
  description: Why this backend was chosen.
  returned: success
  type: str
  sample: "the nftables ruleset has native tables (inet filter)"
rules_added:
  description: Rules added (or that would be added in check mode).
  returned: success
  type: list
  elements: dict
  sample: [{"protocol": "tcp", "port": "443", "source": null, "families": ["ipv4", "ipv6"]}]
rules_removed:
  description: Rules removed (or that would be removed in check mode).
  returned: success
  type: list
  elements: dict
  sample: []
commands:
  description: Commands run (or that would run in check mode), as argv lists.
  returned: success
  type: list
  elements: list
  sample: [["nft", "-f", "-"]]
files:
  description: Files written (or that would be written).
  returned: success
  type: list
  elements: str
  sample: ["/etc/nftables.d/port443-https.nft"]
rules:
  description: The allow rules the module manages after the run, per family (predicted in check mode).
  returned: success
  type: dict
  sample: {"ipv4": ["allow tcp/443 from any"], "ipv6": ["allow tcp/443 from any"]}
observed:
  description:
    - One entry per O(observe) entry, in order.
    - In a run that changes the firewall, read again after this run's change. In check mode it is read before the
      predicted change, so when check mode predicts a change it is not the state after that change.
    - C(open) is V(true) when a run opening the entry's rules would change nothing (they are in place); C(closed) is
      V(true) when a run closing them would change nothing (the module manages no such rule).
  returned: when O(observe) is given and the firewall was read; absent when the read after this run's change failed
  type: list
  elements: dict
  sample: [{"port": ["443"], "protocol": "udp", "source": null, "open": true, "closed": false}]
active:
  description: Whether the firewall was active (filtering) before the run.
  returned: success
  type: bool
notes:
  description: What else the run did or would do (enabling, creating a table, anti-lockout SSH rule).
  returned: success
  type: list
  elements: str
ssh_port:
  description: The first of RV(ssh_guard.ports).
  returned: when O(enable=true)
  type: int
  sample: 22
ssh_guard:
  description: What the lockout guard found and did.
  returned: when O(enable=true)
  type: dict
  contains:
    ports:
      description: The SSH ports kept reachable.
      type: list
      elements: int
      sample: [2222]
    port_sources:
      description: Per port (as a string), where it was seen.
      type: dict
      sample: {"2222": ["ssh_ports option", "SSH_CONNECTION of parent process 4121 (sudo)", "systemd socket unit ssh.socket"]}
    existing:
      description:
        - The rules, of any scope, that already allow an SSH port once the firewall is in force, as text with where
          they were found.
      type: list
      elements: str
      sample: ['zone public (target zone, default zone): rich rule rule family="ipv4" source address="10.0.0.0/8" port port="22" protocol="tcp" accept']
    missing:
      description: The SSH ports no rule allows (the only ones an allow may be added for).
      type: list
      elements: int
      sample: []
    action:
      description: V(added) when the run adds (or in check mode would add) an SSH allow, else V(none).
      type: str
      sample: none
    added:
      description: The SSH allows added (or that would be added).
      type: list
      elements: str
      sample: ["ufw allow 2222/tcp"]
    reason:
      description: Why the guard acted, or only reported.
      type: str
      sample: "ufw is inactive and enable=true: the stored rules take effect"
    notes:
      description: Doubts and decisions of the SSH port discovery (several candidates, C(sshd -T) not used, failures).
      type: list
      elements: str
      sample: ["sshd -T names port(s) 22, not used: ssh.socket is active, so the socket unit decides where SSH listens"]
rollback:
  description:
    - The state of the commit-confirmed rollback; C(generation) is this run's, C(stacked_on) the unconfirmed earlier ones.
    - C(earlier) describes what an earlier run left, when anything; C(stale=true) (armed before a reboot, moved aside to
      C(/var/lib/port443-https/firewall-rollback.stale)), C(expired=true) (reverted by this run first) or
      C(pending=true) (still armed, C(due_in) seconds), with C(armed_at), C(generations) and C(message).
  returned: when O(rollback_timeout) or O(confirm) is set, or an earlier rollback was found
  type: dict
  sample: {"armed": true, "method": "systemd-run", "timeout": 60, "unit": "port443-https-firewall-rollback-1763775000000.timer",
           "generation": 2, "stacked_on": [1]}
"""

import os
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.port443.https.plugins.module_utils.firewall import _registry as registry
from ansible_collections.port443.https.plugins.module_utils.firewall._run import FirewallRun, RunFailed
from ansible_collections.port443.https.plugins.module_utils.host import _os


# One entry of the rules option (and, without its state, of observe).
RULE_OPTIONS: dict[str, dict[str, t.Any]] = {
    "port": {"type": "list", "elements": "str", "required": True},
    "protocol": {"type": "str", "choices": ["tcp", "udp"]},
    "state": {"type": "str", "choices": ["open", "closed"]},
    "source": {"type": "list", "elements": "str"},
    "comment": {"type": "str"},
}


def main() -> t.NoReturn:
    module = AnsibleModule(
        argument_spec={
            "port": {"type": "list", "elements": "str"},
            "rules": {"type": "list", "elements": "dict", "options": RULE_OPTIONS},
            # observe: the same entries as rules, without a state (they are only read).
            "observe": {"type": "list", "elements": "dict",
                        "options": {k: v for k, v in RULE_OPTIONS.items() if k != "state"}},
            "protocol": {"type": "str", "choices": ["tcp", "udp"], "default": "tcp"},
            "state": {"type": "str", "choices": ["open", "closed"], "default": "open"},
            "source": {"type": "list", "elements": "str"},
            "backend": {"type": "str", "choices": ["auto"] + registry.names(), "default": "auto"},
            "zone": {"type": "str"},
            "comment": {"type": "str"},
            "persistent": {"type": "bool", "default": True},
            "enable": {"type": "bool", "default": False},
            "ssh_ports": {"type": "list", "elements": "int", "aliases": ["ssh_port"]},
            "rollback_timeout": {"type": "int"},
            "confirm": {"type": "bool", "default": False},
            "packages": {"type": "list", "elements": "str", "default": []},
            "check_packages": {"type": "bool", "default": False},
            "os_family": {"type": "str"},
        },
        required_if=[("confirm", False, ("port", "rules"), True)],
        mutually_exclusive=[("port", "rules")],
        supports_check_mode=True,
    )

    def run_command(argv: list[str], data: str | None = None) -> tuple[int, str, str]:
        return module.run_command(argv, data=data, binary_data=data is not None,
                                  environ_update={"LC_ALL": "C", "LANGUAGE": "C"})

    if module.params["os_family"]:
        found = _os.read()
        if found["os_family"] != module.params["os_family"]:
            module.fail_json(msg=_os.refusal("firewall", found) if module.params["os_family"] == _os.FAMILY else
                             f"os_family: this host runs {found['distribution'] or 'an unknown distribution'} (OS family "
                             f"{found['os_family'] or 'unknown'}), not of the OS family {module.params['os_family']}.")
    run = FirewallRun(module.params, run_command, module.get_bin_path, check_mode=module.check_mode, diff=module._diff,
                      environ=os.environ)
    try:
        result = run.execute()
    except RunFailed as exc:
        for warning in run.warnings:
            module.warn(warning)
        module.fail_json(msg=exc.msg, **exc.result)
    for warning in run.warnings:
        module.warn(warning)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
