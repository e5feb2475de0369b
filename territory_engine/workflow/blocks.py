"""Geography building blocks in the ``rebalance`` verb: accounts rolled up to counties, ZIP areas
or states, the blocks' current alignment, locks and rep bases, and the blocks' design expanded
back to the accounts.

The rules, stated once (the README's "Building blocks" section quotes them):

- **An account's block.** Its County column (with its State column where names repeat across
  states) or its State column for state blocks; else its ZIP; else its coordinates
  (:func:`territory_engine.geography.block_of`). A block that cannot be found is a located
  input error.
- **The blocks in play.** Every block of every state that holds an account. When these blocks
  fall apart into pieces on the adjacency (accounts in Maine and in Florida only), the states
  between are added, nearest piece first, along the shortest chain of neighbouring states, so
  that territories can be contiguous. Blocks without accounts weigh zero in every measure.
- **A block's current territory.** The territory holding most of its accounts' balance measure
  (ties: the first in the alignment's order). A block without accounts takes the territory of
  the nearest block with one (fewest borders crossed, then the nearest centre). Accounts of a
  block held by another territory move with their block, and their reason says so.
- **Locks.** A block holding a locked account is locked to that account's territory; locked
  accounts of two territories in one block are an error naming both.
- **Rep bases.** A rep's base pins the block it lies in to the rep's territory; two bases in one
  block pin nothing (the reps share the block's neighbourhood) and a warning says so; so does a base
  in a block locked to another territory (the lock wins).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components, dijkstra

from ..arrays import distinct
from ..errors import InputError, Problem, SettingsError, proven
from ..geo import planar_km

__all__ = ["BlockMap", "BlockResult", "block_map", "block_pieces", "block_territory", "block_of_accounts",
           "design_by_blocks", "expand_reasons", "held_by_most"]

# Which column names an account's block, for each kind of block (engine column names).
_OWN_COLUMN = {"county": "county", "state": "state", "zip": "zip"}


@dataclass(frozen=True)
class BlockMap:
    """The blocks in play and the accounts' roll-up to them.

    Attributes
    ----------
    kind : str
        ``"county"``, ``"zip"`` or ``"state"``.
    ids, names : ndarray of object, shape (b,)
        Each block's id (FIPS, ZIP, state code) and its name as people write it.
    lat, lon : ndarray, shape (b,)
        Each block's centre, degrees.
    adjacency : scipy.sparse.csr_array, shape (b, b)
        Blocks sharing a border (or an island's link), entry = km between their centres.
    of_account : ndarray of int, shape (n,)
        Each account's block (row of the arrays above).
    measures : ndarray, shape (b, M)
        Each block's measures: the sum over its accounts (zero for a block without accounts).
    current : ndarray of int, shape (b,)
        Each block's current territory, or -1 when nothing is aligned.
    locked : ndarray of int, shape (b,)
        The territory a block is locked to, or -1.
    bases : ndarray of int, shape (k,) or None
        The block each territory's rep base pins, or -1.
    warnings : tuple of Problem
    """

    kind: str
    ids: np.ndarray
    names: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    adjacency: sparse.csr_array
    of_account: np.ndarray
    measures: np.ndarray
    current: np.ndarray
    locked: np.ndarray
    bases: np.ndarray | None
    warnings: tuple[Problem, ...] = ()

    def account_names(self) -> np.ndarray:
        """Each account's block name."""
        return self.names[self.of_account]


def _column(plan, name: str) -> tuple[str | None, int | None]:
    """The header and position of engine column ``name`` in the raw input, or (None, None)."""
    header = plan.accounts.headers.get(name)
    if header is None:
        return None, None
    columns = list(plan.raw.columns)
    return header, columns.index(header) if header in columns else None


def block_of_accounts(plan, kind: str, blocks) -> np.ndarray:
    """Each account's block, as a row of ``blocks`` (a :class:`~territory_engine.geography.BlockSet`).

    Raises
    ------
    InputError
        An account whose block cannot be found, located at the cell that names it.
    """
    from ..geography import block_of, resolve_blocks

    frame = plan.accounts.frame
    n = len(frame)
    found = np.full(n, None, dtype=object)
    why = np.full(n, None, dtype=object)
    where = np.full(n, "", dtype=object)  # the engine column each account's block came from
    own = _OWN_COLUMN[kind]
    own_values = frame[own].to_numpy(dtype=object)
    if kind in ("county", "state") and frame[own].notna().any():
        rows = np.flatnonzero(pd.notna(own_values))
        states = frame["state"].to_numpy(dtype=object)[rows] if kind == "county" else None
        resolved = resolve_blocks(kind, own_values[rows], states=states)
        found[rows], why[rows], where[rows] = resolved.ids, resolved.reasons, own
    zips = frame["zip"].to_numpy(dtype=object)
    rest = pd.isna(found) & pd.isna(why) & pd.notna(zips)
    if rest.any():
        found[rest] = block_of(kind, zip=zips[rest])
        where[rest] = "zip"
    lat, lon = frame["lat"].to_numpy(), frame["lon"].to_numpy()
    rest = pd.isna(found) & pd.isna(why) & np.isfinite(lat) & np.isfinite(lon)
    if rest.any():
        found[rest] = block_of(kind, lat=lat[rest], lon=lon[rest])
        where[rest] = "lat"
    position = pd.Index(blocks.ids).get_indexer(pd.Series(found).where(pd.notna(found), "\0"))
    bad = np.flatnonzero(position < 0)
    if len(bad):
        raise InputError([_unplaced(plan, kind, i, where[i], why[i]) for i in bad[:100]])
    return position


def _unplaced(plan, kind: str, i: int, column: str, why) -> Problem:
    """The located problem of an account whose ``kind`` block cannot be found."""
    frame, source = plan.accounts.frame, plan.accounts.source
    header, j = _column(plan, column or ("lat" if "lat" in plan.accounts.headers else "zip"))
    value = frame[column].iat[i] if column in frame.columns else None
    if column == "lat":
        value = f"{frame['lat'].iat[i]:.4f}, {frame['lon'].iat[i]:.4f}"
        what = (f"the point {value} lies in no US {kind} (outside the 50 states, DC and Puerto Rico, or at sea); "
                f"correct the coordinates, or leave the block setting out (block none) to design from the accounts")
    elif column == "zip":
        what = (f"ZIP {value} is not in the offline ZIP table, so its {kind} is unknown; correct the ZIP or give "
                f"a {'County' if kind == 'county' else kind.upper() if kind == 'zip' else 'State'} column")
    else:
        what = f"{header} {value!s}: {why or 'unknown'}"
    return Problem(source, what, row=i + 2, column=header, column_index=j, value=value, is_sheet=plan.is_sheet)


def _in_play(blocks, used: np.ndarray) -> np.ndarray:
    """The blocks in play (see the module's rules): every block of every state holding an
    account, and the blocks of the states that join the pieces this leaves."""
    state = np.asarray(blocks.state, dtype=object)
    keep = np.isin(state, distinct(state[used]))
    adjacency = sparse.csr_array(blocks.adjacency)
    while True:
        sub = adjacency[keep][:, keep]
        count, label = connected_components(sub, directed=False)
        if count <= 1:
            return np.flatnonzero(keep)
        members = np.flatnonzero(keep)
        # Only pieces holding accounts need joining; pieces of empty blocks are left out.
        holding = distinct(label[np.isin(members, used)])
        if len(holding) <= 1:
            keep[members[~np.isin(label, holding)]] = False
            return np.flatnonzero(keep)
        largest = holding[np.argmax([np.isin(members[label == h], used).sum() for h in holding])]
        # Hops from the largest piece over the whole map: the nearest other piece holding
        # accounts, and the states on the way, join.
        dist, pred = dijkstra(adjacency, unweighted=True, indices=members[label == largest], min_only=True,
                                   return_predecessors=True)[:2]
        others = members[np.isin(label, holding) & (label != largest)]
        reachable = others[np.isfinite(dist[others])]
        if not len(reachable):  # apart from the rest by sea (Hawaii): linked by _sea_links
            return np.flatnonzero(keep)
        node = reachable[np.argmin(dist[reachable])]
        path_states = set()
        while node >= 0:
            if not keep[node]:
                path_states.add(state[node])
            node = pred[node]
        grown = keep | np.isin(state, list(path_states))
        if grown.sum() == keep.sum():
            return np.flatnonzero(keep)
        keep = grown


def _sea_links(adjacency: sparse.csr_array, lat: np.ndarray, lon: np.ndarray) -> sparse.csr_array:
    """``adjacency`` with every piece that no border reaches (Hawaii, Alaska, Puerto Rico)
    linked to the nearest block of the largest piece, by the shortest centre-to-centre
    distance (km): its accounts join the territory nearest them."""
    from ..geo import haversine_km

    count, label = connected_components(adjacency, directed=False)
    if count <= 1:
        return adjacency
    main = np.argmax(np.bincount(label))
    anchors = np.flatnonzero(label == main)
    rows, cols, km = [], [], []
    for piece in range(count):
        if piece == main:
            continue
        members = np.flatnonzero(label == piece)
        d = haversine_km(lat[members][:, None], lon[members][:, None], lat[anchors][None, :], lon[anchors][None, :])
        a, b = np.unravel_index(np.argmin(d), d.shape)
        rows += [members[a], anchors[b]]
        cols += [anchors[b], members[a]]
        km += [max(float(d[a, b]), 1e-3)] * 2
    links = sparse.csr_array((km, (rows, cols)), shape=adjacency.shape)
    return sparse.csr_array(adjacency + links)


def block_map(plan, kind: str, names: list[str], weights: np.ndarray, current: np.ndarray, k: int,
              bases=None) -> BlockMap:
    """The blocks in play for ``plan``'s accounts and their roll-up (see the module's rules).

    Parameters
    ----------
    plan : Plan
        The validated inputs.
    kind : str
        ``"county"``, ``"zip"`` or ``"state"``.
    names, weights : the balance measures and their weights.
    current : ndarray of int, shape (n,)
        Each account's current territory (index), or -1.
    k : int
        The number of territories.
    bases : ndarray, shape (k, 2), optional
        Each territory's rep base (latitude, longitude); NaN where there is none.

    Raises
    ------
    InputError
        An account whose block cannot be found.
    SettingsError
        Locked accounts of two territories in one block.
    """
    from ..geography import block_of, load_blocks

    blocks = load_blocks(kind)
    frame = plan.accounts.frame
    position = block_of_accounts(plan, kind, blocks)
    play = _in_play(blocks, distinct(position))
    local = np.full(len(blocks.ids), -1, dtype=np.int64)
    local[play] = np.arange(len(play))
    of_account = local[position]
    b = len(play)
    lat, lon = np.asarray(blocks.lat, dtype=float)[play], np.asarray(blocks.lon, dtype=float)[play]
    adjacency = _sea_links(sparse.csr_array(sparse.csr_array(blocks.adjacency)[play][:, play]), lat, lon)
    values = frame[list(plan.accounts.measures)].to_numpy(dtype=float)
    measures = np.zeros((b, values.shape[1]))
    np.add.at(measures, of_account, values)
    combined = frame[names].to_numpy(dtype=float) @ (weights / weights.sum()) if len(names) else np.ones(len(frame))
    block_current = block_territory(of_account, current, combined, adjacency, b, k)
    locked = _locks(plan, of_account, current, b, blocks, play)
    warnings: list[Problem] = []
    pins = None
    if bases is not None:
        pins = np.full(len(bases), -1, dtype=np.int64)
        ok = np.isfinite(bases).all(axis=1)
        if ok.any():
            found = block_of(kind, lat=bases[ok, 0], lon=bases[ok, 1])
            at = pd.Index(blocks.ids).get_indexer(pd.Series(found).where(pd.notna(found), "\0"))
            pins[ok] = np.where(at >= 0, local[np.maximum(at, 0)], -1)
        clash = np.flatnonzero((pins >= 0) & (locked[np.maximum(pins, 0)] >= 0)
                               & (locked[np.maximum(pins, 0)] != np.arange(len(pins))))
        if len(clash):
            warnings.append(_base_on_lock(plan, clash, pins, locked, blocks.names[play], kind))
            pins[clash] = -1
        shared = pd.Series(pins[pins >= 0]).duplicated(keep=False)
        if shared.any():
            twice = distinct(pins[pins >= 0][shared.to_numpy()])
            pins[np.isin(pins, twice)] = -1
            warnings.append(Problem(plan.accounts.source, (
                f"{len(twice)} {kind}(s) hold the home bases of two or more reps ("
                + ", ".join(str(blocks.names[play[t]]) for t in twice[:5])
                + "); those bases pin no block, and the reps' territories are kept near them only by compactness"),
                is_sheet=plan.is_sheet))
    return BlockMap(kind=kind, ids=np.asarray(blocks.ids, dtype=object)[play],
                    names=np.asarray(blocks.names, dtype=object)[play], lat=lat, lon=lon, adjacency=adjacency,
                    of_account=of_account, measures=measures, current=block_current, locked=locked, bases=pins,
                    warnings=tuple(warnings))


def _base_on_lock(plan, clash: np.ndarray, pins: np.ndarray, locked: np.ndarray, names, kind: str) -> Problem:
    """The warning for rep bases that lie in a block locked to another territory: the lock wins."""
    from .plan import territory_ids

    ids = territory_ids(plan)[0]

    def name(t: int) -> str:
        return str(ids[t]) if t < len(ids) else f"territory {t + 1}"

    said = "; ".join(f"{name(int(t))}'s base is in {names[pins[t]]}, locked to {name(int(locked[pins[t]]))}"
                     for t in clash[:5])
    return Problem(plan.accounts.source, (
        f"{len(clash)} rep base(s) lie in a {kind} locked to another territory ({said}); the lock wins and those "
        "bases pin no block; move the base or unlock the accounts there"), is_sheet=plan.is_sheet)


def block_territory(of_account, current, combined, adjacency, b: int, k: int) -> np.ndarray:
    """Each block's territory in the accounts' alignment ``current``: the one holding most of its
    accounts' balance measure (``combined``); blocks without an aligned account take the nearest
    aligned block's (fewest borders, then the nearest centre). All -1 when no account is aligned."""
    aligned = current >= 0
    if not aligned.any():
        return np.full(b, -1, dtype=np.int64)
    kk = int(max(k, current.max() + 1))
    load = np.zeros((b, kk))
    # A tiny count breaks the ties of blocks whose accounts weigh nothing.
    np.add.at(load, (of_account[aligned], current[aligned]), combined[aligned] + 1e-9)
    held = load.sum(axis=1) > 0
    out = np.where(held, load.argmax(axis=1), -1)
    # Outwards from the aligned blocks, one border at a time: a block takes the territory of
    # its nearest (by centre) neighbour already aligned.
    graph = sparse.csr_array(adjacency)
    while True:
        done = out >= 0
        edges = sparse.coo_array(graph[~done][:, done])
        if edges.nnz == 0:
            return out
        todo, have = np.flatnonzero(~done), np.flatnonzero(done)
        order = np.lexsort((edges.data, edges.row))
        first = order[np.r_[True, edges.row[order][1:] != edges.row[order][:-1]]]
        out[todo[edges.row[first]]] = out[have[edges.col[first]]]


def _locks(plan, of_account, current, b: int, blocks, play) -> np.ndarray:
    """The territory each block is locked to (-1: free); raises SettingsError for a block
    holding locked accounts of two territories."""
    frame = plan.accounts.frame
    locked = frame["locked"].to_numpy(dtype=bool) & (current >= 0)
    out = np.full(b, -1, dtype=np.int64)
    if not locked.any():
        return out
    pairs = pd.DataFrame({"block": of_account[locked], "territory": current[locked]}).drop_duplicates()
    twice = pairs[pairs["block"].duplicated(keep=False)]
    if len(twice):
        block = int(twice["block"].iloc[0])
        held = sorted(str(t) for t in frame["territory"][locked & (of_account == block)].unique())
        raise SettingsError([Problem(plan.accounts.source, (
            f"{blocks.names[play[block]]} holds locked accounts of several territories ({', '.join(held)}), but a "
            f"{plan.settings.block} is kept whole in one territory; unlock the accounts of all but one territory "
            "there, or leave the block setting out (block none)"), is_sheet=plan.is_sheet)])
    out[pairs["block"].to_numpy()] = pairs["territory"].to_numpy()
    return out


def design_by_blocks(plan, *, names: list[str], weights: np.ndarray, current: np.ndarray, k: int, fresh: bool,
                     rep: dict, progress=None, tuning=None):
    """Design the territories from whole, connected blocks and give each account its block's.

    Returns
    -------
    (alignment, facts, block_map, design)
        ``alignment``: the accounts' :class:`~territory_engine.rebalance.Alignment`;
        ``facts``: why balance is impossible (empty when it holds), as
        :class:`~territory_engine.errors.Reason` facts; the :class:`BlockMap` and the blocks'
        :class:`~territory_engine.contiguous.BlockDesign`.
    """
    from ..contiguous import design_blocks
    from ..errors import DesignInfeasibleError
    from ..tuning import DEFAULT_TUNING

    s = plan.settings
    bm = block_map(plan, s.block, names, weights, current, k, bases=rep.get("bases"))
    if k > len(bm.ids):
        shown = ", ".join(str(name) for name in bm.names[:5]) + (", ..." if len(bm.ids) > 5 else "")
        smaller = {"state": "block county or zip", "county": "block zip"}.get(s.block, "block none")
        where = ("the accounts lie in only" if s.block == "state"
                 else "the states holding the accounts have only")
        raise SettingsError(f"territories: {k} territories of whole {s.block}s need at least {k} {s.block}s, but "
                            f"{where} {len(bm.ids)} ({shown}); use at most {len(bm.ids)} territories, or smaller "
                            f"blocks ({smaller})")
    block_current = bm.current.copy()
    pinned = bm.locked >= 0
    block_current[pinned] = bm.locked[pinned]
    capacity = rep.get("capacity")
    columns = [list(plan.accounts.measures).index(name) for name in names]
    coords = planar_km(bm.lat, bm.lon)
    shape = dict(k=k, tolerance=s.tolerance, weights=None if s.balance_each_measure else weights,
                 current=block_current if (block_current >= 0).any() else None, locked=pinned, bases=bm.bases,
                 targets=None if capacity is None else capacity[:k] / capacity[:k].sum(), measure_names=names,
                 tuning=tuning or DEFAULT_TUNING)
    try:
        design = design_blocks(bm.adjacency, bm.measures[:, columns], fresh=fresh, coords=coords, seed=s.seed,
                               progress=progress, occupied=np.bincount(bm.of_account, minlength=len(bm.ids)) > 0,
                               **shape)
        facts: tuple = ()
    except DesignInfeasibleError as error:
        design, facts = error.result, error.facts
    if s.max_moved_share < 1 and not fresh and (current >= 0).any():
        design, facts = _held_to_cap(plan, bm, design, facts, current, columns, weights, shape)
    territory = design.territory[bm.of_account]
    alignment = _account_alignment(plan, territory, names, weights, k, design, shape["targets"])
    return replace(alignment, exclaves=_apart(bm, design)), facts, bm, design


def _apart(bm: BlockMap, design) -> tuple:
    """The block design's pieces kept apart for locked blocks (``design.apart``, block indices) as
    the accounts' exclaves, with the design's reason (``design.apart_why``)."""
    from ..rebalance.alignment import Exclave

    out = []
    for piece, why in zip(design.apart, design.apart_why):
        rows = np.flatnonzero(np.isin(bm.of_account, piece))
        if len(rows):
            out.append(Exclave(int(design.territory[piece[0]]), why, tuple(rows.tolist())))
    return tuple(out)


def _held_to_cap(plan, bm: BlockMap, design, facts, current, columns, weights, shape):
    """The block design held to ``max_moved_share`` of the accounts (contiguous.capped: moved blocks
    returned while each territory stays in one piece) and its facts: when the returns lose balance,
    the floor of accounts that must move proves the cap too small where it can (rebalance.cap_bound,
    or the block design's own proof when it names a higher share), else the cap is named without a
    proof."""
    from ..contiguous.capped import hold_to_cap
    from ..rebalance.cap_bound import floor_reason
    from .plan import combined_share

    s, k = plan.settings, shape["k"]
    held = current >= 0
    counts = sparse.csr_array((np.ones(int(held.sum())), (bm.of_account[held], current[held])), shape=(len(bm.ids), k))
    taken, fact = hold_to_cap(design, bm.adjacency, bm.measures[:, columns], counts=counts,
                              max_moved_share=s.max_moved_share, accounts=len(current), **shape)
    if fact is None and taken.mix_deviation <= s.tolerance + 1e-9:  # (balanced within the cap: its pieces are
        # reported, as under a cap of accounts, whether or not the cap bound; at a cap of 0.2 a map ended exit 0
        # and at 0.5 exit 3 on "in 2 pieces"). The design's facts go: a file within both disproves any reason
        # about balance, and those about one piece (a cut block, "no_connected") do not hold where pieces may
        # stay (a county map of 5,000 accounts ended exit 3 on a cut block with such a file written).
        return taken, ()
    design = taken
    if fact is None:
        return design, facts
    frame, names = plan.accounts.frame, shape["measure_names"]
    if shape["weights"] is not None:  # (the balance measure, as the design balances it)
        values = combined_share(frame, names, shape["weights"])[:, None]
    else:  # (every measure on its own)
        values = np.column_stack([combined_share(frame, [name], np.ones(1)) for name in names])
    targets = np.full(k, 1 / k) if shape["targets"] is None else shape["targets"]
    locked = frame["locked"].to_numpy(dtype=bool) & held
    proof = floor_reason(values, current, locked, np.tile(targets[:, None], (1, values.shape[1])), s.tolerance,
                         s.max_moved_share, fact.measure)
    kept = tuple(f for f in facts if f.code != "out_of_band")
    if proof is None and kept and proven(kept):
        return design, kept  # (a proof already says why; "not reached" under the cap would hide it)
    if proof is not None and proven((fact,)) and fact.share > proof.share:
        proof = fact  # (both prove the cap too small: the one naming the higher share, which then works)
    return design, (*kept, proof or fact)


def _account_alignment(plan, territory: np.ndarray, names, weights, k: int, design, targets=None):
    """The accounts' alignment record for a block design: every move is a move for balance.
    ``targets`` (k,): each territory's share of every measure (its rep's capacity), else 1/k."""
    from ..geo import to_xyz
    from ..measures import territory_centres
    from ..rebalance import Alignment

    from .plan import combined_share

    frame = plan.accounts.frame
    combined = frame[names].to_numpy(dtype=float) @ (weights / weights.sum())
    each = plan.settings.balance_each_measure and len(names) > 1  # (each measure's deviation, named)
    shares = np.column_stack([combined_share(frame, [name], np.ones(1)) for name in names]) if each else \
        combined_share(frame, names, weights)[:, None]  # (a mix of shares, not of raw values in other units)
    loads = np.zeros((k, shares.shape[1]))
    np.add.at(loads, territory, shares)
    targets = np.tile((np.full(k, 1.0 / k) if targets is None else np.asarray(targets, dtype=float))[:, None],
                      (1, loads.shape[1]))
    deviation = loads / targets - 1
    lat, lon = frame["lat"].to_numpy(), frame["lon"].to_numpy()
    centres = territory_centres(lat, lon, combined, territory, k, xyz=to_xyz(lat, lon))
    return Alignment(territory=territory, centres=centres, loads=loads, targets=targets, deviation=deviation,
                     max_deviation=float(design.mix_deviation), within_tolerance=bool(design.feasible), reasons=(),
                     moved_reason=np.full(len(frame), "balance", dtype=object), method=f"{plan.settings.block} blocks",
                     seed=int(design.seed), iterations=0, constrained=tuple(names) if each else ("combined",))


def held_by_most(of_account: np.ndarray, current: np.ndarray, b: int) -> np.ndarray:
    """Each block's current territory as its accounts have it: the one most of them are in
    (ties: the first in the alignment's order); -1 for a block without an aligned account."""
    pairs = pd.DataFrame({"block": of_account, "territory": current})
    pairs = pairs[pairs["territory"] >= 0]
    majority = (pairs.groupby(["block", "territory"]).size().reset_index(name="n")
                .sort_values(["block", "n", "territory"], ascending=[True, False, True])
                .drop_duplicates("block"))
    held = np.full(b, -1, dtype=np.int64)
    held[majority["block"].to_numpy()] = majority["territory"].to_numpy()
    return held


def expand_reasons(bm: BlockMap, current: np.ndarray, proposed: np.ndarray, ids, text: np.ndarray) -> np.ndarray:
    """Each moved account's reason, naming its block: "...; with Cook County, IL (all of it
    moves)", or, for an account whose block is held by another territory, "kept whole: Cook
    County, IL is in T03"."""
    out = text.copy()
    moved = np.flatnonzero((current >= 0) & (proposed != current))
    if not len(moved):
        return out
    block = bm.of_account[moved]
    name = bm.names[block]
    with_block = held_by_most(bm.of_account, current, len(bm.ids))[block] == current[moved]
    kind = bm.kind if bm.kind != "zip" else "ZIP area"
    whole = [f"{t}; with its {kind} {n}, which moves whole" for t, n in zip(out[moved], name)]
    kept = [f"{ids[a]} -> {ids[b]}; kept whole: its {kind} {n} is in {ids[b]}"
            for a, b, n in zip(current[moved], proposed[moved], name)]
    out[moved] = np.where(with_block, np.array(whole, dtype=object), np.array(kept, dtype=object))
    return out


@dataclass(frozen=True)
class BlockResult:
    """A design from blocks as the result shows it: the blocks and their proposed territory
    (the proposal's territory index of each block)."""

    map: BlockMap
    proposed: np.ndarray

    def table(self, plan, ids: np.ndarray, current: np.ndarray) -> pd.DataFrame:
        """The Blocks sheet: every block in play (those without accounts too, as the map draws
        them), its accounts and measures, its current territory (the one most of its accounts
        are in; blank without accounts) and its proposed one."""
        bm = self.map
        b = len(bm.ids)
        accounts = np.bincount(bm.of_account, minlength=b)
        held = held_by_most(bm.of_account, current, b)
        table = pd.DataFrame({
            "block_id": bm.ids, "block": bm.names, "accounts": accounts,
            "current_territory": np.where(held >= 0, ids[np.maximum(held, 0)], None),
            "proposed_territory": ids[self.proposed],
        })
        table["moved"] = (held >= 0) & (held != self.proposed)
        measures = list(plan.accounts.measures)
        for j, name in enumerate(measures):
            table[name] = bm.measures[:, j]
        table["latitude"], table["longitude"] = bm.lat, bm.lon
        return table


def block_pieces(bm: BlockMap, territory: np.ndarray, k: int):
    """The pieces of an alignment of the blocks (``territory``: each block's index, -1 none),
    counted on the blocks' adjacency, as :func:`territory_engine.contiguity.territory_pieces`
    counts them on the accounts'. Blocks are the nodes, so a territory joined through blocks
    without accounts is one piece."""
    from ..contiguity import AccountGraph, territory_pieces
    from ..geo import to_xyz

    b = len(bm.ids)
    region = connected_components(bm.adjacency, directed=False)[1]
    graph = AccountGraph(node=np.arange(b), xyz=to_xyz(bm.lat, bm.lon), adjacency=sparse.csr_array(bm.adjacency),
                         spacing_km=np.zeros(b), region=region)
    return territory_pieces(graph, territory, k)
