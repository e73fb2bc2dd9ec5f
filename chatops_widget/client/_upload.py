"""The kernel side of ``uploadData``: validate an OHLCV frame locally, then build the payload.

A frame bigger than :data:`~chatops_widget.protocol.MAX_UPLOAD_BYTES` as Arrow goes in chunks
instead (:mod:`._stream`); :func:`prepare_upload` gives its bytes.

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

__all__ = ["prepare_upload", "upload_request"]


def prepare_upload(symbol: str, df: Any, *, overwrite: bool = False) -> tuple[str, bytes]:
    """``(SYMBOL, Arrow IPC stream bytes)`` of a validated frame; ``ProtocolError`` if bad.

    >>> prepare_upload("myco", df)[0]                                    # doctest: +SKIP
    'MYCO'
    """
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
    return sym, to_arrow_bytes(clean)


def upload_request(
    session_id: str, symbol: str, df: Any, *, overwrite: bool = False
) -> dict[str, Any]:
    """The single-message ``uploadData`` payload; ``ProtocolError`` (bad_argument /
    too_large) if it cannot go that way."""
    sym, data = prepare_upload(symbol, df, overwrite=overwrite)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ProtocolError(
            ErrorCode.TOO_LARGE,
            f"upload_data: {sym} is {len(data) / 2**20:.1f} MB as Arrow; one uploadData "
            f"message takes at most {MAX_UPLOAD_BYTES // 2**20} MB. client.upload_data sends "
            "bigger frames in chunks (uploadStart/uploadChunk/uploadFinish)",
        )
    return {"sessionId": session_id, "symbol": sym, "data": data, "overwrite": overwrite}
