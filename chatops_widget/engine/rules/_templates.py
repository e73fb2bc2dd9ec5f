"""The seven built-in templates written as rules (same trades, tested).

The templates keep their own vectorized signal functions (:mod:`.._builtins`); this table says
what each one *is* in the rule language, for ``/help`` and for researchers who want to start
from a template and change it.

Example:
    >>> from chatops_widget.engine.rules import template_rule
    >>> s = template_rule("sma_cross")
    >>> s.rules["entry"], s.where
    ('crosses_above(sma($fast), sma($slow))', '$fast < $slow')
    >>> sorted(template_rule("rsi_reversion", short=True).rules)
    ['entry', 'exit', 'short_entry', 'short_exit']
"""

from __future__ import annotations

from .._errors import UnknownStrategyError
from .._registry import get_template
from .._templates import Template
from ._strategy import RuleStrategy

__all__ = ["TEMPLATE_RULES", "template_rule"]

# name -> (entry, exit, short_entry, short_exit, where)
TEMPLATE_RULES: dict[str, tuple[str, str, str | None, str | None, str | None]] = {
    "sma_cross": ("crosses_above(sma($fast), sma($slow))", "crosses_below(sma($fast), sma($slow))",
                  "crosses_below(sma($fast), sma($slow))", "crosses_above(sma($fast), sma($slow))",
                  "$fast < $slow"),
    "ema_cross": ("crosses_above(ema($fast), ema($slow))", "crosses_below(ema($fast), ema($slow))",
                  "crosses_below(ema($fast), ema($slow))", "crosses_above(ema($fast), ema($slow))",
                  "$fast < $slow"),
    "rsi_reversion": ("rsi($window) < $lower", "rsi($window) > $upper", "rsi($window) > $upper",
                      "rsi($window) < $lower", "$lower < $upper"),
    "bollinger": ("close < bb_lower($window, $k)", "close >= bb_mid($window)",
                  "close > bb_upper($window, $k)", "close <= bb_mid($window)", None),
    "momentum": ("roc($lookback) > $threshold", "roc($lookback) <= $threshold",
                 "roc($lookback) < -$threshold", "roc($lookback) >= -$threshold", None),
    "donchian_breakout": ("close > highest(high, $window)[1]",
                          "close < lowest(low, $exit_window)[1]",
                          "close < lowest(low, $window)[1]",
                          "close > highest(high, $exit_window)[1]", None),
    "buy_and_hold": ("True", "False", None, None, None),
}  # fmt: skip
"""Each built-in template's rules (the short ones apply with ``short=true``)."""


def template_rule(name: str, short: bool = False) -> RuleStrategy:
    """The rule strategy equal to built-in template ``name`` (with its parameters' ranges)."""
    if name not in TEMPLATE_RULES:
        raise UnknownStrategyError(f"no rule form for {name!r}; built-ins: "
                                   f"{', '.join(TEMPLATE_RULES)}")  # fmt: skip
    entry, exit_, short_entry, short_exit, where = TEMPLATE_RULES[name]
    tpl = get_template(name)
    assert isinstance(tpl, Template)
    params = {p.name: p for p in tpl.params if p.name != "short"}
    return RuleStrategy(
        entry, exit_, params,
        short_entry=short_entry if short else None, short_exit=short_exit if short else None,
        name=f"{name}_rule", description=f"{tpl.description} (as rules)", where=where,
    )  # fmt: skip
