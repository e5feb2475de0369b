"""The xlwings version the add-in's VBA was written for, and the check that it is the one installed.

The add-in's module ``xlwings`` (``vba/xlwings.bas``, copied from xlwings' own custom add-in)
names its version in its ``XLWINGS_VERSION`` constant and in the files it calls: the DLL
``xlwings64-<version>.dll`` on Windows, the script ``xlwings-<version>.applescript`` on macOS.
Both come with the xlwings package of that very version, so a different xlwings in the
user's Python fails in ways that do not say why. The ``excel`` extra of ``pyproject.toml``
pins the same version, and every ribbon click checks it first (:func:`check_xlwings`).

That module is the one source of the version: after upgrading xlwings, copy the new
package's ``xlwings_custom_addin.bas`` to ``vba/xlwings.bas``, change the pin and rebuild
(``python excel_addin/build_xlam.py``); the tests check that the three agree.
"""

from __future__ import annotations

import re
from pathlib import Path

from territory_engine.errors import TerritoryError

__all__ = ["VENDORED_MODULE", "check_xlwings", "expected_xlwings"]

VENDORED_MODULE = Path(__file__).resolve().parent / "vba" / "xlwings.bas"
"""xlwings' VBA module as built into the add-in."""


def expected_xlwings(module: Path = VENDORED_MODULE) -> str:
    """The xlwings version the add-in's VBA calls, read from its ``XLWINGS_VERSION`` constant.

    Parameters
    ----------
    module : Path
        The vendored xlwings VBA module.

    Returns
    -------
    str
        The version, for example ``"0.37.8"``.
    """
    text = module.read_text(encoding="cp1252")
    found = re.search(r'^Public Const XLWINGS_VERSION As String = "([^"]+)"', text, flags=re.M)
    if found is None:
        raise ValueError(f"{module.name} has no XLWINGS_VERSION constant; is it xlwings' own module?")
    return found.group(1)


def check_xlwings() -> None:
    """Raise when the installed xlwings is not the version the add-in's VBA calls.

    Raises
    ------
    TerritoryError
        Naming both versions and the fix (``pip install xlwings==<expected>``).
    """
    expected = expected_xlwings()
    try:
        import xlwings
    except ImportError:
        installed = None
    else:
        installed = xlwings.__version__
    if installed == expected:
        return
    found = "xlwings is not installed" if installed is None else f"xlwings {installed} is installed"
    raise TerritoryError(
        f"The Territory add-in needs xlwings {expected} (its VBA calls that version's DLL), but {found} "
        f"in the Python that Excel runs. Fix: in a command prompt, run pip install xlwings=={expected} "
        "with that Python, then restart Excel.")
