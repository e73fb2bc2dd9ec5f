"""Reliability suite fixtures; these tests are slow (real processes, kill -9, floods), so they
run after every other test of the session.

- ``serve(**kw)``: start a ``chatops-widget serve`` process (:class:`_harness.Serve`) on a fresh
  data dir (or ``data_dir=``); every one started is killed with its workers at teardown;
- ``small_fs(size, kind)``: a small tmpfs or loop-mounted ext4 filesystem (root only; skipped
  with the reason otherwise), ``_harness.fill(path)`` fills one;
- ``arun(coro, timeout=60)``: run a coroutine to its end on a fresh event loop in a thread of
  its own (the top-level ``arun`` uses the test's thread, where the widget tests' session-wide
  Playwright keeps a loop running once they ran; these tests run after them).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
from reliability._harness import Serve

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the reliability tests last: the fast tests first, as the lead asked."""
    fast = [i for i in items if _HERE not in Path(str(i.path)).resolve().parents]
    slow = [i for i in items if _HERE in Path(str(i.path)).resolve().parents]
    items[:] = fast + slow


def _run_in_thread(coro: Coroutine[Any, Any, Any], timeout: float = 60.0) -> Any:
    out: dict[str, Any] = {}

    def target() -> None:
        try:
            out["value"] = asyncio.run(asyncio.wait_for(coro, timeout))
        except BaseException as exc:
            out["error"] = exc

    thread = threading.Thread(target=target, name="reliability-arun", daemon=True)
    thread.start()
    thread.join(timeout + 30)
    if thread.is_alive():
        raise TimeoutError(f"the coroutine did not end within {timeout + 30} s")
    if "error" in out:
        raise out["error"]
    return out.get("value")


@pytest.fixture
def arun() -> Callable[..., Any]:
    """``arun(coro, timeout=60)``, on a loop of its own thread (see the module docstring)."""
    return _run_in_thread


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


def _need_root(what: str) -> None:
    if os.geteuid() != 0:
        pytest.skip(f"{what} needs root (mount); CI runs as root")


@pytest.fixture
def small_fs(tmp_path: Path):
    """``small_fs(size="8m", kind="tmpfs"|"ext4")``: a small filesystem of our own, mounted under
    ``tmp_path`` (tmpfs with ``size=``, or an ext4 image on a loop device, which supports
    ``chattr +i`` the way SQLite's shared-memory file meets it on disk). Unmounted at teardown."""
    mounts: list[tuple[Path, Path | None]] = []

    def make(size: str = "8m", kind: str = "tmpfs") -> Path:
        _need_root(f"a {size} {kind} filesystem")
        point = tmp_path / f"fs{len(mounts)}"
        point.mkdir()
        image = None
        if kind == "tmpfs":
            cmd = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)]
        else:
            image = tmp_path / f"fs{len(mounts)}.img"
            subprocess.run(["truncate", "-s", size, str(image)], check=True)
            subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True, capture_output=True)
            cmd = ["mount", "-o", "loop", str(image), str(point)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.skip(f"cannot mount a {kind} filesystem here: {proc.stderr.strip()}")
        mounts.append((point, image))
        return point

    yield make
    for point, image in reversed(mounts):
        subprocess.run(["chattr", "-R", "-i", str(point)], capture_output=True)
        if subprocess.run(["umount", str(point)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(point)], capture_output=True)
        if image is not None:
            image.unlink(missing_ok=True)
