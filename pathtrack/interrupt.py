"""Ctrl-C as a stop request: the first SIGINT asks a long computation to stop at its next safe point.

Used by :class:`pathtrack.tracker.Tracker` (between two steps) and by
:func:`pathtrack.polynomial.solve` (between two chunks of paths). Its own module so that the
solver does not import the Python tracker and its dependencies.
"""

from __future__ import annotations

import contextlib
import signal
import threading

__all__ = ["deferred_sigint"]


@contextlib.contextmanager
def deferred_sigint(target):
    """Turn the first SIGINT into ``target.request_stop()``; restore the old handler afterwards.

    ``target`` has ``request_stop()`` and the flag ``_stop_requested`` it sets; a second
    SIGINT while the flag is set raises ``KeyboardInterrupt``. Outside the main thread, or
    where handlers cannot be installed, SIGINT keeps its handler.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):
        if target._stop_requested:  # second Ctrl-C: the user means it
            raise KeyboardInterrupt
        target.request_stop()

    try:
        signal.signal(signal.SIGINT, handler)
    except (ValueError, OSError):  # not allowed here (embedded interpreter): keep the default
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
