"""Territory maps: an interactive Folium page and a static PNG snapshot.

An edge of the Territory Planner, like the file edge: it draws the tables of the ``map``
verb (:func:`territory_engine.workflow_map.map`) and imports folium, shapely and matplotlib
only inside its functions.

==============  ===========================================================
module          what it does
==============  ===========================================================
regions         territory areas: Voronoi cells dissolved per territory
interactive     the Folium page: areas, accounts, moves, rep bases, legend
snapshot        the matplotlib PNG: areas, state outlines, legend, symbol key, title
offline         Leaflet inlined from xstatic-leaflet; JSON safe in scripts
style           territory colours (one function for every map, chart, book)
files           writing the map files; the check of a map's output path
book            the map book (.pptx or .pdf): an overview, then a slide per territory
book_page       a territory's page of the book: its zoomed map and its figures
pdf_pages       a PDF of PNG pages, assembled without decoding them
compare         the map of territory compare: one layer per scenario
data/           US state outlines (Census Bureau, public domain), simplified
==============  ===========================================================
"""

from .book import check_book_path, write_map_book
from .compare import compare_map, write_compare_map
from .files import check_map_path, write_map
from .style import alignment_colours, territory_colour_map

__all__ = ["write_map", "check_map_path", "alignment_colours", "territory_colour_map", "write_map_book",
           "check_book_path", "compare_map", "write_compare_map"]
