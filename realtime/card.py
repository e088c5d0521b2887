"""The model card (NAME.json beside NAME.keras and NAME.tflite), read and checked in one place.

The program uses the labels (in output order), the input size, the crop (the framing of the
training faces), whether to average each face with its mirror image, the training set's class
shares with how far to correct for them (`class_prior`, `prior_alpha`), the temperature that
makes a shown confidence match how often such answers are right (`temperature`), and the size and
SHA-256 of each model file. An ensemble's card has no model file of its own: `members` names the models
(cards in the same folder) whose answers it averages. Everything else in the card (dataset,
metrics, training) is for people.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import numpy as np

from realtime.align import Crop, Levels

CROP_SCALES = (0.5, 3.0)  # the crop sides a card may ask for (x the box side; more than the lower, at most the upper)
CROP_SHIFTS = (-1.0, 1.0)  # and its centre's shift below the box centre (x the box side)


class ModelError(RuntimeError):
    """A missing, corrupt or mismatched model; the message is meant for the user."""


def run_script(main) -> NoReturn:
    """Ends a script (the benchmarks) with main()'s exit status; a ModelError (a model asked for that is not there,
    or a broken one) as one `error:` line."""
    try:
        sys.exit(main())
    except ModelError as err:
        sys.exit(f"error: {err}")


@dataclass(frozen=True)
class ModelCard:
    path: Path  # the card's own file
    labels: list[str]  # in the model's output order
    size: int  # faces go in as size x size grayscale
    crop: Crop
    levels: Levels  # the brightness and contrast range of the training faces
    flip_average: bool
    members: list[str]  # an ensemble's models (names of cards beside this one); empty for a single model
    data: dict  # the whole card, as written

    def class_scale(self, alpha: float | None = None) -> np.ndarray | None:
        """Per-class factors that move the model's answers from its training set's class shares toward
        equal shares: `class_prior ** -alpha` (alpha: the card's `prior_alpha` unless given; 0 = none).
        None when there is nothing to do."""
        alpha = float(self.data.get("prior_alpha", 0.0)) if alpha is None else alpha
        prior = self.data.get("class_prior")
        if not alpha or prior is None:
            return None
        return np.asarray(prior, np.float32) ** -np.float32(alpha)

    def temperature(self) -> float:
        """The answers are sharpened to the power 1/temperature (below 1: more confident) so that a label shown
        at X% is right about X% of the time (docs/accuracy.md: How confident); 1 = as the model answers."""
        return float(self.data.get("temperature", 1.0))

    @classmethod
    def load(cls, model_path: str | Path) -> ModelCard:
        """The card beside `model_path`; ModelError when it is missing, unreadable or inconsistent."""
        path = Path(model_path).with_suffix(".json")
        if not path.exists():
            raise ModelError(f"model card not found: {path} (every model needs its JSON card beside it)")
        try:
            data = json.loads(path.read_text())
            labels, size = data["labels"], data["input"]["size"]
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise ModelError(f"model card {path} is unreadable or incomplete ({err})") from None
        problem = cls._problem(data, labels, size)
        if problem:
            raise ModelError(f"model card {path} {problem}")
        return cls(path, list(labels), int(size), Crop.from_card(data), Levels.from_card(data),
                   bool(data.get("flip_average", False)), list(data.get("members", [])), data)

    @staticmethod
    def _problem(data: dict, labels, size) -> str | None:
        if not isinstance(labels, list) or not labels or not all(isinstance(x, str) and x for x in labels):
            return "has no labels, or labels that are not names"
        if len(set(labels)) != len(labels):
            return "lists a label twice"
        if not isinstance(size, int) or not 8 <= size <= 1024:
            return f"has an input size of {size!r} (a whole number of pixels, 8-1024, is needed)"
        if data.get("input", {}).get("channels", 1) != 1:
            return "asks for colour input; the program gives the model grayscale faces"
        crop = data.get("crop", {})
        if not isinstance(crop, dict) or not all(isinstance(crop.get(k, 0.0), (int, float)) for k in ("scale", "shift")):
            return "has a crop that is not numbers"
        if not CROP_SCALES[0] < crop.get("scale", 1.25) <= CROP_SCALES[1] or not CROP_SHIFTS[0] <= crop.get("shift", 0.0) <= CROP_SHIFTS[1]:
            return f"has a crop outside the usable range (scale {crop.get('scale')}, shift {crop.get('shift')})"
        levels = data.get("levels", {"mean": [0, 255], "std": [0, 255]})
        if not isinstance(levels, dict) or not all(
                isinstance(pair, list) and len(pair) == 2 and all(isinstance(v, (int, float)) for v in pair)
                and 0 <= pair[0] <= pair[1] <= 255 for pair in (levels.get("mean"), levels.get("std"))):
            return "has levels that are not two ranges (mean, std) of grey levels 0-255"
        prior, alpha = data.get("class_prior"), data.get("prior_alpha", 0.0)
        if prior is not None and (not isinstance(prior, list) or len(prior) != len(labels)
                                  or not all(isinstance(p, (int, float)) and 0 < p <= 1 for p in prior)):
            return "has a class_prior that is not one share (0-1] per label"
        if not isinstance(alpha, (int, float)) or not 0 <= alpha <= 1 or (alpha and prior is None):
            return "has a prior_alpha outside 0-1, or one without a class_prior"
        temperature = data.get("temperature", 1.0)
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not 0.05 <= temperature <= 20:
            return f"has a temperature of {temperature!r} (a number, 0.05-20, is needed)"
        members = data.get("members", [])
        # (any file name the trainer gives a model, such as its folder's "my faces": not a path, nor a hidden file)
        if not isinstance(members, list) or not all(isinstance(m, str) and re.fullmatch(r"[^/\\.\x00-\x1f][^/\\\x00-\x1f]*", m)
                                                    for m in members):
            return "has members that are not names of models in its folder"
        digests = data.get("sha256") or {}
        if not isinstance(digests, dict) or not all(re.fullmatch(r"[0-9a-f]{64}", str(v)) for v in digests.values()):
            return "has a SHA-256 entry that is not a SHA-256"
        return None

    def describes(self, kind: str) -> bool:
        """Whether the card covers a model file of `kind` (`keras`, `tflite`): it lists its checksum, or, written
        before checksums were recorded, lists none."""
        return not self.data.get("sha256") or kind in self.data["sha256"]

    def check_file(self, path: Path, content: bytes | None = None) -> None:
        """The model file must be the one this card describes (size and SHA-256, keyed by the file's type).
        `content`: the file's bytes when the caller has read them already (they are what gets checked).

        Cards written before checksums were recorded have none: their files are not checked. A file of a type a card
        with checksums does not list is not its file (a TFLite copy left from an earlier training, say).
        """
        kind = path.suffix.lstrip(".")
        if not self.describes(kind):
            raise ModelError(f"model file {path} is not described by its card {self.path} (it "
                             f"lists {', '.join(sorted(self.data['sha256']))} only): left from an earlier model?")
        expected = (self.data.get("sha256") or {}).get(kind)
        if not expected:
            return
        size = (self.data.get("size_bytes") or {}).get(kind)
        actual = len(content) if content is not None else path.stat().st_size
        if size is not None and actual != size:
            raise ModelError(f"model file {path} does not match its card ({actual:,} bytes, the card "
                             f"says {size:,}: damaged or replaced?)")
        digest = hashlib.sha256(content).hexdigest() if content is not None else file_sha256(path)
        if digest != expected:
            raise ModelError(f"model file {path} does not match its card (SHA-256 differs: damaged or replaced?)")


def read_card(model_path: str | Path) -> dict:
    """The card as a dict, checked like the program checks it (for the trainer, which adds to it)."""
    return ModelCard.load(model_path).data


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
