"""The widget's kernel side of issue 13, on the real embedded server: the Sessions menu, the
Python call behind each card (run again, it gives the same numbers), comparison payloads
(facts, warnings, buy & hold, the rebased view), and exports (a notebook that reruns every run
in a fresh kernel with the same stats, a standalone HTML report)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient
from widget.test_widget_kernel import Recorder, client  # noqa: F401  (the module's fixture)

from chatops_widget.widget import ChatOpsWidget
from chatops_widget.widget._code import python_call


@pytest.fixture()
def panel(client):  # noqa: F811
    w = ChatOpsWidget(client=client)
    w.create_session("actions")
    rec = Recorder(w)
    yield w, rec
    w.close()


_KINDS = {"/run_backtest": "backtest", "/compare_strategies": "comparison", "/sweep": "sweep"}


def _send(w, rec, text, kind="result", timeout=120):
    """Send ``text`` from the panel; the first ``kind`` message the kernel posts after it (a
    result card of the command's kind: runs started from Python show up in the panel too)."""
    before = len(rec.of(kind))
    want = _KINDS.get(text.split()[0]) if kind == "result" else None
    w._on_frontend(w, {"type": "send", "text": text})
    deadline = time.monotonic() + timeout
    while True:
        new = [m for m in rec.of(kind)[before:] if want is None or m.get("kind") == want]
        if new:
            return new[0]
        assert time.monotonic() < deadline, f"no {kind} after {text!r} within {timeout} s"
        time.sleep(0.02)


def test_sessions_menu_lists_the_servers_sessions(panel):
    w, rec = panel
    here = w.session_id
    w._on_frontend(w, {"type": "session", "action": "list"})
    listing = rec.wait(lambda m: m.get("type") == "sessions", 30, "sessions")
    assert listing["current"] == here
    mine = [s for s in listing["sessions"] if s["id"] == here]
    assert mine and mine[0]["name"] == "actions" and mine[0]["createdAt"]
    assert listing["sessions"][0]["id"] == here  # newest first
    assert set(mine[0]) == {"id", "name", "createdAt", "lastSeq"}


def test_copy_as_code_is_the_call_that_gives_the_same_numbers(panel):
    w, rec = panel
    card = _send(w, rec, "/run_backtest strategy_1 fast=12 commission=0.0005")
    code = card["code"]
    assert code == (
        "client.trigger_backtest('strategy_1', fast=12, commission=0.0005, start='2015-01-02', "
        "end='2024-12-31').result()"
    )  # no variable known outside a notebook: the client's name
    again = eval(code, {"client": w.client})  # our own generated call, run as a user would
    first = w.results[card["runId"]]
    pd.testing.assert_series_equal(again.stats, first.stats)

    sweep = _send(w, rec, "/sweep sma_cross symbol=ALPHA fast=5:15:5 slow=20,40")
    assert (
        sweep["code"] == "client.sweep('sma_cross', 'ALPHA', fast=range(5, 16, 5), slow=[20, 40])"
    )
    table = eval(sweep["code"], {"client": w.client})
    pd.testing.assert_frame_equal(table, w.results[sweep["runId"]], check_like=True)

    cmp = _send(w, rec, "/compare_strategies strategy_1 strategy_2 start=2020-01-01")
    assert (
        cmp["code"] == "client.compare_strategies('strategy_1', 'strategy_2', start='2020-01-01')"
    )
    again = eval(cmp["code"], {"client": w.client})
    pd.testing.assert_frame_equal(again.stats, w.results[cmp["runId"]].stats)


def test_comparison_payload_has_facts_warnings_buy_and_hold_and_the_rebased_view(panel):
    w, rec = panel
    later = w.client.create_strategy("ema_cross", "BRAVO", start="2020-01-01", fast=5, slow=20)
    card = _send(w, rec, f"/compare_strategies strategy_1 {later}")
    info = card["info"]
    assert info["strategy_1"]["symbol"] == "ALPHA" and info[later]["symbol"] == "BRAVO"
    assert info["strategy_1"]["frequency"] == info[later]["frequency"] == "daily"
    assert len(card["warnings"]) == 1 and "different periods" in card["warnings"][0]
    assert card["common"][0] == info[later]["start"]
    series, rebased = card["series"], card["rebased"]
    assert set(series["curves"]) == {"strategy_1", later}
    assert set(series["benchmark"]) == {"ALPHA", "BRAVO"}
    assert len(series["t"]) <= 1000 and len(series["benchmark"]["ALPHA"]) == len(series["t"])
    for values in [*rebased["curves"].values(), *rebased["benchmark"].values()]:
        assert values[0] == pytest.approx(100.0)
    # the same numbers as the kernel's DataFrame
    frame = w.results[card["runId"]].rebased()
    assert rebased["curves"]["strategy_1"][-1] == pytest.approx(frame["strategy_1"].iloc[-1])
    assert rebased["t"][0] == frame.index[0].timestamp()


def _outputs_text(nb) -> list[str]:
    return [
        o["data"]["text/plain"]
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "execute_result"
    ]


def test_export_notebook_reruns_every_run_with_the_same_stats(panel, tmp_path, monkeypatch):
    w, rec = panel
    runs = [
        _send(w, rec, "/run_backtest strategy_1 commission=0.0005 spread=0.0002")["runId"],
        _send(w, rec, "/compare_strategies strategy_1 strategy_2")["runId"],
        _send(w, rec, "/sweep sma_cross symbol=ALPHA fast=5:15:5 slow=20,40")["runId"],
    ]
    path = w.export(tmp_path / "session.ipynb")
    assert path == (tmp_path / "session.ipynb").resolve()
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert code[0].startswith("from chatops_widget import ChatOpsClient")
    assert [c.splitlines()[0].split(" = ")[1].split("(")[0] for c in code[1:]] == [
        "client.trigger_backtest", "client.compare_strategies", "client.sweep"
    ]  # fmt: skip
    exported = _outputs_text(nb)
    assert len(exported) == 3 and "0.05 %" in exported[0]  # what each run showed
    assert exported[0] == repr(w.results[runs[0]])

    # a fresh kernel with its own server reruns the notebook and gets the same numbers
    monkeypatch.setenv("CHATOPS_DATA_DIR", str(tmp_path / "fresh-data"))
    monkeypatch.delenv("CHATOPS_URL", raising=False)
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs, c.execution_count = [], None
    names = [f"r_{r.removeprefix('run_')}" for r in runs]
    dump = (
        "import json\n"
        f"bt, cmp, table = {', '.join(names)}\n"
        "print(json.dumps({'bt': bt.stats.to_dict(), 'cmp': cmp.stats.to_dict(),"
        " 'table': table.to_dict('list')}, default=str))"
    )
    nb.cells.append(nbformat.v4.new_code_cell(dump))
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()  # fmt: skip
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors, errors
    assert _outputs_text(nb)[0] == exported[0]  # the backtest's stats, as shown
    again = json.loads(nb.cells[-1].outputs[0]["text"])
    first_bt, first_cmp, first_table = (w.results[r] for r in runs)
    assert again["bt"] == pytest.approx(first_bt.stats.to_dict(), nan_ok=True)
    for col, values in first_cmp.stats.to_dict().items():
        assert again["cmp"][col] == pytest.approx(values, nan_ok=True), col
    for col in ("fast", "slow", "sharpe", "total_return", "num_trades"):
        assert again["table"][col] == pytest.approx(first_table[col].tolist(), nan_ok=True), col


def test_export_html_is_standalone_with_charts_and_the_panel_downloads_it(panel, tmp_path):
    w, rec = panel
    bt = _send(w, rec, "/run_backtest strategy_1")
    target = tmp_path / "report.html"
    note = _send(w, rec, f"/export {target}", kind="notice", timeout=60)
    assert note["level"] == "info" and str(target) in note["text"] and "1 run(s)" in note["text"]
    (download,) = rec.of("download")
    assert download["name"] == "report.html" and download["mime"] == "text/html"
    page = target.read_text()
    assert download["text"] == page
    assert bt["runId"] in page and "<svg" in page and "buy &amp; hold" in page
    assert re.search(r">20(1[5-9]|2[0-4])<", page)  # the x axis reads in years of the data
    assert "trigger_backtest(&#x27;strategy_1&#x27;" in page  # the call, escaped
    for banned in ("<script", "<link", " src=", " href=", "@import"):
        assert banned not in page, banned
    assert re.findall(r"https?://[^\s\"'<]+", page) == ["http://www.w3.org/2000/svg"] * len(
        re.findall("<svg", page)
    )  # only the SVG namespace: nothing is fetched

    # without a file: downloaded only; a wrong extension says what would be right
    _send(w, rec, "/export", kind="notice", timeout=60)
    assert rec.of("download")[-1]["name"] == f"{w.session_id}.ipynb"
    json.loads(rec.of("download")[-1]["text"])
    bad = _send(w, rec, "/export notes.pdf", kind="notice", timeout=60)
    assert ".ipynb" in bad["text"] and ".html" in bad["text"] and bad["level"] == "error"
    assert not (tmp_path / "notes.pdf").exists() and not Path("notes.pdf").exists()


def test_python_call_covers_every_run_command():
    assert python_call("/run_backtest sma_cross symbol=ALPHA fast=5 short=true", "w") == (
        "w.trigger_backtest('sma_cross', symbol='ALPHA', fast=5, short=True).result()"
    )
    assert python_call("/sweep bollinger symbol=BRAVO window=10:30:10 k=1.5:2.5:0.5") == (
        "client.sweep('bollinger', 'BRAVO', window=range(10, 31, 10), k=[1.5, 2.0, 2.5])"
    )
    assert python_call("/run_backtest strategy_1 run_id=run_abc") == (
        "client.trigger_backtest('strategy_1').result()"
    )
    for text in ("/help", "not a command", "/run_backtest 'open", "/sweep x a-b=1"):
        assert python_call(text) is None, text


def test_the_widget_finds_its_variable_in_a_real_kernel(tmp_path, monkeypatch):
    monkeypatch.setenv("CHATOPS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CHATOPS_URL", raising=False)
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell
    nb.cells = [
        cell("from chatops_widget import ChatOpsWidget\n\npanel = ChatOpsWidget()\npanel"),
        cell('run = panel.trigger_backtest("strategy_1")\nres = run.result(timeout=120)'),
        cell(
            "import time\n"
            "for _ in range(400):\n"
            "    if panel.python_name:\n"
            "        break\n"
            "    time.sleep(0.05)\n"
            "print('NAME', panel.python_name)\n"
            "print('CODE', panel._code_for(run.run_id, panel.results.summary(run.run_id), None))\n"
            "panel.close()"
        ),
    ]
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()  # fmt: skip
    out = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert "NAME panel\n" in out, out
    assert "CODE panel.trigger_backtest('strategy_1', start='2015-01-02', end='2024-12-31')" in out


def test_backtest_card_carries_the_engines_buy_and_hold_line(panel):
    w, rec = panel
    card = _send(w, rec, "/run_backtest strategy_1 cash=250000")
    full = w.results[card["runId"]].equity
    bench = card["series"]["benchmark"]
    assert len(bench) == len(card["series"]["t"]) and bench[0] == pytest.approx(250_000)
    assert bench[-1] == pytest.approx(full["benchmark"].iloc[-1], rel=1e-6)
    assert max(bench) == pytest.approx(full["benchmark"].max(), rel=1e-6)  # peaks survive
