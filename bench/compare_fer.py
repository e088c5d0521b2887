"""Side-by-side benchmark against the PyPI `fer` package (its offline OpenCV-cascade mode).

    pip install --no-deps fer==25.10.3      # fer's other dependencies (torch, moviepy) are not needed here
    python bench/compare_fer.py --data ../shared/data/fer2013.csv.gz

1. Accuracy: both classifiers on the same FER2013 PrivateTest face crops (each with its own
   documented preprocessing: ours 48x48 grey levels, fer's 64x64 scaled to [-1, 1]).
2. Speed: both whole pipelines (detect + classify + draw) on the same generated 640x480
   clips with 1, 2 and 4 faces, held in memory so decoding costs neither side anything.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from realtime.__main__ import number  # noqa: E402
from realtime.capture import Source  # noqa: E402
from realtime.card import run_script  # noqa: E402
from realtime.classify import DEFAULT_MODEL, Classifier  # noqa: E402
from realtime.detect import FaceDetector  # noqa: E402
from realtime.loop import run  # noqa: E402
from realtime.pipeline import Pipeline  # noqa: E402
from realtime.scene import DemoSource  # noqa: E402
from realtime.track import Tracker  # noqa: E402
from train.data import FER2013_LABELS, DatasetError, load_fer2013  # noqa: E402
from train.report import paired_difference  # noqa: E402

FER_LABELS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]  # fer's _get_labels() order


class FrameList(Source):
    def __init__(self, frames: list[np.ndarray]):
        self.frames, self.size = frames, frames[0].shape[1::-1]

    def __iter__(self):
        return (frame.copy() for frame in self.frames)


def fer_classify(detector, faces: np.ndarray) -> np.ndarray:
    """fer's own crop preprocessing (resize to 64x64, scale to [-1, 1]) and classifier."""
    batch = np.stack([cv2.resize(face, (64, 64)) for face in faces]).astype(np.float32) / 255.0
    return np.asarray(detector._classify_emotions((batch - 0.5) * 2.0))


def right_answers(args, ours: Classifier, theirs) -> tuple[np.ndarray, np.ndarray]:
    """Per PrivateTest face, whether ours and whether fer labels it right."""
    faces, targets = load_fer2013(args.data).split("test")
    if args.limit:
        faces, targets = faces[: args.limit], targets[: args.limit]
    truth = targets.argmax(1)
    our_labels = [FER2013_LABELS.index(name) if name in FER2013_LABELS else -1 for name in ours.labels]  # contempt: wrong
    ours_predicted = np.array(our_labels)[ours.predict_many(faces).argmax(1)]
    theirs_predicted = np.concatenate([fer_classify(theirs, faces[i:i + 256]).argmax(1) for i in range(0, len(faces), 256)])
    theirs_predicted = np.array([FER2013_LABELS.index(FER_LABELS[i]) for i in theirs_predicted])
    return ours_predicted == truth, theirs_predicted == truth


def fer_pipeline_fps(detector, frames: list[np.ndarray]) -> tuple[float, float]:
    found, started = 0, time.perf_counter()
    for frame in frames:
        frame = frame.copy()
        for face in detector.detect_emotions(frame):
            x, y, w, h = face["box"]
            label = max(face["emotions"], key=face["emotions"].get)
            cv2.rectangle(frame, (x, y), (x + w, y + h), (0, 255, 0), 2)
            cv2.putText(frame, label, (x, y - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 255, 0), 1)
            found += 1
    return len(frames) / (time.perf_counter() - started), found / len(frames)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013.csv.gz"))
    parser.add_argument("--model", default=str(DEFAULT_MODEL))
    parser.add_argument("--frames", type=number(int, 1), default=150, help="frames per clip (default 150)")
    parser.add_argument("--limit", type=number(int, 1), help="use only the first N PrivateTest faces")
    args = parser.parse_args()
    try:
        from fer.fer import FER
    except ImportError:
        print("error: the fer package is missing: pip install --no-deps fer==25.10.3", file=sys.stderr)
        return 2
    ours, theirs = Classifier(args.model), FER(mtcnn=False)

    try:
        ours_right, theirs_right = right_answers(args, ours, theirs)
    except DatasetError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    difference, low, high = paired_difference(theirs_right, ours_right)
    print(f"accuracy on {len(ours_right)} FER2013 PrivateTest faces: ours {ours_right.mean():.1%}, fer "
          f"{theirs_right.mean():.1%} (ratio {ours_right.mean() / theirs_right.mean():.2f}x; ours minus fer "
          f"{100 * difference:+.1f} points, 95% interval {100 * low:+.1f} to {100 * high:+.1f}, paired over the faces)")
    print(f"{'faces':>5} {'ours FPS':>9} {'found/frame':>11} {'fer FPS':>8} {'found/frame':>11} {'ratio':>6}")
    detector = FaceDetector("full")
    for faces in (1, 2, 4):
        frames = list(DemoSource(faces=faces, frames=args.frames))
        # warm both up on the first frames, then time the whole clip
        fer_pipeline_fps(theirs, frames[:3])
        stats, _ = run(FrameList(frames), Pipeline(detector, ours, by_turns=True), Tracker(), [])
        ours_fps, ours_found = (stats.frames - 1) / stats.wall, stats.faces / (stats.frames - 1)
        theirs_fps, theirs_found = fer_pipeline_fps(theirs, frames)
        print(f"{faces:>5} {ours_fps:9.1f} {ours_found:11.2f} {theirs_fps:8.1f} {theirs_found:11.2f} "
              f"{ours_fps / theirs_fps:5.2f}x")
    return 0


if __name__ == "__main__":
    run_script(main)
