"""The package's shape, checked: no import cycles, small modules, docstrings and doctests.

The import graph is read with :mod:`ast` from the source, so every import counts -- the ones
inside functions and under ``if TYPE_CHECKING:`` too. Layers may only import downwards:
``engine`` (pure numpy/pandas) and ``protocol`` (the contract) import no other layer of ours;
the ``server`` imports no ``client`` or ``widget``; the ``client`` no ``server`` except to start
the embedded one; the ``widget`` no ``server``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "chatops_widget"
MAX_LINES = 410  # "modules under ~400 lines"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package modules ``name`` imports (``from .x import y`` may name a module ``.x.y``)."""
    is_pkg = path.name == "__init__.py"
    base = name.split(".") if is_pkg else name.split(".")[:-1]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                head = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                mod = ".".join([*head, *([node.module] if node.module else [])])
            else:
                mod = node.module or ""
            # ``from pkg import sub`` imports the submodule; ``from mod import name`` the module
            targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in known else mod for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name and t.startswith("chatops_widget"):
                out.add(t)
    return out


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    known = set(mods)
    graph = {name: _imports(name, path, known) for name, path in mods.items()}
    # importing a.b.c runs a/__init__ and a/b/__init__ first: those are edges too
    for name in list(graph):
        for dep in list(graph[name]):
            parts = dep.split(".")
            for i in range(2, len(parts)):
                parent = ".".join(parts[:i])
                if parent in known and parent != name and not name.startswith(parent + "."):
                    graph[name].add(parent)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return [*stack[stack.index(dep) :], dep]
            if dep not in state and (found := visit(dep)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_import_graph_has_no_cycle():
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


#: what each layer may import of ours (beside itself and the package root)
ALLOWED = {
    "engine": {"_lazy"},
    "protocol": {"_lazy"},
    "_serialization": {"_lazy"},
    "_lazy": set(),  # modules imported when first used: below every layer
    "server": {"protocol", "engine", "_serialization", "assistant", "_lazy"},
    "assistant": {"protocol", "server", "engine", "_lazy"},  # it reads the templates' param names
    "client": {"protocol", "engine", "_serialization", "server", "_lazy"},
    "widget": {"protocol", "engine", "_serialization", "client", "_lazy"},
    "__main__": {"server"},
}


def test_layers_import_only_downwards():
    wrong = []
    for module, deps in _graph().items():
        layer = _layer(module)
        if layer not in ALLOWED:
            continue
        for dep in deps:
            other = _layer(dep)
            if other not in ("", "_version", layer) and other not in ALLOWED[layer]:
                wrong.append(f"{module} -> {dep}")
    assert not wrong, "imports against the layers: " + ", ".join(sorted(wrong))


def test_the_client_imports_the_server_only_for_the_embedded_one():
    graph = _graph()
    uses = sorted(
        f"{m} -> {d}"
        for m, deps in graph.items()
        if _layer(m) == "client"
        for d in deps
        if _layer(d) == "server"
        and d not in ("chatops_widget.server", "chatops_widget.server.embedded")
    )
    assert not uses, uses


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: _module_name(p))
def test_modules_are_small(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines; split it by role"
