"""The one place that maps sheet headers to engine column names and back.

Headers are recognised ignoring case, spaces, underscores, hyphens and dots, with common
synonyms. Engine columns are snake_case. Every other numeric column is a *measure*
(potential, sales, workload, ...), kept under its own snake_case name.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "TRUE_WORDS",
    "FALSE_WORDS",
    "ACCOUNT_SYNONYMS",
    "REP_SYNONYMS",
    "SETTINGS_SYNONYMS",
    "OUTPUT_COLUMNS",
    "COMMON_HEADERS",
    "normalise_header",
    "snake_case",
    "recognise",
    "display_header",
]

# Yes/no cells (lower case). Besides English words, the TRUE and FALSE that Excel writes into
# a CSV in German, French, Spanish, Italian, Portuguese, Dutch, Swedish, Danish, Norwegian,
# Finnish and Polish.
TRUE_WORDS = frozenset({"true", "yes", "y", "1", "x", "wahr", "vrai", "verdadero", "vero", "verdadeiro",
                        "waar", "sant", "sand", "sann", "tosi", "prawda"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "falsch", "faux", "falso", "onwaar", "falskt", "falsk",
                         "usann", "epätosi", "fałsz"})

ACCOUNT_SYNONYMS: dict[str, tuple[str, ...]] = {
    "account_id": ("accountid", "account", "accountnumber", "accountno", "id", "customerid",
                   "customer", "custid", "acctid", "acct"),
    "account_name": ("accountname", "name", "customername", "company", "companyname"),
    "lat": ("latitude", "lat", "y"),
    "lon": ("longitude", "lon", "lng", "long", "x"),
    "zip": ("zip", "zipcode", "postalcode", "postcode", "zip5", "postal"),
    "state": ("state", "st", "statecode", "province"),
    "county": ("county", "countyname", "countyfips", "fips"),
    "territory": ("territory", "territoryid", "currentterritory", "terr", "territoryname"),
    "rep": ("rep", "repname", "owner", "salesrep", "accountowner"),
    "locked": ("locked", "lock", "fixed", "pinned", "dontmove", "donotmove"),
    "tier": ("tier", "accounttier", "abctier"),  # A/B/C: the workload model's visits per year
    "region": ("region", "regionname", "salesregion"),
    "district": ("district", "districtname", "salesdistrict"),
}

REP_SYNONYMS: dict[str, tuple[str, ...]] = {
    "territory": ACCOUNT_SYNONYMS["territory"],
    "rep": ("rep", "repname", "name", "owner", "salesrep"),
    "lat": ("latitude", "lat", "homelat", "baselat", "homelatitude", "baselatitude"),
    "lon": ("longitude", "lon", "lng", "long", "homelon", "baselon", "homelongitude",
            "baselongitude", "homelng"),
    "zip": ("zip", "zipcode", "postalcode", "homezip", "basezip", "homebasezip", "home", "homebase"),
    "capacity": ("capacity", "fte", "capacityfte"),
    # the rep's capacity in hours per year for the workload model (not the relative capacity above)
    "capacity_hours": ("capacityhours", "capacityhoursperyear", "capacityinhours", "hourscapacity"),
    "region": ACCOUNT_SYNONYMS["region"],
    "district": ACCOUNT_SYNONYMS["district"],
}

SETTINGS_SYNONYMS: dict[str, tuple[str, ...]] = {
    "key": ("key", "setting", "name", "parameter"),
    "value": ("value", "setting value"),
}

OUTPUT_COLUMNS = ("proposed_territory", "moved", "move_reason", "proposed_rep")

COMMON_HEADERS = frozenset({"country", "countrycode", "countryname", "stage", "status", "block", "city", "region",
                            "industry", "segment", "latest", "longest"})
"""Headers (normalised) of columns that tables often have and that are spelled like a known
header but are not a misspelling of it ("Country" is not "County")."""

_HEADERS = {
    "account_id": "Account ID",
    "account_name": "Account Name",
    "lat": "Latitude",
    "lon": "Longitude",
    "zip": "ZIP",
    "state": "State",
    "county": "County",
    "territory": "Territory",
    "rep": "Rep",
    "locked": "Locked",
    "capacity": "Capacity",
    "capacity_hours": "Capacity hours",
    "tier": "Tier",
    "pieces": "Pieces",
    "region": "Region",
    "district": "District",
}


def normalise_header(header: object) -> str:
    """Lower-case a header and drop spaces, underscores, hyphens and dots.

    The header is first brought to its compatibility form (NFKC: fullwidth ``Ｌａｔ`` is
    ``Lat``) and stripped of invisible format characters (Unicode category Cf: zero-width
    spaces, byte-order marks, bidirectional marks), so a header Excel shows as "Latitude"
    is recognised as one; the user's header text itself is kept in outputs.
    """
    text = unicodedata.normalize("NFKC", str(header))
    if not text.isascii():
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return re.sub(r"[\s_\-.]+", "", text.strip().lower())


def snake_case(header: object) -> str:
    """``'Annual Potential ($)'`` -> ``'annual_potential'``."""
    text = re.sub(r"[^0-9a-zA-Z]+", "_", str(header).strip().lower()).strip("_")
    return text or "column"


def recognise(headers: list[object], synonyms: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Map engine column names to the position of the first header that matches.

    Exact names win over synonyms, so a sheet with both ``ID`` and ``Account ID``
    uses ``Account ID``.
    """
    normalised = [normalise_header(h) for h in headers]
    found: dict[str, int] = {}
    taken: set[int] = set()
    for name, options in synonyms.items():
        for option in (normalise_header(name), *options):
            if option in normalised and normalised.index(option) not in taken:
                found[name] = normalised.index(option)
                taken.add(found[name])
                break
    return found


def display_header(column: str) -> str:
    """Header shown in sheets for an engine column (``account_id`` -> ``Account ID``)."""
    return _HEADERS.get(column, column.replace("_", " ").capitalize() if "_" in column else column)
