"""Detect stage: MediaPipe face detection, with the models that ship inside its wheel.

Modes:
- `short`: the short-range model (faces within about 2 m, large in the frame); fastest.
- `full`: the full-range model on the whole frame (faces up to about 5 m).
- `tiled`: `full` plus a pass over every overlapping tile of about 320 px, in which small,
  distant faces are seen at a useful scale; all merged by non-maximum suppression. Complete
  in one frame, so right for photos, but several times slower. A large picture (a side over
  about 1,500 px) is also tiled coarser (640, 1280 px, ...): a face too large to lie whole in a
  320 px tile but too small for the full pass (150-500 px in a 12-megapixel photo) is whole in one. The
  short-range model also looks at the windows, for faces that fill one (a collage, a video call's gallery:
  `FaceDetector._filling`), and the coarser windows at the left and right edges are also searched moved half out
  past them (a face cut by the picture's side: `edge_windows`).
- `sweep`: for video. `full`, plus ONE tile per frame in rotation (new small faces are found
  within one rotation, about half a second), plus a closer look (short-range model) at the
  region around each small face of the previous frame and any the full pass missed (they are
  then followed every frame), and the short-range model on one tile every other frame, for faces that fill it.
- `auto`: `tiled` for images, `sweep` for video and cameras (chosen by the caller).

Turned faces (photos only, `upright=True`): a photo turned sideways or upside down without its EXIF
orientation, or a scan, holds faces that BlazeFace, trained on upright faces, finds only in part, and
then with the eyes placed as on an upright face, so the crop would be cut sideways. `Upright` asks
MediaPipe's face-landmark model (also in the wheel) how face-like each found face is at each quarter
turn. A face that is most face-like turned is found again in a window turned that way; a photo most
of whose faces lie one way is searched again turned upright; a picture where nothing was found is
looked at turned each way, keeping only faces the landmark model finds face-like. A photo where BlazeFace still
finds no face is searched by OpenCV's Haar cascade (`Cascade`), which finds faces behind dark sunglasses, again
keeping only what the landmark model finds face-like. So is a video frame (`sweep`) where BlazeFace finds no face:
around the faces of the last frame, and now and then all of it (`FaceDetector._unseen`). On video, a box found
inside a face of the last frame and much smaller than it (BlazeFace now and then boxes only a nose and mouth) is
a part of that face, not a second face, and is dropped (`wholes`).

Structure: `BlazeFace` is the base detector (one MediaPipe model on a frame or a window of it);
`Tiles` and `Sweep` plan the extra windows it looks at; `FaceDetector` runs the passes, merges them.

Close-ups (a face filling a portrait photo or a webcam frame) are the short-range model's:
the full-range model misses them (it finds a face in 13% of the wild-faces photos, the
short-range model in 98%) or boxes part of them. Every mode but `short` adds a short-range pass
over the frame for images, and for video when a large face or none was found; when `tiled` still
finds nothing, the short-range model looks at every tile too (a tight face crop pasted small into a
larger picture fills much of a tile); when still nothing is found, the frame is padded to twice its
size and looked at again.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from realtime import quiet_stderr
from realtime.classify import ModelError, tflite_interpreter
from realtime.faces import Face, overlap, overlapping, share_inside, suppress

MODES = ("short", "full", "tiled", "sweep")


@dataclass(frozen=True)
class BlazeFaceModel:
    """A BlazeFace model in mediapipe's wheel, with the settings its face-detection graph runs it with
    (mediapipe/modules/face_detection/face_detection_{short,full}_range.pbtxt)."""
    file: Path  # in the wheel
    input: int  # its square input, px
    strides: tuple[int, ...]  # one per anchor layer
    anchors_per_layer: int  # per cell
    least_score: float  # the graph keeps no box scored lower, whatever min_detection_confidence says (0.10.21)


BLAZEFACE = {0: BlazeFaceModel(Path("modules", "face_detection", "face_detection_short_range.tflite"), 128, (8, 16, 16, 16), 2, 0.5),
             1: BlazeFaceModel(Path("modules", "face_detection", "face_detection_full_range_sparse.tflite"), 192, (4,), 1, 0.6)}
WEIGHTED_IOU = 0.3  # boxes that overlap the surest one by more than this are merged into it
UNSURE_SCORE = 0.3  # photos where nothing else is found: the least score of a box (FaceDetector._unsure)
FULL_RANGE_INPUT = BLAZEFACE[1].input  # the full-range model sees the frame scaled to this many pixels
CLOSE_UP = 0.3  # a face wider than this share of the frame may be a close-up that the full-range model boxes partially
RELIABLE_FACE_PX = 28  # faces at least this wide at that scale are found and boxed well (bench/detection_recall.py)
PART_SIZE = 0.7  # video: a face found inside a face of the last frame, narrower than this share of it, is a part of it
PART_OVERLAP = 0.3  # a photo's box face-like no way up, sharing this much of itself with a face-like box, is a part of it
WHOLE_INSIDE, WHOLE_SIZE = 0.6, 1.5  # a box lying this much inside a face-like box this many times as wide: a part of it
PADDED_SIDE = 512  # the longer side a photo is scaled down to for the look at it padded, for such boxes (`_whole`)
FOUND_FACE_PX = 20  # about half the faces this wide at that scale are found (300-499 px in 4000x3000: 57%)
SURE_FACE_PX = 40  # faces this wide at that scale are found every time (all 77 of 140+ px in 640 px tiles: docs/face-detection.md)
FILLING_OVERLAP = 0.2  # a face the short-range model finds in a tile sharing more of its box with a face found is not a new one
FILLING_LEAST = 1 / 8  # ... and looks only at windows of at least this share of the picture's longer side
KEPT_IOU = 0.3  # a face overlapping a box of the last frame this much is that face, kept first under --max-faces
COARSE_SCORE = 0.65  # the least score of a face found in a tile coarser than `tile` px (see FaceDetector._kept)
# A frame with a longer side is searched scaled down to it: MediaPipe's OpenCV aborts on pictures over 32,767 px,
# which padding (below) would make of a face-less one.
LARGEST_SIDE = 8192
# Quarter turns clockwise, in degrees, as OpenCV turns a picture.
TURNS = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
LANDMARK_MODEL = Path("modules", "face_landmark", "face_landmark.tflite")  # in mediapipe's wheel
LANDMARK_INPUT = 192  # its input: a face crop of 1.5x the detection box (as MediaPipe's face mesh cuts it)
FACE_LIKE = 0.5  # the least face flag (0-1) of the landmark model for a face turned upright
# Its points at the corners of each eye (face mesh numbering): the subject's right eye, then the left.
EYE_CORNERS = ((33, 133), (362, 263))
# The last resort for photos where BlazeFace finds no face at all: OpenCV's frontal-face Haar cascade (in its
# wheel). BlazeFace leans on the eyes, and finds no face behind dark sunglasses (docs/face-detection.md).
HAAR_CASCADE = "haarcascade_frontalface_default.xml"
HAAR_SIDE = 1024  # the picture is searched scaled down to this longer side (faces from 24 px there)
# Where BlazeFace's box lies on a cascade's: its side 0.88x, its centre 0.104 sides lower (the median over 2,351
# FER2013 Training faces in a frame that both found; IQR 0.11 in size, 0.06 in shift), so the card's crop fits it.
HAAR_TO_BLAZEFACE = (0.88, 0.104)
# Video (`sweep`): in a frame where BlazeFace finds no face, the cascade looks around each face of the last frame,
# in a window twice its size searched at HAAR_WINDOW_SIDE px (the face about 80 px there), and, when that finds
# none, once in HAAR_EVERY such frames over the whole frame at HAAR_VIDEO_SIDE px (faces from 50 px in 640x480).
HAAR_WINDOW_SIDE = 160
HAAR_NEAR_SIZES = (0.7, 1.4)  # there, only faces 0.7x to 1.4x the last frame's size are looked for
HAAR_VIDEO_SIDE = 320
HAAR_EVERY = 5


def mediapipe_model(path: Path):
    """A model file in mediapipe's wheel (found without importing mediapipe), loaded to run on one thread."""
    spec = importlib.util.find_spec("mediapipe")
    place = Path(next(iter(spec.submodule_search_locations or []), "")) / path if spec else None
    if place is None or not place.is_file():
        raise ModelError(f"MediaPipe's face model {path.name} is missing: the program needs mediapipe 0.10.21, whose "
                         "wheel holds it (pip install mediapipe==0.10.21)")
    _, interpreter = tflite_interpreter()
    with quiet_stderr():
        model = interpreter(model_path=str(place), num_threads=1)
        model.allocate_tensors()
    return model


def padded(rgb: np.ndarray) -> tuple[np.ndarray, int]:
    """The picture with a black border half its longer side wide, and that width: a face cut off by its edges looks
    whole there."""
    pad = max(rgb.shape[:2]) // 2
    return cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(0, 0, 0)), pad


def shrunk(image: np.ndarray, scale: float) -> np.ndarray:
    """The picture scaled down by `scale` (at most 1; area-averaged); a sliver of one keeps at least a pixel across."""
    if scale >= 1:
        return image
    height, width = image.shape[:2]
    return cv2.resize(image, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA)


def tile_windows(width: int, height: int, tile: int = 320, overlap_fraction: float = 0.25) -> list[tuple[int, int, int, int]]:
    """Windows (x0, y0, x1, y1) of about `tile` pixels that cover the frame, neighbours overlapping."""
    def spans(length: int) -> list[tuple[int, int]]:
        count = max(1, int(np.ceil((length - tile * overlap_fraction) / (tile * (1 - overlap_fraction)))))
        if count == 1:
            return [(0, length)]
        size = int(np.ceil(length / (count - (count - 1) * overlap_fraction)))
        return [(int(start), int(start) + size) for start in np.linspace(0, length - size, count).astype(int)]

    return [(x0, y0, x1, y1) for y0, y1 in spans(height) for x0, x1 in spans(width)]


def search_windows(width: int, height: int, tile: int = 320, min_face: float = 0) -> list[tuple[int, int, int, int]]:
    """The windows of every tiling (`tilings`), finest first."""
    return list(_search_windows(width, height, tile, min_face))


@functools.lru_cache(maxsize=16)
def _search_windows(width: int, height: int, tile: int, min_face: float) -> tuple[tuple[int, int, int, int], ...]:
    """(worked out once for a frame size: video asks for them every frame)"""
    return tuple(window for tiling in tilings(width, height, tile, min_face) for window in tiling)


def tilings(width: int, height: int, tile: int = 320, min_face: float = 0) -> list[list[tuple[int, int, int, int]]]:
    """The tiles of about `tile` px, then coarser tilings (2x, 4x, ... the tile) while a face that lies whole
    in one of their tiles (up to a quarter of its side, the neighbours' overlap) could be too small for the
    full pass over the frame. A tiling is left out when every face of at least `min_face` px is SURE_FACE_PX
    wide or more in the next coarser search (the next tiling, or the full pass after the last)."""
    sizes = [tile]
    while sizes[-1] * 2 / 4 < FOUND_FACE_PX * max(width, height) / FULL_RANGE_INPUT:
        sizes.append(sizes[-1] * 2)
    coarser = sizes[1:] + [max(width, height)]
    return [tile_windows(width, height, size) for size, next_size in zip(sizes, coarser)
            if min_face * FULL_RANGE_INPUT / next_size < SURE_FACE_PX]


def window_pixels(rgb: np.ndarray, window: tuple[int, int, int, int]) -> np.ndarray:
    """The frame's pixels in a window (x0, y0, x1, y1), black where it reaches past the frame's edges."""
    x0, y0, x1, y1 = window
    height, width = rgb.shape[:2]
    part = rgb[max(0, y0):min(height, y1), max(0, x0):min(width, x1)]
    if x0 >= 0 and y0 >= 0 and x1 <= width and y1 <= height:
        return part
    return cv2.copyMakeBorder(part, max(0, -y0), max(0, y1 - height), max(0, -x0), max(0, x1 - width),
                              cv2.BORDER_CONSTANT, value=(0, 0, 0))


def filling_windows(width: int, height: int, tile: int, min_face: float) -> list[tuple[int, int, int, int]]:
    """The windows of every tiling for `FaceDetector._filling`, none narrower than `min_face` px. Not left out as
    `tilings` leaves them for `min_face`: the full pass misses faces packed side by side (a collage) however large
    (`--min-face 180` lost a 214 px face of 12 in an 800x600 grid)."""
    return [window for window in _search_windows(width, height, tile, 0)
            if max(window[2] - window[0], window[3] - window[1]) >= min_face]


def edge_windows(windows, width: int) -> list[tuple[int, int, int, int]]:
    """Each window that touches the left or right edge of the frame, moved half its width out past that edge: a face
    that the edge cuts (a person half out of the picture) lies in the middle of one, as BlazeFace, trained on whole
    faces, finds it. Not the top and bottom edges, which cut off a forehead (found as it is) or a mouth (no label to
    read), for as much time again."""
    moved = []
    for x0, y0, x1, y1 in windows:
        half = (x1 - x0) // 2
        moved += [(x0 - half, y0, x1 - half, y1)] if x0 == 0 else []
        moved += [(x0 + half, y0, x1 + half, y1)] if x1 == width else []
    return moved


def boxed_well(box: np.ndarray, width: int, height: int) -> bool:
    """Whether a face this large in a frame this large is found and boxed well by the full pass (RELIABLE_FACE_PX);
    it finds smaller faces unreliably and boxes them loosely."""
    return box[2] - box[0] >= RELIABLE_FACE_PX * max(width, height) / FULL_RANGE_INPUT


def wholes(faces: list[Face], boxes) -> list[Face]:
    """The faces that are not a part of a face boxed in `boxes`: a part lies inside the box (its centre does) and is
    under PART_SIZE times its size."""
    def part_of(face: Face, box: np.ndarray) -> bool:
        cx, cy = (face.box[0] + face.box[2]) / 2, (face.box[1] + face.box[3]) / 2
        inside = box[0] <= cx <= box[2] and box[1] <= cy <= box[3]
        return bool(inside and face.width < PART_SIZE * (box[2] - box[0]))

    return [face for face in faces if not any(part_of(face, box) for box in boxes)]


def around(box: np.ndarray, width: int, height: int, scale: float = 3.0) -> tuple[int, int, int, int]:
    """A square window `scale` times the box's size around it, inside the frame."""
    half = max(box[2] - box[0], box[3] - box[1]) * scale / 2
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    x0, y0 = int(max(0, cx - half)), int(max(0, cy - half))
    return x0, y0, int(min(width, cx + half)), int(min(height, cy + half))


class BlazeFace:
    """The base detector: one of MediaPipe's BlazeFace models (0 = short-range, 1 = full-range) on a
    frame, or on a window of one whose corner is at (x0, y0); boxes and eyes in the frame's pixels.

    The model file is run as MediaPipe's face-detection graph runs it (`BLAZEFACE`): the picture
    letterboxed into the model's square input as its ImageToTensorCalculator does, the anchors decoded,
    and overlapping boxes merged by their scores' weights (its WEIGHTED non-maximum suppression). The
    boxes, eyes and scores are MediaPipe's own to a thousandth of a pixel (tests), in about 80% of the time (no graph
    to pass the picture through), and mediapipe is not imported (half a second and 60 MB at start-up)."""

    def __init__(self, model_selection: int, min_confidence: float):
        self.spec = BLAZEFACE[model_selection]
        self._model = mediapipe_model(self.spec.file)
        self._input = self._model.get_input_details()[0]["index"]
        outputs = self._model.get_output_details()
        self._boxes = next(o["index"] for o in outputs if o["shape"][-1] == 16)  # box and 6 points per anchor
        self._scores = next(o["index"] for o in outputs if o["shape"][-1] == 1)
        self._anchors = anchor_centres(self.spec)
        self.least_score = max(min_confidence, self.spec.least_score)
        side = self.spec.input
        self._corners = np.float32([[0, side], [0, 0], [side, 0], [side, side]])

    def find(self, rgb: np.ndarray, x0: int = 0, y0: int = 0, least: float | None = None) -> list[Face]:
        """`least`: the least score of the boxes merged into faces (default: this detector's, `least_score`)."""
        height, width = rgb.shape[:2]
        side, size = max(width, height), self.spec.input
        # The picture centred in a square of its longer side (black around it), scaled to the model's input:
        # MediaPipe maps the square's corners with a perspective transform, and so bilinear samples fall where its do.
        square = cv2.getPerspectiveTransform(cv2.boxPoints(((width / 2, height / 2), (side, side), 0)), self._corners)
        letterboxed = cv2.warpPerspective(rgb, square, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        self._model.set_tensor(self._input, (letterboxed.astype(np.float32) * (2 / 255) - 1)[None])
        self._model.invoke()
        with np.errstate(over="ignore"):  # a logit of -100 (MediaPipe's clip) is a score of 0
            scores = 1 / (1 + np.exp(-np.clip(self._model.get_tensor(self._scores).ravel(), -100, 100)))
        sure = np.flatnonzero(scores >= (self.least_score if least is None else least))
        if not len(sure):
            return []
        scores = scores[sure]
        # Offsets from each anchor's centre, in input pixels: box centre x, y, width, height, then 6 points x, y.
        raw = self._model.get_tensor(self._boxes)[0, sure] / size
        anchors = self._anchors[sure]
        centres = raw[:, :2] + anchors
        boxes = np.hstack([centres - raw[:, 2:4] / 2, centres + raw[:, 2:4] / 2])
        eyes = raw[:, 4:8].reshape(-1, 2, 2) + anchors[:, None]  # the subject's right eye, then the left
        corner = np.array([(width - side) / 2 + x0, (height - side) / 2 + y0])  # of the square, in the frame
        faces = []
        for group, score in weighted_groups(boxes, scores):
            weights = scores[group, None] / scores[group].sum()
            box = (boxes[group] * weights).sum(0) * side + np.tile(corner, 2)
            points = (eyes[group] * weights[:, :, None]).sum(0) * side + corner
            faces.append(Face(box=box, score=score, eyes=points[np.argsort(points[:, 0])]))  # image-left eye first
        return faces

    def find_in(self, rgb: np.ndarray, windows) -> list[Face]:
        """The faces in each window (x0, y0, x1, y1) of the frame, in the frame's pixels; a window may reach past the
        frame's edges, black there (`edge_windows`)."""
        return [face for window in windows for face in self.find(window_pixels(rgb, window), *window[:2])]

    def close(self) -> None:
        self._model = None


def anchor_centres(spec: BlazeFaceModel) -> np.ndarray:
    """(anchors, 2): the centre x, y (0-1 of the input) of each of the model's anchors, in its output order, as
    MediaPipe's SsdAnchorsCalculator lays them: for each run of layers with the same stride, its grid of cells row by
    row, each cell's anchors together (all of them square, of the input's size, so only their centres matter)."""
    centres = []
    for stride in dict.fromkeys(spec.strides):
        per_cell = spec.strides.count(stride) * spec.anchors_per_layer
        cells = int(np.ceil(spec.input / stride))
        ys, xs = np.mgrid[0:cells, 0:cells]
        grid = np.stack([(xs.ravel() + 0.5) / cells, (ys.ravel() + 0.5) / cells], 1)
        centres.append(np.repeat(grid, per_cell, axis=0))
    return np.concatenate(centres).astype(np.float32)


def weighted_groups(boxes: np.ndarray, scores: np.ndarray):
    """MediaPipe's weighted non-maximum suppression: (indices of a group, its best score) for each group, best first.
    The surest box left takes every box left that overlaps it by more than WEIGHTED_IOU (itself too); the group's
    box and points are then their mean weighted by score."""
    left = np.argsort(-scores, kind="stable")
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    while len(left):
        best = boxes[left[0]]
        across = np.clip(np.minimum(boxes[left, 2], best[2]) - np.maximum(boxes[left, 0], best[0]), 0, None)
        down = np.clip(np.minimum(boxes[left, 3], best[3]) - np.maximum(boxes[left, 1], best[1]), 0, None)
        shared = across * down
        with np.errstate(divide="ignore", invalid="ignore"):
            taken = shared / (areas[left] + areas[left[0]] - shared) > WEIGHTED_IOU
        taken[0] = True
        yield left[taken], float(scores[left[0]])
        left = left[~taken]


def turn_points(points: np.ndarray, turn: int, width: float, height: float) -> np.ndarray:
    """Points (N, 2) of a picture `width` x `height` px that was turned `turn` degrees clockwise, back where they
    lie in the picture before the turn."""
    x, y = points[:, 0], points[:, 1]
    unturned = {0: (x, y), 90: (y, height - x), 180: (width - x, height - y), 270: (width - y, x)}[turn]
    return np.stack(unturned, 1)


def unturned(face: Face, turn: int, width: float, height: float, scale: float = 1.0, corner=(0.0, 0.0)) -> Face:
    """A face found in a picture (`width` x `height` px before the turn) turned `turn` degrees clockwise, back in
    the picture before the turn, then scaled by `scale` and moved by `corner` (a window's place in the frame).
    Its eyes keep their order, the subject's right eye first, so the crop is turned as the face lies."""
    def back(points: np.ndarray) -> np.ndarray:
        return turn_points(points, turn, width, height) * scale + np.asarray(corner)

    corners = back(face.box.reshape(2, 2))
    return Face(np.concatenate([corners.min(0), corners.max(0)]), face.score, back(face.eyes))


def square_window(rgb: np.ndarray, box: np.ndarray, scale: float, side: int | None = None) -> np.ndarray:
    """The square `scale` x the box's longer side around its centre (black beyond the frame's edges), resized
    to `side` px (default: its own size)."""
    length = max(box[2] - box[0], box[3] - box[1]) * scale
    side = side or max(1, round(length))
    zoom = side / length
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    matrix = np.float32([[zoom, 0, side / 2 - cx * zoom], [0, zoom, side / 2 - cy * zoom]])
    return cv2.warpAffine(rgb, matrix, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


class Upright:
    """Which quarter turn makes a found face upright: the face-landmark model of MediaPipe's face mesh (in its
    wheel) scores how face-like a crop is (its face flag), and it was trained on upright faces."""

    def __init__(self):
        self._model = mediapipe_model(LANDMARK_MODEL)
        self._input = self._model.get_input_details()[0]["index"]
        self._flag = next(o["index"] for o in self._model.get_output_details() if o["shape"][-1] == 1)
        self._points = next(o["index"] for o in self._model.get_output_details() if o["shape"][-1] == 1404)

    def face_likeness(self, rgb: np.ndarray) -> float:
        """0-1: how face-like an upright LANDMARK_INPUT-px RGB crop is."""
        self._model.set_tensor(self._input, (rgb.astype(np.float32) / 255)[None])
        self._model.invoke()
        return float(1 / (1 + np.exp(-self._model.get_tensor(self._flag).ravel()[0])))

    def eyes(self, rgb: np.ndarray, box: np.ndarray) -> tuple[float, np.ndarray]:
        """How face-like (0-1) the upright face in `box` is, and where the landmark model puts the centres of its
        eyes (image-left first, in the frame's pixels), which it places from the whole face, hidden eyes too."""
        likeness = self.face_likeness(square_window(rgb, box, 1.5, LANDMARK_INPUT))
        points = self._model.get_tensor(self._points).reshape(-1, 3)[:, :2]
        centres = np.array([points[list(corners)].mean(0) for corners in EYE_CORNERS])
        pixel = max(box[2] - box[0], box[3] - box[1]) * 1.5 / LANDMARK_INPUT  # frame px per crop px
        eyes = (centres - LANDMARK_INPUT / 2) * pixel + [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2]
        return likeness, eyes[np.argsort(eyes[:, 0])]

    def is_upright(self, rgb: np.ndarray, face: Face) -> bool:
        """Whether the face's crop is face-like (FACE_LIKE or more) as it lies."""
        return self.face_likeness(square_window(rgb, face.box, 1.5, LANDMARK_INPUT)) >= FACE_LIKE

    def turn(self, rgb: np.ndarray, face: Face) -> int | None:
        """Degrees clockwise (0, 90, 180 or 270) to turn the face's crop so that it is most face-like; None when
        it is face-like (FACE_LIKE or more) no way up: not a face, or too small or blurred to tell."""
        crop = square_window(rgb, face.box, 1.5, LANDMARK_INPUT)
        likeness = {0: self.face_likeness(crop)}
        likeness |= {turn: self.face_likeness(cv2.rotate(crop, code)) for turn, code in TURNS.items()}
        best = max(likeness, key=likeness.get)
        return best if likeness[best] >= FACE_LIKE else None


class Cascade:
    """The last resort for photos in which BlazeFace finds no face at all: OpenCV's frontal-face Haar cascade,
    which does not lean on the eyes as BlazeFace does (a face behind dark sunglasses). A box is kept only when the
    landmark model finds it face-like (`Upright`), which also gives its eyes; it is moved and sized to where
    BlazeFace would put it (HAAR_TO_BLAZEFACE), so that the model card's crop fits it."""

    def __init__(self, upright: Upright):
        self.upright = upright
        file = Path(getattr(getattr(cv2, "data", None), "haarcascades", ""), HAAR_CASCADE)
        self._cascade = cv2.CascadeClassifier(str(file)) if file.is_file() else None

    def find(self, rgb: np.ndarray, side: int = HAAR_SIDE, last: np.ndarray | None = None) -> list[Face]:
        """Faces in the RGB frame, searched scaled down to `side` px at most; boxes and eyes in the frame's pixels.
        `last`: a face's box in the last frame of a video: only a window twice its size around it is searched, for
        a face about its size (HAAR_NEAR_SIZES), which is several times cheaper."""
        if self._cascade is None or self._cascade.empty():  # an OpenCV built without its data: no last resort
            return []
        height, width = rgb.shape[:2]
        x0, y0, x1, y1 = (0, 0, width, height) if last is None else around(last, width, height, 2.0)
        part = rgb[y0:y1, x0:x1]
        if part.size == 0:  # the last frame's box lay outside this frame
            return []
        scale = min(1.0, side / max(part.shape[:2]))
        sizes = {"minSize": (24, 24)}
        if last is not None:  # the cascade's box of a face BlazeFace boxes `last`'s size, then the margin
            expected = max(last[2] - last[0], last[3] - last[1]) * scale / HAAR_TO_BLAZEFACE[0]
            low, high = (max(24, round(expected * k)) for k in HAAR_NEAR_SIZES)
            sizes = {"minSize": (low, low), "maxSize": (high, high)}
        grey = shrunk(cv2.cvtColor(part, cv2.COLOR_RGB2GRAY), scale)
        pad = max(grey.shape) * 3 // 10  # a face cut by the picture's edge, as close-ups are
        grey = cv2.copyMakeBorder(grey, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        size, shift = HAAR_TO_BLAZEFACE
        faces = []
        for x, y, w, h in self._cascade.detectMultiScale(grey, 1.1, 4, **sizes):
            length = size * w / scale
            cx, cy = x0 + (x - pad + w / 2) / scale, y0 + (y - pad + h / 2 + shift * w) / scale
            box = np.array([cx - length / 2, cy - length / 2, cx + length / 2, cy + length / 2])
            likeness, eyes = self.upright.eyes(rgb, box)
            if likeness >= FACE_LIKE:
                faces.append(Face(box=box, score=likeness, eyes=eyes))
        return suppress(faces)


class Tiles:
    """`tiled`: the full-range model on every tile of about `tile` px (and coarser ones in a large frame),
    for photos (complete in one frame)."""

    def __init__(self, tile: int):
        self.tile = tile

    def windows(self, width: int, height: int, faces: list[Face], previous, min_face: float) -> tuple[list, list, list]:
        """(windows for the full-range model, for the short-range model's closer looks, and for its look for faces
        that fill a window, `FaceDetector._filling`); none only for faces under `min_face` px."""
        windows = search_windows(width, height, self.tile, min_face)
        # A face cut by the picture's edge (a person half out of the photo) lies in the middle of the coarser tilings'
        # windows moved out past the edges: a 350 px face cut by the edge of a 2000x1500 picture was missed, and found
        # once the same picture was 1280x720, where the full pass sees it larger. Not the tiles' (too small for such a
        # face), and so not in pictures with no tiling coarser than the tiles (the full pass sees their faces at least
        # half as large as the tiles do).
        coarser = [(x0, y0, x1, y1) for x0, y0, x1, y1 in windows if max(x1 - x0, y1 - y0) > self.tile]
        return windows + edge_windows(coarser, width), [], filling_windows(width, height, self.tile, min_face)


class Sweep(Tiles):
    """`sweep`: ONE tile per frame in rotation, and a closer look (short-range model) around every
    known face that is small at the full-range model's input scale or that the full pass lost."""

    def __init__(self, tile: int):
        super().__init__(tile)
        self._next = 0  # next tile of the rotation

    def windows(self, width: int, height: int, faces: list[Face], previous, min_face: float) -> tuple[list, list, list]:
        every = search_windows(width, height, self.tile, min_face)
        tiles = [every[self._next % len(every)]] if len(every) > 1 else []
        # The look for faces that fill a tile, every other frame in a rotation of its own: half the 1.5 ms a frame it
        # took in every frame (a face so found is then followed every frame by the closer looks).
        fill = filling_windows(width, height, self.tile, min_face)
        filling = [fill[self._next // 2 % len(fill)]] if len(fill) > 1 and self._next % 2 == 0 else []
        self._next += 1
        closer = [around(box, width, height) for box in previous
                  if not boxed_well(box, width, height) or not any(overlap(box, f.box)[0] > 0.3 for f in faces)]
        return tiles, closer, filling


class FaceDetector:
    def __init__(self, mode: str = "full", min_confidence: float = 0.5, max_faces: int = 8,
                 min_face: int = 0, tile: int = 320, upright: bool = False):
        """`upright`: turn faces that lie sideways or upside down (for photos; about 5 ms a face). Photos and
        `sweep` (video) fall back on the Haar cascade where BlazeFace finds no face (`Cascade`, `_unseen`)."""
        if mode not in MODES:
            raise ValueError(f"unknown detector '{mode}' (choose from {', '.join(MODES)})")
        self.upright = Upright() if upright else None
        # The landmark model, which says how face-like a box is: for photos, for the cascade's finds on video (`sweep`)
        # and for the short-range model's in tiles (`_filling`).
        self.landmarks = self.upright or (Upright() if mode in ("tiled", "sweep") else None)
        self.cascade = Cascade(self.landmarks) if upright or mode == "sweep" else None
        self._faceless = 0  # video: face-less frames since the cascade last found a face (`_unseen`)
        # The short-range model: for close-ups, and for closer looks (in such a window the face
        # fills about a third of it, and the model is about 3x cheaper than the full-range one).
        self.near = BlazeFace(0, min_confidence)
        self.main = self.near if mode == "short" else BlazeFace(1, min_confidence)
        self.planner = {"tiled": Tiles, "sweep": Sweep}.get(mode, lambda tile: None)(tile)
        self.mode, self.max_faces, self.min_face, self.tile = mode, max_faces, min_face, tile
        self.crowded = 0  # frames that held more than `max_faces` faces
        self.min_confidence = min_confidence
        self.found: list[Face] = []  # the last search's boxes before `suppress` (`_find`)

    def detect(self, frame: np.ndarray, previous: list[np.ndarray] = ()) -> list[Face]:
        """Faces in a BGR frame, largest first: at most `max_faces` (those at a box of `previous` first, then the
        surest; `crowded` counts the frames where some were left out), none narrower than `min_face` px.

        `previous`: face boxes of the last frame, which `sweep` looks at again more closely. A frame
        with a side over LARGEST_SIDE px is searched scaled down to it.
        """
        height, width = frame.shape[:2]
        scale = min(1.0, LARGEST_SIDE / max(height, width))
        if scale < 1:
            frame = shrunk(frame, scale)
            previous = [np.asarray(box) * scale for box in previous]
        # Boxes the frame no longer holds (a stream whose frames got smaller: a phone turned) are no place to look.
        previous = [box for box in previous if min(box[2], frame.shape[1]) - max(box[0], 0) >= 2
                    and min(box[3], frame.shape[0]) - max(box[1], 0) >= 2]
        least = self.min_face * scale  # in the searched frame's pixels
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        faces = self._find(rgb, previous, least)
        # Video: a face found inside a face of the last frame, much smaller than it, is a part of that face (BlazeFace
        # now and then boxes a nose and mouth, or one eye and cheek); where only such parts are found, the cascade
        # looks for the whole face. Not inside a small face's box, which may be loose (`boxed_well`).
        held = [box for box in previous if boxed_well(box, *rgb.shape[1::-1])]
        faces = wholes(faces, held)
        # The last resorts (the cascade, less sure boxes) have no score of BlazeFace's to hold to a --min-confidence above
        # the default: there they leave no face to them (at 0.95 a photo's faces came back from them scored 1.0).
        last_resorts = self.min_confidence <= BLAZEFACE[0].least_score
        if self.upright:
            faces = self._upright(rgb, faces, least)
            if not faces and last_resorts:
                faces = self.cascade.find(rgb) or self._unsure(rgb)
        elif self.cascade and last_resorts:
            faces = faces or self._unseen(rgb, previous)
        # When there are too many: the faces at the last frame's first, then the most certain. By score alone, which
        # 8 of 12 still faces of a video call were kept changed in 33 of 75 frames, boxes and ids going from person to
        # person; now the first ones kept stay.
        faces = sorted((f for f in faces if f.width >= least),
                       key=lambda f: (not any(overlap(f.box, box)[0] >= KEPT_IOU for box in previous), -f.score))
        self.crowded += len(faces) > self.max_faces
        kept = [f if scale == 1 else replace(f, box=f.box / scale, eyes=None if f.eyes is None else f.eyes / scale)
                for f in faces[: self.max_faces]]
        return sorted(kept, key=lambda f: -f.width)  # the largest first: a photo's main face leads its record

    def _find(self, rgb: np.ndarray, previous: list[np.ndarray], min_face: float) -> list[Face]:
        """Every face found in the RGB frame, before the limits on size and number (no window is searched only
        for faces narrower than `min_face` px)."""
        height, width = rgb.shape[:2]
        faces = self.main.find(rgb)
        windows, closer, filling = (self.planner.windows(width, height, faces, previous, min_face) if self.planner
                                    else ([], [], []))
        faces += [face for window in windows for face in self.main.find_in(rgb, [window])
                  if self._kept(face, window)] + self.near.find_in(rgb, closer)
        # Close-ups: the full-range model misses a face that fills the frame, or boxes only part of it.
        near = self.near is not self.main and (
            self.mode == "tiled" or not faces or max(f.width for f in faces) > CLOSE_UP * width)
        if near:
            faces += self.near.find(rgb)
        self.found = list(faces)  # every box, before suppression kept one of those that overlap (`_whole`)
        if windows or closer or near:
            faces = suppress(faces)
        if self.mode == "tiled" and len(windows) > 1 and not faces:
            # A tight face crop inside a larger picture fills much of a tile: the short-range model's.
            faces = suppress(self.near.find_in(rgb, windows))
        elif filling and max(width, height) >= 2 * self.tile:
            faces = suppress(faces + self._filling(rgb, filling, faces))
        if not faces:  # a face cut off by the frame's edges: look again with the frame padded
            faces = self._padded(rgb)
        return faces

    def _padded(self, rgb: np.ndarray, side: int | None = None) -> list[Face]:
        """The short-range model's faces in the frame padded: a face the frame's edges cut, or one that fills it.
        `side`: the frame scaled down to at most this longer side first (the model sees the padded frame at 128 px:
        a large photo padded whole is a copy of four times its pixels)."""
        scale = 1.0 if side is None else min(1.0, side / max(rgb.shape[:2]))
        bordered, pad = padded(shrunk(rgb, scale))
        return [replace(face, box=face.box / scale, eyes=face.eyes / scale) if scale < 1 else face
                for face in self.near.find(bordered, -pad, -pad)]

    def _filling(self, rgb: np.ndarray, windows, found: list[Face]) -> list[Face]:
        """Faces that fill much of a tile, which the full-range model misses there and the short-range model finds
        (face crops side by side: a collage, a video call's gallery; `tiled` found 68% of such faces at 1280x720
        before, `sweep` 91%), in `tiled`'s windows or `sweep`'s tile of the frame, every other frame (then followed
        by its closer looks). Of its finds, those kept as a coarse window's are (`_kept`), away from every face
        `found` (it boxes those differently, or a part of one: FILLING_OVERLAP) and face-like to the landmark model (a
        dark corner of a close-up can score as a face). Not in a picture under two tiles across, where the short-range pass over
        the whole picture sees such faces at half a tile's scale or more; nor in windows under FILLING_LEAST of the
        picture's longer side (the finest tiles of a 12-megapixel photo: a third of its time, for no face found in
        collages of that size)."""
        least = FILLING_LEAST * max(rgb.shape[:2])
        windows = [window for window in windows if max(window[2] - window[0], window[3] - window[1]) >= least]
        extra = suppress([face for window in windows for face in self.near.find_in(rgb, [window])
                          if self._kept(face, window)])
        return [face for face in extra if not any(overlap(face.box, f.box)[1] > FILLING_OVERLAP for f in found)
                and self.landmarks.is_upright(rgb, face)]

    def _unseen(self, rgb: np.ndarray, previous: list[np.ndarray]) -> list[Face]:
        """Video: faces BlazeFace cannot see (behind dark sunglasses) in a frame where it found none. The cascade
        looks around each face of the last frame (so a face it found is followed from frame to frame), and, when
        that finds none, over the whole frame once in HAAR_EVERY such frames (a face BlazeFace cannot see is then
        shown after the tracker's confirmation, a few frames later). What the whole search finds inside a face of the
        last frame, much smaller than it, is a part of that face (a nose and mouth), not a face, and is dropped."""
        faces = suppress([face for box in previous for face in self.cascade.find(rgb, HAAR_WINDOW_SIDE, box)])
        if not faces and self._faceless % HAAR_EVERY == 0:
            faces = wholes(self.cascade.find(rgb, HAAR_VIDEO_SIDE), previous)
        self._faceless = 0 if faces else self._faceless + 1
        return faces

    def _unsure(self, rgb: np.ndarray) -> list[Face]:
        """Photos: the last resort where nothing at all was found, not even by the cascade. Both BlazeFace models look at
        the picture and at it padded once more, keeping boxes down to UNSURE_SCORE, and of the faces so found only those
        the landmark model finds face-like as they lie (as for the cascade's), and not a part of another such face: a
        face tilted far over, half hidden by a hand or in the dark (5 of the 14 FER2013 PublicTest faces in a frame where
        nothing else was found; nothing in any of the 59 FER+ non-faces, icons and blank squares, where nothing else
        was)."""
        bordered, pad = padded(rgb)
        found = [face for model in dict.fromkeys((self.near, self.main)) for picture, corner in ((rgb, 0), (bordered, -pad))
                 for face in model.find(picture, corner, corner, least=UNSURE_SCORE)]
        faces = suppress([face for face in found if self.upright.is_upright(rgb, face)])
        return wholes(faces, [face.box for face in faces])  # not a part of a face found (a brow and eye)

    def _upright(self, rgb: np.ndarray, faces: list[Face], min_face: float) -> list[Face]:
        """The faces of an RGB photo turned upright (`Upright`). When most of them lie the same way (the photo
        itself is turned; boxes that are face-like no way up have no say), the whole search runs again on the
        photo turned upright, where BlazeFace finds the faces it misses lying down. Where none was found, the
        passes over the whole picture look at it turned each way (a close-up lying down), keeping only faces
        `Upright` finds face-like there: a face-less picture turned can show something face-like. Otherwise
        each turned face is found again on its own (`_turned`)."""
        height, width = rgb.shape[:2]
        if not faces:
            for turn, code in TURNS.items():
                turned = cv2.rotate(rgb, code)
                found = [face for face in suppress(self.main.find(turned) + self.near.find(turned))
                         if self.upright.is_upright(turned, face)]
                if found:
                    return [unturned(face, turn, width, height) for face in found]
            return []
        found = self.found  # (before `_find` runs again below)
        turns = [self.upright.turn(rgb, face) for face in faces]
        faces, turns = self._whole(rgb, faces, turns, found)
        faces_like = [turn for turn in turns if turn is not None]  # the boxes that hold a face some way up
        photo_turn = max(TURNS, key=faces_like.count)
        if 2 * faces_like.count(photo_turn) > len(faces_like):  # the photo lies turned: search it again upright
            found = self._find(cv2.rotate(rgb, TURNS[photo_turn]), [], min_face)
            # One face, found again alone but less surely: more likely a face lying in an upright photo.
            alone = faces[turns.index(photo_turn)]
            if len(faces_like) > 1 or len(found) > 1 or (found and found[0].score >= alone.score):
                return [unturned(face, photo_turn, width, height) for face in found]
        # A box face-like no way up that overlaps a face-like one (PART_OVERLAP of itself) is a part of that face (an
        # eye, cheek and ear boxed beside the whole face); away from the others it may be a small or blurred face.
        like = [face.box for face, turn in zip(faces, turns) if turn is not None]
        return [self._turned(rgb, face, turn) if turn else face for face, turn in zip(faces, turns)
                if turn is not None or not any(share_inside(face.box, box) >= PART_OVERLAP for box in like)]

    def _whole(self, rgb: np.ndarray, faces: list[Face], turns: list, found: list[Face]) -> tuple[list[Face], list]:
        """The faces and their turns, each part of a face replaced by the whole face (`_holder`): an eye, a nose or a
        sunglass lens boxed more surely than the face around it, which it then took the place of in `suppress` (a
        face that fills the photo: 3 of 641 wild-faces portraits, labelled neutral by their eye; close-ups cut at
        0.7-0.8x the face's box, a few boxes each). The whole faces are looked for among the boxes every pass found
        (`found`) and the short-range model's in the photo padded, where a face that fills it is found whole."""
        boxes, given = found + self._padded(rgb, PADDED_SIDE), list(zip(faces, turns))
        whole = [self._holder(rgb, face, turn, boxes, given) for face, turn in given]
        kept, kept_turns = [], []
        for face, turn, holder in zip(faces, turns, whole):
            face, turn = holder or (face, turn)
            if not any(face is other for other in kept):  # (two parts of one face: the face once)
                kept.append(face)
                kept_turns.append(turn)
        return kept, kept_turns

    def _holder(self, rgb: np.ndarray, part: Face, turn, boxes: list[Face], faces) -> tuple[Face, int] | None:
        """The surest of `boxes` that is face-like and holds `part` (WHOLE_INSIDE of it, and WHOLE_SIZE times as wide),
        with its turn; None if none does. A part face-like some way up (`turn`: an eye and brow can look like a face)
        only where the box is surer than it. Not a box that overlaps a face-like one of `faces` (with their turns) it
        does not hold: that is the whole face, boxed otherwise (a part face-like no way up is then dropped, `_upright`)."""
        def holds(box: Face, face: Face, turn) -> bool:
            return (box.width >= WHOLE_SIZE * face.width and share_inside(face.box, box.box) >= WHOLE_INSIDE
                    and (turn is None or box.score > face.score))

        for box in sorted(boxes, key=lambda f: -f.score):
            if holds(box, part, turn) and not any(
                    other_turn is not None and overlapping(box.box, other.box) and not holds(box, other, other_turn)
                    for other, other_turn in faces):
                box_turn = self.upright.turn(rgb, box)
                if box_turn is not None:
                    return box, box_turn
        return None

    def _turned(self, rgb: np.ndarray, face: Face, turn: int) -> Face:
        """A face that lies `turn` degrees (`Upright`), as the short-range model finds it in the window turned
        upright, when it finds it there at least as surely as in the window as it is: its box and eyes (the
        subject's right eye first, so that the crop is turned upright) back in the frame; else as found."""
        window = square_window(rgb, face.box, 2.0)
        side = window.shape[0]
        as_is, turned = (max((f for f in self.near.find(np.ascontiguousarray(w)) if self._centred(f, side)),
                             key=lambda f: f.score, default=None)
                         for w in (window, cv2.rotate(window, TURNS[turn])))
        if turned is None or (as_is is not None and turned.score < as_is.score):
            return face
        pixel = max(face.box[2] - face.box[0], face.box[3] - face.box[1]) * 2.0 / side  # frame px per window px
        corner = np.array([face.box[0] + face.box[2], face.box[1] + face.box[3]]) / 2 - side / 2 * pixel
        return unturned(turned, turn, side, side, pixel, corner)

    @staticmethod
    def _centred(face: Face, side: int) -> bool:
        """Whether a face found in a window `side` px wide lies at its centre (not a neighbour's face)."""
        centre = np.array([face.box[0] + face.box[2], face.box[1] + face.box[3]]) / 2
        return bool(np.abs(centre - side / 2).max() < side / 4)

    def _kept(self, face: Face, window: tuple[int, int, int, int]) -> bool:
        """Whether a face found in a window is kept: from a window coarser than the tiles, only one the model saw
        at least FOUND_FACE_PX wide (the finer tiles see smaller ones better) and scored at least COARSE_SCORE
        (there the unsure finds are mostly a chin or a neck below a face: bench/detection_recall.py)."""
        side = max(window[2] - window[0], window[3] - window[1])
        return side <= self.tile or (face.width >= FOUND_FACE_PX * side / FULL_RANGE_INPUT and
                                     face.score >= max(COARSE_SCORE, self.min_confidence))

    def close(self) -> None:
        for model in {self.main, self.near}:
            model.close()
