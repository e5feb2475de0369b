"""Build ``zip_centroids.npz``: the ZIP centroids offline geocoding uses (``territory_engine/geocode.py``).

Run once by hand after installing ``zipcodes`` (MIT licence; its data derive from the US Census
ZCTA gazetteer and the USPS city/state file); the result is committed beside this script::

    python territory_engine/geography/data/build_zip_centroids.py

Every ``zipcodes`` entry with a centroid is kept, in the package's order: ``lat`` and ``long``
parsed as numbers, entries without them or at 0, 0 left out, a ZIP listed twice kept once (its
first entry); inactive ZIPs are kept, since old addresses still use them. Arrays: ``zip`` (5
digits), ``lat``, ``lon`` (degrees), ``state`` (two letters), ``county`` and ``city`` (names,
'' when unknown), and ``source`` (the ``zipcodes`` version read).

The table is committed rather than read from ``zipcodes`` at run time: reading it there keeps the
package's 42,789 dictionaries (and, from ``zipcodes`` 3, its compiled database) in memory for the
rest of the run, about 0.14 GB, and ``zipcodes`` 3 is no longer pure Python.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def read_centroids() -> dict[str, np.ndarray]:
    import zipcodes

    seen, rows = set(), []
    for r in zipcodes.list_all():
        try:
            lat, lon = float(r.get("lat")), float(r.get("long"))
        except (TypeError, ValueError):
            continue
        code = r.get("zip_code")
        if not (np.isfinite(lat) and np.isfinite(lon)) or (lat == 0 and lon == 0) or code in seen:
            continue
        seen.add(code)
        rows.append((code, lat, lon, r.get("state") or "", r.get("county") or "", r.get("city") or ""))
    zips, lat, lon, state, county, city = zip(*rows)
    return {"zip": np.array(zips, dtype=str), "lat": np.array(lat, dtype=np.float64),
            "lon": np.array(lon, dtype=np.float64), "state": np.array(state, dtype=str),
            "county": np.array(county, dtype=str), "city": np.array(city, dtype=str),
            "source": np.array(f"zipcodes {zipcodes.__version__}")}


def main() -> None:
    arrays = read_centroids()
    path = HERE / "zip_centroids.npz"
    np.savez_compressed(path, **arrays)
    print(path.name, len(arrays["zip"]), "ZIPs from", arrays["source"], path.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
