"""Giving the freed heap back to the system during long batch loops.

Batch loops (the explanatory graph's E-steps) free hundreds of MB of temporaries per batch.
Those between 128 KB and glibc's raised mmap threshold (up to 32 MB) sit in the heap. Their
sizes change from batch to batch, so the next batch's buffers often do not fit the holes,
and the heap grows by about 15 MB a batch. Nothing leaks: glibc's malloc_trim gives the
pages back. Without a trim, mining 2,000 images held about twice the peak resident memory
that 1,000 did (tests/bench/explanatory_graph.py). Trimming after every batch cost about
30 % of the E-step's time on CPU; trimming every few batches bounds the growth for a few
per cent. A trim locks each arena while it walks it, the GUI thread's too: 4-38 ms over the
test suite, so it is kept to batch loops and not run after every job. Elsewhere (no glibc)
trimming does nothing. The information method's chunks need none: their buffers keep one
shape, and over 12 chunks the resident memory stayed at 1.19-1.34 GB (session 8).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.cache
def _malloc_trim():
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim") if name else None
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl)
        return None


def trim_freed_heap() -> bool:
    """Give the heap's free pages back to the system; False where that cannot be done."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
