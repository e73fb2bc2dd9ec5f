"""What the client reads off the wire (private): URLs with tokens and acknowledgements."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..protocol import ErrorCode, ProtocolError

__all__ = ["check_ack", "error_of", "retry_after", "split_url"]


def split_url(url: str) -> tuple[str, str | None]:
    """``http://h:p/?token=x`` -> (``http://h:p``, ``x``); ``ws(s)://`` becomes ``http(s)://``.

    >>> split_url("ws://127.0.0.1:8500/?token=abc")
    ('http://127.0.0.1:8500', 'abc')
    >>> split_url("ftp://127.0.0.1:8500")
    Traceback (most recent call last):
    ...
    ValueError: url 'ftp://127.0.0.1:8500': expected http(s):// or ws(s):// and a host, e.g. 'http://127.0.0.1:8500/?token=...'
    """
    example = "e.g. 'http://127.0.0.1:8500/?token=...'"
    if not isinstance(url, str) or not url.strip():
        raise ValueError(
            f"url must be the server's address as a string, {example}; got {url!r:.80}"
        )
    parts = urlsplit(url if "://" in url else f"http://{url}")
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"url {url!r:.80}: expected http(s):// or ws(s):// and a host, {example}")
    token = parse_qs(parts.query).get("token", [None])[0]
    return f"{scheme}://{parts.netloc}", token


def retry_after(ack: Any) -> float | None:
    """The seconds to wait if ``ack`` is a ``rate_limited`` refusal, else ``None``."""
    err = ack.get("error") if isinstance(ack, dict) and not ack.get("ok") else None
    if isinstance(err, dict) and err.get("code") == ErrorCode.RATE_LIMITED.value:
        return min(30.0, float(err.get("retryAfter") or 1.0))
    return None


def error_of(ack: Any) -> dict[str, Any]:
    """The ``code`` (an :class:`ErrorCode`) and ``message`` of a failed ack."""
    err = ack.get("error") if isinstance(ack, dict) else None
    if not isinstance(err, dict):
        return {"code": ErrorCode.INTERNAL, "message": f"unexpected ack {ack!r:.200}"}
    try:
        code = ErrorCode(err.get("code"))
    except ValueError:
        code = ErrorCode.INTERNAL
    return {"code": code, "message": str(err.get("message"))}


def check_ack(ack: Any) -> dict[str, Any]:
    """Return an ``ok`` ack; raise :class:`ProtocolError` for a failed one."""
    if isinstance(ack, dict) and ack.get("ok"):
        return ack
    raise ProtocolError(**error_of(ack))
