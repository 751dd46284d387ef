# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The import graph of the core (plugins/module_utils), written into docs/architecture.md and checked.

    python tests/tools/import_graph.py          # rewrite the generated section of docs/architecture.md
    python tests/tools/import_graph.py --check  # exit 1 when the section is stale, the core imports Ansible,
                                                # a module imports a cycle, or a package imports against the layers

The rules it enforces are the core's: plain Python (no `ansible` import), no import cycle between modules, and the
package layers of LAYERS (a package imports only packages of a lower layer, or itself).
"""

from __future__ import annotations

import ast
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORE = os.path.join(ROOT, "plugins", "module_utils")
DOC = os.path.join(ROOT, "docs", "architecture.md")
PREFIX = "ansible_collections.port443.https.plugins.module_utils."
BEGIN, END = "<!-- import-graph:begin (tests/tools/import_graph.py) -->", "<!-- import-graph:end -->"

# Lower layers first. A package may import packages of lower layers and itself, never a higher one.
LAYERS = (
    ("host", "reasons"),
    ("profiles", "certificate", "firewall"),
    ("probe",),
    ("report",),
    ("webserver",),
)
LAYER_OF = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}


def modules() -> dict[str, str]:
    """Dotted name under module_utils (e.g. 'probe._hello') → file path."""
    found = {}
    for folder, dummy_dirs, files in os.walk(CORE):
        for name in files:
            if name.endswith(".py") and name != "__init__.py":
                rel = os.path.relpath(os.path.join(folder, name), CORE)[:-3]
                found[rel.replace(os.sep, ".")] = os.path.join(folder, name)
    return found


def imports(path: str, name: str) -> tuple[set[str], list[str]]:
    """The core modules `name` imports, and any Ansible imports it has."""
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), path)
    package = name.rsplit(".", 1)[0] if "." in name else ""
    core, ansible = set(), []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1] if package else []
                mod = ".".join(base + ([node.module] if node.module else []))
                targets = [mod + "." + alias.name for alias in node.names] + [mod]
            elif node.module:
                targets = [node.module + "." + alias.name for alias in node.names] + [node.module]
        for target in targets:
            if target.startswith(PREFIX):
                core.add(target[len(PREFIX):])
            elif target.split(".")[0] == "ansible":
                ansible.append(target)
            elif not node_is_relative(node):
                continue
            else:
                core.add(target)
    return core, ansible


def node_is_relative(node: ast.AST) -> bool:
    return isinstance(node, ast.ImportFrom) and bool(node.level)


def graph() -> tuple[dict[str, set[str]], list[str]]:
    mods = modules()
    edges: dict[str, set[str]] = {}
    problems: list[str] = []
    for name, path in sorted(mods.items()):
        core, ansible = imports(path, name)
        edges[name] = {m for m in core if m in mods and m != name}
        for target in ansible:
            problems.append(f"{name} imports {target}: the core must not import Ansible")
    return edges, problems


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    found, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return found


def package(mod: str) -> str:
    return mod.split(".")[0] if "." in mod else ""


def check(edges: dict[str, set[str]]) -> list[str]:
    problems = []
    for cycle in cycles(edges):
        problems.append("import cycle: " + " → ".join(cycle))
    for src, targets in sorted(edges.items()):
        if package(src) not in LAYER_OF:
            problems.append(f"{src}: not in a package of LAYERS (tests/tools/import_graph.py)")
            continue
        for dst in sorted(targets):
            a, b = package(src), package(dst)
            if a != b and LAYER_OF.get(b, 99) >= LAYER_OF[a]:
                problems.append(f"{src} imports {dst}: {a} may import only lower layers ({', '.join(lower(a)) or 'none'})")
    return problems


def lower(pkg: str) -> list[str]:
    return [p for layer in LAYERS[: LAYER_OF[pkg]] for p in layer]


def render(edges: dict[str, set[str]]) -> str:
    out = [BEGIN, "", "Layers, lowest first (a package imports only lower layers and itself):", ""]
    for i, layer in enumerate(LAYERS):
        out.append(f"{i + 1}. " + ", ".join(f"`{p}/`" for p in layer))
    out += ["", "| module | imports (core only) |", "|---|---|"]
    for src in sorted(edges):
        out.append(f"| `{src.replace('.', '/')}.py` | " + (", ".join(f"`{d}`" for d in sorted(edges[src])) or "—") + " |")
    out += ["", END]
    return "\n".join(out)


def main() -> int:
    edges, problems = graph()
    problems += check(edges)
    with open(DOC, encoding="utf-8") as handle:
        text = handle.read()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    wanted = text[:start] + render(edges) + text[end:]
    if "--check" in sys.argv:
        if wanted != text:
            problems.append("docs/architecture.md: the import graph is stale; run python tests/tools/import_graph.py")
        for problem in problems:
            print(problem)
        return 1 if problems else 0
    with open(DOC, "w", encoding="utf-8") as handle:
        handle.write(wanted)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
