"""The engine's defaults that other layers read without running anything (no numpy, pandas).

Example:
    >>> DEFAULT_CASH
    1000000.0
"""

from __future__ import annotations

__all__ = ["DEFAULT_CASH"]

#: Starting equity when none is given (every layer uses this one value).
DEFAULT_CASH = 1_000_000.0
