"""``sweep``: every parameter combination of a grid, vectorized across combinations.

Example:
    >>> from chatops_widget.engine import sweep, catalog
    >>> df = catalog.get("ALPHA")
    >>> table = sweep(df, "sma_cross", {"fast": [5, 10, 20], "slow": [20, 50, 100]})
    >>> len(table)        # fast >= slow combinations are skipped
    8
    >>> with_stops = sweep(df, "sma_cross", {"fast": [5, 10], "slow": [50]}, stop_loss=0.05)
    >>> with_stops.attrs["orders"]["stop_loss"]
    0.05
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from ._backtest import (
    CHUNK_CELLS,
    DEFAULT_CASH,
    SUMMARY_CELLS,
    chunk_stats,
    prepare,
    summarized,
    validate_costs,
)
from ._data import validate_ohlcv
from ._errors import EngineError, ParamError, SweepCancelled
from ._grid import Grid, expand_grid
from ._metrics import STAT_NAMES
from ._orders import Orders
from ._procs import Pool, acquire, by_name, start_pool
from ._split import no_valid_combination, split_index, sweep_split
from ._templates import Combo, StrategyBase
from ._types import FloatArray

__all__ = ["CHUNK_CELLS", "PARALLEL_CELLS", "SUMMARY_CELLS", "sweep", "sweep_plan"]

MAX_CHUNK = 256  # combinations per chunk, at most
#: Summarized chunks (see :data:`SUMMARY_CELLS`) are at most 1 / this of the grid, for progress.
MIN_CHUNKS = 8
#: Below this many cells in all (about 0.1 s of work), a sweep stays on the calling thread:
#: threads would cost more than they bring.
PARALLEL_CELLS = 1 << 22

Progress = Callable[[int, int], Any]
Cancel = Callable[[], bool] | threading.Event


def _is_cancelled(cancel: Cancel | None) -> bool:
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    return bool(cancel())


def sweep(
    data: pd.DataFrame,
    strategy: str | StrategyBase,
    grid: Grid,
    *,
    cash: float = DEFAULT_CASH,
    commission: float = 0.0,
    spread: float = 0.0,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    chunk_size: int | None = None,
    workers: int | None = None,
    split: Any = None,
    **orders: Any,
) -> pd.DataFrame:
    """Backtest every parameter combination of ``grid``; one row per combination.

    ``grid`` is a dict of lists (cartesian product) or a list of param dicts. Combinations the
    strategy forbids (``fast >= slow``) or that need more bars than the data has are skipped;
    a bad name, type or range raises :class:`ParamError`. Work is vectorized across
    combinations in chunks of ``chunk_size`` combinations (default: about :data:`CHUNK_CELLS`
    combinations x bars, so memory does not grow with the grid); after each chunk
    ``progress(done, total)`` is called and ``cancel`` (a callable returning True, or a
    ``threading.Event``) is checked: if set, :class:`SweepCancelled` is raised with
    ``.partial`` holding the finished rows. ``workers`` chunks are simulated concurrently on
    threads (numpy releases the GIL); the default uses every core the process may run on once
    the grid has :data:`PARALLEL_CELLS` cells or more, and one thread below that. Progress and
    cancellation happen in chunk order on the calling thread either way, and the rows are the
    same.

    Order settings (``stop_loss``, ``take_profit``, ``trailing_stop``, ``trailing_atr``,
    ``size``, ``risk``, ``units``, ``whole_units``) are those of :func:`backtest` and apply to
    every combination; with stops or whole units each combination's trades are simulated in a
    loop over its trades (:mod:`._events`), slower than the fully vectorized path but still
    every stat for every row.

    Returns a DataFrame with the parameter columns then the stats columns
    (:data:`STAT_NAMES`), in grid order. ``result.attrs`` holds ``skipped`` (forbidden
    combinations), ``strategy`` and ``orders``.

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
    unknown = sorted(set(orders) - set(Orders.__dataclass_fields__))
    if unknown:
        raise EngineError(
            f"sweep() got unknown argument(s) {', '.join(unknown)}; order settings are "
            f"{', '.join(Orders.__dataclass_fields__)}"
        )
    order = Orders.from_kwargs(**orders)
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise EngineError(f"chunk_size must be a positive int, got {chunk_size!r}")
    if workers is not None:
        _workers(workers)
    tpl, bars, _ = prepare(data, strategy)
    if split is not None:
        cut = split_index(bars.index, split)
        order.check_bars(min(cut, bars.n - cut))
        combos, skipped = expand_grid(tpl, grid, min(cut, bars.n - cut))
        if not combos:
            raise no_valid_combination(tpl, skipped, cut, bars.n)

        def run(part: pd.DataFrame, chosen: list[Combo], report: Progress | None) -> pd.DataFrame:
            return sweep(
                part, tpl, chosen, cash=cash, commission=commission, spread=spread,
                progress=report, cancel=cancel, chunk_size=chunk_size, workers=workers,
                **orders,
            )  # fmt: skip

        out = sweep_split(run, validate_ohlcv(data), tpl, combos, skipped, cut, progress)
        out.attrs["orders"] = order.as_dict()
        return out
    order.check_bars(bars.n)
    combos, skipped = expand_grid(tpl, grid, bars.n)
    if not combos:
        raise ParamError(
            f"{tpl.name}: no valid parameter combination in the grid ({skipped} skipped as "
            f"forbidden, e.g. fast >= slow or a window longer than the {bars.n} bars)"
        )
    total = len(combos)
    sparse = summarized(tpl, order, bars.n, total)
    chunk_size, workers = sweep_plan(total, bars.n, chunk_size, workers, summary=sparse)
    starts = list(range(0, total, chunk_size))
    name = by_name(tpl) if workers > 1 and len(starts) > 1 else None  # may go to processes
    if name is not None:
        with acquire(workers) as procs:
            if procs is not None:
                chunks = [combos[s : s + chunk_size] for s in starts]
                money = (cash, commission, spread)

                def rows_of(done: list[Combo], got: list[dict[str, FloatArray]]) -> pd.DataFrame:
                    return _table(tpl, done, got, skipped, order)

                rows = _in_processes(procs, data, name, chunks, progress, cancel, money, orders,
                                     sparse, rows_of)  # fmt: skip
                return _table(tpl, combos, rows, skipped, order)
    if total > chunk_size:
        tpl.precompute(bars, combos)  # what the chunks share, before they run
    parts: list[dict[str, FloatArray]] = []
    done = 0

    def run_chunk(chunk: list[Combo]) -> dict[str, FloatArray]:
        return chunk_stats(tpl, bars, chunk, cash, commission, spread, order, sparse)

    pool = ThreadPoolExecutor(workers) if workers > 1 and len(starts) > 1 else None
    pending: deque[tuple[int, Future[dict[str, FloatArray]] | _Now]] = deque()
    try:
        i = 0
        while i < len(starts) or pending:
            # signals and simulation of a chunk run together (chunks share the indicator
            # cache); numpy releases the GIL so chunks overlap on several cores
            while i < len(starts) and len(pending) < max(workers, 1):
                chunk = combos[starts[i] : starts[i] + chunk_size]
                fut = pool.submit(run_chunk, chunk) if pool else _Now(run_chunk(chunk))
                pending.append((len(chunk), fut))
                i += 1
            size, fut = pending.popleft()
            parts.append(fut.result())
            done += size
            if progress is not None:
                progress(done, total)
            if done < total and _is_cancelled(cancel):
                partial = _table(tpl, combos[:done], parts, skipped, order)
                raise SweepCancelled(
                    f"sweep of {tpl.name} cancelled after {done} of {total} combinations",
                    partial=partial,
                    done=done,
                    total=total,
                )
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    if name is not None and total * bars.n >= PARALLEL_CELLS:
        start_pool(workers)  # in the background: the next big sweeps use every core
    return _table(tpl, combos, parts, skipped, order)


def _in_processes(
    pool: Pool,
    data: pd.DataFrame,
    name: str,
    chunks: list[list[Combo]],
    progress: Progress | None,
    cancel: Cancel | None,
    money: tuple[float, float, float],
    orders: dict[str, Any],
    summary: bool,
    partial: Callable[[list[Combo], list[dict[str, FloatArray]]], pd.DataFrame],
) -> list[dict[str, FloatArray]]:
    """The chunks' stats, every ``w``-th chunk to each of the ``w`` worker processes; progress
    after every chunk and a cancel within one, as on threads (the finished chunks, in the
    grid's order, make the partial table)."""
    # chunk i to process i % workers: the grid's order puts the heavy combinations (short
    # windows, many trades) together, so contiguous halves would finish far apart
    w = min(pool.workers, len(chunks))
    parts = [chunks[i::w] for i in range(w)]
    total = sum(len(c) for c in chunks)
    done = 0

    def on_chunk(n: int) -> bool:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, total)
        return done < total and _is_cancelled(cancel)

    got = pool.run(data, name, parts, money, orders, on_chunk, summary)
    # back in the grid's order: part p's j-th chunk is chunk p + j * w
    order = sorted(
        (p + j * w, p, j) for p, part_rows in enumerate(got) for j in range(len(part_rows))
    )
    finished = [chunks[i] for i, _, _ in order]
    rows = [got[p][j] for _, p, j in order]
    n = sum(len(c) for c in finished)
    if n < total:
        raise SweepCancelled(
            f"sweep of {name} cancelled after {n} of {total} combinations",
            partial=partial([c for chunk in finished for c in chunk], rows), done=n, total=total,
        )  # fmt: skip
    if done < total and progress is not None:  # the last reports were still on their way
        progress(total, total)
    return rows


class _Now:
    """An already computed result with the Future interface used by :func:`sweep`."""

    def __init__(self, value: dict[str, FloatArray]) -> None:
        self._value = value

    def result(self) -> dict[str, FloatArray]:
        return self._value


def sweep_plan(
    combos: int,
    bars: int,
    chunk_size: int | None = None,
    workers: int | None = None,
    summary: bool = False,
) -> tuple[int, int]:
    """``(chunk_size, workers)`` that :func:`sweep` uses for ``combos`` combinations on ``bars``
    bars (``None`` picks the default; see :data:`CHUNK_CELLS` and :data:`PARALLEL_CELLS`);
    ``summary``: the chunks are summarized per trade (:func:`._backtest.summarized`), so
    they may be up to :data:`SUMMARY_CELLS`, in at least :data:`MIN_CHUNKS` chunks.

    >>> sweep_plan(1_225, 10_000, workers=None)[0], sweep_plan(25, 10_000)[1]
    (26, 1)
    >>> sweep_plan(1_225, 10_000, summary=True)[0]
    154
    >>> sweep_plan(10_000, 1_000_000, workers=1)
    (1, 1)
    """
    if chunk_size is None:
        chunk_size = max(1, min(MAX_CHUNK, CHUNK_CELLS // max(bars, 1)))
        if summary:
            most = min(MAX_CHUNK, SUMMARY_CELLS // max(bars, 1), -(-combos // MIN_CHUNKS))
            chunk_size = max(chunk_size, most)
    chunks = -(-combos // chunk_size)
    if workers is None:
        workers = available_cores() if combos * bars >= PARALLEL_CELLS else 1
    return chunk_size, max(1, min(_workers(workers), chunks))


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def _workers(workers: int) -> int:
    if not isinstance(workers, int) or workers < 1:
        raise EngineError(f"workers must be a positive int, got {workers!r}")
    return workers


def _table(
    tpl: StrategyBase,
    combos: list[Combo],
    parts: list[dict[str, FloatArray]],
    skipped: int,
    orders: Orders,
) -> pd.DataFrame:
    df = pd.DataFrame(combos, columns=tpl.param_names)
    stats = {name: np.concatenate([p[name] for p in parts]) if parts else np.array([], dtype=float)
             for name in STAT_NAMES}  # fmt: skip
    # one concat, not a column at a time (~30 inserts cost ~10 ms on a 1,225-row table)
    df = pd.concat([df, pd.DataFrame(stats, index=df.index)], axis=1)
    df.attrs["skipped"] = skipped
    df.attrs["strategy"] = tpl.name
    df.attrs["orders"] = orders.as_dict()
    return df
