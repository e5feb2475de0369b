"""Phase 3, large neighbourhood search: dissolve the worst territory and its neighbours, regrow.

The destroy-and-repair of Pereira & Vilà, "An efficient large neighborhood search method for
a delivery territory design problem" (submitted to Computers & Operations Research). Steps:

1. **Destroy**: the worst territory (the most out of balance while the alignment is out of
   balance, else the one with the largest diameter) and one to ``tuning.lns_neighbours`` of
   its neighbours lose their free blocks.
2. **Seeds**: farthest-point seeding restricted to their union, on its induced subgraph
   (:func:`~.construction.farthest_seeds`).
3. **Regrow**: priced graph-Voronoi cells inside the union, seeds moving to their
   territory's 1-centre, as in the construction (:func:`~.construction.priced_voronoi`).
"""

from __future__ import annotations

import numpy as np

from ..arrays import distinct
from ..tuning import Tuning
from .construction import farthest_seeds, priced_voronoi
from .graph import Graph
from .state import SearchState

__all__ = ["destroy_regrow"]


def destroy_regrow(
    graph: Graph, adjacency, state: SearchState, fixed, unit_share, targets, rng, k, tolerance, *, tuning: Tuning
) -> np.ndarray:
    """Dissolve the worst territory and one to three of its neighbours; regrow them.

    Returns the new alignment (the other territories and the locked blocks are unchanged).
    """
    terr = state.territory
    # The territory furthest out of balance while the best alignment is out of balance,
    # else the one with the largest diameter.
    focus = state.viol if state.viol.sum() > 0 else np.where(np.isfinite(state.diam), state.diam, 1e300)
    worst = int(np.argmax(focus + rng.random(k) * 1e-12 * (1 + focus.max())))
    cols = graph.neighbours_of(state.members[worst])
    neighbours = distinct(terr[cols])
    neighbours = neighbours[neighbours != worst]
    size = min(len(neighbours), int(rng.integers(1, tuning.lns_neighbours + 1)))
    chosen = [worst] + list(rng.choice(neighbours, size=size, replace=False)) if size else [worst]
    chosen = np.array(chosen, dtype=np.int64)
    dissolved = np.isin(terr, chosen) & ~fixed
    partial = terr.copy()
    partial[dissolved] = -1
    union = np.flatnonzero(np.isin(terr, chosen))
    # New seeds: farthest-point seeding restricted to the union, on its induced subgraph.
    picks = farthest_seeds(adjacency[union][:, union], len(chosen), rng, unreachable_first=False)
    # Each chosen territory starts again from one new seed (or from its locked blocks).
    seeds = np.zeros(k, dtype=np.int64)
    for j, s in zip(chosen, union[picks]):
        own = np.flatnonzero(partial == j)
        if len(own):
            seeds[j] = own[0]
        elif partial[s] < 0:
            partial[s] = j
            seeds[j] = s
        else:
            s = union[np.flatnonzero(partial[union] < 0)[0]]
            partial[s] = j
            seeds[j] = s
    # Regrow as priced graph-Voronoi cells inside the union (as in the construction), with
    # seeds moving to their territory's 1-centre.
    return priced_voronoi(graph, adjacency, partial, seeds, unit_share, targets, fixed, k, tolerance,
                          rounds=tuning.lns_regrow_rounds, tuning=tuning, growing=chosen, region=union)
