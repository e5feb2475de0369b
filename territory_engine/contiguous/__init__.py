"""Contiguous territories built from building blocks on a graph, minimising the largest diameter.

The problem is the commercial (delivery) territory design problem of Ríos-Mercado &
Fernández (2009), "A reactive GRASP for a commercial territory design problem with multiple
balancing requirements", Computers & Operations Research 36(3), in the min-max diameter form
studied by Aly et al. (2024), "An efficient probability-based VNS algorithm for delivery
territory design", Computers & Operations Research, doi 10.1016/j.cor.2024.106756, and by
Pereira & Vilà, "An efficient large neighborhood search method for a delivery territory
design problem" (submitted to Computers & Operations Research):

- the building blocks are the nodes of an undirected graph whose edges carry a distance;
- every territory must be connected in the graph;
- every measure of every territory must lie within ``±tolerance`` of its target;
- minimise the largest diameter, a territory's diameter being its longest shortest path
  on the subgraph induced by the territory.

The method has three phases, named after those papers:

1. **Construction** (:mod:`.construction`, after the balanced growth of Ríos-Mercado &
   Fernández's GRASP).
   ``k`` seeds spread out (weighted k-means on ``coords`` when given, else farthest-point
   seeding on graph distances); blocks go to the seed nearest in graph distance less a
   price per territory, prices moving until the mean measure share is balanced
   (additively weighted graph Voronoi cells are connected); seeds move to their
   territory's graph 1-centre and the prices are found again (Lloyd-style). Blocks cut off
   by ties are regrown one at a time: the territory with the smallest load takes its
   unassigned neighbouring block nearest to its seed. A warm start or locked blocks skip
   the Voronoi step and use the growth alone.
   **Balance repair** (:mod:`.balance_search`, feasibility first): when the construction is
   out of balance, a tabu search on loads only (no diameters) moves connected sets across borders: with a
   depth-first search of a territory rooted at a block next to a neighbour, that
   neighbour may take any branch, or everything but a branch, so load moves in fine steps
   even on tree-like graphs (:mod:`.branches`). When no move improves, it tries a
   recombination (:mod:`.recombination`) of the territory furthest out of balance with each
   neighbour (DeFord, Duchin & Solomon 2021:
   merge the two, cut a random spanning tree of the union at its best edge), then swaps
   (a set each way, trading one measure for another), then the move that best follows a
   balancing flow (a linear program per measure on the graph of territories), so that
   load crosses territories that are themselves in balance. While the alignment stays out
   of balance, fresh constructions from new seeds are repaired in turn, within half of the
   time budget, keeping the one closest to balance (the sticking points differ from start
   to start). The repair runs again from the best alignment whenever the search below ends
   a round out of balance.
2. **Local search** (:mod:`.tabu`: a tabu search on boundary moves, as in the shift
   neighbourhood of the VNS of Aly et al.). A move gives one boundary block to a neighbouring territory; when
   the block is a cut vertex of its territory, the branch it cuts off (away from the
   territory's 1-centre) goes with it, found by one depth-first search per territory
   (Hopcroft & Tarjan's low points), so both territories stay connected even on sparse,
   tree-like graphs. Moves are scored by ``largest diameter + alpha * mean diameter +
   penalty * (balance violation + soft * excess over half the tolerance)``; the penalty
   weight follows a strategic oscillation (it grows while the alignment is out of balance
   and shrinks while it is in balance), and the soft term keeps loads off the edge of the
   band, where single moves get stuck (:mod:`.balance`). Diameters are maintained
   incrementally (:mod:`.state`, on the graph of :mod:`.graph`): adding a
   block updates the territory's all-pairs distance matrix in ``O(s^2)``; removing one is
   ``O(s^2)`` unless it lies on a shortest path, when the territory's distances are
   recomputed (Floyd–Warshall, ``O(s^3)``). Moves are ranked with cheap bounds and
   estimates and only the best ones are evaluated exactly (lazy evaluation).
3. **Large neighbourhood search** (:mod:`.lns`, the destroy-and-repair of Pereira & Vilà,
   driven by :mod:`.design`): when a tabu
   round stalls, the search restarts from the best alignment found. If that is out of
   balance, ejection chains (:mod:`.chains`, Glover 1996) first move load along paths of neighbouring
   territories: on sparse graphs territories often touch as a tree, so load must cross
   several territories to reach one with room. Otherwise (or when no chain helps) the
   worst territory (the most out of balance, or else the one with the largest diameter)
   and one to three neighbours are dissolved and regrown as priced graph-Voronoi cells
   around new far-apart seeds, as in phase 1; the tabu search then continues from there.
   Rounds are short (``60 + n / k`` moves without improvement), so that many restarts fit
   in the budget. When the alignment is in balance and three rounds in a row bring no
   improvement, the search starts again from a fresh construction (within the first 70%
   of the time budget, and only when nothing is locked or given), keeping the best
   alignment found (a multi-start).

The search stops after ``time_limit_s`` seconds or ``max_iterations`` moves, whichever
comes first; for a given seed and a given iteration budget the result does not depend on
the machine's speed. Under :func:`design_blocks` its seconds are counted work
(:mod:`territory_engine.clock`), so a block design does not depend on it either. :func:`design_blocks` (:mod:`.blocks`) is the entry for building blocks
(counties, ZIP areas, states): groups of blocks joined to no other, and large maps, cut into
regions of whole territories (:mod:`.regions`); realignment with few block moves
(:mod:`.realign`: least flows between neighbouring territories, :mod:`.flow_repair`, then the
undo step, :mod:`.undo`); rep bases; proofs when balance is impossible
(:mod:`.block_proofs`); and, on small maps where the search ends out of balance without a proof,
an exact stage (:mod:`.exact`: integer programs with HiGHS) that finds a balanced connected
alignment or proves that none exists. Inputs are checked by :mod:`.validation`; every tuning number named
above is a field of :class:`~territory_engine.tuning.Tuning` (the ``tuning`` argument).
"""

from .blocks import BlockDesign, design_blocks
from .block_proofs import forced_deviation
from .design import ContiguousResult, Progress, connect_balance, design_contiguous
from .graph import Graph, territory_diameters
from .recombination import random_spanning_tree
from .state import SearchState

__all__ = [
    "BlockDesign",
    "ContiguousResult",
    "Graph",
    "Progress",
    "SearchState",
    "connect_balance",
    "design_blocks",
    "design_contiguous",
    "forced_deviation",
    "random_spanning_tree",
    "territory_diameters",
]
