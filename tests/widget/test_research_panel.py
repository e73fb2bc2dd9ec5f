"""The research cards in a real JupyterLab (started by the test), driven by Debian's Chromium.

In the panel notebook: a walk-forward (stitched equity with buy & hold, the chosen parameters
per window as a chart, the window table), strategies across every symbol (the strategy x symbol
heatmap on the canvas, the table of means and ranks, the metric switch, a click that backtests
a cell) and a portfolio (its curve, the symbols' contributions, a table per symbol); then the
same three results read as DataFrames in a new cell.

The JupyterLab is shared by the session's tests (test_hosts and test_jupyterlab open panel.ipynb
and quickstart.ipynb in it first), so this test opens a notebook of its own (its own kernel,
its own embedded server and session) in a fresh workspace: the default workspace would restore
their tabs, and a restored tab activated after the panel appeared hid it (the card then never
became visible).
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import nbformat

from .conftest import PANEL_CELL

_KERNEL_IDLE = """() => {
    const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
    return !!k && k.status === 'idle' && w.content.widgets.length >= 1;
}"""


def _cells(page) -> int:
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").count()


def _run_command(page, command: str) -> None:
    page.evaluate("(c) => { window.jupyterapp.commands.execute(c); }", command)


WF = "/walkforward sma_cross symbol=ALPHA fast=5:20:5 slow=30:90:30 train=2y test=1y"
# the five sample symbols by name (symbols=* would also take what other tests uploaded into
# the shared data dir; the server tests cover "*")
UNIVERSE = "/compare_strategies strategy_1 strategy_2 symbols=ALPHA,BRAVO,CHARLIE,DELTA,ECHO"
PORTFOLIO = "/run_backtest strategy_1 symbols=ALPHA,BRAVO weights=0.6,0.4 rebalance=monthly"


def _send(page, panel, text: str) -> None:
    box = panel.locator(".cow-input")
    box.fill(text)
    page.keyboard.press("Escape")  # close the autocomplete popup
    box.press("Enter")


def _research_notebook(lab) -> str:
    """The URL of a new notebook holding only the panel cell, in a workspace of its own."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(PANEL_CELL)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}  # fmt: skip
    nbformat.write(nb, lab["root"] / "research.ipynb")
    url = urlsplit(lab["panel_url"])
    return (f"{url.scheme}://{url.netloc}/lab/workspaces/research/tree/research.ipynb"
            f"?reset&{url.query}")  # fmt: skip


def _card(page, title: str):
    card = page.locator(".cow-rich", has=page.locator(".cow-card-title", has_text=title)).last
    card.wait_for(timeout=180_000)
    return card


def test_research_cards_in_jupyterlab(lab, browser, tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 1400})
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(_research_notebook(lab))
        page.wait_for_function(_KERNEL_IDLE, timeout=120_000)
        _run_command(page, "notebook:run-cell")
        panel = page.locator(".cow-root")
        panel.wait_for(timeout=90_000)
        page.wait_for_selector(".cow-chip.cow-connected", timeout=60_000)

        # walk-forward: stats, equity + drawdown + params-per-window charts, the window table
        _send(page, panel, WF)
        wf = _card(page, "Walk-forward")
        title = wf.locator(".cow-card-title").inner_text()
        assert "ALPHA" in title and "8 windows" in title and "train 2y, test 1y" in title
        wf.locator(".uplot").nth(2).wait_for()
        assert wf.locator(".uplot").count() == 3
        assert "walk-forward efficiency" in wf.locator(".cow-metrics").inner_text()
        rows = wf.locator(".cow-wf-windows tbody tr")
        assert rows.count() == 8
        head = wf.locator(".cow-wf-windows thead").inner_text().split()
        assert head[:5] == ["window", "test_start", "test_end", "fast", "slow"]
        assert "%" in rows.first.inner_text()  # the window's out-of-sample return
        assert "buy & hold" in wf.inner_text()
        wf.screenshot(path=str(tmp_path / "walkforward.png"))

        # strategies across every symbol: heatmap (2 strategies x 5 symbols), means and ranks
        _send(page, panel, UNIVERSE)
        uni = _card(page, "Universe")
        canvas = uni.locator(".cow-heat-canvas")
        canvas.wait_for()
        page.wait_for_function(
            "(el) => !!el.dataset.plot", arg=canvas.element_handle(), timeout=30_000
        )
        plot = json.loads(canvas.get_attribute("data-plot"))
        assert (plot["cols"], plot["rows"]) == (2, 5)
        summary = uni.locator(".cow-universe-summary tbody tr")
        assert summary.count() == 2
        assert uni.locator(".cow-universe-summary thead").inner_text().startswith("strategy")
        assert "mean sharpe" in uni.locator(".cow-universe-summary thead").inner_text()
        uni.locator(".cow-universe-metric").select_option("total_return")
        uni.locator(".cow-heat-metric", has_text="total_return").wait_for()
        assert "mean total_return" in uni.locator(".cow-universe-summary thead").inner_text()
        uni.screenshot(path=str(tmp_path / "universe.png"))
        # hover and click a cell: it reads strategy and symbol, and backtests that pair
        canvas = uni.locator(".cow-heat-canvas")
        page.wait_for_function(
            "(el) => !!el.dataset.plot", arg=canvas.element_handle(), timeout=30_000
        )
        plot = json.loads(canvas.get_attribute("data-plot"))
        x = plot["left"] + plot["width"] * 0.25
        y = plot["top"] + plot["height"] * 0.1  # the top row: the last symbol
        canvas.hover(position={"x": x, "y": y})
        readout = uni.locator(".cow-heat-readout").inner_text()
        assert "strategy=strategy_1, symbol=ECHO" in readout, readout
        canvas.click(position={"x": x, "y": y})
        page.locator(".cow-user .cow-bubble", has_text="/run_backtest strategy_1 symbol=ECHO")
        backtest = _card(page, "Backtest")
        assert "ECHO" in backtest.locator(".cow-card-title").inner_text()

        # a portfolio: its curve with buy & hold, each symbol's pnl, the table per symbol
        _send(page, panel, PORTFOLIO)
        pf = _card(page, "Portfolio")
        assert (
            "ALPHA 60%, BRAVO 40%; rebalance monthly" in pf.locator(".cow-card-title").inner_text()
        )
        pf.locator(".uplot").nth(1).wait_for()
        assert pf.locator(".uplot").count() == 2
        table = pf.locator(".cow-portfolio-symbols tbody tr")
        assert table.count() == 2 and "ALPHA" in table.first.inner_text()
        assert "ALPHA" in pf.locator(".uplot").nth(1).inner_text()  # the legend per symbol

        shot = panel.screenshot(path=str(tmp_path / "research.png"))
        assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 10_000

        # the same results as DataFrames in the kernel
        n = _cells(page)
        _run_command(page, "notebook:insert-cell-below")
        page.wait_for_function(f"() => document.querySelectorAll('.jp-Cell').length > {n}")
        _run_command(page, "notebook:enter-edit-mode")
        page.keyboard.type(
            "rs = [w.results[k] for k in w.results]\n"
            "print('KINDS', *sorted(type(r).__name__ for r in rs))\n"
            "wf = next(r for r in rs if type(r).__name__ == 'WalkForwardResult')\n"
            "u = next(r for r in rs if type(r).__name__ == 'UniverseResult')\n"
            "print('SHAPES', len(wf.windows), u.pivot('sharpe').shape)"
        )
        _run_command(page, "notebook:run-cell")
        out = page.locator(".jp-OutputArea-output", has_text="SHAPES").last
        out.wait_for(timeout=60_000)
        text = out.inner_text()
        assert "PortfolioResult" in text and "UniverseResult" in text
        assert "WalkForwardResult" in text and "SHAPES 8 (2, 5)" in text
    finally:
        context.close()
