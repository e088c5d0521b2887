"""Output stage: the annotated video file and the per-frame JSON lines.

Videos are written so that a hard kill (SIGKILL, a crash, a power cut) loses at most about the
last second: `.mp4`, `.m4v` and `.mov` are H.264 in fragmented MP4 (PyAV; a fragment per second,
each playable on its own, and browsers play H.264), `.mkv` is H.264 in Matroska, which players
read up to where it stops, `.avi` is MJPG through OpenCV. JSON lines reach the disk at least
once a second.
"""

from __future__ import annotations

import json
import time
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from realtime.track import Track

FOURCC = {".avi": "MJPG"}  # written by OpenCV
FRAGMENTED = {"movflags": "frag_keyframe+empty_moov+default_base_moof", "flush_packets": "1"}
H264 = {".mp4": FRAGMENTED, ".m4v": FRAGMENTED, ".mov": FRAGMENTED, ".mkv": {"flush_packets": "1"}}  # PyAV, with these muxer options
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


class OutputError(RuntimeError):
    """An output file that cannot be written; the message is meant for the user."""


class VideoWriter:
    """Writes frames at the source's rate and size. `live` sources repeat frames so that
    the video plays in real time even when processing is slower than the camera."""

    def __init__(self, path: str | Path, fps: float, size: tuple[int, int], live: bool = False):
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in FOURCC and suffix not in H264 and suffix not in IMAGE_SUFFIXES:
            raise OutputError(f"cannot write {self.path}: use one of {', '.join([*H264, *FOURCC, *IMAGE_SUFFIXES])}")
        if not self.path.parent.is_dir():
            raise OutputError(f"cannot write {self.path}: folder {self.path.parent} does not exist")
        self.fps, self.size, self.live, self.frames = fps, size, live, 0
        self._writer, self._last = None, None
        if suffix in H264:
            self._writer = H264Writer(self.path, fps, size, H264[suffix])
        elif suffix in FOURCC:
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


class H264Writer:
    """H.264 through PyAV (which bundles FFmpeg and x264): a keyframe, and so an MP4 fragment, every second."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int], muxer_options: dict):
        import av

        try:
            self._container = av.open(str(path), "w", options=muxer_options)
        except (OSError, av.FFmpegError) as err:
            raise OutputError(f"cannot write {path}: {getattr(err, 'strerror', None) or err}") from None
        rate = Fraction(fps).limit_denominator(1001)
        self._stream = self._container.add_stream("libx264", rate=rate)
        self._stream.width, self._stream.height = size[0] - size[0] % 2, size[1] - size[1] % 2  # yuv420p: even sides
        self._stream.pix_fmt = "yuv420p"
        self._stream.options = {"preset": "veryfast", "crf": "23", "g": str(max(1, round(fps)))}
        self._av = av

    def write(self, frame: np.ndarray) -> None:
        if frame.shape[1] != self._stream.width or frame.shape[0] != self._stream.height:
            frame = frame[: self._stream.height, : self._stream.width]
        image = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="bgr24")
        self._container.mux(self._stream.encode(image))

    def release(self) -> None:
        self._container.mux(self._stream.encode())  # what the encoder still holds
        self._container.close()


class JsonLinesWriter:
    """One JSON object per frame: time, and for every face its track id, box, label and probabilities."""

    def __init__(self, path: str | Path, labels: list[str]):
        try:
            self._file = open(path, "w", encoding="utf-8")
        except OSError as err:
            raise OutputError(f"cannot write {path}: {err.strerror}") from None
        self.labels = labels
        self._flushed = time.monotonic()

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
        if time.monotonic() - self._flushed >= 1.0:  # a hard kill then loses at most the last second
            self._file.flush()
            self._flushed = time.monotonic()

    def close(self) -> None:
        self._file.close()
