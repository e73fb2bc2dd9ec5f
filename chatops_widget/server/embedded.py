"""Run a :class:`ChatOpsServer` under uvicorn in a background daemon thread.

Used by ``ChatOpsClient()`` without a URL, by tests and by notebooks: its own event loop in its
own thread, bound to 127.0.0.1 on a free port, a fresh token, the per-user data dir.

Example:
    >>> srv = EmbeddedServer(data_dir=tempfile.mkdtemp()).start()
    >>> srv.url.startswith("http://127.0.0.1:")
    True
    >>> srv.stop()
"""

from __future__ import annotations

import logging
import secrets
import socket
import tempfile  # noqa: F401  (used by the docstring example)
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from ..protocol import DEFAULT_HOST, MAX_MESSAGE_BYTES
from .app import ChatOpsServer

__all__ = ["EmbeddedServer", "acquire_shared"]

startup = logging.getLogger("chatops_widget.startup")  # timestamps for benchmarks/coldstart


class EmbeddedServer:
    """A ChatOps server in a daemon thread: ``.start()``, ``.url``, ``.token``, ``.stop()``.

    ``port=0`` (the default) picks a free port. Also a context manager.
    """

    def __init__(
        self,
        data_dir: str | Path | None = None,
        token: str | None = None,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        **server_kwargs: Any,
    ) -> None:
        self.token = token or secrets.token_urlsafe(24)
        self.host = host
        self.port = port
        self._data_dir = data_dir
        self._server_kwargs = server_kwargs
        self.server: ChatOpsServer | None = None
        self._uvicorn: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        """``http://host:port`` (the port is known once started)."""
        return f"http://{self.host}:{self.port}"

    @property
    def data_dir(self) -> Path | None:
        """Where the running server keeps its data (None before start)."""
        return self.server.data_dir if self.server else None

    @property
    def running(self) -> bool:
        """Whether the server thread is up."""
        return bool(self._thread and self._thread.is_alive() and self._uvicorn)

    def start(self, timeout: float = 20.0) -> EmbeddedServer:
        """Start serving and wait until the socket accepts connections; returns ``self``."""
        if self.running:
            return self
        startup.debug("embedded server: building the server and its plugins")
        self.server = ChatOpsServer(self._data_dir, self.token, **self._server_kwargs)
        startup.debug("embedded server: built")
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP;
        # with proto=0 every event+ack exchange waits ~40 ms for the delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.server.asgi_app,
            log_level="warning",
            lifespan="on",
            loop="asyncio",
            ws="websockets-sansio",
            ws_max_size=MAX_MESSAGE_BYTES,  # the documented limit (uvicorn's default: 16 MiB)
            timeout_graceful_shutdown=3,
        )
        self._uvicorn = uvicorn.Server(config)

        def run() -> None:
            try:
                self._uvicorn.run(sockets=[sock])  # type: ignore[union-attr]
            except BaseException as exc:  # pragma: no cover - surfaced by start()
                self._error = exc
            finally:
                sock.close()

        self._thread = threading.Thread(target=run, name="chatops-embedded-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._uvicorn.started:
            if self._error is not None or not self._thread.is_alive():
                raise RuntimeError(f"embedded ChatOps server failed to start: {self._error!r}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"embedded ChatOps server did not start within {timeout} s")
            time.sleep(0.005)
        startup.debug("embedded server: listening on %s", self.url)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving (closes connections, runs shutdown hooks) and join the thread."""
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self.server is not None:
            self.server.store.close()
        self._thread = None
        self._uvicorn = None

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<EmbeddedServer {self.url} {state}>"


_shared_lock = threading.Lock()
_shared_users: dict[EmbeddedServer, int] = {}


def acquire_shared() -> _SharedServer:
    """The process's embedded server, started on first use and shared by URL-less clients;
    call ``.release()`` on what this returns when done (the last release stops it)."""
    with _shared_lock:
        for srv in list(_shared_users):
            if srv.running:
                _shared_users[srv] += 1
                return _SharedServer(srv)
            del _shared_users[srv]
        srv = EmbeddedServer().start()
        _shared_users[srv] = 1
        return _SharedServer(srv)


class _SharedServer:
    """One client's hold on the shared embedded server: its ``url``/``token``, ``release()``."""

    def __init__(self, server: EmbeddedServer) -> None:
        self.server, self._released = server, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.server, name)

    def release(self) -> None:
        """Give the hold back (once); the server stops when no client holds it."""
        with _shared_lock:
            if self._released:
                return
            self._released = True
            _shared_users[self.server] = _shared_users.get(self.server, 1) - 1
            if _shared_users[self.server] > 0:
                return
            del _shared_users[self.server]
        self.server.stop()
