"""Parameter grids: a dict of lists (cartesian product) or a list of dicts -> valid combinations.

Example:
    >>> from chatops_widget.engine import expand_grid, get_template
    >>> grid = {"fast": [5, 40], "slow": [30]}
    >>> expand_grid(get_template("sma_cross"), grid, n_bars=500)
    ([{'fast': 5, 'slow': 30, 'short': False}], 1)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from typing import Any

from ._errors import ParamError
from ._templates import Combo, StrategyBase

__all__ = ["default_grid", "expand_grid"]

Grid = Mapping[str, Any] | Iterable[Mapping[str, Any]]


def expand_grid(tpl: StrategyBase, grid: Grid, n_bars: int | None) -> tuple[list[Combo], int]:
    """Validated, de-duplicated combinations of ``grid`` and how many forbidden ones (or ones
    needing more than ``n_bars`` bars) were skipped; a bad name, type or range raises
    :class:`ParamError`."""
    if isinstance(grid, Mapping):
        names = list(grid)
        values = []
        for name in names:
            v = grid[name]
            if isinstance(v, (str, bytes)) or not isinstance(v, Iterable):
                v = [v]
            v = list(v)
            if not v:
                raise ParamError(f"{tpl.name}: grid for {name!r} is empty", str(name))
            # coerce each distinct value once (raises for unknown names, types, ranges); without
            # repeated values the product has no duplicate combinations
            values.append(list(dict.fromkeys(tpl.coerce({name: x})[name] for x in v)))
        base = tpl.defaults()
        raw = [
            {**base, **dict(zip(names, combo, strict=True))} for combo in itertools.product(*values)
        ]
        return _screen(tpl, raw, n_bars, coerced=True)
    if isinstance(grid, Iterable) and not isinstance(grid, (str, bytes)):
        return _screen(tpl, [dict(g) for g in grid], n_bars, coerced=False)
    raise ParamError(
        f"{tpl.name}: grid must be a dict of lists or a list of param dicts, "
        f"got {type(grid).__name__}"
    )


def _screen(
    tpl: StrategyBase, raw: list[Combo], n_bars: int | None, coerced: bool
) -> tuple[list[Combo], int]:
    combos: list[Combo] = []
    seen: set[tuple[Any, ...]] = set()
    skipped = 0
    for r in raw:
        p = r if coerced else tpl.coerce(r)
        if not coerced:  # a dict grid's product is already free of duplicates
            key = tuple(p.items())
            if key in seen:
                continue
            seen.add(key)
        if tpl.problem(p, n_bars):
            skipped += 1
            continue
        combos.append(p)
    return combos, skipped


def _nice(step: float) -> float:
    """The 1-2-2.5-5 x 10^k number nearest to ``step``."""
    if step <= 0:
        return 1.0
    base = 10 ** math.floor(math.log10(step))
    return float(min((m * base for m in (1, 2, 2.5, 5, 10)), key=lambda x: abs(x - step)))


def default_grid(
    tpl: StrategyBase, center: Mapping[str, Any] | None = None
) -> dict[str, list[Any]]:
    """A grid around ``center`` (default: the defaults) for a walk-forward without ranges:
    every number parameter from half to twice its value in about 8 round steps (within its
    bounds); booleans, and numbers at 0, stay as they are.

    >>> from chatops_widget.engine import get_template
    >>> g = default_grid(get_template("sma_cross"))
    >>> g["fast"], g["slow"][:3], g["slow"][-1], g["short"]
    ([5, 7, 9, 11, 13, 15, 17, 19], [15, 20, 25], 60, [False])
    """
    values = {**tpl.defaults(), **dict(center or {})}
    out: dict[str, list[Any]] = {}
    for p in tpl.params:
        v = values[p.name]
        if p.type is bool or isinstance(v, bool) or not v:
            out[p.name] = [v]
            continue
        lo, hi = sorted((v / 2, v * 2))
        lo = max(lo, p.min) if p.min is not None else lo
        hi = min(hi, p.max) if p.max is not None else hi
        step = _nice((hi - lo) / 7)
        if p.type is int:
            step, lo = max(1, round(step)), math.ceil(lo)
            out[p.name] = list(range(int(lo), int(hi) + 1, int(step)))
        else:
            n = int((hi - lo) / step + 1e-9) + 1
            out[p.name] = [round(lo + i * step, 10) for i in range(n)]
    return out
