"""Video of faces behind dark sunglasses: does the video path box and label them, at what cost?

    python bench/video_sunglasses.py                   # 200 wild-faces photos, 1.5 s each, about 25 minutes
    python bench/video_sunglasses.py --photos 50 --seconds 1

BlazeFace leans on the eyes and finds no face behind opaque lenses; the video detector (`sweep`) then falls back
on OpenCV's Haar cascade (docs/face-detection.md). Each wild-faces photo (evenly spread over the set) is painted
with opaque round sunglasses, as `bench/pipeline_accuracy.py --conditions sunglasses` paints them, and filmed as
one shot by bench/label_stability.py's hand-held camera. The WHOLE video path (sweep detector, the program's
model for video, one view by turns, the tracker with its default settings and shot cuts) runs on every frame,
with the cascade and without it (as before), the two alternating shot by shot; and so on the photos as they are,
and on face-less pictures for false boxes and the cost: the photos with their faces painted over (`painted-out`),
and bench/clips' generated backgrounds (`generated`), filmed the same way.

Scored: frames with a face boxed (in face-less pictures: false boxes); from 0.5 s into each shot, frames whose
shown label is the photo's (no box counts as wrong; paired shot by shot against no cascade); boxes shown besides
the main face; and the detect stage's time a frame (mean and p95).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.label_stability import FPS, filmed, replay  # noqa: E402
from bench.pipeline_accuracy import CONDITIONS, DATA, eye_finder, wild_faces, wild_labels  # noqa: E402
from realtime.__main__ import number  # noqa: E402
from realtime.classify import DEFAULT_MODEL, Classifier  # noqa: E402
from realtime.detect import FaceDetector, around  # noqa: E402
from realtime.pipeline import Pipeline  # noqa: E402
from realtime.scene import background  # noqa: E402
from realtime.track import ShotCuts, Tracker  # noqa: E402
from train.data import DatasetError  # noqa: E402
from train.report import paired_difference  # noqa: E402

WAYS = ("cascade", "no cascade")
WITH_FACES = ("sunglasses", "as-is")
FACE_LESS = ("painted-out", "generated")  # the photos with their faces painted out; bench/clips' backgrounds


def painted_out(photo: np.ndarray) -> np.ndarray:
    """The photo with every face the program finds in it (its box 1.6x) painted over with the photo blurred: a real
    picture, hair and shoulders and all, without a face."""
    out, blurred = photo.copy(), cv2.GaussianBlur(photo, (0, 0), 25)
    height, width = photo.shape[:2]
    for face in eye_finder().detect(photo):
        x0, y0, x1, y1 = around(face.box, width, height, 1.6)
        out[y0:y1, x0:x1] = blurred[y0:y1, x0:x1]
    return out


def shots(condition: str, photos: int) -> list[tuple[np.ndarray, int | None]]:
    """(picture, label index or None for no face) per shot."""
    if condition == "generated":
        return [(background(640, 480, seed=seed), None) for seed in range(photos)]
    if condition == "painted-out":
        return [(painted_out(photo), None) for _, photo, _ in wild_faces(DATA / "wild-faces", photos)]
    return [(CONDITIONS[condition](photo), label) for _, photo, label in wild_faces(DATA / "wild-faces", photos)]


def record(pipelines: dict[str, Pipeline], pictures, seconds: float, seed: int) -> dict[str, tuple[list, list]]:
    """Per way: the frames (shot, faces, probabilities, cut) and detect times (ms). The ways take turns shot by
    shot, each on the same filmed frames, with its own detector state, tracker and shot cuts. As in the program,
    the detector is given the boxes of every track, those held after a miss too."""
    recorded = {way: ([], [], Tracker(), ShotCuts()) for way in pipelines}
    rng = np.random.default_rng(seed)
    for shot, (picture, _) in enumerate(pictures):
        frames = list(filmed(picture, round(seconds * FPS), rng))
        for way, pipeline in pipelines.items():
            kept, times, tracker, cuts = recorded[way]
            for frame in frames:
                result = pipeline.process(frame, [track.face.box for track in tracker.tracks])
                cut = cuts.is_cut(frame)
                if cut:
                    tracker.reset()
                tracker.update(result.faces, result.probabilities)
                kept.append((shot, result.faces, result.probabilities, cut))
                times.append(result.times["detect"] * 1000)
    return {way: (kept, times) for way, (kept, times, _, _) in recorded.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=number(int, 1), default=200, help="shots per condition")
    parser.add_argument("--seconds", type=number(float, 0.6), default=1.5, help="length of each shot")
    parser.add_argument("--conditions", nargs="+", choices=(*WITH_FACES, *FACE_LESS),
                        default=["sunglasses", "as-is", "painted-out"])
    parser.add_argument("--seed", type=number(int, 0, 2**32 - 1), default=0)
    args = parser.parse_args()
    try:
        if set(args.conditions) != {"generated"}:  # the others are wild-faces photos
            wild_labels(DATA / "wild-faces")
    except DatasetError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

    classifier = Classifier(DEFAULT_MODEL)
    pipelines = {way: Pipeline(FaceDetector("sweep"), classifier, by_turns=True) for way in WAYS}
    pipelines["no cascade"].detector.cascade = None
    print(f"{args.photos} shots of {args.seconds:g} s per condition at {FPS} FPS, model {DEFAULT_MODEL.name}")
    print(f"{'condition':<11} {'way':<11} {'boxed':>6} {'right':>6} {'paired':>22} {'other boxes':>11} "
          f"{'detect ms':>9} {'p95':>5}")
    for condition in args.conditions:
        started = time.perf_counter()
        pictures = shots(condition, args.photos)
        recorded = record(pipelines, pictures, args.seconds, args.seed)
        truth = [0 if label is None else label for _, label in pictures]
        replayed = {way: replay(frames, truth, Tracker(), True, classifier.labels) for way, (frames, _) in recorded.items()}
        for way, (frames, times) in recorded.items():
            scored = replayed[way]
            boxed = np.mean([label is not None for _, label in scored.shown])
            right = paired = "-"
            if condition in WITH_FACES:
                right = f"{scored.accuracy:.1%}"
                if way != WAYS[-1]:
                    mid, low, high = paired_difference(replayed[WAYS[-1]].per_shot, scored.per_shot)
                    paired = f"{100 * mid:+.1f} ({100 * low:+.1f} to {100 * high:+.1f})"
            print(f"{condition:<11} {way:<11} {boxed:6.1%} {right:>6} {paired:>22} {scored.ghosts:11d} "
                  f"{np.mean(times):9.1f} {np.percentile(times, 95):5.1f}")
        print(f"  ({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
