"""Geography building blocks: states, counties and pseudo-ZIP areas as shapes, with their adjacency.

Numpy and scipy only, so it imports in Pyodide; the tables ship in ``data/`` (built by
``data/build_blocks.py``, which states the sources and rules) and are read on first use.

==============  ===========================================================
module          what it does
==============  ===========================================================
tables          reading the committed ``.npz`` tables, cached and read-only
blocks          ``BlockSet`` and ``load_blocks``: ids, names, centroids, adjacency
shapes          ``block_shapes``: polygon rings in lon/lat for the maps
containment     the block holding each point (even-odd rule in numpy)
lookup          ``block_of``: each account's block from its ZIP or its point
names           ``resolve_blocks``: a user's block column read as block ids
==============  ===========================================================
"""

from .blocks import BlockSet, load_blocks
from .lookup import block_of
from .names import Resolution, resolve_blocks
from .shapes import block_shapes
from .tables import KINDS

__all__ = ["KINDS", "BlockSet", "load_blocks", "block_shapes", "block_of", "Resolution", "resolve_blocks"]
