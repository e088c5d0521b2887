"""The loop: source -> pipeline (detect, align, classify) -> tracker -> draw -> sinks, with per-stage timings."""

from __future__ import annotations

import ctypes
import os
import re
import sys
import tempfile
import threading
import time
from typing import Iterator, Sequence

import cv2
import numpy as np

from realtime import side_by_side, stop
from realtime.capture import CameraSource, Source
from realtime.draw import draw_faces
from realtime.output import Annotated
from realtime.pipeline import Pipeline
from realtime.track import ShotCuts, Tracker
from realtime.window import Overlay

STAGES = ("capture", "detect", "align", "classify", "draw", "write")


def display_problem() -> str | None:
    """Why no window can be shown, or None when one can. An OpenCV built without windows (opencv-python-headless,
    which other packages bring and which then takes the place of the one mediapipe installs) cannot show one
    anywhere: its cv2.namedWindow raises "The function is not implemented". On Linux, OpenCV's window (Qt with its X11 plugin only, in
    the opencv-python wheel; on Wayland through XWayland) needs the X server at DISPLAY to take a connection from
    this user: where none answers (an SSH session's forwarding gone, a stale DISPLAY) or it refuses (a container or
    `sudo` without the user's X authority), Qt aborts the whole process."""
    gui = opencv_gui()
    if gui == "NONE":
        return ("this OpenCV was built without windows, as opencv-python-headless is: installed over "
                "opencv-contrib-python? See Troubleshooting in the README")
    if not sys.platform.startswith("linux"):
        return None
    display = os.environ.get("DISPLAY", "")
    if not gui.startswith("QT"):  # an OpenCV of one's own build with GTK, which Wayland serves too
        return None if display or os.environ.get("WAYLAND_DISPLAY") else "neither DISPLAY nor WAYLAND_DISPLAY is set"
    return x_connection_problem(display) if display else "DISPLAY is not set"


def opencv_gui() -> str:
    """The window toolkit OpenCV was built with, as its build information says: QT5 (the opencv-python wheels on
    Linux), GTK3, COCOA, WIN32UI, ..., or NONE (opencv-python-headless and other builds for servers)."""
    found = re.search(r"^\s*GUI:\s*(\S+)", cv2.getBuildInformation(), re.MULTILINE)
    return found.group(1).upper() if found else "UNKNOWN"


def x_connection_problem(display: str, wait: float = 5.0) -> str | None:
    """Why libxcb, as Qt's X11 plugin calls it, cannot connect to the X server named by `display` (`:0`, `:1.0`,
    `localhost:10.0`), or None when it can. libxcb writes a server's reason for refusing to standard error; it is
    caught and said here instead."""
    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return "libxcb.so.1, which OpenCV's window needs, is not installed"
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    error = []

    def connect() -> None:
        connection = xcb.xcb_connect(display.encode(), None)
        error.append(xcb.xcb_connection_has_error(connection))
        xcb.xcb_disconnect(connection)

    with tempfile.TemporaryFile() as said:
        sys.stderr.flush()
        stderr = os.dup(2)
        os.dup2(said.fileno(), 2)
        try:
            attempt = threading.Thread(target=connect, daemon=True)  # a socket that takes but never answers
            attempt.start()
            attempt.join(wait)
        finally:
            os.dup2(stderr, 2)
            os.close(stderr)
        said.seek(0)
        reason = " ".join(said.read().decode(errors="replace").split())
    if not error:
        return f"the X server at DISPLAY={display} does not reply"
    if error[0] == 0:
        return None
    if reason:
        return f"the X server at DISPLAY={display} refused the connection: {reason}"
    if error[0] == 5:  # XCB_CONN_CLOSED_PARSE_ERR
        return f"DISPLAY={display} is not a display name"
    return f"no X server answers at DISPLAY={display}"


class Stats:
    """Per-stage times of every frame after the first (which pays one-off warm-up costs)."""

    def __init__(self):
        self.times = {stage: [] for stage in STAGES}
        self.frames = self.faces = 0
        self.started = self.wall = 0.0

    def add(self, stage_times: dict[str, float], faces: int) -> None:
        self.frames += 1
        if self.frames == 1:
            self.started = time.perf_counter()
            return
        self.faces += faces
        for stage, seconds in stage_times.items():
            self.times[stage].append(seconds * 1000)
        self.wall = time.perf_counter() - self.started

    def summary(self) -> str:
        measured = self.frames - 1
        if measured < 1:
            return "benchmark: too few frames to measure (need at least 2)"
        lines = [f"benchmark: {measured} frames measured (first frame excluded as warm-up), "
                 f"{self.faces} faces ({self.faces / measured:.2f} per frame)",
                 f"{'stage':>10} {'mean ms':>8} {'p50 ms':>7} {'p95 ms':>7}"]
        total = np.zeros(measured)
        for stage in STAGES:
            values = np.array(self.times[stage])
            total += values
            lines.append(f"{stage:>10} {values.mean():8.2f} {np.percentile(values, 50):7.2f} {np.percentile(values, 95):7.2f}")
        lines.append(f"{'total':>10} {total.mean():8.2f} {np.percentile(total, 50):7.2f} {np.percentile(total, 95):7.2f}")
        lines.append(f"end-to-end: {measured / self.wall:.1f} FPS")
        return "\n".join(lines)


def run(source: Source, pipeline: Pipeline, tracker: Tracker, sinks: list, *, overlay: Overlay | None = None,
        cuts: ShotCuts | None = None, max_frames: int | None = None,
        helpers: Sequence[Pipeline] = ()) -> tuple[Stats, str]:
    """Process `source` to its end, `max_frames`, a window's quit or a stop request; sinks are always closed.

    Each frame: `pipeline.process` -> `cuts` (a shot cut ends every track) -> `tracker.update` ->
    drawn (as `overlay` says) -> every sink's `write(Annotated)`. Returns the timings and why it
    stopped: "end", "quit" (a window's key or closed window) or "interrupted" (`stop.requested`,
    by Ctrl-C or SIGTERM). At least one frame is written before a stop, so a recording always plays.
    `helpers`: more pipelines like `pipeline`, for photos only (each labelled on its own): the next photos are
    labelled side by side on threads, one pipeline each, and come out in order (`labelled_ahead`).
    """
    overlay = overlay or Overlay()
    stats, stopped, finished = Stats(), "end", False
    frames = (labelled_ahead(source, [pipeline, *helpers]) if helpers else  # (labelled below, one by one)
              ((frame, getattr(source, "name", None), None) for frame in source))
    started = time.perf_counter()
    labels = pipeline.classifier.labels
    try:
        while max_frames is None or stats.frames < max_frames:
            t0 = time.perf_counter()
            frame, name, result = next(frames, (None, None, None))
            if frame is None:
                stopped = "interrupted" if stop.requested else "end"  # a camera gives up waiting on a stop
                break
            t1 = time.perf_counter()
            if result is None:
                result = pipeline.process(frame, [track.face.box for track in tracker.tracks])
            t4 = time.perf_counter()
            if cuts is not None and cuts.is_cut(frame):
                tracker.reset()
            tracks = tracker.update(result.faces, result.probabilities)
            draw_faces(frame, tracks, labels, bars=overlay.bars)
            t5 = time.perf_counter()
            seconds = t5 - started if source.live else getattr(source, "time", stats.frames / source.fps)
            annotated = Annotated(stats.frames, seconds, frame, tracks, name)
            for sink in sinks:
                sink.write(annotated)
            t6 = time.perf_counter()
            stats.add({"capture": t1 - t0, **result.times, "draw": t5 - t4, "write": t6 - t5}, len(result.faces))
            if any(getattr(sink, "quit", False) for sink in sinks):
                stopped = "quit"
                break
            if stop.requested:
                stopped = "interrupted"
                break
        finished = stopped == "end"
    except KeyboardInterrupt:  # a second Ctrl-C or SIGTERM: stop in the middle of the frame
        stopped = "interrupted"
    finally:
        stop.closing()
        try:
            frames.close()  # photos still being labelled side by side are finished, those not begun are dropped
            close_all(sinks, finished)
        finally:
            source.close()
    return stats, stopped


def labelled_ahead(source: Source, pipelines: list[Pipeline]) -> Iterator[tuple[np.ndarray, str | None, object]]:
    """(photo, its name, its FrameResult) for each photo of `source`, in order, labelled side by side: one thread
    per pipeline (MediaPipe, LiteRT and OpenCV let go of Python's lock while they work; `side_by_side`). For photos
    only: each is labelled with no regard to the last."""
    jobs = (((frame, getattr(source, "name", None)), lambda pipeline, frame=frame: pipeline.process(frame))
            for frame in source)
    for (frame, name), result in side_by_side(jobs, iter(pipelines).__next__, len(pipelines)):
        yield frame, name, result


def close_all(sinks: list, finished: bool = False) -> None:
    """Close every sink, even when one fails; then raise the first failure. `finished`: the source was
    read to its end (or --max-frames), and a window showing photos keeps the last one up until the user
    closes it: after the files, which come before the window in `sinks`, are complete."""
    failure = None
    for sink in sinks:
        try:
            if finished and failure is None and hasattr(sink, "hold"):
                sink.hold()
            sink.close()
        except Exception as err:  # noqa: BLE001 - raised again below, once the rest are closed
            failure = failure or err
    if failure is not None:
        raise failure


def camera_failed(source: Source) -> bool:
    return isinstance(source, CameraSource) and source.failed
