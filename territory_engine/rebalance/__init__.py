"""Rebalancing: assign accounts (or building blocks) to territories within a balance tolerance.

:func:`design` (``entry.py``) is the entry point; ``pipeline.py`` lists the phases of each
mode, and each phase lives in the module named beside it below. Every tuning number is a field
of :class:`~territory_engine.tuning.Tuning` (``tuning=`` of :func:`design`).

The method ``"balanced"`` works in phases, each named after the literature it draws on:

0. **Units** (``units.py``). Accounts, or building blocks (ZIP, county) that move as one;
   above ``Tuning.max_units`` accounts, small grid cells that never mix current territories
   or locks and never weigh more than ``Tuning.cell_max_share`` of a target.
1. **Centres** (``centres.py``). Rep home bases when given; else the current territories' centres when
   realigning; else a balanced recursive coordinate bisection (Berger & Bokhari 1987).
2. **Realigning a map far out of balance: re-siting** (``resite.py``). When a territory
   holds at least ``Tuning.resite_from`` (1.3) times its target and the room around it, ring by ring of
   neighbouring territories, would take its excess only across several borders, an
   under-served territory (no locks) is re-sited when that moves less: its units go to their
   nearest other territory, and it takes over one end of the overloaded territory (a weighted
   bisection). This is the analyst's "close a starved territory, open one in the metro" (the
   close and open moves of location-allocation heuristics), costed in the same currency as
   the flows below: weight times borders crossed. Not with rep home bases or a move cap;
   ``resite=False`` turns it off.
3. **Realigning: border flows** (``border_flows.py``). Round by round, the units on a border (one of their ten
   nearest units lies in another territory) may move to the territory most of their
   neighbours are in; a small linear programme on the territory graph (a minimum-cost flow,
   one constraint set per constrained measure; Zoltners & Sinha 2005 on realignment) moves
   the least weight that brings every territory into an aim band inside the tolerance, and
   each flow is realised by the units most inside the receiving territory, deeper layers
   following when a flow is larger than the border. Accounts only cross borders, so
   territories stay whole and the moved share stays near the least any border-respecting
   realignment must move. After the repair (phase 5), moved units that most of their
   nearest units surround in one territory go there where the bands allow (back to their old
   territory first: one move fewer each): realising flows with lumpy accounts leaves a few
   such pockets. Then, up to ``Tuning.polish_max_units`` border units (maps of up to a few
   thousand accounts), a border polish re-chooses every border unit's territory at once
   (stay, go back, or join a neighbour's territory): least moved weight, plus a penalty per
   neighbour in another territory and a little for travel, within the bands (a generalised
   assignment problem: linear relaxation, then ``scipy.optimize.milp`` on the units it moves
   or splits; ``polish.py``).
4. **Fresh designs: price assignment** (``prices.py``) (Lagrangian relaxation of the balance constraints;
   Hess et al. 1965, Zoltners & Sinha 1983; Bertsekas' auction for the price updates). Each
   unit goes to the territory with the least ``km to centre - price``, among the nearest few
   centres (a cKDTree candidate list). Additive prices on distances give additively weighted
   Voronoi territories: contiguous and not interleaved. Centres and prices alternate, centres
   moving to each territory's weighted geometric median (Weiszfeld), a descent step on the
   weighted travel (Cooper 1964's location-allocation heuristic with capacities).
5. **Repair** (``local_search.py``). Single moves, then swaps, of units between neighbouring territories that
   reduce the total violation of every constrained measure's band (the weighted mix, and
   each measure on its own when asked), the cheapest in km first.
6. **Improvement** (``local_search.py``; fresh designs, and realignment with a disruption weight below 0.5):
   moves of units to a nearer territory that keep every band, a first-improvement local
   search in the spirit of Ríos-Mercado & Fernández (2009). When realigning, the current
   territory's cost carries a stickiness bonus of ``disruption_weight`` territory radii.
   A fresh design then gets the border polish of phase 3, with each unit's km to its
   territory's centre in place of the moved weight: smoother borders at no cost in travel.
7. **Second opinions** (``opinions.py``; realigning, at any size; above ``Tuning.max_units``
   the fresh design alone): when the realignment
   moved more than ``Tuning.second_opinion_above`` (1.5) times the least any balanced
   alignment must move, or kept a piece apart (a map far out of
   balance, whose excess crosses several borders), re-siting more eagerly is tried, then a
   fresh design whose territories keep the ids of the current ones they overlap most; each
   is kept if it moves less.
8. **Exact stage and pieces** (``transport.py``, ``pieces_phase.py``; the balanced method): a
   transportation LP to the centres, rounded, when a band still fails; then every territory
   brought to one piece with every band kept (joining, rejoining, rebuilding, smoothing and
   swapping pieces; docs/algorithms.md).

``"lagrangian"`` is the plain baseline the benchmark compares against: the price
assignment with squared distances and centroid centres (a balanced k-means/transportation
assignment from iterated centres), also when realigning (with the stickiness bonus),
followed only by the repair so that it honours the same contract.

Both methods keep locked accounts in their current territory, assign every account exactly
once, are deterministic for a given seed, and raise :class:`~territory_engine.errors.DesignInfeasibleError` (carrying the
best alignment found) when the tolerance cannot be met (``checks.py`` finds the reasons that
need no search). New territories take the ids of the current ones they overlap most
(``ids.py``), and every moved account gets its kind of move (``move_kinds.py``).
"""

from .alignment import Alignment
from .ids import keep_current_ids, match_ids
from .entry import design
from .pipeline import METHODS

__all__ = ["METHODS", "Alignment", "design", "keep_current_ids", "match_ids"]
