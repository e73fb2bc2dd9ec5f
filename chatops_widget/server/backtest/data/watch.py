"""Keeps the backtest catalog in step with ``<data_dir>/data`` while the server runs.

Files there are listed at start-up (:func:`load_folder`: each file probed -- a Parquet footer,
a CSV header -- never its bars, so a folder of a hundred 1M-bar files is listed in well under a
second). A :class:`DataFolderWatch` also picks up files added or replaced later -- an upload
received by another server that shares the data dir (several servers behind Redis), or a
CSV/Parquet file put there by hand -- within about :data:`INTERVAL` seconds: it compares each
file's size and modification time with what it saw last, probes changed files in a thread
(never on the event loop) and adds them with a new catalog revision, so no worker reuses bars
it cached for the old file. A file that cannot be read or lacks a price column is logged and
skipped until it changes again (bad bars inside a file are reported by the first run that
reads them); a deleted file leaves its symbol in place until the next restart.

Example:
    >>> watch = DataFolderWatch(service, server.data_dir / "data")   # doctest: +SKIP
    >>> await watch.start()        # takes the start-up state as seen   # doctest: +SKIP
    >>> await watch.poll()         # what the periodic task does        # doctest: +SKIP
    ['MYCO']
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from pathlib import Path
from typing import Any

from chatops_widget import engine
from chatops_widget.protocol import SYMBOL_PATTERN

__all__ = ["INTERVAL", "DataFolderWatch", "load_folder", "symbol_of"]

log = logging.getLogger(__name__)

INTERVAL = 1.0  # s between two looks at the folder (one scandir, no reads when nothing changed)
_SUFFIXES = (".parquet", ".pq", ".csv.gz", ".csv")


def symbol_of(name: str) -> str | None:
    """``MYCO.parquet`` -> ``MYCO``; ``None`` for temp files, other suffixes and bad symbols."""
    if name.startswith("."):
        return None
    for suffix in _SUFFIXES:
        if name.lower().endswith(suffix):
            symbol = name[: -len(suffix)].upper()
            return symbol if re.fullmatch(SYMBOL_PATTERN, symbol) else None
    return None


def load_folder(catalog: engine.DataCatalog, folder: Path) -> list[str]:
    """Add every data file of ``folder`` to ``catalog`` (probed, not read); a file that cannot
    be read is logged and skipped. Returns the symbols added."""
    added: list[str] = []
    try:
        names = sorted(e.name for e in os.scandir(folder) if e.is_file())
    except OSError:  # not there (yet)
        return added
    for name in names:
        symbol = symbol_of(name)
        if symbol is None:
            continue
        try:
            catalog.add_file(folder / name, symbol, source=str(folder))
        except engine.EngineError as exc:
            log.error("skipping data file %s: %s", folder / name, exc)
            continue
        added.append(symbol)
    return added


class DataFolderWatch:
    """Reloads changed files of one data folder into a backtest service's catalog."""

    def __init__(self, service: Any, folder: Path, lock: asyncio.Lock | None = None) -> None:
        self.service, self.folder = service, Path(folder)
        self.lock = lock or asyncio.Lock()  # shared with uploads: a write and a look never mix
        self._seen: dict[str, tuple[int, int]] = {}
        self._task: asyncio.Task[None] | None = None

    def _stat(self) -> dict[str, tuple[str, tuple[int, int]]]:
        """``name -> (symbol, (mtime_ns, size))`` for the folder's data files."""
        out: dict[str, tuple[str, tuple[int, int]]] = {}
        try:
            entries = list(os.scandir(self.folder))
        except OSError:  # not there (yet)
            return out
        for entry in entries:
            symbol = symbol_of(entry.name)
            if symbol is None:
                continue
            try:
                st = entry.stat()
            except OSError:  # removed meanwhile
                continue
            out[entry.name] = (symbol, (st.st_mtime_ns, st.st_size))
        return out

    def remember(self, name: str) -> None:
        """Take ``name`` as seen in its current state (a file this server just wrote)."""
        state = self._stat().get(name)
        if state is not None:
            self._seen[name] = state[1]

    async def start(self) -> None:
        """Take the files as loaded at start-up, then look again every :data:`INTERVAL` s."""
        self._seen = {name: state for name, (_, state) in self._stat().items()}
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        """Stop watching (the folder is left as it is)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(INTERVAL)
            try:
                await self.poll()
            except Exception:  # a bad look must not end the watch
                log.exception("checking %s failed", self.folder)

    async def poll(self) -> list[str]:
        """Load every new or changed file now; returns the symbols (re)registered."""
        loaded = []
        async with self.lock:
            for name, (symbol, state) in sorted(self._stat().items()):
                if self._seen.get(name) == state:
                    continue
                self._seen[name] = state
                path = self.folder / name
                try:
                    info = await asyncio.to_thread(engine.probe_file, path)
                except (engine.EngineError, OSError) as exc:
                    log.error("skipping data file %s: %s", path, exc)
                    continue
                self.service.catalog.add_probed(symbol, info, source="upload")  # a new revision
                loaded.append(symbol)
                log.info("loaded %s from %s (%s bars)", symbol, path, info.bars or "?")
        return loaded
