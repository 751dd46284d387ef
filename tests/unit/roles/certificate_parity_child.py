# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Child process of test_certificate_parity.py (Ansible's collection loader must be installed before anything imports
ansible_collections, and pytest has done that already).

For each input set on stdin it renders the certificate role's own decisions from its task files with ansible's
Templar (the collection's filters and tests included), given what the full path's read-only tasks registered:

- acme and fullchain: vars/main.yml's __certificate_exists first (the state step's read or the stat);
- acme: current.yml's renewal window, then acme.yml's "Decide whether to order a certificate";
- provided: provided.yml's refusal (the assert's problems);
- fullchain: finish.yml's full chain (whether the read of certificate and chain runs, whether the assembly or the
  copy of the certificate writes it, the assembled content) and vars/main.yml's __certificate_changed;
- fullchain_tasks: what both full-chain tasks write, and the chain sources (no variables needed).

and prints the results as JSON. Usage: python certificate_parity_child.py COLLECTIONS_ROOT < cases.json"""

from __future__ import annotations

import json
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

TASKS = pathlib.Path(__file__).resolve().parents[3] / "roles" / "certificate" / "tasks"
VARS = yaml.safe_load((TASKS.parent / "vars" / "main.yml").read_text())


def task(file: str, name: str) -> dict[str, t.Any]:
    """The task of tasks/FILE named NAME, at the top or inside a block."""
    items = list(yaml.safe_load((TASKS / file).read_text()))
    while items:
        item = items.pop(0)
        if item.get("name") == name:
            return item
        items += item.get("block") or []
    raise LookupError(f"tasks/{file}: no task named {name!r}")


def render(value: str, variables: dict[str, t.Any]) -> t.Any:
    templar = Templar(loader=DataLoader(), variables=variables)
    return json.loads(json.dumps(templar.template(trust_as_template(value)), default=str))


def exists(variables: dict[str, t.Any]) -> None:
    """vars/main.yml's __certificate_exists (the state step's read, else current.yml's stat), from what the case gives."""
    variables.setdefault("__certificate_pass", 0)
    variables["__certificate_exists"] = render(VARS["__certificate_exists"], variables)


def acme(variables: dict[str, t.Any]) -> list[str]:
    exists(variables)
    window = task("current.yml", "Decide whether the existing certificate is inside its renewal window")
    variables["__certificate_in_window"] = render(window["ansible.builtin.set_fact"]["__certificate_in_window"], variables)
    variables["__certificate_current_sans"] = render(window["ansible.builtin.set_fact"]["__certificate_current_sans"], variables)
    decide = task("acme.yml", "Decide whether to order a certificate")
    return render(decide["ansible.builtin.set_fact"]["__certificate_acme_reasons"], variables)


def provided(variables: dict[str, t.Any]) -> list[str]:
    refuse = task("provided.yml", "Refuse an expired certificate, a mismatching key, a chain in the wrong order or missing names")
    return render(refuse["vars"]["__problems"], variables)


FULLCHAIN = {"block": "Write the full chain", "read": "Read the certificate and its chain",
             "assemble": "Assemble the full chain (certificate first, then its issuers)",
             "copy": "Copy the certificate as its own full chain (no chain file)"}


def holds(when: t.Any, variables: dict[str, t.Any]) -> bool:
    """A task's when (a string or a list, all must hold), as Ansible evaluates it."""
    conditions = when if isinstance(when, list) else [when]
    return all(str(render("{% if " + cond + " %}True{% else %}False{% endif %}", variables)) == "True" for cond in conditions)


def fullchain(variables: dict[str, t.Any]) -> dict[str, t.Any]:
    exists(variables)
    variables = dict(variables, __certificate_chain_sources=VARS["__certificate_chain_sources"])
    tasks = {key: task("finish.yml", name) for key, name in FULLCHAIN.items()}
    block = holds(tasks["block"]["when"], variables)
    parts = variables.get("__certificate_parts", {}).get("results", [])
    return {
        "read": holds(tasks["read"]["when"], variables),
        "assemble": block and holds(tasks["assemble"]["when"], variables),
        "copy": block and holds(tasks["copy"]["when"], variables),
        # What the assembly writes from the parts read (also for a source it is not used for: the byte comparison).
        "content": str(render(tasks["assemble"]["ansible.builtin.copy"]["content"], variables))
        if any("content" in part for part in parts) else None,
        "changed": str(render(VARS["__certificate_changed"], variables)).strip() == "True",
    }


def fullchain_tasks(variables: dict[str, t.Any]) -> dict[str, t.Any]:
    del variables
    assemble = task("finish.yml", FULLCHAIN["assemble"])["ansible.builtin.copy"]
    return {"chain_sources": VARS["__certificate_chain_sources"], "sources": VARS["__certificate_sources"],
            "copy_args": task("finish.yml", FULLCHAIN["copy"])["ansible.builtin.copy"],
            "assemble_args": {k: v for k, v in assemble.items() if k != "content"}}


KINDS = {"acme": acme, "provided": provided, "fullchain": fullchain, "fullchain_tasks": fullchain_tasks}


def main() -> None:
    print(json.dumps([KINDS[case["kind"]](case.get("vars") or {}) for case in json.load(sys.stdin)]))


if __name__ == "__main__":
    main()
