"""Draw stage: a labelled box per face, optional probability bars, an FPS counter."""

from __future__ import annotations

import cv2
import numpy as np

from realtime.track import Track

# BGR colour per expression; anything else is grey.
COLOURS = {
    "angry": (40, 40, 220), "disgust": (40, 140, 40), "fear": (160, 60, 160), "happy": (40, 200, 240),
    "sad": (200, 120, 40), "surprise": (40, 150, 255), "neutral": (200, 200, 200), "contempt": (120, 120, 60),
}
FONT = cv2.FONT_HERSHEY_SIMPLEX


def _text(frame, text, origin, scale, colour, thickness=1, background=None):
    (w, h), base = cv2.getTextSize(text, FONT, scale, thickness)
    x, y = int(origin[0]), int(origin[1])
    if background is not None:
        cv2.rectangle(frame, (x, y - h - base), (x + w + 4, y + base // 2), background, cv2.FILLED)
    cv2.putText(frame, text, (x + 2, y - 2), FONT, scale, colour, thickness, cv2.LINE_AA)


def draw_faces(frame: np.ndarray, tracks: list[Track], labels: list[str], bars: bool = False) -> np.ndarray:
    """Draw onto `frame` in place and return it."""
    height, width = frame.shape[:2]
    scale = max(0.45, min(1.0, width / 1280))
    for track in tracks:
        x0, y0, x1, y1 = (int(round(v)) for v in track.face.box)
        best = int(np.argmax(track.probabilities))
        colour = COLOURS.get(labels[best], (180, 180, 180))
        cv2.rectangle(frame, (x0, y0), (x1, y1), colour, 2, cv2.LINE_AA)
        caption = f"{labels[best]} {track.probabilities[best]:.0%}"
        _text(frame, caption, (x0, max(y0, 20)), scale * 0.8, (0, 0, 0), 1 + (scale > 0.7), background=colour)
        if bars:
            _draw_bars(frame, track.probabilities, labels, (x1 + 6, y0), scale)
    return frame


def _draw_bars(frame, probabilities, labels, origin, scale):
    row, bar_width = int(16 * scale + 4), int(80 * scale + 20)
    label_width = int(62 * scale + 8)
    x, y = origin
    if x + label_width + bar_width > frame.shape[1]:  # no room on the right: draw inside the frame's edge
        x = frame.shape[1] - label_width - bar_width - 2
    for i, (name, p) in enumerate(zip(labels, probabilities)):
        top = y + i * row
        colour = COLOURS.get(name, (180, 180, 180))
        cv2.rectangle(frame, (x, top), (x + label_width + bar_width, top + row - 2), (30, 30, 30), cv2.FILLED)
        cv2.rectangle(frame, (x + label_width, top + 2), (x + label_width + int(bar_width * float(p)), top + row - 4),
                      colour, cv2.FILLED)
        _text(frame, name, (x, top + row - 3), scale * 0.45, (255, 255, 255))


def draw_fps(frame: np.ndarray, fps: float) -> np.ndarray:
    _text(frame, f"{fps:5.1f} FPS", (8, 24), 0.6, (255, 255, 255), 1, background=(0, 0, 0))
    return frame
