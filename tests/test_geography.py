"""Geography building blocks (issue 15, section 1): the shipped shapes, their adjacency and the lookups."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import shapely
from scipy.sparse.csgraph import connected_components

from territory_engine.geography import KINDS, block_of, block_shapes, load_blocks, resolve_blocks


def _geometries(kind: str) -> list:
    blocks = load_blocks(kind)
    return [shapely.MultiPolygon([shapely.Polygon(rings[0], rings[1:]) for rings in polygons])
            for polygons in block_shapes(kind, blocks.ids.tolist())]


@pytest.fixture(scope="module")
def shapes() -> dict:
    return {kind: _geometries(kind) for kind in KINDS}


def _neighbours(kind: str, a: str, b: str) -> bool:
    blocks = load_blocks(kind)
    i, j = blocks.position[a], blocks.position[b]
    return blocks.adjacency[i, j] > 0 and not blocks.links[i, j]


@pytest.mark.parametrize("kind", KINDS)
def test_every_block_has_a_valid_shape_and_sensible_figures(shapes, kind):
    blocks = load_blocks(kind)
    geometries = np.array(shapes[kind], dtype=object)
    assert len(geometries) == len(blocks) == len(set(blocks.ids.tolist()))
    invalid = [(b, shapely.is_valid_reason(g)) for b, g in zip(blocks.ids, geometries) if not g.is_valid]
    assert invalid == []
    assert (blocks.area_km2 > 0).all()
    assert (np.abs(blocks.lat) <= 90).all() and (np.abs(blocks.lon) <= 180).all()
    width = {"state": 2, "county": 5, "zip": 5}[kind]
    assert all(len(b) == width for b in blocks.ids.tolist())


def test_the_kinds_have_the_expected_counts():
    assert len(load_blocks("state")) == 52  # 50 states, DC, Puerto Rico
    assert 3200 <= len(load_blocks("county")) <= 3235
    assert 29_000 <= len(load_blocks("zip")) <= 30_000


GRID_DEG = 0.001  # the grid of the stored points (build_blocks.PRECISION_DEG), finer than the 0.005 simplification


@pytest.mark.parametrize("kind", ["county", "zip"])
def test_blocks_cover_each_state_without_overlaps(shapes, kind):
    """Per state, the blocks' union is the state's shape and their areas add up to it: whatever gap or
    overlap is left is on average narrower than the grid along the borders (area <= length x grid)."""
    blocks = load_blocks(kind)
    states = load_blocks("state")
    state_shapes = dict(zip(states.ids.tolist(), shapes["state"]))
    geometries = np.array(shapes[kind], dtype=object)
    for code in states.ids.tolist():
        mine = geometries[blocks.state == code]
        union = shapely.union_all(mine)
        overlap = shapely.area(mine).sum() - union.area
        assert overlap <= 0.1 * GRID_DEG * shapely.length(mine).sum(), (code, overlap)
        assert overlap <= 1e-4 * union.area, (code, overlap)
        gap = state_shapes[code].symmetric_difference(union).area
        assert gap <= GRID_DEG * state_shapes[code].length, (code, gap)
        assert gap <= 1e-2 * union.area, (code, gap)


@pytest.mark.parametrize("kind", KINDS)
def test_adjacency_is_symmetric_with_positive_km(kind):
    blocks = load_blocks(kind)
    adjacency, links = blocks.adjacency, blocks.links
    assert adjacency.shape == (len(blocks), len(blocks))
    assert abs(adjacency - adjacency.T).max() == 0
    assert (adjacency.data > 0).all() and adjacency.diagonal().max() == 0
    assert (links != links.T).nnz == 0
    assert (adjacency.multiply(links) > 0).nnz == links.nnz  # every link is an entry of the adjacency
    i, j = adjacency.nonzero()
    from territory_engine.geo import haversine_km

    assert np.allclose(adjacency.data, np.maximum(haversine_km(blocks.lat[i], blocks.lon[i], blocks.lat[j],
                                                               blocks.lon[j]), 0.001))


def test_known_neighbours_share_a_border_and_others_do_not():
    assert _neighbours("county", "17031", "17043")  # Cook and DuPage, IL
    assert _neighbours("county", "06037", "06059")  # Los Angeles and Orange, CA
    assert _neighbours("county", "24510", "24005")  # Baltimore city and Baltimore County, MD
    assert _neighbours("zip", "60601", "60611")  # the Loop and Streeterville, across the Chicago River
    assert _neighbours("zip", "10001", "10011")  # Chelsea: 10001 north of West 23rd Street, 10011 south of it
    assert _neighbours("state", "IL", "WI") and _neighbours("state", "MD", "DC")
    assert not _neighbours("state", "AZ", "CO")  # Four Corners: a common point is not a border
    assert not _neighbours("state", "UT", "NM")
    assert not _neighbours("county", "17031", "06037")


@pytest.mark.parametrize("kind", KINDS)
def test_every_block_reaches_every_block_of_its_state_and_of_the_country(kind):
    blocks = load_blocks(kind)
    graph = blocks.adjacency
    assert connected_components(graph, directed=False)[0] == 1
    rows, cols = graph.nonzero()
    same = blocks.state[rows] == blocks.state[cols]
    from scipy.sparse import coo_matrix

    within = coo_matrix((np.ones(same.sum()), (rows[same], cols[same])), shape=graph.shape)
    labels = connected_components(within, directed=False)[1]
    for code in np.unique(blocks.state):
        assert len(np.unique(labels[blocks.state == code])) == 1, code


def test_islands_are_joined_by_links_not_borders():
    counties = load_blocks("county")
    hawaii = np.flatnonzero(counties.state == "HI")
    border = counties.adjacency.copy()
    border[counties.links.nonzero()] = 0
    border.eliminate_zeros()
    # Hawaii's counties are islands (Kalawao shares Molokai with Maui), so links hold the state together
    assert connected_components(border[hawaii][:, hawaii], directed=False)[0] >= 4
    assert counties.links[hawaii][:, hawaii].nnz >= 6
    states = load_blocks("state")
    for code in ("HI", "AK", "PR"):
        row = states.position[code]
        assert states.links[row].nnz >= 1 and states.adjacency[row].nnz == states.links[row].nnz


def test_block_of_known_zips():
    zips = ["60601", 90210, "2138", 2138.0, "10001-1234", "00000", None, "abc"]
    assert list(block_of("county", zip=zips)) == ["17031", "06037", "25017", "25017", "36061", None, None, None]
    assert list(block_of("state", zip=zips)) == ["IL", "CA", "MA", "MA", "NY", None, None, None]
    assert list(block_of("zip", zip=zips)) == ["60601", "90210", "02138", "02138", "10001", None, None, None]
    # a PO box ZIP (no area of its own) lies in the area that holds its centroid, in its county
    po_box = block_of("zip", zip=["60690"])[0]
    assert po_box in load_blocks("zip").position and block_of("county", zip=[po_box])[0] == "17031"


def test_block_of_known_points():
    lat = [41.8857, 34.0901, 21.3069, 40.7484, 18.4655, 51.5074, np.nan]
    lon = [-87.6181, -118.4065, -157.8583, -73.9857, -66.1057, -0.1278, -87.0]
    assert list(block_of("county", lat=lat, lon=lon)) == ["17031", "06037", "15003", "36061", "72127", None, None]
    assert list(block_of("state", lat=lat, lon=lon)) == ["IL", "CA", "HI", "NY", "PR", None, None]
    assert list(block_of("zip", lat=lat, lon=lon))[:2] == ["60601", "90210"]


def test_a_point_gets_the_zip_area_drawn_around_it(shapes):
    """The ZIP area from a point is the drawn area holding it (up to the 0.001 degree grid)."""
    rng = np.random.default_rng(7)
    blocks = load_blocks("zip")
    chicago = np.flatnonzero(np.char.startswith(blocks.ids.astype(str), "606"))
    lat, lon = rng.uniform(41.70, 42.0, 400), rng.uniform(-87.85, -87.55, 400)
    found = block_of("zip", lat=lat, lon=lon)
    tree = shapely.STRtree(np.array(shapes["zip"], dtype=object)[chicago])
    point, row = tree.query(shapely.points(lon, lat), predicate="within")
    drawn = dict(zip(point.tolist(), blocks.ids[chicago[row]].tolist()))
    agree = [found[p] == z for p, z in drawn.items()]
    assert len(agree) > 200 and np.mean(agree) >= 0.97


def test_block_of_with_zip_and_point_lets_the_zip_decide_and_the_point_fill_in():
    out = block_of("county", zip=["60601", "00000"], lat=[34.07, 34.07], lon=[-118.40, -118.40])
    assert list(out) == ["17031", "06037"]


def test_block_of_leaves_its_inputs_alone():
    zips = np.array(["60601", "2138"], dtype=object)
    lat, lon = np.array([41.88, 34.07]), np.array([-87.62, -118.40])
    block_of("zip", zip=zips, lat=lat, lon=lon)
    assert zips.tolist() == ["60601", "2138"] and lat.tolist() == [41.88, 34.07]
    values, states = ["Cook", 6037, None], ["IL", None, None]
    resolve_blocks("county", values, states=states)
    assert values == ["Cook", 6037, None] and states == ["IL", None, None]


@pytest.mark.parametrize("value, state, expected", [
    ("Cook County, IL", None, "17031"), ("Cook, IL", None, "17031"), ("cook county illinois", None, "17031"),
    ("COOK COUNTY", "Illinois", "17031"), ("Cook", "IL", "17031"), (17031, None, "17031"), (6037, None, "06037"),
    ("6037", None, "06037"), (6037.0, None, "06037"), ("06037", None, "06037"),
    ("Baltimore city, MD", None, "24510"), ("Baltimore County, MD", None, "24005"),
    ("St. Louis city, MO", None, "29510"), ("Saint Louis County, Missouri", None, "29189"),
    ("St Louis County", "MO", "29189"), ("Orleans Parish, LA", None, "22071"), ("Orleans", "LA", "22071"),
    ("Fairfax city, VA", None, "51600"), ("Fairfax County, VA", None, "51059"),
    ("Juneau City and Borough, AK", None, "02110"), ("Juneau Borough, AK", None, "02110"),
    ("Prince George's County, MD", None, "24033"), ("Dona Ana County, NM", None, "35013"),
    ("Doña Ana, New Mexico", None, "35013"), ("Mayagüez, PR", None, "72097"), ("Carson City, NV", None, "32510"),
    ("District of Columbia", None, "11001"), ("Washington, DC", None, "11001"), ("Washington, D.C.", None, "11001"),
    ("Washington", "DC", "11001"), ("Los Angeles County", None, "06037"),
    ("DeKalb County, GA", None, "13089"), ("De Kalb County, GA", None, "13089"), ("Cook Co., IL", None, "17031"),
    ("Denver County, CO", None, "08031"), ("denver co", "CO", "08031"), ("Denver", "Colorado", "08031"),
])
def test_resolve_blocks_reads_each_county_spelling(value, state, expected):
    resolved = resolve_blocks("county", [value], states=[state])
    assert (resolved.ids[0], resolved.reasons[0]) == (expected, None)


@pytest.mark.parametrize("value, state, reason", [
    ("Washington County", None, "ambiguous: Washington County exists in 30 states; give the state"),
    ("Baltimore, MD", None, "ambiguous: Baltimore could be Baltimore County, MD or Baltimore city, MD; give which"),
    ("Cok County, IL", None, "unknown: no county named Cok County in IL"),
    ("Cook County, ZZ", None, "unknown: 'ZZ' is not a state"),
    ("Cook County", "Atlantis", "unknown: 'Atlantis' is not a state"),
    (99999, None, "unknown: no county has the FIPS code 99999"),
    (None, None, "blank"), ("  ", None, "blank"),
])
def test_resolve_blocks_explains_what_it_cannot_resolve(value, state, reason):
    resolved = resolve_blocks("county", [value], states=[state])
    assert resolved.ids[0] is None and resolved.reasons[0].startswith(reason)


def test_every_block_name_and_id_resolves_to_its_block():
    for kind in KINDS:
        blocks = load_blocks(kind)
        assert list(resolve_blocks(kind, blocks.ids.tolist()).ids) == blocks.ids.tolist()
    counties = load_blocks("county")
    resolved = resolve_blocks("county", counties.names.tolist())
    assert [(n, r) for n, r in zip(counties.names.tolist(), resolved.reasons) if r] == []
    assert list(resolved.ids) == counties.ids.tolist()
    states = load_blocks("state")
    assert list(resolve_blocks("state", states.names.tolist()).ids) == states.ids.tolist()


def test_resolve_blocks_reads_zips_and_states():
    zips = resolve_blocks("zip", ["60601", 2138, "02138-4321", "00000", "60690"])
    assert list(zips.ids[:3]) == ["60601", "02138", "02138"] and zips.ids[3] is None
    assert zips.reasons[3].startswith("unknown") and zips.ids[4] in load_blocks("zip").position
    states = resolve_blocks("state", ["IL", "illinois", "New York", 6, 6.0, "06", "Atlantis", "dc", "Puerto Rico",
                                      "Washington, DC", "Washington D.C.", "Washington"])
    assert list(states.ids) == ["IL", "IL", "NY", "CA", "CA", "CA", None, "DC", "PR", "DC", "DC", "WA"]
    assert states.reasons[6].startswith("unknown")


def test_block_shapes_are_rings_of_lon_lat():
    (cook,), (hawaii,) = block_shapes("county", ["17031"]), block_shapes("county", ["15001"])
    ring = cook[0][0]
    assert ring.shape[1] == 2 and (-88.3 < ring[:, 0]).all() and (ring[:, 0] < -87.5).all()
    assert (41.4 < ring[:, 1]).all() and (ring[:, 1] < 42.2).all()
    assert len(hawaii) >= 1
    with pytest.raises(ValueError):
        block_shapes("county", ["99999"])


def test_the_package_imports_and_looks_up_with_numpy_alone():
    """The geography package stays Pyodide-friendly: no shapely, no zipcodes, no file or map library."""
    code = ("import sys\nfrom territory_engine.geography import block_of, load_blocks, block_shapes, resolve_blocks\n"
            "assert block_of('zip', zip=['60601'])[0] == '60601'\n"
            "assert block_of('county', lat=[41.88], lon=[-87.62])[0] == '17031'\n"
            "assert block_of('zip', lat=[41.88], lon=[-87.62])[0] is not None\n"
            "assert resolve_blocks('county', ['Cook, IL']).ids[0] == '17031'\n"
            "block_shapes('zip', ['60601'])\n"
            "edge = {'shapely', 'zipcodes', 'openpyxl', 'folium', 'matplotlib', 'click', 'xlwings'}\n"
            "print(sorted(edge & set(m.split('.')[0] for m in sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_the_tables_handed_out_are_read_only():
    blocks = load_blocks("county")
    with pytest.raises(ValueError):
        blocks.lat[0] = 0.0
    with pytest.raises(ValueError):
        blocks.adjacency.data[0] = 0.0
