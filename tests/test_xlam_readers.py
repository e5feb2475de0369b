"""The add-in checked by code the project did not write.

* Microsoft's ribbon schema (``customui14.xsd``, kept in ``../shared/schemas``; ``xmlschema``
  loads it): Excel drops the whole tab of a customUI part that fails it, without a word.
* xlwings' own UDF wrapper generator (``xlwings.udfs.generate_vba_wrapper``, what "Import
  Functions" writes on Windows), run here with stand-ins for the Windows-only modules it
  imports: every wrapper ``build_xlam`` generates must be the very text xlwings writes, so a
  wrapper without ``Optional`` (``#VALUE!`` when an optional argument is left out) fails.
* xlwings' own argument conversion (``xlwings.udfs.call_udf`` and ``xlwings.conversion``), with
  the cell cleaning of its Windows engine taken from ``xlwings/_xlwindows.py``: missing optional
  arguments, error cells, blank cells and whole-column ranges, as Excel hands them over.
* LibreOffice's VBA importer, where LibreOffice is installed: the modules it reads from the
  .xlam must be the sources in ``excel_addin/vba``.

The icon names (``imageMso``) are not checked here: Microsoft publishes them only as .xlsx
files (OfficeDev/office-fluent-ui-command-identifiers), which could not be fetched for this
repository.
"""

from __future__ import annotations

import ast
import datetime as dt
import importlib
import importlib.util
import io
import json
import math
import numbers
import re
import shutil
import subprocess
import sys
import textwrap
import types
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xlwings

from excel_addin import build_xlam

ROOT = Path(__file__).resolve().parents[1]
XLAM = ROOT / "excel_addin" / "territory.xlam"
SCHEMA = ROOT.parent / "shared" / "schemas" / "customui14.xsd"
FUNCTIONS = ROOT / "excel_addin" / "functions.py"
MODULE = build_xlam.UDF_MODULE
MISSING = -2147352572
"""What pywin32 hands xlwings for an argument left out in Excel (DISP_E_PARAMNOTFOUND)."""
ERRORS = {"#DIV/0!": -2146826281, "#N/A": -2146826246, "#VALUE!": -2146826273}
"""Error cells as pywin32 hands them over: the integers of xlwings' ``cell_errors``."""
ROWS = 1_048_576


def _built(source: str) -> zipfile.ZipFile:
    return zipfile.ZipFile(XLAM if source == "committed" else io.BytesIO(build_xlam.xlam_bytes()))


# --------------------------------------------------------------------------------------
# Microsoft's ribbon schema
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema():
    if not SCHEMA.is_file():
        pytest.skip("Microsoft's customui14.xsd is not beside this checkout (../shared/schemas/customui14.xsd)")
    import xmlschema

    return xmlschema.XMLSchema(str(SCHEMA))


@pytest.mark.parametrize("source", ["committed", "fresh"])
def test_the_ribbon_validates_against_microsofts_customui14_schema(schema, source):
    ui = _built(source).read("customUI/customUI14.xml").decode("utf-8")
    errors = list(schema.iter_errors(ui))
    assert not errors, "\n".join(f"{e.path}: {e.reason}" for e in errors[:5])


def test_the_schema_check_sees_a_bad_attribute_value(schema):
    ui = (ROOT / "excel_addin" / "ribbon.xml").read_text(encoding="utf-8")
    assert schema.is_valid(ui)
    assert not schema.is_valid(ui.replace('size="large"', 'size="huge"', 1))


# --------------------------------------------------------------------------------------
# xlwings' own generator and conversion, on Linux
# --------------------------------------------------------------------------------------


def _windows_engine(pywintypes: types.ModuleType) -> type:
    """xlwings' Windows engine's cell cleaning and preparing, taken from ``xlwings/_xlwindows.py``
    (the module itself imports win32api, ctypes.windll, ... at its top, so it cannot be imported)."""
    path = Path(xlwings.__file__).parent / "_xlwindows.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    wanted = {"time_types", "cell_errors", "_clean_value_data_element", "_com_time_to_datetime",
              "_datetime_to_com_time"}

    def assigns(node) -> set[str]:
        if isinstance(node, ast.Assign):
            return {t.id for t in node.targets if isinstance(t, ast.Name)}
        if isinstance(node, ast.If):
            return set().union(*(assigns(n) for n in node.body))
        return set()

    parts = [n for n in tree.body if (isinstance(n, ast.FunctionDef) and n.name in wanted) or assigns(n) & wanted]
    engine = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Engine")
    methods = [m for m in engine.body if isinstance(m, ast.FunctionDef)
               and m.name in ("clean_value_data", "prepare_xl_data_element")]
    assert len(methods) == 2 and len(parts) >= 5, "xlwings/_xlwindows.py changed: update this test"
    source = "\n".join(ast.unparse(n) for n in parts) + "\nclass Engine:\n    name = 'excel'\n" + textwrap.indent(
        "\n".join(ast.unparse(m) for m in methods), "    ")
    namespace = {"dt": dt, "np": np, "pd": pd, "pywintypes": pywintypes, "numbers": numbers}
    exec(compile(source, str(path), "exec"), namespace)
    return namespace["Engine"]


@pytest.fixture(scope="module")
def xl():
    """``xlwings.udfs`` imported on Linux with stand-ins for pythoncom, pywintypes and win32com,
    ``functions.py`` loaded again under its own decorators, and the Windows engine registered."""
    stubs = {name: types.ModuleType(name) for name in ("pythoncom", "pywintypes", "win32com", "win32com.client")}
    stubs["pywintypes"].TimeType = dt.datetime
    stubs["pythoncom"].CoInitialize = lambda: None
    stubs["win32com.client"].Dispatch = lambda obj, *args, **kwargs: obj
    windows = types.ModuleType("xlwings._xlwindows")
    windows.Range = lambda xl=None: types.SimpleNamespace(xl=xl)
    windows.is_range_instance = lambda value: False  # ranges arrive as values, read as xlwings reads them
    windows.BOOK_CALLER = None
    com_server = types.ModuleType("xlwings.com_server")
    com_server.loop = None
    with pytest.MonkeyPatch.context() as mp:
        for name, module in {**stubs, "xlwings._xlwindows": windows, "xlwings.com_server": com_server}.items():
            mp.setitem(sys.modules, name, module)
        mp.setattr(xlwings, "_xlwindows", windows, raising=False)
        mp.delitem(sys.modules, "xlwings.udfs", raising=False)
        udfs = importlib.import_module("xlwings.udfs")
        mp.setattr(xlwings, "func", udfs.xlfunc)
        mp.setattr(xlwings, "arg", udfs.xlarg)
        mp.setattr(xlwings, "ret", udfs.xlret)
        spec = importlib.util.spec_from_file_location(MODULE, FUNCTIONS)
        module = importlib.util.module_from_spec(spec)
        mp.setitem(sys.modules, MODULE, module)
        spec.loader.exec_module(module)
        mp.setitem(udfs.udf_modules, MODULE, {"filename": str(FUNCTIONS), "filetime": None, "module": module})
        engine = xlwings.main.Engine(impl=_windows_engine(stubs["pywintypes"])())
        mp.setitem(xlwings.engines.engines_by_name, "excel", engine)
        try:
            yield types.SimpleNamespace(udfs=udfs, module=module)
        finally:
            sys.modules.pop("xlwings.udfs", None)
            if hasattr(xlwings, "udfs"):
                delattr(xlwings, "udfs")


def _blocks(code: str) -> dict[str, str]:
    """Each ``Function ... End Function`` block of a VBA module, by name."""
    code = code.replace("\r\n", "\n")
    return {m.group(1): m.group(0) for m in re.finditer(r"^Function (\w+)\(.*?^End Function$", code,
                                                         flags=re.M | re.S)}


def _xlwings_wrappers(xl) -> str:
    out = io.StringIO()
    xl.udfs.generate_vba_wrapper(MODULE, xl.module, out, types.SimpleNamespace(Name="territory.xlam"))
    return out.getvalue()


def test_every_generated_wrapper_is_the_text_xlwings_own_generator_writes(xl):
    theirs = _blocks(_xlwings_wrappers(xl))
    ours = _blocks(build_xlam.udf_module(build_xlam.udf_specs()).source)
    assert set(theirs) == set(ours) == set(xl.module.__all__)
    for name in ours:
        assert ours[name] == theirs[name], name


def test_the_built_vba_project_holds_those_wrappers(xl):
    from oletools.olevba import VBA_Parser

    parser = VBA_Parser(str(XLAM))
    try:
        code = next(c for _, _, n, c in parser.extract_macros() if Path(n).stem == "xlwings_udfs")
    finally:
        parser.close()
    assert _blocks(code) == _blocks(_xlwings_wrappers(xl))


def test_the_wizard_descriptions_are_xlwings_own_argument_docs(xl):
    spec = {u.name: u for u in build_xlam.udf_specs()}
    for name in xl.module.__all__:
        info = getattr(xl.module, name).__xlfunc__
        assert spec[name].arg_docs == tuple(a["doc"] for a in info["args"]), name
        assert spec[name].optional == tuple(a["name"] for a in info["args"] if "optional" in a), name
        assert info["category"] == spec[name].category


def _call(xl, name: str, *args):
    """One worksheet function called as Excel calls it: through xlwings' call_udf."""
    return xl.udfs.call_udf(MODULE, name, args)


def _column(values) -> tuple:
    """A one-column range as pywin32 hands it over: a tuple of one-cell rows."""
    return tuple((v,) for v in values)


def _flat(result) -> list:
    return [row[0] if isinstance(row, (list, tuple)) else row for row in result]


def test_optional_arguments_left_out_take_their_defaults(xl):
    measures = _column([10.0, 20.0, 30.0, 40.0, 50.0])
    omitted = _call(xl, "TERRITORY_SCORE", measures, MISSING, MISSING)
    assert omitted == _call(xl, "TERRITORY_SCORE", measures, ((1.0,),), "percentile")
    assert not any(str(v).startswith("#") for v in _flat(omitted))
    scores = _column([0.9, 0.1, 0.5, 0.7, 0.3])
    assert _flat(_call(xl, "TERRITORY_TIER", scores, MISSING)) == ["A", "C", "B", "B", "C"]
    territories, load = _column(["T1", "T1", "T2", "T2"]), _column([10.0, 10.0, 10.0, 30.0])
    assert _call(xl, "TERRITORY_LOAD", territories, load, MISSING) == _call(xl, "TERRITORY_LOAD", territories, load,
                                                                          ((1.0,),))
    verdict = _flat(_call(xl, "TERRITORY_BALANCE", territories, load, MISSING))[0]
    assert verdict.startswith("outside ±5%")
    assert _flat(_call(xl, "TERRITORY_BLOCK", _column([60601.0, "90210"]), MISSING, MISSING)) == ["17031", "06037"]
    visits, lat, lon = _column(["A", 12.0, "C"]), _column([40.05, 40.1, 41.0]), _column([-90.0, -90.0, -90.0])
    hours = _call(xl, "TERRITORY_WORKLOAD", visits, lat, lon, ((40.0,),), ((-90.0,),), MISSING, MISSING)
    assert hours == _call(xl, "TERRITORY_WORKLOAD", visits, lat, lon, ((40.0,),), ((-90.0,),), 45.0, MISSING)
    assert all(isinstance(v, float) for v in _flat(hours))
    used = _call(xl, "TERRITORY_CAPACITY", _column([720.0, 2880.0]), MISSING)
    assert used == _call(xl, "TERRITORY_CAPACITY", _column([720.0, 2880.0]), ((1440.0,),))
    assert _flat(used) == [0.5, 2.0]


def test_blank_cells_give_blank_results_not_zeros(xl):
    result = _flat(_call(xl, "TERRITORY_SCORE", _column([10.0, None, 30.0, ""]), MISSING, MISSING))
    assert result[1] in ("", None) and result[0] not in ("", None) and result[2] not in ("", None)


@pytest.mark.parametrize("error", sorted(ERRORS))
def test_an_error_cell_is_reported_never_taken_for_a_blank(xl, error):
    """Without ``err_to_str`` xlwings hands an error cell over as None, a blank: a #N/A potential would
    silently drop out of a score or a load. The functions ask for ``err_to_str``, get the error's text,
    and name it in their answer."""
    measures = _column([10.0, ERRORS[error], 30.0])
    options = dict(xl.module.TERRITORY_SCORE.__xlfunc__["args"][0]["options"])
    assert options.pop("err_to_str") is True
    assert xlwings.conversion.read(None, measures, options)[1] == [None]  # what a blank looks like
    territories = _column(["T1", "T2", "T2"])
    calls = {
        "TERRITORY_SCORE": (measures, MISSING, MISSING),
        "TERRITORY_LOAD": (territories, measures, MISSING),
        "TERRITORY_BALANCE": (territories, measures, MISSING),
        "TERRITORY_TIER": (_column([0.1, ERRORS[error], 0.3]), MISSING),
        "TERRITORY_DISTANCE": (measures, measures, 42.0, -71.0),
        "TERRITORY_LOAD ids": (_column(["T1", ERRORS[error], "T2"]), _column([1.0, 2.0, 3.0]), MISSING),
    }
    for name, args in calls.items():
        answer = _flat(_call(xl, name.split()[0], *args))
        assert len(answer) == 1 and answer[0].startswith("#TERRITORY") and error in answer[0], (name, answer)


def test_a_whole_column_reference_spills_only_the_rows_with_data(xl):
    column = [None] * ROWS
    column[1:6] = [10.0, 20.0, 30.0, 40.0, 50.0]
    column[0] = "Potential"
    result = _call(xl, "TERRITORY_SCORE", _column(column[1:]), MISSING, MISSING)
    assert len(result) == 5 and all(isinstance(v, float) and 0 <= v <= 1 for v in _flat(result))
    lat = [None] * ROWS
    lon = [None] * ROWS
    lat[:3], lon[:3] = [42.0, 42.1, 42.2], [-71.0, -71.1, -71.2]
    km = _flat(_call(xl, "TERRITORY_DISTANCE", _column(lat), _column(lon), 42.0, -71.0))
    assert len(km) == 3 and km[0] == 0 and all(math.isfinite(v) for v in km)


# --------------------------------------------------------------------------------------
# LibreOffice's VBA importer
# --------------------------------------------------------------------------------------

LIBREOFFICE_READER = ROOT / "tests" / "readers" / "libreoffice_vba.py"


def _libreoffice_python() -> str | None:
    """A Python that can import LibreOffice's uno module (Debian: python3-uno), or None."""
    if shutil.which("soffice") is None:
        return None
    for python in ("/usr/bin/python3", shutil.which("python3")):
        if python and subprocess.run([python, "-c", "import uno"], capture_output=True).returncode == 0:
            return python
    return None


def _vba_body(text: str) -> str:
    """A module's code without its Attribute lines (the module's and its procedures', which the VBA
    editor keeps hidden) and trailing blank lines."""
    lines = [line for line in text.replace("\r\n", "\n").split("\n") if not re.match(r"Attribute [\w.]+ = ", line)]
    return "\n".join(lines).rstrip("\n")


def _libreoffice_body(text: str) -> str:
    """What LibreOffice adds when it imports a VBA module: a ``Rem Attribute VBA_ModuleType`` line and
    ``Option VBASupport 1`` (and ``Option ClassModule`` for a class)."""
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and (lines[0].startswith("Rem Attribute VBA_ModuleType") or lines[0].startswith("Option VBASupport")
                     or lines[0] == "Option ClassModule"):
        lines.pop(0)
    return "\n".join(lines).rstrip("\n")


def test_libreoffice_imports_every_module_as_its_source(tmp_path):
    python = _libreoffice_python()
    if python is None:
        pytest.skip("LibreOffice is not installed (apt-get install libreoffice-calc-nogui python3-uno)")
    done = subprocess.run([python, str(LIBREOFFICE_READER), str(XLAM), str(tmp_path / "profile")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    libraries = json.loads(done.stdout)
    assert set(libraries[build_xlam.PROJECT_NAME]) == {m.name for m in build_xlam.modules()}
    for module in build_xlam.modules():
        imported = libraries[build_xlam.PROJECT_NAME][module.name]
        assert _libreoffice_body(imported) == _vba_body(module.data.decode(build_xlam.CODE_PAGE)), module.name
