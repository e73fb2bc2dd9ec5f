"""The clients of the reliability tests.

- :class:`Peer` -- a python-socketio ``AsyncClient`` that records every event; ``call()``
  returns the ack or raises :class:`NoAck`;
- :class:`RawSocket` -- Engine.IO/socket.io spoken by hand over a websocket (``websockets``),
  for what a socket.io client never sends (empty frames, NUL, garbage, no auth at all);
- :func:`wait_for` -- poll a condition on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Callable
from typing import Any

import socketio
import websockets
from reliability._harness import TOKEN
from websockets.asyncio.client import connect as ws_connect

from chatops_widget.protocol import SOCKETIO_PATH


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
