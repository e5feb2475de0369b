"""The xlwings version: pinned where it is installed, checked where the add-in runs.

The add-in's VBA (``excel_addin/vba/xlwings.bas``) calls the DLL and AppleScript of one xlwings
version; ``pyproject.toml`` pins that version in the ``excel`` extra, and every ribbon click
checks the installed one first (``excel_addin.versions.check_xlwings``).
"""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import pytest
import xlwings

from excel_addin import ribbon, versions
from excel_addin.book import FileBook
from territory_engine.errors import TerritoryError

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "workbooks" / "territory_demo.xlsx"


def test_the_version_is_read_from_the_vendored_module_and_matches_its_dll_names():
    expected = versions.expected_xlwings()
    text = versions.VENDORED_MODULE.read_text(encoding="cp1252")
    assert f"'Version: {expected}" in text
    dlls = set(re.findall(r'Lib "xlwings(?:32|64)-([^"]+)\.dll"', text))
    assert dlls == {expected}


def test_the_excel_and_test_extras_pin_that_version():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for extra in ("excel", "test"):
        assert [d for d in extras[extra] if d.startswith("xlwings")] == [f"xlwings=={versions.expected_xlwings()}"]


def test_the_installed_version_passes_the_check():
    assert xlwings.__version__ == versions.expected_xlwings()
    versions.check_xlwings()


def test_another_version_is_refused_naming_both_versions_and_the_fix(monkeypatch):
    monkeypatch.setattr(xlwings, "__version__", "0.33.0")
    with pytest.raises(TerritoryError) as caught:
        versions.check_xlwings()
    text = str(caught.value)
    assert "xlwings 0.33.0 is installed" in text
    assert f"needs xlwings {versions.expected_xlwings()}" in text
    assert f"pip install xlwings=={versions.expected_xlwings()}" in text


@pytest.mark.parametrize("button", ["Help", "CheckData"])
def test_a_click_with_another_xlwings_shows_the_fix_and_runs_nothing(monkeypatch, tmp_path, button):
    monkeypatch.setattr(xlwings, "__version__", "0.33.0")
    path = tmp_path / "demo.xlsx"
    shutil.copy(DEMO, path)
    before = path.read_bytes()
    book = FileBook(path)
    assert ribbon.dispatch(button, book) is False
    [(_title, text, critical)] = book.alerts
    assert critical and "xlwings 0.33.0 is installed" in text and "pip install xlwings==0.37.8" in text
    assert book.sheet_names() == FileBook(path).sheet_names()
    assert path.read_bytes() == before


def test_a_click_with_the_pinned_xlwings_runs(tmp_path):
    path = tmp_path / "demo.xlsx"
    shutil.copy(DEMO, path)
    book = FileBook(path)
    assert ribbon.dispatch("Help", book) is True
    assert book.alerts[0][0] == "Territory Planner help"
