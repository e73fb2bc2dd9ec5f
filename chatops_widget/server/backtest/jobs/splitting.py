"""How a job is cut into pool tasks -- in one place, for every kind of job, so a scheduler (the
process pool, threads, Dask) sees plain tasks and a change of granularity is made here.

A task reports its own progress and stops when cancelled (:mod:`.context`), so tasks need not
be small for progress or cancel; they are cut for the cores and for fairness:

- a job with little work (under :data:`SPLIT_CELLS` cells -- combinations x bars) is one task:
  splitting would cost more than it brings;
- a bigger one gets at least :data:`TASKS_PER_WORKER` tasks per worker (a spare one evens out
  tasks that run longer), and tasks of at most about :data:`TASK_CELLS` cells (a few seconds),
  so the runs of other sessions get a worker between them.

Research runs:

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
    >>> split_count(cells=1_225 * 10_000, items=1_225, workers=2)
    8
    >>> split_count(cells=25 * 10_000, items=25, workers=2)
    1
    >>> [len(c) for c in chunks(list(range(10)), 4)]
    [3, 3, 3, 1]
    >>> len(chunks([f"S{i}" for i in range(45)], 20)), len(chunks(["A", "B"], 20))
    (15, 2)
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "SPLIT_CELLS",
    "TASKS_PER_WORKER",
    "TASK_CELLS",
    "UNIVERSE_CHUNKS",
    "chunks",
    "portfolio_tasks",
    "split_count",
    "sweep_tasks",
    "universe_tasks",
    "walkforward_assemble_task",
    "walkforward_tasks",
]

#: Below this many cells in all (about 0.1 s of work) a job stays one task.
SPLIT_CELLS = 1 << 22
#: At least this many tasks per worker once a job is split.
TASKS_PER_WORKER = 4
#: Cells of one task at most (about 1-4 s of engine work on this kind of machine).
TASK_CELLS = 1 << 24
#: The most tasks a universe comparison is split into (its progress steps).
UNIVERSE_CHUNKS = 20


def split_count(cells: int, items: int, workers: int) -> int:
    """How many tasks a job of ``items`` units and ``cells`` cells of work is cut into."""
    if items <= 1 or cells < SPLIT_CELLS:
        return 1
    wanted = max(max(1, workers) * TASKS_PER_WORKER, math.ceil(cells / TASK_CELLS))
    return min(items, wanted)


def chunks(items: list[Any], most: int) -> list[list[Any]]:
    """``items`` in at most ``most`` consecutive chunks of equal size (the last may be short)."""
    size = max(1, math.ceil(len(items) / max(1, most)))
    return [items[i : i + size] for i in range(0, len(items), size)]


def sweep_tasks(
    base: dict[str, Any],
    combos: list[dict[str, Any]],
    *,
    bars: int,
    workers: int,
    parts: str | None = None,
) -> list[dict[str, Any]]:
    """A sweep's tasks: ``base`` (data, template, costs, split) with a chunk of ``combos`` each.

    ``parts`` (a folder) makes each task write its rows there as Parquet (``part-00000.parquet``
    ...) instead of sending them back.
    """
    count = split_count(len(combos) * max(bars, 1), len(combos), workers)
    tasks = []
    for i, part in enumerate(chunks(combos, count)):
        task = {**base, "combos": part}
        if parts is not None:
            task["part"] = f"{parts}/part-{i:05d}.parquet"
        tasks.append(task)
    return tasks


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
        {"specs": specs, "frames": {s: plan.frames[s].data for s in part}, "cash": first.cash,
         "commission": first.commission, "spread": first.spread,
         "orders": _strategy_fields(first)["orders"]}
        for part in chunks(list(plan.frames), UNIVERSE_CHUNKS)
    ]  # fmt: skip


def portfolio_tasks(plan: Any) -> list[dict[str, Any]]:
    """One task: the whole portfolio."""
    frames = {s: f.data for s, f in plan.frames.items()}
    return [
        {**_strategy_fields(plan.spec), "frames": frames, "weights": plan.weights,
         "rebalance": plan.rebalance}
    ]  # fmt: skip
