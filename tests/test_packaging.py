"""The installed package, not the source tree: what `pip install` gives a user."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the project's own files (the build writes into its source)."""
    root = tmp_path_factory.mktemp("package")
    source = root / "source"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("pyproject.toml", "README.md", "territory_launcher.py"):
        shutil.copy2(REPO / name, source / name)
    for name in ("territory_engine", "excel_addin", "workbooks"):
        shutil.copytree(REPO / name, source / name, ignore=ignore)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(root / "dist"),
                           str(source)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return next((root / "dist").glob("territory_planner-*.whl"))


def test_the_wheel_ships_the_demo_workbook_maps_and_addin_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in ("territory_engine/demo/territory_demo.xlsx", "territory_engine/maps/data/us_states.geojson",
                     "excel_addin/territory.xlam", "excel_addin/ribbon.xml", "excel_addin/vba/TerritoryRibbon.bas",
                     *(f"territory_engine/geography/data/{name}.npz" for name in ("states", "counties", "zips",
                                                                                   "zip_table"))):
        assert expected in names
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("territory_engine/demo/territory_demo.xlsx") == (
            REPO / "workbooks" / "territory_demo.xlsx").read_bytes()


def test_demo_runs_from_the_installed_package_outside_the_repository(wheel, tmp_path):
    target = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                           str(wheel)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    code = ("import sys, territory_engine; assert territory_engine.__file__.startswith(sys.argv[1]), "
            "territory_engine.__file__; from territory_engine.cli import entry; sys.argv[1:] = sys.argv[2:]; entry()")
    ran = subprocess.run([sys.executable, "-c", code, str(target), "demo", "--output-dir", "out"], cwd=work,
                         env=env, capture_output=True, text=True, timeout=600)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert "checked territory_demo.xlsx" in ran.stdout
    proposed = pd.read_excel(work / "out" / "proposed_alignment.xlsx", sheet_name="Proposed alignment",
                             engine="calamine")
    accounts = pd.read_excel(REPO / "workbooks" / "territory_demo.xlsx", sheet_name="Accounts", engine="calamine")
    assert len(proposed) == len(accounts)
    assert {"Proposed territory", "Moved", "Move reason"} <= set(proposed.columns)
