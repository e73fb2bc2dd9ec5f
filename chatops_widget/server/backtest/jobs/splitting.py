"""How a job is cut into pool tasks -- in one place, for every kind of job, so a scheduler (the
process pool, threads, Dask) sees plain tasks and a change of granularity is made here.

A task reports its own progress and stops when cancelled (:mod:`.context`), so tasks need not
be small for progress or cancel; they are cut for the cores and for fairness:

- a job with little work (under :data:`SPLIT_CELLS` cells -- combinations x bars) is one task:
  splitting would cost more than it brings;
- a bigger one gets at least :data:`TASKS_PER_WORKER` tasks per worker (a spare one evens out
  tasks that run longer), and tasks of at most about :data:`TASK_CELLS` cells (a few seconds),
  so the runs of other sessions get a worker between them.

Example:
    >>> split_count(cells=1_225 * 10_000, items=1_225, workers=2)
    8
    >>> split_count(cells=25 * 10_000, items=25, workers=2)
    1
    >>> [len(c) for c in chunks(list(range(10)), 4)]
    [3, 3, 3, 1]
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "SPLIT_CELLS",
    "TASKS_PER_WORKER",
    "TASK_CELLS",
    "chunks",
    "split_count",
    "sweep_tasks",
]

#: Below this many cells in all (about 0.1 s of work) a job stays one task.
SPLIT_CELLS = 1 << 22
#: At least this many tasks per worker once a job is split.
TASKS_PER_WORKER = 4
#: Cells of one task at most (about 1-4 s of engine work on this kind of machine).
TASK_CELLS = 1 << 24


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
