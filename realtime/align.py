"""Align stage: level the eyes, crop a square around the face, convert to the model's input.

FER2013 faces are roughly frontal, eyes level, cropped a little wider than the face; the
crop here reproduces that from a detection box and its two eye keypoints.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from realtime.detect import Face

DEFAULT_MARGIN = 1.25  # crop side = margin x the longer side of the detection box


def eye_angle(eyes: np.ndarray | None) -> float:
    """Degrees the face is rolled (positive: the image-right eye sits lower)."""
    if eyes is None:
        return 0.0
    (lx, ly), (rx, ry) = eyes
    return math.degrees(math.atan2(ry - ly, rx - lx))


def align_face(frame: np.ndarray, face: Face, size: int = 48, margin: float = DEFAULT_MARGIN) -> np.ndarray:
    """A `size` x `size` uint8 grayscale crop of `face`, rotated so its eyes are level."""
    x0, y0, x1, y1 = face.box
    center = ((x0 + x1) / 2.0, (y0 + y1) / 2.0)
    side = max(x1 - x0, y1 - y0) * margin
    work = int(min(max(side, size), 4 * size))  # warp near native scale, then area-average down
    matrix = cv2.getRotationMatrix2D(center, eye_angle(face.eyes), work / side)
    matrix[:, 2] += (work / 2.0 - center[0], work / 2.0 - center[1])
    crop = cv2.warpAffine(frame, matrix, (work, work), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if crop.ndim == 3:
        crop = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    if work != size:
        crop = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
    return crop


def align_faces(frame: np.ndarray, faces: list[Face], size: int = 48, margin: float = DEFAULT_MARGIN) -> np.ndarray:
    """All faces of a frame as one (N, size, size) uint8 batch."""
    if not faces:
        return np.empty((0, size, size), np.uint8)
    return np.stack([align_face(frame, face, size, margin) for face in faces])
