"""A byte-budgeted LRU of frames (:class:`FrameCache`) and :class:`DataRef`, a file's bars by
reference: a few bytes to pickle, so another process -- a worker of a pool, a Dask worker on
shared storage -- reads the bars itself (memory-mapped, only the row groups of its range) and
keeps them in its own cache, instead of being sent the frame.

Example:
    >>> from chatops_widget.engine import DataCatalog
    >>> cat = DataCatalog()
    >>> cat.add_folder("~/data/minute-bars")                       # doctest: +SKIP
    >>> ref = cat.ref("AAPL", "2024-01-01", "2024-06-30")           # doctest: +SKIP
    >>> ref.load().shape           # in any process that sees the file  # doctest: +SKIP
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ._errors import DataError
from ._files import FileInfo, probe, read_bars

__all__ = ["DEFAULT_CACHE_BYTES", "DataRef", "FrameCache", "ref_cache", "too_few"]

#: Default byte budget of a frame cache (each process has its own).
DEFAULT_CACHE_BYTES = 512 * 2**20


def _nbytes(value: Any) -> int:
    if isinstance(value, pd.DataFrame):
        return int(value.memory_usage(index=True, deep=False).sum())
    return int(getattr(value, "nbytes", 0))


class FrameCache:
    """Frames (or indexes) by key, least recently used dropped first beyond ``budget`` bytes.

    A value bigger than the whole budget is not kept. Thread-safe.

    >>> cache = FrameCache(budget=1_000)
    >>> cache.put("a", pd.DataFrame({"x": range(100)}))   # 800 B + its index
    >>> cache.get("a") is not None, cache.info()["items"]
    (True, 1)
    """

    def __init__(self, budget: int = DEFAULT_CACHE_BYTES) -> None:
        self.budget = int(budget)
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.nbytes = self.hits = self.misses = self.evictions = 0

    def get(self, key: Hashable) -> Any:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self.hits += 1
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: Hashable, value: Any) -> None:
        size = _nbytes(value)
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.nbytes -= old[1]
            if size > self.budget:
                return
            self._items[key] = (value, size)
            self.nbytes += size
            while self.nbytes > self.budget:
                _, (_, dropped) = self._items.popitem(last=False)
                self.nbytes -= dropped
                self.evictions += 1

    def forget(self, symbol: str) -> None:
        """Drop every cached value of ``symbol`` (keys are tuples ``(kind, symbol, ...)``)."""
        with self._lock:
            for key in [k for k in self._items if isinstance(k, tuple) and k[1:2] == (symbol,)]:
                self.nbytes -= self._items.pop(key)[1]

    def info(self) -> dict[str, int]:
        """``bytes, budget, items, hits, misses, evictions``."""
        with self._lock:
            return {
                "bytes": self.nbytes,
                "budget": self.budget,
                "items": len(self._items),
                "hits": self.hits,
                "misses": self.misses,
                "evictions": self.evictions,
            }


@dataclass(frozen=True)
class DataRef:
    """A file's bars between ``start`` and ``end`` by reference; :meth:`load` reads them in
    the calling process (cached there: see :func:`ref_cache`)."""

    symbol: str
    path: str
    stamp: tuple[int, int]  # the file's (mtime_ns, size) when the reference was made
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None

    def load(self) -> pd.DataFrame:
        """The bars (validated, ``attrs["symbol"]`` set); the file as it is now."""
        stamp = _stamp(self.path)
        key = ("ref", self.symbol, self.path, stamp, self.start, self.end)
        part = _REFS.get(key)
        if part is None:
            full = _REFS.get(("ref", self.symbol, self.path, stamp, None, None))
            if full is not None:
                part = full.loc[self.start : self.end]
            else:
                part = read_bars(_probe(self.path, stamp), self.start, self.end)
                _REFS.put(key, part)
        if len(part) < 2:
            info = _probe(self.path, stamp)
            raise too_few(self.symbol, len(part), self.start, self.end, info.start, info.end)
        out = part.copy(deep=False)
        out.attrs["symbol"] = self.symbol
        return out  # type: ignore[no-any-return]


def _stamp(path: str) -> tuple[int, int]:
    try:
        st = Path(path).stat()
    except OSError as exc:
        raise DataError(
            f"cannot read {path}: {exc.strerror or exc}; a worker needs the data folder at the "
            "same path as the server (shared storage)"
        ) from None
    return st.st_mtime_ns, st.st_size


_REFS = FrameCache()
_PROBED: dict[str, FileInfo] = {}


def _probe(path: str, stamp: tuple[int, int]) -> FileInfo:
    info = _PROBED.get(path)
    if info is None or info.stamp != stamp:
        info = _PROBED[path] = probe(path)
    return info


def ref_cache() -> FrameCache:
    """The cache behind :meth:`DataRef.load` in this process (e.g. to set its ``budget``)."""
    return _REFS


def too_few(
    sym: str, n: int, lo: Any, hi: Any, first: pd.Timestamp | None, last: pd.Timestamp | None
) -> DataError:
    """The error for a range with fewer than 2 bars, saying what the data covers."""
    span = _span(lo, hi)
    have = f"data covers {_day(first)}..{_day(last)}" if first is not None else "no data"
    if n == 0:
        return DataError(f"no {sym} bars {span}; {have}")
    return DataError(f"{sym}: only 1 bar {span}, a backtest needs 2 or more; {have}")


def _day(ts: Any) -> str:
    """``2020-01-31``, or the full time when it is not midnight."""
    return str(ts.date()) if ts == ts.normalize() else ts.isoformat(sep=" ")


def _span(lo: Any, hi: Any) -> str:
    """``between A and B`` / ``from A on`` / ``up to B`` for a date range error."""
    if lo is not None and hi is not None:
        return f"between {_day(lo)} and {_day(hi)}"
    return f"from {_day(lo)} on" if lo is not None else f"up to {_day(hi)}"
