# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Child process of test_certificate_fullchain.py (Ansible's collection loader must be installed before anything
imports ansible_collections, and pytest has done that already).

For each set of variables on stdin it renders, from the certificate role's own files with ansible's Templar, what
tasks/finish.yml decides: whether the read of certificate and chain runs, whether the assembled full chain (sources
with a chain file) or the copy of the certificate (the others) is written, the assembled content, and
vars/main.yml's __certificate_changed. Prints the results as JSON.
Usage: python certificate_fullchain_child.py COLLECTIONS_ROOT < cases.json"""

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

ROLE = pathlib.Path(__file__).resolve().parents[3] / "roles" / "certificate"
FINISH = yaml.safe_load((ROLE / "tasks" / "finish.yml").read_text())
VARS = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())


def task(tasks: list[dict[str, t.Any]], name: str) -> dict[str, t.Any]:
    for item in tasks:
        if item.get("name") == name:
            return item
    raise LookupError(f"tasks/finish.yml: no task named {name!r}")


BLOCK = task(FINISH, "Write the full chain")
READ = task(FINISH, "Read the certificate and its chain")
ASSEMBLE = task(BLOCK["block"], "Assemble the full chain (certificate first, then its issuers)")
COPY = task(BLOCK["block"], "Copy the certificate as its own full chain (no chain file)")


def render(value: str, variables: dict[str, t.Any]) -> t.Any:
    templar = Templar(loader=DataLoader(), variables=variables)
    return templar.template(trust_as_template(value))


def holds(when: t.Any, variables: dict[str, t.Any]) -> bool:
    """A task's when (a string or a list, all must hold), as Ansible evaluates it."""
    conditions = when if isinstance(when, list) else [when]
    return all(str(render("{% if " + cond + " %}True{% else %}False{% endif %}", variables)) == "True" for cond in conditions)


def decide(variables: dict[str, t.Any]) -> dict[str, t.Any]:
    variables = dict(variables, __certificate_chain_sources=VARS["__certificate_chain_sources"])
    block = holds(BLOCK["when"], variables)
    assemble = block and holds(ASSEMBLE["when"], variables)
    out = {
        "read": holds(READ["when"], variables),
        "assemble": assemble,
        "copy": block and holds(COPY["when"], variables),
        # What the assembly writes from the parts read (also for a source it is not used for: the byte comparison).
        "content": str(render(ASSEMBLE["ansible.builtin.copy"]["content"], variables))
        if any("content" in part for part in variables.get("__certificate_parts", {}).get("results", [])) else None,
        "changed": str(render(VARS["__certificate_changed"], variables)).strip() == "True",
    }
    return out


def main() -> None:
    print(json.dumps({
        "chain_sources": VARS["__certificate_chain_sources"], "sources": VARS["__certificate_sources"],
        "copy_args": COPY["ansible.builtin.copy"],
        "assemble_args": {k: v for k, v in ASSEMBLE["ansible.builtin.copy"].items() if k != "content"},
        "results": [decide(case) for case in json.load(sys.stdin)],
    }))


if __name__ == "__main__":
    main()
