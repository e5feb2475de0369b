"""The signals that end the ``territory`` command cleanly: each becomes an exception where the program is.

SIGINT, SIGTERM, SIGHUP and SIGQUIT raise :class:`Interrupted` (a :class:`~territory_engine.stopping.Stopped`,
a ``BaseException`` as ``KeyboardInterrupt`` is), so every writer on the way out removes its temporary
files; :func:`territory_engine.cli.entry` then prints one line and exits with 128 plus the signal's number.
"""

from __future__ import annotations

import signal
from typing import Any

from . import stopping
from .stopping import Stopped

__all__ = ["SIGNALS", "Interrupted", "catch_signals"]

SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")
"""The signals that end the command cleanly: the file being written is removed first."""


class Interrupted(Stopped):
    """A signal that ends the command, raised where the program is (a :class:`BaseException`,
    as ``KeyboardInterrupt``), so that every writer on the way out removes its temporary files.

    Attributes
    ----------
    signum : int
        The signal's number.
    """

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = int(signum)


def _interrupt(signum: int, frame: Any) -> None:
    for name in SIGNALS:  # a second signal must not cut the clean-up short
        number = getattr(signal, name, None)
        if number is not None:
            signal.signal(number, signal.SIG_IGN)
    stopping.request(signum)  # honoured by long loops even if the exception below is dropped
    raise Interrupted(signum)


def catch_signals() -> None:
    """Turn :data:`SIGNALS` into :class:`Interrupted` (main thread only; those the platform has)."""
    for name in SIGNALS:
        number = getattr(signal, name, None)
        if number is not None:
            try:
                signal.signal(number, _interrupt)
            except (ValueError, OSError):  # not the main thread, or not allowed here
                pass
