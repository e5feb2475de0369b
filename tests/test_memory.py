"""The process's peak memory (territory_engine/memory.py): the largest native steps take turns
across threads, and the pages they freed go back to the system."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import numpy as np
import pytest

from territory_engine import memory
from territory_engine.background import Later
from territory_engine.contiguity import account_graph


def test_qhull_and_the_designs_lp_wait_while_the_other_thread_runs_a_heavy_step(monkeypatch):
    """A million accounts' triangulation (about 0.5 GiB in Qhull) and the design's largest LPs
    (0.2-0.3 GiB in HiGHS) were the full sheet's memory peak when they ran at once. (Steps this
    small take turns only with the threshold lowered to 0.)"""
    from territory_engine import contiguity
    from territory_engine.geo import to_xyz
    from territory_engine.rebalance import transport
    from territory_engine.rebalance.units import Units

    entered = {"qhull": threading.Event(), "lp": threading.Event()}
    real_hull, real_lp = contiguity.ConvexHull, transport.linprog
    monkeypatch.setattr(contiguity, "ConvexHull", lambda *a, **k: entered["qhull"].set() or real_hull(*a, **k))
    monkeypatch.setattr(transport, "linprog", lambda *a, **k: entered["lp"].set() or real_lp(*a, **k))
    monkeypatch.setattr(memory, "TURNS_FROM", 0)
    rng = np.random.default_rng(5)
    n, k = 80, 4
    lat, lon = 35 + rng.random(n), -90 + rng.random(n)
    xyz = to_xyz(lat, lon)
    current = np.argmin(np.linalg.norm(xyz[:, None] - xyz[None, :k], axis=2), axis=1)
    units = Units(xyz=xyz, values=np.full((n, 1), 1 / n), current=current, locked=np.zeros(n, dtype=bool),
                  of_account=np.arange(n))
    runs = {"qhull": lambda: account_graph(lat, lon),
            "lp": lambda: transport.exact_assign(units, current, xyz[:k], np.full((k, 1), 1 / k), 0.05,
                                                 stick_km=50.0)}
    for name, run in runs.items():
        with memory.heavy_step(0):
            later = Later(run)
            assert not entered[name].wait(0.5), f"{name} ran while another thread held a heavy step"
        assert later.result() is not None
        assert entered[name].is_set()
    with memory.heavy_step(0):  # (the same thread may nest them)
        assert account_graph(lat, lon).region.shape == (n,)


def test_a_small_step_does_not_wait_for_a_large_one_on_another_thread():
    """Qhull on a full sheet's 138,034 grid cells waited 8 s for the accounts' triangulation on
    the other thread, and the design's main thread with it; such a step is about 60 MB."""
    with _a_large_step_held_on_another_thread():
        small = Later(lambda: account_graph(35 + np.arange(6) * 0.1, -90 + np.arange(6) % 2 * 0.1).region)
        done = threading.Event()
        waiter = threading.Thread(target=lambda: small.result() is not None and done.set(), daemon=True)
        waiter.start()
        assert done.wait(30), "a small step waited for a large one"


@contextmanager
def _a_large_step_held_on_another_thread():
    """A thread holding a heavy step that takes turns until the block ends."""
    held, release = threading.Event(), threading.Event()

    def hold():
        with memory.heavy_step(memory.TURNS_FROM):
            held.set()
            release.wait(60)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert held.wait(10)
    try:
        yield
    finally:
        release.set()
        holder.join(10)


def _step_in_child() -> str:
    with memory.heavy_step(memory.TURNS_FROM):
        return "done"


def test_a_process_forked_while_another_thread_holds_a_heavy_step_does_not_wait_for_it():
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork here")
    with _a_large_step_held_on_another_thread():
        with multiprocessing.get_context("fork").Pool(1) as pool:
            assert pool.apply_async(_step_in_child).get(timeout=30) == "done"


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


def test_the_pages_freed_in_the_heap_go_back_to_the_system():
    if not memory.give_back():
        pytest.skip("no glibc here: nothing to give back")
    # 3,000 blocks of 100 kB (under glibc's mmap threshold, so they come from the heap), every
    # tenth kept: freeing the others leaves 270 MB of free heap between the kept ones, which glibc
    # keeps for reuse.
    blocks = [bytearray(100_000) for _ in range(3_000)]
    for block in blocks:
        block[::4096] = b"x" * len(block[::4096])  # (touch every page)
    kept = blocks[::10]
    del blocks, block
    before = _rss_mib()
    assert memory.give_back()
    after = _rss_mib()
    assert before - after > 150, f"RSS {before:.0f} MiB -> {after:.0f} MiB"
    assert len(kept) == 300
