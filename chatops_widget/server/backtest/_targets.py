"""What a run names, made concrete: a stored strategy (by id or by name) or a template, as the
engine strategy it stands for; its order settings merged with a run's; new names checked.

A stored rule strategy is the plain dict the engine serialized (``RuleStrategy.to_dict``); it
is parsed again here (:func:`engine_strategy`) and in the worker, never executed. Order settings
(stops, targets, sizing) stored with a strategy are the base of each run's, which may override
or remove them (:func:`merge_orders`); the engine validates the result before any job exists
(:func:`check_orders`).

Example:
    >>> merge_orders({"stop_loss": "5%", "size": 0.5}, {"units": 10})
    {'stop_loss': '5%', 'units': 10}
    >>> merge_orders({"stop_loss": "5%"}, {"stop_loss": "none"})
    {}
    >>> check_orders({"stop_loss": "5%", "trailing_stop": "atr(14)*3"})
    {'stop_loss': 0.05, 'trailing_atr': [14, 3.0]}
    >>> check_name("strategy_3")
    Traceback (most recent call last):
    ...
    chatops_widget.server.backtest.errors.Invalid: name='strategy_3' looks like an id (strategy_<n>, run_...); pick a name such as dip or rsi_fast
"""  # noqa: E501

from __future__ import annotations

import re
from typing import Any

from chatops_widget import engine

from .errors import Invalid
from .storage.strategies import RULE, STRATEGY_RE, Strategy

__all__ = [
    "MAX_NAME",
    "RULE_OPTIONS",
    "check_name",
    "check_orders",
    "engine_strategy",
    "merge_orders",
    "order_options",
    "rule_dict",
]

#: Longest strategy name (the engine's limit for rule strategies).
MAX_NAME = 64
#: Options of ``/create_strategy`` that are a rule strategy's texts (the rest are ``$params``).
RULE_OPTIONS = ("entry", "exit", "short_entry", "short_exit", "where", "description")
_SIZING = ("size", "risk", "units")
_NONE = {"none", "off", "null"}
_ID_LIKE = re.compile(r"(?i)(strategy|run)_\w*")


def order_options() -> tuple[str, ...]:
    """The names of the order settings (``stop_loss`` ... ``whole_units``)."""
    from chatops_widget.protocol import ORDER_OPTIONS

    return tuple(ORDER_OPTIONS)


def rule_dict(s: Strategy) -> dict[str, Any] | None:
    """A stored rule strategy's dict, named as the strategy (``None`` for a template)."""
    return None if s.rule is None else {**s.rule, "name": s.name[:MAX_NAME]}


def engine_strategy(s: Strategy) -> engine.StrategyBase:
    """The engine strategy a stored one stands for: its template, or its rules parsed again."""
    rule = rule_dict(s)
    if rule is not None:
        try:
            return engine.RuleStrategy.from_dict(rule)
        except engine.EngineError as exc:  # stored by an older version with other rules
            raise Invalid(f"{s.id} ({s.name}) cannot be used: {exc}") from None
    reg = engine.templates()
    if s.template not in reg:
        raise Invalid(f"{s.id} uses the template {s.template!r}, which this server does not have")
    return reg[s.template]


def merge_orders(stored: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """A run's order settings: ``stored`` (with the strategy) overridden by ``given``.

    A given ``"none"`` removes that setting; a given way of sizing replaces the stored one
    (``units`` drops ``size``/``risk``, ``size`` or ``risk`` drop ``units``), a given
    ``trailing_stop`` the stored one of either kind.
    """
    out = dict(stored)
    if "trailing_stop" in given:  # stored as the engine keeps it: a fraction or an ATR spec
        out.pop("trailing_atr", None)
    if "units" in given:
        out.pop("size", None), out.pop("risk", None)
    if "size" in given or "risk" in given:
        out.pop("units", None)
    for key, value in given.items():
        if isinstance(value, str) and value.strip().lower() in _NONE:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def check_orders(orders: dict[str, Any]) -> dict[str, Any]:
    """``orders`` validated by the engine, as the settings it will use (only those set);
    :class:`Invalid` with the engine's message (naming the setting) otherwise."""
    unknown = sorted(set(orders) - {*order_options(), "trailing_atr"})
    if unknown:
        raise Invalid(f"unknown order setting(s) {', '.join(unknown)}; settings: "
                      f"{', '.join(order_options())}")  # fmt: skip
    try:
        checked = engine.Orders.from_kwargs(**orders)
    except engine.EngineError as exc:
        raise Invalid(str(exc)) from None
    return {k: v for k, v in checked.as_dict().items() if v is not None and v is not False}


def check_name(name: str) -> str:
    """A new strategy's name, stripped; :class:`Invalid` saying why one is not usable (the
    store refuses one another strategy has)."""
    text = name.strip()
    if not 0 < len(text) <= MAX_NAME:
        raise Invalid(f"name= must be 1-{MAX_NAME} characters, got {len(text)}")
    if any(not c.isprintable() or c in "=\"'`" for c in text):
        raise Invalid(f"name={text!r:.80} may not contain '=', quotes or control characters; "
                      "e.g. name=dip or name=\"rsi dip\"")  # fmt: skip
    if STRATEGY_RE.fullmatch(text.lower()) or _ID_LIKE.fullmatch(text):
        raise Invalid(f"name={text!r} looks like an id (strategy_<n>, run_...); pick a name "
                      "such as dip or rsi_fast")  # fmt: skip
    if text.lower() in engine.templates() or text.lower() == RULE:
        raise Invalid(
            f"name={text!r} is a template's name; pick another (e.g. my_{text.lower()}), so "
            f"`/run_backtest {text.lower()}` keeps meaning the template"
        )
    return text
