"""The loop: source -> pipeline (detect, align, classify) -> tracker -> draw -> sinks, with per-stage timings."""

from __future__ import annotations

import copy
import time
from typing import Callable, Iterator, Sequence

import numpy as np

from realtime import side_by_side, stop
from realtime.capture import CameraSource, Source
from realtime.draw import draw_faces, enlarged, enlargement, scaled_tracks
from realtime.output import Annotated
from realtime.pipeline import Pipeline
from realtime.track import ShotCuts, Track, Tracker
from realtime.window import Overlay

STAGES = ("capture", "detect", "align", "classify", "draw", "write")
# Photos measured per worker beyond the first before a rate is given: photos labelled side by side finish together at
# first (the workers start at once), which counts up to one photo per extra worker in no time; at 10 it is 10% at most
RATE_PHOTOS = 10


class Stats:
    """Per-stage times of every frame after the first (which pays one-off warm-up costs). With photos labelled side
    by side by `workers`, detect, align and classify are each photo's own and overlap, and capture is the wait for
    the next photo labelled: they add up to no total. Without `timed`, only the frames and faces are counted: the
    times of every frame, kept for a summary no one asked for, grew a camera left running by about 200 bytes a frame
    (0.5 GB a day at 30 FPS)."""

    def __init__(self, workers: int = 1, timed: bool = False, photos: bool = False):
        self.workers, self.timed = workers, timed
        self.unit = "photo" if photos else "frame"  # what the summary counts
        self.times = {stage: [] for stage in STAGES}
        self.frames = self.faces = 0
        self.started = self.wall = 0.0

    def add(self, stage_times: dict[str, float], faces: int) -> None:
        self.frames += 1
        if self.frames == 1:
            self.started = time.perf_counter()
            return
        self.faces += faces
        for stage, seconds in stage_times.items() if self.timed else ():
            self.times[stage].append(seconds * 1000)
        self.wall = time.perf_counter() - self.started

    def summary(self) -> str:
        measured = self.frames - 1
        if measured < 1:
            if not self.frames:
                return f"benchmark: no {self.unit} was labelled: nothing to measure"
            return (f"benchmark: one {self.unit} is too few to measure: the first is left out as warm-up "
                    f"(give 2 {self.unit}s or more)")
        unit = self.unit
        lines = [f"benchmark: {measured} {unit}{'s' * (measured != 1)} measured (first {unit} excluded as warm-up), "
                 f"{self.faces} face{'s' * (self.faces != 1)} ({self.faces / measured:.2f} per {unit})",
                 f"{'stage':>10} {'mean ms':>8} {'p50 ms':>7} {'p95 ms':>7}"]
        total = np.zeros(measured)
        for stage in STAGES:
            values = np.array(self.times[stage])
            total += values
            name = "wait" if stage == "capture" and self.workers > 1 else stage
            lines.append(f"{name:>10} {values.mean():8.2f} {np.percentile(values, 50):7.2f} {np.percentile(values, 95):7.2f}")
        if self.workers > 1:
            lines.append(f"{self.workers} workers labelled photos side by side: detect, align and classify are each photo's "
                         "own time, overlapping; wait is for the next photo labelled (reading it included)")
        else:
            lines.append(f"{'total':>10} {total.mean():8.2f} {np.percentile(total, 50):7.2f} {np.percentile(total, 95):7.2f}")
        needed = RATE_PHOTOS * (self.workers - 1)
        if measured < needed:  # (the photos begun together finish together: 2 photos on 2 workers gave 175 FPS)
            lines.append(f"end-to-end: not measured: {self.workers} photos at a time need {needed + 1} photos or more "
                         "for a rate (the first ones finish together)")
        else:
            lines.append(f"end-to-end: {measured / self.wall:.1f} FPS")
        return "\n".join(lines)


def run(source: Source, pipeline: Pipeline, tracker: Tracker, sinks: list, *, overlay: Overlay | None = None,
        cuts: ShotCuts | None = None, max_frames: int | None = None,
        helpers: Sequence[Pipeline] = (), timed: bool = False, enlarge_video: bool = False) -> tuple[Stats, str]:
    """Process `source` to its end, `max_frames`, a window's quit or a stop request; sinks are always closed.

    Each frame: `pipeline.process` -> `cuts` (a shot cut ends every track) -> `tracker.update` ->
    drawn (as `overlay` says) -> every sink's `write(Annotated)`. Returns the timings and why it
    stopped: "end", "quit" (a window's key or closed window) or "interrupted" (`stop.requested`,
    by Ctrl-C or SIGTERM). At least one frame is written before a stop, so a recording always plays.
    `helpers`: more pipelines like `pipeline`, for photos only (each labelled on its own): the next photos are
    labelled side by side on threads, one pipeline each, and come out in order (`labelled_ahead`).
    `timed`: keep every frame's stage times, for `Stats.summary` (a benchmark); else only count frames and faces.
    `enlarge_video`: a small video frame is drawn enlarged, as a small photo always is (`draw.enlargement`), for a
    window; not when it is recorded, as a recording keeps the source's size.
    """
    overlay = overlay or Overlay()
    stats, stopped, finished = Stats(workers=1 + len(helpers), timed=timed, photos=tracker.photos), "end", False
    frames = (labelled_ahead(source, [pipeline, *helpers]) if helpers else  # (labelled below, one by one)
              ((frame, getattr(source, "name", None), None, skipped_so_far(source)) for frame in source))
    started = time.perf_counter()
    labels = pipeline.classifier.labels
    charted = overlay.charted = [labels.index(name) for name in pipeline.classifier.classes]  # (classes left out
    # are all 0: no bars for them)
    skipped = 0  # photos that could not be read, in the results so far (each takes its place in the run)
    try:
        while max_frames is None or stats.frames < max_frames:
            t0 = time.perf_counter()
            frame, name, result, before = next(frames, (None, None, None, None))
            if frame is None:
                stopped = "interrupted" if stop.requested else "end"  # a camera gives up waiting on a stop
                if stopped == "end":
                    skipped = write_skipped(source, sinks, stats.frames, skipped, len(getattr(source, "skipped", ())))
                break
            skipped = write_skipped(source, sinks, stats.frames, skipped, before)
            t1 = time.perf_counter()
            if result is None:  # (a photo is searched with no regard to the last: its faces are not the last's)
                result = pipeline.process(frame, [] if tracker.photos else [track.face.box for track in tracker.tracks])
            t4 = time.perf_counter()
            if cuts is not None and cuts.is_cut(frame):
                tracker.reset()
            tracks = tracker.update(result.faces, result.probabilities, frame, result.crops)
            factor = enlargement(frame.shape[1::-1]) if tracker.photos or enlarge_video else 1  # a small one larger
            picture, shown = enlarged(frame, factor), scaled_tracks(tracks, factor)
            redraw = redrawing(picture, shown, labels, charted) if overlay.redrawable else None
            draw_faces(picture, shown, labels, bars=overlay.bars, charted=charted)
            t5 = time.perf_counter()
            place = stats.frames + skipped
            seconds = t5 - started if source.live else getattr(source, "time", place / source.fps) + source.offset
            annotated = Annotated(place, seconds, picture, tracks, name, redraw, factor)
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


def redrawing(frame: np.ndarray, tracks: list[Track], labels: list[str],
              charted: list[int] | None = None) -> Callable[[bool], np.ndarray]:
    """How to draw `frame`'s faces again, with or without probability bars (a photo in a window, on `b`): from a
    copy of the picture and of its tracks as they are now (the tracker may change them for the next photo)."""
    picture, kept = frame.copy(), copy.deepcopy(tracks)
    return lambda bars: draw_faces(picture.copy(), kept, labels, bars=bars, charted=charted)


def labelled_ahead(source: Source, pipelines: list[Pipeline]) -> Iterator[tuple[np.ndarray, str | None, object, int]]:
    """(photo, its name, its FrameResult, `skipped_so_far`) for each photo of `source`, in order, labelled side by
    side: one thread per pipeline (MediaPipe, LiteRT and OpenCV let go of Python's lock while they work;
    `side_by_side`). For photos only: each is labelled with no regard to the last."""
    jobs = (((frame, getattr(source, "name", None), skipped_so_far(source)),
             lambda pipeline, frame=frame: pipeline.process(frame)) for frame in source)
    for (frame, name, before), result in side_by_side(jobs, iter(pipelines).__next__, len(pipelines)):
        yield frame, name, result, before


def skipped_so_far(source: Source) -> int:
    """How many photos of `source` could not be read before the one it has just given (`ImageSource.skipped`)."""
    return len(getattr(source, "skipped", ()))


def write_skipped(source: Source, sinks: list, labelled: int, written: int, until: int) -> int:
    """Each photo skipped since the `written` first, up to `until`, to the sinks that record it (`skip`: --json and
    --csv), at its place in the run; returns `until`. (They were only named on standard error: the results of a folder
    did not say which photos were not labelled, nor why.)"""
    for place, (name, why) in enumerate(getattr(source, "skipped", [])[written:until], labelled + written):
        for sink in sinks:
            if hasattr(sink, "skip"):
                sink.skip(place, place / source.fps, name, why)
    return until


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
