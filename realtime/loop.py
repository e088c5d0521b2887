"""The capture -> detect -> align -> classify -> draw -> write loop, with per-stage timings."""

from __future__ import annotations

import os
import sys
import time

import cv2
import numpy as np

from realtime import stop
from realtime.capture import CameraSource, Source
from realtime.draw import draw_faces, draw_fps
from realtime.output import JsonLinesWriter, VideoWriter
from realtime.pipeline import Pipeline
from realtime.track import Tracker

STAGES = ("capture", "detect", "align", "classify", "draw", "write")
WINDOW = "emotion-overlay (q or Esc quits)"


def display_available() -> bool:
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


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


def run(source: Source, pipeline: Pipeline, tracker: Tracker, *, output: str | None = None,
        json_path: str | None = None, display: bool = True, bars: bool = False,
        max_frames: int | None = None) -> tuple[Stats, str]:
    """Process `source` to its end, `max_frames`, q/Esc or a stop request; writers are always closed.

    Returns the timings and why it stopped: "end", "quit" (key or window closed) or "interrupted"
    (`stop.requested`, by Ctrl-C or SIGTERM). At least one frame is written before a stop, so a
    recording always plays.
    """
    writer = jsonl = None
    stats, stopped, fps = Stats(), "end", 0.0
    frames = iter(source)
    started = time.perf_counter()
    try:
        writer = VideoWriter(output, source.fps, source.size, live=source.live) if output else None
        labels = pipeline.classifier.labels
        jsonl = JsonLinesWriter(json_path, labels) if json_path else None
        if display:
            cv2.namedWindow(WINDOW, cv2.WINDOW_NORMAL)
        while max_frames is None or stats.frames < max_frames:
            t0 = time.perf_counter()
            frame = next(frames, None)
            if frame is None:
                stopped = "interrupted" if stop.requested else "end"  # a camera gives up waiting on a stop
                break
            t1 = time.perf_counter()
            result = pipeline.process(frame, [track.face.box for track in tracker.tracks])
            t4 = time.perf_counter()
            tracks = tracker.update(result.faces, result.probabilities)
            draw_faces(frame, tracks, labels, bars=bars)
            t5 = time.perf_counter()
            elapsed = t5 - started
            if writer:
                writer.write(frame, elapsed)
            if jsonl:
                jsonl.write(stats.frames, elapsed if source.live else stats.frames / source.fps, tracks)
            if display:
                fps = 0.9 * fps + 0.1 / max(t5 - t0, 1e-6) if fps else 1.0 / max(t5 - t0, 1e-6)
                cv2.imshow(WINDOW, draw_fps(frame, fps))
                key = cv2.waitKey(1) & 0xFF
                if key in (ord("q"), 27) or cv2.getWindowProperty(WINDOW, cv2.WND_PROP_VISIBLE) < 1:
                    stopped = "quit"
                    break
            t6 = time.perf_counter()
            stats.add({"capture": t1 - t0, **result.times, "draw": t5 - t4, "write": t6 - t5}, len(result.faces))
            if stop.requested:
                stopped = "interrupted"
                break
    except KeyboardInterrupt:  # a second Ctrl-C or SIGTERM: stop in the middle of the frame
        stopped = "interrupted"
    finally:
        stop.closing()
        if writer:
            writer.close()
        if jsonl:
            jsonl.close()
        source.close()
        if display:
            cv2.destroyAllWindows()
    return stats, stopped


def camera_failed(source: Source) -> bool:
    return isinstance(source, CameraSource) and source.failed
