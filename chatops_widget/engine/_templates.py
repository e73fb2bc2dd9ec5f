"""Declarative, self-describing strategy templates and their parameter validation.

A :class:`Template` is a name, a one-line description, a tuple of :class:`Param` specs and a
vectorized signal function. ``Template.spec()`` is JSON-able (for ``/help`` and autocomplete);
``Template.validate(params, n_bars)`` fills defaults, coerces chat-style strings (``"10"``,
``"true"``), and raises :class:`ParamError` naming the parameter for an unknown name (with
"did you mean"), a wrong type, a value out of range, an inconsistent pair (``fast >= slow``) or
a window longer than the data.

The registry of named templates is :mod:`._registry`; the built-ins are in :mod:`._builtins`.

Example:
    >>> from chatops_widget.engine import templates
    >>> t = templates()["sma_cross"]
    >>> t.validate({"fast": "5"}, n_bars=500)
    {'fast': 5, 'slow': 30, 'short': False}
"""

from __future__ import annotations

import difflib
import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._lazy import lazy_module
from ._errors import ParamError

if TYPE_CHECKING:
    import numpy as np

    from ._types import BoolArray, Int8Array
else:
    np = lazy_module("numpy")

_TRUE = {"true", "yes", "on", "1", "y", "t"}
_FALSE = {"false", "no", "off", "0", "n", "f"}


@dataclass(frozen=True)
class Param:
    """One strategy parameter: ``type`` is ``int``, ``float`` or ``bool``; min/max inclusive."""

    name: str
    type: type
    default: Any
    min: float | None = None
    max: float | None = None
    doc: str = ""

    def coerce(self, value: Any, strategy: str) -> Any:
        """Return ``value`` as this parameter's type or raise :class:`ParamError`."""
        want = self.type.__name__
        where = f"{strategy}: parameter {self.name!r}"
        if self.type is bool:
            if isinstance(value, (bool, np.bool_)):
                return bool(value)
            if isinstance(value, (int, np.integer)) and value in (0, 1):
                return bool(value)
            if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
                return value.strip().lower() in _TRUE
            raise ParamError(f"{where} must be a bool (true/false), got {value!r}", self.name)
        if isinstance(value, (bool, np.bool_)):
            raise ParamError(f"{where} must be {want}, got bool {value!r}", self.name)
        if isinstance(value, str):
            try:
                value = float(value.strip()) if self.type is float else _parse_int(value)
            except ValueError:
                raise ParamError(f"{where} must be {want}, got {value!r}", self.name) from None
        if self.type is int:
            if isinstance(value, (int, np.integer)) or (
                isinstance(value, (float, np.floating)) and float(value).is_integer()
            ):
                value = int(value)
            else:
                raise ParamError(f"{where} must be an int, got {value!r}", self.name)
        else:
            if not isinstance(value, (int, float, np.integer, np.floating)) or not np.isfinite(
                value
            ):
                raise ParamError(f"{where} must be a finite float, got {value!r}", self.name)
            value = float(value)
        lo = "-inf" if self.min is None else self.min
        hi = "inf" if self.max is None else self.max
        if (self.min is not None and value < self.min) or (
            self.max is not None and value > self.max
        ):
            raise ParamError(f"{where} must be in [{lo}, {hi}], got {value}", self.name)
        return value

    def spec(self) -> dict[str, Any]:
        """JSON-able description."""
        return {
            "name": self.name,
            "type": self.type.__name__,
            "default": self.default,
            "min": self.min,
            "max": self.max,
            "doc": self.doc,
        }


def _parse_int(text: str) -> int:
    f = float(text.strip())
    if not f.is_integer():
        raise ValueError(text)
    return int(f)


Combo = dict[str, Any]
"""One validated parameter combination (name -> value)."""

# signal(bars, combos) -> (len(combos), n_bars) int8 positions decided at each bar's close
SignalFn = Callable[[Any, list[Combo]], "Int8Array"]


class StrategyBase:
    """What :func:`backtest` and :func:`sweep` need from a strategy: a ``name``, ``params``
    (:class:`Param` specs), ``check``/``warmup`` hooks and :meth:`positions`. Shared by
    :class:`Template` and :class:`~chatops_widget.engine.rules.RuleStrategy`.

    ``check(params)`` returns ``(param, message)`` for a forbidden combination or ``None``;
    ``warmup(params)`` returns ``(param, bars)``: the bars needed before the first signal and
    the parameter that sets it.
    """

    name: str
    description: str
    params: tuple[Param, ...]

    def check(self, params: Combo) -> tuple[str, str] | None:
        """``(param, message)`` if ``params`` are a forbidden combination (default: none)."""
        return None

    def warmup(self, params: Combo) -> tuple[str | None, int]:
        """``(param, bars)``: bars needed before the first signal, and what sets them."""
        return None, 1

    def precompute(self, bars: Any, combos: list[Combo]) -> None:
        """Compute once what the chunks of a sweep of ``combos`` share (e.g. every indicator
        of the grid, kept in ``bars.cache``), before they run (on several threads). Default:
        nothing; chunks then compute and cache as they go."""

    def fills(self, bars: Any, combos: list[Combo]) -> Any:
        """``(row, bar, position)``: the fills of the long/flat target positions of
        ``combos`` (sorted by row, then bar; a fill at ``bar`` is decided on the close before),
        when the strategy finds them without the positions matrix; ``None`` (the default):
        use :meth:`positions`."""
        return None

    def positions(self, bars: Any, combos: list[Combo]) -> tuple[Int8Array, BoolArray | None]:
        """Target positions ``(len(combos), n_bars)`` and, optionally, entry signals (bars on
        whose close an entry is signalled even if the target does not change; used to re-enter
        after a stop). ``None``: only changes of the target are entries."""
        raise NotImplementedError

    @property
    def param_names(self) -> list[str]:
        """Parameter names in declaration order."""
        return [p.name for p in self.params]

    def defaults(self) -> Combo:
        """Default value of every parameter."""
        return {p.name: p.default for p in self.params}

    def coerce(self, params: Mapping[str, Any] | None) -> Combo:
        """Defaults + type/range checks for each given value (no cross-parameter checks)."""
        if params is not None and not isinstance(params, Mapping):
            raise ParamError(f"{self.name}: params must be a dict, got {type(params).__name__}")
        specs = {p.name: p for p in self.params}
        out = self.defaults()
        for key, value in dict(params or {}).items():
            if key not in specs:
                close = difflib.get_close_matches(str(key), list(specs), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                valid = ", ".join(specs) or "none (this strategy takes no parameters)"
                raise ParamError(
                    f"{self.name}: unknown parameter {key!r}{hint}; valid: {valid}", str(key)
                )
            out[key] = specs[key].coerce(value, self.name)
        return out

    def problem(self, params: Combo, n_bars: int | None) -> tuple[str | None, str] | None:
        """``(param, message)`` if coerced ``params`` are forbidden (or too long for the data)."""
        bad = self.check(params)
        if bad:
            return bad
        if n_bars is not None:
            pname, need = self.warmup(params)
            if need >= n_bars:
                what = f"{pname}={params[pname]}" if pname else "this strategy"
                return pname, (
                    f"{self.name}: {what} needs more than {need} bars of data, "
                    f"but the data has {n_bars}; use a shorter window or more data"
                )
        return None

    def validate(self, params: Mapping[str, Any] | None = None, n_bars: int | None = None) -> Combo:
        """Full validation: return the complete parameter dict or raise :class:`ParamError`."""
        out = self.coerce(params)
        bad = self.problem(out, n_bars)
        if bad:
            raise ParamError(bad[1], bad[0])
        return out

    def spec(self) -> dict[str, Any]:
        """JSON-able description: name, description, params."""
        return {
            "name": self.name,
            "description": self.description,
            "params": [p.spec() for p in self.params],
        }

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td><code>{html.escape(p.name)}</code></td><td>{p.type.__name__}</td>"
            f"<td>{p.default}</td>"
            f"<td>{'' if p.min is None else p.min}..{'' if p.max is None else p.max}</td>"
            f"<td>{html.escape(p.doc)}</td></tr>"
            for p in self.params
        )
        return (
            f"<b>{html.escape(self.name)}</b>: {html.escape(self.description)}<table><tr>"
            f"<th>param</th><th>type</th><th>default</th><th>range</th><th>doc</th></tr>{rows}"
            "</table>"
        )


def _no_check(params: Combo) -> tuple[str, str] | None:
    return None


def _one_bar(params: Combo) -> tuple[str | None, int]:
    return None, 1


def _nothing(bars: Any, combos: list[Combo]) -> None:
    return None


def no_fills(bars: Any, combos: list[Combo]) -> Any:
    return None


@dataclass(frozen=True)
class Template(StrategyBase):
    """A named, parameterized strategy with a vectorized ``signal`` function (see
    :class:`StrategyBase` for ``check`` and ``warmup``)."""

    name: str
    description: str
    params: tuple[Param, ...]
    signal: SignalFn = field(repr=False)
    check: Callable[[Combo], tuple[str, str] | None] = field(repr=False, default=_no_check)  # type: ignore[assignment]
    warmup: Callable[[Combo], tuple[str | None, int]] = field(repr=False, default=_one_bar)  # type: ignore[assignment]
    precompute: Callable[[Any, list[Combo]], None] = field(repr=False, default=_nothing)  # type: ignore[assignment]
    fills: Callable[[Any, list[Combo]], Any] = field(repr=False, default=no_fills)  # type: ignore[assignment]

    def positions(self, bars: Any, combos: list[Combo]) -> tuple[Int8Array, BoolArray | None]:
        """The signal function's positions; entries are the changes of the target."""
        return self.signal(bars, combos), None
