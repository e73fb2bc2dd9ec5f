"""Handles on runs: :class:`Run` (one run's status, progress and result) and
:class:`ResultsView` (``client.results``: every completed run of the session), both reading the
state a :class:`~chatops_widget.client._tracker.RunTracker` keeps.

Example:
    >>> run = client.trigger_backtest("strategy_1", fast=12)        # doctest: +SKIP
    >>> run.wait(), run.progress                                      # doctest: +SKIP
    ('completed', 100.0)
    >>> client.results[run.run_id].stats                              # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..protocol import TERMINAL_STATUSES, ProtocolError
from ._tracker import RunTracker

__all__ = ["ResultsView", "Run"]


class Run:
    """A handle on one run: ``status``, ``progress``, ``result(timeout)``, ``cancel()``."""

    def __init__(self, tracker: RunTracker, run_id: str) -> None:
        self._tracker, self.run_id = tracker, run_id

    @property
    def status(self) -> str:
        """``queued``, ``running``, ``completed``, ``failed`` or ``cancelled``."""
        return self._tracker.state(self.run_id).status

    @property
    def progress(self) -> float:
        """0-100, as last reported by the server."""
        return self._tracker.state(self.run_id).progress

    @property
    def done(self) -> bool:
        """Whether the run has ended (completed, failed or cancelled)."""
        return self.status in TERMINAL_STATUSES

    @property
    def meta(self) -> dict[str, Any]:
        """Server-side facts once the result was fetched: ``engineSeconds``, ``summary``."""
        return self._tracker.meta.get(self.run_id, {})

    @property
    def summary(self) -> dict[str, Any] | None:
        """The ``commandResult`` summary once completed (stats, params, ...)."""
        return self._tracker.state(self.run_id).summary

    def wait(self, timeout: float | None = None) -> str:
        """Block until the run ends (``TimeoutError`` after ``timeout`` s); returns the status."""
        return self._tracker.wait(self.run_id, timeout)

    def result(self, timeout: float | None = None) -> Any:
        """Wait for the run and return its result (``BacktestResult``, ``Comparison`` or sweep
        DataFrame); raises :class:`RunFailed` if it failed or was cancelled."""
        if not self._tracker.want(self.run_id, timeout):
            self.wait(timeout)
        return self._tracker.result(self.run_id)

    def cancel(self) -> None:
        """Ask the server to stop this run (``/cancel``); a finished run is left alone."""
        if not self.done:
            self._tracker.cancel(self.run_id)

    def __repr__(self) -> str:
        s = self._tracker.state(self.run_id)
        return f"<Run {self.run_id} {s.kind or ''} {s.status} {s.progress:.0f}%>"


class ResultsView(Mapping[str, Any]):
    """``run_id -> result`` for every completed run of the current session, fetched lazily."""

    def __init__(self, tracker: RunTracker) -> None:
        self._tracker = tracker

    def __getitem__(self, run_id: str) -> Any:
        if run_id not in self._tracker.completed_ids():
            missing = KeyError(f"no completed run {run_id!r} in this session; have: {list(self)}")
            if not self._tracker.maybe_done(run_id):
                raise missing
            try:  # its events may still be on the way (another kernel got the result first)
                return self._tracker.result(run_id)
            except ProtocolError:
                raise missing from None
        return self._tracker.result(run_id)

    def __contains__(self, run_id: object) -> bool:
        return run_id in self._tracker.completed_ids()

    def __iter__(self) -> Iterator[str]:
        return iter(self._tracker.completed_ids())

    def __len__(self) -> int:
        return len(self._tracker.completed_ids())

    def summary(self, run_id: str) -> dict[str, Any]:
        """The run's ``commandResult`` summary (``{}`` if not known yet)."""
        try:
            return dict(self._tracker.state(run_id).summary or {})
        except KeyError:
            return dict(self._tracker.meta.get(run_id, {}).get("summary") or {})

    def meta(self, run_id: str) -> dict[str, Any]:
        """Server-side facts of a fetched result: ``engineSeconds``, ``summary``."""
        return dict(self._tracker.meta.get(run_id, {}))

    @property
    def cache_bytes(self) -> int:
        """How many bytes of decoded DataFrames the kernel keeps (default 1 GiB). Beyond it the
        least recently used results are dropped, and fetched again when next accessed."""
        return self._tracker.cache_limit

    @cache_bytes.setter
    def cache_bytes(self, limit: int) -> None:
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
            raise ValueError(f"cache_bytes must be an int >= 0, e.g. 2 * 2**30; got {limit!r}")
        self._tracker.cache_limit = limit

    def __repr__(self) -> str:
        return f"<results of {self._tracker.session_id}: {list(self)}>"
