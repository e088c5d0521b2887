"""Dataset loaders: every supported format, and every kind of bad input."""

from __future__ import annotations

import gzip

import cv2
import numpy as np
import pytest

from tests.conftest import pattern_face, write_fer_csv
from train.data import FERPLUS_LABELS, DatasetError, load_dataset

FERPLUS_HEADER = "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF"


@pytest.mark.parametrize("name", ["fer2013.csv", "fer2013.csv.gz"])
def test_fer2013_csv_plain_and_gzip(tmp_path, name):
    path = tmp_path / name
    rows = write_fer_csv(path, {"Training": 14, "PublicTest": 7, "PrivateTest": 5})
    data = load_dataset(path)
    assert [len(data.splits[s][0]) for s in ("train", "val", "test")] == [14, 7, 5]
    faces, targets = data.split("train")
    assert faces.shape == (14, 48, 48) and faces.dtype == np.uint8
    assert targets.argmax(1).tolist() == [label for label, usage in rows if usage == "Training"]
    assert faces[3][4 + 6 * 3, 10] == 220  # the label-3 band survived parsing


def test_fer_pixels_round_trip_exactly(tmp_path):
    path = tmp_path / "one.csv"
    face = np.arange(48 * 48, dtype=np.int64).reshape(48, 48) % 256
    path.write_text("emotion,pixels,Usage\n5," + " ".join(map(str, face.ravel())) + ",PrivateTest\n")
    faces, targets = load_dataset(path).split("test")
    assert np.array_equal(faces[0], face.astype(np.uint8))
    assert targets[0].argmax() == 5


@pytest.mark.parametrize("content, message", [
    ("emotion,image,Usage\n0,1 2,Training\n", "expected columns emotion,pixels,Usage"),
    ("emotion,pixels,Usage\n0,1 2 3,Training\n", ":2: expected 2304 pixels, found 3"),
    ("emotion,pixels,Usage\n9," + " ".join(["1"] * 2304) + ",Training\n", ":2: emotion '9' is not a label"),
    ("emotion,pixels,Usage\n0," + " ".join(["1"] * 2304) + ",Somewhere\n", ":2: unknown Usage 'Somewhere'"),
    ("emotion,pixels,Usage\n0," + " ".join(["300"] * 2304) + ",Training\n", ":2: pixel values must be 0-255"),
    ("emotion,pixels,Usage\n0," + " ".join(["1"] * 2303) + " 7.5,Training\n", ":2: non-numeric pixel value '7.5'"),
    ("emotion,pixels,Usage\n", "no rows"),
    # These raised a traceback: a number past int64, a digit int() does not take, a quote left open (the csv module
    # reads on to the field size limit), a deflate stream that zlib refuses.
    ("emotion,pixels,Usage\n0," + " ".join(["1"] * 2303) + " 99999999999999999999,Training\n", ":2: pixel values must be 0-255"),
    ("emotion,pixels,Usage\n\u00b2," + " ".join(["1"] * 2304) + ",Training\n", ":2: emotion '\u00b2' is not a label"),
    ("emotion,pixels,Usage\n0," + " ".join(["1"] * 2304) + ",Training\n0,\"" + " ".join(["1"] * 2304) + ",Training\n"
     + ("0," + " ".join(["1"] * 2304) + ",Training\n") * 40, ":3: field larger than field limit"),
])
def test_bad_fer_csv(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(DatasetError, match=message.replace("(", r"\(")) as err:
        load_dataset(path)
    assert "\n" not in str(err.value)


def test_a_csv_saved_by_excel_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "fer.csv"
    write_fer_csv(path, {"Training": 3, "PublicTest": 1, "PrivateTest": 1})
    plain = load_dataset(path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # Excel's "CSV UTF-8"
    assert all(np.array_equal(load_dataset(path).splits[s][0], plain.splits[s][0]) for s in ("train", "val", "test"))


def test_bad_row_reports_its_line_in_a_larger_file(tmp_path):
    path = tmp_path / "fer.csv"
    write_fer_csv(path, {"Training": 5})
    lines = path.read_text().splitlines()
    label, pixels, usage = lines[4].split(",")
    lines[4] = ",".join([label, pixels.rsplit(" ", 1)[0], usage])  # the row on line 5 loses one pixel
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match=r"fer.csv:5: expected 2304 pixels, found 2303"):
        load_dataset(path)


def test_missing_file_and_corrupt_gzip(tmp_path):
    with pytest.raises(DatasetError, match="dataset not found"):
        load_dataset(tmp_path / "nope.csv")
    broken = tmp_path / "fer2013.csv.gz"
    broken.write_bytes(gzip.compress(b"emotion,pixels,Usage\n" * 100)[:30])
    with pytest.raises(DatasetError, match="cannot read"):
        load_dataset(broken)
    corrupt = bytearray(gzip.compress(b"emotion,pixels,Usage\n" * 100))
    corrupt[10] = 0x07  # the first deflate block of an invalid type: zlib.error, which is no OSError
    broken.write_bytes(bytes(corrupt))
    with pytest.raises(DatasetError, match="cannot read .*invalid block type"):
        load_dataset(broken)


def test_empty_split_is_reported(tmp_path):
    path = tmp_path / "fer.csv"
    write_fer_csv(path, {"Training": 7, "PublicTest": 7})
    with pytest.raises(DatasetError, match="split 'test' is empty"):
        load_dataset(path).split("test")


def _write_votes(path, rows):
    path.write_text(FERPLUS_HEADER + "\n" + "\n".join(rows) + "\n")


def test_ferplus_soft_labels_drop_non_faces(tmp_path):
    fer = tmp_path / "fer2013.csv"
    write_fer_csv(fer, {"Training": 2, "PublicTest": 1, "PrivateTest": 1})
    votes = tmp_path / "fer2013new.csv"
    _write_votes(votes, [
        "Training,fer0.png,4,0,0,1,3,2,0,0,0,0",  # neutral 4, sadness 1, anger 3, disgust 2
        "Training,,0,0,0,0,0,0,0,0,0,10",  # not a face: dropped
        "PublicTest,fer2.png,0,0,0,0,0,0,0,0,10,0",  # only 'unknown' votes: dropped
        "PrivateTest,fer3.png,0,0,0,0,0,0,0,6,2,2",  # contempt
    ])
    data = load_dataset(fer, ferplus=votes)
    assert data.labels == FERPLUS_LABELS
    faces, targets = data.split("train")
    assert len(faces) == 1
    expected = dict(neutral=0.4, sad=0.1, angry=0.3, disgust=0.2)
    assert np.allclose(targets[0], [expected.get(name, 0.0) for name in FERPLUS_LABELS])
    assert len(data.splits["val"][0]) == 0
    assert data.split("test")[1][0].argmax() == FERPLUS_LABELS.index("contempt")


def test_ferplus_faces_with_a_clear_majority_are_those_the_ferplus_paper_tests_on(tmp_path):
    """The FER+ paper's test (its reader's "majority" mode, behind published FER+ accuracies): single votes dropped,
    then one emotion with more than half of the votes left, `unknown` and `NF` counted."""
    fer = tmp_path / "fer2013.csv"
    write_fer_csv(fer, {"Training": 2, "PublicTest": 2, "PrivateTest": 3})
    votes = tmp_path / "fer2013new.csv"
    _write_votes(votes, [
        "Training,fer0.png,4,0,0,1,3,2,0,0,0,0",  # neutral 4 of 9 once the single vote is dropped: no majority
        "Training,fer1.png,6,0,0,1,0,0,0,0,2,1",  # neutral 6 of 8 (sadness 1 and NF 1 dropped): clear
        "PublicTest,fer2.png,5,0,0,0,0,0,0,0,5,0",  # neutral 5, unknown 5: not over half
        "PublicTest,fer3.png,5,4,0,0,0,0,0,0,0,1",  # neutral 5 of 9: clear
        "PrivateTest,fer4.png,0,0,0,0,0,0,0,6,2,2",  # contempt 6 of 10: clear
        "PrivateTest,fer5.png,3,3,0,0,0,0,0,0,4,0",  # a tie, and unknown the most: not clear
        "PrivateTest,fer6.png,0,2,1,1,1,1,1,1,1,1",  # happiness 2 of 2 once the eight single votes are dropped: clear
    ])
    data = load_dataset(fer, ferplus=votes)
    assert {split: data.clear[split].tolist() for split in ("train", "val", "test")} == {
        "train": [False, True], "val": [False, True], "test": [True, False, True]}
    assert len(data.split("test")[0]) == 3  # every face is still scored, and trained on


def test_ferplus_bad_inputs(tmp_path):
    fer = tmp_path / "fer2013.csv"
    write_fer_csv(fer, {"Training": 2})
    votes = tmp_path / "votes.csv"
    _write_votes(votes, ["Training,a.png,1,0,0,0,0,0,0,0,0,0"])
    with pytest.raises(DatasetError, match="1 vote rows but fer2013.csv has 2 faces"):
        load_dataset(fer, ferplus=votes)
    votes.write_text("Usage,Image name,neutral\nTraining,a.png,1\n")
    with pytest.raises(DatasetError, match="missing FER\\+ columns happiness"):
        load_dataset(fer, ferplus=votes)
    with pytest.raises(DatasetError, match="FER\\+ votes not found"):
        load_dataset(fer, ferplus=tmp_path / "missing.csv")
    for bad in ("nan", "inf", "1e999"):  # float() takes them: NaN targets, and a training that "diverged" (lower --lr)
        _write_votes(votes, ["Training,a.png,1,0,0,0,0,0,0,0,0,0", f"Training,b.png,{bad},1,0,0,0,0,0,0,0,0"])
        with pytest.raises(DatasetError, match="votes.csv:3: vote counts must be finite numbers"):
            load_dataset(fer, ferplus=votes)
    _write_votes(votes, ["Training,a.png,1,0,0,0,0,0,0,0,0,0", 'Training,"b.png,1,0,0,0,0,0,0,0,0,0'] + ["x" * 5000] * 30)
    with pytest.raises(DatasetError, match="votes.csv:3: field larger than field limit"):
        load_dataset(fer, ferplus=votes)


def test_ferplus_votes_out_of_step_with_the_faces_are_refused(tmp_path):
    """The votes are matched to the faces row by row; a file out of step (as many rows, another order) gave every
    face another face's votes, unsaid: its Usage column, required, was never compared."""
    fer = tmp_path / "fer2013.csv"
    write_fer_csv(fer, {"Training": 2, "PublicTest": 1})
    votes = tmp_path / "votes.csv"
    _write_votes(votes, ["Training,a.png,1,0,0,0,0,0,0,0,0,0", "PublicTest,c.png,0,1,0,0,0,0,0,0,0,0",
                         "Training,b.png,0,0,1,0,0,0,0,0,0,0"])
    with pytest.raises(DatasetError, match="votes.csv:3: Usage 'PublicTest', but fer2013.csv:3 is Training: the two "
                                           "files do not line up"):
        load_dataset(fer, ferplus=votes)


def _image_folder(root, split, counts, rng):
    for name, count in counts.items():
        (root / split / name).mkdir(parents=True)
        for i in range(count):
            label = ["angry", "happy", "sad"].index(name.lower().replace("happiness", "happy"))
            cv2.imwrite(str(root / split / name / f"{i}.png"), cv2.resize(pattern_face(label, rng), (96, 96)))


def test_image_folder_with_test_split_and_aliases(tmp_path):
    rng = np.random.default_rng(0)
    _image_folder(tmp_path, "train", {"angry": 10, "Happiness": 10, "sad": 10}, rng)
    _image_folder(tmp_path, "test", {"angry": 2, "sad": 3}, rng)
    (tmp_path / "train" / ".ipynb_checkpoints").mkdir()  # hidden folders (Jupyter's) are no class folders
    data = load_dataset(tmp_path)
    assert data.labels == ["angry", "happy", "sad"]
    faces, targets = data.split("test")
    assert faces.shape == (5, 48, 48)  # 96x96 files resized to the model's size
    assert sorted(targets.argmax(1).tolist()) == [0, 0, 2, 2, 2]
    assert len(data.split("train")[0]) + len(data.split("val")[0]) == 30  # val held out of train
    assert data.cut_with is None  # face crops only: no crop of the trainer's


def test_split_folders_named_in_another_case_or_valid_are_read_not_left_out(tmp_path):
    """Roboflow's `valid/`, and `Train/` `Test/` as Windows and macOS show them: the folders were left out unsaid
    (Train/ refused), and val and test held out of train/ instead."""
    rng = np.random.default_rng(0)
    _image_folder(tmp_path, "Train", {"angry": 10, "happy": 10}, rng)
    _image_folder(tmp_path, "valid", {"angry": 3, "happy": 2}, rng)
    _image_folder(tmp_path, "Test", {"angry": 1, "happy": 4}, rng)
    data = load_dataset(tmp_path)
    held = {split: data.split(split)[1].sum(0).tolist() for split in ("train", "val", "test")}
    assert held == {"train": [10, 10], "val": [3, 2], "test": [1, 4]}
    _image_folder(tmp_path, "val", {"angry": 2}, rng)  # two val folders (or train/ beside an unzipped Train/): one
    with pytest.raises(DatasetError, match=r": val/ and valid/ are both val folders: keep one$"):  # left out unsaid
        load_dataset(tmp_path)


def test_a_small_folder_without_val_or_test_still_holds_a_face_of_each_class_out(tmp_path):
    """10% of 5 faces rounded to none: a folder of 5 photos a class stopped with "split 'val' is empty or missing"."""
    rng = np.random.default_rng(0)
    _image_folder(tmp_path, "train", {"angry": 5, "happy": 5, "sad": 2}, rng)
    (tmp_path / "train" / "__MACOSX" / "sad").mkdir(parents=True)  # what a zip made on a Mac holds: no class folder
    data = load_dataset(tmp_path)
    assert data.labels == ["angry", "happy", "sad"]
    held = {split: data.split(split)[1].sum(0).tolist() for split in ("train", "val", "test")}
    assert held == {"train": [3, 3, 1], "val": [1, 1, 1], "test": [1, 1, 0]}  # (a class of 2: one kept to train on)


def test_class_folders_alone_are_the_training_split(tmp_path, capsys):
    """`faces/happy/*.png`, `faces/sad/*.png`, as most image datasets come, were refused ('put them in train/'): they are
    the training split, a tenth of each class held out for validation and another for the test, with a note."""
    _image_folder(tmp_path, "faces", {"angry": 10, "Happiness": 10, "sad": 10}, np.random.default_rng(0))
    data = load_dataset(tmp_path / "faces")
    assert data.labels == ["angry", "happy", "sad"]
    assert {split: data.split(split)[1].sum(0).tolist() for split in ("train", "val", "test")} == {
        "train": [8, 8, 8], "val": [1, 1, 1], "test": [1, 1, 1]}
    assert "has class folders and no train/ folder: training on them, with 10% of each class held out" in \
        capsys.readouterr().err


def test_image_folder_bad_inputs(tmp_path):
    rng = np.random.default_rng(0)
    with pytest.raises(DatasetError, match=r"expected class folders \(happy/, sad/, ...\), or a train/ folder of them$"):
        load_dataset(tmp_path)
    _image_folder(tmp_path, "train", {"angry": 3, "happy": 3}, rng)
    (tmp_path / "train" / "bored").mkdir()
    with pytest.raises(DatasetError, match="unknown class folder 'bored'"):
        load_dataset(tmp_path)
    (tmp_path / "train" / "bored").rmdir()
    _image_folder(tmp_path, "test", {"sad": 2}, rng)
    with pytest.raises(DatasetError, match="class folder 'sad' does not exist in train/"):
        load_dataset(tmp_path)
    (tmp_path / "train" / "happy" / "broken.png").write_bytes(b"not an image")
    with pytest.raises(DatasetError, match="cannot read image"):
        load_dataset(tmp_path)


def test_photos_in_an_image_folder_are_cropped_as_the_program_crops_them(tmp_path):
    """Photos larger than a face crop: the face is found and cut out by the program's own photo path
    (so the model learns from what it is shown; a photo lying on its side is cut upright, as the program
    cuts it); small images are face crops, used as they are; a photo without a face is left out and listed."""
    from realtime.align import Crop
    from realtime.classify import Classifier
    from realtime.photos import photo_pipeline
    from realtime.scene import background, paste_face

    crop = Crop(1.3, 0.05)
    photos = {}
    for split, name, seed, width, center in [("train", "happy", 0, 90, (300, 200)), ("train", "sad", 1, 60, (120, 140)),
                                             ("test", "happy", 2, 120, (200, 180)), ("test", "sad", 3, 70, (400, 250))]:
        (tmp_path / split / name / "deep").mkdir(parents=True)
        photo = background(480, 360, seed=seed)
        paste_face(photo, width, center, angle=8.0 * (seed - 1.5))
        if seed == 3:  # turned without its EXIF orientation
            photo = cv2.rotate(photo, cv2.ROTATE_90_CLOCKWISE)
        path = tmp_path / split / name / "deep" / "photo.jpg"  # subfolders of a class folder are read too
        cv2.imwrite(str(path), photo, [cv2.IMWRITE_JPEG_QUALITY, 98])
        photos[split, name] = cv2.imread(str(path))
    cv2.imwrite(str(tmp_path / "train" / "sad" / "empty_room.png"), background(320, 240, seed=9))
    small = pattern_face(1, np.random.default_rng(0))
    cv2.imwrite(str(tmp_path / "train" / "sad" / "crop.png"), small)

    data = load_dataset(tmp_path, crop=crop)
    assert data.no_face == [tmp_path / "train" / "sad" / "empty_room.png"]
    assert data.cut_with == crop  # what the card gets: the faces were cut with it, whatever they measure
    faces, targets = data.split("test")
    pipeline = photo_pipeline(Classifier())
    pipeline.crops, pipeline.mirror = [crop], False  # the one view a training face is
    for face, target in zip(faces, targets):
        name = data.labels[int(target.argmax())]
        photo = photos["test", name]
        shown = pipeline.process(photo).crops[0]  # what the program feeds the model for this photo
        assert np.array_equal(face, shown), name
    train_faces = data.splits["train"][0].tolist() + data.splits["val"][0].tolist()
    assert len(train_faces) == 3 and small.tolist() in train_faces  # the 48x48 crop as it is


def test_an_image_folder_read_on_several_threads_is_the_same_as_read_one_file_at_a_time(tmp_path, monkeypatch):
    """Photos are searched for faces several at a time; the faces, their order, the photos without a face and the
    unreadable files come out exactly as one at a time."""
    import train.data
    from realtime.scene import background, paste_face

    rng = np.random.default_rng(0)
    for i in range(9):
        name = ("happy", "sad")[i % 2]
        (tmp_path / "train" / name).mkdir(parents=True, exist_ok=True)
        photo = background(320, 240, seed=i)
        if i % 4 != 3:  # every fourth has no face
            paste_face(photo, float(rng.uniform(60, 120)), (float(rng.uniform(100, 220)), 120.0))
        cv2.imwrite(str(tmp_path / "train" / name / f"{i}.jpg"), photo)
        cv2.imwrite(str(tmp_path / "train" / name / f"{i}.png"), pattern_face(i % 2, rng))  # a face crop
    (tmp_path / "train" / "sad" / "3b.jpg").write_bytes(b"not a picture")
    read = {}
    for workers in (1, 3):
        monkeypatch.setattr(train.data, "FOLDER_WORKERS", workers)
        unreadable: list = []
        read[workers] = load_dataset(tmp_path, unreadable=unreadable), unreadable
    (one, one_unreadable), (three, three_unreadable) = read[1], read[3]
    assert one_unreadable == three_unreadable == [tmp_path / "train" / "sad" / "3b.jpg"]
    assert one.no_face == three.no_face and len(one.no_face) == 2
    for split in one.splits:
        assert all(np.array_equal(a, b) for a, b in zip(one.splits[split], three.splits[split])), split
    with pytest.raises(DatasetError, match="cannot read image .*3b.jpg"):  # without a list for them: the first one
        load_dataset(tmp_path)


def test_a_folder_of_photos_without_faces_is_a_one_line_error(tmp_path):
    from realtime.scene import background

    for name in ("happy", "sad"):
        (tmp_path / "train" / name).mkdir(parents=True)
        cv2.imwrite(str(tmp_path / "train" / name / "room.jpg"), background(320, 240, seed=len(name)))
    with pytest.raises(DatasetError, match="no face found in any of its 2 photos"):
        load_dataset(tmp_path)
