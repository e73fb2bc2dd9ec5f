"""Kernel keyword arguments as protocol requests: ``trigger_backtest("strategy_1", fast=12)``
becomes the fields of a typed ``startRun`` (order settings such as ``stop_loss=0.05`` go into
its ``orders``); ``create_strategy`` stays a chat command, written with :func:`command_text`.

Example:
    >>> import pandas as pd
    >>> run_fields("sweep", ["sma_cross"], {"symbol": "ALPHA", "fast": range(5, 20, 5),
    ...                                     "slow": 30, "start": pd.Timestamp("2020-01-01")})
    {'kind': 'sweep', 'targets': ['sma_cross'], 'symbol': 'ALPHA', 'start': '2020-01-01', 'params': {'slow': 30}, 'grid': {'fast': [5, 10, 15]}}
    >>> run_fields("backtest", ["dip"], {"stop_loss": 0.05, "take_profit": "12%"})
    {'kind': 'backtest', 'targets': ['dip'], 'orders': {'stop_loss': 0.05, 'take_profit': '12%'}}
    >>> command_text("create_strategy", ["sma_cross"], {"symbol": "ALPHA", "name": "my one"})
    "/create_strategy sma_cross symbol=ALPHA name='my one'"
"""  # noqa: E501

from __future__ import annotations

import datetime as _dt
import shlex
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._lazy import lazy_module
from ..protocol import ORDER_OPTIONS, new_session_id

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

__all__ = ["ORDERS", "command_text", "run_fields", "unique_session_id"]

#: Options every run takes (the rest are strategy parameters).
_OPTIONS = ("symbol", "start", "end", "cash", "commission", "spread", "split", "sort")
_COSTS = ("cash", "commission", "spread")
#: Order settings (stops, targets, sizing): ``startRun.orders``.
ORDERS = tuple(ORDER_OPTIONS)  # the protocol's names, in its order


def _plain(value: Any, name: str) -> Any:
    """A JSON value for the wire: dates as ``YYYY-MM-DD``, numpy scalars as Python."""
    if isinstance(value, (pd.Timestamp, _dt.datetime, _dt.date, np.datetime64)):
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(
        f"{name}={value!r}: expected a number, a boolean, a string or a date, "
        f"not {type(value).__name__}"
    )


def _values(value: Any, name: str) -> list[Any] | None:
    """The values of a swept parameter (a range, list, tuple or array), else ``None``."""
    if isinstance(value, range):
        if len(value) == 0:
            raise ValueError(f"{name}={value!r} is an empty range")
        return list(value)
    if isinstance(value, (list, tuple, np.ndarray, pd.Index, pd.Series)):
        values = [_plain(v, name) for v in list(value)]
        if not values:
            raise ValueError(f"{name} has no values")
        return values
    return None


def run_fields(kind: str, targets: list[str], options: Mapping[str, Any]) -> dict[str, Any]:
    """The ``startRun`` fields for ``kind`` on ``targets`` with keyword ``options``: the known
    options (symbol, dates, costs, split, sort) as themselves, order settings as ``orders``,
    parameters as ``params`` (single values) or, for a sweep, ``grid`` (ranges, lists)."""
    fields: dict[str, Any] = {"kind": kind, "targets": [str(t) for t in targets]}
    params: dict[str, Any] = {}
    grid: dict[str, list[Any]] = {}
    orders: dict[str, Any] = {}
    for key, value in options.items():
        if value is None:
            continue
        if key in ORDERS:
            v = _orders_value(value, key)
            orders[key] = v
            continue
        if key in _OPTIONS:
            v = _plain(value, key)
            # costs are floats on the wire; anything else goes as is, for the server to refuse
            number = isinstance(v, (int, float)) and not isinstance(v, bool)
            fields[key] = float(v) if key in _COSTS and number else v
            continue
        values = _values(value, key)
        if values is None:
            params[key] = _plain(value, key)
        elif kind == "sweep":
            grid[key] = values
        else:
            raise ValueError(f"{key}: a {kind} takes one value per parameter; ranges are for sweep")
    if orders:
        fields["orders"] = orders
    if params:
        fields["params"] = params
    if grid:
        fields["grid"] = grid
    return fields


def _orders_value(value: Any, name: str) -> Any:
    """An order setting for the wire: a number, a bool (``whole_units``) or text (``"5%"``,
    ``"atr(14)*3"``); a ``(window, multiple)`` pair for ``trailing_stop`` becomes
    ``"atr(window)*multiple"``."""
    if name == "trailing_stop" and isinstance(value, (tuple, list)) and len(value) == 2:
        return f"atr({_plain(value[0], name)})*{_plain(value[1], name)}"
    return _plain(value, name)


def command_text(name: str, args: list[str], options: Mapping[str, Any]) -> str:
    """``/name args key=value ...`` with shell quoting where needed (``None`` values left out)."""
    parts = [f"/{name}", *map(shlex.quote, args)]
    for key, value in options.items():
        if value is None:
            continue
        v = _orders_value(value, key) if key in ORDERS else _plain(value, key)
        text = ("true" if v else "false") if isinstance(v, bool) else str(v)
        parts.append(f"{key}={shlex.quote(text)}")
    return " ".join(parts)


_session_ids, _last_session_ms = threading.Lock(), 0  # the newest id given out here


def unique_session_id(current: str | None = None) -> str:
    """A new ``session_<epoch ms>``, never given out before in this process (two clients in the
    same millisecond get two), nor ``current``.

    >>> unique_session_id() != unique_session_id()
    True
    """
    global _last_session_ms
    with _session_ids:
        ms = max(int(new_session_id().rpartition("_")[2]), _last_session_ms + 1)
        _last_session_ms = ms = ms + (f"session_{ms}" == current)
    return f"session_{ms}"
