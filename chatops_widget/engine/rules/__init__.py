"""The rule language: strategies written as ``entry`` / ``exit`` conditions.

A rule is a condition evaluated on every bar's close, e.g. ``rsi(14) < 30 and close >
sma(200)`` or ``crosses_above(ema($fast), ema($slow))``. A :class:`RuleStrategy` is an
``entry`` and an ``exit`` rule (optionally ``short_entry``/``short_exit``) plus defaults for
its ``$params``; it works everywhere a template does (:func:`~chatops_widget.engine.backtest`,
:func:`~chatops_widget.engine.sweep` with ``split=``, :func:`~chatops_widget.engine.expand_grid`)
and serializes to a plain dict.

Pipeline (each step its own module): :mod:`._syntax` (limits, ``$name`` placeholders, pointed
syntax errors) -> :mod:`._parser` (Python's ``ast`` with a node whitelist -> the typed tree of
:mod:`._tree`) -> :mod:`._eval` (vectorized numpy, with an indicator cache) using the
functions table :mod:`._functions`; :mod:`._strategy` ties them into a strategy. The grammar,
every function and the error messages are in docs/strategies.md.

Example:
    >>> from chatops_widget.engine import backtest, catalog
    >>> from chatops_widget.engine.rules import RuleStrategy
    >>> dip = RuleStrategy(entry="rsi(14) < 30 and close > sma(200)", exit="rsi(14) > 70",
    ...                    name="dip")
    >>> r = backtest(catalog.get("ALPHA"), dip, stop_loss=0.05, take_profit=0.12)
    >>> r.strategy, r.stats["num_trades"] >= 0
    ('dip', np.True_)
    >>> try:
    ...     RuleStrategy(entry="rsl(14) < 30", exit="rsi(14) > 70")
    ... except RuleError as e:
    ...     print(e)
    entry: unknown function 'rsl' at 1 (did you mean 'rsi'?)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .._errors import RuleError
from ._functions import FIELDS, FUNCTIONS, Arg, Function
from ._syntax import MAX_DEPTH, MAX_LENGTH, MAX_NODES, MAX_WINDOW

if TYPE_CHECKING:
    from ._parser import parse_rule
    from ._strategy import RULE_FIELDS, RuleStrategy
    from ._templates import TEMPLATE_RULES, template_rule

#: name -> its module, imported when the name is first looked up (PEP 562): :func:`language`
#: (the panel's autocomplete) needs neither the parser nor the evaluator
_WHERE = {
    "parse_rule": "._parser",
    "RULE_FIELDS": "._strategy",
    "RuleStrategy": "._strategy",
    "TEMPLATE_RULES": "._templates",
    "template_rule": "._templates",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "FIELDS",
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_NODES",
    "MAX_WINDOW",
    "RULE_FIELDS",
    "TEMPLATE_RULES",
    "Arg",
    "Function",
    "RuleError",
    "RuleStrategy",
    "language",
    "parse_rule",
    "template_rule",
]


def language() -> dict[str, object]:
    """The language as JSON-able data (for ``/help`` and autocomplete): fields, functions
    with signatures and docs, operators and limits.

    >>> sorted(language())
    ['fields', 'functions', 'limits', 'operators']
    """
    return {
        "fields": list(FIELDS),
        "functions": [f.as_dict() for f in FUNCTIONS.values()],
        "operators": [
            "+",
            "-",
            "*",
            "/",
            "<",
            "<=",
            ">",
            ">=",
            "==",
            "!=",
            "and",
            "or",
            "not",
            "x[k]",
        ],
        "limits": {
            "length": MAX_LENGTH,
            "depth": MAX_DEPTH,
            "nodes": MAX_NODES,
            "window": MAX_WINDOW,
        },
    }
