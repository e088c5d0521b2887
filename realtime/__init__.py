"""emotion-overlay: real-time facial-expression labels over a camera, video or image."""

import contextlib
import os
import sys
import tempfile
import threading
import warnings

# Keep TensorFlow, MediaPipe and OpenCV to errors that matter; set before they are imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # FFmpeg inside OpenCV: quiet ("[gif @ 0x...] invalid block
# label" about a damaged file; the program says what it could not read in its own words)
# Pillow, asked for a photo's orientation tag or size, warns of damaged EXIF data and of pictures larger than it
# decodes unasked: the program reads them with OpenCV and says itself what it cannot read.
warnings.filterwarnings("ignore", message="(?s).*Corrupt EXIF data", module="PIL")
warnings.filterwarnings("ignore", message="(?s).*decompression bomb", module="PIL")


def _fill_closed_standard_streams() -> None:
    """A program started with its standard output or error closed (`>&-`, some service managers) gets them on the
    null device: otherwise Python leaves `sys.stdout` None (a traceback at its first use), and the first file the
    program opens takes the closed descriptor's number, so what native code logs, or `quiet_stderr` redirects,
    would land in or clobber that file (a results file)."""
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
        if getattr(sys, name) is None:
            setattr(sys, name, open(fd, "r" if fd == 0 else "w", closefd=False))


_fill_closed_standard_streams()

# File descriptor 2 is one for the whole process: two threads redirecting it at once would leave it on one of their
# temporary files (stderr lost for good), so one thread at a time does (photos labelled side by side: --workers).
_STDERR_LOCK = threading.RLock()


@contextlib.contextmanager
def quiet_stderr():
    """Keep native (C++) log lines off the terminal, as while TensorFlow or MediaPipe set themselves up.
    Yields a list that holds those lines once the block is done, for a caller that wants to read them.
    One thread at a time: another waits for the block to end."""
    with _STDERR_LOCK:
        sys.stderr.flush()
        said: list[str] = []
        try:
            caught = tempfile.TemporaryFile()
        except OSError:  # (no room for one: the lines are only dropped)
            caught = open(os.devnull, "w+b")
        saved = os.dup(2)
        try:
            with caught:
                os.dup2(caught.fileno(), 2)
                try:
                    yield said
                finally:
                    sys.stderr.flush()
                    os.dup2(saved, 2)
                    caught.seek(0)
                    said += caught.read().decode(errors="replace").splitlines()
        finally:
            os.close(saved)


def usable_cores() -> int:
    """The CPU cores this process may run on (a container's or `taskset`'s share, where the system says)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def side_by_side(jobs, make_tool, workers: int):
    """For each (tag, work) of `jobs`, in order: (tag, work(tool)), each `work` run on one of `workers` threads with
    a tool of its own (a pipeline, a detector: not to be shared between threads), or (tag, None) where `work` is
    None. `make_tool()` is called on this thread, at most `workers` times, as jobs first need tools; up to twice as
    many jobs as threads are read ahead. When the caller stops early, the jobs not begun are dropped."""
    import queue
    from collections import deque
    from concurrent.futures import Future, ThreadPoolExecutor

    free: queue.SimpleQueue = queue.SimpleQueue()
    made = 0

    def run(work):
        tool = free.get()
        try:
            return work(tool)
        finally:
            free.put(tool)

    pending: deque = deque()
    pool = ThreadPoolExecutor(workers)
    try:
        for tag, work in jobs:
            if work is None:
                result: Future = Future()
                result.set_result(None)
            else:
                if made < workers:
                    free.put(make_tool())
                    made += 1
                result = pool.submit(run, work)
            pending.append((tag, result))
            if len(pending) > 2 * workers:
                tag, result = pending.popleft()
                yield tag, result.result()
        while pending:
            tag, result = pending.popleft()
            yield tag, result.result()
    finally:
        pool.shutdown(cancel_futures=True)  # (the jobs running finish first)
