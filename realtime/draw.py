"""Draw stage: a labelled box per face, optional probability bars, an FPS counter."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import cv2
import numpy as np

from realtime.faces import intersection
from realtime.track import Track

# BGR colour per expression; anything else is grey.
COLOURS = {
    "angry": (40, 40, 220), "disgust": (40, 140, 40), "fear": (160, 60, 160), "happy": (40, 200, 240),
    "sad": (200, 120, 40), "surprise": (40, 150, 255), "neutral": (200, 200, 200), "contempt": (120, 120, 60),
}
FONT = cv2.FONT_HERSHEY_SIMPLEX
SHORT_SIDE_PER_SCALE = 480  # px of a picture's short side for each unit of drawing scale, at most
SMALL_PHOTO = 320  # px: a photo whose longer side is shorter is drawn enlarged (`enlargement`)
CHART_SHADE = 0.3  # the bar chart's rows darken the picture under them to this share
COVERED = 0.1  # a caption over less than this share of a face hides none of it (`hidden`)
FACE_AROUND = 0.25  # a face's forehead above its box, and its chin below, in its box's heights (`hidden`)
HELP_LEAST_SCALE = 0.3  # the key help's text no smaller than this (7 px high), where a small picture wants smaller
BAR_TEXT_SCALE = 2 / 3  # the drawing scale below which the bars' class names and rows are drawn no smaller (7 px)


def colour_of(label: str) -> tuple[int, int, int]:
    """The BGR colour of an expression; grey for any label without one."""
    return COLOURS.get(label, (180, 180, 180))


def _text(frame, text, origin, scale, colour, thickness=1, background=None):
    (w, h), base = cv2.getTextSize(text, FONT, scale, thickness)
    x, y = int(origin[0]), int(origin[1])
    if background is not None:
        cv2.rectangle(frame, (x, y - h - base), (x + w + 4, y + base // 2), background, cv2.FILLED)
    cv2.putText(frame, text, (x + 2, y - 2), FONT, scale, colour, thickness, cv2.LINE_AA)


def drawing_scale(width: int, height: int) -> float:
    """How large captions, lines and bars are drawn: 1 for a picture 1280 px wide (a 720p frame), smaller down to
    0.45 for a small one, and in proportion for a larger one (a 12-megapixel photo: about 3, or 4 upright), so they
    keep their size relative to the picture where it is shown scaled down to a screen; never larger than its short side
    takes (a 4000x200 banner: 3.1 by its length, a caption 90 px high over the face in it; now 0.45)."""
    return max(0.45, min(max(width, height * 4 / 3) / 1280, min(width, height) / SHORT_SIDE_PER_SCALE))


def line_width(scale: float) -> int:
    """The width of a face's box line at drawing `scale` (its black edging is 2 px wider)."""
    return max(2, round(2 * scale))


def drawn_size(size: tuple[int, int], enlarge: bool) -> tuple[int, int]:
    """A picture's (w, h) as drawn: `enlarged` by its `enlargement` where small pictures are (`enlarge`), else as is."""
    factor = enlargement(size) if enlarge else 1
    return size[0] * factor, size[1] * factor


def enlargement(size: tuple[int, int]) -> int:
    """The whole factor a photo of `size` (w, h) is drawn enlarged by: 1 from SMALL_PHOTO px on its longer side, and
    below that enough to reach it, so that its captions can be read and leave its face in view (drawn at its own
    size, a 116x146 film still had `neutral 70%` across 70% of its width, over the face, and a 24x36 one showed `neut`)."""
    return max(1, math.ceil(SMALL_PHOTO / max(size)))


def enlarged(picture: np.ndarray, factor: int) -> np.ndarray:
    """`picture` `factor` times its width and height (bicubic), to draw a small photo's faces on."""
    if factor == 1:
        return picture
    return cv2.resize(picture, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)


def scaled_tracks(tracks: list[Track], factor: int) -> list[Track]:
    """`tracks` as they lie on their picture `enlarged` by `factor`: copies, boxes and eyes scaled (a pixel's edges
    go to its enlarged block's)."""
    if factor == 1:
        return tracks
    return [replace(track, face=replace(track.face, box=track.face.box * factor,
                                        eyes=None if track.face.eyes is None else track.face.eyes * factor))
            for track in tracks]


def caption_places(boxes: list[tuple[int, int, int, int]], sizes: list[tuple[int, int]],
                   frame_size: tuple[int, int]) -> list[tuple[int, int]]:
    """Top-left corners for captions of `sizes` (w, h), one per box: above the box where there is room,
    else below it, else nudged down, always inside the frame and not over an earlier caption. Of the places by
    the box (above, below, over its top), the one that hides least of the faces is taken (`hidden`): in a group photo
    the captions of the front row stood over the mouths of the row behind, and a caption pushed into its own box
    over its own eyes; and not one that stands on another face's box (`misleading`)."""
    width, height = frame_size
    placed: list[tuple[int, int, int, int]] = []
    corners = []
    for index, ((x0, y0, x1, y1), (w, h)) in enumerate(zip(boxes, sizes)):
        x = min(max(0, x0), max(0, width - w))
        free = [c for c in (y0 - h, y1, *range(y0, height - h, max(1, h // 2))) if 0 <= c <= height - h and
                not any(intersection((x, c, x + w, c + h), other) > 0 for other in placed)]
        by_box = [c for c in free if c in (y0 - h, y1) or y0 <= c <= y1 - h]
        y = (min(by_box, key=lambda c: hidden((x, c, x + w, c + h), boxes, index)
                 + misleading((x, c, x + w, c + h), boxes, index)) if by_box else
             free[0] if free else min(max(0, y0 - h), max(0, height - h)))
        placed.append((x, y, x + w, y + h))
        corners.append((x, y))
    return corners


def hidden(caption: tuple[int, int, int, int], boxes: list[tuple[int, int, int, int]], own: int) -> float:
    """How much of the faces a caption hides: the shares of them it lies over, added up, each under COVERED counted as
    none (a corner, and a caption that flips between places as a box wavers). A face is its box with the forehead
    and chin around it (FACE_AROUND: the box runs from the brows to the mouth); the caption's own face, only its box
    (a caption stands on its top or bottom edge)."""
    total = 0.0
    for index, (x0, y0, x1, y1) in enumerate(boxes):
        if index != own:
            grown = FACE_AROUND * (y1 - y0)
            y0, y1 = y0 - grown, y1 + grown
        share = intersection(caption, (x0, y0, x1, y1)) / max(1, (x1 - x0) * (y1 - y0))
        total += share if share >= COVERED else 0.0
    return total


def misleading(caption: tuple[int, int, int, int], boxes: list[tuple[int, int, int, int]], own: int) -> float:
    """1 when the caption stands on another face's box and not on its own, as a caption does: that box's top lies
    under the caption, within its height, beside it. In a collage without gaps a caption below its box stood on the
    top of the box below, and read as that face's (one face seemed to have two captions, another none); else 0."""
    x0, y0, x1, y1 = caption
    low, high = y1 - (y1 - y0) // 2, y1 + (y1 - y0)
    stands_on = [box[0] < x1 and box[2] > x0 and low <= box[1] <= high for box in boxes]
    return float(not stands_on[own] and any(stands_on[:own] + stands_on[own + 1:]))


def draw_faces(frame: np.ndarray, tracks: list[Track], labels: list[str], bars: bool = False,
               charted: list[int] | None = None) -> np.ndarray:
    """Draw onto `frame` in place and return it: a box per face, its shown label and probability above it; with
    several faces, each caption starts with the face's id (`#2 happy 87%`), as the results and the report name it.
    `charted`: the classes (indices into `labels`) the bars show, those the model answers (`--classes`); else all."""
    charted = list(range(len(labels))) if charted is None else charted
    height, width = frame.shape[:2]
    scale = drawing_scale(width, height)
    text_scale, thickness = scale * 0.8, 1 + (scale > 0.7) + int(scale // 1.5)
    line = line_width(scale)
    captions, boxes, sizes = [], [], []
    for track in top_to_bottom(tracks):
        box = tuple(int(round(v)) for v in track.face.box)
        caption = caption_text(track, labels, several=len(tracks) > 1)
        (w, h), base = cv2.getTextSize(caption, FONT, text_scale, thickness)
        captions.append((track, caption, base, colour_of(labels[track.label])))
        boxes.append(box)
        sizes.append((w + 4, h + base + base // 2))
    for (_, _, _, colour), box in zip(captions, boxes):  # edged in black, to be seen on light and dark pictures alike
        cv2.rectangle(frame, box[:2], box[2:], (0, 0, 0), line + 2, cv2.LINE_AA)  # (neutral's light grey was lost
        cv2.rectangle(frame, box[:2], box[2:], colour, line, cv2.LINE_AA)  # on a white wall)
    places = caption_places(boxes, sizes, (width, height))
    if bars:  # (off the captions: a chart inside its box, level with its top, lay under a caption there)
        corners, _, geometry = chart_layout(boxes, len(charted), (width, height),
                                            [(x, y, x + w, y + h) for (x, y), (w, h) in zip(places, sizes)])
        for (track, _, _, _), corner in zip(captions, corners):
            _draw_bars(frame, [track.probabilities[i] for i in charted], [labels[i] for i in charted], corner, geometry)
    for (_, caption, base, colour), (x, y), (w, h) in zip(captions, places, sizes):
        _text(frame, caption, (x, y + h - base // 2), text_scale, (0, 0, 0), thickness, background=colour)
    return frame


def top_to_bottom(tracks: list[Track]) -> list[Track]:
    """The order faces are drawn in, which places their captions and charts."""
    return sorted(tracks, key=lambda t: (t.face.box[1], t.face.box[0]))


@dataclass(frozen=True)
class BarGeometry:
    """How a face's bar chart is drawn: a row per class, its name then its bar."""
    row: int  # px a class
    label_width: int  # px for the class names
    bar_width: int  # px of a bar at probability 1
    text_scale: float  # of the class names

    def size(self, classes: int) -> tuple[int, int]:
        """(width, height) of the chart."""
        return self.label_width + self.bar_width, classes * self.row


def bar_geometry(scale: float, fit: float = math.inf) -> BarGeometry:
    """The chart drawn at `scale`; its class names and rows no smaller than at BAR_TEXT_SCALE (at the 0.45 of a small
    picture they were 5 px high, and could not be read), where rows that tall fit in (`fit`: the largest scale whose
    rows fit in the picture's height)."""
    text = max(scale, min(BAR_TEXT_SCALE, fit))
    return BarGeometry(int(16 * text + 4), int(62 * text + 8), int(80 * scale + 20), text * 0.45)


def chart_layout(boxes: list[tuple[int, int, int, int]], classes: int, frame_size: tuple[int, int],
                 captions: list[tuple[int, int, int, int]] = ()) -> tuple[list[tuple[int, int]], tuple[int, int], BarGeometry]:
    """(each face's bar chart's top-left corner, the charts' size, how they are drawn) in a picture of `frame_size`."""
    width, height = frame_size
    fit = (height / classes - 4) / 16
    geometry = bar_geometry(min(drawing_scale(width, height), max(0.3, fit)), fit)  # smaller in a low picture
    chart = geometry.size(classes)
    return bar_places(boxes, chart, frame_size, captions), chart, geometry


def caption_text(track: Track, labels: list[str], several: bool) -> str:
    """`happy 87%`; with `several` faces in the picture `#2 happy 87%`, the id the results and the report give it."""
    caption = f"{labels[track.label]} {track.probabilities[track.label]:.0%}"
    return f"#{track.id} {caption}" if several else caption


def bar_places(boxes: list[tuple[int, int, int, int]], chart: tuple[int, int], frame_size: tuple[int, int],
               captions: list[tuple[int, int, int, int]] = ()) -> list[tuple[int, int]]:
    """Top-left corners for each face's bar chart of size `chart` (w, h), by its own box: on its right, on its left, or
    inside it at either side (each moved inside the frame), level with the box's top or else its bottom; of those, the
    one covering least of the other faces (their middles, eyes, nose and mouth, the most), of the charts placed
    before and the `captions`, and of its own face's middle (two faces side by side: not each chart over the other; a close-up filling
    the picture: its chart in a corner of the face, off its eyes). Not at the frame's far side: faces filling a video's
    width side by side had their charts over each other's faces, each seeming the other's."""
    width, height = frame_size
    w, h = chart
    middles = [face_middle(box) for box in boxes]
    placed: list[tuple[int, int, int, int]] = []
    for index, box in enumerate(boxes):
        xs = dict.fromkeys(max(0, min(x, width - w)) for x in (box[2] + 6, box[0] - 6 - w, box[2] - 2 - w, box[0] + 2))
        ys = dict.fromkeys(max(0, min(y, height - h)) for y in (box[1], box[3] - h))

        def covered(corner: tuple[int, int]) -> float:
            rect = (*corner, corner[0] + w, corner[1] + h)
            others = sum(intersection(rect, boxes[i]) + 3 * intersection(rect, middles[i])
                         for i in range(len(boxes)) if i != index)
            return (others + 3 * sum(intersection(rect, other) for other in [*placed, *captions])
                    + intersection(rect, middles[index]))

        x, y = min(((x, y) for y in ys for x in xs), key=covered)
        placed.append((x, y, x + w, y + h))
    return [rect[:2] for rect in placed]


def face_middle(box: tuple[int, int, int, int]) -> tuple[float, float, float, float]:
    """The part of a face's box that holds its eyes, nose and mouth: its middle, a fifth in from each side."""
    x0, y0, x1, y1 = box
    dx, dy = (x1 - x0) / 5, (y1 - y0) / 5
    return x0 + dx, y0 + dy, x1 - dx, y1 - dy


def _draw_bars(frame, probabilities, labels, corner, geometry: BarGeometry):
    """A bar per class, from `corner` down (`bar_places`), on rows darkened to CHART_SHADE of the picture: a face the
    chart must cover (a close-up filling the picture) still shows through (it was hidden under solid rows)."""
    row, bar_width, label_width = geometry.row, geometry.bar_width, geometry.label_width
    x, y = corner
    for i, (name, p) in enumerate(zip(labels, probabilities)):
        top = y + i * row
        colour = colour_of(name)
        under = frame[top:top + row - 1, x:x + label_width + bar_width + 1]
        under[:] = under * CHART_SHADE
        cv2.rectangle(frame, (x + label_width, top + 2), (x + label_width + int(bar_width * float(p)), top + row - 4),
                      colour, cv2.FILLED)
        _text(frame, name, (x, top + row - 3), geometry.text_scale, (255, 255, 255))


def _window_scale(frame: np.ndarray) -> float:
    """How much larger the window's own text is drawn into a frame larger than 720p (it is shown scaled down)."""
    return max(1.0, drawing_scale(frame.shape[1], frame.shape[0]))


CORNERS = ("top left", "top right", "bottom left", "bottom right")


def face_areas(tracks: list[Track], frame_size: tuple[int, int], bars: bool = False,
               rows: int | None = None) -> list[tuple[int, int, int, int]]:
    """Where draw_faces may have drawn each face: its box, with room for its caption above or below it (as wide as
    the widest caption it could have, `#ID surprise 100%`, where the box is narrower); then each caption once more,
    where caption_places puts one that wide, so that what is drawn in a corner keeps off a caption before a box (a
    face filling a small photo is under every corner, and the photo's number covered its caption); with `bars`, its
    bar chart of `rows` classes (None: all of them)."""
    width, height = frame_size
    scale = drawing_scale(width, height)
    text_scale, thickness = scale * 0.8, 1 + (scale > 0.7) + int(scale // 1.5)
    areas, captions, boxes = [], [], []
    for track in top_to_bottom(tracks):
        (w, h), base = cv2.getTextSize(f"#{track.id} surprise 100%", FONT, text_scale, thickness)
        h += base + base // 2
        x0, y0, x1, y1 = box = tuple(int(round(v)) for v in track.face.box)
        x = min(max(0, x0), max(0, width - w - 4))  # as caption_places keeps a caption inside the picture
        edge = line_width(scale) // 2 + 2  # the box's line and its black edging, astride the box
        areas.append((min(x0, x) - edge, y0 - h - edge, max(x1, x + w + 4) + edge, y1 + h + edge))
        captions.append((w + 4, h))
        boxes.append(box)
    placed = [(x, y, x + w, y + h) for (x, y), (w, h) in zip(caption_places(boxes, captions, frame_size), captions)]
    areas += placed
    if bars and tracks:
        corners, (w, h), _ = chart_layout(boxes, rows or len(tracks[0].probabilities), frame_size, placed)
        areas += [(x, y, x + w, y + h) for x, y in corners]
    return areas


def clearest_corner(corner: str, box: Callable[[str], tuple[int, int, int, int]],
                    avoid: list[tuple[int, int, int, int]]) -> str:
    """`corner` unless what is drawn there, `box(corner)`, would cover some of the `avoid` areas; else the corner of
    CORNERS where it covers least of them, the first among equals."""
    def covered(place: str) -> float:
        return sum(intersection(box(place), area) for area in avoid)

    return corner if covered(corner) == 0 else min(CORNERS, key=covered)


def draw_corner(frame: np.ndarray, text: str, avoid: list[tuple[int, int, int, int]] = (),
                corner: str = CORNERS[0]) -> str:
    """The window's FPS counter, or a photo's number, in `corner` of the frame unless it would cover some of the
    `avoid` areas (the faces and their captions), else in the corner that covers least of them, the first of
    CORNERS among equals. Returns the corner used."""
    k = _window_scale(frame)
    scale, thickness = 0.6 * k, max(1, round(k))
    (w, h), base = cv2.getTextSize(text, FONT, scale, thickness)
    height, width = frame.shape[:2]

    def origin(place: str) -> tuple[int, int]:  # as _text takes it: the text's bottom left
        return (int(8 * k) if place.endswith("left") else width - int(8 * k) - w - 4,
                int(24 * k) if place.startswith("top") else height - int(8 * k) - base // 2)

    def box(place: str) -> tuple[int, int, int, int]:
        x, y = origin(place)
        return x, y - h - base, x + w + 4, y + base // 2

    corner = clearest_corner(corner, box, avoid)
    _text(frame, text, origin(corner), scale, (255, 255, 255), thickness, background=(0, 0, 0))
    return corner


def draw_help(frame: np.ndarray, lines: list[tuple[str, str]], avoid: list[tuple[int, int, int, int]] = (),
              corner: str = CORNERS[0]) -> np.ndarray:
    """A dark panel with one `key  what it does` line per entry, beside the FPS counter in its `corner` (under it at
    the top, over it at the bottom) unless the panel would cover some of the `avoid` areas (the faces and their
    captions), else in the corner where it covers least of them (at the top left always, it covered the caption of
    a face there)."""
    k = _window_scale(frame)
    height, width = frame.shape[:2]
    thickness = max(1, round(k))

    def layout(scale: float) -> tuple[int, int, int]:  # (a row's height, the keys' column's width, the panel's width)
        keys = max(cv2.getTextSize(key, FONT, scale, thickness)[0][0] for key, _ in lines) + int(16 * k)
        return (int(26 * scale + 8 * k), keys,
                keys + max(cv2.getTextSize(what, FONT, scale, thickness)[0][0] for _, what in lines) + int(16 * k))

    scale = max(0.45, min(0.7, width / 1280)) * k
    for _ in range(2):  # a small photo's window: the panel narrowed to fit in it (it ran past the picture's right edge,
        fit = scale * (width - int(16 * k)) / layout(scale)[2]  # its lines cut off; text is not quite in proportion)
        scale = max(HELP_LEAST_SCALE * k, min(scale, fit))
    row, key_width, panel_width = layout(scale)
    panel_height = row * len(lines) + int(10 * k)

    def box(where: str) -> tuple[int, int, int, int]:  # the panel's place in that corner
        x = int(8 * k) if where.endswith("left") else max(0, width - int(8 * k) - panel_width)
        y = int(34 * k) if where.startswith("top") else max(0, height - int(34 * k) - panel_height)
        return x, y, x + panel_width, y + panel_height

    left, top = box(clearest_corner(corner, box, avoid))[:2]
    panel = frame[top:top + panel_height, left:left + panel_width]
    panel[:] = (panel * 0.25).astype(np.uint8)
    for i, (key, what) in enumerate(lines):
        y = top + (i + 1) * row
        _text(frame, key, (left + 6 * k, y), scale, (120, 230, 255), thickness)
        _text(frame, what, (left + 6 * k + key_width, y), scale, (255, 255, 255), thickness)
    return frame


def fitted(size: tuple[int, int], screen: tuple[int, int], share: float = 0.9, grow: bool = False) -> tuple[int, int]:
    """`size` scaled down (and, with `grow`, up) to fit `share` of the screen, keeping its shape."""
    scale = min(share * screen[0] / size[0], share * screen[1] / size[1])
    scale = scale if grow else min(1.0, scale)
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def letterboxed(frame: np.ndarray, screen: tuple[int, int]) -> np.ndarray:
    """`frame` scaled (up or down) to fill the screen as far as its shape allows, black bars around it."""
    inner = fitted(frame.shape[1::-1], screen, share=1.0, grow=True)
    canvas = np.zeros((screen[1], screen[0], 3), np.uint8)
    x0, y0 = (screen[0] - inner[0]) // 2, (screen[1] - inner[1]) // 2
    canvas[y0:y0 + inner[1], x0:x0 + inner[0]] = cv2.resize(frame, inner, interpolation=cv2.INTER_LINEAR)
    return canvas
