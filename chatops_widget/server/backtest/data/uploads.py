"""Data upload: the ``uploadData`` event, so a researcher can bring their own OHLCV bars.

A client sends ``{sessionId, symbol, data, overwrite?}`` where ``data`` is Arrow IPC *stream*
bytes of an OHLCV DataFrame (``chatops_widget._serialization.to_arrow_bytes(df)``). Nothing from
the upload is executed: the bytes are read as Arrow only (no pickle), columns must be plain
numbers, timestamps or strings, and the frame goes through the engine's ``validate_ohlcv``.

An accepted frame is written to ``<data_dir>/data/<SYMBOL>.parquet`` (atomically), registered in
the backtest service's catalog (so ``/data``, ``/run_backtest ... symbol=X``, ``/sweep`` and
``/create_strategy`` see it at once), reloaded at start-up, and announced to the session as a
``system`` message. An existing symbol (bundled or uploaded) is replaced only with
``overwrite: true``; a replaced symbol gets a new revision, so worker processes never reuse the
old frame they cached. Other servers sharing the data dir pick the file up within about a second
(:mod:`.watch`), as they do a file put in that folder by hand.

Example (kernel side; the client validates first and sends the Arrow bytes):
    >>> client.upload_data("MYCO", df)                                   # doctest: +SKIP
    {'ok': True, 'symbol': 'MYCO', 'bars': 1234, 'start': '2015-01-02', ...}
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatops_widget import engine
from chatops_widget._lazy import lazy_module
from chatops_widget._serialization import table_to_frame
from chatops_widget.protocol import (
    MAX_UPLOAD_BYTES,
    SYMBOL_PATTERN,
    ErrorCode,
    ProtocolError,
    UploadData,
    parse,
)
from chatops_widget.server.host import Host

from .._facts import bar_frequency
from ..service import BacktestService
from .watch import DataFolderWatch

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
else:
    pd = lazy_module("pandas")
    pa = lazy_module("pyarrow")

__all__ = ["MAX_DECODED_BYTES", "Uploads", "bar_frequency", "decode_upload"]

log = logging.getLogger(__name__)

#: Largest decoded size (Arrow buffers may be compressed; this stops a small "bomb").
MAX_DECODED_BYTES = 8 * MAX_UPLOAD_BYTES
_EVENT = "uploadData"
_FIELDS = ("sessionId", "symbol", "data", "overwrite", "uploadedBy")
_NAME_RE = re.compile(r"[^\w .@-]")


def _bad(message: str, code: ErrorCode = ErrorCode.BAD_ARGUMENT) -> ProtocolError:
    return ProtocolError(code, f"{_EVENT}: {message}")


def _plain_type(t: pa.DataType) -> bool:
    return (
        pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_decimal(t)
        or pa.types.is_boolean(t)
        or pa.types.is_timestamp(t)
        or pa.types.is_date(t)
        or pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_null(t)
    )


def decode_upload(
    data: bytes | pa.Buffer, symbol: str, *, limit: int = MAX_DECODED_BYTES, event: str = _EVENT
) -> pd.DataFrame:
    """Arrow IPC stream bytes -> a validated OHLCV frame; ``ProtocolError`` saying what is wrong.

    ``data`` may be a ``pyarrow.Buffer`` (e.g. a memory-mapped file of a chunked upload);
    ``limit`` caps the decoded size (Arrow buffers may be compressed).

    >>> from chatops_widget._serialization import to_arrow_bytes
    >>> decode_upload(to_arrow_bytes(my_df), "MYCO").columns.tolist()    # doctest: +SKIP
    ['Open', 'High', 'Low', 'Close', 'Volume']
    """

    def bad(message: str, code: ErrorCode = ErrorCode.BAD_ARGUMENT) -> ProtocolError:
        return ProtocolError(code, f"{event}: {message}")

    buf = data if isinstance(data, pa.Buffer) else pa.py_buffer(data)
    try:
        reader = pa.ipc.open_stream(buf)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise bad(
            f"'data' ({buf.size:,} bytes) is not an Arrow IPC stream ({exc}); send the bytes of "
            "chatops_widget._serialization.to_arrow_bytes(df) (or pyarrow.ipc.new_stream)"
        ) from None
    odd = [f"{f.name} ({f.type})" for f in reader.schema if not _plain_type(f.type)]
    if odd:
        raise bad(
            f"column(s) {', '.join(odd)} have unsupported Arrow types; send plain numbers for "
            "Open, High, Low, Close, Volume and timestamps (or date strings) for the dates"
        )
    batches, size = [], 0
    try:
        for batch in reader:
            size += batch.nbytes
            if size > limit:
                raise bad(
                    f"the data expands to more than {limit // 2**20} MB; send fewer "
                    "bars (or put the file in the server's data folder)",
                    ErrorCode.TOO_LARGE,
                )
            batches.append(batch)
        df = table_to_frame(pa.Table.from_batches(batches, schema=reader.schema))
    except ProtocolError:
        raise
    except Exception as exc:  # malformed batches or metadata: say so, never crash
        raise bad(
            f"cannot read the Arrow stream as a DataFrame: {type(exc).__name__}: {exc}"
        ) from None
    try:
        return engine.validate_ohlcv(df, symbol)
    except engine.EngineError as exc:
        raise bad(str(exc)) from None


#: Rows per Parquet row group of a stored symbol: a date range reads only its row groups.
ROW_GROUP_ROWS = 65_536


def _write(folder: Path, symbol: str, df: pd.DataFrame) -> Path:
    """Write ``<SYMBOL>.parquet`` atomically (a temp file, then ``os.replace``)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{symbol}.parquet"
    tmp = folder / f".{symbol}.parquet.{os.getpid()}.tmp"
    # no dictionary pages: prices rarely repeat, and trying costs ~5x the write time
    df.to_parquet(tmp, row_group_size=ROW_GROUP_ROWS, use_dictionary=False)
    tmp.replace(path)
    return path


def _precheck(data: Any) -> None:
    """Clear errors for the common mistakes, before the generic validation."""
    if not isinstance(data, dict):
        raise _bad(
            f"expected an object with fields {', '.join(_FIELDS)}, got {type(data).__name__}",
            ErrorCode.BAD_REQUEST,
        )
    payload = data.get("data")
    if payload is not None and not isinstance(payload, (bytes, bytearray)):
        raise _bad(
            f"'data' must be binary (Arrow IPC stream bytes, e.g. to_arrow_bytes(df)), got "
            f"{type(payload).__name__}; JSON rows or CSV text are not accepted",
            ErrorCode.BAD_REQUEST,
        )
    if isinstance(payload, (bytes, bytearray)) and len(payload) > MAX_UPLOAD_BYTES:
        raise _bad(
            f"the data is {len(payload) / 2**20:.1f} MB; the limit is "
            f"{MAX_UPLOAD_BYTES // 2**20} MB (about 300,000 bars). Upload fewer bars, or put "
            "the file in the server's <data-dir>/data folder",
            ErrorCode.TOO_LARGE,
        )
    if isinstance(payload, bytearray):
        data["data"] = bytes(payload)


class Uploads:
    """The ``uploadData`` event, the uploaded symbols kept across restarts, and the watched
    ``<data_dir>/data`` folder, feeding one :class:`BacktestService`'s catalog."""

    def __init__(self, service: BacktestService, host: Host) -> None:
        self.svc, self.host = service, host
        self.folder = Path(host.data_dir) / "data"
        #: one upload or folder check at a time: an existence check and a write go together
        self.lock = asyncio.Lock()
        self.watch: DataFolderWatch | None = None

    def register(self, host: Host) -> None:
        """Add the event and the start/stop hooks to ``host`` (after the service's own)."""
        host.on_event(_EVENT, self.upload_data, limit="uploads")
        host.on_startup(self.start)
        host.on_shutdown(self.stop)

    async def start(self) -> None:
        """Register the symbols uploaded before a restart, then follow the data folder."""
        await self._load_uploads()
        self.watch = DataFolderWatch(self.svc, self.folder, self.lock)
        await self.watch.start()

    async def stop(self) -> None:
        """Stop following the data folder."""
        if self.watch is not None:
            await self.watch.stop()
            self.watch = None

    def _existing(self, symbol: str) -> str:
        info = self.svc.catalog.info()
        row = info[info["symbol"] == symbol].to_dict("records")[0]
        start, end = pd.Timestamp(row["start"]).date(), pd.Timestamp(row["end"]).date()
        return f"{int(row['bars']):,} bars {start}..{end}, from {row['source'] or 'the server'}"

    async def upload_data(self, sid: str, data: Any) -> dict[str, Any]:
        """``uploadData {sessionId, symbol, data, overwrite?}`` -> ``{symbol, bars, ...}``."""
        _precheck(data)
        req = parse(UploadData, data)
        self.host.require_joined(sid, req.sessionId, _EVENT)
        df = await asyncio.to_thread(decode_upload, req.data, req.symbol)
        return await self.store(req.sessionId, req.symbol, df, req.overwrite, req.uploadedBy)

    async def store(
        self,
        session_id: str,
        sym: str,
        df: pd.DataFrame,
        overwrite: bool,
        uploaded_by: str | None,
        event: str = _EVENT,
    ) -> dict[str, Any]:
        """Store the validated frame ``df`` as ``sym`` (Parquet, atomically), register it and
        tell the session; the ack of ``uploadData`` (and of a chunked ``uploadFinish``)."""
        svc = self.svc
        async with self.lock:  # the existence check and the write go together
            existed = sym in svc.catalog
            if existed and not overwrite:
                raise ProtocolError(
                    ErrorCode.ALREADY_EXISTS,
                    f"{event}: symbol {sym} already exists ({self._existing(sym)}); send "
                    f"overwrite=true to replace it (client.upload_data({sym!r}, df, "
                    "overwrite=True)) or pick another symbol name",
                )
            try:
                path = await asyncio.to_thread(_write, self.folder, sym, df)
            except OSError as exc:
                log.exception("writing %s failed", sym)
                raise ProtocolError(
                    ErrorCode.STORAGE, f"{event}: could not store {sym} on the server: {exc}"
                ) from None
            # a new catalog revision: no worker reuses bars it cached for the old file
            svc.catalog.add_probed(
                sym, await asyncio.to_thread(engine.probe_file, path), source="upload"
            )
            if self.watch is not None:  # our own write: nothing to reload
                self.watch.remember(f"{sym}.parquet")
        idx = pd.DatetimeIndex(df.index)
        freq = bar_frequency(idx)
        info = {
            "symbol": sym,
            "bars": len(df),
            "start": idx[0].isoformat()[:10],
            "end": idx[-1].isoformat()[:10],
            "frequency": freq,
            "overwritten": existed,
        }
        who = _NAME_RE.sub("", uploaded_by or "").strip() or "someone"
        text = (
            f"{who} uploaded symbol {sym}: {len(df):,} {freq + ' ' if freq else ''}bars "
            f"{info['start']}..{info['end']}"
            + (" (replacing the previous data)" if existed else "")
        )
        msg = await self.host.publish(session_id, "system", text, {"upload": info})
        return {**info, "message": msg.wire()}

    async def _load_uploads(self) -> None:
        if not self.folder.is_dir():
            return
        for tmp in self.folder.glob(".*.tmp"):  # an upload cut short by a crash
            tmp.unlink(missing_ok=True)
        syms = [
            path.name[: -len(".parquet")].upper() for path in sorted(self.folder.glob("*.parquet"))
        ]

        def label(catalog: engine.DataCatalog) -> None:  # listed with the service's catalog
            for sym in syms:
                if re.fullmatch(SYMBOL_PATTERN, sym) and sym in catalog:
                    catalog.label(sym, "upload")

        self.svc.with_catalog(label)
