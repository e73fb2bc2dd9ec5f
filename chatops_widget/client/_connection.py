"""The client's connection machinery (private): one socket.io connection, kept alive.

Runs entirely on the client's :class:`~chatops_widget.client._loop.LoopThread`. It

- connects with the seed's settings (websocket transport, ``/ws/chatops``, ``auth={"token"}``);
- reconnects by itself with socket.io's back-off (1 s doubling to 5 s, +-50 % jitter): the seed's
  5 attempts, and then -- unlike a browser page, which the user can reload -- every 5 s until
  :meth:`close`, because a kernel cannot be reloaded;
- re-joins the current session after every (re)connect with ``lastSeq``, merges the backlog from
  the ack and drops duplicates by ``seq`` (live messages are held back until the ack arrives);
- buffers requests while disconnected and sends them, in order, once the session is re-joined;
  unacknowledged requests are re-sent after a reconnect (sendMessage/executeCommand carry a
  ``clientMessageId``, so the server stores each exactly once); one answered ``rate_limited`` is
  re-sent after the server's ``retryAfter`` (nothing new goes out meanwhile), and until the
  queue has drained the requests go one at a time, each once the one before is answered -- so a
  burst of a thousand ``send_message(block=False)`` is paced to the server's rate instead of
  being refused over and over (requests already on the wire when the first refusal came may be
  accepted before the refused one: past the limit, a burst's order is not guaranteed).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import socketio

from ..protocol import SOCKETIO_PATH, ErrorCode, ProtocolError
from ._wire import error_of, retry_after

log = logging.getLogger("chatops_widget.client")
startup = logging.getLogger("chatops_widget.startup")  # timestamps for benchmarks/coldstart

#: The seed's options: reconnectionAttempts 5, reconnectionDelay 1000 (socket.io's defaults for
#: the rest: reconnectionDelayMax 5000, randomizationFactor 0.5).
RECONNECTION_ATTEMPTS = 5
RECONNECTION_DELAY = 1.0
RECONNECTION_DELAY_MAX = 5.0
RANDOMIZATION_FACTOR = 0.5


class ConnectionLost(ConnectionError):
    """The connection dropped while a request was in flight (it will be retried)."""


def backoff(attempt: int) -> float:
    """socket.io's reconnection delay for ``attempt`` (1-based), in seconds."""
    base = RECONNECTION_DELAY * 2 ** min(attempt - 1, 16)
    deviation = random.random() * RANDOMIZATION_FACTOR * base
    delay = base - deviation if random.random() < 0.5 else base + deviation
    return float(min(delay, RECONNECTION_DELAY_MAX))


@dataclass
class _Request:
    event: str
    payload: Any
    future: asyncio.Future[Any]
    sent_gen: int = -1
    retries: int = 0  # times it was answered rate_limited


@dataclass
class Connection:
    """State of one logical connection (many socket.io connections over time)."""

    url: str
    token: str
    timeout: float
    fire: Callable[..., None]
    session_id: str | None = None
    session_name: str | None = None
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    join_ack: dict[str, Any] = field(default_factory=dict)
    reconnect_attempt: int = 0
    connected: bool = False
    #: who connects (``auth={"name", "clientId"}``): see protocol/_hosted.py
    name: str | None = None
    client_id: str | None = None

    def __post_init__(self) -> None:
        self.lock = threading.Lock()  # guards `messages` (read from other threads)
        self._sio: socketio.AsyncClient | None = None
        self._gen = 0
        self._closing = False
        self._ready = asyncio.Event()  # connected and the current session (re-)joined
        self._kick = asyncio.Event()
        self._resume = 0.0  # loop time before which nothing is sent (the server's retryAfter)
        self._paced = False  # after a rate_limited answer: one request in flight at a time
        self._lost: asyncio.Future[None] | None = None
        self._outbox: deque[_Request] = deque()
        self._joining = False
        self._held: list[Any] = []
        self._join_lock = asyncio.Lock()
        self._reconnect_task: asyncio.Task[None] | None = None
        self._pump_task = asyncio.ensure_future(self._pump())

    @property
    def last_seq(self) -> int:
        with self.lock:
            return max(self.messages, default=0)

    # ------------------------------------------------------------------ connecting

    async def connect(self) -> None:
        """Connect once (raises on failure) and re-join the current session."""
        self._gen += 1  # events of older connections are ignored from now on
        gen = self._gen
        sio = socketio.AsyncClient(
            reconnection=False,
            logger=False,
            engineio_logger=False,
            # results arrive as binary attachments of any size (aiohttp's default cap is 4 MB)
            websocket_extra_options={"max_msg_size": 0},
        )
        refusal: list[Any] = []
        sio.on("connect_error", lambda data=None: refusal.append(data))
        sio.on("disconnect", lambda *a: self._on_disconnect(gen, a[0] if a else None))
        sio.on("message", lambda data=None: self._on_message(gen, data))
        sio.on("*", lambda event, *args: self._on_event(gen, event, *args))
        try:
            await asyncio.wait_for(
                sio.connect(
                    self.url,
                    auth={"token": self.token, "name": self.name, "clientId": self.client_id},
                    transports=["websocket"],
                    socketio_path=SOCKETIO_PATH,
                    wait_timeout=self.timeout,
                ),
                self.timeout + 5,
            )
        except (Exception, asyncio.TimeoutError) as exc:
            await _quiet_disconnect(sio)
            reason = refusal[0] if refusal else None
            text = reason.get("message") if isinstance(reason, dict) else reason
            if isinstance(text, str) and text.startswith("unauthorized"):
                raise ProtocolError(ErrorCode.UNAUTHORIZED, text) from None
            if isinstance(text, str) and text.startswith("bad_request"):
                raise ProtocolError(ErrorCode.BAD_REQUEST, text) from None
            raise ConnectionError(f"cannot connect to {self.url}: {text or exc}") from None
        self._sio, self.connected = sio, True
        startup.debug("client: socket connected")
        self._lost = asyncio.get_running_loop().create_future()
        self.reconnect_attempt = 0
        if self.session_id is not None:
            try:
                await self.join(self.session_id, self.session_name)
            except ProtocolError as exc:
                self.fire("error", {"code": exc.code.value, "message": exc.message})
        self._ready.set()
        self._kick.set()
        self.fire("connect")

    def _on_disconnect(self, gen: int, reason: Any) -> None:
        if gen != self._gen or not self.connected:
            return
        self.connected = False
        self._ready.clear()
        self._sio = None
        if self._lost is not None and not self._lost.done():
            self._lost.set_result(None)
        self.fire("disconnect", reason)
        if not self._closing and (self._reconnect_task is None or self._reconnect_task.done()):
            self._reconnect_task = asyncio.ensure_future(self._reconnect_loop())

    async def _reconnect_loop(self) -> None:
        attempt = 0
        while not self._closing and not self.connected:
            attempt += 1
            self.reconnect_attempt = attempt
            self.fire("reconnect_attempt", attempt)
            await asyncio.sleep(backoff(attempt))
            if self._closing:
                return
            try:
                await self.connect()
            except ProtocolError as exc:  # the token was refused: retrying cannot help
                log.error("reconnect refused: %s", exc.message)
                self.fire("error", {"code": exc.code.value, "message": exc.message})
                return
            except Exception as exc:
                log.debug("reconnect attempt %d failed: %s", attempt, exc)

    async def close(self) -> None:
        self._closing = True
        for task in (self._reconnect_task, self._pump_task):
            if task is not None:
                task.cancel()
        self._ready.clear()
        while self._outbox:
            req = self._outbox.popleft()
            if not req.future.done():
                req.future.set_exception(ConnectionError("client closed before it was sent"))
        sio, self._sio = self._sio, None
        self.connected = False
        if sio is not None:
            await _quiet_disconnect(sio)

    # ------------------------------------------------------------------ sessions

    async def join(self, session_id: str, name: str | None = None) -> dict[str, Any]:
        """Join (or re-join) ``session_id``: backlog from ``lastSeq``, held live messages merged."""
        async with self._join_lock:
            if session_id != self.session_id:
                with self.lock:
                    self.messages = {}
            self.session_id, self.session_name = session_id, name
            if not self.connected:  # joined by the reconnect; wait for it
                self._join_lock.release()
                try:
                    await asyncio.wait_for(self._ready.wait(), self.timeout)
                finally:
                    await self._join_lock.acquire()
                return self.join_ack
            payload: dict[str, Any] = {"sessionId": session_id, "lastSeq": self.last_seq}
            if name:
                payload["name"] = name
            self._joining, self._held = True, []
            try:
                ack = await self.direct("joinSession", payload)
            finally:
                self._joining = False
            held, self._held = self._held, []
            if not ack.get("ok"):
                raise ProtocolError(**error_of(ack), session_id=session_id)
            self.join_ack = ack
            startup.debug("client: session joined")
            for msg in sorted(ack.get("messages", []), key=lambda m: m.get("seq", 0)):
                self.accept(msg)
            for msg in held:
                self.accept(msg)
            return dict(ack)

    def accept(self, msg: Any) -> bool:
        """Add a ChatMessage of the current session unless it is a duplicate.

        A known ``seq`` is dropped, except when it carries the same id with new content or
        metadata: that is an in-place update (text streaming in), which replaces the stored
        message and fires ``message`` again.
        """
        if not isinstance(msg, dict) or msg.get("sessionId") != self.session_id:
            return False
        seq = msg.get("seq")
        with self.lock:
            if not isinstance(seq, int):
                return False
            known = self.messages.get(seq)
            if known is not None and (known.get("id") != msg.get("id") or known == msg):
                return False
            self.messages[seq] = msg
        self.fire("message", msg)
        return True

    def _on_message(self, gen: int, data: Any) -> None:
        if gen != self._gen:
            return
        if self._joining:
            self._held.append(data)
        else:
            self.accept(data)

    def _on_event(self, gen: int, event: str, *args: Any) -> None:
        if gen == self._gen:
            self.fire(event, *args)

    # ------------------------------------------------------------------ requests

    async def direct(self, event: str, payload: Any, timeout: float | None = None) -> Any:
        """Emit now on the current connection and wait for the ack (no buffering)."""
        sio, lost = self._sio, self._lost
        if sio is None or lost is None or not self.connected:
            raise ConnectionLost(f"{event}: not connected")
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def on_ack(*data: Any) -> None:
            if not fut.done():
                fut.set_result(data[0] if data else None)

        await sio.emit(event, payload, callback=on_ack)
        done, _ = await asyncio.wait(
            {fut, lost}, timeout=timeout or self.timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if fut in done:
            return fut.result()
        if lost in done:
            raise ConnectionLost(f"{event}: the connection dropped before the answer")
        raise TimeoutError(f"{event}: no answer from the server within {timeout or self.timeout} s")

    async def request(
        self, event: str, payload: Any, timeout: float | None, *, keep: bool = False
    ) -> Any:
        """Queue a request (sent when connected and joined, re-sent after a reconnect).

        On timeout a ``keep`` request stays queued (it is still delivered later); others are
        dropped. Returns the ack.
        """
        req = _Request(event, payload, asyncio.get_running_loop().create_future())
        self._outbox.append(req)
        self._kick.set()
        try:
            return await asyncio.wait_for(asyncio.shield(req.future), timeout)
        except asyncio.TimeoutError:
            state = "connected" if self.connected else "disconnected"
            if keep:
                msg = f"{event}: no ack within {timeout} s ({state}); still queued (sent later)"
            else:
                self._drop(req)
                msg = f"{event}: no ack within {timeout} s ({state})"
            raise TimeoutError(msg) from None

    def _drop(self, req: _Request) -> None:
        try:
            self._outbox.remove(req)
        except ValueError:
            pass
        req.future.cancel()
        self._kick.set()  # paced: the next one need not wait for this answer

    async def _pump(self) -> None:
        while True:
            await self._kick.wait()
            self._kick.clear()
            if (pause := self._resume - asyncio.get_running_loop().time()) > 0:
                await asyncio.sleep(pause)
            if not self._ready.is_set():
                continue
            gen, sio = self._gen, self._sio
            for req in list(self._outbox):
                if gen != self._gen or sio is None or not self._ready.is_set():
                    break
                if req.future.done():
                    continue
                if req.sent_gen == gen:
                    if self._paced:  # its answer kicks the pump for the next one
                        break
                    continue
                req.sent_gen = gen
                try:
                    await sio.emit(req.event, req.payload, callback=self._acker(req))
                except Exception as exc:  # dropped meanwhile: re-sent after the reconnect
                    log.debug("emit %s failed: %s", req.event, exc)
                    req.sent_gen = -1
                    break
                if self._paced:
                    break

    def _acker(self, req: _Request) -> Callable[..., None]:
        def on_ack(*data: Any) -> None:
            wait = retry_after(data[0] if data else None)
            if wait is not None and req.retries < 20 and not req.future.done():
                req.retries, req.sent_gen = req.retries + 1, -1  # sent again after the wait
                self._paced = True
                loop = asyncio.get_running_loop()
                self._resume = max(self._resume, loop.time() + wait)
                loop.call_later(wait, self._kick.set)
                return
            if req in self._outbox:
                self._outbox.remove(req)
            if not req.future.done():
                req.future.set_result(data[0] if data else None)
            if self._paced:
                if self._outbox:
                    self._kick.set()  # the next one
                else:
                    self._paced = False  # drained: back to sending as they come

        return on_ack


async def _quiet_disconnect(sio: socketio.AsyncClient) -> None:
    try:
        await asyncio.wait_for(sio.disconnect(), 5)
    except Exception:
        pass


def call_callback(fn: Callable[..., Any], *args: Any) -> None:
    """Run a user callback; log (never raise) its exceptions; schedule it if it is async."""
    try:
        result = fn(*args)
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            task.add_done_callback(_log_task_error)
    except Exception:
        log.exception("callback %r failed", fn)


def _log_task_error(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("async callback failed", exc_info=task.exception())
