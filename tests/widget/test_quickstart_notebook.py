"""notebooks/quickstart.ipynb runs headless from top to bottom (nbclient, a real ipykernel), is
shipped without outputs, and running it (here, or in the JupyterLab test, each on a copy) leaves
the repository's file as it was."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "quickstart.ipynb"


def _text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if "text" in out:
            parts.append(out["text"])
        data = out.get("data", {})
        parts.append(data.get("text/plain", ""))
    return "\n".join(parts)


def test_quickstart_is_shipped_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    assert "widgets" not in nb.metadata  # no saved widget state either
    assert all(not c.metadata.get("execution") for c in code)


def test_quickstart_executes(tmp_path, monkeypatch):
    shipped = NOTEBOOK.read_bytes()
    monkeypatch.delenv("CHATOPS_URL", raising=False)
    monkeypatch.setenv("CHATOPS_DATA_DIR", str(tmp_path / "chatops-data"))  # not the user's
    shutil.copy(NOTEBOOK, tmp_path / "quickstart.ipynb")
    nb = nbformat.read(tmp_path / "quickstart.ipynb", as_version=4)
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code)
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors
    views = [o for o in code[0]["outputs"] if "data" in o]
    assert "application/vnd.jupyter.widget-view+json" in views[0]["data"], code[0]["outputs"]
    texts = {c.source.splitlines()[0]: _text(c) for c in code}
    stats = texts['run = w.trigger_backtest("strategy_1")']
    assert "total_return" in stats and "sharpe" in stats
    assert "equity" in texts["result.equity.tail()"]
    costs = texts["import pandas as pd"]
    assert "with costs" in costs and "spread" in costs and "0.0005" in costs
    comparison = texts['cmp = w.compare_strategies("strategy_1", "strategy_2")']
    assert "strategy_1" in comparison and "strategy_2" in comparison
    assert "run_" in texts["list(w.results)"]
    rule = texts['dip = w.create_strategy(name="dip", symbol="ALPHA", entry="rsi(14) < 30 and '
                 'close > sma(200)",']  # fmt: skip
    assert "exit_reason" in rule and "take_profit" in rule
    assert "bars_per_year" in texts['rule_run.stats[["total_return", "sharpe", "sqn", "kelly", '
                                    '"avg_trade_duration", "bars_per_year"]]']  # fmt: skip
    grid = texts['w.create_strategy(name="x", entry="crosses_above(ema($fast), ema($slow))",']
    assert "fast" in grid and "sharpe" in grid
    hosted = texts['@w.strategy(name="my_mom", params={"lookback": 60, "z": 1.0})']
    assert "sharpe" in hosted and "exposure" in hosted  # registered here, run by the session
    wf = texts['wf = w.walk_forward("sma_cross", "ALPHA", train="2y", test="6m",']
    assert "wfe" in wf and "param_change_rate" in wf  # the stats printed
    assert "oos_sharpe" in wf and "2017-01-02" in wf  # the window table, first test period
    assert NOTEBOOK.read_bytes() == shipped  # the copy ran; the repository's file is untouched
