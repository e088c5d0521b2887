"""The trainer and the evaluate command, end to end on a small synthetic FER2013 file."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys

import cv2
import numpy as np
import pytest

from realtime.classify import Classifier, ModelError, file_sha256
from tests.conftest import LABELS, ROOT, assert_one_line_error, pattern_face, run_module, write_fer_csv
from train.data import load_dataset, model_dataset

OUTPUTS = ["fer2013.keras", "fer2013.tflite", "fer2013.json", "fer2013_report.txt", "fer2013_confusion.png",
           "fer2013_curves.png", "fer2013_history.csv"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("trained")
    data = folder / "fer2013.csv.gz"
    write_fer_csv(data, {"Training": 420, "PublicTest": 70, "PrivateTest": 140}, seed=1)
    result = run_module("train", "--data", str(data), "--out", str(folder / "models"), "--epochs", "6",
                        "--width", "8", "--batch-size", "32", "--lr", "3e-3", "--precision", "float32")
    assert result.returncode == 0, result.stderr[-3000:]
    return data, folder / "models", result


def test_training_writes_every_output(trained):
    data, models, result = trained
    for name in OUTPUTS:
        assert (models / name).stat().st_size > 0, name
    assert (models / "checkpoints" / "fer2013.best.keras").exists()
    card = json.loads((models / "fer2013.json").read_text())
    # The best checkpoint has its card from the start: a run stopped by Ctrl-C leaves a model the program and the
    # tools take (was: the checkpoint alone, refused by all of them for want of a card)
    checkpoint = Classifier(models / "checkpoints" / "fer2013.best.keras", backend="keras")
    assert checkpoint.labels == LABELS
    checkpoint_card = json.loads((models / "checkpoints" / "fer2013.best.json").read_text())
    shared = ("labels", "input", "levels", "class_prior", "prior_alpha", "dataset")  # (no crop: no face found in these)
    assert {key: checkpoint_card[key] for key in shared} == {key: card[key] for key in shared}
    assert card["labels"] == LABELS
    assert card["input"]["size"] == 48
    assert card["parameters"] > 1000
    assert set(card["metrics"]["test_per_class_f1"]) == set(LABELS)
    assert card["dataset"]["train"] == 420 and card["dataset"]["test"] == 140
    assert card["class_prior"] == pytest.approx([1 / 7] * 7, abs=1e-3) and card["prior_alpha"] == 0.0  # 60 faces a class
    assert card["temperature"] == 1.0  # the answers shown as the model gives them, unless --temperature
    assert card["sha256"] == {kind: file_sha256(models / name) for kind, name in card["files"].items()}
    faces = load_dataset(data).split("train")[0].reshape(420, -1).astype(np.float32)
    assert card["levels"]["mean"] == pytest.approx(np.percentile(faces.mean(1), [5, 95]), abs=0.1)
    assert card["levels"]["std"] == pytest.approx(np.percentile(faces.std(1), [5, 95]), abs=0.1)
    with (models / "fer2013_history.csv").open(newline="") as handle:
        history = list(csv.DictReader(handle))
    # epochs counted from 1, as the console and the card's best_epoch count them (Keras's own logger counts from 0)
    assert [int(row["epoch"]) for row in history] == list(range(1, card["training"]["epochs_run"] + 1))
    best = max(history, key=lambda row: float(row["val_accuracy"]))
    assert int(best["epoch"]) == card["training"]["best_epoch"]
    assert "accuracy" in (models / "fer2013_report.txt").read_text()
    assert "wrote" in result.stdout


def test_trained_model_learns_the_synthetic_classes(trained):
    _, models, _ = trained
    card = json.loads((models / "fer2013.json").read_text())
    assert card["metrics"]["test_accuracy"] > 0.4  # chance is 1/7


def test_evaluate_command_agrees_with_the_card(trained):
    data, models, _ = trained
    card = json.loads((models / "fer2013.json").read_text())
    for backend in ("keras", "tflite"):
        result = run_module("train.evaluate", "--model", str(models / "fer2013.keras"), "--data", str(data),
                            "--backend", backend)
        assert result.returncode == 0, result.stderr[-2000:]
        accuracy = float(result.stdout.split("accuracy")[-1].split()[0])
        expected = card["metrics"]["test_accuracy" if backend == "tflite" else "keras_test_accuracy"]
        assert accuracy == pytest.approx(expected, abs=1e-3)
        assert "macro-F1" in result.stdout and "surprise" in result.stdout
        low, high = map(float, result.stdout.split("accuracy")[-1].split("95% interval")[1].split()[0].split("-"))
        assert low <= accuracy <= high and high - low < 0.3  # 140 test faces (the synthetic ones may all be right)
    val = run_module("train.evaluate", "--model", str(models / "fer2013.keras"), "--data", str(data), "--split", "val")
    assert "(70 faces)" in val.stdout
    viewed = run_module("train.evaluate", "--model", str(models / "fer2013.keras"), "--data", str(data), "--views", "6")
    assert viewed.returncode == 0 and "split 'test', 6 views a face" in viewed.stdout, viewed.stderr[-2000:]
    assert float(viewed.stdout.split("accuracy")[-1].split()[0]) > 0.4  # the synthetic classes, seen six ways
    wrong = run_module("train.evaluate", "--model", str(models / "fer2013.keras"), "--data", str(data), "--views", "4")
    assert wrong.returncode == 2 and "invalid choice: 4" in wrong.stderr


def test_crop_views_bench_scores_a_model_over_more_views_of_each_face(trained):
    data, models, _ = trained
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "crop_views.py"), "--model", str(models / "fer2013.keras"),
                             "--data", str(data), "--split", "test"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    scores = {line.split()[0]: float(line.split()[-1].rstrip("%")) for line in result.stdout.splitlines() if "views:" in line}
    assert list(scores) == ["1", "2", "6", "24"] and min(scores.values()) > 40  # the synthetic classes, chance 14%
    viewed = run_module("train.evaluate", "--model", str(models / "fer2013.keras"), "--data", str(data), "--views", "6")
    assert float(viewed.stdout.split("accuracy")[-1].split()[0]) == pytest.approx(scores["6"] / 100, abs=1e-4)


def test_evaluate_scores_ferplus_models_also_on_the_faces_the_ferplus_paper_tests_on(tmp_path):
    """FER+ accuracies are published on the faces with a clear majority (`train.data.clear_majority`); evaluate
    prints that figure too, under the every-face one, counted over exactly those faces."""
    from tests.test_data import FERPLUS_HEADER
    from train.evaluate import evaluate

    fer = tmp_path / "fer2013.csv"
    write_fer_csv(fer, {"Training": 8, "PublicTest": 8, "PrivateTest": 12}, seed=6)
    votes = tmp_path / "fer2013new.csv"
    clear, unclear = "0,9,0,0,0,0,0,0,1,0", "4,3,0,0,0,0,0,0,3,0"  # happiness 9 of 9; neutral 4 of 10
    rows = ["Training,a.png," + clear] * 8 + ["PublicTest,b.png," + clear] * 8 + [
        f"PrivateTest,c{k}.png,{clear if k % 3 else unclear}" for k in range(12)]
    votes.write_text(FERPLUS_HEADER + "\n" + "\n".join(rows) + "\n")
    model = ROOT / "models" / "ferplus_a.tflite"
    result = run_module("train.evaluate", "--model", str(model), "--data", str(fer), "--ferplus", str(votes))
    assert result.returncode == 0, result.stderr[-2000:]
    above, line = result.stdout.splitlines()[-2:]
    assert above.startswith("(above: every PrivateTest face by its most-voted emotion, ties to the first class")
    assert line.startswith("FER+ paper's test, as published FER+ accuracies count (the 8 of 12 faces with a clear majority")
    data = load_dataset(fer, ferplus=votes)
    metrics = evaluate(Classifier(model), data, "test")
    faces, targets = data.split("test")
    answers = Classifier(model).predict_many(faces).argmax(1)
    right = answers == [Classifier(model).labels.index(data.labels[t]) for t in targets.argmax(1)]
    assert metrics["clear_majority"]["accuracy"] == pytest.approx(right[data.clear["test"]].mean())
    assert f"accuracy {right[data.clear['test']].mean():.4f}" in line
    assert metrics["accuracy"] == pytest.approx(right.mean())
    # train.export writes it to the card and the report, beside the every-face figure
    from train.export import measure

    card = measure(Classifier(model), data, {"name": "m", "labels": Classifier(model).labels}, tmp_path / "m")
    assert card["test_accuracy_clear_majority"] == round(right[data.clear["test"]].mean(), 4)
    assert card["test_accuracy"] == round(right.mean(), 4) and "FER+ paper's test" in (tmp_path / "m_report.txt").read_text()


def test_evaluate_views_are_the_program_s_photo_views_of_a_crop():
    """--views 6: the face cut at the sizes of the program's photo views (realtime.pipeline.VIEW_SCALES) about its
    centre, each also mirrored; the answers averaged."""
    from train.evaluate import views_of

    face = np.zeros((48, 48), np.uint8)
    face[14:34, 14:34] = 200  # a 20-pixel square in the middle, and a mark on the left
    face[20:28, 2:6] = 120
    views = views_of(face[None], 6)
    assert len(views) == 6 and len(views_of(face[None], 2)) == 2 and len(views_of(face[None], 1)) == 1
    plain, closer, wider = views[0][0], views[1][0], views[2][0]
    assert np.array_equal(plain, face)
    side = {name: (view[24] > 150).sum() for name, view in (("plain", plain), ("closer", closer), ("wider", wider))}
    assert side["plain"] == 20 and side["closer"] in (21, 22, 23) and side["wider"] in (17, 18, 19)  # 20/0.92, 20/1.09
    assert all(np.array_equal(views[k + 3], views[k][:, :, ::-1]) for k in range(3))  # each also mirrored
    assert views[3][0, 24, 42:46].min() == 120  # the mark, now on the right


def test_evaluate_and_export_hold_out_the_faces_the_trainer_held_out(tmp_path):
    """A folder without val/ or test/ has them held out of train/ by --seed: train.evaluate and train.export held out
    others (seed 0), and scored a model trained with --seed 3 on faces it had trained on."""
    import cv2

    rng = np.random.default_rng(0)
    for label, name in enumerate(["angry", "happy"]):
        (tmp_path / "faces" / "train" / name).mkdir(parents=True)
        for i in range(40):
            cv2.imwrite(str(tmp_path / "faces" / "train" / name / f"{i}.png"), pattern_face(label, rng))
    result = run_module("train", "--data", str(tmp_path / "faces"), "--out", str(tmp_path / "out"), "--epochs", "1",
                        "--width", "4", "--seed", "3", "--precision", "float32")
    assert result.returncode == 0, result.stderr[-2000:]
    card = json.loads((tmp_path / "out" / "faces.json").read_text())
    held = load_dataset(tmp_path / "faces", seed=3).split("test")[0]  # as the trainer held them out
    assert np.array_equal(model_dataset(card, tmp_path / "faces").split("test")[0], held)  # as the tools do
    assert not np.array_equal(load_dataset(tmp_path / "faces", seed=0).split("test")[0], held)  # (as they did)
    evaluated = run_module("train.evaluate", "--model", str(tmp_path / "out" / "faces.keras"),
                           "--data", str(tmp_path / "faces"), "--backend", "keras")
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    assert f"({len(held)} faces)" in evaluated.stdout
    accuracy = float(evaluated.stdout.split("accuracy")[-1].split()[0])
    assert accuracy == pytest.approx(card["metrics"]["keras_test_accuracy"], abs=1e-3)  # the same faces scored
    exported = run_module("train.export", "--model", str(tmp_path / "out" / "faces.keras"), "--data", str(tmp_path / "faces"))
    assert exported.returncode == 0, exported.stderr[-2000:]
    assert json.loads((tmp_path / "out" / "faces.json").read_text())["metrics"] == card["metrics"]


def test_what_a_dataset_says_of_its_photos_outlives_limit_and_goes_into_the_card():
    """--limit dropped the photos without a face (no note, and "raise --limit" for a class whose photos had none);
    the card measured the crop again on faces the trainer had cut out of photos itself, and moved it."""
    from pathlib import Path

    from realtime.align import Crop
    from train.__main__ import cut_crop, subsample
    from train.data import Dataset

    faces, targets = np.zeros((10, 48, 48), np.uint8), np.eye(2, dtype=np.float32)[np.arange(10) % 2]
    dataset = Dataset(["angry", "happy"], {"train": (faces, targets)}, "photos", no_face=[Path("dark.jpg")],
                      cut_with=Crop(1.2, -0.1))
    limited = subsample(dataset, 3, seed=0)
    assert len(limited.splits["train"][0]) == 3 and limited.no_face == [Path("dark.jpg")]
    assert cut_crop(limited) == {"scale": 1.2, "shift": -0.1, "measured": "the crop the trainer cut the faces out "
                                 "of the training photos with"}
    assert cut_crop(Dataset(["angry"], {"train": (faces, targets)})) is None  # face crops: measured on them


def test_a_fine_tuned_model_keeps_its_width(fer_csv, tiny_model, tmp_path):
    result = run_module("train", "--data", str(fer_csv), "--out", str(tmp_path), "--init", str(tiny_model),
                        "--width", "8")
    assert_one_line_error(result, "--width goes without --init: a fine-tuned model keeps the width it has")


def test_evaluate_rejects_classes_the_model_lacks(trained, tmp_path):
    _, models, _ = trained
    folder = tmp_path / "images" / "train" / "contempt"
    folder.mkdir(parents=True)
    import cv2
    import numpy as np

    for i in range(3):
        cv2.imwrite(str(folder / f"{i}.png"), np.zeros((48, 48), np.uint8))
    result = run_module("train.evaluate", "--model", str(models / "fer2013.keras"), "--data", str(tmp_path / "images"),
                        "--split", "train")
    assert_one_line_error(result, "the model has no class for contempt")


def test_trainer_bad_inputs(tmp_path):
    assert_one_line_error(run_module("train", "--data", str(tmp_path / "missing.csv")), "dataset not found")
    bad = tmp_path / "bad.csv"
    bad.write_text("emotion,pixels,Usage\n0,1 2 3,Training\n")
    assert_one_line_error(run_module("train", "--data", str(bad), "--out", str(tmp_path / "m")),
                          "expected 2304 pixels, found 3")
    no_test = tmp_path / "no_test.csv"
    write_fer_csv(no_test, {"Training": 7, "PublicTest": 7})
    assert_one_line_error(run_module("train", "--data", str(no_test), "--out", str(tmp_path / "m")), "split 'test' is empty")


def test_an_existing_model_is_not_replaced_without_overwrite(trained, tmp_path):
    data, models, _ = trained
    before = (models / "fer2013.keras").read_bytes()
    for options, problem in (([], "fer2013.keras exists: choose another --name or --out, or pass --overwrite"),
                             (["--name", "../elsewhere"], "a model name, not a path"),
                             (["--init", str(tmp_path / "missing.keras"), "--name", "fresh"],
                              f"model not found: {tmp_path / 'missing.keras'}")):
        assert_one_line_error(run_module("train", "--data", str(data), "--out", str(models), "--epochs", "1",
                                         *options), problem)
    assert (models / "fer2013.keras").read_bytes() == before
    assert not (models.parent / "elsewhere.keras").exists()
    result = run_module("train", "--data", str(data), "--out", str(tmp_path), "--epochs", "1", "--width", "4",
                        "--limit", "70", "--precision", "float32", "--name", "again")
    assert result.returncode == 0, result.stderr[-2000:]
    first = (tmp_path / "again.keras").read_bytes()
    result = run_module("train", "--data", str(data), "--out", str(tmp_path), "--epochs", "1", "--width", "4",
                        "--limit", "70", "--precision", "float32", "--name", "again", "--seed", "1", "--overwrite")
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "again.keras").read_bytes() != first


def test_a_dataset_of_one_class_and_options_out_of_range_are_refused(tmp_path):
    for i in range(12):
        (tmp_path / "one" / "train" / "happy").mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(tmp_path / "one" / "train" / "happy" / f"{i}.png"), np.full((48, 48), 20 * i, np.uint8))
    assert_one_line_error(run_module("train", "--data", str(tmp_path / "one"), "--out", str(tmp_path / "m")),
                          "one class only (happy)")
    (tmp_path / "one" / "train" / "fear").mkdir()  # an empty class folder is no second class
    assert_one_line_error(run_module("train", "--data", str(tmp_path / "one"), "--out", str(tmp_path / "m")),
                          "no training faces of fear (an empty class folder")
    assert not (tmp_path / "m" / "checkpoints").exists()  # a run that failed on its data leaves no checkpoints/
    (tmp_path / "one" / "train" / "fear").rmdir()
    cv2.imwrite(str(tmp_path / "one" / "train" / "fear.png"), np.full((48, 48), 99, np.uint8))
    (tmp_path / "one" / "train" / "fear").mkdir()
    (tmp_path / "one" / "train" / "fear.png").rename(tmp_path / "one" / "train" / "fear" / "0.png")
    assert_one_line_error(run_module("train", "--data", str(tmp_path / "one"), "--out", str(tmp_path / "m"),
                                     "--limit", "2"), "--limit 2 drew none of them: raise it")
    (tmp_path / "one" / "train" / "fear" / "0.png").unlink()
    (tmp_path / "one" / "train" / "fear").rmdir()
    assert_one_line_error(run_module("train", "--data", str(tmp_path / "one"), "--name", " "), "--name is empty")
    (tmp_path / "notes.txt").write_text("not a folder")
    for option, value in (("--teacher-weight", "5"), ("--patience", "-1"), ("--width", "1"), ("--seed", "-1"), ("--seed", str(2**32)),
                          ("--tensorboard", str(tmp_path / "notes.txt"))):
        assert_one_line_error(run_module("train", "--data", str(tmp_path / "one"), option, value), option)
    if os.path.isdir("/proc"):  # takes no new folders, not even from root
        assert_one_line_error(run_module("train", "--data", str(tmp_path / "one"), "--out", "/proc/models"),
                              "cannot write into /proc/models")


def test_a_tflite_copy_its_card_does_not_list_is_never_run(trained, tmp_path):
    """A model trained again with --overwrite under JAX or PyTorch has a card listing its .keras only, and the earlier
    model's .tflite beside it: the program ran that one, unsaid, and train.evaluate scored it."""
    _, models, _ = trained
    for name in ("fer2013.keras", "fer2013.json", "fer2013.tflite"):
        (tmp_path / name).write_bytes((models / name).read_bytes())
    card = json.loads((tmp_path / "fer2013.json").read_text())
    for entry in ("files", "size_bytes", "sha256"):
        del card[entry]["tflite"]
    (tmp_path / "fer2013.json").write_text(json.dumps(card))
    assert Classifier(tmp_path / "fer2013.keras").backend == "keras"  # auto: the model the card describes
    with pytest.raises(ModelError, match="is not described by its card"):
        Classifier(tmp_path / "fer2013.keras", backend="tflite")


def test_saved_model_stores_float16_and_loads_as_float32(trained):
    import keras

    from realtime.classify import load_keras_model

    _, models, _ = trained
    stored = keras.models.load_model(models / "fer2013.keras", compile=False)
    assert {w.dtype for w in stored.weights} == {"float16"}
    loaded = load_keras_model(models / "fer2013.keras")
    assert {w.dtype for w in loaded.weights} == {"float32"}
    assert loaded.output.dtype == "float32"


def test_export_rewrites_tflite_and_metrics(trained, tmp_path):
    data, models, _ = trained
    for name in ("fer2013.keras", "fer2013.json", "fer2013_history.csv"):
        (tmp_path / name).write_bytes((models / name).read_bytes())
    card = json.loads((models / "fer2013.json").read_text())
    result = run_module("train.export", "--model", str(tmp_path / "fer2013.keras"), "--data", str(data))
    assert result.returncode == 0, result.stderr[-2000:]
    exported = json.loads((tmp_path / "fer2013.json").read_text())
    assert exported["metrics"]["keras_test_accuracy"] == card["metrics"]["keras_test_accuracy"]
    assert "int8" in exported["storage"]["tflite"] and "calibrated on 420 training faces" in exported["storage"]["tflite"]
    assert exported["sha256"]["tflite"] == file_sha256(tmp_path / "fer2013.tflite")  # the new copy's
    for name in ("fer2013.tflite", "fer2013_report.txt", "fer2013_confusion.png", "fer2013_curves.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert_one_line_error(run_module("train.export", "--model", str(tmp_path / "missing.keras"), "--data", str(data)),
                          "model card not found")
    # Other calibration data makes another int8 copy: its card must vouch for it, or the program refuses the model.
    other = tmp_path / "other.csv"
    write_fer_csv(other, {"Training": 140, "PublicTest": 35, "PrivateTest": 35}, seed=7)
    before = (tmp_path / "fer2013.tflite").read_bytes()
    result = run_module("train.export", "--model", str(tmp_path / "fer2013.keras"), "--data", str(other))
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "fer2013.tflite").read_bytes() != before
    Classifier(tmp_path / "fer2013.keras", backend="tflite")  # the program takes it
    (tmp_path / "fer2013_history.csv").unlink()  # a model trained elsewhere: no curves picture, rather than an empty one
    (tmp_path / "fer2013_curves.png").unlink()
    result = run_module("train.export", "--model", str(tmp_path / "fer2013.keras"), "--data", str(data))
    assert result.returncode == 0 and "Warning" not in result.stderr, result.stderr[-2000:]
    assert not (tmp_path / "fer2013_curves.png").exists()
    for name in ("happy", "sad"):  # another dataset's classes: refused before anything is written
        (tmp_path / "two" / "train" / name).mkdir(parents=True)
        cv2.imwrite(str(tmp_path / "two" / "train" / name / "1.png"), np.full((48, 48), 90, np.uint8))
    written = (tmp_path / "fer2013.tflite").read_bytes()
    assert_one_line_error(run_module("train.export", "--model", str(tmp_path / "fer2013.keras"), "--data",
                                     str(tmp_path / "two")), "the dataset has happy, sad")
    assert (tmp_path / "fer2013.tflite").read_bytes() == written


def test_teacher_probabilities_become_part_of_the_targets(trained, tmp_path):
    data, models, _ = trained
    result = run_module("train", "--data", str(data), "--out", str(tmp_path), "--epochs", "1", "--width", "4",
                        "--batch-size", "64", "--precision", "float32", "--teacher", str(models / "fer2013.keras"),
                        "--teacher-weight", "0.7")
    assert result.returncode == 0, result.stderr[-3000:]
    card = json.loads((tmp_path / "fer2013.json").read_text())
    assert "mixed 0.7 with the probabilities of 1 teacher" in card["dataset"]["labels"]
    assert_one_line_error(run_module("train", "--data", str(data), "--out", str(tmp_path), "--name", "other",
                                     "--teacher", str(tmp_path / "nope.keras")), "model not found")  # (before the data)
    (tmp_path / "notes.keras").write_text("a text file with a model's name")  # beside a good card
    (tmp_path / "notes.json").write_text((tmp_path / "fer2013.json").read_text())
    assert_one_line_error(run_module("train", "--data", str(data), "--out", str(tmp_path), "--name", "other",
                                     "--teacher", str(tmp_path / "notes.keras")), "is not a Keras model file")


@pytest.mark.parametrize("mixup, cutmix", [(0.4, 0.0), (0.0, 1.0), (0.4, 1.0)])
def test_mixed_batches_mix_faces_targets_and_weights_in_the_same_proportion(mixup, cutmix):
    from train.mixing import MixedBatches

    # Face i is all grey level 10 * i, of class i % 3 with weight i + 1: a mixed face's pixels tell which two faces
    # went into it and how much of each, and its target and weight must say the same.
    n = 40
    faces = np.repeat(10.0 * np.arange(n), 48 * 48).reshape(n, 48, 48, 1).astype(np.float32)
    targets = np.eye(3, dtype=np.float32)[np.arange(n) % 3]
    weights = np.arange(1, n + 1, dtype=np.float32)
    batches = MixedBatches(faces, targets, weights, batch_size=16, mixup=mixup, cutmix=cutmix, seed=3)
    assert len(batches) == 3
    seen, kinds = [], set()
    for epoch in range(4):
        for index in range(len(batches)):
            x, y, w = batches[index]
            assert x.dtype == np.float32 and x.shape[1:] == (48, 48, 1) and len(x) == len(y) == len(w)
            assert np.allclose(y.sum(1), 1, atol=1e-5)
            for face, target, weight in zip(x, y, w):
                levels = np.unique(face)
                if len(levels) == 2:  # cutmix: two faces' pixels side by side
                    kinds.add("cutmix")
                    share = {v: float(np.mean(face == v)) for v in levels}
                    own_mix = [(share[a], a, b) for a, b in ((levels[0], levels[1]), (levels[1], levels[0]))]
                    assert any(np.allclose(target, s * targets[int(a) // 10] + (1 - s) * targets[int(b) // 10], atol=1e-5)
                               and np.isclose(weight, s * (a // 10 + 1) + (1 - s) * (b // 10 + 1), atol=1e-4)
                               for s, a, b in own_mix)
                else:
                    assert len(levels) == 1  # mixup: one blended level (or a face mixed with itself)
                    kinds.add("mixup")
                    level = float(levels[0])
                    # some pair (a, b) and lam give the level, the target and the weight alike
                    assert any(np.allclose(target, lam * targets[a] + (1 - lam) * targets[b], atol=1e-4)
                               and np.isclose(weight, lam * (a + 1) + (1 - lam) * (b + 1), atol=1e-3)
                               for a in range(n) for b in range(n) if a != b and 10 * a != 10 * b
                               for lam in [(level - 10 * b) / (10 * a - 10 * b)] if 0 <= lam <= 1) \
                        or any(np.isclose(level, 10 * a) and np.allclose(target, targets[a]) for a in range(n))
            seen.append(batches.order.copy())
        batches.on_epoch_end()
    assert ("cutmix" in kinds) == (cutmix > 0) and ("mixup" in kinds or not mixup)
    assert sorted(seen[0]) == list(range(n)) and not np.array_equal(seen[0], seen[-1])  # every face, reshuffled
    with pytest.raises(ValueError):
        MixedBatches(faces, targets, weights, 16)


def test_training_with_mixup_and_cutmix(trained, tmp_path):
    data, _, _ = trained
    result = run_module("train", "--data", str(data), "--out", str(tmp_path), "--epochs", "2", "--width", "4",
                        "--batch-size", "64", "--precision", "float32", "--mixup", "0.2", "--cutmix", "1.0")
    assert result.returncode == 0, result.stderr[-3000:]
    card = json.loads((tmp_path / "fer2013.json").read_text())
    assert card["training"]["arguments"]["mixup"] == 0.2 and card["training"]["arguments"]["cutmix"] == 1.0
    assert card["training"]["epochs_run"] == 2 and (tmp_path / "fer2013.tflite").exists()
    assert_one_line_error(run_module("train", "--data", str(data), "--mixup", "-1"), "--mixup")


def test_max_minutes_ends_training_in_time_and_a_machine_without_mediapipe_still_gets_its_model(trained, tmp_path):
    """As on a GPU machine lent for minutes, with JAX but no MediaPipe: the best epoch so far is written, with a
    note to measure the crop elsewhere."""
    data, _, _ = trained
    blocked = ("import sys, runpy; sys.modules['mediapipe'] = None; sys.argv = ['train', *sys.argv[1:]]; "
               "runpy.run_module('train', run_name='__main__')")
    result = subprocess.run([sys.executable, "-c", blocked, "--data", str(data), "--out", str(tmp_path), "--epochs", "5",
                             "--width", "4", "--batch-size", "64", "--precision", "float32", "--max-minutes", "0.0001"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    card = json.loads((tmp_path / "fer2013.json").read_text())
    assert card["training"]["epochs_run"] == 1 and card["training"]["arguments"]["max_minutes"] == 0.0001
    assert "crop" not in card and "python -m train.framing --model" in result.stderr
    assert (tmp_path / "fer2013.tflite").exists()
    assert_one_line_error(run_module("train", "--data", str(data), "--max-minutes", "0"), "--max-minutes")


def test_a_diverging_training_ends_in_one_line_error_and_writes_no_model(trained, tmp_path):
    """NaN weights used to reach the export, which crashed the process (SIGSEGV) after writing a broken model."""
    data, _, _ = trained
    result = run_module("train", "--data", str(data), "--out", str(tmp_path), "--epochs", "3", "--width", "4",
                        "--batch-size", "64", "--precision", "float32", "--lr", "1e30")
    assert_one_line_error(result, "training diverged: the loss became NaN, infinite or enormous in epoch 1")
    assert "(precision float32, --lr 1e+30); try a lower --lr" in result.stderr
    assert not (tmp_path / "fer2013.keras").exists() and not (tmp_path / "fer2013.json").exists()
    _, models, _ = trained  # fine-tuning with a frozen body first: no unfrozen phase starts from diverged weights
    result = run_module("train", "--data", str(data), "--out", str(tmp_path), "--epochs", "3", "--batch-size", "64",
                        "--precision", "float32", "--lr", "1e30", "--init", str(models / "fer2013.keras"),
                        "--freeze-epochs", "1")
    assert_one_line_error(result, "training diverged: the loss became NaN, infinite or enormous in epoch 1")
    assert result.stdout.count("val_loss") == 1 and "Epoch 2/" not in result.stdout  # one epoch ran


def test_a_loss_that_grows_enormous_without_a_nan_is_a_divergence_too(tmp_path, fer_csv):
    """--lr 1e9 drove the loss to 2e19, finite, so training ran to its end and wrote a .keras and a card, with weights
    the export then refused as NaN or infinite: a model that could not be used, under a name that needed --overwrite.
    A loss over DIVERGED_LOSS ends it as a NaN does; and a run whose weights came out non-finite writes no model."""
    from train.__main__ import DIVERGED_LOSS

    assert DIVERGED_LOSS > 16 * 20  # (Keras's clipped cross-entropy, times a large class weight)
    result = run_module("train", "--data", str(fer_csv), "--out", str(tmp_path), "--epochs", "2", "--width", "4",
                        "--precision", "float32", "--lr", "1e9")
    assert_one_line_error(result, "training diverged: the loss became NaN, infinite or enormous in epoch 1")
    assert not (tmp_path / "fer2013.keras").exists() and list((tmp_path / "checkpoints").iterdir()) == []
    for option, value, problem in (("--width", "4096", "at most 256"), ("--init", str(tmp_path / "nope.keras"),
                                                                        f"model not found: {tmp_path / 'nope.keras'}"),
                                   ("--teacher", str(tmp_path / "nope.keras"), "model not found")):
        result = run_module("train", "--data", str(fer_csv), "--out", str(tmp_path / "other"), "--epochs", "1",
                            option, value)
        assert_one_line_error(result, problem)  # (a traceback out of memory; a missing card; after the data)
        assert not (tmp_path / "other" / "checkpoints").exists()


def test_an_epoch_that_diverges_is_never_the_one_kept():
    """After good epochs, an epoch whose loss is NaN stops training; its accuracy (NaN answers still score the share
    of one class) counts as NaN, so the checkpoint and the weights restored at the end are of the best epoch before it."""
    import keras

    from train.__main__ import stop_on_nan

    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    y = keras.utils.to_categorical((x[:, 0] > 0).astype(int), 2)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy", metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")])

    def poison(epoch, logs):  # the third epoch's weights become NaN
        if epoch == 2:
            model.layers[0].kernel.assign(np.full((4, 2), np.nan, np.float32))

    diverged: list[int] = []
    early = keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", restore_best_weights=True, patience=50)
    history = model.fit(x, y, validation_data=(x, y), epochs=6, verbose=0,
                        callbacks=[stop_on_nan(keras, model, diverged), early,
                                   keras.callbacks.LambdaCallback(on_epoch_begin=poison)]).history
    assert diverged == [3] and len(history["val_accuracy"]) == 3
    assert np.isnan(history["val_accuracy"][2]) and np.isfinite(history["val_accuracy"][:2]).all()
    assert early.best_epoch in (0, 1) and np.isfinite(model.layers[0].kernel.numpy()).all()


def test_bootstrap_intervals_are_as_wide_as_sampling_makes_them():
    """1,000 answers, 70% right: the accuracy's 95% interval is about +-1.96 standard errors, and 4x the
    answers halve it; macro-F1 and mean recall get intervals around their own values."""
    from train.report import bootstrap_intervals, classification_metrics

    rng = np.random.default_rng(3)
    for samples in (1000, 4000):
        truth = rng.integers(0, 3, samples)
        predicted = np.where(np.arange(samples) % 10 < 7, truth, (truth + 1) % 3)
        metrics = classification_metrics(truth, predicted, ["a", "b", "c"])
        intervals = bootstrap_intervals(metrics["confusion"])
        low, high = intervals["accuracy"]
        half = 1.96 * np.sqrt(0.7 * 0.3 / samples)
        assert low < 0.7 < high and (high - low) / 2 == pytest.approx(half, rel=0.15)
        assert intervals["macro_f1"][0] < metrics["macro_f1"] < intervals["macro_f1"][1]
        assert intervals["mean_recall"][0] < 0.7 < intervals["mean_recall"][1]
    assert bootstrap_intervals(metrics["confusion"]) == intervals  # seeded: the same figures every run
    assert bootstrap_intervals(np.zeros((3, 3), int))["accuracy"] == (0.0, 0.0)  # no samples: no error


def test_a_rare_class_does_not_tilt_the_intervals_of_the_class_means():
    """A class of 2 faces, both labelled wrong, beside six of 8: a plain bootstrap leaves it out of about 1 draw in 7,
    and every such draw lifts the mean recall by a seventh; drawn class by class, the interval sits about the
    figure, and the accuracy's is what it was."""
    from train.report import bootstrap_intervals, per_class_scores

    confusion = np.zeros((8, 8), int)
    for label, right in enumerate([6, 0, 3, 8, 5, 6, 7]):
        confusion[label, label], confusion[label, 7] = right, 8 - right
    confusion[1] = 0
    confusion[1, 6] = 2  # the rare class: 2 faces, both called neutral
    _, recall, f1, support = per_class_scores(confusion)
    mean_recall, macro_f1 = recall[support > 0].mean(), f1[support > 0].mean()
    intervals = bootstrap_intervals(confusion)
    low, high = intervals["mean_recall"]
    assert low < mean_recall < high and high - mean_recall < 1.2 * (mean_recall - low)
    assert intervals["macro_f1"][0] < macro_f1 < intervals["macro_f1"][1]
    # The accuracy drawn from all faces together: the interval of 50 faces, 35 right, as a plain bootstrap gives it
    low, high = intervals["accuracy"]
    assert low < 35 / 50 < high and (high - low) / 2 == pytest.approx(1.96 * np.sqrt(0.7 * 0.3 / 50), rel=0.2)


def test_intervals_drawn_by_person_are_wider_where_a_person_s_photos_go_together():
    """20 people, 10 photos each, all right or all wrong by person: the photos are 20 draws, not 200, and the interval
    drawn by person is about sqrt(10) times as wide. Drawn by groups of one photo, it is the photos' interval."""
    from train.report import bootstrap_intervals, classification_metrics, paired_difference

    truth = np.zeros(200, int)
    predicted = np.where(np.repeat(np.arange(20) % 10 < 7, 10), 0, 1)  # 14 people right, 6 wrong
    confusion = np.array(classification_metrics(truth, predicted, ["a", "b"])["confusion"])
    people = [np.array(classification_metrics(truth[k:k + 10], predicted[k:k + 10], ["a", "b"])["confusion"])
              for k in range(0, 200, 10)]
    (low, high), (person_low, person_high) = (bootstrap_intervals(confusion, groups=g)["accuracy"] for g in (None, people))
    assert person_low < low < 0.7 < high < person_high and (person_high - person_low) > 2.5 * (high - low)
    photos = [np.eye(4, dtype=int)[cell].reshape(2, 2) for cell in np.repeat(np.arange(4), confusion.ravel())]
    assert bootstrap_intervals(confusion, groups=photos)["accuracy"] == bootstrap_intervals(confusion)["accuracy"]
    right = predicted == truth
    lost = np.arange(200) < 60  # a new model wrong on every photo of 6 people the old one had right
    _, low, high = paired_difference(right, right & ~lost)
    _, person_low, person_high = paired_difference(right, right & ~lost, groups=np.arange(200) // 10)
    assert person_low < low < high < person_high


def test_a_paired_difference_is_narrower_than_either_accuracy():
    """Two models that differ on 40 of 1,000 answers (30 fixed, 10 broken) differ by +2 points, and the
    paired interval sees it clearly, though the accuracies' own intervals (+-2.8 points) overlap."""
    from train.report import paired_difference

    before = np.arange(1000) % 10 < 7
    after = before.copy()
    after[np.flatnonzero(~before)[:30]] = True
    after[np.flatnonzero(before)[:10]] = False
    difference, low, high = paired_difference(before, after)
    assert difference == pytest.approx(0.02) and 0 < low < 0.02 < high < 0.04
    assert paired_difference(before, before) == (0.0, 0.0, 0.0) == paired_difference([], [])


def test_ctrl_c_during_training_stops_it_and_leaves_the_best_epoch_as_a_model(tmp_path, fer_csv):
    """The first Ctrl-C only sets a flag, checked after each batch: raised at any moment, it could land in a
    library's clean-up (JAX's garbage-collector callback) and be lost, and training then ran all its epochs."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    run = subprocess.Popen([sys.executable, "-m", "train", "--data", str(fer_csv), "--out", str(tmp_path / "m"),
                            "--epochs", "200", "--width", "4", "--precision", "float32"],
                           cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in run.stdout:
            if line.startswith("Epoch 2/"):  # the first epoch done, its checkpoint written
                run.send_signal(signal.SIGINT)
                break
        said = run.stdout.read()
        run.wait(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 130 and "Traceback" not in said, said
    checkpoint = tmp_path / "m" / "checkpoints" / "fer2013.best.keras"
    assert f"the best epoch so far, with its card: {checkpoint}" in said
    assert Classifier(checkpoint, backend="keras").labels == LABELS


def test_a_run_stopped_before_its_first_epoch_ends_passes_off_no_earlier_checkpoint(tmp_path, fer_csv, monkeypatch,
                                                                                    capsys):
    """An earlier run's checkpoints/NAME.best.keras (a run stopped, or one trained again with --overwrite) was left in
    place: stopped before its first epoch ended, the new run called it its best epoch so far, beside its own new card
    (with a FER+ run's 8 labels for a FER2013 model's 7 outputs, say)."""
    import train.__main__ as trainer

    stale = tmp_path / "m" / "checkpoints" / "fer2013.best.keras"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"an earlier run's best epoch")

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(trainer, "fit", stopped)
    assert trainer.main(["--data", str(fer_csv), "--out", str(tmp_path / "m"), "--epochs", "1", "--width", "4"]) == 130
    assert "no epoch was finished: no model kept" in capsys.readouterr().err
    assert not stale.exists() and not stale.with_suffix(".json").exists()


def test_a_stopped_ferplus_run_says_how_to_export_its_checkpoint_with_its_votes(tmp_path, fer_csv, monkeypatch, capsys):
    """The command it printed left out --ferplus: train.export then refused the checkpoint (8 classes, the data 7)."""
    import train.__main__ as trainer

    votes = tmp_path / "votes.csv"
    rows = [line.split(",")[-1] for line in fer_csv.read_text().splitlines()[1:]]
    votes.write_text("Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF\n"
                     + "".join(f"{usage},f{i}.png," + ",".join("9" if k == i % 8 else "0" for k in range(10)) + "\n"
                               for i, usage in enumerate(rows)))

    def stopped(args, dataset, out, name, verbose):
        (out / "checkpoints" / f"{name}.best.keras").write_bytes(b"its first epoch")
        raise KeyboardInterrupt

    monkeypatch.setattr(trainer, "fit", stopped)
    assert trainer.main(["--data", str(fer_csv), "--ferplus", str(votes), "--out", str(tmp_path / "m"), "--epochs", "1",
                         "--width", "4"]) == 130
    assert f"--data {fer_csv} --ferplus {votes})" in capsys.readouterr().err


def test_a_training_that_diverges_in_its_first_epoch_leaves_no_checkpoint(tmp_path, fer_csv):
    """Keras's ModelCheckpoint keeps the first epoch whatever its accuracy (NaN too): a run that diverged at once left
    checkpoints/NAME.best.keras, NaN weights, with the card that makes it a model the tools and the program take."""
    result = run_module("train", "--data", str(fer_csv), "--out", str(tmp_path), "--epochs", "1", "--width", "4",
                        "--precision", "float32", "--lr", "1e30")
    assert_one_line_error(result, "training diverged: the loss became NaN, infinite or enormous in epoch 1")
    assert list((tmp_path / "checkpoints").iterdir()) == []


def test_export_measures_a_model_trained_with_limit_on_the_faces_the_trainer_drew(tmp_path, tiny_model, monkeypatch):
    """Under JAX or PyTorch, train.export writes what the trainer writes under TensorFlow. It took every face: a model
    trained with --limit got test metrics of the whole split and a TFLite copy calibrated on more training faces than
    it had seen, in a card that said 'at most N per split'."""
    import train.export
    from train.__main__ import subsample

    data = tmp_path / "fer.csv"
    write_fer_csv(data, {"Training": 30, "PublicTest": 20, "PrivateTest": 20})
    for suffix in (".keras", ".json"):
        (tmp_path / f"tiny{suffix}").write_bytes(tiny_model.with_suffix(suffix).read_bytes())
    card = json.loads((tmp_path / "tiny.json").read_text())
    card["training"] = {"arguments": {"limit": 9, "seed": 4}}
    (tmp_path / "tiny.json").write_text(json.dumps(card))
    measured = []
    monkeypatch.setattr(train.export, "finish", lambda path, dataset: measured.append(dataset))
    assert train.export.main(["--model", str(tmp_path / "tiny.keras"), "--data", str(data)]) == 0
    drawn = subsample(load_dataset(data), 9, 4)
    assert measured[0].description == drawn.description
    for split in ("train", "val", "test"):
        assert np.array_equal(measured[0].splits[split][0], drawn.splits[split][0])


def test_the_checkpoints_card_names_the_arguments_its_faces_were_drawn_by(tmp_path, fer_csv, monkeypatch):
    """A run stopped early leaves its best epoch with a card; the tools take --seed and --limit from a card's
    arguments (the faces held out of an image folder, the faces drawn), which the checkpoint's card lacked."""
    import train.__main__ as trainer

    def stopped(args, dataset, out, name, verbose):
        (out / "checkpoints" / f"{name}.best.keras").write_bytes(b"its first epoch")
        raise KeyboardInterrupt

    monkeypatch.setattr(trainer, "fit", stopped)
    assert trainer.main(["--data", str(fer_csv), "--out", str(tmp_path), "--epochs", "1", "--width", "4",
                         "--limit", "20", "--seed", "3"]) == 130
    arguments = json.loads((tmp_path / "checkpoints" / "fer2013.best.json").read_text())["training"]["arguments"]
    assert arguments["limit"] == 20 and arguments["seed"] == 3


def test_the_checkpoint_of_a_stopped_run_can_be_exported_as_the_trainer_says(tmp_path, tiny_model, fer_csv):
    """Stopped, the trainer says to make the best epoch's TFLite copy and report with train.export; its card, written
    from the data before training, has no parameters nor sizes, and the export stopped with "error: 'size_bytes'"
    (after writing the TFLite copy)."""
    checkpoint = tmp_path / "checkpoints" / "fer2013.best.keras"
    checkpoint.parent.mkdir()
    checkpoint.write_bytes(tiny_model.read_bytes())
    card = {"name": "fer2013", "labels": LABELS, "input": {"size": 48, "channels": 1, "dtype": "float32", "range": [0, 255]},
            "files": {"keras": checkpoint.name}, "training": {"arguments": {"seed": 0, "limit": None}}}
    checkpoint.with_suffix(".json").write_text(json.dumps(card))
    result = run_module("train.export", "--model", str(checkpoint), "--data", str(fer_csv))
    assert result.returncode == 0, result.stderr[-2000:]
    exported = json.loads(checkpoint.with_suffix(".json").read_text())
    assert exported["files"] == {"keras": checkpoint.name, "tflite": "fer2013.best.tflite"}
    assert exported["size_bytes"]["keras"] == checkpoint.stat().st_size and exported["parameters"] > 0
    assert "test_accuracy" in exported["metrics"]
    Classifier(checkpoint, backend="tflite")  # the program takes it


def test_the_trainer_leaves_out_unreadable_images_and_loose_ones_with_a_note(tmp_path, capsys):
    """One damaged photo among a folder's stopped the training run with an error (the program skips such photos);
    images put directly in train/, in no class folder, were left out unsaid."""
    import argparse

    import cv2

    from train.__main__ import load_data

    rng = np.random.default_rng(0)
    for label, name in enumerate(["angry", "happy"]):
        (tmp_path / "train" / name).mkdir(parents=True)
        for i in range(12):
            cv2.imwrite(str(tmp_path / "train" / name / f"{i}.png"), pattern_face(label, rng))
    (tmp_path / "train" / "happy" / "damaged.png").write_bytes(b"\x89PNG\r\n\x1a\n not an image")
    cv2.imwrite(str(tmp_path / "train" / "loose.png"), pattern_face(0, rng))
    args = argparse.Namespace(data=str(tmp_path), ferplus=None, init=None, seed=0, limit=None)
    dataset = load_data(args)
    assert sum(len(dataset.split(split)[0]) for split in ("train", "val", "test")) == 24
    said = capsys.readouterr().err
    assert "note: 1 image could not be read, left out: " in said and "damaged.png" in said
    assert "note: 1 image is directly in " in said and ", in no class folder, left out (such as loose.png" in said
    # The tools that score or export the model leave it out too (they stopped on it), holding out the same faces.
    tools = model_dataset({"training": {"arguments": {"seed": 0}}}, tmp_path)
    assert all(np.array_equal(tools.split(split)[0], dataset.split(split)[0]) for split in ("train", "val", "test"))
    assert "note: 1 image could not be read, left out: " in capsys.readouterr().err
