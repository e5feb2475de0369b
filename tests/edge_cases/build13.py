"""Issue 13, the add-in's build (items 6-9) and its VBA callback: every case in a subprocess.

Run from the worktree root: ``.venv/bin/python tests/edge_cases/build13.py``. Each case is a small
program run with the project's Python against the committed ``excel_addin/territory.xlam`` and
sources; it exits 1 and prints what is wrong while the defect is there, 0 and what it found
once fixed. Prints one line per case: the case, the exit code and the first line of its output.
Not collected by pytest (the regression tests are ``tests/test_xlam.py`` and
``tests/test_xlam_readers.py``); kept so that the "before" and "after" tables come from the same
commands. The three deliberate breakages of item 9 are run by ``broken_addin.py``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python")

PRELUDE = """
import io, re, sys, zipfile
from pathlib import Path
import olefile
XLAM = Path("excel_addin/territory.xlam")
package = zipfile.ZipFile(XLAM)
def fail(text):
    print(text); sys.exit(1)
def project_stream():
    ole = olefile.OleFileIO(package.read("xl/vbaProject.bin"))
    try:
        return ole.openstream("PROJECT").read().decode("cp1252")
    finally:
        ole.close()
def module_source(name):
    from oletools.olevba import VBA_Parser
    parser = VBA_Parser(str(XLAM))
    try:
        found = {Path(n).stem: c for _, _, n, c in parser.extract_macros()}
    finally:
        parser.close()
    return found[name]
"""

CASES = {
    "6 a module named like the VBA project": """
text = project_stream()
project = re.search(r'^Name="(.*)"', text, re.M).group(1)
modules = re.findall(r'^(?:Module|Class|Document)=([^/\\r\\n]+)', text, re.M)
same = [m for m in modules if m.lower() == project.lower()]
if same:
    fail(f"project {project!r} has a module of the same name: {same[0]!r}")
print(f"project {project!r}; modules {', '.join(modules)}")
""",
    "7 theme part": """
names = package.namelist()
if "xl/theme/theme1.xml" not in names:
    fail("no xl/theme/theme1.xml in territory.xlam")
rels = package.read("xl/_rels/workbook.xml.rels").decode()
types = package.read("[Content_Types].xml").decode()
ok = "theme/theme1.xml" in rels and "/xl/theme/theme1.xml" in types
print("xl/theme/theme1.xml present, referenced" if ok else "theme1.xml present but not referenced")
sys.exit(0 if ok else 1)
""",
    "8a excel extra pins xlwings": """
import tomllib
extra = tomllib.loads(Path("pyproject.toml").read_text())["project"]["optional-dependencies"]["excel"]
pin = [d for d in extra if d.startswith("xlwings")]
vendored = re.search(r"'Version: (\\S+)", Path("excel_addin/vba/xlwings.bas").read_text("cp1252")).group(1)
if pin != [f"xlwings=={vendored}"]:
    fail(f"excel extra asks for {pin}, the vendored xlwings.bas calls the {vendored} DLL")
print(f"excel extra: {pin[0]}")
""",
    "8b other xlwings installed, then a click": """
import shutil, tempfile
import xlwings
xlwings.__version__ = "0.33.0"
from excel_addin import ribbon
from excel_addin.book import FileBook
folder = Path(tempfile.mkdtemp())
shutil.copy("workbooks/territory_demo.xlsx", folder / "demo.xlsx")
book = FileBook(folder / "demo.xlsx")
try:
    ok = ribbon.dispatch("Help", book)
except Exception as error:
    fail(f"raised {type(error).__name__}: {error}")
message = book.alerts[-1][1].splitlines()[0] if book.alerts else ""
if ok:
    fail(f"ran with xlwings 0.33.0 installed: {message}")
print(f"refused: {message}")
""",
    "8c README on excel_addin in the wheel": """
text = Path("README.md").read_text()
if "Until the `excel_addin` package ships in the wheel" in text:
    fail("README: 'Until the `excel_addin` package ships in the wheel' (it does)")
if "xlwings runpython install" not in text:
    fail("README: no macOS step 'xlwings runpython install'")
print("README: install steps name the wheel and the macOS step")
""",
    "9 customUI against customui14.xsd": """
xsd = Path.cwd().parent / "shared" / "schemas" / "customui14.xsd"
try:
    import xmlschema
except ImportError:
    fail("xmlschema is not installed (not in the test extra)")
schema = xmlschema.XMLSchema(str(xsd))
errors = list(schema.iter_errors(package.read("customUI/customUI14.xml").decode()))
if errors:
    fail(f"{len(errors)} schema error(s): {errors[0].reason}")
print("customUI14.xml is valid")
""",
    "VBA no workbook open": """
code = module_source("TerritoryRibbon") if "Module=TerritoryRibbon" in project_stream() else module_source("Territory")
if "ActiveWorkbook Is Nothing" not in code:
    fail("the ribbon callback calls RunPython with no check for an open workbook")
print("the callback checks ActiveWorkbook Is Nothing")
""",
    "VBA second click while running": """
code = module_source("TerritoryRibbon") if "Module=TerritoryRibbon" in project_stream() else module_source("Territory")
if not re.search(r"^\\s*If\\s+\\w*[Bb]usy\\w*\\s+Then", code, re.M):
    fail("the ribbon callback has no busy flag: a second click starts a second run")
print("the callback refuses a second click while busy")
""",
    "VBA unexpected error": """
code = module_source("TerritoryRibbon") if "Module=TerritoryRibbon" in project_stream() else module_source("Territory")
if not re.search(r"On Error GoTo \\w+", code):
    fail("the ribbon callback has no error handler: a VBA error shows the Debug dialog")
print("the callback handles errors with On Error GoTo and a MsgBox")
""",
}


def main() -> None:
    for case, body in CASES.items():
        done = subprocess.run([PYTHON, "-c", textwrap.dedent(PRELUDE) + textwrap.dedent(body)], cwd=ROOT,
                              capture_output=True, text=True)
        text = (done.stdout or "").strip() or (done.stderr or "").strip()
        first = text.splitlines()[-1 if done.returncode not in (0, 1) else 0][:150] if text else ""
        print(f"{case} | {done.returncode} | {first}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
