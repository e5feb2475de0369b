"""Every tuning number of the engine, in one frozen dataclass.

The algorithms take a :class:`Tuning` as their ``tuning`` argument (default
:data:`DEFAULT_TUNING`); a test or a benchmark that wants other numbers passes its own
(``Tuning(max_units=5_000)``, ``dataclasses.replace(DEFAULT_TUNING, polish_max_units=0)``)
instead of patching a module. Each field says what it trades; the benchmark evidence for the
values is in ``tests/benchmarks/README.md``.

Fractions of the tolerance (``*_band``, ``*_aim``) narrow the band a phase aims at, so that
the phases after it keep some slack: nearer 1 moves less now, nearer 0 leaves more room later.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_TUNING", "Tuning"]


@dataclass(frozen=True)
class Tuning:
    """The engine's tuning numbers (see the module docstring)."""

    # --- Rebalancing: units (territory_engine/rebalance/units.py) ---------------------------
    max_units: int = 150_000
    """Above this many accounts, accounts are grouped into grid cells that move as one, and a
    realignment tries no fresh second opinion: higher is finer but slower and hungrier."""
    cell_fill: float = 0.8
    """Grid cells aimed at, as a fraction of ``max_units`` (room for the cells that
    current territories and locks split)."""
    cell_overshoot: float = 1.3
    """A grid with up to this multiple of the cells aimed at is accepted; else the cell side grows."""
    cell_tries: int = 8
    """Grid sides tried before the last one is taken."""
    cell_max_share: float = 0.05
    """No cell weighs more than this share of the smallest target (heavier cells are sliced):
    lower keeps balance reachable, higher keeps fewer units."""
    neighbours: int = 10
    """Nearest units that decide whether a unit is on a border or in a pocket."""

    # --- Rebalancing: centres (territory_engine/rebalance/centres.py) -----------------------
    seeding_sample: int = 20_000
    """k-means++ seeds are drawn from a weighted sample of at most this many units."""
    seeding_floor: float = 0.05
    """Each unit's seeding weight is its own plus this share of the mean, so that weightless
    accounts can still seed a territory."""
    median_steps: int = 4
    """Weiszfeld steps from a territory's centroid towards its weighted geometric median."""
    fresh_rounds: int = 10
    """Rounds of price assignment and centre updates in a fresh design."""
    fresh_first_iterations: int = 30
    fresh_round_iterations: int = 15
    """Price iterations in the first and in each later round of a fresh design."""
    centre_shift_stop: float = 0.005
    """Fresh rounds stop once no centre moves more than this share of a territory radius."""
    candidates: int = 6
    """Nearest territory centres each unit may join in the price assignment and the repair:
    more finds better swaps, fewer is faster."""

    # --- Rebalancing: price assignment (territory_engine/rebalance/prices.py) ---------------
    aim_realign: float = 0.8
    aim_fresh: float = 0.5
    """The price assignment aims at this fraction of the tolerance (realign, fresh)."""
    price_iterations: int = 40
    """Price iterations of the final assignment."""
    price_damping: float = 0.9
    """Share of the computed price step taken (lower is steadier, higher converges sooner)."""
    price_stall: int = 4
    """Iterations without fewer territories out of band before the assignment stops."""
    price_realign_half: float = 0.5
    """When realigning, an out-of-band territory sheds (or draws) only down (up) to this
    fraction of the aim, so that it moves no more than it must."""

    # --- Rebalancing: border flows (territory_engine/rebalance/border_flows.py) -------------
    flow_aim: float = 0.85
    """The border flows aim at this fraction of the tolerance."""
    flow_rounds: int = 60
    """Rounds (border layers) of flows at most."""
    flow_hop_cost: float = 1e-3
    """Extra cost of a flow per mean distance between the centres it joins (prefers near hops)."""
    flow_slack_cost: float = 100.0
    """Cost of leaving a territory out of its aim band, per unit of weight (keeps the LP feasible)."""
    flow_finer_than_units: float = 0.5
    """The flows stop when the units realising them carry less than this share of the flow:
    what is left is finer than whole units, and the repair finishes it."""

    # --- Rebalancing: re-siting (territory_engine/rebalance/resite.py) ----------------------
    resite_from: float = 1.3
    """A territory holding this multiple of its target may be relieved by re-siting a starved one."""
    resite_candidates: int = 12
    """The most under-served territories weighed for each re-site."""
    resite_depth: int = 4
    """Rings of neighbouring territories over which an excess is costed."""
    eager_resite: tuple[float, ...] = (1.5, 2.0)
    """Eagerness of the further re-site tries on a map that moved too much: re-site when that
    is estimated to move less than this multiple of what the border flows would."""

    # --- Rebalancing: local search (territory_engine/rebalance/local_search.py) -------------
    repair_band: float = 0.9
    """The repair first aims at this fraction of the tolerance, then at the whole of it."""
    repair_min_moves: int = 200
    repair_moves_per_unit: int = 2
    """The repair stops after ``max(repair_min_moves, repair_moves_per_unit * units)`` moves."""
    repair_near_gain: float = 0.5
    """Among moves removing at least this share of the best move's violation, the cheapest in
    km is taken (lower favours compactness, higher favours balance)."""
    repair_scan_below: int = 64
    """Below this many territories, an overloaded territory's moves are sought among all its
    units; above, among the units that list it as a candidate."""
    swap_per_side: int = 40
    """Units of each side weighed for a swap."""
    improve_below_disruption: float = 0.5
    """Below this disruption weight a realignment also moves accounts for compactness."""
    improve_band: float = 0.9
    """Improvement moves keep this fraction of the tolerance where the repair left it."""
    improve_passes: int = 3
    settle_band: float = 0.97
    """Pocketed moves are settled (and the border polished) within this fraction of the tolerance."""
    settle_passes: int = 3

    # --- Rebalancing: the border polish (territory_engine/rebalance/polish.py) --------------
    polish_max_units: int = 3_000
    """Border units re-chosen at once at most; above, a realignment keeps the flows' choice
    (0 turns the polish off)."""
    polish_fresh_factor: int = 5
    """A fresh design of more than this multiple of ``polish_max_units`` units is not polished."""
    polish_penalty: float = 0.15
    """Cost, in average units' weight, of each nearest unit in another territory: higher
    gives smoother borders, lower moves less."""
    polish_km_fresh: float = 0.3
    polish_km_realign: float = 3.0
    """A unit's km to its territory's centre costs its weight (in average units) per this many
    typical territory radii, in a fresh design and in a realignment (where moved weight costs
    too): lower weighs travel more."""
    polish_widen: int = 1
    """Layers of neighbours of a moved or split unit that are placed again too."""
    polish_rounds: int = 3
    polish_gap: float = 0.01
    polish_nodes: int = 50
    polish_seconds: float = 60.0
    """The polish's integer programme stops within ``polish_gap`` of its optimum or after
    ``polish_nodes`` branch-and-bound nodes (both deterministic); the time is a safety net."""

    # --- Rebalancing: second opinions (territory_engine/rebalance/pipeline.py) --------------
    second_opinion_above: float = 2.0
    """A realignment that moved more than this multiple of the least any balanced alignment
    must move tries re-siting more eagerly, then a fresh design."""

    # --- Contiguous designs on a graph (territory_engine/contiguous/) -----------------------


DEFAULT_TUNING = Tuning()
"""The tuning every engine function uses unless given another."""
