"""Stopping on Ctrl-C and SIGTERM: one flag, checked between frames.

The first signal only sets `requested`; the loop finishes its frame, closes the files and the
program exits 130. A second signal while the program is still busy (loading, or stuck in a
frame) raises KeyboardInterrupt, which the loop also turns into a clean stop. Once the files
are being closed (`closing()`), further signals change nothing, and once the program is done
(`ignore()`) they are ignored.
"""

from __future__ import annotations

import signal

requested = False
_closing = False


def _on_signal(signum, frame) -> None:
    global requested
    if requested and not _closing:
        raise KeyboardInterrupt
    requested = True


def install() -> None:
    """Route SIGINT and SIGTERM to the flag (main thread only), starting with it cleared."""
    global requested, _closing
    requested = _closing = False
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _on_signal)


def closing() -> None:
    """From now on a signal only sets the flag: the files are being closed and must be finished."""
    global _closing
    _closing = True


def ignore() -> None:
    """The program is done: ignore further signals. Python's shutdown puts the default handlers back,
    so a late Ctrl-C or SIGTERM would otherwise turn a clean exit into death by that signal."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
