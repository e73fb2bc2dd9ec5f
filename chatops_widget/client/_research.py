"""Research runs from the kernel: walk-forward, strategies across a universe, portfolios.

:class:`ResearchMixin` gives :class:`~chatops_widget.client.ChatOpsClient` ``walk_forward``,
``compare_universe`` and ``backtest_portfolio``; ``trigger_backtest(..., symbols=[...])`` and
``compare_strategies(..., symbols=[...])`` become a portfolio and a universe comparison
(:func:`start_fields`). Results decode (:mod:`._research_decode`) into the engine's own classes:
:class:`~chatops_widget.engine.WalkForwardResult` (``.windows``, ``.equity``, ``.trades``,
``.stats``), :class:`~chatops_widget.engine.UniverseResult` (``.table``, ``.pivot("sharpe")``,
``.summary()``) and :class:`~chatops_widget.engine.PortfolioResult` (``.equity``,
``.sleeves``, ``.contributions``, ``.positions``, ``.trades``, ``.rebalances``, ``.stats``).

Example:
    >>> start_fields("backtest", ["strategy_1"], {"symbols": ["ALPHA", "BRAVO"],
    ...              "weights": [0.6, 0.4], "rebalance": "monthly"})
    {'kind': 'portfolio', 'targets': ['strategy_1'], 'symbols': ['ALPHA', 'BRAVO'], 'weights': [0.6, 0.4], 'rebalance': 'monthly'}
    >>> start_fields("walkforward", ["sma_cross"], {"symbol": "ALPHA", "train": "2y",
    ...              "test": "6m", "min_trades": 3, "fast": range(5, 20, 5)})["grid"]
    {'fast': [5, 10, 15]}
"""  # noqa: E501

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .._lazy import lazy_module
from ..protocol import RESEARCH_KINDS
from ._handles import Run
from ._requests import run_fields
from ._tracker import RunTracker

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = ["ResearchMixin", "start_fields"]

#: Keyword arguments that are research fields (wire names on the right).
_FIELDS = {
    "symbols": "symbols",
    "weights": "weights",
    "rebalance": "rebalance",
    "train": "train",
    "test": "test",
    "anchored": "anchored",
    "metric": "metric",
    "min_trades": "minTrades",
}


def _symbols(value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, Iterable):
        raise TypeError(f"symbols must be a list of symbols (or '*'), got {value!r}")
    return [str(s).strip().upper() for s in value if str(s).strip()]


def _weights(value: Any, symbols: list[str] | None) -> Any:
    if isinstance(value, str):
        return value.strip().lower()
    if isinstance(value, Mapping):
        by = {str(k).upper(): v for k, v in value.items()}
        if symbols is None or set(by) != set(symbols):
            raise ValueError(
                f"weights name {sorted(by)}, the symbols are {symbols}; name each once"
            )
        value = [by[s] for s in symbols]
    if isinstance(value, pd.Series):
        value = value.tolist()
    return [float(w) for w in value]


def start_fields(kind: str, targets: list[str], options: Mapping[str, Any]) -> dict[str, Any]:
    """The ``startRun`` fields of a run: a ``backtest`` with ``symbols`` is a ``portfolio``, a
    ``comparison`` with ``symbols`` a ``universe``; research options are taken out first."""
    opts = {k: v for k, v in options.items() if v is not None}
    if "symbols" in opts and kind in ("backtest", "comparison"):
        kind = "portfolio" if kind == "backtest" else "universe"
    if kind not in RESEARCH_KINDS:
        return run_fields(kind, targets, opts)
    extra: dict[str, Any] = {}
    if "symbols" in opts:
        extra["symbols"] = _symbols(opts.pop("symbols"))
    if "weights" in opts:
        extra["weights"] = _weights(opts.pop("weights"), extra.get("symbols"))
    for key in ("rebalance", "train", "test", "anchored", "metric", "min_trades"):
        if key in opts:
            value = opts.pop(key)
            extra[_FIELDS[key]] = value if isinstance(value, (bool, int)) else str(value)
    fields = run_fields("sweep" if kind == "walkforward" else kind, targets, opts)
    return {**fields, "kind": kind, **extra}


class ResearchMixin:
    """The research methods of :class:`~chatops_widget.client.ChatOpsClient`."""

    _runs: RunTracker

    def _start(self, kind: str, targets: list[str], options: dict[str, Any]) -> Run:
        raise NotImplementedError  # ChatOpsClient's

    def _wait(self, run: Run, timeout: float | None, block: bool) -> Any:
        return run.result(timeout) if block else run

    def walk_forward(
        self,
        strategy: str,
        symbol: str | None = None,
        *,
        train: int | str,
        test: int | str,
        anchored: bool = False,
        metric: str | None = None,
        min_trades: int | None = None,
        timeout: float | None = 600.0,
        block: bool = True,
        **ranges: Any,
    ) -> Any:
        """Walk-forward optimization of ``strategy`` (a stored id or template) on ``symbol``
        over the parameter ``ranges`` (``fast=range(5, 50, 5)``, lists, single values):
        ``train``/``test`` are bar counts or durations (``"2y"``, ``"6m"``, ``"90d"``).

        Returns a :class:`~chatops_widget.engine.WalkForwardResult` (``block=False``: the
        :class:`Run`). A cancelled run raises :class:`RunFailed` whose ``.partial`` holds the
        windows finished before the cancel.

        >>> wf = client.walk_forward("sma_cross", "ALPHA", train="2y", test="6m",  # doctest: +SKIP
        ...                          fast=range(5, 50, 5), slow=range(20, 200, 20))
        >>> wf.windows[["test_start", "fast", "slow", "oos_sharpe"]]          # doctest: +SKIP
        """
        options = {"symbol": symbol, "train": train, "test": test, "anchored": anchored or None,
                   "metric": metric, "min_trades": min_trades, **ranges}  # fmt: skip
        return self._wait(self._start("walkforward", [strategy], options), timeout, block)

    def compare_universe(
        self,
        *strategies: str,
        symbols: Iterable[str] | str = "*",
        timeout: float | None = 600.0,
        block: bool = True,
        **options: Any,
    ) -> Any:
        """Every strategy (stored ids or templates) on every symbol (``"*"``: all of them) as
        one run; a :class:`~chatops_widget.engine.UniverseResult`: ``.table`` (one row per
        strategy and symbol, every stat), ``.pivot("sharpe")``, ``.summary("sharpe")``.

        >>> u = client.compare_universe("strategy_1", "strategy_2", symbols="*")  # doctest: +SKIP
        >>> u.pivot("sharpe")                                                    # doctest: +SKIP
        """
        run = self._start("comparison", list(strategies), {**options, "symbols": symbols})
        return self._wait(run, timeout, block)

    def backtest_portfolio(
        self,
        strategy: str,
        symbols: Iterable[str] | str,
        *,
        weights: Any = None,
        rebalance: str | None = None,
        timeout: float | None = 300.0,
        block: bool = True,
        **overrides: Any,
    ) -> Any:
        """One strategy on several symbols from one pool of cash (``weights``: ``"equal"``, a
        list or a dict; ``rebalance``: none, monthly, weekly); a
        :class:`~chatops_widget.engine.PortfolioResult`. The same as
        ``trigger_backtest(strategy, symbols=[...], ...).result()``.

        >>> p = client.backtest_portfolio("strategy_1", ["ALPHA", "BRAVO"])  # doctest: +SKIP
        >>> p.contributions.iloc[-1]                                         # doctest: +SKIP
        """
        options = {**overrides, "symbols": symbols, "weights": weights, "rebalance": rebalance}
        return self._wait(self._start("backtest", [strategy], options), timeout, block)
