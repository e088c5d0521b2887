"""Ensembles: a card naming models whose answers are averaged (the program's model for photos is one)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from realtime.card import ModelError
from realtime.classify import DEFAULT_MODEL, DEFAULT_PHOTO_MODEL, Classifier
from realtime.scene import background, paste_face
from tests.conftest import LABELS, ROOT, assert_one_line_error, pattern_face, run_module, write_fer_csv

PRIOR = [0.1, 0.02, 0.1, 0.3, 0.15, 0.13, 0.2]  # the members' training class shares


def faces(count: int = 12) -> np.ndarray:
    rng = np.random.default_rng(3)
    return np.stack([pattern_face(i % 7, rng) for i in range(count)])


@pytest.fixture
def members(tiny_model, tmp_path) -> Path:
    """Two different tiny models, `a` and `b`, side by side in one folder."""
    import keras

    from train.model import build_model, save_model

    shutil.copy(tiny_model, tmp_path / "a.keras")
    shutil.copy(tiny_model.with_suffix(".tflite"), tmp_path / "a.tflite")
    keras.utils.set_random_seed(1)
    save_model(build_model(len(LABELS), size=48, width=4), tmp_path / "b.keras", faces(64))
    for name in ("a", "b"):
        card = {"name": name, "labels": LABELS, "input": {"size": 48, "channels": 1}, "parameters": 1000,
                "class_prior": PRIOR}
        (tmp_path / f"{name}.json").write_text(json.dumps(card))
    return tmp_path


def write_ensemble(folder: Path, members, **extra) -> Path:
    path = folder / "ens.json"
    path.write_text(json.dumps({"name": "ens", "labels": LABELS, "input": {"size": 48, "channels": 1},
                                "class_prior": PRIOR, "members": members, **extra}))
    return path


@pytest.mark.parametrize("backend", ["tflite", "keras"])
def test_an_ensemble_answers_the_mean_of_its_members_corrected_once(members, backend):
    ensemble = Classifier(write_ensemble(members, ["a", "b"], prior_alpha=0.5), backend=backend)
    a, b = (Classifier(members / f"{m}.keras", backend=backend, prior_alpha=0) for m in ("a", "b"))
    batch = faces()
    assert not np.allclose(a.predict(batch), b.predict(batch), atol=1e-3)  # two different models
    mean = (a.predict(batch) + b.predict(batch)) / 2
    corrected = mean * np.array(PRIOR) ** -0.5
    expected = corrected / corrected.sum(1, keepdims=True)
    assert np.allclose(ensemble.predict(batch), expected, atol=1e-5)
    assert ensemble.labels == LABELS and ensemble.backend == backend and ensemble.path.name == "ens.json"


def test_a_broken_ensemble_is_refused_with_what_is_wrong(members, tiny_model):
    with pytest.raises(ModelError, match="member nosuch is not there"):
        Classifier(write_ensemble(members, ["a", "nosuch"]))
    other = json.loads((members / "b.json").read_text())
    (members / "b.json").write_text(json.dumps({**other, "labels": LABELS[::-1]}))
    with pytest.raises(ModelError, match="member b has the labels"):
        Classifier(write_ensemble(members, ["a", "b"]))
    (members / "b.json").write_text(json.dumps({**other, "members": ["a"]}))
    with pytest.raises(ModelError, match="itself an ensemble"):
        Classifier(write_ensemble(members, ["a", "b"]))
    with pytest.raises(ModelError, match="itself an ensemble"):  # no endless loop through its own card
        Classifier(write_ensemble(members, ["a", "ens"]))
    for bad in (["../a"], ["a/b"], "a", [".hidden"], [3]):
        with pytest.raises(ModelError, match="members that are not names"):
            Classifier(write_ensemble(members, bad))


def test_the_trainer_makes_an_ensemble_card_and_scores_it(members, tmp_path):
    data = tmp_path / "fer2013.csv"
    write_fer_csv(data, {"Training": 14, "PublicTest": 7, "PrivateTest": 7})
    result = run_module("train.ensemble", "--members", str(members / "a.keras"), str(members / "b.keras"),
                        "--name", "ab", "--data", str(data), "--prior-alpha", "0.2", "--temperature", "0.6")
    assert result.returncode == 0, result.stderr[-2000:]
    card = json.loads((members / "ab.json").read_text())
    assert card["members"] == ["a", "b"] and card["labels"] == LABELS and card["prior_alpha"] == 0.2
    assert card["temperature"] == 0.6 and Classifier(members / "ab.json").temperature == 0.6
    assert card["parameters"] == 2000 and "sha256" not in card
    assert 0 <= card["metrics"]["test_accuracy"] <= 1 and set(card["metrics"]["test_per_class_f1"]) == set(LABELS)
    assert (members / "ab_report.txt").exists() and (members / "ab_confusion.png").exists()
    assert Classifier(members / "ab.json").predict(faces(3)).shape == (3, 7)
    # A dataset whose classes the members lack: one error line, and no card left behind.
    write_fer_csv(data, {"Training": 16, "PublicTest": 8, "PrivateTest": 8}, labels=8)
    result = run_module("train.ensemble", "--members", str(members / "a.keras"), str(members / "b.keras"),
                        "--name", "ab8", "--data", str(data), "--ferplus", str(ROOT / "nosuch.csv"))
    assert_one_line_error(result, "nosuch.csv")
    assert not (members / "ab8.json").exists()
    result = run_module("train.ensemble", "--members", str(members / "a.keras"), "--name", "solo", "--data", str(data))
    assert_one_line_error(result, "at least two members")
    (members / "other.json").write_text('{"a": "card of another model"}')  # a model's card is kept (was overwritten)
    result = run_module("train.ensemble", "--members", str(members / "a.keras"), str(members / "b.keras"),
                        "--name", "other", "--data", str(data))
    assert_one_line_error(result, "other.json exists: choose another --name, or pass --overwrite")
    assert (members / "other.json").read_text() == '{"a": "card of another model"}'


def test_an_ensemble_of_models_trained_on_a_folder_is_scored_on_the_faces_its_members_held_out(members, tmp_path,
                                                                                             monkeypatch):
    """An image folder with train/ only: its val and test faces are held out by the members' --seed. The ensemble
    was scored on those of seed 0 (faces the members, trained with --seed 3, had trained on), and train.evaluate
    then held out seed 0's too; members of different seeds held out different faces, and are refused."""
    import cv2

    from train import ensemble, export
    from train.data import load_dataset, model_dataset

    rng = np.random.default_rng(0)
    for label, name in enumerate(LABELS):
        (tmp_path / "faces" / "train" / name).mkdir(parents=True)
        for i in range(10):
            cv2.imwrite(str(tmp_path / "faces" / "train" / name / f"{i}.png"), pattern_face(label, rng))
    for name in ("a", "b"):
        card = json.loads((members / f"{name}.json").read_text())
        (members / f"{name}.json").write_text(json.dumps({**card, "training": {"arguments": {"seed": 3}}}))
    scored = []
    monkeypatch.setattr(export, "measure", lambda classifier, dataset, *rest: scored.append(dataset) or {})
    assert ensemble.main(["--members", str(members / "a.keras"), str(members / "b.keras"), "--name", "ab",
                          "--data", str(tmp_path / "faces")]) == 0
    held = load_dataset(tmp_path / "faces", seed=3)  # as the members' trainer held them out
    trained = {face.tobytes() for face in held.split("train")[0]}
    for split in ("val", "test"):
        assert np.array_equal(scored[0].split(split)[0], held.split(split)[0])
        assert not trained & {face.tobytes() for face in scored[0].split(split)[0]}
    assert not np.array_equal(load_dataset(tmp_path / "faces", seed=0).split("test")[0], held.split("test")[0])
    card = json.loads((members / "ab.json").read_text())  # train.evaluate holds out the same faces later
    assert np.array_equal(model_dataset(card, tmp_path / "faces").split("test")[0], held.split("test")[0])

    card = json.loads((members / "b.json").read_text())
    (members / "b.json").write_text(json.dumps({**card, "training": {"arguments": {"seed": 0}}}))
    result = run_module("train.ensemble", "--members", str(members / "a.keras"), str(members / "b.keras"),
                        "--name", "ab0", "--data", str(tmp_path / "faces"))
    assert_one_line_error(result, "the members held out different faces of")
    assert "(--seed: a 3, b 0)" in result.stderr and not (members / "ab0.json").exists()
    for split in ("val", "test"):  # a folder with its own val/ and test/ holds out nothing by seed
        shutil.copytree(tmp_path / "faces" / "train", tmp_path / "faces" / split)
    assert ensemble.main(["--members", str(members / "a.keras"), str(members / "b.keras"), "--name", "ab0",
                          "--data", str(tmp_path / "faces")]) == 0


def test_a_model_named_after_its_image_folder_with_a_space_in_it_can_be_a_member(members, tmp_path):
    """The trainer names a model after its folder (`my faces/` -> `my faces.keras`); an ensemble of it was refused
    with "model card ens.json has members that are not names of models in its folder"."""
    for end in (".keras", ".tflite", ".json"):
        shutil.copy(members / f"a{end}", members / f"my faces é{end}")
    data = tmp_path / "fer2013.csv"
    write_fer_csv(data, {"Training": 14, "PublicTest": 7, "PrivateTest": 7})
    result = run_module("train.ensemble", "--members", str(members / "my faces é.keras"), str(members / "b.keras"),
                        "--name", "ens", "--data", str(data))
    assert result.returncode == 0, result.stderr[-2000:]
    ensemble = Classifier(members / "ens.json")
    assert ensemble.card.members == ["my faces é", "b"] and ensemble.predict(faces(3)).shape == (3, 7)
    for bad in (["../a"], ["a/b"], ["a\\b"], ["a\x00"], [""], [" /a"]):  # still no paths
        with pytest.raises(ModelError, match="members that are not names"):
            Classifier(write_ensemble(members, bad))


def test_exporting_an_ensemble_or_a_card_without_its_model_is_a_one_line_error(members, tmp_path):
    """Both ended in a traceback (FileNotFoundError: ens.keras), for a card that holds its parameters, as
    train.ensemble writes it."""
    data = tmp_path / "fer2013.csv"
    write_fer_csv(data, {"Training": 14, "PublicTest": 7, "PrivateTest": 7})
    ensemble = write_ensemble(members, ["a", "b"], parameters=2000)
    result = run_module("train.export", "--model", str(ensemble), "--data", str(data))
    assert_one_line_error(result, "ens.json is an ensemble of a, b, with no network of its own: export its members")
    (members / "a.keras").unlink()
    result = run_module("train.export", "--model", str(members / "a.keras"), "--data", str(data))
    assert_one_line_error(result, f"model not found: {members / 'a.keras'}")


def test_photos_get_the_shipped_ensemble_and_video_one_of_its_members():
    card = json.loads(DEFAULT_PHOTO_MODEL.read_text())
    assert card["members"] == ["ferplus", "ferplus_a", "ferplus_bal"] and DEFAULT_MODEL.stem == "ferplus_a"
    photo, video = Classifier(DEFAULT_PHOTO_MODEL), Classifier(DEFAULT_MODEL)
    assert photo.labels == video.labels  # and they frame faces alike (crops measured apart, on other samples)
    assert abs(photo.crop.scale - video.crop.scale) < 0.005 and abs(photo.crop.shift - video.crop.shift) < 0.005
    assert 0.75 < card["metrics"]["test_accuracy"] <= 1


def test_the_program_labels_photos_with_the_ensemble_and_video_with_one_model(tmp_path):
    import cv2

    frame = background(320, 320, seed=2)
    paste_face(frame, 200, (160, 170))
    cv2.imwrite(str(tmp_path / "face.jpg"), frame)
    photo = run_module("realtime", "--source", str(tmp_path / "face.jpg"), "--no-display", "--benchmark")
    assert photo.returncode == 0, photo.stderr[-2000:]
    assert f"model: {DEFAULT_PHOTO_MODEL.name} (tflite)" in photo.stdout
    video = run_module("realtime", "--source", "demo:1", "--max-frames", "3", "--no-display", "--benchmark")
    assert video.returncode == 0, video.stderr[-2000:]
    assert f"model: {DEFAULT_MODEL.stem}.tflite (tflite, each face mirrored every other frame)" in video.stdout
    for options, says in ((["--model", "ferplus_ens"], "model: ferplus_ens.json (tflite, its 3 members in turn)"),
                          (["--model", "ferplus_ens", "--no-smooth"], "model: ferplus_ens.json (tflite)\n")):
        video = run_module("realtime", "--source", "demo:1", "--max-frames", "3", "--no-display", "--benchmark", *options)
        assert video.returncode == 0 and says in video.stdout, video.stdout  # no average over frames: no turns
    chosen = run_module("realtime", "--source", str(tmp_path / "face.jpg"), "--model", "ferplus", "--no-display",
                        "--benchmark")
    assert "model: ferplus.tflite (tflite)" in chosen.stdout  # --model is what it says, for photos too


def test_the_trainer_says_an_ensemble_has_no_network_to_start_from_or_learn_from(members, tmp_path):
    ensemble = write_ensemble(members, ["a", "b"])
    data = tmp_path / "fer2013.csv"
    write_fer_csv(data, {"Training": 14, "PublicTest": 7, "PrivateTest": 7})
    for option in ("--init", "--teacher"):
        result = run_module("train", "--data", str(data), option, str(ensemble), "--epochs", "1", "--out",
                            str(tmp_path / "out"))
        assert_one_line_error(result, "is an ensemble of a, b, with no network of its own: name its members")


def two_faces() -> tuple[np.ndarray, list]:
    from realtime.faces import Face

    frame = background(640, 480, seed=4)
    for x in (160, 470):
        paste_face(frame, 150, (x, 240))
    return frame, [Face(np.array([x - 70.0, 170.0, x + 70.0, 310.0]), 1.0, np.array([[x - 30.0, 215.0], [x + 30.0, 215.0]]))
                   for x in (160, 470)]


def test_video_asks_the_members_one_a_frame_in_turn_then_mirrored_and_corrects_each_answer(members):
    from realtime.detect import FaceDetector
    from realtime.pipeline import Pipeline

    ensemble = Classifier(write_ensemble(members, ["a", "b"], prior_alpha=0.5, temperature=0.7))
    single = {m: Classifier(members / f"{m}.keras", prior_alpha=0) for m in ("a", "b")}
    calls = []
    for name, member in zip("ab", ensemble._run.members):
        run = member._run
        member._run = lambda batch, name=name, run=run: calls.append(name) or run(batch)
    frame, faces = two_faces()
    video = Pipeline(FaceDetector("full"), ensemble, by_turns=True)
    crops = video.label(frame, faces).crops  # turn 0: member a, plain
    for turn, (name, mirrored) in enumerate([("b", False), ("a", True), ("b", True), ("a", False)], start=1):
        answer = single[name].predict(crops[:, :, ::-1] if mirrored else crops) * np.array(PRIOR) ** -0.5
        expected = ensemble.calibrate(answer / answer.sum(1, keepdims=True))
        assert np.allclose(video.label(frame, faces).probabilities, expected, atol=1e-5), turn
    assert calls == list("ababa")  # one member a frame, each in its turn
    calls.clear()
    everyone = Pipeline(FaceDetector("full"), ensemble).label(frame, faces).probabilities
    assert sorted(calls) == ["a", "b"]  # without turns, every member answers every frame
    assert not np.allclose(everyone, video.label(frame, faces).probabilities, atol=1e-3)
