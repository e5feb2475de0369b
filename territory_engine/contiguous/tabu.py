"""Phase 2, local search: a tabu search on boundary moves, scored by diameters and balance.

After the shift neighbourhood of the VNS of Aly et al. (2024), "An efficient probability-based
VNS algorithm for delivery territory design", Computers & Operations Research, doi
10.1016/j.cor.2024.106756, with Glover's tabu search. Steps of each move:

1. **Candidates**: a move gives one boundary block to a neighbouring territory; when the
   block is a cut vertex of its territory, the branch it cuts off (away from the
   territory's 1-centre) goes with it (:meth:`.state.SearchState.branches`), so both
   territories stay connected even on sparse, tree-like graphs.
2. **Score**: ``largest diameter + alpha * mean diameter + penalty * (balance violation +
   soft * excess over the soft band)``; the soft term keeps loads off the edge of the band,
   where single moves get stuck.
3. **Lazy evaluation**: moves are ranked with cheap bounds and estimates of the diameters,
   and only the best ones are evaluated exactly.
4. **Strategic oscillation**: the penalty weight grows while the alignment is out of
   balance and shrinks while it is in balance.
"""

from __future__ import annotations

import numpy as np

from ..arrays import distinct
from ..clock import SUBGRAPH, budget_clock, spend
from ..tuning import Tuning
from .balance import excess, relative_deviation
from .state import SearchState, score_key

__all__ = ["tabu_search"]


def tabu_search(
    state: SearchState, movable, rng, *, max_iterations, deadline, penalty, stall_limit, on_best, tuning: Tuning
) -> int:
    """Tabu search on boundary moves from ``state`` (modified in place).

    Moves are scored by ``largest diameter + alpha * mean diameter + penalty * (balance
    violation + soft * excess over the soft band)``, with a tabu tenure on the blocks moved,
    aspiration, and a strategic oscillation of the penalty weight (see the module docstring).
    Returns the number of moves made. ``on_best(state)`` is called whenever the alignment
    improves on the best seen in this call (by :func:`~.state.score_key`).

    One function of about 190 lines, on purpose: every step of a move (candidates, cache
    refresh, balance terms, lazy exact evaluation, the move) reads and writes the same dozen
    candidate arrays and caches, so splitting it would pass them all between functions
    without making any step clearer.
    """
    graph, k = state.graph, state.k
    n = graph.n
    tabu_until = np.zeros((n, k), dtype=np.int64)
    # Caches of the removal diameters (per block) and the addition estimates (per block and
    # destination), valid while the versions of the territories involved are unchanged.
    rem_version = np.full(n, -1, dtype=np.int64)
    rem_value = np.zeros(n)
    rem_is_exact = np.zeros(n, bool)
    add_version = np.full((n, k), -1, dtype=np.int64)
    add_source_version = np.full((n, k), -1, dtype=np.int64)
    add_value = np.zeros((n, k))
    add_is_exact = np.zeros((n, k), bool)
    node_ok = np.zeros(n, bool)
    node_end = np.zeros(n, bool)
    node_load = np.zeros((n, state.measures.shape[1]))
    best = score_key(state)
    scale = max(float(np.nanmax(np.where(np.isfinite(state.diam), state.diam, 0))), 1e-9)
    lam = penalty * scale
    iteration = 0
    since_best = 0
    src_all = graph.src
    dst_all = graph.indices
    pad = np.zeros(2)
    while iteration < max_iterations and since_best < stall_limit and iteration < tuning.tabu_round_cap * stall_limit:
        if budget_clock() > deadline:
            break
        spend(SUBGRAPH, len(src_all))  # (the masks over every edge below)
        terr = state.territory
        cross = (terr[src_all] != terr[dst_all]) & movable[src_all]
        keys = distinct(src_all[cross] * k + terr[dst_all[cross]])
        if len(keys) == 0:
            break
        blocks = keys // k
        dest = keys % k
        source = terr[blocks]
        info = {}
        for j in distinct(source).tolist():
            info[j] = state.branches(j, movable)
            node_ok[state.members[j]] = info[j][2]
            node_load[state.members[j]] = info[j][1]
            node_end[state.members[j]] = state.branch_holds_end[j]
        ok = node_ok[blocks]
        if not ok.any():
            break
        keys, blocks, dest, source = keys[ok], blocks[ok], dest[ok], source[ok]
        position = state.pos[blocks]
        moved = [info[i][0][p] for i, p in zip(source.tolist(), position.tolist())]
        mv = node_load[blocks]
        version = state.version
        vi_all = version[source]
        vj_all = version[dest]
        stale = np.flatnonzero(rem_version[blocks] != vi_all)
        if stale.size:
            # A block leaving (with its branch) without either end of its territory's
            # longest path: the diameter is a lower bound (``remove_diameter(exact=False)``)
            # without a call (allowed moves never empty a territory).
            v, i = blocks[stale], source[stale]
            quick = (state.ends[i, 0] >= 0) & ~node_end[v]
            rem_value[v[quick]] = state.diam[i[quick]]
            rem_is_exact[v[quick]] = False
            rem_version[v[quick]] = vi_all[stale[quick]]
            for c in stale[~quick].tolist():
                v = int(blocks[c])
                if rem_version[v] != vi_all[c]:
                    rem_value[v], _, rem_is_exact[v] = state.remove_diameter(v, moved[c], exact=False)
                    rem_version[v] = vi_all[c]
        stale = np.flatnonzero((add_version[blocks, dest] != vj_all) | (add_source_version[blocks, dest] != vi_all))
        if stale.size:
            stale_blocks, stale_dest = blocks[stale], dest[stale]
            for j in distinct(stale_dest).tolist():
                joining = stale_blocks[stale_dest == j]  # distinct: one candidate per (block, j)
                add_value[joining, j] = state.add_estimates(joining, j)
            add_is_exact[stale_blocks, stale_dest] = False
            add_version[stale_blocks, stale_dest] = vj_all[stale]
            add_source_version[stale_blocks, stale_dest] = vi_all[stale]
        rem = rem_value[blocks]
        rem_exact = rem_is_exact[blocks]
        add = add_value[blocks, dest]
        add_exact = add_is_exact[blocks, dest]
        diam = np.concatenate([state.diam, pad])
        top = np.argsort(-diam, kind="stable")[:3]
        other = np.full(len(keys), 0.0)
        for t in top[::-1]:
            other = np.where((source != t) & (dest != t), diam[t], other)
        # The other territories' diameters; one in pieces (infinite) counts 0 there, so that it does
        # not bar every move elsewhere (inf - inf was NaN, and a NaN score no move).
        finite = np.where(np.isfinite(state.diam), state.diam, 0.0)
        diam_base = finite.sum() - finite[source] - finite[dest]
        # Deviations after the move, each computed once for both bands.
        inv_source, inv_dest = state.inv_target[source], state.inv_target[dest]
        dev_source = relative_deviation(state.loads[source] - mv, inv_source)
        dev_dest = relative_deviation(state.loads[dest] + mv, inv_dest)
        new_viol = (
            state.viol.sum()
            - state.viol[source]
            - state.viol[dest]
            + excess(dev_source, state.tolerance)
            + excess(dev_dest, state.tolerance)
        )
        new_viol = np.where(new_viol < 1e-12, 0.0, new_viol)
        # A softer pull towards the middle of the band keeps room for later moves (without
        # it, balance repair parks every load on the edge of the band and gets stuck).
        aim = tuning.contiguous_aim * state.tolerance
        soft_now = state.violation(state.loads, np.arange(k), band=aim)
        new_soft = (
            soft_now.sum()
            - soft_now[source]
            - soft_now[dest]
            + excess(dev_source, aim)
            + excess(dev_dest, aim)
        )
        not_tabu = tabu_until[blocks, dest] <= iteration
        penalty_term = lam * (new_viol + tuning.contiguous_soft * new_soft)
        viol_better = new_viol < best[0] - 1e-12
        viol_level = new_viol <= best[0] + 1e-12

        def scores(idx):
            """Scores of the candidates ``idx`` (inf when not allowed)."""
            new_max = np.maximum(other[idx], np.maximum(rem[idx], add[idx]))
            score = new_max + tuning.tabu_alpha * (diam_base[idx] + rem[idx] + add[idx]) / k + penalty_term[idx]
            # Aspiration: a tabu move is allowed when it gives the best alignment so far.
            better = viol_better[idx] | (viol_level[idx] & (new_max < best[1] - 1e-9))
            allowed = np.isfinite(score) & (not_tabu[idx] | better)
            return np.where(allowed, score, np.inf)

        # Lazy evaluation: a removal's diameter may be a lower bound and an addition's an
        # estimate; the best move so ranked is evaluated exactly until the best is exact
        # (only the scores of the candidates re-evaluated change).
        score = scores(slice(None))
        while True:
            c = int(np.argmin(score))
            found = bool(np.isfinite(score[c]))
            if not found or (rem_exact[c] and add_exact[c]):
                break
            v, j = int(blocks[c]), int(dest[c])
            changed = np.array([c])
            if not rem_exact[c]:
                value = state.remove_diameter(v, moved[c])[0]
                rem_value[v], rem_is_exact[v], rem_version[v] = value, True, vi_all[c]
                changed = np.flatnonzero(blocks == v)
                rem[changed] = value
                rem_exact[changed] = True
            if not add_exact[c]:
                value = state.add_diameter(moved[c], j)[0]
                add_value[v, j], add_is_exact[v, j] = value, True
                add_version[v, j], add_source_version[v, j] = vj_all[c], vi_all[c]
                add[c] = value
                add_exact[c] = True
            score[changed] = scores(changed)
        if not found:
            break
        v, j, i = int(blocks[c]), int(dest[c]), int(source[c])
        state.move(v, moved[c], j)
        tabu_until[moved[c], i] = iteration + int(rng.integers(tuning.tabu_tenure_min, tuning.tabu_tenure_max))
        iteration += 1
        since_best += 1
        key = score_key(state)
        if key < best:
            best = key
            since_best = 0
            on_best(state)
        # Strategic oscillation of the penalty weight.
        if state.viol.sum() > 0:
            lam = min(lam * tuning.penalty_step, tuning.penalty_max * scale)
        else:
            lam = max(lam / tuning.penalty_step, tuning.penalty_min * scale)
    return iteration
