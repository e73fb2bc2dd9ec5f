"""Chunked uploads: ``uploadStart`` / ``uploadChunk`` / ``uploadFinish`` / ``uploadAbort``.

A frame too big for one ``uploadData`` message (:data:`~chatops_widget.protocol.MAX_UPLOAD_BYTES`)
travels as the bytes of its Arrow IPC stream, in pieces of at most
:data:`~chatops_widget.protocol.MAX_UPLOAD_CHUNK_BYTES` (well under the socket.io packet limit).
Each upload is staged under ``<data_dir>/uploads/<uploadId>/``: ``meta.json`` (what it is),
``stream.arrow`` (the bytes so far) and, once finished, ``done.json`` (the ack). Nothing is
kept in memory between events, so a reconnect -- or a server killed and restarted -- resumes:
``uploadStart`` with the same id answers how many bytes are already there.

``uploadFinish`` reads the whole stream (memory-mapped), validates it like ``uploadData``
(:func:`.uploads.decode_upload`, the engine's ``validate_ohlcv``) and only then stores it
through :meth:`.uploads.Uploads.store` (Parquet written to a temp file, then ``os.replace``):
a kill at any moment leaves either the old data or the new, never half a file. Staged uploads
not touched for :data:`STALE_SECONDS` are removed at start-up.

Example (kernel side; :mod:`chatops_widget.client._stream` drives it):
    >>> client.upload_data("BIG", df_with_5m_bars)["bars"]              # doctest: +SKIP
    5000000
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatops_widget._lazy import lazy_module
from chatops_widget.protocol import (
    MAX_STREAM_BYTES,
    UPLOAD_CHUNK_BYTES,
    ErrorCode,
    ProtocolError,
    UploadAbort,
    UploadChunk,
    UploadFinish,
    UploadStart,
    parse,
)
from chatops_widget.server.host import Host

from .uploads import Uploads, decode_upload

if TYPE_CHECKING:
    import pyarrow as pa
else:
    pa = lazy_module("pyarrow")

__all__ = ["MAX_OPEN_UPLOADS", "STALE_SECONDS", "Streams"]

#: Unfinished uploads staged at once on one server (a new one past this is refused).
MAX_OPEN_UPLOADS = 16
#: A staged upload (finished or not) untouched this long is removed at start-up.
STALE_SECONDS = 24 * 3600
#: The decoded frame may be at most this many times its stream (compressed Arrow buffers).
_EXPANSION = 8


def _err(event: str, code: ErrorCode, message: str) -> ProtocolError:
    return ProtocolError(code, f"{event}: {message}")


def _fields(data: Any, event: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _err(event, ErrorCode.BAD_REQUEST, f"expected an object, got {type(data).__name__}")
    if isinstance(data.get("data"), bytearray):
        data = {**data, "data": bytes(data["data"])}
    return data


def _write_json(path: Path, value: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(value))
    tmp.replace(path)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        out = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return out if isinstance(out, dict) else None


class Streams:
    """The chunked-upload events of one server, storing through ``uploads``."""

    def __init__(self, uploads: Uploads, host: Host) -> None:
        self.uploads, self.host = uploads, host
        self.root = Path(host.data_dir) / "uploads"
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def register(self, host: Host) -> None:
        """Add the four events (chunks count as ordinary events, the rest as uploads)."""
        host.on_event(UploadStart.event, self.start, limit="uploads")
        host.on_event(UploadChunk.event, self.chunk, limit="events")
        host.on_event(UploadFinish.event, self.finish, limit="events")
        host.on_event(UploadAbort.event, self.abort, limit="events")
        host.on_startup(self.sweep_stale)

    # ------------------------------------------------------------------ helpers
    def _lock(self, upload_id: str) -> asyncio.Lock:
        lock = self._locks.get(upload_id)
        if lock is None:
            lock = self._locks[upload_id] = asyncio.Lock()
        return lock

    def _dir(self, upload_id: str) -> Path:
        return self.root / upload_id  # the id is checked against UPLOAD_ID_PATTERN

    def _meta(self, event: str, upload_id: str, session_id: str) -> dict[str, Any]:
        meta = _read_json(self._dir(upload_id) / "meta.json")
        if meta is None:
            raise _err(
                event,
                ErrorCode.NOT_FOUND,
                f"no upload {upload_id} on this server; begin it with uploadStart (it may have "
                "been finished and cleaned up, aborted, or never started)",
            )
        if meta.get("sessionId") != session_id:
            raise _err(
                event,
                ErrorCode.FORBIDDEN,
                f"upload {upload_id} belongs to another session; use a new uploadId",
            )
        return meta

    @staticmethod
    def _size(path: Path) -> int:
        try:
            return path.stat().st_size
        except FileNotFoundError:
            return 0

    def _open_count(self) -> int:
        if not self.root.is_dir():
            return 0
        return sum(1 for d in self.root.iterdir() if not (d / "done.json").exists())

    # ------------------------------------------------------------------ events
    async def start(self, sid: str, data: Any) -> dict[str, Any]:
        """``uploadStart`` -> ``{uploadId, received, chunkBytes}`` (or ``{done, result}``)."""
        req = parse(UploadStart, _fields(data, UploadStart.event))
        ev, uid = UploadStart.event, req.uploadId
        self.host.require_joined(sid, req.sessionId, ev)
        folder = self._dir(uid)
        async with self._lock(uid):
            meta = _read_json(folder / "meta.json")
            if meta is not None:
                if meta.get("sessionId") != req.sessionId:
                    raise _err(
                        ev,
                        ErrorCode.FORBIDDEN,
                        f"upload {uid} belongs to another session; use a new uploadId",
                    )
                if (meta.get("symbol"), meta.get("bytes")) != (req.symbol, req.bytes):
                    raise _err(
                        ev,
                        ErrorCode.BAD_ARGUMENT,
                        f"upload {uid} is {meta.get('symbol')} of {meta.get('bytes'):,} bytes, "
                        f"not {req.symbol} of {req.bytes:,}; resume it with the same symbol "
                        "and size, or use a new uploadId",
                    )
                done = _read_json(folder / "done.json")
                if done is not None:
                    return {"uploadId": uid, "done": True, "result": done}
                received = self._size(folder / "stream.arrow")
                return {"uploadId": uid, "received": received, "chunkBytes": UPLOAD_CHUNK_BYTES}
            if req.symbol in self.uploads.svc.catalog and not req.overwrite:  # say so now
                raise _err(
                    ev,
                    ErrorCode.ALREADY_EXISTS,
                    f"symbol {req.symbol} already exists; "
                    "send overwrite=true to replace it or pick another symbol name",
                )
            if self._open_count() >= MAX_OPEN_UPLOADS:
                raise _err(
                    ev,
                    ErrorCode.RATE_LIMITED,
                    f"{MAX_OPEN_UPLOADS} uploads are open "
                    "on this server; finish or abort one first",
                )
            self.root.mkdir(parents=True, exist_ok=True)
            free = shutil.disk_usage(self.root).free
            if req.bytes * 2 > free:  # the stream and the Parquet file
                raise _err(
                    ev,
                    ErrorCode.TOO_LARGE,
                    f"{req.bytes / 2**20:,.0f} MB does not fit: the server has "
                    f"{free / 2**20:,.0f} MB free (it needs about twice the stream)",
                )
            folder.mkdir(exist_ok=True)
            (folder / "stream.arrow").write_bytes(b"")
            meta = {**req.model_dump(exclude={"event"}), "created": time.time()}
            await asyncio.to_thread(_write_json, folder / "meta.json", meta)
        return {"uploadId": uid, "received": 0, "chunkBytes": UPLOAD_CHUNK_BYTES}

    async def chunk(self, sid: str, data: Any) -> dict[str, Any]:
        """``uploadChunk {offset, data}`` -> ``{uploadId, received}``."""
        req = parse(UploadChunk, _fields(data, UploadChunk.event))
        ev, uid = UploadChunk.event, req.uploadId
        self.host.require_joined(sid, req.sessionId, ev)
        async with self._lock(uid):
            meta = self._meta(ev, uid, req.sessionId)
            folder = self._dir(uid)
            if (folder / "done.json").exists():
                raise _err(ev, ErrorCode.BAD_ARGUMENT, f"upload {uid} is finished already")
            path = folder / "stream.arrow"
            received, total = self._size(path), int(meta["bytes"])
            end = req.offset + len(req.data)
            if req.offset > received:
                raise _err(
                    ev,
                    ErrorCode.BAD_ARGUMENT,
                    f"offset {req.offset:,} skips bytes: the server has {received:,} of upload "
                    f"{uid}; send from offset {received:,}",
                )
            if end > total:
                raise _err(
                    ev,
                    ErrorCode.TOO_LARGE,
                    f"bytes {req.offset:,}..{end:,} go past the {total:,} bytes announced by "
                    "uploadStart; send at most the announced size",
                )
            if end > received:  # bytes already there are kept as they are
                await asyncio.to_thread(
                    self._append, path, received, req.data[received - req.offset :]
                )
        return {"uploadId": uid, "received": max(received, end)}

    @staticmethod
    def _append(path: Path, at: int, piece: bytes) -> None:
        with path.open("r+b") as fh:
            fh.seek(at)
            fh.write(piece)
            fh.truncate()

    async def finish(self, sid: str, data: Any) -> dict[str, Any]:
        """``uploadFinish`` -> the ``uploadData`` ack, once the whole frame is valid."""
        req = parse(UploadFinish, _fields(data, UploadFinish.event))
        ev, uid = UploadFinish.event, req.uploadId
        self.host.require_joined(sid, req.sessionId, ev)
        async with self._lock(uid):
            meta = self._meta(ev, uid, req.sessionId)
            folder = self._dir(uid)
            done = _read_json(folder / "done.json")
            if done is not None:  # a retried finish: the same answer
                return done
            path = folder / "stream.arrow"
            received, total = self._size(path), int(meta["bytes"])
            if received != total:
                raise _err(
                    ev,
                    ErrorCode.BAD_ARGUMENT,
                    f"upload {uid} has {received:,} of {total:,} bytes; send the rest "
                    f"(uploadChunk from offset {received:,}) before uploadFinish",
                )
            sym = str(meta["symbol"])
            df = await asyncio.to_thread(self._decode, path, sym, total)
            result = await self.uploads.store(
                req.sessionId, sym, df, bool(meta.get("overwrite")), meta.get("uploadedBy"), ev
            )
            del df
            await asyncio.to_thread(_write_json, folder / "done.json", result)
            path.unlink(missing_ok=True)  # the Parquet file holds the data now
        return result

    @staticmethod
    def _decode(path: Path, symbol: str, total: int) -> Any:
        with pa.memory_map(str(path)) as source:
            buf = source.read_buffer()
            return decode_upload(
                buf,
                symbol,
                limit=min(_EXPANSION * total, 2 * MAX_STREAM_BYTES),
                event=UploadFinish.event,
            )

    async def abort(self, sid: str, data: Any) -> dict[str, Any]:
        """``uploadAbort`` -> ``{uploadId, removed}`` (an unknown id: ``removed: false``)."""
        req = parse(UploadAbort, _fields(data, UploadAbort.event))
        uid = req.uploadId
        self.host.require_joined(sid, req.sessionId, UploadAbort.event)
        async with self._lock(uid):
            folder = self._dir(uid)
            if not (folder / "meta.json").exists():
                return {"uploadId": uid, "removed": False}
            self._meta(UploadAbort.event, uid, req.sessionId)
            await asyncio.to_thread(shutil.rmtree, folder, True)
        return {"uploadId": uid, "removed": True}

    async def sweep_stale(self) -> None:
        """Remove staged uploads untouched for :data:`STALE_SECONDS` (and broken ones)."""
        if not self.root.is_dir():
            return
        now = time.time()
        for folder in self.root.iterdir():
            try:
                touched = max(p.stat().st_mtime for p in [folder, *folder.iterdir()])
            except (OSError, ValueError):
                touched = 0.0
            if not (folder / "meta.json").exists() or now - touched > STALE_SECONDS:
                await asyncio.to_thread(shutil.rmtree, folder, True)
