"""``compare_universe``: every strategy on every symbol, one long table of stats.

A strategy that looks good on one symbol may be luck; run it (and its rivals) on many.
:func:`compare_universe` backtests each strategy on each symbol (strategies of the same
template run as one vectorized batch per symbol) and returns a :class:`UniverseResult`:
``.table`` has one row per (strategy, symbol) with every stat, ``.pivot("sharpe")`` is the
strategy x symbol matrix of one stat and ``.summary("sharpe")`` the mean, median and mean rank
of each strategy across symbols. A pair whose strategy needs more bars than the symbol has is
kept as a row with NaN stats and a ``note`` saying why.

Example:
    >>> from chatops_widget.engine import compare_universe, sample_catalog
    >>> u = compare_universe(sample_catalog(), ["sma_cross", ("ema_cross", {"fast": 5}),
    ...                      "buy_and_hold"], symbols=["ALPHA", "BRAVO", "CHARLIE"])
    >>> u.table[["strategy", "symbol"]].head(4).values.tolist()
    [['sma_cross', 'ALPHA'], ['ema_cross(fast=5)', 'ALPHA'], ['buy_and_hold', 'ALPHA'], ['sma_cross', 'BRAVO']]
    >>> u.pivot("sharpe").shape, u.summary("sharpe").columns.tolist()[:3]
    ((3, 3), ['mean', 'median', 'mean_rank'])
"""  # noqa: E501

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ._backtest import DEFAULT_CASH, run_sim, validate_costs
from ._catalog import DataCatalog
from ._errors import EngineError, SweepCancelled
from ._metrics import STAT_NAMES, stat_info
from ._orders import Orders
from ._registry import get_template
from ._sim import Bars
from ._stats import column_stats
from ._sweep import Cancel, _is_cancelled
from ._symbols import symbol_frames
from ._templates import Combo, StrategyBase

__all__ = ["StrategySpec", "UniverseResult", "compare_universe", "strategy_specs"]

#: The most strategies one comparison takes.
MAX_STRATEGIES = 50
StrategyLike = str | StrategyBase | tuple[Any, Mapping[str, Any]]


@dataclass(frozen=True)
class StrategySpec:
    """One strategy of a comparison: its ``label`` (a row name), the strategy and params."""

    label: str
    strategy: StrategyBase
    params: dict[str, Any]


def _label(tpl: StrategyBase, params: Mapping[str, Any]) -> str:
    given = ", ".join(f"{k}={v}" for k, v in params.items())
    return f"{tpl.name}({given})" if given else tpl.name


def strategy_specs(
    strategies: Mapping[str, StrategyLike] | Sequence[StrategyLike],
) -> list[StrategySpec]:
    """Normalize a comparison's strategies: a list of names, strategies or
    ``(strategy, params)`` pairs (labelled ``name(params)``), or a mapping ``label -> one of
    those``; bad params and duplicate labels fail here."""
    if isinstance(strategies, (str, StrategyBase)):
        strategies = [strategies]
    items: list[tuple[str | None, Any]]
    if isinstance(strategies, Mapping):
        items = [(str(k), v) for k, v in strategies.items()]
    else:
        items = [(None, v) for v in strategies]
    if not items:
        raise EngineError("give one or more strategies, e.g. ['sma_cross', 'ema_cross']")
    if len(items) > MAX_STRATEGIES:
        raise EngineError(f"{len(items)} strategies given; the limit is {MAX_STRATEGIES}")
    out: list[StrategySpec] = []
    for label, item in items:
        params: Mapping[str, Any] = {}
        if isinstance(item, tuple):
            if len(item) != 2 or not isinstance(item[1], Mapping):
                raise EngineError(f"a strategy is a name or (strategy, params), got {item!r}")
            item, params = item
        tpl = get_template(item)
        tpl.coerce(dict(params))  # unknown names, types and ranges fail now
        out.append(StrategySpec(label or _label(tpl, params), tpl, dict(params)))
    labels = [s.label for s in out]
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    if dupes:
        raise EngineError(f"{', '.join(dupes)} given more than once; label each strategy once")
    return out


@dataclass
class UniverseResult:
    """Result of :func:`compare_universe`: the long ``table`` (strategy, symbol, params,
    start, end, bars, note, every stat), with :meth:`pivot` and :meth:`summary`."""

    table: pd.DataFrame
    info: pd.Series = field(repr=False, default_factory=lambda: pd.Series(dtype=object))

    @property
    def strategies(self) -> list[str]:
        """Strategy labels, in the order given."""
        return list(dict.fromkeys(self.table["strategy"]))

    @property
    def symbols(self) -> list[str]:
        """Symbols, in the order given."""
        return list(dict.fromkeys(self.table["symbol"]))

    def pivot(self, metric: str = "sharpe") -> pd.DataFrame:
        """``metric`` as a strategies x symbols DataFrame (rows and columns in the order given).

        >>> UniverseResult(pd.DataFrame({"strategy": ["a", "b"], "symbol": ["X", "X"],
        ...                              "sharpe": [1.0, 2.0]})).pivot()["X"].tolist()
        [1.0, 2.0]
        """
        if metric not in self.table.columns:
            stat_info(metric)  # a KeyError with a suggestion for a typo
            raise KeyError(f"{metric!r} is not a column of this comparison")
        out = self.table.pivot(index="strategy", columns="symbol", values=metric)
        return out.reindex(index=self.strategies, columns=self.symbols)

    def ranks(self, metric: str = "sharpe") -> pd.DataFrame:
        """Each strategy's rank per symbol by ``metric`` (1 = best; ties share the mean rank;
        NaN where the stat is undefined)."""
        higher = stat_info(metric).higher_is_better is not False
        return self.pivot(metric).rank(axis=0, ascending=not higher, method="average")

    def summary(self, metric: str = "sharpe") -> pd.DataFrame:
        """Per strategy: ``mean``, ``median``, ``mean_rank`` (over symbols), ``wins`` (symbols
        where it ranks first), ``best``, ``worst``, ``std`` and ``symbols`` (with a value),
        sorted by mean rank."""
        values = self.pivot(metric)
        ranks = self.ranks(metric)
        higher = stat_info(metric).higher_is_better is not False
        out = pd.DataFrame(
            {
                "mean": values.mean(axis=1),
                "median": values.median(axis=1),
                "mean_rank": ranks.mean(axis=1),
                "wins": (ranks <= 1.0).sum(axis=1).astype("int64"),
                "best": values.max(axis=1) if higher else values.min(axis=1),
                "worst": values.min(axis=1) if higher else values.max(axis=1),
                "std": values.std(axis=1),
                "symbols": values.notna().sum(axis=1).astype("int64"),
            }
        )
        out.index.name = "strategy"
        out.attrs["metric"] = metric
        return out.sort_values("mean_rank", kind="stable")

    def __repr__(self) -> str:
        return (
            f"UniverseResult: {len(self.strategies)} strategies x {len(self.symbols)} symbols\n"
            f"{self.summary('sharpe')!r}"
        )

    def _repr_html_(self) -> str:
        head = html.escape(self.__repr__().splitlines()[0])
        return f"<b>{head}</b> (sharpe)" + self.summary("sharpe").to_html()


def _params_text(params: Combo) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


def universe_rows(
    frame: pd.DataFrame,
    symbol: str,
    specs: list[StrategySpec],
    cash: float,
    commission: float,
    spread: float,
    orders: Orders,
) -> list[dict[str, Any]]:
    """The rows of every strategy of ``specs`` on one symbol's validated ``frame``
    (strategies of one template batched into one vectorized run)."""
    bars = Bars.from_frame(frame)
    rows: dict[str, dict[str, Any]] = {}
    groups: dict[int, list[tuple[StrategySpec, Combo]]] = {}
    for s in specs:
        base = {"strategy": s.label, "symbol": symbol, "start": bars.index[0],
                "end": bars.index[-1], "bars": bars.n}  # fmt: skip
        p = s.strategy.coerce(s.params)
        bad = s.strategy.problem(p, bars.n)
        if bad is None and orders.trailing_atr is not None and orders.trailing_atr[0] >= bars.n:
            bad = (None, f"trailing_atr needs more than {orders.trailing_atr[0]} bars")
        rows[s.label] = {**base, "params": _params_text(p), "note": bad[1] if bad else ""}
        if bad is None:
            groups.setdefault(id(s.strategy), []).append((s, p))
    for group in groups.values():
        tpl = group[0][0].strategy
        sim = run_sim(tpl, bars, [p for _, p in group], cash, commission, spread, orders)
        st = column_stats(bars, sim, cash)
        for j, (s, _) in enumerate(group):
            rows[s.label].update({name: float(st[name][j]) for name in STAT_NAMES})
    return [rows[s.label] for s in specs]


def universe_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The long table of :class:`UniverseResult` from rows of :func:`universe_rows`."""
    cols = ["strategy", "symbol", "params", "start", "end", "bars", "note", *STAT_NAMES]
    df = pd.DataFrame(rows).reindex(columns=cols)
    df[list(STAT_NAMES)] = df[list(STAT_NAMES)].astype("float64")
    df["bars"] = df["bars"].astype("int64")
    return df


def compare_universe(
    data: Mapping[str, pd.DataFrame] | DataCatalog,
    strategies: Mapping[str, StrategyLike] | Sequence[StrategyLike],
    *,
    symbols: Iterable[str] | None = None,
    start: Any = None,
    end: Any = None,
    cash: float = DEFAULT_CASH,
    commission: float = 0.0,
    spread: float = 0.0,
    progress: Callable[[int, int], Any] | None = None,
    cancel: Cancel | None = None,
    **orders: Any,
) -> UniverseResult:
    """Backtest every strategy on every symbol (see the module docstring).

    Args:
        data: ``symbol -> OHLCV`` or a :class:`DataCatalog`; ``symbols`` picks from it
            (default all; at most :data:`~._symbols.MAX_SYMBOLS`), ``start``/``end`` trim it.
        strategies: names, strategies, ``(strategy, params)`` pairs, or ``label -> those``.
        cash, commission, spread, **orders: as for :func:`backtest`, for every run.
        progress: ``progress(done, total)`` after each symbol, in (strategy, symbol) pairs.
        cancel: checked after each symbol; if set, :class:`SweepCancelled` is raised with
            ``.partial``: the finished rows.

    Raises:
        EngineError: unknown or duplicate symbols or strategies, bad params, costs or orders
            -- before any backtest runs.
    """
    cash, commission, spread = validate_costs(cash, commission, spread)
    unknown = sorted(set(orders) - set(Orders.__dataclass_fields__))
    if unknown:
        raise EngineError(f"compare_universe() got unknown argument(s) {', '.join(unknown)}")
    order = Orders.from_kwargs(**orders)
    specs = strategy_specs(strategies)
    frames = symbol_frames(data, symbols, start=start, end=end)
    total = len(frames) * len(specs)
    rows: list[dict[str, Any]] = []
    for i, (sym, frame) in enumerate(frames.items()):
        rows += universe_rows(frame, sym, specs, cash, commission, spread, order)
        if progress is not None:
            progress((i + 1) * len(specs), total)
        if i + 1 < len(frames) and _is_cancelled(cancel):
            raise SweepCancelled(
                f"comparison cancelled after {i + 1} of {len(frames)} symbols",
                partial=universe_frame(rows), done=len(rows), total=total,
            )  # fmt: skip
    info = {"strategies": [s.label for s in specs], "symbols": list(frames), "cash": cash,
            "commission": commission, "spread": spread, **order.as_dict()}  # fmt: skip
    return UniverseResult(universe_frame(rows), pd.Series(info, dtype=object, name="info"))
