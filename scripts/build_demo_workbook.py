"""Build the demo workbook ``workbooks/territory_demo.xlsx``, deterministically.

Usage::

    python scripts/build_demo_workbook.py                 # writes workbooks/territory_demo.xlsx
    python scripts/build_demo_workbook.py --output x.xlsx

The workbook holds 4,000 invented accounts over a real US area, the Northeast and Mid-Atlantic
(ME NH VT MA RI CT NY NJ PA DE MD DC VA), placed around real ZIP centroids from the offline
``zipcodes`` table, with a current alignment of 12 territories that is plausible (contiguous,
compact cells around real cities) but visibly unbalanced (New York about 1.6 times its share of
potential, Baltimore about 0.6 times; Buffalo, whose rep works part time at capacity 0.5, holds
a little less than half a share).

How the accounts are made:

* ZIP: drawn from the active ZIP codes of the area (centroids at 0,0 dropped). ZIP codes are
  denser where people live, so drawing them uniformly (``STANDARD`` delivery ZIPs weight 1, PO
  boxes 0.3, single-organisation ZIPs 0.1) gives an account density that follows population.
  Each account sits a few hundred metres from its ZIP centroid (normal jitter, 300 m standard
  deviation) so accounts of one ZIP do not share a point.
* Potential (currency per year): lognormal, median 40,000, heavy right tail, capped so that no
  account is larger than 25% of one territory's share of the total.
* Sales (currency per year): for about 70% of accounts a Beta(2, 3) fraction of potential, blank
  for the rest (prospects).
* Workload (hours per year): grows with potential (elasticity 0.6) with lognormal noise.
* Opportunities: Poisson counts, more for larger accounts.
* Locked: 15 key accounts drawn among the largest 5% by potential.

The current alignment is a power diagram (additively weighted Voronoi cells, which are convex in
a local equirectangular projection, hence contiguous) of 12 real cities. Its weights are tuned
by a few hundred fixed-point steps so that each territory holds a chosen multiple of its share
of potential (from 1.65 down to 0.45). See Aurenhammer, F. (1987), "Power diagrams: properties,
algorithms and applications", SIAM J. Comput. 16(1), 78-96.

Determinism: one ``numpy`` generator with a fixed seed, sorted ZIP table, fixed document
properties, and the xlsx ZIP container rewritten with fixed entry dates, so every run writes a
byte-identical file. Uses only numpy, pandas, openpyxl and zipcodes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import zipcodes
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.writer.excel import ExcelWriter

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO / "workbooks" / "territory_demo.xlsx"

SEED = 20240607
N_ACCOUNTS = 4_000
N_LOCKED = 15
STATES = ("ME", "NH", "VT", "MA", "RI", "CT", "NY", "NJ", "PA", "DE", "MD", "DC", "VA")
ZIP_TYPE_WEIGHT = {"STANDARD": 1.0, "PO BOX": 0.3, "UNIQUE": 0.1}
JITTER_KM = 0.3
EARTH_RADIUS_KM = 6371.0088
FIXED_DATE = dt.datetime(2024, 1, 1, 0, 0, 0)
ZIP_DATE = (2024, 1, 1, 0, 0, 0)

POTENTIAL_MEDIAN = 40_000.0
POTENTIAL_SIGMA = 1.0
MAX_ACCOUNT_SHARE = 0.25
SALES_SHARE = 0.70

# (territory id, home ZIP of the rep, rep, capacity, target multiple of the fair share of potential)
TERRITORIES = (
    ("T01", "04101", "Maya Thibodeau", 1.0, 1.00),  # Portland, ME
    ("T02", "02108", "Daniel Okafor", 1.0, 1.00),  # Boston, MA
    ("T03", "06103", "Grace Lindqvist", 1.0, 0.85),  # Hartford, CT
    ("T04", "12207", "Omar Haddad", 1.0, 1.35),  # Albany, NY
    ("T05", "14202", "Hannah Kowalski", 0.5, 0.45),  # Buffalo, NY (part-time rep)
    ("T06", "10001", "Luis Romero", 1.0, 1.65),  # New York, NY
    ("T07", "19103", "Priya Raman", 1.0, 1.05),  # Philadelphia, PA
    ("T08", "15222", "Ethan Brooks", 1.0, 1.00),  # Pittsburgh, PA
    ("T09", "17101", "Sofia Marchetti", 1.0, 0.90),  # Harrisburg, PA
    ("T10", "21202", "Marcus Bell", 1.0, 0.60),  # Baltimore, MD
    ("T11", "20001", "Chloe Nguyen", 1.0, 0.95),  # Washington, DC
    ("T12", "23219", "Samuel Adeyemi", 1.0, 1.10),  # Richmond, VA
)

INDUSTRIES = ("Healthcare", "Manufacturing", "Retail", "Education", "Hospitality",
              "Construction", "Logistics", "Professional Services", "Government", "Technology")
INDUSTRY_WEIGHTS = (0.18, 0.14, 0.14, 0.10, 0.08, 0.08, 0.08, 0.10, 0.04, 0.06)

SURNAMES = ("Abbott", "Baxter", "Calloway", "Delgado", "Ellison", "Fairbanks", "Garrison",
            "Holloway", "Iverson", "Jennings", "Keller", "Langford", "Mercer", "Norwood",
            "Oakley", "Prescott", "Quinlan", "Radcliffe", "Sterling", "Thornton", "Underwood",
            "Vance", "Whitman", "Yardley", "Ashford", "Bramwell", "Crane", "Dunmore", "Everett",
            "Fletcher", "Gallagher", "Hartley", "Kingsley", "Lockwood", "Morrow", "Pemberton",
            "Rowland", "Sinclair", "Talbot", "Winslow")
ADJECTIVES = ("Summit", "Harbor", "Keystone", "Liberty", "Pioneer", "Granite", "Atlantic",
              "Evergreen", "Riverside", "Heritage", "Beacon", "Patriot", "Allegheny", "Chesapeake",
              "Hudson", "Blue Ridge", "Northfield", "Bayview", "Cornerstone", "Meridian",
              "Pinnacle", "Colonial", "Lakeshore", "Highland")
NOUNS_BY_INDUSTRY = {
    "Healthcare": ("Medical Group", "Health Partners", "Family Clinic", "Dental Care",
                   "Rehab Center", "Pharmacy"),
    "Manufacturing": ("Precision Parts", "Fabrication", "Tool & Die", "Plastics",
                      "Machine Works", "Metalcraft"),
    "Retail": ("Outfitters", "Home Goods", "Market", "Hardware", "Supply Store", "Boutique"),
    "Education": ("Academy", "Learning Center", "Prep School", "Institute", "College",
                  "Day School"),
    "Hospitality": ("Hotel Group", "Inn", "Restaurants", "Catering", "Resorts", "Bistro"),
    "Construction": ("Builders", "Contracting", "Roofing", "Paving", "Masonry",
                     "Construction"),
    "Logistics": ("Freight", "Logistics", "Transport", "Distribution", "Warehousing",
                  "Couriers"),
    "Professional Services": ("Consulting", "Law Offices", "Accounting", "Engineering",
                              "Advisors", "Architects"),
    "Government": ("Water Authority", "Housing Authority", "Transit District",
                   "Public Library", "School District", "Parks Department"),
    "Technology": ("Software", "Data Systems", "Networks", "Labs", "Digital", "IT Services"),
}
SUFFIXES = ("Inc.", "LLC", "Co.", "Corp.", "Group", "Ltd.", "& Sons", "")


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------

def zip_table() -> pd.DataFrame:
    """Active ZIP codes of the area with real centroids, sorted by ZIP.

    Returns
    -------
    pandas.DataFrame
        Columns ``zip``, ``zip_type``, ``city``, ``state``, ``county``, ``lat``, ``lon``
        (degrees).
    """
    rows = [
        (z["zip_code"], z["zip_code_type"], z["city"], z["state"], z["county"] or "",
         float(z["lat"]), float(z["long"]))
        for z in zipcodes.list_all()
        if z["state"] in STATES and z["active"]
    ]
    table = pd.DataFrame(rows, columns=["zip", "zip_type", "city", "state", "county", "lat",
                                        "lon"])
    table = table[(table["lat"] != 0.0) & (table["lon"] != 0.0)]
    table = table[table["zip_type"].isin(list(ZIP_TYPE_WEIGHT))]
    return table.sort_values("zip", kind="stable").reset_index(drop=True)


def _project_km(lat: np.ndarray, lon: np.ndarray, lat0: float) -> np.ndarray:
    """Local equirectangular projection, in km, around latitude ``lat0`` (degrees)."""
    x = np.radians(lon) * np.cos(np.radians(lat0)) * EARTH_RADIUS_KM
    y = np.radians(lat) * EARTH_RADIUS_KM
    return np.column_stack([x, y])


def _power_assign(points: np.ndarray, sites: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Index of the power-diagram cell of each point (argmin of squared km minus weight)."""
    d2 = ((points[:, None, :] - sites[None, :, :]) ** 2).sum(axis=2)
    return np.argmin(d2 - weights[None, :], axis=1)


def current_alignment(points: np.ndarray, sites: np.ndarray, potential: np.ndarray,
                      targets: np.ndarray, *, steps: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Power-diagram alignment whose potential per cell approaches ``targets``.

    Parameters
    ----------
    points, sites : numpy.ndarray
        Projected coordinates (km) of the accounts and of the cells' sites.
    potential : numpy.ndarray
        Potential of each account (currency per year).
    targets : numpy.ndarray
        Wanted potential of each cell (currency per year), summing to the total.
    steps : int
        Fixed-point steps; the best assignment seen is returned.

    Returns
    -------
    cell : numpy.ndarray
        Cell index of each account.
    weights : numpy.ndarray
        Power weights (km^2) of the sites that give ``cell``.
    """
    weights = np.zeros(len(sites))
    best, best_weights, best_err = None, weights, np.inf
    scale = 400.0  # km^2 of weight per unit of relative error at the start
    for step in range(steps):
        cell = _power_assign(points, sites, weights)
        load = np.bincount(cell, weights=potential, minlength=len(sites))
        rel = (load - targets) / targets
        err = float(np.abs(rel).max())
        if err < best_err and np.all(load > 0):
            best, best_weights, best_err = cell, weights.copy(), err
        if err < 0.03:
            break
        weights = weights - scale * np.clip(rel, -1.0, 1.0) * (0.995 ** step) * 10
        weights -= weights.mean()
    return best, best_weights


def company_names(industry: np.ndarray, cities: np.ndarray, rng: np.random.Generator) -> list:
    """Plausible, unique company names built from word lists."""
    names: list[str] = []
    seen: set[str] = set()
    for ind, city in zip(industry, cities):
        nouns = NOUNS_BY_INDUSTRY[ind]
        while True:
            pattern = rng.integers(4)
            noun = nouns[rng.integers(len(nouns))]
            suffix = SUFFIXES[rng.integers(len(SUFFIXES))]
            if pattern == 0:
                first = SURNAMES[rng.integers(len(SURNAMES))]
            elif pattern == 1:
                first = ADJECTIVES[rng.integers(len(ADJECTIVES))]
            elif pattern == 2:
                first = str(city).title()
            else:
                a, b = rng.choice(len(SURNAMES), size=2, replace=False)
                first = f"{SURNAMES[a]} & {SURNAMES[b]}"
                suffix = ""
            if ind == "Government" or noun.split()[-1] in ("Group", "Partners"):
                suffix = ""
            if suffix == "& Sons" and pattern != 0:
                suffix = "Inc."
            name = " ".join(part for part in (first, noun, suffix) if part)
            if name not in seen:
                seen.add(name)
                names.append(name)
                break
    return names


def build_tables(seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Accounts and reps of the demo, as sheet-ready frames (headers as in the workbook)."""
    rng = np.random.default_rng(seed)
    zips = zip_table()

    # Accounts around ZIP centroids.
    weight = zips["zip_type"].map(ZIP_TYPE_WEIGHT).to_numpy()
    pick = rng.choice(len(zips), size=N_ACCOUNTS, replace=True, p=weight / weight.sum())
    place = zips.iloc[pick].reset_index(drop=True)
    lat = place["lat"].to_numpy() + np.degrees(rng.normal(0, JITTER_KM, N_ACCOUNTS)
                                               / EARTH_RADIUS_KM)
    lon = place["lon"].to_numpy() + np.degrees(
        rng.normal(0, JITTER_KM, N_ACCOUNTS) / (EARTH_RADIUS_KM * np.cos(np.radians(lat))))
    lat, lon = np.round(lat, 5), np.round(lon, 5)

    # Measures.
    n_terr = len(TERRITORIES)
    potential = POTENTIAL_MEDIAN * rng.lognormal(0.0, POTENTIAL_SIGMA, N_ACCOUNTS)
    for _ in range(3):  # cap against the share; the cap barely moves the total
        potential = np.minimum(potential, MAX_ACCOUNT_SHARE * potential.sum() / n_terr)
    potential = np.round(potential, -2)
    has_sales = rng.random(N_ACCOUNTS) < SALES_SHARE
    sales = np.where(has_sales, np.round(potential * rng.beta(2, 3, N_ACCOUNTS), -1), np.nan)
    workload = 12.0 + 60.0 * (potential / POTENTIAL_MEDIAN) ** 0.6 * rng.lognormal(
        0.0, 0.35, N_ACCOUNTS)
    workload = np.round(workload, 1)
    opportunities = rng.poisson(0.5 + 1.5 * np.sqrt(potential / POTENTIAL_MEDIAN))
    industry = np.asarray(INDUSTRIES)[rng.choice(len(INDUSTRIES), size=N_ACCOUNTS,
                                                 p=INDUSTRY_WEIGHTS)]

    # Current alignment: power diagram of the reps' home cities.
    homes = pd.DataFrame([zipcodes.matching(z)[0] for _, z, *_ in TERRITORIES])
    home_lat = homes["lat"].astype(float).to_numpy()
    home_lon = homes["long"].astype(float).to_numpy()
    lat0 = float(np.mean(lat))
    points = _project_km(lat, lon, lat0)
    sites = _project_km(home_lat, home_lon, lat0)
    factor = np.array([t[4] for t in TERRITORIES])
    targets = potential.sum() / n_terr * factor / factor.mean()
    cell, power = current_alignment(points, sites, potential, targets)
    home_cell = _power_assign(sites, sites, power)
    if not np.array_equal(home_cell, np.arange(n_terr)):  # a builder bug, not user input
        raise RuntimeError(f"a rep's home lies outside its territory: {home_cell}")
    territory_ids = np.array([t[0] for t in TERRITORIES])
    rep_names = np.array([t[2] for t in TERRITORIES])

    # Locked key accounts: among the largest 5%, never above 40% of a territory's share.
    share = potential.sum() / n_terr
    large = np.flatnonzero((potential >= np.quantile(potential, 0.95))
                           & (potential <= 0.4 * share))
    locked = np.zeros(N_ACCOUNTS, dtype=bool)
    locked[np.sort(rng.choice(large, size=N_LOCKED, replace=False))] = True

    names = company_names(industry, place["city"].to_numpy(), rng)
    accounts = pd.DataFrame({
        "Account ID": [f"A{i:05d}" for i in range(1, N_ACCOUNTS + 1)],
        "Account Name": names,
        "ZIP": place["zip"].to_numpy(),
        "City": place["city"].str.title().to_numpy(),
        "State": place["state"].to_numpy(),
        "County": place["county"].to_numpy(),
        "Latitude": lat,
        "Longitude": lon,
        "Territory": territory_ids[cell],
        "Rep": rep_names[cell],
        "Locked": locked,
        "Potential": potential,
        "Sales": sales,
        "Workload": workload,
        "Opportunities": opportunities,
        "Industry": industry,
    })
    reps = pd.DataFrame({
        "Territory": territory_ids,
        "Rep": rep_names,
        "Home ZIP": [t[1] for t in TERRITORIES],
        "Latitude": np.round(home_lat, 5),
        "Longitude": np.round(home_lon, 5),
        "Capacity": [t[3] for t in TERRITORIES],
    })
    return accounts, reps


# --------------------------------------------------------------------------------------------
# Sheets
# --------------------------------------------------------------------------------------------

SETTINGS = (
    ("territories", 12, "Number of territories in the proposed alignment."),
    ("balance", "potential,workload",
     "Measures to balance: names of numeric Accounts columns, separated by commas."),
    ("weights", "0.6,0.4", "Weight of each balance measure, in the same order, summing to 1."),
    ("tolerance", 0.05,
     "Allowed deviation of a territory from its target, as a fraction (0.05 = plus or minus 5%)."),
    ("balance_each_measure", False,
     "TRUE: every measure must be within tolerance on its own; FALSE: their weighted blend."),
    ("disruption_weight", 1,
     "How strongly accounts stay with their current territory and rep (0: compactness only; "
     "1: move only for balance or a large gain)."),
    ("max_moved_share", 1,
     "Largest share of accounts allowed to change territory (1 = no limit, 0.2 = 20%)."),
    ("seed", 7, "Random seed: the same data and settings always give the same alignment."),
    ("score_measures", "potential,sales,opportunities",
     "Columns combined into the account score by Score accounts."),
    ("score_weights", "0.5,0.3,0.2", "Weight of each score measure, in the same order."),
    ("score_method", "percentile",
     "How each score measure is scaled before weighting: percentile (rank from 0 to 1), "
     "minmax or zscore."),
    ("tier_cutoffs", "0.2,0.5",
     "Score shares for tiers: the top 20% of accounts are tier A, the next 30% tier B, "
     "the rest C."),
)

ACCOUNT_COLUMNS = (
    ("Account ID", "Required. Unique id of the account (text)."),
    ("Account Name", "Optional. Name shown in summaries and on the map."),
    ("ZIP", "Required unless Latitude and Longitude are given. 5-digit ZIP code, kept as text "
            "so leading zeros stay (02108, not 2108)."),
    ("City, State, County", "Optional. Where the account is; used in summaries and by ZIP or "
                            "county building blocks."),
    ("Latitude, Longitude", "Optional if ZIP is given (then the ZIP centroid is used). Decimal "
                            "degrees, for example 42.35760 and -71.06840."),
    ("Territory", "Required to compare with today. The current territory id (T01 to T12)."),
    ("Rep", "Optional. The current rep; the Reps sheet is the reference."),
    ("Locked", "Optional. TRUE keeps the account in its current territory (key accounts); "
               "blank or FALSE lets it move."),
    ("Potential", "Measure. Estimated yearly potential of the account, in dollars per year."),
    ("Sales", "Measure. Sales over the last 12 months, in dollars; blank for prospects."),
    ("Workload", "Measure. Hours per year the rep needs for the account (visits, travel, "
                 "service)."),
    ("Opportunities", "Measure. Number of open opportunities."),
    ("Industry", "Optional. Text, carried through to the results."),
)

REP_COLUMNS = (
    ("Territory", "Required. Territory id, one row per territory."),
    ("Rep", "Required. The rep's name."),
    ("Home ZIP", "Home base of the rep (text). Used for travel distances and the map."),
    ("Latitude, Longitude", "Optional if Home ZIP is given. Decimal degrees of the home base."),
    ("Capacity", "Optional, default 1. Share of a full-time load: 0.5 for a part-time rep, "
                 "whose territory then targets half a share."),
)

CLI_LINES = (
    "territory measure workbooks/territory_demo.xlsx",
    "territory rebalance workbooks/territory_demo.xlsx --territories 12 --balance "
    "potential,workload --weights 0.6,0.4 --tolerance 0.05 --output proposed.xlsx",
    "territory demo",
)

BOLD = Font(bold=True)
TITLE = Font(bold=True, size=16)
HEADING = Font(bold=True, size=12)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
WRAP = Alignment(wrap_text=True, vertical="top")
CURRENCY = '"$"#,##0'
TEXT = "@"


def _read_me_rows() -> list[tuple[str, str | None, str | None]]:
    """Lines of the Read me sheet as (style, column A text, column B text)."""
    rows: list[tuple[str, str | None, str | None]] = [
        ("title", "Territory Planner: demo workbook", None),
        ("text", "This workbook is a complete, invented example for the Territory Planner. It "
                 "holds 4,000 accounts in the Northeast and Mid-Atlantic (Maine to Virginia), "
                 "their current alignment to 12 sales territories, the 12 reps, and the "
                 "settings for a rebalance. The accounts are made up; the ZIP codes, cities and "
                 "coordinates are real. Today's alignment is deliberately unbalanced: the New "
                 "York territory (T06) carries about 1.6 times its share of potential and "
                 "Baltimore (T10) about 0.6 times. Buffalo (T05) is small on purpose: its rep "
                 "works part time (Capacity 0.5 on the Reps sheet), so its target is half a "
                 "share.", None),
        ("text", "Results always go to new sheets or to a new file. The input sheets (Accounts, "
                 "Reps, Settings) are never overwritten, so you can try settings freely.", None),
        ("blank", None, None),
        ("heading", "What to do", None),
        ("step", "1. Check the data",
         "Finds missing ids, duplicate ids, ZIP codes that do not exist, numbers typed as text "
         "and unknown settings, and lists each problem with its cell (for example Accounts!L14) "
         "and how to fix it. Fix the problems in the input sheets and check again."),
        ("step", "2. Look at the current balance",
         "Territory summary: per territory, the accounts, potential, sales, workload and how "
         "far each is from its target (its balance)."),
        ("step", "3. Rebalance",
         "Proposes a new alignment that brings every territory within the tolerance of its "
         "target on the balance measures, moves as few accounts as it can, keeps locked "
         "accounts where they are and keeps territories compact."),
        ("step", "4. Review the proposal",
         "Read the Proposed alignment sheet (the proposed territory of every account and "
         "whether it moved), the Moves sheet (every account that changes territory, with the "
         "reason), the new Territory summary and the Balance sheet. Change the settings and "
         "rebalance again if needed."),
        ("step", "5. Open the map",
         "Shows the accounts coloured by territory, the reps' home bases and the moves. The map "
         "is a file that works offline."),
        ("blank", None, None),
        ("heading", "In Excel: the Territory ribbon tab", None),
        ("step", "Check data", "Step 1: checks the Accounts, Reps and Settings sheets; what it "
                               "found goes to a Check sheet, problems to an Errors sheet."),
        ("step", "Score accounts", "Adds a score and a tier (A, B, C) to every account, from the "
                                   "score_ settings, on a Scored accounts sheet."),
        ("step", "Rebalance", "Step 3: writes the Proposed alignment, the Moves with their "
                              "reasons, the Territory summary and the Balance to new sheets."),
        ("step", "Territory summary", "Step 2: the balance of the current (or proposed) "
                                      "alignment, on a new sheet."),
        ("step", "Open map", "Step 5: opens the interactive map in your browser."),
        ("step", "Map snapshot", "Puts a picture of the map on a new sheet."),
        ("step", "Help", "Opens this guide."),
        ("blank", None, None),
        ("heading", "On the command line", None),
        ("step", "Current balance (step 2)", CLI_LINES[0]),
        ("step", "Rebalance to a new file (steps 3 and 4)", CLI_LINES[1]),
        ("step", "Make a fresh copy of this demo", CLI_LINES[2]),
        ("text", "The rebalance command reads this workbook and writes proposed.xlsx, with the "
                 "same sheets as the Rebalance button; this workbook is left unchanged. Options "
                 "given on the command line win over the Settings sheet.", None),
        ("blank", None, None),
        ("heading", "Sheets", None),
        ("step", "Read me", "This guide."),
        ("step", "Accounts", "One row per account: where it is, its current territory and rep, "
                             "and its measures."),
        ("step", "Reps", "One row per territory: the rep, the home base and the capacity."),
        ("step", "Settings", "The options for checking, scoring and rebalancing: one Key and "
                             "Value per row, with its Meaning."),
        ("blank", None, None),
        ("heading", "Accounts columns", None),
    ]
    rows += [("step", name, meaning) for name, meaning in ACCOUNT_COLUMNS]
    rows += [("text", "Any other numeric column can be used as a measure: name it in the "
                      "Settings (balance, score_measures).", None),
             ("blank", None, None), ("heading", "Reps columns", None)]
    rows += [("step", name, meaning) for name, meaning in REP_COLUMNS]
    rows += [("blank", None, None), ("heading", "Settings keys", None)]
    rows += [("step", key, f"{meaning} Demo value: {_value_text(value)}.")
             for key, value, meaning in SETTINGS]
    rows += [("text", "Settings given on the command line or in the ribbon's dialog win over "
                      "this sheet; keys left out take their defaults.", None)]
    return rows


def _value_text(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


def _write_read_me(ws) -> None:
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 100
    for r, (style, a, b) in enumerate(_read_me_rows(), start=1):
        if style == "blank":
            continue
        if style in ("title", "heading", "text"):
            cell = ws.cell(row=r, column=1, value=a)
            cell.font = TITLE if style == "title" else HEADING if style == "heading" else Font()
            if style == "title":
                ws.row_dimensions[r].height = 24
            if style == "text":
                ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=2)
                cell.alignment = WRAP
                ws.row_dimensions[r].height = 15 * max(2, int(np.ceil(len(a) / 120)) + 1)
            continue
        ca = ws.cell(row=r, column=1, value=a)
        ca.font = BOLD
        ca.alignment = WRAP
        cb = ws.cell(row=r, column=2, value=b)
        cb.alignment = WRAP
        if b and len(b) > 95:
            ws.row_dimensions[r].height = 15 * int(np.ceil(len(b) / 95))
    ws.sheet_view.showGridLines = False


def _write_header(ws, headers: list[str]) -> None:
    for c, header in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=c, value=header)
        cell.font = BOLD
        cell.fill = HEADER_FILL
    ws.freeze_panes = "A2"


def _write_frame(ws, frame: pd.DataFrame, formats: dict[str, str],
                 widths: dict[str, float]) -> None:
    """Write a frame below a bold, frozen header; text columns as text cells."""
    _write_header(ws, list(frame.columns))
    columns = list(frame.columns)
    for c, name in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(c)].width = widths.get(name, 12)
    values = frame.astype(object).where(frame.notna(), None).to_numpy()
    for r, row in enumerate(values, start=2):
        for c, value in enumerate(row, start=1):
            if isinstance(value, (np.bool_, bool)):
                value = bool(value)
            elif isinstance(value, np.integer):
                value = int(value)
            elif isinstance(value, np.floating):
                value = float(value)
            cell = ws.cell(row=r, column=c, value=value)
            fmt = formats.get(columns[c - 1])
            if fmt:
                cell.number_format = fmt


def _write_settings(ws) -> None:
    _write_header(ws, ["Key", "Value", "Meaning"])
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 30
    ws.column_dimensions["C"].width = 95
    for r, (key, value, meaning) in enumerate(SETTINGS, start=2):
        ws.cell(row=r, column=1, value=key)
        cell = ws.cell(row=r, column=2, value=value)
        if isinstance(value, str):
            cell.number_format = TEXT
        cell.alignment = Alignment(horizontal="left")
        ws.cell(row=r, column=3, value=meaning).alignment = WRAP


def build_workbook(accounts: pd.DataFrame, reps: pd.DataFrame) -> Workbook:
    """The demo workbook, in memory."""
    wb = Workbook()
    read_me = wb.active
    read_me.title = "Read me"
    _write_read_me(read_me)

    ws = wb.create_sheet("Accounts")
    formats = {"ZIP": TEXT, "Latitude": "0.00000", "Longitude": "0.00000",
               "Potential": CURRENCY, "Sales": CURRENCY, "Workload": "#,##0.0",
               "Opportunities": "0", "Account ID": TEXT}
    widths = {"Account ID": 12, "Account Name": 38, "ZIP": 8, "City": 20, "State": 7,
              "County": 24, "Latitude": 11, "Longitude": 11, "Territory": 10, "Rep": 18,
              "Locked": 9, "Potential": 13, "Sales": 13, "Workload": 11, "Opportunities": 14,
              "Industry": 22}
    _write_frame(ws, accounts, formats, widths)
    ref = f"A1:{get_column_letter(accounts.shape[1])}{len(accounts) + 1}"
    table = Table(displayName="AccountsTable", ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
    ws.add_table(table)

    ws = wb.create_sheet("Reps")
    _write_frame(ws, reps, {"Home ZIP": TEXT, "Latitude": "0.00000", "Longitude": "0.00000",
                            "Capacity": "0.0"},
                 {"Territory": 10, "Rep": 20, "Home ZIP": 10, "Latitude": 11, "Longitude": 11,
                  "Capacity": 10})

    _write_settings(wb.create_sheet("Settings"))

    wb.properties.creator = "Territory Planner"
    wb.properties.lastModifiedBy = "Territory Planner"
    wb.properties.title = "Territory Planner demo"
    wb.properties.created = FIXED_DATE
    wb.properties.modified = FIXED_DATE
    return wb


def _xlsx_bytes(wb: Workbook) -> bytes:
    """The xlsx container with fixed entry dates, so equal workbooks give equal bytes."""
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(wb, archive).save()  # unlike openpyxl's save, keeps `modified`
    fixed = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(fixed, "w") as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, src.read(info.filename), compresslevel=6)
    return fixed.getvalue()


def write_demo(output: Path | str = DEFAULT_OUTPUT, *, seed: int = SEED) -> Path:
    """Build the demo workbook and move it into place at ``output``."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    accounts, reps = build_tables(seed)
    data = _xlsx_bytes(build_workbook(accounts, reps))
    fd, tmp = tempfile.mkstemp(suffix=".xlsx", dir=output.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, output)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT),
                        help="where to write the workbook (default: workbooks/territory_demo.xlsx)")
    args = parser.parse_args(argv)
    path = write_demo(args.output)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
