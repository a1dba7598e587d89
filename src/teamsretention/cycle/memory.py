"""Handing memory a step has freed back to the operating system before the next step starts.

Python returns freed objects to its allocator, not to the system: after a tenant-wide step (the inventory of
thousands of drives, the evaluation of every due recording) glibc keeps the freed heap, and the next step's
allocations land partly beside it, so the process's resident size creeps up step after step and cycle after
cycle. Between steps, and when a cycle ends, the cycle asks glibc to give back what is free (``malloc_trim``,
under a millisecond). No ``gc.collect()`` here: a full collection costs 100+ ms on a large heap, and Python's own
collector frees reference cycles anyway. Measured on the tenant-like benchmark at 100k recordings: peak RSS
over the unchanged cycle and the next day 149 instead of 151 MiB. On a C library without ``malloc_trim`` (musl)
nothing is done.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

import structlog

log = structlog.get_logger(__name__)


def _find_trim() -> Callable[[int], int] | None:
    try:
        return getattr(ctypes.CDLL(None), "malloc_trim", None)  # the C library the interpreter runs on
    except (OSError, AttributeError):  # pragma: no cover - a platform without dlopen(NULL)
        return None


_TRIM = _find_trim()


def release_freed_memory() -> bool:
    """Give free heap back to the system; True when the C library could be asked to."""
    if _TRIM is None:
        return False
    try:
        _TRIM(0)
    except OSError:  # pragma: no cover - never seen; memory is then only kept, nothing is lost
        log.debug("memory.trim_failed")
        return False
    return True
