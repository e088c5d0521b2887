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

import numpy as np

from realtime import quiet_stderr
from realtime.classify import (Classifier, ModelError, _quiet_tensorflow, file_sha256, load_keras_model, no_network,
                               read_card, with_dtype)
from train import require_keras
from train.data import Dataset, DatasetError, model_dataset, trained_seed


CALIBRATION_FACES = 1000


def write_tflite(model_path: Path, faces: np.ndarray) -> int:
    """Convert `model_path` (.keras) into the int8 TFLite copy beside it; returns the copy's size in bytes.

    Weights and activations are int8 (float32 input and output), with activation ranges calibrated
    on up to CALIBRATION_FACES of `faces` (uint8, N x size x size): about 4x faster than float32
    on CPUs with int8 dot-product instructions, at a cost of about 0.1 point of accuracy.
    """
    import keras

    tf = _quiet_tensorflow()
    if keras.config.backend() != "tensorflow":
        raise ModelError("writing TFLite needs the tensorflow Keras backend (unset KERAS_BACKEND)")
    model = load_keras_model(model_path)
    if not all(np.isfinite(weights).all() for weights in model.get_weights()):
        raise ModelError(f"{model_path} has NaN or infinite weights (a training that diverged?): no TFLite copy written")
    picks = faces[np.linspace(0, len(faces) - 1, min(len(faces), CALIBRATION_FACES)).astype(int)]
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([face[None, ..., None].astype(np.float32)] for face in picks)
    with contextlib.redirect_stdout(io.StringIO()), quiet_stderr():
        tflite = converter.convert()
    return model_path.with_suffix(".tflite").write_bytes(tflite)


def save_float16(model, path: Path) -> int:
    """Save a trained float32 model as .keras with float16 weights (half the file); returns its size."""
    with_dtype(model, "float16").save(path)
    return path.stat().st_size


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
    from train.report import plot_curves

    card_path = model_path.with_suffix(".json")
    card = json.loads(card_path.read_text())
    if dataset.labels != card["labels"]:
        raise ModelError(f"{model_path.name} has the classes {', '.join(card['labels'])}; the dataset has "
                         f"{', '.join(dataset.labels)}")
    if "parameters" not in card:  # a checkpoint's card (a run stopped early) holds what its data says, no more:
        card["parameters"] = int(load_keras_model(model_path).count_params())  # exporting it stopped on a KeyError
    card.setdefault("size_bytes", {})["keras"] = model_path.stat().st_size
    calibration = dataset.split("train")[0]
    tflite_bytes = write_tflite(model_path, calibration)
    card["files"]["tflite"] = model_path.with_suffix(".tflite").name
    card["size_bytes"]["tflite"] = tflite_bytes
    card["sha256"] = {kind: file_sha256(model_path.parent / name) for kind, name in card["files"].items()}
    card["storage"] = {"keras": "float16 weights, run in float32",
                       "tflite": f"int8 weights and activations (ranges calibrated on {min(len(calibration), CALIBRATION_FACES)} training faces), "
                                 "float32 input and output"}
    card_path.write_text(json.dumps(card, indent=2) + "\n")  # the card vouches for the new file before it is loaded
    classifier = Classifier(model_path, backend="tflite")  # what the program runs on a CPU
    card["metrics"] = measure(classifier, dataset, card, model_path.with_suffix(""))
    card["metrics"]["keras_test_accuracy"] = round(
        evaluate(Classifier(model_path, backend="keras"), dataset, "test")["accuracy"], 4)
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    history = read_history(Path(f"{model_path.with_suffix('')}_history.csv"))
    if history:  # (none for a model trained elsewhere, or a checkpoint: no empty picture)
        plot_curves(history, Path(f"{model_path.with_suffix('')}_curves.png"))
    print(f"float32 Keras model: test accuracy {card['metrics']['keras_test_accuracy']:.4f}")
    print(f"wrote {model_path} ({card['parameters']:,} parameters, {tflite_bytes / 1e6:.1f} MB tflite) "
          f"and its card, report and plots")


def measure(classifier: Classifier, dataset: Dataset, card: dict, stem: Path) -> dict:
    """The card's metrics of `classifier` on the validation and test splits; the test split's report
    (printed, and written as STEM_report.txt) and confusion matrix (STEM_confusion.png)."""
    from train.evaluate import clear_majority_lines, evaluate
    from train.report import bootstrap_intervals, format_report, plot_confusion

    metrics = {split: evaluate(classifier, dataset, split) for split in ("val", "test")}
    test = metrics["test"]
    report = format_report(test, f"{stem.name} on {dataset.description}, test split",
                           intervals=bootstrap_intervals(test["confusion"]))
    if "clear_majority" in test:  # FER+: also as published FER+ accuracies are measured
        report += clear_majority_lines(test["clear_majority"], test["samples"], "test") + "\n"
    Path(f"{stem}_report.txt").write_text(report)
    plot_confusion(test, card["labels"], Path(f"{stem}_confusion.png"),
                   f"{card['name']}: test accuracy {test['accuracy']:.1%}")
    print(report, end="")
    return {
        "val_accuracy": round(metrics["val"]["accuracy"], 4),
        "test_accuracy": round(test["accuracy"], 4),
        "test_macro_f1": round(test["macro_f1"], 4),
        "test_per_class_f1": {k: round(v["f1"], 4) for k, v in test["per_class"].items()},
        **({"test_accuracy_clear_majority": round(test["clear_majority"]["accuracy"], 4)}
           if "clear_majority" in test else {}),
    }


def trained_on(card: dict, data: str, ferplus: str | None) -> Dataset:
    """The faces the trainer measures a model on: those of `model_dataset`, drawn by the card's --limit and --seed as
    the trainer drew them (all of them were taken before: a model trained with --limit 3000 had metrics of the whole
    test split and a TFLite copy calibrated on more training faces than it saw, in a card saying 3000 per split)."""
    from train.__main__ import subsample

    limit = ((card.get("training") or {}).get("arguments") or {}).get("limit")
    return subsample(model_dataset(card, data, ferplus=ferplus), limit, trained_seed(card))


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
        card = read_card(model_path)
        if card.get("members"):  # (a traceback: no such file as its .keras)
            raise no_network(model_path.with_suffix(".json"), card["members"],
                             "export its members (python -m train.ensemble scores it)")
        if not model_path.is_file():
            raise ModelError(f"model not found: {model_path}")
        require_keras("python -m train.export")
        finish(model_path, trained_on(card, args.data, args.ferplus))
    except (ModelError, DatasetError, ValueError, KeyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
