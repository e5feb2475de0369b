"""A stop the user asked for (a signal), which long loops honour even if its exception was lost.

The command line turns a signal into an exception raised where the program is. Raised inside a
callback whose errors Python only prints (a fork's at-fork handlers, a ``__del__``), that
exception is dropped and the work would go on to write its output as if nothing had happened.
So the handler also records the request here, and a long loop calls :func:`check` between its
steps: the stop is then honoured at the next step.
"""

from __future__ import annotations

import signal
from contextlib import contextmanager

__all__ = ["Stopped", "request", "check", "clear", "STOP_SIGNALS", "signals_held", "worker_signals"]

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")
                     if hasattr(signal, name))
"""The signals that end a command (those of the command line)."""


@contextmanager
def signals_held():
    """Hold :data:`STOP_SIGNALS` while worker processes are started.

    A signal handled while a fork runs its callbacks (logging's and threading's locks) raises
    inside a callback, where Python prints and drops the exception; one handled while a process
    object is being sent to a fork server leaves the new worker a truncated message, whose
    traceback it prints. Held, the signal arrives after the workers started, in the main thread,
    and the work is abandoned cleanly. A worker starts with them held too, until
    :func:`worker_signals` lets them through.
    """
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no fork, no signal masks
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def worker_signals(*, ignore_interrupt: bool = False) -> None:
    """In a worker process: die quietly of :data:`STOP_SIGNALS` (the main process cleans up), or
    ignore Ctrl-C (``ignore_interrupt``), which the main process handles for the whole group; then
    let the signals through (they may be held since :func:`signals_held`)."""
    for number in STOP_SIGNALS:
        interrupt = number == getattr(signal, "SIGINT", None)
        signal.signal(number, signal.SIG_IGN if interrupt and ignore_interrupt else signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


class Stopped(BaseException):
    """The user asked the command to stop (a :class:`BaseException`, as ``KeyboardInterrupt``,
    so that every writer on the way out removes its temporary files)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = int(signum)


_requested: int | None = None


def request(signum: int) -> None:
    """Record that the signal ``signum`` asked the command to stop."""
    global _requested
    _requested = int(signum)


def clear() -> None:
    """Forget a request (a new command in the same process)."""
    global _requested
    _requested = None


def check() -> None:
    """Raise :class:`Stopped` when a stop was requested."""
    if _requested is not None:
        raise Stopped(_requested)
