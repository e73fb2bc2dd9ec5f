"""In-sample / out-of-sample sweeps: the same grid on the bars before and after a split date.

A sweep picks the best parameters on the data it sees; how those parameters do on bars they
were not chosen on is the first check against overfitting. ``sweep(..., split="2021-01-01")``
runs the grid on the bars before the split (in-sample) and, separately, on the bars from the
split on (out-of-sample): each period is backtested on its own, with its own starting cash and
indicators that restart at the split. The table keeps the in-sample stats under their usual
names and adds the out-of-sample ones as ``oos_<stat>``; a combination is kept only if both
periods are long enough for it.

Example:
    >>> from chatops_widget.engine import catalog, sweep
    >>> t = sweep(catalog.get("ALPHA"), "sma_cross", {"fast": [5, 10], "slow": [50, 100]},
    ...           split="2021-01-01")
    >>> t.attrs["split"], {"sharpe", "oos_sharpe"} <= set(t.columns)
    ('2021-01-01', True)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from ._errors import DataError, ParamError, SweepCancelled
from ._metrics import STAT_NAMES

__all__ = ["split_index", "sweep_split"]


def split_index(index: pd.DatetimeIndex, split: Any) -> int:
    """Position of the first bar at or after ``split``; both sides must keep 2 or more bars."""
    try:
        when = pd.Timestamp(split)
    except (ValueError, TypeError) as exc:
        raise DataError(f"split={split!r} is not a date; use YYYY-MM-DD ({exc})") from None
    if when.tzinfo is not None:
        when = when.tz_convert("UTC").tz_localize(None)
    cut = int(index.searchsorted(when))
    if cut < 2 or len(index) - cut < 2:
        raise DataError(
            f"split={when.date()} leaves {cut} bars before it and {len(index) - cut} from it on; "
            f"the data covers {index[0].date()}..{index[-1].date()}: pick a date inside, with "
            "at least 2 bars on each side"
        )
    return cut


def sweep_split(
    run: Callable[..., pd.DataFrame],
    frame: pd.DataFrame,
    tpl: Any,
    combos: list[dict[str, Any]],
    skipped: int,
    cut: int,
    progress: Callable[[int, int], None] | None,
) -> pd.DataFrame:
    """The in-sample and out-of-sample tables of ``combos`` side by side.

    ``run(data, combos, progress)`` is the plain sweep; ``frame`` the validated bars and ``cut``
    the first out-of-sample position (see :func:`split_index`).
    """
    total = len(combos)

    def half(base: int) -> Callable[[int, int], None] | None:
        if progress is None:
            return None
        return lambda done, _: progress(base + done, 2 * total)

    try:
        ins = run(frame.iloc[:cut], combos, half(0))
    except SweepCancelled as exc:  # rows without out-of-sample stats yet
        raise _cancelled(exc, "in-sample", _join(exc.partial, None), exc.done, total) from None
    try:
        oos = run(frame.iloc[cut:], combos, half(total))
    except SweepCancelled as exc:
        partial = _join(ins.iloc[: exc.done], exc.partial)
        raise _cancelled(exc, "out-of-sample", partial, total + exc.done, total) from None
    out = _join(ins, oos)
    out.attrs.update(
        skipped=skipped,
        strategy=tpl.name,
        split=str(frame.index[cut].date()),
        in_sample=[str(frame.index[0].date()), str(frame.index[cut - 1].date())],
        out_of_sample=[str(frame.index[cut].date()), str(frame.index[-1].date())],
    )
    return out


def _join(ins: pd.DataFrame, oos: pd.DataFrame | None) -> pd.DataFrame:
    """In-sample rows plus ``oos_<stat>`` columns (NaN where no out-of-sample row is there)."""
    out = ins.reset_index(drop=True)
    oos = oos.reset_index(drop=True) if oos is not None else pd.DataFrame(index=out.index[:0])
    for name in STAT_NAMES:
        column = oos[name] if name in oos.columns else pd.Series(dtype="float64")
        out["oos_" + name] = column.reindex(out.index)
    return out


def _cancelled(
    exc: SweepCancelled, period: str, partial: pd.DataFrame, done: int, total: int
) -> SweepCancelled:
    message = str(exc).replace(f"after {exc.done} of {total}", f"after {done} of {2 * total}")
    return SweepCancelled(
        f"{message} (during the {period} pass)", partial=partial, done=done, total=2 * total
    )


def no_valid_combination(tpl: Any, skipped: int, cut: int, n: int) -> ParamError:
    return ParamError(
        f"{tpl.name}: no parameter combination fits both periods ({skipped} skipped: forbidden, "
        f"or a window longer than the {min(cut, n - cut)} bars of the shorter period); move "
        "the split or use shorter windows"
    )
