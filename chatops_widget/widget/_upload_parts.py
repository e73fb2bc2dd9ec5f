"""The panel's big CSV uploads: ``upload_part`` messages assembled in a temporary file.

The panel slices a file over one message's size into parts (``{type: "upload_part", uploadId,
name, size, index, last, data}``, ``data`` a piece of the CSV text, see js/src/panel/uploads.js).
Each part is appended to a temporary file (the text never sits whole in memory here), up to
:data:`MAX_PART_UPLOAD_BYTES`; the last one parses and validates the whole file and sends it with
``client.upload_data`` (which itself streams in chunks over the socket). The panel sees
``{type: "upload_progress", uploadId, name, stage, done, total}`` messages: ``sending`` (panel ->
kernel bytes), ``storing`` (kernel -> server bytes), then ``done`` or ``failed`` (with the usual
notice saying why).

Example:
    >>> sent = []
    >>> parts = PartUploads(sent.append)
    >>> parts.receive({"uploadId": "u1", "name": "x.csv", "index": 1, "data": "a"}, print)
    upload x.csv: part 1 arrived but part 0 was expected (was the panel reloaded? upload again)
    >>> sent[-1]["stage"]
    'failed'
"""

from __future__ import annotations

import os
import pathlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from . import _sync as sync
from . import _uploads as uploads

__all__ = ["MAX_PART_UPLOAD_BYTES", "PartUpload", "PartUploads"]

#: The most a panel upload may hold (bytes of CSV text); over it the upload stops with a notice.
MAX_PART_UPLOAD_BYTES = sync.MAX_PANEL_UPLOAD_BYTES
#: The most uploads in flight at once (each holds a temporary file).
MAX_OPEN_UPLOADS = 4

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
    received: int = 0
    next_index: int = 0

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
        """Append one ``upload_part``; on the last part hand the upload to ``finish``."""
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
            problem = self._refuse(uid, name, index, total)
            if problem:
                self.failed.add(uid)
                self.post({"type": "upload_progress", "uploadId": uid, "name": name,
                           "stage": "failed", "done": 0, "total": total})  # fmt: skip
                notice(f"upload {name}: {problem}")
                return
            fd, path = tempfile.mkstemp(prefix="chatops-upload-", suffix=".csv")
            up = PartUpload(uid, name, total, os.fdopen(fd, "w+b"), path)
            self.open[uid] = up
        if not isinstance(data, str) or index != up.next_index:
            got = f"part {index}" if isinstance(data, str) else "a part without text data"
            self.fail(
                uid, f"{got} arrived but part {up.next_index} was expected ({_AGAIN})", notice
            )
            return
        raw = data.encode("utf-8")
        if up.received + len(raw) > self.limit:
            self.fail(uid, f"over the {self.limit / 1024**3:.0f} GiB upload limit; put bigger "
                           "files in the server's data folder", notice)  # fmt: skip
            return
        up.file.write(raw)
        up.received += len(raw)
        up.next_index += 1
        self.post(up.progress("sending", up.received, max(up.total, up.received)))
        if content.get("last"):
            del self.open[uid]
            up.file.flush()
            (finish or (lambda u: None))(up)

    def _refuse(self, uid: str, name: str, index: Any, total: int) -> str | None:
        if not uid:
            return "a part without an uploadId (is the widget bundle from another version?)"
        if index != 0:
            return f"part {index} arrived but part 0 was expected ({_AGAIN})"
        if total > self.limit:
            return (f"{total / 1024**2:.1f} MiB is over the {self.limit / 1024**3:.0f} GiB upload "
                    "limit; put bigger files in the server's data folder")  # fmt: skip
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


def _discard(up: PartUpload) -> None:
    try:
        up.file.close()
    finally:
        pathlib.Path(up.path).unlink(missing_ok=True)
