"""Strategies as the panel lists and creates them (private helpers of the widget): the
``strategies`` traitlet (stored, then hosted Python functions), the engine's templates before the
server sent its own, and a strategy made in the panel as its ``/create_strategy`` command."""

from __future__ import annotations

import re
import shlex
from typing import Any

from ._light import jsonable

__all__ = ["local_templates", "strategy_command", "strategy_items"]


def strategy_command(spec: Any) -> str:
    """A strategy spec (JSON object) -> the equivalent ``/create_strategy`` command text.

    >>> strategy_command({"template": "sma_cross", "symbol": "GOOG", "params": {"fast": 5}})
    '/create_strategy sma_cross symbol=GOOG fast=5'
    >>> strategy_command({"name": "dip", "entry": "rsi(14) < 30", "exit": "rsi(14) > 70",
    ...                   "stop_loss": "5%"})
    "/create_strategy name=dip entry='rsi(14) < 30' exit='rsi(14) > 70' stop_loss=5%"
    """
    if not isinstance(spec, dict):
        raise ValueError(
            "a strategy spec must be a JSON object like "
            '{"template": "sma_cross", "symbol": "GOOG", "params": {"fast": 10}} or '
            '{"name": "dip", "entry": "rsi(14) < 30", "exit": "rsi(14) > 70"}'
        )
    spec = dict(spec)
    template = spec.pop("template", None)
    rules = "entry" in spec or "exit" in spec  # a rule strategy: no template
    if not rules and (not isinstance(template, str) or not template):
        raise ValueError(
            'the strategy spec needs "template" (e.g. "sma_cross"; see /templates), or '
            '"entry" and "exit" rules'
        )
    params = spec.pop("params", {}) or {}
    if not isinstance(params, dict):
        raise ValueError('"params" must be an object of name: value, e.g. {"fast": 10}')
    parts = ["/create_strategy"] + ([] if rules else [shlex.quote(str(template))])
    for key in ("symbol", "name", "start", "end", "entry", "exit"):
        if spec.get(key) is not None:
            parts.append(f"{key}={shlex.quote(str(spec.pop(key)))}")
    for key, value in {**spec, **params}.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(key)):
            raise ValueError(f"bad parameter name {key!r} in the strategy spec")
        text = str(value).lower() if isinstance(value, bool) else str(value)
        parts.append(f"{key}={shlex.quote(text)}")
    return " ".join(parts)


def strategy_items(stored: Any, hosted: Any) -> list[dict[str, Any]]:
    """The ``strategies`` traitlet: stored strategies, then the hosted ones (Python functions
    in members' kernels) as items with ``kind: "python"`` and their parameter specs.

    >>> strategy_items([{"id": "strategy_1"}], [{"name": "my_mom", "params": [],
    ...                 "hostedBy": "alice's notebook", "online": True}])[1]["template"]
    'python'
    """
    items = [dict(s) for s in (stored or [])]
    for h in hosted or []:
        items.append({**h, "id": h["name"], "kind": "python", "template": "python",
                      "symbol": None})  # fmt: skip
    return jsonable(items)


def local_templates() -> list[dict[str, Any]]:
    """The engine's template specs (for completion before the server has sent its own)."""
    try:
        from .. import engine

        return [t.spec() for t in engine.templates().values()]
    except Exception:  # pragma: no cover - engine unavailable: no param completion
        return []
