"""The models committed in models/: they load, match their cards, and really recognise expressions."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from realtime.align import Crop
from realtime.classify import DEFAULT_MODEL, Classifier, file_sha256, shipped_model
from realtime.scene import background, paste_face
from tests.conftest import ROOT, SHARED_DATA
from train.data import FER2013_LABELS, FERPLUS_LABELS, load_dataset
from train.evaluate import evaluate

MODELS = DEFAULT_MODEL.parent
SHIPPED = {"fer2013": FER2013_LABELS, "ferplus": FERPLUS_LABELS, "ferplus_a": FERPLUS_LABELS,
           "ferplus_bal": FERPLUS_LABELS}


def card(name: str) -> dict:
    return json.loads((MODELS / f"{name}.json").read_text())


def test_the_default_model_is_shipped():
    assert DEFAULT_MODEL.exists() and DEFAULT_MODEL.stem in SHIPPED


def test_a_shipped_model_is_named_by_its_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # anywhere: no models/ folder here
    assert shipped_model("fer2013") == shipped_model("fer2013.keras") == MODELS / "fer2013.keras"
    assert shipped_model("ferplus.tflite") == MODELS / "ferplus.tflite"
    assert shipped_model("ferplus.json") == MODELS / "ferplus.json"  # (the card names the model beside it)
    assert Classifier("fer2013").labels == FER2013_LABELS
    (tmp_path / "fer2013.keras").write_bytes(b"mine")  # a file of that name here is the one meant
    assert shipped_model("fer2013.keras") == Path("fer2013.keras")
    for other in ("nosuch", "sub/fer2013", "fer2013.v2"):
        assert shipped_model(other) == Path(other)


def test_a_wheel_carries_the_shipped_models_and_runs_without_the_checkout(tmp_path):
    """`pip install .` or `pip install git+URL` (no checkout left to find models/ in) still labels faces."""
    source = tmp_path / "source"  # a copy: setuptools leaves a build/ folder in what it builds, reused next time
    for part in ("realtime", "train", "models"):
        shutil.copytree(ROOT / part, source / part, ignore=shutil.ignore_patterns("__pycache__", "checkpoints"))
    for part in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / part, source)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = tmp_path.glob("emotion_overlay-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in SHIPPED:
        assert {f"realtime/models/{name}{suffix}" for suffix in (".keras", ".tflite", ".json")} <= names
    assert "realtime/models/ferplus_ens.json" in names  # the program's model for photos: a card naming two of them
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path / "site")  # a wheel installs by unpacking
    frame = background(320, 320, seed=2)
    paste_face(frame, 200, (160, 170))
    import cv2

    cv2.imwrite(str(tmp_path / "face.jpg"), frame)
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    ran = subprocess.run([sys.executable, "-m", "realtime", "--source", "face.jpg", "--model", "fer2013",
                          "--no-display", "--benchmark", "--json", "faces.jsonl"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert "model: fer2013.tflite" in ran.stdout
    assert json.loads((tmp_path / "faces.jsonl").read_text())["faces"]
    photo = subprocess.run([sys.executable, "-m", "realtime", "--source", "face.jpg", "--no-display", "--benchmark"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert photo.returncode == 0 and "model: ferplus_ens.json" in photo.stdout, photo.stderr[-2000:]
    where = subprocess.run([sys.executable, "-c", "from realtime.classify import DEFAULT_MODEL; print(DEFAULT_MODEL)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert where.stdout.strip() == str(tmp_path / "site" / "realtime" / "models" / "ferplus_a.keras")


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_matches_its_card(name):
    info = card(name)
    assert info["labels"] == SHIPPED[name] and info["input"]["size"] == 48
    for backend in ("keras", "tflite"):
        classifier = Classifier(MODELS / f"{name}.keras", backend=backend)
        assert classifier.labels == info["labels"] and classifier.size == info["input"]["size"]
        # The program frames faces as the card says: the measured framing of the training faces.
        assert classifier.crop == Crop(info["crop"]["scale"], info["crop"]["shift"]) and 1.0 < classifier.crop.scale < 1.3
    for kind in ("keras", "tflite"):
        path = MODELS / info["files"][kind]
        assert path.stat().st_size == info["size_bytes"][kind] <= 10_000_000
        assert file_sha256(path) == info["sha256"][kind]  # the program refuses a file that differs
    for key in ("test_accuracy", "test_macro_f1", "val_accuracy"):
        assert 0 < info["metrics"][key] <= 1
    assert set(info["metrics"]["test_per_class_f1"]) == set(SHIPPED[name])


@pytest.fixture(scope="module", params=list(SHIPPED))
def private_test_sample(request):
    """(model name, 800 PrivateTest faces with that model's labels: FER2013's, or FER+ majority votes)."""
    path, votes = SHARED_DATA / "fer2013.csv.gz", SHARED_DATA / "fer2013new.csv"
    if not path.exists() or not votes.exists():
        pytest.skip(f"{path} or {votes} not present")
    data = load_dataset(path, ferplus=votes if request.param.startswith("ferplus") else None)
    faces, targets = data.split("test")
    keep = np.sort(np.random.default_rng(0).choice(len(faces), 800, replace=False))
    data.splits = {"test": (faces[keep], targets[keep])}
    data.clear = data.clear and {"test": data.clear["test"][keep]}
    return request.param, data


def test_shipped_model_beats_chance_widely_on_private_test(private_test_sample):
    name, data = private_test_sample
    metrics = evaluate(Classifier(MODELS / f"{name}.keras"), data, "test")
    # Always answering the largest class ('happy' for FER2013, 'neutral' for FER+) scores 25-37%; chance 12-14%.
    assert metrics["accuracy"] > 0.6
    assert metrics["macro_f1"] > 0.4
    # ...and the sample agrees with the card's full-split figure.
    assert metrics["accuracy"] == pytest.approx(card(name)["metrics"]["test_accuracy"], abs=0.05)


def test_keras_and_tflite_copies_agree(private_test_sample):
    name, data = private_test_sample
    faces, _ = data.split("test")
    keras_probs = Classifier(MODELS / f"{name}.keras", backend="keras").predict_many(faces[:200])
    tflite_probs = Classifier(MODELS / f"{name}.keras", backend="tflite").predict_many(faces[:200])
    # The TFLite copy is int8: close to the float32 Keras model, not equal to it.
    assert (keras_probs.argmax(1) == tflite_probs.argmax(1)).mean() > 0.95
    assert np.abs(keras_probs - tflite_probs).mean() < 0.03
    metrics = card(name)["metrics"]
    assert metrics["keras_test_accuracy"] == pytest.approx(metrics["test_accuracy"], abs=0.01)
