"""The engine stays light and offline: no networking/transport imports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import chatops_widget.engine as engine

FORBIDDEN = {
    "socket",
    "socketio",
    "engineio",
    "aiohttp",
    "asyncio",
    "requests",
    "urllib",
    "http",
    "uvicorn",
    "websockets",
    "anywidget",
    "scipy",
    "pyarrow",
}
#: pandas reads Parquet with pyarrow anyway; the file layer reads footers and row groups with
#: it directly (imported in the functions that need it), and nothing else in the engine does.
ALLOWED = {"_files.py": {"pyarrow"}}


def test_engine_sources_import_nothing_networked():
    root = Path(engine.__file__).parent
    files = list(root.rglob("*.py"))
    assert any(f.parent.name == "rules" for f in files)
    for f in files:
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for n in names:
                top = n.split(".")[0]
                allowed = ALLOWED.get(f.name, set())
                assert top not in FORBIDDEN - allowed, f"{f.name} imports {n}"


def test_fresh_import_does_not_load_server_or_widget():
    code = (
        "import sys, chatops_widget.engine as e; "
        "print(sorted(m for m in ('socketio', 'engineio', 'aiohttp', 'uvicorn', 'anywidget',"
        " 'scipy', 'chatops_widget.server') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _engine_import_graph() -> dict[str, set[str]]:
    """Module -> engine modules it imports (every import, type-only ones included)."""
    root = Path(engine.__file__).parent
    graph: dict[str, set[str]] = {}
    for f in root.rglob("*.py"):
        rel = f.relative_to(root).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        name = ".".join(["engine", *parts])
        package = name if f.name == "__init__.py" else name.rsplit(".", 1)[0]
        deps = graph.setdefault(name, set())
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
                if node.module:
                    deps.add(target)
                for alias in node.names:  # from . import _x imports the module _x
                    deps.add(f"{target}.{alias.name}")
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "chatops_widget.engine"
            ):
                deps.add(node.module.replace("chatops_widget.", "", 1))
    return {m: {d for d in deps if d in graph and d != m} for m, deps in graph.items()}


def test_no_import_cycles_inside_the_engine():
    graph = _engine_import_graph()
    assert "engine._registry" in graph and "engine._builtins" in graph
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for d in sorted(graph[m]):
            if d == "engine" or d.startswith(m + "."):
                continue  # a package importing its own submodules is not a cycle
            if state.get(d) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*path, m, d]))
            if d not in state:
                visit(d, [*path, m])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [])
