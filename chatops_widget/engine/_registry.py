"""The registry of named strategy templates, built from the built-ins table at import.

:data:`._builtins.BUILTINS` is plain data (a tuple of :class:`Template`); this module copies it
into the registry when it is imported, so no module imports another for a registration side
effect. :func:`register_template` adds user templates at run time.

Example:
    >>> from chatops_widget.engine import get_template, templates
    >>> sorted(templates())[:3]
    ['bollinger', 'buy_and_hold', 'donchian_breakout']
    >>> get_template("SMA_Cross").name
    'sma_cross'
"""

from __future__ import annotations

import difflib

from ._builtins import BUILTINS
from ._errors import UnknownStrategyError
from ._templates import StrategyBase, Template

_REGISTRY: dict[str, Template] = {t.name: t for t in BUILTINS}


def register_template(t: Template) -> Template:
    """Add (or replace) a template in the registry; returns it."""
    _REGISTRY[t.name] = t
    return t


def templates() -> dict[str, Template]:
    """All registered templates by name (a copy)."""
    return dict(_REGISTRY)


def get_template(strategy: str | StrategyBase) -> StrategyBase:
    """Look a template up by name (case-insensitive); a :class:`Template` or rule strategy
    (any :class:`StrategyBase`) passes through."""
    if isinstance(strategy, StrategyBase):
        return strategy
    key = str(strategy).strip().lower()
    if key not in _REGISTRY:
        close = difflib.get_close_matches(key, list(_REGISTRY), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UnknownStrategyError(
            f"unknown strategy {strategy!r}{hint}; available: {', '.join(sorted(_REGISTRY))}"
        )
    return _REGISTRY[key]
