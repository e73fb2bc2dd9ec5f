"""Results that arrive from a kernel (a hosted run's ``hostedResult``, a ``publishResult``),
checked and turned into what the server stores: nothing in them is executed, the frames are
read as Arrow only (plain numbers, timestamps and strings), and the stats a member sees are
computed here, by the engine's formulas, from the frames that are stored
(:func:`chatops_widget.engine.result_from_frames`) -- not taken from the sender.

Example:
    >>> from chatops_widget import engine
    >>> from chatops_widget._serialization import to_arrow_bytes
    >>> r = engine.backtest(engine.catalog.get("ALPHA"), "sma_cross")
    >>> frames = {"equity": to_arrow_bytes(r.equity), "trades": to_arrow_bytes(r.trades)}
    >>> got = backtest_result(frames, "sma_cross", close=engine.catalog.get("ALPHA").Close,
    ...                       cash=1e6, commission=0.0, spread=0.0)
    >>> bool(abs(got.stats["sharpe"] - r.stats["sharpe"]) < 1e-12)
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chatops_widget import engine
from chatops_widget._lazy import lazy_module
from chatops_widget._serialization import jsonable, stats_to_json, table_to_frame, to_arrow_bytes
from chatops_widget.protocol import MAX_RESULT_BYTES, ErrorCode

from ..errors import BacktestError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
else:
    pd = lazy_module("pandas")
    pa = lazy_module("pyarrow")

__all__ = ["BadResult", "backtest_result", "encode_backtest", "read_frame", "sweep_table"]

_MAX_DECODED = 8 * MAX_RESULT_BYTES
_EQUITY = ("equity", "position")


class BadResult(BacktestError):
    """What a kernel sent is not a result the server can store (``code`` says how bad)."""

    def __init__(self, message: str, code: ErrorCode = ErrorCode.BAD_ARGUMENT) -> None:
        super().__init__(message)
        self.code = code


def _bad(message: str, code: ErrorCode = ErrorCode.BAD_ARGUMENT) -> BadResult:
    return BadResult(message, code)


def _plain(t: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_boolean(t)
        or pa.types.is_timestamp(t)
        or pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_null(t)
    )


def read_frame(data: Any, what: str) -> pd.DataFrame:
    """Arrow IPC stream bytes -> a DataFrame; :class:`BadResult` saying what is wrong."""
    if not isinstance(data, (bytes, bytearray)):
        raise _bad(
            f"{what} must be Arrow IPC stream bytes, got {type(data).__name__}",
            ErrorCode.BAD_REQUEST,
        )
    try:
        reader = pa.ipc.open_stream(pa.py_buffer(bytes(data)))
        odd = [f"{f.name} ({f.type})" for f in reader.schema if not _plain(f.type)]
        if odd:
            raise _bad(
                f"{what}: column(s) {', '.join(odd)} have unsupported Arrow types; "
                "send plain numbers, timestamps or strings"
            )
        batches, size = [], 0
        for batch in reader:
            size += batch.nbytes
            if size > _MAX_DECODED:
                raise _bad(
                    f"{what} expands to more than {_MAX_DECODED >> 20} MB", ErrorCode.TOO_LARGE
                )
            batches.append(batch)
        return table_to_frame(pa.Table.from_batches(batches, schema=reader.schema))
    except BadResult:
        raise
    except Exception as exc:  # not Arrow, or malformed: say so, never crash
        raise _bad(
            f"{what} is not a readable Arrow IPC stream ({type(exc).__name__}: {str(exc)[:200]})"
        ) from None


def _frames(frames: dict[str, Any], names: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    if sorted(frames) != sorted(names):
        raise _bad(
            f"expected the frames {', '.join(names)}, got {', '.join(frames) or 'none'}",
            ErrorCode.BAD_REQUEST,
        )
    size = sum(len(v) for v in frames.values() if isinstance(v, (bytes, bytearray)))
    if size > MAX_RESULT_BYTES:
        raise _bad(
            f"the result is {size / 2**20:.1f} MB; the limit is {MAX_RESULT_BYTES >> 20} "
            "MB (use fewer bars)",
            ErrorCode.TOO_LARGE,
        )
    return {k: read_frame(frames[k], k) for k in names}


def backtest_result(
    frames: dict[str, Any],
    name: str,
    *,
    index: pd.DatetimeIndex | None = None,
    close: pd.Series | None = None,
    cash: float | None = None,
    commission: float | None = None,
    spread: float | None = None,
    params: dict[str, Any] | None = None,
    symbol: str | None = None,
    source: str = "hosted",
) -> engine.BacktestResult:
    """``equity`` and ``trades`` frames as an engine result with the engine's stats; with
    ``index``, the equity curve must be on exactly those bars (the ones the server sent)."""
    got = _frames(frames, ("equity", "trades"))
    equity, trades = got["equity"], got["trades"]
    missing = [c for c in _EQUITY if c not in equity.columns]
    if missing or not isinstance(equity.index, pd.DatetimeIndex):
        raise _bad(
            f"the equity frame needs a DatetimeIndex and column(s) {', '.join(_EQUITY)}"
            f" (missing: {', '.join(missing) or 'the index'})"
        )
    if index is not None and not equity.index.equals(index):
        raise _bad(
            f"the equity curve has {len(equity)} bars from {equity.index[0]}, but the run "
            f"was on {len(index)} bars from {index[0]}: it must cover the data it was "
            "sent, bar by bar"
        )
    if close is None and "close" in equity.columns:
        close = equity["close"]
    try:
        return engine.result_from_frames(
            equity["equity"].astype("float64"),
            trades,
            close=close,
            cash=cash,
            held=equity["position"].astype("float64"),
            name=name,
            params=params,
            symbol=symbol,
            commission=commission,
            spread=spread,
            source=source,
        )
    except (engine.EngineError, ValueError, TypeError, KeyError) as exc:
        raise _bad(f"the result cannot be read: {exc}") from None


def encode_backtest(result: engine.BacktestResult) -> tuple[dict[str, Any], dict[str, bytes]]:
    """``(stats, frames)`` as a pool backtest stores them (stats JSON with start/end)."""
    stats = {**stats_to_json(result.stats), **stats_to_json(result.info[["start", "end"]])}
    frames = {"equity": to_arrow_bytes(result.equity), "trades": to_arrow_bytes(result.trades)}
    return stats, frames


def sweep_table(frames: dict[str, Any], params: list[str], combos: int) -> pd.DataFrame:
    """A hosted sweep's ``table``: one row per combination sent, the parameter columns, then
    the stats (numbers)."""
    table = _frames(frames, ("table",))["table"]
    missing = [c for c in (*params, *engine.STAT_NAMES) if c not in table.columns]
    if missing:
        raise _bad(f"the sweep table lacks column(s) {', '.join(missing[:8])}")
    if len(table) != combos:
        raise _bad(f"the sweep table has {len(table)} rows for {combos} combinations")
    for c in table.columns:
        if c not in params and not pd.api.types.is_numeric_dtype(table[c]):
            raise _bad(f"the sweep table's column {c!r} is not numeric")
    table.attrs = {k: jsonable(v) for k, v in table.attrs.items()}
    return table.reset_index(drop=True)
