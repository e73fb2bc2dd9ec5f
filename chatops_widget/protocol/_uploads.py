"""Chunked uploads: a frame of any size as the Arrow IPC stream of its record batches.

The client picks an ``uploadId`` and sends ``uploadStart`` (what it uploads and how many bytes),
then ``uploadChunk`` for each piece (its byte ``offset`` in the stream and the bytes: any slice
of the stream, ~``UPLOAD_CHUNK_BYTES`` each), then ``uploadFinish``. The server keeps the
pieces on disk, so after a reconnect -- or a server restart -- ``uploadStart`` with the same id
answers how many bytes it already has (``received``) and the client goes on from there.
``uploadFinish`` validates the whole frame before it replaces anything and answers like
``uploadData``; a finished id answers the same again (a retried finish is safe).
``uploadAbort`` drops what was sent.

Example:
    >>> req = parse(UploadStart, {"sessionId": "session_1", "uploadId": "up_1a2b3c4d5e6f",
    ...                           "symbol": "myco", "bytes": 48_000_000})
    >>> req.symbol, req.bytes
    ('MYCO', 48000000)
"""

from __future__ import annotations

import re
from typing import ClassVar

from pydantic import Field, field_validator

from ._constants import MAX_STREAM_BYTES, MAX_UPLOAD_CHUNK_BYTES, UPLOAD_ID_PATTERN, ClientEvent
from ._models import SessionId, _Model, check_symbol, parse

__all__ = ["UploadAbort", "UploadChunk", "UploadFinish", "UploadStart", "check_upload_id", "parse"]

_UPLOAD_RE = re.compile(UPLOAD_ID_PATTERN)


def check_upload_id(value: str) -> str:
    """``value`` if it is a valid upload id (``up_`` + 8-64 letters/digits), else ValueError.

    >>> check_upload_id("up_0123456789ab")
    'up_0123456789ab'
    """
    if not isinstance(value, str) or not _UPLOAD_RE.fullmatch(value):
        raise ValueError(
            f"upload id {value!r} is not valid; expected 'up_' followed by 8-64 letters or "
            "digits, e.g. 'up_9f2c4e1a7b3d'"
        )
    return value


class _UploadRef(_Model):
    sessionId: str = SessionId
    uploadId: str

    @field_validator("uploadId")
    @classmethod
    def _id(cls, value: str) -> str:
        return check_upload_id(value)


class UploadStart(_UploadRef):
    """``uploadStart``: begin (or resume) upload ``uploadId`` of ``bytes`` bytes of Arrow IPC
    stream as ``symbol``. The ack: ``{ok, uploadId, received, chunkBytes}`` -- ``received`` bytes
    are there already (0 for a new upload) -- or, for an upload already finished,
    ``{ok, uploadId, done: true, result: {...the uploadFinish ack...}}``."""

    event: ClassVar[str] = ClientEvent.UPLOAD_START.value

    symbol: str
    bytes: int = Field(strict=True, ge=1, le=MAX_STREAM_BYTES)
    overwrite: bool = Field(default=False, strict=True)
    uploadedBy: str | None = Field(default=None, max_length=40)

    @field_validator("symbol")
    @classmethod
    def _symbol(cls, value: str) -> str:
        return check_symbol(value)


class UploadChunk(_UploadRef):
    """``uploadChunk``: the stream's bytes from ``offset`` on (at most
    :data:`MAX_UPLOAD_CHUNK_BYTES`). ``offset`` may repeat bytes the server has (a re-sent
    chunk; the new part is kept) but not skip any. The ack: ``{ok, received}``."""

    event: ClassVar[str] = ClientEvent.UPLOAD_CHUNK.value

    offset: int = Field(strict=True, ge=0, le=MAX_STREAM_BYTES)
    data: bytes = Field(strict=True, repr=False, min_length=1, max_length=MAX_UPLOAD_CHUNK_BYTES)


class UploadFinish(_UploadRef):
    """``uploadFinish``: all bytes are sent; validate the frame, store it, answer like
    ``uploadData`` (``{ok, symbol, bars, start, end, frequency, overwritten, message}``)."""

    event: ClassVar[str] = ClientEvent.UPLOAD_FINISH.value


class UploadAbort(_UploadRef):
    """``uploadAbort``: forget upload ``uploadId`` (what was sent is deleted)."""

    event: ClassVar[str] = ClientEvent.UPLOAD_ABORT.value
