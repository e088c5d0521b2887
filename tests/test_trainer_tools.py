"""The trainer's tools: fine-tuning options, dataset inspection, TensorBoard logs and the hyperparameter search."""

from __future__ import annotations

import csv
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from realtime.classify import DEFAULT_MODEL
from tests.conftest import ROOT, assert_one_line_error, pattern_face, run_module, write_fer_csv
from train.__main__ import fit, load_data, parse_args
from train.duplicates import MIN_CORRELATION, NEAR_BITS, correlation, cross_split_warning, dhash, hamming, near_duplicates


def fit_tiny(data: Path, out: Path, *options: str):
    args = parse_args(["--data", str(data), "--epochs", "1", "--batch-size", "16", "--precision", "float32", *options])
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    return fit(args, load_data(args), out, "tiny", verbose=0)


def weights_of(model, prefix: str) -> list[np.ndarray]:
    return [w for layer in model.layers if layer.name.startswith(prefix) for w in layer.get_weights()]


# 1. Fine-tuning

def test_init_without_a_path_is_the_shipped_ferplus_model():
    assert parse_args(["--data", "x", "--init"]).init == str(DEFAULT_MODEL.parent / "ferplus.keras")
    assert parse_args(["--data", "x", "--init", "other.keras"]).init == "other.keras"
    assert parse_args(["--data", "x"]).init is None


def test_frozen_epochs_train_only_the_head(fer_csv, tiny_model, tmp_path):
    from realtime.classify import load_keras_model

    start = load_keras_model(tiny_model)
    frozen = fit_tiny(fer_csv, tmp_path / "a", "--init", str(tiny_model), "--freeze-epochs", "1").model
    for before, after in zip(weights_of(start, "block"), weights_of(frozen, "block")):
        np.testing.assert_array_equal(before, after)  # kernels and batch-norm statistics alike
    assert not np.array_equal(start.get_layer("logits").get_weights()[0], frozen.get_layer("logits").get_weights()[0])


def test_a_fine_tune_says_what_it_starts_from_and_what_each_phase_trains(fer_csv, tiny_model, tmp_path, capsys):
    """With --freeze-epochs 1 the log began with the first epoch's numbers, no 'Epoch 1/2' (Keras heads no phase of
    one epoch) and no word of the model it started from or of the body being frozen."""
    args = parse_args(["--data", str(fer_csv), "--epochs", "3", "--batch-size", "16", "--precision", "float32",
                       "--init", str(tiny_model), "--freeze-epochs", "1"])
    (tmp_path / "checkpoints").mkdir()
    fit(args, load_data(args), tmp_path, "tiny", verbose=2)
    said = [line for line in capsys.readouterr().out.splitlines() if not line.startswith(("1/", "2/", "Epoch"))]
    assert said[-3:] == [f"starting from {tiny_model}", "epoch 1 of 3: the head only, the body frozen",
                         "epochs 2-3 of 3: the whole network"], said


def test_freeze_then_unfreeze_with_tensorboard_logs(fer_csv, tiny_model, tmp_path):
    """Epoch 1 frozen, epoch 2 the whole network; TensorBoard gets both epochs' curves and confusion matrices."""
    from realtime.classify import load_keras_model
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util.tensor_util import make_ndarray

    logs = tmp_path / "tb"
    fitted = fit_tiny(fer_csv, tmp_path, "--init", str(tiny_model), "--freeze-epochs", "1", "--epochs", "2",
                      "--tensorboard", str(logs))
    start = load_keras_model(tiny_model)
    assert any(not np.array_equal(a, b) for a, b in zip(weights_of(start, "block"), weights_of(fitted.model, "block")))
    assert len(fitted.history["val_accuracy"]) == 2
    history = (tmp_path / "tiny_history.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in history] == ["epoch", "1", "2"]  # both phases, counted from 1

    events = {}
    for run in ("train", "validation"):
        accumulator = EventAccumulator(str(logs / run), size_guidance={"tensors": 0})
        accumulator.Reload()
        events[run] = {tag: accumulator.Tensors(tag) for tag in accumulator.Tags()["tensors"]}
    for tag in ("epoch_loss", "epoch_accuracy", "epoch_learning_rate"):
        assert [event.step for event in events["train"][tag]] == [0, 1], tag
    for tag in ("epoch_loss", "epoch_accuracy", "confusion_matrix"):
        assert [event.step for event in events["validation"][tag]] == [0, 1], tag
    rates = [float(make_ndarray(event.tensor_proto)) for event in events["train"]["epoch_learning_rate"]]
    assert rates[0] != rates[1]  # the schedule carried on after unfreezing instead of starting again
    png = make_ndarray(events["validation"]["confusion_matrix"][1].tensor_proto)[2]  # width, height, PNG bytes
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape[0] > 200 and image.shape[1] > 200


def test_fine_tuning_bad_options(fer_csv, tmp_path):
    assert_one_line_error(run_module("train", "--data", str(fer_csv), "--freeze-epochs", "1"),
                          "--freeze-epochs goes with --init")
    assert_one_line_error(run_module("train", "--data", str(fer_csv), "--init", "--epochs", "2", "--freeze-epochs", "3"),
                          "--freeze-epochs 3 is more than --epochs 2")
    assert_one_line_error(run_module("train", "--data", str(fer_csv), "--freeze-epochs", "-1"),
                          "argument --freeze-epochs: must be at least 0")
    assert_one_line_error(run_module("train", "--data", str(fer_csv), "--optimizer", "rmsprop"), "argument --optimizer")


# 2. Inspection and duplicates

def test_near_duplicates_match_a_brute_force_search():
    rng = np.random.default_rng(0)
    faces = np.array([pattern_face(i % 7, rng) for i in range(300)])
    faces[10] = faces[3]  # identical
    faces[20] = np.clip(faces[5].astype(int) + 6, 0, 255)  # brighter copy
    pairs = near_duplicates(faces)
    hashes = dhash(faces)
    i, j = np.triu_indices(len(faces), 1)
    all_pairs = np.stack([i, j], 1)
    close = hamming(hashes[i], hashes[j]) <= NEAR_BITS
    same = np.all(faces[i] == faces[j], axis=(1, 2))
    expected = all_pairs[close & (same | (correlation(faces, all_pairs) >= MIN_CORRELATION))]
    np.testing.assert_array_equal(pairs, expected)
    assert {(3, 10), (5, 20)} <= set(map(tuple, pairs))


@pytest.fixture
def messy_folder(tmp_path) -> Path:
    """An image folder with a face copied from train/ into test/, a re-lit copy in val/, a blank and a broken image."""
    rng = np.random.default_rng(3)
    root = tmp_path / "faces"
    for split, count in (("train", 12), ("val", 4), ("test", 4)):
        for label in ("happy", "sad"):
            folder = root / split / label
            folder.mkdir(parents=True)
            for k in range(count):
                face = cv2.resize(rng.integers(0, 256, (12, 12)).astype(np.uint8), (48, 48), interpolation=cv2.INTER_CUBIC)
                cv2.imwrite(str(folder / f"{k}.png"), face)
    train_face = cv2.imread(str(root / "train" / "happy" / "0.png"), cv2.IMREAD_GRAYSCALE)
    cv2.imwrite(str(root / "test" / "happy" / "copy.png"), train_face)
    cv2.imwrite(str(root / "val" / "sad" / "relit.png"), np.clip(train_face.astype(int) * 0.9 + 12, 0, 255).astype(np.uint8))
    cv2.imwrite(str(root / "train" / "sad" / "blank.png"), np.full((48, 48), 128, np.uint8))
    (root / "train" / "sad" / "broken.png").write_bytes(b"not a png")
    return root


def test_inspect_reports_duplicates_blank_and_unreadable_images(messy_folder, tmp_path):
    out = tmp_path / "report"
    result = run_module("train.inspect", "--data", str(messy_folder), "--out", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    report = (out / "report.md").read_text()
    assert report == result.stdout
    assert "| happy | 12 | 4 | 5 | 21 |" in report and "| **all** | 25 | 9 | 9 | 43 |" in report
    rows = {line.split(" | ")[0]: line for line in report.splitlines() if line.startswith("| identical") or line.startswith("| near")}
    assert rows["| identical"] == "| identical | 0 | 0 | 1 | 0 | 0 | 0 |"
    assert rows["| near"] == "| near | 0 | 1 | 0 | 0 | 1 | 0 |"  # the re-lit copy is also near the test copy
    assert "- 1 val faces are identical or near-identical to a training face" in report
    assert "- 1 test faces are identical or near-identical to a training face" in report
    assert "Blank (grey-level standard deviation under 3): 1; train " in report
    assert f"Unreadable: 1; {messy_folder / 'train' / 'sad' / 'broken.png'}" in report
    for name in ("class_distribution.png", "samples.png", "augmented.png", "duplicates.png"):
        image = cv2.imread(str(out / name))
        assert image is not None and min(image.shape[:2]) > 100, name


def test_inspect_pictures_a_csv_without_training_faces(tmp_path):
    """A CSV of PublicTest and PrivateTest rows alone (a test set to look at): --out stopped in a traceback, matplotlib
    refusing a picture of the training faces with no column."""
    data = tmp_path / "held_out.csv"
    write_fer_csv(data, {"PublicTest": 7, "PrivateTest": 7})
    out = tmp_path / "report"
    result = run_module("train.inspect", "--data", str(data), "--out", str(out))
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert "| **all** | 0 | 7 | 7 | 14 |" in result.stdout
    assert "No training faces: no pictures of them (samples, augmentation)." in result.stdout
    assert sorted(path.name for path in out.iterdir()) == ["class_distribution.png", "report.md"]


def test_augmented_grid_uses_the_trainers_augmentation(monkeypatch):
    import train.__main__
    from train.inspect import augmented

    made = []

    def fake(keras, seed):
        made.append(seed)
        return lambda x, training: x * 0 + 7 * training

    monkeypatch.setattr(train.__main__, "make_augmenter", fake)
    rows = augmented(np.full((2, 48, 48), 100, np.uint8), seed=5, draws=3)
    assert made == [5]
    assert len(rows) == 2 and [len(row) for row in rows] == [4, 4]
    assert rows[0][0].max() == 100 and all((face == 7).all() for face in rows[1][1:])


def test_trainer_warns_about_duplicates_across_splits(tmp_path):
    data = tmp_path / "fer.csv"
    write_fer_csv(data, {"Training": 14, "PublicTest": 7, "PrivateTest": 7})
    lines = data.read_text().splitlines()
    lines[-1] = lines[1].rsplit(",", 1)[0] + ",PrivateTest"  # a training face again in the test split
    data.write_text("\n".join(lines) + "\n")
    (tmp_path / "none.keras").write_bytes(b"not a model")  # (found, so the data is read; it cannot be started from)
    result = run_module("train", "--data", str(data), "--out", str(tmp_path / "m"), "--init", str(tmp_path / "none.keras"))
    assert "warning: 1 test faces are identical or near-identical to training faces" in result.stderr
    assert_one_line_error(result, "cannot start from")  # stops before training: the warning came first
    rng = np.random.default_rng(0)
    distinct = {split: np.array([pattern_face(k % 7, rng) for k in range(7)]) for split in ("train", "val", "test")}
    assert cross_split_warning(distinct) is None


def test_inspect_bad_input(tmp_path):
    assert_one_line_error(run_module("train.inspect", "--data", str(tmp_path / "missing")), "dataset not found")
    (tmp_path / "empty" / "train").mkdir(parents=True)
    assert_one_line_error(run_module("train.inspect", "--data", str(tmp_path / "empty")), "no class folders")
    if os.path.isdir("/proc"):  # takes no new folders, not even from root
        assert_one_line_error(run_module("train.inspect", "--data", str(tmp_path / "empty"), "--out", "/proc/report"),
                              "cannot write into /proc/report")


# 4. Hyperparameter search

def test_search_writes_trials_and_a_best_recipe_the_trainer_accepts(fer_csv, tmp_path):
    out = tmp_path / "search"
    result = run_module("train.search", "--data", str(fer_csv), "--trials", "2", "--epochs", "1", "--limit", "14",
                        "--widths", "4", "--batch-size", "16", "--out", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    with (out / "trials.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [row["trial"] for row in rows] == ["0", "1"]
    assert {row["optimizer"] for row in rows} <= {"adamw", "sgd-nesterov"}
    best = max(rows, key=lambda row: float(row["val_accuracy"]))
    command = (out / "best.txt").read_text().strip()
    assert command in result.stdout and command in (out / "trials.md").read_text()
    words = shlex.split(command)
    assert words[:3] == ["python", "-m", "train"]
    args = parse_args(words[3:])
    assert (args.optimizer, args.lr, args.width, args.weight_decay, args.label_smoothing) == (
        best["optimizer"], float(best["lr"]), int(best["width"]), float(best["weight_decay"]), float(best["label_smoothing"]))
    assert (args.epochs, args.limit, args.data) == (1, 14, str(fer_csv))


def test_a_trial_that_diverges_is_scored_0_and_the_search_goes_on(fer_csv, tmp_path):
    """The trainer ends a diverging training with an error; to a search that is one bad recipe, listed as such."""
    out = tmp_path / "search"
    first_diverges = ("import sys, train.search as search, train.__main__ as trainer\n"
                      "real, calls = search.fit, []\n"
                      "def fit(*args, **kwargs):\n"
                      "    calls.append(1)\n"
                      "    if len(calls) == 1: raise trainer.TrainingError('training diverged: the loss became NaN')\n"
                      "    return real(*args, **kwargs)\n"
                      "search.fit = fit\n"
                      "sys.exit(search.main(sys.argv[1:]))")
    result = subprocess.run([sys.executable, "-c", first_diverges, "--data", str(fer_csv), "--trials", "2", "--epochs", "1",
                             "--limit", "14", "--widths", "4", "--batch-size", "16", "--out", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "trial 0: training diverged: the loss became NaN; scored 0" in result.stdout
    with (out / "trials.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["trial"], row["best_epoch"], row["val_accuracy"]) for row in rows][0] == ("0", "diverged", "0.0")
    assert rows[1]["best_epoch"] == "1" and "(trial 1)" in result.stdout


def test_search_bad_input(tmp_path):
    assert_one_line_error(run_module("train.search", "--data", "x.csv", "--trials", "0"), "argument --trials: must be at least 1")
    assert_one_line_error(run_module("train.search", "--data", str(tmp_path / "missing.csv"), "--trials", "1",
                                     "--out", str(tmp_path / "s")), "dataset not found")
    write_fer_csv(tmp_path / "fer.csv", {"Training": 14, "PublicTest": 7, "PrivateTest": 7})
    (tmp_path / "afile").write_text("")
    assert_one_line_error(run_module("train.search", "--data", str(tmp_path / "fer.csv"), "--trials", "1", "--out",
                                     str(tmp_path / "afile")), "cannot write into")  # (was a traceback)
    assert_one_line_error(run_module("train.framing", "--model", "x.keras", "--data", str(tmp_path / "fer.csv"),
                                     "--faces", "-5"), "argument --faces: must be at least 20")  # (-5 measured all but 5)


def test_the_trainer_without_keras_says_which_install_brings_it(tmp_path, fer_csv):
    """The README's first command installs the program alone (no Keras, no TensorFlow): `python -m train` then ended
    in a traceback ('No module named keras'). It, train.export and train.inspect --out now say what to install."""
    import subprocess

    from tests.conftest import ROOT

    stub = tmp_path / "without" / "keras"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'keras'\")\n")
    env = {**os.environ, "PYTHONPATH": str(stub.parent)}
    env.pop("DISPLAY", None)
    for args in (["train", "--data", str(fer_csv), "--epochs", "1", "--out", str(tmp_path / "out")],
                 ["train.export", "--model", str(ROOT / "models" / "fer2013.keras"), "--data", str(fer_csv)],
                 ["train.inspect", "--data", str(fer_csv), "--out", str(tmp_path / "inspect")]):
        result = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                                timeout=300)
        assert_one_line_error(result, f"python -m {args[0]}")
        assert result.stderr.rstrip().endswith("needs Keras and TensorFlow, which the program's own install leaves "
                                               "out: pip install -e '.[train]'"), result.stderr
        assert result.returncode == 2


def test_optuna_is_in_the_train_extra():
    import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
    assert any(dep.startswith("optuna") for dep in pyproject["project"]["optional-dependencies"]["train"])


def test_a_split_without_faces_of_a_class_is_noted(tmp_path, capsys):
    for split, name, count in (("train", "happy", 6), ("train", "sad", 6), ("val", "happy", 2), ("test", "happy", 2),
                               ("test", "sad", 2)):
        (tmp_path / split / name).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            cv2.imwrite(str(tmp_path / split / name / f"{i}.png"), np.full((48, 48), 20 * i + 100 * (name == "sad"), np.uint8))
    dataset = load_data(parse_args(["--data", str(tmp_path)]))
    assert dataset.labels == ["happy", "sad"]
    said = capsys.readouterr().err
    assert "note: the val split has no faces of sad" in said and "test split" not in said


def test_gpu_data_parts_rebuild_the_dataset_row_for_row(tmp_path):
    """bench/gpu_data.py: FER2013 + FER+ packed in five parts for the GPU machine, and rebuilt there exactly."""
    from tests.test_data import FERPLUS_HEADER
    from tests.test_pipeline import load_bench
    from train.data import DatasetError, load_dataset, load_ferplus

    pack, unpack = (getattr(load_bench("gpu_data"), name) for name in ("pack", "unpack"))
    fer = tmp_path / "fer2013.csv.gz"
    write_fer_csv(fer, {"Training": 50, "PublicTest": 10, "PrivateTest": 10}, seed=4)
    votes = tmp_path / "fer2013new.csv"
    usages = ["Training"] * 50 + ["PublicTest"] * 10 + ["PrivateTest"] * 10
    counts = np.random.default_rng(4).multinomial(10, [0.3, 0.2, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0, 0], size=70)
    votes.write_text(FERPLUS_HEADER + "\n" + "".join(f"{u},fer{i}.png,{','.join(map(str, c))}\n"
                                                     for i, (u, c) in enumerate(zip(usages, counts))))
    parts = pack(fer, votes, tmp_path / "packed")
    assert [p.name for p in parts] == [f"fer2013.xz.{k}" for k in range(1, 6)] + ["fer2013new.csv"]
    parts[1].rename(tmp_path / "second")  # one part has not arrived yet
    with pytest.raises(DatasetError, match="not all there|do not make one whole"):
        unpack(tmp_path / "packed", tmp_path / "packed" / "data")
    (tmp_path / "second").rename(parts[1])
    rebuilt = unpack(tmp_path / "packed", tmp_path / "packed" / "data")
    original, copy = load_dataset(fer), load_dataset(rebuilt)
    for split in ("train", "val", "test"):
        for a, b in zip(original.split(split), copy.split(split)):
            assert np.array_equal(a, b)
    plus, plus_copy = load_ferplus(fer, votes), load_ferplus(rebuilt, rebuilt.parent / "fer2013new.csv")
    assert np.array_equal(plus.split("train")[1], plus_copy.split("train")[1])
    parts[0].write_bytes(parts[0].read_bytes()[:-5] + b"xxxxx")  # damaged on the way
    with pytest.raises(DatasetError):
        unpack(tmp_path / "packed", tmp_path / "other")


def test_gpu_train_script_trains_each_run_and_packs_its_files(tmp_path):
    """bench/gpu_train.sh as on the GPU machine (here on the CPU, JAX backend): the packed parts are rebuilt, each
    run of RUNS trains side by side, and each comes back as NAME.tar with its model, card, history and log."""
    import tarfile

    from tests.test_pipeline import load_bench

    fer = tmp_path / "fer2013.csv"
    write_fer_csv(fer, {"Training": 64, "PublicTest": 14, "PrivateTest": 14}, seed=5)
    load_bench("gpu_data").pack(fer, None, tmp_path / "gpu")
    env = {**os.environ, "GPU_DIR": str(tmp_path / "gpu"), "OUT": str(tmp_path / "out"), "PYTHON": sys.executable,
           "KERAS_BACKEND": "jax", "RUNS": "plain|--epochs 1 --width 4;mixed|--epochs 1 --width 4 --mixup 0.2"}
    result = subprocess.run(["bash", "bench/gpu_train.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    for name in ("plain", "mixed"):
        with tarfile.open(tmp_path / "out" / f"{name}.tar") as tar:
            assert sorted(tar.getnames()) == sorted([f"{name}.log", f"{name}.keras", f"{name}.json", f"{name}_history.csv"])
            card = json.load(tar.extractfile(f"{name}.json"))
        assert card["training"]["arguments"]["mixup"] == (0.2 if name == "mixed" else 0.0)
    assert result.stdout.count("the TFLite copy and the report need the tensorflow backend") == 2
    # The second round of docs/training.md's plan for the FER2013 target: a student taught by the shipped model and
    # the first round's (trained there, their cards without a crop)
    student = subprocess.run(["bash", "-c", 'RUNS="kd|--teacher models/fer2013.keras $(ls "$GPU_DIR"/models/*.keras | '
                              'tr \'\\n\' \' \') --epochs 1 --width 4" bash bench/gpu_train.sh'],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert student.returncode == 0, student.stdout[-2000:] + student.stderr[-2000:]
    with tarfile.open(tmp_path / "out" / "kd.tar") as tar:
        card = json.load(tar.extractfile("kd.json"))
    assert [Path(teacher).name for teacher in card["training"]["arguments"]["teacher"]] == [
        "fer2013.keras", "mixed.keras", "plain.keras"]


def test_program_crops_replace_training_faces_the_detector_finds(tmp_path):
    """bench/program_crops.py: a real Training face becomes the program's own crop of it (framed, detected,
    levelled, cut with the card's crop); faces it misses and every PublicTest/PrivateTest row stay as they are."""
    import matplotlib

    from realtime.align import align_faces
    from realtime.classify import Classifier
    from realtime.detect import FaceDetector
    from train.data import _read_fer_rows
    from train.framing import in_frame

    photo = cv2.imread(str(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"), cv2.IMREAD_GRAYSCALE)
    real = cv2.resize(photo[60:420, 60:420], (48, 48), interpolation=cv2.INTER_AREA)  # a loose crop around her face
    rng = np.random.default_rng(0)
    faces = [(3, real, "Training"), (0, pattern_face(0, rng), "Training"), (3, real, "PublicTest"),
             (5, pattern_face(5, rng), "PrivateTest")]
    source = tmp_path / "fer.csv"
    source.write_text("emotion,pixels,Usage\n" + "".join(f"{e},{' '.join(map(str, f.ravel()))},{u}\n" for e, f, u in faces))
    out = tmp_path / "crops.csv.gz"
    result = subprocess.run([sys.executable, "bench/program_crops.py", "--data", str(source), "--out", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "crops of 1 of 2 Training faces (1 not found" in result.stdout
    rows = list(_read_fer_rows(out))
    assert [(e, u) for _, e, _, u in rows] == [(e, u) for e, _, u in faces]
    classifier, frame = Classifier(DEFAULT_MODEL), in_frame(real)
    expected = classifier.card.levels.apply(align_faces(frame, FaceDetector("tiled").detect(frame)[:1], 48, classifier.crop))[0]
    assert np.array_equal(rows[0][2], expected) and not np.array_equal(rows[0][2], real)
    for (_, _, kept, _), (_, face, _) in zip(rows[1:], faces[1:]):
        assert np.array_equal(kept, face)
    missing = subprocess.run([sys.executable, "bench/program_crops.py", "--data", str(tmp_path / "none.csv"), "--out",
                              str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert_one_line_error(missing, "none.csv")
