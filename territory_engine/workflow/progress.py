"""The progress callback every verb takes, and a step of unknown extent reported through it.

``progress(phase, fraction)``: ``phase`` names the step under way ("rebalancing: centres",
"writing proposed.xlsx"), ``fraction`` (0 to 1) how far it is. The command line draws it as a
bar or a spinner with a clock; the Excel add-in shows it in the status bar. A step that cannot
tell how far it is (writing a workbook) is reported at 0 when it starts and at 1 when it ends.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from .plan import Progress

__all__ = ["Progress", "step"]


@contextmanager
def step(progress: Progress | None, phase: str) -> Iterator[None]:
    """Report the block as the step ``phase``: ``progress(phase, 0.0)`` before it and
    ``progress(phase, 1.0)`` after it (not after a failure). Does nothing without ``progress``.

    Parameters
    ----------
    progress : callable or None
        The progress callback, ``progress(phase, fraction)``.
    phase : str
        The step's name as the user reads it, e.g. ``"writing the proposed alignment"``.
    """
    if progress is not None:
        progress(phase, 0.0)
    yield
    if progress is not None:
        progress(phase, 1.0)
