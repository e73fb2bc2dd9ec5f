"""Level 2: a Python strategy hosted by one notebook, run from another, in a real JupyterLab.

One served session (a real server in the test process, on loopback) and two notebooks in the
test session's JupyterLab (``lab`` fixture), each in its own Lab workspace and browser page,
driven by Debian's Chromium. Notebook A (alice) registers ``my_mom`` with ``@w.strategy(...)``;
in notebook B's panel (bob) ``/run_backtest my_mom`` shows progress and a result card while
alice's function waits for a cell alice runs meanwhile (so the run can only finish if A's
notebook stays usable), B's kernel has the DataFrames, and ``/compare_strategies my_mom
strategy_1`` shows the comparison. A's kernel is restarted: B's next run
is refused in B's panel (the owner's notebook is not connected). A runs its cells again: the
strategy is back, as v2, and B's run works again.
"""

from __future__ import annotations

import pytest

from chatops_widget import ChatOpsClient
from chatops_widget.server import EmbeddedServer, standard_plugins

_READY = """() => {
    const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
    return !!k && k.status === 'idle' && !!w.content && w.content.widgets.length > 1;
}"""

_RUN_CELL = """(i) => { const app = window.jupyterapp, nb = app.shell.currentWidget.content;
    nb.activeCellIndex = i; app.commands.execute('notebook:run-cell'); }"""

PANEL = """from chatops_widget import ChatOpsWidget

w = ChatOpsWidget(url={url!r}, token={token!r}, name={name!r})
w.join_session({session!r})
w"""

STRATEGY = """import threading

armed, gate, started = threading.Event(), threading.Event(), threading.Event()


@w.strategy(name="my_mom", params={"lookback": 60, "z": 1.0})
def my_mom(data, lookback=60, z=1.0):
    \"\"\"Momentum over `lookback` bars, scaled by its volatility.\"\"\"
    if armed.is_set():  # the run from B waits for a cell run in this notebook meanwhile
        started.set()
        gate.wait(120)
    r = data.Close.pct_change(lookback)
    return (r / (z * r.rolling(250).std())).fillna(0.0).clip(-1, 1)


armed.set()
print("REGISTERED", w.hosted["my_mom"].version)"""

# waits (a while) for the run from B to reach this kernel's worker thread: B's tray shows the
# run once the server has it, which can be before this kernel does on a busy machine
MEANWHILE = """print("MEANWHILE", started.wait(60), w.hosted["my_mom"].runs)
gate.set()"""

GATE = """gate.set()
print("GATE", gate.is_set())"""

READ_RESULT = """rid = list(w.results)[-1]
r = w.results[rid]
print("FRAMES", rid, type(r.equity).__name__, len(r.equity), r.params["lookback"],
      w.results.summary(rid)["hosted"]["owner"], w.results.summary(rid)["hosted"]["version"])"""


def _notebook(path, cells: list[str]) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)


def _open(browser, url: str):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_function(_READY, timeout=120_000)
    return context, page, errors


def _run(page, index: int, marker: str, timeout: float = 90_000) -> list[str]:
    """Run cell ``index`` (its old output cleared); the words of its output line that starts
    with ``marker``."""
    page.evaluate(
        "(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].model.outputs.clear()",
        index,
    )
    page.evaluate(_RUN_CELL, index)
    out = page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-OutputArea-output")
    out.filter(has_text=marker).first.wait_for(timeout=timeout)
    text = out.filter(has_text=marker).first.inner_text()
    line = next(ln for ln in text.splitlines() if ln.startswith(marker))
    return line.split()


def _send(panel, text: str) -> None:
    box = panel.locator(".cow-input")
    box.click()
    box.fill(text)
    box.press("Escape")  # close the autocomplete popup; Enter sends either way
    box.press("Enter")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    srv = EmbeddedServer(
        data_dir=tmp_path_factory.mktemp("hosted-lab"), plugins=standard_plugins(assistant=False)
    ).start()
    with ChatOpsClient(srv.url, srv.token, timeout=20, name="lead") as lead:
        session = lead.create_session("two notebooks")
    yield srv, session
    srv.stop()


def test_a_strategy_hosted_in_one_notebook_runs_from_another(lab, browser, served):
    srv, session = served
    root = lab["root"]
    base = lab["url"].split("/lab/", 1)[0]
    token = lab["url"].split("token=", 1)[1]
    for who, cells in (
        ("alice", [STRATEGY, MEANWHILE, GATE]),
        ("bob", [READ_RESULT]),
    ):
        panel = PANEL.format(url=srv.url, token=srv.token, name=who, session=session)
        _notebook(root / f"hosted_{who}.ipynb", [panel, *cells])

    a_ctx, a, a_errors = _open(browser, f"{base}/lab/workspaces/alice/tree/hosted_alice.ipynb"
                                        f"?token={token}&reset")  # fmt: skip
    b_ctx, b, b_errors = _open(browser, f"{base}/lab/workspaces/bob/tree/hosted_bob.ipynb"
                                        f"?token={token}&reset")  # fmt: skip
    try:
        # A: the panel, then the strategy, registered with the decorator
        a.evaluate(_RUN_CELL, 0)
        a.locator(".cow-chip.cow-connected").wait_for(timeout=90_000)
        assert _run(a, 1, "REGISTERED") == ["REGISTERED", "v1"]

        # B: the panel; autocomplete and /strategies know my_mom as alice's
        b.evaluate(_RUN_CELL, 0)
        panel = b.locator(".cow-root")
        panel.locator(".cow-chip.cow-connected").wait_for(timeout=90_000)
        b.wait_for_function(
            "(el) => !el.querySelector('.cow-composer').classList.contains('cow-connecting')",
            arg=panel.element_handle(),
        )
        box = panel.locator(".cow-input")
        box.click()
        box.fill("")
        box.type("/run_backtest my_")
        option = panel.locator(".cow-option", has_text="my_mom").first
        option.wait_for()
        assert "hosted by alice's notebook" in option.locator(".cow-option-desc").inner_text()
        box.fill("")
        _send(panel, "/strategies")
        listed = panel.locator(".cow-assistant .cow-bubble", has_text="Python strategies").last
        listed.wait_for()
        assert "hosted by alice's notebook, v1, connected" in listed.inner_text()

        # B runs it; the run waits in A's worker thread until A runs another cell
        _send(panel, "/run_backtest my_mom lookback=90")
        panel.locator(".cow-run", has_text="my_mom").first.wait_for()
        assert _run(a, 2, "MEANWHILE") == ["MEANWHILE", "True", "0"]  # in flight, A usable
        card = panel.locator(".cow-result", has_text="my_mom").last
        card.locator(".cow-metrics").wait_for(timeout=120_000)
        assert "Total return" in card.locator(".cow-metrics").inner_text()
        words = _run(b, 1, "FRAMES")
        assert words[1].startswith("run_") and words[2] == "DataFrame" and int(words[3]) > 1000
        assert words[4:] == ["90", "alice", "v1"]

        # ... and compared with a stored strategy, in B's panel
        _send(panel, "/compare_strategies my_mom strategy_1")
        table = panel.locator(".cow-result .cow-comparison").last
        table.wait_for(timeout=120_000)
        assert "my_mom" in table.inner_text() and "strategy_1" in table.inner_text()

        # A's kernel stops: B's next run is refused in B's panel, saying why
        a.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session"
                   ".kernel.restart()")  # fmt: skip
        offline = "my_mom is hosted by alice's notebook, which is not connected"
        for _attempt in range(40):  # until the server has seen the kernel go
            _send(panel, "/run_backtest my_mom")
            refused = panel.locator(".cow-bubble", has_text=offline)
            try:
                refused.first.wait_for(timeout=1_500)
                break
            except Exception:
                continue
        assert refused.count() >= 1

        # A's notebook runs its cells again: the strategy is back (a new kernel: v2)
        a.wait_for_function(_READY, timeout=120_000)
        a.evaluate(_RUN_CELL, 0)
        assert _run(a, 1, "REGISTERED") == ["REGISTERED", "v2"]
        assert _run(a, 3, "GATE") == ["GATE", "True"]  # the next run goes through at once
        # completed my_mom cards (a refused attempt still in flight may add a failed one)
        done = panel.locator(".cow-result", has_text="my_mom").filter(has=b.locator(".cow-metrics"))
        n_done = done.count()
        _send(panel, "/run_backtest my_mom lookback=120")
        done.nth(n_done).wait_for(timeout=180_000)
        words = _run(b, 1, "FRAMES")
        assert words[4:] == ["120", "alice", "v2"]
    finally:
        a_ctx.close()
        b_ctx.close()
    assert not [e for e in a_errors + b_errors if "chatops" in e.lower() or "cow-" in e]
