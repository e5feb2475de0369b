"""A stop the user asked for (a signal), which long loops honour even if its exception was lost.

The command line turns a signal into an exception raised where the program is. Raised inside a
callback whose errors Python only prints (a fork's at-fork handlers, a ``__del__``), that
exception is dropped and the work would go on to write its output as if nothing had happened.
So the handler also records the request here, and a long loop calls :func:`check` between its
steps: the stop is then honoured at the next step.
"""

from __future__ import annotations

__all__ = ["Stopped", "request", "check", "clear"]


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
