"""Evaluate a saved model on any supported dataset and split.

    python -m train.evaluate --model models/fer2013.keras --data ../shared/data/fer2013.csv.gz
    python -m train.evaluate ... --views 6     # each face seen as the program's photo path sees it, answers averaged
"""

from __future__ import annotations

import argparse
import sys

import cv2
import numpy as np

from realtime.classify import BACKENDS, Classifier, ModelError
from realtime.pipeline import VIEW_SCALES
from train.data import FER_SPLITS, SPLITS, Dataset, DatasetError, model_dataset
from train.report import bootstrap_intervals, classification_metrics, format_report

VIEWS = (1, 2, 6)


def cut(faces: np.ndarray, size: float, dx: float = 0.0, dy: float = 0.0) -> np.ndarray:
    """Each face (N, side, side) cut `size` times its side about its centre, the face moved by (dx, dy) of the cut's
    side, resized back; where the cut reaches past the face's picture, its edge pixels are repeated (the program's cut
    from a photo has the photo there)."""
    side = faces.shape[1]
    warp = np.array([[1 / size, 0, ((1 - 1 / size) / 2 - dx / size) * side],
                     [0, 1 / size, ((1 - 1 / size) / 2 - dy / size) * side]], np.float32)
    return np.stack([cv2.warpAffine(face, warp, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                     for face in faces])


def views_of(faces: np.ndarray, views: int) -> list[np.ndarray]:
    """The faces (N, size, size) as `views` batches: 1, as they are; 2, also mirrored; 6, as the program's photo path
    views a face, `cut` at the three sizes of VIEW_SCALES about the centre, each also mirrored."""
    cuts = [faces] + [cut(faces, scale) for scale in (VIEW_SCALES[1:] if views == 6 else ())]
    return cuts + [view[:, :, ::-1] for view in cuts] if views > 1 else cuts


def evaluate(classifier: Classifier, dataset: Dataset, split: str, views: int = 1) -> dict:
    """Metrics of `classifier` on one split, each face's answer the mean over its `views` (views_of); dataset classes
    are matched to model labels by name. FER+: also those of the faces the FER+ paper's test keeps, under
    "clear_majority" (`Dataset.clear`; what published FER+ accuracies are measured on)."""
    faces, targets = dataset.split(split)
    unknown = [name for name in dataset.labels if name not in classifier.labels]
    if unknown:
        raise DatasetError(f"the model has no class for {', '.join(unknown)} (model labels: {', '.join(classifier.labels)})")
    to_model = np.array([classifier.labels.index(name) for name in dataset.labels])
    truth = to_model[targets.argmax(1)]
    predicted = np.mean([classifier.predict_many(view) for view in views_of(faces, views)], axis=0).argmax(1)
    metrics = classification_metrics(truth, predicted, classifier.labels)
    if dataset.clear is not None:
        clear = dataset.clear[split]
        metrics["clear_majority"] = classification_metrics(truth[clear], predicted[clear], classifier.labels)
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="model file (.keras, .tflite or its .json card)")
    parser.add_argument("--data", required=True, help="fer2013.csv[.gz] or an image folder")
    parser.add_argument("--ferplus", help="FER+ votes (fer2013new.csv) to score against majority votes")
    parser.add_argument("--split", choices=SPLITS, default="test", help="split to score (default: test)")
    parser.add_argument("--backend", choices=BACKENDS, default="auto")
    parser.add_argument("--views", type=int, choices=VIEWS, default=1,
                        help="views averaged per face: 1 as it is (default); 2 also mirrored; 6 as the program's photo "
                             "path: 3 sizes, each also mirrored")
    args = parser.parse_args(argv)
    try:
        classifier = Classifier(args.model, backend=args.backend)
        dataset = model_dataset(classifier.card.data, args.data, ferplus=args.ferplus)
        metrics = evaluate(classifier, dataset, args.split, args.views)
    except (ModelError, DatasetError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if dataset.no_face:
        print(f"note: no face found in {len(dataset.no_face)} photos, left out of the scores", file=sys.stderr)
    seen = "" if args.views == 1 else f", {args.views} views a face"
    print(format_report(metrics, f"{classifier.path.name} on {dataset.description}, split '{args.split}'{seen}",
                        intervals=bootstrap_intervals(metrics["confusion"])), end="")
    if "clear_majority" in metrics:
        print(clear_majority_lines(metrics["clear_majority"], metrics["samples"], args.split))
    return 0


def clear_majority_lines(clear: dict, faces: int, split: str) -> str:
    """What the FER+ accuracy above counts, then the accuracy on the faces the FER+ paper's test keeps, with its 95%
    interval: the figure to set beside published FER+ accuracies."""
    low, high = bootstrap_intervals(clear["confusion"])["accuracy"]
    usage = {name: usage for usage, name in FER_SPLITS.items()}[split]
    return (f"(above: every {usage} face by its most-voted emotion, ties to the first class; the answers as the "
            "program gives them, with the card's class-share correction where it has one)\n"
            f"FER+ paper's test, as published FER+ accuracies count (the {clear['samples']:,} of {faces:,} faces with a "
            "clear majority: over half the votes once single votes are dropped, unknown and not-a-face counted): "
            f"accuracy {clear['accuracy']:.4f}  95% interval {low:.4f}-{high:.4f}")


if __name__ == "__main__":
    sys.exit(main())
