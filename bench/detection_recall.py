"""Face detection recall and precision on generated group scenes, per detector option.

    python bench/detection_recall.py [--scenes 40] [--size 1280x720]
    python bench/detection_recall.py --size 4000x3000 --face-scale 3 --detectors tiled   # a phone photo
    python bench/detection_recall.py --size 4000x3000 --face-scale 3 --detectors tiled --min-face 140   # faster
    python bench/detection_recall.py --detectors tiled,tiled+upright --turn 90   # a group photo lying on its side
    python bench/detection_recall.py --gallery ../shared/data/wild-faces/images --detectors tiled+upright   # collages

Each scene pastes 6 faces (a real photo, flipped, rolled up to 15 degrees, lighter or
darker) at widths of 30 to 200 px (times `--face-scale`: the same scene in a larger picture)
into a generated backdrop, so every true box is known; `--turn` turns each scene (a photo without its
EXIF orientation). `tiled+upright` is the program's detector for photos: `tiled`, with faces that lie
sideways or upside down turned upright (their box and eyes found again; docs/face-detection.md).
A detection counts as a hit when it overlaps a true box by IoU >= 0.4. `sweep` is scored on
the last of as many frames of each (still) scene as it needs to visit every tile once;
its time is the mean over all those frames, which is what it costs per video frame.

`--gallery DIR` makes collages instead (a video call's gallery, a contact sheet): 2x2 to 6x6 cells, each holding
one photo of DIR (portrait photos whose face fills most of them, as wild-faces') scaled to 40-95% of the cell's
width. There the true box is the photo's: a hit is a face whose centre lies in it (one per photo), and the bands
are of the photo's width.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from realtime.__main__ import number  # noqa: E402
import cv2  # noqa: E402

from realtime.detect import MODES, TURNS, FaceDetector, overlap, search_windows, turn_points  # noqa: E402
from realtime.scene import background, paste_face  # noqa: E402

SIZE_BANDS = [(30, 40), (40, 60), (60, 100), (100, 10_000)]


def make_scene(width: int, height: int, seed: int, faces: int = 6, face_scale: float = 1.0):
    """A frame with `faces` non-overlapping faces of random widths; returns (frame, true boxes)."""
    rng = np.random.default_rng(seed)
    frame = background(width, height, seed=seed)
    boxes: list[np.ndarray] = []
    reserved: list[np.ndarray] = []  # each pasted face's box padded for hair and shoulders
    for _ in range(200):
        if len(boxes) == faces:
            break
        size = face_scale * float(rng.choice([30, 35, 40, 50, 60, 80, 100, 130, 160, 200]))
        x, y = rng.uniform(size, width - size), rng.uniform(size * 1.2, height - size * 1.2)
        box = np.array([x - size, y - size * 1.3, x + size, y + size * 1.3])
        if any(overlap(box, taken)[0] > 0 for taken in reserved):
            continue
        true = paste_face(frame, size, (x, y), angle=float(rng.uniform(-15, 15)), flip=bool(rng.integers(2)),
                          gain=float(rng.uniform(0.7, 1.2)))
        pad = size / 2
        boxes.append(true)
        reserved.append(true + np.array([-pad, -pad * 1.3, pad, pad * 1.3]))
    return frame, boxes


def photo_files(folder: Path) -> list[Path]:
    """The .jpg and .png photos in `folder`, by name."""
    return sorted(p for p in folder.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))


def make_gallery(width: int, height: int, seed: int, photos: list[Path]):
    """A collage of `photos` on a dark backdrop, in a grid of 2x2 to 6x6 cells (by `seed`); returns (frame, each
    photo's box)."""
    rng = np.random.default_rng(seed)
    cells = 2 + seed % 5
    frame = np.full((height, width, 3), 30, np.uint8)
    cell_w, cell_h = width // cells, height // cells
    boxes = []
    for i, pick in enumerate(rng.choice(len(photos), cells * cells, replace=len(photos) < cells * cells)):
        side = min(cell_h - 6, int(cell_w * rng.uniform(0.4, 0.95)))
        x, y = i % cells * cell_w + (cell_w - side) // 2, i // cells * cell_h + (cell_h - side) // 2
        frame[y:y + side, x:x + side] = cv2.resize(cv2.imread(str(photos[pick])), (side, side), interpolation=cv2.INTER_AREA)
        boxes.append(np.array([x, y, x + side, y + side], float))
    return frame, boxes


def hit_by(found: list, box: np.ndarray, centred: bool) -> int | None:
    """The found face (its index) that is a hit on the true box: the best overlap of IoU >= 0.4, or with `centred`
    (a gallery photo's box) the first whose centre lies inside it."""
    if centred:
        return next((i for i, face in enumerate(found) if box[0] <= (face.box[0] + face.box[2]) / 2 <= box[2]
                     and box[1] <= (face.box[1] + face.box[3]) / 2 <= box[3]), None)
    best = max(range(len(found)), key=lambda i: overlap(found[i].box, box)[0], default=None)
    return best if best is not None and overlap(found[best].box, box)[0] >= 0.4 else None


def settle_frames(detector: FaceDetector, frame: np.ndarray) -> int:
    """Frames of a still scene after which `detector` has looked everywhere it will look."""
    return len(search_windows(frame.shape[1], frame.shape[0], detector.tile, detector.min_face)) + 1 if detector.mode == "sweep" else 1


def turned(frame: np.ndarray, boxes: list[np.ndarray], turn: int):
    """The scene turned `turn` degrees clockwise, with its true boxes."""
    if not turn:
        return frame, boxes
    frame = cv2.rotate(frame, TURNS[turn])
    height, width = frame.shape[:2]
    back = (360 - turn) % 360  # the scene's points in the turned frame: the turned frame's, turned back
    corners = [turn_points(box.reshape(2, 2), back, width, height) for box in boxes]
    return frame, [np.concatenate([c.min(0), c.max(0)]) for c in corners]


def evaluate(detector: FaceDetector, scenes, face_scale: float = 1.0, centred: bool = False) -> dict:
    """Recall per band of face width (SIZE_BANDS times `face_scale`), precision and time per frame. `centred`: the
    true boxes are gallery photos' (`hit_by`)."""
    hits = {band: [0, 0] for band in SIZE_BANDS}
    false_boxes, detections, times = 0, 0, []
    for frame, truth in scenes:
        found = []
        for _ in range(settle_frames(detector, frame)):  # sweep needs one rotation to see every tile
            started = time.perf_counter()
            found = detector.detect(frame, [face.box for face in found])
            times.append(time.perf_counter() - started)
        detections += len(found)
        matched = set()
        for box in truth:
            width = round((box[2] - box[0]) / face_scale)
            band = next(b for b in SIZE_BANDS if b[0] <= width < b[1])
            hits[band][1] += 1
            best = hit_by(found, box, centred)
            if best is not None and best not in matched:
                matched.add(best)
                hits[band][0] += 1
        false_boxes += len(found) - len(matched)
    big = [hits[b] for b in SIZE_BANDS if b[0] >= 40]
    return {
        "bands": {b: h[0] / max(1, h[1]) for b, h in hits.items()},
        "recall_40": sum(h[0] for h in big) / max(1, sum(h[1] for h in big)),
        "precision": (detections - false_boxes) / max(1, detections),
        "false_per_frame": false_boxes / len(scenes),
        "ms": 1000 * float(np.mean(times[1:] if len(times) > 1 else times)),
        "p95": 1000 * float(np.percentile(times[1:] if len(times) > 1 else times, 95)),
    }


def picture_size(text: str) -> tuple[int, int]:
    """An argparse type: WIDTHxHEIGHT in pixels."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not WIDTHxHEIGHT, e.g. 1280x720") from None
    return width, height


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=number(int, 1), default=40)
    parser.add_argument("--size", type=picture_size, default="1280x720",
                        help="scene size WIDTHxHEIGHT (default 1280x720)")
    parser.add_argument("--face-scale", type=number(float, 0.1, 20), default=1.0,
                        help="face widths (and the bands reported) times this: 3 = 90 to 600 px (default 1)")
    parser.add_argument("--detectors", default=",".join(MODES),
                        help=f"comma-separated, from {', '.join(MODES)}, tiled+upright (the program's for photos)")
    parser.add_argument("--turn", type=int, choices=(0, *TURNS), default=0,
                        help="turn each scene this many degrees clockwise (default 0)")
    parser.add_argument("--min-face", type=number(int, 0), default=0, metavar="PX",
                        help="the program's --min-face: faces narrower are left out (read the bands above it)")
    parser.add_argument("--gallery", type=Path, metavar="DIR",
                        help="collages of the photos in DIR (*.jpg, *.png) instead of group scenes")
    args = parser.parse_args()
    width, height = args.size
    k = args.face_scale
    photos = photo_files(args.gallery) if args.gallery else []
    if args.gallery and not photos:
        parser.error(f"--gallery {args.gallery}: no .jpg or .png photos there")
    if not args.gallery and (width < 400 * k or height < 480 * k):
        parser.error(f"faces up to {200 * k:g} px wide do not fit in {width}x{height}: "
                     "a smaller --face-scale or a larger --size")
    detectors = args.detectors.split(",")
    unknown = [name for name in detectors if name not in (*MODES, "tiled+upright")]
    if unknown:
        parser.error(f"unknown detector {unknown[0]} (choose from {', '.join(MODES)}, tiled+upright)")
    scenes = [turned(*(make_gallery(width, height, seed, photos) if photos else make_scene(width, height, seed, face_scale=k)),
                     args.turn) for seed in range(args.scenes)]
    bands = " ".join(f"{f'{lo * k:g}-{hi * k - 1:g}px' if hi < 10_000 else f'{lo * k:g}px+':>9}" for lo, hi in SIZE_BANDS)
    print(f"{args.scenes} {'galleries' if photos else 'scenes'} of {width}x{height}, {sum(len(t) for _, t in scenes)} faces"
          + (f", turned {args.turn} degrees clockwise" if args.turn else ""))
    print(f"{'detector':>13} {bands} {f'>={40 * k:g}px':>7} {'precision':>9} {'false/frame':>11} {'detect ms':>9} {'p95 ms':>7}")
    for mode in detectors:
        detector = FaceDetector(mode.split("+")[0], max_faces=100, min_face=args.min_face, upright="+" in mode)
        result = evaluate(detector, scenes, k, centred=bool(photos))
        recall = " ".join(f"{result['bands'][b]:9.1%}" for b in SIZE_BANDS)
        print(f"{mode:>13} {recall} {result['recall_40']:7.1%} {result['precision']:9.1%} "
              f"{result['false_per_frame']:11.2f} {result['ms']:9.1f} {result['p95']:7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
