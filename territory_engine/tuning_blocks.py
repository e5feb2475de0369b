"""The tuning numbers of block designs (territory_engine/contiguous/): the base of
:class:`~territory_engine.tuning.Tuning`, which every engine function takes; see that module's
docstring. Only Tuning is used as a tuning: this class holds a part of its fields."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BlockTuning"]


@dataclass(frozen=True)
class BlockTuning:
    """The block designs' tuning numbers (fields of :class:`~territory_engine.tuning.Tuning`)."""

    block_seconds_base: float = 2.0
    block_seconds_per_block: float = 0.0015
    """Default time budget of a block design, s: the base plus this per block (3,100 counties
    about 6.7 s, 29,000 ZIP areas about 46 s). More finds more compact territories; the first
    balanced alignment usually comes within a fraction of it."""
    block_retry_blocks: int = 5_000
    block_retry_factor: float = 3.0
    """A block design of at most ``block_retry_blocks`` blocks that ends out of balance under its
    default time budget is tried once more, with another seed and this many times the budget
    (a small map is cheap; the stress sweep found 70-block maps balanced at 30 s, not at 2.1 s).
    A search that ends with a proof is not tried again."""
    proof_margin: float = 0.1
    proof_widest: float = 0.5
    """A block design proven impossible from loads alone (a block heavier than the band, a
    territory's locked blocks over it, a band with no whole number of steps) writes the design at
    the tolerance that clears those facts, plus this share of it (``proof_margin``), as its best
    alignment, when that tolerance is at most ``proof_widest``; else today's alignment."""
    block_exact_cells: int = 3_000
    block_exact_seconds: float = 30.0
    block_exact_gap: float = 0.2
    """A block design of at most ``block_exact_cells`` blocks times territories that ends out of
    balance, with no proof, goes to the exact stage (contiguous/exact.py: an integer program with
    contiguity cuts) for at most ``block_exact_seconds``, each round solved to within
    ``block_exact_gap`` of its optimum: it finds a balanced connected alignment or proves that none
    exists; with no answer, the longer retry follows. In the stress benchmark it answered on maps
    up to 345 blocks x 7 territories (2,415 cells) within 10 s; on five maps of 1,900-3,400 cells it
    found no answer in 30 s (more cells would spend that time on maps it cannot answer)."""
    block_contract_above: int = 5_000
    """A block design of more blocks than this folds every empty block into the nearest block that
    holds something first (contiguous/contract.py): 1,000 accounts on 29,440 ZIP areas took 294 s,
    260 s of it on the all-pairs distances of the territories, most of whose blocks were empty."""
    block_cap_exact_cells: int = 20_000
    block_cap_exact_seconds: float = 30.0
    block_cap_exact_gap: float = 0.05
    block_cap_whole_seconds: float = 10.0
    block_cap_near_hops: int = 2
    block_cap_near_tidy_seconds: float = 10.0
    """A block design given back to a move cap and still over it or out of band goes to the integer
    programs of contiguous/cap_exact.py, or above ``block_cap_exact_cells`` to the one of
    contiguous/cap_near.py, a block joining only the territories within ``block_cap_near_hops``
    borders, its search for fewer borders cut stopped after ``block_cap_near_tidy_seconds`` (their
    docstrings say what each of these holds and why)."""
    block_exact_share: float = 0.3
    """A block design given a time limit (connect_bases.py's ``base_blocks_seconds``) holds at most
    this share of it for the exact stage when the stage runs, the search the rest: the limit is
    the whole design's (on a 100-account map with bases the rebuild's two designs each searched
    30 s and then ran the exact stage 30 s: 120 s against its 30)."""
    block_exact_tree_share: float = 0.3
    """Share of the exact stage's time for its first program, every territory a tree of shortest
    paths from a root (its base or locked block, else its centre in the search's best alignment):
    connected by construction, so one program instead of rounds of cuts, but a restriction that
    proves nothing; the rounds get the rest. The stress benchmark's 92 counties x 10 territories
    took over 200 rounds (110 s) without it."""
    block_region_max: int = 1_000
    """A fresh design of more blocks than this is cut into regions of whole territories by
    recursive bisection, each designed on its own: smaller is faster (the construction grows
    with the square of a region's blocks), larger gives the search more room to be compact."""
    block_retry_share: float = 0.4
    """Share of a block design's budget held back for a second search of the regions left out
    of balance: more rescues more lumpy regions, less leaves each region more time at first."""
    block_flow_aims: tuple[float, ...] = (0.8, 0.9, 0.95, 0.7)
    """The realignment's least flows bring loads within these fractions of the tolerance, one
    try each while half the budget lasts, keeping the try that moved least: lower leaves more
    room for rounding blocks (fewer repairs after), higher moves less load."""
    block_flow_rounds: int = 5
    """Rounds of least flows, each on the loads the blocks of the last left: more rounds
    leave fewer territories for the balance repair (which moves more), at a linear programme each."""
    block_pinned_share: float = 0.5
    """A fresh block design with locked or base blocks spends this share of its budget on the
    design without them, the rest on realigning it to them: more gives more compact starts,
    less leaves the realignment more time."""
    block_undo_passes: int = 4
    """Passes of the realignment's undo step, which gives moved blocks back to their current
    territory while balance and connectivity allow: more moves fewer blocks, at little cost."""
    block_cut_angles: tuple[float, ...] = (90.0, 45.0, 135.0, 22.5, 67.5, 112.5, 157.5)
    """Degrees by which a region's cut axis is turned, one try each, when the cut along its longer
    axis leaves a side too little tolerance (a peninsula or lake shore changing sides): more angles
    find a cut on more maps, each try costs a sweep of the region; a region left uncut is searched
    whole, which on the ZIP areas of half the country does not balance in the budget."""
    block_turn_above: int = 1_500
    """Turned cut axes are tried only on regions of more blocks than this; a smaller region no
    cut along its longer axis splits is searched whole: lower balances more lumpy regions in
    time, higher keeps territories more compact (counties cut along turned axes: 2-3% more km)."""
    block_merge_share: float = 0.5
    """A region still out of balance after its retry is searched once more merged with the regions
    it borders, for this share of the whole budget: more finds balance more often on lumpy maps, at
    that much more time on the maps that need it (none on maps that balance at once)."""
    work_seconds: tuple[float, ...] = (6.7e-4, 1.3e-4, 6.4e-8, 1.5e-6, 5.5e-10, 1.4e-8, 1e-6)
    work_safety: float = 4.0
    work_grace_seconds: float = 1.0
    """A block design's clock counts work, not CPU time (territory_engine/clock.py), so that the
    same map and seed give the same design on any machine: the seconds of one unit of each kind of
    work (a reading of the clock; a call of a graph primitive; a block or edge handled in array
    operations; one handled in a Python loop; a Floyd-Warshall step; a Dijkstra step; a unit of a
    linear program, twice its nonzeros plus 1,000; an integer program counts its CPU seconds), measured on the development machine (see
    ``tests/benchmarks/work_clock.py``: counted over CPU seconds 0.32-1.52 on 48 stress designs);
    and when the CPU seconds less ``work_grace_seconds``, divided by ``work_safety``, pass the
    counted work, they are the clock (work not counted, a machine that much slower), which keeps
    every budget finite. Larger values keep designs the same on slower machines; a budget may then
    take that many times its seconds where the work counted falls short."""
