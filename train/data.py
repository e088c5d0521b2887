"""Dataset loaders: FER2013 CSV (plain or .gz), FER+ votes, and class-folder images.

Every loader returns a `Dataset`: faces as uint8 arrays of shape (N, size, size) and
labels as float32 probability rows of shape (N, classes) -- one-hot for hard labels,
vote fractions for FER+. Anything malformed raises `DatasetError` with a one-line message.
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from realtime.capture import IMAGE_SUFFIXES, cannot_read, folder_images, read_image, warn_damaged
from realtime.labels import CLASS_ALIASES

FER2013_LABELS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
# FER+ vote columns, in file order, mapped onto our label names.
FERPLUS_VOTE_COLUMNS = ["neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt"]
FERPLUS_LABELS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral", "contempt"]
_FERPLUS_TO_LABEL = {"neutral": "neutral", "happiness": "happy", "surprise": "surprise", "sadness": "sad",
                     "anger": "angry", "disgust": "disgust", "fear": "fear", "contempt": "contempt"}
FERPLUS_OTHER_COLUMNS = ["unknown", "NF"]  # votes for no emotion: they count in the FER+ paper's majority test
FER_SPLITS = {"Training": "train", "PublicTest": "val", "PrivateTest": "test"}
SPLITS = ("train", "val", "test")
FACE_SIZE = 48
# Images larger than this (either side) are photos: the face is found and cropped as the program does.
FACE_CROP_MAX_SIDE = 100
FOLDER_WORKERS = 4  # an image folder is read on at most this many threads (each with its own face detector)
# Folder names people use for the same expression (Kaggle, AffectNet, RAF-DB style layouts; KDEF's `afraid`): CLASS_ALIASES


class DatasetError(ValueError):
    """Bad dataset input; the message is meant to be shown to the user as is."""


@dataclass
class Dataset:
    labels: list[str]
    splits: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    description: str = ""
    no_face: list[Path] = field(default_factory=list)  # photos left out: the program's detector finds no face in them
    cut_with: object = None  # the Crop the faces of photos were cut out with, where they are half or more of the faces
    # (None: mostly face crops, whose framing is theirs, to be measured)
    clear: dict[str, np.ndarray] | None = None  # FER+: per split, the faces the FER+ paper's test keeps (`clear_majority`)

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        if name not in self.splits or len(self.splits[name][0]) == 0:
            raise DatasetError(f"{self.description}: split '{name}' is empty or missing")
        return self.splits[name]


def model_dataset(card: dict, path: str | Path, ferplus: str | Path | None = None) -> Dataset:
    """The dataset a model was trained on, as its training saw it (for the tools that score or export it): the faces
    held out of an image folder's train/ for val and test by the --seed it was trained with (from its card; before,
    the tools held out others, seed 0, and scored faces the model had trained on), and the faces of photos cut out
    with its crop."""
    from realtime.align import Crop

    unreadable: list[Path] = []  # left out, as the trainer left them out (the same faces held out by the seed)
    dataset = load_dataset(path, ferplus=ferplus, seed=trained_seed(card), crop=Crop.from_card(card),
                           unreadable=unreadable)
    note_left_out(unreadable, "{} image{} could not be read")
    return dataset


def note_left_out(files: list[Path], what: str) -> None:
    """A note naming the first few `files` left out of a dataset; `what` is formatted with their number and plural s."""
    if files:
        print(f"note: {what.format(len(files), 's'[:len(files) > 1])}, left out: " + ", ".join(map(str, files[:3]))
              + (", ..." if len(files) > 3 else ""), file=sys.stderr)


def trained_seed(card: dict) -> int:
    """The --seed a model was trained with, from its card (0 where it says none)."""
    return int(((card.get("training") or {}).get("arguments") or {}).get("seed") or 0)


def held_out_of_train(path: str | Path) -> bool:
    """Whether `path` is an image folder whose val or test faces are held out of its train/ (by the --seed): one
    without a val/ (validation/, valid/, in any case) or test/ folder."""
    path = Path(path)
    return path.is_dir() and any(_split_folder(path, split) is None for split in ("val", "test"))


# An image folder's split folders, by name in any case (`Test/`); `valid/` is Roboflow's.
SPLIT_FOLDERS = {"train": ("train",), "val": ("val", "validation", "valid"), "test": ("test",)}


def _split_folder(root: Path, split: str) -> Path | None:
    """An image folder's own folder of a split (a name of SPLIT_FOLDERS, in any case), if it has one; two (`train/`
    and `Train/`, `val/` and `valid/`) are a one-line error, as either would leave the other's faces out unsaid."""
    found = sorted(p for p in root.iterdir() if p.is_dir() and p.name.lower() in SPLIT_FOLDERS[split])
    if len(found) > 1:
        raise DatasetError(f"{root}: {' and '.join(p.name + '/' for p in found)} are both {split} folders: keep one")
    return found[0] if found else None


def load_dataset(path: str | Path, ferplus: str | Path | None = None, seed: int = 0,
                 unreadable: list[Path] | None = None, crop=None) -> Dataset:
    """Load whatever `path` is: a FER2013 CSV (optionally with FER+ votes) or an image folder.

    Given a list as `unreadable`, image files that cannot be decoded are skipped and added to it
    instead of stopping the load. `crop` (a `realtime.align.Crop`): how faces are cut out of the
    photos of an image folder (default: the shipped default model's).
    """
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"dataset not found: {path}")
    if path.is_dir():
        if ferplus:
            raise DatasetError("--ferplus goes with a FER2013 CSV, not an image folder")
        return load_image_folder(path, seed=seed, unreadable=unreadable, crop=crop)
    if ferplus:
        return load_ferplus(path, ferplus)
    return load_fer2013(path)


def _open_text(path: Path):
    raw = path.open("rb")
    magic = raw.read(2)
    raw.seek(0)
    stream = gzip.open(raw) if magic == b"\x1f\x8b" else raw
    return io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")  # (Excel's "CSV UTF-8" begins with a BOM)


def _read_fer_rows(path: Path):
    """Yield (line number, emotion, pixels, usage) with every field validated."""
    ended = 0  # the line the last record read ended on (a csv.Error is of the record after it)
    try:
        with _open_text(path) as handle:
            reader = csv.reader(handle)
            header = [h.strip() for h in next(reader, [])]
            if header[:3] != ["emotion", "pixels", "Usage"]:
                raise DatasetError(f"{path}: expected columns emotion,pixels,Usage, found {','.join(header) or 'nothing'}")
            ended = reader.line_num
            for line, row in enumerate(reader, start=2):
                ended = reader.line_num
                if not row:
                    continue
                if len(row) < 3:
                    raise DatasetError(f"{path}:{line}: expected 3 fields, found {len(row)}")
                emotion, pixels, usage = row[0].strip(), row[1], row[2].strip()
                if usage not in FER_SPLITS:
                    raise DatasetError(f"{path}:{line}: unknown Usage '{usage}' (expected {', '.join(FER_SPLITS)})")
                # ('²' is a digit to isdigit, not to int)
                if not (emotion.isascii() and emotion.isdigit()) or int(emotion) >= len(FER2013_LABELS):
                    raise DatasetError(f"{path}:{line}: emotion '{emotion}' is not a label 0-{len(FER2013_LABELS) - 1}")
                try:
                    values = np.array(pixels.split(), dtype=np.int32) if pixels.strip() else np.empty(0, np.int32)
                except ValueError:
                    bad = next((value for value in pixels.split() if not _is_whole_number(value)), "?")
                    raise DatasetError(f"{path}:{line}: non-numeric pixel value '{bad[:20]}'") from None
                except OverflowError:  # a number past int64 (past 255 is refused below)
                    raise DatasetError(f"{path}:{line}: pixel values must be 0-255") from None
                if values.size != FACE_SIZE * FACE_SIZE:
                    raise DatasetError(f"{path}:{line}: expected {FACE_SIZE * FACE_SIZE} pixels, found {values.size}")
                if values.min() < 0 or values.max() > 255:
                    raise DatasetError(f"{path}:{line}: pixel values must be 0-255")
                yield line, int(emotion), values.astype(np.uint8).reshape(FACE_SIZE, FACE_SIZE), usage
    except csv.Error as err:  # a quote left open takes in the lines after it, up to the field size limit
        raise DatasetError(f"{path}:{ended + 1}: {err} (a quote left open?)") from None
    except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError, zlib.error) as err:
        raise DatasetError(f"{path}: cannot read ({err})") from None


def _is_whole_number(text: str) -> bool:
    try:
        int(text)
        return True
    except ValueError:
        return False


def load_fer2013(path: str | Path) -> Dataset:
    path = Path(path)
    faces, labels, usages = [], [], []
    for _, emotion, pixels, usage in _read_fer_rows(path):
        faces.append(pixels)
        labels.append(emotion)
        usages.append(FER_SPLITS[usage])
    if not faces:
        raise DatasetError(f"{path}: no rows")
    onehot = np.eye(len(FER2013_LABELS), dtype=np.float32)[labels]
    return _split_by_usage(np.stack(faces), onehot, np.array(usages), FER2013_LABELS, f"FER2013 ({path.name})")


def clear_majority(votes: np.ndarray, others: list[float]) -> bool:
    """Whether a face has the clear majority the FER+ paper's test asks for (its reader's "majority" mode, which
    published FER+ accuracies use): once single votes are dropped (a tagger's outlier), one emotion has more than half
    of the votes left, `unknown` and `NF` counted (`others`, their votes). That emotion is then the most-voted one, with
    no tie."""
    kept = np.where(votes > 1, votes, 0.0)
    return bool(kept.max() > 0.5 * (kept.sum() + sum(v for v in others if v > 1)))


def load_ferplus(fer_path: str | Path, votes_path: str | Path) -> Dataset:
    """FER2013 pixels with FER+ soft labels: vote fractions over 8 emotions.

    Rows FER+ marks as non-faces (empty image name) are dropped, and so are rows whose
    votes all went to `unknown`/`NF`; those two columns are otherwise only read for `Dataset.clear`.
    """
    fer_path, votes_path = Path(fer_path), Path(votes_path)
    if not votes_path.exists():
        raise DatasetError(f"FER+ votes not found: {votes_path}")
    rows = list(_read_fer_rows(fer_path))
    ended = 0  # the line the last record read ended on (a csv.Error is of the record after it)
    try:
        with _open_text(votes_path) as handle:
            reader = csv.reader(handle)
            header = [h.strip() for h in next(reader, [])]
            ended = reader.line_num
            missing = [c for c in ["Usage", "Image name", *FERPLUS_VOTE_COLUMNS] if c not in header]
            if missing:
                raise DatasetError(f"{votes_path}: missing FER+ columns {', '.join(missing)}")
            name_col, usage_col = header.index("Image name"), header.index("Usage")
            vote_cols = [header.index(c) for c in FERPLUS_VOTE_COLUMNS]
            other_cols = [header.index(c) for c in FERPLUS_OTHER_COLUMNS if c in header]
            vote_rows = []
            for line, row in enumerate(reader, start=2):
                ended = reader.line_num
                if row:
                    vote_rows.append((line, row))
    except csv.Error as err:
        raise DatasetError(f"{votes_path}:{ended + 1}: {err} (a quote left open?)") from None
    except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError, zlib.error) as err:
        raise DatasetError(f"{votes_path}: cannot read ({err})") from None
    if len(vote_rows) != len(rows):
        raise DatasetError(f"{votes_path}: {len(vote_rows)} vote rows but {fer_path.name} has {len(rows)} faces")
    order = [FERPLUS_LABELS.index(_FERPLUS_TO_LABEL[c]) for c in FERPLUS_VOTE_COLUMNS]
    faces, targets, usages, clear = [], [], [], []
    for (line, row), (fer_line, _, pixels, usage) in zip(vote_rows, rows):
        if len(row) < len(header):
            raise DatasetError(f"{votes_path}:{line}: expected {len(header)} fields, found {len(row)}")
        if row[usage_col].strip() != usage:  # the votes are matched to the faces row by row: a file out of step
            raise DatasetError(f"{votes_path}:{line}: Usage '{row[usage_col].strip()}', but {fer_path.name}:{fer_line} "
                               f"is {usage}: the two files do not line up row by row")
        if not row[name_col].strip():
            continue  # FER+ says: not a face
        try:
            votes = np.array([float(row[c]) for c in vote_cols])
            others = [float(row[c] or 0) for c in other_cols]
        except ValueError:
            raise DatasetError(f"{votes_path}:{line}: vote counts must be numbers") from None
        if not np.isfinite(votes).all():  # (float() takes 'nan' and 'inf': NaN targets, a training that "diverged")
            raise DatasetError(f"{votes_path}:{line}: vote counts must be finite numbers")
        if votes.min() < 0:
            raise DatasetError(f"{votes_path}:{line}: negative vote count")
        if votes.sum() == 0:
            continue  # every vote was unknown / not-a-face
        target = np.zeros(len(FERPLUS_LABELS), np.float32)
        target[order] = votes / votes.sum()
        faces.append(pixels)
        targets.append(target)
        usages.append(FER_SPLITS[usage])
        clear.append(clear_majority(votes, others))
    if not faces:
        raise DatasetError(f"{votes_path}: no face rows with emotion votes")
    dataset = _split_by_usage(np.stack(faces), np.stack(targets), np.array(usages), FERPLUS_LABELS,
                              f"FER+ ({fer_path.name} + {votes_path.name})")
    usages = np.array(usages)
    dataset.clear = {name: np.array(clear)[usages == name] for name in SPLITS}
    return dataset


def _split_by_usage(faces, targets, usages, labels, description) -> Dataset:
    splits = {name: (faces[usages == name], targets[usages == name]) for name in SPLITS}
    return Dataset(labels=list(labels), splits=splits, description=description)


def default_crop():
    """The crop faces are cut out of photos with when no model to fine-tune names one: the shipped default model's."""
    from realtime.align import Crop
    from realtime.card import read_card
    from realtime.classify import DEFAULT_MODEL

    return Crop.from_card(read_card(DEFAULT_MODEL))


class PhotoFaces:
    """Faces cut out of photos exactly as `python -m realtime --source photo.jpg` cuts them: its photo
    detector (faces lying turned are cut upright), the largest face, eyes levelled, the model's crop; so a
    model learns from what it is shown. The detector is made on the thread that makes this (MediaPipe says its
    piece on start-up through a redirected stderr, which is one for the whole process); `face` may run on any."""

    def __init__(self, crop=None):
        from realtime.photos import photo_detector

        self.crop, self.detector = crop or default_crop(), photo_detector()

    def face(self, photo: np.ndarray) -> np.ndarray | None:
        """The 48x48 grey crop of the photo's largest face (BGR photo), or None when no face is found."""
        from realtime.align import align_face

        faces = self.detector.detect(photo)
        return align_face(photo, faces[0], FACE_SIZE, self.crop) if faces else None


def _face_or_photo(path: Path) -> np.ndarray:
    """A small image as the 48x48 grey face crop it is (resized), or a larger one (a photo) as read, in BGR, for
    its face to be found and cut out as the program does (`PhotoFaces`)."""
    import cv2

    image = read_image(path, warn=lambda damage: warn_damaged(str(path), damage))
    if image is None:
        raise DatasetError(cannot_read(path))
    if max(image.shape[:2]) > FACE_CROP_MAX_SIDE:
        return image
    image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.shape != (FACE_SIZE, FACE_SIZE):
        image = cv2.resize(image, (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_AREA)
    return image


def _read_face_images(files: list[Path], crop=None):
    """(48x48 face or None when a photo has none, DatasetError or None, whether it is a photo's) for each file, in
    order. The files are
    read one after another here; the photos' faces are searched for several at a time, one thread per CPU core
    (at most FOLDER_WORKERS), each with its own `PhotoFaces`, made here when a photo first needs it."""
    from realtime import side_by_side, usable_cores

    def jobs():
        for file in files:
            try:
                image = _face_or_photo(file)
            except DatasetError as error:
                yield (None, error), None
                continue
            if image.ndim == 2:  # a face crop already
                yield (image, None), None
            else:
                yield (None, None), lambda photos, photo=image: photos.face(photo)

    workers = max(1, min(usable_cores(), FOLDER_WORKERS, len(files)))
    for (face, error), found in side_by_side(jobs(), lambda: PhotoFaces(crop), workers):
        yield (face if found is None else found), error, found is not None


def _read_class_folders(root: Path) -> dict[str, list[Path]]:
    loose = sorted(p for p in root.iterdir() if p.is_file() and not p.name.startswith(".")
                   and p.suffix.lower() in IMAGE_SUFFIXES)
    if loose:  # (left out unsaid before)
        print(f"note: {len(loose)} image{'s are' if len(loose) > 1 else ' is'} directly in {root}, in no class folder, left "
              f"out (such as {loose[0].name}: put each in {root}/<class>/)", file=sys.stderr)
    found: dict[str, list[Path]] = {}
    for folder in sorted(p for p in root.iterdir()  # not .ipynb_checkpoints, nor macOS's __MACOSX (a zip's)
                         if p.is_dir() and not p.name.startswith(".") and p.name != "__MACOSX"):
        name = CLASS_ALIASES.get(folder.name.lower())
        if name is None:
            raise DatasetError(f"{folder}: unknown class folder '{folder.name}' (known: {', '.join(sorted(set(CLASS_ALIASES.values())))})")
        files = folder_images(folder)  # subfolders too, as the program reads a folder
        found.setdefault(name, []).extend(files)
    return found


def load_image_folder(root: str | Path, seed: int = 0, holdout: float = 0.1,
                      unreadable: list[Path] | None = None, crop=None) -> Dataset:
    """`root/train/<class>/*.png|jpg` (subfolders too), with optional `val/` (or `validation/`, `valid/`) and `test/`
    beside it (in any case: `Train/`, `Test/`); or `root/<class>/` alone, the training split.

    Images up to 100x100 px are face crops, used as they are (resized to 48x48); in larger ones the
    face is found and cut out as the program does (`PhotoFaces`, with `crop`), and photos without a
    face are left out (listed in the dataset's `no_face`). Missing val/test splits are carved out
    of train, stratified, `holdout` each.
    """
    root = Path(root)
    train_dir = _split_folder(root, "train") or root / "train"
    if not train_dir.is_dir():
        if not (root.is_dir() and any(p.is_dir() and p.name.lower() in CLASS_ALIASES for p in root.iterdir())):
            raise DatasetError(f"{root}: expected class folders (happy/, sad/, ...), or a train/ folder of them")
        # Class folders alone (`faces/happy/*.png`), as most image datasets come: they are the training split, with
        # a validation and a test share held out of them (they were refused, 'put them in train/')
        print(f"note: {root} has class folders and no train/ folder: training on them, with {holdout:.0%} of each "
              "class held out for validation and as much for the test", file=sys.stderr)
        train_dir = root
    train_files = _read_class_folders(train_dir)
    labels = [name for name in FERPLUS_LABELS if name in train_files]
    if not labels:
        raise DatasetError(f"{train_dir}: no class folders")
    eye = np.eye(len(labels), dtype=np.float32)
    no_face: list[Path] = []
    cut: list[Path] = []  # photos whose faces were cut out

    def load(files_by_class: dict[str, list[Path]], where: Path):
        faces, targets = [], []
        for name in files_by_class:
            if name not in labels:
                raise DatasetError(f"{where}: class folder '{name}' does not exist in train/")
        named = [(name, file) for name, files in files_by_class.items() for file in files]
        for (name, file), (face, error, photo) in zip(named, _read_face_images([file for _, file in named], crop)):
            if error is not None:
                if unreadable is None:
                    raise error
                unreadable.append(file)
                continue
            if face is None:
                no_face.append(file)
                continue
            if photo:
                cut.append(file)
            faces.append(face)
            targets.append(eye[labels.index(name)])
        if not faces:
            return np.empty((0, FACE_SIZE, FACE_SIZE), np.uint8), np.empty((0, len(labels)), np.float32)
        return np.stack(faces), np.stack(targets)

    splits = {"train": load(train_files, train_dir)}
    if len(splits["train"][0]) == 0:
        if no_face:
            raise DatasetError(f"{train_dir}: no face found in any of its {len(no_face)} photos")
        raise DatasetError(f"{train_dir}: no images (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
    for split in ("val", "test"):
        folder = _split_folder(root, split)
        if folder is not None:
            splits[split] = load(_read_class_folders(folder), folder)
    rng = np.random.default_rng(seed)
    for split in ("val", "test"):
        if split not in splits:
            splits["train"], splits[split] = _stratified_holdout(*splits["train"], holdout, rng)
    faces = sum(len(split[0]) for split in splits.values())
    return Dataset(labels=labels, splits=splits, description=f"image folder ({root.name})", no_face=no_face,
                   cut_with=(crop or default_crop()) if 2 * len(cut) >= faces else None)


def _stratified_holdout(faces, targets, fraction, rng):
    classes = targets.argmax(1)
    held = np.zeros(len(classes), bool)
    for c in np.unique(classes):
        idx = np.flatnonzero(classes == c)
        count = max(1, int(round(len(idx) * fraction)))  # a small class gives one face (round() gave none up to 5)
        if len(idx) > 1:
            held[rng.choice(idx, size=min(count, len(idx) - 1), replace=False)] = True
    return (faces[~held], targets[~held]), (faces[held], targets[held])
