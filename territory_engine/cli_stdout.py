"""The command's standard output holds its own lines only: what native libraries print to
file descriptor 1 goes to the null device.

HiGHS 1.12 (in scipy 1.17) prints a debug line from C++ straight to descriptor 1 now and then
("HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();", ERGO-Code/HiGHS
issue 2783), whatever its output options say; a script reading ``territory``'s output would
read it too. While the command runs, descriptor 1 is the null device and Python's
``sys.stdout`` writes to a copy of the real one, so the command's own lines (click.echo) still
reach it. Where descriptors cannot be copied (no standard output at all), nothing changes.

A terminal's size is read from descriptors 0-2 (rich, ``shutil.get_terminal_size``): with
descriptor 1 the null device, a table written to a terminal whose stdin and stderr are not
one would fall back to 80 columns. So when the real output is a terminal, its size is given
in ``COLUMNS`` and ``LINES`` for the block (unless the user set them).

Under an ASCII locale (``LC_ALL=C`` with ``PYTHONUTF8=0``) Python opens the standard streams as
ASCII, and a territory named "Nörd" in a table ended the command in a ``UnicodeEncodeError``
traceback. click already writes UTF-8 to such a misconfigured stream; :func:`utf8_if_ascii`
makes every writer do the same, so a table and a message show the same name.

The same locale decodes the command line as ASCII, each other byte as a lone surrogate:
``--only-region "Région Sud"`` matched no region, and a path printed as ``Ausg??nge.csv``.
Re-decoding the arguments as UTF-8 would not do, as a file named in them would then no longer
open (its name encoded as ASCII). :func:`utf8_mode` runs the command again in Python's UTF-8
mode (``-X utf8``, PEP 540, the mode Python itself picks for the C locale unless told not to):
arguments, file names and streams are then UTF-8, as the bytes are.
"""

from __future__ import annotations

import codecs
import io
import os
import sys
from contextlib import contextmanager
from typing import Iterator

__all__ = ["own_stdout", "utf8_if_ascii", "utf8_mode"]


@contextmanager
def own_stdout() -> Iterator[None]:
    """Descriptor 1 to the null device and ``sys.stdout`` to the real output, for the block."""
    before = sys.stdout
    try:
        before.flush()
        real = os.dup(1)
    except (OSError, ValueError, AttributeError):
        yield
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        os.close(real)
        yield
        return
    stream = io.TextIOWrapper(io.FileIO(real, "w", closefd=False), encoding=getattr(before, "encoding", None),
                              errors=getattr(before, "errors", None),
                              line_buffering=getattr(before, "line_buffering", False))
    size = _terminal_size(real)
    names = [name for name in ("COLUMNS", "LINES") if size is not None and name not in os.environ]
    for name in names:
        os.environ[name] = str(size.columns if name == "COLUMNS" else size.lines)
    os.dup2(null, 1)
    sys.stdout = stream
    try:
        yield
    finally:
        try:
            stream.flush()
        finally:
            sys.stdout = before
            os.dup2(real, 1)
            os.close(real)
            os.close(null)
            for name in names:
                os.environ.pop(name, None)


def utf8_mode() -> None:
    """Under an ASCII file system encoding (``LC_ALL=C`` with ``PYTHONUTF8=0``), replace the process
    with the same command in Python's UTF-8 mode; elsewhere (and where the command line that
    started the process is unknown) return at once."""
    if sys.flags.utf8_mode or not sys.executable or not getattr(sys, "orig_argv", None):
        return
    try:
        ascii_ = codecs.lookup(sys.getfilesystemencoding()).name == "ascii"
    except LookupError:
        return
    if ascii_:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
        try:
            os.execv(sys.executable, [sys.executable, "-X", "utf8", *sys.orig_argv[1:]])
        except OSError:  # (cannot run the interpreter again: carry on as the locale says)
            return


def utf8_if_ascii() -> None:
    """Standard output and error write UTF-8 where they were opened as ASCII (as click's echo does);
    a character that still cannot be written becomes a ``?`` rather than a traceback."""
    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None)
        try:
            ascii_ = encoding is not None and codecs.lookup(encoding).name == "ascii"
        except LookupError:
            ascii_ = False
        if ascii_ and hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(encoding="utf-8", errors="replace")
            except (OSError, ValueError):  # (a closed or already-written stream keeps its encoding)
                pass


def _terminal_size(fd: int) -> os.terminal_size | None:
    try:
        return os.get_terminal_size(fd) if os.isatty(fd) else None
    except OSError:
        return None
