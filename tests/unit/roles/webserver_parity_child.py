# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Child process of test_webserver_parity.py (Ansible's collection loader must be installed before anything imports
ansible_collections, and pytest has done that already).

For each input set on stdin it works out the webserver role's decisions twice:

- role: the role's own tasks, read from roles/webserver/tasks/*.yml and rendered with ansible's Templar (the
  collection's filters included), in the order of the full path (converge.yml), with the host's answers as the state
  step read them (its RV read: the TLS library probe's output, the version, the content roots, the certificate files;
  the sites reader's takeovers, the main-file decision), the input set's host;
- state: the state step (plugins/action/webserver_state.py, ActionModule._state) with a host that answers the same.

and prints both as JSON. Usage: python webserver_parity_child.py COLLECTIONS_ROOT < cases.json"""

from __future__ import annotations

import copy
import json
import os
import pathlib
import sys
import typing as t

from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

_AnsibleCollectionFinder(paths=[sys.argv[1]])._install()

# pylint: disable=wrong-import-position
import yaml  # noqa: E402

from ansible.parsing.dataloader import DataLoader  # noqa: E402
from ansible.template import Templar  # noqa: E402

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core before 2.19
    def trust_as_template(value: t.Any) -> t.Any:
        return value

ROLE = pathlib.Path(__file__).resolve().parents[3] / "roles" / "webserver"


def trusted(value: t.Any) -> t.Any:
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {k: trusted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [trusted(v) for v in value]
    return value


def plain(value: t.Any) -> t.Any:
    """Templar results as JSON data."""
    return json.loads(json.dumps(value, default=str))


def task(file: str, name_start: str) -> dict[str, t.Any]:
    """The task of tasks/FILE whose name starts with NAME_START (blocks searched too)."""
    def walk(tasks: list[dict[str, t.Any]]) -> t.Iterator[dict[str, t.Any]]:
        for item in tasks:
            yield item
            yield from walk(item.get("block") or [])

    for item in walk(yaml.safe_load((ROLE / "tasks" / file).read_text())):
        if str(item.get("name", "")).startswith(name_start):
            return item
    raise LookupError(f"tasks/{file}: no task named {name_start!r}")


class Role:
    """The role's variables and the evaluation of its task fields."""

    def __init__(self, variables: dict[str, t.Any]) -> None:
        self.vars = variables

    def ev(self, value: t.Any, item: dict[str, t.Any] | None = None, **task_vars: t.Any) -> t.Any:
        if isinstance(value, str) and "{{" not in value and "{%" not in value:
            value = "{{ " + value + " }}"  # a when: condition, or a bare loop expression
        templar = Templar(loader=DataLoader(), variables=trusted(dict(self.vars, **task_vars, **(item or {}))))
        return templar.template(trusted(value))

    def set_fact(self, file: str, name: str) -> None:
        spec = task(file, name)
        facts = {k: v for k, v in spec["ansible.builtin.set_fact"].items() if k != "cacheable"}
        values = {key: self.ev(value, **spec.get("vars", {})) for key, value in facts.items()}
        self.vars.update(values)
        if spec["ansible.builtin.set_fact"].get("cacheable"):
            self.vars["ansible_facts"] = dict(self.vars.get("ansible_facts") or {}, **values)


def role_side(case: dict[str, t.Any], variables: dict[str, t.Any], read: dict[str, t.Any]) -> dict[str, t.Any]:
    role = Role(variables)
    # converge.yml stops where the state step could not read the host; the full path reads the host from here.
    role.vars["__webserver_state"] = {"read": read}
    host = case["host"]
    out: dict[str, t.Any] = {}
    refuse = task("converge.yml", "Refuse hosts outside the Debian OS family")
    out["refusals"] = plain(role.ev(refuse["vars"]["__webserver_refusals"], **refuse["vars"]))
    if out["refusals"]:
        return out
    # sites.yml: what webserver_sites_info answered.
    role.vars.update(__webserver_takeover=host["takeover"], __webserver_takeover_disable=[])
    out["service"] = role.ev("__webserver_service")
    out["port_check"] = bool(role.ev(task("converge.yml", "Check that no other process holds port 80 or 443")["ansible.builtin.assert"]["that"]))
    caddy_main = task("converge.yml", "Decide who owns the main Caddyfile")
    out["main_file"] = bool(role.ev(caddy_main["when"]))
    if out["main_file"]:
        learn = task("caddy_main.yml", "Learn who owns the main Caddyfile")["port443.https.caddyfile_info"]
        out["caddyfile"] = plain({key: role.ev(learn[key]) for key in ("path", "site_file", "takeover", "http2")})
        role.vars["__webserver_caddy_main"] = host["caddyfile"]
    install = task("converge.yml", "Install ")
    out["packages"] = plain(role.ev(install["ansible.builtin.apt"]["name"])) if role.ev(install["when"]) else []
    # tls_library.yml: the state step's read (vars/main.yml: __webserver_read, __webserver_version).
    out["read_from_state"] = plain(role.ev("__webserver_read")) == plain(read)
    role.set_fact("tls_library.yml", "Note what the role renders")
    role.set_fact("tls_library.yml", "Note whether the server speaks X25519MLKEM768")
    out["webserver_tls"] = plain(role.vars["ansible_facts"]["webserver_tls"])
    out["tls_pq"] = plain(role.vars["__webserver_tls_pq"])
    version = task("tls_library.yml", "Stop where the web server's version could not be read")
    out["version_checked"] = bool(role.ev(version["when"])) and bool(role.ev(version["ansible.builtin.assert"]["that"]))
    role.set_fact("tls_library.yml", "Decide whether HTTP/3 may be served")
    out["http3_errors"] = plain(role.vars["__webserver_http3"]["errors"])
    # The apply step creates the directories and writes the placeholder pages (its rule: _webserver_apply.content_plan).
    step = task("apply.yml", "Apply safely")["port443.https.webserver_apply"]
    out["dirs"] = plain(role.ev(step["dirs"]))
    out["content_roots"] = plain(role.ev(step["placeholder_roots"]))
    out["service_enabled"] = step["enable"] is True and role.ev(step["service"]) == out["service"]
    # vhosts.yml: the state step's look at each certificate and key, then the vhosts.
    role.set_fact("vhosts.yml", "Note the virtual hosts without a certificate yet")
    out["missing"] = plain(role.vars["__webserver_missing"])
    role.vars["__webserver_state"]["facts"] = {"no_ocsp": host.get("no_ocsp", [])}
    role.set_fact("vhosts.yml", "Work out the virtual hosts")
    out["vhosts"] = plain(role.vars["__webserver_vhosts"])
    copies = task("vhosts.yml", "Create Caddy's certificate directory")
    out["cert_copy_dir"] = role.ev(copies["ansible.builtin.file"]["path"]) if role.ev(copies["when"]) else ""
    client = task("client_ca.yml", "Work out each staff-only virtual host's client CA")
    out["client_cas"] = [[v["name"], v["client_ca"]] for v in role.ev(client["loop"])]
    out["client_ca_dir"] = role.ev(task("client_ca.yml", "Create the directory of the client CA copies")["ansible.builtin.file"]["path"])
    role.set_fact("vhosts.yml", "Note which virtual hosts serve HTTP/3")
    out["webserver_h3"] = plain(role.vars["ansible_facts"]["webserver_h3"])
    # apply.yml
    role.vars["__webserver_client_ca_files"] = host["client_ca_files"]
    # The apply step's action renders each file's template for its live path (live_root/rel).
    apply = task("apply.yml", "Apply safely")["port443.https.webserver_apply"]
    out["candidate_dir"] = role.ev(apply["candidate_dir"])
    live = role.ev(apply["live_root"]).rstrip("/")
    out["files"] = [[item["template"], f"{live}/{item['rel']}"] for item in role.ev(apply["files"])]
    # units.yml (HAProxy's drop-in and ACME helper): rendered after the configuration files, as the state step does.
    if role.ev(task("converge.yml", "Write the server's systemd units")["when"]):
        units = task("units.yml", "Write the systemd units")
        out["files"] += [[unit["template"], role.ev(units["ansible.builtin.template"]["dest"], item={"item": unit})]
                         for unit in role.ev(units["loop"])]
    give = task("vhosts.yml", "Give the server its own copies of keys and certificates")
    out["cert_copies"] = [[role.ev(give["ansible.builtin.copy"][key], item={"item": item}) for key in ("src", "dest")]
                          for item in role.ev(give["loop"])] if role.ev(give["when"]) else []
    out["modules"] = plain(role.ev(apply["modules"]))
    out["disable"] = plain(role.ev(apply["disable"]))
    out["render_vars"] = variables
    return out


class Host:
    """The webserver_state module, answering as the input set's host."""

    def __init__(self, case: dict[str, t.Any]) -> None:
        self.case = case
        self.spec: dict[str, t.Any] = {}

    def __call__(self, module_name: str, module_args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        del module_name, task_vars
        from ansible_collections.port443.https.plugins.module_utils.webserver import _servers

        self.spec = copy.deepcopy(module_args["spec"])
        host = self.case["host"]
        missing = [v["name"] for v in self.spec["vhost_certs"]
                   if not all(path in self.case["existing"] for _what, path in v["files"])]
        roots = {root: {"exists": root != "/srv/new", "isdir": root != "/srv/new", "index": root == "/var/www/html"}
                 for root in self.spec.get("content_roots") or []}
        return {
            "drift": [], "os": {"os_family": "Debian", "distribution": "Debian"}, "missing": list(dict.fromkeys(missing)), "tls_served": [],
            "cert_files": [[path in self.case["existing"] for _what, path in v["files"]] for v in self.spec["vhost_certs"]],
            "roots": roots, "version_failed": False, "port_refusal": "",
            "sites": {"conflicts": [], "refusals": [], "takeover": host["takeover"], "disable": []},
            # The module runs the registry's probe; this host answers the input set's output to it.
            "tls_probe": host["tls_probe"] if _servers.tls_probe(self.spec["server"]) else "",
            "version": host["version"] if _servers.get(self.spec["server"]).version_command else "",
            "takeover": host["takeover"], "client_ca_files": host["client_ca_files"],
            "modules_present": {path: True for path in self.spec.get("modules") or []},
            "files": {}, "caddyfile": host["caddyfile"], "no_ocsp": host.get("no_ocsp", []),
        }


def state_side(case: dict[str, t.Any], variables: dict[str, t.Any]) -> dict[str, t.Any]:
    from ansible_collections.port443.https.plugins.action import webserver_state

    plugin = object.__new__(webserver_state.ActionModule)
    plugin._templar = Templar(loader=DataLoader(), variables={})  # pylint: disable=protected-access
    host = Host(case)
    plugin._execute_module = host  # pylint: disable=protected-access
    rendered: list[tuple[str, str, dict[str, t.Any]]] = []

    def render(render_vars: dict[str, t.Any], template: str, dest: str) -> str:
        rendered.append((template, dest, dict(render_vars)))
        return ""

    plugin._render = render  # pylint: disable=protected-access
    drift, facts = plugin._state(trusted(copy.deepcopy(variables)))  # pylint: disable=protected-access
    spec = host.spec
    out: dict[str, t.Any] = {"drift": drift, "facts": plain(facts), "spec": plain(spec), "read": plain(getattr(plugin, "_read", None))}
    out["files"] = [[template, dest] for template, dest, _vars in rendered if not dest.startswith(spec.get("candidate_dir", "@"))]
    out["render_vars"] = rendered[0][2] if rendered else {}
    return out


def render_all(variables: dict[str, t.Any], files: list[list[str]]) -> list[str]:
    """The templates rendered with VARIABLES, as the template action renders them."""
    texts = []
    for template, _dest in files:
        source = (ROLE / "templates" / template).read_text()
        templar = Templar(loader=DataLoader(), variables=trusted(variables))
        text = templar.template(trust_as_template(source), escape_backslashes=False,
                                overrides={"trim_blocks": True, "lstrip_blocks": False, "newline_sequence": "\n"})
        texts.append(str(text))
    return texts


def main() -> None:
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    role_vars = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
    out = []
    for case in json.load(sys.stdin):
        variables = dict(defaults, **role_vars, **case["vars"])
        variables.setdefault("ansible_facts", {"os_family": "Debian", "distribution": "Debian"})
        state = state_side(case, copy.deepcopy(variables))
        role = role_side(case, copy.deepcopy(variables), state["read"])
        result = {"role": {k: v for k, v in role.items() if k != "render_vars"},
                  "state": {k: v for k, v in state.items() if k != "render_vars"}}
        if state["files"] and "files" in role:
            result["role"]["texts"] = render_all(role["render_vars"], role["files"])
            result["state"]["texts"] = render_all(state["render_vars"], state["files"])
        out.append(plain(result))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    os.environ.setdefault("ANSIBLE_NOCOLOR", "1")
    main()
