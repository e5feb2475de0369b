"""The Exclaves sheet says how much of its territory a piece kept apart holds and how far it lies
from the rep's base, and a note names the reps who live apart from most of their territory."""

from __future__ import annotations

import numpy as np
import pytest

from territory_engine.geo import haversine_km
from territory_engine.rebalance.alignment import Exclave
from territory_engine.workflow.exclaves import COLUMNS, exclave_table, far_from_base_note


def _line():
    """Ten accounts along the equator, 1 degree apart: T1 holds 0-1 (its rep's base at 0) and
    6-9 (apart), T2 holds 2-5; every account weighs 1 but account 9, which weighs 3."""
    lon = np.arange(10, dtype=float)
    proposed = np.array([0, 0, 1, 1, 1, 1, 0, 0, 0, 0])
    weight = np.ones(10)
    weight[9] = 3.0
    ids = np.array(["T1", "T2"], dtype=object)
    account_ids = np.array([f"A{i}" for i in range(10)], dtype=object)
    return np.zeros(10), lon, proposed, weight, ids, account_ids


def test_a_piece_apart_from_its_reps_base_shows_its_share_and_distance_and_is_named():
    lat, lon, proposed, weight, ids, account_ids = _line()
    bases = np.array([[0.0, 0.0], [0.0, 3.5]])
    pieces = [Exclave(0, "rep base", (6, 7, 8, 9)), Exclave(1, "locked accounts", (5,))]
    table = exclave_table(pieces, ids, proposed, account_ids, weight, lat, lon, bases)
    assert list(table.columns) == COLUMNS
    far, locked = table.to_dict("records")
    assert far["territory"] == "T1" and far["accounts"] == 4 and far["why"] == "a rep base"
    assert far["share of territory"] == pytest.approx(6 / 8)
    assert far["km from rep base"] == round(float(haversine_km(0.0, 6.0, 0.0, 0.0)))  # its nearest account
    assert far["account ids"] == "A6, A7, A8, A9"
    assert locked["share of territory"] == pytest.approx(0.25)
    note = far_from_base_note(table)
    assert note is not None and note.startswith("1 rep(s) live apart from most of their territory: T1 (75% of it")
    assert "T2" not in note, "a locked piece is a lock's doing, not the base's"


def test_without_bases_no_distance_and_no_note_and_a_small_base_piece_is_not_named():
    lat, lon, proposed, weight, ids, account_ids = _line()
    table = exclave_table([Exclave(0, "rep base", (6, 7, 8, 9))], ids, proposed, account_ids, weight, lat, lon,
                          None)
    assert table["km from rep base"].isna().all()
    small = exclave_table([Exclave(0, "rep base", (6,))], ids, proposed, account_ids, weight, lat, lon,
                          np.array([[0.0, 0.0], [0.0, 3.5]]))
    assert small.loc[0, "share of territory"] == pytest.approx(0.125)
    assert far_from_base_note(small) is None
    assert exclave_table([], ids, proposed, account_ids, weight, lat, lon, None).columns.tolist() == COLUMNS
