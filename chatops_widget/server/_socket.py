"""The socket.io server as the host runs it: python-socketio's ``AsyncServer``, hardened against
what a client may send before and after it authenticates (it overrides a few of the server's
internal handlers, ``_handle_eio_*`` and ``_handle_event``; checked on python-socketio 5.18).

- Payload JSON is read with bounded integers (over :data:`MAX_INT_DIGITS` digits they become
  ``inf``, which the protocol's bounds refuse) and bounded nesting, so every event with an ack
  id gets an ack -- never the silent drop of python-engineio's 100-digit rule;
- an event that is not ``[name, ...args]`` with a string name, or uses a name socket.io
  reserves (``connect``, ``disconnect``, ``*``), is answered ``bad_request`` instead of
  re-running the connect handler or reaching the catch-all with shifted arguments;
- undecodable packets and frames that are no Engine.IO packet (empty, NUL, junk) are dropped
  and counted: one rate-limited log line, no traceback, the connection stays;
- events named in ``unordered`` (reads that may wait) run as tasks beside the connection's
  later events; every other event is handled in the order it arrived (``async_handlers=False``);
- an Engine.IO connection that has not authenticated within ``auth_timeout`` seconds is closed,
  and one address holds at most ``max_connections`` at a time.

Example:
    >>> sock = SocketServer(auth_timeout=5, max_connections=64)
    >>> sock.packet_class.json.loads('{"n": ' + "9" * 2000 + "}")
    {'n': inf}
    >>> sock.packet_class.json.loads("[" * 100_000)
    Traceback (most recent call last):
    ...
    chatops_widget.server._socket.BadJson: the payload is nested too deeply
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import socketio
from socketio import packet as sio_packet

__all__ = ["BadJson", "FrameFilter", "Malformed", "Noise", "SocketServer"]

log = logging.getLogger("chatops_widget.server")

MAX_INT_DIGITS = 1000  # more digits than any field needs; int() stays cheap
MAX_ATTACHMENTS = 64  # binary attachments of one event
RESERVED = frozenset({"connect", "disconnect", "connect_error", "*"})


class BadJson(ValueError):
    """A payload that is no JSON python can hold (syntax, nesting)."""


def _int(text: str) -> int | float:
    if len(text) > MAX_INT_DIGITS:
        return -math.inf if text.startswith("-") else math.inf
    return int(text)


class SafeJson:
    """The ``json`` python-socketio uses for our packets: bounded ints and nesting."""

    dumps = staticmethod(json.dumps)

    @staticmethod
    def loads(text: str | bytes, **kwargs: Any) -> Any:
        try:
            return json.loads(text, parse_int=_int)
        except RecursionError:
            raise BadJson("the payload is nested too deeply") from None
        except ValueError as exc:
            raise BadJson(f"the payload is not valid JSON ({exc})") from None


class Malformed:
    """The data of a packet whose JSON could not be read (the ack id is still known)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


class Packet(sio_packet.Packet):
    json = SafeJson

    def decode(self, encoded_packet: Any) -> int:
        try:
            return super().decode(encoded_packet)
        except BadJson as exc:
            self.data = Malformed(str(exc))
            return 0


class Noise:
    """Counts what clients got wrong; logs one line per kind at most every ``every`` seconds."""

    def __init__(self, every: float = 10.0) -> None:
        self.every = every
        self._last: dict[str, float] = {}
        self._count: Counter[str] = Counter()

    def note(self, kind: str, detail: str) -> None:
        """One occurrence of ``kind`` (e.g. ``"malformed packet"``)."""
        self._count[kind] += 1
        now = time.monotonic()
        if now - self._last.get(kind, -math.inf) >= self.every:
            n, self._count[kind] = self._count[kind], 0
            self._last[kind] = now
            more = f" ({n} since the last report)" if n > 1 else ""
            log.warning("%s: %s%s", kind, detail[:200], more)


def _address(environ: dict[str, Any]) -> str:
    client = (environ.get("asgi.scope") or {}).get("client") or (environ.get("REMOTE_ADDR"), 0)
    return str(client[0])


#: ``bad_event(sid, message) -> ack``: answers an event the server cannot take (set by the Gate)
BadEvent = Callable[[str, str], Awaitable[dict[str, Any]]]


class SocketServer(socketio.AsyncServer):
    """``socketio.AsyncServer`` with the guards of the module docstring (asgi mode)."""

    def __init__(self, *, auth_timeout: float, max_connections: int, **kwargs: Any) -> None:
        super().__init__(async_mode="asgi", serializer=Packet, **kwargs)
        self.auth_timeout, self.max_connections = auth_timeout, max_connections
        self.noise = Noise()
        self.bad_event: BadEvent | None = None
        self._addresses: dict[str, str] = {}  # eio sid -> client address
        self._per_address: Counter[str] = Counter()
        self._deadlines: dict[str, asyncio.TimerHandle] = {}
        self.unordered: set[str] = set()  # event names handled beside the connection's others
        self._beside: set[asyncio.Task[None]] = set()

    async def settle(self) -> None:
        """At shutdown: stop the unordered handlers still running (a ``wait`` not yet over)."""
        for task in list(self._beside):
            task.cancel()
        if self._beside:
            await asyncio.gather(*self._beside, return_exceptions=True)

    # ------------------------------------------------------------------ connections
    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> Any:
        addr = _address(environ)
        if self.max_connections and self._per_address[addr] >= self.max_connections:
            self.noise.note(
                "refused connections", f"{addr} is at the cap of {self.max_connections}"
            )
            return False
        self._per_address[addr] += 1
        self._addresses[eio_sid] = addr
        loop = asyncio.get_running_loop()
        self._deadlines[eio_sid] = loop.call_later(
            self.auth_timeout, lambda: asyncio.ensure_future(self._auth_deadline(eio_sid))
        )
        return await super()._handle_eio_connect(eio_sid, environ)

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any) -> None:
        timer = self._deadlines.pop(eio_sid, None)
        if timer is not None:
            timer.cancel()
        addr = self._addresses.pop(eio_sid, None)
        if addr is not None:
            self._per_address[addr] -= 1
            if self._per_address[addr] <= 0:
                del self._per_address[addr]
        self._binary_packet.pop(eio_sid, None)
        await super()._handle_eio_disconnect(eio_sid, reason)

    async def _auth_deadline(self, eio_sid: str) -> None:
        self._deadlines.pop(eio_sid, None)
        if self.manager.sid_from_eio_sid(eio_sid, "/") is not None:
            return  # authenticated
        if eio_sid in self.eio.sockets:
            self.noise.note(
                "unauthenticated connections closed",
                f"no valid token within {self.auth_timeout:g} s "
                f"(from {self._addresses.get(eio_sid, '?')})",
            )
            sock = self.eio.sockets.get(eio_sid)
            await self.eio.disconnect(eio_sid)
            if sock is not None:  # ends its websocket writer, which closes the transport
                sock.queue.put_nowait(None)

    # ------------------------------------------------------------------ packets
    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        pending = self._binary_packet.get(eio_sid)
        if not data and pending is None:  # an empty message is no packet (but an attachment)
            self.noise.note("malformed packets ignored", "an empty message")
            return
        if pending is not None:
            if isinstance(data, bytes):
                if pending.add_attachment(data):
                    del self._binary_packet[eio_sid]
                    await self._dispatch(eio_sid, pending)
                return
            del self._binary_packet[eio_sid]  # text while attachments were due: broken event
            await self._refuse(eio_sid, pending, "its binary attachments did not arrive")
        try:
            pkt = self.packet_class(encoded_packet=data)
        except Exception as exc:
            self.noise.note("malformed packets ignored", f"{type(exc).__name__}: {exc}")
            return
        kind = pkt.packet_type
        if kind in (sio_packet.BINARY_EVENT, sio_packet.BINARY_ACK):
            if isinstance(pkt.data, Malformed):
                await self._refuse(eio_sid, pkt, pkt.data.reason)
            elif not 0 < pkt.attachment_count <= MAX_ATTACHMENTS:
                await self._refuse(eio_sid, pkt, f"at most {MAX_ATTACHMENTS} binary attachments")
            elif not self.manager.sid_from_eio_sid(eio_sid, pkt.namespace or "/"):
                self.noise.note("malformed packets ignored", "a binary event before connect")
            else:
                self._binary_packet[eio_sid] = pkt
            return
        await self._dispatch(eio_sid, pkt)

    async def _dispatch(self, eio_sid: str, pkt: Any) -> None:
        kind = pkt.packet_type
        if kind == sio_packet.CONNECT:
            await self._handle_connect(eio_sid, pkt.namespace, pkt.data)
        elif kind == sio_packet.DISCONNECT:
            await self._handle_disconnect(eio_sid, pkt.namespace, self.reason.CLIENT_DISCONNECT)
        elif kind in (sio_packet.EVENT, sio_packet.BINARY_EVENT):
            await self._handle_event(eio_sid, pkt.namespace, pkt.id, pkt.data)
        elif kind in (sio_packet.ACK, sio_packet.BINARY_ACK):
            await self._handle_ack(eio_sid, pkt.namespace, pkt.id, pkt.data)
        else:
            self.noise.note("malformed packets ignored", f"packet type {kind!r} from a client")

    async def _handle_event(self, eio_sid: str, namespace: Any, id: Any, data: Any) -> None:
        namespace = namespace or "/"
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        if sid is None or not self.manager.is_connected(sid, namespace):
            self.noise.note("events before connect ignored", f"namespace {namespace}")
            return
        problem = _event_problem(data)
        if problem is None and data[0] in self.unordered:
            task = asyncio.ensure_future(super()._handle_event(eio_sid, namespace, id, data))
            self._beside.add(task)  # (kept until done; the handler acks, errors included)
            task.add_done_callback(self._beside.discard)
            return
        if problem is None:
            await super()._handle_event(eio_sid, namespace, id, data)
            return
        ack = {"ok": False, "error": {"code": "bad_request", "message": problem}}
        if self.bad_event is not None:
            ack = await self.bad_event(sid, problem)
        if id is not None:
            await self._send_packet(
                eio_sid, self.packet_class(sio_packet.ACK, namespace=namespace, id=id, data=[ack])
            )

    async def _refuse(self, eio_sid: str, pkt: Any, reason: str) -> None:
        if pkt.packet_type in (sio_packet.BINARY_EVENT, sio_packet.EVENT):
            await self._handle_event(eio_sid, pkt.namespace, pkt.id, Malformed(reason))
        else:
            self.noise.note("malformed packets ignored", f"a binary ack: {reason}")


def _event_problem(data: Any) -> str | None:
    """Why ``data`` is not an event socket.io handlers can take (``None``: it is)."""
    if isinstance(data, Malformed):
        return f"the event could not be read: {data.reason}"
    if not isinstance(data, list) or not data:
        return "an event is a list [name, ...arguments]; got " + type(data).__name__
    name = data[0]
    if not isinstance(name, str):
        return f"an event name is a string; got {type(name).__name__} {str(name)[:40]!r}"
    if name in RESERVED:
        return f"{name!r} is a name socket.io reserves; it cannot be sent as an event"
    return None


def _is_packet_text(text: str) -> bool:
    """Whether a text frame can be an Engine.IO packet a client sends: a socket.io message
    (``4`` + a socket.io type digit), a pong/ping/upgrade/noop/close, or base64 binary (``b``).
    Anything else would make Engine.IO parse it as JSON (and fail with a traceback)."""
    kind, rest = text[:1], text[1:]
    if kind == "4":
        return rest[:1] in ("", *"0123456")
    if kind in ("2", "3", "5", "6"):
        return rest in ("", "probe")
    return (kind == "1" and not rest) or kind == "b"


class FrameFilter:
    """ASGI middleware: websocket frames and polling bodies that are no Engine.IO packets never
    reach Engine.IO (which would drop the connection or log a traceback); they are counted in
    ``noise`` (a polling body with one is answered 400)."""

    def __init__(self, app: Any, noise: Noise, max_body: int) -> None:
        self.app, self.noise, self.max_body = app, noise, max_body

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await self.app(scope, self._frames(receive), send)
        elif scope["type"] == "http" and scope.get("method") == "POST":
            await self._post(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def _frames(self, receive: Any) -> Any:
        async def filtered() -> dict[str, Any]:
            while True:
                message = await receive()
                if message["type"] != "websocket.receive":
                    return message
                text = message.get("text")
                if text is None:  # binary: an attachment; Engine.IO cannot take an empty one,
                    if not message.get("bytes"):  # so it goes as base64 of nothing
                        return {"type": "websocket.receive", "text": "b"}
                    return message
                if _is_packet_text(text):
                    return message
                self.noise.note("junk websocket frames ignored", f"{text[:20]!r}")

        return filtered

    async def _post(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            more = bool(message.get("more_body"))
            if len(body) > self.max_body:
                self.noise.note("polling bodies refused", f"more than {self.max_body} bytes")
                await send({"type": "http.response.start", "status": 413, "headers": []})
                await send({"type": "http.response.body", "body": b"too large"})
                return
        text = body.decode("utf-8", "replace")
        if not all(map(_is_packet_text, text.split("\x1e"))):
            self.noise.note("junk polling bodies refused", f"{text[:20]!r}")
            await send({"type": "http.response.start", "status": 400, "headers": []})
            await send({"type": "http.response.body", "body": b"not Engine.IO packets"})
            return
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
