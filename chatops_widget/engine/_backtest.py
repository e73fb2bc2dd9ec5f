"""``backtest`` (one parameter set) and ``sweep`` (many, vectorized) over one OHLCV frame.

Both run the same code path (:mod:`._sim`), so a sweep row equals the stats of the matching
single backtest. See :mod:`._sim` for the execution model.

Example:
    >>> from chatops_widget.engine import backtest, sweep, catalog
    >>> df = catalog.get("ALPHA")
    >>> r = backtest(df, "sma_cross", {"fast": 10, "slow": 50}, commission=0.001)
    >>> table = sweep(df, "sma_cross", {"fast": [5, 10, 20], "slow": [20, 50, 100]})
    >>> len(table)        # fast >= slow combinations are skipped
    8
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from ._data import validate_ohlcv
from ._errors import EngineError, ParamError, SweepCancelled
from ._result import BacktestResult
from ._sim import STAT_NAMES, Bars, column_stats, simulate, trade_table
from ._split import no_valid_combination, split_index, sweep_split
from ._templates import Template, get_template

Progress = Callable[[int, int], Any]
Cancel = Callable[[], bool] | threading.Event


#: Starting equity when none is given (every layer uses this one value).
DEFAULT_CASH = 1_000_000.0


def validate_costs(
    cash: float, commission: float, spread: float = 0.0
) -> tuple[float, float, float]:
    """``(cash, commission, spread)`` as floats, or :class:`EngineError` saying what is wrong.

    >>> validate_costs(1e6, 0.001, 0.0002)
    (1000000.0, 0.001, 0.0002)
    """
    try:
        cash, commission, spread = float(cash), float(commission), float(spread)
    except (TypeError, ValueError):
        raise EngineError(
            f"cash, commission and spread must be numbers, got {cash!r}, {commission!r}, {spread!r}"
        ) from None
    if not np.isfinite(cash) or cash <= 0:
        raise EngineError(f"cash must be a positive number, got {cash}")
    if not 0.0 <= commission < 0.1:
        raise EngineError(
            f"commission is a fraction of traded notional in [0, 0.1), got {commission} "
            "(e.g. 0.001 for 0.1 %)"
        )
    if not 0.0 <= spread < 0.1:
        raise EngineError(
            f"spread is the bid-ask spread as a fraction of price in [0, 0.1), got {spread} "
            "(e.g. 0.0002 for 2 basis points)"
        )
    return cash, commission, spread


def _prepare(data: pd.DataFrame, strategy) -> tuple[Template, Bars, str | None]:
    tpl = get_template(strategy)
    sym = data.attrs.get("symbol") if isinstance(data, pd.DataFrame) else None
    df = validate_ohlcv(data)
    return tpl, Bars.from_frame(df), sym


def backtest(
    data: pd.DataFrame,
    strategy: str | Template,
    params: Mapping[str, Any] | None = None,
    *,
    cash: float = DEFAULT_CASH,
    commission: float = 0.0,
    spread: float = 0.0,
    symbol: str | None = None,
) -> BacktestResult:
    """Backtest one template with one parameter set on an OHLCV frame.

    Args:
        data: OHLCV DataFrame on a sorted DatetimeIndex (column names case-insensitive).
        strategy: template name, e.g. ``"sma_cross"`` (see :func:`templates`).
        params: parameter overrides; missing ones take their defaults.
        cash: starting equity.
        commission: fraction of traded notional paid on every fill, e.g. ``0.001``.
        spread: bid-ask spread as a fraction of price, paid once per trade on entry (a long
            enters at ``open * (1 + spread)``, a short at ``open * (1 - spread)``), as in
            backtesting.py; e.g. ``0.0002``.
        symbol: label for the result (defaults to ``data.attrs.get("symbol")``).

    Raises:
        ParamError: bad parameters (naming the parameter); DataError: bad data.

    Example:
        >>> from chatops_widget.engine import catalog
        >>> df = catalog.get("ALPHA")
        >>> r = backtest(df, "sma_cross", {"fast": 10, "slow": 30, "short": True})
        >>> r.trades.pnl.sum() == r.equity.equity.iloc[-1] - 1_000_000   # doctest: +SKIP
        True
        >>> r.stats[["total_return", "sharpe", "max_drawdown"]]      # doctest: +SKIP
    """
    cash, commission, spread = validate_costs(cash, commission, spread)
    tpl, bars, sym = _prepare(data, strategy)
    p = tpl.validate(params, bars.n)
    pos = tpl.signal(bars, [p])
    sim = simulate(bars, pos, cash, commission, spread)
    st = column_stats(bars, sim, cash)
    stats = pd.Series({name: _scalar(st[name][0]) for name in STAT_NAMES}, dtype=object)
    stats["start"], stats["end"], stats["bars"] = bars.index[0], bars.index[-1], bars.n
    stats["cash"], stats["commission"], stats["spread"] = cash, commission, spread
    eq = sim.equity[0]
    prev = np.concatenate(([cash], eq[:-1]))
    peak = np.maximum(np.maximum.accumulate(eq), cash)
    equity = pd.DataFrame(
        {
            "equity": eq,
            "returns": eq / prev - 1.0,
            "drawdown": eq / peak - 1.0,
            "position": sim.held[0],
        },
        index=bars.index,
    )
    trades = trade_table(bars, sim, 0, commission, spread)
    return BacktestResult(tpl.name, p, equity, trades, stats, symbol or sym)


def _scalar(v):
    return v.item() if hasattr(v, "item") else v


def expand_grid(tpl: Template, grid, n_bars: int | None) -> tuple[list[dict], int]:
    """Validated combinations of ``grid`` and how many forbidden ones were skipped."""
    if isinstance(grid, Mapping):
        names = list(grid)
        values = []
        for name in names:
            v = grid[name]
            if isinstance(v, (str, bytes)) or not isinstance(v, Iterable):
                v = [v]
            v = list(v)
            if not v:
                raise ParamError(f"{tpl.name}: grid for {name!r} is empty", str(name))
            # coerce each distinct value once (raises for unknown names, types, ranges)
            values.append([tpl.coerce({name: x})[name] for x in v])
        base = tpl.defaults()
        raw = [
            {**base, **dict(zip(names, combo, strict=True))} for combo in itertools.product(*values)
        ]
        return _screen(tpl, raw, n_bars, coerced=True)
    elif isinstance(grid, Iterable) and not isinstance(grid, (str, bytes)):
        raw = [dict(g) for g in grid]
    else:
        raise ParamError(
            f"{tpl.name}: grid must be a dict of lists or a list of param dicts, "
            f"got {type(grid).__name__}"
        )
    return _screen(tpl, raw, n_bars, coerced=False)


def _screen(tpl: Template, raw: list[dict], n_bars: int | None, coerced: bool):
    combos, seen, skipped = [], set(), 0
    for r in raw:
        p = r if coerced else tpl.coerce(r)
        key = tuple(p.items())
        if key in seen:
            continue
        seen.add(key)
        if tpl.problem(p, n_bars):
            skipped += 1
            continue
        combos.append(p)
    return combos, skipped


def _is_cancelled(cancel: Cancel | None) -> bool:
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    return bool(cancel())


def sweep(
    data: pd.DataFrame,
    strategy: str | Template,
    grid: Mapping[str, Iterable] | Iterable[Mapping[str, Any]],
    *,
    cash: float = DEFAULT_CASH,
    commission: float = 0.0,
    spread: float = 0.0,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    chunk_size: int = 64,
    workers: int = 1,
    split: Any = None,
) -> pd.DataFrame:
    """Backtest every parameter combination of ``grid``; one row per combination.

    ``grid`` is a dict of lists (cartesian product) or a list of param dicts. Combinations the
    template forbids (``fast >= slow``) or that need more bars than the data has are skipped;
    a bad name, type or range raises :class:`ParamError`. Work is vectorized across
    combinations in chunks of ``chunk_size`` columns; after each chunk ``progress(done, total)``
    is called and ``cancel`` (a callable returning True, or a ``threading.Event``) is checked:
    if set, :class:`SweepCancelled` is raised with ``.partial`` holding the finished rows.
    ``workers > 1`` simulates that many chunks concurrently on threads (numpy releases the
    GIL); progress and cancellation still happen in chunk order on the calling thread.

    Returns a DataFrame with the parameter columns then the stats columns, in grid order.
    ``result.attrs`` holds ``skipped`` (forbidden combinations) and ``strategy``.

    ``split`` (a date) backtests the grid separately on the bars before it (in-sample: the
    usual stats columns) and from it on (out-of-sample: ``oos_<stat>`` columns); see
    :mod:`._split`. Progress then counts both passes.

    Example:
        >>> from chatops_widget.engine import catalog
        >>> t = sweep(catalog.get("ALPHA"), "sma_cross",
        ...           {"fast": range(5, 50, 5), "slow": range(20, 200, 10)},
        ...           progress=lambda done, total: print(done, total), chunk_size=100)
        100 150
        150 150
        >>> t.attrs["skipped"], t.columns[:4].tolist()
        (12, ['fast', 'slow', 'short', 'total_return'])
    """
    cash, commission, spread = validate_costs(cash, commission, spread)
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise EngineError(f"chunk_size must be a positive int, got {chunk_size!r}")
    tpl, bars, _ = _prepare(data, strategy)
    if split is not None:
        cut = split_index(bars.index, split)
        combos, skipped = expand_grid(tpl, grid, min(cut, bars.n - cut))
        if not combos:
            raise no_valid_combination(tpl, skipped, cut, bars.n)

        def run(part: pd.DataFrame, chosen: list[dict], report: Progress | None) -> pd.DataFrame:
            return sweep(
                part, tpl, chosen, cash=cash, commission=commission, spread=spread,
                progress=report, cancel=cancel, chunk_size=chunk_size, workers=workers,
            )  # fmt: skip

        return sweep_split(run, validate_ohlcv(data), tpl, combos, skipped, cut, progress)
    combos, skipped = expand_grid(tpl, grid, bars.n)
    if not combos:
        raise ParamError(
            f"{tpl.name}: no valid parameter combination in the grid ({skipped} skipped as "
            f"forbidden, e.g. fast >= slow or a window longer than the {bars.n} bars)"
        )
    total = len(combos)
    workers = _workers(workers)
    parts: list[dict[str, np.ndarray]] = []
    done = 0

    def run(pos: np.ndarray) -> dict[str, np.ndarray]:
        return column_stats(bars, simulate(bars, pos, cash, commission, spread), cash)

    starts = list(range(0, total, chunk_size))
    pool = ThreadPoolExecutor(workers) if workers > 1 and len(starts) > 1 else None
    pending: deque = deque()
    try:
        i = 0
        while i < len(starts) or pending:
            # signals on this thread (they share the indicator cache), simulation+stats on the
            # pool; numpy releases the GIL so chunks overlap on several cores
            while i < len(starts) and len(pending) < max(workers, 1):
                chunk = combos[starts[i] : starts[i] + chunk_size]
                pos = tpl.signal(bars, chunk)
                fut = pool.submit(run, pos) if pool else _Now(run(pos))
                pending.append((len(chunk), fut))
                i += 1
            size, fut = pending.popleft()
            parts.append(fut.result())
            done += size
            if progress is not None:
                progress(done, total)
            if done < total and _is_cancelled(cancel):
                partial = _table(tpl, combos[:done], parts, skipped)
                raise SweepCancelled(
                    f"sweep of {tpl.name} cancelled after {done} of {total} combinations",
                    partial=partial,
                    done=done,
                    total=total,
                )
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return _table(tpl, combos, parts, skipped)


class _Now:
    """An already computed result with the Future interface used by :func:`sweep`."""

    def __init__(self, value) -> None:
        self._value = value

    def result(self):
        return self._value


def _workers(workers: int) -> int:
    if not isinstance(workers, int) or workers < 1:
        raise EngineError(f"workers must be a positive int, got {workers!r}")
    return workers


def _table(tpl: Template, combos: list[dict], parts, skipped: int) -> pd.DataFrame:
    df = pd.DataFrame(combos, columns=tpl.param_names)
    for name in STAT_NAMES:
        df[name] = np.concatenate([p[name] for p in parts]) if parts else []
    df.attrs["skipped"] = skipped
    df.attrs["strategy"] = tpl.name
    return df
