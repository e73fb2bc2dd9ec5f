"""The kernel side of a chunked upload: a frame too big for one ``uploadData`` message.

The frame's Arrow IPC stream bytes go as ``uploadChunk`` pieces of
:data:`~chatops_widget.protocol.UPLOAD_CHUNK_BYTES` after an ``uploadStart``, then
``uploadFinish`` validates and stores it on the server
(:mod:`chatops_widget.server.backtest.data.streams`). A piece that gets no ack (the connection
dropped, the server restarted) is not fatal: ``uploadStart`` with the same id tells how much the
server has, and the upload goes on from there.

Example:
    >>> stream_upload(client.call, "session_1", "BIG", data, progress=print)  # doctest: +SKIP
    0 48000123
    4194304 48000123
    ...
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from ..protocol import UPLOAD_CHUNK_BYTES, ErrorCode, ProtocolError

__all__ = ["Progress", "new_upload_id", "stream_upload"]

#: ``progress(bytes the server has, total bytes)``, called after every acked piece.
Progress = Callable[[int, int], Any]
Call = Callable[..., dict[str, Any]]

#: Attempts in a row without the server getting a byte more, before giving up.
_RETRIES = 5


def new_upload_id() -> str:
    """A fresh random upload id.

    >>> new_upload_id().startswith("up_"), len(new_upload_id())
    (True, 19)
    """
    return "up_" + secrets.token_hex(8)


def stream_upload(
    call: Call,
    session_id: str,
    symbol: str,
    data: bytes,
    *,
    overwrite: bool = False,
    uploaded_by: str | None = None,
    progress: Progress | None = None,
    upload_id: str | None = None,
    chunk_bytes: int = UPLOAD_CHUNK_BYTES,
    timeout: float = 60.0,
) -> dict[str, Any]:
    """Send ``data`` (Arrow IPC stream bytes) as ``symbol`` in pieces; the ``uploadFinish`` ack.

    ``call(event, payload, timeout=...)`` is :meth:`ChatOpsClient.call`. A server error (bad
    data, an existing symbol without ``overwrite``) raises ``ProtocolError``; after
    ``_RETRIES`` lost pieces in a row with no progress, the upload is aborted and
    ``TimeoutError`` raised.
    """
    uid = upload_id or new_upload_id()
    total = len(data)
    start = {
        "sessionId": session_id,
        "uploadId": uid,
        "symbol": symbol,
        "bytes": total,
        "overwrite": overwrite,
        "uploadedBy": uploaded_by,
    }
    ref = {"sessionId": session_id, "uploadId": uid}
    view = memoryview(data)
    received, stalled = -1, 0
    while True:
        ack = _resume(call, start, timeout)
        if ack.get("done"):
            return dict(ack["result"])
        if ack["received"] <= received:
            stalled += 1
            if stalled >= _RETRIES:
                _abort(call, ref)
                raise TimeoutError(
                    f"upload_data: {symbol} stalled at {received:,} of {total:,} bytes after "
                    f"{_RETRIES} attempts; the upload was aborted, try again"
                )
        else:
            stalled = 0
        received = ack["received"]
        step = max(1, min(chunk_bytes, int(ack.get("chunkBytes") or chunk_bytes)))
        if progress is not None:
            progress(received, total)
        try:
            while received < total:
                piece = bytes(view[received : received + step])
                got = call(
                    "uploadChunk", {**ref, "offset": received, "data": piece}, timeout=timeout
                )
                received = int(got["received"])
                if progress is not None:
                    progress(received, total)
            return call("uploadFinish", ref, timeout=max(timeout, 120.0))
        except (TimeoutError, ConnectionError):
            continue  # ask the server what it has and go on from there
        except ProtocolError as exc:
            if exc.code != ErrorCode.NOT_FOUND:  # nothing left staged on the server
                _abort(call, ref)
            raise


def _resume(call: Call, start: dict[str, Any], timeout: float) -> dict[str, Any]:
    for attempt in range(_RETRIES):
        try:
            return call("uploadStart", start, timeout=timeout)
        except (TimeoutError, ConnectionError):
            if attempt == _RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def _abort(call: Call, ref: dict[str, Any]) -> None:
    try:
        call("uploadAbort", ref, timeout=10.0)
    except (ProtocolError, TimeoutError, ConnectionError):
        pass  # the server drops stale uploads itself
