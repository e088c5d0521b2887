"""Generated test scenes: a real face photo pasted into synthetic frames, with known face boxes.

The photo is `grace_hopper.jpg`, which matplotlib (a dependency of mediapipe) ships, so
demo clips, tests and benchmarks need no download and no camera. `--source demo:N`
plays a generated 640x480 clip with N moving faces.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from realtime.capture import Source

_SPRITE_CROP = (120, 40, 412, 420)  # head and shoulders, in the photo's pixels
_FACE_IN_SPRITE = (46, 88, 246, 289)  # where MediaPipe's face box lies inside that crop


@lru_cache(maxsize=1)
def face_sprite() -> tuple[np.ndarray, np.ndarray]:
    """(BGR head-and-shoulders image, float alpha with a soft elliptical edge)."""
    import matplotlib

    photo = cv2.imread(str(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"))
    x0, y0, x1, y1 = _SPRITE_CROP
    sprite = photo[y0:y1, x0:x1].copy()
    h, w = sprite.shape[:2]
    alpha = np.zeros((h, w), np.float32)
    cv2.ellipse(alpha, (w // 2, h // 2), (int(w * 0.47), int(h * 0.48)), 0, 0, 360, 1.0, cv2.FILLED)
    return sprite, cv2.GaussianBlur(alpha, (0, 0), 6)


def background(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A room-like backdrop: a colour gradient, some furniture-sized blocks and sensor noise."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    base = rng.uniform(60, 200, 3)
    frame = np.clip(base + 40 * (xs / width - 0.5)[..., None] + 30 * (ys / height - 0.5)[..., None], 0, 255)
    for _ in range(6):
        x, y = int(rng.uniform(0, width)), int(rng.uniform(0, height))
        cv2.rectangle(frame, (x, y), (x + int(rng.uniform(40, width / 3)), y + int(rng.uniform(40, height / 3))),
                      tuple(float(c) for c in rng.uniform(30, 230, 3)), cv2.FILLED)
    frame += rng.normal(0, 4, frame.shape)
    return np.clip(frame, 0, 255).astype(np.uint8)


def paste_face(canvas: np.ndarray, face_width: float, center: tuple[float, float], angle: float = 0.0,
               flip: bool = False, gain: float = 1.0) -> np.ndarray:
    """Paste the face so its box is `face_width` wide and centred at `center`; returns that box."""
    sprite, alpha = face_sprite()
    fx0, fy0, fx1, fy1 = _FACE_IN_SPRITE
    scale = face_width / (fx1 - fx0)
    face_center = ((fx0 + fx1) / 2, (fy0 + fy1) / 2)
    if flip:
        sprite, alpha = sprite[:, ::-1], alpha[:, ::-1]
        face_center = (sprite.shape[1] - face_center[0], face_center[1])
    matrix = cv2.getRotationMatrix2D(face_center, angle, scale)
    matrix[:, 2] += (center[0] - face_center[0], center[1] - face_center[1])
    # Composite only inside the box that the transformed sprite covers.
    sh, sw = sprite.shape[:2]
    corners = np.array([[0, 0, 1], [sw, 0, 1], [0, sh, 1], [sw, sh, 1]], np.float64) @ matrix.T
    h, w = canvas.shape[:2]
    rx0, ry0 = max(0, int(corners[:, 0].min())), max(0, int(corners[:, 1].min()))
    rx1, ry1 = min(w, int(corners[:, 0].max()) + 1), min(h, int(corners[:, 1].max()) + 1)
    if rx1 > rx0 and ry1 > ry0:
        matrix[:, 2] -= (rx0, ry0)
        size = (rx1 - rx0, ry1 - ry0)
        layer = cv2.warpAffine(np.ascontiguousarray(sprite), matrix, size, flags=cv2.INTER_LINEAR).astype(np.float32)
        weight = cv2.warpAffine(np.ascontiguousarray(alpha), matrix, size)[..., None]
        region = canvas[ry0:ry1, rx0:rx1]
        region[:] = np.clip(region + weight * (layer * np.float32(gain) - region), 0, 255).astype(np.uint8)
    half_w, half_h = face_width / 2, face_width * (fy1 - fy0) / (fx1 - fx0) / 2
    return np.array([center[0] - half_w, center[1] - half_h, center[0] + half_w, center[1] + half_h])


def demo_layout(faces: int, width: int, height: int) -> list[tuple[float, float, float]]:
    """(x, y, face width) for 0-9 faces on a grid."""
    if faces == 0:
        return []
    columns = math.ceil(math.sqrt(faces))
    rows = math.ceil(faces / columns)
    size = min(width / columns, height / rows) * 0.42
    return [((i % columns + 0.5) * width / columns, (i // columns + 0.5) * height / rows, size) for i in range(faces)]


class DemoSource(Source):
    """A generated clip: `faces` faces drifting and tilting over a static backdrop."""

    def __init__(self, faces: int = 1, frames: int = 300, size: tuple[int, int] = (640, 480), fps: float = 30.0):
        if not 0 <= faces <= 9:
            raise ValueError("a demo clip has 0 to 9 faces")
        self.faces, self.frames, self.size, self.fps = faces, frames, size, fps
        self.description = f"generated clip, {faces} face{'s' * (faces != 1)}, {size[0]}x{size[1]}"
        self._backdrop = background(*size)
        self.truth: list[list[np.ndarray]] = []  # face boxes of each frame produced so far

    def frame(self, index: int) -> tuple[np.ndarray, list[np.ndarray]]:
        canvas = self._backdrop.copy()
        boxes = []
        for k, (x, y, width) in enumerate(demo_layout(self.faces, *self.size)):
            t = index / self.fps + k
            boxes.append(paste_face(canvas, width, (x + 12 * math.sin(t * 1.3), y + 8 * math.sin(t * 0.9)),
                                    angle=10 * math.sin(t * 0.7), flip=bool(k % 2)))
        return canvas, boxes

    def __iter__(self) -> Iterator[np.ndarray]:
        for index in range(self.frames):
            canvas, boxes = self.frame(index)
            self.truth.append(boxes)
            yield canvas
