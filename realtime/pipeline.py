"""One frame through detect -> align -> classify: the path the program and the benchmarks share.

Each face can be classified from several views: the model card's crop at three sizes, each
also mirrored, their probabilities averaged. The views absorb the detector's jitter in where it
puts a face's box (wild-faces: +1.2 points with the FER+ model, +2.0 with the FER2013 one;
bench/pipeline_accuracy.py, docs/accuracy.md); all views of all faces still go
through one model call. Photos get them by default; video keeps one view for speed, and smooths
over frames instead, taking its views by turns: the crop plain one frame and mirrored the next, and
an ensemble's members one a frame, so the tracker's average over frames averages them at one model's
cost (bench/video_members.py; docs/accuracy.md, item 10).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from realtime.align import Crop, align_faces
from realtime.classify import Classifier
from realtime.detect import FaceDetector
from realtime.faces import Face


@dataclass
class FrameResult:
    faces: list[Face]
    crops: np.ndarray  # (faces, size, size) uint8: the main view of each face, as cut for the model (unmirrored)
    probabilities: np.ndarray  # (faces, classes), in the order of the classifier's labels
    times: dict[str, float] = field(default_factory=dict)  # seconds per stage: detect, align, classify


VIEW_SCALES = (1.0, 0.92, 1.09)  # crop sizes of the views, relative to the card's crop


class Pipeline:
    def __init__(self, detector: FaceDetector, classifier: Classifier, crop: Crop | None = None,
                 views: bool = False, by_turns: bool = False):
        """`crop`: where the model's input lies around each detection (default: the model card's);
        `views`: classify each face from 3 crop sizes x mirrored and average them;
        `by_turns`: for video, whose tracker averages each face's answers over frames: each frame asks one
        of an ensemble's members, in turn, and every other round the crop mirrored, so the average over
        frames takes in all of them at one model's cost a frame (a single model: mirrored every other frame)."""
        self.detector, self.classifier = detector, classifier
        crop = crop or classifier.crop
        self.crops = [replace(crop, scale=crop.scale * k) for k in VIEW_SCALES] if views else [crop]
        self.mirror = views
        self.by_turns = by_turns
        self.frames = 0  # frames labelled by turns so far: whose turn it is

    def process(self, frame: np.ndarray, previous: list[np.ndarray] = ()) -> FrameResult:
        """Every face of a BGR frame with its class probabilities (one batched model call).

        `previous`: the face boxes of the last frame of a video, which some detectors look at again.
        """
        started = time.perf_counter()
        faces = self.detector.detect(frame, previous)
        detected = time.perf_counter()
        result = self.label(frame, faces)
        result.times["detect"] = detected - started
        return result

    def label(self, frame: np.ndarray, faces: list[Face]) -> FrameResult:
        """Align and classify faces already found in `frame`."""
        t0 = time.perf_counter()
        levels = self.classifier.card.levels
        views = [levels.apply(align_faces(frame, faces, self.classifier.size, crop)) for crop in self.crops]
        if self.mirror:
            views += [view[:, :, ::-1] for view in views]
        member, mirrored = self._turn()
        t1 = time.perf_counter()
        probabilities = self.classifier.predict(np.concatenate([v[:, :, ::-1] for v in views] if mirrored else views),
                                                member)
        probabilities = self.classifier.calibrate(
            probabilities.reshape(len(views), len(faces), len(self.classifier.labels)).mean(0))
        t2 = time.perf_counter()
        return FrameResult(faces, views[0], probabilities, {"align": t1 - t0, "classify": t2 - t1})

    def _turn(self) -> tuple[int | None, bool]:
        """This frame's member of an ensemble (None: all of them) and whether its crops go in mirrored."""
        if not self.by_turns:
            return None, False
        members, turn = self.classifier.member_count, self.frames
        self.frames += 1
        return (turn % members if members > 1 else None), turn // members % 2 == 1
