"""The chat panel's uploads, handled in the kernel (one pool-thread call per file).

A CSV of OHLCV bars is parsed and validated here, kept in the widget's ``uploads`` (symbol ->
DataFrame) and sent with ``client.upload_data``; a JSON strategy spec becomes a stored strategy.
A symbol that already exists gets a notice with a "Replace" button, which sends the kept frame
again with ``overwrite=True``. Everything is reported through the widget's ``notice(text,
level, key, action)``.

Example (what the widget does when the front end sends ``{"type": "upload", ...}``):
    >>> upload(client, w.uploads, {"name": "myco.csv", "kind": "csv", "content": csv_text},
    ...        w._notice)                                              # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from ..protocol import ErrorCode, ProtocolError
from . import _strategies as listing
from . import _sync as sync

__all__ = ["replace", "upload", "upload_csv"]

Notice = Callable[..., None]


def upload(client: Any, kept: dict[str, Any], content: dict[str, Any], notice: Notice) -> None:
    """Handle one ``upload`` message from the panel: a ``csv`` or a ``strategy`` file."""
    name = str(content.get("name") or "upload")
    text = content.get("content")
    if not isinstance(text, str):
        notice(f"upload {name}: no file content arrived")
        return
    if content.get("kind") != "strategy":
        upload_csv(client, kept, name, text, notice)
        return
    try:
        _strategy(client, name, json.loads(text), notice)
    except json.JSONDecodeError as exc:
        notice(f"upload {name}: not valid JSON ({exc.msg} at line {exc.lineno})")
    except ProtocolError as exc:
        message = getattr(exc, "message", None) or str(exc)
        notice(f"upload {name}: {message}", key=message)
    except (ValueError, TimeoutError, ConnectionError) as exc:
        notice(f"upload {name}: {exc}", key=str(exc))


def upload_csv(
    client: Any,
    kept: dict[str, Any],
    name: str,
    source: str | os.PathLike[str],
    notice: Notice,
    progress: Callable[[int, int], None] | None = None,
) -> bool:
    """A CSV (its text or a file holding it) parsed, validated and sent with
    ``client.upload_data`` (``progress(sent, total)`` of the bytes to the server); the outcome
    is a notice. True when the symbol was stored."""
    symbol = None
    try:
        symbol, df = sync.parse_csv_upload(name, source)
        kept[symbol] = df  # kept in the kernel too (e.g. to replace an existing symbol)
        if progress is None:
            ack = client.upload_data(symbol, df)  # the server tells the session
        else:
            ack = client.upload_data(symbol, df, progress=progress)
        notice(sync.upload_notice(name, ack), level="info")
        return True
    except ProtocolError as exc:
        action = None
        if exc.code == ErrorCode.ALREADY_EXISTS and symbol in kept:
            action = {"label": f"Replace {symbol}", "send": {"type": "replace_upload",
                                                               "symbol": symbol}}  # fmt: skip
        message = getattr(exc, "message", None) or str(exc)  # key: once with its `error` event
        notice(f"upload {name}: {message}", key=message, action=action)
    except (ValueError, TimeoutError, ConnectionError) as exc:
        notice(f"upload {name}: {exc}", key=str(exc))
    return False


def replace(client: Any, kept: dict[str, Any], symbol: str, notice: Notice) -> None:
    """The panel's "Replace" button after an upload hit an existing symbol."""
    df = kept.get(symbol)
    if df is None:
        notice(f"nothing to replace {symbol} with: upload the file again")
        return
    try:
        ack = client.upload_data(symbol, df, overwrite=True)
        notice(sync.upload_notice(f"{symbol} (replacing)", ack), level="info")
    except (ProtocolError, TimeoutError, ConnectionError) as exc:
        message = getattr(exc, "message", None) or str(exc)
        notice(f"replacing {symbol}: {message}", key=message)


def _strategy(client: Any, name: str, spec: Any, notice: Notice) -> None:
    create = getattr(client, "create_strategy", None)
    if create is not None and isinstance(spec, dict) and "template" in spec:
        spec = dict(spec)
        params = spec.pop("params", {}) or {}
        sid = create(spec.pop("template"), spec.pop("symbol", None), **spec, **params)
        notice(f"uploaded {name}: stored as {sid}", level="info")
    else:
        client.execute_command(listing.strategy_command(spec))
