"""Track stage: faces matched frame to frame by box overlap (one moving fast, by distance), with steady labels.

- A new face is shown only once it is confirmed (found in `confirm` frames in a row), so a
  single stray detection (a hand, a chin) never gets a box; a confirmed face survives `hold`
  frames without a detection, so a brief miss does not make it vanish.
- Each track keeps an exponential moving average of its class probabilities (`smoothing`), and
  its shown label changes only when another class leads the shown one by `hysteresis`: two
  classes within a few points of each other no longer make the label flicker.
- A shot cut (`ShotCuts`; a crossfade too) ends every track, so a label never carries over onto another person; so
  does another person where a face was (`Look`), which a cut of the whole picture does not show (a slide
  show of close-ups alike in layout; one tile of a video call's gallery).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np

from realtime.faces import Face, overlap, share_inside


HYSTERESIS = 0.15  # default lead another class needs over the shown label (bench/label_stability.py)
SETTINGS_FPS = 30  # the frame rate the frame counts and the smoothing are set for (bench/label_stability.py's)
RATES = (1.0, 240.0)  # a file's frame rate is taken within these bounds (a broken header can say 90,000)
MAX_JUMP = 2.0  # the farthest a face found in the last frame is followed to a box it does not overlap, in its widths
MOVING = 0.25  # the speed (its widths a frame) from which a face is followed that far: one standing still is not
LOOK_SIDE = 12  # px: the picture around a face is compared this small (`Look`)
AROUND = 1.2  # ... a square this many times the box's width, about its centre
CROP_SIDE, CROP_CORE = 10, 8  # px: a face's crop is compared this small, its middle CROP_CORE at each place in the other
# A face's crop correlating less than ANOTHER_FACE with the last frame's, and the picture about its box less than
# ANOTHER_AROUND: another person (bench/label_stability.py). The picture about a face moving or shaken correlated 0.89
# or more; two portraits centred alike in a call's tile, 0.79-0.82 (at 0.6, 3 of 6 such switches kept the last id)
ANOTHER_FACE, ANOTHER_AROUND = 0.6, 0.85


@dataclass
class Look:
    """How a face looked in the frame where it was last found, to tell another person taking its place (a slide show of
    close-ups, a video call's tile), whom the tracker followed as the same face, label and id, from a face that moves:
    its crop as cut for the model, small (`crop_likeness`), and the picture in a square about its box (`region`), small
    and standardised. Another person where it was changes both; a face that moves or turns, one of them (bench/
    label_stability.py)."""
    crop: np.ndarray
    around: np.ndarray
    region: tuple[int, int, int, int]

    @classmethod
    def of(cls, frame: np.ndarray, face: Face, crop: np.ndarray) -> Look:
        half = AROUND * face.width / 2
        cx, cy = (face.box[0] + face.box[2]) / 2, (face.box[1] + face.box[3]) / 2
        height, width = frame.shape[:2]
        region = (int(min(width, max(0, cx - half))), int(min(height, max(0, cy - half))),
                  int(max(0, min(width, cx + half))), int(max(0, min(height, cy + half))))
        return cls(small_crop(crop), standardised(grey_part(frame, region)), region)

    def another(self, frame: np.ndarray, crop: np.ndarray) -> bool:
        """Whether the face `crop` found in `frame` is another person than this look's: the picture where this face
        was and the face's crop both changed."""
        now = grey_part(frame, self.region)
        return (now.size > 0 and alike(standardised(now), self.around) < ANOTHER_AROUND
                and crop_likeness(self.crop, small_crop(crop)) < ANOTHER_FACE)


def small_crop(crop: np.ndarray) -> np.ndarray:
    return cv2.resize(crop, (CROP_SIDE, CROP_SIDE), interpolation=cv2.INTER_AREA).astype(np.float32)


def crop_likeness(then: np.ndarray, now: np.ndarray) -> float:
    """How alike two faces' small crops are: the middle of the earlier one correlated with the later one at each place
    a pixel either way, the best. The detector's box wavers from frame to frame (by a tenth of its size on a face
    moving fast), and a face's crop so cut correlated as little as 0.16 with its crop of the frame before."""
    margin = (CROP_SIDE - CROP_CORE) // 2
    middle = standardised(then[margin:margin + CROP_CORE, margin:margin + CROP_CORE], size=None)
    places = np.lib.stride_tricks.sliding_window_view(now, (CROP_CORE, CROP_CORE)).reshape(-1, CROP_CORE * CROP_CORE)
    spread = places.std(1)
    if middle is None or spread.min() < 2.0:  # (blank: nothing to compare)
        return 1.0
    return float((((places - places.mean(1, keepdims=True)) / spread[:, None]) @ middle.ravel()).max() / places.shape[1])


def grey_part(frame: np.ndarray, region: tuple[int, int, int, int]) -> np.ndarray:
    """The frame's part in `region`, grey, every k-th pixel of a large one (to about 4x LOOK_SIDE: shrinking all of an
    1800 px face's took 19 ms)."""
    x0, y0, x1, y1 = region
    step = max(1, min(x1 - x0, y1 - y0) // (4 * LOOK_SIDE))
    part = frame[y0:y1:step, x0:x1:step]
    return cv2.cvtColor(part, cv2.COLOR_BGR2GRAY) if part.ndim == 3 and part.size else part


def standardised(grey: np.ndarray, size: int | None = LOOK_SIDE) -> np.ndarray | None:
    """`size` x `size` (None: as it is), less its mean, over its spread; None for a blank (nothing to compare) or empty
    one."""
    if grey.size == 0:
        return None
    small = (cv2.resize(grey, (size, size), interpolation=cv2.INTER_AREA) if size else grey).astype(np.float32)
    mean, spread = (float(v) for v in cv2.meanStdDev(small))
    if spread < 2.0:
        return None
    small -= mean
    small /= spread
    return small


def alike(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """The correlation of two standardised pictures; 1 where either is blank."""
    return 1.0 if a is None or b is None else float(np.mean(a * b))


@dataclass
class Track:
    id: int  # from 1, given when the face is confirmed (shown); 0 until then
    face: Face
    probabilities: np.ndarray  # smoothed over frames: what is shown
    raw: np.ndarray | None  # the model's output for this frame; None while the face is held
    label: int  # index of the shown class
    hits: int = 1  # frames in a row the face was found, while it is being confirmed
    speed: float = 0.0  # how far it moved a frame when last found, in its widths
    missed: int = 0  # frames since the detector last saw this face
    confirmed: bool = False
    look: Look | None = None  # how it looked when last found (video, given the frames)


class Tracker:
    def __init__(self, smoothing: float = 0.75, hold: int = 5, min_iou: float = 0.3, confirm: int = 3,
                 hysteresis: float = HYSTERESIS, frames: float | None = None, max_faces: int | None = None,
                 fps: float | None = None):
        """`smoothing`: weight of the history in the average (0 = none); `hold`: frames a lost face stays;
        `confirm`: frames in a row a new face must be found before it is shown (1 = at once), at most the
        `frames` of a clip of known length (a 2-frame clip still shows its faces);
        `hysteresis`: lead (in probability) another class needs to replace the shown label (0 = none);
        `max_faces`: the most faces shown in a frame (those found in it first, then the largest held ones; the
        detector gives at most as many, but the faces held on top of them went past it);
        `fps`: a video file's frame rate: `confirm`, `hold` and `smoothing` are for SETTINGS_FPS, and are made to
        last as long at this rate (`at_rate`). None for a camera or live stream, whose frames come as fast as they
        are labelled."""
        if not 0.0 <= smoothing < 1.0:
            raise ValueError("smoothing must be in [0, 1)")
        if confirm < 1 or hold < 0 or not 0.0 <= hysteresis < 1.0:
            raise ValueError("confirm must be at least 1, hold at least 0 and hysteresis in [0, 1)")
        if fps:
            smoothing, hold, confirm = at_rate(smoothing, hold, confirm, fps)
        confirm = int(min(confirm, frames or confirm))
        self.smoothing, self.hold, self.min_iou = smoothing, hold, min_iou
        self.confirm, self.hysteresis, self.max_faces = confirm, hysteresis, max_faces
        self.tracks: list[Track] = []
        self._next_id = 1
        self.photos = False  # each frame a photo of its own (for_photos)

    @classmethod
    def for_photos(cls) -> Tracker:
        """Photos are independent of each other: nothing is smoothed, held or confirmed from one to the next, and
        each photo's faces are numbered from 1 (a face no longer takes the id of one where the last photo had one)."""
        tracker = cls(0.0, hold=0, confirm=1, hysteresis=0.0)
        tracker.photos = True
        return tracker

    def update(self, faces: list[Face], probabilities: np.ndarray, frame: np.ndarray | None = None,
               crops: np.ndarray | None = None) -> list[Track]:
        """Feed one frame's faces and their probabilities; returns the confirmed tracks, to show, largest first.
        `frame` (BGR) and `crops` (each face's, as cut for the model; FrameResult's): a face where another person was
        is a new one (`Look`), not followed."""
        if self.photos:
            self.tracks, self._next_id = [], 1
        looks = ([Look.of(frame, face, crop) for face, crop in zip(faces, crops)]
                 if frame is not None and crops is not None and not self.photos else [None] * len(faces))
        # Faces seen in the last frame are matched first, then held ones: a held face's box stays where it was lost,
        # and another face passing over it (the one in front, after one walked behind it) is still its own.
        pairs = [((int(t.missed > 0), -iou), ti, fi) for ti, t in enumerate(self.tracks) for fi, f in enumerate(faces)
                 if (iou := overlap(t.face.box, f.box)[0]) >= self.min_iou]
        # Last, a face moving fast when found in the last frame (a quick turn, a pan, frames a slow machine dropped)
        # that no box overlaps now: the nearest face left over of about its size, up to MAX_JUMP of its widths away.
        # So is a face still being confirmed, which has no speed yet: one coming in fast was never confirmed, as each
        # frame started it afresh. Not a shown face standing still, nor a held one: one missed for a frame beside
        # someone who turns up (steps back in, is found again) handed its id and label to them.
        pairs += [((2, jump), ti, fi) for ti, t in enumerate(self.tracks)
                  if t.missed == 0 and (t.speed >= MOVING or not t.confirmed)
                  for fi, f in enumerate(faces) if (jump := moved(t.face, f)) <= MAX_JUMP]
        matched_tracks, matched_faces, replaced = set(), set(), {}
        for _, ti, fi in sorted(pairs):
            if ti in matched_tracks or fi in matched_faces:
                continue
            track, raw = self.tracks[ti], np.asarray(probabilities[fi], np.float32)
            if track.look is not None and looks[fi] is not None and track.look.another(frame, crops[fi]):
                # Another person where this face was: a new face, shown at once where one was shown (no label, id or
                # smoothing carried over)
                replaced[ti] = self._new(Track(0, faces[fi], raw.copy(), raw, int(np.argmax(raw)),
                                               confirmed=track.confirmed or self.confirm <= 1, look=looks[fi]))
            else:
                self._follow(track, faces[fi], raw)
                track.look = looks[fi]
            matched_tracks.add(ti)
            matched_faces.add(fi)
        self.tracks = [replaced.get(ti, track) for ti, track in enumerate(self.tracks)]
        for ti, track in enumerate(self.tracks):
            if ti not in matched_tracks:
                track.missed, track.raw = track.missed + 1, None
        # A face still being confirmed is dropped at its first miss: it was not a face after all.
        self.tracks = [t for t in self.tracks if t.missed <= (self.hold if t.confirmed else 0)]
        for fi, face in enumerate(faces):
            if fi not in matched_faces:
                raw = np.asarray(probabilities[fi], np.float32)
                self.tracks.append(self._new(Track(0, face, raw.copy(), raw, int(np.argmax(raw)),
                                                   confirmed=self.confirm <= 1, look=looks[fi])))
        shown = [t for t in self.tracks if t.confirmed]
        # A held face that a face found in this frame covers (half its box or more) is behind that face: it is kept, to
        # come back with its id, but not shown, or its label stood over the face in front for up to `hold` frames
        found = [t.face.box for t in shown if t.missed == 0]
        shown = [t for t in shown if t.missed == 0 or not any(covers(box, t.face.box) for box in found)]
        if self.max_faces is not None and len(shown) > self.max_faces:  # (those not shown are kept, to come back)
            shown = sorted(shown, key=lambda t: (t.missed > 0, -t.face.width))[: self.max_faces]
        return sorted(shown, key=lambda t: -t.face.width)  # largest first

    def _new(self, track: Track) -> Track:
        """`track` with the next id once it is confirmed (shown): a face dropped before that (not a face after all, or
        gone within `confirm` frames) takes none, so the ids shown run 1, 2, 3 (they ran 1, 2, 5)."""
        if track.confirmed and not track.id:
            track.id, self._next_id = self._next_id, self._next_id + 1
        return track

    def _follow(self, track: Track, face: Face, raw: np.ndarray) -> None:
        track.speed = shift(track.face, face) / (track.missed + 1)
        track.face, track.raw, track.missed = face, raw, 0
        track.probabilities = self.smoothing * track.probabilities + (1 - self.smoothing) * raw
        track.hits += 1
        track.confirmed = track.confirmed or track.hits >= self.confirm
        self._new(track)
        best = int(np.argmax(track.probabilities))
        if not track.confirmed:  # nothing shown yet: no label to keep steady
            track.label = best
        elif track.probabilities[best] - track.probabilities[track.label] > self.hysteresis:
            track.label = best

    def reset(self) -> None:
        """End every track (at a shot cut); new ones get new ids."""
        self.tracks = []


def at_rate(smoothing: float, hold: int, confirm: int, fps: float) -> tuple[float, int, int]:
    """The tracker's settings for SETTINGS_FPS, made to last as long at `fps` (within RATES): a new face is confirmed
    after as much time, a lost one held as long, and the history weighs as much after as many seconds. An animated
    GIF or WebP of a frame a second (a slide show of different people, each frame a shot cut) showed no face at all,
    each needing 3 frames to be confirmed; a 10-fps recording held a lost face half a second."""
    scale = min(max(fps, RATES[0]), RATES[1]) / SETTINGS_FPS
    return smoothing ** (1 / scale), int(hold * scale + 0.5), max(1, math.ceil(confirm * scale - 1e-6))


def covers(front: np.ndarray, behind: np.ndarray) -> bool:
    """Whether box `front` covers half of box `behind` or more."""
    return share_inside(behind, front) >= 0.5


def shift(last: Face, face: Face) -> float:
    """How far `face` lies from `last`, between their centres, in `last`'s widths."""
    centres = (face.box[:2] + face.box[2:] - last.box[:2] - last.box[2:]) / 2
    return float(np.hypot(*centres) / max(last.width, 1e-9))


def moved(last: Face, face: Face) -> float:
    """`shift`, or infinite where their widths differ by more than half: not the same face."""
    return shift(last, face) if 2 / 3 <= face.width / max(last.width, 1e-9) <= 3 / 2 else float("inf")


class ShotCuts:
    """Tells a cut from motion by comparing each frame with the one before, at a small size: at a cut
    the picture's layout (grey levels at 16x12, correlated) or its colours (hue x saturation histogram)
    change far more than when people or the camera move or the light flickers (bench/label_stability.py); and
    so does the picture's size, when it changes. Both are compared within the picture, bars around it that stay put
    left out (a slide show, a film between black bars: the bars, alike in every frame, made two people's frames look
    alike, and half the cuts between them were missed). Colours that change with the whole picture's brightness while
    the layout holds are a flash or an exposure change, not a cut. A crossfade from one shot to another is a cut too
    (`_dissolved`)."""

    def __init__(self, min_correlation: float = 0.6, max_colour_change: float = 0.4, fps: float | None = None):
        """`fps`: a video file's frame rate: a dissolve is looked for over as many seconds as at 30 fps (a camera or a
        stream: at 30 fps)."""
        self.min_correlation, self.max_colour_change = min_correlation, max_colour_change
        self._last = None
        frames = min(max(fps or SETTINGS_FPS, RATES[0]), RATES[1]) / SETTINGS_FPS  # (frames a frame at 30 fps is)
        self._lags = tuple(sorted({max(2, round(lag * frames)) for lag in DISSOLVE_LAGS}))
        self._settle = round(DISSOLVE_SETTLE * frames)
        self._seen: deque[tuple[np.ndarray, np.ndarray, float]] = deque(maxlen=self._lags[-1] + self._settle)  # since
        # the last cut: each frame's grey levels at 16x12 and at 64x48, and its detail (`_dissolved`)

    def is_cut(self, frame: np.ndarray) -> bool:
        small = cv2.resize(frame, (64, 48), interpolation=cv2.INTER_AREA)
        now = picture_area(small)
        grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).astype(np.float32)
        detail = float(np.abs(cv2.Sobel(grey, cv2.CV_32F, 1, 0)).mean() + np.abs(cv2.Sobel(grey, cv2.CV_32F, 0, 1)).mean())
        seen = (cv2.resize(grey, (16, 12), interpolation=cv2.INTER_AREA).ravel(), grey.ravel(), detail)
        last, self._last = self._last, (small, frame.shape, now)
        cut = last is not None and (last[1] != frame.shape  # another picture size: another camera mode, a phone turned
                                    or self._changed(last[0], last[2], small, now) or self._dissolved(seen, now))
        if cut or last is None:
            self._seen.clear()
        self._seen.append(seen)
        return cut

    def _dissolved(self, seen: tuple[np.ndarray, np.ndarray, float], area: tuple[int, int, int, int]) -> bool:
        """Whether the frames up to this one (`seen`: its grey levels at 16x12 and 64x48, and its detail, the mean
        size of its grey levels' steps at 64x48; its picture's `area` within bars) crossfade from an earlier frame to
        it, as a dissolve between two shots does, which `_changed` tells from motion nowhere frame by frame:
        - this frame and one DISSOLVE_LAGS frames back are laid out otherwise (DISSOLVE_LAYOUT, at 16x12);
        - every frame between is a blend of the two, at 64x48 (BLEND_LEFT of their difference, or less, left
          unexplained; both shots move as they blend), the blend moving on from one to the other;
        - and the frames halfway through the blend (BLEND_HALFWAY of them at least) have less detail than the two ends
          (BLEND_DETAIL, or less, of what the ends have at that share): two pictures laid over each other blur each
          other's edges.
        A camera panning or a person passing changes the picture as much, but the frames between are no blend of its
        ends, and keep their detail. (Another person crossfading into a face's place kept its id, label and smoothing:
        its look changes little a frame.)"""
        x0, y0, x1, y1 = area  # (in the 64x48 picture: a cell of the 16x12 levels is 4x4 of it)
        inside = ((np.arange(12)[:, None] >= y0 // 4) & (np.arange(12)[:, None] < -(-y1 // 4)) &
                  (np.arange(16) >= x0 // 4) & (np.arange(16) < -(-x1 // 4))).ravel()
        lags = [lag for lag in self._lags if lag <= len(self._seen) - self._settle]  # (not from a frame just
        if not lags:  # after a cut: the cut's own dissolve, found again from the frame where a cut was found in it)
            return False
        layout_now, levels, detail = seen
        layouts = np.array([layout for layout, _, _ in self._seen])
        details = np.array([detail for _, _, detail in self._seen])
        then = layouts[[-lag for lag in lags]][:, inside]  # (cheapest first: the layouts, all at once; then the detail
        now = layout_now[inside]  # halfway; then the blend at 64x48)
        then_spread, now_spread = then.std(1), now.std()
        correlations = ((then - then.mean(1, keepdims=True)) @ (now - now.mean())) / (
            len(now) * np.maximum(then_spread, 1e-6) * max(now_spread, 1e-6))
        for lag, correlation, blank in zip(lags, correlations, np.minimum(then_spread, now_spread) < 2.0):
            if correlation >= DISSOLVE_LAYOUT or blank:  # (a blank picture, or nearly: no layout to compare)
                continue
            difference = layout_now - layouts[-lag]
            shares = (layouts[-lag + 1:] - layouts[-lag]) @ difference / float(difference @ difference)
            halfway = (shares > 0.25) & (shares < 0.75)
            expected = (1 - shares[halfway]) * details[-lag] + shares[halfway] * detail + 1e-6
            if halfway.sum() < BLEND_HALFWAY or (details[-lag + 1:][halfway] / expected).max() > BLEND_DETAIL:
                continue
            first = self._seen[-lag][1]
            difference = levels - first
            spread = float(difference @ difference)
            moved = np.array([frame for _, frame, _ in list(self._seen)[-lag + 1:]]) - first
            shares = moved @ difference / spread  # how far along the blend each frame between is
            left = ((moved - shares[:, None] * difference) ** 2).sum(1) / spread
            steps = np.diff(np.concatenate([[0.0], shares, [1.0]]))
            if left.max() <= BLEND_LEFT and steps.min() >= -BLEND_BACK and steps.max() <= BLEND_STEP:
                return True
        return False

    def _changed(self, last: np.ndarray, before: tuple, small: np.ndarray, now: tuple) -> bool:
        """Whether the small picture `small` (its area within bars `now`) is another shot than `last` (whose area was
        `before`)."""
        # Bars stay put from frame to frame. Where the area moves (a face moving over a plain wall, read as "bars"
        # beside it: a cut found in every frame), or a picture of another shape comes, the whole frames are compared.
        x0, y0, x1, y1 = now if max(abs(a - b) for a, b in zip(before, now)) <= 1 else (0, 0, *small.shape[1::-1])
        area = np.s_[y0:y1, x0:x1]
        (grey, colours, flat), (grey_last, colours_last, flat_last) = layout(small[area]), layout(last[area])
        correlation = 1.0 if flat or flat_last else float(np.mean(grey_last * grey))
        if correlation < self.min_correlation:
            # Unless a part of the picture changed, not all of it: one tile of a video call's gallery switching person,
            # someone passing close in front of the camera (a call's tile switch ended every tile's track)
            return still_quarters(small[area], last[area]) < STILL_QUARTERS
        # A flash, or the exposure jumping: the layout holds while the whole picture gets much brighter or darker, its
        # colours washed out or clipped with it. That is no cut (a camera flash ended every track: new ids, and no box
        # for the 3 frames a new face waits).
        brighter = max(small[area].mean(), 1.0) / max(last[area].mean(), 1.0)
        if correlation >= LIGHT_LAYOUT and not 1 / LIGHT_CHANGE < brighter < LIGHT_CHANGE:
            return False
        return cv2.compareHist(colours_last, colours, cv2.HISTCMP_BHATTACHARYYA) > self.max_colour_change


def still_quarters(small: np.ndarray, last: np.ndarray) -> int:
    """How many of the four quarters of a small BGR picture are laid out as in the last one (grey levels, correlated
    STILL_LAYOUT or more; a blank quarter in both counts as still)."""
    height, width = small.shape[:2]
    still = 0
    for rows in (slice(0, height // 2), slice(height // 2, height)):
        for columns in (slice(0, width // 2), slice(width // 2, width)):
            now, before = (standardised(cv2.cvtColor(picture[rows, columns], cv2.COLOR_BGR2GRAY), 8)
                           for picture in (small, last))
            still += alike(now, before) >= STILL_LAYOUT
    return still


def layout(small: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """(grey levels at 16x12, standardised; hue x saturation histogram; whether the picture is blank or nearly: no layout
    to compare) of a small BGR picture."""
    grey = cv2.resize(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (16, 12), interpolation=cv2.INTER_AREA)
    grey = grey.astype(np.float32).ravel()
    flat = grey.std() < 2.0
    colours = cv2.calcHist([cv2.cvtColor(small, cv2.COLOR_BGR2HSV)], [0, 1], None, [16, 8], [0, 180, 0, 256])
    cv2.normalize(colours, colours, 1.0, 0.0, cv2.NORM_L1)
    return (grey - grey.mean()) / (grey.std() + 1e-3), colours, flat


BAR_RANGE = 12  # grey levels: a row or column of a small picture whose levels span less is part of a bar around it
# A picture whose layout correlates this well with the last frame's, this many times as bright or as dark, is the same
# shot in another light (ShotCuts)
LIGHT_LAYOUT, LIGHT_CHANGE = 0.85, 1.25
# A dissolve is looked for between a frame and the one this many frames back (`ShotCuts._dissolved`: from 0.1 s to 0.9 s
# at 30 FPS), laid out otherwise (grey levels at 16x12 correlating less than DISSOLVE_LAYOUT: two faces crossfading in one
# place, 0.66-0.68; 4 faces moving, no blend of it under 0.96), each frame between a blend of those two with at most
# BLEND_LEFT of their difference (its squares' sum) left over, the blend going back no more than BLEND_BACK and forward
# no more than BLEND_STEP a frame, and the frames halfway with at most BLEND_DETAIL of the ends' detail (moving frames kept
# 0.92 or more; BLEND_LEFT alone, at 0.06, found 5 of 20 dissolves at shake 3 and made 4 false cuts). In
# bench/label_stability.py: 40 of 41 dissolves found at --shake 1, 37 of 41 at 3, no false cut
# (Frames at 30 fps: as many seconds at a file's own rate. Up to 0.9 s: a dissolve of up to about 1 s is found; longer
# windows, up to 1.5 s, took slow pans over a soft backdrop for a blend: 4 false cuts in 2,622 frames of a user trial's
# pans, the two of its clips looked at cut at windows of 36 and 46 frames, neither now.)
DISSOLVE_LAGS = (3, 4, 6, 8, 11, 15, 20, 27)
DISSOLVE_SETTLE = 10  # ... from a frame at least this many frames after the last cut (or the first frame; at 30 fps)
DISSOLVE_LAYOUT, BLEND_LEFT, BLEND_BACK, BLEND_STEP, BLEND_DETAIL = 0.85, 0.3, 0.1, 0.6, 0.9
BLEND_HALFWAY = 3  # ... at least this many frames halfway (a blurred frame or two of a shaking camera lose detail too)
# ... and one whose layout changed in all but this many of its quarters, each correlating this well with the last's, is
# the same shot, a part of it changed (ShotCuts)
STILL_QUARTERS, STILL_LAYOUT = 2, 0.9


def picture_area(small: np.ndarray) -> tuple[int, int, int, int]:
    """x0, y0, x1, y1 of the picture within bars of one colour around it (black, grey: letterbox, pillarbox); the whole
    picture where there are none, or where all of it is one colour."""
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    edges = []
    for axis in (0, 1):  # columns (across rows), then rows
        busy = np.flatnonzero(np.ptp(grey, axis=axis) >= BAR_RANGE)
        edges.append((busy[0], busy[-1] + 1) if busy.size else (0, grey.shape[1 - axis]))
    (x0, x1), (y0, y1) = edges
    if x1 - x0 < 8 or y1 - y0 < 6:  # (too little left to compare: the whole picture)
        return 0, 0, grey.shape[1], grey.shape[0]
    return x0, y0, x1, y1
