"""Research results in the kernel: ``getResult`` acks of walk-forward, universe and portfolio
runs decoded into the engine's own result classes (so a result from the server and one computed
in the notebook are the same objects).

Example:
    >>> _stats({"sharpe": 1.5, "num_trades": None, "start": "2020-01-02T00:00:00"})[0].tolist()
    [1.5, nan]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import engine  # light: its parts are imported when first used
from .._lazy import lazy_module
from .._serialization import from_arrow_bytes

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = ["decode_research"]


def _stats(values: Mapping[str, Any]) -> tuple[pd.Series, dict[str, Any]]:
    """Numbers as a float Series; the rest (start, end) as info."""
    nums: dict[str, float] = {}
    info: dict[str, Any] = {}
    for k, v in values.items():
        if isinstance(v, (bool, str)):
            info[k] = pd.Timestamp(v) if k in ("start", "end") and isinstance(v, str) else v
        else:
            nums[k] = float("nan") if v is None else float(v)
    return pd.Series(nums, dtype="float64", name="stats"), info


def decode_research(ack: Mapping[str, Any]) -> Any:
    """A ``getResult`` ack of a research run as the engine's result class."""
    kind = ack.get("kind")
    frames = {name: from_arrow_bytes(ack[name]) for name in ack.get("frames", [])}
    meta = ack.get("meta", {})
    summary = meta.get("summary", {})
    stats, extra = _stats(ack.get("stats", {}))
    if kind == "walkforward":
        info = {**meta.get("info", {}), **extra, "partial": bool(meta.get("partial"))}
        info.setdefault("symbol", summary.get("symbol"))
        return engine.WalkForwardResult(
            frames["windows"], frames["equity"], frames["trades"], stats,
            pd.Series(info, dtype=object, name="info"), list(summary.get("params") or []),
        )  # fmt: skip
    if kind == "universe":
        info = {"strategies": summary.get("strategies"), "symbols": summary.get("symbols")}
        return engine.UniverseResult(frames["table"], pd.Series(info, dtype=object, name="info"))
    symbols = list(summary.get("symbols") or frames["sleeves"].columns)
    info = {"strategy": summary.get("template"), "strategyId": summary.get("strategyId"),
            "params": summary.get("params"), "symbols": symbols,
            "rebalance": summary.get("rebalance"), **extra}  # fmt: skip
    return engine.PortfolioResult(
        frames["equity"], frames["sleeves"], frames["contributions"], frames["positions"],
        frames["trades"], frames["rebalances"], stats,
        pd.Series(summary.get("weights") or [], index=symbols[: len(summary.get("weights") or [])],
                  dtype="float64", name="weight"),
        pd.Series(info, dtype=object, name="info"),
    )  # fmt: skip
