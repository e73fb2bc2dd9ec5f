"""Runs in the kernel: strategies this kernel hosts for the session, and results it publishes.

A hosted strategy is a Python function registered with the server by name, parameter spec and
description (``registerStrategy``); its code never leaves the kernel. When a member runs it,
the server sends a ``hostedRun`` request (the bars as Arrow bytes, the validated parameters or
a sweep's combinations); :class:`HostedRunner` runs the engine on it in a worker thread, so the
notebook stays usable (a sweep may use worker processes when the function pickles), reports
``hostedProgress``, and answers with one ``hostedResult``: the frames (Arrow) and stats, or the
error's type and message. The full traceback stays here (logger ``chatops_widget.client.hosted``
and :attr:`HostedStrategy.failures`). After every reconnect the kernel registers its strategies
again with the versions it holds, which the server keeps (a reconnect is not a new version).

Example:
    >>> hs = runner.register("session_1", "my_mom", mom, {"lookback": 60})  # doctest: +SKIP
    >>> hs.version, hs.runs                                                 # doctest: +SKIP
    ('v1', 0)
"""

from __future__ import annotations

import asyncio
import collections
import logging
import pickle
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import engine
from .._serialization import from_arrow_bytes, jsonable, stats_to_json, to_arrow_bytes
from ..protocol import (
    MAX_RESULT_BYTES,
    ClientEvent,
    HostedRun,
    ProtocolError,
    RegisterStrategy,
    check_hosted_name,
    parse,
)
from ._connection import Connection
from ._loop import LoopThread
from ._wire import check_ack

if TYPE_CHECKING:  # pandas: imported by the one function that needs it at run time
    import pandas as pd

__all__ = ["HostedRunner", "HostedStrategy"]

log = logging.getLogger("chatops_widget.client.hosted")

_TYPES = {int: "int", float: "float", bool: "bool"}


@dataclass
class HostedStrategy:
    """A strategy this kernel hosts: its engine strategy, options, version and what happened."""

    strategy: engine.FunctionStrategy
    private: bool = False
    timeout: float = 300.0
    processes: int = 0
    version: str | None = None
    runs: int = 0
    failures: collections.deque[dict[str, Any]] = field(
        default_factory=lambda: collections.deque(maxlen=20)
    )

    @property
    def name(self) -> str:
        """The name members type (``/run_backtest my_mom``)."""
        return self.strategy.name

    def request(self, session_id: str) -> dict[str, Any]:
        """The ``registerStrategy`` payload (a spec, no code)."""
        params = [
            {
                "name": p.name,
                "type": _TYPES[p.type],
                "default": p.default,
                "min": p.min,
                "max": p.max,
                "doc": p.doc,
            }
            for p in self.strategy.params
        ]
        payload = {
            "sessionId": session_id,
            "name": self.name,
            "description": self.strategy.description[:300],
            "params": params,
            "private": self.private,
            "timeout": self.timeout,
        }
        if self.version is not None:
            payload["version"] = self.version
        parse(RegisterStrategy, payload)  # a spec the server would refuse fails here
        return payload

    def __repr__(self) -> str:
        args = ", ".join(f"{p.name}={p.default!r}" for p in self.strategy.params)
        return (
            f"<hosted {self.name}({args}) {self.version or 'unregistered'}, {self.runs} runs, "
            f"{len(self.failures)} failures{', private' if self.private else ''}>"
        )


class HostedRunner:
    """This kernel's hosted strategies and the runs the server asks of them."""

    def __init__(self, conn: Connection, loop: LoopThread, timeout: float, workers: int = 2):
        self._conn, self._loop, self.timeout = conn, loop, timeout
        self.strategies: dict[str, HostedStrategy] = {}
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="chatops-hosted")
        self._stops: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def attach(self, on: Callable[[str, Callable[..., Any]], Any]) -> None:
        """Listen to the client's events: ``hostedRun``, ``hostedCancel``, ``connect``."""
        on("hostedRun", self.on_run)
        on("hostedCancel", self.on_cancel)
        on("connect", self.on_connect)

    # ------------------------------------------------------------------ registering
    def register(
        self,
        session_id: str,
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
        """Register ``fn`` as ``name`` (a new version if it was registered before)."""
        try:
            check_hosted_name(name)
        except ValueError as exc:
            raise ValueError(f"register_strategy: {exc}") from None
        strategy = engine.FunctionStrategy(
            fn, params, name=name, description=description, lookahead_check=lookahead_check
        )
        if not isinstance(private, bool):
            raise ValueError(f"private must be True or False, got {private!r}")
        hs = HostedStrategy(strategy, private, float(timeout), int(processes))
        payload = hs.request(session_id)
        ack = check_ack(
            self._loop.run(
                self._conn.request(ClientEvent.REGISTER_STRATEGY.value, payload, self.timeout),
                self.timeout + 5,
            )
        )
        hs.version = str(ack["version"])
        with self._lock:
            old = self.strategies.get(name.lower())
            if old is not None:
                hs.runs, hs.failures = old.runs, old.failures
            self.strategies[name.lower()] = hs
        return hs

    def unregister(self, session_id: str, name: str) -> None:
        """Withdraw ``name`` from the server (its runs are refused from now on)."""
        payload = {"sessionId": session_id, "name": name}
        check_ack(
            self._loop.run(
                self._conn.request(ClientEvent.UNREGISTER_STRATEGY.value, payload, self.timeout),
                self.timeout + 5,
            )
        )
        with self._lock:
            self.strategies.pop(name.lower(), None)

    def on_connect(self, *_: Any) -> None:
        """After a (re)connect, on the loop thread: register again, with the versions held."""
        session = self._conn.session_id
        if session is None:
            return
        with self._lock:
            held = list(self.strategies.values())
        for hs in held:
            task = asyncio.ensure_future(self._reregister(hs, session))
            task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    async def _reregister(self, hs: HostedStrategy, session: str) -> None:
        try:
            ack = check_ack(
                await self._conn.request(
                    ClientEvent.REGISTER_STRATEGY.value, hs.request(session), self.timeout
                )
            )
            hs.version = str(ack["version"])
        except (ProtocolError, TimeoutError, ConnectionError) as exc:
            log.error("could not register %s again after the reconnect: %s", hs.name, exc)

    # ------------------------------------------------------------------ runs (loop thread)
    def on_run(self, data: Any) -> None:
        """A ``hostedRun`` request: checked here, run in a worker thread."""
        try:
            req = HostedRun.model_validate(data)
        except Exception as exc:  # a server of another version: say so, in the log
            log.error("ignored a hostedRun request this client cannot read: %s", exc)
            return
        with self._lock:
            hs = self.strategies.get(req.name.lower())
            if req.runId in self._stops:  # sent again after a reconnect: already running
                return
            self._stops[req.runId] = threading.Event()
        if hs is None or hs.version != req.version:
            have = f"it has {hs.version}" if hs else "it does not host it (any more)"
            self._answer(
                req.runId,
                error=("UnknownVersion", f"{req.name} {req.version} is not in this kernel: {have}"),
            )
            return
        self._progress(req.runId, 0.0, "started")
        self._pool.submit(self._work, req, hs)

    def on_cancel(self, data: Any) -> None:
        """``hostedCancel {runId, reason}``: stop a sweep between chunks; drop the result."""
        run_id = data.get("runId") if isinstance(data, dict) else None
        with self._lock:
            stop = self._stops.get(str(run_id))
        if stop is not None:
            stop.set()
            log.warning("the server stopped run %s (%s)", run_id, data.get("reason"))

    def _work(self, req: HostedRun, hs: HostedStrategy) -> None:
        stop = self._stops[req.runId]
        t0 = time.perf_counter()
        try:
            data = from_arrow_bytes(req.data)
            data.attrs["symbol"] = req.symbol
            costs: dict[str, Any] = {"cash": req.cash, "commission": req.commission,
                                     "spread": req.spread}  # fmt: skip
            if req.kind == "backtest":
                res = engine.backtest(data, hs.strategy, req.params, **costs, **req.orders)
                frames = {"equity": to_arrow_bytes(res.equity)}
                frames["trades"] = to_arrow_bytes(res.trades)
                stats, params = stats_to_json(res.stats), jsonable(dict(res.params))
            else:
                table = self._sweep(req, hs, data, costs, stop)
                frames, stats, params = {"table": to_arrow_bytes(table)}, {}, {}
            size = sum(len(b) for b in frames.values())
            if size > MAX_RESULT_BYTES:
                raise engine.EngineError(
                    f"the result is {size / 2**20:.1f} MB; the limit is "
                    f"{MAX_RESULT_BYTES >> 20} MB: run it on fewer bars (start=/end=)"
                )
        except Exception as exc:
            hs.runs += 1
            text = traceback.format_exc()
            hs.failures.append(
                {
                    "runId": req.runId,
                    "startedBy": req.startedBy,
                    "error": f"{type(exc).__name__}: {exc}",
                    "traceback": text,
                }
            )
            if not isinstance(exc, (engine.EngineError, engine.SweepCancelled)):
                log.error(
                    "%s failed in this kernel (run %s, started by %s):\n%s",
                    hs.name,
                    req.runId,
                    req.startedBy,
                    text,
                )
            if not stop.is_set():
                self._answer(req.runId, error=(type(exc).__name__, str(exc)))
            return
        finally:
            with self._lock:
                self._stops.pop(req.runId, None)
        hs.runs += 1
        if stop.is_set():
            return  # cancelled or timed out: the server no longer waits
        seconds = time.perf_counter() - t0
        self._answer(req.runId, stats=stats, params=params, frames=frames, seconds=seconds)

    def _sweep(
        self,
        req: HostedRun,
        hs: HostedStrategy,
        data: pd.DataFrame,
        costs: dict[str, Any],
        stop: threading.Event,
    ) -> pd.DataFrame:
        combos = [dict(c) for c in req.combos]
        chunk = max(1, len(combos) // 20)
        if hs.processes > 0 and len(combos) > chunk and _pickles(hs.strategy):
            return _sweep_processes(req, hs, data, combos, chunk, costs, stop, self._progress)

        def report(done: int, total: int) -> None:
            self._progress(req.runId, 100.0 * done / total)

        return engine.sweep(
            data,
            hs.strategy,
            combos,
            progress=report,
            cancel=stop,
            chunk_size=chunk,
            split=req.split,
            **costs,
            **req.orders,
        )

    # ------------------------------------------------------------------ answers
    def _progress(self, run_id: str, pct: float, message: str | None = None) -> None:
        payload: dict[str, Any] = {"runId": run_id, "progress": round(min(pct, 100.0), 2)}
        if message:
            payload["message"] = message
        self._send(ClientEvent.HOSTED_PROGRESS.value, payload)

    def _answer(
        self,
        run_id: str,
        *,
        error: tuple[str, str] | None = None,
        stats: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        frames: dict[str, bytes] | None = None,
        seconds: float = 0.0,
    ) -> None:
        payload: dict[str, Any] = {"runId": run_id, "ok": error is None}
        if error is not None:
            payload["error"] = {"type": error[0][:100], "message": error[1][:2000]}
        else:
            payload.update(
                stats=stats or {}, params=params or {}, frames=frames or {}, engineSeconds=seconds
            )
        self._send(ClientEvent.HOSTED_RESULT.value, payload)

    def _send(self, event: str, payload: dict[str, Any]) -> None:
        """Queue ``event`` (sent when connected, again after a reconnect), from any thread."""

        async def go() -> None:
            try:
                check_ack(await self._conn.request(event, payload, None, keep=True))
            except (ProtocolError, ConnectionError) as exc:
                log.warning("%s for %s was refused: %s", event, payload.get("runId"), exc)

        if self._loop.alive:
            self._loop.submit(go())

    def close(self) -> None:
        """Stop taking runs (running ones finish in the background)."""
        for stop in list(self._stops.values()):
            stop.set()
        self._pool.shutdown(wait=False, cancel_futures=True)


def _pickles(strategy: engine.FunctionStrategy) -> bool:
    try:
        pickle.loads(pickle.dumps(strategy))
    except Exception as exc:  # a function defined in a notebook (__main__) does not
        log.info("%s does not pickle (%s): its sweep runs in threads", strategy.name, exc)
        return False
    return True


def _sweep_processes(
    req: HostedRun,
    hs: HostedStrategy,
    data: pd.DataFrame,
    combos: list[dict[str, Any]],
    chunk: int,
    costs: dict[str, Any],
    stop: threading.Event,
    progress: Callable[[str, float, str | None], None],
) -> pd.DataFrame:
    """A sweep's chunks in ``hs.processes`` worker processes (spawned: the kernel has threads)."""
    import multiprocessing

    import pandas as pd

    parts = [combos[i : i + chunk] for i in range(0, len(combos), chunk)]
    context = multiprocessing.get_context("spawn")
    done = 0
    with ProcessPoolExecutor(hs.processes, mp_context=context) as pool:
        options = {"split": req.split, **costs, **req.orders}
        futures: list[Future[pd.DataFrame]] = [
            pool.submit(engine.sweep, data, hs.strategy, part, **options) for part in parts
        ]
        out = []
        for fut, part in zip(futures, parts, strict=True):
            if stop.is_set():
                for f in futures:
                    f.cancel()
                raise engine.SweepCancelled(f"{hs.name}'s sweep was stopped")
            out.append(fut.result())
            done += len(part)
            progress(req.runId, 100.0 * done / len(combos), None)
    return pd.concat(out, ignore_index=True)
