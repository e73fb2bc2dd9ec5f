"""Orders: stops, targets and position sizing, validated once for :func:`backtest` and
:func:`sweep`.

Every strategy (template or rule) takes the same order settings:

- ``stop_loss=f`` -- exit when the price falls ``f`` below a long's entry price (rises above a
  short's); ``take_profit=f`` -- exit ``f`` above a long's entry (below a short's);
- ``trailing_stop=f`` -- a stop ``f`` below the highest close since entry (or the entry price),
  or ``trailing_stop="atr(14)*3"`` / ``trailing_atr=(14, 3.0)`` -- 3 Wilder ATRs(14) below it;
- ``size=w`` -- each entry buys with the fraction ``w`` of equity (default 1: all-in);
  ``risk=r`` -- size each entry so that hitting the stop loses ``r`` of equity (needs
  ``stop_loss``; capped at ``size``); ``units=u`` -- a fixed number of units per entry;
  ``whole_units=True`` -- round units down to whole numbers as backtesting.py does.

Fractions may be given as numbers or chat-style strings (``"0.05"``, ``"5%"``). Fill rules are
in :mod:`._events` and docs/strategies.md.

Example:
    >>> o = Orders.from_kwargs(stop_loss="5%", take_profit=0.12, trailing_stop="atr(14)*3")
    >>> o.stop_loss, o.take_profit, o.trailing_atr, o.has_stops
    (0.05, 0.12, (14, 3.0), True)
    >>> Orders.from_kwargs(risk=0.01)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    chatops_widget.engine._errors.EngineError: risk=0.01 sizes each entry so ... stop_loss=0.05)
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from typing import Any

from ._errors import EngineError

__all__ = ["Orders"]

MAX_WINDOW = 100_000
_ATR = re.compile(
    r"^\s*(?:atr\(\s*(\d+)\s*\)\s*\*\s*([0-9.eE+]+)|([0-9.eE+]+)\s*\*\s*atr\(\s*(\d+)\s*\))\s*$"
)


def _fraction(name: str, value: Any) -> float:
    """A number, ``"0.05"`` or ``"5%"`` as a float (range checks are the caller's)."""
    if isinstance(value, bool):
        raise EngineError(f"{name} must be a number such as 0.05 or '5%', got {value!r}")
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text[:-1]) / 100.0 if text.endswith("%") else float(text)
        except ValueError:
            raise EngineError(
                f"{name} must be a number such as 0.05 or '5%', got {value!r}"
            ) from None
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise EngineError(f"{name} must be a number such as 0.05 or '5%', got {value!r}") from None
    if not math.isfinite(out):
        raise EngineError(f"{name} must be a finite number, got {value!r}")
    return out


def _in(name: str, v: float, lo: float, hi: float, what: str, hi_open: bool = True) -> float:
    if not math.isfinite(v) or v <= lo or (v >= hi if hi_open else v > hi):
        bracket = ")" if hi_open else "]"
        raise EngineError(f"{name} is {what}, in ({lo:g}, {hi:g}{bracket}; got {v:g}")
    return v


def _atr_spec(value: Any) -> tuple[int, float]:
    if isinstance(value, str):
        m = _ATR.match(value.lower())
        if not m:
            raise EngineError(
                f"trailing_atr must look like 'atr(14)*3' or (14, 3.0), got {value!r}"
            )
        n, k = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        value = (n, k)
    try:
        n_raw, k_raw = value
        n, k = float(n_raw), float(k_raw)
    except (TypeError, ValueError):
        raise EngineError(
            f"trailing_atr is (ATR window, multiple), e.g. (14, 3.0) or 'atr(14)*3'; got {value!r}"
        ) from None
    if not n.is_integer() or not 1 <= n <= MAX_WINDOW:
        raise EngineError(
            f"trailing_atr's ATR window must be a whole number of bars in [1, {MAX_WINDOW}], "
            f"got {n_raw!r}"
        )
    _in("trailing_atr's multiple", k, 0.0, 100.0, "the number of ATRs between price and stop")
    return int(n), k


@dataclass(frozen=True)
class Orders:
    """Validated order settings (all optional; the default is all-in with no stops)."""

    stop_loss: float | None = None
    take_profit: float | None = None
    trailing_stop: float | None = None
    trailing_atr: tuple[int, float] | None = None
    size: float | None = None
    risk: float | None = None
    units: float | None = None
    whole_units: bool = False

    @classmethod
    def from_kwargs(
        cls,
        stop_loss: Any = None,
        take_profit: Any = None,
        trailing_stop: Any = None,
        trailing_atr: Any = None,
        size: Any = None,
        risk: Any = None,
        units: Any = None,
        whole_units: Any = False,
    ) -> Orders:
        """Check every setting; :class:`EngineError` says what is wrong and what is right."""
        sl = tp = ts = None
        if stop_loss is not None:
            sl = _in("stop_loss", _fraction("stop_loss", stop_loss), 0.0, 1.0,
                     "a fraction of the entry price (0.05: 5 % below a long's entry)")  # fmt: skip
        if take_profit is not None:
            tp = _in("take_profit", _fraction("take_profit", take_profit), 0.0, 100.0,
                     "a fraction of the entry price (0.12: 12 % above a long's entry)")  # fmt: skip
        atr = None
        if isinstance(trailing_stop, str) and "atr" in trailing_stop.lower():
            atr = _atr_spec(trailing_stop)
        elif trailing_stop is not None:
            ts = _in("trailing_stop", _fraction("trailing_stop", trailing_stop), 0.0, 1.0,
                     "a fraction below the highest close since entry (or 'atr(14)*3')")  # fmt: skip
        if trailing_atr is not None:
            if atr is not None or ts is not None:
                raise EngineError("give one trailing stop: trailing_stop= or trailing_atr=")
            atr = _atr_spec(trailing_atr)
        w = r = u = None
        if size is not None:
            w = _in("size", _fraction("size", size), 0.0, 1.0,
                    "the fraction of equity each entry uses (no leverage)", False)  # fmt: skip
        if risk is not None:
            r = _in("risk", _fraction("risk", risk), 0.0, 1.0,
                    "the fraction of equity lost if the stop is hit (0.01: 1 %)")  # fmt: skip
            if sl is None:
                raise EngineError(
                    f"risk={r:g} sizes each entry so that hitting the stop loses {r * 100:g} % "
                    "of equity, so it needs stop_loss= (e.g. stop_loss=0.05)"
                )
        if units is not None:
            if w is not None or r is not None:
                raise EngineError(
                    "give one way of sizing: size= (fraction of equity), risk= (with "
                    "stop_loss=) or units= (fixed units); units= cannot be combined"
                )
            u = _fraction("units", units)
            if not u > 0:
                raise EngineError(f"units is the number of units per entry, > 0; got {u:g}")
        if not isinstance(whole_units, bool):
            text = str(whole_units).strip().lower()
            if text not in ("true", "false", "1", "0", "yes", "no"):
                raise EngineError(f"whole_units must be true or false, got {whole_units!r}")
            whole_units = text in ("true", "1", "yes")
        if whole_units and u is not None and not u.is_integer():
            raise EngineError(f"units={u:g} is not a whole number, but whole_units=True")
        return cls(sl, tp, ts, atr, w, r, u, bool(whole_units))

    @property
    def has_stops(self) -> bool:
        """True if any stop or target is set."""
        return any(
            x is not None
            for x in (self.stop_loss, self.take_profit, self.trailing_stop, self.trailing_atr)
        )

    @property
    def vectorized(self) -> bool:
        """True when the all-vectorized simulation applies (no stops, fraction sizing)."""
        return not self.has_stops and self.units is None and not self.whole_units

    @property
    def weight(self) -> float:
        """The fraction of equity per entry when sizing by fraction (``size``, default 1)."""
        return 1.0 if self.size is None else self.size

    def check_bars(self, n_bars: int) -> None:
        """The ATR window of ``trailing_atr`` must fit the data."""
        if self.trailing_atr is not None and self.trailing_atr[0] >= n_bars:
            n, k = self.trailing_atr
            raise EngineError(
                f"trailing_atr=({n}, {k:g}) needs more than {n} bars of data, but the data "
                f"has {n_bars}; use a shorter ATR window or more data"
            )

    def as_dict(self) -> dict[str, Any]:
        """The settings as a JSON-able dict (``None`` for unset ones)."""
        d = asdict(self)
        if self.trailing_atr is not None:
            d["trailing_atr"] = list(self.trailing_atr)
        return d
