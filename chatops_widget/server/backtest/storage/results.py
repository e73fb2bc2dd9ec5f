"""The result store: every finished run as Parquet files plus a JSON record, under the data dir.

Layout: ``<data_dir>/results/<run_id>/record.json`` (kind, session, stats, meta, frame names) and
one ``<frame>.parquet`` per DataFrame (``equity``, ``trades`` for a backtest; ``equity``,
``table`` for a comparison; ``table`` for a sweep). Recent results are also kept in memory as
Arrow IPC bytes, so ``getResult`` answers without touching the disk; after a restart they are read
back from Parquet (the pandas metadata in the schema keeps index and dtypes).

Example:
    >>> import tempfile, pandas as pd
    >>> from chatops_widget._serialization import to_arrow_bytes, from_arrow_bytes
    >>> store = ResultStore(tempfile.mkdtemp())
    >>> rec = StoredResult("run_1", "session_1", "backtest", {"sharpe": 1.0}, {},
    ...                    {"equity": to_arrow_bytes(pd.DataFrame({"equity": [1.0, 2.0]}))})
    >>> store.save(rec)
    >>> store.load("run_1").kind, from_arrow_bytes(store.load("run_1").frames["equity"]).shape
    ('backtest', (2, 1))
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatops_widget._lazy import lazy_module
from chatops_widget.protocol import RUN_ID_PATTERN
from chatops_widget.server.faults import storage_error

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq
else:
    pa = lazy_module("pyarrow")
    pq = lazy_module("pyarrow.parquet")

__all__ = ["ResultStore", "StoredResult"]

_RUN_RE = re.compile(RUN_ID_PATTERN)


@dataclass
class StoredResult:
    """One run's result: JSON-able ``stats``/``meta`` and named frames as Arrow IPC bytes."""

    run_id: str
    session_id: str
    kind: str
    stats: dict[str, Any]
    meta: dict[str, Any]
    frames: dict[str, bytes] = field(default_factory=dict)

    def wire(self) -> dict[str, Any]:
        """The ``getResult`` ack: ``runId, kind, stats, meta, frames`` + bytes per frame."""
        out: dict[str, Any] = {
            "ok": True,
            "runId": self.run_id,
            "sessionId": self.session_id,
            "kind": self.kind,
            "stats": self.stats,
            "meta": self.meta,
            "frames": list(self.frames),
        }
        out.update(self.frames)
        return out


def _short(record: dict[str, Any]) -> dict[str, Any]:
    out = {k: record.get(k) for k in ("runId", "sessionId", "kind")}
    meta = record.get("meta") or {}
    out.update({k: meta[k] for k in _SHORT_META if k in meta})
    return out


#: what a run's record keeps of its job, for ``/status`` after a restart
_SHORT_META = ("startedBy", "command", "label", "strategyId", "created")


def _ipc_to_table(data: bytes) -> pa.Table:
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()


def _table_to_ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


class ResultStore:
    """Parquet-on-disk result store with a small in-memory LRU of Arrow bytes (thread-safe)."""

    def __init__(self, data_dir: str | os.PathLike[str], *, cache_bytes: int = 256 << 20):
        self.root = Path(data_dir) / "results"
        with contextlib.suppress(OSError):  # a read-only data dir: made when a result is saved
            self.root.mkdir(parents=True, exist_ok=True)
        self._cache: OrderedDict[str, StoredResult] = OrderedDict()
        self._cache_limit = cache_bytes
        self._lock = threading.Lock()
        self._index: dict[str, dict[str, Any]] | None = None  # run id -> short record

    # ------------------------------------------------------------------ write
    def remember(self, result: StoredResult) -> None:
        """Keep ``result`` in memory (served at once); call :meth:`save` to persist it."""
        with self._lock:
            self._cache[result.run_id] = result
            self._cache.move_to_end(result.run_id)
            self._evict()
            if self._index is not None:
                self._index[result.run_id] = _short(
                    {"runId": result.run_id, "sessionId": result.session_id, "kind": result.kind,
                     "meta": result.meta}
                )  # fmt: skip

    def save(self, result: StoredResult) -> None:
        """Persist ``result`` as Parquet + ``record.json`` (in that order: a record means the
        frames are there) and keep it in memory; blocking, so run it off the loop. A storage
        failure raises :class:`~chatops_widget.server.faults.StorageError` and leaves nothing
        half-written."""
        try:
            write_result(self.root, result)
        except Exception as exc:
            shutil.rmtree(self.root / result.run_id, ignore_errors=True)
            err = storage_error(exc, f"the result of {result.run_id}", self.root)
            if err is None:
                raise
            raise err from None
        self.remember(result)

    # ------------------------------------------------------------------ read
    def cached(self, run_id: str) -> StoredResult | None:
        """The result if it is in memory (no disk access), else ``None``."""
        with self._lock:
            hit = self._cache.get(run_id)
            if hit is not None:
                self._cache.move_to_end(run_id)
            return hit

    def record(self, run_id: str) -> dict[str, Any] | None:
        """``record.json`` of ``run_id`` (kind, session, stats, meta; no frames), or ``None``."""
        hit = self.cached(run_id)
        if hit is not None:
            return {
                "runId": run_id,
                "sessionId": hit.session_id,
                "kind": hit.kind,
                "stats": hit.stats,
                "meta": hit.meta,
            }
        if not _RUN_RE.fullmatch(run_id):
            return None
        try:
            return json.loads((self.root / run_id / "record.json").read_text())
        except (OSError, ValueError):
            return None

    def load(self, run_id: str) -> StoredResult | None:
        """The stored result of ``run_id`` (from memory or Parquet), or ``None``."""
        hit = self.cached(run_id)
        if hit is not None or not _RUN_RE.fullmatch(run_id):
            return hit
        folder = self._folder(run_id)
        record = self.record(run_id)
        if record is None:
            return None
        frames = {
            name: _table_to_ipc(pq.read_table(folder / f"{name}.parquet"))
            for name in record.get("frames", [])
        }
        result = StoredResult(
            record["runId"],
            record["sessionId"],
            record["kind"],
            record.get("stats", {}),
            record.get("meta", {}),
            frames,
        )
        self.remember(result)
        return result

    def records(self, session_id: str | None = None) -> list[dict[str, Any]]:
        """Short records ``{runId, sessionId, kind}`` of stored runs, optionally one session's.

        The disk is scanned once; runs remembered since are added as they come.
        """
        with self._lock:
            if self._index is None:
                self._index = {}
                for path in sorted(self.root.glob("run_*/record.json")):
                    try:
                        record = json.loads(path.read_text())
                    except (OSError, ValueError):
                        continue
                    self._index[record["runId"]] = _short(record)
            rows = list(self._index.values())
        return [r for r in rows if session_id is None or r["sessionId"] == session_id]

    def _folder(self, run_id: str) -> Path:
        if not _RUN_RE.fullmatch(run_id):
            raise ValueError(f"run id {run_id!r} is not valid; expected e.g. 'run_1a2b3c'")
        return self.root / run_id

    def _evict(self) -> None:
        total = sum(sum(len(b) for b in r.frames.values()) for r in self._cache.values())
        while total > self._cache_limit and len(self._cache) > 1:
            _, old = self._cache.popitem(last=False)
            total -= sum(len(b) for b in old.frames.values())


def write_result(root: str | os.PathLike[str], result: StoredResult) -> None:
    """Write ``result`` under ``root/<run_id>/``: each frame as Parquet, then ``record.json``
    (each written to a temporary name and renamed, so none is ever seen half-written)."""
    if not _RUN_RE.fullmatch(result.run_id):
        raise ValueError(f"run id {result.run_id!r} is not valid; expected e.g. 'run_1a2b3c'")
    folder = Path(root) / result.run_id
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in result.frames.items():
        tmp = folder / f".{name}.parquet.tmp"
        pq.write_table(_ipc_to_table(data), tmp)
        tmp.replace(folder / f"{name}.parquet")
    record = {
        "runId": result.run_id,
        "sessionId": result.session_id,
        "kind": result.kind,
        "stats": result.stats,
        "meta": result.meta,
        "frames": list(result.frames),
    }
    tmp = folder / ".record.json.tmp"
    tmp.write_text(json.dumps(record, allow_nan=False, default=str))
    tmp.replace(folder / "record.json")
