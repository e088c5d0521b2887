"""Mixup and CutMix: training batches in which every face is mixed with another face of the batch.

Mixup blends the two faces, lam * a + (1 - lam) * b; CutMix pastes a rectangle of b into a, covering
1 - lam of it. Either way the targets and sample weights are mixed in the same proportion, with lam drawn
from Beta(alpha, alpha) once per batch. With both on, each batch takes one of them at random. The mixing
runs in numpy as the batches are handed to Keras; the trainer's geometric and lighting augmentation still
runs inside the training model, on the mixed faces.
"""

from __future__ import annotations

import math

import keras
import numpy as np


class MixedBatches(keras.utils.PyDataset):
    """One epoch of shuffled (faces, targets, sample weights) batches, mixed; reshuffled every epoch."""

    def __init__(self, faces: np.ndarray, targets: np.ndarray, weights: np.ndarray, batch_size: int,
                 mixup: float = 0.0, cutmix: float = 0.0, seed: int = 0):
        """`faces` (N, size, size, 1) float32; `mixup`, `cutmix`: the Beta distribution's alpha (0: off)."""
        super().__init__()
        if not (mixup > 0 or cutmix > 0):
            raise ValueError("MixedBatches needs mixup or cutmix")
        self.faces, self.targets, self.weights = faces, targets.astype(np.float32), weights.astype(np.float32)
        self.batch_size, self.mixup, self.cutmix = batch_size, mixup, cutmix
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(faces))

    def __len__(self) -> int:
        return math.ceil(len(self.faces) / self.batch_size)

    def on_epoch_end(self) -> None:
        self.order = self.rng.permutation(len(self.faces))

    def __getitem__(self, index: int):
        rows = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        faces, targets, weights = self.faces[rows], self.targets[rows], self.weights[rows]
        partner = self.rng.permutation(len(rows))
        use_cutmix = self.cutmix > 0 and (self.mixup <= 0 or self.rng.random() < 0.5)
        if use_cutmix:
            faces, lam = cut_and_paste(faces, faces[partner], self.rng.beta(self.cutmix, self.cutmix), self.rng)
        else:
            lam = float(self.rng.beta(self.mixup, self.mixup))
            faces = lam * faces + (1 - lam) * faces[partner]
        return (faces.astype(np.float32), lam * targets + (1 - lam) * targets[partner],
                lam * weights + (1 - lam) * weights[partner])


def cut_and_paste(faces: np.ndarray, others: np.ndarray, lam: float, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """`faces` with one rectangle (about 1 - lam of the area, clipped at the edges) taken from `others`,
    and the share of each face that is still its own."""
    height, width = faces.shape[1:3]
    cut_h, cut_w = int(height * math.sqrt(1 - lam)), int(width * math.sqrt(1 - lam))
    cy, cx = rng.integers(height), rng.integers(width)
    y0, y1 = np.clip([cy - cut_h // 2, cy + cut_h - cut_h // 2], 0, height)
    x0, x1 = np.clip([cx - cut_w // 2, cx + cut_w - cut_w // 2], 0, width)
    mixed = faces.copy()
    mixed[:, y0:y1, x0:x1] = others[:, y0:y1, x0:x1]
    return mixed, 1 - (y1 - y0) * (x1 - x0) / (height * width)
