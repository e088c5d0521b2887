"""Stopping on Ctrl-C, SIGTERM and SIGHUP (the terminal closed): one flag, checked between frames.

The first signal only sets `requested`; the loop finishes its frame, closes the files and the
program exits 130. A second signal while the program is still busy (loading, or stuck in a
frame) raises KeyboardInterrupt, which the loop also turns into a clean stop. Once the files
are being closed (`closing()`), further signals change nothing, and once the program is done
(`ignore()`) they are ignored.
"""

from __future__ import annotations

import errno
import os
import signal

requested = False
_closing = False
# SIGHUP: the terminal the program runs in was closed (or its SSH connection dropped). It used to kill the program at
# once: the recording's last second lost, an image output (the last frame) never written. Not where it is ignored
# (`nohup`), which is left as it is.
SIGNALS = (signal.SIGINT, signal.SIGTERM, *((signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ()))


def _on_signal(signum, frame) -> None:
    global requested
    if signum == getattr(signal, "SIGHUP", None):
        leave_hung_up_terminal()
    if requested and not _closing:
        raise KeyboardInterrupt
    requested = True


def install(keep: bool = False) -> None:
    """Route SIGINT, SIGTERM and SIGHUP to the flag (main thread only), starting with it cleared (with `keep`, a stop
    asked for since an earlier install() stands); a signal that is ignored (SIGHUP under `nohup`) stays ignored."""
    global requested, _closing
    requested, _closing = requested and keep, False
    route(_on_signal)


def route(handler) -> None:
    """SIGINT, SIGTERM and SIGHUP to `handler` (main thread only); SIGHUP not where it is ignored, as `nohup` leaves it
    for a program that should outlive its terminal."""
    for signum in SIGNALS:
        if not (signum == getattr(signal, "SIGHUP", None) and signal.getsignal(signum) is signal.SIG_IGN):
            signal.signal(signum, handler)


def leave_hung_up_terminal() -> None:
    """Standard output and error, where they are a terminal that has hung up (closed: every write there fails with
    EIO), sent to the null device instead, so that the program still closes its files and exits as after SIGTERM
    (the progress bar's next update, or the closing `wrote ...` line, ended it with an OSError)."""
    try:
        import termios
    except ImportError:  # (no terminals to hang up)
        return
    for fd in (1, 2):
        try:
            termios.tcgetattr(fd)
        except termios.error as error:
            if error.args and error.args[0] == errno.EIO:  # (a file or pipe: ENOTTY, left as it is)
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, fd)
                os.close(null)
        except (OSError, ValueError):
            pass


def closing() -> None:
    """From now on a signal only sets the flag: the files are being closed and must be finished."""
    global _closing
    _closing = True


def ignore() -> None:
    """The program is done: ignore further signals. Python's shutdown puts the default handlers back,
    so a late Ctrl-C or SIGTERM would otherwise turn a clean exit into death by that signal."""
    for signum in SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
