"""Parameter grids: a dict of lists (cartesian product) or a list of dicts -> valid combinations.

Example:
    >>> from chatops_widget.engine import expand_grid, get_template
    >>> grid = {"fast": [5, 40], "slow": [30]}
    >>> expand_grid(get_template("sma_cross"), grid, n_bars=500)
    ([{'fast': 5, 'slow': 30, 'short': False}], 1)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from ._errors import ParamError
from ._templates import Combo, StrategyBase

__all__ = ["expand_grid"]

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
            # coerce each distinct value once (raises for unknown names, types, ranges)
            values.append([tpl.coerce({name: x})[name] for x in v])
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
        key = tuple(p.items())
        if key in seen:
            continue
        seen.add(key)
        if tpl.problem(p, n_bars):
            skipped += 1
            continue
        combos.append(p)
    return combos, skipped
