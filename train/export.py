"""Finish a trained model: write its TFLite copy, evaluate it and write the card's metrics, report and plots.

    python -m train.export --model models/fer2013.keras --data ../shared/data/fer2013.csv.gz

The trainer does this itself under the tensorflow backend; run it after training with
another Keras backend (KERAS_BACKEND=jax or torch), since only TensorFlow writes TFLite.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import sys
from pathlib import Path

from realtime.classify import Classifier, ModelError, _quiet_tensorflow
from train.data import Dataset, DatasetError, load_dataset


def write_tflite(model_path: Path) -> int:
    """Convert `model_path` (.keras) into the TFLite copy beside it; returns the copy's size in bytes."""
    import keras

    tf = _quiet_tensorflow()
    if keras.config.backend() != "tensorflow":
        raise ModelError("writing TFLite needs the tensorflow Keras backend (unset KERAS_BACKEND)")
    try:
        model = keras.models.load_model(model_path, compile=False)
    except Exception as err:  # Keras raises many types for a damaged file
        raise ModelError(f"cannot load model {model_path}: {str(err).splitlines()[0][:200]}") from None
    with contextlib.redirect_stdout(io.StringIO()):
        tflite = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    return model_path.with_suffix(".tflite").write_bytes(tflite)


def read_history(path: Path) -> dict[str, list[float]]:
    """Keras CSVLogger output as {column: values}; empty when there is none."""
    if not path.exists():
        return {}
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {key: [float(row[key]) for row in rows] for key in (rows[0] if rows else {}) if key != "epoch"}


def finish(model_path: Path, dataset: Dataset) -> None:
    """TFLite copy, then evaluate as the realtime program runs the model; card metrics, report and plots."""
    from train.evaluate import evaluate
    from train.report import format_report, plot_confusion, plot_curves

    card_path = model_path.with_suffix(".json")
    card = json.loads(card_path.read_text())
    tflite_bytes = write_tflite(model_path)
    card["files"]["tflite"] = model_path.with_suffix(".tflite").name
    card["size_bytes"]["tflite"] = tflite_bytes
    card_path.write_text(json.dumps(card, indent=2) + "\n")  # Classifier needs the card
    classifier = Classifier(model_path)
    metrics = {split: evaluate(classifier, dataset, split) for split in ("val", "test")}
    test = metrics["test"]
    card["metrics"] = {
        "val_accuracy": round(metrics["val"]["accuracy"], 4),
        "test_accuracy": round(test["accuracy"], 4),
        "test_macro_f1": round(test["macro_f1"], 4),
        "test_per_class_f1": {k: round(v["f1"], 4) for k, v in test["per_class"].items()},
    }
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    stem = model_path.with_suffix("")
    report = format_report(test, f"{model_path.name} on {dataset.description}, test split")
    Path(f"{stem}_report.txt").write_text(report)
    plot_confusion(test, card["labels"], Path(f"{stem}_confusion.png"),
                   f"{card['name']}: test accuracy {test['accuracy']:.1%}")
    plot_curves(read_history(Path(f"{stem}_history.csv")), Path(f"{stem}_curves.png"))
    print(report, end="")
    print(f"wrote {model_path} ({card['parameters']:,} parameters, {tflite_bytes / 1e6:.1f} MB tflite) "
          f"and its card, report and plots")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.export", description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="the trained model (.keras, with its JSON card beside it)")
    parser.add_argument("--data", required=True, help="the dataset it was trained on")
    parser.add_argument("--ferplus", help="FER+ votes, if it was trained on them")
    args = parser.parse_args(argv)
    model_path = Path(args.model).with_suffix(".keras")
    try:
        if not model_path.with_suffix(".json").exists():
            raise ModelError(f"model card not found: {model_path.with_suffix('.json')}")
        finish(model_path, load_dataset(args.data, ferplus=args.ferplus))
    except (ModelError, DatasetError, ValueError, KeyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
