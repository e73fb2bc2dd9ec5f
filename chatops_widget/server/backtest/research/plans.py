"""Research requests (walk-forward, universe, portfolio) resolved and validated before any job.

:func:`prepare` turns a typed :class:`~chatops_widget.protocol.StartRun` of kind
``walkforward``, ``universe`` or ``portfolio`` into a plan -- the strategy as a
:class:`~.._runspec.RunSpec`, the data, and what the engine will do with it -- or raises
:class:`~..errors.Invalid` / :class:`~..errors.NotFound` with the engine's message: windows
longer than the data, a grid no training window fits, unknown symbols (all of them named, with
close matches), too many symbols, weights that do not sum to 1, an unknown schedule or metric.

Example:
    >>> from chatops_widget.protocol import StartRun
    >>> from chatops_widget.server.backtest.resolve import Resolver
    >>> r = Resolver.for_tests()
    >>> plan = prepare(r, StartRun(sessionId="session_1", kind="walkforward",
    ...     targets=["sma_cross"], symbol="ALPHA", grid={"fast": [5, 10]}, train="2y", test="6m"))
    >>> plan.kind, len(plan.windows), plan.metric
    ('walkforward', 16, 'sharpe')
    >>> prepare(r, StartRun(sessionId="session_1", kind="portfolio", targets=["sma_cross"],
    ...     symbols=["ALPHA", "BRAVO"], weights=[0.7, 0.2]))
    Traceback (most recent call last):
    ...
    chatops_widget.server.backtest.errors.Invalid: weights sum to 0.9; they must sum to 1 (e.g. 0.5,0.3,0.2 for 3 symbols, or 'equal')
"""  # noqa: E501

from __future__ import annotations

import difflib
import itertools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chatops_widget import engine
from chatops_widget._lazy import lazy_module
from chatops_widget.protocol import MAX_RUN_SYMBOLS, StartRun

from .._runspec import RunSpec
from ..errors import Invalid, NotFound
from ..resolve import MAX_COMBOS, check_date

if TYPE_CHECKING:
    import pandas as pd

    from chatops_widget.engine import research as blocks
else:
    pd = lazy_module("pandas")
    blocks = lazy_module("chatops_widget.engine.research")

__all__ = [
    "MAX_WALKFORWARD_WORK",
    "PortfolioPlan",
    "UniversePlan",
    "WalkForwardPlan",
    "grid_text",
    "prepare",
]

#: The most (window, combination) pairs one walk-forward sweeps.
MAX_WALKFORWARD_WORK = 200_000


@dataclass
class WalkForwardPlan:
    """A walk-forward: ``spec`` (strategy, fixed params, the symbol's data), the windows and
    each window's valid combinations, and how to choose."""

    spec: RunSpec
    windows: list[Any]
    combos: list[list[dict[str, Any]]]
    params: list[str]
    metric: str
    min_trades: int
    train: str
    test: str
    anchored: bool
    grid: str = ""
    default_grid: bool = False
    kind: str = "walkforward"


@dataclass
class UniversePlan:
    """Every strategy (``specs``: label -> RunSpec) on every symbol (``frames``)."""

    specs: dict[str, RunSpec]
    frames: dict[str, RunSpec] = field(repr=False)  # each symbol's bars (.data, .index)
    start: str | None = None
    end: str | None = None
    kind: str = "universe"


@dataclass
class PortfolioPlan:
    """One strategy (``spec``) on ``frames`` with ``weights`` and a ``rebalance`` schedule."""

    spec: RunSpec
    frames: dict[str, RunSpec] = field(repr=False)  # each symbol's bars (.data, .index)
    weights: list[float] = field(default_factory=list)
    rebalance: str = "none"
    kind: str = "portfolio"


def _engine(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call the engine; its errors become :class:`Invalid` with the same message."""
    try:
        return fn(*args, **kwargs)
    except engine.UnknownSymbolError as exc:
        raise NotFound(str(exc)) from None
    except engine.EngineError as exc:
        raise Invalid(str(exc)) from None


def symbols_of(resolver: Any, wanted: list[str] | None) -> list[str]:
    """The symbols a request names (``*``: every symbol of the catalog), checked together:
    every unknown one is named with a close match, at most :data:`MAX_RUN_SYMBOLS`."""
    have = resolver.catalog.symbols()
    if not wanted:
        raise Invalid("give the symbols, e.g. symbols=ALPHA,BRAVO (or symbols=* for every one)")
    names = list(have) if wanted == ["*"] else list(wanted)
    if "*" in names:
        raise Invalid("symbols=* stands for every symbol; do not mix it with names")
    if len(names) > MAX_RUN_SYMBOLS:
        raise Invalid(f"{len(names):,} symbols; the limit is {MAX_RUN_SYMBOLS} per run")
    dupes = sorted({s for s in names if names.count(s) > 1})
    if dupes:
        raise Invalid(f"{', '.join(dupes)} given more than once; list each symbol once")
    unknown = [s for s in names if s not in have]
    if unknown:
        parts = []
        for s in unknown[:12]:
            close = difflib.get_close_matches(s, have, n=1)
            parts.append(f"{s} (did you mean {close[0]}?)" if close else s)
        more = f" and {len(unknown) - 12} more" if len(unknown) > 12 else ""
        shown = ", ".join(have[:12]) + (", ..." if len(have) > 12 else "")
        raise NotFound(
            f"unknown symbol{'s' if len(unknown) > 1 else ''} {', '.join(parts)}{more}; "
            f"available: {shown} (see /data)"
        )
    return names


def _money(req: StartRun) -> dict[str, float]:
    return {
        "cash": engine.DEFAULT_CASH if req.cash is None else float(req.cash),
        "commission": float(req.commission or 0.0),
        "spread": float(req.spread or 0.0),
    }


def _one_target(req: StartRun, what: str) -> str:
    if len(req.targets) != 1:
        raise Invalid(f"a {what} takes one strategy or template, got {len(req.targets)}")
    return req.targets[0]


def _walkforward(resolver: Any, req: StartRun, money: dict[str, float]) -> WalkForwardPlan:
    target = _one_target(req, "walk-forward")
    if req.symbols:
        raise Invalid("a walk-forward runs on one symbol: give symbol=, not symbols=")
    if req.train is None or req.test is None:
        raise Invalid("a walk-forward needs train= and test=, e.g. train=2y test=6m (or bars)")
    if not req.symbol and resolver.strategies.get(target) is None:
        raise Invalid(f"a walk-forward of {target} needs symbol=, e.g. symbol=ALPHA (see /data)")
    spec = resolver.backtest_spec(target, dict(req.params), symbol=req.symbol, start=req.start,
                                  end=req.end, **money)  # fmt: skip
    tpl = getattr(spec, "strategy", None) or resolver.template(spec.template)
    swept = dict(req.grid) or {
        k: v for k, v in blocks.default_grid(tpl, spec.params).items() if len(v) > 1
    }  # no ranges given: half to twice each of the strategy's values
    if not swept:
        raise Invalid(
            f"{tpl.name} has no parameters to optimize; a walk-forward needs a grid "
            "(param=lo:hi:step)"
        )
    fixed = {k: [v] for k, v in spec.params.items() if k not in swept}
    grid = {**fixed, **swept}
    size = math.prod(len(v) for v in swept.values())
    if size > MAX_COMBOS:  # the sweep's own limit
        raise Invalid(f"the grid has {size:,} combinations; the limit is {MAX_COMBOS:,}")
    metric = req.metric or "sharpe"
    _engine(blocks.check_metric, metric)
    min_trades = blocks.DEFAULT_MIN_TRADES if req.minTrades is None else req.minTrades
    windows, combos = _engine(
        blocks.window_plan, tpl, grid, _index(spec),
        req.train, req.test, bool(req.anchored),
    )  # fmt: skip
    work = sum(len(c) for c in combos)
    if work > MAX_WALKFORWARD_WORK:
        raise Invalid(
            f"{len(windows)} windows x the grid are {work:,} backtests; the limit is "
            f"{MAX_WALKFORWARD_WORK:,}: use fewer windows (a longer test=) or a smaller grid"
        )
    return WalkForwardPlan(spec, windows, combos, list(swept), metric, min_trades,
                           str(req.train), str(req.test), bool(req.anchored),
                           grid_text(swept), not req.grid)  # fmt: skip


def grid_text(grid: dict[str, list[Any]]) -> str:
    """``fast=5:19:2 slow=15:60:5`` (even steps) or ``k=1.5,2,3``.

    >>> grid_text({"fast": [5, 7, 9], "k": [1.5, 2.0, 3.0]})
    'fast=5:9:2 k=1.5,2.0,3.0'
    """
    parts = []
    for name, values in grid.items():
        steps = {round(b - a, 10) for a, b in itertools.pairwise(values)}
        ints = all(isinstance(v, int) and not isinstance(v, bool) for v in values)
        if ints and len(values) > 2 and len(steps) == 1:
            parts.append(f"{name}={values[0]}:{values[-1]}:{steps.pop()}")
        else:
            parts.append(f"{name}={','.join(str(v) for v in values)}")
    return " ".join(parts)


def _frames(resolver: Any, symbols: list[str], start: str | None, end: str | None) -> dict:
    """Each symbol's bars as a spec: the data (a file's ``DataRef``, not read here), the times."""
    return {s: resolver.data(s, start, end) for s in symbols}


def _universe(resolver: Any, req: StartRun, money: dict[str, float]) -> UniversePlan:
    dupes = sorted({t for t in req.targets if req.targets.count(t) > 1})
    if dupes:
        raise Invalid(f"{', '.join(dupes)} given more than once; list each strategy once")
    if req.params or req.grid or req.symbol:
        raise Invalid(
            "a comparison over symbols runs each strategy with its stored params on every "
            "symbol; give symbols=, dates and costs only"
        )
    symbols = symbols_of(resolver, req.symbols)
    frames = _frames(resolver, symbols, req.start, req.end)
    longest = max(frames, key=lambda s: frames[s].bars)
    specs: dict[str, RunSpec] = {}
    for target in req.targets:
        spec = resolver.backtest_spec(target, {}, symbol=longest, start=req.start, end=req.end,
                                      **money)  # fmt: skip
        specs[spec.strategy_id or spec.template] = spec
    return UniversePlan(specs, frames, req.start, req.end)


def _portfolio(resolver: Any, req: StartRun, money: dict[str, float]) -> PortfolioPlan:
    target = _one_target(req, "portfolio")
    if req.grid:
        raise Invalid("a portfolio backtest takes single values; ranges are for /sweep")
    if req.symbol:
        raise Invalid("a portfolio takes symbols=A,B,...; leave symbol= out")
    symbols = symbols_of(resolver, req.symbols)
    frames = _frames(resolver, symbols, req.start, req.end)
    w = req.weights if req.weights is not None else "equal"
    weights = _engine(blocks.portfolio_weights, w, symbols)
    rebalance = (req.rebalance or "none").strip().lower()
    _engine(blocks.rebalance_points, pd.DatetimeIndex([]), rebalance)
    longest = max(frames, key=lambda s: frames[s].bars)
    spec = resolver.backtest_spec(target, dict(req.params), symbol=longest, start=req.start,
                                  end=req.end, **money)  # fmt: skip
    tpl = getattr(spec, "strategy", None) or resolver.template(spec.template)
    for sym, frame in frames.items():  # every symbol must fit the params
        try:
            tpl.validate(spec.params, frame.bars)
        except engine.EngineError as exc:
            raise Invalid(f"{sym}: {exc}") from None
    return PortfolioPlan(spec, frames, [float(x) for x in weights], rebalance)


def prepare(resolver: Any, req: StartRun) -> WalkForwardPlan | UniversePlan | PortfolioPlan:
    """Validate and resolve a research request (see the module docstring)."""
    start, end = _dates(resolver, req)
    req = req.model_copy(update={"start": start, "end": end})
    money = _money(req)
    _engine(engine.validate_costs, **money)
    if req.kind == "walkforward":
        return _walkforward(resolver, req, money)
    if req.kind == "universe":
        return _universe(resolver, req, money)
    if req.kind == "portfolio":
        return _portfolio(resolver, req, money)
    raise Invalid(f"{req.kind!r} is not a research run")


def _dates(resolver: Any, req: StartRun) -> tuple[str | None, str | None]:
    start, end = check_date("start", req.start), check_date("end", req.end)
    if start and end and pd.Timestamp(start) > pd.Timestamp(end):
        raise Invalid(f"start={start} is after end={end}; give start <= end")
    return start, end


def _index(spec: Any) -> pd.DatetimeIndex:
    """The bar times of a spec (its bars may be a file's ``DataRef``, not read here)."""
    index = getattr(spec, "index", None)
    return pd.DatetimeIndex(spec.data.index if index is None else index)
