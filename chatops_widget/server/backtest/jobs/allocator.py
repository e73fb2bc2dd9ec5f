"""The worker processes' memory allocator: big numpy temporaries reused, not mapped afresh.

An engine chunk allocates and frees arrays of a few MB (combinations x bars) many times a
second. glibc serves an allocation over its *mmap threshold* with a fresh ``mmap`` -- the kernel
hands out zeroed pages, each a page fault on first touch -- and gives it back with ``munmap`` when
freed. By default the threshold rises with the sizes seen, so such arrays soon come from the heap;
but once ``M_TRIM_THRESHOLD`` is set explicitly, as Dask's nanny does for every worker
(``MALLOC_TRIM_THRESHOLD_=65536``, its ``distributed.nanny.pre-spawn-environ``), the threshold
stays at 128 KiB and every temporary is mapped anew: the 1,225-pair sweep on 20k bars took
1.85x its time in such a process (1.53 s vs 0.83 s), and even the default settings cost 1.5x
against a fixed high threshold (0.83 s vs 0.55 s; ``benchmarks/bench_scale.py``, case (d)).

:func:`tune` sets both thresholds (``mallopt``) in the process it runs in -- each worker of our
process pool at its start, each Dask worker the first time it runs one of our tasks. A worker
then keeps up to :data:`TRIM_THRESHOLD` bytes of freed memory for reuse instead of returning it
at once. ``CHATOPS_MALLOC_TUNING=off`` leaves the allocator as it is (e.g. on a shared Dask
cluster whose memory limits count on the eager trimming). Only glibc has ``mallopt``; elsewhere
:func:`tune` does nothing.

Example:
    >>> tune()  # Linux with glibc: in effect (unless CHATOPS_MALLOC_TUNING=off)
    True
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

__all__ = ["ENV", "MMAP_THRESHOLD", "TRIM_THRESHOLD", "tune"]

#: ``off`` (or ``0``, ``false``, ``no``) leaves the allocator alone.
ENV = "CHATOPS_MALLOC_TUNING"
#: Allocations over this size are mapped afresh (glibc's cap for the setting: 32 MiB).
MMAP_THRESHOLD = 32 * 2**20
#: Freed memory at the top of the heap kept for reuse, up to this many bytes.
TRIM_THRESHOLD = 64 * 2**20

_M_TRIM_THRESHOLD = -1  # glibc's <malloc.h>
_M_MMAP_THRESHOLD = -3
_applied: bool | None = None  # once per process


def tune() -> bool:
    """Set the allocator thresholds in this process (once); whether they are in effect."""
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if os.environ.get(ENV, "").strip().lower() in {"off", "0", "false", "no"}:
        return False
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    ok = mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok
    _applied = ok
    return ok
