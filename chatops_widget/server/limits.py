"""What one client may cost the server: the auth deadline, connections per address, and (per
connection) how fast it may send messages, commands and uploads.

Defaults are the protocol's (:data:`~chatops_widget.protocol.AUTH_TIMEOUT`,
:data:`~chatops_widget.protocol.MAX_CONNECTIONS_PER_ADDRESS`); the environment of ``serve``
(or of a kernel with an embedded server) changes them: ``CHATOPS_AUTH_TIMEOUT`` (seconds),
``CHATOPS_MAX_CONNECTIONS`` (per address; 0: no cap).

Example:
    >>> Limits.from_env({"CHATOPS_AUTH_TIMEOUT": "3", "CHATOPS_MAX_CONNECTIONS": "8"})
    Limits(auth_timeout=3.0, max_connections=8)
    >>> Limits.from_env({"CHATOPS_AUTH_TIMEOUT": "soon"})
    Traceback (most recent call last):
    ...
    ValueError: CHATOPS_AUTH_TIMEOUT='soon' is not a number of seconds > 0, e.g. 10
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from ..protocol import AUTH_TIMEOUT, MAX_CONNECTIONS_PER_ADDRESS

__all__ = ["Limits"]


@dataclass(frozen=True)
class Limits:
    """The server's limits (see the module docstring)."""

    auth_timeout: float = AUTH_TIMEOUT
    max_connections: int = MAX_CONNECTIONS_PER_ADDRESS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Limits:
        """The defaults, changed by ``CHATOPS_*`` variables of ``env`` (``os.environ``)."""
        env = os.environ if env is None else env
        out = cls()
        if env.get("CHATOPS_AUTH_TIMEOUT"):
            out = _replace(out, auth_timeout=_seconds("CHATOPS_AUTH_TIMEOUT", env))
        if env.get("CHATOPS_MAX_CONNECTIONS"):
            out = _replace(out, max_connections=_count("CHATOPS_MAX_CONNECTIONS", env))
        return out


def _replace(limits: Limits, **changes: object) -> Limits:
    from dataclasses import replace

    return replace(limits, **changes)  # type: ignore[arg-type]


def _seconds(name: str, env: Mapping[str, str]) -> float:
    text = env[name]
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 1e6:
        raise ValueError(f"{name}={text!r} is not a number of seconds > 0, e.g. 10")
    return value


def _count(name: str, env: Mapping[str, str]) -> int:
    text = env[name]
    if not text.strip().isdigit():
        raise ValueError(f"{name}={text!r} is not a whole number >= 0 (0: no cap), e.g. 64")
    return int(text)
