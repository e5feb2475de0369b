"""The ``territory`` command's launcher: Ctrl-C while the engine is still loading ends it
with one line and exit code 130, not a traceback.

Importing the engine (numpy, pandas, scipy) takes about a second; a ``KeyboardInterrupt`` in
that second would reach the interpreter before :func:`territory_engine.cli.entry` can catch
it. This module imports nothing but the standard library, so the console script can wrap
that import. Everything else is :func:`territory_engine.cli.entry`.
"""

from __future__ import annotations

import os
import sys

__all__ = ["main"]


def main() -> None:
    """Import the command and run it; a Ctrl-C before it takes over exits 130 with one line."""
    try:
        from territory_engine.cli import entry

        entry()  # never returns: it ends the process with its exit code
    except KeyboardInterrupt:
        sys.stderr.write("interrupted (SIGINT) while starting; nothing was written\n")
        sys.stderr.flush()
        os._exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
