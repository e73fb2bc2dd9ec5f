"""How research runs are split into pool tasks -- in one place, so a scheduler (the process
pool, Dask) sees plain tasks and a change of granularity is made here.

- a walk-forward: one task per window (its training sweep), then one task that trades the
  choices on the test bars and stitches them; the symbol's frame is :class:`~.pool.Shared`, so
  each worker receives it once;
- a universe comparison: the symbols in up to :data:`UNIVERSE_CHUNKS` chunks, each task running
  every strategy on its chunk (strategies of one template batched per symbol), then one task
  that builds the table;
- a portfolio: one task (its sleeves share one pool of cash, so they run together).

Each function takes a plan from :mod:`..research.plans` (read by attribute) and returns the
tasks' plain dicts.

Example:
    >>> chunks([f"S{i}" for i in range(45)], 20)[:2]
    [['S0', 'S1', 'S2'], ['S3', 'S4', 'S5']]
    >>> len(chunks([f"S{i}" for i in range(45)], 20)), len(chunks(["A", "B"], 20))
    (15, 2)
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "UNIVERSE_CHUNKS",
    "chunks",
    "portfolio_tasks",
    "universe_tasks",
    "walkforward_assemble_task",
    "walkforward_tasks",
]

#: The most tasks a universe comparison is split into (its progress steps).
UNIVERSE_CHUNKS = 20


def chunks(items: list[Any], most: int) -> list[list[Any]]:
    """``items`` in at most ``most`` consecutive chunks of equal size (the last may be short)."""
    size = max(1, math.ceil(len(items) / max(1, most)))
    return [items[i : i + size] for i in range(0, len(items), size)]


def _strategy_fields(spec: Any) -> dict[str, Any]:
    """What a worker needs to rebuild a spec's strategy and run it (template or rule)."""
    return {
        "template": spec.template,
        "rule": getattr(spec, "rule", None),
        "params": dict(spec.params),
        "orders": dict(getattr(spec, "orders", None) or {}),
        "cash": spec.cash,
        "commission": spec.commission,
        "spread": spec.spread,
    }


def walkforward_tasks(plan: Any) -> list[dict[str, Any]]:
    """One task per window: its training positions, valid combinations and the choice rule."""
    base = {**_strategy_fields(plan.spec), "data": plan.spec.task()["data"]}
    return [
        {**base, "window": w.number, "train": (w.train_start, w.train_end), "combos": combos,
         "metric": plan.metric, "min_trades": plan.min_trades}
        for w, combos in zip(plan.windows, plan.combos, strict=True)
    ]  # fmt: skip


def walkforward_assemble_task(plan: Any, choices: list[Any], info: dict[str, Any]) -> dict:
    """The task that trades ``choices`` (of the first ``len(choices)`` windows) and stitches."""
    return {
        **_strategy_fields(plan.spec),
        "data": plan.spec.task()["data"],
        "windows": plan.windows[: len(choices)],
        "choices": choices,
        "info": info,
    }


def universe_tasks(plan: Any) -> list[dict[str, Any]]:
    """The symbols in chunks; each task carries every strategy and its chunk's frames."""
    first = next(iter(plan.specs.values()))
    specs = {label: _strategy_fields(s) for label, s in plan.specs.items()}
    return [
        {"specs": specs, "frames": {s: plan.frames[s] for s in part}, "cash": first.cash,
         "commission": first.commission, "spread": first.spread,
         "orders": _strategy_fields(first)["orders"]}
        for part in chunks(list(plan.frames), UNIVERSE_CHUNKS)
    ]  # fmt: skip


def portfolio_tasks(plan: Any) -> list[dict[str, Any]]:
    """One task: the whole portfolio."""
    return [
        {**_strategy_fields(plan.spec), "frames": plan.frames, "weights": plan.weights,
         "rebalance": plan.rebalance}
    ]  # fmt: skip
