"""Workbooks with regions and districts, written with openpyxl, for the tests of regions and the edge cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl

REGIONS = ("West", "Central", "East")


def region_book(path: Path, *, reps: list[list] | None = None, settings: list[list] | None = None,
                region: bool = True, district: bool = True, n: int = 240, seed: int = 3, equal: bool = False,
                blank_region_rows: tuple[int, ...] = ()) -> Path:
    """Accounts in three regions (West, Central, East by longitude), two districts each (North and South
    by latitude), nine territories T1..T9 numbered by longitude, so that T3 and T7 hold a few accounts of
    the next region; T4 (Central) also holds a few West accounts.

    ``equal``: every account's Potential is 1000 and each region holds exactly a third of the accounts
    (so each region's load is exactly its three territories' overall targets), split 40/30/30 among them.
    ``blank_region_rows``: 0-based account rows whose Region cell is left blank. Returns ``path``.
    """
    rng = np.random.default_rng(seed)
    if equal:
        third = n // 3
        lon = np.concatenate([rng.uniform(lo, hi, size) for (lo, hi), size in
                              zip(((-120, -105.5), (-104.5, -90.5), (-89.5, -75)), (third, third, n - 2 * third))])
        lon = np.sort(lon)
        potential = np.full(n, 1000.0)
    else:
        lon = np.sort(rng.uniform(-120.0, -75.0, n))
        potential = np.round(rng.lognormal(8.0, 0.6, n))
    lat = rng.uniform(33.0, 45.0, n)
    regions = np.array(REGIONS)[np.searchsorted(np.array([-105.0, -90.0]), lon)]
    territory = np.minimum((np.arange(n) * 9) // n, 8) + 1
    if equal:
        # each region's three territories hold 40%, 30% and 30% of its accounts: +20%, -10%, -10%
        rank = np.concatenate([np.arange((regions == r).sum()) / (regions == r).sum() for r in REGIONS])
        territory = 3 * np.array([REGIONS.index(r) for r in regions]) + np.searchsorted([0.4, 0.7], rank,
                                                                                          side="right") + 1
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Accounts"
    head = ["Account ID", "Latitude", "Longitude", "Potential", "Territory"]
    extra = (["Region"] if region else []) + (["District"] if district else [])
    head[3:3] = extra
    ws.append(head)
    for i in range(n):
        terr = f"T{territory[i]}"
        if not equal and regions[i] == "West" and territory[i] == 3 and i % 4 == 0:
            terr = "T4"  # T4 (Central) also holds a few West accounts
        cells = []
        if region:
            cells.append(None if i in blank_region_rows else str(regions[i]))
        if district:
            cells.append(f"{regions[i]} {'North' if lat[i] > 39 else 'South'}")
        ws.append([f"A{i + 1:04d}", round(float(lat[i]), 5), round(float(lon[i]), 5), *cells, float(potential[i]),
                   terr])
    for name, rows in (("Reps", reps), ("Settings", settings)):
        if rows is not None:
            sheet = wb.create_sheet(name)
            for r in ([["Key", "Value"]] if name == "Settings" else []) + rows:
                sheet.append(r)
    wb.save(path)
    return path
