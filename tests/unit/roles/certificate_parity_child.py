# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Child process of test_certificate_parity.py (Ansible's collection loader must be installed before anything imports
ansible_collections, and pytest has done that already).

For each input set on stdin it renders the certificate role's own decisions from its task files with ansible's
Templar (the collection's filters and tests included), given what the full path's read-only tasks registered:

- acme: current.yml's renewal window, then acme.yml's "Decide whether to order a certificate";
- provided: provided.yml's refusal (the assert's problems).

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


def task(file: str, name: str) -> dict[str, t.Any]:
    for item in yaml.safe_load((TASKS / file).read_text()):
        if item.get("name") == name:
            return item
    raise LookupError(f"tasks/{file}: no task named {name!r}")


def render(value: str, variables: dict[str, t.Any]) -> t.Any:
    templar = Templar(loader=DataLoader(), variables=variables)
    return json.loads(json.dumps(templar.template(trust_as_template(value)), default=str))


def acme(variables: dict[str, t.Any]) -> list[str]:
    window = task("current.yml", "Decide whether the existing certificate is inside its renewal window")
    variables["__certificate_in_window"] = render(window["ansible.builtin.set_fact"]["__certificate_in_window"], variables)
    variables["__certificate_current_sans"] = render(window["ansible.builtin.set_fact"]["__certificate_current_sans"], variables)
    decide = task("acme.yml", "Decide whether to order a certificate")
    return render(decide["ansible.builtin.set_fact"]["__certificate_acme_reasons"], variables)


def provided(variables: dict[str, t.Any]) -> list[str]:
    refuse = task("provided.yml", "Refuse an expired certificate, a mismatching key, a chain in the wrong order or missing names")
    return render(refuse["vars"]["__problems"], variables)


def main() -> None:
    out = []
    for case in json.load(sys.stdin):
        out.append(acme(case["vars"]) if case["kind"] == "acme" else provided(case["vars"]))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
