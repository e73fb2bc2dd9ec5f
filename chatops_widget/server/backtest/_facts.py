"""What a comparison is made of, and what would make it misleading: each strategy's symbol,
template, first and last bar, bar count and bar frequency; warnings when the periods or the
bar frequencies differ; the common period; one buy-and-hold curve per symbol (and period).

Plain functions over the parts a comparison's worker tasks return (``jobs/tasks.py``), so the
summary (chat text, panel card) and the kernel's ``Comparison`` read the same facts.

Example:
    >>> import pandas as pd
    >>> bar_frequency(pd.bdate_range("2020-01-01", periods=10))
    'daily'
    >>> common_period({"a": {"start": "2015-01-02", "end": "2024-12-31"},
    ...                "b": {"start": "2018-01-02", "end": "2020-06-30"}})
    ['2018-01-02', '2020-06-30']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from chatops_widget._lazy import lazy_module

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")


__all__ = [
    "bar_frequency",
    "common_period",
    "comparison_facts",
    "comparison_summary",
    "warnings_for",
]


def bar_frequency(index: pd.DatetimeIndex) -> str:
    """A word for the typical bar spacing: ``"daily"``, ``"hourly"``, ``"5-minute"`` ...

    >>> bar_frequency(pd.date_range("2020-01-01", periods=10, freq="5min"))
    '5-minute'
    """
    if len(index) < 2:
        return ""
    step = pd.Timedelta(pd.Series(index).diff().median())  # (asi8 depends on the unit)
    days = step / pd.Timedelta(days=1)
    if 0.9 <= days <= 3.5:
        return "daily"
    if 6 <= days <= 8:
        return "weekly"
    if 27 <= days <= 32:
        return "monthly"
    if days > 32:
        return ""
    minutes = round(step / pd.Timedelta(minutes=1))
    if minutes >= 60 and minutes % 60 == 0:
        return "hourly" if minutes == 60 else f"{minutes // 60}-hour"
    if minutes >= 1:
        return "1-minute" if minutes == 1 else f"{minutes}-minute"
    return f"{step.total_seconds():g}-second"


def _day(ts: Any) -> str:
    t = pd.Timestamp(ts)
    return str(t.date()) if t == t.normalize() else t.isoformat()


def common_period(info: dict[str, dict[str, Any]]) -> list[str] | None:
    """``[start, end]`` that every strategy covers, or None when the periods do not overlap."""
    if not info:
        return None
    start = max(pd.Timestamp(i["start"]) for i in info.values())
    end = min(pd.Timestamp(i["end"]) for i in info.values())
    return [_day(start), _day(end)] if start < end else None


def warnings_for(info: dict[str, dict[str, Any]]) -> list[str]:
    """What makes these strategies' stats not comparable as they stand (empty if nothing).

    >>> warnings_for({"s1": {"start": "2015-01-02", "end": "2024-12-31", "frequency": "daily"},
    ...               "s2": {"start": "2015-01-02", "end": "2024-12-31", "frequency": "hourly"}})[0][:45]
    'The strategies use different bar frequencies:'
    """  # noqa: E501
    out = []
    periods = {(i["start"], i["end"]) for i in info.values()}
    if len(periods) > 1:
        each = ", ".join(f"{k} {i['start']}..{i['end']}" for k, i in info.items())
        common = common_period(info)
        tail = (
            f"compare them on the common period {common[0]}..{common[1]} (the card's "
            "'common period' view, or `.rebased()` of the comparison in Python)"
            if common
            else "and the periods do not overlap at all"
        )
        out.append(
            f"The strategies cover different periods ({each}): their stats are not comparable "
            f"as they stand; {tail}."
        )
    freqs = {i.get("frequency") for i in info.values()}
    if len(freqs) > 1:
        each = ", ".join(f"{k} {i.get('frequency') or 'irregular'}" for k, i in info.items())
        out.append(
            f"The strategies use different bar frequencies: {each}. Sharpe, volatility and the "
            "other annualized stats use each one's own bars per year, and trades are counted "
            "on different bars."
        )
    return out


def comparison_facts(
    parts: list[dict[str, Any]], symbols: Sequence[str | None] | None = None
) -> dict[str, Any]:
    """``{"info", "warnings", "common", "benchmark"}`` of a comparison's backtest parts (each
    ``{"key", "stats", "frames": {"equity": DataFrame}}``, ``symbols`` in the same order).

    ``info``: strategy -> ``{symbol, template?, start, end, bars, frequency}``; ``benchmark``: a
    DataFrame of buy-and-hold curves, one per symbol (one per symbol and period when strategies
    on one symbol cover different periods), named like ``ALPHA``.
    """
    symbols = list(symbols or [None] * len(parts))
    info: dict[str, dict[str, Any]] = {}
    curves: dict[str, pd.Series] = {}
    seen: dict[tuple[Any, ...], str] = {}
    for part, symbol in zip(parts, symbols, strict=True):
        equity = part["frames"]["equity"]
        stats = part["stats"]
        key = str(part["key"])
        info[key] = {
            "symbol": symbol,
            "start": _day(equity.index[0]),
            "end": _day(equity.index[-1]),
            "bars": len(equity),
            "frequency": bar_frequency(equity.index),
            "cash": stats.get("cash"),
        }
        if "benchmark" in equity.columns:
            ident = (symbol, equity.index[0], equity.index[-1], stats.get("cash"))
            if ident not in seen:
                label = str(symbol or key)
                if label in curves:  # the same symbol over another period
                    label = f"{label} ({key})"
                seen[ident] = label
                curves[label] = equity["benchmark"]
            info[key]["benchmark"] = seen[ident]
    bench = pd.DataFrame(curves)
    bench.columns.name = "benchmark"
    return {
        "info": info,
        "warnings": warnings_for(info),
        "common": common_period(info),
        "benchmark": bench,
    }


def comparison_summary(
    run_id: str, parts: list[dict[str, Any]], combined: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A comparison's ``summary`` and its result's ``meta``, from the backtests' ``parts`` and
    what ``jobs.tasks.combine_comparison`` made of them: the table, and each strategy's symbol,
    period, bars and frequency with the warnings when they differ -- for every comparison
    (in the worker pool, or with strategies hosted in members' kernels)."""
    summary = {
        "kind": "comparison",
        "runId": run_id,
        "strategies": [p["key"] for p in parts],
        "table": combined["stats"],
        "status": "completed",
        # symbol, period, bars, frequency per strategy; what makes them not comparable
        **{k: combined[k] for k in ("info", "warnings", "common")},
    }
    meta = {
        "summary": summary,
        "engineSeconds": sum(p["engine_seconds"] for p in parts),
        "runs": [{"key": p["key"], "params": p["params"]} for p in parts],
    }
    return summary, meta
