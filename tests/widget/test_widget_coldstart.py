"""A fast first panel (issue 17), guarded by structure, not by time: on the way from
``ChatOpsWidget()`` to a joined session nothing imports numpy, pandas, pyarrow or the engine's
simulator and catalog -- the widget, the client, the embedded server and its plugins, and the
``joinSession`` ack (strategies, templates, runs) all do without them. They are imported after
the join, by the two warm-ups made for that: the server's (its data catalog and what a first run
needs, started by the first join) and the panel's (the engine constants it sends once it says
"connected"); and the first backtest then runs and reaches the panel as before.

On a data dir used before (the first start on a new one seeds the stored strategies, which
takes the catalog's symbols). The case runs in a fresh interpreter (``sys.modules`` as a new
kernel has it) against the real embedded server on loopback; the first import of every watched
module records its call stack.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from chatops_widget.server import EmbeddedServer

ROOT = Path(__file__).resolve().parents[2]

#: imported only by the warm-ups (or a command): never on the way to "connected"
HEAVY = (
    "numpy",
    "pandas",
    "pyarrow",
    "chatops_widget.engine._backtest",
    "chatops_widget.engine._catalog",
    "chatops_widget.engine._metrics",
    "chatops_widget.widget._sync",
)

SCRIPT = textwrap.dedent(
    """
    import json, logging, sys, threading, traceback

    HEAVY = set(json.loads(sys.argv[1]))
    first = {}        # module -> the stack (file, function, line) of its first import
    seen = []         # the startup log, in order
    loaded_at = {}    # startup message -> the watched modules imported by then

    class Watch:
        def find_spec(self, name, path=None, target=None):
            if name in HEAVY and name not in first:
                first[name] = [(f.filename, f.name, f.line) for f in traceback.extract_stack()]
            return None

    class Log(logging.Handler):
        def emit(self, record):
            msg = record.getMessage()
            seen.append(msg)
            loaded_at.setdefault(msg, sorted(m for m in HEAVY if m in sys.modules))

    sys.meta_path.insert(0, Watch())
    log = logging.getLogger("chatops_widget.startup")
    log.addHandler(Log())
    log.setLevel(logging.DEBUG)
    log.propagate = False

    from chatops_widget import ChatOpsWidget

    w = ChatOpsWidget()  # no client, no URL: the embedded server, in the background
    w._pending.get()  # connected, joined, the engine constants set
    run = w.trigger_backtest("strategy_1")
    result = run.result(timeout=120)
    out = {
        "first": first,
        "seen": seen,
        "loaded_at": loaded_at,
        "connected": w.connected,
        "session": w.session_id,
        "statsInConstants": bool(w.constants.get("stats")),
        "equity": len(result.equity),
        "loaded": sorted(m for m in HEAVY if m in sys.modules),
    }
    w.close()
    print("RESULT " + json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def cold(tmp_path_factory):
    data = tmp_path_factory.mktemp("coldstart") / "data"
    # a data dir used before, as on every start but the first: the first start there seeds
    # the stored strategies, which needs the catalog's symbols (so it makes the catalog)
    EmbeddedServer(data_dir=data).start().stop()
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    env["CHATOPS_DATA_DIR"] = str(data)
    env.pop("CHATOPS_URL", None)
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=240,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT ") :])


def _warm_up(stack: list[list[str]]) -> str | None:
    """Which warm-up (or None) the import with this stack came from."""
    for filename, function, line in stack:
        path = filename.replace(os.sep, "/")
        if path.endswith("chatops_widget/server/backtest/_data.py") and function == "run":
            return "server"  # ServiceData.warm_up's thread
        if path.endswith("chatops_widget/widget/_connect.py") and "frontend_constants" in line:
            return "panel"  # ClientHolder._attach, after "connected and joined"
    return None


def test_the_panel_connects_and_joins_before_anything_heavy_is_imported(cold):
    assert cold["connected"] and cold["session"].startswith("session_")
    for step in (
        "embedded server: built",
        "client: session joined",
        "widget: connected and joined",
    ):
        assert step in cold["seen"], cold["seen"]
    # the first import of each watched module came from a warm-up, none from the connect path
    wrong = {
        m: [f"{f.rsplit('/', 1)[-1]}:{fn}: {line}" for f, fn, line in stack if "<" not in f]
        for m, stack in cold["first"].items()
        if _warm_up(stack) is None
    }
    assert not wrong, json.dumps(wrong, indent=1)
    assert cold["loaded_at"]["embedded server: built"] == []  # the plugins are registered
    assert cold["loaded_at"]["embedded server: listening on " + _url(cold)] == []


def test_the_warm_ups_then_load_what_the_first_result_needs(cold):
    assert cold["loaded"] == sorted(HEAVY)  # every one of them, by now
    assert {_warm_up(stack) for stack in cold["first"].values()} <= {"server", "panel"}
    assert "backtest: warm-up done" in cold["seen"]
    assert cold["statsInConstants"]  # the engine's stat metadata reached the panel's constants
    assert cold["equity"] > 100  # and the first backtest ran: a full equity curve


def _url(cold: dict) -> str:
    (msg,) = [m for m in cold["seen"] if m.startswith("embedded server: listening on ")]
    return msg[len("embedded server: listening on ") :]
