"""Several symbols' data for the universe comparison and portfolios: checked before any work.

``data`` is a mapping ``symbol -> OHLCV DataFrame`` or a :class:`DataCatalog`; ``symbols``
picks from it (default: all of it, in its order). Unknown symbols are named together with close
matches, duplicates and more than :data:`MAX_SYMBOLS` symbols are refused, and every frame is
validated, so a bad list fails at once with what was wrong.

Example:
    >>> from chatops_widget.engine import sample_catalog
    >>> frames = symbol_frames(sample_catalog(), ["alpha", "BRAVO"])
    >>> list(frames), len(frames["ALPHA"])
    (['ALPHA', 'BRAVO'], 2608)
    >>> symbol_frames(sample_catalog(), ["ALPHA", "BRVO", "ZZZ"])
    Traceback (most recent call last):
    ...
    chatops_widget.engine._errors.UnknownSymbolError: unknown symbols BRVO (did you mean BRAVO?), ZZZ; available: ALPHA, BRAVO, CHARLIE, DELTA, ECHO
"""  # noqa: E501

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from ._catalog import DataCatalog
from ._data import validate_ohlcv
from ._errors import DataError, UnknownSymbolError

__all__ = ["MAX_SYMBOLS", "symbol_frames"]

#: The most symbols one universe comparison or portfolio takes.
MAX_SYMBOLS = 500


def _listed(names: list[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def symbol_frames(
    data: Mapping[str, pd.DataFrame] | DataCatalog,
    symbols: Iterable[str] | None = None,
    *,
    start: Any = None,
    end: Any = None,
) -> dict[str, pd.DataFrame]:
    """``symbol -> validated OHLCV`` for ``symbols`` of ``data`` (all of it by default),
    between ``start`` and ``end`` if given; see the module docstring."""
    if isinstance(symbols, str):
        symbols = [s for s in symbols.split(",") if s.strip()]
    catalog = isinstance(data, DataCatalog)
    if not catalog and not isinstance(data, Mapping):
        raise DataError(
            f"data must be a dict of symbol -> OHLCV DataFrame or a DataCatalog, got "
            f"{type(data).__name__}"
        )
    have = data.symbols() if isinstance(data, DataCatalog) else [str(k) for k in data]
    by_upper = {s.upper(): s for s in have}
    wanted = list(have) if symbols is None else [str(s).strip() for s in symbols]
    if len(wanted) > MAX_SYMBOLS:
        raise DataError(
            f"{len(wanted):,} symbols given; the limit is {MAX_SYMBOLS} per run (split the "
            "universe into several runs)"
        )
    if not wanted:
        raise DataError("no symbols given; name one or more, e.g. symbols=['ALPHA', 'BRAVO']")
    seen: set[str] = set()
    dupes: set[str] = set()
    for s in wanted:
        (dupes if s.upper() in seen else seen).add(s.upper())
    if dupes:
        raise DataError(f"{_listed(sorted(dupes))} given more than once; list each symbol once")
    unknown = [s for s in wanted if s.upper() not in by_upper]
    if unknown:
        parts = []
        for s in unknown[:12]:
            close = difflib.get_close_matches(s.upper(), list(by_upper), n=1)
            parts.append(f"{s} (did you mean {close[0]}?)" if close else s)
        more = f", ... ({len(unknown)} unknown in all)" if len(unknown) > 12 else ""
        word = "symbol" if len(unknown) == 1 else "symbols"
        raise UnknownSymbolError(
            f"unknown {word} {', '.join(parts)}{more}; available: {_listed(sorted(by_upper))}"
        )
    out: dict[str, pd.DataFrame] = {}
    for s in wanted:
        key = by_upper[s.upper()]
        if isinstance(data, DataCatalog):
            frame = data.get(key, start, end)
        else:
            frame = validate_ohlcv(data[key], key)
            if start is not None or end is not None:
                frame = frame.loc[pd.Timestamp(start) if start else None : (
                    pd.Timestamp(end) if end else None)]  # fmt: skip
                if len(frame) < 2:
                    raise DataError(f"{key}: fewer than 2 bars between {start} and {end}")
        frame.attrs["symbol"] = key.upper()
        out[key.upper()] = frame
    return out
