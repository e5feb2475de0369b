"""The public surface, and the rule that the engine core stays Pyodide-friendly."""

from __future__ import annotations

import subprocess
import sys

import territory_engine

EXPECTED = {
    "Alignment", "ContiguousResult", "design_contiguous", "InfeasibleError", "Inputs", "InputError", "METHODS", "Problem", "Settings", "SettingsError",
    "TerritoryError", "compactness_km", "design", "interleaving_share", "moved_share",
    "parse_settings", "required_move_share", "score", "tiers", "workflow",
}


def test_all_is_the_public_surface():
    assert set(territory_engine.__all__) == EXPECTED
    for name in EXPECTED:
        assert hasattr(territory_engine, name)


def test_engine_core_imports_no_edge_library():
    """Importing the engine pulls in none of the file, map, CLI or Excel libraries."""
    code = (
        "import sys, territory_engine\n"
        "edge = {'openpyxl', 'python_calamine', 'xlsxwriter', 'click', 'rich', 'folium', 'shapely',"
        " 'matplotlib', 'xlwings', 'zipcodes'}\n"
        "print(sorted(edge & set(m.split('.')[0] for m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_module_names_are_not_shadowed():
    import importlib

    assert importlib.import_module("territory_engine.rebalance").design is territory_engine.design
