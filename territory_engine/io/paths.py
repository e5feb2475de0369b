"""Output files: the one check of a path before anything is written, and the temporary file
a writer fills before moving it into place.

Every writer uses them: :func:`territory_engine.io.write_tables` (.xlsx and .csv), the map
files (:mod:`territory_engine.maps`), the command line before it starts and the add-in for
its maps. An output never overwrites an input or a read-only file, and a failure (a full disk,
a file that cannot be replaced, a signal) never leaves a partial file: the temporary files are
removed, and of several outputs written together either all are moved into place or none.
A new output gets the mode any program would give it: read and write for everyone the umask
allows (0644 under umask 022, 0664 under umask 002).
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import Sequence

from ..errors import InputError, Problem

__all__ = ["WRITE_EXTENSIONS", "check_output_path", "move_into_place", "output_folder", "same_file",
           "temporary_file", "write_failed"]

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
        folder, it is read-only, or it is the same file as one of the inputs.
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
    if _read_only(out):
        raise InputError([Problem(out.name, f"{out.name} is read-only, so it is not replaced; make it writable "
                                  "or choose another output name", is_sheet=False)])
    return out


def _read_only(out: Path) -> bool:
    """True when ``out`` exists and no one may write it (its mode has no write bit; Windows'
    read-only attribute shows the same way). The mode, not ``os.access``, so that root too is
    refused what its owner protected."""
    try:
        return not (out.stat().st_mode & 0o222)
    except OSError:
        return False


def output_folder(path: str | os.PathLike) -> Path:
    """The folder ``path``, created with its parents when missing.

    Raises
    ------
    InputError
        It is a file, or it cannot be created.
    """
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError([Problem(folder.name, f"{folder} is a file, not a folder; choose another output "
                                  "folder", is_sheet=False)]) from None
    except OSError as error:
        raise InputError([Problem(folder.name or str(folder), f"cannot create the folder {folder}: "
                                  f"{error.strerror or error}; choose a folder you can write to",
                                  is_sheet=False)]) from None
    return folder


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

    Its mode is the one a program creating ``out`` gets under the current umask
    (``0o666 & ~umask``), not the 0600 of :func:`tempfile.mkstemp`.

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
    try:
        os.chmod(name, 0o666 & ~_umask())
    finally:
        os.close(fd)
    return Path(name)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_failed(out: Path, error: OSError) -> InputError:
    """The error to raise when writing ``out`` failed with ``error`` (a full disk, no permission).

    Its text names the output and the fix: "the disk is full" for ENOSPC and EDQUOT, the
    system's own words otherwise.
    """
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        text = (f"the disk is full, so {out.name} was not written (nothing was left behind); free some space or "
                "choose another folder")
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EBUSY, errno.ETXTBSY):
        text = (f"cannot replace {out.name}: it is open in another program or belongs to someone else "
                f"({error.strerror}); close it or choose another name")
    else:
        text = (f"cannot write {out.name}: {error.strerror or error}; nothing was left behind; choose another "
                "folder or name")
    return InputError([Problem(out.name, text, is_sheet=False)])


def move_into_place(pending: Sequence[tuple[Path, Path]]) -> None:
    """Move each complete temporary file onto its output: all of them, or none.

    Outputs that exist are first moved aside (beside themselves), then every temporary file
    is moved into place, then the old outputs are removed. When any step fails, the old
    outputs are put back, so the outputs are either all new or all as they were. The
    temporary files are left to the caller to remove.

    Parameters
    ----------
    pending : sequence of (Path, Path)
        Each temporary file and the output it becomes.

    Raises
    ------
    InputError
        An output cannot be replaced (open in another program, someone else's file).
    """
    aside: list[tuple[Path, Path]] = []
    placed: list[Path] = []
    try:
        for _, out in pending:
            if os.path.lexists(out):
                aside.append((_move_aside(out), out))
        for tmp, out in pending:
            _replace(tmp, out, out)
            placed.append(out)
    except BaseException:
        for out in placed:
            out.unlink(missing_ok=True)
        for old, out in reversed(aside):
            os.replace(old, out)
        raise
    for old, _ in aside:
        old.unlink(missing_ok=True)


def _move_aside(out: Path) -> Path:
    """Move the existing ``out`` to a new hidden name beside it (``.name.xxxx.old.ext``)."""
    try:
        fd, name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=f".old{out.suffix.lower()}", dir=out.parent or ".")
        os.close(fd)
    except OSError as error:
        raise write_failed(out, error) from None
    try:
        _replace(out, Path(name), out)
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)


def _replace(source: Path, target: Path, out: Path) -> None:
    try:
        os.replace(source, target)
    except OSError as error:
        raise write_failed(out, error) from None
