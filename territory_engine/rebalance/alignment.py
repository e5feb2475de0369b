"""The result of a design: a proposed alignment and its balance."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import Reason

__all__ = ["Alignment", "Exclave", "FreshChoice", "exclaves_of"]


@dataclass(frozen=True)
class Exclave:
    """A piece of a territory kept apart from it: a named exception to "one piece per territory".

    Attributes
    ----------
    territory : int
        The territory (engine index).
    why : str
        ``"locked accounts"``, ``"rep base"``, ``"balance"``, ``"no neighbour"`` or ``"round limit"``
        (see :data:`territory_engine.rebalance.pieces.WHY`); a block design's, ``"another
        territory's locked accounts"`` too (:mod:`territory_engine.contiguous.detached`).
    accounts : tuple of int
        The piece's accounts (rows, 0-based).
    """

    territory: int
    why: str
    accounts: tuple[int, ...]


@dataclass(frozen=True)
class FreshChoice:
    """Why a fresh design keeping today's ids replaced the realignment (``why``: ``"moves less"``,
    ``"more compact"``, ``"far more compact"``, ``"cleaner borders"`` or ``"fewer pieces apart"``), with both designs' moved
    shares of the balance measure and their balance-weighted mean km to the territory centres.
    ``where``: the part of the map designed on its own (``"region West"``; ``""``: the whole map),
    ``level`` the kind of part (``"region"``); ``on_todays_hours``: the figures were measured on today's workload hours, before the hours
    were settled on the proposal's own drives."""

    why: str
    moved: float
    moved_realigned: float
    km: float
    km_realigned: float
    where: str = ""
    level: str = ""
    on_todays_hours: bool = False


@dataclass(frozen=True)
class Alignment:
    """A proposed alignment and its balance.

    Attributes
    ----------
    territory : ndarray of int, shape (n,)
        Territory index 0..k-1 of every account.
    centres : ndarray, shape (k, 2)
        Latitude and longitude of each territory's centre (the rep base when given).
    loads, targets : ndarray, shape (k, C)
        Load and target of every constrained measure (column 0: the combined balance
        measure; then each measure when ``each_measure``), as shares of the total.
    deviation : ndarray, shape (k, C)
        ``load / target - 1``.
    max_deviation : float
        Largest absolute deviation over territories and constrained measures.
    within_tolerance : bool
    reasons : tuple of Reason
        Why balance is impossible, as facts (empty when within tolerance).
    moved_reason : ndarray of object, shape (n,)
        ``"balance"``, ``"compactness"``, ``"resite"`` or ``""`` per account.
    method, seed, iterations
        How the alignment was found.
    fresh_chosen : tuple of FreshChoice
        Where a fresh design keeping today's ids replaced the realignment (a second opinion): one
        for the whole map, or one per part of the map designed on its own.
    resited : tuple of (int, int)
        ``(re-sited, relieved)`` territory pairs: the re-sited territory's accounts went to
        its neighbours, and it took over part of the relieved one (see ``design(resite=)``).
    exclaves : tuple of Exclave
        The extra pieces the engine could not join to their territory's main piece, and why.
    """

    territory: np.ndarray
    centres: np.ndarray
    loads: np.ndarray
    targets: np.ndarray
    deviation: np.ndarray
    max_deviation: float
    within_tolerance: bool
    reasons: tuple[Reason, ...]
    moved_reason: np.ndarray
    method: str
    seed: int
    iterations: int
    constrained: tuple[str, ...] = field(default=("combined",))
    fresh_chosen: tuple[FreshChoice, ...] = ()
    resited: tuple[tuple[int, int], ...] = ()
    exclaves: tuple[Exclave, ...] = ()


def exclaves_of(stuck, of_account, units: int) -> tuple[Exclave, ...]:
    """The pieces join_pieces and rejoin left apart (``StuckPiece``) with their accounts, sorted;
    ``of_account``: the unit of every account, or None when the pieces' units are accounts."""
    if of_account is None:
        return tuple(Exclave(int(piece.territory), piece.why, tuple(np.sort(piece.units).tolist())) for piece in stuck)
    order = np.argsort(of_account, kind="stable")
    start = np.searchsorted(of_account[order], np.arange(units + 1))
    found = []
    for piece in stuck:
        rows = np.concatenate([order[start[u]:start[u + 1]] for u in piece.units])
        found.append(Exclave(int(piece.territory), piece.why, tuple(np.sort(rows).tolist())))
    return tuple(found)
