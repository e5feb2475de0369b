"""Build ``excel_addin/territory.xlam`` from the text sources next to this file.

Usage (from the repository root; standard library only, no Excel needed)::

    python excel_addin/build_xlam.py            # writes excel_addin/territory.xlam
    python excel_addin/build_xlam.py --check    # exit 1 if the committed file is stale

Sources:

* ``ribbon.xml``: the Territory tab, stored as ``customUI/customUI14.xml``;
* ``theme1.xml``: the Office theme every workbook Excel saves carries, ``xl/theme/theme1.xml``;
* ``vba/*.bas`` (standard modules) and ``vba/*.cls`` (class and document modules), each
  the text a VBA module stream holds: ``Attribute`` lines first, then the code (the
  ``VERSION 1.0 CLASS`` header of an exported .cls file is not part of it);
* ``functions.py``: the TERRITORY_* functions, whose VBA wrappers (module ``xlwings_udfs``,
  as xlwings' "Import Functions" would write them) and function-wizard descriptions are
  generated here from the source, read with :mod:`ast` (the xlwings decorators do nothing
  outside Windows, so importing the module would not reveal them).

The add-in is an Office Open XML package: a hidden-workbook add-in part with one sheet
(``territory.conf``, the xlwings settings of this add-in), the ribbon part and its
relationship, and ``xl/vbaProject.bin``. The VBA project is written from source following
[MS-OVBA] (Microsoft, "Office VBA File Format Structure", v20240416): an [MS-CFB] compound
file with the ``PROJECT`` and ``PROJECTwm`` streams and a ``VBA`` storage holding
``_VBA_PROJECT``, the compressed ``dir`` stream and one stream per module with its
compressed source (section 2.4.1 compression). ``_VBA_PROJECT`` carries version ``0xFFFF``
and no performance cache, and every module's source starts at offset 0 with no compiled
code: Excel therefore compiles the project from source when it opens the add-in (section
2.3.4.1). The same approach is taken by EPPlus (``ExcelVBAProject.cs``), and the xlwings
quickstart add-in ships a version-independent project too.

What only Excel can do: compile and cache the p-code (done on first open; Excel may ask to
save the add-in), and sign the project (unsigned, the add-in opens under the macro security
setting "Disable VBA macros with notification" only from a trusted location, such as the
XLSTART folder or one added in the Trust Center).

The build is deterministic: the same sources give the same bytes.
"""

from __future__ import annotations

import argparse
import ast
import io
import struct
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "territory.xlam"
PROJECT_NAME = "Territory"
PROJECT_ID = "{6F1C2E7A-3B9D-4E25-A8C4-5D0B7E913F62}"
CONF_SHEET = "territory.conf"
UDF_MODULE = "excel_addin.functions"
CODE_PAGE = "cp1252"
MODULE_ORDER = ("ThisWorkbook", "Sheet1", "TerritoryRibbon", "xlwings", "xlwings_udfs", "Dictionary")
DOCUMENT_MODULES = ("ThisWorkbook", "Sheet1")

# The Office object library (for IRibbonControl), as Excel records it (MS-OVBA 2.3.4.2.2.5).
OFFICE_LIBID = (r"*\G{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0#C:\Program Files\Common Files"
                r"\Microsoft Shared\OFFICE16\MSO.DLL#Microsoft Office 16.0 Object Library")

# --------------------------------------------------------------------------------------
# MS-OVBA 2.4.1: compression
# --------------------------------------------------------------------------------------

CHUNK = 4096


def _longest_match(chunk: bytes, pos: int) -> tuple[int, int]:
    """(offset, length) of the longest earlier copy of ``chunk[pos:]`` a copy token can reach."""
    bitcount = max((pos - 1).bit_length(), 4)
    max_length = min((0xFFFF >> bitcount) + 3, len(chunk) - pos)
    if max_length < 3:
        return 0, 0
    start = max(0, pos - (1 << bitcount))
    found = chunk.rfind(chunk[pos:pos + 3], start, pos + 2)
    if found < 0:
        return 0, 0
    length = 3
    while length < max_length:
        again = chunk.rfind(chunk[pos:pos + length + 1], start, pos + length)
        if again < 0:
            break
        found, length = again, length + 1
    return pos - found, length


def _compress_chunk(chunk: bytes) -> bytes:
    out = bytearray()
    pos = 0
    while pos < len(chunk):
        flag_at = len(out)
        out.append(0)
        flags = 0
        for bit in range(8):
            if pos >= len(chunk):
                break
            offset, length = _longest_match(chunk, pos)
            if length >= 3:
                bitcount = max((pos - 1).bit_length(), 4)
                out += struct.pack("<H", ((offset - 1) << (16 - bitcount)) | (length - 3))
                flags |= 1 << bit
                pos += length
            else:
                out.append(chunk[pos])
                pos += 1
        out[flag_at] = flags
    return bytes(out)


def compress(data: bytes) -> bytes:
    """A CompressedContainer (MS-OVBA 2.4.1.1.1) holding ``data``."""
    out = bytearray(b"\x01")
    for start in range(0, len(data), CHUNK):
        chunk = data[start:start + CHUNK]
        body = _compress_chunk(chunk)
        if len(body) > CHUNK and len(chunk) == CHUNK:
            out += struct.pack("<H", 0x3000 | (CHUNK - 1)) + chunk  # stored raw
        else:
            if len(body) + 2 > CHUNK + 2:
                raise ValueError("a partial chunk did not compress; this source cannot be stored")
            out += struct.pack("<H", 0xB000 | (len(body) + 2 - 3)) + body
    return bytes(out)


# --------------------------------------------------------------------------------------
# MS-OVBA 2.4.3: the "encryption" of the CMG, DPB and GC project properties
# --------------------------------------------------------------------------------------


def encrypt(data: bytes, *, project_id: str = PROJECT_ID, seed: int = 0x5A) -> str:
    """Data encryption (MS-OVBA 2.4.3.2) as the hex text of the PROJECT stream."""
    version = 2
    key = sum(project_id.encode("ascii")) & 0xFF
    out = bytearray([seed, seed ^ version, seed ^ key])
    plain1, enc1, enc2 = key, seed ^ key, seed ^ version
    ignored = [seed] * ((seed & 6) // 2)
    for byte in [*ignored, *struct.pack("<I", len(data)), *data]:
        enc = byte ^ ((enc2 + plain1) & 0xFF)
        out.append(enc)
        enc2, enc1, plain1 = enc1, enc, byte
    return out.hex().upper()


# --------------------------------------------------------------------------------------
# the VBA project
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Module:
    """One VBA module: its name, its kind (module, class, document) and its source text."""

    name: str
    kind: str
    source: str

    @property
    def data(self) -> bytes:
        text = self.source.replace("\r\n", "\n").rstrip("\n") + "\n"
        return text.replace("\n", "\r\n").encode(CODE_PAGE)


def _record(rid: int, payload: bytes) -> bytes:
    return struct.pack("<HI", rid, len(payload)) + payload


def _text_records(rid: int, uid: int, text: str) -> bytes:
    return _record(rid, text.encode(CODE_PAGE)) + _record(uid, text.encode("utf-16-le"))


def dir_stream(modules: list[Module]) -> bytes:
    """The decompressed ``dir`` stream (MS-OVBA 2.3.4.2)."""
    out = bytearray()
    out += _record(0x0001, struct.pack("<I", 1))           # SysKind: 32-bit Windows
    out += _record(0x0002, struct.pack("<I", 0x0409))      # LCID
    out += _record(0x0014, struct.pack("<I", 0x0409))      # LCID invoke
    out += _record(0x0003, struct.pack("<H", 1252))        # code page
    out += _record(0x0004, PROJECT_NAME.encode(CODE_PAGE))
    out += _text_records(0x0005, 0x0040, "")               # doc string
    out += _record(0x0006, b"") + _record(0x003D, b"")     # help file
    out += _record(0x0007, struct.pack("<I", 0))           # help context
    out += _record(0x0008, struct.pack("<I", 0))           # lib flags
    out += struct.pack("<HIIH", 0x0009, 4, 0x61EEF783, 3)  # version (Reserved=4, major, minor)
    out += _text_records(0x000C, 0x003C, "")               # constants
    # References: the Office object library.
    out += _text_records(0x0016, 0x003E, "Office")
    libid = OFFICE_LIBID.encode(CODE_PAGE)
    out += _record(0x000D, struct.pack("<I", len(libid)) + libid + struct.pack("<IH", 0, 0))
    out += _record(0x000F, struct.pack("<H", len(modules)))
    out += _record(0x0013, struct.pack("<H", 0xFFFF))      # project cookie
    for module in modules:
        out += _text_records(0x0019, 0x0047, module.name)
        out += _text_records(0x001A, 0x0032, module.name)  # stream name
        out += _text_records(0x001C, 0x0048, "")           # doc string
        out += _record(0x0031, struct.pack("<I", 0))       # source at offset 0: no compiled code
        out += _record(0x001E, struct.pack("<I", 0))       # help context
        out += _record(0x002C, struct.pack("<H", 0xFFFF))  # cookie
        out += _record(0x0021 if module.kind == "module" else 0x0022, b"")
        out += _record(0x002B, b"")                        # terminator
    out += _record(0x0010, b"")
    return bytes(out)


def project_stream(modules: list[Module]) -> bytes:
    """The ``PROJECT`` stream (MS-OVBA 2.3.1): project properties as text."""
    protection = encrypt(struct.pack("<I", 0), seed=0x5A)  # not protected
    password = encrypt(bytes([0x00]), seed=0x5C)  # no password
    visibility = encrypt(bytes([0xFF]), seed=0x5E)  # visible
    lines = [f'ID="{PROJECT_ID}"']
    for module in modules:
        if module.kind == "document":
            lines.append(f"Document={module.name}/&H00000000")
        elif module.kind == "class":
            lines.append(f"Class={module.name}")
        else:
            lines.append(f"Module={module.name}")
    lines += [
        f'Name="{PROJECT_NAME}"',
        'HelpContextID="0"',
        'VersionCompatible32="393222000"',
        f'CMG="{protection}"',
        f'DPB="{password}"',
        f'GC="{visibility}"',
        "",
        "[Host Extender Info]",
        "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000",
        "",
        "[Workspace]",
        *[f"{m.name}=0, 0, 0, 0, C" for m in modules],
        "",
    ]
    return "\r\n".join(lines).encode(CODE_PAGE)


def projectwm_stream(modules: list[Module]) -> bytes:
    """The ``PROJECTwm`` stream (MS-OVBA 2.3.3): module names in MBCS and UTF-16."""
    out = bytearray()
    for module in modules:
        out += module.name.encode(CODE_PAGE) + b"\x00" + module.name.encode("utf-16-le") + b"\x00\x00"
    return bytes(out + b"\x00\x00")


def vba_project(modules: list[Module]) -> bytes:
    """``vbaProject.bin``: the compound file of a VBA project compiled by Excel from source."""
    vba = {
        "_VBA_PROJECT": b"\xcc\x61\xff\xff\x00\x01\x00",  # version 0xFFFF: no performance cache
        "dir": compress(dir_stream(modules)),
        **{m.name: compress(m.data) for m in modules},
    }
    return compound_file({"PROJECT": project_stream(modules), "PROJECTwm": projectwm_stream(modules), "VBA": vba})


# --------------------------------------------------------------------------------------
# MS-CFB: a version 3 compound file (512-byte sectors)
# --------------------------------------------------------------------------------------

SECTOR, MINI, CUTOFF = 512, 64, 4096
FREESECT, ENDOFCHAIN, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


@dataclass
class _Entry:
    name: str
    kind: int  # 1 storage, 2 stream, 5 root
    data: bytes = b""
    children: tuple = ()
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    start: int = ENDOFCHAIN
    size: int = 0


def _order(name: str):
    return len(name), name.upper()


def compound_file(tree: dict) -> bytes:
    """A compound file holding ``tree``: {name: bytes (a stream) or dict (a storage)}."""
    entries: list[_Entry] = [_Entry("Root Entry", 5)]

    def add(parent: int, items: dict) -> None:
        ids = []
        for name in sorted(items, key=_order):
            value = items[name]
            entry = _Entry(name, 1 if isinstance(value, dict) else 2, b"" if isinstance(value, dict) else value)
            entries.append(entry)
            ids.append(len(entries) - 1)
            if isinstance(value, dict):
                add(ids[-1], value)

        def balanced(lo: int, hi: int) -> int:
            if lo >= hi:
                return NOSTREAM
            mid = (lo + hi) // 2
            entries[ids[mid]].left = balanced(lo, mid)
            entries[ids[mid]].right = balanced(mid + 1, hi)
            return ids[mid]

        entries[parent].child = balanced(0, len(ids))

    add(0, tree)
    streams = [e for e in entries if e.kind == 2]
    big = [e for e in streams if len(e.data) >= CUTOFF]
    small = [e for e in streams if len(e.data) < CUTOFF]

    fat: list[int] = []
    body = bytearray()

    def chain(data: bytes) -> int:
        count = max(1, -(-len(data) // SECTOR))
        first = len(fat)
        fat.extend(range(first + 1, first + count))
        fat.append(ENDOFCHAIN)
        body.extend(data.ljust(count * SECTOR, b"\x00"))
        return first

    for e in big:
        e.start, e.size = chain(e.data), len(e.data)
    mini_stream, minifat = bytearray(), []
    for e in small:
        count = -(-len(e.data) // MINI)
        e.size = len(e.data)
        if count == 0:
            e.start = ENDOFCHAIN
            continue
        e.start = len(minifat)
        minifat.extend(range(e.start + 1, e.start + count))
        minifat.append(ENDOFCHAIN)
        mini_stream += e.data.ljust(count * MINI, b"\x00")
    root = entries[0]
    if mini_stream:
        root.start, root.size = chain(bytes(mini_stream)), len(mini_stream)
        minifat_bytes = struct.pack(f"<{len(minifat)}I", *minifat)
        minifat_bytes += b"\xff" * (-len(minifat_bytes) % SECTOR)
        first_minifat, minifat_sectors = chain(minifat_bytes), len(minifat_bytes) // SECTOR
    else:
        first_minifat, minifat_sectors = ENDOFCHAIN, 0
    directory = b"".join(_dir_entry(e) for e in entries)
    directory += _dir_entry(None) * (-len(entries) % 4)
    first_dir = chain(directory)
    # FAT sectors go last and must cover themselves.
    fat_sectors = 1
    while fat_sectors * (SECTOR // 4) < len(fat) + fat_sectors:
        fat_sectors += 1
    if fat_sectors > 109:
        raise ValueError("the VBA project is too large for a compound file without DIFAT sectors")
    fat_start = len(fat)
    fat.extend([FATSECT] * fat_sectors)
    fat.extend([FREESECT] * (fat_sectors * (SECTOR // 4) - len(fat)))
    body += struct.pack(f"<{len(fat)}I", *fat)
    difat = list(range(fat_start, fat_start + fat_sectors)) + [FREESECT] * (109 - fat_sectors)
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        bytes.fromhex("D0CF11E0A1B11AE1"), b"\x00" * 16, 0x003E, 0x0003, 0xFFFE, 9, 6, b"\x00" * 6,
        0, fat_sectors, first_dir, 0, CUTOFF, first_minifat, minifat_sectors, ENDOFCHAIN, 0,
    ) + struct.pack("<109I", *difat)
    assert len(header) == SECTOR
    return header + bytes(body)


def _dir_entry(e: _Entry | None) -> bytes:
    if e is None:
        return struct.pack("<64sHBBIII16sIQQIQ", b"", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM, b"\x00" * 16,
                           0, 0, 0, 0, 0)
    name = e.name.encode("utf-16-le")
    if len(name) > 62:
        raise ValueError(f"compound file names are at most 31 characters: {e.name!r}")
    return struct.pack("<64sHBBIII16sIQQIQ", name, len(name) + 2, e.kind, 1, e.left, e.right, e.child,
                       b"\x00" * 16, 0, 0, 0, e.start if e.kind != 1 else 0, e.size)


# --------------------------------------------------------------------------------------
# worksheet functions: their VBA wrappers and descriptions, from functions.py
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Udf:
    """A worksheet function as Excel sees it: name, arguments, descriptions."""

    name: str
    args: tuple[str, ...]
    optional: tuple[str, ...]
    doc: str
    arg_docs: tuple[str, ...]
    category: str


def udf_specs(path: Path = HERE / "functions.py") -> list[Udf]:
    """Every ``@xw.func`` of ``functions.py`` with its ``@xw.arg`` docs, read from the source."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    constants = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign)
                 for t in n.targets if isinstance(t, ast.Name) and isinstance(n.value, ast.Constant)}
    specs = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        calls = [d for d in node.decorator_list if isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute)
                 and isinstance(d.func.value, ast.Name) and d.func.value.id == "xw"]
        func = [c for c in calls if c.func.attr == "func"]
        if not func:
            continue
        category = "Territory"
        for keyword in func[0].keywords:
            if keyword.arg == "category":
                value = keyword.value
                category = value.value if isinstance(value, ast.Constant) else constants.get(value.id, category)
        docs = {c.args[0].value: next((k.value.value for k in c.keywords if k.arg == "doc"), "")
                for c in calls if c.func.attr == "arg"}
        args = tuple(a.arg for a in node.args.args)
        optional = args[len(args) - len(node.args.defaults):] if node.args.defaults else ()
        specs.append(Udf(node.name, args, optional, (ast.get_docstring(node) or "").strip(),
                         tuple(docs.get(a, "") for a in args), category))
    return specs


def _vba_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def udf_module(specs: list[Udf], *, module: str = UDF_MODULE) -> Module:
    """Module ``xlwings_udfs``: what xlwings' "Import Functions" writes into an add-in, plus
    ``TerritoryDescribeFunctions`` giving Excel's function wizard the descriptions."""
    lines = ['Attribute VB_Name = "xlwings_udfs"',
             "' Generated by excel_addin/build_xlam.py from excel_addin/functions.py; do not edit.",
             '#Const App = "Microsoft Excel" \'Adjust when using outside of Excel', ""]
    for f in specs:
        params = ", ".join(("Optional " if a in f.optional else "") + a for a in f.args)
        array = f"Array({', '.join(f.args)})"
        lines += [
            f"Function {f.name}({params})",
            '    #If App = "Microsoft Excel" Then',
            "        If TypeOf Application.Caller Is Range Then On Error GoTo failed",
            f'        {f.name} = XLPy.CallUDF("{module}", "{f.name}", {array}, ActiveWorkbook, Application.Caller)',
            "        Exit Function",
            "    #Else",
            f'        {f.name} = XLPy.CallUDF("{module}", "{f.name}", {array})',
            "        Exit Function",
            "    #End If",
            "failed:",
            f"    {f.name} = Err.Description",
            "End Function",
            "",
        ]
    lines += ["Public Sub TerritoryDescribeFunctions()", "    On Error Resume Next", "    Dim d() As String"]
    for f in specs:
        lines.append(f"    ReDim d(0 To {len(f.args) - 1})")
        lines += [f"    d({i}) = {_vba_string(doc[:255])}" for i, doc in enumerate(f.arg_docs)]
        lines.append(f"    Application.MacroOptions Macro:=\"'\" & ThisWorkbook.Name & \"'!{f.name}\", "
                     f"Description:={_vba_string(f.doc[:255])}, Category:={_vba_string(f.category)}, "
                     "ArgumentDescriptions:=d")
    lines += ["End Sub", ""]
    return Module("xlwings_udfs", "module", "\n".join(lines))


def modules() -> list[Module]:
    """Every module of the add-in's VBA project, in project order."""
    found = {}
    for path in sorted((HERE / "vba").iterdir()):
        if path.suffix in (".bas", ".cls"):
            kind = "module" if path.suffix == ".bas" else "document" if path.stem in DOCUMENT_MODULES else "class"
            found[path.stem] = Module(path.stem, kind, path.read_text(encoding=CODE_PAGE))
    found["xlwings_udfs"] = udf_module(udf_specs())
    unknown = set(found) - set(MODULE_ORDER)
    if unknown:
        raise ValueError(f"add new modules to MODULE_ORDER: {', '.join(sorted(unknown))}")
    return [found[name] for name in MODULE_ORDER if name in found]


# --------------------------------------------------------------------------------------
# the package
# --------------------------------------------------------------------------------------

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
<Default Extension="xml" ContentType="application/xml"/>\
<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>\
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.ms-excel.addin.macroEnabled.main+xml"/>\
<Override PartName="/xl/worksheets/sheet1.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
<Override PartName="/xl/theme/theme1.xml" ContentType="application/vnd.openxmlformats-officedocument.theme+xml"/>\
<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>\
<Override PartName="/docProps/app.xml" \
ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>\
</Types>"""

_ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" \
Target="xl/workbook.xml"/>\
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" \
Target="docProps/core.xml"/>\
<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" \
Target="docProps/app.xml"/>\
<Relationship Id="rId4" Type="http://schemas.microsoft.com/office/2007/relationships/ui/extensibility" \
Target="customUI/customUI14.xml"/>\
</Relationships>"""

_WORKBOOK = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
<workbookPr codeName="ThisWorkbook"/>\
<bookViews><workbookView visibility="hidden"/></bookViews>\
<sheets><sheet name="{CONF_SHEET}" sheetId="1" r:id="rId1"/></sheets>\
</workbook>"""

_WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" \
Target="worksheets/sheet1.xml"/>\
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" \
Target="styles.xml"/>\
<Relationship Id="rId3" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" \
Target="vbaProject.bin"/>\
<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/theme" \
Target="theme/theme1.xml"/>\
</Relationships>"""

_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>\
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>\
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
</styleSheet>"""

_CORE = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" \
xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\
<dc:title>Territory Planner</dc:title><dc:description>The Territory ribbon and TERRITORY_* worksheet functions \
(xlwings add-in)</dc:description></cp:coreProperties>"""

_APP = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">\
<Application>Microsoft Excel</Application></Properties>"""

CONFIG = (("UDF Modules", UDF_MODULE),)
"""The add-in's xlwings settings (sheet territory.conf); the rest come from xlwings' defaults."""


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _conf_sheet() -> str:
    rows = "".join(
        f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>{_xml_text(k)}</t></is></c>'
        f'<c r="B{i}" t="inlineStr"><is><t>{_xml_text(v)}</t></is></c></row>'
        for i, (k, v) in enumerate(CONFIG, start=1))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<sheetPr codeName="Sheet1"/><sheetData>{rows}</sheetData></worksheet>')


def build(output: Path = OUTPUT) -> Path:
    """Write the add-in to ``output`` (through a temporary file moved into place)."""
    data = xlam_bytes()
    tmp = output.with_name(f".{output.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(output)
    return output


def xlam_bytes() -> bytes:
    """The add-in package, byte for byte the same for the same sources."""
    ribbon = (HERE / "ribbon.xml").read_bytes()
    parts = [
        ("[Content_Types].xml", _CONTENT_TYPES.encode()),
        ("_rels/.rels", _ROOT_RELS.encode()),
        ("docProps/core.xml", _CORE.encode()),
        ("docProps/app.xml", _APP.encode()),
        ("xl/workbook.xml", _WORKBOOK.encode()),
        ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.encode()),
        ("xl/worksheets/sheet1.xml", _conf_sheet().encode()),
        ("xl/styles.xml", _STYLES.encode()),
        ("xl/theme/theme1.xml", (HERE / "theme1.xml").read_bytes()),
        ("xl/vbaProject.bin", vba_project(modules())),
        ("customUI/customUI14.xml", ribbon),
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for name, content in parts:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            package.writestr(info, content)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT, help="the .xlam to write")
    parser.add_argument("--check", action="store_true", help="only check that the file is up to date")
    args = parser.parse_args(argv)
    if args.check:
        fresh = args.output.exists() and args.output.read_bytes() == xlam_bytes()
        print(f"{args.output} is {'up to date' if fresh else 'stale: run python excel_addin/build_xlam.py'}")
        return 0 if fresh else 1
    path = build(args.output)
    print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
