"""The all-in long/flat execution path, computed per trade instead of per bar.

With all-in sizing and only long or flat positions (the :mod:`._sim` model), a trade entered at
bar ``te`` with equity ``E`` holds ``u = E / ((1 + c) * open[te] * (1 + s))`` units, so its
equity at any close ``t`` while held is ``u * close[t]`` and after its exit fill at ``tx`` it is
``E' = u * open[tx] * (1 - c)`` until the next entry. The chain of ``E`` per combination is one
cumulative product over trades; the ``(k, n)`` equity matrix is then two run-length decodings
(``np.repeat``) and a multiply-add, with no cumulative product over bars.

The per-bar returns are ``close-to-close`` on held bars except at the fills, so the sums the
stats need (``sum r``, ``sum r^2``, ``sum min(r, 0)^2`` and ``sum r * b`` against buy & hold)
are prefix-sum differences per trade plus the fill terms: :attr:`._sim.Sim.moments`, no
returns matrix at all.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ._drawdown import TABLE_BARS, long_below, prev_greater, range_max
from ._highs import long_periods
from ._sim import END, SIGNAL, Bars, Sim, Summary, Trades, simulate_general, simulate_long_bars
from ._types import BoolArray, FloatArray, Int8Array, IntArray, filled, new_group, nonzero_2d

__all__ = ["bar_moments", "simulate", "simulate_fills", "simulate_long", "summarize_long"]


def simulate(
    bars: Bars,
    pos: Int8Array,
    cash: float,
    commission: float,
    spread: float = 0.0,
    weight: float = 1.0,
    per_trade: bool = False,
) -> Sim:
    """Run the vectorized execution model of :mod:`._sim` for target positions ``pos`` (k
    combos, n bars); ``weight`` is the sized fraction of equity per entry (``size=``; 1 is
    all-in). All-in long/flat positions are simulated per bar, or with ``per_trade`` by
    :func:`simulate_long` (a sweep's chunks: its tables are built once per series and shared;
    the results differ only in rounding, and do not depend on how rows are chunked)."""
    k, n = pos.shape
    held = np.zeros((k, n), dtype=np.int8)
    held[:, 1:] = pos[:, :-1]
    fc, ft = nonzero_2d(held[:, 1:] != held[:, :-1])  # sorted by combination, then bar
    ft += 1
    old = held[fc, ft - 1].astype(np.float64)
    new = held[fc, ft].astype(np.float64)
    if weight != 1.0 or (len(fc) and (old.min() < 0 or new.min() < 0)):
        return simulate_general(bars, held, fc, ft, old, new, cash, commission, spread, weight)
    if not per_trade:
        return simulate_long_bars(bars, held, fc, ft, old, new, cash, commission, spread)
    return simulate_long(bars, held, fc, ft, new, cash, commission, spread)


def bar_moments(bars: Bars) -> FloatArray:
    """``(n + 1, 5)`` exclusive prefix sums over bars of ``b``, ``b^2``, ``min(b, 0)^2``,
    ``b * (b - mean(b))`` (``b``: close-to-close returns) and the close, cached on ``bars``."""
    p = bars.cache.get("_moments")
    if p is None:
        b = bars.close_returns
        terms = [b, b * b, np.minimum(b, 0.0) ** 2, b * (b - b.mean()), bars.close]
        p = np.zeros((len(b) + 1, 5))
        np.cumsum(np.stack(terms, axis=1), axis=0, out=p[1:])
        bars.cache["_moments"] = p
    return p


def simulate_fills(
    bars: Bars,
    k: int,
    fc: IntArray,
    ft: IntArray,
    new: Int8Array,
    cash: float,
    commission: float,
    spread: float = 0.0,
) -> Sim:
    """:func:`simulate` of all-in long/flat positions given by their fills alone (``fc``
    combination, ``ft`` bar, ``new`` position after; sorted by combination then bar): the
    positions and held matrices are never built (``Sim.held`` is decoded from the trades)."""
    return simulate_long(bars, (k, bars.n), fc, ft, new, cash, commission, spread)


def simulate_long(
    bars: Bars,
    held: Int8Array | tuple[int, int],
    fc: IntArray,
    ft: IntArray,
    new: FloatArray | Int8Array,
    cash: float,
    c: float,
    s: float = 0.0,
) -> Sim:
    """All-in long/flat: ``held`` (k, n) in {0, 1} (or just its shape); ``fc``, ``ft`` its
    fills (changes) sorted by combination then bar, ``new`` the position after each fill."""
    k, n = held if isinstance(held, tuple) else held.shape
    ch = _Chain(bars, k, fc, ft, new, cash, c, s)
    col, te, tx, txc, closed = ch.col, ch.te, ch.tx, ch.txc, ch.closed
    runs = _Runs(k, n, col, te, tx, ch.counts, ch.ends)
    entered = runs.entries(te)
    mask = (entered < n) if isinstance(held, tuple) else held.view(np.bool_)
    equity = runs.decode(ch.before, ch.units, ch.after, cash)
    np.multiply(equity, bars.close, out=equity, where=mask)
    final = equity[:, -1]
    last = ch.last
    if c:
        final[last] *= 1.0 - c  # close at the last close
    below = None
    if n <= TABLE_BARS:
        peak_held, peak_run = _peaks(
            bars, k, col, te, txc, ch.nth, ch.units, ch.after, closed, cash
        )
        # flat run before trade i: the peak at trade i - 1's last held bar; held run: the peak
        # after trade i - 1's exit (cash before the first trade); the last run: as a flat one
        threshold = runs.decode(
            runs.prev(peak_held, cash), runs.prev(peak_run, cash), peak_held, cash
        )
        below = long_below(equity, threshold, entered, prev_greater(bars.close, bars.cache))
        if c:  # the last bar of an open trade is net of the closing commission
            open_peak = filled(k, np.inf)
            open_peak[col[~closed]] = peak_held[~closed]
            below[last, -1] = final[last] < open_peak[last]
    sums = _sums(bars, k, ch, runs, cash, c, s)
    return Sim(equity, mask.view(np.int8), ch.trades(final[col]), sums=sums, below=below)


def summarize_long(
    bars: Bars,
    k: int,
    fc: IntArray,
    ft: IntArray,
    new: FloatArray | Int8Array,
    cash: float,
    c: float,
    s: float = 0.0,
) -> Sim | Summary:
    """What :func:`._stats.column_stats` needs of :func:`simulate_long`, found per trade with
    no (k, n) matrix (the drawdown periods by :func:`._highs.long_periods`); a
    :class:`~._sim.Sim` for series longer than :data:`._drawdown.TABLE_BARS`."""
    n = bars.n
    if n > TABLE_BARS:
        return simulate_long(bars, (k, n), fc, ft, new, cash, c, s)
    ch = _Chain(bars, k, fc, ft, new, cash, c, s)
    runs = _Runs(k, n, ch.col, ch.te, ch.tx, ch.counts, ch.ends)
    final = filled(k, float(cash))
    final[runs.has] = ch.after[runs.lastt]
    periods = long_periods(
        bars.close, bars.days, bars.cache, k, ch.col, ch.te, ch.tx, ch.closed, ch.units,
        ch.before, ch.after, cash,
    )  # fmt: skip
    return Summary(ch.trades(ch.after), _sums(bars, k, ch, runs, cash, c, s), periods, final)


class _Chain:
    """The trades of all-in long/flat fills and each one's equity before and after it."""

    def __init__(
        self,
        bars: Bars,
        k: int,
        fc: IntArray,
        ft: IntArray,
        new: FloatArray | Int8Array,
        cash: float,
        c: float,
        s: float,
    ) -> None:
        n = bars.n
        o, cl = bars.open, bars.close
        self.c = c
        ent = new != 0
        same = np.zeros(len(fc), dtype=bool)  # the next fill is of the same combination
        np.equal(fc[1:], fc[:-1], out=same[:-1])
        col, te = fc[ent], ft[ent]
        closed = same[ent]
        tx = ft[np.minimum(np.flatnonzero(ent) + 1, len(ft) - 1)]
        tx[~closed] = n  # exit fill bar; n: still open
        txc = np.minimum(tx, n - 1)
        entry_px = o[te] * (1.0 + s)
        exit_px = np.where(closed, o[txc], cl[-1])
        # equity chain over each combination's trades: E_next = E * open[tx] (1 - c) / ((1 + c) px)
        counts = np.bincount(col, minlength=k)
        ends = np.cumsum(counts)
        nth = np.arange(len(col)) - (ends - counts)[col]
        growth = np.ones((k, int(counts.max(initial=0)) + 1))
        growth[col, nth + 1] = np.where(closed, exit_px * (1.0 - c) / ((1.0 + c) * entry_px), 1.0)
        np.cumprod(growth, axis=1, out=growth)
        self.before = cash * growth[col, nth]  # equity just before each entry
        self.notional = self.before / (1.0 + c)
        self.units = self.notional / entry_px
        # equity after the exit (for an open trade: on the last bar, net of the closing fee)
        self.after = self.units * exit_px * (1.0 - c)
        has = counts > 0
        self.last = np.zeros(k, dtype=bool)  # rows still in a trade at the end
        self.last[has] = ~closed[ends[has] - 1]
        self.col, self.te, self.tx, self.txc, self.closed = col, te, tx, txc, closed
        self.entry_px, self.exit_px = entry_px, exit_px
        self.counts, self.ends, self.nth = counts, ends, nth

    def trades(self, end_value: FloatArray) -> Trades:
        """The :class:`Trades`; ``end_value``: each trade's equity after it (as ``after``)."""
        c, closed, units = self.c, self.closed, self.units
        return Trades(
            self.col.astype(np.int64),
            self.te.astype(np.int64),
            self.txc.astype(np.int64),
            np.ones(len(self.col), dtype=np.int8),
            self.entry_px,
            self.exit_px,
            units,
            self.notional,
            np.where(closed, self.after, end_value) - self.before,
            c * (self.notional + units * self.exit_px),
            np.where(closed, SIGNAL, END).astype(np.int8),
        )


class _Runs:
    """Each row as runs of bars: a flat run then a held run per trade, and a flat run at the
    end (run ``2 i + row`` is the flat run before trade ``i``, its held run follows)."""

    def __init__(
        self,
        k: int,
        n: int,
        col: IntArray,
        te: IntArray,
        tx: IntArray,
        counts: IntArray,
        ends: IntArray,
    ) -> None:
        t = len(col)
        self.k, self.n, self.col, self.counts, self.ends = k, n, col, counts, ends
        self.at = 2 * np.arange(t) + col
        self.tail = 2 * ends + np.arange(k)
        self.has = counts > 0
        self.lastt = ends[self.has] - 1  # each row's last trade
        prev_end = np.zeros(t, dtype=np.int64)  # where the flat run before each trade starts
        later = np.flatnonzero(~new_group(col))
        prev_end[later] = tx[later - 1]
        self.lens = np.empty(2 * t + k, dtype=np.int64)
        self.lens[self.at] = te - prev_end
        self.lens[self.at + 1] = tx - te
        row_end = np.zeros(k, dtype=np.int64)
        row_end[self.has] = tx[self.lastt]
        self.lens[self.tail] = n - row_end

    def prev(self, x: FloatArray, cash: float) -> FloatArray:
        """``x`` of the previous trade of the same row (``cash`` for a row's first)."""
        out = filled(len(x), float(cash))
        later = np.flatnonzero(~new_group(self.col))
        out[later] = x[later - 1]
        return out

    def entries(self, te: IntArray) -> npt.NDArray[np.int32]:
        """(k, n) int32: the entry bar of the trade held on each bar (``n`` when flat)."""
        value = filled(len(self.lens), self.n, dtype=np.int32)
        value[self.at + 1] = te
        return np.repeat(value, self.lens).reshape(self.k, self.n)

    def decode(
        self, flat: FloatArray, held: FloatArray, tail: FloatArray, cash: float
    ) -> FloatArray:
        """(k, n): ``flat[i]`` on the flat run before trade ``i``, ``held[i]`` on its held run,
        ``tail[i]`` of each row's last trade ``i`` (``cash`` without trades) on its last run."""
        value = np.empty(len(self.lens))
        value[self.at] = flat
        value[self.at + 1] = held
        row_tail = filled(self.k, float(cash))
        row_tail[self.has] = tail[self.lastt]
        value[self.tail] = row_tail
        return np.repeat(value, self.lens).reshape(self.k, self.n)


def _peaks(
    bars: Bars,
    k: int,
    col: IntArray,
    te: IntArray,
    txc: IntArray,
    nth: IntArray,
    units: FloatArray,
    after: FloatArray,
    closed: BoolArray,
    cash: float,
) -> tuple[FloatArray, FloatArray]:
    """Per trade: the running peak of equity at its last held bar (before the last bar for an
    open trade) and just after its exit: one running maximum over trades, not bars."""
    top = units * range_max(bars.close, te, txc, bars.cache)  # highest held equity
    chain = filled((k, 2 * (int(nth.max(initial=-1)) + 1)), -np.inf)
    chain[col, 2 * nth] = top
    chain[col, 2 * nth + 1] = np.where(closed, after, -np.inf)
    np.maximum.accumulate(chain, axis=1, out=chain)
    np.maximum(chain, cash, out=chain)
    return chain[col, 2 * nth], chain[col, 2 * nth + 1]


def _sums(
    bars: Bars, k: int, ch: _Chain, runs: _Runs, cash: float, c: float, s: float
) -> dict[str, FloatArray]:
    """Per combination, over bars: ``r``, ``r2``, ``down2`` and ``rb`` (the sums of ``r``,
    ``r^2``, ``min(r, 0)^2`` and ``r * (b - mean(b))`` of the per-bar returns ``r``: 0 when
    flat, close-to-close when held, the fill returns at entries and exits, the closing
    commission on the last bar), ``equity`` (the sum of equity) and ``held`` (bars held)."""
    n = runs.n
    col, te, tx, closed, units, before = ch.col, ch.te, ch.tx, ch.closed, ch.units, ch.before
    after, last = ch.after, ch.last
    o, cl, rc = bars.open, bars.close, bars.close_returns
    pre = bar_moments(bars)
    r_in = cl[te] / (o[te] * (1.0 + s) * (1.0 + c)) - 1.0  # buy at open, mark at close
    at_last = ~closed & (te == n - 1)
    if c:
        r_in = np.where(at_last, (1.0 + r_in) * (1.0 - c) - 1.0, r_in)
    # the bars between: close-to-close; the exit (or, when still open, the last bar with its
    # closing commission) separately
    hi = np.maximum(np.where(closed, tx, n - 1 if c else n), te + 1)
    txc = np.minimum(tx, n - 1)
    r_out = np.where(closed, o[txc] / cl[txc - 1] * (1.0 - c) - 1.0, 0.0)
    if c:
        r_out = np.where(~closed & ~at_last, (1.0 + rc[-1]) * (1.0 - c) - 1.0, r_out)
    bcen = bars.cache.get("_rc_centred")
    if bcen is None:
        bcen = bars.cache["_rc_centred"] = rc - rc.mean()
    per = pre[hi, :4] - pre[te + 1, :4]
    for x, bar in ((r_in, te), (r_out, txc)):
        neg = np.minimum(x, 0.0)
        per[:, 0] += x
        per[:, 1] += x * x
        per[:, 2] += neg * neg
        per[:, 3] += x * bcen[bar]
    held_px = pre[tx, 4] - pre[te, 4]  # sum of the closes while held
    eq_sum = units * held_px + before * runs.lens[runs.at]
    held_bars = (tx - te).astype(np.float64)
    out = np.zeros((k, 6))
    if len(col):
        firsts = np.flatnonzero(new_group(col))
        table = np.column_stack([per, eq_sum, held_bars])
        out[col[firsts]] = np.add.reduceat(table, firsts, axis=0)
    row_tail = filled(k, float(cash))
    row_tail[runs.has] = after[runs.lastt]
    out[:, 4] += row_tail * runs.lens[runs.tail]
    if c:  # the last bar of an open trade is net of the closing commission
        out[last, 4] -= (units[runs.lastt] * cl[-1] * c)[last[runs.has]]
    names = ("r", "r2", "down2", "rb", "equity", "held")
    return {name: np.ascontiguousarray(out[:, i]) for i, name in enumerate(names)}
