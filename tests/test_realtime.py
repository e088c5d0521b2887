"""The realtime program: end to end on generated video, and every bad-input case."""

from __future__ import annotations

import contextlib
import csv
import ctypes
import io
import itertools
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from fractions import Fraction

import cv2
import numpy as np
import pytest
from PIL import Image

from realtime.faces import overlap
from realtime.track import HYSTERESIS
from realtime.scene import DemoSource, background
from tests.conftest import LABELS, ROOT, assert_one_line_error, run_module


def write_clip(path, faces: int, frames: int, fps: float = 24.0) -> list[list[np.ndarray]]:
    """A generated clip written as a video file; returns the true face boxes of each frame."""
    source = DemoSource(faces=faces, frames=frames, fps=fps)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, source.size)
    for frame in source:
        writer.write(frame)
    writer.release()
    return source.truth


def read_video(path) -> tuple[int, tuple[int, int], float]:
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.read()[0]:
        count += 1
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    fps = capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    return count, size, fps


def test_video_in_annotated_video_and_json_out(tmp_path, tiny_model):
    truth = write_clip(tmp_path / "in.mp4", faces=2, frames=24)
    result = run_module("realtime", "--source", str(tmp_path / "in.mp4"), "--model", str(tiny_model), "--no-display",
                        "--output", str(tmp_path / "out.mp4"), "--json", str(tmp_path / "out.jsonl"), "--benchmark")
    assert result.returncode == 0, result.stderr[-3000:]
    assert read_video(tmp_path / "out.mp4") == (24, (640, 480), 24.0)
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["frame"] for r in records] == list(range(24))
    assert records[12]["time"] == pytest.approx(0.5)
    assert all(r["schema"] == 2 for r in records)
    assert records[0]["faces"] == records[1]["faces"] == []  # a new face is shown once found in 3 frames in a row
    for record, boxes in list(zip(records, truth))[2:]:
        assert len(record["faces"]) == 2
        for face in record["faces"]:
            assert max(overlap(np.array(face["box"]), box)[0] for box in boxes) > 0.5
            shares = face["probabilities"]
            assert face["label"] in LABELS and max(shares.values()) - shares[face["label"]] <= HYSTERESIS + 1e-3
            assert sum(shares.values()) == pytest.approx(1.0, abs=1e-3)
            assert sum(face["raw"].values()) == pytest.approx(1.0, abs=1e-3)
    assert {f["id"] for r in records for f in r["faces"]} == {1, 2}  # the same two tracks throughout
    for stage in ("capture", "detect", "align", "classify", "draw", "write"):
        assert stage in result.stdout
    assert "23 frames measured" in result.stdout and "FPS" in result.stdout
    assert result.stderr.splitlines()[-1] == f"wrote {tmp_path / 'out.mp4'}, {tmp_path / 'out.jsonl'} (24 frames)"
    only = run_module("realtime", "--source", str(tmp_path / "in.mp4"), "--model", str(tiny_model), "--no-display",
                      "--csv", str(tmp_path / "out.csv"))  # (results alone: it ended without a word)
    assert only.returncode == 0 and only.stderr.splitlines()[-1] == f"wrote {tmp_path / 'out.csv'} (24 frames)"


def test_a_run_shorter_than_confirm_frames_still_shows_its_faces(tmp_path, tiny_model):
    write_clip(tmp_path / "in.mp4", faces=2, frames=2)
    for options in ([], ["--max-frames", "1"]):
        result = run_module("realtime", "--source", str(tmp_path / "in.mp4"), "--model", str(tiny_model), "--no-display",
                            "--json", "-", *options)
        assert result.returncode == 0, result.stderr[-2000:]
        records = [json.loads(line) for line in result.stdout.splitlines()]
        assert len(records[-1]["faces"]) == 2 and len(records) == (2 if not options else 1)
    result = run_module("realtime", "--source", str(tmp_path / "in.mp4"), "--model", str(tiny_model), "--no-display")
    assert result.returncode == 0 and "note: nothing will be shown or written" in result.stderr


def test_a_variable_frame_rate_video_keeps_its_frame_times(tmp_path, tiny_model):
    """Phones record variable-frame-rate video: results and recording follow the file's timestamps."""
    import av

    times = [0, 0.1, 0.133, 0.4, 0.433, 0.466, 0.9, 1.0, 1.033, 1.5, 1.533, 2.0]
    clip, source = tmp_path / "vfr.mkv", DemoSource(faces=1, frames=len(times))
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = *source.size, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        for at, frame in zip(times, source):
            picture = av.VideoFrame.from_ndarray(frame, format="bgr24")
            picture.pts, picture.time_base = round(at * 1000), Fraction(1, 1000)
            container.mux(stream.encode(picture))
        container.mux(stream.encode())
    result = run_module("realtime", "--source", str(clip), "--model", str(tiny_model), "--no-display",
                        "--json", str(tmp_path / "out.jsonl"), "--output", str(tmp_path / "out.mp4"))
    assert result.returncode == 0, result.stderr[-2000:]
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["time"] for r in records] == pytest.approx(times, abs=1e-3)
    with av.open(str(tmp_path / "out.mp4")) as recording:  # each frame at its own time (it was put on a grid at
        shown = [float(frame.time) for frame in recording.decode(video=0)]  # the average rate: frames coming
    assert shown == pytest.approx(times, abs=1e-3)  # faster than that were late, by up to 1.7 s in a phone's video)


def test_a_portrait_phone_video_is_turned_upright(tmp_path, tiny_model):
    """Phones store a portrait video as landscape frames plus a rotation to show them by (the container's display
    matrix); the program labels and records the frames as a player shows them, not lying on their side."""
    import av

    source = DemoSource(faces=1, frames=10)
    clip = tmp_path / "portrait.mp4"
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        if not hasattr(stream, "set_display_rotation"):
            pytest.skip("this PyAV cannot write a display matrix")
        stream.width, stream.height, stream.pix_fmt = source.size[1], source.size[0], "yuv420p"
        stream.set_display_rotation(90)  # shown turned a quarter counter-clockwise
        for frame in source:
            picture = av.VideoFrame.from_ndarray(cv2.rotate(frame, cv2.ROTATE_90_CLOCKWISE), format="bgr24")
            container.mux(stream.encode(picture))
        container.mux(stream.encode())
    result = run_module("realtime", "--source", str(clip), "--model", str(tiny_model), "--no-display",
                        "--json", str(tmp_path / "out.jsonl"), "--output", str(tmp_path / "out.mp4"))
    assert result.returncode == 0, result.stderr[-2000:]
    count, size, _ = read_video(tmp_path / "out.mp4")
    assert size == source.size and count == 10  # 640x480 as shown, where it was 480x640 on its side
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert sum(len(r["faces"]) == 1 for r in records) >= 7


def test_image_and_folder_sources(tmp_path, tiny_model):
    frames, photos = DemoSource(faces=1), tmp_path / "photos"
    photos.mkdir()
    for i in range(3):
        cv2.imwrite(str(photos / f"{i}.png"), frames.frame(i * 10)[0])
    (photos / "notes.txt").write_text("not an image")
    for source, count in ((photos / "0.png", 1), (photos, 3)):
        jsonl, labelled = tmp_path / "out.jsonl", tmp_path / "out" / "labelled.jpg"
        labelled.parent.mkdir(exist_ok=True)
        result = run_module("realtime", "--source", str(source), "--model", str(tiny_model), "--no-display",
                            "--json", str(jsonl), "--output", str(labelled))
        assert result.returncode == 0, result.stderr[-2000:]
        records = [json.loads(line) for line in jsonl.read_text().splitlines()]
        assert len(records) == count and all(len(r["faces"]) == 1 for r in records)
        x0, y0, x1, y1 = (int(v) for v in records[-1]["faces"][0]["box"])
        original, annotated = cv2.imread(str(photos / f"{count - 1}.png")), cv2.imread(str(labelled))
        assert annotated.shape == original.shape
        assert np.abs(annotated[y0:y1, x0].astype(int) - original[y0:y1, x0]).max() > 60  # the box was drawn


def test_classes_leaves_the_others_out_of_every_answer(tmp_path, tiny_model):
    from realtime.photos import PhotoLabeller

    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(3):
        cv2.imwrite(str(photos / f"{i}.png"), DemoSource(faces=1).frame(i * 10)[0])
    runs = {}
    for name, extra in (("all", []), ("some", ["--classes", "Happiness,sad, neutral,anger"]), ("video", [])):
        source = photos if name != "video" else "demo:1"
        result = run_module("realtime", "--source", str(source), "--model", str(tiny_model), "--no-display",
                            "--json", str(tmp_path / f"{name}.jsonl"), "--max-frames", "3",
                            *(["--classes", "sad,neutral"] if name == "video" else extra))
        assert result.returncode == 0, result.stderr[-2000:]
        runs[name] = [face for line in (tmp_path / f"{name}.jsonl").read_text().splitlines()
                      for face in json.loads(line)["faces"]]
    kept = ["happy", "sad", "neutral", "angry"]
    assert runs["all"] and len(runs["some"]) == len(runs["all"])
    for every, some in zip(runs["all"], runs["some"]):
        assert some["label"] in kept and sum(some["probabilities"].values()) == pytest.approx(1, abs=1e-3)
        assert all(some["probabilities"][name] == 0 for name in some["probabilities"] if name not in kept)
        assert every["label"] not in kept or some["label"] == every["label"]  # a label kept is not changed
    assert runs["video"] and all(face["label"] in ("sad", "neutral") and face["probabilities"]["happy"] == 0
                                 for face in runs["video"])
    with PhotoLabeller(tiny_model, classes=["happy", "sad", "neutral", "angry"]) as labeller:  # from Python too
        face = labeller.label(photos / "0.png")[0]
    assert face.label == runs["some"][0]["label"]
    assert face.probabilities == pytest.approx(runs["some"][0]["probabilities"], abs=2e-4)


def test_a_folder_s_videos_are_named_not_silently_left_out(tmp_path, capsys):
    from realtime.capture import ImageSource, SourceError

    clips = tmp_path / "clips"
    clips.mkdir()
    write_clip(clips / "one.mp4", faces=1, frames=3)
    (clips / "two.MOV").write_bytes((clips / "one.mp4").read_bytes())
    with pytest.raises(SourceError, match=r"no images in folder .*clips, but 2 video files: .* give a video on its own"):
        ImageSource(clips)
    cv2.imwrite(str(clips / "still.png"), DemoSource(faces=1).frame(0)[0])
    assert [name for _, name in ImageSource(clips).files] == ["still.png"]
    assert "note: left out 2 video files in" in capsys.readouterr().err


def test_folder_with_subfolders_and_an_unreadable_image(tmp_path, tiny_model):
    """A photo set laid out in class folders is read whole; a damaged image is skipped, not the end of the run."""
    frames, photos = DemoSource(faces=1), tmp_path / "photos"
    for i, name in enumerate(["happy/1.jpg", "happy/2.JPEG", "sad/3.png", "sad/deeper/4.pgm", "top.tif"]):
        (photos / name).parent.mkdir(parents=True, exist_ok=True)
        image = frames.frame(i * 10)[0]
        cv2.imwrite(str(photos / name), cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if name.endswith(".pgm") else image)
    (photos / "sad" / "broken.jpg").write_bytes(b"\xff\xd8 not really a JPEG")
    for i, name in enumerate(["happy/5.gif", "sad/subject01.sad"]):  # GIFs, the second named as Yale Faces names them
        Image.fromarray(frames.frame(50 + i * 10)[0][..., ::-1]).save(photos / name, format="GIF")
    (photos / "sad" / "notes").write_text("GIF is what this file is not")
    # A BMP and a PGM whose names do not say so (Yale Faces' originals are named `subject02.normal` and so on)
    cv2.imwrite(str(photos / "happy" / "wink.bmp"), frames.frame(70)[0])
    (photos / "happy" / "wink.bmp").rename(photos / "happy" / "subject03.wink")
    cv2.imwrite(str(photos / "sad" / "normal.pgm"), cv2.cvtColor(frames.frame(80)[0], cv2.COLOR_BGR2GRAY))
    (photos / "sad" / "normal.pgm").rename(photos / "sad" / "subject02.normal")
    (photos / "sad" / "huge.png").write_bytes(png_header(70000, 70000))  # more pixels than OpenCV reads
    (photos / ".thumbs").mkdir()
    cv2.imwrite(str(photos / ".thumbs" / "1.jpg"), frames.frame(0)[0])  # hidden: left out
    cv2.imwrite(str(photos / "sad" / "wall.png"), background(320, 240))  # no face
    jsonl, table = tmp_path / "out.jsonl", tmp_path / "out.csv"
    result = run_module("realtime", "--source", str(photos), "--model", str(tiny_model), "--no-display",
                        "--json", str(jsonl), "--csv", str(table), "--workers", "2")
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    # Every photo given has a record, in path order, at its place in the run: one that could not be read says why
    # (those were named on standard error only), one without a face has none.
    assert [r["image"] for r in records] == ["happy/1.jpg", "happy/2.JPEG", "happy/5.gif", "happy/subject03.wink",
                                             "sad/3.png", "sad/broken.jpg", "sad/deeper/4.pgm", "sad/huge.png",
                                             "sad/subject01.sad", "sad/subject02.normal", "sad/wall.png", "top.tif"]
    assert [r["frame"] for r in records] == [r["time"] for r in records] == list(range(12))
    errors = {r["image"]: r["error"] for r in records if "error" in r}
    assert errors == {"sad/broken.jpg": "cannot read it as an image",
                      "sad/huge.png": "4,900 megapixels, more than the 1,074 this program can read"}
    assert [len(r["faces"]) for r in records] == [1, 1, 1, 1, 1, 0, 1, 0, 1, 1, 0, 1]
    # The CSV too: a row per face, and one with the face's columns empty for each photo without one
    rows = list(csv.DictReader(io.StringIO(table.read_text())))
    assert [row["image"] for row in rows] == [r["image"] for r in records]
    assert [row["error"] for row in rows] == [r.get("error", "") for r in records]
    assert [row["label"] for row in rows] == [r["faces"][0]["label"] if r["faces"] else "" for r in records]
    assert result.returncode == 1
    assert "warning: skipped sad/broken.jpg: cannot read it as an image" in result.stderr
    assert "warning: skipped sad/huge.png: 4,900 megapixels, more than the 1,074 this program can read" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(
        "error: 2 of 12 images could not be read and were skipped (sad/broken.jpg, sad/huge.png)")
    assert "Traceback" not in result.stderr
    for name in ("a.jpg", "b.png"):
        (tmp_path / "damaged" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "damaged" / name).write_bytes(b"not an image")
    result = run_module("realtime", "--source", str(tmp_path / "damaged"), "--model", str(tiny_model), "--no-display",
                        "--json", str(jsonl))
    assert_one_line_error(result, "none of the 2 images")
    result = run_module("realtime", "--source", str(photos / "sad" / "huge.png"), "--model", str(tiny_model),
                        "--no-display", "--json", str(jsonl))
    assert_one_line_error(result, "cannot read image")
    assert "(4,900 megapixels, more than the 1,074 this program can read)" in result.stderr
    from realtime.capture import SourceError
    from realtime.photos import PhotoLabeller

    with pytest.raises(SourceError, match="4,900 megapixels"):
        PhotoLabeller(model=tiny_model).label(photos / "sad" / "huge.png")


def test_linked_folders_are_read_once_by_their_own_names(tmp_path):
    """A folder reached by a link and as itself is read as itself (`aa_alias/p.jpg` came first in path order and
    took its photos' names, and with class folders their class); a link out of the folder is read, a link back up
    the tree is not followed."""
    from realtime.capture import folder_files

    photos, elsewhere = tmp_path / "photos", tmp_path / "elsewhere"
    for file in (photos / "zz_real" / "p.jpg", elsewhere / "q.jpg", photos / "top.jpg"):
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(b"x")
    (photos / "aa_alias").symlink_to("zz_real")
    (photos / "external").symlink_to(elsewhere)
    (photos / "zz_real" / "up").symlink_to("..")
    (photos / "gone").symlink_to(tmp_path / "nowhere")
    listed = ["external/q.jpg", "gone", "top.jpg", "zz_real/p.jpg"]  # (`gone`: a file, skipped as a broken link)
    assert [f.relative_to(photos).as_posix() for f in folder_files(photos)] == listed
    (tmp_path / "link").symlink_to(photos)  # the folder given by a link: read
    assert [f.relative_to(tmp_path / "link").as_posix() for f in folder_files(tmp_path / "link")] == listed


def test_an_output_folder_inside_the_photo_folder_is_left_out_of_the_photos(tmp_path, tiny_model):
    """`--source photos --output photos/labelled/`: a second run labelled the annotated copies of the first as photos
    of their own, and refused to overwrite them."""
    photos = tmp_path / "photos"
    photos.mkdir()
    cv2.imwrite(str(photos / "a.jpg"), DemoSource(faces=1, frames=1).frame(0)[0])
    for run in range(2):
        jsonl = tmp_path / f"{run}.jsonl"
        result = run_module("realtime", "--source", str(photos), "--model", str(tiny_model), "--no-display",
                            "--output", str(photos / "labelled") + "/", "--json", str(jsonl))
        assert result.returncode == 0, result.stderr[-2000:]
        assert [json.loads(line)["image"] for line in jsonl.read_text().splitlines()] == ["a.jpg"]
    assert "note: left out 1 photo in" in result.stderr and (photos / "labelled" / "a.jpg").is_file()


def png_header(width: int, height: int) -> bytes:
    """A PNG file whose header says `width` x `height` pixels, with no picture data behind it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


def test_several_images_as_a_shell_glob_gives_them(tmp_path, tiny_model):
    frames = DemoSource(faces=1)
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i}.jpg"), frames.frame(i * 10)[0])
    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    jsonl = tmp_path / "out.jsonl"
    given = [str(tmp_path / name) for name in ("2.jpg", "broken.jpg", "0.jpg")]  # in the order given
    result = run_module("realtime", "--source", *given, "--model", str(tiny_model), "--no-display", "--json", str(jsonl))
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [r["image"] for r in records] == given  # the broken one at its place, saying why
    assert [len(r["faces"]) for r in records] == [1, 0, 1] and [r.get("error") for r in records] == [
        None, "it is a text file, not a picture or video", None]
    assert result.returncode == 1 and "error: 1 of 3 images could not be read" in result.stderr
    video = tmp_path / "clip.mp4"
    write_clip(video, faces=1, frames=3)
    for extra, problem in ((video, "clip.mp4 is not one"), (tmp_path / "missing.jpg", f"source not found: {tmp_path / 'missing.jpg'}")):
        result = run_module("realtime", "--source", given[0], str(extra), "--model", str(tiny_model), "--no-display",
                            "--json", str(jsonl))
        assert_one_line_error(result, problem)
        assert result.returncode == 2


def write_av1_clip(path, faces: int, frames: int) -> None:
    """A generated clip in AV1 (SVT-AV1 through PyAV), which OpenCV's FFmpeg cannot decode. Written by another
    process: run as root, SVT-AV1 turns the process that encodes into a real-time one (SCHED_FIFO 99), and the
    Chromium this suite starts later, inheriting that, spun in the kernel and starved the machine."""
    import av

    if "libsvtav1" not in av.codecs_available:
        pytest.skip("this PyAV has no AV1 encoder")
    script = f"""
import av
from realtime.scene import DemoSource
with av.open({str(path)!r}, "w") as container:
    stream = container.add_stream("libsvtav1", rate=24, options={{"preset": "12"}})
    stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
    for frame in DemoSource(faces={faces}, frames={frames}):
        container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")))
    container.mux(stream.encode())
"""
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, capture_output=True, timeout=120)


@pytest.mark.parametrize("suffix", [".webm", ".mp4"])
def test_an_av1_video_is_decoded_by_pyav(tmp_path, tiny_model, suffix):
    """Many phone and web videos are AV1, which OpenCV's FFmpeg cannot decode: they were refused."""
    clip = tmp_path / f"clip{suffix}"
    write_av1_clip(clip, faces=2, frames=10)
    assert not cv2.VideoCapture(str(clip)).read()[0]  # (OpenCV reads none of it)
    from realtime.capture import open_video

    video = open_video(clip)
    assert video.frame_count == 10 and video.size == (640, 480)  # (WebM gives no count: estimated from its length)
    video.close()
    jsonl = tmp_path / "out.jsonl"
    result = run_module("realtime", "--source", str(clip), "--model", str(tiny_model), "--no-display",
                        "--json", str(jsonl), "--output", str(tmp_path / "out.mp4"))
    assert result.returncode == 0, result.stderr[-2000:]
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [r["time"] for r in records] == pytest.approx([i / 24 for i in range(10)], abs=1e-3)
    assert all(len(r["faces"]) == 2 for r in records[2:])
    assert read_video(tmp_path / "out.mp4")[:2] == (10, (640, 480))


def write_two_sized_clip(path, second: tuple[int, int] = (320, 240), interlaced: bool = False) -> None:
    """1 s at 640x480 (grey), then 1 s at `second` (width, height) whose left half is red and right half blue, in one
    video stream
    whose frame size changes, as a browser's recording that changes resolution has: two MPEG-TS files joined
    (`cat a.ts b.ts`), and for `.mkv` that stream copied into Matroska. Written with PyAV; `interlaced`: coded as
    interlaced frames, as TV recordings are."""
    import av

    halves = np.zeros((second[1], second[0], 3), np.uint8)
    halves[:, :second[0] // 2, 2], halves[:, second[0] // 2:, 0] = 255, 255  # (BGR: red, then blue)
    joined = b""
    for image in (np.full((480, 640, 3), 128, np.uint8), halves):
        part = io.BytesIO()
        with av.open(part, "w", format="mpegts") as container:
            stream = container.add_stream("libx264", rate=24)
            stream.width, stream.height, stream.pix_fmt = image.shape[1], image.shape[0], "yuv420p"
            if interlaced:
                stream.codec_context.flags |= av.codec.context.Flags.interlaced_dct
            for _ in range(24):
                container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
            container.mux(stream.encode())
        joined += part.getvalue()
    if path.suffix == ".ts":
        path.write_bytes(joined)
        return
    with av.open(io.BytesIO(joined), format="mpegts") as source, av.open(str(path), "w") as copy:
        stream = copy.add_stream_from_template(source.streams.video[0])
        for index, packet in enumerate(packet for packet in source.demux(video=0) if packet.size):
            packet.stream, packet.pts, packet.dts, packet.time_base = stream, index, index, Fraction(1, 24)
            copy.mux(packet)


def test_a_cover_picture_before_the_video_is_not_taken_for_it(tmp_path, tiny_model):
    """A file may keep a cover picture as a video stream of one frame, ahead of the video itself: only that frame was
    read (1 result of 12; OpenCV's reader does the same). The stream FFmpeg's players play is read."""
    import av

    video = DemoSource(faces=1, frames=12)
    with av.open(str(tmp_path / "covered.mkv"), "w") as container:
        cover = container.add_stream("mjpeg", rate=1)
        cover.width, cover.height, cover.pix_fmt = 200, 200, "yuvj420p"
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = *video.size, "yuv420p"
        picture = av.VideoFrame.from_ndarray(np.full((200, 200, 3), 90, np.uint8), format="bgr24")
        container.mux([*cover.encode(picture), *cover.encode()])
        for frame in video:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")))
        container.mux(stream.encode())
    from realtime.capture import open_video

    source = open_video(tmp_path / "covered.mkv")
    frames = list(source)
    source.close()
    assert len(frames) == 12 and frames[0].shape == (480, 640, 3)
    result = run_module("realtime", "--source", str(tmp_path / "covered.mkv"), "--model", str(tiny_model),
                        "--no-display", "--json", "-")
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 12, result.stderr[-2000:]


@pytest.mark.parametrize("suffix", [".ts", ".mkv"])
def test_a_video_whose_frame_size_changes_is_scaled_not_garbled(tmp_path, tiny_model, suffix):
    """OpenCV's reader wrote frames of another size than the first into a buffer of the first size: a mosaic of
    two half-height copies over stale rows. They are now decoded as they are and scaled to fit the first size."""
    clip = tmp_path / f"joined{suffix}"
    write_two_sized_clip(clip)
    from realtime.capture import open_video

    video = open_video(clip)
    frames = list(video)
    video.close()
    assert len(frames) == 48 and all(frame.shape == (480, 640, 3) for frame in frames)
    assert np.abs(frames[10].astype(int) - 128).max() < 12
    late = frames[40].astype(int)  # the small frame fills the first size: red left half, blue right half
    assert late[:, :300, 2].mean() > 200 and late[:, :300, 0].mean() < 40
    assert late[:, 340:, 0].mean() > 200 and late[:, 340:, 2].mean() < 40
    jsonl = tmp_path / "out.jsonl"
    result = run_module("realtime", "--source", str(clip), "--model", str(tiny_model), "--no-display",
                        "--json", str(jsonl), "--output", str(tmp_path / "out.mp4"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "changes frame size at 1.0 s, from 640x480 to 320x240" in result.stderr
    assert "@ 0x" not in result.stderr  # (none of FFmpeg's own lines, "[h264 @ 0x...] ...")
    assert len(jsonl.read_text().splitlines()) == 48
    assert read_video(tmp_path / "out.mp4")[:2] == (48, (640, 480))


def test_a_video_that_turns_portrait_is_shown_whole_between_black_bars(tmp_path):
    """Frames of another shape are scaled to fit the first size whole, not stretched or cut: a 240x320 (portrait)
    stretch of a 640x480 video fills 360x480 in its middle."""
    clip = tmp_path / "turns.ts"
    write_two_sized_clip(clip, second=(240, 320))
    from realtime.capture import open_video

    video = open_video(clip)
    late = list(video)[40].astype(int)
    video.close()
    assert late.shape == (480, 640, 3)
    assert late[:, :135].max() < 30 and late[:, 505:].max() < 30  # (black bars of 140 px each side)
    assert late[:, 150:310, 2].mean() > 200 and late[:, 330:490, 0].mean() > 200  # (red, then blue)


def test_a_raw_h264_stream_keeps_the_rate_it_was_made_at(tmp_path):
    """A raw .h264 stream (a camera's or a tool's output: no container, no timestamps) was given FFmpeg's default
    25 fps: a 60-fps one's `time` and recordings ran 2.4 times as long. Its own headers say 60."""
    import av

    from realtime.capture import open_video

    clip = tmp_path / "camera.h264"
    with av.open(str(clip), "w", format="h264") as container:
        stream = container.add_stream("libx264", rate=60)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for index in range(30):
            image = np.full((120, 160, 3), 8 * index, np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        container.mux(stream.encode())
    video = open_video(clip)
    frames = sum(1 for _ in video)
    video.close()
    assert frames == 30 and video.fps == pytest.approx(60)
    assert video.time == pytest.approx(29 / 60)


def write_face_clip(path, codec: str, frames: int, options: dict, left_out: int | None = None) -> None:
    """A 320x240 clip of one generated face at 24 fps through `codec` (with its `options`), written with PyAV; the
    packet numbered `left_out` is not written (a frame lost)."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=24, options=options)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        packets = []
        for frame in DemoSource(faces=1, frames=frames):
            packets += stream.encode(av.VideoFrame.from_ndarray(frame[::2, ::2].copy(), format="bgr24"))
        packets += stream.encode()
        for index, packet in enumerate(packets):
            if index != left_out:
                container.mux(packet)


def test_an_hevc_video_that_lost_a_frame_is_read_past_it(tmp_path):
    """A phone's HEVC video with a frame lost (a damaged copy): this FFmpeg's HEVC decoder left out every frame
    after it up to the next keyframe (8 of 24 frames read; OpenCV's reader gave 23). They are given, as they were."""
    import av

    if "libx265" not in av.codecs_available:
        pytest.skip("this PyAV has no HEVC encoder")
    clip = tmp_path / "phone.mp4"
    write_face_clip(clip, "libx265", 24, {"x265-params": "log-level=none:bframes=0"}, left_out=8)
    from realtime.capture import open_video

    video = open_video(clip)
    frames = list(video)
    video.close()
    assert len(frames) == 23 and video.time == pytest.approx(23 / 24)
    assert not video.damaged and not video.cut_short


def test_a_video_that_begins_mid_way_starts_at_its_first_whole_frame(tmp_path):
    """A recording cut out of a longer one without its first key frame: the frames before the next key frame cannot
    be decoded whole (grey or black with stray blocks). They are left out, as PyAV leaves them out unless asked to
    give damaged frames, which the reading asks for (a damaged HEVC video)."""
    from realtime.capture import open_video

    clip = tmp_path / "cut_out.mp4"
    write_face_clip(clip, "libx264", 48, {"g": "24", "keyint_min": "24", "bf": "0"}, left_out=0)  # (the key frame)
    video = open_video(clip)
    frames = list(video)
    video.close()
    assert len(frames) == 24  # (from the second key frame on)
    assert np.abs(frames[0].astype(int) - DemoSource(faces=1, frames=48).frame(24)[0][::2, ::2]).mean() < 8


def test_a_video_damaged_near_its_end_loses_no_later_frame(tmp_path):
    """With a frame thread a core (9 on an 8-core machine), FFmpeg lost the frames after damage within about as many
    frames of the end, unsaid: 84 of 90 frames read with damage 4 frames from the end (89 with OpenCV's reader)."""
    import av

    from realtime.capture import open_video

    clip = tmp_path / "ends_damaged.mp4"
    write_face_clip(clip, "libx264", 90, {"bf": "3"})
    with av.open(str(clip)) as container:
        where = [(packet.pos, packet.size) for packet in container.demux(video=0) if packet.size]
    data = bytearray(clip.read_bytes())
    start, size = where[86]
    data[start + 8:start + size] = np.random.default_rng(86).integers(0, 256, size - 8, dtype=np.uint8).tobytes()
    clip.write_bytes(bytes(data))
    video = open_video(clip)
    frames = sum(1 for _ in video)
    video.close()
    assert frames == 89 and video.damaged == 1


def test_a_full_range_video_keeps_its_grey_levels(tmp_path):
    """VP9 and AV1 mark full-range frames with a flag, not a pixel format: converted as video range, grey 200 read as
    212 (as OpenCV's reader reads it)."""
    import av

    if "libvpx-vp9" not in av.codecs_available:
        pytest.skip("this PyAV has no VP9 encoder")
    from realtime.capture import open_video

    clip = tmp_path / "full_range.webm"
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("libvpx-vp9", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.color_range = 2
        for _ in range(3):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 200, np.uint8), format="bgr24")
            frame = frame.reformat(format="yuv420p", dst_color_range=2)
            frame.color_range = 2
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    video = open_video(clip)
    frames = list(video)
    video.close()
    assert len(frames) == 3 and all(abs(frame.mean() - 200) < 4 for frame in frames)


def test_a_video_of_pixels_that_are_not_square_is_read_at_the_shape_players_show(tmp_path):
    """DV, DVD, HDV and broadcast video store a picture narrower than it is shown (720x576 shown 16:9, 1440x1080
    shown 1920x1080): its sample aspect ratio says how much wider each pixel is. Read as stored, faces were squeezed
    (a 16:9 DVD: 0 of 334 labels as in the same frames unsqueezed) and the recording played squeezed."""
    import av

    from realtime.capture import open_video

    clip, scene = tmp_path / "anamorphic.mp4", DemoSource(faces=1, frames=3)
    frames = [scene.frame(index)[0][::2, ::2] for index in range(3)]  # (320x240)
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 240, 240, "yuv420p"
        stream.codec_context.sample_aspect_ratio = Fraction(4, 3)
        for frame in frames:
            squeezed = cv2.resize(frame, (240, 240), interpolation=cv2.INTER_AREA)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(squeezed, format="bgr24")))
        container.mux(stream.encode())
    video = open_video(clip)
    read = list(video)
    video.close()
    assert video.size == (320, 240) and [frame.shape for frame in read] == [(240, 320, 3)] * 3
    assert all(np.abs(got.astype(int) - frame).mean() < 6 for got, frame in zip(read, frames))


def test_an_interlaced_video_is_read_without_combs(tmp_path):
    """A TV or camcorder recording (1080i, DV) holds two fields a frame, taken a field's time apart, on alternate
    rows. Read as stored, whatever moved was combed, in the boxes (overlap 0.88 with those of the same frames made
    progressive) and the recording, as no player shows it. Here a square moves 8 pixels from field to field."""
    import av

    from realtime.capture import open_video

    def square(x: int) -> np.ndarray:
        image = np.full((240, 320, 3), 60, np.uint8)
        image[80:160, x:x + 80] = 220
        return image

    clip = tmp_path / "interlaced.mp4"
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.codec_context.flags |= av.codec.context.Flags.interlaced_dct | av.codec.context.Flags.interlaced_me
        for index in range(10):
            woven = square(40 + 16 * index)
            woven[1::2] = square(48 + 16 * index)[1::2]  # (the bottom field, a field later)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(woven, format="bgr24")))
        container.mux(stream.encode())
    video = open_video(clip)
    frames = list(video)
    video.close()
    assert len(frames) == 10 and video.time == pytest.approx(9 / 25)
    combs = [np.abs(np.diff(frame[84:156].astype(int), axis=0)).mean() for frame in frames]  # (rows inside the square)
    assert max(combs) < 2, combs  # (combed: 8 columns of 160 grey levels at each edge, 8 a row)
    write_two_sized_clip(clip.with_suffix(".ts"), interlaced=True)  # a frame of another size: a deinterlacer for it
    video = open_video(clip.with_suffix(".ts"))
    frames = list(video)
    video.close()
    assert len(frames) == 48 and np.abs(frames[23].astype(int) - 128).max() < 12 and frames[24][:, 340:, 0].mean() > 200


def test_an_hdr10_video_is_read_at_the_levels_an_sdr_one_has(tmp_path):
    """A phone's HDR10 video (10 bits, PQ: levels by light in nits) was read as if its levels were SDR's: washed out,
    a face at BT.2408's reference white (203 nits, PQ level 148 of 255) grey 148 (120 wild-faces photos: 93 kept the
    labels of the SDR frames, 111 now; the same SDR frames coded as 10-bit HEVC keep 109)."""
    import av

    from realtime.capture import open_video

    clip = tmp_path / "hdr10.mp4"
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p10le"
        context = stream.codec_context
        context.color_trc, context.color_primaries, context.colorspace = 16, 9, 9  # (PQ, BT.2020)
        for level in (148, 0, 130):  # (203 nits, black, 100 nits)
            image = np.full((48, 64, 3), level, np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24").reformat(
                format="yuv420p10le", dst_colorspace=9)))
        container.mux(stream.encode())
    video = open_video(clip)
    white, black, dim = (frame.mean() for frame in video)  # (read as SDR: 148, 0, 130)
    video.close()
    assert white > 240 and black < 2 and 180 < dim < 200  # (100 nits: half of white's light, gamma 2.4: 190)


def test_an_hlg_video_is_read_at_the_levels_an_sdr_one_has(tmp_path):
    """A phone's HLG video (iPhones' default, Dolby Vision 8.4's base: 10 bits, BT.2100's hybrid log-gamma) was read as
    if its levels were SDR's: dark, BT.2408's reference white (75% signal, 203 nits) grey 191. SDR levels 60, 128
    and 200 coded as HLG for a 1000-nit display (as BT.2408 maps SDR into HLG) read as 52, 114 and 165 before."""
    import av

    from realtime.capture import open_video

    def hlg(level):  # an SDR level as HLG: its light on a 203-nit-white display, for a 1000-nit HLG display
        light = (np.power(level / 255, 2.4) * 203 / 1000) ** (1 / 1.2)  # (BT.2100's OOTF undone: gamma 1.2)
        a = 0.17883277
        signal = np.sqrt(3 * light) if light <= 1 / 12 else a * np.log(12 * light - 1 + 4 * a) + 0.5 - a * np.log(4 * a)
        return round(255 * signal)

    clip = tmp_path / "hlg.mp4"
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p10le"
        context = stream.codec_context
        context.color_trc, context.color_primaries, context.colorspace = 18, 9, 9  # (ARIB STD-B67, BT.2020)
        for level in (60, 128, 200, 0):
            image = np.full((48, 64, 3), hlg(level), np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24").reformat(
                format="yuv420p10le", dst_colorspace=9)))
        container.mux(stream.encode())
    video = open_video(clip)
    read = [frame.mean() for frame in video]
    video.close()
    assert np.abs(np.array(read) - (60, 128, 200, 0)).max() <= 4, read  # (58, 128, 198, 0)


@pytest.mark.parametrize("matrix", [9, 1])
def test_a_bt2020_or_bt709_video_keeps_its_colours_and_so_does_its_recording(tmp_path, matrix):
    """8-bit video whose YUV is BT.2020's (an HLG camera's 8-bit H.264, SDR in BT.2020) was turned to RGB with BT.601's
    matrix, as OpenCV's YUV conversion does: green 180 read 198, red's green 60 read 50. BT.709's (HD and phone video)
    too: green 180 read 200. The recording (--output) was made YUV by BT.601's matrix and said nothing of it, which
    players take HD for BT.709's: it now says BT.709, and is so."""
    import av

    from realtime.capture import open_video
    from realtime.output import Annotated, VideoWriter

    image = np.zeros((48, 64, 3), np.uint8)
    colours = [(40, 40, 200), (40, 180, 40), (200, 60, 40), (90, 130, 190)]  # (BGR: red, green, blue, skin)
    for k, colour in enumerate(colours):
        image[k // 2 * 24:k // 2 * 24 + 24, k % 2 * 32:k % 2 * 32 + 32] = colour
    clip = tmp_path / "bt2020.mp4"
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("libx264", rate=24, options={"qp": "0"})  # (lossless)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        context = stream.codec_context
        context.color_trc, context.color_primaries, context.colorspace = 1, matrix, matrix  # (SDR levels)
        container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24").reformat(
            format="yuv420p", dst_colorspace=matrix)))
        container.mux(stream.encode())

    def colours_kept(frame, within=6):
        inside = [frame[k // 2 * 24 + 4:k // 2 * 24 + 20, k % 2 * 32 + 4:k % 2 * 32 + 28] for k in range(4)]
        assert all(np.abs(patch.astype(int) - colour).max() <= within for patch, colour in zip(inside, colours)), \
            [patch.reshape(-1, 3).mean(0).round() for patch in inside]

    video = open_video(clip)
    frame = next(iter(video))
    video.close()
    colours_kept(frame)
    writer = VideoWriter(tmp_path / "recorded.mp4", 24, (64, 48))
    for n in range(3):
        writer.write(Annotated(n, n / 24, frame, []))
    writer.close()
    with av.open(str(tmp_path / "recorded.mp4")) as container:
        played = next(container.decode(video=0))
    assert (played.colorspace, played.color_primaries, played.color_trc, played.color_range) == (1, 1, 1, 1)
    colours_kept(played.to_ndarray(format="bgr24", src_colorspace="ITU709"), 10)  # as a player reads it by what it
    # says (10: the recording's own loss, at crf 23; read by BT.601's matrix, as written before, green 180 is 200)


@pytest.mark.parametrize("damaged", [45, 0])
def test_a_video_damaged_in_the_middle_is_labelled_past_the_damage(tmp_path, tiny_model, damaged):
    """OpenCV fails a read where a file is damaged, then decodes the frames after it: they were dropped unsaid. Damage
    to the first frame ended in a traceback (the count of damage at the file's end was not made yet)."""
    import av

    clip = tmp_path / "damaged.mp4"
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("libx264", rate=30, options={"bframes": "0", "g": "30"})
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        for frame in DemoSource(faces=1, frames=90):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")))
        container.mux(stream.encode())
    with av.open(str(clip)) as container:  # where frame 45 lies in the file
        packet = [packet for packet in container.demux(video=0) if packet.size][damaged]
        start, size = packet.pos, packet.size
    data = bytearray(clip.read_bytes())
    data[start:start + size] = np.random.default_rng(1).integers(0, 256, size, dtype=np.uint8).tobytes()
    clip.write_bytes(bytes(data))
    jsonl = tmp_path / "out.jsonl"
    result = run_module("realtime", "--source", str(clip), "--model", str(tiny_model), "--no-display",
                        "--json", str(jsonl))
    assert result.returncode == 0, result.stderr[-2000:]
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert 80 <= len(records) < 90 or damaged == 0 and len(records) == 60  # (up to the next keyframe: frames refer to it)
    # On to the end, at its time in the file (where the first frames are lost with the first key frame, the first frame
    # given is at 1 s, as a player shows it; it was 0.0, the times of all 1 s early)
    assert records[-1]["time"] == pytest.approx(89 / 30, abs=0.01)
    assert records[0]["time"] == pytest.approx(0.0 if damaged else 1.0, abs=0.01)
    assert f"warning: {clip} is damaged: {90 - len(records)} frame" in result.stderr


def write_grainy_clip(path, frames: int, options: dict | None = None) -> None:
    """A 320x240 H.264 MP4 at 24 FPS with one face, grain added so that each frame takes its bytes (a cut falls inside
    the frames); `options`: the muxer's (`movflags`)."""
    import av

    with av.open(str(path), "w", options=options or {}) as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        grain = np.random.default_rng(0).integers(-30, 30, (240, 320, 3))
        for frame in DemoSource(faces=1, frames=frames):
            frame = np.clip(cv2.resize(frame, (320, 240)) + grain, 0, 255).astype(np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")))
        container.mux(stream.encode())


def test_a_folder_with_a_photo_cut_short_ends_its_run_as_usual(tmp_path, tiny_model):
    """The photos' list of damaged ones shared a name with a video's count of damaged frames, and the closing warning
    took the list for the count: a folder holding a cut-short JPEG ended in a traceback after its results were
    written. It is warned of once, as it is read, and the run ends with its closing line, exit 0."""
    photos = tmp_path / "photos"
    photos.mkdir()
    data = cv2.imencode(".jpg", DemoSource(faces=1).frame(0)[0])[1].tobytes()
    (photos / "a.jpg").write_bytes(data)
    (photos / "b.jpg").write_bytes(data[: len(data) // 3])
    result = run_module("realtime", "--source", str(photos), "--model", str(tiny_model), "--no-display",
                        "--json", str(tmp_path / "faces.jsonl"))
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.stderr.count("warning: b.jpg is damaged or cut short") == 1
    assert result.stderr.splitlines()[-1].startswith("labelled 2 photos:")


def test_a_text_file_or_an_empty_file_given_as_the_source_is_called_what_it_is(tmp_path):
    """`--source notes.txt` said 'cannot read video notes.txt (missing, empty or not a video ...)'."""
    from realtime.capture import SourceError, open_source

    notes, empty, noise = tmp_path / "notes.txt", tmp_path / "empty.mp4", tmp_path / "noise.mp4"
    notes.write_text("first line\n" + "é" * 3000)  # (a character cut by the 4096 bytes looked at)
    empty.write_bytes(b"")
    noise.write_bytes(np.random.default_rng(0).integers(1, 256, 5000, dtype=np.uint8).tobytes())
    said = {}
    for path in (notes, empty, noise):
        with pytest.raises(SourceError) as error:
            open_source(str(path))
        said[path.name] = str(error.value)
    assert said["notes.txt"] == f"cannot read {notes}: it is a text file, not a picture or video"
    assert said["empty.mp4"] == f"cannot read {empty}: the file is empty"
    assert said["noise.mp4"].startswith(f"cannot read video {noise} (missing, empty or not a video")
    for name, content, why in (("empty.jpg", b"", "the file is empty"),
                               ("notes.jpg", b"a note\n", "it is a text file, not a picture or video")):
        (tmp_path / name).write_bytes(content)  # named as a photo: it was only 'cannot read image notes.jpg'
        with pytest.raises(SourceError) as error:
            open_source(str(tmp_path / name))
        assert str(error.value) == f"cannot read image {tmp_path / name} ({why})"
    from realtime.capture import cannot_read

    assert cannot_read(tmp_path) == f"cannot read image {tmp_path} (it is a folder: label its photos one by one, or " \
                                    "the folder with python -m realtime --source)"


def test_a_tiff_of_several_pages_says_only_its_first_is_labelled(tmp_path, capsys):
    """A scan of several pages was read as its first page without a word."""
    from PIL import Image

    from realtime.capture import ImageSource
    from realtime.scene import DemoSource

    pages = [Image.fromarray(np.ascontiguousarray(DemoSource(faces=1).frame(i)[0][:, :, ::-1])) for i in range(3)]
    pages[0].save(tmp_path / "scan.tiff", save_all=True, append_images=pages[1:])
    pages[0].save(tmp_path / "one.tiff")
    frames = list(ImageSource(tmp_path))
    assert len(frames) == 2
    notes = [line for line in capsys.readouterr().err.splitlines() if line]
    assert notes == ["note: scan.tiff holds 3 pages: only the first is labelled"]


def test_a_cut_copy_of_a_video_says_it_is_cut_short(tmp_path, tiny_model):
    """A copy cut short of an MP4 that keeps its index at its end (as cameras and phones write them) has no frame that
    can be found: it was 'missing, empty or not a video this program can decode', for a file that is there and is a
    video. A cut copy of a fragmented MP4 (the program's own recordings) ends inside a frame: it said '1 frame could
    not be decoded ... the frames after it were labelled', of frames there are none of."""
    import av

    whole = tmp_path / "camera.mp4"
    write_grainy_clip(whole, frames=48)  # (the index at the end: FFmpeg's default)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    common = ["--model", str(tiny_model), "--no-display", "--json", str(tmp_path / "out.jsonl")]
    result = run_module("realtime", "--source", str(cut), *common)
    assert_one_line_error(result, f"cannot read video {cut}: it is cut short before its index (the `moov` box")
    recorded = tmp_path / "recorded.mp4"
    result = run_module("realtime", "--source", str(whole), "--model", str(tiny_model), "--no-display",
                        "--output", str(recorded))
    assert result.returncode == 0, result.stderr[-2000:]
    data = recorded.read_bytes()
    with av.open(str(recorded)) as container:  # cut inside the 30th frame's bytes
        packet = [packet for packet in container.demux(video=0) if packet.size][30]
    cut.write_bytes(data[: packet.pos + packet.size // 2])
    result = run_module("realtime", "--source", str(cut), *common)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"warning: {cut} is cut short inside its last frame (1 could not be decoded" in result.stderr
    assert "the frames after it were labelled" not in result.stderr
    assert 26 <= (tmp_path / "out.jsonl").read_text().count("\n") <= 30  # (B-frames: decoded in another order)


def test_a_cut_copy_of_a_matroska_video_says_it_is_cut_short_and_one_whose_sound_runs_on_does_not(tmp_path):
    """Matroska and WebM streams give no length of their own, so a copy cut short (an interrupted download) was labelled
    as far as it went, unsaid. Its Segment's size, in its header, says how long the file is; the container's length,
    which may be its sound's, is then the length it is short of. A file whose sound outlasts its picture is whole."""
    import av

    from realtime.capture import open_video

    whole, cut, longer_sound = tmp_path / "whole.mkv", tmp_path / "cut.mkv", tmp_path / "sound.mkv"
    write_grainy_clip(whole, frames=144)  # 6 s
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 4 // 10])
    with av.open(str(longer_sound), "w") as container:  # 1 s of picture, 6 s of sound
        picture, sound = container.add_stream("libx264", rate=24), container.add_stream("aac", rate=48000)
        picture.width, picture.height, picture.pix_fmt = 320, 240, "yuv420p"
        for n, frame in enumerate(DemoSource(faces=1, frames=24)):
            container.mux(picture.encode(av.VideoFrame.from_ndarray(frame[:240, :320].copy(), format="bgr24")))
        container.mux(picture.encode())
        for n in range(6 * 48000 // 1024):
            samples = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            samples.sample_rate, samples.pts = 48000, n * 1024
            container.mux(sound.encode(samples))
        container.mux(sound.encode())
    from realtime.capture import matroska_cut_short

    header = whole.read_bytes()[:64]
    at = header.index(b"\x18\x53\x80\x67") + 4  # the Segment's size
    assert matroska_cut_short(cut) and not matroska_cut_short(whole)
    (tmp_path / "header.mkv").write_bytes(header[:at + 1])  # cut inside the size itself: no size read, not said cut
    assert not matroska_cut_short(tmp_path / "header.mkv")
    for path, said in ((whole, None), (cut, "of its 6.0 s"), (longer_sound, None)):
        video = open_video(path)
        frames = sum(1 for _ in video)
        video.close()
        assert (video.cut_short is None) if said is None else said in video.cut_short, (path.name, video.cut_short)
        assert frames == {"whole.mkv": 144, "sound.mkv": 24}.get(path.name, frames)


def test_file_names_that_are_not_utf8_are_read_and_written(tmp_path, tiny_model):
    """A name in Latin-1 (from an old zip or a Windows share) crashed OpenCV: a segmentation fault, no results."""
    latin1 = os.fsdecode(b"caf\xe9")  # (Python holds the byte that is not UTF-8 as a lone surrogate)
    photos = tmp_path / "photos"
    photos.mkdir()
    frame = next(iter(DemoSource(faces=1, frames=1)))
    try:
        cv2.imwrite(str(photos / "plain.jpg"), frame)
        (photos / f"{latin1}.jpg").write_bytes((photos / "plain.jpg").read_bytes())
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system takes only UTF-8 names")
    write_clip(tmp_path / "clip.mp4", faces=1, frames=6)
    (tmp_path / "clip.mp4").rename(tmp_path / f"{latin1}.mp4")
    runs = [(photos, ["--output", str(tmp_path / "labelled") + "/", "--csv", str(tmp_path / "out.csv")]),
            (photos / f"{latin1}.jpg", ["--output", str(tmp_path / f"{latin1}.png")]),
            (tmp_path / f"{latin1}.mp4", ["--output", str(tmp_path / f"{latin1} out.mp4")])]
    for source, outputs in runs:
        jsonl = tmp_path / "out.jsonl"
        result = run_module("realtime", "--source", str(source), "--model", str(tiny_model), "--no-display",
                            "--json", str(jsonl), *outputs)
        assert result.returncode == 0, (source, result.returncode, result.stderr[-2000:])
        records = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
        assert records and all(record["faces"] for record in records[-1:])
    photo_records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(photo_records) == 6  # the video's frames
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as handle:
        assert sorted(row["image"] for row in csv.DictReader(handle)) == ["caf\\xe9.jpg", "plain.jpg"]  # the byte as \xe9
    assert sorted(os.listdir(tmp_path / "labelled")) == sorted([f"{latin1}.jpg", "plain.jpg"])  # the names kept
    assert cv2.imdecode(np.fromfile(tmp_path / f"{latin1}.png", np.uint8), cv2.IMREAD_COLOR).shape == frame.shape
    assert (tmp_path / f"{latin1} out.mp4").stat().st_size > 0


@pytest.mark.parametrize("kind", ["gif", "webp", "png"])
def test_an_animated_picture_is_labelled_frame_by_frame_as_a_video(tmp_path, tiny_model, kind):
    """A GIF, WebP or PNG (APNG) of several frames given to --source is a short video (a reaction GIF, a sticker);
    a still one is a photo. (An animated WebP or APNG was labelled as its first frame: FFmpeg reads no more of it.)"""
    frames = [Image.fromarray(frame[:, :, ::-1]) for frame in DemoSource(faces=2, frames=8)]
    durations = [80, 80, 80, 80, 160, 160, 160, 160]  # the last frame starts at 0.8 s
    frames[0].save(tmp_path / f"moving.{kind}", save_all=True, append_images=frames[1:], duration=durations, loop=0)
    frames[0].save(tmp_path / f"still.{kind}")
    for name, count in ((f"moving.{kind}", 8), (f"still.{kind}", 1)):
        jsonl = tmp_path / f"{name}.jsonl"
        result = run_module("realtime", "--source", str(tmp_path / name), "--model", str(tiny_model), "--no-display",
                            "--json", str(jsonl))
        assert result.returncode == 0, result.stderr[-2000:]
        records = [json.loads(line) for line in jsonl.read_text().splitlines()]
        assert [r["frame"] for r in records] == list(range(count))
        assert len(records[-1]["faces"]) == 2
    assert records[0]["image"] == f"still.{kind}"  # a photo's record names it
    moving = [json.loads(line) for line in (tmp_path / f"moving.{kind}.jsonl").read_text().splitlines()]
    assert "image" not in moving[0] and moving[-1]["time"] == pytest.approx(0.8, abs=0.02)  # the file's own pace
    if kind != "gif":  # its rate, for a recording at a constant one (.avi): the mean of its frames' durations (it
        from realtime.capture import animated  # was the first one's, or for WebP always 100 ms)

        assert animated(tmp_path / f"moving.{kind}").fps == pytest.approx(1000 / 120)


def test_a_slide_show_gif_shows_each_frame_s_face_in_that_frame(tmp_path, tiny_model):
    """A GIF of a frame a second, each of another scene (every frame a shot cut): a face needed 3 frames in a row to be
    shown, so none ever was. The tracker's frame counts are for 30 fps, and now last as long at the file's rate."""
    from realtime.scene import background, paste_face

    slides = []
    for index in range(5):
        slide = background(480, 360, seed=10 + index)
        paste_face(slide, 120 + 15 * index, (140 + 50 * index, 190), flip=bool(index % 2))
        slides.append(Image.fromarray(np.ascontiguousarray(slide[:, :, ::-1])))
    slides[0].save(tmp_path / "slides.gif", save_all=True, append_images=slides[1:], duration=1000, loop=0)
    jsonl = tmp_path / "slides.jsonl"
    result = run_module("realtime", "--source", str(tmp_path / "slides.gif"), "--model", str(tiny_model),
                        "--no-display", "--json", str(jsonl))
    assert result.returncode == 0, result.stderr[-2000:]
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [len(record["faces"]) for record in records] == [1] * 5


@pytest.fixture
def web_folder(tmp_path):
    """A folder served over HTTP on this machine (its URL, its path); /camera.mjpg is an endless MJPEG stream."""
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    folder = tmp_path / "served"
    folder.mkdir()
    part = cv2.imencode(".jpg", DemoSource(faces=1).frame(0)[0])[1].tobytes()

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, *args):  # no request lines on the test's output
            pass

        def do_GET(self):
            if self.path == "/" or self.path.startswith("/?"):  # a camera's snapshot URL
                return self.answer(part)
            if self.path == "/drip.jpg":  # a slow server: a byte every 0.2 s
                return self.answer(part, pause=0.2)
            if self.path != "/camera.mjpg":
                return super().do_GET()
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
            self.end_headers()
            with contextlib.suppress(OSError):  # the client hangs up
                for _ in range(100):
                    self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\n\r\n" + part + b"\r\n")
                    time.sleep(0.1)

        def answer(self, body: bytes, pause: float = 0.0):
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the client hangs up
                for start in range(0, len(body), 1 if pause else len(body)):
                    self.wfile.write(body[start:start + (1 if pause else len(body))])
                    self.wfile.flush()
                    time.sleep(pause)

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
    server.daemon_threads = True
    server.handle_error = lambda *args: None  # a client that hangs up early (as the program does) is no news
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", folder
    server.shutdown()
    server.server_close()


def test_an_image_url_is_labelled_as_the_photo_it_is(web_folder, tmp_path, tiny_model):
    """An http(s) URL of an image is fetched and labelled by the photo path, exactly as the file would be; a video,
    an animated GIF or a camera's stream at a URL is opened as a stream; a URL with nothing there is a one-line error."""
    from realtime import capture

    url, folder = web_folder
    cv2.imwrite(str(folder / "two faces.jpg"), DemoSource(faces=2).frame(5)[0])
    outputs = {}
    for name, source in (("url", f"{url}/two%20faces.jpg"), ("file", str(folder / "two faces.jpg"))):
        outputs[name] = tmp_path / f"{name}.jsonl"
        result = run_module("realtime", "--source", source, "--model", str(tiny_model), "--no-display",
                            "--json", str(outputs[name]))
        assert result.returncode == 0, result.stderr[-2000:]
    records = [json.loads(line) for line in outputs["url"].read_text().splitlines()]
    assert records[0]["image"] == "two faces.jpg" and len(records[0]["faces"]) == 2
    assert outputs["url"].read_text() == outputs["file"].read_text()  # the photo path: its views, its tracker
    from realtime.photos import PhotoLabeller

    with PhotoLabeller(tiny_model) as labeller:  # from Python too
        assert labeller.label(f"{url}/two%20faces.jpg") == labeller.label(str(folder / "two faces.jpg"))
        assert len(labeller.label(f"{url}/two%20faces.jpg")) == 2
        with pytest.raises(capture.SourceError, match="source not found: .*404"):
            labeller.label(f"{url}/missing.jpg")

    photo = capture.open_source(f"{url}/two%20faces.jpg")
    fetched = photo.fetched.name
    assert isinstance(photo, capture.ImageSource) and photo.description == f"{url}/two%20faces.jpg"
    assert os.path.isdir(fetched)
    photo.close()
    assert not os.path.exists(fetched)  # the fetched copy is gone once the source is closed

    frames = [Image.fromarray(frame[:, :, ::-1]) for frame in DemoSource(faces=1, frames=5)]
    frames[0].save(folder / "moving.gif", save_all=True, append_images=frames[1:], duration=80, loop=0)
    write_clip(folder / "clip.mp4", faces=1, frames=6)
    for name, count, kind in (("moving.gif", 5, capture.VideoSource), ("clip.mp4", 6, capture.DecodedVideoSource)):
        video = capture.open_source(f"{url}/{name}")  # (a video file over HTTP: decoded by PyAV, as a local one is)
        assert isinstance(video, kind) and video.frame_count == count
        assert len(list(video)) == count and (video.path is None) == (name == "clip.mp4")  # (no sound to carry)
        video.close()

    import av

    grain = np.random.default_rng(0).integers(-20, 20, (480, 640, 3))  # (800 KB: more than FFmpeg keeps to seek in)
    with av.open(str(folder / "index_at_end.mp4"), "w") as container:  # as most encoders write an MP4
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        for frame in DemoSource(faces=1, frames=30):
            grainy = np.clip(frame + grain, 0, 255).astype(np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(grainy, format="bgr24")))
        container.mux(stream.encode())
    with pytest.raises(capture.SourceError, match="index is at its end needs a server that sends parts of files"):
        capture.open_source(f"{url}/index_at_end.mp4")  # (the test's server, as Python's http.server, sends no parts)

    started = time.perf_counter()
    assert capture.fetch_image(f"{url}/camera.mjpg") is None  # a camera's endless stream is not waited out
    assert time.perf_counter() - started < 5
    (folder / "notes.txt").write_text("not an image")
    assert capture.fetch_image(f"{url}/notes.txt") is None
    result = run_module("realtime", "--source", f"{url}/missing.jpg", "--model", str(tiny_model), "--no-display")
    assert_one_line_error(result, f"source not found: {url}/missing.jpg (the server answered 404")


def test_messages_name_the_source_as_given_and_the_photo_that_would_be_overwritten(tmp_path):
    """Three messages found misleading while trying sources and outputs: `none of the 2 images in 2 images can be
    read` (a list of images), `source not found: file:/x.jpg` (Path() had eaten a slash of `file:///x.jpg`), and an
    --output folder inside the source folder refused for overwriting the photo being annotated, not the one in the
    way."""
    from realtime import capture
    from realtime.output import OutputError, PhotoFolderWriter

    for name in ("a.jpg", "b.png"):
        (tmp_path / name).write_bytes(b"not an image")
    with pytest.raises(capture.SourceError, match=r"^none of the 2 images can be read$"):
        capture.ImageSource([tmp_path / "a.jpg", tmp_path / "b.png"])
    with pytest.raises(capture.SourceError, match=f"^none of the 2 images in {tmp_path} can be read$"):
        capture.ImageSource(tmp_path)
    with pytest.raises(capture.SourceError, match=r"source not found: file:///no/such\.jpg \(give the file's path"):
        capture.open_source("file:///no/such.jpg")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.jpg").write_bytes(b"a photo of the source folder, in the way")
    with pytest.raises(OutputError, match=f"would overwrite the photo {tmp_path / 'sub' / 'a.jpg'};"):
        PhotoFolderWriter(tmp_path / "sub", [(tmp_path / "a.jpg", "a.jpg"), (tmp_path / "sub" / "a.jpg", "sub/a.jpg")])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_as_source_or_in_a_folder_is_refused_instead_of_waited_on(tmp_path):
    """A named pipe given to --source, or among a folder's photos (`x.jpg`), made the program wait for a writer for
    ever, in a C call where neither Ctrl-C nor SIGTERM reached it (even with a writer, a file is opened more than
    once, and the second open waited); found trying odd --source forms."""
    os.mkfifo(tmp_path / "pipe")
    result = run_module("realtime", "--source", str(tmp_path / "pipe"), "--no-display", "--json", os.devnull,
                        timeout=60)
    assert_one_line_error(result, f"cannot read {tmp_path / 'pipe'}: a named pipe")
    assert result.returncode == 2
    photos = tmp_path / "photos"
    photos.mkdir()
    cv2.imwrite(str(photos / "a.png"), DemoSource(faces=1, frames=1).frame(0)[0])
    os.mkfifo(photos / "b.jpg")
    result = run_module("realtime", "--source", str(photos), "--no-display", "--json", str(tmp_path / "faces.jsonl"),
                        timeout=120)
    assert_one_line_error(result, "1 of 2 images could not be read")
    assert result.returncode == 1 and "warning: skipped b.jpg" in result.stderr
    records = [json.loads(line) for line in (tmp_path / "faces.jsonl").read_text().splitlines()]
    assert [(r["image"], "error" in r) for r in records] == [("a.png", False), ("b.jpg", True)]


@pytest.mark.parametrize("url", ["http://[::1/photo.jpg", "https://[camera]/snapshot.jpg", "rtsp://admin:pw@[::1/live"])
def test_a_url_with_a_broken_host_is_a_one_line_error(url):
    """An unclosed bracket or a bracketed host that is no IPv6 address: Python's URL parser raised ValueError, a
    traceback (found trying odd --source forms)."""
    result = run_module("realtime", "--source", url, "--no-display", "--json", os.devnull)
    assert_one_line_error(result, "bad URL")
    assert result.returncode == 2 and "pw" not in result.stderr  # (the password shown as ***)


def test_a_url_too_big_for_an_image_is_opened_as_a_stream(web_folder, monkeypatch):
    from realtime import capture

    url, folder = web_folder
    cv2.imwrite(str(folder / "big.png"), np.random.default_rng(0).integers(0, 255, (600, 800, 3), dtype=np.uint8))
    assert capture.fetch_image(f"{url}/big.png") is not None
    monkeypatch.setattr(capture, "IMAGE_URL_LIMITS", (100_000, 30.0))
    assert capture.fetch_image(f"{url}/big.png") is None


def test_a_snapshot_url_ending_in_a_slash_and_a_slow_server(web_folder, monkeypatch, tiny_model):
    """A camera's snapshot URL (`/?action=snapshot`, `/`) is an image with no file name (was: a traceback writing it
    onto the temporary folder); an image that comes a byte at a time is timed (was: waited for whole, hours), and
    Ctrl-C stops the wait."""
    from realtime import capture, stop
    from realtime.photos import PhotoLabeller

    url, _ = web_folder
    for snapshot in (f"{url}/?action=snapshot", f"{url}/", url):
        source = capture.open_source(snapshot)
        assert isinstance(source, capture.ImageSource) and source.files[0][1] == "image"
        source.close()
    with PhotoLabeller(tiny_model) as labeller:
        assert len(labeller.label(f"{url}/?action=snapshot")) == 1
    monkeypatch.setattr(capture, "IMAGE_URL_LIMITS", (256 * 2**20, 1.0))
    started = time.perf_counter()
    assert capture.fetch_image(f"{url}/drip.jpg") is None  # then opened as a stream, as an endless one is
    assert time.perf_counter() - started < 3
    monkeypatch.setattr(stop, "requested", True)
    monkeypatch.setattr(capture, "IMAGE_URL_LIMITS", (256 * 2**20, 30.0))
    started = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        capture.fetch_image(f"{url}/drip.jpg")
    assert time.perf_counter() - started < 3


def one_client_server(body: bytes, kind: str):
    """An HTTP server that answers its first connection only and then stops listening, as `ffmpeg ... -listen 1
    http://...` does; returns its port and the list of connections it took."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    taken = []

    def serve():
        connection, _ = listener.accept()
        taken.append(connection)
        listener.close()  # no one else
        with connection, contextlib.suppress(OSError):
            connection.recv(4096)
            connection.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nConnection: close\r\n\r\n".encode())
            for start in range(0, len(body), 1 << 16):
                connection.sendall(body[start:start + (1 << 16)])
                time.sleep(0.01)

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1], taken


def test_a_stream_from_a_server_for_one_client_is_read(tmp_path):
    """`ffmpeg -re -i clip.mp4 -c copy -f mpegts -listen 1 http://127.0.0.1:8090/live.ts` serves one connection. The
    question whether the URL was an image took it, and the stream then could not be opened ('unreachable')."""
    import av

    from realtime import capture

    clip = tmp_path / "live.ts"
    with av.open(str(clip), "w", format="mpegts") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        for frame in DemoSource(faces=1, frames=24):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")))
        container.mux(stream.encode())
    port, taken = one_client_server(clip.read_bytes(), "video/mp2t")
    source = capture.open_source(f"http://127.0.0.1:{port}/live.ts")
    try:
        frames = list(itertools.islice(source, 3))
    finally:
        source.close()
    assert frames and frames[0].shape == (480, 640, 3)


def test_a_video_file_over_http_is_decoded_as_a_local_one_is(web_folder):
    """An AV1 video at a URL (as many web videos are) was 'cannot read video': OpenCV's reader, which read video files
    over HTTP, decodes no AV1. It is now read by PyAV, as the same file on disk is."""
    from realtime import capture

    url, folder = web_folder
    write_av1_clip(folder / "clip.webm", faces=1, frames=10)
    video = capture.open_source(f"{url}/clip.webm")
    try:
        frames = list(video)
    finally:
        video.close()
    local = capture.open_source(str(folder / "clip.webm"))
    try:
        assert len(frames) == 10 and all(np.array_equal(a, b) for a, b in zip(frames, local))
    finally:
        local.close()
    assert video.description == f"{url}/clip.webm" and not video.live and video.cut_short is None


def test_a_video_file_of_unknown_length_over_http_is_read_whole_as_a_file(web_folder):
    """A Matroska recording cut short by a hard kill has no length written in it. Served over HTTP it was read as a
    live stream: frames dropped to keep up, and its end 'the stream stopped delivering frames', exit 1. The server gives
    its size, which a live stream has not: it is read as the same file on disk is."""
    import av

    from realtime import capture

    url, folder = web_folder
    with av.open(str(folder / "killed.mkv"), "w", format="matroska", options={"live": "1"}) as container:  # (no length)
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for frame in DemoSource(faces=1, frames=30):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(cv2.resize(frame, (320, 240)), format="bgr24")))
        container.mux(stream.encode())
    video = capture.open_source(f"{url}/killed.mkv")
    try:
        assert not video.live
        frames = list(video)
    finally:
        video.close()
    assert len(frames) == 30
    live = capture.open_source(f"{url}/camera.mjpg")  # (no size: live, as before)
    try:
        assert live.live
    finally:
        live.close()


def test_a_recording_of_a_video_file_at_a_url_carries_its_sound(web_folder, tmp_path, tiny_model):
    """A video file at a URL was recorded without its sound (only a local file's was carried)."""
    from tests.test_outputs import sound_of, write_clip_with_sound

    url, folder = web_folder
    write_clip_with_sound(folder / "talk.mkv", seconds=2.0)
    out = tmp_path / "out.mp4"
    result = run_module("realtime", "--source", f"{url}/talk.mkv", "--model", str(tiny_model), "--no-display",
                        "--output", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    assert sound_of(out)[0] == "aac" and sound_of(out)[1] == pytest.approx(2.0, abs=0.1)


def test_a_live_stream_that_changes_frame_size_goes_on_with_the_new_frames():
    """A phone streaming MJPEG as a webcam, turned: 640x480 frames, then 480x640 ones. OpenCV's reader could not scale
    those into its first size and gave the last landscape frame over and over: the picture and its labels froze."""
    from realtime import capture

    landscape = cv2.resize(DemoSource(faces=1).frame(0)[0], (160, 120))
    portrait = cv2.rotate(landscape, cv2.ROTATE_90_CLOCKWISE)
    body = b""
    for picture in [landscape] * 10 + [portrait] * 10 + [landscape] * 10:
        jpeg = cv2.imencode(".jpg", picture)[1].tobytes()
        body += b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n%s\r\n" % (len(jpeg), jpeg)
    port, _ = one_client_server(body, "multipart/x-mixed-replace; boundary=frame")
    source = capture.open_source(f"http://127.0.0.1:{port}/video.mjpg")
    try:
        frames = list(source)
    finally:
        source.close()
    assert source.size == (160, 120) and source.live
    turned = [frame for frame in frames if frame.shape == portrait.shape]
    assert turned and frames[-1].shape == landscape.shape
    assert all(np.abs(frame.astype(int) - portrait).mean() < 8 for frame in turned)  # the portrait picture itself


def test_a_stream_server_that_never_answers_is_given_up_on_once():
    """A server that takes the connection and sends nothing: PyAV's reader gives up after 5 s, and OpenCV's is not
    asked to wait as long again."""
    from realtime import capture

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    held = []
    threading.Thread(target=lambda: held.append(listener.accept()), daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/live.ts"
    started = time.perf_counter()
    try:
        with pytest.raises(capture.SourceError, match=r"cannot open stream .*live\.ts \(no answer within 5 s\)"):
            capture.open_source(url)
    finally:
        listener.close()
    assert time.perf_counter() - started < 5 * 2 + 4  # PyAV's 5 s, then the question whether it is an image


def test_a_video_cut_short_or_whose_download_breaks_off_is_said_to_be(tmp_path, tiny_model):
    """A video file that ends well before the length its header gives (an interrupted copy), or one over HTTP whose
    connection is lost partway, ended the run as if it were whole: exit 0, nothing said (over HTTP) or '1 frame
    could not be decoded ... the frames after it were labelled' (a file)."""
    import av

    whole = tmp_path / "whole.mp4"
    write_grainy_clip(whole, frames=144, options={"movflags": "+faststart"})  # (its index first, as on the web)
    data = whole.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    common = ["--model", str(tiny_model), "--no-display", "--json", str(tmp_path / "out.jsonl")]
    result = run_module("realtime", "--source", str(whole), *common)
    assert result.returncode == 0 and "warning" not in result.stderr, result.stderr[-2000:]
    result = run_module("realtime", "--source", str(cut), *common)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"warning: {cut} ends after " in result.stderr and "s of its 6.0 s: the file is cut short" in result.stderr
    assert "damaged" not in result.stderr
    port, _ = one_client_server(data[: len(data) // 2], "video/mp4")
    url = f"http://127.0.0.1:{port}/clip.mp4"
    result = run_module("realtime", "--source", url, *common)
    assert_one_line_error(result, f"the video {url} ended after ")
    assert result.returncode == 1 and "the connection was lost" in result.stderr
    assert 0 < (tmp_path / "out.jsonl").read_text().count("\n") < 144
    # Whole files whose container says more than their video holds are not cut short: a WebM whose sound runs 5 s
    # past its 1 s of video (the container's length, times the rate, was taken for the video's), and a 300-fps clip
    # (its rate, over the 240 the program plays at, was taken as 30: '6.0 s of its 60.0 s').
    longer_sound, fast = tmp_path / "longer_sound.webm", tmp_path / "fast.mp4"
    with av.open(str(longer_sound), "w") as container:
        video, sound = container.add_stream("libvpx", rate=24), container.add_stream("libopus", rate=48000)
        video.width, video.height, video.pix_fmt = 160, 120, "yuv420p"
        for frame in DemoSource(faces=1, frames=24):
            container.mux(video.encode(av.VideoFrame.from_ndarray(cv2.resize(frame, (160, 120)), format="bgr24")))
        container.mux(video.encode())
        for start in range(0, 6 * 48000, 960):
            chunk = av.AudioFrame.from_ndarray(np.zeros((1, 960), np.float32), format="flt", layout="mono")
            chunk.sample_rate, chunk.pts = 48000, start
            container.mux(sound.encode(chunk))
        container.mux(sound.encode())
    with av.open(str(fast), "w") as container:
        video = container.add_stream("libx264", rate=300)
        video.width, video.height, video.pix_fmt = 160, 120, "yuv420p"
        for frame in DemoSource(faces=1, frames=600):
            container.mux(video.encode(av.VideoFrame.from_ndarray(cv2.resize(frame, (160, 120)), format="bgr24")))
        container.mux(video.encode())
    for whole in (longer_sound, fast):
        result = run_module("realtime", "--source", str(whole), *common)
        assert result.returncode == 0 and "warning" not in result.stderr, result.stderr[-2000:]


@pytest.mark.parametrize("scheme", ["http", "rtsp"])
def test_ctrl_c_while_a_server_keeps_the_program_waiting_is_an_interruption(monkeypatch, scheme):
    """Ctrl-C while a server that never answers was asked (5 s for the image question, 5 s more for FFmpeg) ended in
    'error: cannot open stream ...' (exit 2), as if the server had been the trouble."""
    from realtime import capture, stop

    monkeypatch.setattr(capture, "STREAM_TIMEOUT_MS", 1500)
    monkeypatch.setattr(stop, "requested", False)
    with socket.socket() as silent:  # takes connections (the system does), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        for path in ("camera", "live.ts"):  # (a stream's name: FFmpeg asks the server first)
            url = f"{scheme}://127.0.0.1:{silent.getsockname()[1]}/{path}"
            with pytest.raises(capture.SourceError, match="cannot open stream"):
                capture.open_source(url)
            ctrl_c = threading.Timer(0.3, setattr, (stop, "requested", True))  # (as the first Ctrl-C leaves it)
            ctrl_c.start()
            try:
                with pytest.raises(KeyboardInterrupt):
                    capture.open_source(url)
            finally:
                ctrl_c.cancel()
                stop.requested = False


@pytest.fixture
def guarded_server(tmp_path):
    """A server whose /private/ needs the user `me` with the password `p@ss word` (Basic), and /broken/ answers 500."""
    import base64
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    folder = tmp_path / "guarded"
    (folder / "private").mkdir(parents=True)
    cv2.imwrite(str(folder / "private" / "face.jpg"), DemoSource(faces=1).frame(0)[0])
    expected = "Basic " + base64.b64encode(b"me:p@ss word").decode()

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.path.startswith("/broken/"):
                return self.send_error(500)
            if self.path.startswith("/private/") and self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="camera"')
                self.send_header("Content-Length", "0")
                return self.end_headers()
            return super().do_GET()

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
    server.daemon_threads = True
    server.handle_error = lambda *args: None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_an_image_url_with_a_password_and_a_server_that_refuses(guarded_server, tiny_model):
    """A camera's snapshot URL with its user and password (`http://user:password@camera/snapshot.jpg`) is the photo it
    is (was: Python's client refused such a URL, and it was read as a one-frame stream, by the video model); a 401,
    403 or 500 is said as such (was: 'unreachable, or not a video OpenCV can decode'); the password is shown as ***
    (it was repeated in every message)."""
    from realtime import capture
    from realtime.photos import PhotoLabeller

    port = guarded_server
    photo = capture.open_source(f"http://me:p%40ss%20word@127.0.0.1:{port}/private/face.jpg")
    assert isinstance(photo, capture.ImageSource) and photo.files[0][1] == "face.jpg"
    photo.close()
    with PhotoLabeller(tiny_model) as labeller:
        assert len(labeller.label(f"http://me:p%40ss%20word@127.0.0.1:{port}/private/face.jpg")) == 1
        with pytest.raises(capture.SourceError, match="401 Unauthorized"):
            labeller.label(f"http://127.0.0.1:{port}/private/face.jpg")
    for url, said in ((f"http://127.0.0.1:{port}/private/face.jpg", "401 Unauthorized; give the user name and password"),
                      (f"http://me:wrong@127.0.0.1:{port}/private/face.jpg", "401 Unauthorized; the user name or "
                                                                             "password in the URL was refused"),
                      (f"http://127.0.0.1:{port}/private/live.ts", "401 Unauthorized"),
                      (f"http://127.0.0.1:{port}/broken/face.jpg", "500 Internal Server Error")):
        result = run_module("realtime", "--source", url, "--model", str(tiny_model), "--no-display")
        assert_one_line_error(result, f"cannot open stream {url.replace(':wrong@', ':***@')} (the server answered {said}")
    # A password is never shown (messages end up in logs and screenshots): a camera's stream that cannot be reached
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    free = closed.getsockname()[1]
    closed.close()
    for url in (f"rtsp://admin:s3cr@t@127.0.0.1:{free}/live", f"http://me:s3cr@t@127.0.0.1:{port}/private/face.jpg"):
        result = run_module("realtime", "--source", url, "--model", str(tiny_model), "--no-display")
        assert result.returncode == 2 and "s3cr" not in result.stderr and ":***@127.0.0.1" in result.stderr


def test_photos_labelled_side_by_side_come_out_as_one_at_a_time(tmp_path, tiny_model):
    """--workers: each worker its own detector and model; the results are the same, in the same order."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for i, faces in enumerate([2, 0, 1, 3, 1, 0, 2]):  # so that a photo's answer given to another would show
        cv2.imwrite(str(photos / f"{i}.jpg"), DemoSource(faces=faces).frame(i * 7)[0])
    from realtime.scene import background, paste_face

    for i, width in ((7, 300), (8, 90)):  # a small face where the photo before had a large one: one at a time it
        photo = background(640, 480, seed=i)  # was taken for a part of that face, and dropped
        paste_face(photo, width, (320, 240))
        cv2.imwrite(str(photos / f"{i}.jpg"), photo)
    records = {}
    for workers in ("1", "3"):
        jsonl = tmp_path / f"{workers}.jsonl"
        result = run_module("realtime", "--source", str(photos), "--model", str(tiny_model), "--no-display",
                            "--json", str(jsonl), "--workers", workers, "--benchmark")
        assert result.returncode == 0, result.stderr[-2000:]
        assert ("3 photos at a time" in result.stdout) == (workers == "3")
        assert "benchmark: 8 photos measured (first photo excluded as warm-up), 9 faces (1.12 per photo)" in \
            result.stdout  # (it counted the photos as frames)
        # 9 photos on 3 workers: too few for a rate (2 on 2 workers gave 175 FPS, the photos finishing together)
        assert ("end-to-end: not measured: 3 photos at a time need 21 photos" in result.stdout) == (workers == "3")
        assert (" FPS" in result.stdout) == (workers == "1")
        rows = [line.split()[0] for line in result.stdout.splitlines() if line.startswith(" ")]
        # side by side, the stage times overlap and add up to no total; the loop's wait is no reading time
        assert rows == (["stage", "capture", "detect", "align", "classify", "draw", "write", "total"] if workers == "1"
                        else ["stage", "wait", "detect", "align", "classify", "draw", "write"])
        records[workers] = jsonl.read_text()
    assert records["1"] == records["3"]
    found = [[face["id"] for face in json.loads(line)["faces"]] for line in records["3"].splitlines()]
    assert [len(ids) for ids in found] == [2, 0, 1, 3, 1, 0, 2, 1, 1]
    assert all(sorted(ids) == list(range(1, len(ids) + 1)) for ids in found)  # each photo's faces numbered from 1
    write_clip(tmp_path / "clip.mp4", faces=1, frames=3)
    result = run_module("realtime", "--source", str(tmp_path / "clip.mp4"), "--model", str(tiny_model),
                        "--no-display", "--json", str(tmp_path / "v.jsonl"), "--workers", "2")
    assert_one_line_error(result, "--workers 2: only photos")


def test_labelling_ahead_keeps_the_order_and_stops_when_the_loop_does():
    """The photos are handed out to free pipelines and may finish out of turn; they come back in turn. When the
    loop stops early, photos not begun are dropped: at most twice as many as there are pipelines were read ahead."""
    from realtime.loop import labelled_ahead

    class Source:
        name = None

        def __iter__(self):
            for i in range(40):
                self.name = f"{i}.jpg"
                yield np.full((2, 2, 3), i, np.uint8)

    class Slow:
        def __init__(self):
            self.seen = []

        def process(self, frame):
            i = int(frame[0, 0, 0])
            time.sleep(0.02 if i % 3 == 0 else 0.001)  # every third photo is slow
            self.seen.append(i)
            return i

    pipelines = [Slow(), Slow()]
    ahead = labelled_ahead(Source(), pipelines)
    got = [next(ahead) for _ in range(10)]
    assert [(name, result, skipped) for _, name, result, skipped in got] == [(f"{i}.jpg", i, 0) for i in range(10)]
    assert all(int(frame[0, 0, 0]) == result for frame, _, result, _ in got)
    assert all(pipeline.seen for pipeline in pipelines)  # both took photos
    ahead.close()
    done = sorted(pipelines[0].seen + pipelines[1].seen)
    assert done == list(range(len(done))) and len(done) <= 10 + 2 * 2 + 1


def test_faces_are_listed_largest_first(monkeypatch):
    """A photo's main face leads its record, whatever the detector's scores; too many faces keep the surest."""
    from realtime.detect import FaceDetector
    from realtime.faces import Face

    detector = FaceDetector("full", max_faces=2)
    found = [Face(np.array([10.0, 10, 40, 40]), 0.9), Face(np.array([100.0, 100, 220, 220]), 0.6),
             Face(np.array([300.0, 100, 400, 200]), 0.3)]
    monkeypatch.setattr(detector.main, "find", lambda rgb, x0=0, y0=0: list(found))
    faces = detector.detect(np.zeros((480, 640, 3), np.uint8))
    assert [f.score for f in faces] == [0.6, 0.9]
    assert detector.crowded == 1  # a frame where a face was left out
    # On video the faces at the last frame's boxes are kept first: by score alone, which 8 of 12 still faces of a video
    # call were kept changed from frame to frame, boxes and ids going from person to person.
    kept = detector.detect(np.zeros((480, 640, 3), np.uint8), previous=[np.array([302.0, 98, 398, 203])])
    assert [f.score for f in kept] == [0.3, 0.9] and detector.crowded == 2


def test_a_video_file_s_faces_are_all_labelled_and_a_limit_is_said(tmp_path, tiny_model):
    """A file is labelled whole (a recorded video call of 12 people showed 8 of them: the limit is for cameras and live
    streams, to stay real-time); faces left out under --max-faces are said at the end."""
    clip = tmp_path / "nine.mp4"
    write_clip(clip, 9, 10, fps=30.0)
    common = ["--source", str(clip), "--model", str(tiny_model), "--no-display", "--confirm", "1"]
    whole = run_module("realtime", *common, "--json", str(tmp_path / "all.jsonl"))
    assert whole.returncode == 0 and "note:" not in whole.stderr, whole.stderr
    counts = [len(json.loads(line)["faces"]) for line in (tmp_path / "all.jsonl").read_text().splitlines()]
    assert max(counts) == 9
    capped = run_module("realtime", *common, "--max-faces", "4", "--json", str(tmp_path / "four.jsonl"))
    assert capped.returncode == 0
    assert "frames held more than 4 faces: the faces followed already, then the surest, were labelled (--max-faces 4)" \
        in capped.stderr
    records = [json.loads(line)["faces"] for line in (tmp_path / "four.jsonl").read_text().splitlines()]
    assert max(map(len, records)) == 4 and len({face["id"] for faces in records for face in faces}) == 4  # the same 4


@pytest.mark.parametrize("args, message", [
    (["--source", "7"], "cannot open camera 7"),
    (["--source", "missing.mp4"], "source not found"),
    (["--source", "demo:12"], "bad demo source"),
    (["--source", ""], "--source: an empty name"),  # "" used to read the current folder as a folder of photos
    # an empty output or model was taken as not given: nothing written, exit 0 (or the default model)
    (["--source", "demo:1", "--json", ""], "--json: an empty name"),
    (["--source", "demo:1", "--csv", " "], "--csv: an empty name"),
    (["--source", "demo:1", "--output", ""], "--output: an empty name"),
    (["--source", "demo:1", "--model", ""], "--model: an empty name"),
    (["--source", "demo:1", "--model", "missing/model.keras"], "model not found: missing/model.keras"),
    (["--source", "demo:1", "--model", "models"], "model models is a folder"),
    (["--source", "demo:1", "--output", "no/such/folder/out.mp4"], "folder no/such/folder does not exist"),
    (["--source", "demo:1", "--output", "out.gif"], "cannot write out.gif: use one of .mp4"),
    (["--source", "demo:1", "--output", "out"], "cannot write out: use one of .mp4"),  # (for photos: a folder)
    # the results named as a recording (options mixed up): an earlier recording was overwritten with text, exit 0
    (["--source", "demo:1", "--json", "out.mp4"], "--json out.mp4: a video's name; --json writes text"),
    (["--source", "demo:1", "--csv", "photo.JPG"], "--csv photo.JPG: a picture's name; --csv writes text"),
    (["--source", "demo:1", "--output", "-"], "--output -: standard output takes the results"),  # (made a folder `-`)
    (["--source", "demo:1", "--output", ".jpg"], "--output .jpg: name the file (labelled.jpg)"),  # (a hidden folder)
    # a name longer than the system takes: every look at it raised OSError, a traceback
    (["--source", "x" * 300 + ".jpg"], "--source: a name in the path is 304 bytes long, more than the 255"),
    (["--source", "demo:1", "--output", "x" * 300 + ".mp4"], "--output: a name in the path is 304 bytes long"),
    (["--source", "demo:1"], "no display (DISPLAY is not set); use --no-display"),
    (["--source", "demo:1", "--margin", "5"], "argument --margin: must be more than 0.5 and at most 3, not 5"),
    (["--source", "demo:1", "--classes", "happy,grumpy"], "--classes: the model has no class grumpy (its classes: angry,"),
    (["--source", "demo:1", "--classes", "happy sad"], "--classes: the model has no class happy sad (its classes: angry, "
                                                       "disgust, fear, happy, sad, surprise, neutral; separate them with "
                                                       "commas)"),
    (["--source", "demo:1", "--classes", "happiness"], "--classes: name two or more of the model's classes"),
    (["--source", "demo:1", "--classes", "happy,contempt"], "--classes: the model has no class contempt (its classes:"),
])
def test_bad_inputs_give_one_line_errors(tmp_path, tiny_model, args, message):
    if "--model" not in args:
        args = [*args, "--model", str(tiny_model)]
    if "--output" not in args and "no display" not in message:
        args = [*args, "--no-display"]
    result = run_module("realtime", *args, "--max-frames", "2")
    assert_one_line_error(result, message)
    assert result.returncode == 2
    # ...and no native log line ("[ERROR:0@3.1] ... Camera index out of range") before it
    assert all(line.startswith(("error:", "note:")) for line in result.stderr.splitlines()), result.stderr


def loads(library: str) -> bool:
    try:
        ctypes.CDLL(library)
        return True
    except OSError:
        return False


# Qt's X11 plugin in the opencv-python wheel loads the system's libxcb, and so does the program's display check.
needs_libxcb = pytest.mark.skipif(not loads("libxcb.so.1"), reason="libxcb.so.1 is not installed here")


def free_x_display() -> int:
    """A display number at which no X server answers, neither by socket file, abstract socket nor TCP."""
    from realtime.window import x_connection_problem

    return next(n for n in range(900, 1000)
                if all("no X server answers" in x_connection_problem(f"{host}:{n}") for host in ("", "localhost")))


def x_setup_reply(accept: bool) -> bytes:
    """An X server's answer to a client's connection setup (X11 protocol, "Connection Setup"): refused with the
    reason an X server gives a client without its authority, or accepted with one 640x480 screen."""
    if not accept:
        reason = b"Authorization required, but no authorization protocol specified\n"
        padded = reason + b"\0" * (-len(reason) % 4)
        return struct.pack("<BBHHH", 0, len(reason), 11, 0, len(padded) // 4) + padded
    vendor = b"fake"
    screen = struct.pack("<IIIIIHHHHHHIBBBB", 0x25, 0x20, 0xFFFFFF, 0, 0, 640, 480, 170, 127, 1, 1, 0x21, 0, 0, 24, 0)
    body = struct.pack("<IIIIHHBBBBBBBB4x", 1, 0x400000, 0x1FFFFF, 256, len(vendor), 65535, 1, 0, 0, 0, 32, 32, 8, 255)
    body += vendor + b"\0" * (-len(vendor) % 4) + screen
    return struct.pack("<BBHHH", 1, 0, 11, 0, len(body) // 4) + body


@contextlib.contextmanager
def fake_x_server(number: int, reply: bytes | None, tcp: bool = False):
    """An X server at display `number` (Linux's abstract socket, as X servers open, or TCP 6000 + number, as SSH's
    X11 forwarding offers) that gives every client `reply` to its setup request; None: it reads and never answers."""
    server = socket.create_server(("127.0.0.1", 6000 + number)) if tcp else socket.socket(socket.AF_UNIX)
    if not tcp:
        server.bind(f"\0/tmp/.X11-unix/X{number}")
        server.listen()
    clients = []

    def serve() -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            clients.append(client)
            head = client.recv(12)  # byte order, protocol version, lengths of the authority's name and data
            if len(head) == 12 and reply is not None:
                name, data = struct.unpack(("<" if head[:1] == b"l" else ">") + "HH", head[6:10])
                left = -(-name // 4) * 4 + -(-data // 4) * 4
                while left > 0 and (chunk := client.recv(left)):
                    left -= len(chunk)
                client.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown(socket.SHUT_RDWR)  # wakes the thread's accept(), which holds the address until it returns
        server.close()
        thread.join()
        for client in clients:
            client.close()


@needs_libxcb
def test_a_display_is_one_whose_x_server_takes_the_connection(monkeypatch):
    """OpenCV's window on Linux is Qt with its X11 plugin only: where the X server at DISPLAY does not answer (an SSH
    session's forwarding gone) or refuses this user (a container or sudo without the user's X authority), Qt aborts
    the process. So a display counts only where libxcb, as Qt calls it, connects; and the reason is said."""
    from realtime.window import x_connection_problem

    monkeypatch.setenv("XAUTHORITY", "/nonexistent")  # no cookie of this machine's sent to the fake servers
    number = free_x_display()
    assert x_connection_problem(f":{number}") == f"no X server answers at DISPLAY=:{number}"
    assert x_connection_problem("nonsense") == "DISPLAY=nonsense is not a display name"
    with fake_x_server(number, x_setup_reply(accept=True)):
        assert x_connection_problem(f":{number}") is None and x_connection_problem(f"unix:{number}.0") is None
    with fake_x_server(number, x_setup_reply(accept=False)):
        assert x_connection_problem(f":{number}") == (f"the X server at DISPLAY=:{number} refused the connection: "
                                                      "Authorization required, but no authorization protocol specified")
    with fake_x_server(number, x_setup_reply(accept=True), tcp=True):
        assert x_connection_problem(f"127.0.0.1:{number}.0") is None
        assert x_connection_problem(f":{number}") is None  # libxcb tries localhost's TCP port after the sockets
        assert x_connection_problem(f"unix:{number}") == f"no X server answers at DISPLAY=unix:{number}"
    with fake_x_server(number, None):
        assert x_connection_problem(f":{number}", wait=0.5) == f"the X server at DISPLAY=:{number} does not reply"


@needs_libxcb
@pytest.mark.parametrize("server", ["gone", "refusing"])
def test_a_display_that_cannot_be_used_gives_a_one_line_error(tiny_model, server):
    """Before, Qt's "could not connect to display" lines and an abort (exit 134) instead of the program's error."""
    number = free_x_display()
    env = {**os.environ, "DISPLAY": f":{number}", "XAUTHORITY": "/nonexistent"}
    env.pop("WAYLAND_DISPLAY", None)
    command = [sys.executable, "-m", "realtime", "--source", "demo:1", "--model", str(tiny_model), "--max-frames", "2"]
    with fake_x_server(number, x_setup_reply(accept=False)) if server == "refusing" else contextlib.nullcontext():
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        headless = subprocess.run([*command, "--json", "-"], cwd=ROOT, env=env, capture_output=True, text=True,
                                  timeout=300)
    reason = "refused the connection: Authorization required" if server == "refusing" else "no X server answers"
    assert_one_line_error(result, reason)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert headless.returncode == 0 and len(headless.stdout.splitlines()) == 2, headless.stderr
    assert headless.stderr.startswith("note: no display (") and reason in headless.stderr, headless.stderr


def test_an_opencv_built_without_windows_is_no_display(tiny_model, monkeypatch, capsys):
    """opencv-python-headless, which other packages bring, takes the place of mediapipe's OpenCV: its namedWindow
    raises "The function is not implemented", which came out as a traceback. Now one line says why, or the run goes
    on headless; an OpenCV built with GTK needs DISPLAY or WAYLAND_DISPLAY, not an X server that Qt can reach."""
    import cv2

    from realtime import __main__ as cli
    from realtime import window

    def build(gui: str) -> str:
        return f"General configuration for OpenCV:\n  GUI:                           {gui}\n    VTK support:      NO\n"

    def not_implemented(*args):
        raise cv2.error("The function is not implemented. Rebuild the library with Windows, GTK+ 2.x or Cocoa support")

    monkeypatch.setattr(cv2, "namedWindow", not_implemented)
    monkeypatch.setattr(cv2, "getBuildInformation", lambda: build("NONE"))
    assert window.opencv_gui() == "NONE" and "built without windows" in window.display_problem()
    assert cli.main(["--source", "demo:1", "--model", str(tiny_model), "--max-frames", "2"]) == 2
    said = capsys.readouterr().err
    assert said.startswith("error: no display (this OpenCV was built without windows") and len(said.splitlines()) == 1
    assert cli.main(["--source", "demo:1", "--model", str(tiny_model), "--max-frames", "2", "--json", "-"]) == 0
    out, said = capsys.readouterr()
    assert len(out.splitlines()) == 2 and said.startswith("note: no display (this OpenCV was built without windows")
    monkeypatch.setattr(cv2, "getBuildInformation", lambda: build("GTK3"))
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert window.opencv_gui() == "GTK3" and window.display_problem() is None
    monkeypatch.delenv("WAYLAND_DISPLAY")
    assert window.display_problem() == "neither DISPLAY nor WAYLAND_DISPLAY is set"
    monkeypatch.setattr(cv2, "getBuildInformation", lambda: build("QT5"))
    assert window.display_problem() == "DISPLAY is not set"


def test_unreadable_video(tmp_path, tiny_model):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    result = run_module("realtime", "--source", str(broken), "--model", str(tiny_model), "--no-display")
    assert_one_line_error(result, "cannot read video")
    assert len(result.stderr.splitlines()) == 1, result.stderr  # no "moov atom not found" from FFmpeg


def test_a_sound_file_is_said_to_hold_no_video(tmp_path, tiny_model):
    """A song (.m4a, .mp3) given as --source: 'missing, empty or not a video' before; with a cover picture (a video
    stream of one frame), that picture was labelled as a video of one frame, said to be cut short at 0.0 s of its
    length, and recorded with 1/30 s of its sound."""
    import av

    from realtime.capture import SourceError, open_video

    for covered in (False, True):
        song = tmp_path / f"song{'_covered' * covered}.m4a"
        with av.open(str(song), "w", format="mp4") as container:
            sound = container.add_stream("aac", rate=16000)
            if covered:
                cover = container.add_stream("mjpeg", rate=1)
                cover.width, cover.height, cover.pix_fmt = 64, 64, "yuvj420p"
                cover.disposition = av.stream.Disposition.attached_pic.value  # (PyAV 15 takes a number only)
                picture = av.VideoFrame.from_ndarray(np.full((64, 64, 3), 90, np.uint8), format="bgr24")
                container.mux([*cover.encode(picture), *cover.encode()])
            layout = sound.codec_context.layout
            for start in range(0, 16000, 1024):
                frame = av.AudioFrame.from_ndarray(np.zeros((len(layout.channels), 1024), np.float32), format="fltp",
                                                   layout=layout.name)
                frame.sample_rate, frame.pts = 16000, start
                container.mux(sound.encode(frame))
            container.mux(sound.encode())
        with pytest.raises(SourceError, match="it holds no video, only sound" + " and a cover picture" * covered):
            open_video(song)
    result = run_module("realtime", "--source", str(song), "--model", str(tiny_model), "--no-display",
                        "--output", str(tmp_path / "out.mp4"))
    assert_one_line_error(result, "only sound and a cover picture")
    assert result.returncode == 2


@pytest.mark.parametrize("option, value, message", [
    ("--min-confidence", "0.3", "must be at least 0.5 and at most 1, not 0.3"),
    ("--min-confidence", "1.5", "must be at least 0.5 and at most 1, not 1.5"),
    ("--min-confidence", "nan", "must be at least 0.5 and at most 1, not nan"),
    ("--max-frames", "0", "must be at least 1, not 0"),
    ("--margin", "0.5", "must be more than 0.5 and at most 3, not 0.5"),
    ("--min-face", "-1", "must be at least 0, not -1"),
    ("--hold", "-1", "must be at least 0, not -1"),
    ("--hold", "1.5", "'1.5' is not an integer"),
    ("--smoothing", "0.96", "must be at least 0 and at most 0.95, not 0.96"),
    ("--max-faces", "0", "must be at least 1, not 0"),
    ("--max-faces", "many", "'many' is not an integer"),
])
def test_numeric_options_are_range_checked(option, value, message, capsys):
    from realtime import __main__ as cli

    with pytest.raises(SystemExit) as stopped:
        cli.parse_args(["--source", "demo:1", option, value])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.splitlines() == [f"error: argument {option}: {message} (see python -m realtime --help)"]
    edge = {"--min-confidence": "1", "--margin": "3", "--smoothing": "0.95", "--min-face": "0", "--hold": "0"}
    assert cli.parse_args([option, edge.get(option, "1")])  # the limits themselves are allowed


def test_source_given_twice_gives_both():
    """`--source a.jpg --source b.jpg` labelled only b.jpg (argparse kept the last); now both, as `--source a.jpg b.jpg`."""
    from realtime import __main__ as cli

    assert cli.parse_args(["--source", "a.jpg", "--source", "b.jpg", "c.jpg"]).source == ["a.jpg", "b.jpg", "c.jpg"]
    assert cli.parse_args([]).source is None  # camera 0 (or the demo for --benchmark), as before


def test_help_gives_the_defaults_the_docs_give(capsys):
    """--help gave no default for --hold, where the README and docs/usage.md give 5; nor the range of the options
    that refuse values out of one, nor the window's keys and the exit status (a user's trial)."""
    from realtime import __main__ as cli

    with pytest.raises(SystemExit) as stopped:
        cli.parse_args(["--help"])
    assert stopped.value.code == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert "frames a face stays on screen after the detector loses it, 0 or more (default 5)" in shown
    assert "1-30 (default 3)" in shown and "0-0.95 (default 0.75)" in shown and "0-0.9 (default 0.15)" in shown
    assert "wide, 16-7680" in shown and "rate, 1-240" in shown and "side by side, 1-64" in shown
    assert "(default 0: none)" in shown and "q or Esc quit" in shown and "130 Ctrl-C or SIGTERM" in shown
    for option, value, problem in (("--workers", "65", "at most 64"), ("--hold", "-1", "at least 0"),
                                   ("--fps", "241", "at most 240")):  # the ranges given are the ones kept
        with pytest.raises(SystemExit):
            cli.parse_args([option, value])
        assert problem in capsys.readouterr().err


def test_a_folder_named_by_digits_and_camera_indices_no_camera_has(tmp_path, monkeypatch):
    """`--source 2024`, a folder of a year's photos, was 'cannot open camera 2024'; an index past a C int was a
    traceback from OpenCV, and '²' (a digit to str.isdigit) one from int()."""
    from realtime import capture

    monkeypatch.setattr(capture.cv2, "VideoCapture", lambda *args: FakeCamera(frames=0))  # no camera answers
    (tmp_path / "2024").mkdir()
    cv2.imwrite(str(tmp_path / "2024" / "party.jpg"), DemoSource(faces=1).frame(0)[0])
    monkeypatch.chdir(tmp_path)
    source = capture.open_source("2024")
    assert isinstance(source, capture.ImageSource) and source.files[0][1] == "party.jpg"
    source.close()
    with pytest.raises(capture.SourceError, match="cannot open camera 7 .*; python -m realtime --list-cameras lists those "
                       "that open, --source demo:4 plays a generated clip$"):  # (where to go from there)
        capture.open_source("7")
    with pytest.raises(capture.SourceError, match="cannot open camera 99999999999 .no camera has an index that large"):
        capture.open_source("99999999999")
    with pytest.raises(capture.SourceError, match="source not found: ²"):
        capture.open_source("²")


def test_unreachable_stream_gives_a_one_line_error(tiny_model):
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"rtsp://127.0.0.1:{probe.getsockname()[1]}/stream"
    started = time.perf_counter()
    result = run_module("realtime", "--source", url, "--model", str(tiny_model), "--no-display", "--max-frames", "2")
    assert_one_line_error(result, f"cannot open stream {url}")  # the URL as given, not mangled into a path
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert time.perf_counter() - started < 60


def test_stream_url_is_read_live_like_a_camera(tmp_path, tiny_model, monkeypatch, capsys):
    from realtime import __main__ as cli
    from realtime import capture

    opened = []
    monkeypatch.setattr(capture, "opened_stream", lambda url: None)  # (PyAV's reader: no network in tests)
    monkeypatch.setattr(capture.cv2, "VideoCapture", lambda *args: opened.append(args[0]) or FakeCamera(frames=12))
    code = cli.main(["--source", "rtsp://camera.local:554/live", "--model", str(tiny_model), "--no-display"])
    assert opened == ["rtsp://camera.local:554/live"]
    err = capsys.readouterr().err  # (nothing was written: it says nothing of what was)
    assert code == 1 and err.endswith("error: the stream stopped delivering frames\n")


@pytest.mark.parametrize("backend", ["keras", "tflite"])
def test_corrupt_and_mismatched_models(tmp_path, tiny_model, backend):
    corrupt = tmp_path / "corrupt.keras"
    corrupt.write_bytes(b"this is not a model")
    corrupt.with_suffix(".tflite").write_bytes(b"this is not a model either")
    corrupt.with_suffix(".json").write_text(tiny_model.with_suffix(".json").read_text())
    common = ["--source", "demo:1", "--no-display", "--backend", backend]
    assert_one_line_error(run_module("realtime", *common, "--model", str(corrupt)), "cannot load model")

    mismatched = tmp_path / "mismatched.keras"
    for suffix in (".keras", ".tflite"):
        mismatched.with_suffix(suffix).write_bytes(tiny_model.with_suffix(suffix).read_bytes())
    card = json.loads(tiny_model.with_suffix(".json").read_text())
    mismatched.with_suffix(".json").write_text(json.dumps({**card, "labels": card["labels"][:5]}))
    assert_one_line_error(run_module("realtime", *common, "--model", str(mismatched)), "has 7 outputs, but its card lists 5")

    mismatched.with_suffix(".json").write_text(json.dumps({**card, "input": {"size": 64}}))
    assert_one_line_error(run_module("realtime", *common, "--model", str(mismatched)), "its card says 64x64x1")

    mismatched.with_suffix(".json").write_text("{not json")
    assert_one_line_error(run_module("realtime", *common, "--model", str(mismatched)), "unreadable or incomplete")


@pytest.mark.parametrize("backend", ["keras", "tflite"])
def test_a_model_with_nan_weights_is_refused_before_it_labels_a_face(tmp_path, backend):
    """It used to label every face 'angry' with NaN probabilities, written into the JSON (which NaN makes invalid)."""
    import tensorflow as tf

    from realtime.classify import ModelError
    from train.export import save_float16, write_tflite
    from train.model import build_model

    model = build_model(len(LABELS), size=48, width=4)
    kernel = model.get_layer("logits").kernel
    kernel.assign(np.full(kernel.shape, np.nan, np.float32))
    path = tmp_path / "nan.keras"
    save_float16(model, path)
    path.with_suffix(".tflite").write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    path.with_suffix(".json").write_text(json.dumps({"name": "nan", "labels": LABELS, "input": {"size": 48}}))
    jsonl = tmp_path / "out.jsonl"
    result = run_module("realtime", "--source", "demo:1", "--no-display", "--max-frames", "2", "--backend", backend,
                        "--json", str(jsonl), "--model", str(path))
    assert_one_line_error(result, f"model {path.with_suffix('.' + backend)} does not answer with probabilities")
    assert not jsonl.exists() or "NaN" not in jsonl.read_text()
    with pytest.raises(ModelError, match="NaN or infinite weights"):  # the export refuses to write a copy of it
        write_tflite(path, np.zeros((4, 48, 48), np.uint8))


def hang_up_as_by_default() -> None:
    """In the program's process before it starts: SIGHUP's default, whatever the tests inherit (under `nohup` it is
    ignored, and the program then goes on, as it should: the tests of SIGHUP failed when the suite ran so)."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def record_and_interrupt(tmp_path, model, signals: list[int]) -> str:
    """Record demo:1, send `signals` (0.05 s apart) once 5 frames are out; the recording must play. Returns stderr."""
    output = tmp_path / "out.mp4"
    process = subprocess.Popen([sys.executable, "-m", "realtime", "--source", "demo:1", "--model", str(model),
                                "--no-display", "--output", str(output), "--json", str(tmp_path / "out.jsonl")],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=hang_up_as_by_default)
    deadline = time.time() + 120
    while time.time() < deadline and len((tmp_path / "out.jsonl").read_text().splitlines()
                                         if (tmp_path / "out.jsonl").exists() else []) < 5:
        time.sleep(0.2)
    for signum in signals:
        process.send_signal(signum)
        time.sleep(0.05)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr
    frames, size, _ = read_video(output)
    assert frames >= 5 and size == (640, 480)
    return stderr


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".avi"])
def test_a_hard_kill_loses_at_most_about_a_second(tmp_path, tiny_model, suffix):
    output, jsonl = tmp_path / f"out{suffix}", tmp_path / "out.jsonl"
    process = subprocess.Popen([sys.executable, "-m", "realtime", "--source", "demo:1", "--model", str(tiny_model),
                                "--no-display", "--output", str(output), "--json", str(jsonl)],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and (jsonl.read_text().count("\n") if jsonl.exists() else 0) < 90:
        time.sleep(0.1)
    process.kill()  # SIGKILL: nothing gets to close the files
    process.wait()
    lines = jsonl.read_text().split("\n")
    processed = len(lines) - 1  # complete lines; the last piece may be cut off
    assert processed >= 90 and all(json.loads(line)["frame"] == i for i, line in enumerate(lines[:-1]))
    frames, size, _ = read_video(output)
    # The JSON lines reach the disk at least once a second and the video a fragment per second (30 frames)
    # plus what the encoder holds: the video lags what the JSON shows by well under two seconds.
    assert frames >= processed - 60 and size == (640, 480)


@pytest.mark.parametrize("damage", ["truncated", "flipped", "truncated, card without checksums"])
@pytest.mark.parametrize("backend", ["keras", "tflite"])
def test_damaged_model_file_gives_a_clean_error(tmp_path, tiny_model, backend, damage):
    from realtime.classify import file_sha256

    model = tmp_path / "copy.keras"
    card = json.loads(tiny_model.with_suffix(".json").read_text())
    card["files"] = {kind: f"copy.{kind}" for kind in ("keras", "tflite")}
    for kind in ("keras", "tflite"):
        model.with_suffix(f".{kind}").write_bytes(tiny_model.with_suffix(f".{kind}").read_bytes())
    if "without checksums" not in damage:
        card["size_bytes"] = {kind: model.with_suffix(f".{kind}").stat().st_size for kind in ("keras", "tflite")}
        card["sha256"] = {kind: file_sha256(model.with_suffix(f".{kind}")) for kind in ("keras", "tflite")}
    model.with_suffix(".json").write_text(json.dumps(card))
    damaged = model.with_suffix(f".{backend}")
    content = bytearray(damaged.read_bytes())
    if damage.startswith("truncated"):
        content = content[:1000]
    else:
        for offset in range(40, len(content), len(content) // 7):  # the header too, where TFLite used to crash
            content[offset] ^= 0xFF
    damaged.write_bytes(bytes(content))
    result = run_module("realtime", "--source", "demo:1", "--no-display", "--max-frames", "2", "--backend", backend,
                        "--json", str(tmp_path / "out.jsonl"), "--model", str(model))
    assert result.returncode == 2, result.stderr[-2000:]  # not 139 (a segmentation fault)
    if "without checksums" in damage:
        assert_one_line_error(result, f"cannot load model {damaged}")
    else:
        assert_one_line_error(result, f"model file {damaged} does not match its card")
        assert ("SHA-256 differs" if damage == "flipped" else "bytes, the card says") in result.stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_interrupted_recording_is_playable(tmp_path, tiny_model, signum):
    stderr = record_and_interrupt(tmp_path, tiny_model, [signum])
    assert f"wrote {tmp_path / 'out.mp4'}" in stderr  # the first signal only asks the loop to stop
    assert "frames; interrupted: all labelled until then)" in stderr  # (it read as a whole run's line)


def test_a_closed_terminal_ends_the_run_as_sigterm_does(tmp_path, tiny_model):
    """Closing the terminal the program runs in (its pseudo-terminal hung up: SIGHUP, then every write to it fails)
    used to kill the program at once: the recording's last second lost, the image output never written. Now the
    files are closed as after SIGTERM (exit 130). Under `nohup` (SIGHUP ignored) the run goes on."""
    import fcntl
    import pty
    import termios

    results = []
    for output in (tmp_path / "out.mp4", tmp_path / "last.png"):
        jsonl = output.with_suffix(".jsonl")
        master, terminal = pty.openpty()

        def own_terminal(terminal=terminal):
            hang_up_as_by_default()
            os.setsid()
            fcntl.ioctl(terminal, termios.TIOCSCTTY, 0)

        process = subprocess.Popen([sys.executable, "-m", "realtime", "--source", "demo:1", "--model", str(tiny_model),
                                    "--no-display", "--output", str(output), "--json", str(jsonl)], cwd=ROOT,
                                   stdin=terminal, stdout=terminal, stderr=terminal, preexec_fn=own_terminal)
        os.close(terminal)
        deadline = time.time() + 120
        while time.time() < deadline and (jsonl.read_text().count("\n") if jsonl.exists() else 0) < 5:
            with contextlib.suppress(OSError):  # (what it says there, the progress bar, read so that it never waits)
                os.read(master, 1 << 16) if select_readable(master) else None
            time.sleep(0.1)
        os.close(master)  # the terminal closed
        results.append(process.wait(timeout=60))
        assert results[-1] == 130, results
        frames = jsonl.read_text().count("\n")
        if output.suffix == ".mp4":
            assert read_video(output)[0] == frames  # every frame labelled is in the recording
        else:
            assert cv2.imread(str(output)).shape == (480, 640, 3)

    jsonl = tmp_path / "nohup.jsonl"
    process = subprocess.Popen([sys.executable, "-m", "realtime", "--source", "demo:1", "--model", str(tiny_model),
                                "--no-display", "--json", str(jsonl)], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    deadline = time.time() + 120
    while time.time() < deadline and (jsonl.read_text().count("\n") if jsonl.exists() else 0) < 5:
        time.sleep(0.1)
    process.send_signal(signal.SIGHUP)  # nohup's: ignored
    time.sleep(1.0)
    assert process.poll() is None
    process.terminate()
    assert process.wait(timeout=60) == 130


def select_readable(fd: int) -> bool:
    import select

    return bool(select.select([fd], [], [], 0)[0])


def test_ctrl_c_while_the_modules_load_stops_as_a_later_one_does(tmp_path, tiny_model):
    """A Ctrl-C in the first quarter second, while OpenCV and NumPy were imported, was a KeyboardInterrupt traceback
    out of NumPy's import machinery."""
    jsonl = tmp_path / "out.jsonl"
    process = subprocess.Popen([sys.executable, "-X", "importtime", "-m", "realtime", "--source", "demo:1", "--model",
                                str(tiny_model), "--no-display", "--json", str(jsonl)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in process.stderr:  # (-X importtime: a line as each module is imported)
        if line.split("|")[-1].strip() == "numpy":  # imported for the program's own modules
            process.send_signal(signal.SIGINT)
            break
    stderr = process.stderr.read()
    assert process.wait(timeout=120) == 130, stderr[-2000:]
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert jsonl.read_text().count("\n") >= 1  # as always, at least one frame


def test_second_signal_while_stopping_still_closes_the_recording(tmp_path, tiny_model):
    record_and_interrupt(tmp_path, tiny_model, [signal.SIGTERM, signal.SIGINT])


@pytest.fixture(autouse=True)
def restore_signal_handlers(monkeypatch):
    """cli.main() installs the stop handlers; keep them, and a stop request, out of the other tests."""
    from realtime import stop

    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    monkeypatch.setattr(stop, "requested", False)
    monkeypatch.setattr(stop, "_closing", False)
    yield
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


class FakeCamera:
    """Stands in for cv2.VideoCapture(index): numbered frames, then (optionally) a dead device."""

    def __init__(self, frames: int | None, delay: float = 0.0):
        self.frames, self.delay, self.count = frames, delay, 0

    def isOpened(self):
        return True

    def read(self):
        time.sleep(self.delay)
        if self.frames is not None and self.count >= self.frames:
            return False, None
        self.count += 1
        frame = np.zeros((480, 640, 3), np.uint8)
        frame[0, 0, 0] = self.count % 256
        return True, frame

    def get(self, prop):
        return 30.0 if prop == cv2.CAP_PROP_FPS else 0.0

    def set(self, *_):
        return True

    def release(self):
        pass


def test_dying_camera_still_leaves_a_playable_recording(tmp_path, tiny_model, monkeypatch, capsys):
    from realtime import __main__ as cli
    from realtime import capture

    monkeypatch.setattr(capture.cv2, "VideoCapture", lambda index: FakeCamera(frames=12, delay=0.005))
    code = cli.main(["--source", "0", "--model", str(tiny_model), "--no-display", "--output", str(tmp_path / "cam.mp4")])
    assert code == 1
    assert "camera stopped delivering frames; everything up to then was written" in capsys.readouterr().err
    monkeypatch.undo()  # read the recording with the real OpenCV
    frames, size, _ = read_video(tmp_path / "cam.mp4")
    assert frames >= 1 and size == (640, 480)


def test_a_camera_mode_asked_of_a_file_is_noted_not_ignored_unsaid(tmp_path, tiny_model, monkeypatch, capsys):
    """--width, --height and --fps ask a camera for a mode: given with a video file they were ignored without a word
    (a user who wanted the video scaled saw nothing happen). A camera takes them, without the note."""
    from realtime import __main__ as cli
    from realtime import capture

    write_clip(tmp_path / "clip.mp4", faces=1, frames=3)
    assert cli.main(["--source", str(tmp_path / "clip.mp4"), "--width", "1280", "--fps", "60", "--model",
                     str(tiny_model), "--no-display", "--json", str(tmp_path / "out.jsonl")]) == 0
    assert (f"note: --width --fps ask a camera for a mode; {tmp_path / 'clip.mp4'} is not a camera, so it is read as "
            "it is") in capsys.readouterr().err
    asked = []

    class Camera(FakeCamera):
        def set(self, prop, value):
            asked.append((prop, value))
            return True

    monkeypatch.setattr(capture.cv2, "VideoCapture", lambda index: Camera(frames=3))
    assert cli.main(["--source", "0", "--width", "1280", "--model", str(tiny_model), "--no-display", "--json",
                     str(tmp_path / "cam.jsonl")]) == 1  # (the fake camera dies after 3 frames)
    assert (cv2.CAP_PROP_FRAME_WIDTH, 1280) in asked and "for a mode" not in capsys.readouterr().err


@pytest.mark.parametrize("option", [[], ["--no-mirror"]])
def test_a_camera_is_shown_as_a_mirror_shows_you_unless_no_mirror(tmp_path, tiny_model, monkeypatch, capsys, option):
    """Before, the camera's own view: a user who raised a hand saw the other hand go up, unlike every webcam app."""
    from realtime import __main__ as cli
    from realtime import capture

    class LeftLitCamera(FakeCamera):
        def read(self):
            ok, frame = super().read()
            if ok:
                frame[:, :320] = 200  # the camera sees light on its left
            return ok, frame

    monkeypatch.setattr(capture.cv2, "VideoCapture", lambda index: LeftLitCamera(frames=None, delay=0.005))
    last = tmp_path / "last.png"
    code = cli.main(["--source", "0", "--model", str(tiny_model), "--no-display", "--output", str(last),
                     "--max-frames", "3", "--benchmark", *option])
    assert code == 0, capsys.readouterr().err
    monkeypatch.undo()
    picture = cv2.imread(str(last))
    left, right = picture[:, :300].mean(), picture[:, 340:].mean()
    assert (left < 50 < 150 < right) if not option else (right < 50 < 150 < left)
    assert ("camera 0, mirrored" in capsys.readouterr().out) == (not option)


class SignallingCamera(FakeCamera):
    """Sends this process `signum` after `frames` frames; with `stall`, it stops delivering (without dying)
    after those frames, and the signal comes 0.5 s into the stall, while the loop waits for a frame."""

    def __init__(self, frames: int, signum: int, stall: bool = False):
        super().__init__(frames=None, delay=0.005)
        self.after, self.signum, self.stall, self.signalled = frames, signum, stall, None

    def read(self):
        if self.count == self.after and self.signalled is None:
            delay = 0.5 if self.stall else 0.0
            self.signalled = time.perf_counter() + delay
            threading.Timer(delay, os.kill, (os.getpid(), self.signum)).start()
        if self.stall and self.count >= self.after:
            time.sleep(6.0)  # a stalled device: a read that blocks for longer than the 5 s allowed, then fails
            return False, None
        return super().read()


@pytest.mark.parametrize("stall", [False, True], ids=["streaming", "stalled"])
def test_stop_request_ends_the_loop_between_frames(tmp_path, tiny_model, monkeypatch, capsys, stall):
    from realtime import __main__ as cli
    from realtime import capture

    camera = SignallingCamera(frames=6, signum=signal.SIGTERM, stall=stall)
    monkeypatch.setattr(capture.cv2, "VideoCapture", lambda index: camera)
    code = cli.main(["--source", "0", "--model", str(tiny_model), "--no-display", "--max-frames", "1000",
                     "--output", str(tmp_path / "cam.avi")])
    stopped_after = time.perf_counter() - camera.signalled
    assert code == 130, capsys.readouterr().err
    assert "camera stopped" not in capsys.readouterr().err
    # At the next frame, or at once while the camera stalls (up to 1 s of that: letting its reader thread finish).
    assert stopped_after < 2.0
    monkeypatch.undo()
    frames, size, _ = read_video(tmp_path / "cam.avi")
    assert frames >= 1 and size == (640, 480)


def test_camera_hands_over_the_newest_frame(monkeypatch):
    from realtime import capture

    monkeypatch.setattr(capture.cv2, "VideoCapture", lambda index: FakeCamera(frames=None, delay=0.002))
    camera = capture.open_source(0)
    seen = []
    for frame in camera:
        seen.append(int(frame[0, 0, 0]))
        time.sleep(0.03)  # a consumer much slower than the camera
        if len(seen) == 6:
            break
    camera.close()
    assert all(b > a for a, b in zip(seen, seen[1:]))  # never an old frame again
    assert seen[-1] - seen[0] > 10  # frames the consumer was too slow for were skipped, not queued


class BurstingStream(FakeCamera):
    """A network stream whose frames (30 a second by their timestamps) come a second's worth at once, as an HLS
    stream's segments do; or, with `stamps=False`, without timestamps, as an MJPEG camera's."""

    def __init__(self, frames: int, stamps: bool = True):
        super().__init__(frames)
        self.stamps = stamps

    def get(self, prop):
        if prop == cv2.CAP_PROP_POS_MSEC:
            return (self.count - 1) * 1000 / 30 if self.stamps else -3.7e20
        return super().get(prop)


@pytest.mark.parametrize("stamps", [True, False], ids=["timestamps", "none"])
def test_a_stream_that_comes_in_bursts_is_handed_on_at_its_pace(stamps):
    """Of each burst of a stream (an HLS segment, a .ts file served over HTTP) only the newest frame was labelled:
    82 frames in 35 s of a 30 fps live HLS stream. A stream without timestamps is handed on as it comes."""
    from realtime import capture

    stream = capture.CameraSource("http://127.0.0.1/live.m3u8", capture=BurstingStream(frames=45, stamps=stamps))
    seen, started = [], time.monotonic()
    for frame in stream:
        seen.append(int(frame[0, 0, 0]))
        time.sleep(0.005)  # a consumer that keeps up with 30 frames a second
    stream.close()
    assert all(b > a for a, b in zip(seen, seen[1:]))
    if stamps:  # (45 frames: 1.5 s, handed on at the clock's CATCH_UP of 1.5: 1.0 s)
        assert len(seen) >= 40 and 0.8 < time.monotonic() - started < 4.0
    else:
        assert time.monotonic() - started < 1.0


class BackloggedStream(FakeCamera):
    """A live stream at 30 frames a second whose server first sends the last `backlog` frames it kept (as servers
    with a keyframe cache do): those come at once, each later one at its live time."""

    def __init__(self, backlog: int):
        super().__init__(frames=None)
        self.backlog, self.started = backlog, None

    def read(self):
        self.started = self.started or time.monotonic()
        live = self.started + (self.count + 1 - self.backlog) / 30  # when the next frame is sent
        time.sleep(max(0.0, live - time.monotonic()))
        return super().read()

    def get(self, prop):
        return (self.count - 1) * 1000 / 30 if prop == cv2.CAP_PROP_POS_MSEC else super().get(prop)


def test_a_live_streams_backlog_drains_instead_of_delaying_the_rest():
    """Paced by their timestamps alone, the frames a server sends first (1 s of them here) were held back by that
    second for the rest of the run (3 s behind for a real server's 3-s backlog); now the delay drains."""
    from realtime import capture

    camera = BackloggedStream(backlog=30)
    stream = capture.CameraSource("http://127.0.0.1/live.ts", capture=camera)
    delays = []
    for frame in stream:  # how long ago the frame shown was sent live
        number = int(frame[0, 0, 0])  # (frames are numbered from 1, modulo 256: fewer here)
        delays.append(time.monotonic() - (camera.started + (number - camera.backlog) / 30))
        if time.monotonic() - camera.started > 3.5:
            break
        time.sleep(0.005)
    stream.close()
    assert max(delays[-10:]) < 0.6, delays[-10:]  # (held back by the backlog: 1 s and more)


def test_benchmark_without_a_camera_uses_the_generated_clip(tiny_model, monkeypatch, capsys):
    from realtime import __main__ as cli
    from realtime import capture

    class NoCamera(FakeCamera):
        def isOpened(self):
            return False

    monkeypatch.setattr(capture.cv2, "VideoCapture", lambda index: NoCamera(frames=0))
    assert cli.main(["--benchmark", "--no-display", "--max-frames", "6", "--model", str(tiny_model)]) == 0
    out = capsys.readouterr().out
    assert "source: generated clip, 1 face, 640x480; detector: sweep" in out
    assert "5 frames measured" in out and "end-to-end:" in out


def test_frame_times_are_kept_only_for_a_benchmark(tiny_model, monkeypatch):
    """Every frame's stage times were kept for a summary only --benchmark prints: a camera left running grew by
    about 200 bytes a frame (a soak run of 30,000 frames: 246 -> 264 MB), 0.5 GB a day at 30 FPS."""
    from realtime import __main__ as cli
    from realtime import loop

    kept, real_run = [], loop.run

    def recording(*args, **kwargs):
        stats, stopped = real_run(*args, **kwargs)
        kept.append(stats)
        return stats, stopped

    monkeypatch.setattr(loop, "run", recording)
    for benchmark in ([], ["--benchmark"]):
        cli.main(["--source", "demo:1", "--max-frames", "8", "--no-display", "--model", str(tiny_model),
                  "--json", os.devnull, *benchmark])
    without, timed = kept[0], kept[1]
    assert without.frames == timed.frames == 8 and not any(without.times.values())
    assert all(len(times) == 7 for times in timed.times.values())  # (the first frame is the warm-up)


def test_quieting_stderr_is_one_thread_at_a_time_so_stderr_survives_side_by_side_work():
    """Descriptor 2 is the whole process's: a second thread quieting it while the first does would leave it on a
    temporary file once both are done (the trainer's folder reader lost its own error line that way)."""
    import threading

    from realtime import quiet_stderr

    before = os.fstat(2)
    inside, entered = threading.Event(), threading.Event()

    def second():
        inside.wait()
        with quiet_stderr():
            entered.set()

    thread = threading.Thread(target=second)
    thread.start()
    with quiet_stderr():
        inside.set()
        assert not entered.wait(0.3)  # the second waits for the first block to end
    thread.join(5)
    assert entered.is_set()
    assert os.path.samestat(os.fstat(2), before)  # stderr is where it was


@pytest.mark.parametrize("closed", [(1,), (2,), (0, 1, 2)])
def test_a_run_with_standard_output_or_error_closed_still_writes_its_results(tmp_path, tiny_model, closed):
    """`>&-`, `2>&-`: Python leaves sys.stdout / sys.stderr None, and the results file would take the closed number."""
    photo, jsonl = tmp_path / "face.jpg", tmp_path / "out.jsonl"
    cv2.imwrite(str(photo), DemoSource(faces=1).frame(0)[0])
    result = run_module("realtime", "--source", str(photo), "--model", str(tiny_model), "--no-display", "--json",
                        str(jsonl), preexec_fn=lambda: [os.close(fd) for fd in closed])
    assert result.returncode == 0
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert len(records) == 1 and len(records[0]["faces"]) == 1


def test_a_damaged_tiff_says_nothing_but_the_programs_own_words(tmp_path, tiny_model):
    """Pillow's warnings ("Corrupt EXIF data", asked for the orientation tag) about a damaged file stay off the
    terminal: the program says itself what it could not read."""
    cv2.imwrite(str(tmp_path / "whole.tif"), DemoSource(faces=1).frame(0)[0])
    (tmp_path / "cut.tif").write_bytes((tmp_path / "whole.tif").read_bytes()[:200])
    result = run_module("realtime", "--source", str(tmp_path / "cut.tif"), "--model", str(tiny_model), "--no-display",
                        "--json", str(tmp_path / "out.jsonl"))
    assert "Warning" not in result.stderr, result.stderr
    assert_one_line_error(result, "cannot read image")


def test_a_benchmark_of_one_photo_says_why_it_measures_nothing():
    """`--benchmark` on one photo said only 'too few frames to measure': the first photo (or frame) is warm-up."""
    from realtime.loop import Stats

    photos, frames = Stats(timed=True, photos=True), Stats(timed=True)
    assert photos.summary() == "benchmark: no photo was labelled: nothing to measure"
    photos.add({"detect": 0.01}, 1)
    frames.add({"detect": 0.01}, 1)
    assert photos.summary() == ("benchmark: one photo is too few to measure: the first is left out as warm-up "
                                "(give 2 photos or more)")
    assert frames.summary().startswith("benchmark: one frame is too few")
    photos.add({stage: 0.01 for stage in ("capture", "detect", "align", "classify", "draw", "write")}, 1)
    assert photos.summary().startswith("benchmark: 1 photo measured (first photo excluded as warm-up)")
