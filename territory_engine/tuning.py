"""Every tuning number of the engine, in one frozen dataclass (the block designs' numbers in its
base class, tuning_blocks.py, so that each file stays small).

The algorithms take a :class:`Tuning` as their ``tuning`` argument (default
:data:`DEFAULT_TUNING`); a test or a benchmark that wants other numbers passes its own
(``Tuning(max_units=5_000)``, ``dataclasses.replace(DEFAULT_TUNING, polish_max_units=0)``) instead of
patching a module. Each field says what it trades; the evidence is in ``tests/benchmarks/README.md``.

Fractions of the tolerance (``*_band``, ``*_aim``) narrow the band a phase aims at, so that
the phases after it keep some slack: nearer 1 moves less now, nearer 0 leaves more room later.
"""

from __future__ import annotations

from dataclasses import dataclass

from .tuning_blocks import BlockTuning

__all__ = ["DEFAULT_TUNING", "Tuning"]


@dataclass(frozen=True)
class Tuning(BlockTuning):
    """The engine's tuning numbers (see the module docstring); those of block designs are
    :class:`~.tuning_blocks.BlockTuning`'s."""

    # --- Rebalancing: units (territory_engine/rebalance/units.py) ---------------------------
    max_units: int = 150_000
    """Above this many accounts, accounts are grouped into grid cells that move as one, and a
    realignment's second opinion is the fresh design alone: higher is finer but slower and hungrier."""
    cell_fill: float = 0.8
    """Grid cells aimed at, as a fraction of ``max_units`` (room for cells that territories and locks split)."""
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
    """Each unit's seeding weight is its own plus this share of the mean (weightless accounts can seed too)."""
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
    eager_resite: tuple[float, ...] = (0.0, 1.5, 2.0)
    """Eagerness of the further re-site tries on a map that moved too much: re-site when that
    is estimated to move less than this multiple of what the border flows would (0: not at
    all, for a re-sited map whose flows would have moved less than the estimate said)."""

    # --- Rebalancing: local search (territory_engine/rebalance/local_search.py) -------------
    repair_band: float = 0.9
    """The repair first aims at this fraction of the tolerance, then at the whole of it."""
    repair_min_moves: int = 200
    repair_moves_per_unit: int = 2
    """The repair stops after ``max(repair_min_moves, repair_moves_per_unit * units)`` moves."""
    repair_moves_before_exact: float = 0.05
    """Where the exact stage follows (the balanced method), the repair stops after
    ``max(repair_min_moves, this * units)`` moves instead: a repair that grinds is slower than
    the transportation LP that finishes the job."""
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
    """Passes of improvement moves over every unit (more passes, smoother but slower)."""
    settle_band: float = 0.97
    """Pocketed moves are settled (and the border polished) within this fraction of the tolerance."""
    settle_passes: int = 3
    """Passes of settling pocketed moves (each pass may free room for the next)."""

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
    """Rounds of the polish at most (each re-counts the neighbours at the new borders)."""
    polish_gap: float = 0.01
    polish_nodes: int = 50
    polish_seconds: float = 10.0
    """The polish's integer programme stops within ``polish_gap`` of its optimum or after
    ``polish_nodes`` branch-and-bound nodes (both deterministic); the time is a safety net (8 stress
    maps of 200-10,000 accounts: 3.9 s at most; 600 accounts in 120 territories: 20 s, no answer)."""

    # --- Rebalancing: second opinions (territory_engine/rebalance/pipeline.py) --------------
    second_opinion_above: float = 1.5
    """A realignment that moved more than this multiple of the least any balanced alignment
    must move tries re-siting more eagerly, then a fresh design."""
    pieces_trade_moved: float = 2.0
    """A re-sited opinion that keeps fewer pieces apart replaces the realignment even when it
    moves more, up to this multiple of the least any balanced alignment must move (the stress
    family's target for moves; opinions.py)."""
    fresh_always_units: int = 20_000
    """Up to this many accounts a realignment always tries the fresh design too (and keeps it
    when it moves less, or as much and is more compact): safer, but twice the work."""
    fresh_trade_moved: float = 0.1
    fresh_trade_km: float = 0.75
    """The fresh design (opinions.py) also replaces a realignment it does not beat on moves when
    it moves at most ``fresh_trade_moved`` more of the balance measure (relative: 0.1 is a tenth
    more) and its mean km to the territory centres is at most ``fresh_trade_km`` of the
    realignment's. Moving as little as possible kept messy shapes a user would not accept: a
    500-account hand-drawn California map (stress family, seed 2) realigned moving 41.5% of the
    potential with a territory snaking 900 km from San Diego to Sacramento (mean 193 km), where
    the fresh design moved 44.7% at 100 km. It also replaces one it moves at most
    ``fresh_trade_moved`` more than when it is no farther and keeps the interleaving target
    (``rejoin_max_interleaving``) the realignment misses (a 100-account hand map, seed 5: 43.7%
    moved, 101 km, 9% interleaved; the fresh design 45.0%, 81 km, 4%)."""
    fresh_give_up: float = 1.25
    """On maps of more than ``fresh_always_units`` accounts, a fresh design whose fast stages
    already move more than this times what it may move to be taken (``1 + fresh_trade_moved``
    times the realignment's) is not finished: the full sheet's exact stage alone took 66 s. (The
    exact stage and the pieces moved the final share 0.53-2.40x what the fast stages moved on a
    review's 1,133 fresh designs of 80-5,000 accounts, one of 80 a design that was taken, hence
    never on small maps.)"""

    # --- Rebalancing: the exact last stage (territory_engine/rebalance/transport.py) ---------
    exact_candidates: int = 8
    """Nearest territory centres each unit may join in the transportation LP (besides its
    current and its proposed territory); doubled while the LP is infeasible."""
    exact_reach: float = 1.5
    exact_reach_most: float = 12.0
    """Each territory is also offered to the units nearest its centre that weigh ``exact_reach``
    of its targets (transport.py ``_reach``), doubled up to ``exact_reach_most`` while the LP is
    infeasible, before more centres are offered to every unit. Territories on an island short of
    load are then offered the nearest mainland units without offering every territory to every
    unit (the full-sheet `islands` map: Hawaii's two territories hold 1.54 targets; the
    candidates per unit stopped doubling at ``exact_max_pairs`` and balance was not found)."""
    exact_max_units: int = 12_000
    """Above this many free units the LP first runs on grid cells of them (then on the units of
    the cells it splits): higher is finer but slower."""
    exact_max_pairs: int = 2_000_000
    """Largest number of (unit, territory) variables of one LP: the candidates stop doubling here."""
    exact_aim: float = 0.8
    """The LP keeps every load within this share of the tolerance, leaving the rounding room."""
    exact_round_units: int = 600
    """Most units in the rounding MILP (the split ones, then the cheapest to move): more finds a
    rounding more often, fewer is faster."""
    exact_retry_aims: tuple[float, ...] = (0.4, 0.1)
    """When no rounding is found, the stage runs again with the LP aimed at these shares of the
    tolerance in turn: each try leaves lumpy units more room, and costs one more solve."""
    exact_round_gap: float = 0.05
    """The rounding MILP stops within this relative gap of its optimum (any rounding in the band
    will do; the cost only breaks ties)."""
    cap_witness_tries: int = 4
    """Caps tried (geometrically) for the share a ``move_cap_whole`` message suggests (pipeline.py)."""
    exact_seconds: float = 60.0
    exact_cost_seconds: float = 60.0
    """Time limit of one LP or MILP solve (HiGHS), in seconds; of a rounding MILP weighing the
    costs, ``exact_cost_seconds``: out of it, any rounding in the band is looked for instead."""
    exact_presolve: bool = False
    """Whether HiGHS presolves the transportation LP. On a full-sheet ``duplicates`` map's LPs
    (41,000-186,000 variables) presolving took 1.3-1.5x the time and 1.2-1.4x the memory of
    solving directly, with the same optimum (one row per unit and per band: little to remove)."""
    rejoin_rounds: int = 4
    """Rounds of moving the extra pieces that balance keeps apart and re-solving the LP around
    them (territory_engine/rebalance/rejoin.py): more joins more pieces, each round costs an LP."""
    rejoin_max_interleaving: float = 0.05
    rejoin_interleaving_per_piece: float = 0.0025
    """A rejoin round is kept only while at most ``rejoin_max_interleaving`` of the units sit
    among another territory's, or that share rises by at most ``rejoin_interleaving_per_piece``
    per piece joined: a few joined pieces are not worth ragged borders, many are."""
    rejoin_link_nodes: int = 20
    """A piece stuck for balance is linked back to its territory (rejoin.links) by at most this
    many nodes of other territories, when they weigh less than the piece; else it moves away."""
    rejoin_link_tries: int = 3
    """Paths tried per piece for that link: a path that, with the parts of other territories it
    cuts off, weighs as much as the piece is tried again around its nodes."""
    rejoin_link_first_limit: float = 1 / 16
    rejoin_link_limit_growth: float = 4.0
    """The link's search (rejoin._nearest_home) stops first at this share of the piece's weight,
    then at this many times more, up to the whole: the same link, found nearer the piece."""
    rejoin_max_pairs: int = 1_000_000
    """The rejoin's exact stage gets this as its ``exact_max_pairs``: its candidates stop
    widening here, and its LP on the units (after one on grid cells finds no balance) is tried
    only when the units times ``exact_candidates`` fit in it (a first LP may still exceed it by
    the units' own territories and the nearest units offered to each territory). The rejoin is
    worth trying, not worth any price. On the full sheet with rep bases its
    LP on grid cells found no balance, and the LP on 142,385 units that followed ran 40 s and
    took memory to 2.9 GB, to find none either."""
    rejoin_stay: float = 1.0
    """In the rejoin LP, a unit's leaving its territory costs this many territory radii more: higher
    keeps more of the smoothed borders, lower rebalances more freely around the moved pieces."""
    exact_stay_km: float = 1e-3
    """Tie-break cost (km per unit of weight) of a unit's leaving the territory the fast phases
    gave it, so that among equal LP optima the fewest units change."""
    split_proof_cells: int = 5_000
    split_proof_seconds: float = 30.0
    """A design left out of balance without a proof asks an integer programme whether any split of
    its units balances, ignoring geography (rebalance/split_proof.py), on maps of at most this many
    units times territories, for at most this long: 80 accounts in 23 territories proved
    impossible in 31 s (no answer is no proof: the reason stays unproven)."""

    # --- Contiguous designs on a graph (territory_engine/contiguous/) -----------------------
    contiguous_seeding_floor: float = 0.05
    """Each block's k-means++ seeding weight is its own plus this share of the mean, so that
    weightless blocks can still seed a territory (construction.py)."""
    contiguous_kmeans_iterations: int = 10
    """Weighted Lloyd steps after the k-means++ start, before seeds snap to blocks."""
    voronoi_rounds: int = 4
    """Rounds of priced graph-Voronoi assignment and seed moves to the 1-centres in a
    construction: more gives more compact starts, fewer is faster."""
    voronoi_iterations: int = 60
    """Price (subgradient) iterations per Voronoi round at most."""
    voronoi_step_decay: float = 0.95
    """Factor of the price step per iteration (lower is steadier, higher moves further)."""
    voronoi_band: float = 0.5
    """The price loop stops once every mean measure share is within this fraction of the tolerance."""
    balance_time_share: float = 0.5
    """Share of the time budget the first balance repair (and its fresh restarts) may use."""
    balance_restarts: int = 8
    """Fresh constructions repaired in turn at most while the first repair stays out of balance."""
    balance_moves: int = 2000
    balance_repair_moves: int = 400
    """Moves of the balance search after the construction, and when repairing the best
    alignment between search rounds: more repairs harder cases, fewer leaves time to the search."""
    balance_stall: int = 100
    """Balance-search moves without improvement before it stops."""
    balance_soft_stall: int = 20
    """Once in balance, moves without a better soft term before the balance search stops."""
    contiguous_aim: float = 0.5
    """The soft balance band, as a fraction of the tolerance: loads are pulled towards it so
    that they keep room for later moves (nearer 0 pulls harder towards the targets)."""
    contiguous_soft: float = 0.3
    """Weight of the excess over the soft band, relative to the excess over the tolerance."""
    recombination_trees: int = 12
    """Random spanning trees cut per recombination of two territories (more finds better splits, slower)."""
    swap_limit: int = 80
    """Lightest candidate transfers of each direction weighed for a swap between two territories."""
    swap_tries: int = 5
    """Best improving swaps tried (for connectivity) per stuck balance-search move."""
    tabu_tenure_min: int = 7
    tabu_tenure_max: int = 17
    """A moved block may not return for ``rng.integers(tabu_tenure_min, tabu_tenure_max)``
    moves (the upper bound excluded): longer tenures diversify, shorter intensify."""
    tabu_alpha: float = 0.1
    """Weight of the mean diameter beside the largest diameter in the search's score."""
    penalty_start: float = 2.0
    """Balance penalty weight at the start of a tabu round (per unit of violation, in units of
    the largest diameter at the start of the round)."""
    penalty_min: float = 0.05
    penalty_max: float = 1e4
    penalty_step: float = 1.05
    """Bounds of the balance penalty weight and its factor per move (strategic oscillation:
    it grows while out of balance, shrinks while in balance)."""
    tabu_round_base: int = 60
    """A tabu round stops after ``tabu_round_base + n // k`` moves without improvement: short
    rounds leave time for more destroy-and-regrow restarts, longer ones search deeper."""
    tabu_round_cap: int = 4
    """A tabu round makes at most this multiple of its stall limit in moves."""
    chain_depth: int = 4
    chain_beam: int = 3
    chain_tries: int = 30
    """Ejection chains: most links, partial chains kept per start, chains tried per repair move."""
    chain_rounds: int = 60
    """Ejection-chain repair moves at most per repair."""
    lns_neighbours: int = 3
    """A destroy step dissolves the worst territory and one to this many of its neighbours."""
    lns_regrow_rounds: int = 3
    """Priced graph-Voronoi rounds when regrowing the dissolved territories."""
    stagnant_rounds: int = 3
    fresh_share: float = 0.7
    """Rounds in a row without improvement (with the alignment in balance) before a fresh
    construction, and the share of the time budget after which none starts."""

    # --- One piece per territory (issue 11, section 3): territory_engine/contiguity.py and
    # territory_engine/rebalance/pieces.py ---------------------------------------------------
    contiguity_neighbours: int = 6
    """A node's local spacing is the median great-circle distance to this many nearest other
    nodes: more smooths the spacing over a wider area (a lone coastal town borrows the
    spacing of its inland neighbours), fewer follows the density more closely."""
    contiguity_factor: float = 3.0
    contiguity_floor_km: float = 60.0
    """An adjacency edge is cut (open water, a long empty stretch) when it is longer than
    ``contiguity_factor`` times the smaller local spacing of its two ends and longer than
    ``contiguity_floor_km``: a lower factor or floor cuts more (bays, deserts become borders),
    a higher one bridges more (lakes and gulfs stop separating pieces)."""
    join_rounds: int = 20
    """Rounds at most of moving extra pieces to a neighbouring territory: more joins long
    chains of pieces that free each other in turn, fewer bounds the time (about 0.1 s a round per 20,000 units)."""

    sliver_rounds: int = 3
    """Rounds of joining, on the accounts, the pieces smaller than a grid cell (maps above
    ``max_units``; territory_engine/rebalance/pieces_phase.py ``slivers_phase``): each round costs
    about a second per million accounts, and most slivers join in the first."""
    swap_max_nodes: int = 1_000
    swap_passes: int = 3
    swap_rotations: int = 3
    """Nodes at most that a full neighbour hands back for a piece it takes (rebalance/swap.py):
    more swaps heavier pieces, each costing a search of that many nodes (at 400, a piece of 42%
    of a target, 479 accounts, stayed apart on 100,000 accounts with islands); rounds at most of
    swapping and joining again (most pieces swap in the first); and the territories (most room
    first) tried as the third: the one that takes the neighbour's peel when the piece's territory
    can afford to lose the piece but cannot take the peel back, or the third of a rotation when
    it cannot afford to lose it (each rotation try costs two such searches)."""
    swap_chain: int = 6
    """When no swap or rotation fits (every territory around the piece at the top of its band),
    the neighbour's excess passes on along a chain of up to this many bordering territories, each
    handing the next a peel, to the nearest with room (the ``swap_rotations`` nearest such ends
    tried): longer chains reach further but move more (each link moves about the piece's load
    once). On a full sheet with thousands of accounts at ZIP centroids, chains of 1-4 links joined
    3 of the 7 pieces kept apart, every territory around them at the top of its band."""
    connect_max_units: int = 5_000
    connect_seconds: float = 5.0
    """When pieces that balance keeps apart remain, maps up to ``connect_max_units`` units are
    rebuilt as connected territories around each territory's largest piece and rebalanced by
    the contiguous engine's repair (territory_engine/rebalance/connect.py), for at most
    ``connect_seconds``: larger bounds connect bigger maps at the cost of time (the repair is
    a tabu search whose moves cost about ``units / 1000`` ms each)."""
    connect_local_seconds: float = 8.0
    connect_local_try_seconds: float = 2.0
    connect_window_nodes: int = 600
    connect_window_cap: int = 8
    connect_window_room: float = 0.3
    """Above ``connect_max_units`` (while the units are accounts), each stuck piece is rebuilt
    in a window of at least ``connect_window_nodes`` nodes around it (at most
    ``connect_window_cap`` times that), grown until its territories' summed load leaves
    ``connect_window_room`` of the tolerance around their shared target
    (territory_engine/rebalance/connect_local.py); each window's repair runs at most
    ``connect_local_try_seconds``, all of them ``connect_local_seconds``: larger windows join
    pieces that need load from further away, at more time per window."""
    base_blocks: int = 3_000
    base_blocks_seconds: float = 30.0
    base_blocks_per_territory: int = 100
    base_blocks_again_share: float = 0.5
    """With rep home bases, above ``connect_max_units`` units (while the units are accounts), a
    result left in pieces is realigned by the block engine on about ``base_blocks`` micro-blocks
    of nearby accounts, for at most ``base_blocks_seconds``
    (territory_engine/rebalance/connect_bases.py): more blocks are finer (borders, balance) but
    slower; 10,000 accounts with the West starved took 25 s on 2,634 blocks. 0 seconds: not
    tried. Tried only when the blocks give each territory at least
    ``base_blocks_per_territory`` of them: 100,000 accounts in 200 territories (15 blocks each,
    each about 7% of a target) failed both designs in 32 s; 10,000 in 10 (260 each) balanced.
    Values between were not measured. Below ``connect_max_units`` (after the whole-map rebuild)
    only for a heavy piece apart (``base_blocks_small_apart``): it joined a 1,000-account map's
    "rep base" piece, but on small test maps that cannot be joined it spent its whole time limit
    each pass (the property tests 9x slower). Its second design, with the locks carrying no load,
    runs only when at least ``base_blocks_again_share`` of the time is left (the first failed with
    a proof, not after searching), in the time left."""
    base_forest_blocks: int = 20_000
    base_forest_blocks_large: int = 5_000
    base_forest_aim: float = 0.9
    base_forest_max_nodes: int = 200_000
    base_forest_flow_rounds: int = 40
    base_forest_patience: int = 8
    base_forest_clamps: tuple = (None, 0.8)
    base_forest_tries: int = 16
    base_forest_probe: int = 4
    base_forest_stuck: float = 0.1
    """With rep home bases and pieces left apart, territories are first grown from their bases
    along shortest paths (territory_engine/rebalance/base_forest.py): its prices come from a
    transportation LP on about ``base_forest_blocks`` micro-blocks (``base_forest_blocks_large``
    on maps of more distinct coordinates: at 100,000 the LP on 20,000 blocks took 48 s, on 5,000
    about 5 s), every band held at ``base_forest_aim`` of the tolerance. Then up to
    ``base_forest_flow_rounds`` rounds of flows between territories, stopped after
    ``base_forest_patience`` rounds without a lower summed excess; each set of prices in turn,
    the LP's own, then held within ``base_forest_clamps`` x the km between two bases (bases
    100,000, k = 100, scratch on today's alignment: the LP's prices balanced seeds 1, 2, 3, 5, 6
    at 1baf096, held at 0.8 seeds 1, 2, 5, 6 before it; seed 4 neither). Where every subtree at a
    border is too heavy, a border node goes with only what depends on it: the lightest fitting
    such set among the ``base_forest_tries`` border nodes that lengthen paths least; a border is
    left out of the next flow when neither a subtree nor the cut of one of ``base_forest_probe``
    such nodes fits its giver's band, or when a round left more than ``base_forest_stuck`` of its
    flow undone. Tried on maps of at most ``base_forest_max_nodes`` distinct coordinates."""
    rebuild_lock_apart: float = 0.01
    """A piece of locked accounts starts the rebuilds above (territory_engine/rebalance/pieces_phase.py)
    when the unlocked accounts in it weigh at least this share of their territory's target: the
    flows grew 31% of a target around a far lock on a strip (tests/test_connect_bases.py), while on
    bases 10,000 #2 a few accounts beside locks (0.03% of a target) started the micro-block
    rebuild, which took it from 1.2% interleaved to 5.9% for nothing."""
    base_blocks_small_apart: float = 0.25
    """On maps up to ``connect_max_units`` units, with rep bases, the micro-block realignment runs
    after the whole-map rebuild only when a piece kept apart holds at least this share of a target
    (unlocked): on bases 2,000 #2 a territory held 0.99 of a target in New York, its rep in
    Pittsburgh, after the rebuild; the micro-blocks put every territory around its rep. Small
    maps whose slivers no design can join spend its whole time limit for nothing."""
    connect_tries: int = 3
    connect_last_factor: float = 2.0
    connect_design_seconds: float = 30.0
    """Seeds of connect.py's balance repair tried in turn until one balances: more rescue more
    lumpy small maps, each try costs up to ``connect_seconds``, the last up to
    ``connect_last_factor`` times that (1,000 accounts with rep bases and locks balanced after 8 s,
    never within 5 s); all tries of one design's passes, at most ``connect_design_seconds`` (200
    accounts in 50 territories: 15-20 s a pass in 7 passes, every try out of balance; stress maps of
    200-1,000 accounts: every rebuild within 0.51 s)."""
    dijkstra_from_blocks: int = 250
    """A territory of at least this many blocks gets its all-pairs distances by Dijkstra from every
    block, a smaller one by Floyd-Warshall (faster below: 0.25 of the time at 50 blocks, 1.7 times
    slower at 400; random planar graphs, scipy 1.17). Read from ``DEFAULT_TUNING`` by
    :class:`~territory_engine.contiguous.graph.Graph`, which takes no tuning."""
    connect_soft: float = 0.0
    """``contiguous_soft`` of connect.py's balance repair: 0 stops once every load is in its band
    (each further transfer is a move the analyst pays for), higher keeps room inside the band."""
    connect_rounds: int = 10
    """Passes at most that send rebuilt blocks back to their current territory (connect.py):
    more passes undo more of the rebuild's moves, each costs a connectivity check per block."""
    smooth_rounds: int = 10
    """Passes at most over the outvoted nodes after connect.py's rebuild (smooth.py), each
    moving a node to the territory its nearest units outvote it for when no piece opens and the
    bands hold: more passes clean more of the rebuild's ragged borders, each costs an
    interleaving count per candidate node."""
    smooth_tail_nodes: int = 20
    """A node of the smoothing whose move would cut its territory in pieces may take with it the
    parts it would cut off, at most this many nodes (a thin tail reaching into the neighbour goes
    whole; 0: never). On the 1,000-account map with bases whose micro-block realignment left 9%
    of accounts interleaved, 20 took the smoothing from 8.6% to 7.5%, and 10,000 accounts with bases
    (seed 1) from 4.9% to 4.5%; more gained little."""
    door_reach: int = 50
    """With rep bases, a rep's door unit (the unit nearest his base) in another territory is
    brought into his with the shortest chain of nodes that links it to his territory, at most
    this many (pieces_phase._doors): longer chains move more than a door is worth."""
    smooth_swap_tries: int = 20
    """Partners tried for each node a band alone holds back in the smoothing (smooth.py), among
    the nodes held back the other way across the same border; the two swap territories when both
    bands hold after both moves (0: no swaps). More find more swaps at territories on the ends
    of their bands, each costs an interleaving count and two connectivity checks."""
    anneal_max_units: int = 1_000
    """Maps up to this many units get the annealing of their borders (anneal.py) after the
    smoothing: there a few accounts outvoted are already percents of the map, and the search is
    cheap. Values not yet measured above it."""
    anneal_above: float = 0.05
    """The annealing runs only when more than this share of the units is outvoted by its nearest
    units (anneal.py), the target for interleaving: below, borders are clean enough and each
    move matters more. It moves accounts for a measure of borders alone, blind to the measures
    the design does not balance: at 0.03 it also annealed the sizing test's map (between 3% and
    5%) and pushed one rep's workload from within to 107% of capacity, so `territory size`
    recommended 8 territories instead of 7."""
    anneal_steps: int = 300
    """Steps of the annealing per unit (anneal.py), at most ``anneal_max_steps`` in all."""
    anneal_max_steps: int = 100_000
    """Steps of the annealing at most (about 4 s; anneal.py)."""
    anneal_move_cost: float = 0.5
    """Cost in the annealing of moving an average unit's weight, in outvoted units (anneal.py):
    higher keeps more units where they were, lower cleans more border at the price of moves."""
    anneal_clean: float = 0.04
    """Share of the units outvoted that the annealing counts as clean enough (anneal.py): each of
    them costs ``anneal_clean_weight``, not 1, so below it a unit's border is not bought with a
    move (on the 200-account island map of seed 3, without this the annealing took interleaving
    from 3.5% to 1.5% and moves from 1.89 to 2.15 times the least)."""
    anneal_clean_weight: float = 0.1
    """Cost in the annealing of each outvoted unit below ``anneal_clean`` (anneal.py)."""
    anneal_restarts: int = 2
    """Runs of the annealing after the first, each from the last one's best, while more than
    ``anneal_above`` of the units stay outvoted (anneal.py)."""
    anneal_free_moves: float = 1.5
    anneal_free_weight: float = 0.4
    """Moved load up to ``anneal_free_moves`` times the least a balanced alignment must move (the
    load above the bands) costs only ``anneal_free_weight`` of ``anneal_move_cost`` in a
    realignment's annealing (anneal.py): there the moves are not what the analyst is short of,
    borders are (the same multiple makes a realignment try its second opinions,
    ``second_opinion_above``). An average unit's move then costs 0.2 outvoted units: less than
    one outvoted unit, more than one below ``anneal_clean`` (0.1), so a map already clean is
    still not bought cleaner with moves."""
    anneal_start: float = 1.0
    """The annealing's first temperature, in outvoted units (anneal.py)."""
    anneal_end: float = 0.02
    """The annealing's last temperature, in outvoted units (anneal.py)."""

    # --- Validation semantics (issue 12): implausible coordinates,
    # territory_engine/validate/plausibility.py; measured in tests/edge_cases/outlier_rule.py --
    outlier_centre_factor: float = 6.0
    outlier_centre_min_km: float = 2_000.0
    """An account is far from the others when its great-circle distance to the accounts'
    median centre is over this factor times their median distance to it, and over the floor:
    lower catches smaller slips but flags real outposts (Hawaii, Alaska, Puerto Rico among US
    accounts), higher lets mistyped points through."""
    outlier_spacing_factor: float = 50.0
    outlier_spacing_min_km: float = 1_000.0
    """An account is alone when its nearest other account is over this factor times the
    accounts' median nearest-neighbour distance, and over the floor (a lone account in Hawaii
    among Northeast accounts is; Alaska's sparse towns among themselves are not)."""
    outlier_fix_km: float = 200.0
    """A far account is clearly mistyped (an error, not a warning) when swapping its latitude
    and longitude, or changing a sign, puts it within this distance of another account or of
    its own ZIP: larger accepts rougher fixes, smaller misses lone rural accounts."""
    outlier_min_points: int = 5
    """Fewer distinct locations than this have no "others" to stand apart from: no outliers."""
    zip_far_km: float = 150.0
    """Coordinates this far from their own ZIP's centroid are reported (a warning); large
    rural ZIPs (Alaska, Nevada) span about 100 km, so lower warns about correct accounts."""
    land_far_km: float = 1_500.0
    """A table whose every account is farther than this from any land point known offline (US
    ZIP centroids, the world's time-zone cities) is in the open ocean: an error. The interiors
    of the Sahara and of Australia lie up to about 1,400 km from such a point, so lower would call real land ocean."""
    antarctic_latitude: float = -60.0
    """A table whose every account lies south of this latitude is in Antarctica: an error."""

    # --- Part W (issue 16): the workload model's density classes (territory_engine/workload.py) --
    workload_density_km: float = 10.0
    """Radius (great-circle km) within which other accounts are counted to class an account's
    surroundings as urban, suburban or rural, which sets its drive speed: wider smooths the
    classes over a whole metro area, narrower follows single towns."""
    workload_urban_accounts: int = 25
    """At least this many other accounts within the radius: urban (slowest speed). Account density
    stands in for population density: lower calls more places urban (more drive hours)."""
    workload_suburban_accounts: int = 5
    """At least this many (and fewer than the urban count): suburban; fewer: rural (fastest speed)."""
    workload_most_visits: float = 365.0
    """More visits per year than this (one a day) on an account is warned of at its cell: a typo, or
    a figure in other units (visits per quarter, calls); its hours still count it as written."""
    workload_rounds: int = 8
    """Balanced workload hours depend on the alignment (an account's drive is from its territory's base
    or centre): after a design, the hours are recomputed for it and the design is realigned from it,
    at most this many more times, until the recomputed hours are within the tolerance. More settles
    maps whose re-sited territories or far bases change many drives, at one design's time each."""
    workload_aim: float = 0.5
    """The realignments that settle workload hours aim at this share of the tolerance band: the
    hours recomputed after the moves drift, and a narrower aim leaves them room to stay in the band."""


DEFAULT_TUNING = Tuning()
"""The tuning every engine function uses unless given another."""
