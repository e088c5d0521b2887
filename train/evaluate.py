"""Evaluate a saved model on any supported dataset and split.

    python -m train.evaluate --model models/fer2013.keras --data ../shared/data/fer2013.csv.gz
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from realtime.classify import BACKENDS, Classifier, ModelError
from train.data import SPLITS, Dataset, DatasetError, model_dataset
from train.report import bootstrap_intervals, classification_metrics, format_report


def evaluate(classifier: Classifier, dataset: Dataset, split: str) -> dict:
    """Metrics of `classifier` on one split; dataset classes are matched to model labels by name."""
    faces, targets = dataset.split(split)
    unknown = [name for name in dataset.labels if name not in classifier.labels]
    if unknown:
        raise DatasetError(f"the model has no class for {', '.join(unknown)} (model labels: {', '.join(classifier.labels)})")
    to_model = np.array([classifier.labels.index(name) for name in dataset.labels])
    truth = to_model[targets.argmax(1)]
    predicted = classifier.predict_many(faces).argmax(1)
    return classification_metrics(truth, predicted, classifier.labels)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="model file (.keras, .tflite or its .json card)")
    parser.add_argument("--data", required=True, help="fer2013.csv[.gz] or an image folder")
    parser.add_argument("--ferplus", help="FER+ votes (fer2013new.csv) to score against majority votes")
    parser.add_argument("--split", choices=SPLITS, default="test", help="split to score (default: test)")
    parser.add_argument("--backend", choices=BACKENDS, default="auto")
    args = parser.parse_args(argv)
    try:
        classifier = Classifier(args.model, backend=args.backend)
        dataset = model_dataset(classifier.card.data, args.data, ferplus=args.ferplus)
        metrics = evaluate(classifier, dataset, args.split)
    except (ModelError, DatasetError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if dataset.no_face:
        print(f"note: no face found in {len(dataset.no_face)} photos, left out of the scores", file=sys.stderr)
    print(format_report(metrics, f"{classifier.path.name} on {dataset.description}, split '{args.split}'",
                        intervals=bootstrap_intervals(metrics["confusion"])), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
