"""The Python call a run equals: the panel's "copy as code" and the cells of an exported notebook.

A run is known by the command it ran (``/run_backtest strategy_1 fast=12``, echoed into the chat
for runs started from Python too); :func:`python_call` writes it with the kernel API
(``client.trigger_backtest``, ``client.compare_strategies``, ``client.sweep``). A backtest's
call also pins the first and last bar it used (from its stats) when the command named no
dates, so the call gives the same result after new bars are added to the symbol.

Example:
    >>> python_call("/run_backtest strategy_1 fast=12 commission=0.0005")
    "client.trigger_backtest('strategy_1', fast=12, commission=0.0005).result()"
    >>> python_call("/sweep sma_cross symbol=ALPHA fast=5:50:5 slow=20,40 split=2021-01-01", "w")
    "w.sweep('sma_cross', 'ALPHA', fast=range(5, 51, 5), slow=[20, 40], split='2021-01-01')"
    >>> python_call("/compare_strategies strategy_1 strategy_2 start=2020-01-01")
    "client.compare_strategies('strategy_1', 'strategy_2', start='2020-01-01')"
"""

from __future__ import annotations

import re
import shlex
from typing import Any

__all__ = ["python_call", "run_variable"]

_INT = re.compile(r"^[+-]?\d+$")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_BOOLS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}
_METHODS = {"run_backtest": "trigger_backtest", "compare_strategies": "compare_strategies",
            "sweep": "sweep"}  # fmt: skip


def _value(text: str) -> Any:
    """A command value as Python: ``12`` -> 12, ``0.5`` -> 0.5, ``true`` -> True, else a str."""
    t = text.strip()
    if _INT.match(t):
        return int(t)
    try:
        return float(t)
    except ValueError:
        return _BOOLS.get(t.lower(), t)


def _grid(text: str) -> str:
    """A swept value as Python source: ``5:50:5`` -> ``range(5, 51, 5)``, ``a,b`` -> a list."""
    if ":" in text:
        parts = [_value(p) for p in text.split(":")]
        lo, hi, step = [*parts, 1][:3]
        if all(isinstance(v, int) for v in (lo, hi, step)):
            return f"range({lo}, {hi + 1}, {step})"
        count = int((hi - lo) / step + 1e-9) + 1
        return repr([round(lo + i * step, 10) for i in range(count)])
    values = [_value(v) for v in text.split(",") if v.strip()]
    return repr(values[0]) if len(values) == 1 else repr(values)


def _day(value: Any) -> str | None:
    """``YYYY-MM-DD`` of an ISO timestamp (a bar's time of day kept when it has one)."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    return value[:10] if value[10:].strip("T0:.Z+") == "" else value


def python_call(
    command: str, receiver: str = "client", summary: dict[str, Any] | None = None
) -> str | None:
    """The kernel call equal to run ``command`` on ``receiver`` (``client``, or the widget's
    variable), or None when ``command`` is no run command. ``summary`` (the run's) pins a
    backtest's dates.

    >>> python_call("/run_backtest sma_cross symbol=ALPHA", "w",
    ...             {"stats": {"start": "2015-01-02T00:00:00", "end": "2024-12-31T00:00:00"}})
    "w.trigger_backtest('sma_cross', symbol='ALPHA', start='2015-01-02', end='2024-12-31').result()"
    >>> python_call("/status") is None
    True
    """
    try:
        tokens = shlex.split(command or "")
    except ValueError:
        return None
    if not tokens or not tokens[0].startswith("/") or tokens[0][1:].lower() not in _METHODS:
        return None
    name = tokens[0][1:].lower()
    args = [t for t in tokens[1:] if "=" not in t]
    options = dict(t.split("=", 1) for t in tokens[1:] if "=" in t)
    options.pop("run_id", None)
    if any(not _KEY.match(k) for k in options):
        return None
    stats = (summary or {}).get("stats") or {}
    if name == "run_backtest":
        for key in ("start", "end"):
            if key not in options and _day(stats.get(key)):
                options[key] = str(_day(stats.get(key)))
    parts = [repr(a) for a in args]
    if name == "sweep":
        parts.append(repr(options.pop("symbol", "")))
        fixed = {"start", "end", "cash", "commission", "spread", "split", "sort"}
        parts += [f"{k}={repr(_value(v)) if k in fixed else _grid(v)}" for k, v in options.items()]
    else:
        parts += [f"{k}={_value(v)!r}" for k, v in options.items()]
    call = f"{receiver}.{_METHODS[name]}({', '.join(parts)})"
    return call + ".result()" if name == "run_backtest" else call


def run_variable(run_id: str) -> str:
    """A Python name for a run's result in exported code: ``run_3fa2`` -> ``r_3fa2``.

    >>> run_variable("run_3fa2b1c4d5e6")
    'r_3fa2b1c4d5e6'
    """
    return "r_" + re.sub(r"\W", "_", run_id.removeprefix("run_"))
