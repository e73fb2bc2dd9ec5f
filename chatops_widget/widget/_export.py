"""A session exported as a notebook (``.ipynb``) that reproduces every run with the Python API
and shows its stats, or as a standalone HTML report with the charts (inline SVG, no script, no
CDN): ``w.export("session.ipynb")`` or ``/export report.html`` in the panel.

The runs are the session's completed backtests, comparisons and sweeps, in the order they ran,
each with the command it ran (:func:`~._code.python_call` writes it as a kernel call).

Example:
    >>> w.export("research.ipynb")      # doctest: +SKIP
    PosixPath('/home/me/research.ipynb')
"""

from __future__ import annotations

import datetime as _dt
import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .. import engine
from ..protocol import RESULT_KINDS
from . import _svg
from ._code import python_call, run_variable
from ._sync import sweep_cells

__all__ = ["FORMATS", "ExportRun", "render", "session_runs"]

#: file extension -> (format, MIME type)
FORMATS = {
    ".ipynb": ("notebook", "application/x-ipynb+json"),
    ".html": ("html", "text/html"),
    ".htm": ("html", "text/html"),
}
_OPEN = (
    "from chatops_widget import ChatOpsClient\n\n"
    "client = ChatOpsClient()  # an embedded server; ChatOpsClient(url, token) for a shared one\n"
    "session = client.create_session()"
)


@dataclass
class ExportRun:
    """One completed run: what ran (``command``), its summary and its decoded result."""

    run_id: str
    kind: str
    command: str
    summary: dict[str, Any]
    result: Any

    def code(self) -> str:
        """The cell that reproduces it and ends with what shows its stats."""
        call = python_call(self.command, "client", self.summary) or f"# {self.command}"
        name = run_variable(self.run_id)
        last = {"backtest": name, "comparison": f"{name}.stats", "sweep": f"{name}.head(10)"}
        return f"{name} = {call}\n{last[self.kind]}"

    def shown(self) -> Any:
        """What the cell's last line shows."""
        if self.kind == "comparison":
            return self.result.stats
        if self.kind == "sweep":
            return self.result.head(10)
        return self.result


def session_runs(client: Any) -> list[ExportRun]:
    """The session's completed runs with a stored result, oldest first."""
    runs = client.runs
    if not len(runs):
        return []
    runs = runs[(runs["status"] == "completed") & runs["kind"].isin(RESULT_KINDS)]
    out = []
    for row in runs.sort_values("created", kind="stable").to_dict("records"):
        run_id = str(row["run_id"])
        summary = client.results.summary(run_id) or client.results.meta(run_id).get("summary", {})
        out.append(
            ExportRun(
                run_id,
                str(row["kind"]),
                str(row.get("command") or ""),
                dict(summary or {}),
                client.results[run_id],
            )
        )
    return out


def _stamp() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _notebook(runs: list[ExportRun], session_id: str) -> str:
    import nbformat

    v4 = nbformat.v4
    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    cells = [
        v4.new_markdown_cell(
            f"# ChatOps session `{session_id}`\n\nExported {_stamp()}: {len(runs)} run(s). Each "
            "code cell reproduces one run with the Python API; its output is what the run "
            "showed (run the cells to compute them again)."
        ),
        v4.new_code_cell(_OPEN),
    ]
    for i, run in enumerate(runs, start=1):
        notes = "".join(f"\n\n**Warning:** {w}" for w in run.summary.get("warnings") or [])
        cells.append(v4.new_markdown_cell(f"## {run.run_id}: {run.kind}\n\n`{run.command}`{notes}"))
        shown = run.shown()
        data = {"text/plain": repr(shown)}
        rich = getattr(shown, "_repr_html_", None)
        if callable(rich):
            data["text/html"] = rich()
        output = v4.new_output("execute_result", data=data, execution_count=i)
        cells.append(v4.new_code_cell(run.code(), execution_count=i, outputs=[output]))
    nb.cells = cells
    nbformat.validate(nb)
    return str(nbformat.writes(nb))


_CSS = """body{font-family:sans-serif;max-width:960px;margin:24px auto;color:#222;padding:0 12px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:2px 8px;
text-align:right;white-space:nowrap}th{background:#f5f5f5}pre{background:#f5f5f5;padding:8px;
overflow-x:auto}.warn{background:#fff3e0;border-left:4px solid #ed6c02;padding:6px 10px}
section{border-top:1px solid #ccc;margin-top:24px}"""


def _stats_table(stats: pd.Series) -> str:
    rows = []
    for name, value in stats.items():
        try:
            s = engine.stat_info(str(name))
            label, unit = s.label, " (cash units)" if s.unit == "currency" else ""
        except KeyError:
            label, unit = str(name), ""
        text = engine.format_stat(str(name), value) + unit
        rows.append(
            f"<tr><th>{html.escape(label)}</th><td>{html.escape(text)}</td>"
            f"<td style='text-align:left'><code>{html.escape(str(name))}</code></td></tr>"
        )
    return "<table>" + "".join(rows) + "</table>"


def _frame_table(df: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = []
    for idx, row in df.iterrows():
        cells = "".join(
            f"<td>{html.escape(engine.format_stat(str(c), v))}</td>" for c, v in row.items()
        )
        body.append(f"<tr><th>{html.escape(str(idx))}</th>{cells}</tr>")
    return f"<table><tr><th></th>{head}</tr>{''.join(body)}</table>"


def _section(run: ExportRun) -> str:
    parts = [
        f"<section><h2>{html.escape(run.run_id)}: {run.kind}</h2>",
        f"<p><code>{html.escape(run.command)}</code></p>",
        f"<pre>{html.escape(run.code())}</pre>",
    ]
    parts += [f"<p class='warn'>{html.escape(w)}</p>" for w in run.summary.get("warnings") or []]
    r = run.result
    if run.kind == "backtest":
        eq = r.equity
        lines = [("strategy", eq["equity"], "#1976d2", False)]
        if "benchmark" in eq.columns:
            lines.append(("buy & hold", eq["benchmark"], "#757575", True))
        parts.append(_svg.line_chart(eq.index, lines, title="equity"))
        if "drawdown" in eq.columns:
            dd = [("drawdown", eq["drawdown"], "#c62828", False)]
            parts.append(_svg.line_chart(eq.index, dd, height=140, percent=True, title="drawdown"))
        parts.append(_stats_table(r.stats))
    elif run.kind == "comparison":
        palette = ["#1976d2", "#e65100", "#2e7d32", "#8e24aa", "#c62828", "#00838f"]
        lines = [(str(c), r.equity[c], palette[i % 6], False) for i, c in enumerate(r.equity)]
        lines += [(f"buy & hold {c}", r.benchmark[c], "#757575", True) for c in r.benchmark]
        parts.append(_svg.line_chart(r.equity.index, lines, title="equity"))
        if len(r.info):
            facts = r.info.drop(columns=["cash", "benchmark"], errors="ignore")
            parts.append(_frame_table(facts.astype(object).T))
        parts.append(_frame_table(r.stats))
    else:
        params = list(run.summary.get("params") or [])
        if len(params) >= 2:
            cells = sweep_cells(r, params, "sharpe")
            parts.append(_svg.heatmap(cells, params[0], params[1], "sharpe"))
        parts.append(_frame_table(r.head(10)))
    parts.append("</section>")
    return "".join(parts)


def _html(runs: list[ExportRun], session_id: str) -> str:
    title = f"ChatOps session {session_id}"
    body = "".join(_section(r) for r in runs) or "<p>No completed runs in this session yet.</p>"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"
        f"<p>Exported {_stamp()}: {len(runs)} run(s). Each section shows the command, the "
        f"Python call that reproduces it, the charts and the stats.</p>{body}</body></html>"
    )


def render(runs: list[ExportRun], session_id: str, path: str | Path) -> tuple[str, str]:
    """``(text, mime)`` of the export whose format the extension of ``path`` names."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(
            f"cannot export to {str(path)!r}: name a .ipynb (a notebook that reruns every run) "
            "or .html file (a standalone report with the charts), e.g. session.ipynb"
        )
    kind, mime = FORMATS[suffix]
    text = _notebook(runs, session_id) if kind == "notebook" else _html(runs, session_id)
    return text, mime
