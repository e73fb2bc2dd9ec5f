"""What a kernel shares with its session beyond chat -- its data, its Python strategies and its
results -- and who it is: the part of :class:`~chatops_widget.client.ChatOpsClient` in
:class:`SharingMixin` (the connection and runs are ``_client.py``'s).

- ``upload_data(symbol, df)``: OHLCV bars as a new symbol (``_upload.py``);
- ``register_strategy(name, fn, params=...)`` or ``@client.strategy(...)``: a function that
  stays in this kernel and that the session may run (``_hosted.py``);
- ``publish(result, name=...)``: a finished result as a run of the session (``_publish.py``);
- ``name``: the display name sent at connect (:func:`default_name`).

Example:
    >>> @client.strategy(name="my_mom", params={"lookback": 60, "z": 1.0})  # doctest: +SKIP
    ... def my_mom(data, lookback, z):
    ...     r = data.Close.pct_change(lookback)
    ...     return (r / (z * r.rolling(250).std())).fillna(0).clip(-1, 1)
    >>> client.publish(bt_stats, name="bt_sma").result().stats["sharpe"]   # doctest: +SKIP
"""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .._lazy import lazy_module
from ..protocol import MAX_UPLOAD_BYTES, ClientEvent, check_display_name
from ._handles import Run
from ._hosted import HostedRunner, HostedStrategy
from ._publish import publish_payload
from ._stream import Progress, stream_upload
from ._tracker import RunTracker
from ._upload import prepare_upload

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = ["SharingMixin", "default_name"]

_BAD = re.compile(r"[^\w .@'-]")


def default_name() -> str:
    """Who this kernel is, by default: ``$CHATOPS_USER``, the Jupyter server's user
    (``$JUPYTERHUB_USER``), the OS login -- made a valid display name -- or ``guest``.

    >>> os.environ["CHATOPS_USER"] = "Ada <L>"; default_name()
    'Ada _L_'
    >>> del os.environ["CHATOPS_USER"]
    """
    for candidate in (os.environ.get("CHATOPS_USER"), os.environ.get("JUPYTERHUB_USER")):
        if candidate:
            break
    else:
        try:
            candidate = getpass.getuser()
        except Exception:  # no login name (some containers)
            candidate = None
    text = " ".join(_BAD.sub("_", candidate or "").split())[:40]
    try:
        return check_display_name(text)
    except ValueError:
        return "guest"


class SharingMixin:
    """Data, strategies and results shared with the session (see the module docstring)."""

    # provided by ChatOpsClient
    name: str
    _hosted: HostedRunner
    _runs: RunTracker

    def _ensure_session(self) -> str:
        raise NotImplementedError

    def call(self, event: str, payload: Any, timeout: float | None = None) -> dict[str, Any]:
        raise NotImplementedError

    # ------------------------------------------------------------------ data
    def upload_data(
        self,
        symbol: str,
        df: pd.DataFrame,
        *,
        overwrite: bool = False,
        timeout: float = 60.0,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """Upload OHLCV bars as ``symbol`` for the server's commands (Arrow bytes, any size).

        The frame is validated locally first; a bad one, or an existing symbol without
        ``overwrite=True``, raises ``ProtocolError`` saying what to fix. Up to
        ``MAX_UPLOAD_BYTES`` it goes as one ``uploadData`` message, bigger in chunks that
        resume after a reconnect (``progress(sent, total)`` after each, :mod:`._stream`).
        Returns the ack (``symbol, bars, start, end, frequency, overwritten, message``).

        >>> client.upload_data("MYCO", df)["bars"]                       # doctest: +SKIP
        1234
        """
        sym, data = prepare_upload(symbol, df, overwrite=overwrite)
        session = self._ensure_session()
        if len(data) > MAX_UPLOAD_BYTES:
            return stream_upload(
                self.call,
                session,
                sym,
                data,
                overwrite=overwrite,
                uploaded_by=self.name,
                progress=progress,
                timeout=timeout,
            )
        payload = {"sessionId": session, "symbol": sym, "data": data, "overwrite": overwrite}
        ack = self.call("uploadData", {**payload, "uploadedBy": self.name}, timeout=timeout)
        if progress is not None:
            progress(len(data), len(data))
        return ack

    # ------------------------------------------------------------------ Python strategies
    def register_strategy(
        self,
        name: str,
        fn: Callable[..., Any],
        params: Mapping[str, Any] | None = None,
        *,
        description: str | None = None,
        private: bool = False,
        timeout: float = 300.0,
        processes: int = 0,
        lookahead_check: bool = True,
    ) -> HostedStrategy:
        """Let the session run ``fn(data, **params)`` as ``name``; the code stays here.

        ``fn`` returns positions in [-1, 1] on ``data.index`` (or an ``(entry, exit)`` pair of
        boolean Series); ``params`` are defaults (types and ranges inferred) or ``{"default",
        "min", "max", "doc"}`` dicts; ``private=True``: only this kernel may run it;
        ``timeout``: seconds a run may take before it is cancelled; ``processes``: worker
        processes for sweeps (when ``fn`` pickles, i.e. lives in a module). Registering
        ``name`` again makes a new version. Members type ``/run_backtest name lookback=90``.
        """
        return self._hosted.register(
            self._ensure_session(),
            name,
            fn,
            params,
            description=description,
            private=private,
            timeout=timeout,
            processes=processes,
            lookahead_check=lookahead_check,
        )

    def strategy(
        self, name: str | None = None, params: Mapping[str, Any] | None = None, **options: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator form of :meth:`register_strategy` (the function's name by default).

        >>> @client.strategy(name="my_mom", params={"lookback": 60})   # doctest: +SKIP
        ... def my_mom(data, lookback): ...
        """

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.register_strategy(name or fn.__name__, fn, params, **options)
            return fn

        return register

    def unregister_strategy(self, name: str) -> None:
        """Withdraw a strategy this kernel hosts; runs of it are refused from then on."""
        self._hosted.unregister(self._ensure_session(), name)

    @property
    def hosted(self) -> dict[str, HostedStrategy]:
        """The strategies this kernel hosts (name -> version, runs, failures with tracebacks)."""
        return {h.name: h for h in self._hosted.strategies.values()}

    @property
    def hosted_strategies(self) -> pd.DataFrame:
        """Every member's hosted strategies as the server lists them (owner, version, online)."""
        ack = self.call(ClientEvent.GET_STRATEGIES.value, {"sessionId": self._ensure_session()})
        rows = ack.get("hosted") or []
        columns = ["name", "owner", "description", "params", "private", "version", "online"]
        return pd.DataFrame(rows, columns=columns).set_index("name")

    # ------------------------------------------------------------------ results
    def publish(
        self,
        result: Any,
        name: str,
        *,
        data: pd.DataFrame | None = None,
        symbol: str | None = None,
        timeout: float = 60.0,
    ) -> Run:
        """Share a finished result with the session as a run, called ``name``.

        ``result``: an engine ``BacktestResult``, the stats Series of backtesting.py's
        ``Backtest.run()`` or a single-column vectorbt ``Portfolio``, converted here to the
        engine's equity, trades and stats (``data=``: the bars, for buy & hold, alpha and beta
        of our own results). The run is compared like any other: ``/compare_strategies
        <name> strategy_1`` (or its run id). Returns its :class:`Run`.
        """
        payload = publish_payload(self._ensure_session(), result, name, data=data, symbol=symbol)
        ack = self.call(ClientEvent.PUBLISH_RESULT.value, payload, timeout=timeout)
        run_id = str(ack["runId"])
        self._runs.adopt(run_id, "backtest")
        return Run(self._runs, run_id)
