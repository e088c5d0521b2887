"""Label the faces of video frames from Python, as `python -m realtime --source clip.mp4` labels them.

    from realtime.video import VideoLabeller

    with VideoLabeller() as labeller:                    # the program's model for video, loaded once
        for frame in frames:                             # BGR numpy frames, in order: a camera's, a decoder's
            for face in labeller.label(frame):
                print(face.id, face.label, face.probability, face.box)

The same detector (`sweep`), crop, views by turns, tracker (confirmation, smoothing, held faces) and shot cuts as
the program's video path, so the answers are the program's `--json` answers for the same frames (README: From
Python).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from realtime.classify import DEFAULT_MODEL, Classifier
from realtime.detect import FaceDetector
from realtime.photos import Labeller, PhotoLabeller, check_settings
from realtime.pipeline import Pipeline
from realtime.track import HYSTERESIS, ShotCuts, Tracker


@dataclass(frozen=True)
class TrackedFace:
    id: int  # the same number for the same face from frame to frame
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in the frame's pixels
    score: float  # how sure the detector is that this is a face, 0-1
    label: str  # the label shown: the most probable class over the last frames, held steady (`hysteresis`)
    probability: float  # its probability, averaged over frames
    # every class of the model, in its card's order, averaged over frames (left out of the hash, as LabelledFace's)
    probabilities: dict[str, float] = field(hash=False)
    held: bool  # the detector missed the face in this frame: its box and label are kept from the last one


class VideoLabeller(Labeller):
    """The model, the detector and the tracker, loaded once; then the frames of one video or camera, in order. A new
    video starts afresh with `reset()` (a cut between shots does it by itself). Threads may share one: it labels one
    frame at a time, and the frames must still come in order."""

    def __init__(self, model: str | Path = DEFAULT_MODEL, backend: str = "auto", min_confidence: float = 0.5,
                 min_face: int = 0, max_faces: int = 8, smoothing: float = 0.75, hold: int = 5, confirm: int = 3,
                 hysteresis: float = HYSTERESIS, fps: float | None = None, classes: list[str] | None = None):
        """`model`: NAME.keras or NAME.tflite with its card NAME.json beside it, or a shipped model's name
        (ferplus_a, the default, as the program's for video; ferplus_ens, ferplus, ferplus_bal, fer2013);
        `backend`: auto, keras or tflite; `classes`: answer only these of the model's labels, as `--classes`; the rest
        as the program's options of the same names (`--no-smooth`:
        smoothing 0). `fps`: the frame rate of a video file whose frames are labelled: `hold`, `confirm` and
        `smoothing` are for 30 fps, and are made to last as long at this rate, as the program does for a file;
        None (a camera, a live stream) counts frames. A missing or broken model raises realtime.card.ModelError; a
        value out of range ValueError."""
        check_settings(min_confidence=min_confidence, min_face=min_face, max_faces=max_faces, smoothing=smoothing,
                       hold=hold, confirm=confirm, hysteresis=hysteresis)
        if fps is not None and (isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps < math.inf):
            raise ValueError(f"fps must be a number above 0, not {fps!r}")
        self.tracker = Tracker(smoothing, hold=hold, confirm=confirm, hysteresis=hysteresis, max_faces=max_faces,
                               fps=fps)
        self.classifier = Classifier(model, backend=backend, classes=classes)
        self.labels = self.classifier.labels
        detector = FaceDetector("sweep", min_confidence, max_faces, min_face)
        self.pipeline = Pipeline(detector, self.classifier, by_turns=smoothing > 0)
        self.cuts, self._fps = ShotCuts(fps=fps), fps
        self._lock, self._closed = threading.Lock(), False

    def label(self, frame: np.ndarray) -> list[TrackedFace]:
        """The faces shown on this frame (confirmed ones, and those held after a miss), as the program shows them.

        `frame`: the next frame, as OpenCV holds one: uint8, BGR (H, W, 3), BGRA (H, W, 4) or grey (H, W), or a PIL
        image; frames may change size (the tracker then starts afresh, as on a cut)."""
        if isinstance(frame, (str, Path, bytes)):
            raise ValueError("a frame is an image array or a PIL image; label a photo file with PhotoLabeller")
        frame = PhotoLabeller._frame(frame)
        with self._lock:
            if self._closed:
                raise ValueError("this VideoLabeller is closed: make a new one")
            result = self.pipeline.process(frame, [track.face.box for track in self.tracker.tracks])
            if self.cuts.is_cut(frame):
                self.tracker.reset()
            tracks = self.tracker.update(result.faces, result.probabilities, frame, result.crops)
        return [TrackedFace(track.id, tuple(round(float(v), 1) for v in track.face.box), round(track.face.score, 3),
                            self.labels[track.label], float(track.probabilities[track.label]),
                            {name: float(p) for name, p in zip(self.labels, track.probabilities)}, track.missed > 0)
                for track in tracks]

    def reset(self) -> None:
        """Forget every face: the next frame is the first of another video."""
        with self._lock:
            self.tracker.reset()
            self.cuts = ShotCuts(fps=self._fps)
