"""``FunctionStrategy``: a strategy written as a Python function, ``fn(data, **params)``.

The function gets the OHLCV frame (``Open, High, Low, Close, Volume`` on the bars' index; a
fresh copy per call) and returns either

- **target positions**: a Series on ``data.index`` (or an array of ``len(data)``) with values
  in [-1, 1] -- 1 all-in long, -0.5 half short, 0 flat -- decided at each bar's close and
  filled at the next open like every strategy's (a boolean Series means long where true); or
- **a pair** ``(entry, exit)`` of boolean Series: long from a bar whose close makes ``entry``
  true until one whose close makes ``exit`` true (the entry wins on a bar with both), as for
  rule strategies.

Whole positions (-1, 0, 1) and pairs run on the engine's usual paths (the templates' own
code: stops, sizing and stats as documented); fractional targets on :mod:`._fractional`,
which re-sizes the position at every change of the target and trades only the difference.
A wrong return is a :class:`StrategyOutputError` saying what was wrong and what is right
(length, index, NaN, values outside [-1, 1], type); an exception inside ``fn`` is raised as
it is, with the function's own traceback.

Parameters are declared with their defaults, from which their types (``int``, ``float``,
``bool``) and ranges are inferred (a non-negative number: ``>= 0``, and ints at most 100,000),
or as ``{"default", "min", "max", "doc"}``; values are validated like template parameters.

``lookahead_check`` (on by default) runs the function twice more, once per data it is given,
with the prices of the last third of the bars multiplied by 8 and by 1/8: a position before
that third that changes used data from after the bar it was decided on, and is refused
(:class:`StrategyOutputError`).

Example:
    >>> from chatops_widget.engine import FunctionStrategy, backtest, sweep, catalog
    >>> def mom(data, lookback=60, z=1.0):
    ...     r = data.Close.pct_change(lookback)
    ...     score = (r / r.rolling(250).std()).fillna(0.0)
    ...     return (score / z).clip(-1, 1)
    >>> s = FunctionStrategy(mom, {"lookback": 60, "z": 1.0}, name="my_mom")
    >>> [(p.name, p.type.__name__, p.default, p.min, p.max) for p in s.params]
    [('lookback', 'int', 60, 0, 100000), ('z', 'float', 1.0, 0.0, None)]
    >>> r = backtest(catalog.get("ALPHA"), s, {"lookback": 90}, commission=0.001)
    >>> r.equity["position"].between(-1, 1).all(), len(sweep(catalog.get("ALPHA"), s,
    ...                                                       {"lookback": [20, 60]}))
    (np.True_, 2)
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ._builtins import event_positions
from ._errors import EngineError, ParamError
from ._templates import Combo, Param, StrategyBase
from ._types import BoolArray, FloatArray

__all__ = ["RESERVED_PARAMS", "FunctionStrategy", "StrategyOutputError"]

#: Names a parameter cannot have: they are run options (``symbol=``, ``stop_loss=`` ...).
RESERVED_PARAMS = frozenset(
    "symbol start end cash commission spread split sort run_id name data stop_loss take_profit "
    "trailing_stop trailing_atr size risk units whole_units version".split()
)
MAX_PARAMS = 32
MAX_INT = 100_000
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")
_SPEC_KEYS = ("default", "min", "max", "doc")


class StrategyOutputError(EngineError):
    """A function strategy returned something that is not positions (or ran into the future)."""


def _infer(name: str, spec: Any, owner: str) -> Param:
    """A :class:`Param` from a default, a ``{"default", "min", "max", "doc"}`` dict or a Param."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ParamError(
            f"{owner}: parameter name {name!r} must be a Python identifier of at "
            "most 40 characters (letters, digits, '_')",
            str(name),
        )
    if name in RESERVED_PARAMS:
        raise ParamError(
            f"{owner}: parameter {name!r} would clash with the run option {name}=; "
            "give it another name",
            name,
        )
    if isinstance(spec, Param):
        spec = {"default": spec.default, "min": spec.min, "max": spec.max, "doc": spec.doc}
    if not isinstance(spec, Mapping):
        spec = {"default": spec}
    unknown = [k for k in spec if k not in _SPEC_KEYS]
    if unknown or "default" not in spec:
        raise ParamError(
            f"{owner}: parameter {name!r} is a default value or a dict with "
            f"'default' (and optional 'min', 'max', 'doc'); got {dict(spec)!r}",
            name,
        )
    default = spec["default"]
    if isinstance(default, (bool, np.bool_)):
        kind: type = bool
    elif isinstance(default, (int, np.integer)):
        kind = int
    elif isinstance(default, (float, np.floating)) and math.isfinite(default):
        kind = float
    else:
        raise ParamError(
            f"{owner}: parameter {name!r} needs a default that is an int, a float or "
            f"a bool (so it can be validated and swept), got {default!r}",
            name,
        )
    default = kind(default)
    lo, hi = spec.get("min"), spec.get("max")
    for which, bound in (("min", lo), ("max", hi)):
        ok = isinstance(bound, (int, float, np.integer, np.floating)) and not isinstance(
            bound, (bool, np.bool_)
        )
        if bound is not None and (kind is bool or not ok or not math.isfinite(bound)):
            raise ParamError(
                f"{owner}: parameter {name!r}'s {which} must be a finite number "
                f"(and bools take none), got {bound!r}",
                name,
            )
    if kind is not bool and lo is None and hi is None and default >= 0:
        lo, hi = (0, MAX_INT) if kind is int else (0.0, None)  # inferred from the default
    if kind is int:
        lo = None if lo is None else math.ceil(lo)
        hi = None if hi is None else math.floor(hi)
    elif lo is not None:
        lo, hi = float(lo), None if hi is None else float(hi)
    elif hi is not None:
        hi = float(hi)
    if lo is not None and hi is not None and lo > hi:
        raise ParamError(f"{owner}: parameter {name!r} has min {lo} > max {hi}", name)
    p = Param(name, kind, default, lo, hi, str(spec.get("doc") or ""))
    p.coerce(default, owner)  # the default itself must be in range
    return p


class FunctionStrategy(StrategyBase):
    """A strategy that is a Python function (see the module docstring).

    Args:
        fn: ``fn(data, **params)`` returning positions or an ``(entry, exit)`` pair.
        params: each parameter's default (``{"lookback": 60}``) or a dict with ``default``
            and optional ``min``, ``max``, ``doc``; ``fn`` must accept them as keywords.
        name: the strategy's name (default: the function's); description: a line about it
            (default: the function's docstring's first line).
        lookahead_check: refuse positions that change when later bars are removed.

    Raises:
        ParamError: a parameter that cannot be declared (name, default, bounds) or that
            ``fn`` does not accept.
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        params: Mapping[str, Any] | None = None,
        *,
        name: str | None = None,
        description: str | None = None,
        lookahead_check: bool = True,
    ) -> None:
        if not callable(fn):
            raise ParamError(f"a function strategy needs a function, got {type(fn).__name__}")
        self.fn = fn
        self.name = str(name or getattr(fn, "__name__", "") or "function").strip()
        if not 0 < len(self.name) <= 64:
            raise ParamError(f"a strategy's name is 1 to 64 characters, got {self.name!r}")
        doc = (inspect.getdoc(fn) or "").strip().splitlines()
        self.description = str(description or (doc[0] if doc else f"Python function {self.name}"))
        given = dict(params or {})
        if len(given) > MAX_PARAMS:
            raise ParamError(f"{self.name}: at most {MAX_PARAMS} parameters, got {len(given)}")
        self.params = tuple(_infer(k, v, self.name) for k, v in given.items())
        self.lookahead_check = bool(lookahead_check)
        self._check_signature()

    def _check_signature(self) -> None:
        try:
            sig = inspect.signature(self.fn)
        except (TypeError, ValueError):  # a builtin without a signature: checked when called
            return
        try:
            sig.bind(None, **self.defaults())
        except TypeError as exc:
            names = ", ".join(self.param_names) or "no parameters"
            raise ParamError(
                f"{self.name}: fn(data, **params) must accept the declared "
                f"parameters ({names}): {exc}"
            ) from None

    def spec(self) -> dict[str, Any]:
        """JSON-able description: name, description, params and ``"kind": "python"``."""
        return {**super().spec(), "kind": "python"}

    def __repr__(self) -> str:
        args = ", ".join(f"{p.name}={p.default!r}" for p in self.params)
        return f"FunctionStrategy {self.name}({args})"

    # ------------------------------------------------------------------ positions
    def positions(self, bars: Any, combos: list[Combo]) -> tuple[Any, BoolArray | None]:
        """The function's targets for every combination: int8 when every value is -1, 0 or
        1 (and for pairs, with their entry signals), else float64 (fractional)."""
        frame = _frame(bars)
        rows: list[Any] = []
        entries: list[BoolArray | None] = []
        for combo in combos:
            pos, ent = self.targets(frame, combo)
            if self.lookahead_check and not bars.cache.get(("_lookahead_ok", id(self))):
                self._check_lookahead(frame, combo, pos)
                bars.cache[("_lookahead_ok", id(self))] = True
            rows.append(pos)
            entries.append(ent)
        whole = all(r.dtype == np.int8 for r in rows)
        out = np.vstack(rows).astype(np.int8 if whole else np.float64)
        if any(e is not None for e in entries):
            ent_all = np.vstack([np.zeros(bars.n, bool) if e is None else e for e in entries])
            return out, ent_all
        return out, None

    def targets(self, data: pd.DataFrame, params: Combo) -> tuple[Any, BoolArray | None]:
        """``fn(data copy, **params)`` checked: ``(positions, entries or None)``."""
        out = self.fn(data.copy(), **params)
        where = f"{self.name}({', '.join(f'{k}={v!r}' for k, v in params.items())})"
        if isinstance(out, tuple):
            if len(out) != 2:
                raise StrategyOutputError(
                    f"{where} returned a tuple of {len(out)}; return "
                    "positions or a pair (entry, exit)"
                )
            entry = _bools(out[0], data.index, where, "entry")
            exit_ = _bools(out[1], data.index, where, "exit")
            pos = event_positions(entry, exit_)
            return pos, entry & (pos == 1)
        values = _numbers(out, data.index, where)
        whole = np.isin(values, (-1.0, 0.0, 1.0)).all()
        return (values.astype(np.int8) if whole else values), None

    def _check_lookahead(self, frame: pd.DataFrame, combo: Combo, full: Any) -> None:
        """Run ``fn`` again with the bars after a cut replaced by much higher, then much lower
        prices: a position before the cut that changes used the bars after it."""
        n = len(frame)
        cut = (2 * n) // 3
        if cut < 2:
            return
        runs = []
        for factor in (8.0, 0.125):
            changed = frame.copy()
            changed.iloc[cut:, :4] *= factor
            try:
                pos, _ = self.targets(changed, combo)
            except Exception:  # the function cannot take such prices: no conclusion
                return
            runs.append(np.asarray(pos, float)[:cut])
        base = np.asarray(full, float)[:cut]
        diff = np.zeros(cut, dtype=bool)
        for other in runs:
            diff |= ~np.isclose(other, base, rtol=1e-9, atol=1e-12)
        if diff.any():
            i = int(np.flatnonzero(diff)[0])
            seen = ", ".join(f"{r[i]:g}" for r in runs)
            k = int(diff.sum())
            raise StrategyOutputError(
                f"{self.name}: the position at {frame.index[i]} is {base[i]:g}, but {seen} when "
                f"the prices after {frame.index[cut - 1]} are changed ({_bars(k)} "
                f"{'differs' if k == 1 else 'differ'}): the function uses data from after the "
                "bar it decides on (e.g. shift(-1), a full-sample mean, center=True). Use only "
                "data up to each bar; if it is random or meant to differ, pass "
                "lookahead_check=False"
            )


def _bars(n: int) -> str:
    return f"{n} bar" if n == 1 else f"{n} bars"


def _frame(bars: Any) -> pd.DataFrame:
    """The bars as the OHLCV frame a function gets (built once per data)."""
    frame = bars.cache.get("_frame")
    if frame is None:
        cols = {
            "Open": bars.open,
            "High": bars.high,
            "Low": bars.low,
            "Close": bars.close,
            "Volume": bars.volume,
        }
        frame = bars.cache["_frame"] = pd.DataFrame(cols, index=bars.index)
    return frame  # type: ignore[no-any-return]


def _aligned(out: Any, index: pd.Index, where: str, what: str) -> Any:
    """``out`` as a 1-D array in the order of ``index`` (a Series must be on that index)."""
    n = len(index)
    if isinstance(out, pd.DataFrame):
        if out.shape[1] != 1:
            raise StrategyOutputError(
                f"{where} returned a DataFrame with {out.shape[1]} columns "
                f"as {what}; return one Series on data.index"
            )
        out = out.iloc[:, 0]
    if isinstance(out, pd.Series):
        if len(out) != n or not out.index.equals(index):
            missing = index.difference(out.index)
            extra = len(out.index.difference(index)) if len(out.index) else 0
            detail = (
                f"{len(missing)} bars of the data missing"
                + (f" (first {missing[0]})" if len(missing) else "")
                + (f", {extra} not in the data" if extra else "")
            )
            raise StrategyOutputError(
                f"{where} returned {what} on another index than the data's ({len(out)} values "
                f"for {n} bars; {detail}); return a Series on data.index, e.g. "
                "s.reindex(data.index).fillna(0)"
            )
        return out.to_numpy()
    if isinstance(out, (np.ndarray, list)):
        arr = np.asarray(out)
        if arr.ndim != 1 or len(arr) != n:
            raise StrategyOutputError(
                f"{where} returned {what} of shape {arr.shape}; the data "
                f"has {n} bars: return one value per bar"
            )
        return arr
    raise StrategyOutputError(
        f"{where} returned {type(out).__name__} as {what}; return a Series on data.index with "
        "positions in [-1, 1] (or a pair of boolean Series: entry, exit)"
    )


def _numbers(out: Any, index: pd.Index, where: str) -> FloatArray:
    raw = _aligned(out, index, where, "positions")
    if raw.dtype == bool:
        return np.asarray(raw, dtype=np.float64)
    if raw.dtype.kind not in "iuf":
        raise StrategyOutputError(
            f"{where} returned positions of dtype {raw.dtype}; positions "
            "are numbers in [-1, 1] (floats or ints)"
        )
    values = np.asarray(raw, dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        first = index[np.flatnonzero(bad)[0]]
        raise StrategyOutputError(
            f"{where} returned NaN/inf positions at {_bars(int(bad.sum()))} (first {first}); a "
            "position must be a number on every bar: fill the warm-up with 0, e.g. .fillna(0)"
        )
    outside = (values < -1.0) | (values > 1.0)
    if outside.any():
        i = np.flatnonzero(outside)[0]
        raise StrategyOutputError(
            f"{where} returned positions outside [-1, 1] at {_bars(int(outside.sum()))} (first "
            f"{values[i]:g} at {index[i]}); a position is a fraction of equity (1 all-in long, "
            "-1 all-in short, no leverage): scale it or .clip(-1, 1)"
        )
    return values


def _bools(out: Any, index: pd.Index, where: str, what: str) -> BoolArray:
    raw = _aligned(out, index, where, what)
    if raw.dtype == bool:
        return np.asarray(raw, dtype=bool)
    if raw.dtype.kind in "iuf":
        values = np.asarray(raw, dtype=np.float64)
        if np.isin(values, (0.0, 1.0)).all():
            return np.asarray(values == 1.0, dtype=bool)
    bad = pd.isna(raw).sum() if raw.dtype == object else 0
    raise StrategyOutputError(
        f"{where} returned {what} of dtype {raw.dtype}"
        + (f" with {bad} NaN" if bad else "")
        + f"; {what} must be a boolean Series (True on the bars that signal), e.g. "
        "data.Close > data.Close.rolling(50).mean()"
    )
