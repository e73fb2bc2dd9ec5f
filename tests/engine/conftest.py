"""Shared fixtures for engine tests: small deterministic OHLCV frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def make_ohlcv(close, open_=None, start="2020-01-01") -> pd.DataFrame:
    """OHLCV from explicit closes (and opens); highs/lows bracket them."""
    close = np.asarray(close, dtype=float)
    open_ = close.copy() if open_ is None else np.asarray(open_, dtype=float)
    idx = pd.date_range(start, periods=len(close), freq="D")
    return pd.DataFrame(
        {
            "Open": open_,
            "High": np.maximum(open_, close) * 1.01,
            "Low": np.minimum(open_, close) * 0.99,
            "Close": close,
            "Volume": 100.0,
        },
        index=idx,
    )


def long_walk(n: int, seed: int = 5) -> pd.DataFrame:
    """``n`` 1-minute bars of a seeded random walk (OHLC, no volume) for long sweeps."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
    idx = pd.date_range("2001-01-01", periods=n, freq="min")
    return pd.DataFrame(
        {"Open": close, "High": close * 1.001, "Low": close * 0.999, "Close": close}, index=idx
    )


@pytest.fixture(scope="session")
def alpha() -> pd.DataFrame:
    from chatops_widget.engine import sample_catalog

    return sample_catalog().get("ALPHA")


@pytest.fixture(scope="session")
def walk() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, 600)))
    open_ = close * np.exp(rng.normal(0, 0.005, 600))
    return make_ohlcv(close, open_)
