"""Labels on video of real faces: one model, or an ensemble's members in turn, frame by frame.

    python bench/video_members.py                       # every wild-faces photo a 1.2 s shot (about an hour)
    python bench/video_members.py --faces ferplus-in-frame --photos 1000   # FER+ votes, faces in a frame
    python bench/video_members.py --photos 200 --cache /tmp/frames.pkl

Video runs one model call per frame to stay real-time, so it cannot average an ensemble's members
as photos do. But the tracker already averages each face's answers over frames: if each frame asks
the next member in turn, the shown label averages them all, at one member's cost.

The clip is bench/label_stability.py's: each photo (evenly spread over the set) is one shot filmed
by a hand-held camera. The WHOLE video path (sweep detector, the card's crop, one view)
runs once per frame, and every member of the ensemble answers every face, plain and mirrored. Then
the tracker (default settings, shot cuts) replays each way of choosing the frame's answer:

- one model: each member alone, with its own card (as `--model ferplus_a`), the program's model for
  video first; that one also with the crop mirrored every other frame;
- in turn: frame k asks member k mod M, the ensemble card's correction and temperature;
- in turn, mirrored every other round: the same, with the crop mirrored on odd rounds (2M frames a cycle);
- all members every frame (M calls: M times the classify cost).

Scored per shot: the share of frames, from 0.5 s in, whose shown label is the photo's; accuracy is
the mean over shots, compared shot by shot (paired bootstrap) with the first way (the program's model
for video alone); label changes a second; calibration error of the confidence shown (docs/accuracy.md: How confident).
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.label_stability import FPS, SETTLE, filmed, replay  # noqa: E402
from bench.pipeline_accuracy import DATA, fer2013_in_frame, ferplus_majority, spread, wild_faces  # noqa: E402
from realtime.__main__ import number  # noqa: E402
from realtime.align import align_faces  # noqa: E402
from realtime.card import run_script  # noqa: E402
from realtime.classify import DEFAULT_MODEL, DEFAULT_PHOTO_MODEL, Classifier  # noqa: E402
from realtime.detect import FaceDetector  # noqa: E402
from realtime.track import ShotCuts, Tracker  # noqa: E402
from train.data import DatasetError, load_ferplus  # noqa: E402
from train.report import calibration_error, paired_difference  # noqa: E402


def photos(faces: str, limit: int | None):
    """(name, BGR photo, label index) of the chosen set."""
    if faces == "wild-faces":
        return wild_faces(DATA / "wild-faces", limit)
    data = load_ferplus(DATA / "fer2013.csv.gz", DATA / "fer2013new.csv")
    crops, votes = data.split("val")
    voted, targets = ferplus_majority(votes, data.labels)
    keep = spread(np.arange(len(targets)), limit)
    return fer2013_in_frame(crops[voted][keep], targets[keep])


def record(ensemble: Classifier, photos, seconds: float, seed: int):
    """Per frame: (shot, faces, member answers (faces, members, 2: plain and mirrored, classes), cut), and the
    shots' labels (indices into FER2013_LABELS)."""
    detector, cuts, rng = FaceDetector("sweep"), ShotCuts(), np.random.default_rng(seed)
    members, frames, labels = ensemble._run.members, [], []
    for shot, (_, photo, label) in enumerate(photos):
        labels.append(label)
        previous: list = []
        for frame in filmed(photo, round(seconds * FPS), rng):
            faces = detector.detect(frame, previous)
            previous = [face.box for face in faces]
            crops = ensemble.card.levels.apply(align_faces(frame, faces, ensemble.size, ensemble.crop))
            both = np.concatenate([crops, crops[:, :, ::-1]])
            answers = np.stack([member.predict(both).reshape(2, len(faces), len(ensemble.labels))
                                for member in members])
            frames.append((shot, faces, answers.transpose(2, 0, 1, 3), cuts.is_cut(frame)))
    return frames, labels


def corrected(classifier: Classifier, raw: np.ndarray) -> np.ndarray:
    """What `classifier` shows for raw answers: its class-share correction, then its temperature."""
    return classifier.calibrate(classifier.correct(raw))


def ways(ensemble: Classifier, singles: dict[str, Classifier]) -> dict:
    """Name -> answer(member answers of one face (members, 2, classes), frame number) -> probabilities."""
    names = ensemble.card.members
    count = len(names)
    chosen = {f"{name} alone": (lambda answers, k, i=names.index(name), c=classifier: corrected(c, answers[i, 0]))
              for name, classifier in singles.items()}
    chosen["in turn"] = lambda answers, k: corrected(ensemble, answers[k % count, 0])
    chosen["in turn, mirrored every other round"] = lambda answers, k: corrected(ensemble, answers[k % count, (k // count) % 2])
    first, classifier = next(iter(singles.items()))
    chosen[f"{first} alone, mirrored every other frame"] = (
        lambda answers, k, i=names.index(first), c=classifier: corrected(c, answers[i, k % 2]))
    chosen[f"all {count} every frame ({count}x the classify cost)"] = lambda answers, k: corrected(ensemble, answers[:, 0].mean(0))
    return chosen


def answered(frames, answer, classes: list[str]) -> list:
    """The recorded frames with each face's member answers replaced by `answer`'s choice for the frame."""
    return [(shot, faces, np.array([answer(a, index) for a in answers]).reshape(len(faces), len(classes)), cut)
            for index, (shot, faces, answers, cut) in enumerate(frames)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(DEFAULT_PHOTO_MODEL), help="an ensemble's card")
    parser.add_argument("--photos", type=number(int, 1), help="this many photos (shots), evenly spread over the set "
                        "(default: all; wild-faces' 1,916 take about an hour on the 2-core CPU)")
    parser.add_argument("--faces", choices=("wild-faces", "ferplus-in-frame"), default="wild-faces",
                        help="the photos: wild-faces, or FER2013 PublicTest faces in a frame scored by FER+'s majority "
                             "vote (as bench/pipeline_accuracy.py --ferplus)")
    parser.add_argument("--seconds", type=number(float, 0.6), default=1.2, help="length of each shot")
    parser.add_argument("--seed", type=number(int, 0, 2**32 - 1), default=0)
    parser.add_argument("--cache", help="keep the per-frame answers in this file and reuse them (same options!)")
    args = parser.parse_args()

    ensemble = Classifier(args.model)
    if not ensemble.card.members:
        print(f"error: {args.model} is not an ensemble", file=sys.stderr)
        return 2
    video = DEFAULT_MODEL.stem  # the program's model for video first: the others are compared with it
    singles = {name: Classifier(ensemble.card.path.with_name(f"{name}.keras"))
               for name in sorted(ensemble.card.members, key=lambda name: name != video)}
    cache = Path(args.cache) if args.cache else None
    started = time.perf_counter()
    if cache and cache.exists():
        frames, labels = pickle.loads(cache.read_bytes())
    else:
        try:
            shots = photos(args.faces, args.photos)
        except DatasetError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        frames, labels = record(ensemble, shots, args.seconds, args.seed)
        if cache:
            cache.write_bytes(pickle.dumps((frames, labels)))
    print(f"{args.faces}: {len(labels)} shots of {args.seconds:g} s, {len(frames)} frames through the video path in "
          f"{time.perf_counter() - started:.0f} s; scored from {SETTLE / FPS:.1f} s into each shot")
    print(f"\n{'answer of each frame':<52} {'accuracy':>8} {'minus the first (95% interval)':>31} {'changes/s':>9} "
          f"{'calibration error':>17}")
    first = None
    for name, answer in ways(ensemble, singles).items():
        shown = replay(answered(frames, answer, ensemble.labels), labels, Tracker(), True, ensemble.labels)
        right, flicker = shown.per_shot, shown.flicker
        error = calibration_error(shown.confidence, shown.correct)
        if first is None:
            first, versus = right, ""
        else:
            mean, low, high = paired_difference(first, right)
            versus = f"{mean * 100:+.1f} ({low * 100:+.1f} to {high * 100:+.1f})"
        print(f"{name:<52} {right.mean():8.1%} {versus:>31} {flicker:9.3f} {error:17.3f}")
    return 0


if __name__ == "__main__":
    run_script(main)
