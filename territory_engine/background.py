"""Work started early on a second thread, for a result needed later.

The rebalance action needs the accounts' adjacency (``contiguity.account_graph``) only after
the design, to count pieces; at a million accounts it takes as long as a quarter of the design,
and Qhull and the k-d tree release the GIL, so building it while the design runs uses the
machine's second core. Where threads cannot start (Pyodide, a restricted host), the work runs
when its result is first asked for, so callers need no second path.
"""

from __future__ import annotations

from threading import Thread
from typing import Any, Callable, Generic, TypeVar

__all__ = ["Later"]

T = TypeVar("T")


class Later(Generic[T]):
    """``fn(*args, **kwargs)``, started on a daemon thread now; :meth:`result` waits for it.

    An exception raised by ``fn`` is raised again by :meth:`result`, in the caller's thread.
    """

    def __init__(self, fn: Callable[..., T], *args: Any, **kwargs: Any):
        self._call = (fn, args, kwargs)
        self._value: Any = None
        self._error: BaseException | None = None
        self._done = False
        self._thread: Thread | None = Thread(target=self._run, daemon=True, name="territory-later")
        try:
            self._thread.start()
        except RuntimeError:  # no threads here: run on demand
            self._thread = None

    def _run(self) -> None:
        fn, args, kwargs = self._call
        try:
            self._value = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            self._error = exc
        self._done = True

    def result(self) -> T:
        """The value of the call (waiting for it, or running it now without a thread)."""
        if self._thread is not None:
            self._thread.join()
        elif not self._done:
            self._run()
        if self._error is not None:
            raise self._error
        return self._value
