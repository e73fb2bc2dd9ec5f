"""Argument helpers for the backtest commands: slash-command text to typed values.

Every helper raises ``ProtocolError(BAD_ARGUMENT or NOT_FOUND)`` with a message saying what was
wrong and what would be right; :func:`translated` turns the service's domain errors
(:mod:`..errors`) into the same, for every handler it wraps.

Example:
    >>> parse_range("fast", "5:15:5")
    [5, 10, 15]
    >>> parse_range("k", "1.5,2.0")
    [1.5, 2.0]
    >>> parse_date("start", "2020-01-31")
    '2020-01-31'
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from chatops_widget._lazy import lazy_module
from chatops_widget.protocol import (
    MAX_PARAM_MAGNITUDE,
    RUN_ID_PATTERN,
    ErrorCode,
    ProtocolError,
)

from ..errors import BacktestError, did_you_mean, to_protocol
from ..resolve import MAX_COMBOS, check_date

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = [
    "bad",
    "check_bare_params",
    "check_options",
    "no_arguments",
    "not_found",
    "parse_date",
    "parse_dates",
    "parse_float",
    "parse_range",
    "parse_run_id",
    "require_grid",
    "translated",
]

_RUN_RE = re.compile(RUN_ID_PATTERN)
F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def bad(message: str) -> ProtocolError:
    """``ProtocolError(BAD_ARGUMENT, message)``."""
    return ProtocolError(ErrorCode.BAD_ARGUMENT, message)


def not_found(message: str) -> ProtocolError:
    """``ProtocolError(NOT_FOUND, message)``."""
    return ProtocolError(ErrorCode.NOT_FOUND, message)


def translated(fn: F) -> F:
    """Wrap a handler so the service's :class:`~..errors.BacktestError` reach the client as
    ``ProtocolError`` (with the same message and its code)."""

    @functools.wraps(fn)
    async def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return await fn(*args, **kwargs)
        except BacktestError as exc:
            raise to_protocol(exc) from None

    return call  # type: ignore[return-value]


def check_options(options: dict[str, str], allowed: set[str], usage: str) -> None:
    """Reject option names outside ``allowed`` (strategy params are checked by the engine)."""
    for key in options:
        if key not in allowed:
            raise bad(
                f"unknown option '{key}'{did_you_mean(key, sorted(allowed))}; "
                f"allowed: {', '.join(sorted(allowed))}. Usage: {usage}"
            )


def no_arguments(command: Any, usage: str) -> None:
    """Refuse any argument to a command that takes none (``/data``, ``/strategies``, ...)."""
    extra = [*command.args, *(f"{k}={v}" for k, v in command.options.items())]
    if extra:
        raise bad(f"/{command.name} takes no arguments (got {' '.join(extra)!r}). Usage: {usage}")


def _example(param: Any, sweep: bool = False) -> str:
    """An example value for a template param: ``10``, or a sweep range such as ``5:50:5``."""
    d = param.default
    if isinstance(d, bool) or param.type is bool:
        return "true,false" if sweep else "true"
    if not sweep:
        return f"{d}"
    if isinstance(d, int):
        lo = max(1, d // 2, param.min or 1)
        hi = min(d * 5, param.max) if param.max is not None else d * 5
        return f"{lo}:{max(hi, lo)}:{lo}"
    step = abs(d) / 2 if d else 0.01
    lo, hi = (d / 2, d * 2) if d > 0 else (d - 5 * step, d + 5 * step)
    lo = max(lo, param.min) if param.min is not None else lo
    hi = min(hi, param.max) if param.max is not None else hi
    return f"{lo:g}:{hi:g}:{step:g}"


def check_bare_params(tokens: list[str], template: Any, sweep: bool = False) -> None:
    """A bare token that names one of ``template``'s params (``fast`` for ``fast=10``) is refused
    with an example: ``` `fast` needs a value, e.g. fast=10 ```."""
    params = {p.name: p for p in getattr(template, "params", ())}
    for tok in tokens:
        p = params.get(tok.strip().lower())
        if p is not None:
            raise bad(f"`{tok}` needs a value, e.g. {p.name}={_example(p, sweep)}")


def require_grid(ranges: dict[str, str], template: Any) -> None:
    """A sweep needs at least one ``param=lo:hi:step`` (or ``a,b,c``); say so with an example."""
    if ranges:
        return
    params = [p for p in template.params if p.type is not bool] or list(template.params)
    if not params:
        raise bad(f"{template.name} has no parameters to sweep; use /run_backtest {template.name}")
    p = params[0]
    raise bad(
        f"give at least one parameter range, e.g. {p.name}={_example(p, sweep=True)} "
        f"({template.name} params: {', '.join(q.name for q in template.params)})"
    )


def parse_date(name: str, text: str | None) -> str | None:
    """Validate a ``start``/``end`` date; returns it as ``YYYY-MM-DD`` (or ``None``)."""
    try:
        return check_date(name, text)
    except BacktestError as exc:
        raise to_protocol(exc) from None


def parse_dates(options: dict[str, str]) -> tuple[str | None, str | None]:
    """``start``/``end`` from ``options``, checked and in order."""
    start = parse_date("start", options.get("start"))
    end = parse_date("end", options.get("end"))
    if start and end and pd.Timestamp(start) > pd.Timestamp(end):
        raise bad(f"start={start} is after end={end}; give start <= end")
    return start, end


def parse_float(name: str, text: str | None, default: float, lo: float, hi: float) -> float:
    """A float option within ``[lo, hi]``, e.g. ``cash`` or ``commission``."""
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise bad(f"{name}={text!r} is not a number; e.g. {name}={default:g}") from None
    if not lo <= value <= hi:
        raise bad(f"{name}={text} is out of range; it must be between {lo:g} and {hi:g}")
    return value


def _number(name: str, text: str) -> int | float | str:
    t = text.strip()
    if t.lower() in {"true", "false", "yes", "no", "on", "off"}:
        return t.lower()
    try:
        value: int | float = int(t) if re.fullmatch(r"[+-]?\d{1,18}", t) else float(t)
    except ValueError:
        if not re.fullmatch(r"[+-]?\d+", t):
            raise bad(
                f"{name}={text!r:.60}: expected a number, a list a,b,c or a range lo:hi:step "
                f"(e.g. {name}=5:50:5)"
            ) from None
        value = math.inf  # more digits than any parameter needs
    if not math.isfinite(value) or abs(value) > MAX_PARAM_MAGNITUDE:
        raise bad(
            f"{name}={text!r:.60}: {t[:30]!r} is not a usable number; values must be finite and "
            f"at most {MAX_PARAM_MAGNITUDE:g} in size (e.g. {name}=5:50:5)"
        )
    return value


def parse_range(name: str, text: str) -> list[Any]:
    """A sweep value: ``lo:hi:step`` (inclusive of hi), ``a,b,c`` or a single value."""
    if ":" in text:
        parts = text.split(":")
        if len(parts) not in (2, 3) or not all(p.strip() for p in parts):
            raise bad(f"{name}={text!r}: a range is lo:hi:step, e.g. {name}=5:50:5")
        nums: list[float] = []
        for p in parts:
            n = _number(name, p)
            if isinstance(n, str):
                raise bad(f"{name}={text!r}: range bounds must be numbers, e.g. {name}=5:50:5")
            nums.append(n)
        lo, hi = nums[0], nums[1]
        step = nums[2] if len(nums) == 3 else 1
        if step <= 0:
            raise bad(f"{name}={text!r}: the step must be > 0, e.g. {name}={lo}:{hi}:1")
        if hi < lo:
            raise bad(f"{name}={text!r}: lo must be <= hi, e.g. {name}={hi}:{lo}:{step}")
        span = (hi - lo) / step  # finite bounds, but a tiny step makes it huge (or inf)
        if not span <= MAX_COMBOS:
            raise bad(
                f"{name}={text!r:.60} has more than {MAX_COMBOS:,} values; the limit is "
                f"{MAX_COMBOS:,} (use a larger step)"
            )
        count = int(span + 1e-9) + 1
        if isinstance(lo, int) and isinstance(hi, int) and isinstance(step, int):
            return list(range(lo, hi + 1, step))
        return [round(lo + i * step, 10) for i in range(count)]
    values = [_number(name, v) for v in text.split(",") if v.strip()]
    if not values:
        raise bad(f"{name}= is empty; give a value, a list a,b,c or a range lo:hi:step")
    return values


def parse_run_id(text: str) -> str:
    """Check a run id's shape (``run_`` + letters/digits)."""
    if not _RUN_RE.fullmatch(text):
        raise bad(f"{text!r} is not a run id; run ids look like run_3fa2b1c4d5e6 (see /status)")
    return text
