"""The bundled sample dataset: synthetic, deterministic daily OHLCV for five symbols.

What it is: geometric-Brownian-motion ("GBM-style") daily bars on business days from 2015-01-02
to 2024-12-31 for the made-up symbols ALPHA, BRAVO, CHARLIE, DELTA and ECHO. Each symbol has its
own fixed seed, drift and volatility; the open gaps from the previous close, high/low bracket
open and close, volume is log-normal. No real market data is bundled; it exists so that
``/run_backtest`` and the docs work offline and give the same numbers on every machine.

Where it comes from: this module. ``python -m chatops_widget.engine._sample`` regenerates
``chatops_widget/engine/data/sample_ohlcv.csv.gz`` byte-for-byte (gzip mtime fixed to 0).

Example:
    >>> from chatops_widget.engine import sample_catalog
    >>> sample_catalog().symbols()
    ['ALPHA', 'BRAVO', 'CHARLIE', 'DELTA', 'ECHO']
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd

SAMPLE_PATH = Path(__file__).parent / "data" / "sample_ohlcv.csv.gz"

# symbol: (seed, start price, annual drift, annual volatility)
SYMBOLS: dict[str, tuple[int, float, float, float]] = {
    "ALPHA": (101, 100.0, 0.08, 0.20),
    "BRAVO": (202, 50.0, 0.03, 0.35),
    "CHARLIE": (303, 250.0, 0.12, 0.28),
    "DELTA": (404, 20.0, -0.02, 0.40),
    "ECHO": (505, 80.0, 0.05, 0.15),
}


def make_symbol(seed: int, start: float, mu: float, sigma: float) -> pd.DataFrame:
    """One symbol's synthetic OHLCV (deterministic for a given seed)."""
    index = pd.bdate_range("2015-01-02", "2024-12-31", name="Date")
    n = len(index)
    rng = np.random.default_rng(seed)
    dt = 1.0 / 252.0
    gap = rng.normal(0.0, sigma * np.sqrt(dt) * 0.3, n)
    intraday = rng.normal((mu - 0.5 * sigma**2) * dt, sigma * np.sqrt(dt) * 0.95, n)
    log_close = np.log(start) + np.cumsum(gap + intraday)
    close = np.exp(log_close)
    open_ = np.exp(log_close - intraday)
    spread = np.abs(rng.normal(0.0, sigma * np.sqrt(dt) * 0.6, (2, n)))
    high = np.maximum(open_, close) * np.exp(spread[0])
    low = np.minimum(open_, close) * np.exp(-spread[1])
    volume = np.round(rng.lognormal(13.0, 0.4, n))
    df = pd.DataFrame(
        {"Open": open_, "High": high, "Low": low, "Close": close, "Volume": volume}, index=index
    )
    return df.round({"Open": 4, "High": 4, "Low": 4, "Close": 4})


def make_sample() -> pd.DataFrame:
    """All symbols in long format: columns Symbol, Open, High, Low, Close, Volume; index Date."""
    parts = [make_symbol(*spec).assign(Symbol=sym) for sym, spec in SYMBOLS.items()]
    df = pd.concat(parts)
    return df[["Symbol", "Open", "High", "Low", "Close", "Volume"]]


def write_sample(path: Path = SAMPLE_PATH) -> Path:
    """Write the sample as deterministic gzip-compressed CSV and return its path."""
    text = make_sample().to_csv(float_format="%.4f", lineterminator="\n")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(text.encode())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    return path


if __name__ == "__main__":  # pragma: no cover
    print(write_sample())
