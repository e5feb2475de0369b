"""The clock of the engine's time budgets: CPU seconds of the thread that runs the search.

Several searches stop at a time limit as well as a move limit: the balance repair and tabu rounds
of a contiguous design, the block designs and their exact stage, the pieces phase's joins and
local windows. Timed by the wall clock, the same map and seed gave another answer on a busy
machine: a 300-account map balanced on two opposed measures (``tests/data``) kept three pieces
apart for balance with four other processes on two cores, one piece each on an idle machine. The
calling thread's CPU time does not count the time other processes (or this one's background
threads) take, so an answer depends on the map, the seed and the speed of the processor only.

Where the platform has no per-thread CPU clock (it raises, or is missing, on some WebAssembly
builds), the wall clock is used. Reported durations stay wall-clock seconds.
"""

from __future__ import annotations

import time

__all__ = ["budget_clock"]


def _thread_clock():
    """``time.thread_time`` when it works here, else ``time.perf_counter``."""
    try:
        time.thread_time()
    except (AttributeError, OSError):  # pragma: no cover - platforms without a thread CPU clock
        return time.perf_counter
    return time.thread_time


budget_clock = _thread_clock()
"""Seconds (float) of the calling thread's CPU time, for deadlines: compare only two readings
taken in the same thread."""
