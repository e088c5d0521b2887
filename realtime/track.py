"""Tracking and temporal smoothing: faces matched frame to frame by box overlap.

Each track keeps an exponential moving average of its class probabilities, so labels do
not flicker, and survives a few frames without a detection, so a brief miss does not
make a face vanish.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from realtime.detect import Face, overlap


@dataclass
class Track:
    id: int
    face: Face
    probabilities: np.ndarray
    missed: int = 0  # frames since the detector last saw this face


class Tracker:
    def __init__(self, smoothing: float = 0.75, hold: int = 5, min_iou: float = 0.3):
        """`smoothing`: weight of the history in the average (0 = none); `hold`: frames a lost face stays."""
        if not 0.0 <= smoothing < 1.0:
            raise ValueError("smoothing must be in [0, 1)")
        self.smoothing, self.hold, self.min_iou = smoothing, hold, min_iou
        self.tracks: list[Track] = []
        self._next_id = 1

    def update(self, faces: list[Face], probabilities: np.ndarray) -> list[Track]:
        """Feed one frame's faces and their probabilities; returns the tracks to show."""
        pairs = sorted(((overlap(t.face.box, f.box)[0], ti, fi) for ti, t in enumerate(self.tracks)
                        for fi, f in enumerate(faces)), reverse=True)
        matched_tracks, matched_faces = set(), set()
        for iou, ti, fi in pairs:
            if iou < self.min_iou:
                break
            if ti in matched_tracks or fi in matched_faces:
                continue
            track = self.tracks[ti]
            track.face, track.missed = faces[fi], 0
            track.probabilities = self.smoothing * track.probabilities + (1 - self.smoothing) * probabilities[fi]
            matched_tracks.add(ti)
            matched_faces.add(fi)
        for ti, track in enumerate(self.tracks):
            if ti not in matched_tracks:
                track.missed += 1
        self.tracks = [t for t in self.tracks if t.missed <= self.hold]
        for fi, face in enumerate(faces):
            if fi not in matched_faces:
                self.tracks.append(Track(self._next_id, face, np.asarray(probabilities[fi], np.float32)))
                self._next_id += 1
        return list(self.tracks)
