"""The backtest service's data: the catalog (the bundled sample plus the data folder) and the
resolver over it, made when first needed -- by a command, or by the warm-up that the first
``joinSession`` starts -- so a server answers its first join without numpy's, pandas' or the
engine's simulator's import time (an embedded server shares its process with the kernel,
whose panel waits for that join to say "connected").

Example (inside the service):
    >>> data = ServiceData(lambda: ("a catalog", "a resolver"))
    >>> data.ready, data.get(), data.ready
    (False, ('a catalog', 'a resolver'), True)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from chatops_widget import engine

from .data.watch import load_folder
from .jobs import tasks as _work
from .resolve import Resolver

__all__ = ["WARM_UP_DELAY", "ServiceData", "make_data"]

log = logging.getLogger(__name__)
startup = logging.getLogger("chatops_widget.startup")  # timestamps for benchmarks/coldstart

#: s after the first join before the warm-up starts: the joining client's own first moments
#: (its ack, a panel's "connected") go first in a process they share.
WARM_UP_DELAY = 0.05


def make_data(svc: Any) -> tuple[engine.DataCatalog, Resolver]:
    """The catalog of ``svc`` (a :class:`~.service.BacktestService`): the bundled sample,
    then the files of ``<data_dir>/data`` (listed from their metadata: the workers read the
    bars); and the resolver over it and the stored and hosted strategies."""
    startup.debug("backtest: making the data catalog")
    catalog = engine.sample_catalog()
    budget = _work.cache_bytes()  # $CHATOPS_DATA_CACHE_MB (else the engine's default)
    if budget is not None:
        catalog.cache.budget = budget
    load_folder(catalog, svc.host.data_dir / "data")
    resolver = Resolver(catalog, svc.strategies)
    resolver.names = svc.hosted
    return catalog, resolver


class ServiceData:
    """``make()``'s value (``(catalog, resolver)``), made once on first :meth:`get` (any
    thread; the others wait for it) or by :meth:`warm_up` in a background thread; ``then``
    callbacks run on it once it is made."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._value: Any = None
        self._then: list[Callable[[Any], None]] = []
        self._warming = False

    @property
    def ready(self) -> bool:
        """Whether the data is made."""
        return self._value is not None

    def get(self) -> Any:
        """The data, made now if it is not yet."""
        value = self._value
        if value is not None:
            return value
        with self._lock:
            if self._value is None:
                value = self._make()
                for fn in self._then:
                    fn(value)
                self._then.clear()
                self._value = value
            return self._value

    def then(self, fn: Callable[[Any], None]) -> None:
        """Run ``fn(data)`` once the data is made (now, if it is)."""
        with self._lock:
            if self._value is None:
                self._then.append(fn)
                return
        fn(self._value)

    def warm_up(self, also: Callable[[], Any] | None = None) -> None:
        """Make the data (then run ``also``, e.g. imports a first run needs) in a daemon thread,
        :data:`WARM_UP_DELAY` s from now; once per server, whatever is called after."""
        with self._lock:
            if self._warming:
                return
            self._warming = True

        def run() -> None:
            time.sleep(WARM_UP_DELAY)
            startup.debug("backtest: warm-up starts")
            try:
                self.get()
                if also is not None:
                    also()
            except Exception:  # the first command makes it again and reports the failure
                log.exception("backtest warm-up failed")
            startup.debug("backtest: warm-up done")

        threading.Thread(target=run, name="chatops-backtest-warm-up", daemon=True).start()
