"""One frame through detect -> align -> classify: the path the program and the benchmarks share."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from realtime.align import Crop, align_faces
from realtime.classify import Classifier
from realtime.detect import Face, FaceDetector


@dataclass
class FrameResult:
    faces: list[Face]
    crops: np.ndarray  # (faces, size, size) uint8, what the model saw
    probabilities: np.ndarray  # (faces, classes), in the order of the classifier's labels
    times: dict[str, float] = field(default_factory=dict)  # seconds per stage: detect, align, classify


class Pipeline:
    def __init__(self, detector: FaceDetector, classifier: Classifier, crop: Crop | None = None):
        """`crop`: where the model's input lies around each detection; default: the model card's."""
        self.detector, self.classifier = detector, classifier
        self.crop = crop or classifier.crop

    def process(self, frame: np.ndarray, previous: list[np.ndarray] = ()) -> FrameResult:
        """Every face of a BGR frame with its class probabilities (one batched model call).

        `previous`: the face boxes of the last frame of a video, which some detectors look at again.
        """
        started = time.perf_counter()
        faces = self.detector.detect(frame, previous)
        result = self.label(frame, faces)
        result.times["detect"] = time.perf_counter() - started - sum(result.times.values())
        return result

    def label(self, frame: np.ndarray, faces: list[Face]) -> FrameResult:
        """Align and classify faces already found in `frame`."""
        t0 = time.perf_counter()
        crops = align_faces(frame, faces, self.classifier.size, self.crop)
        t1 = time.perf_counter()
        probabilities = self.classifier.predict(crops)
        t2 = time.perf_counter()
        return FrameResult(faces, crops, probabilities, {"align": t1 - t0, "classify": t2 - t1})
