"""The panel's big CSV uploads: ``upload_part`` messages assembled in a temporary file.

The panel slices a file over one message's size into parts (``{type: "upload_part", uploadId,
name, size, index, last, data}``, ``data`` a piece of the CSV text, see js/src/panel/uploads.js).
Each part is written to a temporary file in ``index`` order (the text never sits whole in memory
here), up to :data:`MAX_PART_UPLOAD_BYTES`. Parts may arrive out of order (a busy front end or
kernel connection can reorder comm messages): one that comes early waits in memory, at most
:data:`MAX_EARLY_PARTS` of them, until the parts before it are in. Once every part up to the
``last`` one is written, the whole file is parsed, validated and sent with ``client.upload_data``
(which itself streams in chunks over the socket). The panel sees ``{type: "upload_progress",
uploadId, name, stage, done, total}`` messages: ``sending`` (panel -> kernel bytes), ``storing``
(kernel -> server bytes), then ``done`` or ``failed`` (with the usual notice saying why).

Example:
    >>> sent = []
    >>> parts = PartUploads(sent.append)
    >>> part = {"uploadId": "u1", "name": "x.csv", "size": 4, "index": 1, "data": "b"}
    >>> parts.receive(part, print)  # early: it waits for part 0
    >>> parts.receive(part, print)
    upload x.csv: part 1 arrived twice (was the panel reloaded? upload again)
    >>> sent[-1]["stage"]
    'failed'
"""

from __future__ import annotations

import os
import pathlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from ._connect import uploads  # pandas: imported when a finished upload is parsed
from ._light import MAX_PANEL_UPLOAD_BYTES

__all__ = ["MAX_PART_UPLOAD_BYTES", "PartUpload", "PartUploads"]

#: The most a panel upload may hold (bytes of CSV text); over it the upload stops with a notice.
MAX_PART_UPLOAD_BYTES = MAX_PANEL_UPLOAD_BYTES
#: The most uploads in flight at once (each holds a temporary file).
MAX_OPEN_UPLOADS = 4
#: The most parts of one upload held in memory while an earlier part has not arrived yet.
MAX_EARLY_PARTS = 16
#: An upload with no part for this long gives its place up to a new one (seconds).
STALE_SECONDS = 60.0

_AGAIN = "was the panel reloaded? upload again"
Post = Callable[[dict[str, Any]], None]
Notice = Callable[..., None]


@dataclass
class PartUpload:
    """One upload in flight: its parts so far in ``file``."""

    upload_id: str
    name: str
    total: int
    file: BinaryIO = field(repr=False)
    path: str = ""
    received: int = 0  # bytes written to ``file`` (parts ``0 .. next_index - 1``)
    next_index: int = 0
    last_index: int | None = None  # known once the part marked ``last`` has arrived
    early: dict[int, bytes] = field(default_factory=dict, repr=False)  # index -> its bytes
    touched: float = field(default_factory=time.monotonic)

    @property
    def arrived(self) -> int:
        """Bytes arrived so far (written or waiting for an earlier part)."""
        return self.received + sum(len(b) for b in self.early.values())

    @property
    def complete(self) -> bool:
        """Every part up to the last one is written."""
        return self.last_index is not None and self.next_index > self.last_index

    def add(self, index: int, raw: bytes) -> None:
        """Keep part ``index`` and write every part that is now next in line."""
        self.early[index] = raw
        while self.next_index in self.early:
            chunk = self.early.pop(self.next_index)
            self.file.write(chunk)
            self.received += len(chunk)
            self.next_index += 1
        self.touched = time.monotonic()

    def progress(self, stage: str, done: int, total: int) -> dict[str, Any]:
        """The ``upload_progress`` message for this upload."""
        return {"type": "upload_progress", "uploadId": self.upload_id, "name": self.name,
                "stage": stage, "done": int(done), "total": int(total)}  # fmt: skip

    def store(self, client: Any, kept: dict[str, Any], post: Post, notice: Notice) -> None:
        """Parse, validate and send the assembled file (a pool thread); the temp file is
        removed afterwards, whatever happens."""
        post(self.progress("storing", 0, 1))
        try:
            step = lambda s, t: post(self.progress("storing", s, t))  # noqa: E731
            sent = uploads.upload_csv(
                client, kept, self.name, pathlib.Path(self.path), notice, step
            )
        finally:
            _discard(self)
        if sent:
            post(self.progress("done", self.received, self.received))
        else:
            post(self.progress("failed", self.received, self.total))


class PartUploads:
    """The uploads in flight, keyed by ``uploadId`` (called on the kernel thread, in order)."""

    def __init__(self, post: Post, limit: int = MAX_PART_UPLOAD_BYTES) -> None:
        self.post = post
        self.limit = limit
        self.open: dict[str, PartUpload] = {}
        self.failed: set[str] = set()  # their later parts are dropped: the notice was given

    def receive(
        self,
        content: dict[str, Any],
        notice: Notice,
        finish: Callable[[PartUpload], None] | None = None,
    ) -> None:
        """Take one ``upload_part``; once every part is in, hand the upload to ``finish``."""
        uid = str(content.get("uploadId") or "")
        name = str(content.get("name") or "upload")
        data = content.get("data")
        index = content.get("index")
        up = self.open.get(uid)
        if up is None and uid in self.failed:
            return
        if up is None:
            total = content.get("size")
            total = total if isinstance(total, int) and total >= 0 else 0
            problem = self._refuse(uid, name, total, notice)
            if problem:
                self.failed.add(uid)
                self.post({"type": "upload_progress", "uploadId": uid, "name": name,
                           "stage": "failed", "done": 0, "total": total})  # fmt: skip
                notice(f"upload {name}: {problem}")
                return
            fd, path = tempfile.mkstemp(prefix="chatops-upload-", suffix=".csv")
            up = PartUpload(uid, name, total, os.fdopen(fd, "w+b"), path)
            self.open[uid] = up
        fit = _fit(up, index, data, content.get("last"), self.limit)
        if isinstance(fit, str):
            self.fail(uid, fit, notice)
            return
        index, raw = fit
        if content.get("last"):
            up.last_index = index
        up.add(index, raw)
        self.post(up.progress("sending", up.arrived, max(up.total, up.arrived)))
        if up.complete:
            del self.open[uid]
            up.file.flush()
            (finish or (lambda u: None))(up)

    def _refuse(self, uid: str, name: str, total: int, notice: Notice) -> str | None:
        if not uid:
            return "a part without an uploadId (is the widget bundle from another version?)"
        if total > self.limit:
            return (f"{total / 1024**2:.1f} MiB is over the {self.limit / 1024**3:.0f} GiB upload "
                    "limit; put bigger files in the server's data folder")  # fmt: skip
        now = time.monotonic()
        for stale in [u for u in self.open.values() if now - u.touched > STALE_SECONDS]:
            self.fail(stale.upload_id, f"no part arrived for {STALE_SECONDS:g} s ({_AGAIN})",
                      notice)  # fmt: skip
        if len(self.open) >= MAX_OPEN_UPLOADS:
            return f"{MAX_OPEN_UPLOADS} uploads are already in progress; wait for one to finish"
        return None

    def fail(self, uid: str, why: str, notice: Notice) -> None:
        """Stop upload ``uid`` (its temp file removed) with a notice and a ``failed`` row."""
        up = self.open.pop(uid, None)
        if up is None:
            return
        self.failed.add(uid)
        _discard(up)
        self.post(up.progress("failed", up.received, up.total))
        notice(f"upload {up.name}: {why}")

    def close(self) -> None:
        """Drop every upload in flight (the widget closes)."""
        for up in self.open.values():
            _discard(up)
        self.open.clear()


def _fit(up: PartUpload, index: Any, data: Any, last: Any, limit: int) -> tuple[int, bytes] | str:
    """Part ``index`` as ``(index, bytes)`` if it fits upload ``up``, else why not."""
    if not isinstance(data, str):
        return "a part without text data"
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        return (f"part index {index!r} is not a whole number >= 0 (is the widget bundle from "
                "another version?)")  # fmt: skip
    if index < up.next_index or index in up.early:
        return f"part {index} arrived twice ({_AGAIN})"
    end = up.last_index
    if (end is not None and index > end) or (last and max(up.early, default=-1) > index):
        return f"part {index} arrived after the last one ({_AGAIN})"
    if index - up.next_index > MAX_EARLY_PARTS:
        return (f"part {index} arrived while part {up.next_index} is still missing (more than "
                f"{MAX_EARLY_PARTS} parts out of order; {_AGAIN})")  # fmt: skip
    try:
        raw = data.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate: no TextDecoder makes one
        return f"part {index} is not valid text ({exc.reason} at {exc.start})"
    if up.arrived + len(raw) > limit:
        return (f"over the {limit / 1024**3:.0f} GiB upload limit; put bigger files in the "
                "server's data folder")  # fmt: skip
    return index, raw


def _discard(up: PartUpload) -> None:
    try:
        up.file.close()
    finally:
        pathlib.Path(up.path).unlink(missing_ok=True)
