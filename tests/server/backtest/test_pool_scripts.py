"""Worker processes start from any kind of parent script: one without an ``if __name__ ==
"__main__"`` guard, or one fed on standard input (``python - < script.py``).

The pool spawns its workers without re-running the parent's ``__main__`` (they only need
``chatops_widget``), so a plain script that uses the embedded server neither re-runs itself in
every worker nor crashes them; the same holds for the local Dask cluster (``CHATOPS_JOBS=dask``).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SCRIPT = """
import time

from chatops_widget import ChatOpsClient

print("script body ran", flush=True)  # once: the workers must not run it again
with ChatOpsClient(timeout=60) as c:
    c.create_session()
    time.sleep(2.5)  # the worker processes are spawned 1 s after the server's start
    result = c.trigger_backtest("strategy_1").result(timeout=60)
    print("trades", result.stats["num_trades"], flush=True)
"""


@pytest.mark.parametrize("how,jobs", [("file", "process"), ("stdin", "process"), ("stdin", "dask")])
def test_a_script_without_a_main_guard_runs_backtests(tmp_path, how, jobs):
    script = tmp_path / "no_guard.py"
    script.write_text(SCRIPT)
    cmd = [sys.executable, str(script)] if how == "file" else [sys.executable, "-"]
    proc = subprocess.run(
        cmd,
        input=SCRIPT if how == "stdin" else None,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        env={**os.environ, "CHATOPS_DATA_DIR": str(tmp_path / "data"), "CHATOPS_JOBS": jobs},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("script body ran") == 1, proc.stdout
    assert "trades " in proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
