"""Rule text -> typed tree: Python's ``ast`` (``mode="eval"``) plus a strict node whitelist.

Only these survive: numbers, ``True``/``False``, the price fields, ``$params``, calls of the
functions in :data:`FUNCTIONS` (positional or keyword arguments), lookback ``x[k]`` with ``k``
a non-negative whole number or a ``$param``, ``+ - * /``, unary minus, comparisons (chained
ones too), ``and``/``or``/``not`` and parentheses. Everything else (attributes, other
subscripts, other names, lambdas, comprehensions, strings, f-strings, ``:=``, ``**``, ...) is a
:class:`RuleError` pointing at it. The text is only parsed: nothing is compiled or executed.

Example:
    >>> parse_rule("crosses_above(ema($fast), ema($slow))").canon
    'crosses_above(ema(close,$fast),ema(close,$slow))'
    >>> try:
    ...     parse_rule("rsi(14) > 70 and", "exit")
    ... except RuleError as e:
    ...     print(e, "| position", e.position)
    exit: 'and' needs a condition on both sides at 14 | position 14
"""

from __future__ import annotations

import ast
import difflib
import math
import warnings

from .._errors import RuleError
from ._functions import FIELDS, FUNCTIONS, Function
from ._syntax import MAX_DEPTH, MAX_NODES, MAX_WINDOW, diagnose, prepare
from ._tree import (
    Arith,
    BoolConst,
    Call,
    Compare,
    Field,
    Kind,
    Logic,
    Neg,
    Node,
    Not,
    Num,
    ParamRef,
    Shift,
)  # fmt: skip

__all__ = ["parse_rule"]

_ARITH = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_CMP = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_WHAT = {
    ast.Attribute: "attribute access (a.b)",
    ast.Lambda: "lambda",
    ast.IfExp: "'x if c else y'",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
    ast.JoinedStr: "an f-string",
    ast.NamedExpr: "':='",
    ast.Starred: "'*' unpacking",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.List: "a list",
    ast.Tuple: "a tuple (a stray ',')",
    ast.Set: "a set",
    ast.Dict: "a dict",
    ast.Slice: "a slice",
}
_BIG = 1e15  # numbers beyond this are certainly a mistake


class _Parser:
    def __init__(self, source: str, text: str, lead: int, dollars: set[int], field: str) -> None:
        self.source, self.text, self.dollars, self.field = source, text, dollars, field
        self.lead = lead  # characters of leading whitespace cut before parsing

    def fail(self, message: str, pos: int | None = None, hint: str = "") -> RuleError:
        where = f" at {pos}" if pos is not None else ""
        return RuleError(f"{self.field}: {message}{where}{hint}", self.field, pos)

    def pos(self, node: ast.AST) -> int:
        col = getattr(node, "col_offset", 0)
        # ast columns are UTF-8 byte offsets; report characters
        chars = len(self.text.encode("utf-8")[:col].decode("utf-8", errors="ignore"))
        return self.lead + chars + 1

    def snippet(self, node: ast.AST) -> str:
        start, end = self.pos(node) - 1, getattr(node, "end_col_offset", None)
        if end is None:
            return self.source[start : start + 20]
        end_chars = len(self.text.encode("utf-8")[:end].decode("utf-8", errors="ignore"))
        return self.source[start : self.lead + end_chars]

    def op_pos(self, left: ast.AST, right: ast.AST) -> int:
        """Position of the operator between two operands (the first non-space, non-')')."""
        start = self.pos(left) - 1 + len(self.snippet(left))
        stop = self.pos(right) - 1
        for i in range(start, max(start, stop)):
            if self.source[i] not in " )\t\r\n":
                return i + 1
        return start + 1

    # ------------------------------------------------------------------ entry points
    def condition(self, node: ast.AST) -> Node:
        out = self.convert(node)
        if out.kind != "condition":
            raise self.fail(
                f"{self.snippet(node)!r} is a number, not a condition; compare it, "
                "e.g. close > sma(50)", self.pos(node),
            )  # fmt: skip
        return out

    def number(self, node: ast.AST, what: str) -> Node:
        out = self.convert(node)
        if out.kind != "number":
            raise self.fail(f"{what} needs a number; {self.snippet(node)!r} is a condition",
                            self.pos(node))  # fmt: skip
        return out

    # ------------------------------------------------------------------ dispatch
    def convert(self, node: ast.AST) -> Node:
        p = self.pos(node)
        if isinstance(node, ast.Constant):
            return self.constant(node, p)
        if isinstance(node, ast.Name):
            return self.name(node, p)
        if isinstance(node, ast.BoolOp):
            op = "and" if isinstance(node.op, ast.And) else "or"
            items = []
            for v in node.values:
                item = self.convert(v)
                if item.kind != "condition":
                    raise self.fail(f"'{op}' needs a condition on both sides; "
                                    f"{self.snippet(v)!r} is a number", self.pos(v))  # fmt: skip
                items.append(item)
            return Logic(pos=p, op=op, items=tuple(items))
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                inner = self.convert(node.operand)
                if inner.kind != "condition":
                    raise self.fail("'not' needs a condition after it", p)
                return Not(pos=p, expr=inner)
            if isinstance(node.op, (ast.USub, ast.UAdd)):
                inner = self.number(node.operand, "'-'")
                if isinstance(node.op, ast.UAdd):
                    return inner
                if isinstance(inner, Num):
                    return Num(pos=p, value=-inner.value)
                return Neg(pos=p, expr=inner)
            raise self.fail("'~' is not allowed (use 'not')", p)
        if isinstance(node, ast.BinOp):
            sym = _ARITH.get(type(node.op))
            if sym is None:
                names = {ast.Pow: "'**' (there is no power operator)",
                         ast.Mod: "'%' (write a fraction: 5 % is 0.05)",
                         ast.FloorDiv: "'//'", ast.BitAnd: "'&' (use 'and')",
                         ast.BitOr: "'|' (use 'or')", ast.BitXor: "'^'", ast.LShift: "'<<'",
                         ast.RShift: "'>>'", ast.MatMult: "'@'"}  # fmt: skip
                where = self.op_pos(node.left, node.right)
                raise self.fail(f"{names.get(type(node.op), 'this operator')} is not allowed",
                                where)  # fmt: skip
            left = self.number(node.left, f"'{sym}'")
            right = self.number(node.right, f"'{sym}'")
            return Arith(pos=p, op=sym, left=left, right=right)
        if isinstance(node, ast.Compare):
            return self.compare(node, p)
        if isinstance(node, ast.Call):
            return self.call(node, p)
        if isinstance(node, ast.Subscript):
            return self.subscript(node, p)
        what = _WHAT.get(type(node), type(node).__name__)
        raise self.fail(f"{what} is not allowed in a rule", p)

    def constant(self, node: ast.Constant, p: int) -> Node:
        v = node.value
        if isinstance(v, bool):
            return BoolConst(pos=p, value=v)
        if isinstance(v, (int, float)):
            try:
                f = float(v)
            except OverflowError:
                f = math.inf
            if not math.isfinite(f) or abs(f) > _BIG:
                raise self.fail(f"the number {self.snippet(node)[:30]!r} is too large "
                                f"(limit {_BIG:g})", p)  # fmt: skip
            return Num(pos=p, value=f)
        if isinstance(v, str):
            raise self.fail("text in quotes is not allowed in a rule", p)
        if v is None:
            raise self.fail("'None' is not allowed; use True or False", p)
        raise self.fail(f"{type(v).__name__} values are not allowed in a rule", p)

    def name(self, node: ast.Name, p: int) -> Node:
        ident = node.id
        if ident.startswith("_") and (p - 1) in self.dollars:
            return ParamRef(pos=p, name=ident[1:])
        if ident in FIELDS:
            return Field(pos=p, name=ident)
        if ident in FUNCTIONS:
            raise self.fail(f"{ident!r} is a function; call it, e.g. "
                            f"{FUNCTIONS[ident].example}", p)  # fmt: skip
        low = ident.lower()
        if low in FIELDS or low in ("true", "false"):
            right = low if low in FIELDS else low.capitalize()
            raise self.fail(
                f"unknown name {self.snippet(node)!r}", p, f" (did you mean {right!r}?)"
            )
        raise self._unknown("name", self.snippet(node), p, list(FIELDS) + list(FUNCTIONS))

    def _unknown(self, what: str, text: str, p: int, choices: list[str]) -> RuleError:
        close = difflib.get_close_matches(text.lower(), choices, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        if what == "name" and not close:
            hint = f" (price fields: {', '.join(FIELDS)}; parameters are written $name)"
        return self.fail(f"unknown {what} {text!r}", p, hint)

    def compare(self, node: ast.Compare, p: int) -> Node:
        operands = [node.left, *node.comparators]
        parts = []
        for i, op in enumerate(node.ops):
            sym = _CMP.get(type(op))
            if sym is None:
                word = {ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}
                raise self.fail(f"'{word.get(type(op), '?')}' is not allowed; compare with "
                                "< <= > >= == !=", self.pos(operands[i + 1]))  # fmt: skip
            left = self.number(operands[i], f"'{sym}'")
            right = self.number(operands[i + 1], f"'{sym}'")
            parts.append(Compare(pos=self.pos(operands[i]), op=sym, left=left, right=right))
        return parts[0] if len(parts) == 1 else Logic(pos=p, op="and", items=tuple(parts))

    def call(self, node: ast.Call, p: int) -> Node:
        if not isinstance(node.func, ast.Name):
            if isinstance(node.func, ast.Attribute):
                raise self.fail("attribute access (a.b) is not allowed in a rule", p)
            raise self.fail("only the rule functions can be called, e.g. sma(20)", p)
        name = node.func.id
        spec = FUNCTIONS.get(name)
        if spec is None:
            if name in FIELDS:
                raise self.fail(f"{name!r} is a price field, not a function; use {name}[1] "
                                "for the previous bar", p)  # fmt: skip
            raise self._unknown("function", self.snippet(node.func), p, list(FUNCTIONS))
        args = self.bind(spec, node, p)
        kind: Kind = "condition" if spec.condition else "number"
        return Call(pos=p, kind=kind, fn=name, args=tuple(args))

    def bind(self, spec: Function, node: ast.Call, p: int) -> list[Node]:
        given: list[ast.AST] = list(node.args)
        sig = spec.signature
        slots: dict[str, ast.AST] = {}
        params = list(spec.args)
        # a leading series with a default is skipped when the first argument is a window
        if (
            params
            and params[0].kind == "series"
            and params[0].default is not None
            and (not given or self._scalar_like(given[0]))
        ):
            params = params[1:]
        if len(given) > len(params):
            raise self.fail(f"{spec.name}() got {len(given)} arguments, too many; usage: {sig}",
                            self.pos(given[len(params)]))  # fmt: skip
        for a, g in zip(params, given, strict=False):
            slots[a.name] = g
        for kw in node.keywords:
            names = [a.name for a in spec.args]
            if kw.arg is None or kw.arg not in names:
                close = difflib.get_close_matches(str(kw.arg), names, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else f"; usage: {sig}"
                raise self.fail(f"{spec.name}() has no argument {kw.arg!r}", self.pos(kw.value),
                                hint)  # fmt: skip
            if kw.arg in slots:
                raise self.fail(f"{spec.name}() got {kw.arg!r} twice", self.pos(kw.value))
            slots[kw.arg] = kw.value
        out: list[Node] = []
        for a in spec.args:
            if a.name not in slots:
                if a.default is None:
                    raise self.fail(f"{spec.name}() needs {a.name!r}; usage: {sig}", p)
                out.append(Field(pos=p, name="close") if a.default == "close"
                           else Num(pos=p, value=float(a.default)))  # fmt: skip
                continue
            g = slots[a.name]
            if a.kind == "series":
                out.append(self.number(g, f"{spec.name}()'s {a.name}"))
            else:
                out.append(self.scalar(g, spec.name, a.name, a.kind == "window", a.min))
        return out

    @staticmethod
    def _scalar_like(node: ast.AST) -> bool:
        if isinstance(node, ast.Constant) and not isinstance(node.value, bool):
            return isinstance(node.value, (int, float))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return _Parser._scalar_like(node.operand)
        return isinstance(node, ast.Name) and node.id.startswith("_")

    def scalar(self, g: ast.AST, fn: str, arg: str, window: bool, lo: float) -> Node:
        out = self.convert(g)
        where = self.pos(g)
        if isinstance(out, ParamRef):
            return out
        if not isinstance(out, Num):
            what = "a whole number of bars" if window else "a number"
            raise self.fail(f"{fn}()'s {arg} must be {what} or a $param, not "
                            f"{self.snippet(g)!r}", where)  # fmt: skip
        if window:
            if not float(out.value).is_integer():
                raise self.fail(f"{fn}()'s {arg} must be a whole number of bars, got "
                                f"{out.value:g}", where)  # fmt: skip
            if not lo <= out.value <= MAX_WINDOW:
                raise self.fail(f"{fn}()'s {arg} must be in [{lo:g}, {MAX_WINDOW}] bars, got "
                                f"{out.value:g}", where)  # fmt: skip
        elif out.value < lo:
            raise self.fail(f"{fn}()'s {arg} must be >= {lo:g}, got {out.value:g}", where)
        return out

    def subscript(self, node: ast.Subscript, p: int) -> Node:
        if isinstance(node.slice, ast.Slice):
            raise self.fail("slices are not allowed; use x[k] for the value k bars ago", p)
        inner = self.convert(node.value)
        k = self.convert(node.slice)
        kp = self.pos(node.slice)
        if isinstance(k, ParamRef):
            return Shift(pos=p, kind=inner.kind, expr=inner, k=k)
        if not isinstance(k, Num) or not float(k.value).is_integer() or k.value < 0:
            raise self.fail(f"lookback [k] needs a whole number of bars >= 0 or a $param, got "
                            f"{self.snippet(node.slice)!r}", kp)  # fmt: skip
        if k.value > MAX_WINDOW:
            raise self.fail(f"lookback [{k.value:g}] is over the limit of {MAX_WINDOW} bars", kp)
        if k.value == 0:
            return inner
        return Shift(pos=p, kind=inner.kind, expr=inner, k=k)


def _depth(tree: ast.AST) -> tuple[int, int]:
    """Deepest nesting and number of nodes (iteratively: never recurses)."""
    deepest, count = 0, 0
    stack = [(tree, 1)]
    while stack:
        node, d = stack.pop()
        if isinstance(node, (ast.expr_context, ast.operator, ast.boolop, ast.cmpop,
                             ast.unaryop)):  # fmt: skip
            continue
        count += 1
        deepest = max(deepest, d)
        if count > 4 * MAX_NODES:
            break
        stack.extend((c, d + 1) for c in ast.iter_child_nodes(node))
    return deepest, count


def parse_rule(text: str, field: str = "rule") -> Node:
    """Parse one rule (a condition) into its typed tree; :class:`RuleError` if it is not one.

    ``field`` names the rule in messages (``entry``, ``exit``, ...).
    """
    flat, dollars = prepare(text, field)
    body = flat.lstrip()
    lead = len(flat) - len(body)
    try:
        with warnings.catch_warnings():  # e.g. "invalid decimal literal": we report our own
            warnings.simplefilter("ignore")
            tree = ast.parse(body, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError) as exc:
        message, pos = diagnose(flat, field)
        if pos is None and isinstance(exc, SyntaxError) and exc.offset:
            pos = lead + exc.offset
        if isinstance(exc, (RecursionError, MemoryError)):
            raise RuleError(f"{field} is nested too deeply (limit {MAX_DEPTH})", field) from None
        where = f" at {pos}" if pos is not None else ""
        raise RuleError(f"{field}: {message}{where}", field, pos) from None
    depth, count = _depth(tree.body)
    if depth > MAX_DEPTH:
        raise RuleError(f"{field} is nested {depth} levels deep; the limit is {MAX_DEPTH}",
                        field)  # fmt: skip
    if count > MAX_NODES:
        raise RuleError(f"{field} has more than {MAX_NODES} parts (numbers, names, "
                        "operators, calls); simplify it", field)  # fmt: skip
    return _Parser(text, body, lead, dollars, field).condition(tree.body)
