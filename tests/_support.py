"""Small helpers shared by tests (importable: ``tests`` is on pytest's pythonpath)."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reachable(url: str) -> bool:
    """Whether an HTTP server answers at ``url``."""
    try:
        urllib.request.urlopen(url + "/", timeout=2).read()
        return True
    except (urllib.error.URLError, OSError):
        return False


def stop_process(proc, log=None, timeout: float = 20.0) -> None:
    """Terminate a subprocess (killed if it has not exited after ``timeout`` s); close ``log``."""
    import subprocess

    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
    if log is not None:
        log.close()


def exit_at_once(conn, parent_pid, *rest) -> None:
    """A worker-process target that exits at once (a broken worker environment)."""
    import os

    os._exit(3)
