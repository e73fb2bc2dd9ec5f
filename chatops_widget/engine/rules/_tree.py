"""The typed tree a rule parses into: numbers, conditions, calls, lookbacks.

Every node has ``pos`` (the 1-based character where it starts in the rule text), ``kind``
(``"number"`` or ``"condition"``), ``canon`` (a canonical text with ``$params`` unsubstituted:
equal sub-trees have equal ``canon``, which keys the evaluation cache) and ``deps`` (the
``$params`` it uses). Nothing here evaluates anything; see :mod:`._eval`.

Example:
    >>> from chatops_widget.engine.rules import parse_rule
    >>> tree = parse_rule("rsi(14) < 30 and close > sma($slow)")
    >>> tree.canon, sorted(tree.deps), tree.kind
    ('(rsi(close,14)<30 and close>sma(close,$slow))', ['slow'], 'condition')
    >>> tree.warmup({"slow": 200})
    199
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from ._functions import FUNCTIONS

__all__ = [
    "Arith", "BoolConst", "Call", "Compare", "Field", "Logic", "Neg", "Node", "Not", "Num",
    "ParamRef", "Shift", "params_of",
]  # fmt: skip

Kind = Literal["number", "condition"]


def _number(v: float) -> str:
    v = float(v)
    return str(int(v)) if v.is_integer() and abs(v) < 2**53 else repr(v)


@dataclass(frozen=True, eq=False)
class Node:
    """Base of all nodes."""

    pos: int

    kind: Kind = "number"

    @property
    def children(self) -> tuple[Node, ...]:
        """Direct sub-nodes."""
        return ()

    @cached_property
    def deps(self) -> frozenset[str]:
        """The ``$params`` this sub-tree uses."""
        out: frozenset[str] = frozenset()
        for c in self.children:
            out |= c.deps
        return out

    def render(self, text: Callable[[Node], str]) -> str:
        """This node as text, with ``text(child)`` for each child."""
        raise NotImplementedError

    @cached_property
    def canon(self) -> str:
        """Canonical text with ``$params`` as written (equal sub-trees, equal text)."""
        return self.render(lambda c: c.canon)

    def key(self, params: dict[str, Any]) -> str:
        """Canonical text with ``params`` substituted: ``ema(close,$fast)`` and
        ``ema(close,$slow)`` are the same indicator when both are 12 (keys the cache)."""
        if not self.deps:
            return self.canon
        return self.render(lambda c: c.key(params))

    def scalar(self, params: dict[str, Any]) -> float:
        """The value of a number literal or ``$param``."""
        raise TypeError(f"{self.canon} is not a scalar")

    def warmup(self, params: dict[str, Any]) -> int:
        """Leading bars without a defined value, given concrete ``params``."""
        return max((c.warmup(params) for c in self.children), default=0)

    def walk(self) -> list[Node]:
        """This node and all below it (depth first)."""
        out: list[Node] = []
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(reversed(node.children))
        return out


@dataclass(frozen=True, eq=False)
class Num(Node):
    """A number literal."""

    value: float = 0.0

    def render(self, text: Callable[[Node], str]) -> str:
        return _number(self.value)

    def scalar(self, params: dict[str, Any]) -> float:
        return self.value


@dataclass(frozen=True, eq=False)
class ParamRef(Node):
    """A ``$name`` parameter (a number, the same on every bar)."""

    name: str = ""

    @cached_property
    def deps(self) -> frozenset[str]:
        return frozenset((self.name,))

    def render(self, text: Callable[[Node], str]) -> str:
        return "$" + self.name

    def key(self, params: dict[str, Any]) -> str:
        return _number(params[self.name])

    def scalar(self, params: dict[str, Any]) -> float:
        return float(params[self.name])


@dataclass(frozen=True, eq=False)
class Field(Node):
    """A price field: ``open``, ``high``, ``low``, ``close`` or ``volume``."""

    name: str = "close"

    def render(self, text: Callable[[Node], str]) -> str:
        return self.name


@dataclass(frozen=True, eq=False)
class BoolConst(Node):
    """``True`` or ``False``."""

    kind: Kind = "condition"

    value: bool = False

    def render(self, text: Callable[[Node], str]) -> str:
        return str(self.value)


@dataclass(frozen=True, eq=False)
class Call(Node):
    """A call of a whitelisted function; ``args`` in signature order, defaults filled in."""

    fn: str = ""
    args: tuple[Node, ...] = ()

    @property
    def children(self) -> tuple[Node, ...]:
        return self.args

    def render(self, text: Callable[[Node], str]) -> str:
        return f"{self.fn}({','.join(text(a) for a in self.args)})"

    def warmup(self, params: dict[str, Any]) -> int:
        spec = FUNCTIONS[self.fn]
        values: list[int] = []
        for a, arg in zip(spec.args, self.args, strict=True):
            values.append(arg.warmup(params) if a.kind == "series" else int(arg.scalar(params)))
        return int(spec.warmup(*values))


@dataclass(frozen=True, eq=False)
class Shift(Node):
    """Lookback ``expr[k]``: the value ``k`` bars earlier (``k`` a literal or ``$param``)."""

    expr: Node = Num(0)
    k: Node = Num(0)

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.expr, self.k)

    def render(self, text: Callable[[Node], str]) -> str:
        return f"{text(self.expr)}[{text(self.k)}]"

    def warmup(self, params: dict[str, Any]) -> int:
        return self.expr.warmup(params) + int(self.k.scalar(params))


@dataclass(frozen=True, eq=False)
class Neg(Node):
    """Unary minus."""

    expr: Node = Num(0)

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.expr,)

    def render(self, text: Callable[[Node], str]) -> str:
        return f"-{text(self.expr)}"


@dataclass(frozen=True, eq=False)
class Arith(Node):
    """``left op right`` with ``op`` one of ``+ - * /``."""

    op: str = "+"
    left: Node = Num(0)
    right: Node = Num(0)

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)

    def render(self, text: Callable[[Node], str]) -> str:
        return f"({text(self.left)}{self.op}{text(self.right)})"


@dataclass(frozen=True, eq=False)
class Compare(Node):
    """``left op right`` with ``op`` one of ``< <= > >= == !=`` (a condition)."""

    kind: Kind = "condition"

    op: str = "<"
    left: Node = Num(0)
    right: Node = Num(0)

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)

    def render(self, text: Callable[[Node], str]) -> str:
        return f"{text(self.left)}{self.op}{text(self.right)}"


@dataclass(frozen=True, eq=False)
class Logic(Node):
    """``and`` / ``or`` of two or more conditions."""

    kind: Kind = "condition"

    op: str = "and"
    items: tuple[Node, ...] = ()

    @property
    def children(self) -> tuple[Node, ...]:
        return self.items

    def render(self, text: Callable[[Node], str]) -> str:
        return "(" + f" {self.op} ".join(text(i) for i in self.items) + ")"


@dataclass(frozen=True, eq=False)
class Not(Node):
    """``not`` of a condition."""

    kind: Kind = "condition"

    expr: Node = BoolConst(0)

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.expr,)

    def render(self, text: Callable[[Node], str]) -> str:
        return f"not {text(self.expr)}"


def params_of(tree: Node) -> dict[str, dict[str, Any]]:
    """How each ``$param`` is used: ``{"window": bool, "min": lowest allowed, "pos": first
    position}`` (a window or lookback must be a whole number)."""
    out: dict[str, dict[str, Any]] = {}
    for node in tree.walk():
        if isinstance(node, ParamRef):
            out.setdefault(node.name, {"window": False, "min": -math.inf, "pos": node.pos})
        if isinstance(node, Call):
            spec = FUNCTIONS[node.fn]
            for a, arg in zip(spec.args, node.args, strict=True):
                if isinstance(arg, ParamRef) and a.kind != "series":
                    use = out.setdefault(arg.name, {"window": False, "min": -math.inf,
                                                    "pos": arg.pos})  # fmt: skip
                    use["window"] |= a.kind == "window"
                    use["min"] = max(use["min"], a.min)
        if isinstance(node, Shift) and isinstance(node.k, ParamRef):
            use = out.setdefault(node.k.name, {"window": False, "min": -math.inf,
                                               "pos": node.k.pos})  # fmt: skip
            use["window"] = True
            use["min"] = max(use["min"], 0)
    return out
