"""A model's crop accuracy with its answers averaged over more views of each face (test-time augmentation).

    python bench/crop_views.py [--model models/fer2013.tflite] [--data ../shared/data/fer2013.csv.gz] [--split val]

Views: 1, the face as it is; 2, also mirrored; 6, the program's photo views (`train.evaluate --views 6`); 24, those
6 plus the crop cut 0.85x its size, shifted 5% of its side each way, and cut 0.92x at four corners, each also mirrored.
Choose on `--split val` (PublicTest); read `test` (PrivateTest) only to report (docs/models.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from realtime.card import run_script  # noqa: E402
from realtime.classify import Classifier  # noqa: E402
from train.data import SPLITS, model_dataset  # noqa: E402
from train.evaluate import cut, views_of  # noqa: E402

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "fer2013.csv.gz"
MORE = [(0.85, 0, 0)] + [(1.0, dx, dy) for dx, dy in ((-0.05, 0), (0.05, 0), (0, -0.05), (0, 0.05))] + \
       [(0.92, dx, dy) for dx in (-0.04, 0.04) for dy in (-0.04, 0.04)]  # (size, shift left, shift up) of the crop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/fer2013.tflite")
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--ferplus", help="score by these FER+ votes' majority (fer2013new.csv)")
    parser.add_argument("--split", choices=SPLITS, default="val")
    args = parser.parse_args()
    classifier = Classifier(args.model, threads=2)
    dataset = model_dataset(classifier.card.data, args.data, ferplus=args.ferplus)
    faces, targets = dataset.split(args.split)
    truth = np.array([classifier.labels.index(name) for name in dataset.labels])[targets.argmax(1)]
    six = views_of(faces, 6)  # plain, 0.92x, 1.09x, then each mirrored
    more = [cut(faces, *view) for view in MORE]
    answers = [classifier.predict_many(view) for view in [*six, *more, *(view[:, :, ::-1] for view in more)]]
    print(f"{classifier.path.name} on {dataset.description}, split '{args.split}' ({len(faces)} faces)")
    for name, kept in (("1", [0]), ("2", [0, 3]), ("6", range(6)), ("24", range(len(answers)))):
        right = np.mean(np.mean([answers[k] for k in kept], axis=0).argmax(1) == truth)
        print(f"{name:>3} views: {right:.2%}")
    return 0


if __name__ == "__main__":
    run_script(main)
