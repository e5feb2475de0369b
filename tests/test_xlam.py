"""The built add-in excel_addin/territory.xlam, decoded without Excel (olevba, olefile, zipfile)."""

from __future__ import annotations

import inspect
import re
import struct
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import olefile
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oletools.olevba import VBA_Parser, decompress_stream

from excel_addin import build_xlam, functions, ribbon

ROOT = Path(__file__).resolve().parents[1]
XLAM = ROOT / "excel_addin" / "territory.xlam"
UI = "{http://schemas.microsoft.com/office/2009/07/customui}"


@pytest.fixture(scope="module")
def package() -> zipfile.ZipFile:
    return zipfile.ZipFile(XLAM)


@pytest.fixture(scope="module")
def vba() -> dict[str, str]:
    parser = VBA_Parser(str(XLAM))
    try:
        return {Path(name).stem: code.replace("\r\n", "\n") for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


def _procedures(code: str) -> set[str]:
    return set(re.findall(r"^\s*(?:Public\s+|Private\s+)?(?:Sub|Function)\s+(\w+)", code, flags=re.M | re.I))


def test_committed_xlam_is_built_from_the_current_sources():
    assert XLAM.read_bytes() == build_xlam.xlam_bytes(), "run: python excel_addin/build_xlam.py"
    assert build_xlam.xlam_bytes() == build_xlam.xlam_bytes()


def test_package_has_the_addin_ribbon_and_vba_parts(package):
    names = set(package.namelist())
    assert {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
            "xl/vbaProject.bin", "customUI/customUI14.xml"} <= names
    types = package.read("[Content_Types].xml").decode()
    assert "application/vnd.ms-excel.addin.macroEnabled.main+xml" in types
    rels = ET.fromstring(package.read("_rels/.rels"))
    ui = [r for r in rels if r.get("Type") == "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"]
    assert [r.get("Target") for r in ui] == ["customUI/customUI14.xml"]
    book_rels = ET.fromstring(package.read("xl/_rels/workbook.xml.rels"))
    assert any(r.get("Target") == "vbaProject.bin" and r.get("Type").endswith("/vbaProject") for r in book_rels)
    assert package.read("customUI/customUI14.xml") == (ROOT / "excel_addin" / "ribbon.xml").read_bytes()
    book = package.read("xl/workbook.xml").decode()
    assert 'codeName="ThisWorkbook"' in book and "territory.conf" in book
    sheet = package.read("xl/worksheets/sheet1.xml").decode()
    assert "UDF Modules" in sheet and build_xlam.UDF_MODULE in sheet and 'codeName="Sheet1"' in sheet


def _known_icons() -> set[str]:
    lines = (ROOT / "excel_addin" / "office_icons.txt").read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def test_every_ribbon_icon_is_a_listed_office_icon(package):
    """A made-up or misspelt imageMso shows no icon in Excel: each must be in office_icons.txt."""
    known = _known_icons()
    for source in ((ROOT / "excel_addin" / "ribbon.xml").read_text(encoding="utf-8"),
                   package.read("customUI/customUI14.xml").decode("utf-8")):
        icons = {e.get("imageMso") for e in ET.fromstring(source).iter() if e.get("imageMso") is not None}
        assert icons and icons <= known, sorted(icons - known)


def test_the_icon_list_names_its_source_and_holds_only_plausible_names():
    text = (ROOT / "excel_addin" / "office_icons.txt").read_text(encoding="utf-8")
    assert "office-fluent-ui-command-identifiers" in text
    assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) for name in _known_icons())


def test_every_on_action_names_a_vba_procedure_that_exists(package, vba):
    ui = ET.fromstring(package.read("customUI/customUI14.xml"))
    actions = {b.get("onAction") for b in ui.iter() if b.get("onAction")}
    assert actions == {"TerritoryButton"}  # one callback for every button
    procedures = set().union(*(_procedures(code) for code in vba.values()))
    for action in actions:
        assert action.split(".")[-1] in procedures
    ids = {b.get("id") for b in ui.iter(f"{UI}button")}
    assert ids == set(ribbon.BUTTONS)


def test_the_dispatcher_passes_the_control_id_to_python(vba):
    code = vba["TerritoryRibbon"]
    assert re.search(r"Sub TerritoryButton\(control As IRibbonControl\)", code)
    assert 'RunPython "import excel_addin.ribbon; excel_addin.ribbon.dispatch(\'" & control.Id & "\')"' in code
    assert "RunPython" in _procedures(vba["xlwings"])
    assert "xlwings.utils.prepare_sys_path" in vba["xlwings"]


def test_every_worksheet_function_has_a_wrapper_and_a_description(vba):
    code = vba["xlwings_udfs"]
    for name in functions.__all__:
        params = list(inspect.signature(getattr(functions, name)).parameters)
        header = re.search(rf"^Function {name}\((.*)\)$", code, flags=re.M)
        assert header, name
        assert [p.replace("Optional ", "").strip() for p in header.group(1).split(",")] == params
        assert f'XLPy.CallUDF("excel_addin.functions", "{name}"' in code
        assert f"'!{name}\", Description:=" in code
    assert "TerritoryDescribeFunctions" in _procedures(code)
    assert "TerritoryDescribeFunctions" in vba["ThisWorkbook"]


def test_vba_project_has_no_compiled_code_so_excel_compiles_the_source(package):
    ole = olefile.OleFileIO(package.read("xl/vbaProject.bin"))
    try:
        header = ole.openstream("VBA/_VBA_PROJECT").read()
        assert struct.unpack_from("<HH", header) == (0x61CC, 0xFFFF) and len(header) == 7
        directory = bytes(decompress_stream(bytearray(ole.openstream("VBA/dir").read())))
        offsets = [struct.unpack_from("<I", directory, m.end())[0]
                   for m in re.finditer(rb"\x31\x00\x04\x00\x00\x00", directory)]
        modules = build_xlam.modules()
        assert len(offsets) == len(modules) and set(offsets) == {0}
        for module in modules:
            stream = ole.openstream(f"VBA/{module.name}").read()
            assert bytes(decompress_stream(bytearray(stream))) == module.data
        project = ole.openstream("PROJECT").read().decode("cp1252")
        assert 'Name="Territory"' in project and "Module=TerritoryRibbon" in project
    finally:
        ole.close()


def _decrypt(text: str, project_id: str) -> bytes:
    """MS-OVBA 2.4.3.3 data decryption."""
    data = bytes.fromhex(text)
    seed, version_enc, key_enc = data[0], data[1], data[2]
    assert seed ^ version_enc == 2 and seed ^ key_enc == sum(project_id.encode()) & 0xFF
    plain1, enc1, enc2 = seed ^ key_enc, key_enc, version_enc
    out = []
    for byte in data[3:]:
        plain = byte ^ ((enc2 + plain1) & 0xFF)
        out.append(plain)
        enc2, enc1, plain1 = enc1, byte, plain
    skip = (seed & 6) // 2
    length = struct.unpack("<I", bytes(out[skip:skip + 4]))[0]
    body = bytes(out[skip + 4:])
    assert len(body) == length
    return body


def test_project_is_unprotected_without_password_and_visible(package):
    ole = olefile.OleFileIO(package.read("xl/vbaProject.bin"))
    try:
        project = dict(line.split("=", 1) for line in ole.openstream("PROJECT").read().decode().splitlines()
                       if "=" in line and line[:3] in ("CMG", "DPB", "GC=", "ID="))
    finally:
        ole.close()
    project_id = project["ID"].strip('"')
    assert _decrypt(project["CMG"].strip('"'), project_id) == b"\x00\x00\x00\x00"
    assert _decrypt(project["DPB"].strip('"'), project_id) == b"\x00"
    assert _decrypt(project["GC"].strip('"'), project_id) == b"\xff"


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.binary(max_size=9000),
                 st.text(alphabet="Dim x As Long\n ' ", max_size=12000).map(str.encode),
                 st.integers(0, 9000).map(lambda n: b"a" * n)))
def test_compression_round_trips_through_olevba(data):
    assert bytes(decompress_stream(bytearray(build_xlam.compress(data)))) == data


def test_vendored_xlwings_module_matches_the_installed_xlwings():
    import xlwings

    installed = (Path(xlwings.__file__).parent / "xlwings_custom_addin.bas").read_text(encoding="cp1252")
    vendored = (ROOT / "excel_addin" / "vba" / "xlwings.bas").read_text(encoding="cp1252")
    assert f"'Version: {xlwings.__version__}" in vendored, "update excel_addin/vba/xlwings.bas and rebuild"
    expected = installed.replace('PROJECT_NAME As String = "myaddin"', 'PROJECT_NAME As String = "territory"')
    assert vendored.replace("\r\n", "\n") == expected.replace("\r\n", "\n")


def _project_properties(package) -> tuple[str, list[str]]:
    """The project's name and its modules' names, from the PROJECT stream (MS-OVBA 2.3.1)."""
    ole = olefile.OleFileIO(package.read("xl/vbaProject.bin"))
    try:
        text = ole.openstream("PROJECT").read().decode("cp1252")
        names = re.findall(r"^(?:Module|Class|Document)=([^/\r\n]+)", text, flags=re.M)
        assert all(ole.exists(f"VBA/{name}") for name in names)
    finally:
        ole.close()
    return re.search(r'^Name="([^"]*)"', text, flags=re.M).group(1), names


def test_no_vba_module_shares_the_project_name(package):
    """Excel's VBA editor refuses a module named like its project ("Name conflicts with existing
    module, project, or object library"); VBA names ignore case."""
    project, names = _project_properties(package)
    assert project == build_xlam.PROJECT_NAME
    assert names == [m.name for m in build_xlam.modules()]
    assert project.lower() not in {name.lower() for name in names}
    # and the same rule on the sources, before any build
    assert project.lower() not in {path.stem.lower() for path in (ROOT / "excel_addin" / "vba").iterdir()}


def test_the_package_carries_the_office_theme_well_formed_and_referenced(package):
    theme = ET.fromstring(package.read("xl/theme/theme1.xml"))
    assert theme.tag == "{http://schemas.openxmlformats.org/drawingml/2006/main}theme"
    assert theme.get("name") == "Office Theme"
    a = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
    assert theme.find(f"{a}themeElements/{a}clrScheme") is not None
    assert theme.find(f"{a}themeElements/{a}fontScheme/{a}minorFont/{a}latin").get("typeface") == "Calibri"
    rels = ET.fromstring(package.read("xl/_rels/workbook.xml.rels"))
    themes = [r for r in rels
              if r.get("Type") == "http://schemas.openxmlformats.org/officeDocument/2006/relationships/theme"]
    assert [r.get("Target") for r in themes] == ["theme/theme1.xml"]
    assert len({r.get("Id") for r in rels}) == len(rels)
    types = ET.fromstring(package.read("[Content_Types].xml"))
    overrides = {o.get("PartName"): o.get("ContentType") for o in types}
    assert overrides["/xl/theme/theme1.xml"] == "application/vnd.openxmlformats-officedocument.theme+xml"


def test_every_part_is_well_formed_and_every_relationship_target_exists(package):
    names = set(package.namelist())
    for name in names - {"xl/vbaProject.bin"}:
        ET.fromstring(package.read(name))
    for rels_name in [n for n in names if n.endswith(".rels")]:
        folder = rels_name.split("_rels/")[0].rstrip("/")  # the folder of the part these relationships are of
        for rel in ET.fromstring(package.read(rels_name)):
            target = rel.get("Target")
            assert (f"{folder}/{target}" if folder else target) in names, (rels_name, target)


def _callback(vba) -> list[str]:
    code = vba["TerritoryRibbon"]
    body = re.search(r"^Public Sub TerritoryButton\(control As IRibbonControl\)\n(.*?)^End Sub$", code,
                     flags=re.M | re.S)
    assert body, "the ribbon callback TerritoryButton is missing"
    logical = re.sub(r" _\n\s*", " ", body.group(1))  # VBA line continuations
    return [line.strip() for line in logical.split("\n") if line.strip() and not line.strip().startswith("'")]


def test_the_callback_refuses_a_click_with_no_workbook_open_with_a_message(vba):
    lines = _callback(vba)
    check = lines.index("If ActiveWorkbook Is Nothing Then")
    run = next(i for i, line in enumerate(lines) if line.startswith("RunPython "))
    assert check < run
    assert lines[check + 1].startswith("MsgBox ") and "Exit Sub" in lines[check + 1:lines.index("End If", check)]
    assert "If ActiveWorkbook Is ThisWorkbook Then" in lines[:run]


def test_the_callback_refuses_a_second_click_and_resets_its_busy_flag_on_every_way_out(vba):
    code = vba["TerritoryRibbon"]
    assert re.search(r"^Private Busy As Boolean$", code, flags=re.M)  # module level: lives between clicks
    lines = _callback(vba)
    assert lines[0] == "If Busy Then" and lines[1].startswith("MsgBox ") and lines[2] == "Exit Sub"
    run = next(i for i, line in enumerate(lines) if line.startswith("RunPython "))
    assert lines[run - 1] == "Busy = True" and lines[run + 1] == "Busy = False"
    # every Exit Sub after the flag is set has it reset first, and so has the error handler
    for i, line in enumerate(lines[run:], start=run):
        if line == "Exit Sub":
            assert "Busy = False" in lines[run:i], i
    handler = lines.index("Failed:")
    assert lines[handler + 1] == "Busy = False"


def test_any_vba_error_in_the_callback_ends_in_a_message_box_never_the_debug_dialog(vba):
    lines = _callback(vba)
    handler_at = lines.index("On Error GoTo Failed")
    assert handler_at < next(i for i, line in enumerate(lines) if line.startswith("If ActiveWorkbook"))
    assert not [line for line in lines if line.startswith("On Error") and line != "On Error GoTo Failed"]
    handler = lines[lines.index("Failed:"):]
    assert any(line.startswith("MsgBox ") and "Err.Description" in line for line in handler)
    assert "vbCritical" in " ".join(handler)
    assert lines[lines.index("Failed:") - 1] == "Exit Sub"  # the normal path never falls into the handler
