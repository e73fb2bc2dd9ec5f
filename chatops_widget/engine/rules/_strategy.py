"""``RuleStrategy``: entry/exit conditions with ``$params``, usable wherever a template is.

Example:
    >>> from chatops_widget.engine import RuleStrategy, backtest, sweep, catalog
    >>> s = RuleStrategy(entry="crosses_above(ema($fast), ema($slow))",
    ...                  exit="crosses_below(ema($fast), ema($slow))",
    ...                  params={"fast": 12, "slow": 26}, where="$fast < $slow", name="x")
    >>> [(p.name, p.type.__name__, p.default, p.min) for p in s.params]
    [('fast', 'int', 12, 1), ('slow', 'int', 26, 1)]
    >>> r = backtest(catalog.get("ALPHA"), s, {"fast": 10})
    >>> t = sweep(catalog.get("ALPHA"), s, {"fast": [5, 10, 30], "slow": [20, 50]})
    >>> len(t), t.attrs["skipped"]          # fast >= slow is skipped by `where`
    (5, 1)
    >>> RuleStrategy.from_dict(s.to_dict()) == s
    True
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._builtins import event_positions
from .._errors import ParamError, RuleError
from .._templates import Combo, Param, StrategyBase
from .._types import BoolArray, Int8Array
from ._eval import Evaluator, scalar_condition
from ._parser import parse_rule
from ._syntax import MAX_WINDOW
from ._tree import Arith, BoolConst, Compare, Logic, Neg, Node, Not, Num, ParamRef, params_of

__all__ = ["RULE_FIELDS", "RuleStrategy"]

RULE_FIELDS = ("entry", "exit", "short_entry", "short_exit")
_KEYS = ("kind", "name", "description", *RULE_FIELDS, "where", "params")
_SPEC_KEYS = ("default", "min", "max", "doc")


def _param(name: str, spec: Any, use: dict[str, Any], owner: str) -> Param:
    """A :class:`Param` from a default (or a ``{"default", "min", "max", "doc"}`` dict)."""
    if isinstance(spec, Param):
        spec = {"default": spec.default, "min": spec.min, "max": spec.max, "doc": spec.doc}
    if not isinstance(spec, Mapping):
        spec = {"default": spec}
    unknown = [k for k in spec if k not in _SPEC_KEYS]
    if unknown or "default" not in spec:
        raise ParamError(f"{owner}: parameter {name!r} is a default value or a dict with "
                         f"'default' (and optional 'min', 'max', 'doc'); got {dict(spec)!r}",
                         name)  # fmt: skip
    default = spec["default"]
    if isinstance(default, str):
        try:
            default = float(default.strip())
        except ValueError:
            raise ParamError(f"{owner}: ${name} must have a number as default, got "
                             f"{spec['default']!r}", name) from None  # fmt: skip
        default = int(default) if default.is_integer() and use["window"] else default
    if isinstance(default, bool) or not isinstance(default, (int, float, np.integer, np.floating)):
        raise ParamError(f"{owner}: ${name} must have a number as default, got {default!r}", name)
    if not math.isfinite(float(default)):
        raise ParamError(f"{owner}: ${name}'s default must be finite, got {default!r}", name)
    lo, hi = spec.get("min"), spec.get("max")
    if use["window"]:
        if not float(default).is_integer():
            raise ParamError(f"{owner}: ${name} is a window (a whole number of bars) at "
                             f"{use['pos']}, but its default is {default!r}", name)  # fmt: skip
        kind: type = int
        default = int(default)
        lo = max(float(use["min"]), -math.inf if lo is None else float(lo))
        hi = min(float(MAX_WINDOW), math.inf if hi is None else float(hi))
        lo, hi = math.ceil(lo), math.floor(hi)
    else:
        kind = int if isinstance(default, (int, np.integer)) else float
        default = kind(default)
        if use["min"] > -math.inf:  # e.g. bb_upper's k >= 0
            lo = max(float(use["min"]), -math.inf if lo is None else float(lo))
    p = Param(name, kind, default, lo, hi, str(spec.get("doc") or f"${name}"))
    p.coerce(default, owner)  # the default itself must be in range
    return p


def _param_only(tree: Node) -> bool:
    allowed = (Num, ParamRef, Arith, Neg, Compare, Logic, Not, BoolConst)
    return all(isinstance(n, allowed) for n in tree.walk())


class RuleStrategy(StrategyBase):
    """A strategy written as conditions (see docs/strategies.md for the language).

    Args:
        entry: condition to go long (on a bar's close; filled at the next open).
        exit: condition to close a long.
        params: default of every ``$param`` used (``{"fast": 12}``), or a dict with
            ``default`` and optional ``min``, ``max``, ``doc``. A ``$param`` used as a window
            or lookback is a whole number of bars in [the function's minimum, 100000].
        short_entry, short_exit: optional conditions for the short side (both or neither).
        name: the strategy's name in results; description: a line about it.
        where: optional condition on ``$params`` only (``"$fast < $slow"``): combinations
            where it is false are forbidden (skipped by sweeps).

    Raises:
        RuleError: a rule that does not parse (pointing at the character);
        ParamError: a ``$param`` without default, unused, or of the wrong type.
    """

    def __init__(
        self,
        entry: str,
        exit: str,
        params: Mapping[str, Any] | None = None,
        *,
        short_entry: str | None = None,
        short_exit: str | None = None,
        name: str = "rule",
        description: str | None = None,
        where: str | None = None,
    ) -> None:
        if not isinstance(name, str) or not name.strip() or len(name) > 64:
            raise ParamError(f"a rule strategy's name is 1 to 64 characters, got {name!r}")
        self.name = name.strip()
        if (short_entry is None) != (short_exit is None):
            raise RuleError(
                f"{self.name}: give short_entry and short_exit together (or neither)",
                "short_entry" if short_entry is None else "short_exit",
            )
        texts = {"entry": entry, "exit": exit, "short_entry": short_entry,
                 "short_exit": short_exit}  # fmt: skip
        self.rules: dict[str, str] = {k: v for k, v in texts.items() if v is not None}
        self.trees: dict[str, Node] = {k: parse_rule(v, k) for k, v in self.rules.items()}
        self.where = where
        self.where_tree = parse_rule(where, "where") if where is not None else None
        if self.where_tree is not None and not _param_only(self.where_tree):
            raise RuleError("where: may only compare $params and numbers, e.g. $fast < $slow",
                            "where", self.where_tree.pos)  # fmt: skip
        self.description = description or f"rule: enter when {entry}; exit when {exit}"
        self.params = self._params(dict(params or {}))

    def _params(self, given: dict[str, Any]) -> tuple[Param, ...]:
        uses: dict[str, dict[str, Any]] = {}
        for field, tree in self.trees.items():
            for pname, use in params_of(tree).items():
                use = {**use, "field": field}
                old = uses.get(pname)
                if old is None:
                    uses[pname] = use
                else:
                    old["window"] |= use["window"]
                    old["min"] = max(old["min"], use["min"])
        if self.where_tree is not None:
            for pname, use in params_of(self.where_tree).items():
                uses.setdefault(pname, {**use, "field": "where", "only_where": True})
        out = []
        for pname, use in uses.items():
            if use.get("only_where"):
                raise RuleError(f"where: ${pname} at {use['pos']} is not used in any rule",
                                "where", use["pos"])  # fmt: skip
            if pname not in given:
                close = difflib.get_close_matches(pname, list(given), n=1)
                hint = f" (did you mean ${close[0]}?)" if close else ""
                raise RuleError(
                    f"{use['field']}: ${pname} at {use['pos']} has no default; give "
                    f"params={{{pname!r}: ...}}{hint}",
                    use["field"],
                    use["pos"],
                )
            out.append(_param(pname, given[pname], use, self.name))
        for pname in given:
            if pname not in uses:
                close = difflib.get_close_matches(pname, list(uses), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ParamError(
                    f"{self.name}: parameter {pname!r} is not used by any rule"
                    f"{hint}; rules use: {', '.join(uses) or 'no $params'}",
                    pname,
                )
        return tuple(out)

    # ------------------------------------------------------------------ StrategyBase hooks
    def check(self, params: Combo) -> tuple[str, str] | None:
        """The ``where`` condition must hold."""
        if self.where_tree is None:
            return None
        if scalar_condition(self.where_tree, params):
            return None
        first = sorted(self.where_tree.deps)[0]
        values = ", ".join(f"{k}={params[k]}" for k in sorted(self.where_tree.deps))
        return first, f"{self.name}: where {self.where} is false for {values}"

    def warmup(self, params: Combo) -> tuple[str | None, int]:
        """The bars the slowest rule needs (indicators' warm-up plus a bar to fill)."""
        need, who = 0, None
        for tree in self.trees.values():
            w = tree.warmup(params)
            if w > need:
                need = w
                deps = sorted(tree.deps)
                who = deps[0] if deps else None
        return who, need + 1

    def positions(self, bars: Any, combos: list[Combo]) -> tuple[Int8Array, BoolArray | None]:
        """Target positions of ``combos`` and their entry signals (for re-entry after stops)."""
        ev = Evaluator(bars, combos)
        le, lx = ev.fires(self.trees["entry"]), ev.fires(self.trees["exit"])
        se = sx = None
        if "short_entry" in self.trees:
            se, sx = ev.fires(self.trees["short_entry"]), ev.fires(self.trees["short_exit"])
        pos = event_positions(le, lx, se, sx)
        entries = le & (pos == 1)
        if se is not None:
            entries = entries | (se & (pos == -1))
        return pos, entries

    # ------------------------------------------------------------------ data
    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-able dict (the server stores it); :meth:`from_dict` rebuilds it."""
        return {
            "kind": "rule",
            "name": self.name,
            "description": self.description,
            **{k: self.rules.get(k) for k in RULE_FIELDS},
            "where": self.where,
            "params": {
                p.name: {"default": p.default, "min": p.min, "max": p.max, "doc": p.doc}
                for p in self.params
            },
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RuleStrategy:
        """The strategy a :meth:`to_dict` dict describes (checked again)."""
        if not isinstance(d, Mapping):
            raise ParamError(f"a rule strategy is a dict, got {type(d).__name__}")
        for key in d:
            if key not in _KEYS:
                close = difflib.get_close_matches(str(key), _KEYS, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ParamError(f"rule strategy: unknown key {key!r}{hint}; keys: "
                                 f"{', '.join(_KEYS)}", str(key))  # fmt: skip
        if d.get("kind", "rule") != "rule":
            raise ParamError(f"rule strategy: kind must be 'rule', got {d.get('kind')!r}")
        for key in ("entry", "exit"):
            if not d.get(key):
                raise RuleError(f"rule strategy: {key!r} is missing", key)
        return cls(
            d["entry"], d["exit"], d.get("params") or {}, short_entry=d.get("short_entry"),
            short_exit=d.get("short_exit"), name=d.get("name") or "rule",
            description=d.get("description"), where=d.get("where"),
        )  # fmt: skip

    def spec(self) -> dict[str, Any]:
        """JSON-able description: name, description, params, the rules, ``kind: "rule"``."""
        out = super().spec()
        out.update(kind="rule", where=self.where, **{k: self.rules.get(k) for k in RULE_FIELDS})
        return out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RuleStrategy) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(repr(sorted(self.to_dict().items(), key=lambda kv: kv[0])))

    def __repr__(self) -> str:
        rules = ", ".join(f"{k}={v!r}" for k, v in self.rules.items())
        params = {p.name: p.default for p in self.params}
        return f"RuleStrategy(name={self.name!r}, {rules}, params={params})"
