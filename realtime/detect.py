"""Detect stage: MediaPipe face detection, with the models that ship inside its wheel.

Modes:
- `short`: the short-range model (faces within about 2 m, large in the frame); fastest.
- `full`: the full-range model on the whole frame (faces up to about 5 m).
- `tiled`: `full` plus a second pass over overlapping tiles of the frame, each tile seen at
  a higher scale, so small and distant faces are found too; the passes are merged by
  non-maximum suppression.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from realtime import quiet_stderr

MODES = ("short", "full", "tiled")


@dataclass
class Face:
    box: np.ndarray  # x0, y0, x1, y1 in frame pixels
    score: float
    eyes: np.ndarray | None = None  # [[x, y] of the eye on the image's left, [x, y] of the other]

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])


def overlap(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(intersection over union, intersection over the smaller box) of two x0,y0,x1,y1 boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0, 0.0
    inter = w * h
    area_a, area_b = (a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1])
    return inter / (area_a + area_b - inter), inter / max(1e-9, min(area_a, area_b))


def suppress(faces: list[Face], iou: float = 0.3, contained: float = 0.6) -> list[Face]:
    """Non-maximum suppression; also drops a box mostly inside a better one (a face cut by a tile edge)."""
    kept: list[Face] = []
    for face in sorted(faces, key=lambda f: -f.score):
        if not any(u >= iou or inside >= contained for u, inside in (overlap(face.box, k.box) for k in kept)):
            kept.append(face)
    return kept


def tile_windows(width: int, height: int, grid: int = 2, overlap_fraction: float = 0.25) -> list[tuple[int, int, int, int]]:
    """`grid` x `grid` windows (x0, y0, x1, y1) covering the frame, neighbours overlapping."""
    tile_w = int(np.ceil(width / (grid - (grid - 1) * overlap_fraction)))
    tile_h = int(np.ceil(height / (grid - (grid - 1) * overlap_fraction)))
    xs = np.linspace(0, width - tile_w, grid).astype(int)
    ys = np.linspace(0, height - tile_h, grid).astype(int)
    return [(int(x), int(y), int(x) + tile_w, int(y) + tile_h) for y in ys for x in xs]


class FaceDetector:
    def __init__(self, mode: str = "tiled", min_confidence: float = 0.5, max_faces: int = 8,
                 min_face: int = 0, grid: int = 2):
        if mode not in MODES:
            raise ValueError(f"unknown detector '{mode}' (choose from {', '.join(MODES)})")
        with quiet_stderr():
            import mediapipe as mp

            self._model = mp.solutions.face_detection.FaceDetection(
                model_selection=0 if mode == "short" else 1, min_detection_confidence=min_confidence)
        self.mode, self.max_faces, self.min_face, self.grid = mode, max_faces, min_face, grid

    def _run(self, rgb: np.ndarray, x0: int = 0, y0: int = 0) -> list[Face]:
        height, width = rgb.shape[:2]
        result = self._model.process(rgb)
        faces = []
        for detection in result.detections or []:
            data = detection.location_data
            rel = data.relative_bounding_box
            box = np.array([rel.xmin * width + x0, rel.ymin * height + y0,
                            (rel.xmin + rel.width) * width + x0, (rel.ymin + rel.height) * height + y0])
            points = data.relative_keypoints
            eyes = np.array([[points[i].x * width + x0, points[i].y * height + y0] for i in (0, 1)])
            eyes = eyes[np.argsort(eyes[:, 0])]  # image-left eye first
            faces.append(Face(box=box, score=float(detection.score[0]), eyes=eyes))
        return faces

    def detect(self, frame: np.ndarray) -> list[Face]:
        """Faces in a BGR frame, best first, at most `max_faces`, none narrower than `min_face` px."""
        rgb = np.ascontiguousarray(frame[:, :, ::-1])
        faces = self._run(rgb)
        if self.mode == "tiled":
            height, width = rgb.shape[:2]
            for x0, y0, x1, y1 in tile_windows(width, height, self.grid):
                faces += self._run(np.ascontiguousarray(rgb[y0:y1, x0:x1]), x0, y0)
            faces = suppress(faces)
        faces = [f for f in faces if f.width >= self.min_face]
        return sorted(faces, key=lambda f: -f.score)[: self.max_faces]

    def close(self) -> None:
        self._model.close()
