"""What the reliability tests drive: a real ``serve`` process, socket.io peers and raw frames.

Only the public surface is used (the CLI, socket.io events, ``chatops_widget.protocol``), so
these tests hold whatever the package layout is:

- :class:`Serve` -- ``python -m chatops_widget serve`` in its own process group, its output in
  a log file (kept over restarts on the same port and data dir); ``kill()`` is ``kill -9``;
- log helpers (:func:`tracebacks`), process helpers (:func:`worker_pids`) and :func:`fill`
  (a filesystem until it is full);
- the clients are in :mod:`._peers`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "reliability-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reachable(url: str) -> bool:
    try:
        urllib.request.urlopen(url + "/", timeout=2).read()
        return True
    except (urllib.error.URLError, OSError):
        return False


def tracebacks(text: str) -> list[str]:
    """The tracebacks in a log, each as its text (up to the next blank/unindented line)."""
    out = []
    for m in re.finditer(r"Traceback \(most recent call last\):\n(?:[ \t].*\n|\n)*.*", text):
        out.append(m.group(0))
    return out


class Serve:
    """``chatops-widget serve`` as a subprocess: ``start()``, ``kill()``, ``restart()``, ``log``.

    The process runs in its own process group, so ``kill()`` (``SIGKILL`` to the group) takes
    its worker processes too, as a machine crash would; ``kill(group=False)`` kills only the
    server. The log of every start goes to one file (``log_path``).
    """

    def __init__(
        self,
        data_dir: Path,
        log_path: Path,
        *,
        port: int | None = None,
        env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
    ) -> None:
        self.data_dir, self.log_path = Path(data_dir), Path(log_path)
        self.port = port or free_port()
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        self.args = args
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 60.0) -> Serve:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "chatops_widget", "serve", "--port", str(self.port),
                 "--token", TOKEN, "--data-dir", str(self.data_dir), *self.args],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.starts += 1
        deadline = time.monotonic() + timeout
        while not reachable(self.url):
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited with {self.proc.returncode}:\n{self.log}")
            if time.monotonic() > deadline:
                raise AssertionError(f"serve did not answer within {timeout} s:\n{self.log}")
            time.sleep(0.05)
        return self

    def kill(self, group: bool = True) -> None:
        """``kill -9`` the server (and, with ``group``, its workers) and reap it."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(self.proc.pid, signal.SIGKILL)
            else:
                os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)
        self.kills += 1

    def restart(self) -> Serve:
        if self.alive:
            self.kill()
        return self.start()

    def stop(self) -> None:
        """Teardown: kill the whole group, whatever is left of it."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                self.proc.wait(30)

    @property
    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def worker_pids(self) -> list[int]:
        return worker_pids(self.pid) if self.alive else []


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            out.append(int(entry.name))
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def worker_pids(server_pid: int) -> list[int]:
    """The worker processes of a server (spawned children; not the resource tracker)."""
    return [
        p
        for p in _children(server_pid)
        if "spawn_main" in _cmdline(p) and "resource_tracker" not in _cmdline(p)
    ]


def pid_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def fill(path: Path, chunk: int = 64 * 1024) -> Path:
    """Write ``path`` until the filesystem is full (ENOSPC); returns it (the ballast)."""
    block = b"\0" * chunk
    with Path(path).open("wb", buffering=0) as f:
        while True:
            try:
                f.write(block)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                if chunk == 1:
                    return path
                chunk //= 2
                block = block[:chunk]
