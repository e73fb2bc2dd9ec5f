"""``walk_forward``: optimize on a training window, trade the choice on the following test window
only, roll forward, and stitch the test windows into one out-of-sample equity curve.

For each window (:mod:`._windows`) the grid is swept on the training bars alone (the vectorized
:func:`~chatops_widget.engine.sweep`); the best combination by ``metric`` among those with at
least ``min_trades`` trades is traded on the test bars (:mod:`._stitch`). A window where no
combination qualifies stays in cash (its row says why). The choice never sees a test bar: the
sweep is given the training slice of the data and nothing else.

Result (:class:`WalkForwardResult`): ``.windows`` (one row per window: dates, bars, the chosen
parameters, in-sample and out-of-sample metric, return, CAGR and trades), ``.equity`` (the
stitched out-of-sample curve with buy & hold of the same bars beside it), ``.trades`` and
``.stats`` -- every stat of the stitched curve plus ``wfe`` (walk-forward efficiency: the
out-of-sample CAGR over the mean in-sample CAGR of the chosen combinations), ``is_cagr``,
``windows``, ``flat_windows``, ``param_changes`` (windows whose choice differs from the
previous window's) and ``param_change_rate`` (that over ``windows - 1``).

Example:
    >>> from chatops_widget.engine import catalog, walk_forward
    >>> wf = walk_forward(catalog.get("ALPHA"), "sma_cross",
    ...                   {"fast": [5, 10, 20], "slow": [50, 100]}, train="2y", test="6m")
    >>> len(wf.windows), wf.windows.columns[:4].tolist()
    (16, ['window', 'train_start', 'train_end', 'test_start'])
    >>> wf.equity.columns.tolist()
    ['equity', 'returns', 'drawdown', 'position', 'buy_hold', 'window']
    >>> sorted(k for k in wf.stats.index if k in ("wfe", "param_changes", "windows"))
    ['param_changes', 'wfe', 'windows']
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._backtest import DEFAULT_CASH, validate_costs
from ._data import validate_ohlcv
from ._errors import EngineError, ParamError, SweepCancelled, WalkForwardCancelled
from ._grid import Grid, expand_grid
from ._metrics import format_stat, stat_info
from ._orders import Orders
from ._registry import get_template
from ._report import html_report, text_report
from ._stitch import WindowRun, run_window, stitch_runs
from ._sweep import Cancel, _is_cancelled, sweep
from ._templates import Combo, StrategyBase
from ._windows import Window, make_windows

__all__ = ["Choice", "WalkForwardResult", "choose", "walk_forward", "window_plan"]

#: The stats added to the stitched curve's, in this order.
EXTRA_STATS = ("windows", "flat_windows", "wfe", "is_cagr", "param_changes", "param_change_rate")
DEFAULT_MIN_TRADES = 5


def check_metric(metric: str) -> bool:
    """Whether higher values of ``metric`` are better (:class:`EngineError` for a name that is
    not a stat, or a stat with no better direction such as ``num_trades``)."""
    try:
        s = stat_info(str(metric))
    except KeyError as exc:
        raise EngineError(str(exc.args[0])) from None
    if s.higher_is_better is None or not s.in_sweep or s.name != metric:
        raise EngineError(
            f"metric={metric!r} cannot rank combinations (neither higher nor lower is better); "
            "use e.g. sharpe, sortino, total_return, cagr, calmar or max_drawdown"
        )
    return s.higher_is_better


def check_min_trades(min_trades: Any) -> int:
    """``min_trades`` as an int >= 0."""
    if isinstance(min_trades, bool) or not isinstance(min_trades, (int, np.integer)):
        try:
            min_trades = float(min_trades)
        except (TypeError, ValueError):
            min_trades = -1.0
        if not float(min_trades).is_integer():
            min_trades = -1
    if int(min_trades) < 0:
        raise EngineError(f"min_trades is a whole number of trades >= 0, got {min_trades!r}")
    return int(min_trades)


@dataclass(frozen=True)
class Choice:
    """What one window's training sweep chose: ``params`` (``None``: nothing qualified, the
    window stays in cash, ``note`` says why), the chosen row's in-sample ``stats``, how many
    combinations were swept and how many had enough trades (``candidates``)."""

    params: Combo | None
    stats: dict[str, float] = field(default_factory=dict)
    combinations: int = 0
    candidates: int = 0
    note: str = ""


def choose(table: pd.DataFrame, param_names: list[str], metric: str, min_trades: int) -> Choice:
    """The best row of a sweep ``table`` by ``metric`` among rows with ``>= min_trades``
    trades (ties: the first in grid order); NaN metrics never win.

    >>> t = pd.DataFrame({"fast": [5, 10], "sharpe": [2.0, 1.0], "num_trades": [1, 9]})
    >>> choose(t, ["fast"], "sharpe", 5).params
    {'fast': 10}
    """
    higher = check_metric(metric)
    values = table[metric].to_numpy(dtype=np.float64)
    ok = table["num_trades"].to_numpy(dtype=np.float64) >= min_trades
    valid = ok & ~np.isnan(values)
    if not valid.any():
        why = f"no combination with >= {min_trades} trades" if not ok.any() else (
            f"{metric} is undefined for every combination with >= {min_trades} trades"
        )  # fmt: skip
        return Choice(None, {}, len(table), int(ok.sum()), f"in cash: {why}")
    worst = -np.inf if higher else np.inf
    ranked = np.where(valid, values, worst)
    i = int(np.argmax(ranked) if higher else np.argmin(ranked))  # the first of ties
    params = {p: _plain(table[p].iloc[i]) for p in param_names}
    stats = {str(c): float(table[c].iloc[i]) for c in table.columns if c not in param_names}
    return Choice(params, stats, len(table), int(ok.sum()), "")


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def window_plan(
    tpl: StrategyBase,
    grid: Grid,
    index: pd.DatetimeIndex,
    train: Any,
    test: Any,
    anchored: bool = False,
) -> tuple[list[Window], list[list[Combo]]]:
    """The windows and each window's valid combinations, checked before any work: the windows
    must fit the data and every training period must fit at least one combination."""
    windows = make_windows(index, train, test, anchored)
    combos: list[list[Combo]] = []
    for w in windows:
        valid, skipped = expand_grid(tpl, grid, w.train_bars)
        if not valid:
            raise ParamError(
                f"{tpl.name}: no combination of the grid fits window {w.number}'s training "
                f"period ({w.train_bars} bars, {index[w.train_start].date()}.."
                f"{index[w.train_end - 1].date()}; {skipped} skipped); use a longer train "
                "period or shorter windows"
            )
        combos.append(valid)
    return windows, combos


@dataclass
class WalkForwardResult:
    """Result of :func:`walk_forward` (see the module docstring for the columns and stats)."""

    windows: pd.DataFrame
    equity: pd.DataFrame = field(repr=False)
    trades: pd.DataFrame = field(repr=False)
    stats: pd.Series = field(repr=False)
    info: pd.Series = field(repr=False)
    params: list[str] = field(default_factory=list)

    @property
    def strategy(self) -> str:
        """The strategy's name."""
        return str(self.info.get("strategy", ""))

    @property
    def symbol(self) -> str | None:
        """The data's symbol, if known."""
        sym = self.info.get("symbol")
        return None if sym is None or (isinstance(sym, float) and math.isnan(sym)) else str(sym)

    def _lines(self) -> list[tuple[str, str]]:
        keys = ("total_return", "cagr", "sharpe", "max_drawdown", "num_trades", "buy_hold_return",
                *EXTRA_STATS)  # fmt: skip
        return [(k, format_stat(k, self.stats[k])) for k in keys if k in self.stats.index]

    def __repr__(self) -> str:
        i = self.info
        head = (
            f"WalkForwardResult {self.strategy} on {self.symbol}: {len(self.windows)} windows, "
            f"train={i.get('train')} test={i.get('test')}{' anchored' if i.get('anchored') else ''}"
            f", best by {i.get('metric')} (>= {i.get('min_trades')} trades)"
        )
        return text_report(head, self._lines())

    def _repr_html_(self) -> str:
        head = self.__repr__().splitlines()[0]
        return html_report(head, self._lines(), "see .windows, .equity, .trades")


def _window_rows(
    index: pd.DatetimeIndex,
    runs: list[WindowRun],
    choices: list[Choice],
    param_names: list[str],
    metric: str,
) -> pd.DataFrame:
    rows = []
    for run, c in zip(runs, choices, strict=True):
        w = run.window
        row: dict[str, Any] = {
            "window": w.number,
            "train_start": index[w.train_start],
            "train_end": index[w.train_end - 1],
            "test_start": index[w.test_start],
            "test_end": index[w.test_end - 1],
            "train_bars": w.train_bars,
            "test_bars": w.test_bars,
        }
        row.update({p: (c.params or {}).get(p) for p in param_names})
        nan = float("nan")
        row.update({
            f"is_{metric}": c.stats.get(metric, nan),
            f"oos_{metric}": run.stats[metric],
            "is_return": c.stats.get("total_return", nan),
            "oos_return": run.stats["total_return"],
            "is_cagr": c.stats.get("cagr", nan),
            "oos_cagr": run.stats["cagr"],
            "is_trades": c.stats.get("num_trades", 0.0),
            "oos_trades": run.stats["num_trades"],
            "combinations": c.combinations,
            "candidates": c.candidates,
            "note": c.note,
        })  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows)


def _extras(choices: list[Choice], stats: pd.Series) -> dict[str, float]:
    chosen = [c for c in choices if c.params is not None]
    is_cagr = float(np.nanmean([c.stats.get("cagr", np.nan) for c in chosen])) if chosen else np.nan
    oos = float(stats["cagr"])
    wfe = oos / is_cagr if np.isfinite(is_cagr) and is_cagr > 0 and np.isfinite(oos) else np.nan
    changes = sum(a.params != b.params for a, b in itertools.pairwise(choices))
    n = len(choices)
    return {
        "windows": float(n),
        "flat_windows": float(n - len(chosen)),
        "wfe": wfe,
        "is_cagr": is_cagr,
        "param_changes": float(changes),
        "param_change_rate": changes / (n - 1) if n > 1 else np.nan,
    }


def assemble(
    frame: pd.DataFrame,
    tpl: StrategyBase,
    windows: list[Window],
    choices: list[Choice],
    *,
    param_names: list[str],
    cash: float,
    commission: float,
    spread: float,
    orders: Orders,
    info: dict[str, Any],
) -> WalkForwardResult:
    """Trade each window's choice on its test bars, chain the windows from ``cash`` and build
    the result (also used by the server to combine windows swept in separate processes)."""
    runs: list[WindowRun] = []
    money = cash
    for w, c in zip(windows, choices, strict=True):
        run = run_window(frame, tpl, w, c.params, money, commission, spread, orders)
        runs.append(run)
        money = float(run.sim.equity[0, -1])
    equity, trades, stats = stitch_runs(runs, cash, commission, spread)
    extra = pd.Series(_extras(choices, stats), dtype="float64")
    stats = pd.concat([stats, extra]).rename("stats")
    metric = str(info["metric"])
    table = _window_rows(pd.DatetimeIndex(frame.index), runs, choices, param_names, metric)
    index = pd.DatetimeIndex(frame.index)
    full = {**info, "start": index[windows[0].test_start], "end": index[windows[-1].test_end - 1]}
    return WalkForwardResult(table, equity, trades, stats, pd.Series(full, dtype=object,
                             name="info"), list(param_names))  # fmt: skip


def walk_forward(
    data: pd.DataFrame,
    strategy: str | StrategyBase,
    grid: Grid,
    *,
    train: Any,
    test: Any,
    anchored: bool = False,
    metric: str = "sharpe",
    min_trades: int = DEFAULT_MIN_TRADES,
    cash: float = DEFAULT_CASH,
    commission: float = 0.0,
    spread: float = 0.0,
    progress: Callable[[int, int], Any] | None = None,
    cancel: Cancel | None = None,
    chunk_size: int = 64,
    **orders: Any,
) -> WalkForwardResult:
    """Walk-forward optimization of ``strategy`` over ``grid`` on ``data`` (module docstring).

    Args:
        train, test: lengths of the training and test periods, as bar counts (``500``) or
            durations (``"2y"``, ``"6m"``, ``"4w"``, ``"90d"``); see :mod:`._windows`.
        anchored: train on everything before each test period instead of a rolling window.
        metric: the stat that picks the best combination (its better direction comes from
            :data:`STATS`: ``max_drawdown`` is maximized, ``volatility`` minimized).
        min_trades: in-sample trades a combination needs to be eligible.
        progress: ``progress(done, total)`` after each chunk of every window's sweep, in
            combinations (``total`` counts every window's).
        cancel: a callable or ``threading.Event``, checked between chunks; when set,
            :class:`WalkForwardCancelled` is raised with ``.partial``: the result of the
            finished windows (``None`` before the first one finished).
        cash, commission, spread, **orders: as for :func:`backtest` (they apply to the
            training sweeps and to the test periods alike).

    Raises:
        EngineError: bad periods (e.g. longer than the data), metric, costs or orders;
        ParamError: a bad grid, or a training period no combination fits -- all before any
            work starts.
    """
    cash, commission, spread = validate_costs(cash, commission, spread)
    order = Orders.from_kwargs(**_orders(orders))
    higher = check_metric(metric)
    min_trades = check_min_trades(min_trades)
    tpl = get_template(strategy)
    frame = validate_ohlcv(data)
    index = pd.DatetimeIndex(frame.index)
    windows, combos = window_plan(tpl, grid, index, train, test, bool(anchored))
    order.check_bars(min(w.train_bars for w in windows))
    info = {
        "strategy": tpl.name,
        "symbol": data.attrs.get("symbol") if isinstance(data, pd.DataFrame) else None,
        "train": str(train),
        "test": str(test),
        "anchored": bool(anchored),
        "metric": metric,
        "higher_is_better": higher,
        "min_trades": min_trades,
        **order.as_dict(),
    }
    names = tpl.param_names
    total = sum(len(c) for c in combos)
    choices: list[Choice] = []
    done = 0

    def finish(ws: list[Window], cs: list[Choice]) -> WalkForwardResult:
        return assemble(frame, tpl, ws, cs, param_names=names, cash=cash, commission=commission,
                        spread=spread, orders=order, info=info)  # fmt: skip

    for w, cs in zip(windows, combos, strict=True):
        base = done

        def report(d: int, _: int, base: int = base) -> None:
            if progress is not None:
                progress(base + d, total)

        try:
            table = sweep(frame.iloc[w.train_start : w.train_end], tpl, cs, cash=cash,
                          commission=commission, spread=spread, progress=report, cancel=cancel,
                          chunk_size=chunk_size, **_orders(orders))  # fmt: skip
        except SweepCancelled as exc:
            partial = finish(windows[: len(choices)], choices) if choices else None
            raise WalkForwardCancelled(
                f"walk-forward cancelled during window {w.number} of {len(windows)}; "
                f"{len(choices)} finished",
                partial=partial,
                done=len(choices),
                total=len(windows),
            ) from exc
        choices.append(choose(table, names, metric, min_trades))
        done += len(cs)
        if len(choices) < len(windows) and _is_cancelled(cancel):
            raise WalkForwardCancelled(
                f"walk-forward cancelled after window {w.number} of {len(windows)}",
                partial=finish(windows[: len(choices)], choices),
                done=len(choices),
                total=len(windows),
            )
    return finish(windows, choices)


def _orders(orders: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(orders) - set(Orders.__dataclass_fields__))
    if unknown:
        raise EngineError(
            f"walk_forward() got unknown argument(s) {', '.join(unknown)}; order settings are "
            f"{', '.join(Orders.__dataclass_fields__)}"
        )
    return orders
