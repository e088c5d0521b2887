"""Output stage: the annotated video file and the per-frame JSON lines."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from realtime.track import Track

FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "XVID"}
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


class OutputError(RuntimeError):
    """An output file that cannot be written; the message is meant for the user."""


class VideoWriter:
    """Writes frames at the source's rate and size. `live` sources repeat frames so that
    the video plays in real time even when processing is slower than the camera."""

    def __init__(self, path: str | Path, fps: float, size: tuple[int, int], live: bool = False):
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in FOURCC and suffix not in IMAGE_SUFFIXES:
            raise OutputError(f"cannot write {self.path}: use one of {', '.join([*FOURCC, *IMAGE_SUFFIXES])}")
        if not self.path.parent.is_dir():
            raise OutputError(f"cannot write {self.path}: folder {self.path.parent} does not exist")
        self.fps, self.size, self.live, self.frames = fps, size, live, 0
        self._writer, self._last = None, None
        if suffix in FOURCC:
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*FOURCC[suffix]), fps, size)
            if not self._writer.isOpened():
                raise OutputError(f"cannot write {self.path} (codec {FOURCC[suffix]} unavailable or path not writable)")

    def write(self, frame: np.ndarray, elapsed: float | None = None) -> None:
        """Write `frame`; for live sources, `elapsed` seconds since the start set how many copies."""
        if frame.shape[1::-1] != self.size:
            frame = cv2.resize(frame, self.size)
        if self._writer is None:  # an image file: keep the newest frame, saved on close
            self._last = frame.copy()
            self.frames += 1
            return
        copies = max(1, int(elapsed * self.fps) + 1 - self.frames) if self.live and elapsed is not None else 1
        for _ in range(copies):
            self._writer.write(frame)
        self.frames += copies

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
        elif self._last is not None and not cv2.imwrite(str(self.path), self._last):
            raise OutputError(f"cannot write {self.path}")


class JsonLinesWriter:
    """One JSON object per frame: time, and for every face its track id, box, label and probabilities."""

    def __init__(self, path: str | Path, labels: list[str]):
        try:
            self._file = open(path, "w", encoding="utf-8")
        except OSError as err:
            raise OutputError(f"cannot write {path}: {err.strerror}") from None
        self.labels = labels

    def write(self, index: int, seconds: float, tracks: list[Track]) -> None:
        faces = []
        for track in tracks:
            best = int(np.argmax(track.probabilities))
            faces.append({
                "id": track.id,
                "box": [round(float(v), 1) for v in track.face.box],
                "score": round(track.face.score, 3),
                "label": self.labels[best],
                "probability": round(float(track.probabilities[best]), 4),
                "probabilities": {name: round(float(p), 4) for name, p in zip(self.labels, track.probabilities)},
                "held": track.missed > 0,
            })
        self._file.write(json.dumps({"frame": index, "time": round(seconds, 3), "faces": faces}) + "\n")

    def close(self) -> None:
        self._file.close()
