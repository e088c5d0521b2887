"""Faces as the stages pass them on: a box with its score and eye points, and box overlap."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Face:
    box: np.ndarray  # x0, y0, x1, y1 in frame pixels
    score: float
    eyes: np.ndarray | None = None  # [[x, y] of the eye on the image's left, [x, y] of the other]

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])


def intersection(a, b) -> float:
    """The area two x0,y0,x1,y1 boxes share."""
    return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))


def share_inside(box, other) -> float:
    """The share of x0,y0,x1,y1 box `box` that lies inside `other`."""
    return intersection(box, other) / max(1e-9, (box[2] - box[0]) * (box[3] - box[1]))


def overlap(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(intersection over union, intersection over the smaller box) of two x0,y0,x1,y1 boxes."""
    inter = intersection(a, b)
    if inter <= 0:
        return 0.0, 0.0
    area_a, area_b = (a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1])
    return inter / (area_a + area_b - inter), inter / max(1e-9, min(area_a, area_b))


def overlapping(a: np.ndarray, b: np.ndarray, iou: float = 0.3, contained: float = 0.6) -> bool:
    """Whether two boxes are taken for one face (`suppress`): they overlap by `iou` of their union, or the smaller
    lies `contained` of itself inside the other."""
    union_share, inside = overlap(a, b)
    return union_share >= iou or inside >= contained


def suppress(faces: list[Face], iou: float = 0.3, contained: float = 0.6) -> list[Face]:
    """Non-maximum suppression; also drops a box mostly inside a better one (a face cut by a tile edge)."""
    kept: list[Face] = []
    for face in sorted(faces, key=lambda f: -f.score):
        if not any(overlapping(face.box, k.box, iou, contained) for k in kept):
            kept.append(face)
    return kept
