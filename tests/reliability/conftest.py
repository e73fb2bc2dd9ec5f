"""Reliability suite fixtures; these tests are slow (real processes, kill -9, floods), so they
run after every other test of the session.

- ``serve(**kw)``: start a ``chatops-widget serve`` process (:class:`_harness.Serve`) on a fresh
  data dir (or ``data_dir=``); every one started is killed with its workers at teardown;
- ``arun(coro, timeout)`` comes from the top-level conftest.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability._harness import Serve

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the reliability tests last: the fast tests first, as the lead asked."""
    fast = [i for i in items if _HERE not in Path(str(i.path)).resolve().parents]
    slow = [i for i in items if _HERE in Path(str(i.path)).resolve().parents]
    items[:] = fast + slow


@pytest.fixture
def serve(tmp_path: Path):
    started: list[Serve] = []

    def start(
        data_dir: Path | None = None,
        *,
        env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
        port: int | None = None,
        run: bool = True,
    ) -> Serve:
        n = len(started)
        srv = Serve(
            data_dir or tmp_path / f"data{n}",
            tmp_path / f"serve{n}.log",
            port=port,
            env=env,
            args=args,
        )
        started.append(srv)
        return srv.start() if run else srv

    yield start
    for srv in started:
        srv.stop()
