"""Align stage: level the eyes, crop a square around the face, convert to the model's input.

Where the square lies relative to the detection is the model's `Crop`, from its card: it
reproduces the framing of the faces the model was trained on (for FER2013, measured by
`python -m train.framing`), so the model sees faces framed like its training data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from realtime.faces import Face


@dataclass(frozen=True)
class Crop:
    """The model's input square: its side is `scale` x the detection box's longer side, and its centre
    lies `shift` x the box side below the box centre, along the face's vertical axis (eyes levelled)."""

    scale: float = 1.25
    shift: float = 0.0

    @classmethod
    def from_card(cls, card: dict) -> Crop:
        """The card's `crop` entry; cards written before it existed get the old default framing."""
        entry = card.get("crop") or {}
        return cls(float(entry.get("scale", cls.scale)), float(entry.get("shift", cls.shift)))


def grey_levels(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each face's brightness (grey-level mean) and contrast (standard deviation), as (N, 1) float32 columns."""
    flat = faces.reshape(len(faces), -1).astype(np.float32)
    return flat.mean(1, keepdims=True), flat.std(1, keepdims=True)


@dataclass(frozen=True)
class Levels:
    """The brightness (grey-level mean) and contrast (standard deviation) of the model's training faces,
    5th to 95th percentile, from its card. A crop outside that range, as from a dark room, a washed-out
    webcam or a flat, low-contrast photo, has its grey levels stretched linearly to the nearest edge of
    the range; every other crop is left as it is. Without the card entry nothing changes."""

    mean: tuple[float, float] = (0.0, 255.0)
    std: tuple[float, float] = (0.0, 255.0)

    @classmethod
    def from_card(cls, card: dict) -> Levels:
        entry = card.get("levels")
        return cls(tuple(entry["mean"]), tuple(entry["std"])) if entry else cls()

    def apply(self, crops: np.ndarray) -> np.ndarray:
        """uint8 crops (N, size, size), those outside the range brought into it."""
        if len(crops) == 0:
            return crops
        mean, std = grey_levels(crops)
        to_mean, to_std = np.clip(mean, *self.mean), np.clip(std, *self.std)
        outside = ((mean != to_mean) | (std != to_std))[:, 0]
        if not outside.any():
            return crops
        flat = crops[outside].reshape(int(outside.sum()), -1).astype(np.float32)
        moved = (flat - mean[outside]) / np.maximum(std[outside], 1e-3) * to_std[outside] + to_mean[outside]
        fixed = crops.copy()
        fixed[outside] = np.clip(np.rint(moved), 0, 255).astype(np.uint8).reshape(-1, *crops.shape[1:])
        return fixed


def eye_angle(eyes: np.ndarray | None) -> float:
    """Degrees the face is rolled (positive: the image-right eye sits lower)."""
    if eyes is None:
        return 0.0
    (lx, ly), (rx, ry) = eyes
    return math.degrees(math.atan2(ry - ly, rx - lx))


def align_face(frame: np.ndarray, face: Face, size: int = 48, crop: Crop = Crop()) -> np.ndarray:
    """A `size` x `size` uint8 grayscale crop of `face`, rotated so its eyes are level."""
    x0, y0, x1, y1 = face.box
    box_side = max(x1 - x0, y1 - y0)
    side = box_side * crop.scale
    angle = eye_angle(face.eyes)
    down = (-math.sin(math.radians(angle)), math.cos(math.radians(angle)))  # the face's vertical axis
    center = ((x0 + x1) / 2.0 + crop.shift * box_side * down[0], (y0 + y1) / 2.0 + crop.shift * box_side * down[1])
    work = int(min(max(side, size), 4 * size))  # warp near native scale, then area-average down
    matrix = cv2.getRotationMatrix2D(center, angle, work / side)
    matrix[:, 2] += (work / 2.0 - center[0], work / 2.0 - center[1])
    image = cv2.warpAffine(frame, matrix, (work, work), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if work != size:
        image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    return image


def align_faces(frame: np.ndarray, faces: list[Face], size: int = 48, crop: Crop = Crop()) -> np.ndarray:
    """All faces of a frame as one (N, size, size) uint8 batch."""
    if not faces:
        return np.empty((0, size, size), np.uint8)
    return np.stack([align_face(frame, face, size, crop) for face in faces])
