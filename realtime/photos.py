"""Label the faces of photos from Python, as `python -m realtime --source photo.jpg` labels them.

    from realtime.photos import PhotoLabeller

    with PhotoLabeller() as labeller:                   # the default model, loaded once
        for face in labeller.label("photo.jpg"):         # a file, or a BGR/grey numpy image
            print(face.label, face.probability, face.box)

The same detector (`tiled`), crop, 6 views per face and class-share correction as the program's photo
path, so the answers are the program's `--json` answers (README: From Python).
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from realtime.capture import (VIDEO_SUFFIXES, WEB_SCHEMES, SourceError, cannot_read, descreened, fetch_image,
                              is_image_head, not_media, on_white, pil_on_white, read_image, shown)
from realtime.classify import DEFAULT_PHOTO_MODEL, Classifier
from realtime.detect import FaceDetector
from realtime.pipeline import Pipeline


# The settings the program's options and the labellers share: (kind, least, most). One table, so that the two take
# the same values (VideoLabeller took smoothing 0.99, which --smoothing refuses, and 'a' with a bare TypeError).
SETTINGS = {"min_confidence": (float, 0.5, 1.0), "min_face": (int, 0, math.inf), "max_faces": (int, 1, math.inf),
            "smoothing": (float, 0.0, 0.95), "hold": (int, 0, math.inf), "confirm": (int, 1, 30),
            "hysteresis": (float, 0.0, 0.9)}


def check_settings(**values) -> None:
    """Raise ValueError for a setting (SETTINGS) that is not a number of its kind within its range."""
    for name, value in values.items():
        kind, least, most = SETTINGS[name]
        number = (isinstance(value, (int, np.integer)) or kind is float and isinstance(value, (float, np.floating))) \
            and not isinstance(value, bool)
        if not number or not least <= value <= most:  # (refuses nan too)
            bounds = f"at least {least:g}" + (f" and at most {most:g}" if most < math.inf else "")
            raise ValueError(f"{name} must be {'an integer' if kind is int else 'a number'} {bounds}, not {value!r}")


class DamagedImageWarning(UserWarning):
    """An image file damaged or cut short, labelled as far as it goes (its missing part grey), as the program does."""


@dataclass(frozen=True)
class LabelledFace:
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in the image's pixels
    score: float  # how sure the detector is that this is a face, 0-1
    label: str  # the most probable class
    probability: float  # its probability
    # every class of the model, in its card's order (left out of the hash: a face in a set, a dict's key, raised)
    probabilities: dict[str, float] = field(hash=False)


def photo_detector(min_confidence: float = 0.5, min_face: int = 0) -> FaceDetector:
    """The program's detector for photos: tiled, no limit on faces, faces lying turned found upright."""
    return FaceDetector("tiled", min_confidence, 10_000, min_face, upright=True)


def photo_pipeline(classifier: Classifier, min_confidence: float = 0.5, min_face: int = 0) -> Pipeline:
    """The program's photo path: its detector for photos (`photo_detector`), 6 views per face."""
    return Pipeline(photo_detector(min_confidence, min_face), classifier, views=True)


# PIL modes of 8-bit bands, which convert("RGB") turns into the picture as shown
EIGHT_BIT_MODES = {"1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"}


class Labeller:
    """What PhotoLabeller and VideoLabeller share: a pipeline whose detector is held until `close()`, a lock, and `with`."""

    pipeline: Pipeline
    _lock: threading.Lock
    _closed: bool

    def close(self) -> None:
        """Free the detector; closing again does nothing."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self.pipeline.detector.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class PhotoLabeller(Labeller):
    """The model and the detector, loaded once; then any number of photos. Threads may share one: it labels one
    photo at a time (a labeller per thread labels side by side)."""

    def __init__(self, model: str | Path = DEFAULT_PHOTO_MODEL, backend: str = "auto", min_confidence: float = 0.5,
                 min_face: int = 0, classes: list[str] | None = None):
        """`model`: NAME.keras or NAME.tflite with its card NAME.json beside it, or a shipped model's name
        (ferplus_ens, the default, as the program's for photos; ferplus_a, ferplus, ferplus_bal, fer2013);
        `backend`: auto, keras or tflite; `classes`: answer only these of the model's labels, as `--classes`.
        A missing or broken model raises realtime.card.ModelError; a setting out of range ValueError."""
        check_settings(min_confidence=min_confidence, min_face=min_face)
        self.classifier = Classifier(model, backend=backend, classes=classes)
        self.labels = self.classifier.labels
        self.pipeline = photo_pipeline(self.classifier, min_confidence, min_face)
        self._lock, self._closed = threading.Lock(), False  # (MediaPipe's graph breaks when two threads run it)

    def label(self, image: str | Path | np.ndarray) -> list[LabelledFace]:
        """Every face in `image`, the largest first (an empty list when there is none).

        `image`: an image file (what the program reads: JPEG, PNG, WebP, TIFF, GIF, ...; turned as its EXIF
        orientation says), the http(s) URL of one, an image as OpenCV holds one: uint8, BGR (H, W, 3), BGRA (H, W, 4) or
        grey (H, W), or a PIL image (any mode: converted to RGB, then BGR). An unreadable file raises SourceError.
        """
        frame = self._frame(image)
        with self._lock:
            if self._closed:
                raise ValueError("this PhotoLabeller is closed: make a new one")
            result = self.pipeline.process(frame)
        return [LabelledFace(tuple(round(float(v), 1) for v in face.box), round(face.score, 3),
                             self.labels[int(np.argmax(p))], float(p.max()),
                             {name: float(value) for name, value in zip(self.labels, p)})
                for face, p in zip(result.faces, result.probabilities)]

    @staticmethod
    def _frame(image: str | Path | bytes | np.ndarray) -> np.ndarray:
        if isinstance(image, bytearray) or (isinstance(image, memoryview) and image.ndim == 1 and image.format in "Bbc"):
            image = bytes(image)  # a file's bytes (they were read as an array: "not uint8 (15544,)"; an array's view is
            # read as that array)
        if isinstance(image, bytes) and (is_image_head(image[:12]) or b"\0" in image):  # a picture's bytes, not a path
            return PhotoLabeller._decoded(image)  # (they were taken for a path: a 16 KB "no such file" of binary)
        if isinstance(image, bytes):  # a path as the OS gives it
            image = os.fsdecode(image)
            if image.strip(". ") and not os.path.lexists(image) and not image.lower().startswith(WEB_SCHEMES + ("file:",)):
                raise SourceError(f"no such file, and not a picture's bytes: {image[:100]!r}")
        if isinstance(image, (str, Path)) and not str(image).strip(". "):  # (Path("") is ".")
            raise ValueError(f"the image's path is empty or a folder: {str(image)!r}")
        if hasattr(image, "convert") and hasattr(image, "mode"):  # a PIL image: np.asarray read a palette picture's
            try:  # indices as grey, and RGB as BGR (16-bit and float ones, which convert() clips, stay refused below);
                image = pil_on_white(image) if image.mode in EIGHT_BIT_MODES else np.asarray(image)  # see-through: white
            except (ValueError, AssertionError, OSError) as error:  # (a closed one: a bare AssertionError)
                if "truncated" in str(error):  # (Pillow reads no cut-off file unless told to, for all at once)
                    raise ValueError(f"the PIL image's file is cut short ({error}): give its path, which is read as "
                                     "far as it goes, with a DamagedImageWarning") from None
                raise ValueError(f"the PIL image cannot be read (closed, or its file gone?): {error}") from None
        if isinstance(image, str) and image.lower().startswith(WEB_SCHEMES):
            return PhotoLabeller._fetched(image)
        if isinstance(image, (str, Path)):
            return PhotoLabeller._read(Path(image), str(image))
        if isinstance(image, (list, tuple)) and image and all(isinstance(i, (str, Path)) for i in image):
            raise ValueError(f"label one image at a time: {len(image)} paths were given in a {type(image).__name__}")
        frame = np.asarray(image)
        if frame.dtype == object:  # (None, a file object, BytesIO: "not object ()")
            raise ValueError(f"cannot label a {type(image).__name__}: give a file's path, an http(s) URL, a picture's "
                             "bytes, a numpy array or a PIL image")
        if frame.dtype != np.uint8 or frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[2] not in (1, 3, 4)):
            deep = frame.dtype == np.uint16  # (a 16-bit picture read by OpenCV or Pillow)
            raise ValueError(f"an image must be uint8 of shape (H, W), (H, W, 3) or (H, W, 4), not {frame.dtype} "
                             f"{frame.shape}" + ("; give a 16-bit picture's path, which is read as the program reads it"
                                                 if deep else ""))
        if min(frame.shape[:2]) == 0:
            raise ValueError(f"the image is empty: {frame.shape}")
        if frame.ndim == 2 or frame.shape[2] == 1:
            frame = cv2.cvtColor(frame.reshape(frame.shape[:2]), cv2.COLOR_GRAY2BGR)
        elif frame.shape[2] == 4:  # (transparent parts on white, as a file's are read)
            frame = on_white(frame)
        return descreened(np.ascontiguousarray(frame))  # as a file is read

    @staticmethod
    def _read(file: Path, name: str) -> np.ndarray:
        """The image file read as the program reads it; one damaged or cut short is read as far as it goes, with a
        DamagedImageWarning (a backend tagged cut-off uploads "no face" without knowing). SourceError where it cannot be
        read, the file is missing or its name is longer than the system takes (it was an OSError)."""
        shown_name = name if len(name) <= 120 else f"{name[:100]}... ({len(name)} characters)"
        try:
            frame = read_image(file, warn=lambda said: warnings.warn(
                f"{shown_name}: {said}: what is missing of it reads as grey", DamagedImageWarning, stacklevel=4))
            if frame is None and not file.exists():  # (the program's hint for a file:// URL too)
                raise SourceError(f"no such file: {shown_name}" + (" (give the file's path, without file://)"
                                                                    if name.lower().startswith("file:") else ""))
            if frame is None:
                video = file.suffix.lower() in VIDEO_SUFFIXES and not not_media(file)
                raise SourceError(cannot_read(file, shown_name) + (": it is a video, for VideoLabeller" if video else ""))
        except OSError as error:  # (a name too long: ENAMETOOLONG)
            raise SourceError(f"cannot read image {shown_name}: {error.strerror}") from None
        return frame

    @staticmethod
    def _decoded(data: bytes) -> np.ndarray:
        """A picture's bytes (an upload, a database's blob), read as the program reads its file."""
        with tempfile.TemporaryDirectory(prefix="emotion-overlay-") as folder:
            file = Path(folder, "picture")
            file.write_bytes(data)
            return PhotoLabeller._read(file, f"the picture's bytes ({len(data):,} bytes)")

    @staticmethod
    def _fetched(url: str) -> np.ndarray:
        """The image at an http(s) URL, read as the program reads one given to --source."""
        fetched = fetch_image(url)
        if fetched is None:
            raise SourceError(f"no image at {shown(url)} (unreachable, or not an image)")
        with fetched:
            file = next(Path(fetched.name).iterdir())
            frame = read_image(file)
            if frame is None:
                raise SourceError(cannot_read(file, shown(url)))
        return frame
