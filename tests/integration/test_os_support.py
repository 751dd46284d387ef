# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The roles support the Debian OS family only: on any other family each one stops at its first check with one
clear error, before it installs or changes anything. (Every Molecule scenario is the Debian side of this test.)"""

from __future__ import annotations

from test_module import run_playbook

ROLES = {
    "certificate": {"certificate_sans": ["www.example.test"]},
    "webserver": {"webserver_vhosts": [{"name": "www", "server_names": ["www.example.test"]}]},
    "firewall": {},
}
TASK_NAMES = {
    "certificate": "Learn whether the certificate needs any change",
    "firewall": "Check the role's inputs and the host's OS family",
    "webserver": ("Refuse hosts outside the Debian OS family; check the Mozilla guideline version, the TLS profiles, "
                  "the settings and the staging directories"),
}


def test_roles_refuse_other_os_families(tmp_path):
    tasks = []
    for role, role_vars in ROLES.items():
        tasks.append({"name": role, "block": [{"ansible.builtin.include_role": {"name": f"port443.https.{role}"}, "vars": role_vars}],
                      "rescue": [{"name": f"{role} stopped", "ansible.builtin.set_fact": {
                          f"stopped_{role}": "{{ ansible_failed_task.name }}: {{ ansible_failed_result.msg }}"}}]})
    tasks.append({"name": "outcome", "ansible.builtin.debug": {"msg": "{{ [" + ", ".join(f"stopped_{r} | default('ran on')" for r in ROLES) + "] }}"}})
    # Facts of a Rocky Linux host (extra vars beat gathered facts), in check mode: nothing on this machine changes.
    results = run_playbook(tmp_path, tasks, check=True, extra_vars={"ansible_facts": {"os_family": "RedHat", "distribution": "Rocky"}})
    outcome = results[-1]["msg"]
    for role, text in zip(ROLES, outcome):
        # Each role checks the host with its first task: the certificate role in its state step, the firewall and the
        # webserver roles in one assert of the host and the options, named after all it checks.
        name = TASK_NAMES.get(role, "Refuse hosts outside the Debian OS family")
        assert text == (f"{name}: port443.https.{role} supports the Debian OS family only "
                        "(Debian, Ubuntu); this host runs Rocky (OS family RedHat)."), (role, text)


def test_firewall_port_reads_the_hosts_own_os_family(tmp_path):
    """Without facts, firewall_port reads the host's os-release: asked for another family, it refuses and changes
    nothing; asked for this host's family (Debian here), it goes on to its own checks."""
    tasks = [{"name": "other", "port443.https.firewall_port": {"port": ["443"], "backend": "ufw", "os_family": "RedHat"},
              "ignore_errors": True, "register": "other"},
             {"name": "outcome", "ansible.builtin.debug": {"msg": "{{ other.msg }}"}}]
    results = run_playbook(tmp_path, tasks, check=True)
    assert results[-1]["msg"] == "os_family: this host runs Debian (OS family Debian), not of the OS family RedHat."


def test_certificate_state_reads_the_hosts_own_os_family(tmp_path):
    """Without facts, the certificate state step's module reads the host's os-release in its own round trip (no
    separate command): asked for another family it refuses before reading anything else; asked for this host's
    family (Debian here) it goes on and returns its verdict."""
    args = {"source": "selfsigned", "sans": ["www.example.test"], "common_name": "www.example.test",
            "cert_dir": str(tmp_path / "certs"), "key_dir": str(tmp_path / "private"),
            "cert_path": str(tmp_path / "certs" / "www.crt"), "key_path": str(tmp_path / "private" / "www.key"),
            "fullchain_path": str(tmp_path / "certs" / "www-fullchain.crt")}
    tasks = [{"name": "other", "port443.https.certificate_state_info": dict(args, require_os_family="RedHat"),
              "ignore_errors": True, "register": "other"},
             {"name": "this", "port443.https.certificate_state_info": args, "register": "this"},
             {"name": "outcome", "ansible.builtin.debug": {"msg": "{{ [other.msg, this.drift, this.reasons | length > 0] }}"}}]
    results = run_playbook(tmp_path, tasks, check=True)
    assert results[-1]["msg"] == ["require_os_family: this host runs Debian (OS family Debian), not of the OS family RedHat.",
                                  True, True]
