"""Lean start: the CPU path runs the TFLite models in LiteRT and never imports TensorFlow, JAX or mediapipe."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from realtime import classify
from realtime.classify import DEFAULT_MODEL, Classifier, ModelError
from realtime.scene import face_sprite
from tests.conftest import ROOT

MODELS = ROOT / "models"

# The program's own main on a photo, on the CPU path, then what it had imported by the end.
CPU_RUN = r"""
import json, sys
from realtime.__main__ import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(m for m in sys.modules if m.split(".")[0] in
                                                  ("tensorflow", "jax", "jaxlib", "keras", "mediapipe", "ai_edge_litert"))}))
"""


def photo_faces() -> np.ndarray:
    """48x48 grayscale faces: crops of the sample photo at several sizes and shifts, then noise."""
    gray = cv2.cvtColor(face_sprite()[0], cv2.COLOR_BGR2GRAY)
    faces = [cv2.resize(gray[88 + shift:288 + shift - 2 * grow, 46 + grow:246 - grow], (48, 48),
                        interpolation=cv2.INTER_AREA) for grow in (-20, 0, 20, 40) for shift in (-20, 0, 20)]
    noise = np.random.default_rng(0).integers(0, 256, (20, 48, 48), dtype=np.uint8)
    return np.concatenate([np.stack(faces), noise])


def test_cpu_run_imports_neither_tensorflow_nor_jax_nor_mediapipe(tmp_path):
    import matplotlib

    if classify.importlib.util.find_spec("tensorflow") is None:
        pytest.skip("TensorFlow is not installed: nothing could import it")  # the point is that it IS installed
    photo = f"{matplotlib.get_data_path()}/sample_data/grace_hopper.jpg"
    out = tmp_path / "out.jsonl"
    result = subprocess.run([sys.executable, "-c", CPU_RUN, "--source", photo, "--no-display", "--backend", "tflite",
                             "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["code"] == 0
    frame = json.loads(out.read_text().splitlines()[0])
    assert len(frame["faces"]) == 1  # the frame really went through detect and classify
    heavy = [m for m in report["modules"] if not m.startswith("ai_edge_litert")]
    assert heavy == [], f"the CPU path imported {heavy[:5]}"
    assert "ai_edge_litert.interpreter" in report["modules"]


@pytest.mark.parametrize("name", ["ferplus", "fer2013"])
def test_litert_predicts_as_tf_lite_does(name):
    faces = photo_faces()
    litert = Classifier(MODELS / f"{name}.keras", backend="tflite", runtime="litert")
    tf_lite = Classifier(MODELS / f"{name}.keras", backend="tflite", runtime="tensorflow")
    assert (litert.runtime, tf_lite.runtime) == ("litert", "tensorflow")
    for batch in (faces[:1], faces, np.concatenate([faces] * 9)):  # one interpreter per batch size; > 256 rows
        ours, theirs = litert.predict(batch), tf_lite.predict(batch)
        assert ours.shape == theirs.shape == (len(batch), len(litert.labels))
        # The same int8 model: equal but for a step or two of the int8 output (1/256 each).
        assert np.abs(ours - theirs).max() <= 2 / 256
        assert (ours.argmax(1) == theirs.argmax(1)).mean() >= 0.95


def test_cpu_auto_backend_uses_litert_without_tensorflow(monkeypatch):
    def no_tensorflow(purpose):
        raise AssertionError(f"TensorFlow imported for {purpose}")

    monkeypatch.setattr(classify, "_may_have_gpu", lambda: False)
    monkeypatch.setattr(classify, "_quiet_tensorflow", no_tensorflow)
    classifier = Classifier(DEFAULT_MODEL)
    assert (classifier.backend, classifier.runtime) == ("tflite", "litert")
    assert classifier.predict(photo_faces()[:2]).shape == (2, len(classifier.labels))


def test_without_litert_tf_lite_runs_the_model(monkeypatch):
    expected = Classifier(DEFAULT_MODEL, backend="tflite").predict(photo_faces())
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)  # as if not installed
    classifier = Classifier(DEFAULT_MODEL, backend="tflite")
    assert classifier.runtime == "tensorflow"
    assert np.abs(classifier.predict(photo_faces()) - expected).max() <= 2 / 256
    with pytest.raises(ModelError, match="needs LiteRT"):
        Classifier(DEFAULT_MODEL, backend="tflite", runtime="litert")


def test_without_tensorflow_the_keras_backend_is_a_clean_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # as in a base install
    with pytest.raises(ModelError, match=r"Keras backend needs TensorFlow.*emotion-overlay\[gpu\]"):
        Classifier(DEFAULT_MODEL, backend="keras")
    assert Classifier(DEFAULT_MODEL, backend="tflite").runtime == "litert"


@pytest.mark.parametrize("runtime", ["litert", "tensorflow"])
@pytest.mark.parametrize("keep", [0.01, 0.5, 0.999])
def test_truncated_tflite_is_a_clean_error_in_both_runtimes(tmp_path, runtime, keep):
    # The card here has no checksums, so the file reaches the interpreter; its verifier must refuse it.
    model = tmp_path / "cut.keras"
    card = json.loads((MODELS / "ferplus.json").read_text())
    for key in ("sha256", "size_bytes"):
        card.pop(key, None)
    model.with_suffix(".json").write_text(json.dumps(card))
    content = (MODELS / "ferplus.tflite").read_bytes()
    model.with_suffix(".tflite").write_bytes(content[: int(len(content) * keep)])
    with pytest.raises(ModelError, match="cannot load model .*cut.tflite"):
        Classifier(model, backend="tflite", runtime=runtime)


def test_unknown_runtime_is_a_model_error():
    with pytest.raises(ModelError, match="unknown TFLite runtime"):
        Classifier(DEFAULT_MODEL, backend="tflite", runtime="onnx")
