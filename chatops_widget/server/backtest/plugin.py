"""The backtest plugin: what a server gets from ``plugins=[BacktestPlugin()]``.

``register(host)`` builds the :class:`~.service.BacktestService` (data catalog, stored
strategies, results, the job manager) and adds to the host, in this order: the run commands,
the listing commands, the ``getResult``/``getRuns``/``getStrategies`` events and join-ack
fields, the ``uploadData`` event, the hosted strategies' events (strategies kept in members'
kernels, :mod:`.hosted`), and the start/stop hooks (the service first, then the uploads and the
data-folder watch, which need its catalog).

Example:
    >>> from chatops_widget.server import ChatOpsServer
    >>> server = ChatOpsServer(tempfile.mkdtemp(), plugins=[BacktestPlugin(workers=1)])
    >>> "run_backtest" in server.router.names(), "sweep" in server.router.names()
    (True, True)
"""

from __future__ import annotations

import tempfile  # noqa: F401  (used by the docstring example)

from chatops_widget import engine
from chatops_widget.server.host import Host

from .commands.events import BacktestEvents
from .commands.listing import ListingCommands
from .commands.research import ResearchCommands
from .commands.running import RunCommands
from .data.streams import Streams
from .data.uploads import Uploads
from .errors import BacktestError
from .hosted import HostedStrategies
from .service import BacktestService

__all__ = ["BacktestPlugin"]


class BacktestPlugin:
    """Backtests, sweeps and comparisons as commands; ``workers`` processes (default: env
    ``CHATOPS_WORKERS``, else up to 2), ``mode`` ``"process"``, ``"thread"`` or ``"dask"``
    (default: env ``CHATOPS_JOBS``, else processes)."""

    name = "backtest"

    def __init__(self, *, workers: int | None = None, mode: str | None = None) -> None:
        self.workers, self.mode = workers, mode
        self.service: BacktestService | None = None

    def register(self, host: Host) -> None:
        """Build the service and add the commands, events and hooks to ``host``."""
        if self.service is not None:
            raise RuntimeError("a BacktestPlugin registers on one server only; make another")
        svc = self.service = BacktestService(host, workers=self.workers, mode=self.mode)
        runs = RunCommands(svc, host)
        runs.register(host)
        host.router.include(ResearchCommands(runs))
        host.router.include(ListingCommands(svc))
        BacktestEvents(svc, host).register(host)
        host.on_startup(svc.start)
        host.on_shutdown(svc.shutdown)
        uploads = Uploads(svc, host)
        uploads.register(host)
        Streams(uploads, host).register(host)  # chunked uploads of any size
        # hosted names resolve beside stored ones (one hook: the resolver's names)
        hosted = svc.hosted = HostedStrategies(svc, host)
        hosted.register(host)

    def data_span(
        self, target: str | None, symbol: str | None = None, start: str | None = None
    ) -> tuple[str, str, str] | None:
        """``(symbol, first bar, last bar)`` (``YYYY-MM-DD``) of what a backtest of ``target``
        (a stored strategy or template; None: a template) on ``symbol`` (None: the strategy's)
        from ``start`` would run on -- as the resolver sees it, the strategy's own end
        included -- or None if that would not run. The assistant anchors relative dates
        (``the last 3 years``) to it."""
        if self.service is None:
            return None
        try:
            spec = self.service.resolve.backtest_spec(
                target or "buy_and_hold", {}, symbol=symbol, start=start
            )
        except (BacktestError, engine.EngineError, ValueError):
            return None
        index = spec.index if spec.index is not None else spec.data.index
        if not len(index):
            return None
        return spec.symbol, str(index[0].date()), str(index[-1].date())

    def known_names(self) -> tuple[list[str], list[str]]:
        """(stored strategy ids and names + template names, symbols): what the assistant may
        name."""
        if self.service is None:
            return [], []
        hosted = self.service.hosted.names() if self.service.hosted else []
        store = self.service.strategies
        names = [n for n in store.names() if n]
        strategies = [*store.ids(), *names, *sorted(engine.templates()), *hosted]
        return strategies, list(self.service.catalog.symbols())
