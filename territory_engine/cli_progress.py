"""The command line's progress display: one line for the step under way, on stderr.

Every step a command takes (reading, rebalancing, writing, drawing) shows its name, a spinner,
a bar (when the step knows how far it is, else a pulse) and its own clock, which keeps running
until the next step starts: a long write never looks hung. The display is drawn by rich on
stderr, only when stderr is a terminal; otherwise nothing is drawn and the output holds no
control characters. It is fed through the workflow's progress callback,
``progress(phase, fraction)``, the one the Excel add-in shows in the status bar.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator

__all__ = ["Steps", "progress_display"]


class Steps:
    """The workflow's progress callback, drawn as one step at a time.

    ``steps(phase, fraction)`` starts a step when ``phase`` is new (the previous one is
    done) and moves its bar: a fraction of 0 leaves the step without a known extent (a
    pulse), one above 0 fills the bar. :meth:`step` runs a block of work as a step.
    Without a display (``bar`` None), every call does nothing.

    Parameters
    ----------
    bar : rich.progress.Progress or None
        The display, started by :func:`progress_display`.
    """

    def __init__(self, bar=None):
        self.bar = bar
        self.phase: str | None = None
        self.task = None

    def __call__(self, phase: str, fraction: float) -> None:
        if self.bar is None:
            return
        if phase != self.phase:
            if self.task is not None:
                self.bar.update(self.task, visible=False)
            self.phase = phase
            self.task = self.bar.add_task(phase, total=None)
        if fraction > 0:
            self.bar.update(self.task, total=1.0, completed=min(float(fraction), 1.0))

    @contextmanager
    def step(self, phase: str) -> Iterator[None]:
        """Show ``phase`` while the block runs (reported as ``phase`` at 0, then at 1)."""
        from .workflow import step

        with step(self, phase):
            yield

    def within(self, prefix: str):
        """A progress callback for a verb's own phases, shown as ``prefix: phase``."""
        return lambda phase, fraction: self(f"{prefix}: {phase}", fraction)


def _clock_column():
    from rich.progress import ProgressColumn
    from rich.text import Text

    class Clock(ProgressColumn):
        """The time since the step started, running until the next step (a finished bar
        included: the work after it is still part of the step)."""

        def render(self, task) -> Text:
            seconds = int(task.get_time() - task.start_time) if task.start_time is not None else 0
            done = f"{task.percentage:3.0f}% " if task.total else ""
            return Text(f"{done}{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}",
                        style="progress.elapsed")

    return Clock()


@contextmanager
def progress_display(enabled: bool = True) -> Iterator[Steps]:
    """A :class:`Steps` drawn on stderr while the block runs, when stderr is a terminal.

    The display is removed when the block ends. Text printed meanwhile appears above it
    (stdout's only when stdout is the terminal too; a redirected stdout is left alone).
    """
    if not enabled or sys.stderr is None or not sys.stderr.isatty():  # (None: stderr closed, 2>&-)
        yield Steps()
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

    console = Console(stderr=True)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), _clock_column(),
                  console=console, transient=True,
                  redirect_stdout=sys.stdout is not None and sys.stdout.isatty(), redirect_stderr=True) as bar:
        yield Steps(bar)
