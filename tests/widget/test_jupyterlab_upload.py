"""Level 2: a 20 MiB CSV uploaded through the panel's file input in a real JupyterLab.

The panel slices it into ``upload_part`` messages, the kernel assembles and stores it (chunked
to the embedded server), and the panel's progress row goes from ``sending`` to ``done``; the
notice names the bars (tests/widget/test_widget_upload_parts.py backtests such an upload
and checks it bar for bar).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import nbformat
import numpy as np
import pandas as pd

_NOTEBOOK_READY = """() => {
    const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
    return !!k && k.status === 'idle' && w.content && w.content.widgets.length > 0;
}"""


def _big_csv(path, n: int) -> None:
    rng = np.random.default_rng(3)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 1e-3, n)))
    idx = pd.date_range("2021-01-04 09:30", periods=n, freq="min", name="Date")
    pd.DataFrame(
        {"Open": close, "High": close * 1.001, "Low": close * 0.999, "Close": close,
         "Volume": rng.integers(100, 10_000, n).astype(float)},
        index=idx,
    ).to_csv(path)  # fmt: skip


def _upload_notebook(lab) -> str:
    """A new notebook holding only the panel cell, opened in a Lab workspace of its own (the
    shared Lab restores the tabs of earlier tests, which can take the focus from the panel)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "from chatops_widget import ChatOpsWidget\nw = ChatOpsWidget()\nw"
        )
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}  # fmt: skip
    nbformat.write(nb, lab["root"] / "upload.ipynb")
    url = urlsplit(lab["panel_url"])
    return (f"{url.scheme}://{url.netloc}/lab/workspaces/upload/tree/upload.ipynb"
            f"?reset&{url.query}")  # fmt: skip


def test_a_20_mib_csv_uploads_in_parts_with_a_progress_row(lab, browser, tmp_path):
    csv = tmp_path / "bigmin.csv"
    _big_csv(csv, 300_000)
    assert csv.stat().st_size > 20 * 1024 * 1024
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(_upload_notebook(lab))
        page.wait_for_function(_NOTEBOOK_READY, timeout=120_000)
        page.evaluate(
            """() => { const app = window.jupyterapp, nb = app.shell.currentWidget.content;
                nb.activeCellIndex = nb.widgets.findIndex((c) => c.model.type === 'code');
                app.commands.execute('notebook:run-cell'); }"""
        )
        panel = page.locator(".cow-root")
        panel.wait_for(timeout=90_000)
        page.wait_for_selector(".cow-chip.cow-connected", timeout=60_000)
        panel.locator(".cow-file").set_input_files(str(csv))
        row = panel.locator(".cow-upload-row")
        row.first.wait_for(timeout=60_000)  # the row appears while the parts arrive
        done = panel.locator(".cow-upload-row.cow-status-completed")
        try:
            done.wait_for(timeout=180_000)
        except Exception:
            rows = row.all_inner_texts()
            notes = panel.locator(".cow-notice").all_inner_texts()
            raise AssertionError(f"no finished upload row; rows {rows}, notices {notes}") from None
        assert done.locator(".cow-run-label").inner_text() == "bigmin.csv: done"
        assert done.locator(".cow-run-pct").inner_text() == "100 %"
        note = panel.locator(".cow-notice", has_text="uploaded bigmin.csv")
        note.wait_for(timeout=30_000)
        assert "300000 bars as symbol BIGMIN" in note.inner_text()
        assert panel.locator(".cow-notice.cow-level-error").count() == 0
    finally:
        context.close()
