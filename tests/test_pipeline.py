"""The shared per-frame pipeline: close-ups found, the card's crop applied, several views in one call,
the framing measured on training faces, fine-tuning from a trained model, the pipeline benchmark."""

from __future__ import annotations

import csv
import json
import re
import math
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import cv2
import numpy as np
import pytest

from realtime.align import Crop, align_face
from realtime.card import ModelError
from realtime.classify import DEFAULT_PHOTO_MODEL, Classifier
from realtime.detect import FaceDetector
from realtime.faces import Face, overlap
from realtime.pipeline import VIEW_SCALES, Pipeline
from realtime.scene import background, face_sprite, paste_face
from tests.conftest import ROOT, SHARED_DATA, assert_one_line_error, run_module


def close_up(size: int = 320, fill: float = 1.0) -> np.ndarray:
    """A face that fills the picture, as in a portrait photo or a webcam held close."""
    frame = background(size, size, seed=3)
    paste_face(frame, size * fill, (size / 2, size * 0.55))
    return frame


@pytest.mark.parametrize("mode", ["full", "tiled", "sweep"])
@pytest.mark.parametrize("fill", [1.0, 1.1])
def test_a_face_filling_the_frame_is_found(mode, fill):
    frame = close_up(fill=fill)
    detector = FaceDetector(mode)
    # The full-range model alone boxes only part of this face (fill 1.0) or misses it (1.1).
    alone = detector.main.find(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    assert all(face.width < 0.5 * frame.shape[1] for face in alone)
    (face,) = detector.detect(frame)
    assert face.width > 0.75 * frame.shape[1]


def test_a_tight_face_crop_small_in_a_large_picture_is_found():
    # A face cut off at the crop's edges, 140 px wide in 1920x1080: in each 320 px tile it is too large
    # for the full-range model and in the whole frame too small for the short-range one.
    face = cv2.resize(close_up(320, 1.5), (140, 140), interpolation=cv2.INTER_AREA)
    frame = np.full((1080, 1920, 3), 200, np.uint8)
    frame[300:440, 900:1040] = face
    (found,) = FaceDetector("tiled").detect(frame)
    assert 880 < (found.box[0] + found.box[2]) / 2 < 1060 and 280 < (found.box[1] + found.box[3]) / 2 < 460


def test_crop_comes_from_the_card_and_moves_the_square():
    assert Crop.from_card({"crop": {"scale": 1.1, "shift": -0.05}}) == Crop(1.1, -0.05)
    assert Crop.from_card({}) == Crop(1.25, 0.0)  # a card from before the crop entry keeps the old framing
    ramp = np.repeat(np.linspace(0, 255, 400)[:, None], 400, axis=1).astype(np.uint8)  # brighter downwards
    face = Face(np.array([150.0, 150.0, 250.0, 250.0]), 1.0, np.array([[175.0, 180.0], [225.0, 180.0]]))
    centred, lower = align_face(ramp, face, crop=Crop(1.0, 0.0)), align_face(ramp, face, crop=Crop(1.0, 0.3))
    assert lower.mean() - centred.mean() == pytest.approx(0.3 * 100 * 255 / 400, abs=3)
    wide = align_face(ramp, face, crop=Crop(2.0, 0.0))
    assert np.ptp(wide.astype(int)) == pytest.approx(2 * np.ptp(centred.astype(int)), rel=0.1)


def test_crops_too_dark_or_too_flat_are_brought_into_the_training_levels():
    from realtime.align import Levels

    levels = Levels.from_card({"levels": {"mean": [74.0, 184.0], "std": [33.0, 77.0]}})
    rng = np.random.default_rng(0)
    normal = np.clip(rng.normal(128, 50, (2, 48, 48)), 0, 255).astype(np.uint8)
    dark = (normal * 0.3).astype(np.uint8)
    flat = (100 + normal * 0.1).astype(np.uint8)
    out = levels.apply(np.concatenate([normal, dark, flat]))
    assert np.array_equal(out[:2], normal)  # inside the range: untouched
    for moved, before in zip(out[2:], np.concatenate([dark, flat])):
        assert moved.mean() == pytest.approx(max(74.0, before.mean()), abs=1)
        assert moved.std() == pytest.approx(33.0, abs=1)
        assert np.corrcoef(moved.ravel(), before.ravel())[0, 1] > 0.99  # the same picture, only stretched
    assert Levels.from_card({}).apply(dark) is dark  # a card without levels changes nothing


def test_the_pipeline_brings_a_dark_face_into_the_training_levels(tiny_model, tmp_path):
    model = tmp_path / "m.keras"
    for suffix in (".keras", ".tflite"):
        shutil.copy(tiny_model.with_suffix(suffix), model.with_suffix(suffix))
    card = json.loads(tiny_model.with_suffix(".json").read_text())
    card["levels"] = {"mean": [74.0, 184.0], "std": [33.0, 77.0]}
    model.with_suffix(".json").write_text(json.dumps(card))
    frame = (close_up(300) * 0.3).astype(np.uint8)
    faces = FaceDetector("tiled").detect(frame)
    plain = Pipeline(FaceDetector("full"), Classifier(tiny_model)).label(frame, faces).crops
    levelled = Pipeline(FaceDetector("full"), Classifier(model)).label(frame, faces).crops
    assert plain[0].mean() < 60 and levelled[0].mean() == pytest.approx(74, abs=1)


def test_views_are_averaged_in_one_model_call(tiny_model):
    classifier = Classifier(tiny_model)
    calls = []
    run = classifier._run
    classifier._run = lambda batch: calls.append(len(batch)) or run(batch)
    frame = background(640, 480)
    faces = [Face(np.array([x, 150.0, x + 120, 270.0]), 1.0, np.array([[x + 35, 190.0], [x + 85, 190.0]]))
             for x in (100.0, 400.0)]
    result = Pipeline(FaceDetector("full"), classifier, Crop(1.1, -0.05), views=True).label(frame, faces)
    assert calls == [2 * 2 * len(VIEW_SCALES)]  # 2 faces x 3 crop sizes x mirrored, one batched call
    expected = np.mean([classifier.predict(np.stack([align_face(frame, f, 48, Crop(1.1 * k, -0.05)) for f in faces])[:, :, ::m])
                        for k in VIEW_SCALES for m in (1, -1)], axis=0)
    assert np.allclose(result.probabilities, expected, atol=1e-5)
    assert result.crops.shape == (2, 48, 48) and set(result.times) == {"align", "classify"}


def test_video_by_turns_shows_a_single_model_the_crop_plain_then_mirrored():
    classifier = Classifier("ferplus_a")
    frame = background(640, 480)
    paste_face(frame, 150, (260, 220))
    faces = FaceDetector("full").detect(frame)
    video = Pipeline(FaceDetector("full"), classifier, by_turns=True)
    crops = Pipeline(FaceDetector("full"), classifier).label(frame, faces).crops
    plain, mirrored = (classifier.calibrate(classifier.predict(c)) for c in (crops, crops[:, :, ::-1]))
    assert not np.allclose(plain, mirrored, atol=1e-4)
    for expected in (plain, mirrored, plain, mirrored):
        assert np.allclose(video.label(frame, faces).probabilities, expected, atol=1e-5)


def test_framing_is_measured_on_training_faces_and_written_to_the_card(tiny_model, tmp_path):
    # Training faces: the same face framed loosely (the crop must then be wider than the detector's box).
    frame = background(400, 400, seed=5)
    paste_face(frame, 150, (200, 210))
    rng = np.random.default_rng(0)
    folder = tmp_path / "faces" / "train" / "happy"
    folder.mkdir(parents=True)
    for i in range(24):
        x, y = 200 + rng.uniform(-6, 6), 205 + rng.uniform(-6, 6)
        face = cv2.cvtColor(frame[int(y) - 130:int(y) + 130, int(x) - 130:int(x) + 130], cv2.COLOR_BGR2GRAY)
        cv2.imwrite(str(folder / f"{i}.png"), cv2.resize(face, (48, 48), interpolation=cv2.INTER_AREA))
    model = tmp_path / "m.keras"
    for suffix in (".keras", ".tflite", ".json"):
        shutil.copy(tiny_model.with_suffix(suffix), model.with_suffix(suffix))
    result = run_module("train.framing", "--model", str(model), "--data", str(tmp_path / "faces"), "--faces", "24")
    assert result.returncode == 0, result.stderr[-2000:]
    crop = json.loads(model.with_suffix(".json").read_text())["crop"]
    assert crop["scale"] == pytest.approx(260 / 150, rel=0.2)  # the training crop is 260 px around a ~150 px box
    assert Classifier(model).crop == Crop(crop["scale"], crop["shift"])


def test_framing_is_measured_on_the_faces_the_model_trained_on_not_those_it_held_out(tiny_model, tmp_path,
                                                                                     monkeypatch):
    """An image folder with train/ only, a model trained with --seed 3: train.framing measured the training faces of
    seed 0, among them faces the model held out for val and test."""
    from tests.conftest import pattern_face
    from train import framing
    from train.data import load_dataset

    rng = np.random.default_rng(0)
    for label, name in enumerate(["angry", "happy"]):
        (tmp_path / "faces" / "train" / name).mkdir(parents=True)
        for i in range(20):
            cv2.imwrite(str(tmp_path / "faces" / "train" / name / f"{i}.png"), pattern_face(label, rng))
    model = tmp_path / "m.keras"
    for suffix in (".keras", ".tflite"):
        shutil.copy(tiny_model.with_suffix(suffix), model.with_suffix(suffix))
    card = json.loads(tiny_model.with_suffix(".json").read_text())
    model.with_suffix(".json").write_text(json.dumps({**card, "training": {"arguments": {"seed": 3}}}))
    measured = []
    monkeypatch.setattr(framing, "crop_for", lambda faces, count: measured.append(faces))  # (None: too few found)
    assert framing.main(["--model", str(model), "--data", str(tmp_path / "faces"), "--dry-run"]) == 2
    trained = load_dataset(tmp_path / "faces", seed=3).split("train")[0]
    assert np.array_equal(measured[0], trained)
    assert not np.array_equal(load_dataset(tmp_path / "faces", seed=0).split("train")[0], trained)


def test_faces_framed_looser_than_any_crop_get_the_nearest_crop_and_a_warning(capsys):
    from realtime.card import CROP_SCALES
    from train.framing import crop_for

    faces = []
    for seed in range(12):  # the face's box is about a quarter of the image's side
        image = background(192, 192, seed=seed)
        paste_face(image, 52, (96, 100))
        faces.append(cv2.resize(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), (48, 48), interpolation=cv2.INTER_AREA))
    crop = crop_for(np.stack(faces), 12)
    assert crop["spread"]["scale"]["median"] > CROP_SCALES[1] and crop["scale"] == CROP_SCALES[1]
    assert "outside what the program crops" in crop["measured"]
    assert "framed unlike any crop the program makes" in capsys.readouterr().err


def test_fine_tuning_starts_from_the_trained_model(tiny_model):
    from train.data import FERPLUS_LABELS
    from train.model import init_from

    import keras

    from realtime.classify import read_card

    saved_labels = read_card(tiny_model)["labels"]

    original = keras.models.load_model(tiny_model, compile=False)
    model = init_from(tiny_model, FERPLUS_LABELS)
    assert model.output_shape[-1] == len(FERPLUS_LABELS)
    assert np.allclose(model.get_layer("block2_conv1").get_weights()[0], original.get_layer("block2_conv1").get_weights()[0])
    kernel, bias = model.get_layer("logits").get_weights()
    old_kernel, _ = original.get_layer("logits").get_weights()
    for i, name in enumerate(FERPLUS_LABELS):
        if name in saved_labels:
            assert np.allclose(kernel[:, i], old_kernel[:, saved_labels.index(name)], atol=1e-3)
    assert not np.allclose(kernel[:, FERPLUS_LABELS.index("contempt")], 0)  # a new, trainable column


def test_pipeline_benchmark_scores_labelled_photos(tmp_path):
    photos = tmp_path / "photos"
    (photos / "images").mkdir(parents=True)
    rows = []
    for i, label in enumerate(["happy", "neutral", "sad"]):
        frame = close_up(280 + 40 * i) if i < 2 else background(300, 300)  # the third photo has no face
        cv2.imwrite(str(photos / "images" / f"{i}.jpg"), frame)
        rows.append({"path": f"images/{i}.jpg", "label": label})
    with open(photos / "labels.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, ["path", "label"])
        writer.writeheader()
        writer.writerows(rows)
    result = subprocess.run([sys.executable, "bench/pipeline_accuracy.py", "--wild", str(photos), "--fer2013", "",
                             "--no-fer", "--views", "1", "6", "--conditions", "as-is", "grey", "small-in-frame",
                             "--temperature", "1", str(Classifier(DEFAULT_PHOTO_MODEL).temperature)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    crop = Classifier(DEFAULT_PHOTO_MODEL).crop  # the benchmark scores the program's model for photos
    lines = [line for line in result.stdout.splitlines() if f"{DEFAULT_PHOTO_MODEL.stem} {crop.scale:g}/{crop.shift:+g}" in line]
    titles = [line for line in result.stdout.splitlines() if line.startswith("== wild-faces")]
    assert [t.split(":")[0] for t in titles] == [f"== wild-faces ({photos})", f"== wild-faces ({photos}), grey",
                                                 f"== wild-faces ({photos}), small-in-frame"]
    rows = [line for line in lines if " minus " not in line and "calibration error" not in line]
    assert len(rows) == 6  # one row per number of views, per photo condition
    swept = [line for line in lines if "calibration error at temperature" in line]
    assert len(swept) == 6
    for line, sweep in zip(rows, swept):
        accuracy, interval, _, calibration, no_face = line.split()[3:8]
        low, high = (float(v) for v in interval.rstrip("%").split("-"))
        assert no_face == "1" and accuracy in {"0.0%", "33.3%", "66.7%"} and low <= float(accuracy[:-1]) <= high
        # At the card's own temperature the sweep gives the column's figure (the answers re-sharpened, not re-run)
        at_one, at_card = (float(part.split(": ")[1]) for part in sweep.split("temperature ")[1].split("  "))
        assert 0 <= at_one <= 1 and 0 <= float(calibration) <= 1 and at_card == pytest.approx(float(calibration), abs=1e-3)
    compared = [line for line in lines if " minus " in line]  # 6 views against 1, photo by photo, per condition
    shown = f"{DEFAULT_PHOTO_MODEL.stem} {crop.scale:g}/{crop.shift:+g}"
    assert len(compared) == 3 and all(line.split(":")[0].strip() == f"{shown} x6 minus {shown} x1" for line in compared)


@pytest.mark.parametrize("views", [False, True])
def test_a_frame_without_faces_gives_empty_results(tiny_model, views):
    result = Pipeline(FaceDetector("full"), Classifier(tiny_model), views=views).process(background(320, 240))
    assert result.faces == [] and result.probabilities.shape == (0, 7) and result.crops.shape == (0, 48, 48)


def test_the_python_api_answers_as_the_program_does_for_a_photo(tmp_path):
    import io

    from realtime.capture import SourceError
    from realtime.photos import DamagedImageWarning, PhotoLabeller

    frame = background(640, 480, seed=1)
    paste_face(frame, 120, (470, 200))
    paste_face(frame, 220, (200, 260), flip=True)
    photo = tmp_path / "two faces.jpg"
    cv2.imwrite(str(photo), frame)
    ran = run_module("realtime", "--source", str(photo), "--no-display", "--json", str(tmp_path / "r.jsonl"))
    assert ran.returncode == 0, ran.stderr[-2000:]
    (record,) = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    with PhotoLabeller() as labeller:
        faces = labeller.label(photo)
        assert len(faces) == len(record["faces"]) == 2
        assert faces[0].box[2] - faces[0].box[0] > 1.5 * (faces[1].box[2] - faces[1].box[0])  # the largest first
        for face, shown in zip(faces, record["faces"]):
            assert face.box == tuple(shown["box"]) and face.score == shown["score"] and face.label == shown["label"]
            assert face.probabilities == pytest.approx(shown["probabilities"], abs=1e-4)
            assert list(face.probabilities) == labeller.labels and face.probability == max(face.probabilities.values())
        decoded = cv2.imread(str(photo))
        assert labeller.label(decoded) == faces  # an image in memory, as OpenCV holds it
        from PIL import Image

        rgb = Image.fromarray(decoded[:, :, ::-1])  # a PIL image, as it is, in RGB and as a palette picture: its
        assert labeller.label(rgb) == faces  # channels were taken for BGR, and a palette's indices for grey levels
        assert [f.label for f in labeller.label(rgb.convert("P", palette=Image.ADAPTIVE))] == [f.label for f in faces]
        assert labeller.label(os.fsencode(photo)) == faces  # a path as the OS gives it, in bytes
        with pytest.raises(ValueError, match="path is empty"):
            labeller.label("")
        with pytest.raises(ValueError, match="uint8"):  # 16 bits a band: convert("RGB") clips it, so it is refused
            labeller.label(Image.fromarray(np.full((64, 64), 40000, np.uint16)))
        with pytest.raises(ValueError, match="give a 16-bit picture's path"):  # as OpenCV reads one (it read as such)
            labeller.label(np.full((64, 64, 3), 40000, np.uint16))
        for other in (cv2.cvtColor(decoded, cv2.COLOR_BGR2GRAY), cv2.cvtColor(decoded, cv2.COLOR_BGR2BGRA)):
            found = labeller.label(other)
            assert np.abs(np.array([f.box for f in found]) - [f.box for f in faces]).max() < 8
        assert labeller.label(background(160, 120)) == []
        grey = cv2.cvtColor(decoded, cv2.COLOR_BGR2GRAY)  # printed in black dots, as a 1-bit scan is: read as tones
        dots = np.where(grey > np.random.default_rng(0).integers(0, 256, grey.shape), 255, 0).astype(np.uint8)
        cv2.imwrite(str(tmp_path / "dots.png"), dots)
        assert len(labeller.label(dots)) == len(labeller.label(tmp_path / "dots.png")) == 2
        with pytest.raises(SourceError, match="no such file"):
            labeller.label(tmp_path / "missing.jpg")
        (tmp_path / "notes.jpg").write_text("not a picture")
        with pytest.raises(SourceError, match="cannot read image"):
            labeller.label(tmp_path / "notes.jpg")
        # A picture's bytes (an upload, a blob) were taken for a path: a "no such file" of 16 KB of binary
        assert labeller.label(photo.read_bytes()) == faces
        assert labeller.label(bytearray(photo.read_bytes())) == labeller.label(memoryview(photo.read_bytes())) == faces
        assert labeller.label(memoryview(decoded)) == labeller.label(decoded)  # an array's view: that array
        with pytest.raises(ValueError, match="path is empty"):
            labeller.label(b"")  # (as "" does)
        with pytest.raises(SourceError, match=r"^no such file, and not a picture's bytes: 'hello world'"):
            labeller.label(b"hello world")  # (bytes are a path unless a picture's: "no such file: hello world")
        with pytest.raises(ValueError, match="label one image at a time: 2 paths were given in a list"):
            labeller.label([photo, photo])  # ("not <U9 (2,)")
        (tmp_path / "clip.mp4").write_bytes(b"\0\0\0\x18ftypmp42" + bytes(64))
        with pytest.raises(SourceError, match=r"cannot read image .*clip.mp4: it is a video, for VideoLabeller$"):
            labeller.label(tmp_path / "clip.mp4")
        with pytest.raises(SourceError, match=r"^cannot read image the picture's bytes \(11 bytes\)"):
            labeller.label(b"\x89PNG\r\n\x1a\nnot")
        for wrong in (None, io.BytesIO(photo.read_bytes())):  # ("not object ()")
            with pytest.raises(ValueError, match=f"cannot label a {type(wrong).__name__}: give a file's path"):
                labeller.label(wrong)
        assert len({*faces, *labeller.label(photo)}) == len(faces)  # faces can be hashed (a set, a dict's keys: it raised)
        with pytest.raises(SourceError, match=r"give the file's path, without file://"):  # (as the program says)
            labeller.label(f"file://{photo}")
        with pytest.raises(SourceError, match=r"File name too long"):  # (a raw OSError; a traceback on the command line)
            labeller.label(tmp_path / ("x" * 300 + ".jpg"))
        cut = tmp_path / "cut.jpg"  # a JPEG cut short: labelled as far as it goes, and said so (it said nothing)
        cut.write_bytes(cv2.imencode(".jpg", decoded)[1].tobytes()[:4000])
        with pytest.warns(DamagedImageWarning, match="cut.jpg: .*what is missing of it reads as grey"):
            labeller.label(cut)
        with pytest.raises(ValueError, match=r"the PIL image's file is cut short .*give its path"):
            labeller.label(Image.open(cut))  # (was: "cannot be read (closed, or its file gone?)")
        with Image.open(photo) as opened:
            pass  # closed: a bare AssertionError
        with pytest.raises(ValueError, match=r"the PIL image cannot be read \(closed"):
            labeller.label(opened)
        with pytest.raises(ValueError, match="uint8"):
            labeller.label(decoded.astype(np.float32))
        from concurrent.futures import ThreadPoolExecutor

        photos = [decoded, background(160, 120), decoded[:, ::-1].copy(), decoded] * 2
        alone = [labeller.label(image) for image in photos]
        with ThreadPoolExecutor(4) as pool:  # one labeller shared by threads: one photo at a time, the same answers
            assert list(pool.map(labeller.label, photos)) == alone  # (MediaPipe's graph broke for good, before)
        labeller.close()  # closed inside the block, and again by leaving it: no error (was: ValueError)
        with pytest.raises(ValueError, match="closed"):
            labeller.label(decoded)


@pytest.mark.parametrize("change, problem", [
    ({"labels": []}, "no labels"), ({"labels": ["happy", "happy"]}, "twice"),
    ({"input": {"size": 0}}, "input size"), ({"input": {"size": "48"}}, "input size"),
    ({"input": {"size": 48, "channels": 3}}, "colour"), ({"crop": {"scale": 9.0}}, "crop outside"),
    ({"crop": {"scale": "big"}}, "not numbers"), ({"sha256": {"keras": "abc"}}, "SHA-256"),
    ({"levels": {"mean": [200, 100], "std": [30, 80]}}, "levels"), ({"levels": {"mean": [70, 180]}}, "levels"),
    ({"temperature": 0}, "temperature"), ({"temperature": "0.6"}, "temperature"), ({"temperature": True}, "temperature"),
])
def test_a_card_is_checked_in_one_place(tmp_path, change, problem):
    from realtime.card import ModelCard, ModelError

    good = {"labels": ["happy", "sad"], "input": {"size": 48}, "crop": {"scale": 1.2, "shift": -0.1}}
    (tmp_path / "m.json").write_text(json.dumps(good))
    card = ModelCard.load(tmp_path / "m.keras")
    assert (card.labels, card.size, card.crop, card.flip_average) == (["happy", "sad"], 48, Crop(1.2, -0.1), False)
    (tmp_path / "m.json").write_text(json.dumps({**good, **change}))
    with pytest.raises(ModelError, match=problem):
        ModelCard.load(tmp_path / "m.keras")


def test_the_card_can_correct_for_the_training_class_shares(tiny_model, tmp_path):
    for suffix in (".keras", ".tflite"):
        shutil.copy(tiny_model.with_suffix(suffix), tmp_path / f"m{suffix}")
    card = json.loads(tiny_model.with_suffix(".json").read_text())
    prior = [0.4, 0.05, 0.05, 0.2, 0.1, 0.1, 0.1]
    (tmp_path / "m.json").write_text(json.dumps({**card, "class_prior": prior, "prior_alpha": 0.5}))
    faces = np.random.default_rng(0).integers(0, 256, (5, 48, 48), dtype=np.uint8)
    plain = Classifier(tiny_model).predict(faces)
    corrected = Classifier(tmp_path / "m.keras").predict(faces)
    expected = plain / np.sqrt(prior)
    assert np.allclose(corrected, expected / expected.sum(1, keepdims=True), atol=1e-5)
    assert np.allclose(Classifier(tmp_path / "m.keras", prior_alpha=0.0).predict(faces), plain)


def test_a_classifier_can_answer_only_some_classes(tiny_model, tmp_path):
    from realtime.card import ModelError

    for suffix in (".keras", ".tflite"):
        shutil.copy(tiny_model.with_suffix(suffix), tmp_path / f"m{suffix}")
    card = json.loads(tiny_model.with_suffix(".json").read_text())
    prior = np.array([0.4, 0.05, 0.05, 0.2, 0.1, 0.1, 0.1])
    (tmp_path / "m.json").write_text(json.dumps({**card, "class_prior": prior.tolist(), "prior_alpha": 0.5}))
    faces = np.random.default_rng(0).integers(0, 256, (5, 48, 48), dtype=np.uint8)
    kept = np.isin(card["labels"], ["happy", "sad", "neutral"])
    for model, scale in ((tiny_model, np.ones(7)), (tmp_path / "m.keras", prior ** -0.5)):
        plain = Classifier(model).predict(faces)
        some = Classifier(model, classes=["neutral", "happy", "sad", "happy"])
        assert np.allclose(some.predict(faces), plain)  # each view's answer as it was: the classes are kept at the end
        answers = some.calibrate(some.predict(faces))
        expected = Classifier(model, prior_alpha=0).predict(faces) * scale * kept
        assert np.allclose(answers, expected / expected.sum(1, keepdims=True), atol=1e-5)
        assert (answers[:, ~kept] == 0).all() and some.classes == ["neutral", "happy", "sad"]
        assert not np.allclose(plain[:, ~kept], 0)  # (the classes left out do answer without it)
        # A face an int8 model gave wholly to a class left out: the classes kept get equal shares
        wholly = np.eye(7, dtype=np.float32)[[0]]
        assert np.allclose(some.calibrate(wholly)[0], kept / kept.sum())
    # A face's 6 views are averaged before the classes left out are: where its label is kept, it stays. The model's
    # answers here are drawn at random, 6 views of 60 faces; rescaled view by view, some labels kept would change.
    answers = np.random.default_rng(1).dirichlet(np.full(7, 0.3), 6 * 60).astype(np.float32)
    frame = np.zeros((480, 640, 3), np.uint8)
    faces = [Face(np.array([x, y, x + 90.0, y + 90.0]), 0.9) for x in range(10, 540, 53) for y in range(10, 380, 70)]
    labels = {}
    for name, classes in (("every", None), ("some", ["happy", "sad", "neutral", "angry"])):
        classifier = Classifier(tiny_model, classes=classes)
        classifier._run = lambda batch: answers[:len(batch)]
        labels[name] = Pipeline(FaceDetector("full"), classifier, views=True).label(frame, faces).probabilities.argmax(1)
    kept = np.isin(card["labels"], ["happy", "sad", "neutral", "angry"])
    stays = kept[labels["every"]]
    assert (labels["some"][stays] == labels["every"][stays]).all() and stays.sum() > 20
    view_by_view = answers.reshape(6, 60, 7) * kept
    view_by_view = (view_by_view / view_by_view.sum(-1, keepdims=True)).mean(0).argmax(1)
    assert (view_by_view[stays] != labels["every"][stays]).any()  # (what this test would catch)
    from realtime.classify import checked_classes

    assert checked_classes(["Happy", "neutral"], ["happy", "neutral", "contempt"]) == ["happy", "neutral"]
    # A model of its own class names: its names are taken as they are, and names photo sets use for them too
    assert checked_classes(["happiness", "Sad", "anger"], ["anger", "happiness", "sadness", "bored"]) == [
        "happiness", "sadness", "anger"]
    assert checked_classes(["bored", "happy"], ["anger", "happiness", "sadness", "bored"]) == ["bored", "happiness"]
    # Names as photo sets give them are taken, as --classes takes them (the API took the model's own names alone)
    assert Classifier(tiny_model, classes=["Happiness", "SAD", "neutral"]).classes == ["happy", "sad", "neutral"]
    for classes, problem in ((["happy", "contempt"], "the model has no class contempt"),
                             (["happy", "Happiness"], "name two or more of the model's classes .*, not only happy$"),
                             ("happy,sad", "a list of class names, such as .*, not 'happy,sad'")):  # (was: no class h, a, p)
        with pytest.raises(ModelError, match=problem):
            Classifier(tiny_model, classes=classes)
        with pytest.raises(ValueError, match=problem):  # a bad argument, as a bad setting is
            Classifier(tiny_model, classes=classes)
    # A class left out stays exactly 0 after the card's temperature too (it was 1e-12 to a power: 2e-20, 2e-9)
    from realtime.classify import sharpen

    assert (sharpen(np.array([[0.5, 0.0, 0.5]]), 1 / 0.6)[0] == [0.5, 0.0, 0.5]).all()


def test_the_cards_temperature_sharpens_what_is_shown_and_never_changes_the_label(tiny_model, tmp_path):
    from realtime.classify import sharpen

    for suffix in (".keras", ".tflite"):
        shutil.copy(tiny_model.with_suffix(suffix), tmp_path / f"m{suffix}")
    card = json.loads(tiny_model.with_suffix(".json").read_text())
    (tmp_path / "m.json").write_text(json.dumps({**card, "temperature": 0.5}))
    frame = close_up()
    faces = [Face(np.array([60.0, 60.0, 260.0, 260.0]), 1.0, np.array([[120.0, 140.0], [200.0, 140.0]])),
             Face(np.array([100.0, 120.0, 200.0, 220.0]), 1.0)]
    for views in (False, True):
        plain = Pipeline(FaceDetector("full"), Classifier(tiny_model), views=views).label(frame, faces).probabilities
        shown = Pipeline(FaceDetector("full"), Classifier(tmp_path / "m.keras"), views=views).label(frame, faces).probabilities
        # Temperature 0.5: each final answer squared and renormalised (after the views' mean), same order.
        assert np.allclose(shown, plain ** 2 / (plain ** 2).sum(1, keepdims=True), atol=1e-5)
        assert (shown.argmax(1) == plain.argmax(1)).all() and (shown.max(1) >= plain.max(1)).all()
    assert Classifier(tiny_model).temperature == 1.0  # a card without one: the model's answers as they are
    rows = np.array([[0.5, 0.3, 0.2, 0.0]], np.float32)
    assert np.allclose(sharpen(rows, 1 / 3), sharpen(sharpen(rows, 1 / 1.5), 1 / 2), atol=1e-6)
    assert np.allclose(sharpen(rows, 1.0), rows) and np.isclose(sharpen(rows, 3.0).sum(), 1.0)


def test_calibration_error_measures_how_far_confidence_is_from_being_right():
    from train.report import calibration_error

    right = np.arange(100) < 70  # 70 of 100 answers right
    assert calibration_error(np.full(100, 0.7), right) == pytest.approx(0.0)
    assert calibration_error(np.full(100, 0.4), right) == pytest.approx(0.3)  # under-confident by 30 points
    # Two bins, each answered honestly: 90% sure and 9 of 10 right, 55% sure and 11 of 20 right.
    confidence = np.r_[np.full(10, 0.9), np.full(20, 0.55)]
    assert calibration_error(confidence, np.r_[np.arange(10) < 9, np.arange(20) < 11]) == pytest.approx(0.0, abs=1e-9)
    assert calibration_error(np.array([]), np.array([], bool)) == 0.0


def load_bench(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # a dataclass in it looks its module up there
    spec.loader.exec_module(module)
    return module


def test_results_of_a_class_folder_tree_are_scored_by_folder():
    scorer = load_bench("score_results")
    answers = [scorer.Answer(image, label, None) for image, label in [
        ("happy/1.jpg", "happy"), ("happy/2.jpg", "sad"), ("Sadness/3.jpg", "sad"), ("sad/4.jpg", None),
        ("contempt/5.jpg", "contempt"), ("misc/6.jpg", "happy"), ("sad/x/7.jpg", "contempt"), ("top.jpg", "happy")]]
    metrics, no_face, unscored = scorer.score(answers, scorer.FER2013_LABELS)
    assert metrics["samples"] == 5 and metrics["accuracy"] == pytest.approx(2 / 5)
    assert no_face == 1 and unscored == {"(top folder)": 1, "contempt": 1, "misc": 1}
    sad = scorer.FER2013_LABELS.index("sad")
    assert metrics["confusion"][sad][sad] == 1 and metrics["confusion"][sad][-1] == 2  # no face, and contempt
    metrics, _, unscored = scorer.score(answers, scorer.FER2013_LABELS + ["contempt"])
    assert metrics["samples"] == 6 and metrics["accuracy"] == pytest.approx(3 / 6) and "contempt" not in unscored


def test_a_class_folder_below_a_split_folder_or_a_globs_path_is_scored():
    """FER2013 as image files lies in train/ and test/, each with class folders; a shell glob's photos are named
    as given. Before, only the top folder was looked at: `error: no photo ... has a class folder`."""
    scorer = load_bench("score_results")
    answers = [scorer.Answer(image, label, None) for image, label in [
        ("test/happy/1.png", "happy"), ("test/sad/2.png", "happy"), ("/data/fer/angry/3.png", "angry"),
        ("photos/Surprise/x/4.jpg", "surprise"), ("happy/sad/5.jpg", "happy"), ("misc/6.jpg", "sad")]]
    metrics, _, unscored = scorer.score(answers, scorer.FER2013_LABELS)
    assert metrics["samples"] == 5 and metrics["accuracy"] == pytest.approx(4 / 5) and unscored == {"misc": 1}


def test_results_are_scored_by_a_labels_csv(tmp_path):
    scorer = load_bench("score_results")
    labels_file = tmp_path / "labels.csv"
    labels_file.write_text("path,label\nimages/1.jpg,Happiness\nimages/2.jpg,sad\nimages/3.jpg,contempt\n"
                           "images/4.jpg,bored\n")
    labels = scorer.read_labels(labels_file)
    assert labels == {"images/1.jpg": "Happiness", "images/2.jpg": "sad", "images/3.jpg": "contempt",
                      "images/4.jpg": "bored"}
    answers = [scorer.Answer(image, label, None) for image, label in [
        ("images/1.jpg", "happy"), ("images/2.jpg", None), ("images/3.jpg", "contempt"), ("images/4.jpg", "happy"),
        ("elsewhere/5.jpg", "sad")]]
    metrics, no_face, unscored = scorer.score(answers, scorer.FER2013_LABELS, labels)
    assert metrics["samples"] == 2 and metrics["accuracy"] == pytest.approx(1 / 2) and no_face == 1
    assert unscored == {"(not in the labels file)": 1, "bored": 1, "contempt": 1}
    labels_file.write_text("images/1.jpg,happy\n")  # no header
    assert scorer.read_labels(labels_file) == {"images/1.jpg": "happy"}
    labels_file.write_text("path,label\nimages/1.jpg,happy,extra\n")
    with pytest.raises(scorer.ScoreError, match="row 1 is not `path,label`"):
        scorer.read_labels(labels_file)
    # Labels written otherwise than the results name the photos: in another letter case (KDEF's .JPG listed as .jpg),
    # with Windows' backslashes, or for the photos before they were converted (x.jpg for x.tif): none matched
    labels_file.write_text("AF01\\af01afs.jpg,afraid\nrafd\\Rafd090_01.jpg,happy\npick/3.jpg,sad\n")
    matched, otherwise = scorer.matched_labels(["AF01/AF01AFS.JPG", "Rafd090_01.jpg", "3.tif", "4.tif"],
                                               scorer.read_labels(labels_file))
    assert matched == {"AF01/AF01AFS.JPG": "afraid", "Rafd090_01.jpg": "happy", "3.tif": "sad"} and otherwise == 3


def test_photos_the_program_could_not_read_are_left_out_of_the_scores_and_the_report(tmp_path, capsys):
    """Their records (`error`, no faces) are not photos without a face: the scorer leaves them out with a note, the
    report does not draw them as faceless."""
    from realtime.report import read_results

    scorer = load_bench("score_results")
    results = tmp_path / "r.jsonl"
    records = [{"schema": 2, "frame": 0, "time": 0.0, "image": "happy/1.jpg", "faces": []},
               {"schema": 2, "frame": 1, "time": 1.0, "image": "happy/2.jpg", "faces": [], "error": "the file is empty"}]
    results.write_text("".join(json.dumps(record) + "\n" for record in records))
    answers = scorer.read_answers(results)
    assert [a.image for a in answers] == ["happy/1.jpg"]
    assert "note: 1 photo the program could not read left out of the scores (first: happy/2.jpg)" in capsys.readouterr().err
    assert [r["image"] for r in read_results(results)] == ["happy/1.jpg"]


def test_kdefs_afraid_is_scored_as_fear(tmp_path):
    """KDEF names its expressions afraid, angry, disgusted, happy, neutral, sad, surprised: its fear photos were
    left out of the score ('not scored: afraid'), from class folders and from a labels file alike."""
    scorer = load_bench("score_results")
    answers = [scorer.Answer("afraid/AF01AFS.JPG", "fear", None), scorer.Answer("scared/2.jpg", "sad", None)]
    metrics, _, unscored = scorer.score(answers, scorer.FER2013_LABELS)
    assert metrics["samples"] == 2 and metrics["accuracy"] == pytest.approx(1 / 2) and unscored == {}
    labels_file = tmp_path / "kdef.csv"
    labels_file.write_text("AF01AFS.JPG,afraid\nAF01HAS.JPG,happy\n")  # no header: its first row is a label
    labels = scorer.read_labels(labels_file)
    assert labels == {"AF01AFS.JPG": "afraid", "AF01HAS.JPG": "happy"}
    metrics, _, unscored = scorer.score([scorer.Answer("AF01AFS.JPG", "fear", None)], scorer.FER2013_LABELS, labels)
    assert metrics["samples"] == 1 and metrics["accuracy"] == 1 and unscored == {}


def test_the_scorer_says_how_many_answers_lie_outside_the_classes_scored(tmp_path, capsys):
    """An 8-class model's contempt on a set scored on FER2013's 7 counts as wrong: the scorer says how often, and how
    to have the program choose among the 7 (`--classes`); what was not scored is named with its count."""
    scorer = load_bench("score_results")
    results = tmp_path / "results.jsonl"
    answers = [("happy/1.jpg", "contempt"), ("happy/2.jpg", "happy"), ("sad/3.jpg", "contempt"), ("sad/4.jpg", None),
               ("contempt/5.jpg", "contempt"), ("contempt/6.jpg", "happy")]
    results.write_text("".join(json.dumps({"frame": i, "image": image, "faces": [{"label": label}] if label else []})
                               + "\n" for i, (image, label) in enumerate(answers)))
    assert scorer.main([str(results)]) == 0
    out, err = capsys.readouterr()
    assert "accuracy  0.2500  (4 photos)" in out
    assert ("note: 2 photos answered contempt, not among the 7 classes scored: counted wrong (run the program with "
            "--classes angry,disgust,fear,happy,sad,surprise,neutral to have it choose among them)") in err
    assert "not a class folder or a class left out: contempt (2 photos; --with-contempt scores it)" in err
    assert scorer.main([str(results), "--with-contempt"]) == 0
    out, err = capsys.readouterr()
    assert "accuracy  0.3333  (6 photos)" in out and "answered" not in err and "not scored" not in err
    assert "other: no face found, or an answer not among the classes scored)" in out  # ("such as contempt": scored here)
    # A run made with --classes without contempt: its contempt photos can only be wrong, and the scorer says so (it
    # advised --with-contempt, which then scored them all wrong, unsaid)
    seven = {name: 0.1 for name in scorer.FER2013_LABELS} | {"contempt": 0.0}
    results.write_text("".join(json.dumps({"frame": i, "image": image, "faces": [
        {"label": "happy", "probabilities": {**seven, "happy": 0.4}}]}) + "\n" for i, (image, _) in enumerate(answers)))
    assert scorer.main([str(results)]) == 0
    assert "contempt (2 photos)" in capsys.readouterr().err  # (no --with-contempt advised)
    assert scorer.main([str(results), "--with-contempt"]) == 0
    assert (f"note: contempt has probability 0 in every answer of {results} (as in a run with --classes that left it out): "
            "its photos can only count as wrong") in capsys.readouterr().err


def test_kdef_and_jaffe_are_scored_by_their_file_names_and_ck_by_its_emotion_folder(tmp_path, capsys):
    """KDEF (`AF01/AF01AFS.JPG`: the folder is the person) and JAFFE (`KA.AN1.39.tiff`, in one folder) give the
    expression in the file name, CK+ in a file beside the photo's folder (`Emotion/S005/001/..._emotion.txt`); as
    they are laid out, none was scored (`error: no photo ... has a class folder`)."""
    scorer = load_bench("score_results")
    answers = [scorer.Answer(image, label, None) for image, label in [
        ("AF01/AF01AFS.JPG", "fear"), ("AM02/AM02HAHL.JPG", "sad"), ("BF03/BF03SUFR.jpg", "surprise"),
        ("KA.AN1.39.tiff", "angry"), ("jaffe/YM.NE3.51.tiff", "neutral"), ("KM.DI2.15.png", "happy"),
        ("happy/AF01SAS.JPG", "happy"), ("misc/AF01.JPG", "sad"),  # a class folder comes first; no code, not scored
        ("Rafd090_01_Caucasian_female_disgusted_frontal.jpg", "disgust"),  # RaFD's, as it names them (not scored)
        ("rafd/Rafd180_57_Moroccan_male_surprised_left.jpg", "happy"),
        ("Rafd045_02_Kid_female_contemptuous_right.jpg", "neutral")]]  # (contempt: 7 classes scored)
    metrics, _, unscored = scorer.score(answers, scorer.FER2013_LABELS)
    # (RaFD's contemptuous photo, at the top, was said to be "(top folder)", not scored: it is named by its class)
    assert metrics["samples"] == 9 and metrics["accuracy"] == pytest.approx(6 / 9) and unscored == {"contempt": 1, "misc": 1}
    fear = scorer.FER2013_LABELS.index("fear")
    assert metrics["confusion"][fear][fear] == 1

    emotion = tmp_path / "CK+" / "Emotion"
    for name, number in (("S005/001/S005_001_00000011", 3), ("S010/002/S010_002_00000014", 6)):
        (emotion / name).parent.mkdir(parents=True, exist_ok=True)
        (emotion / f"{name}_emotion.txt").write_text(f"   {number:.7e}\n")
    results = tmp_path / "ck.jsonl"  # the program run on cohn-kanade-images/: every frame, one of each labelled
    results.write_text("".join(json.dumps({"frame": i, "image": image, "faces": [{"label": label}]}) + "\n"
                               for i, (image, label) in enumerate([
                                   ("S005/001/S005_001_00000001.png", "neutral"), ("S005/001/S005_001_00000011.png",
                                                                                    "disgust"),
                                   ("S010/002/S010_002_00000014.png", "happy")])))
    assert scorer.main([str(results), "--labels", str(emotion), "--numbers", "ckplus"]) == 0
    out, err = capsys.readouterr()
    assert "accuracy  0.5000  (2 photos)" in out  # 3 disgust (right), 6 sadness
    assert "  (over the 2 classes present)" in next(line for line in out.splitlines() if line.startswith("macro-F1"))
    assert "not scored, not a label or a class left out: (not in the labels file) (1 photo)" in err
    assert not any(line.split()[:1] == ["other"] for line in out.splitlines())  # (a row of zeros in the class table)
    from realtime.labels import NUMBERINGS, photo_class

    # A class folder numbered with zeros is read by its number; a CK+ frame's sequence folder is not
    assert photo_class("03/x.jpg", None, NUMBERINGS["fer2013"]) == "happy"
    assert photo_class("S005/001/S005_001_00000011.png", None, NUMBERINGS["ckplus"]) is None
    # Without the emotion files, CK+'s sequence folders 001/ and 002/ were read as classes 1 and 2: angry, contempt
    assert scorer.main([str(results), "--numbers", "ckplus"]) == 2
    assert "CK+ gives its classes in its Emotion/ folder: --labels CK+/Emotion --numbers ckplus" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert scorer.main([str(results), "--labels", str(tmp_path / "empty")]) == 2  # a folder without emotion files
    assert "no CK+ emotion files" in capsys.readouterr().err


def test_classes_given_by_number_and_labels_files_separated_otherwise_are_scored(tmp_path, capsys):
    """AffectNet's class folders are 0/ to 7/; RAF-DB's labels file has `test_0001.jpg 5` lines (1-7, its own order)
    for the photos `test_0001_aligned.jpg`; CK+'s emotion files hold `3.0000000e+00`; Excel in many countries writes
    `;`. Before, the folders were `not scored` and the labels files refused (`row 1 is not path,label`)."""
    scorer = load_bench("score_results")

    def results(name, answers):
        path = tmp_path / name
        path.write_text("".join(json.dumps({"frame": i, "image": image, "faces": [{"label": label}]}) + "\n"
                                for i, (image, label) in enumerate(answers)))
        return str(path)

    affectnet = results("affectnet.jsonl", [("0/a.png", "neutral"), ("1/b.png", "happy"), ("6/c.png", "happy"),
                                            ("val/3/d.png", "surprise")])
    assert scorer.main([affectnet]) == 2
    assert "--numbers" in capsys.readouterr().err  # the note says how
    assert scorer.main([affectnet, "--numbers", "affectnet"]) == 0
    assert "accuracy  0.7500  (4 photos)" in capsys.readouterr().out  # 6 is anger there, not fer2013's neutral
    assert scorer.main([affectnet, "--numbers", "neutral,happy,sad,surprise,fear,disgust,anger"]) == 0
    assert "accuracy  0.7500  (4 photos)" in capsys.readouterr().out
    assert scorer.main([affectnet, "--numbers", "nonsense"]) == 2 and "--numbers" in capsys.readouterr().err

    rafdb = results("rafdb.jsonl", [("test_0001_aligned.jpg", "sad"), ("test_0002_aligned.jpg", "happy"),
                                    ("test_0003_aligned.jpg", "surprise")])
    (tmp_path / "list_patition_label.txt").write_text("test_0001.jpg 5\ntest_0002.jpg 4\ntest_0003.jpg 2\n")
    assert scorer.main([rafdb, "--labels", str(tmp_path / "list_patition_label.txt"), "--numbers", "rafdb"]) == 0
    assert "accuracy  0.6667  (3 photos)" in capsys.readouterr().out

    ckplus = results("ckplus.jsonl", [("S005/001/S005_001_00000011.png", "disgust"),
                                      ("S010/002/S010_002_00000014.png", "happy")])
    (tmp_path / "ck.tsv").write_text("\ufeffS005/001/S005_001_00000011.png\t3.0000000e+00\n"  # Excel's BOM
                                     "S010/002/S010_002_00000014.png\t6.0000000e+00\n")
    labels = scorer.read_labels(tmp_path / "ck.tsv")  # no header: its first row is a label
    assert labels["S005/001/S005_001_00000011.png"] == "3.0000000e+00"
    assert scorer.main([ckplus, "--labels", str(tmp_path / "ck.tsv"), "--numbers", "ckplus"]) == 0
    assert "accuracy  0.5000  (2 photos)" in capsys.readouterr().out  # 3 disgust (right), 6 sadness

    (tmp_path / "semicolons.csv").write_text("file;emotion\nS005/001/S005_001_00000011.png;disgust\n"
                                             "S010/002/S010_002_00000014.png;happy\n")
    assert scorer.main([ckplus, "--labels", str(tmp_path / "semicolons.csv")]) == 0
    assert "accuracy  1.0000  (2 photos)" in capsys.readouterr().out


def test_two_results_files_are_compared_on_the_photos_both_scored(tmp_path, capsys):
    """--against: the accuracy of each on the photos both scored, and the paired difference with its interval."""
    scorer = load_bench("score_results")

    def results(path, answers):
        path.write_text("".join(json.dumps({"frame": i, "image": image, "faces": [{"label": label}] if label else []})
                                + "\n" for i, (image, label) in enumerate(answers)))
        return path

    photos = [f"{label}/{i}.jpg" for i in range(40) for label in ("happy", "sad")]
    new = results(tmp_path / "new.jsonl", [(p, p.split("/")[0]) for p in photos])  # all right
    old = results(tmp_path / "old.jsonl", [(p, "happy" if i % 4 else None) for i, p in enumerate(photos[:60])]
                  + [("happy/extra.jpg", "happy")])
    assert scorer.main([str(new), "--against", str(old)]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    # 60 photos in both; 'old' is right only on the happy photos in which it found a face
    old_right = sum(p.startswith("happy") and i % 4 != 0 for i, p in enumerate(photos[:60]))
    assert f"on the 60 photos both scored (of 80 here): accuracy {old_right / 60:.4f} there, 1.0000 here" in line
    assert f"right only here {60 - old_right}, only there 0" in line
    low, high = (float(v) for v in line.split("95% interval ")[1].split(")")[0].split(" to "))
    assert 0 < low < 1 - old_right / 60 < high
    assert scorer.main([str(new), "--against", str(results(tmp_path / "other.jsonl", [("sad/99.jpg", "sad")]))]) == 2
    assert "no scored photo in common" in capsys.readouterr().err
    assert scorer.main([str(new), "--against", str(results(tmp_path / "other.jsonl", [("x/1.jpg", "sad")]))]) == 2
    assert "other.jsonl has no photo with a class to score" in capsys.readouterr().err  # (it said "there -")
    # The same photos converted (x.tif for x.jpg), or run from a folder above: paired by the end of their names, each
    # once (they had none in common, and the comparison a researcher makes first needed pairing by hand)
    converted = results(tmp_path / "tif.jsonl", [(f"set/{p[:-4]}.TIF", p.split("/")[0]) for p in photos[:60]]
                        + [("set/sad/0.png", "happy")])  # two copies of one photo: paired with neither
    assert scorer.main([str(converted), "--against", str(old)]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert f"on the 59 photos both scored (of 61 here): accuracy {old_right / 59:.4f} there, 1.0000 here" in line, line
    # (sad/0: wrong)


def test_the_scorer_says_how_often_answers_shown_at_each_confidence_are_right(tmp_path, capsys):
    scorer = load_bench("score_results")
    # 10 answers shown at 95%, 9 right; 20 at 45%, 5 right (over-confident there); one photo without a face
    answers = [(f"happy/{i}.jpg", "happy" if i < 9 else "sad", 0.95) for i in range(10)]
    answers += [(f"sad/{i}.jpg", "sad" if i < 5 else "angry", 0.45) for i in range(20)] + [("sad/none.jpg", None, None)]
    results = tmp_path / "results.jsonl"
    results.write_text("".join(json.dumps({"frame": i, "image": image, "faces": [{"label": label, "probability": shown}]
                                           if label else []}) + "\n" for i, (image, label, shown) in enumerate(answers)))
    assert scorer.main([str(results)]) == 0
    out = capsys.readouterr().out
    error = (10 * abs(0.95 - 0.9) + 20 * abs(0.45 - 0.25)) / 30
    assert f"calibration error {error:.3f}" in out
    rows = out.split("shown  photos  right\n")[1].split("\n\n")[0].splitlines()
    assert [row.split() for row in rows] == [["40-50%", "20", "25%"], ["90-100%", "10", "90%"]]


def test_labels_match_results_of_a_folder_above_or_below_the_labelled_one():
    """wild-faces/labels.csv names images/x.jpg; the program run on wild-faces/images names it x.jpg."""
    scorer = load_bench("score_results")
    labels = {"images/1.jpg": "happy", "images/2.jpg": "sad", "a/same.jpg": "angry", "b/same.jpg": "fear"}
    images = ["1.jpg", "set/images/2.jpg", "same.jpg", "images/1.jpg", "3.jpg"]
    matched, by_ending = scorer.matched_labels(images, labels)
    assert matched == {"1.jpg": "happy", "set/images/2.jpg": "sad", "images/1.jpg": "happy"}  # same.jpg: which one?
    assert by_ending == 2
    # A copy laid out otherwise (photos sorted into class folders of one's own): matched by the longest ending one
    # labelled photo shares with it (were: none, and 'no photo ... has a label')
    matched, by_ending = scorer.matched_labels(["mine/happy/1.jpg", "mine/sad/same.jpg", "x/a/same.jpg"], labels)
    assert matched == {"mine/happy/1.jpg": "happy", "x/a/same.jpg": "angry"} and by_ending == 2


def test_a_labels_file_naming_none_of_the_photos_or_not_text_is_said_so(tmp_path, capsys):
    """A labels file whose paths match none of the results' photos said 'no photo ... has a label (angry, ...)', as if
    the labels were wrong; one that is not text, Python's 'utf-8 codec can't decode byte 0x9a'."""
    scorer = load_bench("score_results")
    results = tmp_path / "r.jsonl"
    results.write_text(json.dumps({"frame": 0, "image": "AJ_Cook_0001.jpg", "faces": [{"label": "happy"}]}) + "\n")
    labels = tmp_path / "labels.csv"
    labels.write_text("path,label\nnobody.jpg,happy\n")
    assert scorer.main([str(results), "--labels", str(labels)]) == 2
    assert capsys.readouterr().err == (f"error: {labels} names none of the photos in {results} (it names photos as "
                                       "nobody.jpg, the results as AJ_Cook_0001.jpg: the paths must match, or end "
                                       "alike)\n")
    labels.write_bytes(b"\x00\x00\x00\x18ftypisom\x9a\xff")
    assert scorer.main([str(results), "--labels", str(labels)]) == 2
    assert capsys.readouterr().err == f"error: cannot read labels file {labels}: not a text file\n"
    results.write_text("schema,frame,time,image,id\n2,0,0.0,AJ_Cook_0001.jpg,1\n")  # the --csv results, given for it
    assert scorer.main([str(results)]) == 2
    assert "(these are --csv results: score the --json ones)" in capsys.readouterr().err
    results.write_text(json.dumps({"frame": 0, "image": "AJ_Cook_0001.jpg", "faces": [{"label": "happy"}]}) + "\n")
    assert scorer.main([str(results)]) == 2  # a photo in no class folder, without --labels: how to give its label
    assert "give the labels with --labels LABELS.csv" in capsys.readouterr().err


def test_scorer_intervals_draw_people_with_people_option(tmp_path, capsys):
    """--people: the photos of one person (what the pattern matches in the file name) are drawn together in the 95%
    intervals, which then widen where a person's photos are all right or all wrong; without a match, a photo is its
    own group; a pattern that is no regular expression is a one-line error."""
    scorer = load_bench("score_results")
    results = tmp_path / "results.jsonl"
    records = [{"frame": 10 * p + k, "image": f"happy/Person_{p}_{k:04d}.jpg",
                "faces": [{"label": "happy" if p % 10 < 7 else "sad", "probability": 0.9}]}
               for p in range(20) for k in range(10)]
    results.write_text("".join(json.dumps(record) + "\n" for record in records))

    def accuracy_interval(*options: str) -> tuple[tuple[float, float], str]:
        """The accuracy's interval, and what was said on standard error."""
        assert scorer.main([str(results), *options]) == 0
        out, err = capsys.readouterr()
        return tuple(map(float, out.split("accuracy  0.7000  (200 photos)  95% interval ")[1].split()[0].split("-"))), err

    (photos, _), (people, _) = accuracy_interval(), accuracy_interval("--people", "^[^0-9]+_[0-9]+")
    assert people[0] < photos[0] < photos[1] < people[1] and people[1] - people[0] > 2.5 * (photos[1] - photos[0])
    assert scorer.main([str(results), "--people", "(unclosed"]) == 2
    assert "error: --people: not a regular expression" in capsys.readouterr().err
    # A pattern that matches no name, or puts every photo in one group, would give an interval of nothing: refused
    for pattern, problem in (("^nobody", "matches none of the photos' file names"), ("jpg", "puts every photo in one group")):
        assert scorer.main([str(results), "--people", pattern]) == 2
        assert f"error: --people '{pattern}' {problem} (such as Person_0_0000.jpg)" in capsys.readouterr().err
    # A group for every photo (one photo a person, or the whole name matched): the photos' own intervals, and said so
    # (`.*` was told it "matches none of the photos' file names")
    interval, said = accuracy_interval("--people", ".*")
    assert interval == photos and "gives every photo a group of its own" in said and "matches none" not in said
    said = accuracy_interval("--people", "^Person_[0-3]_")[1]  # 4 people, and the photos of 16 more each counted alone
    assert "160 photos' file names do not match" in said and "only" not in said
    assert "only" not in accuracy_interval("--people", "^Person_1?[0-9]")[1]  # (10 people: 0-9, 10-19 with 1-9)
    said = accuracy_interval("--people", "^Person_[0-7]|^Person_")[1]  # Person_0 to _7 (_1 with _10 to _19), the rest
    assert "only 9 people: intervals drawn over so few are rough" in said and "do not match" not in said
    person = scorer.person_of(re.compile("^[^0-9]+_[0-9]+"))
    assert person("happy/Person_3_0007.jpg") == "Person_3" and person("x/0001.jpg") == "x/0001.jpg"


def test_the_program_on_a_class_folder_tree_then_the_scorer(tmp_path):
    """The way a labelled photo set is scored as users run the program: its --json output, then the scorer."""
    photos = tmp_path / "photos"
    for i, (label, frame) in enumerate([("happy", close_up(300)), ("neutral", close_up(340)),
                                        ("sad", background(300, 300))]):  # the last has no face
        (photos / label).mkdir(parents=True)
        cv2.imwrite(str(photos / label / f"{i}.jpg"), frame)
    results = tmp_path / "results.jsonl"
    ran = run_module("realtime", "--source", str(photos), "--no-display", "--json", str(results))
    assert ran.returncode == 0, ran.stderr[-2000:]
    records = [json.loads(line) for line in results.read_text().splitlines()]
    answers = {r["image"]: r["faces"][0]["label"] if r["faces"] else None for r in records}
    assert set(answers) == {"happy/0.jpg", "neutral/1.jpg", "sad/2.jpg"} and answers["sad/2.jpg"] is None
    right = sum(answers[f"{label}/{i}.jpg"] == label for i, label in enumerate(["happy", "neutral"]))
    scored = subprocess.run([sys.executable, "bench/score_results.py", str(results)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert scored.returncode == 0, scored.stderr
    assert f"accuracy  {right / 3:.4f}  (3 photos)" in scored.stdout and "no face found: 1" in scored.stdout
    text = results.read_text()  # a run killed while writing its last line: the photos before it are scored
    (tmp_path / "killed.jsonl").write_text(text[:text.rindex("\n", 0, len(text) - 1) + 20])
    killed = subprocess.run([sys.executable, "bench/score_results.py", str(tmp_path / "killed.jsonl")], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == 0 and "is cut off" in killed.stderr and "(2 photos)" in killed.stdout
    (tmp_path / "bad.jsonl").write_text('{"frame": 0}\n')
    bad = subprocess.run([sys.executable, "bench/score_results.py", str(tmp_path / "bad.jsonl")], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert_one_line_error(bad, "line 1: not a record")
    (tmp_path / "video.jsonl").write_text('{"schema": 2, "frame": 0, "time": 0.0, "faces": []}\n')
    video = subprocess.run([sys.executable, "bench/score_results.py", str(tmp_path / "video.jsonl")], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert_one_line_error(video, "line 1: a frame without an image name")
    (tmp_path / "photo.jpg").write_bytes(bytes(range(256)))
    for path, problem in ((tmp_path / "photo.jpg", "not a text file"), (tmp_path, "a folder, not a file")):
        wrong = subprocess.run([sys.executable, "bench/score_results.py", str(path)], cwd=ROOT,
                               capture_output=True, text=True, timeout=120)
        assert_one_line_error(wrong, problem)
        assert wrong.returncode == 2


@pytest.mark.parametrize("script, option, value", [
    ("classify_speed", "--repeats", "0"), ("compare_fer", "--limit", "-5"), ("detection_recall", "--scenes", "0"),
    ("finetune_vs_scratch", "--seed", "-1"), ("label_stability", "--seconds", "0"), ("load_test", "--faces", "12"),
    ("make_clips", "--frames", "0"), ("pipeline_accuracy", "--prior-alpha", "nan"), ("photo_speed", "--photos", "0"),
    ("photo_speed", "--threads", "1"), ("soak", "--frames", "-1"),
    ("startup", "--runs", "0"), ("stop_stress", "--seed", str(2**32)), ("web_camera_rate", "--seconds", "-1")])
def test_bench_scripts_refuse_numbers_out_of_range_before_any_work(script, option, value):
    result = subprocess.run([sys.executable, f"bench/{script}.py", option, value], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"error: argument {option}: must be" in result.stderr.splitlines()[-1]


def documented_bench_commands() -> list[tuple[str, str, list[str]]]:
    """(where, script, arguments) of every `python bench/SCRIPT.py ...` in the bench scripts' own docstrings, the README
    and docs/ (optional parts in brackets taken as given; lines continued or with placeholders left out)."""
    import ast
    import re
    import shlex

    texts = {path.name: ast.get_docstring(ast.parse(path.read_text())) or "" for path in (ROOT / "bench").glob("*.py")}
    texts.update({path.name: path.read_text() for path in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]})
    commands = []
    for where, text in texts.items():
        for found in re.finditer(r"\bpython3? bench/(\w+)\.py([^`\n]*)", text):  # in code blocks and `spans`
            rest = found.group(2).split(" #")[0].split("&&")[0].split(")")[0].strip()
            if rest.endswith("\\") or "..." in rest or re.search(r"\b[A-Z]{2,}\b", rest):
                continue
            commands.append((where, found.group(1), shlex.split(rest.replace("[", "").replace("]", ""))))
    return commands


def test_every_documented_bench_command_line_is_accepted_by_its_script(monkeypatch):
    """A command shown in a bench script's docstring or in the docs runs as shown: its options exist (the
    arguments are only parsed here, nothing is run)."""
    import argparse

    class Parsed(Exception):
        pass

    parse_args = argparse.ArgumentParser.parse_args

    def parse_only(self, args=None, namespace=None):
        raise Parsed(parse_args(self, args, namespace))

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_only)
    commands = documented_bench_commands()
    assert len(commands) > 40 and {"label_stability", "pipeline_accuracy", "soak"} <= {c[1] for c in commands}
    refused = []
    for where, script, arguments in commands:
        module = load_bench(script)
        monkeypatch.setattr(sys, "argv", [f"bench/{script}.py", *arguments])
        with pytest.raises((Parsed, SystemExit)) as stopped:
            module.main()
        if stopped.type is SystemExit:
            refused.append(f"{where}: python bench/{script}.py {' '.join(arguments)}")
    assert refused == []


def test_every_bench_script_help_says_what_it_does_in_whole_sentences(monkeypatch):
    """`--help` of make_clips, gpu_data and web_camera_rate stopped mid-sentence ("... with 1, 2 and 4 moving faces,
    and"): its description was the docstring's first line, where their first sentence runs on to the next."""
    import argparse

    class Described(Exception):
        pass

    def describe(self, args=None, namespace=None):
        raise Described(self.description)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", describe)
    cut = []
    for script in sorted(path.stem for path in (ROOT / "bench").glob("*.py")):
        module = load_bench(script)
        monkeypatch.setattr(sys, "argv", [f"bench/{script}.py"])
        with pytest.raises(Described) as described:
            module.main()
        if not str(described.value).rstrip().endswith((".", "?", ")")):
            cut.append(f"{script}: {described.value}")
    assert cut == []


def test_startup_refuses_what_is_not_there_and_gives_both_trees_the_same_photo(tmp_path):
    """bench/startup.py: an --old commit missing here (a shallow clone, a copy without git) or an interpreter that is
    not there stopped with a traceback after the work began; a --source relative to here was looked for in the old
    program's scratch tree ("gave no first frame ... source not found")."""
    for option, value, problem in [("--old", "no-such-commit", "no such commit here"),
                                   ("--python", "no-such-venv/bin/python", "no such interpreter")]:
        refused = subprocess.run([sys.executable, "bench/startup.py", option, value], cwd=ROOT, capture_output=True,
                                 text=True, timeout=120)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr
        assert problem in refused.stderr.splitlines()[-1]
    if not load_bench("startup").has_commit("HEAD"):
        pytest.skip("not a git checkout: no old program to start")
    cv2.imwrite(str(tmp_path / "photo.jpg"), background(320, 240, seed=0))
    relative = os.path.relpath(tmp_path / "photo.jpg", ROOT)
    result = subprocess.run([sys.executable, "bench/startup.py", "--runs", "1", "--old", "HEAD", "--source", relative],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "old (HEAD" in result.stdout and "new (working tree)" in result.stdout


def test_soak_runs_short_and_leaves_no_files_behind_unless_asked(tmp_path):
    """bench/soak.py with few frames (fewer than its 500-frame memory samples) checks its frames and memory, and
    writes its video and JSON lines into a temporary folder that it removes (asking for --help made one before,
    and every run left its files); `--out` keeps them."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    helped = subprocess.run([sys.executable, "bench/soak.py", "--help"], cwd=ROOT, env=env, capture_output=True)
    assert helped.returncode == 0 and list(scratch.iterdir()) == []
    result = subprocess.run([sys.executable, "bench/soak.py", "--frames", "12"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert "in the video: 12; JSON lines: 12" in result.stdout and result.stdout.splitlines()[-1] == "OK"
    assert "growth after warm-up (frame 2 to the end, frame 12)" in result.stdout  # sampled at frame 2, not only at 0
    assert list(scratch.iterdir()) == []
    kept = subprocess.run([sys.executable, "bench/soak.py", "--frames", "3", "--out", str(tmp_path / "kept")], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    assert kept.returncode == 0 and sorted(p.name for p in (tmp_path / "kept").iterdir()) == ["soak.jsonl", "soak.mp4"]
    assert list(scratch.iterdir()) == []


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the busy process through /proc")
def test_load_test_leaves_no_busy_process_behind_when_it_is_stopped():
    """bench/load_test.py starts a busy process for its loaded blocks; stopped by SIGTERM (as `timeout` stops it) or
    killed, it used to leave that process spinning at 100% of a core for ever."""
    import signal
    import time

    def state(pid: int) -> str | None:
        """The process's state letter (Z: ended, not yet reaped) and its parent, or None where it is gone."""
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, IndexError):
            return None

    def running(pid: int) -> bool:
        return state(pid) is not None and state(pid)[0] != "Z"

    bench = subprocess.Popen([sys.executable, "bench/load_test.py", "--threads", "1", "--blocks", "100", "--frames",
                              "1000", "--faces", "1"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    busy: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while not busy and time.monotonic() < deadline and bench.poll() is None:
            time.sleep(0.1)
            busy = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and running(int(p.name))
                    and int((state(int(p.name)) or [0, 0])[1]) == bench.pid]
        assert busy, "no busy process started"
        bench.send_signal(signal.SIGTERM)
        bench.wait(timeout=30)
        deadline = time.monotonic() + 10
        while any(map(running, busy)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(map(running, busy)), "the busy process outlived the benchmark"
    finally:
        bench.kill()
        for pid in busy:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_bench_photo_detector_leaves_out_the_turning_or_the_cascade_each_on_its_own(monkeypatch):
    """bench/pipeline_accuracy.py --no-upright (and photo_speed's "not looked for") leave out the turning of faces
    lying sideways only: the Haar cascade stays the photo detector's last resort (FaceDetector made without `upright`
    had none, so --no-upright scored as --no-cascade did). --no-cascade with a video detector does not crash."""
    from realtime.scene import DemoSource

    accuracy, speed = load_bench("pipeline_accuracy"), load_bench("photo_speed")
    frame = DemoSource(faces=1).frame(0)[0]
    (face,) = FaceDetector("tiled").detect(frame)
    for upright in (True, False):
        detector = accuracy.photo_detector("tiled", upright=upright)
        assert detector.cascade is not None
        if not upright:  # the faces found are kept as they are: none is looked at for how it lies
            monkeypatch.setattr(detector.upright, "turn", lambda *args: pytest.fail("a face was turned"))
        assert [f.box.tolist() for f in detector.detect(frame)] == [face.box.tolist()]
        for model in (detector.main, detector.near):
            for method in ("find", "find_in"):
                monkeypatch.setattr(model, method, lambda *args, **kwargs: [])
        monkeypatch.setattr(detector.cascade, "find", lambda *args: [face])
        assert detector.detect(frame) == [face]  # where BlazeFace sees none, the cascade's face
    assert accuracy.photo_detector("tiled", cascade=False).detect(np.zeros((480, 640, 3), np.uint8)) == []
    video = accuracy.photo_detector("sweep", upright=False, cascade=False)
    assert video.upright is None and [video.detect(np.zeros((480, 640, 3), np.uint8)) for _ in range(3)] == [[]] * 3
    without = speed.compared(None)["not looked for"].pipeline.detector
    assert without.cascade is not None and without.detect(frame)[0].box.tolist() == face.box.tolist()


def test_photo_speed_gives_the_rate_of_labellers_on_threads(tiny_model, capsys):
    """`--threads N`: photos a second of one labeller and of N on as many threads, each round, and the load time (the
    README's and docs/python.md's figures for threads sharing the work had no script behind them)."""
    speed = load_bench("photo_speed")
    photos = [background(320, 240, seed=i) for i in range(6)]
    for photo in photos[::2]:
        paste_face(photo, 120, (160, 120))
    assert speed.side_by_side_rates(photos, 2, 3, str(tiny_model)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("6 wild-faces photos x 3 rounds; a labeller loads in ")
    for line, name in zip(out[1:3], ("1 thread: ", "2 threads: ")):
        assert line.startswith(name) and line.endswith(" photos a second")
        assert all(float(rate) > 0 for rate in line[len(name):-len(" photos a second")].split(", ")) and line.count(",") == 2
    assert out[3].startswith("2 threads / 1: ") and out[3].endswith("x (medians)")


@pytest.mark.parametrize("script", ["photo_speed", "folder_speed"])
def test_speed_benchmarks_say_when_the_photos_are_missing(script, tmp_path, monkeypatch, capsys):
    """Without ../shared/data/wild-faces they stopped with a traceback (numpy's IndexError on no times at all, or
    the program's exit 2 on an empty folder as a CalledProcessError)."""
    bench = load_bench(script)
    monkeypatch.setattr(bench, "DATA", tmp_path)
    monkeypatch.setattr(sys, "argv", [f"bench/{script}.py", "--photos", "2", "--rounds", "1"])
    assert bench.main() == 2
    assert capsys.readouterr().err.strip() == f"error: no wild-faces photos in {tmp_path / 'wild-faces' / 'images'}"


@pytest.mark.parametrize("script, arguments", [
    ("label_stability", []), ("video_members", ["--photos", "2"]),
    ("video_members", ["--photos", "2", "--faces", "ferplus-in-frame"]), ("video_sunglasses", ["--photos", "2"])])
def test_video_benchmarks_say_when_the_data_is_missing(script, arguments, tmp_path, monkeypatch, capsys):
    """Without ../shared/data they stopped with a traceback (FileNotFoundError on wild-faces/labels.csv, or
    DatasetError on the FER+ votes); video_sunglasses after printing its table's header."""
    bench = load_bench(script)
    monkeypatch.setattr(bench, "DATA", tmp_path)
    monkeypatch.setattr(sys, "argv", [f"bench/{script}.py", *arguments])
    assert bench.main() == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "not found" in err and str(tmp_path) in err and "\n" not in err


def test_accuracy_benchmarks_say_when_the_data_is_missing(tmp_path, monkeypatch, capsys):
    missing = subprocess.run([sys.executable, "bench/pipeline_accuracy.py", "--wild", str(tmp_path), "--fer2013", "",
                              "--no-fer"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert_one_line_error(missing, f"wild-faces labels not found: {tmp_path / 'labels.csv'}")
    missing = subprocess.run([sys.executable, "bench/finetune_vs_scratch.py", "--data", str(tmp_path / "none.csv")],
                             cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert_one_line_error(missing, str(tmp_path / "none.csv"))
    assert missing.returncode == 2
    fer = types.ModuleType("fer.fer")  # compare_fer reads the data after loading fer: a stand-in for it
    fer.FER = lambda mtcnn: object()
    monkeypatch.setitem(sys.modules, "fer", types.ModuleType("fer"))
    monkeypatch.setitem(sys.modules, "fer.fer", fer)
    monkeypatch.setattr(sys, "argv", ["bench/compare_fer.py", "--data", str(tmp_path / "none.csv")])
    assert load_bench("compare_fer").main() == 2
    assert capsys.readouterr().err.strip().startswith(f"error: {tmp_path / 'none.csv'}: cannot read")


@pytest.mark.parametrize("script, arguments", [
    ("classify_speed", ["--model"]), ("compare_fer", ["--model"]), ("label_stability", ["--model"]),
    ("photo_speed", ["--photos", "1", "--models"]), ("pipeline_accuracy", ["--fer2013", "", "--model"]),
    ("program_crops", ["--out", "crops.csv", "--model"]), ("video_members", ["--model"]),
    ("web_camera_rate", ["--model"])])
def test_bench_scripts_say_when_a_model_is_not_there(script, arguments, tmp_path):
    """A --model that is not there stopped each of them with ModelError's traceback."""
    if script in ("label_stability", "photo_speed") and not (SHARED_DATA / "wild-faces" / "labels.csv").exists():
        pytest.skip("wild-faces is looked for before the model")  # (and its absence said: see the tests above)
    (tmp_path / "fer").mkdir()  # compare_fer asks for the fer package first: a stand-in for it
    (tmp_path / "fer" / "__init__.py").write_text("")
    (tmp_path / "fer" / "fer.py").write_text("class FER:\n    def __init__(self, mtcnn):\n        pass\n")
    result = subprocess.run([sys.executable, str(ROOT / "bench" / f"{script}.py"), *arguments, "no-such-model"],
                            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path)}, capture_output=True,
                            text=True, timeout=300)
    assert_one_line_error(result, "model not found: no-such-model")


def test_detection_recall_scales_its_faces_with_the_picture_and_refuses_faces_that_do_not_fit():
    bench = load_bench("detection_recall")
    _, boxes = bench.make_scene(4000, 3000, 0, face_scale=3)
    widths = [box[2] - box[0] for box in boxes]
    assert len(boxes) == 6 and 90 * 0.95 <= min(widths) and max(widths) <= 600 * 1.05
    assert len({round(w) for w in widths}) > 1  # still a mix of sizes
    wrong = subprocess.run([sys.executable, "bench/detection_recall.py", "--size", "1280x720", "--face-scale", "2"],
                           cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert wrong.returncode == 2 and "do not fit in 1280x720" in wrong.stderr.splitlines()[-1]
    for size in ("1280", "1280x720x3", "wide"):  # ValueError's traceback before
        wrong = subprocess.run([sys.executable, "bench/detection_recall.py", "--size", size], cwd=ROOT,
                               capture_output=True, text=True, timeout=120)
        assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
        assert wrong.stderr.splitlines()[-1].endswith(f"argument --size: '{size}' is not WIDTHxHEIGHT, e.g. 1280x720")


def test_detection_recall_lays_out_galleries_of_photos_and_scores_them_by_centres(tmp_path):
    bench = load_bench("detection_recall")
    photo = face_sprite()[0]
    for index in range(3):
        cv2.imwrite(str(tmp_path / f"{index}.jpg"), cv2.convertScaleAbs(photo, alpha=0.8 + 0.1 * index))
    photos = sorted(tmp_path.glob("*.jpg"))
    frame, boxes = bench.make_gallery(1280, 720, 1, photos)  # seed 1: 3x3 cells
    assert frame.shape == (720, 1280, 3) and len(boxes) == 9
    assert all(0 <= b[0] < b[2] <= 1280 and 0 <= b[1] < b[3] <= 720 for b in boxes)
    assert not any(overlap(a, b)[0] for i, a in enumerate(boxes) for b in boxes[i + 1:])
    inside, astride = Face(np.array([10.0, 10, 50, 50]), 0.9), Face(np.array([80.0, 0, 140, 60]), 0.9)
    assert bench.hit_by([astride, inside], np.array([0.0, 0, 100, 100]), centred=True) == 1  # its centre is in
    assert bench.hit_by([astride], np.array([0.0, 0, 100, 100]), centred=True) is None
    run = subprocess.run([sys.executable, "bench/detection_recall.py", "--gallery", str(tmp_path), "--scenes", "1",
                          "--detectors", "tiled"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and run.stdout.splitlines()[0] == "1 galleries of 1280x720, 4 faces", run.stderr
    empty = subprocess.run([sys.executable, "bench/detection_recall.py", "--gallery", str(tmp_path / "none")],
                           cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert empty.returncode == 2 and empty.stderr.splitlines()[-1].endswith("no .jpg or .png photos there")


def test_small_face_conditions_shrink_the_faces_to_the_size_they_name():
    bench = load_bench("pipeline_accuracy")
    photo = face_sprite()[0]  # 292x380
    detector = FaceDetector("tiled")
    for width in (64, 32, 24, 16):
        small = bench.CONDITIONS[f"{width}px"](photo)
        assert small.shape[:2] == (width * 380 // 292, width)
    face = cv2.resize(cv2.cvtColor(photo[80:300, 40:260], cv2.COLOR_BGR2GRAY), (48, 48), interpolation=cv2.INTER_AREA)
    targets = np.eye(7, dtype=np.float32)[[3]]
    for face_px in (None, 24):  # 4x by default, else shrunk to the width asked, in a frame twice that
        [(_, frame, label)] = bench.fer2013_in_frame(face[None], targets, face_px)
        side = 2 * (face_px or 48 * bench.UPSCALE)
        assert frame.shape == (side, side, 3) and label == 3
        [found] = detector.detect(frame)
        assert 0.5 * side / 2 < found.width < 1.2 * side / 2


def test_faces_in_a_frame_can_be_scored_by_ferplus_majority_votes(tmp_path):
    bench = load_bench("pipeline_accuracy")
    labels = ["neutral", "happy", "surprise", "sad", "angry", "disgust", "fear", "contempt"]
    votes = np.array([[0.7, 0.3, 0, 0, 0, 0, 0, 0],    # neutral
                      [0, 0, 0, 0, 0.5, 0.5, 0, 0],    # a tie: left out
                      [0, 0, 0, 0, 0, 0, 0, 1.0],      # contempt: outside the 7
                      [0, 0.1, 0, 0, 0, 0, 0.9, 0]])   # fear
    keep, one_hot = bench.ferplus_majority(votes, labels)
    assert keep.tolist() == [True, False, False, True]
    assert [bench.FER2013_LABELS[i] for i in one_hot.argmax(1)] == ["neutral", "fear"]
    assert one_hot.shape == (2, len(bench.FER2013_LABELS)) and np.all(one_hot.sum(1) == 1)

    missing = subprocess.run([sys.executable, "bench/pipeline_accuracy.py", "--wild", "", "--no-fer",
                              "--ferplus", str(tmp_path / "none.csv")], cwd=ROOT, capture_output=True, text=True,
                             timeout=300)
    assert_one_line_error(missing, "FER+ votes not found")
    assert missing.returncode != 0
    without = subprocess.run([sys.executable, "bench/pipeline_accuracy.py", "--fer2013", "", "--ferplus", "votes.csv"],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert without.returncode == 2 and "--ferplus scores the FER2013 faces in a frame" in without.stderr.splitlines()[-1]


def test_label_stability_says_when_its_moving_clip_is_missing(tmp_path):
    """Without bench/make_clips.py run first, it printed "0 false cuts in 0 frames", as if measured."""
    from realtime.scene import DemoSource

    bench = load_bench("label_stability")
    assert bench.moving_clip_cuts(tmp_path / "faces4.mp4").endswith("not measured, no frame read "
                                                                     "(python bench/make_clips.py writes the clips)")
    source = DemoSource(faces=2, frames=5)
    writer = cv2.VideoWriter(str(tmp_path / "faces4.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), source.fps, source.size)
    for frame in source:
        writer.write(frame)
    writer.release()
    assert bench.moving_clip_cuts(tmp_path / "faces4.mp4") == ("bench/clips/faces4.mp4 (moving faces, no cut): "
                                                               "0 false cuts in 5 frames")


def test_label_stability_replay_scores_shots_flicker_and_stray_boxes():
    bench = load_bench("label_stability")
    labels = bench.FER2013_LABELS
    happy, sad, neutral = (np.eye(len(labels), dtype=np.float32)[labels.index(name)] for name in ("happy", "sad", "neutral"))
    face, stray = Face(np.array([100.0, 100, 200, 200]), 0.9), Face(np.array([400.0, 50, 430, 80]), 0.9)
    frames_a_shot = bench.SETTLE + 10
    frames = [(0, [face], happy[None], False) for _ in range(frames_a_shot)]  # shot 0: a happy photo, answered right
    frames += [(1, [face, stray], np.stack([neutral, sad]), k == 0) for k in range(frames_a_shot)]  # shot 1: a sad one
    shown = bench.replay(frames, [labels.index("happy"), labels.index("sad")], bench.Tracker(), True, labels)
    assert shown.scored.tolist() == [10, 10] and shown.per_shot.tolist() == [1.0, 0.0] and shown.accuracy == 0.5
    assert shown.flicker == 0.0 and len(shown.shown) == len(frames)
    assert shown.ghosts > 0  # the stray box beside the face, once confirmed
    assert len(shown.confidence) == 20 and shown.correct.tolist() == [True] * 10 + [False] * 10
    # Without smoothing or hysteresis an answer that changes every frame changes the label every frame.
    flipping = [(0, [face], (happy if k % 2 else sad)[None], False) for k in range(frames_a_shot)]
    jumpy = bench.replay(flipping, [labels.index("happy")], bench.Tracker(0.0, confirm=1, hysteresis=0.0), True, labels)
    assert jumpy.flicker == pytest.approx(bench.FPS) and jumpy.accuracy == 0.5


def test_expw_labels_each_face_by_its_box_and_each_is_scored_by_the_face_found_there(tmp_path, capsys):
    """ExpW's label.lst gives each face of a photo a box and a label (FER2013's numbering): each labelled face is
    scored by the program's face that overlaps it most, not by the photo's largest face; a labelled face where none
    was found counts as no face. (Before, the file was read as `path label` rows that named no photo.)"""
    scorer = load_bench("score_results")
    records = [  # (image, faces: box x0, y0, x1, y1 and label), the largest first, as the program writes them
        ("origin/group.jpg", [([300, 20, 500, 220], "happy"), ([10, 30, 110, 130], "angry")]),
        ("origin/alone.jpg", [([40, 40, 140, 140], "sad")]),
        ("origin/none.jpg", []),
        ("origin/unlabelled.jpg", [([0, 0, 50, 50], "happy")]),
    ]
    results = tmp_path / "results.jsonl"
    results.write_text("".join(json.dumps({"frame": i, "image": image, "faces": [
        {"box": box, "label": label, "probability": 0.8} for box, label in faces]}) + "\n"
        for i, (image, faces) in enumerate(records)))
    # image face_id top left right bottom confidence label (0 angry, 3 happy, 4 sad, 6 neutral)
    (tmp_path / "label.lst").write_text(
        "group.jpg 0 32 12 108 128 60.1 0\n"    # the small face on the left: angry, and found angry
        "group.jpg 1 25 305 495 215 80.2 6\n"  # the large face: neutral, found happy
        "group.jpg 2 400 400 450 450 30.0 3\n"  # a face the program did not find
        "alone.jpg 0 45 38 135 142 70.0 4\n"   # sad, found sad
        "none.jpg 0 10 10 90 90 50.0 3\n")     # no face found in the photo
    faces = scorer.read_face_labels(tmp_path / "label.lst")
    answers, labels, by_ending = scorer.by_face(scorer.read_answers(results), faces)
    assert by_ending == 3 and labels == {"origin/group.jpg#0": "0", "origin/group.jpg#1": "6",
                                         "origin/group.jpg#2": "3", "origin/alone.jpg#0": "4", "origin/none.jpg#0": "3"}
    assert {a.image: a.label for a in answers} == {"origin/group.jpg#0": "angry", "origin/group.jpg#1": "happy",
                                                   "origin/group.jpg#2": None, "origin/alone.jpg#0": "sad",
                                                   "origin/none.jpg#0": None, "origin/unlabelled.jpg": "happy"}
    assert scorer.main([str(results), "--labels", str(tmp_path / "label.lst")]) == 0  # ExpW's numbering, unasked
    captured = capsys.readouterr()
    assert "accuracy  0.4000  (5 faces)" in captured.out and "no face found: 2" in captured.out
    assert "not in the labels file" in captured.err  # unlabelled.jpg
    assert scorer.read_face_labels(results) is None and scorer.read_face_labels(tmp_path / "missing.lst") is None
    (tmp_path / "rafdb.txt").write_text("test_0001.jpg 5\n")
    assert scorer.read_face_labels(tmp_path / "rafdb.txt") is None  # a `path label` file is read as before
    assert scorer.main([str(results), "--labels", str(tmp_path / "label.lst"), "--against", str(results)]) == 0
    assert "on the 5 faces both scored: accuracy 0.4000 there, 0.4000 here" in capsys.readouterr().out
    # Faces scored one by one keep what a run with --classes left out of every answer (it was lost: no note)
    results.write_text("".join(json.dumps({"frame": i, "image": image, "faces": [
        {"box": box, "label": label, "probability": 0.8, "probabilities": {"fear": 0.0, label: 0.8}}
        for box, label in faces]}) + "\n" for i, (image, faces) in enumerate(records)))
    answers, _, _ = scorer.by_face(scorer.read_answers(results), faces)
    assert all("fear" in answer.barred for answer in answers if answer.label is not None)


def test_the_python_api_for_video_answers_as_the_program_does_for_a_clip(tmp_path):
    """VideoLabeller, frame by frame, gives what `python -m realtime --source clip.mp4 --json` gives for the same
    frames: the faces shown (confirmed after 3 frames, held after a miss), their ids, boxes and smoothed labels."""
    from realtime.capture import open_source
    from realtime.photos import PhotoLabeller
    from realtime.scene import DemoSource
    from realtime.video import VideoLabeller

    clip = tmp_path / "clip.mp4"
    demo = DemoSource(faces=2, frames=40)
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), demo.fps, demo.size)
    for frame in demo:
        writer.write(frame)
    writer.release()
    ran = run_module("realtime", "--source", str(clip), "--no-display", "--json", str(tmp_path / "r.jsonl"))
    assert ran.returncode == 0, ran.stderr[-2000:]
    records = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    source = open_source(str(clip))
    with VideoLabeller(fps=source.fps) as labeller:  # (a file's rate, as the program takes it)
        answers = [labeller.label(frame) for frame in source]
        assert labeller.label(np.zeros((240, 320, 3), np.uint8)) == []  # a cut to a face-less picture: no face held
    source.close()
    assert len(answers) == len(records) == 40
    assert answers[0] == answers[1] == [] and len(answers[2]) == 2  # shown once found in 3 frames in a row
    assert sum(len(faces) for faces in answers) > 60
    for faces, record in zip(answers, records):
        assert len(faces) == len(record["faces"])
        for face, shown in zip(faces, record["faces"]):
            assert (face.id, face.box, face.score, face.label, face.held) == (
                shown["id"], tuple(shown["box"]), shown["score"], shown["label"], shown["held"])
            assert face.probabilities == pytest.approx(shown["probabilities"], abs=1e-4)
            assert face.probability == max(face.probabilities.values())
    with pytest.raises(ValueError, match="PhotoLabeller"):
        labeller.label(str(clip))
    with pytest.raises(ValueError, match="closed"):
        labeller.label(np.zeros((240, 320, 3), np.uint8))
    for made in (VideoLabeller, PhotoLabeller):  # below the detectors' own floors it could do nothing
        with pytest.raises(ValueError, match="min_confidence must be a number at least 0.5 and at most 1, not 0.3"):
            made(min_confidence=0.3)
        with pytest.raises(ValueError, match="min_face must be an integer at least 0, not 'x'"):  # (was a TypeError)
            made(min_face="x")
        with pytest.raises(ModelError, match="model: an empty name"):  # (was 'model . is a folder')
            made(model="")


def test_the_labellers_take_the_values_the_programs_options_take():
    """VideoLabeller took smoothing 0.99 and hysteresis 0.95, which --smoothing and --hysteresis refuse, and 'a' with a
    bare TypeError: both now check against one table, SETTINGS, which the options' parsers are made from."""
    from realtime.__main__ import parse_args
    from realtime.photos import SETTINGS
    from realtime.video import VideoLabeller

    for name, (kind, least, most) in SETTINGS.items():
        option = "--" + name.replace("_", "-")
        for value in (least - 1 if kind is int else least - 0.01, most + (1 if kind is int else 0.01), "a"):
            if value == math.inf:
                continue
            with pytest.raises(ValueError, match=f"{name} must be"):
                VideoLabeller(**{name: value})
            with pytest.raises(SystemExit):
                parse_args([option, str(value)])
        assert getattr(parse_args([option, str(least)]), name) == least  # the least is taken by both
    with pytest.raises(ValueError, match="confirm must be an integer"):
        VideoLabeller(confirm=2.5)
    with pytest.raises(ValueError, match="hold must be an integer"):
        VideoLabeller(hold=True)
    for fps in (0, -5, math.nan, True, "30"):
        with pytest.raises(ValueError, match="fps must be a number above 0"):
            VideoLabeller(fps=fps)
    with VideoLabeller(fps=10) as labeller:  # a 10-fps file's frames: the settings for 30 fps, lasting as long
        assert (labeller.tracker.confirm, labeller.tracker.hold) == (1, 2)
