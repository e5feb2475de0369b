"""Issue 15, part C (geography blocks as package data): every case run against the code at hand.

Run from the repository root, before and after the change, with the same interpreter::

    .venv/bin/python tests/edge_cases/geo_data.py

Each case runs a short program in a subprocess (the package as an analyst's script or the
add-in would call it) and prints one line: case | exit code | first line of its output.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CASES = {
    "county blocks load": "from territory_engine.geography import load_blocks\n"
                          "b = load_blocks('county'); print(len(b.ids), 'counties', b.adjacency.nnz, 'entries')",
    "state blocks load": "from territory_engine.geography import load_blocks\n"
                         "b = load_blocks('state'); print(len(b.ids), 'states', sorted(b.ids)[:3])",
    "zip blocks load": "from territory_engine.geography import load_blocks\n"
                       "b = load_blocks('zip'); print(len(b.ids), 'ZIP areas')",
    "Cook and DuPage adjacent": "from territory_engine.geography import load_blocks\n"
                                "b = load_blocks('county'); i = list(b.ids)\n"
                                "print('km', round(float(b.adjacency[i.index('17031'), i.index('17043')]), 1))",
    "block shapes of Cook": "from territory_engine.geography import block_shapes\n"
                            "r = block_shapes('county', ['17031']); print(len(r[0]), 'rings')",
    "block_of ZIP 60601, 90210, 00000": "from territory_engine.geography import block_of\n"
                                        "print(list(block_of('county', zip=['60601', 90210, '00000'])))",
    "block_of lat/lon (Chicago, London)": "from territory_engine.geography import block_of\n"
                                          "print(list(block_of('county', lat=[41.88, 51.5], lon=[-87.63, -0.1])))",
    "resolve_blocks spellings": "from territory_engine.geography import resolve_blocks\n"
                                "r = resolve_blocks('county', ['Cook County, IL', 'cook county illinois', 6037,"
                                " 'Baltimore city, MD', 'Washington County']); print(list(r.ids), list(r.reasons))",
    "TERRITORY_BLOCK county of ZIPs": "from excel_addin.functions import TERRITORY_BLOCK\n"
                                      "print(TERRITORY_BLOCK([['60601'], [90210.0]], None, 'county'))",
    "TERRITORY_BLOCK zip of a point": "from excel_addin.functions import TERRITORY_BLOCK\n"
                                      "print(TERRITORY_BLOCK([[41.88]], [[-87.63]], 'zip'))",
}


def run(code: str) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    text = (done.stdout if done.returncode == 0 else done.stderr).strip().replace(f"{ROOT}/", "")
    lines = (text or "(no output)").splitlines()
    return done.returncode, lines[0] if done.returncode == 0 else lines[-1]


def main() -> None:
    for name, code in CASES.items():
        code_, line = run(code)
        print(f"{name} | {code_} | {line[:160]}")


if __name__ == "__main__":
    main()
