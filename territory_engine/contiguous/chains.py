"""Balance repair by ejection chains: load moved along paths of neighbouring territories.

After Glover (1996), "Ejection chains, reference structures and alternating path methods
for traveling salesman problems", Discrete Applied Mathematics 65. On sparse graphs
territories often touch as a tree, so load must cross several territories to reach one with
room. Steps:

1. **Candidates** (:func:`chain_candidates`): a beam search builds chains forward from a
   territory out of balance and backward into one, ranked on loads only (the balance
   violation plus the soft term).
2. **Application** (:func:`apply_chain`): the moves of a chain are made one by one and kept
   only if every territory stays connected and the violation falls; else undone.
"""

from __future__ import annotations

import numpy as np

from ..arrays import distinct
from ..clock import budget_clock
from ..tuning import Tuning
from .state import SearchState

__all__ = ["apply_chain", "chain_candidates", "chain_repair"]


def chain_repair(state: SearchState, movable, *, tuning: Tuning, deadline: float = np.inf) -> int:
    """Balance repair by ejection chains (in place); returns the moves made.

    A chain gives a block (with its branch) from a territory out of balance to a neighbour
    ``B``, then a block of ``B`` to another neighbour ``C``, and so on (up to ``tuning.chain_depth`` links,
    found by :func:`chain_candidates`), so that load can flow across territories that are
    themselves in balance; chains are ranked on loads only (summed balance violation plus
    the soft term) and kept only if every territory stays connected and the violation
    falls. Single moves are the chains of length one. In the spirit of Glover's (1996)
    ejection chains.
    """
    k = state.k
    graph = state.graph
    aim = tuning.contiguous_aim * state.tolerance
    made = 0

    soft = tuning.contiguous_soft

    def objective(loads, territories):
        return state.violation(loads, territories) + soft * state.violation(loads, territories, band=aim)

    for _ in range(tuning.chain_rounds):
        if state.viol.sum() <= 0 or budget_clock() > deadline:
            break
        terr = state.territory
        per = objective(state.loads, np.arange(k))
        cross = (terr[graph.src] != terr[graph.indices]) & movable[graph.src]
        keys = distinct(graph.src[cross] * k + terr[graph.indices[cross]])
        blocks, dest = keys // k, keys % k
        source = terr[blocks]
        info = {int(j): state.branches(int(j), movable) for j in range(k)}
        position = state.pos[blocks]
        ok = np.array([info[int(i)][2][p] for i, p in zip(source, position)], dtype=bool)
        blocks, dest, source, position = blocks[ok], dest[ok], source[ok], position[ok]
        mv = np.array([info[int(i)][1][p] for i, p in zip(source, position)]).reshape(-1, state.loads.shape[1])
        chains = chain_candidates(
            state.loads, per, source, dest, mv, state.viol, objective, depth=tuning.chain_depth, beam=tuning.chain_beam
        )
        chains.sort(key=lambda x: -x[0])
        applied = False
        for _, chain in chains[: tuning.chain_tries]:
            if apply_chain(state, chain, blocks, dest, source, movable, objective):
                made += len(chain)
                applied = True
                break
        if not applied:
            break
    return made


def chain_candidates(loads, per, source, dest, mv, viol, objective, *, depth: int, beam: int):
    """Improving chains of moves along paths of neighbouring territories (beam search).

    Forward chains start with a move out of a territory out of balance and continue with a
    move out of the territory that just received; backward chains end with a move into a
    territory out of balance and are extended at their start. On sparse graphs the
    territories touch along few borders (often a tree of territories), so load must cross
    several territories to reach one with room. Returns ``(gain, moves)`` pairs, where a
    move is an index into the candidate arrays, in the order to make them.
    """
    out = []
    by_source = {int(j): np.flatnonzero(source == j) for j in distinct(source)}
    by_dest = {int(j): np.flatnonzero(dest == j) for j in distinct(dest)}
    for forward in (True, False):
        starts = np.flatnonzero(viol[source if forward else dest] > 0)
        # A partial chain: (moves, touched loads {territory: load}, visited, end territory).
        level = []
        for c in starts:
            i, b = int(source[c]), int(dest[c])
            touched = {i: loads[i] - mv[c], b: loads[b] + mv[c]}
            level.append(((int(c),), touched, {i, b}, b if forward else i))
        for _ in range(depth):
            scored = []
            for moves, touched, visited, end in level:
                ts = np.array(list(touched))
                gain = per[ts].sum() - objective(np.array([touched[t] for t in ts]), ts).sum()
                if gain > 1e-12:
                    out.append((float(gain), moves if forward else moves[::-1]))
                scored.append((gain, moves, touched, visited, end))
            nxt = []
            for gain, moves, touched, visited, end in scored:
                pool = by_source.get(end, ()) if forward else by_dest.get(end, ())
                if len(pool) == 0:
                    continue
                pool = np.asarray(pool)
                far = dest[pool] if forward else source[pool]
                pool = pool[~np.isin(far, list(visited))]
                if len(pool) == 0:
                    continue
                far = dest[pool] if forward else source[pool]
                sign = -1.0 if forward else 1.0
                end_load = touched[end] + sign * mv[pool]
                far_load = loads[far] - sign * mv[pool]
                others = per[list(touched)].sum() - objective(
                    np.array([touched[t] for t in touched if t != end]).reshape(-1, loads.shape[1]),
                    np.array([t for t in touched if t != end], dtype=np.int64),
                ).sum()
                g = (
                    others
                    + per[end] + per[far]
                    - objective(end_load, np.full(len(pool), end))
                    - objective(far_load, far)
                )
                for m in np.argsort(-g)[:beam]:
                    t = int(far[m])
                    new_touched = dict(touched)
                    new_touched[end] = end_load[m]
                    new_touched[t] = far_load[m]
                    nxt.append((float(g[m]), moves + (int(pool[m]),), new_touched, visited | {t}, t))
            nxt.sort(key=lambda x: -x[0])
            level = [(m, tch, vis, e) for _, m, tch, vis, e in nxt[: beam * max(1, len(starts))]]
            if not level:
                break
        for moves, touched, visited, end in level:
            ts = np.array(list(touched))
            gain = per[ts].sum() - objective(np.array([touched[t] for t in ts]), ts).sum()
            if gain > 1e-12:
                out.append((float(gain), moves if forward else moves[::-1]))
    return out


def apply_chain(state: SearchState, chain, blocks, dest, source, movable, objective) -> bool:
    """Make the moves of a chain; undo them and return False unless the balance improved."""
    k = state.k
    before = objective(state.loads, np.arange(k)).sum()
    done = []
    for c in chain:
        v, j = int(blocks[c]), int(dest[c])
        if state.territory[v] != source[c]:
            break
        moved, _, allowed = state.branches(int(source[c]), movable)
        p = state.pos[v]
        if not allowed[p]:
            break
        nodes = moved[p]
        if not np.isfinite(state.remove_diameter(v, nodes)[0]) or not np.isfinite(state.add_diameter(nodes, j)[0]):
            break
        done.append((v, nodes, int(source[c])))
        state.move(v, nodes, j)
    after = objective(state.loads, np.arange(k)).sum()
    if len(done) == len(chain) and after < before - 1e-12:
        return True
    for v, nodes, home in reversed(done):
        state.move(v, nodes, home)
    return False
