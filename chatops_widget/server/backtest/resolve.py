"""From what a request names to what a worker runs: stored strategies (by id or name, templates
or rules), templates, symbols, dates, parameters, costs, order settings and grids, resolved and
validated before any work starts.

:class:`Resolver` answers the lookups (raising :class:`~.errors.NotFound` with suggestions);
:meth:`Resolver.prepare` turns a typed :class:`~chatops_widget.protocol.StartRun` -- from the
kernel client, or built from ``/run_backtest`` text by the commands -- into a :class:`Prepared`
run (raising :class:`~.errors.Invalid` for anything wrong), so a bad request fails before a job
exists.

Example:
    >>> from chatops_widget.protocol import StartRun
    >>> r = Resolver.for_tests()
    >>> req = StartRun(sessionId="session_1", kind="backtest", targets=["sma_cross"],
    ...                symbol="ALPHA", params={"fast": 5, "slow": 20})
    >>> p = r.prepare(req)
    >>> p.kind, p.specs[0].symbol, p.specs[0].params["fast"]
    ('backtest', 'ALPHA', 5)
    >>> r.prepare(req.model_copy(update={"symbol": "ALHPA"}))
    Traceback (most recent call last):
    ...
    chatops_widget.server.backtest.errors.NotFound: unknown symbol 'ALHPA' (did you mean ALPHA?); available: ALPHA, BRAVO, CHARLIE, DELTA, ECHO (see /data)
"""  # noqa: E501

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chatops_widget import engine
from chatops_widget._lazy import lazy_module
from chatops_widget.protocol import StartRun

from ._runspec import RunSpec
from ._targets import check_orders, engine_strategy, merge_orders, rule_dict
from .errors import Invalid, NotFound, brief_ids, did_you_mean
from .storage.strategies import STRATEGY_RE, Strategy, StrategyStore

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = ["MAX_COMBOS", "Prepared", "Resolver", "check_date"]

#: The largest sweep grid (combinations before invalid ones are dropped).
MAX_COMBOS = 20_000
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}([T ][0-9:.]+)?")


def check_date(name: str, text: str | None) -> str | None:
    """A ``start``/``end``/``split`` date as ``YYYY-MM-DD`` (or ``None``); :class:`Invalid` else.

    >>> check_date("start", "2020-01-31"), check_date("end", None)
    ('2020-01-31', None)
    """
    if text is None or text == "":
        return None
    if not _DATE_RE.fullmatch(text):
        raise Invalid(f"{name}={text!r} is not a date; use YYYY-MM-DD, e.g. {name}=2020-01-31")
    first, last = pd.Timestamp.min.year + 1, pd.Timestamp.max.year - 1  # whole years only
    if not first <= int(text[:4]) <= last:  # pandas would read 0099 as 1999
        raise Invalid(
            f"{name}={text!r}: the year must be {first}-{last} (the span of pandas "
            f"timestamps), e.g. {name}=2020-01-31"
        )
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise Invalid(
            f"{name}={text!r} is not a valid date; use YYYY-MM-DD, e.g. {name}=2020-01-31"
        ) from None
    return ts.strftime("%Y-%m-%d") if len(text) == 10 else ts.isoformat()


@dataclass
class Prepared:
    """A validated run: its ``kind`` and resolved :class:`RunSpec` list (one per strategy), and
    for a sweep the expanded ``combos`` (``skipped`` invalid ones), ``sort`` and ``split``."""

    kind: str
    specs: list[RunSpec]
    combos: list[dict[str, Any]] = field(default_factory=list)
    skipped: int = 0
    sort: str = "sharpe"
    split: str | None = None


class Resolver:
    """Lookups over one data catalog and strategy store (see the module docstring)."""

    def __init__(self, catalog: engine.DataCatalog, strategies: StrategyStore) -> None:
        self.catalog, self.strategies = catalog, strategies
        #: names beyond the store and the templates, set by the plugin: strategies hosted in
        #: members' kernels and, in comparisons, finished runs (``hosted.HostedStrategies``:
        #: ``strategy(target)``, ``knows(target, session)``, ``spec(self, target, ...)``)
        self.names: Any = None

    @classmethod
    def for_tests(cls) -> Resolver:
        """A resolver over the bundled sample and a throw-away strategy store."""
        import tempfile

        return cls(engine.sample_catalog(), StrategyStore(tempfile.mkdtemp()))

    # ------------------------------------------------------------------ names
    def template(self, name: str) -> engine.Template:
        """The template called ``name`` (any case)."""
        reg = engine.templates()
        key = name.strip().lower()
        if key not in reg:
            raise NotFound(
                f"unknown template '{name}'{did_you_mean(key, sorted(reg))}; "
                f"templates: {', '.join(sorted(reg))}"
            )
        return reg[key]

    def stored(self, target: str) -> Strategy | None:
        """The stored strategy ``target`` names: an id (``strategy_7``) or a name (``dip``,
        any case); ``None`` if it names none. Two with that name (stored before names were
        unique) are :class:`Invalid`."""
        if STRATEGY_RE.fullmatch(target):
            return self.strategies.get(target)
        found = self.strategies.named(target)
        if len(found) > 1:
            ids = ", ".join(s.id for s in found)
            raise Invalid(f"{len(found)} strategies are called {target!r} ({ids}); use an id")
        return found[0] if found else None

    def strategy(self, sid: str) -> Strategy:
        """The stored strategy ``sid`` (an id or a name)."""
        s = self.stored(sid)
        if s is None:
            ids = self.strategies.ids()
            raise NotFound(
                f"unknown strategy '{sid}'{did_you_mean(sid, ids + self._names())}; "
                f"stored strategies: {brief_ids(ids)} (see /strategies)"
            )
        return s

    def _names(self) -> list[str]:
        """Stored strategy names that could be typed as one word (for "did you mean")."""
        return [n for n in self.strategies.names() if n and " " not in n]

    def template_of(self, target: str) -> engine.StrategyBase | None:
        """The engine strategy a hosted strategy, a stored strategy (id or name) or a template
        name stands for (``None`` if none)."""
        named = self.names.strategy(target) if self.names is not None else None
        if named is not None:
            return named
        try:
            s = self.stored(target)
        except Invalid:
            return None
        if s is not None:
            return engine_strategy(s)
        return engine.templates().get(target.strip().lower())

    def data(self, symbol: str, start: str | None, end: str | None) -> RunSpec:
        """The bars of ``symbol`` between ``start`` and ``end``: a spec holding only the symbol,
        its bars (by reference for a file: ``engine.DataRef``), their times and revision --
        a file's bars are not read here."""
        sym = symbol.strip().upper()
        if sym not in self.catalog:
            syms = self.catalog.symbols()
            raise NotFound(
                f"unknown symbol '{symbol}'{did_you_mean(sym, syms)}; "
                f"available: {', '.join(syms)} (see /data)"
            )
        try:
            index = self.catalog.index(sym, start, end)
            data: Any = self.catalog.ref(sym, start, end)
            if data is None:  # a frame held in memory (the bundled sample)
                data = self.catalog.get(sym, start, end)
        except engine.EngineError as exc:
            raise Invalid(str(exc)) from None
        return RunSpec("", sym, {}, data=data, index=index, revision=self.catalog.revision(sym))

    # ------------------------------------------------------------------ runs
    def backtest_spec(
        self,
        target: str,
        params: dict[str, Any],
        *,
        symbol: str | None = None,
        start: str | None = None,
        end: str | None = None,
        cash: float = engine.DEFAULT_CASH,
        commission: float = 0.0,
        spread: float = 0.0,
        orders: dict[str, Any] | None = None,
    ) -> RunSpec:
        """Resolve ``target`` (a stored strategy's id or name, or a template name) plus
        overrides (params, symbol, dates, ``orders`` over the stored ones); validate all."""
        money = {"cash": cash, "commission": commission, "spread": spread}
        named = self._named(target, None, params, symbol, start, end, money)
        if named is not None:
            return named
        s = self.strategy(target) if STRATEGY_RE.fullmatch(target) else self.stored(target)
        if s is not None:
            tpl = engine_strategy(s)
            rule = rule_dict(s)
            spec = RunSpec(tpl.name, symbol or s.symbol or
                           self.catalog.symbols()[0], {**s.params, **params}, start or s.start,
                           end or s.end, s.id, s.name, cash, commission, spread, rule=rule,
                           strategy=tpl)  # fmt: skip
            wanted = merge_orders(s.orders, orders or {})
        else:
            if target.strip().lower() not in engine.templates():
                ids, names = self.strategies.ids(), sorted(engine.templates())
                raise NotFound(
                    f"'{target}' is neither a stored strategy nor a template"
                    f"{did_you_mean(target.lower(), ids + self._names() + names)}; strategies: "
                    f"{brief_ids(ids)}; templates: {', '.join(names)}"
                )
            tpl = self.template(target)
            sym = symbol or self.catalog.symbols()[0]
            spec = RunSpec(tpl.name, sym, dict(params), start, end, None, None, cash,
                           commission, spread, strategy=tpl)  # fmt: skip
            wanted = merge_orders({}, orders or {})
        spec.orders = check_orders(wanted)
        bars = self.data(spec.symbol, spec.start, spec.end)
        spec.symbol, spec.data, spec.index = bars.symbol, bars.data, bars.index
        spec.revision = bars.revision
        try:
            engine.Orders.from_kwargs(**spec.orders).check_bars(spec.bars)
            spec.params = tpl.validate(spec.params, spec.bars)
        except engine.EngineError as exc:
            raise Invalid(str(exc)) from None
        return spec

    def _named(self, target: str, session_id: str | None, params: dict[str, Any],
               symbol: str | None, start: str | None, end: str | None, money: dict[str, Any],
               comparison: bool = False) -> RunSpec | None:  # fmt: skip
        """The spec of a hosted strategy (or, comparing, a finished run), or ``None``."""
        if self.names is None:
            return None
        spec: RunSpec | None = self.names.spec(self, target, session_id, params=params,
                                               symbol=symbol, start=start, end=end, money=money,
                                               comparison=comparison)  # fmt: skip
        return spec

    def sweep_grid(
        self, template: str | engine.StrategyBase, grid: dict[str, list[Any]], n_bars: int
    ) -> tuple[list[dict[str, Any]], int]:
        """The valid combinations of ``grid`` for ``strategy`` on ``n_bars`` bars, and how many
        were skipped (e.g. ``fast >= slow``)."""
        tpl = template if isinstance(template, engine.StrategyBase) else self.template(template)
        size = math.prod(len(v) for v in grid.values()) if grid else 1
        if size > MAX_COMBOS:
            raise Invalid(f"the grid has {size:,} combinations; the limit is {MAX_COMBOS:,}")
        try:
            combos, skipped = engine.expand_grid(tpl, grid, n_bars)
        except engine.EngineError as exc:
            raise Invalid(str(exc)) from None
        if not combos:
            raise Invalid(
                f"{tpl.name}: none of the {size} combinations is valid (e.g. fast must be < slow "
                "and windows shorter than the data); widen the ranges"
            )
        return combos, skipped

    def prepare(self, req: StartRun) -> Prepared:
        """Validate and resolve a whole request (see the module docstring)."""
        start, end = check_date("start", req.start), check_date("end", req.end)
        if start and end and pd.Timestamp(start) > pd.Timestamp(end):
            raise Invalid(f"start={start} is after end={end}; give start <= end")
        money = {
            "cash": engine.DEFAULT_CASH if req.cash is None else float(req.cash),
            "commission": float(req.commission or 0.0),
            "spread": float(req.spread or 0.0),
        }
        try:  # the engine's own limits, checked before anything runs
            engine.validate_costs(**money)
        except engine.EngineError as exc:
            raise Invalid(str(exc)) from None
        orders = req.orders.given() if req.orders else {}
        if req.kind == "comparison":
            return self._comparison(req, start, end, money, orders)
        if len(req.targets) != 1:
            raise Invalid(f"a {req.kind} takes one strategy or template, got {len(req.targets)}")
        if req.kind == "backtest":
            if req.grid:
                raise Invalid("a backtest takes single values; ranges are for a sweep")
            spec = self.backtest_spec(req.targets[0], dict(req.params), symbol=req.symbol,
                                      start=start, end=end, orders=orders, **money)  # fmt: skip
            return Prepared("backtest", [spec])
        return self._sweep(req, start, end, money, orders)

    def _comparison(
        self,
        req: StartRun,
        start: str | None,
        end: str | None,
        money: dict[str, Any],
        orders: dict[str, Any],
    ) -> Prepared:
        if len(req.targets) < 2:
            raise Invalid("compare two or more strategies, e.g. strategy_1 strategy_2")
        dupes = sorted({a for a in req.targets if req.targets.count(a) > 1})
        if dupes:
            raise Invalid(f"{', '.join(dupes)} given more than once; list each strategy once")
        named = self.names is not None
        for sid in req.targets:
            if self.stored(sid) is None and not (named and self.names.knows(sid, req.sessionId)):
                what = "a template" if sid.strip().lower() in engine.templates() else "unknown"
                raise NotFound(
                    f"'{sid}' is {what}, not a stored strategy{did_you_mean(sid, self._names())}"
                    "; compare stored strategies by id or name (see /strategies, /create_strategy)"
                    + (", Python strategies or finished runs (run_...)" if named else "")
                )
        if req.params or req.grid or req.symbol:
            raise Invalid(
                "a comparison runs each strategy as stored; give only dates, costs and "
                "order settings (stop_loss=, size=, ...: applied to every strategy)"
            )
        specs = [self._named(s, req.sessionId, {}, None, start, end, money, comparison=True)
                 or self.backtest_spec(s, {}, start=start, end=end, orders=orders, **money)
                 for s in req.targets]  # fmt: skip
        ids = [str(x.strategy_id) for x in specs]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise Invalid(f"{', '.join(dupes)} given more than once (by id and by name); list "
                          "each strategy once")  # fmt: skip
        return Prepared("comparison", specs)

    def _sweep(
        self,
        req: StartRun,
        start: str | None,
        end: str | None,
        money: dict[str, Any],
        orders: dict[str, Any],
    ) -> Prepared:
        target = req.targets[0]
        hosted_tpl = self.names.strategy(target) if self.names is not None else None
        hosted = hosted_tpl is not None
        s = None if hosted else self.stored(target)
        stored: dict[str, Any] = {}
        if hosted_tpl is not None:  # a strategy hosted in a member's kernel
            tpl: engine.StrategyBase = hosted_tpl
        elif s is None:
            tpl = self.template(target)
        else:
            tpl, stored = engine_strategy(s), dict(s.params)
        if not req.symbol and (s is None or s.symbol is None):
            raise Invalid("a sweep needs symbol=, e.g. symbol=ALPHA (see /data)")
        grid = {**{k: [v] for k, v in req.params.items()}, **req.grid}
        if not grid:
            names = ", ".join(p.name for p in tpl.params)
            raise Invalid(f"give at least one parameter range ({tpl.name} params: {names})")
        grid = {**{k: [v] for k, v in stored.items() if k not in grid}, **grid}
        name = target if hosted else (s.id if s else tpl.name)
        base = self.backtest_spec(name, {}, symbol=req.symbol, start=start, end=end,
                                  orders=orders, **money)  # fmt: skip
        split = check_date("split", req.split)
        bars = base.bars
        if split is not None:  # each combination must fit the shorter of the two periods
            try:
                cut = engine.split_index(base.index, split)  # type: ignore[arg-type]
            except engine.EngineError as exc:
                raise Invalid(str(exc)) from None
            bars = min(cut, bars - cut)
        sort = _sort_key(req.sort, tpl, split is not None)
        combos, skipped = self.sweep_grid(tpl, grid, bars)
        return Prepared("sweep", [base], combos, skipped, sort, split)


def _sort_key(sort: str | None, tpl: engine.StrategyBase, split: bool) -> str:
    """``sort=``: a column of the sweep table (a metric, ``oos_<metric>`` with a split, or a
    parameter); :class:`Invalid` naming the choices otherwise."""
    if sort is None:
        return "sharpe"
    names = [*engine.STAT_NAMES, *(f"oos_{m}" for m in engine.STAT_NAMES if split)]
    if sort in names or sort in {p.name for p in tpl.params}:
        return sort
    raise Invalid(
        f"sort={sort!r} is not a column of the sweep table{did_you_mean(sort, names)}; use a "
        f"metric such as sharpe, total_return, cagr, max_drawdown or sortino"
        + (" (oos_<metric> ranks by the out-of-sample period)" if split else "")
    )
