"""Detect, align, track, draw and write, one stage at a time."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from realtime.align import Crop, align_face, eye_angle
from realtime.detect import (BLAZEFACE, HAAR_EVERY, PART_OVERLAP, TURNS, UNSURE_SCORE, BlazeFace, FaceDetector,
                             search_windows, tile_windows, turn_points)
from realtime.draw import caption_places, draw_faces
from realtime.faces import Face, overlap, share_inside, suppress
from realtime.output import Annotated, VideoWriter
from realtime.scene import DemoSource, background, face_sprite, paste_face
from realtime.track import (ANOTHER_AROUND, MAX_JUMP, ShotCuts, Track, Tracker, alike, standardised,
                            still_quarters)
from tests.conftest import ROOT, assert_one_line_error


@pytest.fixture(scope="module")
def detector():
    detector = FaceDetector("full")
    yield detector
    detector.close()


def test_detector_finds_every_face_of_a_group(detector):
    frame, truth = DemoSource(faces=4).frame(0)
    faces = detector.detect(frame)
    assert len(faces) == 4
    for box in truth:
        assert max(overlap(face.box, box)[0] for face in faces) > 0.5
    for face in faces:  # eye keypoints inside the box, image-left eye first
        assert face.eyes[0, 0] < face.eyes[1, 0]
        assert (face.box[:2] < face.eyes).all() and (face.eyes < face.box[2:]).all()


def detection_pictures() -> list[np.ndarray]:
    """RGB pictures of many shapes (how each is letterboxed into the model's square), with faces from small to
    filling the picture, one and several, level and tilted, and none."""
    pictures = [DemoSource(faces=n, size=size).frame(n)[0] for n, size in
                ((1, (640, 480)), (4, (640, 480)), (2, (1280, 720)), (3, (517, 333)), (1, (333, 517)), (0, (640, 480)))]
    sprite = face_sprite()[0]
    pictures += [cv2.resize(sprite, None, fx=scale, fy=scale * stretch) for scale, stretch in ((1, 1), (0.45, 1.3), (2.2, 0.8))]
    tilted = background(550, 400)
    paste_face(tilted, 180, (300, 210), angle=25)
    return [cv2.cvtColor(picture, cv2.COLOR_BGR2RGB) for picture in pictures + [tilted]]


@pytest.mark.parametrize("model_selection", [0, 1])
def test_blazeface_finds_the_faces_mediapipe_s_own_graph_finds(model_selection):
    """The model files run here give what MediaPipe's face-detection solution gives with them: the same faces, boxes
    and eyes to a thousandth of a pixel, the same scores."""
    mp = pytest.importorskip("mediapipe")
    graph = mp.solutions.face_detection.FaceDetection(model_selection=model_selection)
    ours = BlazeFace(model_selection, 0.5)
    compared = 0
    for rgb in detection_pictures():
        height, width = rgb.shape[:2]
        theirs = graph.process(rgb).detections or []
        found = ours.find(rgb)
        assert len(found) == len(theirs)
        for face, detection in zip(found, theirs):  # both surest first
            box, points = detection.location_data.relative_bounding_box, detection.location_data.relative_keypoints
            expected = [box.xmin * width, box.ymin * height, (box.xmin + box.width) * width, (box.ymin + box.height) * height]
            np.testing.assert_allclose(face.box, expected, atol=1e-3)
            eyes = sorted([points[i].x * width, points[i].y * height] for i in (0, 1))
            np.testing.assert_allclose(face.eyes, eyes, atol=1e-3)
            assert face.score == pytest.approx(detection.score[0], abs=1e-5)
        compared += len(found)
    graph.close()
    assert compared >= 10


def test_min_confidence_leaves_out_less_sure_faces_above_the_models_own_floors():
    """MediaPipe 0.10.21's graphs ignored the confidence asked of them (0.5 short-range, 0.6 full-range always)."""
    pictures = detection_pictures()
    for selection, floor in ((0, 0.5), (1, 0.6)):
        assert BlazeFace(selection, 0.5).least_score == BLAZEFACE[selection].least_score == floor
        every = [face.score for rgb in pictures for face in BlazeFace(selection, 0.5).find(rgb)]
        surest = [face.score for rgb in pictures for face in BlazeFace(selection, 0.9).find(rgb)]
        assert min(every) < 0.9 <= min(surest) and len(surest) < len(every)


@pytest.mark.parametrize("source", ["photo", "video"])
def test_without_mediapipe_s_face_models_the_program_says_which_mediapipe_it_needs(source, tmp_path):
    """mediapipe is no longer imported, only its wheel's model files read; where they are not (no mediapipe, or a
    release from 0.10.30 on, which ships none), one error line, not a traceback."""
    frame = DemoSource(faces=1).frame(0)[0]
    path = tmp_path / "face.png"
    cv2.imwrite(str(path), frame)
    if source == "video":
        path = tmp_path / "clip.avi"
        writer = VideoWriter(path, fps=10, size=(640, 480))
        for i in range(3):
            writer.write(Annotated(i, i / 10, frame, []))
        writer.close()
    hidden = ("import sys, runpy; sys.modules['mediapipe'] = None; sys.argv = ['realtime', *sys.argv[1:]]; "
              "runpy.run_module('realtime', run_name='__main__')")
    result = subprocess.run([sys.executable, "-c", hidden, "--source", str(path), "--no-display", "--json", str(tmp_path / "out.jsonl")],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert_one_line_error(result, "is missing: the program needs mediapipe 0.10.21")
    assert result.returncode == 2


def test_max_faces_and_min_face_limits():
    frame, _ = DemoSource(faces=4).frame(0)
    assert len(FaceDetector("full", max_faces=2).detect(frame)) == 2
    assert FaceDetector("full", min_face=400).detect(frame) == []


def test_empty_frame_has_no_faces(detector):
    assert detector.detect(background(640, 480)) == []


def test_a_panorama_wider_than_mediapipe_can_take_is_searched_scaled_down():
    """A face-less frame is padded before a last look; past 32,767 px OpenCV cannot letterbox it for the model."""
    tiled = FaceDetector("tiled", min_face=100)
    assert tiled.detect(background(17_000, 600)) == []
    panorama = background(17_000, 600)
    paste_face(panorama, 300, (12_000, 300))
    (face,) = tiled.detect(panorama)
    assert 11_700 < face.box[0] < face.box[2] < 12_300 and 100 < face.width < 400  # in the panorama's own pixels
    assert 11_800 < face.eyes[0, 0] < face.eyes[1, 0] < 12_200
    assert FaceDetector("tiled", min_face=500).detect(panorama) == []  # min_face in the panorama's pixels too


@pytest.mark.parametrize("angle", [-20, 15])
def test_alignment_levels_a_rotated_face(detector, angle):
    rolled = background(640, 480)
    paste_face(rolled, 160, (320, 240), angle=angle)
    face = detector.detect(rolled)[0]
    assert eye_angle(face.eyes) == pytest.approx(-angle, abs=4)  # pasted counter-clockwise: the right eye rises
    assert align_face(rolled, face).shape == (48, 48)
    # Detect again inside a large aligned crop: its eyes must now be level.
    def angle_after(eyes):
        crop = align_face(rolled, Face(face.box, face.score, eyes), size=256, crop=Crop(1.8))
        (again,) = detector.detect(cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR))
        return eye_angle(again.eyes)

    assert angle_after(face.eyes) == pytest.approx(0, abs=4)
    assert abs(angle_after(None)) > 10  # without the eye keypoints the crop stays tilted


@pytest.fixture(scope="module")
def photo_detector():
    detector = FaceDetector("tiled", upright=True)  # as the program detects faces in photos
    yield detector
    detector.close()


def likeness(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel().astype(float), b.ravel().astype(float))[0, 1])


@pytest.mark.parametrize("turn", [90, 180, 270])
def test_a_face_lying_sideways_or_upside_down_is_cut_upright(photo_detector, turn):
    """A portrait photo turned without its EXIF orientation (or scanned on its side): the face is found where it
    lies and cut upright, as from the photo the right way up; the detector alone cuts it as it lies, or misses it."""
    photo = background(480, 640)
    paste_face(photo, 260, (240, 330))
    (upright,) = photo_detector.detect(photo)
    expected = align_face(photo, upright)
    turned = cv2.rotate(photo, TURNS[turn])
    (face,) = photo_detector.detect(turned)
    assert likeness(align_face(turned, face), expected) > 0.5  # the same face, within a few pixels and degrees
    mask = np.zeros(photo.shape[:2], np.uint8)
    mask[int(upright.box[1]):int(upright.box[3]), int(upright.box[0]):int(upright.box[2])] = 1
    x, y, w, h = cv2.boundingRect(cv2.rotate(mask, TURNS[turn]))
    assert overlap(face.box, np.array([x, y, x + w, y + h]))[0] > 0.6  # the box is on the face
    plain = FaceDetector("tiled").detect(turned)
    assert not plain or likeness(align_face(turned, plain[0]), expected) < 0.3


@pytest.mark.parametrize("turn", [90, 270])
def test_a_group_photo_lying_on_its_side_is_searched_the_right_way_up(photo_detector, turn):
    frame, truth = DemoSource(faces=4).frame(0)
    turned = cv2.rotate(frame, TURNS[turn])
    faces = photo_detector.detect(turned)
    assert len(faces) == 4
    for face in faces:  # the subject's right eye first: the crop is turned by the face's own lie
        assert eye_angle(face.eyes) == pytest.approx(turn if turn <= 180 else turn - 360, abs=25)
    # Each box, turned back with the photo, lies on one of its faces.
    height, width = frame.shape[:2]
    corners = [turn_points(face.box.reshape(2, 2), turn, width, height) for face in faces]
    boxes = [np.concatenate([c.min(0), c.max(0)]) for c in corners]
    for box in truth:
        assert max(overlap(found, box)[0] for found in boxes) > 0.5
    plain = FaceDetector("tiled").detect(turned)  # the search the right way up is what finds them all
    assert len(plain) < 4 or any(abs(eye_angle(face.eyes)) < 45 for face in plain)


def test_stray_boxes_that_are_no_face_any_way_up_do_not_outvote_the_faces_of_a_turned_photo(photo_detector):
    frame, truth = DemoSource(faces=4).frame(0)
    turned = cv2.rotate(frame, cv2.ROTATE_180)
    lying = FaceDetector("tiled").detect(turned)  # some of the upside-down faces, found as they lie
    strays = [Face(np.array([x, y, x + 60.0, y + 60.0]), 0.6) for x, y in [(10, 10), (20, 400), (560, 10), (560, 400)]]
    assert all(photo_detector.upright.turn(cv2.cvtColor(turned, cv2.COLOR_BGR2RGB), f) is None for f in strays)
    faces = photo_detector._upright(cv2.cvtColor(turned, cv2.COLOR_BGR2RGB), lying + strays, 0)
    height, width = frame.shape[:2]
    boxes = [turn_points(face.box.reshape(2, 2), 180, width, height) for face in faces]
    boxes = [np.concatenate([c.min(0), c.max(0)]) for c in boxes]
    for box in truth:  # the photo was searched again the right way up: every face, and no stray box
        assert max(overlap(found, box)[0] for found in boxes) > 0.5
    assert len(faces) == 4


def test_turning_faces_upright_leaves_upright_faces_and_face_less_pictures_alone(photo_detector):
    frame, _ = DemoSource(faces=4).frame(0)
    plain = FaceDetector("tiled")
    assert [f.box.tolist() for f in photo_detector.detect(frame)] == [f.box.tolist() for f in plain.detect(frame)]
    for turn in (0, *TURNS):  # nothing found either way up in a picture without a face
        picture = background(640, 480, seed=turn)
        assert photo_detector.detect(picture if turn == 0 else cv2.rotate(picture, TURNS[turn])) == []


def test_a_photo_box_beside_a_face_that_is_no_face_any_way_up_is_dropped_as_a_part_of_it(photo_detector):
    """BlazeFace boxed an eye, cheek and ear beside the whole face of a close-up (a wild-faces photo), and the program
    labelled it as a second face: a box the landmark model finds face-like no way up that overlaps a face-like box is
    a part of that face. Away from the faces, such a box stays (a small or blurred face)."""
    photo = background(640, 480)
    paste_face(photo, 260, (300, 200))
    (face,) = photo_detector.detect(photo)
    rgb = cv2.cvtColor(photo, cv2.COLOR_BGR2RGB)
    corner = face.box[:2] + face.width * np.array([0.6, 0.5])
    part = Face(np.concatenate([corner, corner + face.width / 2]), 0.65)  # a cheek and jaw
    away = Face(np.array([10.0, 10.0, 70.0, 70.0]), 0.6)
    assert photo_detector.upright.turn(rgb, part) is None and photo_detector.upright.turn(rgb, away) is None
    assert share_inside(part.box, face.box) >= PART_OVERLAP and share_inside(face.box, part.box) < PART_OVERLAP
    found = photo_detector._upright(rgb, [face, part, away], 0)
    assert [f.box.tolist() for f in found] == [face.box.tolist(), away.box.tolist()]


def close_up(cut: float, side: int) -> np.ndarray:
    """Grace Hopper's face (a real photo, in matplotlib's wheel) cut at `cut` times its face box (about where the
    detector boxes it in the photo), `side` px square, as photo sets of faces cropped tightly come."""
    import matplotlib

    photo = cv2.imread(str(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"))
    box = np.array([150.0, 120.0, 349.0, 319.0])
    half, (cx, cy) = (box[2] - box[0]) * cut / 2, (box[:2] + box[2:]) / 2
    zoom = side / (2 * half)
    matrix = np.float32([[zoom, 0, -(cx - half) * zoom], [0, zoom, -(cy - half) * zoom]])
    return cv2.warpAffine(photo, matrix, (side, side), borderMode=cv2.BORDER_REPLICATE)


@pytest.mark.parametrize("cut, side", [(0.7, 350), (0.75, 1024), (0.7, 600)])
def test_a_face_that_fills_the_photo_is_boxed_whole_not_by_its_eye(photo_detector, cut, side):
    """A face cut at 0.7-0.8x its box: a pass boxed an eye and brow (or a sunglass lens, a nose) more surely than
    another boxed the whole face, `suppress` kept the part, and the program labelled the eye (wild-faces portraits:
    7 photos, 5 of them labelled right once boxed whole; here one or two boxes of a quarter to a half of it). A part inside a larger
    face-like box found by a pass, or by the short-range model in the photo padded, gives way to it."""
    (face,) = photo_detector.detect(close_up(cut, side))
    assert face.width > 0.9 * side and share_inside(np.array([0, 0, side, side]), face.box) > 0.8  # the picture in it


def test_a_part_that_is_face_like_gives_way_only_to_a_surer_whole_face(photo_detector, monkeypatch):
    """An eye and brow can look like a face to the landmark model: such a part gives way to a face-like box holding
    it only where that box is surer (BlazeFace's score); one face-like no way up, to any face-like box holding it.
    A box that also overlaps another face it does not hold is not taken (`test_a_photo_box_beside_...`)."""
    photo = close_up(1.1, 400)
    rgb = cv2.cvtColor(photo, cv2.COLOR_BGR2RGB)
    (face,) = photo_detector.detect(photo)
    assert photo_detector.upright.turn(rgb, face) == 0
    x, y = face.box[:2] + face.width * 0.2
    part = Face(np.array([x, y, x + face.width / 3, y + face.width / 3]), 0.7)  # an eye and brow
    monkeypatch.setattr(photo_detector, "_padded", lambda *args: [])  # (it finds the face too: the holder alone here)
    for holder_score, part_turn, replaced in ((0.6, 0, False), (0.8, 0, True), (0.6, None, True)):
        holder = replace(face, score=holder_score)
        (kept,), turns = photo_detector._whole(rgb, [part], [part_turn], [holder])
        assert (kept, turns) == ((holder, [0]) if replaced else (part, [part_turn])), (holder_score, part_turn)


def behind_sunglasses(photo_detector) -> tuple[np.ndarray, np.ndarray, Face]:
    """A real photo (Grace Hopper's, in matplotlib's wheel), the same with opaque lenses painted over the eyes, and
    the face the photo detector finds in the bare photo."""
    import matplotlib

    photo = cv2.imread(str(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"))
    (bare,) = photo_detector.detect(photo)
    shaded = photo.copy()
    for x, y in bare.eyes.astype(int):
        cv2.circle(shaded, (x, y), int(0.36 * np.linalg.norm(bare.eyes[1] - bare.eyes[0])), (20, 20, 20), -1)
    return photo, shaded, bare


def blinded(detector: FaceDetector, monkeypatch) -> FaceDetector:
    """The detector with BlazeFace seeing no face, as behind dark sunglasses."""
    for model in (detector.main, detector.near):
        monkeypatch.setattr(model, "find", lambda *args, **kwargs: [])
    return detector


def test_where_nothing_else_finds_a_face_the_less_sure_face_like_ones_are_kept(monkeypatch):
    """The photo detector's very last resort (after the cascade): BlazeFace's boxes down to UNSURE_SCORE, kept where
    the landmark model finds them face-like. Here BlazeFace is made to give nothing above its usual floors."""
    import matplotlib

    photo = cv2.imread(str(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"))
    for min_confidence, found in ((0.5, 1), (0.8, 0)):  # a surer face asked for: no last resort
        detector = FaceDetector("tiled", min_confidence, upright=True)
        (bare,) = detector.detect(photo) if found else [None]
        asked = []
        for model in (detector.main, detector.near):
            def unsure_only(rgb, x0=0, y0=0, least=None, model_find=model.find):
                asked.append(least)
                return model_find(rgb, x0, y0, least) if least is not None else []
            monkeypatch.setattr(model, "find", unsure_only)
        monkeypatch.setattr(detector.cascade, "find", lambda *args: [])
        faces = detector.detect(photo)
        assert len(faces) == found and (UNSURE_SCORE in asked) == bool(found)
        if found:
            assert overlap(faces[0].box, bare.box)[0] > 0.9 and np.abs(faces[0].eyes - bare.eyes).max() < 2
            assert detector.detect(background(640, 480)) == []  # boxes under the floors there are not face-like


def test_a_face_blazeface_cannot_see_is_found_by_the_cascade_where_blazeface_would_box_it(photo_detector, monkeypatch):
    """Behind dark sunglasses BlazeFace finds no face (docs/face-detection.md). The photo detector's last resort,
    OpenCV's Haar cascade checked by the landmark model, boxes it where BlazeFace boxes the bare face, so that the
    card's crop fits, with the eyes where they are; it finds nothing in a picture without a face."""
    photo, shaded, bare = behind_sunglasses(photo_detector)
    (plain,) = photo_detector.cascade.find(cv2.cvtColor(photo, cv2.COLOR_BGR2RGB))
    assert overlap(plain.box, bare.box)[0] > 0.85  # its box moved and sized to BlazeFace's
    (face,) = photo_detector.cascade.find(cv2.cvtColor(shaded, cv2.COLOR_BGR2RGB))
    assert overlap(face.box, bare.box)[0] > 0.6  # (the lenses make the cascade's box about a fifth larger)
    assert np.abs(face.eyes - bare.eyes).max() < 0.1 * bare.width
    (fallen_back,) = blinded(photo_detector, monkeypatch).detect(shaded)
    assert fallen_back.box.tolist() == face.box.tolist()
    for seed in range(4):
        assert photo_detector.detect(background(640, 480, seed=seed)) == []
    for height, width in ((1, 5000), (5000, 1), (2, 20000)):  # slivers, scaled down for the cascade
        assert photo_detector.detect(np.full((height, width, 3), 128, np.uint8)) == []


def test_a_surer_face_asked_for_leaves_nothing_to_the_cascade(photo_detector, monkeypatch):
    """--min-confidence above the default holds BlazeFace's scores to it; the cascade has no such score (its faces are
    scored by the landmark model's face flag), so there it finds nothing: at 0.95 a photo's faces came back from it
    scored 1.0, more faces than at 0.8. Photos and video alike."""
    _, shaded, _ = behind_sunglasses(photo_detector)
    for min_confidence, found in ((0.5, 1), (0.8, 0), (1.0, 0)):
        photos = blinded(FaceDetector("tiled", min_confidence, upright=True), monkeypatch)
        assert len(photos.detect(shaded)) == found, min_confidence
        video = blinded(FaceDetector("sweep", min_confidence), monkeypatch)
        assert len(video.detect(shaded)) == found, min_confidence  # (the first face-less frame is searched whole)


def test_video_falls_back_on_the_cascade_and_follows_the_face_it_finds(photo_detector, monkeypatch):
    """Video (`sweep`): in frames where BlazeFace finds no face, the cascade searches the whole frame once in
    HAAR_EVERY of them (it is too slow for every frame), and around each face of the last frame every frame, so
    that a face it found is followed and confirmed by the tracker. It is not searched where BlazeFace finds a face."""
    _, shaded, bare = behind_sunglasses(photo_detector)
    video = blinded(FaceDetector("sweep"), monkeypatch)
    searches = []
    find = video.cascade.find
    monkeypatch.setattr(video.cascade, "find", lambda rgb, side, last=None: searches.append(last) or find(rgb, side, last))
    empty = background(*shaded.shape[1::-1], seed=1)
    assert [video.detect(empty) for _ in range(2 * HAAR_EVERY)] == [[]] * (2 * HAAR_EVERY)
    assert searches == [None, None]  # the whole frame, once in HAAR_EVERY face-less frames
    searches.clear()
    (found,) = video.detect(shaded)  # the next face-less frame, 2 * HAAR_EVERY, is searched whole
    assert overlap(found.box, bare.box)[0] > 0.6 and np.abs(found.eyes - bare.eyes).max() < 0.1 * bare.width
    tracker = Tracker()
    shown = tracker.update([found], np.ones((1, 7)) / 7)
    for _ in range(4):
        faces = video.detect(shaded, [track.face.box for track in tracker.tracks])
        shown = tracker.update(faces, np.ones((len(faces), 7)) / 7)
    assert len(shown) == 1 and overlap(shown[0].face.box, found.box)[0] > 0.9  # followed and confirmed
    assert [last is None for last in searches] == [True] + [False] * 4  # then around the last face only
    searches.clear()
    held = np.concatenate([found.box[:2] - found.width, found.box[2:] + found.width])  # a face 3x its size held
    assert video.detect(shaded, [held]) == []  # what the whole search finds inside it, much smaller, is a part of it
    assert [last is None for last in searches] == [False, True]
    for outside in ([700.0, 100, 900, 300], [-300.0, -300, -100, -100]):  # a box of the last frame beyond the edge
        assert video.cascade.find(cv2.cvtColor(empty, cv2.COLOR_BGR2RGB), 160, np.array(outside)) == []
    seeing = FaceDetector("sweep")
    monkeypatch.setattr(seeing.cascade, "find", lambda *args: pytest.fail("the cascade searched a frame with faces"))
    assert len(seeing.detect(DemoSource(faces=2).frame(0)[0])) == 2
    for mode in ("full", "short", "tiled"):  # chosen by hand for video: no last resort
        assert FaceDetector(mode).cascade is None


def test_video_drops_a_part_of_a_held_face_and_looks_for_the_whole_face(photo_detector, monkeypatch):
    """On video BlazeFace now and then boxes only a part of a face (a nose and mouth): found inside a face of the
    last frame, much smaller than it, that box is dropped, so no second box shows beside the held face, and the
    cascade looks for the whole face around the held box. With no face held, a small box is a small face: kept."""
    photo, _, bare = behind_sunglasses(photo_detector)
    centre = (bare.box[:2] + bare.box[2:]) / 2 + [0, bare.width / 5]
    part = Face(np.concatenate([centre - bare.width / 5, centre + bare.width / 5]), 0.6)  # the mouth and chin
    for mode in ("sweep", "full"):
        video = FaceDetector(mode)
        monkeypatch.setattr(video, "_find", lambda rgb, previous, min_face: [part])
        assert video.detect(photo) == [part]
        found = video.detect(photo, [bare.box])
        if mode == "sweep":  # the whole face, from the cascade
            assert len(found) == 1 and overlap(found[0].box, bare.box)[0] > 0.8
        else:  # no cascade: nothing, and the tracker holds the face for a few frames
            assert found == []
        video.close()


@pytest.mark.parametrize("turn", [90, 180, 270])
def test_points_of_a_turned_picture_are_mapped_back(turn):
    width, height = 7, 4
    picture = np.zeros((height, width), np.uint8)
    for x, y in [(0, 0), (6, 1), (3, 3), (5, 2)]:
        picture[:] = 0
        picture[y, x] = 255
        v, u = np.argwhere(cv2.rotate(picture, TURNS[turn]))[0]
        assert turn_points(np.array([[u + 0.5, v + 0.5]]), turn, width, height).tolist() == [[x + 0.5, y + 0.5]]


def test_suppress_merges_duplicates_and_tile_fragments():
    whole = Face(np.array([100, 100, 200, 200.0]), 0.9)
    duplicate = Face(np.array([105, 102, 203, 198.0]), 0.8)
    fragment = Face(np.array([150, 100, 200, 200.0]), 0.7)  # half a face cut by a tile edge
    other = Face(np.array([300, 100, 400, 200.0]), 0.6)
    assert suppress([fragment, duplicate, other, whole]) == [whole, other]


@pytest.mark.parametrize("width, height, tile", [(1280, 720, 320), (640, 480, 320), (300, 200, 320)])
def test_tiles_cover_the_frame_with_overlap(width, height, tile):
    windows = tile_windows(width, height, tile)
    covered = np.zeros((height, width), int)
    for x0, y0, x1, y1 in windows:
        covered[y0:y1, x0:x1] += 1
        assert x1 - x0 <= tile * 1.34 and y1 - y0 <= max(tile * 1.34, height)
    assert covered.min() >= 1
    if len(windows) > 1:
        assert covered.max() >= 2  # neighbours overlap, so a face on a seam is whole in one of them


def _face(x: float) -> Face:
    return Face(np.array([x, 100, x + 100, 200.0]), 0.9)


def _shown_labels(tracker: Tracker, sequence: np.ndarray) -> list[int | None]:
    """The label shown for one face fed `sequence` (None while it is not shown)."""
    shown = []
    for i, p in enumerate(sequence):
        tracks = tracker.update([_face(100 + i)], p[None])
        shown.append(tracks[0].label if tracks else None)
    assert len(tracker.tracks) == 1 and tracker.tracks[0].id == 1  # one face, one track throughout
    return shown


def _changes(labels: list[int | None]) -> int:
    shown = [label for label in labels if label is not None]
    return sum(a != b for a, b in zip(shown, shown[1:]))


def test_smoothing_damps_flicker_and_keeps_ids():
    # A steadily 'happy' face whose raw prediction dips below 'sad' in about one frame of four.
    rng = np.random.default_rng(0)
    happy = np.where(rng.random(200) < 0.25, rng.uniform(0.25, 0.45, 200), rng.uniform(0.55, 0.8, 200))
    sequence = np.stack([1 - happy, happy], axis=1)
    raw = _changes(_shown_labels(Tracker(smoothing=0.0, confirm=1, hysteresis=0.0), sequence))
    smoothed = _changes(_shown_labels(Tracker(hysteresis=0.0), sequence))
    assert raw > 40
    assert smoothed <= raw // 10


def test_hysteresis_keeps_a_label_between_close_classes_and_follows_a_real_change():
    # Two classes within 0.09 of each other, trading places at random (the flicker seen on real video),
    # then a clear change of expression at frame 100.
    rng = np.random.default_rng(1)
    close = 0.45 + rng.uniform(-0.045, 0.045, 100)
    sequence = np.concatenate([np.stack([close, 0.9 - close, np.full(100, 0.1)], 1),
                               np.tile([0.1, 0.1, 0.8], (40, 1))])
    smoothed_only = _shown_labels(Tracker(hysteresis=0.0), sequence)
    steady = _shown_labels(Tracker(), sequence)
    assert _changes(smoothed_only[:100]) >= 3
    assert _changes(steady[:100]) == 0
    assert steady[100:].index(2) <= 15  # the new expression shows within 0.5 s at 30 FPS
    assert set(steady[115:]) == {2}


def test_a_new_face_is_shown_only_once_confirmed_and_a_stray_detection_never():
    tracker = Tracker(confirm=3, hold=5)
    p = np.array([[0.3, 0.7]])
    assert tracker.update([_face(100)], p) == [] and tracker.update([_face(101)], p) == []
    assert [t.id for t in tracker.update([_face(102)], p)] == [1]  # third frame in a row: shown
    assert tracker.update([_face(100), _face(400)], np.vstack([p, p]))[0].id == 1  # a stray box appears once...
    for _ in range(6):
        shown = tracker.update([_face(100)], p)
        assert [t.id for t in shown] == [1]  # ...and is never drawn
    assert [t.id for t in tracker.tracks] == [1]  # nor kept: a face being confirmed is dropped at its first miss
    for _ in range(5):
        assert [t.missed for t in tracker.update([], p[:0])] == [_ + 1]  # the confirmed face is held
    assert tracker.update([], p[:0]) == []


def test_the_tracker_settings_last_as_long_at_a_file_s_own_frame_rate():
    """They are set for 30 fps. A GIF of a frame a second showed a face only from its third frame (3 s), or never when
    its frames were of different people (each a shot cut); a 10-fps recording held a lost face 0.5 s."""
    from realtime.track import at_rate

    assert at_rate(0.75, 5, 3, 30) == (0.75, 5, 3)
    smoothing, hold, confirm = at_rate(0.75, 5, 3, 10)
    assert (hold, confirm) == (2, 1) and smoothing == pytest.approx(0.75 ** 3)  # the history weighs as much after 0.1 s
    assert at_rate(0.75, 5, 3, 60)[1:] == (10, 6) and at_rate(0.75, 5, 3, 60)[0] == pytest.approx(0.75 ** 0.5)
    assert at_rate(0.75, 5, 3, 1)[1:] == (0, 1) and at_rate(0.0, 0, 1, 1) == (0.0, 0, 1)
    assert at_rate(0.75, 5, 3, 90_000) == at_rate(0.75, 5, 3, 240)  # a broken header's rate, within bounds
    p = np.array([[0.3, 0.7]])
    assert [t.id for t in Tracker(fps=1).update([_face(100)], p)] == [1]  # shown in its first frame
    assert Tracker(fps=30).update([_face(100)], p) == Tracker().update([_face(100)], p) == []
    held = Tracker(fps=10)
    for frame in range(4):
        held.update([_face(100)] if frame == 0 else [], p if frame == 0 else p[:0])
    assert held.tracks == []  # lost at frame 1, held 2 frames (0.2 s), then gone


def test_shot_cuts_are_found_between_photos_but_not_in_motion():
    other = background(640, 480, seed=9)
    paste_face(other, 300, (200, 260), flip=True)
    cuts = ShotCuts()
    moving = [cuts.is_cut(DemoSource(faces=4).frame(i)[0]) for i in range(0, 60, 2)]
    assert not any(moving)
    assert cuts.is_cut(other) and not cuts.is_cut(other)
    blank = ShotCuts()
    assert not any(blank.is_cut(np.full((480, 640, 3), v, np.uint8)) for v in (0, 1, 0, 2))


def test_a_flash_or_the_exposure_jumping_is_no_shot_cut():
    """A frame lit by a camera flash (1.5x, 1.8x, +90 grey levels), half as bright, or overexposed for a while: its
    colours wash out with it, and it was taken for a cut, which ended every track (a new id and no box for 3 frames,
    at every flash of a user trial's interview). The layout holds, so it is the same shot in another light; another
    photo, as bright as the last or not, is still a cut."""
    shot = background(640, 480, seed=4)  # a room in colour, a face in it
    paste_face(shot, 260, (330, 230))
    other = background(640, 480, seed=9)
    paste_face(other, 300, (200, 260), flip=True)
    for light in (lambda f: f * 1.5, lambda f: f * 1.8, lambda f: f + 90, lambda f: f * 0.5):
        cuts = ShotCuts()
        lit = np.clip(light(shot.astype(np.float32)), 0, 255).astype(np.uint8)
        assert [cuts.is_cut(frame) for frame in (shot, lit, shot, lit, lit, shot)] == [False] * 6
        assert cuts.is_cut(other) and cuts.is_cut(np.clip(light(other.astype(np.float32)), 0, 255).astype(np.uint8)) \
            is False and cuts.is_cut(shot)  # (to another photo: a cut, however it is lit)


def test_one_tile_of_a_call_switching_person_is_no_shot_cut():
    """A 2x2 video call whose top-left tile switches to another person in another room: the layout of the whole picture
    changed enough to be taken for a cut (0.49 in a gallery of wild-faces photos), which ended every tile's track, each
    getting a new id. Where three quarters of the picture are laid out as before, a part of it changed; a cut changes
    it all."""
    def tile(seed: int, flip: bool = False) -> np.ndarray:
        picture = background(320, 240, seed=seed)
        paste_face(picture, 130, (160, 120), flip=flip)
        return picture

    def call(top_left: np.ndarray) -> np.ndarray:
        return np.vstack([np.hstack([top_left, tile(2)]), np.hstack([tile(3), tile(4)])])

    cuts = ShotCuts()
    dark = (tile(5, flip=True) * 0.3).astype(np.uint8)  # another person in a dark room
    assert [cuts.is_cut(frame) for frame in (call(tile(1)), call(dark), call(tile(6)))] == [False] * 3
    assert still_quarters(cv2.resize(call(dark), (64, 48)), cv2.resize(call(tile(1)), (64, 48))) == 3
    whole = cv2.resize(tile(7, flip=True), (640, 480))  # the whole picture another: a cut
    assert cuts.is_cut(whole) and not cuts.is_cut(whole) and cuts.is_cut(call(tile(1)))


def test_shot_cuts_are_found_between_pictures_framed_by_bars():
    """A slide show of grey photos between black bars (or a film letterboxed): the bars, the same in every frame, made
    two people's frames look alike, and half the cuts were missed, so one id and label went from person to person.
    The pictures are compared within the bars now; moving inside them is still no cut."""
    def photo(seed: int, x: int) -> np.ndarray:
        picture = background(360, 480, seed=seed)
        paste_face(picture, 220, (x, 250), flip=seed % 2 == 0)
        return cv2.cvtColor(cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)

    def boxed(picture: np.ndarray, bars: int = 0, way: str = "pillarbox") -> np.ndarray:
        frame = np.full((480, 640, 3), bars, np.uint8)
        if way == "pillarbox":
            frame[:, 140:500] = picture
        else:  # letterbox: the picture turned to lie wide
            frame[60:420] = cv2.resize(cv2.rotate(picture, cv2.ROTATE_90_CLOCKWISE), (640, 360))
        return frame

    first, second = photo(1, 180), photo(2, 120)
    plain = ShotCuts()
    assert not plain.is_cut(cv2.resize(first, (640, 480))) and plain.is_cut(cv2.resize(second, (640, 480)))
    for bars, way in ((0, "pillarbox"), (128, "pillarbox"), (0, "letterbox")):
        cuts = ShotCuts()
        assert not cuts.is_cut(boxed(first, bars, way))
        assert not cuts.is_cut(boxed(np.roll(first, 6, axis=1), bars, way))  # moving: no cut
        assert cuts.is_cut(boxed(second, bars, way)), (bars, way)  # another photo: a cut
    wall, cuts = np.full((480, 640, 3), 128, np.uint8), ShotCuts()  # a face moving fast over a plain wall: the wall
    for k in range(30):  # beside it is no bar (it moves with the face), and no frame is a cut
        frame = wall.copy()
        paste_face(frame, 200, (120 + abs(k * 40 % 800 - 400), 240))
        assert not cuts.is_cut(frame), k


@pytest.mark.parametrize("fade, fps", [(6, None), (15, None), (30, None), (60, 60.0)])
def test_a_dissolve_between_two_shots_is_a_cut_and_slow_motion_is_not(fade, fps):
    """A crossfade from one person to another in the same place (0.2, 0.5 or 1 s at 30 FPS), as edited video joins its
    shots: no frame differs much from the one before, so no cut was found, and the first person's id, label and
    smoothing went on to the second (a user trial's dissolves, every one). Each frame between is a blend of the two
    ends; a face moving, the camera panning, are not, and stay no cut."""
    import matplotlib

    first = cv2.resize(cv2.imread(str(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg")), (820, 480))
    second = background(820, 480, seed=1)  # another person, in a room (at 60 fps: a 1 s crossfade, over 60 frames)
    paste_face(second, 300, (380, 240), flip=True)
    frames = [first[:, k:k + 640] for k in range(40)]  # the camera panning slowly (1 px a frame) over both
    for k in range(fade):
        share = (k + 1) / (fade + 1)
        frames.append(cv2.addWeighted(first[:, 40 + k:680 + k], 1 - share, second[:, 40 + k:680 + k], share, 0))
    frames += [second[:, 40 + fade + k:680 + fade + k] for k in range(max(10, 20 - fade // 2))]
    cuts = ShotCuts(fps=fps)
    said = [cuts.is_cut(frame) for frame in frames]
    assert not any(said[:40]) and any(said[40:40 + fade + 9]) and not any(said[40 + fade + 9:]), np.flatnonzero(said)
    assert sum(said) == 1, np.flatnonzero(said)  # once: not again within the dissolve, after a cut found in it
    moving = ShotCuts()
    assert not any(moving.is_cut(DemoSource(faces=4).frame(i)[0]) for i in range(90))  # faces moving, 3 s
    walking = ShotCuts()  # a face crossing the picture over 1.5 s: no frame between is a blend of the ends
    assert not any(walking.is_cut(np.roll(first, 12 * k, axis=1)[:, :640]) for k in range(46))
    soft, panning = cv2.GaussianBlur(cv2.resize(first, (1760, 480)), (0, 0), 8), ShotCuts()  # a slow pan over a soft
    assert not any(panning.is_cut(soft[:, 8 * k:8 * k + 640]) for k in range(140))  # backdrop (taken for one, 1.5 s)


def test_a_cut_ends_every_track():
    tracker = Tracker(confirm=1)
    tracker.update([_face(100)], np.array([[0.2, 0.8]]))
    tracker.reset()
    assert [t.id for t in tracker.update([_face(100)], np.array([[0.8, 0.2]]))] == [2]


def test_another_person_where_a_face_was_is_a_new_face_shown_at_once():
    """A slide show of close-ups alike in layout, or one tile of a video call's gallery switching to another person: no
    shot cut is found, and the face there was followed as the same one, its id and its label (smoothed, and held by
    the hysteresis) going on to the other person. When the picture about its box and the face's crop both change, the
    face is a new one: a new id, shown at once, with its own label. A face that moves or turns (one of the two
    changes) keeps its id, and without the frames the tracker follows faces as before."""
    rng = np.random.default_rng(0)

    def texture(side: int) -> np.ndarray:  # smooth blobs, as a face's grey levels are at 12x12
        return cv2.resize(rng.integers(0, 256, (6, 6)).astype(np.uint8), (side, side), interpolation=cv2.INTER_CUBIC)

    def frame_with(picture: np.ndarray) -> np.ndarray:
        frame = np.full((480, 640, 3), 90, np.uint8)
        frame[80:320, 180:420] = picture[..., None]
        return frame

    first, second, crop_a, crop_b, crop_c = texture(240), texture(240), texture(48), texture(48), texture(48)
    alike_layout = cv2.addWeighted(second, 0.4, texture(240), 0.6, 0)  # after `second`: much as it is laid out
    assert 0.6 < alike(standardised(alike_layout), standardised(second)) < ANOTHER_AROUND
    face, moved = Face(np.array([200.0, 100, 400, 300]), 0.9), Face(np.array([204.0, 100, 404, 300]), 0.9)
    happy, sad = np.array([[0.1, 0.9]]), np.array([[0.9, 0.1]])
    for looks in (True, False):
        tracker = Tracker()
        given = lambda picture, crop: (frame_with(picture), crop[None]) if looks else ()  # noqa: E731
        for _ in range(3):
            shown = tracker.update([face], happy, *given(first, crop_a))
        assert [(t.id, t.label) for t in shown] == [(1, 1)]
        shown = tracker.update([moved], happy, *given(np.roll(first, 4, axis=1), crop_a))  # moving: the crop alike
        shown = tracker.update([face], happy, *given(first, crop_b))  # turning: the picture about it alike
        assert [t.id for t in shown] == [1]
        shown = tracker.update([face], sad, *given(second, crop_c))  # another person
        assert [(t.id, t.label) for t in shown] == ([(2, 0)] if looks else [(1, 1)])
        # Another person in a picture laid out much as the last (two portraits centred alike in a call's tile: the
        # picture about the box correlating 0.6-0.85, as 3 of 6 switches of a user trial's gallery did; 0.65 here), the
        # crop not
        shown = tracker.update([face], happy, *given(alike_layout, crop_a))
        assert [(t.id, t.label) for t in shown] == ([(3, 1)] if looks else [(1, 1)])
    photos = Tracker.for_photos()  # (each photo on its own: nothing to compare)
    assert [t.id for t in photos.update([face], happy, frame_with(first), crop_a[None])] == [1]


def test_tracks_survive_brief_misses_then_expire():
    tracker = Tracker(smoothing=0.5, hold=2, confirm=1)
    tracker.update([_face(100), _face(400)], np.array([[1.0, 0.0], [0.0, 1.0]]))
    shown = tracker.update([_face(405)], np.array([[0.0, 1.0]]))
    assert sorted((t.id, t.missed) for t in shown) == [(1, 1), (2, 0)]
    tracker.update([_face(410)], np.array([[0.0, 1.0]]))
    assert [t.id for t in tracker.update([_face(415)], np.array([[0.0, 1.0]]))] == [2]
    back = tracker.update([_face(415), _face(100)], np.array([[0.0, 1.0], [1.0, 0.0]]))
    assert sorted(t.id for t in back) == [2, 3]  # the lost face returns as a new track


def test_a_face_passing_over_a_hidden_face_keeps_its_id_and_label():
    """Two people cross: B walks in front of A, which is no longer found. A's box is held where A was last seen, and B
    passes over it. Before, A's held box, overlapping B's face more than B's own box of the frame before, took B's face:
    B got A's id and showed A's label (for 3 frames in crossings of two real faces at 20-40 px a frame)."""
    tracker = Tracker(confirm=1)
    a, b = np.array([[0.9, 0.1]]), np.array([[0.1, 0.9]])
    assert [t.id for t in tracker.update([_face(200), _face(300)], np.vstack([a, b]))] == [1, 2]
    for x in range(280, 100, -20):  # B walks left over A's last place; A is hidden
        shown = tracker.update([_face(x)], b)
        assert [(t.id, t.label) for t in shown if t.missed == 0] == [(2, 1)]


def test_a_held_face_behind_a_face_found_is_not_shown_over_it():
    """While A is hidden behind B, A's held box, where A was last seen, was drawn with A's label over B's face (0-4
    frames in crossings of two real faces). A held face that a found one covers by half or more is not shown; it is
    still held, and comes back with its id."""
    tracker = Tracker(confirm=1, hold=8)
    a, b = np.array([[0.9, 0.1]]), np.array([[0.1, 0.9]])
    tracker.update([_face(200), _face(330)], np.vstack([a, b]))
    for missed, x in ((1, 300), (2, 270)):  # A held beside B, or B over 30% of A's box: shown
        assert sorted((t.id, t.missed) for t in tracker.update([_face(x)], b)) == [(1, missed), (2, 0)]
    for x in (240, 215, 190, 150):  # B over A's last place (60% to 90%, then half of A's box): A not shown
        assert [(t.id, t.missed) for t in tracker.update([_face(x)], b)] == [(2, 0)]
    back = tracker.update([_face(100), _face(200)], np.vstack([b, a]))  # B walks on; A is found again
    assert sorted((t.id, t.label) for t in back) == [(1, 0), (2, 1)]


def test_a_face_moving_fast_keeps_its_box_and_id():
    """A quick turn or a fast pan moves a face over half its width a frame, and its boxes overlap too little to be
    matched. Before, its box stayed behind, held, for 5 frames, while a new track waited 3 frames to be shown; at a steady
    fast pan it never was (94 of 120 frames without a box on a real face panned at up to a face width a frame).
    A face found in the last frame while moving (MOVING widths a frame or more) is now followed to the nearest face
    left over, of about its size, up to MAX_JUMP of its widths away."""
    p = np.array([[0.2, 0.8]])
    tracker = Tracker()
    for x in (100, 100, 100, 120, 150):  # confirmed, then it starts to move
        tracker.update([_face(x)], p)
    for x in [*range(250, 1300, 100), *range(1100, 0, -200)]:  # a face's width a frame, then two back: no overlap
        assert [(t.id, t.missed, t.face.box[0]) for t in tracker.update([_face(x)], p)] == [(1, 0, x)]

    def moving(to: float) -> Tracker:  # a face found moving to `to` (0.3 widths a frame)
        tracker = Tracker(confirm=1)
        tracker.update([_face(to - 30)], p)
        tracker.update([_face(to)], p)
        return tracker

    # Not followed: a face over MAX_JUMP widths away or of another size (someone else), nor from a face held or one
    # standing still: one missed for a frame beside someone who steps back in handed its id and label to them.
    for tracker, face in [(moving(100), _face(100 + 100 * (MAX_JUMP + 0.1))),
                          (moving(100), Face(np.array([180, 100, 340, 260.0]), 0.9))]:
        assert sorted((t.id, t.missed) for t in tracker.update([face], p)) == [(1, 1), (2, 0)]
    tracker = moving(100)
    tracker.update([], p[:0])
    assert sorted((t.id, t.missed) for t in tracker.update([_face(180)], p)) == [(1, 2), (2, 0)]
    tracker = Tracker(confirm=1)
    for _ in range(3):  # A at 100 standing still; B, 150 px to its right, steps out of the picture
        tracker.update([_face(100), _face(250)], np.vstack([p, p[:, ::-1]]))
    for _ in range(6):
        tracker.update([_face(100)], p)
    back = tracker.update([_face(250)], p[:, ::-1])  # B steps back in as A is missed for a frame
    assert sorted((t.id, t.missed, t.label) for t in back) == [(1, 1, 1), (3, 0, 0)]  # B a new face; A held


def test_a_face_coming_in_fast_is_confirmed_and_keeps_one_id():
    """A face that enters already moving over half its width a frame (someone walking in past a camera, or frames a
    slow machine dropped) had no speed to be followed by, so each frame started it afresh and it was never confirmed:
    no box in 10 frames. A face still being confirmed is now followed to the nearest face left over, as a moving one is.
    A face standing alone that is no face (found once) is still dropped at its first miss."""
    p = np.array([[0.2, 0.8]])
    tracker = Tracker()  # confirm=3
    shown = [[(t.id, t.missed) for t in tracker.update([_face(x)], p)] for x in range(0, 1000, 80)]
    assert shown[:2] == [[], []] and all(frame == [(1, 0)] for frame in shown[2:])
    tracker = Tracker()
    tracker.update([_face(100)], p)
    assert tracker.update([], p[:0]) == [] and tracker.tracks == []
    for _ in range(2):  # a face at 400 found afresh: a new track, not the dropped one
        tracker.update([_face(400)], p)
    assert [(t.id, t.missed) for t in tracker.update([_face(400)], p)] == [(1, 0)]  # (the one dropped before it
    # was shown took no id: the ids shown ran 1, 2, 5 where faces came and went unconfirmed)


def test_held_faces_never_take_the_shown_faces_past_max_faces():
    """The detector gives at most --max-faces faces, but faces held on top of them went past it: 4 shown of 2."""
    probabilities = np.array([[0.3, 0.7]] * 2)
    tracker = Tracker(hold=5, confirm=1, max_faces=2)
    tracker.update([_face(100), _face(400)], probabilities)
    shown = tracker.update([_face(700), _face(1000)], probabilities)  # two others found; the first two held
    assert sorted(t.id for t in shown) == [3, 4] and all(t.missed == 0 for t in shown)  # those found come first
    back = tracker.update([_face(100)], probabilities[:1])
    assert len(back) == 2 and 1 in [t.id for t in back]  # the face found again keeps its id, and is shown
    assert len(Tracker(hold=5, confirm=1).update([_face(x) for x in range(0, 1500, 150)], np.full((10, 2), 0.5))) == 10


def test_draw_leaves_faceless_frames_untouched_and_marks_faces():
    frame = background(640, 480)
    assert np.array_equal(draw_faces(frame.copy(), [], ["a", "b"]), frame)
    track = Track(1, _face(100), np.array([0.2, 0.8]), None, 1)
    drawn = draw_faces(frame.copy(), [track], ["sad", "happy"], bars=True)
    changed = np.any(drawn != frame, axis=2)
    assert changed[100:201, 100].all()  # the box's left edge
    assert changed[100:200, 206:300].any()  # the bars beside it
    assert not changed[300:, :].any()  # nothing far from the face


def test_bars_fit_a_panorama_beside_a_face_at_its_right_edge():
    """A 4000x360 banner with a face at its right end: the 8 bars fit in its height, beside the face on its left
    (were: as large as the banner's wide captions, run off its bottom, drawn over the face)."""
    frame = np.full((360, 4000, 3), 100, np.uint8)  # (the chart's rows darken it to 30)
    face = Face(np.array([3700.0, 40, 4000, 340]), 0.9)
    labels = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral", "contempt"]
    track = Track(1, face, np.full(8, 1 / 8, np.float32), None, 3)
    plain = np.any(draw_faces(frame.copy(), [track], labels) != 100, 2)
    drawn = draw_faces(frame.copy(), [track], labels, bars=True)
    columns = np.flatnonzero((np.any(drawn != 100, 2) & ~plain).any(0))
    assert columns.max() < 3700 - 3  # left of the face's box
    fill = np.all(drawn[:, columns.min() + 1] == 30, axis=1)  # the chart's dark rows, down its left edge
    assert np.count_nonzero(np.diff(fill.astype(int)) == 1) + fill[0] == 8  # all 8 rows, none cut off
    # With --classes, only the classes answered get a row (the others' were rows of 0 under every face)
    kept = [labels.index(name) for name in ("happy", "sad", "neutral", "angry")]
    drawn = draw_faces(frame.copy(), [track], labels, bars=True, charted=kept)
    columns = np.flatnonzero((np.any(drawn != 100, 2) & ~plain).any(0))
    fill = np.all(drawn[:, columns.min() + 1] == 30, axis=1)
    assert np.count_nonzero(np.diff(fill.astype(int)) == 1) + fill[0] == 4


def test_a_caption_in_a_banner_or_a_tall_strip_stays_off_the_face_and_inside_the_picture():
    """A 4000x200 banner was drawn at the scale of its length (3.1): a caption 90 px high over most of the face in it;
    in a 200x4000 strip only 'hap' of it fitted across. The short side now bounds the scale."""
    from realtime.draw import drawing_scale

    assert drawing_scale(4000, 200) == drawing_scale(200, 4000) == 0.45
    assert drawing_scale(1280, 720) == 1.0 and drawing_scale(4000, 3000) == pytest.approx(3.125)  # (as before)
    for width, height, box in ((4000, 200, (1900.0, 40, 2040, 180)), (200, 4000, (30.0, 1900, 170, 2040))):
        frame = np.full((height, width, 3), 90, np.uint8)
        track = Track(1, Face(np.array(box), 0.9), np.array([0.1, 0.9]), None, 1)
        drawn = draw_faces(frame.copy(), [track], ["sad", "happy"])
        x0, y0, x1, y1 = (int(v) for v in box)
        inside = np.any(drawn[y0 + 8:y1 - 8, x0 + 8:x1 - 8] != 90, axis=2)  # the face, within its box's lines
        assert inside.mean() < 0.2, (width, height)  # the caption covers little of it
        marked = np.argwhere(np.any(drawn != 90, axis=2))
        assert marked[:, 1].max() < width - 1 and marked[:, 1].min() > 0  # all of it inside the picture


def test_the_bars_class_names_can_be_read_on_a_small_picture():
    """On a 350x350 photo (drawing scale 0.45) the bars' class names were 5 px high in 11 px rows: they could not be
    read. They are now drawn at least as at scale 2/3 (7 px in 14 px rows), each name inside its column, where the
    rows fit in the picture's height; a large picture's charts are as before."""
    from realtime.draw import FONT, bar_geometry, chart_layout

    labels = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral", "contempt"]
    frame = np.full((350, 350, 3), 100, np.uint8)  # (the chart's rows darken it to 30)
    track = Track(1, Face(np.array([30.0, 60, 310, 345]), 0.9), np.full(8, 1 / 8, np.float32), None, 3)
    drawn = draw_faces(frame.copy(), [track], labels, bars=True)
    corner, (width, height), geometry = chart_layout([(30, 60, 310, 345)], 8, (350, 350))
    (x, y), names = corner[0], cv2.getTextSize("contempt", FONT, geometry.text_scale, 1)[0]
    assert names[1] >= 7 and names[0] + 2 <= geometry.label_width and height == 8 * 14
    fill = np.all(drawn[y:y + height, x + 1] == 30, axis=1)  # down the chart's left edge: 8 dark rows of 13 px
    assert np.count_nonzero(np.diff(fill.astype(int)) == 1) + fill[0] == 8 and fill[14:].sum() == 7 * 13  # (the box's
    # top edge shows through the first)
    assert bar_geometry(1.0) == bar_geometry(1.0, fit=0.5) and bar_geometry(1.0).row == 20  # (as before)
    assert bar_geometry(0.45, fit=0.5).row == 12  # a low picture: as large as its height lets them be


def test_a_close_up_s_bars_sit_in_a_corner_of_the_face_which_shows_through_them():
    """A face filling a 350x350 photo: its chart went level with the box's top at the picture's right edge, over the
    eye, on solid rows that hid the face. Now it goes where it covers least of the face's middle, and darkens the
    picture under it instead of hiding it."""
    from realtime.draw import CHART_SHADE, chart_layout, face_middle
    from realtime.faces import intersection

    labels = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral", "contempt"]
    box = (5, 30, 325, 350)
    corners, (w, h), geometry = chart_layout([box], 8, (350, 350))
    (x, y), middle = corners[0], face_middle(box)
    assert intersection((x, y, x + w, y + h), middle) < 0.1 * w * h  # off the eyes, nose and mouth
    picture = np.random.default_rng(0).integers(0, 256, (350, 350, 3), np.uint8)
    track = Track(1, Face(np.array(box, float), 0.9), np.full(8, 1 / 8, np.float32), None, 3)
    plain = draw_faces(picture.copy(), [track], labels)
    drawn = draw_faces(picture.copy(), [track], labels, bars=True)
    under = (slice(y, y + h), slice(x + geometry.label_width - 2, x + geometry.label_width))  # between names and bars
    rows = np.all(drawn[under] == (plain[under] * CHART_SHADE).astype(np.uint8), axis=(1, 2))
    assert rows.sum() == 8 * (geometry.row - 1)  # the picture, darkened, in every row: not a solid fill


def test_the_bars_of_two_faces_side_by_side_do_not_cover_each_other():
    """demo:2 with b: the right face has no room on its right, and its chart went left, over the left face's chart
    (each unreadable, in the window, snapshots and recordings). Now: the place covering least of faces and charts."""
    from realtime.draw import bar_geometry, bar_places
    from realtime.faces import intersection

    boxes, chart = [(100, 150, 240, 320), (410, 150, 550, 320)], bar_geometry(0.5).size(8)
    corners = bar_places(boxes, chart, (640, 480))
    rects = [(x, y, x + chart[0], y + chart[1]) for x, y in corners]
    assert intersection(*rects) == 0 and all(0 <= x0 and x1 <= 640 and 0 <= y0 and y1 <= 480 for x0, y0, x1, y1 in rects)
    assert rects[0][0] == 246 and intersection(rects[0], boxes[1]) == 0  # the first on its face's right, clear of the other
    assert bar_places([(300, 100, 400, 200)], chart, (640, 480)) == [(406, 100)]  # room on the right: there


def test_the_bars_of_faces_filling_a_video_side_by_side_lie_on_their_own_faces():
    """Three 350 px photos side by side in a 1050x350 video: the right face's chart went to the frame's far left,
    over the left face, and the others' over the right face, each chart seeming another face's. Each lies on its
    own face now, off the others."""
    from realtime.draw import bar_geometry, bar_places
    from realtime.faces import intersection

    boxes, chart = [(20, 45, 335, 350), (368, 28, 690, 350), (695, 50, 995, 350)], bar_geometry(0.82).size(8)
    corners = bar_places(boxes, chart, (1050, 350))
    for index, (x, y) in enumerate(corners):
        rect = (x, y, x + chart[0], y + chart[1])
        assert intersection(rect, boxes[index]) > 0.5 * chart[0] * chart[1], (index, corners)
        assert all(intersection(rect, box) == 0 for other, box in enumerate(boxes) if other != index), (index, corners)
    captions = [(x0, y0, x0 + 200, y0 + 40) for x0, y0, _, _ in boxes]  # each caption inside its box's top
    for (x, y), caption in zip(bar_places(boxes, chart, (1050, 350), captions), captions):  # a chart there lay under it
        assert intersection((x, y, x + chart[0], y + chart[1]), caption) == 0


def test_captions_and_boxes_keep_their_size_relative_to_a_large_picture():
    """A 12-megapixel photo's caption is as readable, seen fitted to a screen, as a 720p frame's; not a speck."""
    def drawn(k: int):
        frame = np.zeros((960 * k, 1280 * k, 3), np.uint8)
        face = Face(np.array([400.0, 300, 700, 600]) * k, 0.9)
        changed = np.any(draw_faces(frame, [Track(1, face, np.array([0.2, 0.8]), None, 1)], ["sad", "happy"]) > 0, 2)
        caption_rows = np.flatnonzero(changed[:, 420 * k])  # down the caption's middle: caption, then the box edge
        return caption_rows[0], changed[450 * k, :].sum()  # where the caption starts; the box's line width (2 edges)

    (top, line), (top3, line3) = drawn(1), drawn(3)
    assert (300 * 3 - top3) > 2.5 * (300 - top)  # the caption's height above the box
    assert line3 > 1.6 * line  # (6 px against 2, each edge softened by a pixel or two either side)


def test_the_window_s_counter_and_key_help_grow_with_a_frame_larger_than_720p():
    from realtime.draw import draw_corner, draw_help
    from realtime.window import KEYS

    def extent(width: int, height: int) -> tuple[int, int]:
        frame = np.full((height, width, 3), 120, np.uint8)
        draw_corner(frame, " 29.7 FPS")
        marked = np.argwhere(np.any(draw_help(frame, KEYS) != 120, axis=2))
        return marked.max(0)[1], marked.max(0)[0]  # how far right and down the counter and the panel reach

    small, large = extent(1280, 720), extent(3840, 2160)
    assert all(2.5 < big / little < 3.5 for big, little in zip(large, small))  # 3x the frame: 3x the text


def test_the_key_help_fits_in_a_small_photo_s_window():
    """A 129x166 photo is shown at 258x332: the key help ran past its right edge, its lines cut off ('the rest without
    sto'). Its text is made smaller to fit, down to 7 px high; a 640x480 frame's panel is as before."""
    from realtime.draw import FONT, HELP_LEAST_SCALE, draw_help
    from realtime.window import KEYS, PHOTO_KEYS

    frame = draw_help(np.full((332, 258, 3), 200, np.uint8), PHOTO_KEYS)
    columns = np.flatnonzero(np.any(frame != 200, axis=(0, 2)))
    assert columns.size and columns.max() < 258 - 4  # all of it inside the picture, off its right edge
    assert cv2.getTextSize("the rest", FONT, HELP_LEAST_SCALE, 1)[0][1] >= 7
    wide = np.full((480, 640, 3), 200, np.uint8)
    marked = np.flatnonzero(np.any(draw_help(wide, KEYS) != 200, axis=(0, 2)))
    assert marked.max() - marked.min() > 200  # (at the usual size there)


def test_the_key_help_keeps_off_a_face_at_the_top_left_as_the_counter_does():
    """The key help (`h`) and the pause's line were drawn at the top left whatever was there: over the caption of a
    face at the top left, which the counter beside them kept off."""
    from realtime.draw import draw_corner, draw_help, face_areas
    from realtime.window import KEYS

    for box in ([20.0, 40.0, 220.0, 260.0], [20.0, 120.0, 220.0, 300.0]):  # under the counter; under the panel only
        track = Track(1, Face(box=np.array(box), score=0.9), np.full(7, 1 / 7), None, 0)
        areas = face_areas([track], (640, 480), bars=False)
        frame = np.full((480, 640, 3), 120, np.uint8)
        corner = draw_corner(frame, " 29.7 FPS", areas)
        lines = [("paused", "space resumes")] + KEYS
        marked = np.argwhere(np.any(draw_help(frame, lines, areas, corner) != 120, axis=2))
        x0, y0, x1, y1 = areas[0]
        assert len(marked) and not any(x0 <= x < x1 and y0 <= y < y1 for y, x in marked)


def test_captions_stay_inside_the_frame_and_do_not_overlap():
    boxes = [(600, 5, 640, 45), (0, 0, 30, 30), (100, 200, 160, 260), (110, 210, 170, 270), (105, 205, 165, 265)]
    sizes = [(90, 20)] * len(boxes)
    corners = caption_places(boxes, sizes, (640, 480))
    rects = [(x, y, x + w, y + h) for (x, y), (w, h) in zip(corners, sizes)]
    assert all(0 <= x0 and x1 <= 640 and 0 <= y0 and y1 <= 480 for x0, y0, x1, y1 in rects)
    assert not any(a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
                   for i, a in enumerate(rects) for b in rects[i + 1:])
    assert rects[2][3] == 200  # room above the box: the caption sits on its top edge


def test_a_caption_goes_below_its_face_rather_than_over_a_face_behind_it():
    """A group photo's back row stands just above the front row: a front face's caption, above its box, stood over the
    mouth of the face behind. It goes below its box now; with no face in the way, above as before."""
    behind, front, aside = (330, 150, 370, 190), (300, 195, 420, 315), (500, 200, 560, 260)
    sizes = [(90, 20)] * 3
    corners = caption_places([behind, front, aside], sizes, (640, 480))
    rects = [(x, y, x + w, y + h) for (x, y), (w, h) in zip(corners, sizes)]
    assert rects[0][3] == 150 and rects[2][3] == 200  # above their faces: nothing in the way
    assert rects[1][1] == 315  # below its face, which it touches
    assert all(overlap(np.array(rects[1]), np.array(box))[0] == 0 for box in (behind, aside))
    crowded = caption_places([behind, front], sizes[:2], (640, 330))  # no room below: over its own face's top
    assert crowded[1][1] == 195


def test_a_caption_in_a_collage_without_gaps_does_not_stand_on_the_face_below():
    """A column of a user's 800x600 collage of 12 photos: the top face's caption went below its box, onto the top of
    the box below (whose own caption then went below it too): one face seemed to have two captions, another none. Each
    caption now stands on its own box, or inside it."""
    from realtime.draw import misleading

    column = [(405, 15, 600, 200), (425, 235, 585, 395), (430, 435, 600, 600)]
    sizes = [(150, 22)] * 3
    corners = caption_places(column, sizes, (800, 600))
    rects = [(x, y, x + w, y + h) for (x, y), (w, h) in zip(corners, sizes)]
    for index, ((x0, y0, x1, y1), box) in enumerate(zip(rects, column)):
        assert box[1] - 11 <= y1 <= box[1] + 22 or box[1] <= y0 < box[3] - 22, (index, rects)  # on or in its box
        assert not misleading(rects[index], column, index)
    assert misleading((405, 200, 555, 222), column, 0)  # below the top box: on the next one's top


def _recorded_levels(path) -> list[int]:
    """The grey level of each frame of a recording."""
    capture, levels = cv2.VideoCapture(str(path)), []
    while (read := capture.read())[0]:
        levels.append(int(round(read[1].mean() / 40)))
    return levels


def test_a_recording_at_a_constant_rate_shows_each_frame_from_its_time_until_the_next(tmp_path):
    """.avi: each frame is repeated until the next one's time. Each filled the periods before its own time instead
    (the next frame's content came early), and a frame in the same period as the next was left out."""
    writer = VideoWriter(tmp_path / "live.avi", fps=10, size=(64, 48))
    for i, elapsed in enumerate((0.0, 0.05, 0.45, 1.0)):  # a slow consumer: 4 frames in 1 s at 10 FPS
        writer.write(Annotated(i, elapsed, np.full((48, 64, 3), 40 * i, np.uint8), []))
    writer.close()
    assert writer.frames == 11
    assert _recorded_levels(tmp_path / "live.avi") == [0, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3]
    fast = VideoWriter(tmp_path / "fast.avi", fps=30, size=(64, 48))  # frames twice as fast as the rate: the video
    for i in range(60):  # keeps its length (one in two left out), not twice as long
        fast.write(Annotated(i, i / 60, np.full((48, 64, 3), 40 * (i // 15), np.uint8), []))
    fast.close()
    assert fast.frames == 30 and _recorded_levels(tmp_path / "fast.avi") == [0] * 8 + [1] * 7 + [2] * 8 + [3] * 7
    photos = VideoWriter(tmp_path / "photos.avi", fps=1, size=(64, 48), photos=True)
    assert photos.fps == 1  # a second a photo: no finer rate needed
    photos.close()


def test_a_slide_show_recorded_at_a_constant_rate_keeps_every_slide_at_its_time(tmp_path):
    """A GIF of slides of 3, 0.5 and 3 s, at its mean rate (about 1/3 fps, as FFmpeg gives it): the .avi held 2 of
    the 3 slides, the second for 3 s. The rate is 10 fps at least, each slide from its own time; the last one lasts a
    period of the source's rate, as in H.264 (it lasted a tenth of a second: a GIF of three 3 s slides gave 6.1 s)."""
    writer = VideoWriter(tmp_path / "slides.avi", fps=1 / 3, size=(64, 48))
    assert writer.fps == 10
    for i, elapsed in enumerate((0.0, 3.0, 3.5)):
        writer.write(Annotated(i, elapsed, np.full((48, 64, 3), 40 * i, np.uint8), []))
    writer.close()
    assert _recorded_levels(tmp_path / "slides.avi") == [0] * 30 + [1] * 5 + [2] * 30


def _small_faces_scene():
    frame = background(1280, 720, seed=3)
    truth = [paste_face(frame, 48, (x, y)) for x, y in ((200, 200), (640, 500), (1050, 300))]
    return frame, truth


def _all_found(faces, truth) -> bool:
    return all(any(overlap(face.box, box)[0] >= 0.4 for face in faces) for box in truth)


def test_tiled_detection_finds_small_faces_the_full_pass_misses():
    frame, truth = _small_faces_scene()
    assert not _all_found(FaceDetector("full").detect(frame), truth)
    found = FaceDetector("tiled").detect(frame)
    assert _all_found(found, truth) and len(found) == 3


def _face_crop_collage(columns: int = 3, rows: int = 3, side: int = 200, size: tuple[int, int] = (1280, 720)):
    """A collage (`size` px) of tight face crops (forehead and chin cut, as in a portrait site's thumbnails), lighter
    and darker, every other one mirrored; each crop's place (x0, y0, x1, y1)."""
    from realtime.scene import _FACE_IN_SPRITE

    sprite, _ = face_sprite()
    x0, y0, x1, y1 = _FACE_IN_SPRITE
    face = cv2.resize(sprite[y0 + 30:y1 - 20, x0 + 20:x1 - 20], (side, side))
    frame = np.full((size[1], size[0], 3), 40, np.uint8)
    cells, width, height = [], size[0] // columns, size[1] // rows
    for i in range(columns * rows):
        x, y = i % columns * width + (width - side) // 2, i // columns * height + (height - side) // 2
        crop = cv2.convertScaleAbs(face, alpha=0.7 + 0.05 * i)
        frame[y:y + side, x:x + side] = crop[:, ::-1] if i % 2 else crop
        cells.append((x, y, x + side, y + side))
    return frame, cells


@pytest.mark.parametrize("upright", [False, True])
def test_tiled_detection_finds_every_face_of_a_collage_of_face_crops(upright):
    """Tight face crops side by side fill much of a tile: the full-range model missed 3 of these 9 faces there (and
    the full pass sees them too small); the short-range model finds them in the tiles. One box in each crop."""
    frame, cells = _face_crop_collage()
    found = FaceDetector("tiled", max_faces=99, upright=upright).detect(frame)
    centres = [((f.box[0] + f.box[2]) / 2, (f.box[1] + f.box[3]) / 2) for f in found]
    assert sorted(next((i for i, (x0, y0, x1, y1) in enumerate(cells) if x0 <= cx <= x1 and y0 <= cy <= y1), -1)
                  for cx, cy in centres) == list(range(9))


def test_min_face_leaves_out_no_face_of_a_collage_at_least_that_wide():
    """--min-face leaves out the tilings whose faces the full pass would find anyway, but it misses faces packed side
    by side however large: the look for faces that fill a tile keeps every tiling (--min-face 270 found 6 of the 9
    faces of at least 270 px here, and 180 lost a 214 px face of a user's 800x600 collage of 12)."""
    frame, _ = _face_crop_collage(5, 3, 240)
    every = FaceDetector("tiled", max_faces=99, upright=True).detect(frame)
    assert len(every) == 15
    for least in (270, 300):
        assert search_windows(1280, 720, min_face=least) == []  # (the full-range model's tiles are left out)
        found = FaceDetector("tiled", max_faces=99, upright=True, min_face=least).detect(frame)
        assert sorted(f.width for f in found) == sorted(f.width for f in every if f.width >= least)


def test_sweep_finds_every_face_of_a_collage_of_face_crops_within_one_rotation():
    """Video of a video call's gallery: the full-range model in the frame's tile of the rotation missed 2 of these 9
    faces for good; the short-range model looks at that tile too, and the faces found are then followed."""
    frame, cells = _face_crop_collage()
    detector, found = FaceDetector("sweep", max_faces=99), []
    for _ in range(len(search_windows(1280, 720))):
        found = detector.detect(frame, [face.box for face in found])
    centres = [((f.box[0] + f.box[2]) / 2, (f.box[1] + f.box[3]) / 2) for f in found]
    assert sorted(next((i for i, (x0, y0, x1, y1) in enumerate(cells) if x0 <= cx <= x1 and y0 <= cy <= y1), -1)
                  for cx, cy in centres) == list(range(9))


def test_faces_cut_by_the_side_of_a_large_picture_are_looked_for_in_windows_past_the_edge():
    """A person half out of a 2000x1500 photo: BlazeFace, trained on whole faces, missed a face the edge cut unless it
    lay in the middle of a window; the coarser windows at the left and right edges are also looked at moved half out
    past them, black there (bench/edge_faces.py: a third cut off, 51 -> 61 of 80 found)."""
    from realtime.detect import Tiles, edge_windows, window_pixels
    from realtime.scene import _FACE_IN_SPRITE

    windows, _, filling = Tiles(320).windows(2000, 1500, [], [], 0)
    assert filling == search_windows(2000, 1500)  # (the short-range model's look: not out past the edges)
    moved = [w for w in windows if w[0] < 0 or w[2] > 2000]
    assert moved == edge_windows([w for w in windows if w[2] - w[0] > 320], 2000)
    assert moved and all(w[2] - w[0] > 320 and (w[0] + w[2] == 0 or w[0] + w[2] == 4000) for w in moved)  # centred on it
    assert Tiles(320).windows(1280, 720, [], [], 0)[0] == search_windows(1280, 720)  # no coarser tiling: none
    picture = np.full((10, 20, 3), 7, np.uint8)
    assert window_pixels(picture, (-5, 2, 5, 8)).shape == (6, 10, 3)
    assert window_pixels(picture, (-5, 2, 5, 8))[:, :5].max() == 0 and window_pixels(picture, (-5, 2, 5, 8))[:, 5:].min() == 7
    sprite, _ = face_sprite()
    x0, y0, x1, y1 = _FACE_IN_SPRITE
    face = cv2.resize(sprite[y0 - 40:y1 + 40, x0 - 30:x1 + 30], (350, 455))
    frame = background(2000, 1500, seed=2)
    frame[350:805, :140] = face[:, 210:]  # its left 210 of 350 px past the left edge: it was not found
    found = FaceDetector("tiled", upright=True).detect(frame)
    assert len(found) == 1 and found[0].box[0] < 0  # its box reaches past the edge, as the face does


def test_large_pictures_are_also_searched_in_coarser_tiles():
    assert search_windows(1280, 720) == tile_windows(1280, 720)  # small pictures: the tiles alone, as before
    windows = search_windows(4000, 3000)
    assert windows[:len(tile_windows(4000, 3000))] == tile_windows(4000, 3000)
    # A face 80-280 px wide (too small for the full pass over a 4000 px picture, which sees it under 14 px
    # at its 192 px input) lies whole in some window that shows it at least 20 px wide, wherever it is.
    _assert_every_face_held_whole(windows, (80, 150, 280))


def _assert_every_face_held_whole(windows, sides, width=4000, height=3000):
    """A square face of each side, wherever it lies in the picture, is whole in some window that shows it at least
    20 px wide at the full-range model's 192 px input."""
    for side in sides:
        for x in range(0, width - side, 97):
            for y in range(0, height - side, 89):
                assert any(x0 <= x and y0 <= y and x + side <= x1 and y + side <= y1 and
                           side * 192 / max(x1 - x0, y1 - y0) >= 20 for x0, y0, x1, y1 in windows), (side, x, y)


def test_a_least_face_size_leaves_out_only_the_tilings_for_narrower_faces():
    every, every_small = search_windows(4000, 3000), search_windows(1280, 720)
    assert search_windows(4000, 3000, min_face=130) == every  # 130 px is under 40 px in the 640 px tiles
    windows = search_windows(4000, 3000, min_face=140)
    assert windows == [w for w in every if max(w[2] - w[0], w[3] - w[1]) >= 640]  # the 320 px tiles left out
    assert len(windows) < len(every) / 3
    assert search_windows(1280, 720, min_face=260) == every_small == search_windows(1280, 720)
    assert search_windows(1280, 720, min_face=270) == []  # the full pass alone sees such faces 40 px wide
    _assert_every_face_held_whole(windows, (140, 200, 280))  # every face of at least min_face px, as before


@pytest.mark.parametrize("min_face", [0, 150])
def test_tiled_detection_finds_mid_sized_faces_in_a_12_megapixel_picture(min_face):
    """Faces 180-300 px wide in a 4000x3000 picture (a group photo from a phone): too small for the full pass,
    and cut by the edges of every 320 px tile; the 260 and 300 px ones were missed before. With --min-face
    150 the search skips the 320 px tiles and still finds them all."""
    frame = background(4000, 3000, seed=5)
    spots = [(700, 700), (2000, 700), (3300, 700), (700, 2200), (2000, 2200), (3300, 2200)]
    truth = [paste_face(frame, width, spot) for width, spot in zip([180, 220, 260, 300, 240, 200], spots)]
    found = FaceDetector("tiled", min_face=min_face).detect(frame)
    assert _all_found(found, truth) and len(found) == 6


def test_sweep_finds_small_faces_within_one_rotation_and_keeps_them():
    frame, truth = _small_faces_scene()
    detector = FaceDetector("sweep")
    rotation = len(search_windows(1280, 720, detector.tile))
    found = []
    for _ in range(rotation):
        found = detector.detect(frame, [face.box for face in found])
    assert _all_found(found, truth) and len(found) == 3
    for _ in range(3):  # from now on every frame, not once per rotation
        found = detector.detect(frame, [face.box for face in found])
        assert _all_found(found, truth) and len(found) == 3


def test_flip_average_scores_a_face_and_its_mirror_in_one_call(tiny_model, tmp_path):
    import json
    import shutil

    from realtime.classify import Classifier

    flipped_model = tmp_path / "flip.keras"
    for suffix in (".keras", ".tflite"):
        shutil.copy(tiny_model.with_suffix(suffix), flipped_model.with_suffix(suffix))
    card = json.loads(tiny_model.with_suffix(".json").read_text())
    flipped_model.with_suffix(".json").write_text(json.dumps({**card, "flip_average": True}))
    plain, averaged = Classifier(tiny_model), Classifier(flipped_model)
    calls = []
    run = averaged._run
    averaged._run = lambda batch: calls.append(len(batch)) or run(batch)
    faces = np.random.default_rng(0).integers(0, 256, (3, 48, 48), dtype=np.uint8)
    expected = (plain.predict(faces) + plain.predict(faces[:, :, ::-1])) / 2
    assert np.allclose(averaged.predict(faces), expected, atol=1e-5)
    assert calls == [6]  # three faces and their mirrors, one batched call


def test_a_cut_short_jpeg_is_read_with_a_warning_that_names_it(tmp_path, capsys):
    from realtime.capture import ImageSource, read_image

    frame, _ = DemoSource(faces=1).frame(0)
    data = cv2.imencode(".jpg", frame)[1].tobytes()
    whole, cut = tmp_path / "whole.jpg", tmp_path / "cut.jpg"
    whole.write_bytes(data)
    cut.write_bytes(data[: len(data) // 2])  # as an interrupted copy leaves it
    told = []
    assert np.array_equal(read_image(whole, warn=told.append), cv2.imread(str(whole)))
    assert told == []
    image = read_image(cut, warn=told.append)
    assert image.shape == frame.shape
    assert np.abs(image[: frame.shape[0] // 8].astype(int) - frame[: frame.shape[0] // 8]).mean() < 10  # its top is there
    assert len(told) == 1 and told[0].startswith("Premature end")
    read_image(cut)  # no one to tell: nothing said (the program names each image once, when its turn comes)
    assert capsys.readouterr().err == ""
    (tmp_path / "photos").mkdir()
    cut.rename(tmp_path / "photos" / "cut.jpg")
    whole.rename(tmp_path / "photos" / "whole.jpg")
    source = ImageSource(tmp_path / "photos")
    assert len(list(source)) == 2 and source.damaged_photos == ["cut.jpg"]  # (the web page tells its user so)
    said = capsys.readouterr().err.strip().splitlines()
    assert len(said) == 1 and said[0].startswith("warning: cut.jpg is damaged or cut short (Premature end")


def test_floating_point_tiffs_are_read_as_8_bit_pictures(tmp_path):
    """Scientific TIFFs hold float grey levels, which OpenCV's colour reader refuses: read in 0..1, else stretched."""
    from realtime.capture import read_image

    grey = DemoSource(faces=1).frame(0)[0][:, :, 1]
    unit, wide = tmp_path / "unit.tif", tmp_path / "wide.tiff"
    cv2.imwrite(str(unit), grey.astype(np.float32) / 255)
    cv2.imwrite(str(wide), grey.astype(np.float32) * 4 - 100)
    assert cv2.imread(str(unit), cv2.IMREAD_COLOR) is None  # what the program read before: the image was skipped
    image = read_image(unit)
    assert image.shape == (*grey.shape, 3) and image.dtype == np.uint8
    assert np.abs(image[:, :, 0].astype(int) - grey).max() <= 1
    stretched = read_image(wide)[:, :, 0].astype(int)
    expected = (grey.astype(float) - grey.min()) * 255 / (grey.max() - grey.min())
    assert stretched.min() == 0 and stretched.max() == 255 and np.abs(stretched - expected).max() <= 1


@pytest.mark.parametrize("white", [100, 1023, 4095])
def test_a_binary_pgm_or_ppm_is_read_by_the_white_its_header_names(tmp_path, white):
    """A PGM or PPM says which value is white (maxval): a 12-bit camera's frames saved as PGM at 4095, a 10-bit one's
    at 1023. OpenCV took the values as they were: 0-4095 read as 0-15, near black (of 60 wild-faces photos so saved, a
    face was found in 55, 45 labelled as the photo itself); 0-100 came out at 40% of their brightness."""
    from realtime.capture import read_image

    frame = DemoSource(faces=1).frame(0)[0]
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    deep = ">u2" if white > 255 else "u1"
    for name, kind, picture in (("grey.pgm", 5, grey), ("colour.ppm", 6, frame[:, :, ::-1])):
        values = np.rint(picture.astype(np.float64) * white / 255).astype(deep)
        (tmp_path / name).write_bytes(f"P{kind}\n# a comment\n{grey.shape[1]} {grey.shape[0]}\n{white}\n".encode()
                                      + values.tobytes())
        image = read_image(tmp_path / name)
        expected = frame if kind == 6 else cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
        assert image.shape == expected.shape and image.dtype == np.uint8
        assert np.abs(image.astype(int) - expected).max() <= 2
    if white == 4095:  # a header naming more pixels than OpenCV reads: no picture (the caller says why), no traceback
        (tmp_path / "huge.pgm").write_bytes(b"P5\n40000 30000\n4095\n" + bytes(64))
        assert read_image(tmp_path / "huge.pgm") is None


def test_a_tiff_of_whole_numbers_is_decoded_once(tmp_path, monkeypatch):
    """Photos and scans saved as TIFF (8 or 16 bits) are read by OpenCV's colour reader alone: their header says
    they hold no floating-point samples, so they are not decoded a second time for that (80 ms for 12 megapixels)."""
    from realtime.capture import read_image

    frame = DemoSource(faces=1).frame(0)[0]
    decoded = []
    imread = cv2.imread
    monkeypatch.setattr(cv2, "imread", lambda *args: decoded.append(args) or imread(*args))
    for name, pixels in (("photo.tif", frame), ("deep.tiff", frame.astype(np.uint16) * 257),
                         ("12-bit.tiff", (frame.astype(np.uint32) * 4095 // 255).astype(np.uint16))):
        cv2.imwrite(str(tmp_path / name), pixels)
        decoded.clear()
        assert np.abs(read_image(tmp_path / name).astype(int) - frame).max() <= 1 and len(decoded) == 1
    cv2.imwrite(str(tmp_path / "float.tif"), frame[:, :, 1].astype(np.float32) / 255)  # read as before, once too
    decoded.clear()
    assert np.abs(read_image(tmp_path / "float.tif")[:, :, 0].astype(int) - frame[:, :, 1]).max() <= 1
    assert len(decoded) == 1


@pytest.mark.parametrize("white", [255, 1023, 4095, 16383, 65535])
@pytest.mark.parametrize("kind", ["png", "tiff"])
def test_a_16_bit_picture_is_read_by_the_bits_its_values_use(tmp_path, white, kind):
    """A 10-, 12- or 14-bit camera's frames, or 8-bit values, saved in a 16-bit PNG or TIFF: white is the top of the
    bits used. OpenCV read each as 0-65535: 12-bit values near black (0-15), 8-bit values black (0)."""
    from realtime.capture import read_image

    frame = DemoSource(faces=1).frame(0)[0]
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    for name, picture, expected in (("colour", frame, frame), ("grey", grey, cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR))):
        path = tmp_path / f"{name}.{kind}"
        cv2.imwrite(str(path), np.rint(picture.astype(np.float64) * white / 255).astype(np.uint16))
        image = read_image(path)
        assert image.shape == expected.shape and image.dtype == np.uint8
        assert np.abs(image.astype(int) - expected).max() <= 1, (name, white)
        dark = np.rint(picture.astype(np.float64) * 0.4 * white / 255)  # no white in it: read as dark, not stretched
        cv2.imwrite(str(path), dark.astype(np.uint16))
        expected = np.rint(dark * 255 / white).astype(int)
        assert np.abs(read_image(path)[..., 0].astype(int) - expected.reshape(picture.shape[:2] + (-1,))[..., 0]).max() <= 1


def test_a_16_bit_tiff_turned_a_quarter_or_signed_is_read_as_8_bits(tmp_path):
    """A 12-bit camera's 16-bit TIFF turned a quarter (orientation 6 or 8: OpenCV cannot read it, FFmpeg does) is read
    by the bits it uses too; a signed 16-bit TIFF, which OpenCV reads as int16 when asked for its depth, is read as
    8 bits as before (handed on as int16, it ended in a traceback from the detector)."""
    from PIL import Image

    from realtime.capture import read_image

    ramp = (np.tile(np.arange(64), (48, 1)) * 64).astype(np.uint16)  # 0-4032 of 4095
    for orientation, shape in ((1, (48, 64, 3)), (6, (64, 48, 3)), (8, (64, 48, 3))):
        tag = Image.Exif()
        tag[0x0112] = orientation
        Image.fromarray(ramp).save(tmp_path / f"turned{orientation}.tif", exif=tag)
        image = read_image(tmp_path / f"turned{orientation}.tif")
        assert image.shape == shape and image.dtype == np.uint8 and image.max() == 251, orientation
    signed = tmp_path / "signed.tif"
    cv2.imwrite(str(signed), (np.arange(48 * 64 * 3).reshape(48, 64, 3) % 4032 - 2000).astype(np.int16))
    assert cv2.imread(str(signed), cv2.IMREAD_COLOR | cv2.IMREAD_ANYDEPTH).dtype == np.int16
    image = read_image(signed)
    assert image.dtype == np.uint8 and image.shape == (48, 64, 3)
    assert np.array_equal(image, cv2.imread(str(signed), cv2.IMREAD_COLOR))


def test_jpeg_2000_photos_are_read_as_photos(tmp_path):
    """JPEG 2000 (.jp2, and a bare .j2k stream), which OpenCV reads: a folder of them was 'no images in folder', and
    one given alone was read as a video (no face, no image name in the results). A 12-bit one is read by its bits."""
    from PIL import Image

    from realtime.capture import ImageSource, folder_images, open_source, read_image

    frame = DemoSource(faces=1).frame(0)[0]
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(frame[:, :, ::-1]).save(photos / "a.jp2", irreversible=False)  # (lossless)
    Image.fromarray(frame[:, :, ::-1]).save(photos / "b.J2K", irreversible=False)
    Image.fromarray(frame[:, :, ::-1]).save(photos / "c", format="JPEG2000", irreversible=False)  # known by its bytes
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    Image.fromarray(grey.astype(np.uint16) * 16).save(photos / "d.jp2", irreversible=False)  # 12-bit values
    assert folder_images(photos) == [photos / name for name in ("a.jp2", "b.J2K", "c", "d.jp2")]
    for name in ("a.jp2", "b.J2K", "c"):
        assert np.array_equal(read_image(photos / name), frame), name
    assert np.abs(read_image(photos / "d.jp2")[:, :, 0].astype(int) - grey).max() <= 1
    source = open_source(str(photos / "a.jp2"))
    assert isinstance(source, ImageSource) and source.size == (frame.shape[1], frame.shape[0])


def test_a_picture_with_transparent_parts_is_read_on_white_however_it_is_stored(tmp_path):
    """A face cut out of its background (an alpha channel, or a palette's transparent colour) is read as viewers show
    it, on white, as a GIF's was: OpenCV gave what the transparent part hides, which each tool stores its own way
    (the colours cut away, black, smeared by lossy WebP), or a TIFF's as black; on 30 wild-faces photos so stored,
    2 to 4 of 30 labels changed with the way. An opaque RGBA picture (a screenshot) reads as its colours."""
    from PIL import Image

    from realtime.capture import AnimationSource, read_image

    frame = DemoSource(faces=1).frame(0)[0]
    height, width = frame.shape[:2]
    y, x = np.mgrid[:height, :width]
    alpha = np.clip(255 * (1.1 - np.hypot((x - width / 2) / (0.3 * width), (y - height / 2) / (0.45 * height))) / 0.2,
                    0, 255).astype(np.uint8)  # an oval, its edge feathered
    expected = np.rint(frame * (alpha[..., None] / 255) + 255 * (1 - alpha[..., None] / 255)).astype(np.uint8)
    rgba = np.dstack([frame[:, :, ::-1], alpha])
    hidden_black = rgba.copy()
    hidden_black[alpha == 0, :3] = 0
    turned = Image.Exif()
    turned[0x0112] = 6  # stored on its side, with the tag that turns it upright
    saves = {"kept.png": (rgba, {}), "black.png": (hidden_black, {}), "kept.tif": (rgba, {"compression": "tiff_lzw"}),
             "kept.webp": (rgba, {"lossless": True, "exact": True}), "black.webp": (hidden_black, {"lossless": True}),
             "turned.png": (np.rot90(rgba).copy(), {"exif": turned})}
    for name, (pixels, how) in saves.items():
        Image.fromarray(pixels, "RGBA").save(tmp_path / name, **how)
        assert np.abs(read_image(tmp_path / name).astype(int) - expected).max() <= 1, name
    cut = np.where(alpha[..., None] > 127, frame, 0)  # a palette picture with a transparent colour (hard-edged)
    palette = Image.fromarray(cut[:, :, ::-1]).quantize(255)
    indices = np.asarray(palette).copy()
    indices[alpha <= 127] = 255
    paletted = Image.fromarray(indices, "P")
    paletted.putpalette(palette.getpalette()[:765] + [0, 0, 0])
    paletted.save(tmp_path / "palette.png", transparency=255)
    shown = np.where(alpha[..., None] > 127, np.asarray(paletted.convert("RGB"))[:, :, ::-1], 255)
    assert np.array_equal(read_image(tmp_path / "palette.png"), shown)
    Image.fromarray(np.dstack([frame[:, :, ::-1], np.full_like(alpha, 255)])).save(tmp_path / "opaque.png")
    assert np.array_equal(read_image(tmp_path / "opaque.png"), frame)
    Image.fromarray(hidden_black, "RGBA").save(tmp_path / "sticker.webp", lossless=True, save_all=True,
                                               append_images=[Image.fromarray(rgba, "RGBA")], duration=100, exact=True)
    source = AnimationSource(tmp_path / "sticker.webp", Image.open(tmp_path / "sticker.webp"))  # a sticker, given alone
    frames = list(source)
    source.close()
    assert len(frames) == 2 and all(np.abs(f.astype(int) - expected).max() <= 1 for f in frames)
    from realtime.photos import PhotoLabeller  # from Python: a BGRA array or an RGBA PIL image, as its file is read

    for given in (np.ascontiguousarray(rgba[:, :, [2, 1, 0, 3]]), Image.fromarray(hidden_black, "RGBA")):
        assert np.abs(PhotoLabeller._frame(given).astype(int) - expected).max() <= 1  # (its alpha was dropped)


def test_a_16_bit_picture_with_transparent_parts_is_read_by_the_bits_it_uses_on_white(tmp_path):
    """A 16-bit PNG or TIFF with an alpha band: Pillow, which now reads pictures with transparent parts, keeps the top
    8 bits of each band, so 12-bit values (0-4095) read near black, and a 12-bit alpha see-through (white); before,
    OpenCV read them by the bits they use. Both: the colours and the alpha each by their bits, laid on white."""
    from realtime.capture import read_image

    frame = DemoSource(faces=1).frame(0)[0][:240, :320]
    height, width = frame.shape[:2]
    y, x = np.mgrid[:height, :width]
    alpha = np.clip(255 * (1.1 - np.hypot((x - width / 2) / (0.3 * width), (y - height / 2) / (0.45 * height))) / 0.2,
                    0, 255).astype(np.uint8)
    expected = np.rint(frame * (alpha[..., None] / 255) + 255 * (1 - alpha[..., None] / 255))
    for colours, opaque in ((16, 65535), (16, 4095), (257, 65535)):  # 12-bit values, a 12-bit alpha, 16-bit ones
        deep = np.dstack([frame.astype(np.uint16) * colours,
                          np.rint(alpha.astype(np.float32) * (opaque / 255)).astype(np.uint16)])
        for name in ("deep.png", "deep.tif"):
            cv2.imwrite(str(tmp_path / name), deep)
            assert np.abs(read_image(tmp_path / name).astype(int) - expected).max() <= 2, (name, colours, opaque)


def test_a_run_length_coded_bmp_is_read_whole(tmp_path):
    """A BMP whose rows are run-length coded (RLE8) as ImageMagick writes them, each to its padded length (a multiple
    of 4 pixels): OpenCV carried each row's extra pixels on into the next rows, and the picture came out garbled (of
    10 wild-faces photos so saved, no face was found in 3)."""
    import struct

    from PIL import Image

    from realtime.capture import read_image

    frame = DemoSource(faces=1).frame(0)[0][:, :638]  # 638 pixels wide: rows padded to 640
    paletted = Image.fromarray(frame[:, :, ::-1]).quantize(256)
    indices, palette = np.asarray(paletted), paletted.getpalette()[:768]
    height, width = indices.shape
    coded = bytearray()
    for row in indices[::-1]:  # (bottom row first)
        padded = np.concatenate([row, np.zeros(-width % 4, np.uint8)])
        start = 0
        while start < len(padded):
            run = 1
            while start + run < len(padded) and padded[start + run] == padded[start] and run < 255:
                run += 1
            coded += bytes([run, padded[start]])
            start += run
        coded += b"\x00\x00"  # end of the row
    coded += b"\x00\x01"  # end of the picture
    colours = b"".join(bytes([palette[3 * i + 2], palette[3 * i + 1], palette[3 * i], 0]) for i in range(256))
    offset = 14 + 40 + len(colours)
    path = tmp_path / "coded.bmp"
    path.write_bytes(b"BM" + struct.pack("<IHHI", offset + len(coded), 0, 0, offset)
                     + struct.pack("<IiiHHIIiiII", 40, width, height, 1, 8, 1, len(coded), 2835, 2835, 256, 0)
                     + colours + coded)
    expected = np.asarray(paletted.convert("RGB"))[:, :, ::-1]
    assert np.array_equal(read_image(path), expected)


@pytest.mark.parametrize("name", ["turned.heic", "plain.avif"])
def test_phone_photos_in_heic_and_avif_are_read_the_right_way_up(tmp_path, name):
    """HEIC is what iPhones save (OpenCV reads neither format): decoded with PyAV, put together and turned as the
    file says. `turned.heic` is made as a phone makes one: a grid of tiles (here 3 x 2 of 128 px, cut to the
    picture's size), lying on its side, plus the turn to show it by (`irot`); `plain.avif` is one AV1 picture."""
    import shutil

    from realtime.capture import ImageSource, folder_images, read_image

    expected = cv2.resize(DemoSource(faces=1).frame(0)[0], (320, 240), interpolation=cv2.INTER_AREA)
    fixture = Path(__file__).parent / "data" / name
    assert cv2.imread(str(fixture)) is None  # (what the program tried before: it then called the photo a video)
    image = read_image(fixture)
    assert image.shape == expected.shape and np.abs(image.astype(int) - expected).mean() < 8
    unnamed = tmp_path / "photos" / "IMG_0001"  # known by its first bytes when the name does not say
    unnamed.parent.mkdir()
    shutil.copy(fixture, unnamed)
    assert folder_images(unnamed.parent) == [unnamed]
    assert ImageSource(unnamed.parent).size == (320, 240)
    cut = tmp_path / "cut.heic"  # an interrupted copy
    cut.write_bytes(fixture.read_bytes()[: fixture.stat().st_size // 2])
    assert read_image(cut) is None


def test_a_mirrored_heic_photo_is_turned_and_mirrored_in_the_order_the_file_says():
    """`mirrored.heic` stores a picture plus `irot` then `imir` (EXIF orientation 7, a mirrored selfie turned):
    shown as libheif and Apple show it, as the transverse of what is stored."""
    from realtime.capture import read_image

    stored = cv2.resize(DemoSource(faces=1).frame(0)[0], (160, 120), interpolation=cv2.INTER_AREA)
    expected = cv2.rotate(cv2.transpose(stored), cv2.ROTATE_180)
    image = read_image(Path(__file__).parent / "data" / "mirrored.heic")
    assert image.shape == expected.shape and np.abs(image.astype(int) - expected).mean() < 6
    assert np.abs(image.astype(int) - cv2.rotate(stored, cv2.ROTATE_90_CLOCKWISE)).mean() > 20  # not only turned


@pytest.mark.parametrize("kind", ["webp", "tif", "lzw.tif"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_webp_or_tiff_photo_is_turned_as_its_orientation_says(tmp_path, orientation, kind):
    """OpenCV turns JPEG and PNG photos by their EXIF orientation, not WebP ones, and cannot read a TIFF turned a
    quarter (orientations 5-8): all eight turns and mirrors."""
    from PIL import Image, ImageOps

    from realtime.capture import read_image

    pixels = np.random.default_rng(orientation).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    tag = Image.Exif()
    tag[0x0112] = orientation
    path = tmp_path / f"photo.{kind}"
    how = {"webp": {"lossless": True}, "tif": {}, "lzw.tif": {"compression": "tiff_lzw"}}[kind]
    Image.fromarray(pixels).save(path, format="WEBP" if kind == "webp" else "TIFF", exif=tag.tobytes(), **how)
    shown = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))[:, :, ::-1]  # as a viewer shows it
    assert np.array_equal(read_image(path), shown)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_jpeg_compressed_tiff_is_turned_as_its_orientation_says(tmp_path, orientation):
    """OpenCV reads no TIFF turned a quarter (orientations 5-8), and FFmpeg, which read those instead, gave a
    JPEG-compressed one (colour or grey) black: no face. An uncompressed RGBA one, which Pillow garbles so, reads
    right too."""
    from PIL import Image

    from realtime.capture import read_image

    frame = DemoSource(faces=1).frame(0)[0][:240, :320]
    stored_as = {1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
                 4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_90,
                 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_270}[orientation]  # what the tag undoes
    tag = Image.Exif()
    tag[0x0112] = orientation
    for mode, how in (("RGB", {"compression": "jpeg", "quality": 95}), ("L", {"compression": "jpeg", "quality": 95}),
                      ("RGBA", {})):
        upright = Image.fromarray(frame[:, :, ::-1]).convert(mode)
        path = tmp_path / f"{mode}.tif"
        (upright if stored_as is None else upright.transpose(stored_as)).save(path, exif=tag, **how)
        expected = np.asarray(upright.convert("RGB"))[:, :, ::-1]
        image = read_image(path)
        assert image.shape == expected.shape and np.abs(image.astype(int) - expected).mean() < 3, mode


def test_a_1_bit_picture_is_read_as_the_grey_tones_its_dots_stand_for(tmp_path, photo_detector):
    """A dithered black-and-white picture (a 1-bit scan or print): no face is found in the dots themselves."""
    from realtime.capture import descreened, read_image

    frame, (truth,) = DemoSource(faces=1).frame(0)
    grey = frame[:, :, 1]
    bayer = np.array([[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]]) * 16 + 8  # ordered dither
    dots = np.where(grey > np.tile(bayer, (grey.shape[0] // 4, grey.shape[1] // 4)), 255, 0).astype(np.uint8)
    path = tmp_path / "dots.png"
    cv2.imwrite(str(path), dots, [cv2.IMWRITE_PNG_BILEVEL, 1])
    assert photo_detector.detect(cv2.cvtColor(dots, cv2.COLOR_GRAY2BGR)) == []  # as the program read it before
    image = read_image(path)
    assert np.abs(image[:, :, 0].astype(int) - grey).mean() < 10  # the tones come back
    (face,) = photo_detector.detect(image)
    assert overlap(face.box, truth)[0] > 0.6
    assert descreened(frame) is frame  # any picture of more than two colours is left as it is
    two_colours = np.where(dots[:, :, None] > 0, (40, 200, 90), (230, 230, 250)).astype(np.uint8)  # inked in colour
    assert np.abs(descreened(two_colours).astype(int) - two_colours).mean() > 20
    with_a_third = two_colours.copy()
    with_a_third[5, 5] = (1, 2, 3)  # (not on the sample's grid: the whole picture is looked at)
    assert descreened(with_a_third) is with_a_third


def test_shown_faces_are_listed_largest_first_as_the_face_grows():
    """Video records list faces largest first, as photo records do, even when a later face grows past the first."""
    tracker = Tracker(confirm=1, smoothing=0.0)
    p = np.array([[0.3, 0.7], [0.6, 0.4]])
    small, large = Face(np.array([10.0, 10, 60, 60]), 0.9), Face(np.array([300.0, 100, 420, 220]), 0.9)
    assert [t.id for t in tracker.update([small, large], p)] == [2, 1]
    for side in (75, 100, 140):  # the first face walks up to the camera
        shown = tracker.update([Face(np.array([0.0, 0, side, side]), 0.9), large], p)
    assert [t.id for t in shown] == [1, 2]


def test_with_several_faces_each_caption_names_its_face_as_the_results_do():
    from realtime.draw import caption_text

    track = SimpleNamespace(id=2, label=3, probabilities=np.array([0.01, 0.02, 0.0, 0.87, 0.1]))
    labels = ["angry", "disgust", "fear", "happy", "sad"]
    assert caption_text(track, labels, several=False) == "happy 87%"  # one face: nothing to tell apart
    assert caption_text(track, labels, several=True) == "#2 happy 87%"
