"""What one client may cost the server: the auth deadline, connections per address, and per
connection how fast it may send messages, commands, uploads and other events.

Defaults are the protocol's (:data:`~chatops_widget.protocol.AUTH_TIMEOUT`,
:data:`~chatops_widget.protocol.MAX_CONNECTIONS_PER_ADDRESS`,
:data:`~chatops_widget.protocol.RATE_LIMITS`); the environment of ``serve`` (or of a kernel
with an embedded server) changes them: ``CHATOPS_AUTH_TIMEOUT`` (seconds),
``CHATOPS_MAX_CONNECTIONS`` (per address; 0: no cap) and ``CHATOPS_RATE_LIMITS``
(``kind=<per second>/s:<burst>`` or ``kind=off``, comma-separated; ``off`` alone: none).

Example:
    >>> limits = Limits.from_env({"CHATOPS_AUTH_TIMEOUT": "3",
    ...                           "CHATOPS_RATE_LIMITS": "messages=2/s:3,uploads=off"})
    >>> limits.auth_timeout, limits.rates["messages"], "uploads" in limits.rates
    (3.0, Rate(per_second=2.0, burst=3), False)
    >>> buckets = limits.buckets()
    >>> [buckets.take("messages", now=0.0) for _ in range(4)]  # 3 at once, then wait 0.5 s
    [None, None, None, 0.5]
    >>> Limits.from_env({"CHATOPS_RATE_LIMITS": "messages=fast"})
    Traceback (most recent call last):
    ...
    ValueError: CHATOPS_RATE_LIMITS: 'messages=fast' is not kind=<per second>/s:<burst>, e.g. messages=20/s:100 (or messages=off)
"""  # noqa: E501

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from ..protocol import AUTH_TIMEOUT, MAX_CONNECTIONS_PER_ADDRESS, RATE_LIMITS

__all__ = ["Buckets", "Limits", "Rate"]

_RATE_RE = re.compile(r"(\w+)=(?:(off)|([0-9.]+)/s:(\d+))")


@dataclass(frozen=True)
class Rate:
    """A token bucket: ``burst`` requests at once, refilled at ``per_second``."""

    per_second: float
    burst: int


def _default_rates() -> dict[str, Rate]:
    return {kind: Rate(float(r), int(b)) for kind, (r, b) in RATE_LIMITS.items()}


@dataclass(frozen=True)
class Limits:
    """The server's limits (see the module docstring); a kind missing from ``rates`` is free."""

    auth_timeout: float = AUTH_TIMEOUT
    max_connections: int = MAX_CONNECTIONS_PER_ADDRESS
    rates: Mapping[str, Rate] = field(default_factory=_default_rates)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Limits:
        """The defaults, changed by ``CHATOPS_*`` variables of ``env`` (``os.environ``)."""
        env = os.environ if env is None else env
        out = cls()
        if env.get("CHATOPS_AUTH_TIMEOUT"):
            out = replace(out, auth_timeout=_seconds("CHATOPS_AUTH_TIMEOUT", env))
        if env.get("CHATOPS_MAX_CONNECTIONS"):
            out = replace(out, max_connections=_count("CHATOPS_MAX_CONNECTIONS", env))
        if env.get("CHATOPS_RATE_LIMITS"):
            out = replace(out, rates=_rates(env["CHATOPS_RATE_LIMITS"], out.rates))
        return out

    def buckets(self) -> Buckets:
        """A fresh set of buckets, for one connection."""
        return Buckets(self.rates)


class Buckets:
    """One connection's token buckets (see :class:`Rate`)."""

    def __init__(self, rates: Mapping[str, Rate]) -> None:
        self.rates = rates
        self._state: dict[str, tuple[float, float]] = {}  # kind -> (tokens, at)

    def take(self, kind: str, now: float | None = None) -> float | None:
        """Spend a token of ``kind``: ``None`` if there was one, else the seconds to wait."""
        rate = self.rates.get(kind)
        if rate is None:
            return None
        now = time.monotonic() if now is None else now
        tokens, at = self._state.get(kind, (float(rate.burst), now))
        tokens = min(float(rate.burst), tokens + (now - at) * rate.per_second)
        if tokens >= 1.0:
            self._state[kind] = (tokens - 1.0, now)
            return None
        self._state[kind] = (tokens, now)
        # rounded up to the millisecond: a wait that rounds to 0 would tell the client to retry now
        return max(0.001, math.ceil((1.0 - tokens) / rate.per_second * 1000.0) / 1000.0)


def _rates(text: str, defaults: Mapping[str, Rate]) -> dict[str, Rate]:
    if text.strip().lower() == "off":
        return {}
    out = dict(defaults)
    for part in filter(None, (p.strip() for p in text.split(","))):
        m = _RATE_RE.fullmatch(part)
        if m is None or (m.group(3) is not None and not 0 < float(m.group(3)) < 1e9):
            raise ValueError(
                f"CHATOPS_RATE_LIMITS: {part!r} is not kind=<per second>/s:<burst>, "
                "e.g. messages=20/s:100 (or messages=off)"
            )
        kind, off, per_second, burst = m.groups()
        if kind not in RATE_LIMITS:
            raise ValueError(
                f"CHATOPS_RATE_LIMITS: unknown kind {kind!r}; kinds: {', '.join(RATE_LIMITS)}"
            )
        if off:
            out.pop(kind, None)
        else:
            out[kind] = Rate(float(per_second), max(1, int(burst)))
    return out


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
