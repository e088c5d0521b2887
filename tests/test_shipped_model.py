"""The model committed in models/: loads, matches its card, and really recognises expressions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from realtime.classify import DEFAULT_MODEL, Classifier, file_sha256
from tests.conftest import SHARED_DATA
from train.data import FER2013_LABELS, load_fer2013
from train.evaluate import evaluate

CARD = json.loads(DEFAULT_MODEL.with_suffix(".json").read_text()) if DEFAULT_MODEL.with_suffix(".json").exists() else {}


def test_shipped_model_matches_its_card():
    assert CARD, f"missing model card {DEFAULT_MODEL.with_suffix('.json')}"
    assert CARD["labels"] == FER2013_LABELS and CARD["input"]["size"] == 48
    for backend in ("keras", "tflite"):
        classifier = Classifier(DEFAULT_MODEL, backend=backend)
        assert classifier.labels == CARD["labels"] and classifier.size == CARD["input"]["size"]
    for kind in ("keras", "tflite"):
        path = DEFAULT_MODEL.parent / CARD["files"][kind]
        assert path.stat().st_size == CARD["size_bytes"][kind] <= 10_000_000
        assert file_sha256(path) == CARD["sha256"][kind]  # the program refuses a file that differs
    for key in ("test_accuracy", "test_macro_f1", "val_accuracy"):
        assert 0 < CARD["metrics"][key] <= 1
    assert set(CARD["metrics"]["test_per_class_f1"]) == set(FER2013_LABELS)


@pytest.fixture(scope="module")
def private_test_sample():
    path = SHARED_DATA / "fer2013.csv.gz"
    if not path.exists():
        pytest.skip(f"{path} not present")
    data = load_fer2013(path)
    faces, targets = data.split("test")
    keep = np.sort(np.random.default_rng(0).choice(len(faces), 800, replace=False))
    data.splits = {"test": (faces[keep], targets[keep])}
    return data


def test_shipped_model_beats_chance_widely_on_private_test(private_test_sample):
    classifier = Classifier(DEFAULT_MODEL)
    metrics = evaluate(classifier, private_test_sample, "test")
    # Always answering the largest class ('happy') scores about 25%; chance is 14%.
    assert metrics["accuracy"] > 0.55
    assert metrics["macro_f1"] > 0.4
    # ...and the sample agrees with the card's full-split figure.
    assert metrics["accuracy"] == pytest.approx(CARD["metrics"]["test_accuracy"], abs=0.05)


def test_keras_and_tflite_copies_agree(private_test_sample):
    faces, _ = private_test_sample.split("test")
    keras_probs = Classifier(DEFAULT_MODEL, backend="keras").predict_many(faces[:200])
    tflite_probs = Classifier(DEFAULT_MODEL, backend="tflite").predict_many(faces[:200])
    # The TFLite copy is int8: close to the float32 Keras model, not equal to it.
    assert (keras_probs.argmax(1) == tflite_probs.argmax(1)).mean() > 0.95
    assert np.abs(keras_probs - tflite_probs).mean() < 0.03
    assert CARD["metrics"]["keras_test_accuracy"] == pytest.approx(CARD["metrics"]["test_accuracy"], abs=0.01)
