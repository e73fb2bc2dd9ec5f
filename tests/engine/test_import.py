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


def test_engine_sources_import_nothing_networked():
    root = Path(engine.__file__).parent
    for f in root.glob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for n in names:
                assert n.split(".")[0] not in FORBIDDEN, f"{f.name} imports {n}"


def test_fresh_import_does_not_load_server_or_widget():
    code = (
        "import sys, chatops_widget.engine as e; "
        "print(sorted(m for m in ('socketio', 'engineio', 'aiohttp', 'uvicorn', 'anywidget',"
        " 'scipy', 'chatops_widget.server') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
