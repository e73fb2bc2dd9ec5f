"""Evaluate rule trees on bars, vectorized with numpy across bars and parameter combinations.

A numeric value is a scalar, a ``(k, 1)`` column (a ``$param`` that differs between the ``k``
combinations), an ``(n,)`` series (the same for every combination) or a ``(k, n)`` matrix; the
operators broadcast. Indicator calls are computed once per distinct function + concrete
arguments (``ema(close, 12)``) and kept in the bars' cache for the whole sweep, so a grid of
1,225 EMA pairs computes 50 EMAs; everything else is computed once per chunk.

Conditions use three-valued logic as ``(true, false)`` masks: a comparison with an undefined
value (an indicator still warming up) is neither, ``not`` keeps it undefined, ``False and x``
is false, ``True or x`` is true. A rule fires only where its condition is true.

Example:
    >>> from chatops_widget.engine import catalog
    >>> from chatops_widget.engine._sim import Bars
    >>> from chatops_widget.engine.rules import parse_rule
    >>> bars = Bars.from_frame(catalog.get("ALPHA"))
    >>> tree = parse_rule("close > sma($n)")
    >>> fires = Evaluator(bars, [{"n": 10}, {"n": 50}]).fires(tree)
    >>> fires.shape, bool(fires[:, :9].any())
    ((2, 2608), False)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._crossover import _ffill_nonzero
from .._sim import Bars
from .._types import AnyArray, BoolArray
from ._functions import FUNCTIONS
from ._tree import (
    Arith,
    BoolConst,
    Call,
    Compare,
    Field,
    Logic,
    Neg,
    Node,
    Not,
    Num,
    ParamRef,
    Shift,
)  # fmt: skip

__all__ = ["CACHE_BYTES", "Evaluator", "scalar_condition"]

CACHE_BYTES = 256 * 2**20
"""Budget for indicator results kept across the chunks of one sweep (per data set)."""

Cond = tuple[AnyArray, AnyArray]  # (definitely true, definitely false)
# (each mask is computed only when asked for: a rule that fires needs only the true ones)
_TRUE, _FALSE = np.array(True), np.array(False)


def _shift(x: AnyArray, k: int, fill: Any) -> AnyArray:
    """``x`` delayed by ``k`` bars along the last axis."""
    if k == 0:
        return x
    out = np.full(np.shape(x), fill, dtype=x.dtype)
    if k < x.shape[-1]:
        out[..., k:] = x[..., : x.shape[-1] - k]
    return out


class Evaluator:
    """Evaluates trees for one chunk of combinations (a list of param dicts)."""

    def __init__(self, bars: Bars, combos: list[dict[str, Any]]) -> None:
        self.bars, self.combos = bars, combos
        self.k, self.n = len(combos), bars.n
        self.local: dict[Any, Any] = {}

    # ------------------------------------------------------------------ helpers
    def _column(self, name: str) -> AnyArray | float:
        values = [float(c[name]) for c in self.combos]
        if all(v == values[0] for v in values):
            return values[0]
        return np.array(values)[:, None]

    def _groups(self, node: Node) -> tuple[list[tuple[Any, ...]], AnyArray]:
        """Distinct values of ``node``'s params across the chunk and each combo's group."""
        deps = sorted(node.deps)
        keys = [tuple(c[d] for d in deps) for c in self.combos]
        distinct = list(dict.fromkeys(keys))
        where = {key: i for i, key in enumerate(distinct)}
        return distinct, np.array([where[key] for key in keys], dtype=np.int64)

    def _row(self, value: AnyArray | float, j: int) -> Any:
        """Row ``j`` of a value (series stay series, columns become scalars)."""
        if np.ndim(value) == 2:
            row = value[j]  # type: ignore[index]
            return float(row[0]) if row.shape[0] == 1 else row
        return value

    def _store(self, key: Any, fn: Any) -> AnyArray:
        cache = self.bars.cache
        hit = cache.get(key)
        if hit is None:
            hit = fn()
            used = cache.get("_rule_bytes", 0)
            if used + hit.nbytes <= CACHE_BYTES:
                cache[key] = hit
                cache["_rule_bytes"] = used + hit.nbytes
        return hit  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ numbers
    def num(self, node: Node) -> Any:
        """The numeric value of ``node`` (scalar, column, series or matrix)."""
        key = ("num", node.canon)
        if key in self.local:
            return self.local[key]
        out = self._num(node)
        self.local[key] = out
        return out

    def _num(self, node: Node) -> Any:
        if isinstance(node, Num):
            return node.value
        if isinstance(node, ParamRef):
            return self._column(node.name)
        if isinstance(node, Field):
            return getattr(self.bars, node.name)
        if isinstance(node, Neg):
            return -self.num(node.expr)
        if isinstance(node, Arith):
            a, b = self.num(node.left), self.num(node.right)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                if node.op == "+":
                    return a + b
                if node.op == "-":
                    return a - b
                if node.op == "*":
                    return a * b
                return np.true_divide(a, b)
        if isinstance(node, Call):
            return self._call(node)
        if isinstance(node, Shift):
            return self._lookback(node, np.nan, self.num)
        raise TypeError(f"not a number: {node.canon}")

    def _call(self, node: Call) -> Any:
        spec = FUNCTIONS[node.fn]
        assert spec.compute is not None
        series = [self.num(a) for a, s in zip(node.args, spec.args, strict=True)
                  if s.kind == "series"]  # fmt: skip
        scalars = [(a, s.kind == "window") for a, s in zip(node.args, spec.args, strict=True)
                   if s.kind != "series"]  # fmt: skip
        n = self.n

        def compute(j: int, params: dict[str, Any]) -> AnyArray:
            xs = []
            for v in series:
                x = self._row(v, j)
                xs.append(np.full(n, float(x)) if np.ndim(x) == 0 else np.asarray(x, float))
            vals = [int(a.scalar(params)) if window else a.scalar(params)
                    for a, window in scalars]  # fmt: skip
            return spec.compute(self.bars, *xs, *vals)  # type: ignore[misc]

        if not node.deps:
            return self._store(("rule", node.canon), lambda: compute(0, {}))
        distinct, group = self._groups(node)
        first = {int(g): j for j, g in reversed(list(enumerate(group)))}
        rows = []
        for g in range(len(distinct)):
            j = first[g]
            key = ("rule", node.key(self.combos[j]))  # params substituted
            rows.append(self._store(key, lambda j=j: compute(j, self.combos[j])))
        if len(rows) == 1:
            return rows[0]
        return np.array([rows[g] for g in group])  # one (k, n) copy

    def _lookback(self, node: Shift, fill: Any, get: Any) -> Any:
        value = get(node.expr)
        if not node.k.deps:
            k = int(node.k.scalar({}))
            return self._shift_value(value, k, fill)
        if not isinstance(fill, bool) and (np.ndim(value) == 0 or np.shape(value)[-1] == 1):
            return value  # the same on every bar: its lookback is itself
        ks = [int(node.k.scalar(c)) for c in self.combos]
        parts = []
        for j, k in enumerate(ks):
            parts.append(self._shift_value(self._pick(value, j), k, fill))
        return np.stack(parts)

    def _pick(self, value: Any, j: int) -> Any:
        return np.broadcast_to(np.asarray(value), (self.k, self.n))[j]

    def _shift_value(self, value: Any, k: int, fill: Any) -> Any:
        if isinstance(fill, bool):  # a condition mask: neither true nor false before its start
            mask = np.broadcast_to(value, np.broadcast_shapes(np.shape(value), (self.n,)))
            return _shift(np.asarray(mask), k, False)
        x = np.asarray(value, dtype=float)
        if x.ndim == 0 or x.shape[-1] == 1:
            return value  # the same on every bar
        return _shift(x, k, fill)

    # ------------------------------------------------------------------ conditions
    def true(self, node: Node) -> AnyArray:
        """Where a condition is definitely true (broadcastable to ``(k, n)``)."""
        return self._mask(node, True)

    def false(self, node: Node) -> AnyArray:
        """Where a condition is definitely false (undefined bars are neither)."""
        return self._mask(node, False)

    def cond(self, node: Node) -> Cond:
        """``(true, false)`` masks of a condition."""
        return self.true(node), self.false(node)

    def _mask(self, node: Node, want: bool) -> AnyArray:
        key = ("true" if want else "false", node.canon)
        hit = self.local.get(key)
        if hit is None:
            hit = self.local[key] = self._compute_mask(node, want)
        return hit

    def _compute_mask(self, node: Node, want: bool) -> AnyArray:
        if isinstance(node, BoolConst):
            return _TRUE if node.value == want else _FALSE
        if isinstance(node, Not):
            return self._mask(node.expr, not want)
        if isinstance(node, Logic):
            parts = [self._mask(i, want) for i in node.items]
            out = parts[0]
            both = (node.op == "and") == want  # true of 'and' / false of 'or': all of them
            for part in parts[1:]:
                out = out & part if both else out | part
            return out
        if isinstance(node, Compare):
            return self._compare(node, want)
        if isinstance(node, Call):  # crosses_above / crosses_below
            return self._cross(node, want)
        if isinstance(node, Shift):
            shifted = self._lookback(node, False, lambda n: self._mask(n, want))
            return shifted  # type: ignore[no-any-return]
        raise TypeError(f"not a condition: {node.canon}")

    def _compare(self, node: Compare, want: bool) -> AnyArray:
        a, b = self.num(node.left), self.num(node.right)
        key = ("cmp", node.canon)
        hit = self.local.get(key)
        if hit is None:
            with np.errstate(invalid="ignore"):
                op = node.op
                if op == "<":
                    hit = a < b
                elif op == "<=":
                    hit = a <= b
                elif op == ">":
                    hit = a > b
                elif op == ">=":
                    hit = a >= b
                elif op == "==":
                    hit = a == b
                else:
                    hit = a != b
            hit = self.local[key] = np.asarray(hit, dtype=bool)  # (a bool for two numbers)
        if want and node.op != "!=":  # an ordered comparison with NaN is already false
            return hit
        known = ~(np.isnan(a) | np.isnan(b))
        return (hit if want else ~hit) & known  # type: ignore[no-any-return]

    def _side(self, a: Node, b: Node) -> tuple[AnyArray, AnyArray, AnyArray]:
        """Sign of ``a - b`` with ties and undefined bars keeping the side before, the same one
        bar earlier, and where ``a - b`` is defined (shared by both crossing functions)."""
        key = ("side", a.canon, b.canon)
        if key not in self.local:
            with np.errstate(invalid="ignore"):
                d = np.asarray(self.num(a) - self.num(b), dtype=float)
            d = np.broadcast_to(d, np.broadcast_shapes(d.shape, (self.n,)))
            above, below = d > 0, d < 0
            side = above.view(np.int8) - below.view(np.int8)
            rows = np.atleast_2d(side)
            nonzero = rows != 0
            first = np.where(nonzero.any(axis=1), nonzero.argmax(axis=1), rows.shape[1])
            if np.count_nonzero(nonzero) != int((rows.shape[1] - first).sum()):
                # a tie or an undefined bar after the start: it keeps the side before it
                side = _ffill_nonzero(rows).reshape(side.shape)
            self.local[key] = (side, _shift(side, 1, 0), d)
        return self.local[key]  # type: ignore[no-any-return]

    def _cross(self, node: Call, want: bool) -> AnyArray:
        side, before, d = self._side(*node.args)
        if node.fn == "crosses_above":
            hit = (side > 0) & (before < 0)
        else:
            hit = (side < 0) & (before > 0)
        return hit if want else ~hit & ~np.isnan(d)

    def fires(self, node: Node) -> BoolArray:
        """Where the condition is true, as a ``(k, n)`` bool matrix."""
        return np.broadcast_to(self.true(node), (self.k, self.n))


def _scalar(node: Node, params: dict[str, Any]) -> Any:
    if isinstance(node, (Num, ParamRef)):
        return node.scalar(params)
    if isinstance(node, BoolConst):
        return node.value
    if isinstance(node, Neg):
        return -_scalar(node.expr, params)
    if isinstance(node, Not):
        return not _scalar(node.expr, params)
    if isinstance(node, Logic):
        values = [bool(_scalar(i, params)) for i in node.items]
        return all(values) if node.op == "and" else any(values)
    a, b = _scalar(node.left, params), _scalar(node.right, params)  # type: ignore[attr-defined]
    op = node.op  # type: ignore[attr-defined]
    if isinstance(node, Arith):
        if op == "/":
            return a / b if b else math.nan
        return a + b if op == "+" else a - b if op == "-" else a * b
    ops = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}
    return ops[op]


def scalar_condition(node: Node, params: dict[str, Any]) -> bool:
    """A condition on ``$params`` and numbers only (a strategy's ``where``), for ``params``."""
    return bool(_scalar(node, params))
