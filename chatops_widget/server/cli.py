"""``chatops-widget serve``: run the ChatOps server under uvicorn.

Example:
    $ chatops-widget serve --port 8500
    chatops-widget 0.1.0 serving socket.io on http://127.0.0.1:8500 (path /ws/chatops)
    data: /home/me/.local/share/chatops-widget
    To connect, use:
        http://127.0.0.1:8500/?token=3xq...
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import sys
from collections.abc import Sequence

import socketio
import uvicorn

from .._version import __version__
from ..protocol import DEFAULT_HOST, DEFAULT_PORT, SOCKETIO_PATH

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The ``chatops-widget`` argument parser (``serve`` and its options)."""
    parser = argparse.ArgumentParser(
        prog="chatops-widget", description="ChatOps server for chatops-widget."
    )
    parser.add_argument("--version", action="version", version=f"chatops-widget {__version__}")
    sub = parser.add_subparsers(dest="cmd", required=True)
    serve = sub.add_parser("serve", help="run the socket.io ChatOps server")
    serve.add_argument(
        "--host", default=DEFAULT_HOST, help=f"bind address (default {DEFAULT_HOST})"
    )
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default 8500)")
    serve.add_argument(
        "--token",
        default=None,
        help="auth token clients must send (default: env CHATOPS_TOKEN, else a generated one)",
    )
    serve.add_argument(
        "--data-dir",
        default=None,
        help="where sessions and messages are stored (default: env CHATOPS_DATA_DIR, "
        "else the per-user data dir)",
    )
    serve.add_argument(
        "--redis-url",
        default=None,
        help="run several servers as one: relay session broadcasts through Redis, e.g. "
        "redis://127.0.0.1:6379/0 (default: env CHATOPS_REDIS_URL; share --data-dir too)",
    )
    serve.add_argument("--log-level", default="warning", help="uvicorn log level")
    from ..assistant.llm import add_llm_arguments

    add_llm_arguments(serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``chatops-widget`` and ``python -m chatops_widget``."""
    args = build_parser().parse_args(argv)
    if args.cmd == "serve":
        return _serve(args)
    return 2  # pragma: no cover - argparse exits first


def _serve(args: argparse.Namespace) -> int:
    from .app import ChatOpsServer

    token = args.token or os.environ.get("CHATOPS_TOKEN")
    generated = not token
    token = token or secrets.token_urlsafe(24)
    from ..assistant.llm import llm_config
    from .plugins import standard_plugins

    redis_url = args.redis_url or os.environ.get("CHATOPS_REDIS_URL")
    llm = llm_config(args.llm_base_url, args.llm_model, args.llm_api_key, args.llm_timeout)
    server = ChatOpsServer(
        args.data_dir,
        token,
        plugins=standard_plugins(llm=llm),
        client_manager=redis_manager(redis_url) if redis_url else None,
    )
    shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "") else args.host
    url = f"http://{shown_host}:{args.port}"
    banner = (
        f"chatops-widget {__version__} serving socket.io on {url} (path {SOCKETIO_PATH})\n"
        f"data: {server.data_dir}\n"
        "To connect, use:\n"
        f"    {url}/?token={token if generated else '<your token>'}\n"
        f"(ChatOpsClient accepts that URL as is; or set CHATOPS_URL={url} and CHATOPS_TOKEN)"
    )
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        banner += (
            f"\nWARNING: listening on {args.host}, not only loopback: anyone who can reach this "
            "port and has the token can use the server."
        )
    config = uvicorn.Config(
        server.asgi_app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        lifespan="on",
        loop="asyncio",
        ws="websockets-sansio",
        timeout_graceful_shutdown=3,
    )
    try:
        _AnnouncingServer(config, banner).run()
    except KeyboardInterrupt:  # Ctrl+C: uvicorn already shut down gracefully; no traceback
        pass
    return 0


def redis_manager(url: str) -> socketio.AsyncManager:
    """Several servers behind one Redis: python-socketio's ``AsyncRedisManager`` relays room
    broadcasts between them (they share ``--data-dir`` for sessions and messages)."""
    try:
        import redis.asyncio  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise SystemExit(
            "--redis-url needs the 'redis' package: pip install 'chatops-widget[scale]'"
        ) from exc
    return socketio.AsyncRedisManager(url)


class _AnnouncingServer(uvicorn.Server):
    """Prints the connect banner once the socket listens (as Jupyter does)."""

    def __init__(self, config: uvicorn.Config, banner: str) -> None:
        super().__init__(config)
        self.banner = banner

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            print(self.banner, flush=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
