"""Steady labels: how often a face's shown label changes, how fast a real change shows, shot cuts.

    python bench/label_stability.py                 # 42 shots of 2.5 s from wild-faces photos, 30 FPS
    python bench/label_stability.py --per-class 10 --seconds 3   # 70 shots of 3 s

No labelled real video is available offline, so the clip is made from real photos
(../shared/data/wild-faces, 6 per class, seed 0): each photo is one "shot" of `--seconds`, filmed
by a hand-held camera (a smooth random drift of position, scale and rotation, light flicker,
sensor noise, JPEG compression at quality 75 each frame), on a blurred copy of itself as the
background. The WHOLE video path (sweep detector, the model card's crop, one view) runs once per
frame; then each tracker setting replays the same per-frame detections and probabilities:

- flicker: label changes per second of a shown track, counted from 0.5 s into each shot (every
  change inside a shot of one still photo is a flicker);
- accuracy: share of shown labels, from 0.5 s into each shot, equal to the photo's label;
- response: time from a change of photo until the label shows the model's answer for the new photo,
  when the tracker keeps following the face (cuts ignored; as for a person whose expression
  changes), over shot changes where that answer changes clearly (its mean probability leads the
  old answer's by 0.2 or more; a label that never shows counts as the shot's length); share within 0.5 s;
- ghost boxes: frames x boxes shown besides the one face of each shot (stray detections);
- cuts: share of shot changes detected by `ShotCuts`, and false cuts inside shots; the same shots filmed again and
  framed between bars (`framed`: 3:4 between black or grey bars, 16:9 between bars above and below, smaller with black
  all around), and with a crossfade of 0.2-1 s between them (dissolves); and false cuts on bench/clips/faces4.mp4 (4
  generated faces moving, no cut), fast pans, and flashes (the light jumping for a frame or half a second).
"""

from __future__ import annotations

import argparse
import math
import pickle
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pipeline_accuracy import wild_labels  # noqa: E402
from realtime.__main__ import number  # noqa: E402
from realtime.card import run_script  # noqa: E402
from realtime.classify import DEFAULT_MODEL, Classifier  # noqa: E402
from realtime.detect import FaceDetector  # noqa: E402
from realtime.pipeline import Pipeline  # noqa: E402
from realtime.scene import paste_face  # noqa: E402
from realtime.track import ShotCuts, Tracker  # noqa: E402
from train.data import FER2013_LABELS, DatasetError  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FPS = 30
SETTLE = FPS // 2  # 0.5 s: frames after a change before labels are scored
SIZE = (640, 480)


def pick_photos(folder: Path, per_class: int, seed: int) -> list[tuple[Path, int]]:
    rows = [(folder / path, FER2013_LABELS.index(label)) for path, label in wild_labels(folder)]
    rng = np.random.default_rng(seed)
    chosen = []
    for label in range(len(FER2013_LABELS)):
        of_class = [row for row in rows if row[1] == label]
        chosen += [of_class[i] for i in rng.choice(len(of_class), min(per_class, len(of_class)), replace=False)]
    return [chosen[i] for i in rng.permutation(len(chosen))]


def filmed(photo: np.ndarray, frames: int, rng: np.random.Generator, shake: float = 1.0):
    """`frames` frames of a still photo as a hand-held camera at 30 FPS would record it."""
    width, height = SIZE
    cover = max(width / photo.shape[1], height / photo.shape[0])
    backdrop = cv2.GaussianBlur(cv2.resize(photo, None, fx=cover, fy=cover), (0, 0), 25)
    top, left = (backdrop.shape[0] - height) // 2, (backdrop.shape[1] - width) // 2
    backdrop = backdrop[top:top + height, left:left + width]
    fit = 0.92 * height / photo.shape[0]
    drift = np.zeros(4)  # x, y (px), scale (share), angle (degrees): a smooth random walk
    for _ in range(frames):
        drift = 0.9 * drift + rng.normal(0, [1.2, 1.2, 0.004, 0.3]) * shake
        matrix = cv2.getRotationMatrix2D((photo.shape[1] / 2, photo.shape[0] / 2), drift[3], fit * (1 + drift[2]))
        matrix[:, 2] += (width / 2 - photo.shape[1] / 2 + drift[0], height / 2 - photo.shape[0] / 2 + drift[1])
        frame = cv2.warpAffine(photo, matrix, SIZE, borderMode=cv2.BORDER_TRANSPARENT, dst=backdrop.copy())
        if rng.random() < 0.2 * shake:  # now and then out of focus, or blurred by motion
            frame = cv2.GaussianBlur(frame, (0, 0), rng.uniform(0.5, 1.5))
        frame = frame.astype(np.float32) * (1 + rng.normal(0, 0.02 * shake)) + rng.normal(0, 2.5, frame.shape)
        frame = np.clip(frame, 0, 255).astype(np.uint8)
        yield cv2.imdecode(cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 75])[1], cv2.IMREAD_COLOR)


def panned(photo: np.ndarray, frames: int):
    """A fast pan (16 px a frame) and zoom across a large copy of a photo: motion, not a cut."""
    width, height = SIZE
    big = cv2.resize(photo, None, fx=2.4 * height / photo.shape[0], fy=2.4 * height / photo.shape[0])
    for k in range(frames):
        room = max(1, big.shape[1] - width - 120)
        x = room - abs(k * 16 % (2 * room) - room)  # back and forth: a jump would be a cut
        zoom = 1 + 0.2 * math.sin(k / 15)
        window = big[int(100 * zoom):int(100 * zoom) + height + 100, x:x + int(width * zoom)]
        yield cv2.resize(window, SIZE)


def record(pipeline: Pipeline, shots: list[tuple[Path, int]], seconds: float, seed: int, shake: float):
    """Per frame: (shot index, faces, probabilities, cut flag, the faces' crops, the frame in grey as a PNG: what the
    tracker compares faces by, `Look`)."""
    rng, cuts, frames = np.random.default_rng(seed), ShotCuts(), []
    previous: list = []
    for shot, (path, _) in enumerate(shots):
        for frame in filmed(cv2.imread(str(path)), round(seconds * FPS), rng, shake):
            result = pipeline.process(frame, previous)
            previous = [f.box for f in result.faces]
            grey = cv2.imencode(".png", cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))[1]
            frames.append((shot, result.faces, result.probabilities, cuts.is_cut(frame), result.crops, grey))
    return frames


@dataclass
class Replayed:
    """What the tracker showed, replayed over recorded frames. Scored from `SETTLE` frames into each shot."""

    right: np.ndarray  # per shot: frames whose main face's shown label is the photo's
    scored: np.ndarray  # per shot: frames scored
    flicker: float  # label changes a second of a shown track
    ghosts: int  # frames x boxes shown besides the main face (every shot has one face)
    shown: list  # per frame: (shot, shown label of the main face or None)
    confidence: np.ndarray  # per scored frame with a face: the shown label's probability
    correct: np.ndarray  # per scored frame with a face: whether that label is the photo's
    carried: int  # changes of photo where the main face kept the id it had in the photo before
    splits: int  # frames where the main face's id changed inside a shot (one photo: the same person)

    @property
    def accuracy(self) -> float:
        return float(self.right.sum() / max(1, self.scored.sum()))

    @property
    def per_shot(self) -> np.ndarray:
        return self.right / np.maximum(self.scored, 1)


def replay(frames, truth: list[int], tracker: Tracker, use_cuts: bool, labels: list[str], looks: bool = True) -> Replayed:
    """Feed recorded frames (`record`) to `tracker`; `truth`: each shot's label, an index into FER2013_LABELS; `labels`:
    the model's classes; `looks`: the tracker is given the frames and crops, and tells another person where a face was
    (`Look`). The main face is the widest track."""
    changes = shown_frames = ghosts = carried = splits = 0
    right, scored = np.zeros(len(truth)), np.zeros(len(truth))
    last_label: dict[int, int] = {}
    since = 0  # frames since the shot began
    shown_per_frame, confidence, correct = [], [], []
    main_ids: list[tuple[int, int]] = []  # (shot, id) of the main face in each frame that showed one
    for index, (shot, faces, probabilities, cut, *seen) in enumerate(frames):  # (`seen`: none in other benches' frames)
        since = 0 if index == 0 or frames[index - 1][0] != shot else since + 1
        if use_cuts and cut:
            tracker.reset()
        crops, grey = seen if seen and looks else (None, None)
        tracks = tracker.update(faces, probabilities, None if grey is None else cv2.imdecode(grey, cv2.IMREAD_GRAYSCALE),
                                crops)
        main = max(tracks, key=lambda t: t.face.width, default=None)
        if main is not None:
            if main_ids and main_ids[-1][1] == main.id and main_ids[-1][0] != shot:
                carried += 1
            splits += bool(main_ids and main_ids[-1][0] == shot and main_ids[-1][1] != main.id)
            if not main_ids or main_ids[-1] != (shot, main.id):
                main_ids.append((shot, main.id))
        shown_per_frame.append((shot, None if main is None else main.label))
        ghosts += max(0, len(tracks) - 1)
        for track in tracks:
            if since >= SETTLE:
                changes += track.id in last_label and last_label[track.id] != track.label
                shown_frames += 1
            last_label[track.id] = track.label
        if since >= SETTLE:
            scored[shot] += 1
            if main is not None:
                correct.append(labels[main.label] == FER2013_LABELS[truth[shot]])
                confidence.append(main.probabilities[main.label])
                right[shot] += correct[-1]
    return Replayed(right, scored, changes * FPS / shown_frames if shown_frames else 0.0, ghosts, shown_per_frame,
                    np.array(confidence), np.array(correct, bool), carried, splits)


def response_frames(frames, shown, labels: list[str], clear: float = 0.2) -> list[float]:
    """Per change of shot where the model's mean answer changes clearly (the new answer's mean probability
    leads the old one's by `clear`): frames until the label shows the new answer."""
    answers, means = {}, {}
    for shot in sorted({f[0] for f in frames}):
        probabilities = [f[2][0] for f in frames if f[0] == shot and len(f[1])]
        means[shot] = np.mean(probabilities, 0) if probabilities else None
        answers[shot] = int(np.argmax(means[shot])) if probabilities else None
    delays, index = [], 0
    while index < len(frames):
        shot = frames[index][0]
        end = index
        while end < len(frames) and frames[end][0] == shot:
            end += 1
        before = answers[frames[index - 1][0]] if index else None
        if (before is not None and answers[shot] is not None and answers[shot] != before
                and means[shot][answers[shot]] - means[shot][before] >= clear):
            hit = next((k for k in range(index, end) if shown[k][1] == answers[shot]), None)
            delays.append(math.inf if hit is None else hit - index)
        index = end
    return delays


def moving_clip_cuts(path: Path) -> str:
    """The line on false cuts in `path`, bench/clips/faces4.mp4 (4 generated faces moving, no cut)."""
    moving, capture = ShotCuts(), cv2.VideoCapture(str(path))
    moving_cuts = moving_frames = 0
    while (frame := capture.read()[1]) is not None:
        moving_cuts += moving.is_cut(frame)
        moving_frames += 1
    if not moving_frames:  # (a missing clip reads as no frame at all: "0 false cuts in 0 frames")
        return f"{path}: not measured, no frame read (python bench/make_clips.py writes the clips)"
    return f"bench/clips/{path.name} (moving faces, no cut): {moving_cuts} false cuts in {moving_frames} frames"


def framed(frame: np.ndarray, way: str) -> np.ndarray:
    """`frame` as a video framed otherwise shows it: a 3:4 picture between black (or grey) bars, a 16:9 one between
    bars above and below, or a smaller picture with black all around (a slide show, a TV programme, a phone's video)."""
    height, width = frame.shape[:2]
    if way == "as filmed":
        return frame
    canvas = np.full_like(frame, 128 if way == "grey pillarbox" else 0)
    if way.endswith("pillarbox"):
        inner = frame[:, (width - height * 3 // 4) // 2:][:, :height * 3 // 4]
    elif way == "letterbox":
        inner = frame[(height - width * 9 // 16) // 2:][:width * 9 // 16]
    else:  # windowbox
        inner = cv2.resize(frame, (width * 3 // 4, height * 3 // 4), interpolation=cv2.INTER_AREA)
    top, left = (height - inner.shape[0]) // 2, (width - inner.shape[1]) // 2
    canvas[top:top + inner.shape[0], left:left + inner.shape[1]] = inner
    return canvas


FRAMINGS = ("as filmed", "pillarbox", "grey pillarbox", "letterbox", "windowbox")


def framed_cuts(shots: list[tuple[Path, int]], seconds: float, seed: int, shake: float) -> list[str]:
    """A line per framing (FRAMINGS): the shots filmed again and framed so, the cuts `ShotCuts` finds between them
    and inside them (no model needed)."""
    rng, cuts = np.random.default_rng(seed + 1), {way: ShotCuts() for way in FRAMINGS}
    found, false = dict.fromkeys(FRAMINGS, 0), dict.fromkeys(FRAMINGS, 0)
    for shot, (path, _) in enumerate(shots):
        for k, frame in enumerate(filmed(cv2.imread(str(path)), round(seconds * FPS), rng, shake)):
            for way in FRAMINGS:
                cut = cuts[way].is_cut(framed(frame, way))
                found[way] += cut and k == 0 and shot > 0
                false[way] += cut and k > 0
    return [f"shot cuts, {way}: {found[way]}/{len(shots) - 1} detected, {false[way]} false cuts" for way in FRAMINGS]


def moving_face_splits(classifier: Classifier) -> str:
    """The line on faces taken for another person (`Look`) where one moves: the video path and the default tracker over
    a face moving 10-40 px a frame over plain walls (`plain_wall_cuts`), bench/clips/faces4.mp4 and fast pans and
    zooms; each new id after the first of each face is a false one."""
    def clips():
        for frames in plain_walls():
            yield 1, list(frames)
        capture, frames = cv2.VideoCapture(str(Path(__file__).parent / "clips" / "faces4.mp4")), []
        while (frame := capture.read()[1]) is not None:
            frames.append(frame)
        yield 4, frames
        photos = pick_photos(DATA / "wild-faces", 1, 0)[:5]
        for path, _ in photos:
            yield 1, list(panned(cv2.imread(str(path)), 60))

    extra, total = [0, 0], 0
    for faces, frames in clips():
        pipeline = Pipeline(FaceDetector("sweep"), classifier, by_turns=True)
        trackers, ids = (Tracker(), Tracker()), (set(), set())  # without looks, with
        for frame in frames:
            result = pipeline.process(frame, [t.face.box for t in trackers[1].tracks])
            for looks, tracker in enumerate(trackers):
                ids[looks].update(t.id for t in tracker.update(result.faces, result.probabilities, *(
                    (frame, result.crops) if looks else ())))
        for looks in (0, 1):
            extra[looks] += max(0, len(ids[looks]) - faces)
        total += len(frames)
    return (f"moving faces (plain walls, faces4.mp4, pans), new ids besides each face's first in {total} frames: "
            f"{extra[0]} without looks, {extra[1]} with")


def gallery_switches(classifier: Classifier, shots: list[tuple[Path, int]]) -> str:
    """The line on another person taking a face's place where no cut shows it: a 2x2 video call (640x480) whose top-left
    tile switches between 12 of the shots' photos every second, the other tiles still; the video path, the default
    tracker and the shot cuts, as the program runs them. A switch counts as told when the tile's face has none of its
    ids of the 5 frames before in the 10 after; every id of the other tiles after their first is a false one."""
    def tile(path: Path, k: int) -> np.ndarray:
        picture = np.full((240, 320, 3), 40, np.uint8)
        photo = cv2.resize(cv2.imread(str(path)), (220, 220), interpolation=cv2.INTER_AREA)
        picture[10:230, 50:270] = photo
        noise = np.random.default_rng(k).normal(0, 2.5, picture.shape)
        return np.clip(picture + noise, 0, 255).astype(np.uint8)

    still, switching = [path for path, _ in shots[12:15]], [path for path, _ in shots[:12]]
    pipeline, tracker, cuts = Pipeline(FaceDetector("sweep"), classifier, by_turns=True), Tracker(), ShotCuts()
    ids = []  # per frame: the top-left tile's ids, the other tiles'
    for k in range(30 * len(switching)):
        frame = np.vstack([np.hstack([tile(switching[k // 30], k), tile(still[0], k)]),
                           np.hstack([tile(still[1], k), tile(still[2], k)])])
        result = pipeline.process(frame, [t.face.box for t in tracker.tracks])
        if cuts.is_cut(frame):
            tracker.reset()
        tracks = tracker.update(result.faces, result.probabilities, frame, result.crops)
        top_left = {t.id for t in tracks if (t.face.box[0] + t.face.box[2]) / 2 < 320 and (t.face.box[1] + t.face.box[3]) / 2 < 240}
        ids.append((top_left, {t.id for t in tracks} - top_left))
    told = sum(not set().union(*(ids[i][0] for i in range(k - 5, k))) & set().union(*(ids[i][0] for i in range(k, k + 10)))
               for k in range(30, len(ids), 30))
    others = len(set().union(*(other for _, other in ids)))
    return (f"a 2x2 call, its top-left tile switching person every second: {told} of {len(switching) - 1} switches gave "
            f"a new id; {max(0, others - 3)} new ids on the 3 still tiles")


def flash_cuts(shots: list[tuple[Path, int]], seed: int) -> str:
    """The line on false cuts where the light jumps: 10 shots filmed for 3 s, each with four frames lit otherwise (a
    camera flash at 1.5x, 1.8x and +90 grey levels, a frame at half the light) and half a second overexposed (1.6x)."""
    rng, false = np.random.default_rng(seed), 0
    lit = {20: lambda f: f * 1.5, 35: lambda f: f * 1.8, 50: lambda f: f + 90, 65: lambda f: f * 0.5}
    for path, _ in shots[:10]:
        cuts = ShotCuts()
        for k, frame in enumerate(filmed(cv2.imread(str(path)), 90, rng)):
            light = lit.get(k) or ((lambda f: f * 1.6) if 72 <= k < 87 else None)
            if light:
                frame = np.clip(light(frame.astype(np.float32)), 0, 255).astype(np.uint8)
            false += cuts.is_cut(frame)
    return f"flashes and half a second overexposed in 10 shots: {false} false cuts in 900 frames"


def dissolve_cuts(shots: list[tuple[Path, int]], seconds: float, seed: int, shake: float) -> str:
    """The line on dissolves: the shots filmed again, each change of photo a crossfade of 0.2, 0.5 or 1 s in turn (the
    last frames of one photo blended into the first of the next); a dissolve is found where `ShotCuts` finds a cut
    between its start and 0.3 s after its end, and every other cut is a false one (no model needed)."""
    rng, cuts, fades = np.random.default_rng(seed + 2), ShotCuts(), (6, 15, 30)
    found = false = 0
    tail: list[np.ndarray] = []  # the last photo's frames that the next one fades in over
    for shot, (path, _) in enumerate(shots):
        fade, next_fade = fades[shot % len(fades)] if shot else 0, fades[(shot + 1) % len(fades)]
        frames = list(filmed(cv2.imread(str(path)), round(seconds * FPS) + next_fade, rng, shake))
        for k, frame in enumerate(tail):  # the fade
            share = (k + 1) / (fade + 1)
            frames[k] = cv2.addWeighted(frame, 1 - share, frames[k], share, 0)
        keep = len(frames) - next_fade if shot < len(shots) - 1 else len(frames)
        said = [cuts.is_cut(frame) for frame in frames[:keep]]
        window = fade + round(0.3 * FPS) if shot else 0
        found += any(said[:window])
        false += sum(said[window:])
        tail = frames[keep:]
    return (f"dissolves of 0.2, 0.5 and 1 s between the shots: {found}/{len(shots) - 1} detected, {false} false cuts in "
            f"{len(shots) * seconds:.0f} s")


def plain_wall_cuts() -> str:
    """The line on false cuts where a face moves fast (10-40 px a frame) over a plain wall, which must not be taken for
    bars beside the picture."""
    false = 0
    for frames in plain_walls():
        cuts = ShotCuts()
        false += sum(cuts.is_cut(frame) for frame in frames)
    return f"a face moving 10-40 px a frame over plain walls (dark, grey, light): {false} false cuts in 810 frames"


def plain_walls():
    """Nine clips of 90 frames: a face moving 10, 20 or 40 px a frame over a dark, grey or light plain wall."""
    for level in (20, 128, 230):
        for speed in (10, 20, 40):
            yield (wall_frame(level, k, speed) for k in range(90))


def wall_frame(level: int, k: int, speed: int) -> np.ndarray:
    frame = np.full((SIZE[1], SIZE[0], 3), level, np.uint8)
    paste_face(frame, 200, (120 + abs(k * speed % 800 - 400), 240 + round(20 * math.sin(k / 5))))
    return frame


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(DEFAULT_MODEL))
    parser.add_argument("--per-class", type=number(int, 1), default=6, help="photos (shots) per class")
    parser.add_argument("--seconds", type=number(float, 0, low_open=True), default=2.5, help="length of each shot")
    parser.add_argument("--seed", type=number(int, 0, 2**32 - 1), default=0)
    parser.add_argument("--cache", help="keep the per-frame results in this file and reuse them (same options!)")
    parser.add_argument("--shake", type=number(float, 0), default=1.0,
                        help="how much the camera moves, the light flickers and the focus slips (1 = the default)")
    args = parser.parse_args()

    try:
        shots = pick_photos(DATA / "wild-faces", args.per_class, args.seed)
    except DatasetError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    classifier = Classifier(args.model)
    pipeline = Pipeline(FaceDetector("sweep"), classifier, by_turns=True)
    started = time.perf_counter()
    cache = Path(args.cache) if args.cache else None
    if cache and cache.exists():
        frames = pickle.loads(cache.read_bytes())
    else:
        frames = record(pipeline, shots, args.seconds, args.seed, args.shake)
        if cache:
            cache.write_bytes(pickle.dumps(frames))
    print(f"{len(shots)} shots of {args.seconds:g} s (shake {args.shake:g}), {len(frames)} frames at {FPS} FPS through the video path "
          f"in {time.perf_counter() - started:.0f} s; model {Path(args.model).name}")

    starts = {i for i in range(1, len(frames)) if frames[i][0] != frames[i - 1][0]}
    detected = sum(frames[i][3] for i in starts)
    false = sum(f[3] for i, f in enumerate(frames) if i not in starts)
    print(f"shot cuts: {detected}/{len(starts)} detected, {false} false cuts in {len(frames) / FPS:.0f} s")
    print("\n".join(framed_cuts(shots, args.seconds, args.seed, args.shake)))
    print(plain_wall_cuts())
    print(dissolve_cuts(shots, args.seconds, args.seed, args.shake))
    print(flash_cuts(shots, args.seed))
    print(moving_clip_cuts(Path(__file__).parent / "clips" / "faces4.mp4"))
    pan_cuts = 0
    for path, _ in shots[:5]:
        pan = ShotCuts()
        pan_cuts += sum(pan.is_cut(frame) for frame in panned(cv2.imread(str(path)), 60))
    print(f"fast pans and zooms over 5 photos: {pan_cuts} false cuts in 300 frames")

    truth = [label for _, label in shots]
    for looks in (False, True):
        kept = replay(frames, truth, Tracker(), True, classifier.labels, looks)
        print(f"the default tracker, {'with' if looks else 'without'} telling another person where a face was (Look): "
              f"{kept.carried} of {len(starts)} photo changes kept the last photo's id, {kept.splits} new ids inside "
              f"photos; changes/s {kept.flicker:.3f}, accuracy {kept.accuracy:.1%}, ghost boxes {kept.ghosts}")
    print(moving_face_splits(classifier))
    print(gallery_switches(classifier, shots))
    settings = [("before: smoothing 0.75, no confirmation, no hysteresis, no cuts", dict(confirm=1, hysteresis=0.0), False)]
    settings += [(f"smoothing 0.75, hysteresis {h:.2f}, confirm 3, cuts", dict(hysteresis=h), True)
                 for h in (0.0, 0.05, 0.08, 0.1, 0.15, 0.2)]
    settings += [(f"smoothing {s}, hysteresis 0.10, confirm 3, cuts", dict(smoothing=s, hysteresis=0.1), True)
                 for s in (0.6, 0.85)]
    print(f"\n{'setting':<68} {'changes/s':>9} {'accuracy':>8} {'ghost boxes':>11} {'response p50':>12} {'p95':>5} "
          f"{'<=0.5 s':>7}")
    for name, options, use_cuts in settings:
        scored = replay(frames, truth, Tracker(**options), use_cuts, classifier.labels)
        # Response as for one person whose expression changes: the tracker follows the face across shots.
        followed = replay(frames, truth, Tracker(**options), False, classifier.labels, looks=False)
        delays = np.minimum(response_frames(frames, followed.shown, classifier.labels), round(args.seconds * FPS))
        print(f"{name:<68} {scored.flicker:9.3f} {scored.accuracy:8.1%} {scored.ghosts:11d} "
              f"{np.percentile(delays, 50) / FPS:11.2f}s {np.percentile(delays, 95) / FPS:4.2f}s "
              f"{np.mean(delays <= SETTLE):7.0%}")
    return 0


if __name__ == "__main__":
    run_script(main)
