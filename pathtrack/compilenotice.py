"""The one-line notice that a Numba kernel is being compiled (a first run), shared by every compiled piece.

On a terminal, when a block that compiles is still running after :data:`COMPILE_NOTICE_SECONDS`, it says
once per process what is being compiled; a cached or quick compile says nothing.
"""

from __future__ import annotations

import contextlib
import sys

__all__ = ["COMPILE_NOTICE_SECONDS", "compile_notice"]

#: Say what is being compiled when the first call of the kernels takes longer than this (seconds).
COMPILE_NOTICE_SECONDS = 1.0

#: what :func:`compile_notice` has announced in this process (once each)
_announced: set = set()


@contextlib.contextmanager
def compile_notice(what: str, compiling: bool):
    """Say on stderr, once per process and only on a terminal, that ``what`` is being compiled when the
    block is still running after :data:`COMPILE_NOTICE_SECONDS` (``compiling``: the kernel has no
    compiled or cached code yet)."""
    if not compiling or what in _announced or not sys.stderr.isatty():
        yield
        return
    import threading

    _announced.add(what)
    timer = threading.Timer(COMPILE_NOTICE_SECONDS, print, (f"pathtrack: compiling {what} (first run only; later "
                                                            "runs load it from Numba's cache)...",),
                            {"file": sys.stderr, "flush": True})
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
