"""What the reliability tests drive: a real ``serve`` process, socket.io peers and raw frames.

Only the public surface is used (the CLI, socket.io events, ``chatops_widget.protocol``), so
these tests hold whatever the package layout is:

- :class:`Serve` -- ``python -m chatops_widget serve`` in its own process group, its output in
  a log file (kept over restarts on the same port and data dir); ``kill()`` is ``kill -9``;
- :class:`Peer` -- a python-socketio ``AsyncClient`` that records every event; ``call()``
  returns the ack or raises :class:`NoAck`;
- :class:`RawSocket` -- Engine.IO/socket.io spoken by hand over a websocket (``websockets``),
  for what a socket.io client never sends (empty frames, NUL, garbage, no auth at all);
- log helpers (:func:`tracebacks`) and process helpers (:func:`worker_pids`).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import socketio
import websockets
from websockets.asyncio.client import connect as ws_connect

from chatops_widget.protocol import SOCKETIO_PATH

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


class NoAck(AssertionError):
    """An event got no acknowledgement within the timeout."""


class Peer:
    """A socket.io client (python-socketio, websocket) that records every server event."""

    def __init__(self, url: str, token: str | None = TOKEN) -> None:
        self.url, self.token = url, token
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: list[tuple[str, Any]] = []
        self._changed = asyncio.Event()
        self.refused: Any = None
        self.disconnected = asyncio.Event()
        self.sio.on("*", self._record)
        self.sio.on("message", lambda data: self._record("message", data))
        self.sio.on("connect_error", self._refuse)
        self.sio.on("disconnect", self._on_disconnect)

    def _on_disconnect(self, *args: Any) -> None:
        self.disconnected.set()
        self._record("disconnect", args)

    def _record(self, event: str, *args: Any) -> None:
        self.events.append((event, args[0] if len(args) == 1 else args))
        self._changed.set()

    def _refuse(self, data: Any = None) -> None:
        self.refused = data
        self._changed.set()

    async def connect(self, auth: Any = ..., timeout: float = 10.0) -> Peer:
        await self.sio.connect(
            self.url,
            auth={"token": self.token} if auth is ... else auth,
            transports=["websocket"],
            socketio_path=SOCKETIO_PATH,
            wait_timeout=timeout,
        )
        return self

    @property
    def connected(self) -> bool:
        return self.sio.connected

    async def call(self, event: str, *args: Any, timeout: float = 10.0) -> Any:
        """Emit ``event`` with ``args`` and return the ack's first value (``NoAck`` if none)."""
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def done(*values: Any) -> None:
            if not fut.done():
                fut.set_result(values[0] if len(values) == 1 else values)

        data: Any = args[0] if len(args) == 1 else tuple(args) if args else None
        await self.sio.emit(event, data, callback=done)
        gone = asyncio.ensure_future(self.disconnected.wait())
        try:
            await asyncio.wait([fut, gone], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
        if fut.done():
            return fut.result()
        why = "the connection closed" if self.disconnected.is_set() else f"{timeout} s passed"
        raise NoAck(f"no ack for {event!r}: {why}")

    async def join(self, session_id: str, last_seq: int = 0) -> dict[str, Any]:
        ack = await self.call("joinSession", {"sessionId": session_id, "lastSeq": last_seq})
        assert ack["ok"], ack
        return ack

    async def command(self, session_id: str, text: str) -> dict[str, Any]:
        """Run a slash command and return its ``commandResult``."""
        before = len(self.events)
        ack = await self.call("executeCommand", {"sessionId": session_id, "command": text})
        assert ack["ok"], ack
        return await self.wait_event(
            "commandResult", lambda r: r.get("command") == text, after=before
        )

    def of(self, event: str) -> list[Any]:
        return [p for e, p in self.events if e == event]

    async def wait_event(
        self,
        event: str,
        predicate: Callable[[Any], bool] = lambda p: True,
        timeout: float = 20.0,
        after: int = 0,
    ) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            for e, payload in self.events[after:]:
                if e == event and predicate(payload):
                    return payload
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {event!r} event matched within {timeout} s")
            self._changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.sio.disconnect()


async def wait_for(predicate: Callable[[], Any], timeout: float, step: float = 0.05) -> Any:
    """Poll ``predicate`` on the loop until it is truthy (``AssertionError`` after timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(step)


class RawSocket:
    """Engine.IO 4 + socket.io 5 by hand over one websocket (answers pings, records packets).

    ``await RawSocket.open(url)`` does the Engine.IO handshake only (no socket.io CONNECT, no
    token); ``await s.authenticate(token)`` sends the CONNECT; ``await s.emit(event, *args)``
    sends an EVENT with an ack id and returns the ack's arguments; ``send()`` sends any frame.
    """

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.packets: list[str | bytes] = []
        self.closed = asyncio.Event()
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._next_id = 100
        self._changed = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def open(
        cls, url: str, *, max_size: int | None = None, timeout: float = 10.0
    ) -> RawSocket:
        ws_url = url.replace("http://", "ws://") + SOCKETIO_PATH + "/?EIO=4&transport=websocket"
        ws = await asyncio.wait_for(
            ws_connect(ws_url, max_size=max_size, compression=None, ping_interval=None), timeout
        )
        sock = cls(ws)
        await sock.wait_packet(lambda p: isinstance(p, str) and p.startswith("0"), timeout)
        return sock

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                if frame == "2":  # Engine.IO ping: answer as a live client would
                    await self.ws.send("3")
                    continue
                self.packets.append(frame)
                self._changed.set()
                if isinstance(frame, str) and frame.startswith("43"):
                    m = re.match(r"43(\d+)(.*)", frame, re.S)
                    if m and int(m.group(1)) in self._acks:
                        fut = self._acks.pop(int(m.group(1)))
                        if not fut.done():
                            fut.set_result(json.loads(m.group(2)))
        except (websockets.ConnectionClosed, OSError):
            pass
        finally:
            self.closed.set()
            self._changed.set()

    async def wait_packet(self, predicate: Callable[[Any], bool], timeout: float = 10.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            for p in self.packets:
                if predicate(p):
                    return p
            if self.closed.is_set():
                raise ConnectionError(f"closed before the packet came; got {self.packets[-5:]}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no matching packet within {timeout} s: {self.packets}")
            self._changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def authenticate(self, token: Any = TOKEN, timeout: float = 10.0) -> str:
        """Send the socket.io CONNECT with ``auth={"token": token}``; return the answer packet
        (``40{...}`` accepted, ``44{...}`` refused)."""
        await self.send("40" + json.dumps({"token": token}))
        return await self.wait_packet(
            lambda p: isinstance(p, str) and p[:2] in ("40", "44"), timeout
        )

    async def send(self, frame: str | bytes) -> None:
        await self.ws.send(frame)

    async def emit(self, event: Any, *args: Any, timeout: float = 10.0) -> Any:
        """An EVENT with an ack id; returns the ack's argument list (``NoAck`` if none)."""
        ack_id = self._next_id
        self._next_id += 1
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = fut
        await self.send(f"42{ack_id}" + json.dumps([event, *args]))
        done, _ = await asyncio.wait(
            [fut, asyncio.ensure_future(self.closed.wait())],
            timeout=timeout,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if fut in done:
            return fut.result()
        raise NoAck(f"no ack for {event!r} ({'closed' if self.closed.is_set() else 'timeout'})")

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(BaseException):
            await self._reader


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
