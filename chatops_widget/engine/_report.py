"""How the engine's results print: a head line and ``label  value`` rows, as text (``repr``) and
as an HTML table (Jupyter's ``_repr_html_``). One layout for every result class.

Example:
    >>> print(text_report("Result x", [("sharpe", "0.812"), ("num_trades", "12")]))
    Result x
      sharpe      0.812
      num_trades  12
    >>> html_report("Result <x>", [("a", "1")], "see .equity")[:35]
    '<div><b>Result &lt;x&gt;</b><table>'

"""

from __future__ import annotations

import html
from collections.abc import Sequence

__all__ = ["html_report", "text_report"]


def text_report(head: str, rows: Sequence[tuple[str, str]]) -> str:
    """``head``, then one aligned ``label  value`` line per row."""
    width = max((len(k) for k, _ in rows), default=0)
    return "\n".join([head, *(f"  {k:<{width}}  {v}" for k, v in rows)])


def html_report(head: str, rows: Sequence[tuple[str, str]], footer: str = "") -> str:
    """``head`` in bold over a two-column table of ``rows`` and a small ``footer`` (all escaped)."""
    cells = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
        f"<td style='text-align:right'>{html.escape(v)}</td></tr>"
        for k, v in rows
    )
    small = f"<small>{html.escape(footer)}</small>" if footer else ""
    return f"<div><b>{html.escape(head)}</b><table>{cells}</table>{small}</div>"
