"""Hosted strategies as the backtest plugin sees them: the events of their owners' kernels,
the names the resolver asks about, the checks before a run, and what members are shown.

- ``registerStrategy`` / ``unregisterStrategy`` (the owner's kernel): a name is refused if a
  template, a stored strategy or another member's connected kernel has it; the owner (same
  kernel client, or the same display name once the old kernel is gone) may replace it, which
  makes a new version. Every change goes to every connection as ``hostedStrategies``.
- ``hostedProgress`` / ``hostedResult`` (the owner's kernel): see :mod:`.routing`.
- ``publishResult`` (any member's kernel): a finished result, converted in the kernel to the
  engine's shape, stored as a run of the session and named, so ``/compare_strategies`` takes
  its name (or run id).
- The resolver's hook (:meth:`HostedStrategies.spec`): ``my_mom`` or ``my_mom@v3`` is a
  hosted strategy (parameters validated against its spec); in a comparison, a run id or a
  published name is a finished run.
- Before a run (:meth:`HostedStrategies.check`): the owner's kernel must be connected, and a
  private strategy may be run only by its owner's kernel.

Example (the owner's kernel, through ``ChatOpsClient.register_strategy``):
    >>> p = [{"name": "lookback", "type": "int", "default": 60}]
    >>> client.call("registerStrategy", {"sessionId": sid, "name": "my_mom", "params": p})
    ... # doctest: +SKIP
    {'ok': True, 'name': 'my_mom', 'version': 'v1', 'owner': 'alice', ...}
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any

from chatops_widget import engine
from chatops_widget.protocol import (
    RUN_ID_PATTERN,
    ErrorCode,
    ProtocolError,
    PublishResult,
    RegisterStrategy,
    ServerEvent,
    UnregisterStrategy,
    new_run_id,
    parse,
)
from chatops_widget.server.host import CommandReply, Host, Identity

from .. import _format
from .._runspec import RunSpec
from ..errors import Invalid, NotFound
from ..storage.results import StoredResult
from . import frames
from .registry import HostedRegistry, HostedStrategy
from .remote import Forbidden, offline
from .routing import HostedRuns

if TYPE_CHECKING:
    from ..resolve import Prepared, Resolver
    from ..service import BacktestService

__all__ = ["HostedStrategies"]

_RUN_RE = re.compile(RUN_ID_PATTERN)
_RESERVED = re.compile(r"^(strategy|run|session)_", re.IGNORECASE)


class HostedStrategies:
    """See the module docstring; one per backtest plugin."""

    def __init__(self, service: BacktestService, host: Host) -> None:
        self.svc, self.host = service, host
        self.registry = HostedRegistry(host.data_dir)
        self.runs = HostedRuns(service, host)

    def register(self, host: Host) -> None:
        """Add the events, the join-ack field, the disconnect hook and the ``/help`` lines."""
        host.on_event("registerStrategy", self.register_strategy)
        host.on_event("unregisterStrategy", self.unregister_strategy)
        host.on_event("hostedProgress", self.runs.kernels.on_progress)
        host.on_event("hostedResult", self.runs.kernels.on_result)
        host.on_event("publishResult", self.publish_result)
        host.on_join(lambda session_id: {"hosted": self.listing()})
        host.on_disconnect(self._gone)
        host.router.add_note(self._help_lines)

    # ------------------------------------------------------------------ what members see
    def online(self, h: HostedStrategy) -> bool:
        """Whether a connection of the owner's kernel is up."""
        return bool(self.host.connections(h.owner_client))

    def listing(self) -> list[dict[str, Any]]:
        """Every hosted strategy with its availability (``/strategies``, join acks)."""
        return [h.info(self.online(h)) for h in self.registry.all()]

    def names(self) -> list[str]:
        """The hosted strategies' names (for the assistant)."""
        return [h.name for h in self.registry.all()]

    def _help_lines(self) -> list[str]:
        items = self.listing()
        if not items:
            return []
        lines = ["**Python strategies** (run in their owner's notebook)", ""]
        return lines + [f"- `{_format.hosted_line(i)}`" for i in items]

    async def _announce(self) -> None:
        await self.host.emit_all(ServerEvent.HOSTED_STRATEGIES.value, {"hosted": self.listing()})

    async def _gone(self, sid: str, who: Identity) -> None:
        if who.client_id is None or self.host.connections(who.client_id):
            return
        if self.registry.owned_by(who.client_id):
            self.runs.kernels.owner_gone(who.client_id)
            await self._announce()

    # ------------------------------------------------------------------ the owner's events
    async def register_strategy(self, sid: str, data: Any) -> dict[str, Any]:
        """``registerStrategy {sessionId, name, params, ...}`` -> ``{name, version, owner}``."""
        req = parse(RegisterStrategy, data)
        self.host.require_joined(sid, req.sessionId, "registerStrategy")
        client, owner = self.host.client_of(sid), self.host.name_of(sid)
        if client is None:
            raise ProtocolError(
                ErrorCode.BAD_REQUEST,
                "registerStrategy: connect with "
                "auth={'token', 'name', 'clientId'} to host strategies (the "
                "kernel client does)",
            )
        self._check_name(req.name)
        old = self.registry.get(req.name)
        if old is not None and old.owner_client != client:
            if self.online(old):
                raise ProtocolError(
                    ErrorCode.ALREADY_EXISTS,
                    f"{old.name} is hosted by "
                    f"{old.hosted_by} (connected); pick another name, or ask "
                    f"{old.owner} to unregister it",
                )
            if old.owner != owner:
                raise ProtocolError(
                    ErrorCode.ALREADY_EXISTS,
                    f"{old.name} is hosted by "
                    f"{old.hosted_by} (not connected); only {old.owner} may "
                    "register it again; pick another name",
                )
        params = [p.model_dump() for p in req.params]
        try:  # the spec must make sense to the engine (defaults in range...)
            spec = HostedStrategy(req.name, owner, client, params=params).engine_strategy()
            spec.validate(spec.defaults())
        except (engine.EngineError, TypeError) as exc:
            raise ProtocolError(ErrorCode.BAD_ARGUMENT, f"registerStrategy: {exc}") from None
        h, changed = self.registry.register(
            req.name,
            owner,
            client,
            description=req.description,
            params=params,
            private=req.private,
            timeout=req.timeout,
            version=req.version,
            session_id=req.sessionId,
        )
        if changed:
            who = "private, " if h.private else ""
            text = (
                f"{owner} shared **{h.name}** ({who}{h.version}), a Python strategy that runs "
                f"in {h.hosted_by}: `{_format.hosted_line(h.info(True))}`"
            )
            await self.host.publish(req.sessionId, "system", text, {"hosted": h.info(True)})
        await self.runs.kernels.owner_back(client)
        await self._announce()
        return {**h.info(True), "changed": changed}

    def _check_name(self, name: str) -> None:
        if _RESERVED.match(name):
            raise ProtocolError(
                ErrorCode.BAD_ARGUMENT,
                f"registerStrategy: {name!r} looks like a strategy, run or session id; pick "
                "another name",
            )
        if self._taken(name):
            raise ProtocolError(
                ErrorCode.ALREADY_EXISTS,
                f"registerStrategy: {name!r} is a template or a stored strategy; pick another name",
            )

    def _taken(self, name: str) -> bool:
        """Whether ``name`` is a template's or a stored strategy's."""
        return (
            name.strip().lower() in engine.templates() or self.svc.strategies.get(name) is not None
        )

    async def unregister_strategy(self, sid: str, data: Any) -> dict[str, Any]:
        """``unregisterStrategy {sessionId, name}``: the owner withdraws it."""
        req = parse(UnregisterStrategy, data)
        self.host.require_joined(sid, req.sessionId, "unregisterStrategy")
        h = self.registry.get(req.name)
        if h is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"no hosted strategy {req.name!r}")
        if h.owner_client != self.host.client_of(sid):
            raise ProtocolError(
                ErrorCode.FORBIDDEN,
                f"{h.name} is hosted by {h.hosted_by}; only {h.owner}'s kernel may unregister it",
            )
        self.registry.remove(h.name)
        await self.host.publish(
            req.sessionId, "system", f"{h.owner} withdrew **{h.name}** ({h.version})."
        )
        await self._announce()
        return {"name": h.name}

    async def publish_result(self, sid: str, data: Any) -> dict[str, Any]:
        """``publishResult {sessionId, name, frames, stats, ...}`` -> ``{runId, replaced}``."""
        req = parse(PublishResult, data)
        self.host.require_joined(sid, req.sessionId, "publishResult")
        if self.registry.get(req.name) is not None or self._taken(req.name):
            raise ProtocolError(
                ErrorCode.ALREADY_EXISTS,
                f"publishResult: {req.name!r} is a "
                "template, a stored or a hosted strategy; pick another name",
            )
        run_id = self.svc.new_run_id(req.runId) or new_run_id()
        costs = {k: req.stats.get(k) for k in ("commission", "spread")}
        try:
            result = await asyncio.to_thread(
                frames.backtest_result,
                req.frames,
                req.name,
                params=dict(req.params),
                symbol=req.symbol,
                source=req.source,
                commission=None if costs["commission"] is None else float(costs["commission"]),
                spread=None if costs["spread"] is None else float(costs["spread"]),
            )
        except frames.BadResult as exc:
            raise ProtocolError(exc.code, f"publishResult: {exc}") from None
        who = self.host.name_of(sid)
        stats, stored = frames.encode_backtest(result)
        replaced = self.registry.publish(req.sessionId, req.name, run_id, who, req.source)
        job = self.svc.jobs.create(
            req.sessionId,
            "backtest",
            run_id=run_id,
            strategy_id=req.name,
            label=f"{req.name} ({req.source})",
            command=f"publish {req.name}",
            started_by=who,
        )
        summary = {
            "kind": "backtest",
            "runId": run_id,
            "strategyId": req.name,
            "template": req.source,
            "symbol": req.symbol,
            "params": dict(req.params),
            "stats": stats,
            "status": "completed",
            "published": {"by": who, "source": req.source},
        }

        async def finish() -> CommandReply:
            meta = {"summary": summary, "engineSeconds": 0.0, "published": summary["published"]}
            await self.svc.finish(
                job, StoredResult(run_id, req.sessionId, "backtest", stats, meta, stored)
            )
            text = (
                f"{who} published **{req.name}** ({req.source}) as **{run_id}**"
                + (f", replacing {replaced}" if replaced else "")
                + ". "
                + _format.backtest_text(summary)
            )
            return CommandReply(summary, run_id=run_id, text=text)

        await self.host.start_command(
            req.sessionId, f"publish {req.name}", finish, name="publish", sid=sid, echo=False
        )
        return {"runId": run_id, "replaced": replaced}

    # ------------------------------------------------------------------ the resolver's hook
    def _named(self, target: str) -> tuple[HostedStrategy | None, str | None]:
        name, _, wanted = target.partition("@")
        h = self.registry.get(name) if name and not _RESERVED.match(name) else None
        return h, (wanted or None)

    def strategy(self, target: str) -> engine.StrategyBase | None:
        """The engine view (parameters) of the hosted strategy ``target`` names, if any."""
        h, _ = self._named(target)
        return h.engine_strategy() if h is not None else None

    def knows(self, target: str, session_id: str | None) -> bool:
        """Whether ``target`` is a hosted strategy, or (in ``session_id``) a finished run."""
        if self._named(target)[0] is not None:
            return True
        return self._finished(target, session_id) is not None

    def spec(
        self,
        resolver: Resolver,
        target: str,
        session_id: str | None,
        *,
        params: dict[str, Any],
        symbol: str | None,
        start: str | None,
        end: str | None,
        money: dict[str, float],
        comparison: bool = False,
    ) -> RunSpec | None:
        """The :class:`RunSpec` of a hosted strategy (validated), or in a comparison of a
        finished run; ``None`` if ``target`` is neither."""
        h, wanted = self._named(target)
        if h is not None:
            if wanted is not None and wanted != h.version:
                raise NotFound(
                    f"{h.name}@{wanted}: {h.hosted_by} has {h.name} at {h.version} "
                    f"(a new version replaces the old one); run {h.name} (that is "
                    f"{h.version}) or ask {h.owner} to register the old one "
                    "again"
                )
            spec = RunSpec(
                h.name,
                symbol or resolver.catalog.symbols()[0],
                dict(params),
                start,
                end,
                h.name,
                h.name,
                money["cash"],
                money["commission"],
                money["spread"],
            )
            bars = resolver.data(spec.symbol, start, end)
            spec.symbol, spec.index, spec.revision = bars.symbol, bars.index, bars.revision
            # the owner's kernel gets the bars themselves (Arrow): a file's are read here
            spec.data = bars.data.load() if isinstance(bars.data, engine.DataRef) else bars.data
            try:
                spec.params = h.engine_strategy().validate(spec.params, len(spec.data))
            except engine.EngineError as exc:
                raise Invalid(f"{exc} (the spec {h.owner} registered for {h.name})") from None
            spec.hosted = h
            return spec
        found = self._finished(target, session_id) if comparison else None
        if found is None:
            return None
        if start or end or params or symbol:
            raise Invalid(
                f"{target} is a finished run: it is compared as it ran; leave out "
                "start=, end= and parameters"
            )
        summary = found.get("meta", {}).get("summary") or {}
        spec = RunSpec(
            str(summary.get("template") or target),
            str(summary.get("symbol") or ""),
            dict(summary.get("params") or {}),
            None,
            None,
            target,
            target,
        )
        spec.result_of = found["runId"]
        return spec

    def _finished(self, target: str, session_id: str | None) -> dict[str, Any] | None:
        if session_id is None:
            return None
        run_id = target
        if not _RUN_RE.match(target):
            pub = self.registry.published(session_id, target)
            if pub is None:
                return None
            run_id = pub["runId"]
        record = self.svc.results.record(run_id)
        if record is None or record.get("sessionId") != session_id:
            return None
        if record.get("kind") != "backtest":
            raise Invalid(f"{target} is a {record.get('kind')}; compare backtests")
        return record

    # ------------------------------------------------------------------ before and during a run
    def check(self, prepared: Prepared, sid: str | None) -> None:
        """The owner's kernel must be connected; a private strategy is its owner's only."""
        for spec in prepared.specs:
            h: HostedStrategy | None = spec.hosted
            if h is None:
                continue
            if h.private and self.host.client_of(sid) != h.owner_client:
                raise Forbidden(f"{h.name} is private to {h.hosted_by}: only {h.owner} can run it")
            if not self.online(h):
                raise offline(h)

    def involved(self, prepared: Prepared) -> bool:
        """Whether the runs of ``prepared`` go through here."""
        return self.runs.involved(prepared)

    async def run(self, prepared: Prepared, session_id: str, **fields: Any) -> dict[str, Any]:
        """Run ``prepared`` (see :mod:`.routing`)."""
        return await self.runs.run(prepared, session_id, **fields)
