"""How worker processes are set up for numpy work (:mod:`...jobs.allocator`, the pool's start).

Each worker of our process pool and each Dask worker running our tasks serves a big temporary
array from the heap (glibc's ``mallopt`` thresholds raised), not from a fresh ``mmap`` -- under
Dask's own ``MALLOC_TRIM_THRESHOLD_`` that made sweeps 1.85x slower -- and the pool's workers
start with BLAS/OpenMP limited to one thread (a spinning OpenBLAS thread per worker took the
other worker's core). Checked inside real worker processes with glibc's ``mallinfo2``.
"""

from __future__ import annotations

import ctypes
import os

import numpy as np
import pytest

from chatops_widget.server.backtest.jobs import allocator
from chatops_widget.server.backtest.jobs.dask_pool import DaskPool
from chatops_widget.server.backtest.jobs.pool import WorkerPool
from chatops_widget.server.backtest.jobs.worker import THREAD_VARIABLES


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                     "uordblks", "fordblks", "keepcost")
    ]  # fmt: skip


def _mapped_bytes() -> int:
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    return int(libc.mallinfo2().hblkhd)  # bytes in blocks served by mmap


def probe() -> dict:
    """Run in a worker: is the allocator tuned, is a 16 MiB array mapped, the thread settings."""
    before = _mapped_bytes()
    arrays = [np.ones(2 * 2**20) for _ in range(3)]  # 16 MiB each, as a sweep chunk's temporaries
    mapped = _mapped_bytes() - before
    del arrays
    return {
        "tuned": allocator.tune(),
        "mapped": mapped,
        "threads": {name: os.environ.get(name) for name in THREAD_VARIABLES},
    }


async def _probe_in(pool: WorkerPool | DaskPool) -> dict:
    """Start ``pool``, run :func:`probe` in one of its workers, close it."""
    await pool.start()
    try:
        return await pool.run(probe)
    finally:
        await pool.close()


def test_tune_is_once_per_process_and_can_be_turned_off(monkeypatch):
    assert allocator.tune() is True  # Linux with glibc (Debian): in effect
    monkeypatch.setattr(allocator, "_applied", None)
    monkeypatch.setenv(allocator.ENV, "off")
    assert allocator.tune() is False
    monkeypatch.setenv(allocator.ENV, "")
    assert allocator.tune() is False  # decided once for the process
    monkeypatch.setattr(allocator, "_applied", None)
    assert allocator.tune() is True


def test_pool_workers_reuse_big_arrays_and_run_blas_single_threaded(arun, monkeypatch):
    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "3")  # the user's own setting is kept

    got = arun(_probe_in(WorkerPool(1)))
    assert got["tuned"] is True and got["mapped"] == 0, got
    assert got["threads"] == {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                              "MKL_NUM_THREADS": "3"}  # fmt: skip
    assert "OPENBLAS_NUM_THREADS" not in os.environ  # the server's own environment is as it was


@pytest.mark.timeout(120)
def test_dask_workers_reuse_big_arrays_despite_the_nanny_trim_setting(arun):
    got = arun(_probe_in(DaskPool(1, address="")))  # a local cluster: one process, with a nanny
    assert got["tuned"] is True and got["mapped"] == 0, got
