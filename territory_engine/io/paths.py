"""Output files: the one check of a path before anything is written, and the temporary file
a writer fills before moving it into place.

Every writer uses them: :func:`territory_engine.io.write_tables` (.xlsx and .csv), the map
files (:mod:`territory_engine.maps`), the command line before it starts and the add-in for
its maps. An output never overwrites an input, and a failure never leaves a partial file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Sequence

from ..errors import InputError, Problem

__all__ = ["WRITE_EXTENSIONS", "check_output_path", "same_file", "temporary_file"]

WRITE_EXTENSIONS = (".xlsx", ".csv")
"""File types that can be written."""


def check_output_path(output: str | os.PathLike, *inputs: str | os.PathLike | None,
                      suffixes: Sequence[str] = WRITE_EXTENSIONS, kind: str | None = None) -> Path:
    """Refuse an output that would overwrite an input or cannot be written.

    Parameters
    ----------
    output : str or path-like
        The file to write.
    *inputs : str or path-like or None
        The files read for this run (None entries are ignored).
    suffixes : sequence of str
        The extensions the output may have (default: .xlsx and .csv, the tables).
    kind : str, optional
        What the file holds when it is not a table (``"map"``), for the message on a wrong
        extension: "cannot write a map to '.txt'; name it result.html".

    Returns
    -------
    pathlib.Path
        The output path.

    Raises
    ------
    InputError
        The output has an unsupported extension, its folder does not exist, it is a
        folder, or it is the same file as one of the inputs.
    """
    out = Path(output)
    if out.suffix.lower() not in suffixes:
        if kind is None:
            problem = (f"cannot write '{out.suffix or 'files without an extension'}' files; "
                       f"name the output {' or '.join(suffixes)}")
        else:
            problem = (f"cannot write a {kind} to '{out.suffix or 'a file without an extension'}'"
                       f"; name it {out.stem or kind}{suffixes[0]}")
        raise InputError([Problem(out.name, problem, is_sheet=False)])
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise InputError([Problem(out.name, f"the folder {folder} does not exist; create it or choose another "
                                  "output folder", is_sheet=False)])
    if out.is_dir():
        raise InputError([Problem(out.name, f"{out} is a folder; give a file name ending {' or '.join(suffixes)}",
                                  is_sheet=False)])
    for source in inputs:
        if source is not None and same_file(out, Path(source)):
            raise InputError([Problem(out.name, f"{out.name} would overwrite the input {Path(source).name}; "
                                      "choose another output name", is_sheet=False)])
    return out


def same_file(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` name the same file (the same inode when both exist, else the
    same resolved path, in the case the file system uses)."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.normcase(str(a.resolve())) == os.path.normcase(str(b.resolve()))


def temporary_file(out: Path) -> Path:
    """A new empty file beside ``out`` (``.name.xxxx.tmp.ext``), to be moved onto ``out`` when complete.

    Raises
    ------
    InputError
        The folder cannot be written to.
    """
    try:
        fd, name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=f".tmp{out.suffix.lower()}", dir=out.parent or ".")
    except OSError as error:
        raise InputError([Problem(out.name, f"cannot write in {out.parent or '.'}: {error.strerror or error}; "
                                  "choose a folder you can write to", is_sheet=False)]) from None
    os.close(fd)
    return Path(name)
