"""What can go wrong in a backtest request, as domain errors (not yet protocol errors).

The service and the resolver raise :class:`NotFound` (an unknown strategy, template, symbol or
run) and :class:`Invalid` (a bad value); the command and event layers turn them into
``ProtocolError`` with :func:`to_protocol` -- so the service knows nothing of acks or chat.
Messages say what was wrong and what would be right; :func:`did_you_mean` and
:func:`brief_ids` help say it.

Example:
    >>> to_protocol(NotFound("unknown symbol 'ALHPA' (did you mean ALPHA?)")).code.value
    'not_found'
"""

from __future__ import annotations

import difflib
import re

from chatops_widget.protocol import ErrorCode, ProtocolError

__all__ = ["BacktestError", "Invalid", "NotFound", "brief_ids", "did_you_mean", "to_protocol"]

#: an id: a lower-case prefix ending in ``_`` and a tail with a digit (``strategy_3``, ``run_3fa2``)
_ID_RE = re.compile(r"([a-z]+_)(?=[0-9a-z]*\d)([0-9a-z]+)")


class BacktestError(ValueError):
    """A request the backtest plugin cannot honour; ``code`` is its protocol error code."""

    code = ErrorCode.BAD_ARGUMENT


class Invalid(BacktestError):
    """A value is wrong (a date, a parameter, a grid, costs...)."""


class NotFound(BacktestError):
    """A name is unknown (a strategy, template, symbol or run)."""

    code = ErrorCode.NOT_FOUND


def to_protocol(exc: BacktestError) -> ProtocolError:
    """The ``ProtocolError`` a client gets for ``exc`` (same message, its code)."""
    return ProtocolError(exc.code, str(exc))


def did_you_mean(word: str, choices: list[str]) -> str:
    """`` (did you mean x?)`` or ``""``.

    An id (``strategy_12``, ``run_3fa2b1c4d5e6``) is compared strictly, by the part after its
    prefix, so ``strategy_999`` suggests ``strategy_99`` but not ``strategy_1``:

    >>> did_you_mean("strategy_999", ["strategy_1", "strategy_2", "strategy_99"])
    ' (did you mean strategy_99?)'
    >>> did_you_mean("strategy_9", ["strategy_1", "strategy_2"])
    ''
    >>> did_you_mean("sma_crss", ["sma_cross", "ema_cross"])
    ' (did you mean sma_cross or ema_cross?)'
    """
    m = _ID_RE.fullmatch(word)
    if m:
        prefix = m.group(1)
        tails = {c[len(prefix) :]: c for c in choices if c.startswith(prefix)}
        close = difflib.get_close_matches(m.group(2), list(tails), n=3, cutoff=0.75)
        close = [tails[t] for t in close]
    else:
        close = difflib.get_close_matches(word, choices, n=3, cutoff=0.5)
    return f" (did you mean {' or '.join(close)}?)" if close else ""


def brief_ids(ids: list[str], limit: int = 8) -> str:
    """Ids listed briefly: runs of consecutive numbers as ``a..b``, at most ``limit`` items.

    >>> brief_ids(["strategy_1", "strategy_2", "strategy_3", "strategy_5"])
    'strategy_1..strategy_3, strategy_5'
    >>> brief_ids([])
    'none'
    """
    parts: list[str] = []
    run: list[tuple[str, int]] = []
    for sid in ids:
        m = re.fullmatch(r"(.*_)(\d+)", sid)
        item = (m.group(1), int(m.group(2))) if m else (sid, -1)
        if run and m and item[0] == run[-1][0] and item[1] == run[-1][1] + 1:
            run.append(item)
            continue
        if run:
            parts.append(_span(run))
        run = [item] if m else []
        if not m:
            parts.append(sid)
    if run:
        parts.append(_span(run))
    if len(parts) > limit:
        return ", ".join(parts[: limit - 1]) + f", ... ({len(ids)} in all)"
    return ", ".join(parts) or "none"


def _span(run: list[tuple[str, int]]) -> str:
    first, last = f"{run[0][0]}{run[0][1]}", f"{run[-1][0]}{run[-1][1]}"
    return first if len(run) == 1 else f"{first}, {last}" if len(run) == 2 else f"{first}..{last}"
