"""Photo labels as photo sets give them: class folders, class names and numbers, labels files, file names.

What `bench/score_results.py` scores a run's photos by, and `python -m realtime.report` groups them by: a photo's class
is its row in a labels file (`read_labels`, matched to the results' names by `matched_labels`), or else its class
folder, or else the class its file name gives (KDEF, JAFFE, RaFD).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

# The class names each class stands for (in any letter case): folders and labels as datasets name them
CLASS_ALIASES = {
    "angry": "angry", "anger": "angry", "disgust": "disgust", "disgusted": "disgust", "fear": "fear",
    "fearful": "fear", "afraid": "fear", "scared": "fear", "happy": "happy", "happiness": "happy", "sad": "sad",
    "sadness": "sad", "surprise": "surprise", "surprised": "surprise", "neutral": "neutral", "contempt": "contempt",
    "contemptuous": "contempt",  # (RaFD's word)
}

# Datasets' class numbers: the class of each number from 0 (None: a number the dataset does not use).
NUMBERINGS = {
    "fer2013": ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"],
    "affectnet": ["neutral", "happy", "sad", "surprise", "fear", "disgust", "angry", "contempt"],
    "rafdb": [None, "surprise", "fear", "disgust", "happy", "sad", "angry", "neutral"],
    "ckplus": ["neutral", "angry", "contempt", "disgust", "fear", "happy", "sad", "surprise"],
    "expw": ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"],  # (label.lst: FER2013's order)
}

# Datasets that name a photo's class in its file name, where no class folder does: KDEF's `AF01AFS.JPG` (session, sex,
# person, expression, angle) and JAFFE's `KA.AN1.39.tiff` (poser, expression and take, number) by the expression's
# code (CLASS_CODES), RaFD's `Rafd090_01_Caucasian_female_angry_frontal.jpg` (camera angle, person, ethnicity, sex,
# expression, gaze) by its word
NAMED_CLASS = (re.compile(r"[AB][FM]\d\d(AF|AN|DI|HA|NE|SA|SU)(S|HL|HR|FL|FR)\.\w+", re.IGNORECASE),
               re.compile(r"[A-Z]{2}\.(AN|DI|FE|HA|NE|SA|SU)\d*\.\d+\.\w+", re.IGNORECASE),
               re.compile(r"Rafd\d+_\d+_[a-z]+_(?:fe)?male_([a-z]+)_(?:frontal|left|right)\.\w+", re.IGNORECASE))
CKPLUS_FRAME = re.compile(r"S\d+_\d+_\d+\.\w+", re.IGNORECASE)  # a CK+ frame's file name: S005_001_00000011.png
CKPLUS_LABELS = "CK+ gives its classes in its Emotion/ folder: --labels CK+/Emotion --numbers ckplus"  # (said where
# CK+'s frames are scored or drawn by --numbers ckplus alone)
CLASS_CODES = {"AF": "fear", "FE": "fear", "AN": "angry", "DI": "disgust", "HA": "happy", "NE": "neutral", "SA": "sad",
               "SU": "surprise"}


class LabelsError(ValueError):
    """A labels file that cannot be read; the message is meant for the user."""


def class_number(label: str) -> int | None:
    """The class number a label is (`5`, CK+'s `3.0000000e+00`), or None."""
    try:
        value = float(label)
    except ValueError:
        return None
    return int(value) if value.is_integer() and value >= 0 else None


def true_class(given: str | None, numbers: list[str | None] | None = None) -> str | None:
    """The class a class folder's name or a label stands for (by `numbers`, a numbering, for a class number)."""
    if given is None:
        return None
    if numbers is not None and (index := class_number(given)) is not None:
        return numbers[index] if index < len(numbers) else None
    return CLASS_ALIASES.get(given.strip().lower())


def read_labels(path: Path) -> dict[str, str]:
    """{photo path: label} from a file of `path,label` rows (or separated by semicolons, tabs or spaces, as RAF-DB's
    `test_0001.jpg 5`); a first row that names no known class and no class number is a header. A folder is CK+'s
    Emotion/: `S005/001/S005_001_00000011_emotion.txt` holds the class number of `S005/001/S005_001_00000011.png`."""
    if path.is_dir():
        rows = {file.relative_to(path).as_posix().removesuffix("_emotion.txt") + ".png": file.read_text().strip()
                for file in sorted(path.rglob("*_emotion.txt"))}
        if not rows:
            raise LabelsError(f"{path}: no CK+ emotion files in this folder (S005/001/S005_001_00000011_emotion.txt)")
        return rows
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:  # (Excel's CSV begins with a byte-order mark)
            text = handle.read()
        lines = [line for line in text.splitlines() if line.strip()]
        first = lines[0] if lines else ""
        delimiter = next((d for d in ",;\t" if d in first), None)
        if delimiter is None:  # `name label`: the label is the last word, a name may hold spaces
            rows = [line.strip().rsplit(None, 1) for line in lines]
        else:
            rows = [row for row in csv.reader(lines, delimiter=delimiter) if row]
    except UnicodeDecodeError:
        raise LabelsError(f"cannot read labels file {path}: not a text file") from None
    except (OSError, csv.Error) as error:
        raise LabelsError(f"cannot read labels file {path}: {getattr(error, 'strerror', None) or error}") from None
    if rows and len(rows[0]) == 2 and true_class(rows[0][1]) is None and class_number(rows[0][1]) is None:
        rows = rows[1:]  # header
    for number, row in enumerate(rows, 1):
        if len(row) != 2:
            raise LabelsError(f"{path}: row {number} is not `path,label`: {','.join(row)[:80]}")
    if not rows:
        raise LabelsError(f"{path}: no `path,label` rows")
    return {Path(photo.strip()).as_posix(): label.strip() for photo, label in rows}


def matched_labels(images: list[str], labels: dict[str, str]) -> tuple[dict[str, str], int]:
    """({image: label}, how many matched otherwise than by their own path): each image by its own path, or else by the
    one labels path that shares the longest ending with it: results of a subfolder of the labelled folder, of a folder
    above it, or of a copy laid out otherwise (`mine/happy/x.jpg` is the labels file's `images/x.jpg` where only one
    labelled photo is called `x.jpg`). Endings are compared in any letter case and with Windows' backslashes as
    slashes (KDEF's `AF01AFS.JPG` listed as `af01afs.jpg`; `rafd\\x.jpg`), and where none is shared so, without the
    file's suffix (a converted copy: `x.tif` for the `x.jpg` labelled)."""
    def normal(path: str) -> str:
        return path.replace("\\", "/").lower()

    forms = (normal, lambda path: re.sub(r"\.[^./]+$", "", normal(path)))
    endings: list[dict[str, list[str]]] = [{}, {}]
    for path in labels:
        for form, table in zip(forms, endings):
            parts = form(path).split("/")
            for i in range(len(parts)):
                table.setdefault("/".join(parts[i:]), []).append(path)
    matched, by_ending = {}, 0
    for image in images:
        image = Path(image).as_posix()
        for name in (image, re.sub(r"_aligned(\.[^./]+)$", r"\1", image)):  # RAF-DB: x_aligned.jpg is its x.jpg
            if name in labels:
                matched[image] = labels[name]
                break
            candidates = next((found for form, table in zip(forms, endings) for parts in [form(name).split("/")]
                               for i in range(len(parts)) if (found := table.get("/".join(parts[i:])))), [])
            if len(candidates) == 1:
                matched[image], by_ending = labels[candidates[0]], by_ending + 1
                break
    return matched, by_ending


def named_class(image: str) -> str | None:
    """The class a photo's file name gives, as KDEF's and JAFFE's do (NAMED_CLASS), or None."""
    found = next((m for pattern in NAMED_CLASS if (m := pattern.fullmatch(image.rsplit("/", 1)[-1]))), None)
    return (CLASS_CODES.get(found[1].upper()) or true_class(found[1])) if found else None


def folder_numbers(image: str, numbers: list[str | None] | None) -> list[str | None] | None:
    """The numbering by which a photo's folders may name its class: `numbers`, but none for a CK+ frame
    (`S005/001/S005_001_00000011.png`), whose number folders are its person's sequences (`--numbers ckplus` read
    `001/` and `002/` as classes 1 and 2, angry and contempt); CK+'s classes are in its Emotion/ folder."""
    return None if CKPLUS_FRAME.fullmatch(image.rsplit("/", 1)[-1]) else numbers


def class_folder(image: str, numbers: list[str | None] | None = None) -> str:
    """The class folder a photo lies in, as the results name it: its top folder, or the first folder below it that
    names a class where the top one does not (`test/happy/1.png` of a FER2013 layout with train/ and test/, the photos
    of a shell glob named as given: `photos/happy/1.jpg`, `/data/set/happy/1.jpg`); "" for a photo in no folder."""
    folders, numbers = image.split("/")[:-1], folder_numbers(image, numbers)
    return next((name for name in folders if true_class(name, numbers)), folders[0] if folders else "")


def photo_class(image: str, labels: dict[str, str] | None = None, numbers: list[str | None] | None = None) -> str | None:
    """A photo's class, as the results name the photo: its label in `labels` ({photo: label}, as `matched_labels`
    gives them), or without labels its class folder's (`class_folder`), or else the class its file name gives
    (`named_class`); None where none is known, or what is given names no class."""
    if labels is not None:
        return true_class(labels.get(Path(image).as_posix()), numbers)
    return true_class(class_folder(image, numbers), folder_numbers(image, numbers)) or named_class(image)


def numbering(given: str) -> list[str | None]:
    """The classes of numbers 0, 1, ... that `--numbers` gives: a dataset's numbering (NUMBERINGS) or class names in
    number order, comma-separated; LabelsError for anything else."""
    if given.lower() in NUMBERINGS:
        return NUMBERINGS[given.lower()]
    classes = [true_class(name) for name in given.split(",")]
    if len(classes) < 2 or None in classes:
        raise LabelsError(f"--numbers {given}: neither {', '.join(NUMBERINGS)} nor class names in number order, "
                          "comma-separated")
    return classes
