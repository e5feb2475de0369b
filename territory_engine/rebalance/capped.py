"""The best alignment a move cap allows, when balance within the tolerance needs more moves.

A move cap (``max_moved_share``) is the analyst's hard limit on the share of accounts that
change territory. When it makes balance impossible (the engine proves it: balance is reachable
only by moving more), the alignment written must still keep the cap: it is the one the analyst
can act on, and the proof says how far the cap would have to rise for balance.

The rule: start from today's alignment and take the moves of the balanced (uncapped) design one
at a time while the cap has room. Between two territories the moves nearest the receiver go
first (the account's distance to the receiver's centre less its distance to its own territory's
centre: the border strip, so the receiver grows along its border rather than in scattered
pieces); among the pairs of territories, the next move that brings the loads closest to their
bands per account it moves (the total of every territory's distance outside its band, as a
share of its target); a move that no longer helps is skipped. Accounts of one building block move together. Accounts
without a current territory take the design's territory without counting as moves; accounts
of a territory that is retired must move whatever the cap.
"""

from __future__ import annotations

import dataclasses
import heapq

import numpy as np

from ..arrays import distinct
from ..measures import territory_loads
from .alignment import Alignment
from .centres import centres_of
from .move_kinds import move_kinds

__all__ = ["within_cap"]


def _outside(load: np.ndarray, target: np.ndarray, tolerance: float) -> np.ndarray:
    """How far each row of loads (..., C) is outside the band of its target, as shares of the target."""
    return np.maximum(np.abs(load / target - 1) - tolerance, 0.0).sum(axis=-1)


def within_cap(job, result: Alignment) -> Alignment:
    """``result`` cut down to the moves ``job``'s move cap allows (see the module docstring).

    Parameters
    ----------
    job : territory_engine.rebalance.pipeline.Job
        A realignment with ``max_moved_share < 1``.
    result : Alignment
        The design, balanced or not, that moves more than the cap.

    Returns
    -------
    Alignment
        Today's alignment plus the moves kept: loads, deviations and move kinds of its own; the
        reasons of ``result`` (the proof), never within the tolerance.
    """
    current, proposed, k = job.current, result.territory, job.k
    n = len(current)
    out = np.where(current >= 0, current, proposed)
    retired = current >= k
    out[retired] = proposed[retired]
    budget = int(np.floor(job.max_moved_share * n + 1e-9)) - int(retired.sum())
    grouped = job.cells_xyz is None and len(job.units.xyz) < n  # building blocks move whole
    group = job.units.of_account if grouped else np.arange(n)
    moving = np.flatnonzero((current >= 0) & ~retired & (proposed != current))
    members = dict(_groups(group[moving], moving))
    target, tolerance, values = job.target, job.tolerance, job.values
    load = territory_loads(out, values, k)

    def gain(accounts: np.ndarray) -> float:
        touched = distinct(np.r_[current[accounts], proposed[accounts]])
        delta = np.zeros((len(touched), values.shape[1]))
        np.add.at(delta, np.searchsorted(touched, current[accounts]), -values[accounts])
        np.add.at(delta, np.searchsorted(touched, proposed[accounts]), values[accounts])
        before = _outside(load[touched], target[touched], tolerance).sum()
        after = _outside(load[touched] + delta, target[touched], tolerance).sum()
        return float(before - after) / len(accounts)

    # Between two territories the moves nearest the receiver go first (its border strip, so it grows
    # along its border instead of in scattered pieces); among the pairs, the next move that helps most
    # per account it moves.
    xyz = job.units.xyz[job.units.of_account]
    centre = centres_of(xyz, np.ones(n), out, k, np.zeros((k, 3)), median=False)
    queues: dict[tuple[int, int], list[tuple[float, int]]] = {}
    for g, accounts in members.items():
        here = xyz[accounts].mean(axis=0)
        a, b = int(current[accounts[0]]), int(proposed[accounts[0]])
        queues.setdefault((a, b), []).append(
            (float(np.linalg.norm(here - centre[b]) - np.linalg.norm(here - centre[a])), g))
    for queue in queues.values():
        queue.sort(reverse=True)  # popped from the end: nearest first
    heads = [(-gain(members[q[-1][1]]), pair) for pair, q in queues.items()]
    heapq.heapify(heads)
    while heads and budget > 0:
        _, pair = heapq.heappop(heads)
        queue = queues[pair]
        accounts = members[queue[-1][1]]
        value = gain(accounts) if len(accounts) <= budget else 0.0
        if value <= 1e-12:
            queue.pop()  # it no longer helps (or does not fit): the next one of the pair
            if queue:
                heapq.heappush(heads, (-gain(members[queue[-1][1]]), pair))
            continue
        if heads and value < -heads[0][0] - 1e-12:  # another pair's next move helps more now
            heapq.heappush(heads, (-value, pair))
            continue
        queue.pop()
        np.add.at(load, current[accounts], -values[accounts])
        np.add.at(load, proposed[accounts], values[accounts])
        out[accounts] = proposed[accounts]
        budget -= len(accounts)
        if queue:
            heapq.heappush(heads, (-gain(members[queue[-1][1]]), pair))
    loads, deviation, max_deviation = job.balance(out)
    kinds = move_kinds(out, current if (current >= 0).any() else None, job.values[:, 0], k, job.target[:, 0],
                       job.tolerance, ())
    return dataclasses.replace(result, territory=out, loads=loads, deviation=deviation, max_deviation=max_deviation,
                               within_tolerance=False, moved_reason=kinds, resited=(), exclaves=())


def _groups(keys: np.ndarray, items: np.ndarray):
    """``(key, items)`` for every distinct key, the items in their order."""
    order = np.argsort(keys, kind="stable")
    keys, items = keys[order], items[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.array([], dtype=int)
    for s, e in zip(starts, np.r_[starts[1:], len(keys)]):
        yield int(keys[s]), items[s:e]
