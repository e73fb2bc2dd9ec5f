"""``PortfolioResult`` and the portfolio's settings: weights and the rebalancing schedule.

Example:
    >>> portfolio_weights("equal", ["A", "B", "C"]).round(4).tolist()
    [0.3333, 0.3333, 0.3333]
    >>> portfolio_weights([0.5, 0.3, 0.2], ["A", "B", "C"]).tolist()
    [0.5, 0.3, 0.2]
    >>> portfolio_weights("0.5,0.3,0.1", ["A", "B", "C"])
    Traceback (most recent call last):
    ...
    chatops_widget.engine._errors.EngineError: weights sum to 0.9; they must sum to 1 (e.g. 0.5,0.3,0.2 for 3 symbols, or 'equal')
"""  # noqa: E501

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._errors import EngineError
from ._metrics import format_stat
from ._report import html_report, text_report
from ._types import FloatArray

__all__ = ["REBALANCE", "PortfolioResult", "portfolio_weights", "rebalance_points"]

#: Rebalancing schedules: none (each symbol keeps its share and its gains), or back to the
#: target weights at the last close of every month / week.
REBALANCE = ("none", "monthly", "weekly")


def portfolio_weights(weights: Any, symbols: Sequence[str]) -> FloatArray:
    """The target weights of ``symbols``: ``"equal"``, a list (or ``"0.5,0.3,0.2"``) in the
    order of the symbols, or a mapping ``symbol -> weight``; each > 0, summing to 1."""
    n = len(symbols)
    example = ",".join(["0.5", "0.3", "0.2"][:n]) if n == 3 else "equal"
    if weights is None or (isinstance(weights, str) and weights.strip().lower() == "equal"):
        return np.full(n, 1.0 / n)
    if isinstance(weights, str):
        weights = [w for w in weights.split(",") if w.strip()]
    if isinstance(weights, Mapping):
        upper = {str(k).upper(): v for k, v in weights.items()}
        missing = [s for s in symbols if s.upper() not in upper]
        extra = sorted(set(upper) - {s.upper() for s in symbols})
        if missing or extra:
            raise EngineError(
                f"weights must name every symbol once: missing {', '.join(missing) or 'none'}, "
                f"not in the portfolio {', '.join(extra) or 'none'}"
            )
        weights = [upper[s.upper()] for s in symbols]
    try:
        w = np.array([float(x) for x in weights], dtype=np.float64)
    except (TypeError, ValueError):
        raise EngineError(
            f"weights must be 'equal' or numbers, one per symbol (e.g. {example}); got {weights!r}"
        ) from None
    if len(w) != n:
        raise EngineError(
            f"{len(w)} weights for {n} symbols ({', '.join(symbols)}); give one per symbol, "
            f"in the same order, or 'equal'"
        )
    if not np.isfinite(w).all() or (w <= 0).any():
        raise EngineError(
            f"weights must be positive numbers, got {', '.join(f'{x:g}' for x in w)} (leave a "
            "symbol out instead of giving it 0)"
        )
    if abs(w.sum() - 1.0) > 1e-6:
        raise EngineError(
            f"weights sum to {w.sum():g}; they must sum to 1 (e.g. 0.5,0.3,0.2 for 3 symbols, "
            "or 'equal')"
        )
    out: FloatArray = w / w.sum()
    return out


def rebalance_points(index: pd.DatetimeIndex, rebalance: str) -> np.ndarray[Any, Any]:
    """Positions of the last bar of every month (``monthly``) or week (``weekly``) of
    ``index``, the very last bar excluded (nothing is traded after it).

    >>> idx = pd.bdate_range("2020-01-27", "2020-03-03")
    >>> [str(idx[i].date()) for i in rebalance_points(idx, "monthly")]
    ['2020-01-31', '2020-02-28']
    """
    key = str(rebalance).strip().lower()
    if key not in REBALANCE:
        raise EngineError(f"rebalance must be one of {', '.join(REBALANCE)}, got {rebalance!r}")
    if key == "none" or len(index) < 2:
        return np.zeros(0, dtype=np.int64)
    periods = index.to_period("M" if key == "monthly" else "W").asi8
    last: np.ndarray[Any, Any] = np.flatnonzero(periods[1:] != periods[:-1])
    return last.astype(np.int64)


@dataclass
class PortfolioResult:
    """Result of :func:`~chatops_widget.engine.backtest_portfolio`.

    Attributes:
        equity: on the union of the symbols' dates: ``equity``, ``returns``, ``drawdown``,
            ``exposure`` (gross position value over equity) and ``buy_hold`` (the symbols
            bought at the target weights, with the same rebalancing, no costs).
        sleeves: each symbol's share of the equity (its value; the columns sum to ``equity``).
        contributions: each symbol's cumulative pnl, net of its costs (rebalancing transfers
            excluded; the columns sum to ``equity - cash``).
        positions: the direction each symbol holds during each bar (0 where it has no bars).
        trades: every round trip with its ``symbol``.
        rebalances: one row per symbol per rebalance: value before and after, traded notional
            and cost (empty without rebalancing).
        stats: float Series of every stat (:data:`STATS`) of the whole portfolio.
        weights: the target weights; info: strategy, params, symbols, settings.
    """

    equity: pd.DataFrame = field(repr=False)
    sleeves: pd.DataFrame = field(repr=False)
    contributions: pd.DataFrame = field(repr=False)
    positions: pd.DataFrame = field(repr=False)
    trades: pd.DataFrame = field(repr=False)
    rebalances: pd.DataFrame = field(repr=False)
    stats: pd.Series = field(repr=False)
    weights: pd.Series = field(repr=False)
    info: pd.Series = field(repr=False)

    @property
    def symbols(self) -> list[str]:
        """The portfolio's symbols."""
        return [str(s) for s in self.weights.index]

    @property
    def strategy(self) -> str:
        """The strategy's name."""
        return str(self.info.get("strategy", ""))

    def _lines(self) -> list[tuple[str, str]]:
        keys = ("total_return", "cagr", "sharpe", "max_drawdown", "num_trades", "exposure",
                "buy_hold_return", "commissions_paid")  # fmt: skip
        out = [(k, format_stat(k, self.stats[k])) for k in keys]
        final = self.contributions.iloc[-1] if len(self.contributions) else pd.Series(dtype=float)
        out += [(f"pnl {s}", f"{v:,.2f}") for s, v in final.items() if math.isfinite(v)]
        return out

    def __repr__(self) -> str:
        head = (
            f"PortfolioResult {self.strategy} on {', '.join(self.symbols)} "
            f"(rebalance={self.info.get('rebalance')})"
        )
        return text_report(head, self._lines())

    def _repr_html_(self) -> str:
        head = self.__repr__().splitlines()[0]
        footer = "see .equity, .sleeves, .contributions, .positions, .trades, .rebalances"
        return html_report(head, self._lines(), footer)
