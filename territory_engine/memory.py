"""The process's peak memory: the largest native steps take turns, and give back what they freed.

At a million accounts two native steps dominate memory while they run: Qhull's triangulation of
the accounts (:mod:`~territory_engine.contiguity`, about 0.5 GiB) and HiGHS on the design's largest
LPs (:mod:`~territory_engine.rebalance.transport`, 0.2-0.3 GiB). The triangulation runs on the
second thread while the design runs (:mod:`~territory_engine.background`), so on the full sheet
with rep bases the two met, and with the memory the C allocator kept after earlier steps they
made the run's peak. Each runs inside :func:`heavy_step`, which

- lets one such step (of :data:`TURNS_FROM` items or more) run at a time across threads, so their
  peaks never add up;
- then asks the C library to return the pages freed since (glibc's ``malloc_trim``): glibc keeps
  freed memory for reuse, and what a step freed in one thread's heap cannot serve the other's.

Where there is no glibc (Windows, macOS, Pyodide) the second part does nothing.
"""

from __future__ import annotations

import functools
import os
from contextlib import contextmanager, nullcontext
from threading import RLock
from typing import Callable, Iterator

__all__ = ["GIVE_BACK_FROM", "TURNS_FROM", "heavy_step", "give_back"]

GIVE_BACK_FROM = 50_000
"""Steps on at least this many items (points, LP variables) are followed by :func:`give_back`;
below it a step frees too little to matter, and giving back costs up to ~10 ms a time."""

TURNS_FROM = 250_000
"""Steps on at least this many items take turns across threads. A smaller step (Qhull on a full
sheet's 138,034 grid cells: about 60 MB) runs beside a large one: waiting for the accounts'
triangulation held the design's main thread still for 8 s on a full sheet."""

_HEAVY = RLock()


def _new_lock_in_child() -> None:
    # A process forked while another thread held the lock (a sizing pool started while the early
    # graph is in Qhull) inherits it held by a thread it does not have: it would wait forever.
    global _HEAVY
    _HEAVY = RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_lock_in_child)


@contextmanager
def heavy_step(items: int) -> Iterator[None]:
    """Held around a native step on ``items`` items (points, LP variables) that allocates hundreds
    of MB at a million accounts: such steps on :data:`TURNS_FROM` items or more run one after
    the other across threads, and :func:`give_back` follows each on :data:`GIVE_BACK_FROM` items
    or more. Re-entrant, so on one thread it never waits."""
    with _HEAVY if items >= TURNS_FROM else nullcontext():
        try:
            yield
        finally:
            if items >= GIVE_BACK_FROM:
                give_back()


def give_back() -> bool:
    """Return freed heap pages to the system; True when the C library could (glibc)."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


@functools.lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6").malloc_trim
    except (ImportError, OSError, AttributeError):
        return None
