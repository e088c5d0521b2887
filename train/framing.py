"""Measure the framing of a model's training faces and write the matching crop (and their levels) into its card.

    python -m train.framing --model models/fer2013.keras --data ../shared/data/fer2013.csv.gz

The program crops each detected face before classifying it; that crop must frame faces the
way the training data does, or the model sees faces unlike any it learnt from. This places
training faces (48x48) in a plain frame, runs the program's own detector on them (the one it
uses for images), and measures where the detection box falls on the original face: the crop
whose side and centre reproduce the training framing, relative to the box, is the median over
the faces. It also prints the spread (the detector's jitter, which training augmentation must
cover) and the faces' roll. The result goes into the card's `crop` entry, which the program reads.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import cv2
import numpy as np

from realtime.__main__ import Parser, number
from train.data import DatasetError, model_dataset

UPSCALE = 4


def in_frame(face: np.ndarray, upscale: float = UPSCALE) -> np.ndarray:
    """A small grey face upscaled (or, below 1, shrunk) and centred in a plain frame twice its size (BGR), as a
    detector would see it."""
    big = cv2.resize(face, None, fx=upscale, fy=upscale, interpolation=cv2.INTER_CUBIC if upscale >= 1 else cv2.INTER_AREA)
    pad = big.shape[0] // 2
    edge = int(np.median(np.concatenate([face[0], face[-1], face[:, 0], face[:, -1]])))
    return cv2.cvtColor(cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=edge), cv2.COLOR_GRAY2BGR)


def measure(faces: np.ndarray, detector) -> dict[str, np.ndarray]:
    """Per face found: the crop scale and shift that reproduce its own framing, and its roll in degrees."""
    from realtime.align import eye_angle

    size = faces.shape[1]
    pad = size * UPSCALE // 2
    scale, shift, across, roll = [], [], [], []
    for face in faces:
        found = detector.detect(in_frame(face))
        if not found:
            continue
        best = max(found, key=lambda f: f.width)
        box = (best.box - pad) / UPSCALE  # in the training face's pixels
        side = max(box[2] - box[0], box[3] - box[1])
        angle = eye_angle(best.eyes)
        down = np.array([-math.sin(math.radians(angle)), math.cos(math.radians(angle))])
        offset = np.array([size / 2, size / 2]) - (box[:2] + box[2:]) / 2  # face centre minus box centre
        scale.append(size / side)
        shift.append(offset @ down / side)
        across.append(offset @ np.array([down[1], -down[0]]) / side)
        roll.append(angle)
    return {"scale": np.array(scale), "shift": np.array(shift), "across": np.array(across), "roll": np.array(roll)}


def crop_for(faces: np.ndarray, count: int = 3000) -> dict | None:
    """The card's `crop` entry for a model trained on `faces` (None when the detector finds too few)."""
    from realtime.detect import FaceDetector

    picks = faces[np.random.default_rng(0).permutation(len(faces))[:count]]
    detector = FaceDetector("tiled")
    if len(measure(picks[:20], detector)["scale"]) < 10:  # not faces a detector finds (synthetic data, say)
        return None
    from realtime.card import CROP_SCALES, CROP_SHIFTS

    found = measure(picks, detector)
    stats = {name: summary(values) for name, values in found.items()}
    measured = f"median over {len(found['scale'])} of {len(picks)} training faces, found by the 'tiled' detector (python -m train.framing)"
    scale = min(max(stats["scale"]["median"], CROP_SCALES[0] + 0.01), CROP_SCALES[1])
    shift = min(max(stats["shift"]["median"], CROP_SHIFTS[0]), CROP_SHIFTS[1])
    if (scale, shift) != (stats["scale"]["median"], stats["shift"]["median"]):
        measured += (f"; the median (scale {stats['scale']['median']:.3f}, shift {stats['shift']['median']:+.3f}) is "
                     "outside what the program crops, so the nearest crop it can make is used")
        print(f"warning: the training faces are framed unlike any crop the program makes (the face's box is "
              f"{1 / stats['scale']['median']:.0%} of the image's side); the model will see faces framed differently "
              "at run time. Crop the faces more tightly, or train on photos (larger than 100 px), whose faces "
              "the trainer cuts out itself.", file=sys.stderr)
    return {"scale": round(scale, 3), "shift": round(shift, 3), "measured": measured, "spread": stats}


def levels_for(faces: np.ndarray) -> dict:
    """The card's `levels` entry: the 5th-95th percentile of the training faces' grey-level mean and
    standard deviation; the program brings crops outside that range into it (`realtime.align.Levels`)."""
    from realtime.align import grey_levels

    mean, std = (np.percentile(values, [5, 95]).round(1).tolist() for values in grey_levels(faces))
    return {"mean": mean, "std": std, "measured": f"5th-95th percentile over {len(faces)} training faces"}


def summary(values: np.ndarray) -> dict[str, float]:
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return {"median": round(float(median), 4), "iqr": round(float(q3 - q1), 4), "std": round(float(values.std()), 4)}


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m train.framing", description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="the model (.keras) whose card gets the crop")
    parser.add_argument("--data", required=True, help="the model's training data (fer2013.csv[.gz] or an image folder)")
    parser.add_argument("--faces", type=number(int, 20), default=3000,
                        help="training faces to measure, at least 20 (default 3000)")
    parser.add_argument("--dry-run", action="store_true", help="print the measurement, leave the card as it is")
    args = parser.parse_args(argv)
    from realtime.classify import ModelError, read_card

    try:
        card_path = Path(args.model).with_suffix(".json")
        card = read_card(Path(args.model))
        # its training faces: an image folder's held out for val and test by the card's --seed (they were those of seed 0,
        # some of them held out by the model, which a crop measured on them then took in); photos cut out as for the model
        dataset = model_dataset(card, args.data)
        faces, _ = dataset.split("train")
    except (ModelError, DatasetError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if dataset.cut_with is not None:  # measured on them, it moved with every run (1.174, 1.184, 1.204, 1.218)
        print(f"the faces of {args.data} are cut out of its photos with the card's crop (scale {dataset.cut_with.scale:.3f}, "
              f"shift {dataset.cut_with.shift:+.3f}): that is the model's framing; nothing to measure, the card is "
              "left as it is")
        return 0
    crop = crop_for(faces, args.faces)
    if crop is None:
        print(f"error: the detector found too few faces among the training faces of {args.data}", file=sys.stderr)
        return 2
    print(crop["measured"])
    for name, meaning in (("scale", "crop side / box side"), ("shift", "crop centre below box centre / box side"),
                          ("across", "crop centre right of box centre / box side"), ("roll", "eye line, degrees")):
        s = crop["spread"][name]
        print(f"{name:>7}: median {s['median']:+.3f}  IQR {s['iqr']:.3f}  std {s['std']:.3f}   ({meaning})")
    if args.dry_run:
        return 0
    card["crop"], card["levels"] = crop, levels_for(faces)
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    print(f"wrote crop scale {crop['scale']}, shift {crop['shift']} and levels (grey-level mean "
          f"{card['levels']['mean']}, standard deviation {card['levels']['std']}) into {card_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
