"""The kernel side of ``publishResult``: a result made here -- the engine's ``BacktestResult``,
a backtesting.py stats Series or a single-column vectorbt ``Portfolio`` -- converted to the
engine's shape (:func:`chatops_widget.engine.as_result`: equity, trades, the engine's stats)
and sent as Arrow frames; the server recomputes the stats from the frames and stores the run.

The closes of the traded symbol go along when they are known (backtesting.py's data,
vectorbt's ``close``, or ``data=`` for our own results), so buy & hold, alpha and beta can be
computed; without them those three are left empty.

Example:
    >>> payload = publish_payload("session_1", stats, "my_bt")          # doctest: +SKIP
    >>> sorted(payload["frames"]), payload["source"]                     # doctest: +SKIP
    (['equity', 'trades'], 'backtesting.py')
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import engine  # light: its parts are imported when first used
from .._lazy import lazy_module
from .._serialization import jsonable, stats_to_json, to_arrow_bytes
from ..protocol import MAX_RESULT_BYTES

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = ["publish_payload"]


def publish_payload(
    session_id: str,
    obj: Any,
    name: str,
    *,
    data: pd.DataFrame | None = None,
    symbol: str | None = None,
) -> dict[str, Any]:
    """The ``publishResult`` payload of ``obj`` (ours, backtesting.py's or vectorbt's)."""
    result = engine.as_result(obj, name)
    close = _closes(obj, data)
    equity = result.equity.copy()
    if close is not None:
        equity["close"] = close.reindex(equity.index).astype("float64").ffill().bfill()
    frames = {"equity": to_arrow_bytes(equity), "trades": to_arrow_bytes(result.trades)}
    size = sum(len(b) for b in frames.values())
    if size > MAX_RESULT_BYTES:
        raise ValueError(
            f"publish: the result is {size / 2**20:.1f} MB; the limit is "
            f"{MAX_RESULT_BYTES >> 20} MB"
        )
    params = {
        str(k): v
        for k, v in jsonable(dict(result.params)).items()
        if isinstance(v, (bool, int, float, str))
    }
    sym = symbol or result.symbol
    return {
        "sessionId": session_id,
        "name": name,
        "source": str(result.info.get("source", "chatops_widget")),
        **({"symbol": str(sym)[:16]} if sym else {}),
        "stats": stats_to_json(result.stats),
        "params": params,
        "frames": frames,
    }


def _closes(obj: Any, data: pd.DataFrame | None) -> pd.Series | None:
    if data is not None:
        return engine.validate_ohlcv(data)["Close"]
    if isinstance(obj, pd.Series) and "_strategy" in obj.index:
        frame = getattr(getattr(obj["_strategy"], "_data", None), "df", None)
        return frame["Close"] if isinstance(frame, pd.DataFrame) and "Close" in frame else None
    close = getattr(obj, "close", None)
    if isinstance(close, pd.DataFrame) and close.shape[1] == 1:
        close = close.iloc[:, 0]
    return close if isinstance(close, pd.Series) else None
