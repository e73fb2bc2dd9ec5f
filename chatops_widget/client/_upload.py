"""The kernel side of ``uploadData``: validate an OHLCV frame locally, then build the payload.

Validation uses the engine's :func:`~chatops_widget.engine.validate_ohlcv` (the same check the
server runs), so a bad frame fails at once with the engine's message and nothing is sent. The
frame travels as Arrow IPC stream bytes (:func:`~chatops_widget._serialization.to_arrow_bytes`),
never pickled.

Example:
    >>> payload = upload_request("session_1", "myco", df)              # doctest: +SKIP
    >>> payload["symbol"], type(payload["data"])                        # doctest: +SKIP
    ('MYCO', <class 'bytes'>)
"""

from __future__ import annotations

from typing import Any

from .._serialization import to_arrow_bytes
from ..protocol import MAX_UPLOAD_BYTES, ErrorCode, ProtocolError, check_symbol

__all__ = ["upload_request"]


def upload_request(
    session_id: str, symbol: str, df: Any, *, overwrite: bool = False
) -> dict[str, Any]:
    """The ``uploadData`` payload; ``ProtocolError`` (bad_argument / too_large) if it cannot go."""
    from .. import engine

    try:
        sym = check_symbol(symbol)
    except ValueError as exc:
        raise ProtocolError(ErrorCode.BAD_ARGUMENT, f"upload_data: {exc}") from None
    if not isinstance(overwrite, bool):
        raise ProtocolError(
            ErrorCode.BAD_ARGUMENT,
            f"upload_data: overwrite must be True or False, got {overwrite!r}",
        )
    try:
        clean = engine.validate_ohlcv(df, sym)
    except engine.EngineError as exc:
        raise ProtocolError(ErrorCode.BAD_ARGUMENT, f"upload_data: {exc}") from None
    data = to_arrow_bytes(clean)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ProtocolError(
            ErrorCode.TOO_LARGE,
            f"upload_data: {sym} is {len(data) / 2**20:.1f} MB as Arrow ({len(clean):,} bars); "
            f"the limit is {MAX_UPLOAD_BYTES // 2**20} MB. Upload a shorter range (e.g. "
            "df.loc['2015':]) or put the file in the server's <data-dir>/data folder",
        )
    return {"sessionId": session_id, "symbol": sym, "data": data, "overwrite": overwrite}
