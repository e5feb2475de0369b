"""Print, as JSON, the Basic libraries LibreOffice imports from a workbook's VBA project.

Usage: ``python3 libreoffice_vba.py BOOK PROFILE_DIR`` with a Python that has LibreOffice's
``uno`` module (Debian: ``python3-uno``, for ``/usr/bin/python3``). Starts a headless soffice
of its own, with a fresh user profile in PROFILE_DIR, opens BOOK hidden with the filter
"Calc MS Excel 2007 VBA XML", prints ``{library: {module: source}}`` and ends that soffice.
Run by ``tests/test_xlam_readers.py``; not collected by pytest.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import uno
from com.sun.star.beans import PropertyValue


def _property(name, value):
    prop = PropertyValue()
    prop.Name, prop.Value = name, value
    return prop


def main(book: str, profile: str) -> int:
    pipe = f"territory_vba_{os.getpid()}"
    office = subprocess.Popen(
        ["soffice", "--headless", "--invisible", "--nologo", "--norestore", "--nodefault",
         f"-env:UserInstallation={Path(profile).resolve().as_uri()}", f"--accept=pipe,name={pipe};urp;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        context = None
        for _ in range(240):
            try:
                context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                break
            except Exception:
                if office.poll() is not None:
                    break
                time.sleep(0.25)
        if context is None:
            print("soffice did not start", file=sys.stderr)
            return 1
        desktop = context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
        document = desktop.loadComponentFromURL(
            uno.systemPathToFileUrl(str(Path(book).resolve())), "_blank", 0,
            (_property("Hidden", True), _property("FilterName", "Calc MS Excel 2007 VBA XML")))
        if document is None:
            print(f"LibreOffice could not open {book}", file=sys.stderr)
            return 1
        libraries = document.BasicLibraries
        found = {}
        for name in libraries.getElementNames():
            libraries.loadLibrary(name)
            library = libraries.getByName(name)
            found[name] = {module: library.getByName(module) for module in library.getElementNames()}
        document.close(True)
        print(json.dumps(found))
        try:
            desktop.terminate()
        except Exception:
            pass  # the bridge closes as soffice quits
        office.wait(timeout=60)
        return 0
    finally:
        if office.poll() is None:
            os.killpg(office.pid, signal.SIGTERM)
            office.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
