"""Shared fixtures: a real ChatOps server on loopback and raw socket.io clients that record events.

- ``embedded_server``: a session-wide :class:`EmbeddedServer` (the real command router with
  every plugin), in a temporary data dir;
- ``arun(coro, timeout=60)``: run an async test body in a fresh event loop;
- ``RawClient`` (fixture ``raw_client_cls``): a plain ``socketio.AsyncClient`` that records every
  event, with ``call()`` (emit + ack) and ``wait_event()`` (wait for a matching event);
- ``wait_until(predicate, timeout)``: poll a condition (no fixed sleeps in tests);
- ``cli_server(port, token, data_dir, *args)``: start ``python -m chatops_widget serve`` as a
  subprocess in its own process group (killed with its workers at teardown).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import socketio
from _support import reachable

from chatops_widget.protocol import SOCKETIO_PATH
from chatops_widget.server import EmbeddedServer

DEFAULT_TIMEOUT = 20.0


class RawClient:
    """A raw ``socketio.AsyncClient`` with the seed's options that records every event."""

    def __init__(self, url: str, token: str | None) -> None:
        self.url, self.token = url, token
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: list[tuple[str, Any]] = []
        self._changed = asyncio.Event()
        self.sio.on("*", self._record)
        self.sio.on("message", lambda data: self._record("message", data))
        self.refused: Any = None
        self.sio.on("connect_error", self._refused)

    def _record(self, event: str, *args: Any) -> None:
        self.events.append((event, args[0] if len(args) == 1 else args))
        self._changed.set()

    def _refused(self, data: Any = None) -> None:
        self.refused = data

    async def connect(self, auth: Any = ...) -> RawClient:
        await self.sio.connect(
            self.url,
            auth={"token": self.token} if auth is ... else auth,
            transports=["websocket"],
            socketio_path=SOCKETIO_PATH,
            wait_timeout=DEFAULT_TIMEOUT,
        )
        return self

    async def call(self, event: str, *args: Any, timeout: float = DEFAULT_TIMEOUT) -> Any:
        """Emit and return the ack."""
        data = args[0] if len(args) == 1 else args if args else None
        if len(args) > 1:
            fut = asyncio.get_running_loop().create_future()
            await self.sio.emit(event, tuple(args), callback=lambda *a: fut.set_result(a[0]))
            return await asyncio.wait_for(fut, timeout)
        return await self.sio.call(event, data, timeout=timeout)

    def of(self, event: str) -> list[Any]:
        return [p for e, p in self.events if e == event]

    async def wait_event(
        self,
        event: str,
        predicate: Callable[[Any], bool] = lambda p: True,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Any:
        """Wait until an ``event`` whose payload matches ``predicate`` has been received."""
        deadline = time.monotonic() + timeout
        while True:
            for e, payload in self.events:
                if e == event and predicate(payload):
                    return payload
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"no {event!r} event matched within {timeout} s: {self.events}"
                )
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    async def close(self) -> None:
        await self.sio.disconnect()


def _arun(coro: Coroutine[Any, Any, Any], timeout: float = 60.0) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))


def _wait_until(predicate: Callable[[], Any], timeout: float = DEFAULT_TIMEOUT, step=0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(step)


@pytest.fixture
def arun() -> Callable[..., Any]:
    """``arun(coro, timeout=60)``: run an async test body in a fresh event loop."""
    return _arun


@pytest.fixture
def wait_until() -> Callable[..., Any]:
    """``wait_until(predicate, timeout=20)``: poll until ``predicate()`` is truthy."""
    return _wait_until


@pytest.fixture
def raw_client_cls() -> type[RawClient]:
    return RawClient


@pytest.fixture(scope="session")
def embedded_server(tmp_path_factory: pytest.TempPathFactory):
    """The real server (global router, all plugins) on 127.0.0.1, a free port, a temp data dir."""
    srv = EmbeddedServer(data_dir=tmp_path_factory.mktemp("chatops-data")).start()
    yield srv
    srv.stop()


@pytest.fixture
def cli_server():
    """Start ``chatops-widget serve`` subprocesses; all are killed (with workers) at teardown."""
    procs: list[subprocess.Popen] = []

    def start(port: int, token: str, data_dir: Path, *args: str) -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-m", "chatops_widget", "serve", "--port", str(port),
             "--token", token, "--data-dir", str(data_dir), *args],
            cwd=Path(__file__).resolve().parents[1],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a kill takes its workers too
        )  # fmt: skip
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        _wait_until(lambda: proc.poll() is not None or reachable(url), 60)
        assert proc.poll() is None, proc.stdout.read().decode()
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
