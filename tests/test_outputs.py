"""Results on standard output and in CSV, sound in recordings, the mp4v fallback, the window's keys, the report."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import av
import cv2
import numpy as np
import pytest

from realtime import draw, loop, output, window
from realtime.faces import Face
from realtime.output import Annotated, OutputError, VideoWriter
from realtime.pipeline import FrameResult
from realtime.scene import DemoSource
from realtime.track import Track, Tracker
from tests.conftest import LABELS, ROOT, assert_one_line_error, run_module
from tests.test_realtime import read_video, write_clip


def test_json_on_stdout_and_csv_rows_agree(tmp_path, tiny_model):
    table = tmp_path / "faces.csv"
    result = run_module("realtime", "--source", "demo:2", "--max-frames", "8", "--no-display", "--model",
                        str(tiny_model), "--json", "-", "--csv", str(table), "--benchmark")
    assert result.returncode == 0, result.stderr[-2000:]
    records = [json.loads(line) for line in result.stdout.splitlines()]  # nothing else on stdout
    assert [r["frame"] for r in records] == list(range(8)) and all(r["schema"] == 2 for r in records)
    assert "end-to-end" in result.stderr  # the benchmark went to stderr
    rows = list(csv.DictReader(io.StringIO(table.read_text())))
    faces = [(r["frame"], f) for r in records for f in r["faces"]]
    assert len(rows) == len(faces) == 2 * 6  # two faces, shown from the third frame on
    for row, (frame, face) in zip(rows, faces):
        assert int(row["frame"]) == frame and int(row["id"]) == face["id"] and row["label"] == face["label"]
        assert [float(row[k]) for k in ("x0", "y0", "x1", "y1")] == face["box"]
        assert all(float(row[name]) == face["probabilities"][name] for name in LABELS)
        assert all(float(row[f"raw_{name}"]) == face["raw"][name] for name in LABELS)


def test_json_and_csv_cannot_both_go_to_stdout():
    for json_to, csv_to in (("-", "-"), ("/dev/stdout", "-"), ("-", "/dev/fd/1")):
        assert_one_line_error(run_module("realtime", "--json", json_to, "--csv", csv_to, "--no-display"),
                              "standard output")


def test_json_to_dev_stdout_is_standard_output_with_messages_kept_off_it(tiny_model):
    result = run_module("realtime", "--source", "demo:1", "--max-frames", "4", "--no-display", "--model",
                        str(tiny_model), "--json", "/dev/stdout", "--benchmark")
    assert result.returncode == 0, result.stderr[-2000:]
    assert [json.loads(line)["frame"] for line in result.stdout.splitlines()] == [0, 1, 2, 3]
    assert "end-to-end" in result.stderr


def frame_count(video) -> int:
    with av.open(str(video)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_an_output_that_is_the_source_or_another_output_is_refused(tmp_path):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"not really a video, but it must not be touched")
    for options, problem in ((["--output", str(clip)], "--output names the source file"),
                             (["--csv", str(tmp_path / ".." / tmp_path.name / "clip.mp4")], "--csv names the source file"),
                             (["--json", str(tmp_path / "a.txt"), "--csv", str(tmp_path / "a.txt")],
                              "--json and --csv name the same file")):
        result = run_module("realtime", "--source", str(clip), "--no-display", *options)
        assert_one_line_error(result, problem)
        assert result.returncode == 2
    assert clip.read_bytes() == b"not really a video, but it must not be touched"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]
    os.link(clip, tmp_path / "hard.mp4")  # a hard link is the same file by another name
    result = run_module("realtime", "--source", str(tmp_path / "hard.mp4"), "--no-display", "--csv", str(clip))
    assert_one_line_error(result, "--csv names the source file")
    photos = tmp_path / "photos"
    (photos / "sub").mkdir(parents=True)
    for name in ("a.jpg", "sub/b.png"):
        (photos / name).write_bytes(b"a photo, not to be touched")
    for option, name in (("--json", "a.jpg"), ("--output", "sub/b.png"), ("--csv", "sub/b.png")):
        result = run_module("realtime", "--source", str(photos), "--no-display", option, str(photos / name))
        assert_one_line_error(result, f"{option} names {photos / name}, a photo in the source folder")
    assert all((photos / name).read_bytes() == b"a photo, not to be touched" for name in ("a.jpg", "sub/b.png"))
    result = run_module("realtime", "--source", str(clip), "--no-display", "--json", "/dev/null", "--csv", "/dev/null")
    assert_one_line_error(result, f"cannot read {clip}: it is a text file")  # a device is no file to overwrite: the outputs pass


def test_when_the_reader_of_standard_output_goes_the_run_ends_quietly(tmp_path, tiny_model):
    """`--json - | head -1`: the run stops as on a window's quit, the video is closed, no traceback."""
    video = tmp_path / "out.mp4"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("DISPLAY", None)
    with subprocess.Popen([sys.executable, "-m", "realtime", "--source", "demo:1", "--max-frames", "300",
                           "--no-display", "--model", str(tiny_model), "--json", "-", "--output", str(video)],
                          cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as run:
        assert json.loads(run.stdout.readline())["frame"] == 0
        run.stdout.close()  # as `head -1` does
        stderr = run.stderr.read()
        assert run.wait(timeout=120) == 0, stderr
    assert "Traceback" not in stderr and "Exception" not in stderr, stderr
    assert 1 <= frame_count(video) < 300


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs Linux's /dev/full")
def test_a_full_disk_or_a_folder_that_cannot_be_written_is_a_one_line_error(tmp_path, tiny_model):
    video = tmp_path / "out.mp4"
    result = run_module("realtime", "--source", "demo:1", "--max-frames", "60", "--no-display", "--model",
                        str(tiny_model), "--json", "/dev/full", "--output", str(video))
    assert_one_line_error(result, "cannot write /dev/full: No space left on device")
    assert frame_count(video) >= 1  # the video was still closed, and plays
    for name in ("x.mp4", "x.jpg", "x.avi"):  # /proc takes no new files, not even from root
        result = run_module("realtime", "--source", "demo:1", "--max-frames", "2", "--no-display", "--model",
                            str(tiny_model), "--output", f"/proc/{name}")
        assert_one_line_error(result, f"cannot write /proc/{name}")


def test_an_output_that_cannot_be_written_leaves_the_others_as_they_were(tmp_path):
    """The outputs were opened one by one, so a --csv into a missing folder (or a --json naming a folder) stopped the
    run only after the recording and the JSON lines of an earlier run had been emptied, leaving an .mp4 of 0 bytes
    that does not play (found combining outputs of a run, one of them mistyped)."""
    video, results = tmp_path / "out.mp4", tmp_path / "faces.jsonl"
    video.write_bytes(b"last run's recording")
    results.write_text("last run's results\n")
    for options, problem in ((["--json", str(results), "--csv", str(tmp_path / "missing" / "faces.csv")],
                              f"folder {tmp_path / 'missing'} does not exist"),  # (as --output says it)
                             (["--json", str(tmp_path)], "Is a directory")):
        result = run_module("realtime", "--source", "demo:1", "--max-frames", "2", "--no-display",
                            "--output", str(video), *options)
        assert_one_line_error(result, f"cannot write {tmp_path}")
        assert problem in result.stderr and result.returncode == 2
        assert video.read_bytes() == b"last run's recording" and results.read_text() == "last run's results\n"
    result = run_module("realtime", "--source", "demo:1", "--max-frames", "2", "--no-display",
                        "--output", str(tmp_path / "new.mp4"), "--csv", str(tmp_path / "missing" / "faces.csv"))
    assert_one_line_error(result, "cannot write")
    assert not (tmp_path / "new.mp4").exists()
    photos, labelled = tmp_path / "photos", tmp_path / "labelled"
    photos.mkdir()
    cv2.imwrite(str(photos / "a.png"), DemoSource(faces=1, frames=1).frame(0)[0])
    result = run_module("realtime", "--source", str(photos), "--no-display", "--output", f"{labelled}/",
                        "--json", str(labelled / "faces.jsonl"))  # the results into the folder the run makes
    assert result.returncode == 0, result.stderr[-2000:]
    assert sorted(path.name for path in labelled.iterdir()) == ["a.png", "faces.jsonl"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_as_a_results_file_is_not_opened_to_check_it(tmp_path):
    """`--json pipe` (another program reading the results as they come): the check that a results file can be written,
    made before any output is opened, opened the pipe and closed it, which its reader takes for the end; the results
    then waited for a reader for ever. A named pipe is opened once, by the results' writer, as before."""
    import threading

    from realtime.output import check_writable

    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    checked = threading.Thread(target=check_writable, args=(pipe,), daemon=True)
    checked.start()
    checked.join(5)  # (with no reader, opening the pipe to write waits)
    opened = checked.is_alive()
    if opened:  # a reader lets the open go on, and the thread end
        os.close(os.open(pipe, os.O_RDONLY | os.O_NONBLOCK))
        checked.join(5)
    assert not opened


def decodable_frames(video) -> int:
    """Frames of a video that decode, up to where it is cut off."""
    count = 0
    with contextlib.suppress(av.FFmpegError), av.open(str(video)) as container:
        for _ in container.decode(video=0):
            count += 1
    return count


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the file size limit is set in the child (POSIX)")
@pytest.mark.parametrize("suffix", [".avi", ".mkv", ".mp4"])
def test_a_video_cut_short_by_a_full_disk_is_an_error_even_at_its_last_bytes(tmp_path, tiny_model, suffix):
    """A file size limit (RLIMIT_FSIZE) fails writes as a full disk does, the system taking part of the last one:
    FFmpeg let such a write pass at the end of an MP4 or Matroska file, and OpenCV's AVI writer any of them."""
    import resource

    clip, video = tmp_path / "clip.mp4", tmp_path / f"out{suffix}"
    write_clip(clip, faces=1, frames=24)
    options = ("--source", str(clip), "--model", str(tiny_model), "--no-display", "--output", str(video))
    assert run_module("realtime", *options).returncode == 0
    whole = video.stat().st_size
    for limit in (whole - 20, whole // 2):  # its last bytes, its second half
        result = run_module("realtime", *options,
                            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))
        assert_one_line_error(result, f"cannot write {video}: File too large")
        assert result.returncode == 2 and video.stat().st_size == limit
        assert decodable_frames(video) >= 1  # what was written before plays


def test_a_held_face_has_no_raw_probabilities_in_csv(tmp_path):
    track = Track(3, Face(np.array([1.0, 2, 30, 40]), 0.9), np.full(7, 1 / 7, np.float32), None, 0, missed=2,
                  confirmed=True)
    writer = output.CsvWriter(tmp_path / "held.csv", LABELS)
    writer.write(Annotated(5, 0.2, np.zeros((8, 8, 3), np.uint8), [track], image="a.jpg"))
    writer.close()
    row = next(csv.DictReader(open(tmp_path / "held.csv")))
    assert row["held"] == "1" and row["image"] == "a.jpg" and row["raw_angry"] == "" and row["angry"] == "0.1429"


def write_clip_with_sound(path, seconds: float = 3.0, fps: int = 24, codec: str = "aac", video_from: int = 0) -> None:
    """A clip with moving grey levels and a 440 Hz tone, written with PyAV; its picture starts `video_from` frames
    after its sound."""
    container = av.open(str(path), "w")
    video = container.add_stream("libx264", rate=fps)
    video.width, video.height, video.pix_fmt = 320, 240, "yuv420p"
    sound = container.add_stream(codec, rate=16000)
    for i in range(int(seconds * fps)):
        image = np.full((240, 320, 3), i * 5 % 255, np.uint8)
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = i + video_from
        container.mux(video.encode(frame))
    tone = 0.3 * np.sin(2 * np.pi * 440 * np.arange(int(seconds * 16000)) / 16000)
    layout = sound.codec_context.layout.name
    for start in range(0, len(tone), 1024):
        chunk = tone[start:start + 1024]
        if sound.codec_context.format.name == "fltp":
            samples = np.tile(chunk.astype(np.float32), (len(sound.codec_context.layout.channels), 1))
        else:
            samples = (chunk * 32767).astype(np.int16)[None].repeat(len(sound.codec_context.layout.channels), 1)
        frame = av.AudioFrame.from_ndarray(samples, format=sound.codec_context.format.name, layout=layout)
        frame.sample_rate, frame.pts = 16000, start
        container.mux(sound.encode(frame))
    container.mux(video.encode())
    container.mux(sound.encode())
    container.close()


def test_results_give_a_video_file_s_time_as_players_show_it(tmp_path, tiny_model):
    """A video whose picture starts 0.5 s after its sound: the first frame's `time` was 0.0, where a player shows it at
    0.5 s (results set against the sound, or a transcript made from it, were 0.5 s early). A recording of it still
    starts with its first frame, the sound from there on, as before."""
    source = tmp_path / "late.mp4"
    write_clip_with_sound(source, seconds=2.0, video_from=12)  # 12 frames at 24 fps: 0.5 s
    with av.open(str(source)) as container:
        assert container.start_time == 0 and float(container.streams.video[0].start_time
                                                     * container.streams.video[0].time_base) == pytest.approx(0.5)
    for out in ("out.avi", "out.mp4"):
        ran = run_module("realtime", "--source", str(source), "--no-display", "--model", str(tiny_model),
                         "--json", str(tmp_path / "r.jsonl"), "--output", str(tmp_path / out))
        assert ran.returncode == 0, ran.stderr[-2000:]
        times = [json.loads(line)["time"] for line in (tmp_path / "r.jsonl").read_text().splitlines()]
        assert times[0] == pytest.approx(0.5, abs=0.002) and times[-1] == pytest.approx(0.5 + 47 / 24, abs=0.002)
        with av.open(str(tmp_path / out)) as recorded:
            assert recorded.duration / 1e6 == pytest.approx(2.0, abs=0.12)  # (not 0.5 s longer, nor shorter)


@pytest.mark.parametrize("codec, out", [("pcm_s16le", "out.mp4"), ("libopus", "out.mov")])
def test_re_encoded_sound_keeps_its_time(tmp_path, tiny_model, codec, out):
    """Sound that the recording's container does not take as it is (PCM into .mp4, Opus into .mov) is re-encoded as
    AAC, whose encoder starts with 1,024 samples of delay: given no times, it put them before the sound, 21 ms late at
    48 kHz (a user trial's clicks at 1.0002 s came at 1.0216 s). Each frame now goes in at its place, the delay before
    it; the first at its own time: Opus's decoder leaves out its first samples (its pre-skip), and counted from 0 every
    click came 20 ms early (at 0.9801 s)."""
    source = tmp_path / "clicks.mkv"
    with av.open(str(source), "w") as container:
        video = container.add_stream("libx264", rate=24)
        video.width, video.height, video.pix_fmt = 320, 240, "yuv420p"
        sound = container.add_stream(codec, rate=48000)
        for i in range(48):
            container.mux(video.encode(av.VideoFrame.from_ndarray(np.full((240, 320, 3), 60, np.uint8), format="rgb24")))
        samples = np.zeros(2 * 48000, np.int16)
        samples[48000:48000 + 240] = 20000  # a click at 1.0 s
        size = 960 if codec == "libopus" else 1024  # (Opus's frames are 20 ms)
        for start in range(0, len(samples), size):
            frame = av.AudioFrame.from_ndarray(samples[None, start:start + size], format="s16", layout="mono")
            frame.sample_rate, frame.pts = 48000, start
            container.mux(sound.encode(frame))
        container.mux(video.encode())
        container.mux(sound.encode())
    out = tmp_path / out
    ran = run_module("realtime", "--source", str(source), "--no-display", "--model", str(tiny_model), "--output", str(out))
    assert ran.returncode == 0, ran.stderr[-2000:]
    with av.open(str(out)) as recorded:
        stream = recorded.streams.audio[0]
        assert stream.codec_context.name == "aac"
        frames = list(recorded.decode(stream))
        start = float(frames[0].pts * stream.time_base)
        decoded = np.concatenate([frame.to_ndarray()[0] for frame in frames])
    click = start + np.flatnonzero(np.abs(decoded) > 0.3)[0] / 48000
    assert click == pytest.approx(1.0, abs=0.002)


def sound_of(path) -> tuple[str, float]:
    """(codec, seconds of decoded sound) of a file's first audio stream."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        seconds = sum(frame.samples / frame.sample_rate for frame in container.decode(stream))
        return stream.codec_context.name, seconds


@pytest.mark.parametrize("codec, suffix, out, carried", [
    ("aac", ".mp4", ".mp4", "aac"), ("pcm_s16le", ".mkv", ".mp4", "aac"),  # PCM does not go into MP4: re-encoded
    ("libopus", ".mkv", ".mov", "aac"), ("libopus", ".mkv", ".mp4", "opus"), ("libopus", ".mkv", ".m4v", "aac"),
    ("pcm_mulaw", ".avi", ".mkv", "aac"),  # (these three went wrong: an error, a traceback, a traceback)
    ("aac", ".ts", ".mp4", "aac"), ("aac", ".ts", ".mov", "aac")])  # (MPEG-TS's AAC: "Operation not permitted")
def test_recordings_carry_the_sound_of_a_video_file(tmp_path, tiny_model, codec, suffix, out, carried):
    source = tmp_path / f"in{suffix}"
    write_clip_with_sound(source, codec=codec)
    whole, part = tmp_path / f"whole{out}", tmp_path / f"part{out}"
    for out, more in ((whole, []), (part, ["--max-frames", "24"])):
        result = run_module("realtime", "--source", str(source), "--model", str(tiny_model), "--no-display",
                            "--output", str(out), *more)
        assert result.returncode == 0, result.stderr[-2000:]
    assert sound_of(whole)[0] == carried  # copied where the container takes it, else re-encoded
    assert sound_of(whole)[1] == pytest.approx(3.0, abs=0.1)
    assert sound_of(part)[1] == pytest.approx(1.0, abs=0.1)  # stopped after 1 s: the sound stops with the video
    with av.open(str(whole)) as recording:  # in step: the first frame is shown as the sound starts (x264's B-frame
        picture, sound = [next(recording.decode(stream)).time for stream in recording.streams]  # delay put it 67 ms
    assert picture == 0.0 and 0.0 <= sound < 0.09  # late); the sound within a packet of it (a re-encoding's priming,
    # and the time of a packet begun before the first frame, left out: the AVI's first frame is at 0.042 s, its sound's
    # second packet at 0.064; placed at 0, as it was, all its sound came 22 ms early)


def test_a_recording_into_avi_says_it_holds_no_sound(tmp_path, tiny_model):
    """MJPEG .avi carries no sound: the source's was left out without a word."""
    source = tmp_path / "talk.mp4"
    write_clip_with_sound(source, seconds=1.0)
    result = run_module("realtime", "--source", str(source), "--model", str(tiny_model), "--no-display",
                        "--output", str(tmp_path / "out.avi"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "note: out.avi holds no sound (MJPEG .avi); the source's sound is kept in .mp4, .m4v, .mov and .mkv\n" \
        in result.stderr
    with av.open(str(tmp_path / "out.avi")) as recording:
        assert not recording.streams.audio
    silent = run_module("realtime", "--source", "demo:1", "--max-frames", "3", "--model", str(tiny_model),
                        "--no-display", "--output", str(tmp_path / "demo.avi"))
    assert silent.returncode == 0 and "sound" not in silent.stderr  # (a source without sound: nothing to say)


def test_the_sound_of_a_recording_that_begins_mid_way_starts_with_its_first_frame(tmp_path, tiny_model):
    """A recording cut out of a longer one without its first key frame (a TV recording, a stream saved from its
    middle): its frames before the next key frame, 1 s in, cannot be decoded whole and are left out. Its sound was
    carried from the start all the same, 1 s ahead of the picture: here the silence of its first second, where the
    tone of the second belongs."""
    source = tmp_path / "cut_out.mp4"
    with av.open(str(source), "w") as container:
        video = container.add_stream("libx264", rate=24, options={"g": "24", "keyint_min": "24", "bf": "0"})
        video.width, video.height, video.pix_fmt = 320, 240, "yuv420p"
        sound = container.add_stream("aac", rate=16000)
        packets = []
        for i in range(48):
            image = np.full((240, 320, 3), i * 5 % 255, np.uint8)
            packets += video.encode(av.VideoFrame.from_ndarray(image, format="bgr24"))
        packets += video.encode()
        for packet in packets[1:]:  # (without the first key frame)
            container.mux(packet)
        layout = sound.codec_context.layout
        samples = np.arange(32000)
        tone = np.where(samples >= 16000, 0.3 * np.sin(2 * np.pi * 440 * samples / 16000), 0).astype(np.float32)
        for start in range(0, 32000, 1024):
            chunk = np.repeat(tone[None, start:start + 1024], len(layout.channels), 0)
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="fltp", layout=layout.name)
            frame.sample_rate, frame.pts = 16000, start
            container.mux(sound.encode(frame))
        container.mux(sound.encode())
    out = tmp_path / "out.mp4"
    result = run_module("realtime", "--source", str(source), "--model", str(tiny_model), "--no-display",
                        "--output", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    with av.open(str(out)) as recording:
        assert sum(1 for _ in recording.decode(video=0)) == 24
    with av.open(str(out)) as recording:
        heard = np.concatenate([frame.to_ndarray()[0] for frame in recording.decode(audio=0)])
    assert sound_of(out)[1] == pytest.approx(1.0, abs=0.1)
    assert np.sqrt(np.mean(heard[1600:6400] ** 2)) > 0.1  # (the tone from 0.1 s to 0.4 s: in step with the picture)


def test_without_h264_mp4_falls_back_to_mp4v(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(output, "h264_available", lambda: False)
    writer = VideoWriter(tmp_path / "out.mp4", 10, (64, 48))
    for i in range(5):
        writer.write(Annotated(i, i / 10, np.full((48, 64, 3), 40 * i, np.uint8), []))
    writer.close()
    assert "writing mp4v" in capsys.readouterr().err
    with av.open(str(tmp_path / "out.mp4")) as container:
        assert container.streams.video[0].codec_context.name == "mpeg4"  # MPEG-4 part 2, not H.264
        assert sum(1 for _ in container.decode(video=0)) == 5


class FakeScreen:
    """Stands in for OpenCV's window functions: keys to press, and what was asked of the window."""

    def __init__(self, monkeypatch, keys):
        self.keys, self.shown, self.calls, self.titles, self.idle = list(keys), [], [], [], 0
        monkeypatch.setattr(window, "screen_size", lambda near=None: (1280, 800))
        monkeypatch.setattr(window.cv2, "getWindowImageRect", lambda name: (100, 100, 640, 480))
        monkeypatch.setattr(window.cv2, "namedWindow", lambda *a: None)
        monkeypatch.setattr(window.cv2, "resizeWindow", lambda name, w, h: self.calls.append(("size", w, h)))
        monkeypatch.setattr(window.cv2, "imshow", lambda name, image: self.shown.append(image))
        monkeypatch.setattr(window.cv2, "waitKeyEx", lambda delay: self.key())
        monkeypatch.setattr(window.cv2, "getWindowProperty", lambda *a: 1.0)
        monkeypatch.setattr(window.cv2, "setWindowProperty", lambda name, prop, value: self.calls.append(("full", value)))
        monkeypatch.setattr(window.cv2, "setWindowTitle", lambda name, title: self.titles.append(title))

    def key(self) -> int:
        """The next key pressed (a letter, or a key code as cv2.waitKeyEx gives it), -1 when none is left."""
        key = self.keys.pop(0) if self.keys else -1
        self.idle = self.idle + 1 if key == -1 else 0
        assert self.idle < 1000, "the window waits for a key that no user of this test presses"
        return ord(key) if isinstance(key, str) else key


def test_window_opens_at_the_frame_size_fitted_to_the_screen_and_takes_keys(tmp_path, monkeypatch):
    screen = FakeScreen(monkeypatch, "bsfh")
    overlay = window.Overlay()
    shown = window.Window((1920, 1080), overlay, snapshots=tmp_path)
    assert screen.calls == [("size", 1152, 648)]  # 90% of the 1280x800 screen, same shape
    assert draw.fitted((640, 480), (1920, 1080)) == (640, 480)  # never enlarged
    frame = np.full((1080, 1920, 3), 90, np.uint8)
    for i in range(4):
        shown.write(Annotated(i, i / 30, frame, []))
    assert overlay.bars and shown.fullscreen and shown.help
    assert ("full", cv2.WINDOW_FULLSCREEN) in screen.calls
    full = screen.shown[-1]  # full screen: the picture fills the 1280x800 screen as far as its shape allows
    assert full.shape == (800, 1280, 3) and full[:40].max() == 0 and full[-40:].max() == 0 and full[400, 640, 0] == 90
    snapshots = list(tmp_path.glob("emotion-overlay-*.png"))
    assert len(snapshots) == 1 and cv2.imread(str(snapshots[0])).shape == frame.shape
    assert not np.array_equal(screen.shown[-1], frame)  # the help panel is drawn on what is shown...
    assert (frame == 90).all()  # ...never on the frame itself (nor so in a recording)


def test_full_screen_scales_a_small_picture_up():
    picture = draw.letterboxed(np.full((480, 640, 3), 200, np.uint8), (1280, 800))
    assert picture.shape == (800, 1280, 3)
    columns = np.flatnonzero(picture[400, :, 0])
    assert (columns[0], columns[-1]) == (106, 1172) and picture[:, :106].max() == 0  # 1067x800, bars at the sides


def test_window_pauses_until_space_and_quits_on_q(monkeypatch):
    screen = FakeScreen(monkeypatch, [" ", "x", "x", " ", "q"])
    shown = window.Window((640, 480), window.Overlay())
    frame = np.zeros((480, 640, 3), np.uint8)
    shown.write(Annotated(0, 0.0, frame, []))  # pauses, waits through two other keys, resumes
    assert not shown.paused and not shown.quit and screen.keys == ["q"]
    shown.write(Annotated(1, 0.03, frame, []))
    assert shown.quit


def test_a_photo_is_shown_without_an_fps_counter_and_stays_up_until_q(monkeypatch):
    screen = FakeScreen(monkeypatch, ["x", " ", "h", "q"])
    shown = window.Window((640, 480), window.Overlay(), photos=["photo.jpg"])
    frame = np.full((480, 640, 3), 90, np.uint8)
    shown.write(Annotated(0, 0.0, frame, []))
    assert np.array_equal(screen.shown[0], frame)  # no FPS counter on a photo
    shown.hold()  # space pauses nothing; h shows the help over the photo; q ends the hold
    assert shown.quit and not shown.paused and screen.keys == []
    assert not np.array_equal(screen.shown[-1], frame)
    video = window.Window((640, 480), window.Overlay())
    screen.keys = ["q"]
    video.write(Annotated(0, 0.0, np.zeros((480, 640, 3), np.uint8), []))
    assert screen.shown[-1][:30, :120].max() > 0  # a video's window counts frames per second
    video.hold()  # a video's window does not wait at the end


def test_the_counter_moves_off_a_face_and_its_caption_and_stays_where_it_went(monkeypatch):
    """The FPS counter (and a photo's number) sat at the top left over any face there and its caption."""
    screen = FakeScreen(monkeypatch, [])
    shown = window.Window((640, 480), window.Overlay())
    labels = ["sad", "happy"]

    def frame_with(box):
        frame = np.full((480, 640, 3), 90, np.uint8)
        tracks = [Track(1, Face(np.array(box, float), 0.9), np.array([0.2, 0.8]), None, 1)] if box else []
        draw.draw_faces(frame, tracks, labels)
        return frame, tracks

    def counter_at(frame_and_tracks) -> tuple[int, int, int, int]:
        frame, tracks = frame_and_tracks
        shown.write(Annotated(0, 0.0, frame, tracks))
        rows, columns = np.nonzero(np.any(screen.shown[-1] != frame, axis=2))  # what the window drew over it
        return rows.min(), columns.min(), rows.max(), columns.max()

    top, left, bottom, right = counter_at(frame_with(None))
    assert top < 40 and left < 20 and right < 200  # top left
    face_box = (4, 10, 140, 150)  # caption inside the frame's top edge, where the counter was
    top, left, bottom, right = counter_at(frame_with(face_box))
    assert left > 400 and top < 40  # top right: clear of the face and its caption
    top, left, bottom, right = counter_at(frame_with(None))
    assert left > 400  # and it stays there (no hopping back and forth as a face comes and goes)
    x0, y0, x1, y1 = draw.face_areas(frame_with(face_box)[1], (640, 480))[0]
    assert x0 == 4 - 3 and y0 <= 10 - 12 and y1 >= 150 + 12 and x1 == 140 + 3  # the box and its edging, a caption's
    # room above and below


@pytest.mark.parametrize("bars", [False, True])
def test_face_areas_hold_all_that_is_drawn_of_the_faces(bars):
    """The window keeps its counter off what face_areas says the faces take: their boxes, captions and charts."""
    labels = ["angry", "happy", "sad", "surprise"]
    frame = np.full((480, 640, 3), 90, np.uint8)
    tracks = [Track(n, Face(np.array(box, float), 0.9), np.array([0.1, 0.6, 0.2, 0.1]), None, 1)
              for n, box in enumerate([(4, 10, 140, 150), (300, 200, 380, 290), (560, 380, 700, 520)], start=120)]
    drawn = np.any(draw.draw_faces(frame.copy(), tracks, labels, bars=bars) != frame, axis=2)
    covered = np.zeros_like(drawn)
    for x0, y0, x1, y1 in draw.face_areas(tracks, (640, 480), bars=bars):
        covered[max(0, y0 - 2):max(0, y1 + 3), max(0, x0 - 2):max(0, x1 + 3)] = True  # (lines are drawn astride)
    assert drawn.any() and not (drawn & ~covered).any()


def test_face_areas_hold_a_chart_of_the_classes_answered_and_no_more(monkeypatch):
    """With --classes the bars chart only the classes kept: the window's areas are that chart's, not all the model's."""
    labels = ["angry", "happy", "sad", "surprise"]
    frame = np.full((480, 640, 3), 90, np.uint8)
    tracks = [Track(7, Face(np.array((200, 150, 330, 300), float), 0.9), np.array([0.1, 0.7, 0.2, 0.0]), None, 1)]
    drawn = np.any(draw.draw_faces(frame.copy(), tracks, labels, bars=True, charted=[0, 1, 2]) != frame, axis=2)
    areas = draw.face_areas(tracks, (640, 480), bars=True, rows=3)
    covered = np.zeros_like(drawn)
    for x0, y0, x1, y1 in areas:
        covered[max(0, y0 - 2):max(0, y1 + 3), max(0, x0 - 2):max(0, x1 + 3)] = True
    assert drawn.any() and not (drawn & ~covered).any()
    chart, every_class = areas[-1], draw.face_areas(tracks, (640, 480), bars=True)[-1]
    assert chart[3] - chart[1] < every_class[3] - every_class[1]  # a row fewer than the model's 4 classes
    FakeScreen(monkeypatch, [])
    overlay = window.Overlay(bars=True, charted=[0, 1, 2])
    shown = window.Window((640, 480), overlay)
    shown.write(Annotated(0, 0.0, frame, tracks))
    assert shown._shown.areas == areas  # the window keeps its counter off that chart


def test_the_loop_tells_the_window_which_classes_the_bars_chart(tiny_model):
    from realtime.classify import Classifier
    from realtime.detect import FaceDetector
    from realtime.loop import run
    from realtime.pipeline import Pipeline
    from realtime.scene import DemoSource
    from realtime.track import Tracker

    classifier = Classifier(tiny_model, classes=["sad", "happy", "neutral"])
    overlay = window.Overlay(bars=True)
    run(DemoSource(faces=1), Pipeline(FaceDetector("full"), classifier), Tracker(), [], overlay=overlay, max_frames=1)
    assert [classifier.labels[i] for i in overlay.charted] == classifier.classes and len(overlay.charted) == 3


RIGHT, LEFT = 0xFF53, 0xFF51  # the arrow keys as cv2.waitKeyEx gives them on Linux (X11)


def test_photos_stay_up_until_the_next_is_asked_for_and_the_arrows_go_back_and_forth(monkeypatch):
    screen = FakeScreen(monkeypatch, [])
    shown = window.Window((64, 48), window.Overlay(), photos=[f"photo {n}.jpg" for n in range(3)], step=True)
    photos = [np.full((48, 64, 3), 40 * (n + 1), np.uint8) for n in range(3)]

    def write(n, keys):
        screen.keys, start = list(keys), len(screen.shown)
        shown.write(Annotated(n, float(n), photos[n], [], f"photo {n}.jpg"))
        assert screen.keys == []  # every key was taken, and the window waited for the last of them
        return [int(image[30, 32, 0]) for image in screen.shown[start:]]  # which photo each picture shown was

    assert write(0, []) == [40]  # the first photo is shown at once...
    assert write(1, ["x", RIGHT]) == [80]  # ...and the second, labelled meanwhile, when → is pressed (x: nothing)
    assert write(2, [LEFT, LEFT, "x", RIGHT, " "]) == [40, 80, 120]  # ← shows the one before (no more kept)
    screen.keys = [LEFT, RIGHT, RIGHT, "Q"]
    shown.hold()  # the last one is held: the arrows still go through the photos; → on it does nothing, Q quits
    assert shown.quit and [int(image[30, 32, 0]) for image in screen.shown[-3:]] == [120, 80, 120]
    assert screen.titles[-3:] == [f"photo {n}.jpg - {window.TITLE}" for n in (2, 1, 2)]  # its name on the title
    numbered = screen.shown[-1][:30, :60]
    assert numbered.min() < 120 < numbered.max()  # "3 / 3" in the corner, on what is shown only
    assert (photos[2] == 120).all()


def test_a_video_file_is_shown_at_its_own_speed_and_a_late_frame_does_not_make_the_rest_rush(monkeypatch):
    screen, clock = FakeScreen(monkeypatch, []), [100.0]

    def wait(delay_ms):  # waiting for a key lets the (fake) time go by
        clock[0] += delay_ms / 1000
        return screen.key()

    monkeypatch.setattr(window, "time", SimpleNamespace(perf_counter=lambda: clock[0], strftime=time.strftime))
    monkeypatch.setattr(window.cv2, "waitKeyEx", wait)
    monkeypatch.setattr(window.cv2, "imshow", lambda name, image: screen.shown.append(clock[0]))
    shown = window.Window((64, 48), window.Overlay(), pace=True)
    frame = np.zeros((48, 64, 3), np.uint8)
    for n, labelling in enumerate([0, 0.01, 0.01, 1.0, 0.01, 0.01]):  # the 4th frame took a second to label
        clock[0] += labelling
        shown.write(Annotated(n, n / 10, frame, []))
    gaps = np.diff(screen.shown)
    assert np.allclose(gaps, [0.1, 0.1, 1.001, 0.1, 0.1], atol=0.003), gaps  # 10 frames a second, as in the file
    unpaced = window.Window((64, 48), window.Overlay())
    start = clock[0]
    for n in range(3):
        unpaced.write(Annotated(n, n / 10, frame, []))
    assert clock[0] - start < 0.01  # without pace (a camera, a benchmark): as fast as the frames come


def test_b_draws_the_probability_bars_on_the_photo_shown_and_on_those_gone_back_to(monkeypatch):
    screen = FakeScreen(monkeypatch, [])
    overlay = window.Overlay()
    shown = window.Window((64, 48), overlay, photos=["0.jpg", "1.jpg"], step=True)
    assert overlay.redrawable  # the loop is to hand each photo over with a way to draw it again

    def photo(n, bars):  # a photo as drawn: its number in one pixel, and whether the bars are on in another
        frame = np.zeros((48, 64, 3), np.uint8)
        frame[30, 32, 0], frame[47, 63, 0] = 40 * (n + 1), 200 * bars
        return frame

    for n in range(2):
        screen.keys = [RIGHT] if n else []  # (the second photo comes up when → is pressed on the first)
        shown.write(Annotated(n, float(n), photo(n, overlay.bars), [], redraw=lambda bars, n=n: photo(n, bars)))
    seen = lambda: [(int(image[30, 32, 0]), int(image[47, 63, 0])) for image in screen.shown]  # noqa: E731
    assert seen() == [(40, 0), (80, 0)] and not overlay.bars
    screen.keys = ["b", LEFT, "b", RIGHT, "q"]
    shown.hold()
    assert seen()[2:] == [(80, 200), (40, 200), (40, 0), (80, 0)]  # b at once on the photo shown, and then on
    # the one gone back to, drawn again as the bars now are; b again takes them off both


def test_b_draws_the_probability_bars_on_a_paused_video_frame_at_once(monkeypatch):
    screen = FakeScreen(monkeypatch, [" ", "b", "s", " "])
    shown = window.Window((640, 480), window.Overlay(), snapshots=Path(tempfile.mkdtemp()))
    frame = np.zeros((480, 640, 3), np.uint8)
    shown.write(Annotated(0, 0.0, frame, [], redraw=lambda bars: np.full((480, 640, 3), 200 * bars, np.uint8)))
    assert [int(image[470, 630, 0]) for image in screen.shown] == [0, 0, 200, 200]  # paused, then b: the bars
    assert cv2.imread(str(next(shown.snapshots.glob("*.png"))))[470, 630, 0] == 200  # and in the snapshot


def test_h_shows_the_keys_on_a_paused_video_frame_at_once(monkeypatch):
    screen = FakeScreen(monkeypatch, [" ", "h", " "])
    shown = window.Window((640, 480), window.Overlay())
    shown.write(Annotated(0, 0.0, np.zeros((480, 640, 3), np.uint8), []))
    played, paused, helped, resumed = screen.shown
    lit = [int((image > 0).any(2).sum()) for image in screen.shown]
    assert lit[2] > 2 * lit[1] > 0  # paused: its line; then h: the keys below it, at once (was: nothing until resumed)
    assert lit[3] > lit[1]  # resumed with the help still on


def test_the_last_photo_read_is_held_even_when_one_after_it_could_not_be_read(monkeypatch):
    screen = FakeScreen(monkeypatch, [])
    shown = window.Window((64, 48), window.Overlay(), photos=["a.jpg", "b.jpg", "c.jpg", "d.jpg"], step=True)
    shown.write(Annotated(0, 0.0, np.zeros((48, 64, 3), np.uint8), [], "a.jpg"))  # b.jpg and d.jpg unreadable
    screen.keys = [RIGHT]
    shown.write(Annotated(1, 1.0, np.zeros((48, 64, 3), np.uint8), [], "c.jpg"))  # shown when → is pressed, and
    assert screen.keys == [] and len(screen.shown) == 2  # no further key is needed before the run can end
    screen.keys = ["q"]
    shown.hold()
    assert shown.quit
    assert [picture.number for picture in shown._seen] == [1, 3]  # each numbered by its place among the files


def test_a_goes_through_the_rest_of_the_photos_without_stopping(monkeypatch):
    screen = FakeScreen(monkeypatch, [])
    shown = window.Window((64, 48), window.Overlay(), photos=list("abcd"), step=True)
    for n in range(4):
        screen.keys = ["a"] if n == 1 else []
        shown.write(Annotated(n, float(n), np.zeros((48, 64, 3), np.uint8), []))  # waited on the first until a
    assert len(screen.shown) == 4 and not shown.quit and not shown.step


def test_the_window_takes_the_shape_of_each_photo_and_of_the_screen_in_full_screen(monkeypatch):
    screen = FakeScreen(monkeypatch, [])
    shown = window.Window((640, 480), window.Overlay(), photos=["0.jpg", "1.jpg"])
    shown.write(Annotated(0, 0.0, np.zeros((480, 640, 3), np.uint8), []))
    shown.write(Annotated(1, 1.0, np.zeros((2000, 1000, 3), np.uint8), []))  # a portrait photo after a landscape one
    assert screen.calls == [("size", 640, 480), ("size", 360, 720)]  # fitted to 90% of 1280x800, not stretched
    screen.keys = ["f", "f"]
    shown.write(Annotated(2, 2.0, np.zeros((2000, 1000, 3), np.uint8), []))
    shown.write(Annotated(3, 3.0, np.zeros((2000, 1000, 3), np.uint8), []))
    # sized to the screen before asking for full screen (where no window manager does it, the window still
    # covers the screen, and the picture letterboxed to the screen is not squeezed into the photo's window)
    assert screen.calls[2:] == [("size", 1280, 800), ("full", cv2.WINDOW_FULLSCREEN), ("full", cv2.WINDOW_NORMAL),
                                ("size", 360, 720)]


class PhotoSource(loop.Source):
    def __init__(self, count):
        self.count, self.size = count, (64, 48)

    def __iter__(self):
        return (np.zeros((48, 64, 3), np.uint8) for _ in range(self.count))


class NoFaces:
    classifier = SimpleNamespace(labels=LABELS, classes=LABELS)

    def process(self, frame, previous):
        return FrameResult([], np.zeros((0, 48, 48), np.uint8), np.zeros((0, len(LABELS))))


class FileSink:
    def __init__(self, screen, fail=False):
        self.screen, self.fail, self.keys_left_at_close = screen, fail, None

    def write(self, annotated):
        if self.fail:
            raise OutputError("disk full")

    def close(self):
        self.keys_left_at_close = list(self.screen.keys)


def test_the_last_photo_stays_up_after_the_files_are_complete_but_not_after_a_failure(monkeypatch):
    screen = FakeScreen(monkeypatch, ["x", "x", "q"])
    shown, written = window.Window((64, 48), window.Overlay(), photos=["photo.jpg"]), FileSink(screen)
    stats, stopped = loop.run(PhotoSource(2), NoFaces(), Tracker.for_photos(), [written, shown])
    assert (stats.frames, stopped) == (2, "end") and shown.quit
    assert written.keys_left_at_close == ["q"]  # the file was complete before the window waited for q
    screen.keys = ["x", "q"]
    shown = window.Window((64, 48), window.Overlay(), photos=["photo.jpg"])
    with pytest.raises(OutputError):
        loop.run(PhotoSource(2), NoFaces(), Tracker.for_photos(), [shown, FileSink(screen, fail=True)])
    assert screen.keys == ["q"] and not shown.quit  # an error is not kept waiting behind a photo


def test_list_cameras_answers_without_a_camera():
    result = run_module("realtime", "--list-cameras")
    if result.stdout:  # a camera on this machine
        assert result.returncode == 0 and result.stdout.startswith("camera ")
    else:  # none: a script can tell by the exit code
        assert result.returncode == 1 and result.stderr.startswith("no camera found"), result.stderr


def test_report_draws_timelines_and_shares(tmp_path, tiny_model):
    results = tmp_path / "run.jsonl"
    assert run_module("realtime", "--source", "demo:3", "--max-frames", "20", "--no-display", "--model",
                      str(tiny_model), "--json", str(results)).returncode == 0
    made = run_module("realtime.report", str(results))
    assert made.returncode == 0, made.stderr
    picture = cv2.imread(str(tmp_path / "run.png"))
    assert picture is not None and picture.shape[1] > 1000
    from realtime.report import read_results, shares, timelines

    records = read_results(results)
    assert sorted(timelines(records)) == [1, 2, 3] and sum(shares(records).values()) == pytest.approx(1.0)
    text = results.read_text()  # a run killed while writing leaves its last line cut off: the rest is read
    (tmp_path / "killed.jsonl").write_text(text[:text.rindex("\n", 0, len(text) - 1) + 30])
    killed = run_module("realtime.report", str(tmp_path / "killed.jsonl"))
    assert killed.returncode == 0 and "the last line of" in killed.stderr and "is cut off" in killed.stderr
    assert len(read_results(tmp_path / "killed.jsonl")) == len(records) - 1
    from realtime.report import ReportError

    for face in ('{"id": [1], "label": "sad"}', '{"id": 1, "label": null}', '[1, "sad"]'):  # edited by hand
        (tmp_path / "edited.jsonl").write_text('{"frame": 0, "time": 0, "faces": [%s]}\n' % face)
        with pytest.raises(ReportError, match="line 1 is not a frame"):
            read_results(tmp_path / "edited.jsonl")
    (tmp_path / "bad.jsonl").write_text('{"frame": 0}\nnot json\n')
    assert_one_line_error(run_module("realtime.report", str(tmp_path / "bad.jsonl")), "line 1")
    assert_one_line_error(run_module("realtime.report", str(tmp_path / "missing.jsonl")), "cannot read")
    assert_one_line_error(run_module("realtime.report", str(tmp_path / "run.png")), "not a text file")
    (tmp_path / "folder").mkdir()
    for out in ("run.xyz", "folder"):
        assert_one_line_error(run_module("realtime.report", str(results), "--out", str(tmp_path / out)),
                              "name a picture file")
    if hasattr(os, "fork"):  # a full disk (here a file size limit) leaves no broken picture, not even an empty one
        import resource

        for limit in ((tmp_path / "run.png").stat().st_size - 100, 5000):  # its last bytes fail, or its first
            full = run_module("realtime.report", str(results), "--out", str(tmp_path / "full.png"),
                              preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))
            assert_one_line_error(full, f"cannot write {tmp_path / 'full.png'}: File too large")
            assert not list(tmp_path.glob("*full.png*"))


def test_pictures_of_several_sizes_keep_their_shape(tmp_path):
    """A folder's pictures after the first may have other sizes: a video fits each in with bars, never squashed;
    an image output is the last picture at its own size."""
    square, wide = np.full((200, 200, 3), 60, np.uint8), np.full((200, 400, 3), 220, np.uint8)
    video, still = VideoWriter(tmp_path / "all.mkv", 1.0, (200, 200)), VideoWriter(tmp_path / "last.png", 1.0, (200, 200))
    for writer in (video, still):
        writer.write(Annotated(0, 0.0, square, []))
        writer.write(Annotated(1, 1.0, wide, []))
        writer.close()
    assert cv2.imread(str(tmp_path / "last.png")).shape == wide.shape
    with av.open(str(tmp_path / "all.mkv")) as container:
        last = [frame.to_ndarray(format="bgr24") for frame in container.decode(video=0)][-1]
    assert last.shape == square.shape
    assert last[:40].max() < 30 and last[-40:].max() < 30  # bars above and below the 200x100 picture
    assert np.abs(last[60:140].astype(int) - 220).max() < 20  # the picture itself, the full width


def test_report_of_photos_draws_each_folder_s_labels_instead_of_a_timeline(tmp_path, tiny_model):
    """A folder of photos used to be drawn as a video: one "face 1" row across hundreds of unrelated photos."""
    from realtime.report import NO_FACE, of_photos, photo_groups, read_results
    from realtime.scene import background, paste_face

    for folder, faces in (("happy", 2), ("sad", 1)):
        (tmp_path / "photos" / folder).mkdir(parents=True)
        for number in range(faces):
            picture = background(320, 240, seed=number)
            paste_face(picture, 110, (160, 120))
            cv2.imwrite(str(tmp_path / "photos" / folder / f"{number}.jpg"), picture)
    cv2.imwrite(str(tmp_path / "photos" / "sad" / "empty.jpg"), background(320, 240, seed=7))
    results = tmp_path / "photos.jsonl"
    run = run_module("realtime", "--source", str(tmp_path / "photos"), "--no-display", "--model", str(tiny_model),
                     "--json", str(results))
    assert run.returncode == 0 and "labelled 4 photos: 3 faces (" in run.stderr, run.stderr  # the closing line
    assert run.stderr.rstrip().endswith("; no face found in 1"), run.stderr
    records = read_results(results)
    folders, kind = photo_groups(records)
    assert of_photos(records) and sorted(folders) == ["happy", "sad"] and kind == "class"
    assert sum(folders["happy"].values()) == 2 and folders["sad"][NO_FACE] == 1 and sum(folders["sad"].values()) == 2
    made = run_module("realtime.report", str(results))
    assert made.returncode == 0 and cv2.imread(str(tmp_path / "photos.png")) is not None, made.stderr
    frames = [{"image": "party.gif", "faces": []}, {"image": "party.gif", "faces": []}]  # an animated GIF's frames
    assert not of_photos(frames) and not of_photos([{"faces": []}, {"faces": []}])  # and a video's


def test_report_of_photos_draws_a_bar_per_class_as_the_scorer_finds_the_classes(tmp_path):
    """Photo sets laid out as they come: KDEF's classes in file names (`AF01/AF01AFS.JPG`, the folder is the person),
    CK+'s in a labels folder. The report drew a bar per folder (per person, the 20 largest of 70; for JAFFE one bar),
    and took no labels; now a bar per class, by the labels, the class folders or the file names (as
    `bench/score_results.py` finds them); photos without a class are by folder as before."""
    from realtime.labels import read_labels
    from realtime.report import NO_FACE, NO_LABEL, photo_groups

    def record(image, label):
        return {"image": image, "faces": [{"id": 1, "label": label}] if label else []}

    kdef = [record("AF01/AF01AFS.JPG", "fear"), record("AM02/AM02AFS.JPG", "sad"), record("AF01/AF01HAS.JPG", "happy"),
            record("AM02/AM02HAHL.JPG", None)]
    groups, kind = photo_groups(kdef)
    assert kind == "class" and groups == {"fear": Counter(fear=1, sad=1), "happy": Counter(happy=1, **{NO_FACE: 1})}
    mixed = kdef + [record("misc/holiday.jpg", "happy")]  # a photo of no class: by folder, as before
    assert photo_groups(mixed) == ({"AF01": Counter(fear=1, happy=1), "AM02": Counter(sad=1, **{NO_FACE: 1}),
                                    "misc": Counter(happy=1)}, "folder")
    (tmp_path / "labels.csv").write_text("path,label\nS005/001/1.png,3\nS005/001/2.png,5\n")
    ck = [record("S005/001/1.png", "disgust"), record("S005/001/2.png", "sad"), record("S005/001/0.png", "neutral")]
    labels = {"S005/001/1.png": "3", "S005/001/2.png": "5"}
    assert read_labels(tmp_path / "labels.csv") == labels
    groups, kind = photo_groups(ck, labels, ["neutral", "angry", "contempt", "disgust", "fear", "happy", "sad"])
    assert kind == "class" and list(groups) == ["disgust", "happy", NO_LABEL] and groups["happy"] == Counter(sad=1)
    results = tmp_path / "ck.jsonl"
    results.write_text("".join(json.dumps({"frame": i, "time": i, **r}) + "\n" for i, r in enumerate(ck)))
    made = run_module("realtime.report", str(results), "--labels", str(tmp_path / "labels.csv"), "--numbers", "ckplus")
    assert made.returncode == 0 and cv2.imread(str(tmp_path / "ck.png")) is not None, made.stderr
    # Numbers without --numbers: every photo was drawn as one "(no label)" bar, and the picture written, exit 0
    assert_one_line_error(run_module("realtime.report", str(results), "--labels", str(tmp_path / "labels.csv")),
                          "gives classes by number: say whose numbering with --numbers")
    # CK+'s classes are in its Emotion/ folder, not in its sequence folders (S005/001/): it drew a bar per sequence
    frames = tmp_path / "frames.jsonl"
    frames.write_text("".join(json.dumps({"frame": i, "time": i, **record(f"S005/00{i + 1}/S005_00{i + 1}_0000001{i}.png",
                                                                           "happy")}) + "\n" for i in range(3)))
    assert_one_line_error(run_module("realtime.report", str(frames), "--numbers", "ckplus"),
                          "no photo lies in a class folder numbered so (0/, 1/, ...); CK+ gives its classes in its "
                          "Emotion/ folder: --labels CK+/Emotion --numbers ckplus")
    (tmp_path / "other.csv").write_text("x/9.png,happy\n")
    assert_one_line_error(run_module("realtime.report", str(results), "--labels", str(tmp_path / "other.csv")),
                          "names none of the photos")
    assert_one_line_error(run_module("realtime.report", str(results), "--labels", str(tmp_path / "missing.csv")),
                          "cannot read labels file")


def test_report_of_photos_names_the_labels_on_their_bars():
    """Each folder's bar names its parts' labels where they fit (only numbers were shown: the colours sent the reader to
    the other chart), and photos outside any subfolder are named for what they are (it said "(top)")."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from realtime.report import NO_FACE, draw_folders, label_colours

    order = ["neutral", "happy", "sad", NO_FACE]
    for folders, names in (({".": Counter(neutral=7, happy=2, sad=1)}, ["all photos"]),
                           ({".": Counter(happy=1), "sad": Counter(sad=9, **{NO_FACE: 1})},
                            ["(not in a subfolder)", "sad"])):
        figure, axes = plt.subplots()
        draw_folders(axes, folders, order, label_colours(order[:3]))
        texts = [text.get_text() for text in axes.texts]
        assert [label.get_text() for label in axes.get_yticklabels()] == names
        plt.close(figure)
        assert ("neutral 70" in texts and "happy 20" in texts and "sad 10" in texts) if len(folders) == 1 else \
            ("happy 100" in texts and "sad 90" in texts and "10" in texts)  # (no room for "no face 10")


def test_report_draws_a_face_s_frames_in_a_row_with_one_label_as_one_bar():
    from realtime.report import label_colours, label_spans

    times = [0.0, 0.1, 0.2, 0.3, 0.4, 1.0, 2.0, 2.1]
    frames = [(0, "happy"), (1, "happy"), (2, "happy"), (3, "sad"), (4, "happy"),
              (6, "happy"), (7, "happy")]  # gone from frame 5 (1.0 s), then back
    spans = label_spans(frames, times)
    assert spans.keys() == {"happy", "sad"}
    assert np.allclose(spans["happy"], [(0.0, 0.3), (0.4, 0.6), (2.0, 0.2)])  # each frame lasts until the next
    assert np.allclose(spans["sad"], [(0.3, 0.1)])
    assert label_spans([], times) == {}
    assert label_spans([(0, "sad")], [0], last=1) == {"sad": [(0, 1)]}  # one frame, drawn by frame: a frame wide
    # A face in every frame of a variable-frame-rate video (30 fps, then 15) or of a camera is one bar: it was split
    # wherever two frames lay further apart than the shortest gap, and drawn as slivers.
    uneven = [i / 30 for i in range(30)] + [1 + i / 15 for i in range(15)] + [2.05, 2.3, 2.31, 2.9]
    assert label_spans([(i, "sad") for i in range(len(uneven))], uneven) == {"sad": [(0.0, pytest.approx(2.9 + 1 / 30))]}
    colours = label_colours(["calm", "happy", "bored", "excited"])  # a model of one's own classes: each its colour
    assert len(set(colours.values())) == 4 and colours["happy"] == tuple(v / 255 for v in (240, 200, 40))


def test_report_of_a_long_video_shows_each_stretch_s_main_label(tmp_path):
    """Frames narrower than a pixel were drawn one over another, the label drawn last taking the pixel: a face
    labelled happy two frames in three and sad the third, over 20,000 frames, came out all sad. Each column of the
    timeline now shows the label shown most there; a face gone for a stretch leaves it empty as before."""
    from realtime.draw import colour_of
    from realtime.report import draw_report

    records = [{"time": i / 30, "frame": i, "image": None,
                "faces": [] if 8000 <= i < 12000 else [{"id": 1, "label": "sad" if i % 3 == 2 else "happy"}]}
               for i in range(20000)]
    draw_report(records, tmp_path / "long.png", "long")
    picture = cv2.imread(str(tmp_path / "long.png")).astype(int)
    picture = picture[:, : picture.shape[1] * 2 // 3]  # the timeline (the shares' bars are at the right)
    happy, sad = (np.abs(picture - colour_of(label)).sum(2) < 30 for label in ("happy", "sad"))
    row = happy.sum(1).argmax()  # the face's row, across the timeline
    assert happy[row].sum() > 400 and sad.sum() == 0
    columns = np.flatnonzero(happy[row])
    gap = np.diff(columns).max()  # the 4,000 frames without the face: a fifth of the timeline, empty
    assert 0.15 < gap / (columns[-1] - columns[0]) < 0.25


def test_an_odd_sized_video_is_recorded_whole_with_its_last_column_and_row_repeated(tmp_path):
    """H.264 (yuv420p) takes even sides only: a 97x61 picture was recorded 96x60, its last column and row cut off, while
    its results kept 97x61's coordinates. Now 98x62, the picture whole at its place, the extra column and row copies."""
    import av

    picture = np.zeros((61, 97, 3), np.uint8)
    picture[:, 60:] = (40, 200, 90)  # the last column and row green, the rest black
    picture[:, 96], picture[60] = (250, 250, 250), (250, 250, 250)  # ... up to a white last column and row
    writer = VideoWriter(tmp_path / "odd.mp4", 10.0, (97, 61))
    for index in range(3):
        writer.write(Annotated(index, index / 10, picture.copy(), []))
    writer.close()
    with av.open(str(tmp_path / "odd.mp4")) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="bgr24")
    assert frame.shape == (62, 98, 3)
    assert np.abs(frame[:61, :97].astype(int) - picture).mean() < 8
    assert frame[:61, 96:].min() > 200 and frame[60:, :97].min() > 200  # the white column and row, and their copies


def test_report_says_csv_results_are_not_json_lines(tmp_path, tiny_model):
    results = tmp_path / "run.csv"
    assert run_module("realtime", "--source", "demo:1", "--max-frames", "3", "--no-display", "--model",
                      str(tiny_model), "--csv", str(results)).returncode == 0
    assert_one_line_error(run_module("realtime.report", str(results)), "(it is --csv results: give the --json ones)")


def test_a_picture_one_pixel_high_is_refused_for_h264_with_the_reason(tmp_path):
    with pytest.raises(output.OutputError, match="H.264 needs a picture of 2x2 pixels at least, not 640x1"):
        VideoWriter(tmp_path / "thin.mp4", 30.0, (640, 1))
    writer = VideoWriter(tmp_path / "thin.avi", 30.0, (640, 1))  # MJPG takes it
    writer.write(Annotated(0, 0.0, np.full((1, 640, 3), 128, np.uint8), []))
    writer.close()
    assert cv2.VideoCapture(str(tmp_path / "thin.avi")).read()[0]


def test_a_folder_as_output_takes_each_annotated_photo_under_its_own_name(tmp_path, tiny_model):
    """`--output labelled/` for photos: each photo annotated, at its path inside the source folder; a picture OpenCV
    cannot write in its own format gets `.jpg` added. Before, a folder was refused (a video or one image only)."""
    from PIL import Image

    from realtime.scene import background, paste_face

    photos = tmp_path / "photos"
    (photos / "sub").mkdir(parents=True)
    for number, name in enumerate(["a.jpg", "sub/b.png", "sub/c.gif"]):
        picture = background(320 + 40 * number, 240, seed=number)
        paste_face(picture, 120, (160, 120))
        if name.endswith(".gif"):
            Image.fromarray(picture[:, :, ::-1]).save(photos / name)
        else:
            cv2.imwrite(str(photos / name), picture)
    labelled = tmp_path / "labelled"
    result = run_module("realtime", "--source", str(photos), "--no-display", "--model", str(tiny_model),
                        "--output", f"{labelled}/", "--json", str(tmp_path / "faces.jsonl"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"wrote {labelled}/ (3 photos)" in result.stderr
    written = sorted(path.relative_to(labelled).as_posix() for path in labelled.rglob("*"))
    assert written == ["a.jpg", "sub", "sub/b.png", "sub/c.gif.jpg"]  # nothing half-written left beside them
    records = [json.loads(line) for line in (tmp_path / "faces.jsonl").read_text().splitlines()]
    for record, name in zip(records, ["a.jpg", "sub/b.png", "sub/c.gif.jpg"]):
        original = np.asarray(Image.open(photos / record["image"]).convert("RGB"))[:, :, ::-1]
        annotated = cv2.imread(str(labelled / name))
        assert Path(record["output"]) == labelled / name  # the record names its copy
        assert annotated.shape == original.shape and len(record["faces"]) == 1
        changed = np.abs(annotated.astype(int) - original).max(axis=2) > 20  # the box and caption drawn in
        x0, y0, x1, y1 = (round(value) for value in record["faces"][0]["box"])
        assert changed[y0 + 20:y1 - 2, x0 - 3:x0 + 3].any(axis=1).mean() > 0.9  # down the box's left side
        assert changed[y0 + 20:y1 - 2, x1 - 3:x1 + 3].any(axis=1).mean() > 0.9  # and its right side
        assert changed.mean() < 0.2
    again = run_module("realtime", "--source", str(photos / "a.jpg"), "--no-display", "--model", str(tiny_model),
                       "--output", str(labelled))  # an existing folder, without the slash: one photo
    assert again.returncode == 0 and f"wrote {labelled} (1 photo)" in again.stderr, again.stderr[-2000:]
    plain = run_module("realtime", "--source", str(photos), "--no-display", "--model", str(tiny_model),
                       "--output", str(tmp_path / "plain"))  # a new name without a suffix: a folder, for photos
    assert plain.returncode == 0 and f"wrote {tmp_path / 'plain'} (3 photos)" in plain.stderr, plain.stderr[-2000:]
    assert (tmp_path / "plain" / "sub" / "b.png").is_file()
    (photos / "sub" / "a.jpg").write_bytes((photos / "a.jpg").read_bytes())  # the same name in another folder
    both = run_module("realtime", "--source", str(photos / "a.jpg"), str(photos / "sub" / "a.jpg"), "--no-display",
                      "--model", str(tiny_model), "--output", f"{tmp_path / 'both'}/")  # absolute paths, as a glob's
    assert both.returncode == 0, both.stderr[-2000:]
    assert sorted(path.relative_to(tmp_path / "both").as_posix() for path in (tmp_path / "both").rglob("*.jpg")) == \
        ["a.jpg", "sub/a.jpg"]  # each below the folder the two share, not one over the other
    Image.open(photos / "sub" / "a.jpg").save(photos / "sub" / "z.gif")  # saved as z.gif.jpg...
    (photos / "sub" / "z.gif.jpg").write_bytes((photos / "a.jpg").read_bytes())  # ...beside a photo of that name
    named = run_module("realtime", "--source", str(photos / "sub"), "--no-display", "--model", str(tiny_model),
                       "--output", f"{tmp_path / 'named'}/", "--json", str(tmp_path / "named.jsonl"))
    assert named.returncode == 0 and "(5 photos)" in named.stderr, named.stderr[-2000:]
    assert sorted(path.name for path in (tmp_path / "named").iterdir()) == [
        "a.jpg", "b.png", "c.gif.jpg", "z.gif (2).jpg", "z.gif.jpg"]  # none written over another
    copies = {record["image"]: Path(record["output"]) for record in map(json.loads, open(tmp_path / "named.jsonl"))}
    assert {image: (copy.parent, copy.name) for image, copy in copies.items()} == {  # which copy is which photo's
        "a.jpg": (tmp_path / "named", "a.jpg"), "b.png": (tmp_path / "named", "b.png"),
        "c.gif": (tmp_path / "named", "c.gif.jpg"), "z.gif": (tmp_path / "named", "z.gif.jpg"),
        "z.gif.jpg": (tmp_path / "named", "z.gif (2).jpg")}


def test_an_annotated_photo_keeps_the_photo_s_colour_profile(tmp_path, tiny_model):
    """A photo tagged with an RGB colour profile (Display P3 from an iPhone, Adobe RGB) keeps it in its annotated
    copy, in every format that holds one, so viewers show its colours as the photo's: written without it, by
    OpenCV, a Display P3 photo's copy looked duller (mean chroma 35.6 against 42.0 on 7 wild-faces photos). A grey or
    CMYK profile is not kept (the copy is RGB); BMP holds none and is written as before. `tests/data/p3.heic` is an
    iPhone-like HEIC with a Display P3 profile (`colr` of type `prof`, made by libheif's heif-enc from a PNG)."""
    import shutil

    from PIL import Image, ImageCms

    from realtime.capture import colour_profile
    from realtime.scene import background, paste_face

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    assert profile[16:20] == b"RGB "
    photos, picture = tmp_path / "photos", background(320, 240, seed=3)
    paste_face(picture, 120, (160, 120))
    photos.mkdir()
    rgb = Image.fromarray(picture[:, :, ::-1])
    for name in ("a.jpg", "b.png", "c.webp", "d.tif"):
        rgb.save(photos / name, icc_profile=profile, **({"lossless": True} if name.endswith(".webp") else {}))
    rgb.save(photos / "e.bmp")
    rgb.save(photos / "f.jpg")  # no profile
    Image.fromarray(picture[:, :, 0]).save(photos / "g.jpg", icc_profile=profile[:16] + b"GRAY" + profile[20:])
    rgb.convert("CMYK").save(photos / "h.jpg", icc_profile=profile[:16] + b"CMYK" + profile[20:])
    shutil.copy(Path(__file__).parent / "data" / "p3.heic", photos / "i.heic")
    labelled = tmp_path / "labelled"
    result = run_module("realtime", "--source", str(photos), "--no-display", "--model", str(tiny_model),
                        "--output", f"{labelled}/")
    assert result.returncode == 0 and "(9 photos)" in result.stderr, result.stderr[-2000:]
    kept = {path.name: Image.open(path).info.get("icc_profile") for path in labelled.iterdir()}
    display_p3 = kept.pop("i.heic.jpg")
    assert display_p3[16:20] == b"RGB " and b"Display P3 (test)" in display_p3
    assert kept == {"a.jpg": profile, "b.png": profile, "c.webp": profile, "d.tif": profile, "e.bmp": None,
                    "f.jpg": None, "g.jpg": None, "h.jpg": None}
    assert [colour_profile(photos / name) for name in ("a.jpg", "g.jpg", "h.jpg")] == [profile, None, None]
    plain = cv2.imread(str(labelled / "e.bmp"))  # the same annotated picture, whichever writer wrote it
    assert np.array_equal(cv2.imread(str(labelled / "b.png")), plain)
    assert np.array_equal(cv2.imread(str(labelled / "c.webp")), plain)  # lossless, as OpenCV writes WebP
    assert np.array_equal(cv2.imread(str(labelled / "d.tif")), plain)
    by_opencv = cv2.imread(str(labelled / "f.jpg"))  # the same JPEG photo, without the profile
    assert np.abs(cv2.imread(str(labelled / "a.jpg")).astype(int) - by_opencv).mean() < 1.0  # quality 95 both
    assert abs((labelled / "a.jpg").stat().st_size - len(profile) - (labelled / "f.jpg").stat().st_size) < 500
    for output in ("one.jpg", "one.png"):  # one photo into one picture
        single = run_module("realtime", "--source", str(photos / "a.jpg"), "--no-display", "--model",
                            str(tiny_model), "--output", str(tmp_path / output))
        assert single.returncode == 0, single.stderr[-2000:]
        assert Image.open(tmp_path / output).info.get("icc_profile") == profile


def test_a_small_photo_is_drawn_enlarged_and_its_results_keep_its_own_pixels(tmp_path, tiny_model):
    """A photo under draw.SMALL_PHOTO px on its longer side is annotated at a whole multiple of its size (120x90: 3x),
    its face's box drawn where the results put it times that, the caption off the face; the results give the photo's
    own pixels. Drawn at its own size, a 116x146 film still had `neutral 70%` across 70% of its width, over the face."""
    from realtime.scene import background, paste_face

    picture = background(320, 240, seed=1)
    paste_face(picture, 150, (160, 120))
    photo, labelled = tmp_path / "small.png", tmp_path / "labelled"
    cv2.imwrite(str(photo), cv2.resize(picture, (120, 90), interpolation=cv2.INTER_AREA))
    result = run_module("realtime", "--source", str(photo), "--no-display", "--model", str(tiny_model),
                        "--output", f"{labelled}/", "--json", str(tmp_path / "faces.jsonl"))
    assert result.returncode == 0, result.stderr[-2000:]
    box = json.loads((tmp_path / "faces.jsonl").read_text())["faces"][0]["box"]
    assert 20 < box[0] < box[2] < 100 and 10 < box[1] < box[3] < 90  # in the photo's own pixels
    annotated = cv2.imread(str(labelled / "small.png"))
    assert annotated.shape == (270, 360, 3)
    plain = cv2.resize(cv2.imread(str(photo)), (360, 270), interpolation=cv2.INTER_CUBIC)
    changed = np.abs(annotated.astype(int) - plain).max(axis=2) > 20
    x0, y0, x1, y1 = (round(3 * value) for value in box)
    assert changed[y0 + 5:y1 - 5, x0 - 3:x0 + 3].any(axis=1).mean() > 0.9  # down the box's left side
    assert changed[y0 + 5:y1 - 5, x1 - 3:x1 + 3].any(axis=1).mean() > 0.9  # and its right side
    assert changed[y0 + 5:y1 - 5, x0 + 5:x1 - 5].mean() < 0.01  # nothing over the face
    assert changed[:y0 - 2].sum() + changed[y1 + 3:].sum() > 600  # the caption above or below it (about 90x14)
    assert draw.enlargement((320, 240)) == 1 and draw.enlargement((24, 36)) == 9  # from 320 px on: its own size
    video = run_module("realtime", "--source", str(photo), "--no-display", "--model", str(tiny_model),
                       "--output", str(tmp_path / "photos.mp4"))  # photos into a video: at their size as drawn
    assert video.returncode == 0, video.stderr[-2000:]
    with av.open(str(tmp_path / "photos.mp4")) as container:
        assert (container.streams.video[0].width, container.streams.video[0].height) == (360, 270)


def test_a_small_video_is_shown_enlarged_and_recorded_at_its_own_size(tmp_path, tiny_model, monkeypatch):
    """A 128x96 video (an old clip, a 160x120 webcam) in the window is drawn 3x, as a small photo is, so its captions
    can be read; recorded, it keeps its size, and the window shows what is recorded. Before, the window opened at
    128x96 with captions as wide as the faces."""
    from realtime.__main__ import main

    clip = tmp_path / "small.avi"
    source = DemoSource(faces=1, frames=8, fps=24.0)
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 24.0, (128, 96))
    for frame in source:
        writer.write(cv2.resize(frame, (128, 96), interpolation=cv2.INTER_AREA))
    writer.release()
    monkeypatch.setattr(window, "display_problem", lambda: None)
    screen = FakeScreen(monkeypatch, [])
    results = tmp_path / "faces.jsonl"
    assert main(["--source", str(clip), "--model", str(tiny_model), "--confirm", "1", "--json", str(results)]) == 0
    assert screen.calls[0] == ("size", 384, 288) and {image.shape for image in screen.shown} == {(288, 384, 3)}
    boxes = [face["box"] for line in results.read_text().splitlines() for face in json.loads(line)["faces"]]
    assert boxes and max(box[2] for box in boxes) <= 128  # the results keep the video's own pixels
    capture = cv2.VideoCapture(str(clip))
    last = [frame for ok, frame in iter(capture.read, (False, None))][-1]
    capture.release()
    drawn = np.abs(screen.shown[-1].astype(int) - cv2.resize(last, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC))
    enlarged_share = (drawn.max(axis=2) > 40).mean()  # of the picture: the box and caption
    recorded = tmp_path / "recorded.avi"
    screen = FakeScreen(monkeypatch, [])
    assert main(["--source", str(clip), "--model", str(tiny_model), "--confirm", "1", "--output", str(recorded)]) == 0
    assert screen.calls[0] == ("size", 128, 96) and {image.shape for image in screen.shown} == {(96, 128, 3)}
    assert read_video(recorded)[1] == (128, 96)
    own_share = (np.abs(screen.shown[-1].astype(int) - last).max(axis=2) > 40).mean()
    assert 0.005 < enlarged_share < own_share / 2  # drawn enlarged, the box and caption cover less of the picture


def test_a_photo_s_number_keeps_off_the_caption_of_a_face_that_fills_the_photo(monkeypatch):
    """A face filling a photo is under every corner of the window, and the photo's number went to the first, the top
    left, over the face's caption. It now goes where it covers no caption, placed by the faces as drawn: on a small
    photo, drawn enlarged, the results' boxes times the enlargement."""
    screen = FakeScreen(monkeypatch, [])
    labels, colour = ["sad", "happy"], draw.colour_of("happy")
    shown = window.Window((116, 146), window.Overlay(), photos=["a.jpg", "b.jpg"])
    track = Track(1, Face(np.array([-5.0, 5.0, 131.0, 141.0]), 0.9), np.array([0.3, 0.7]), None, 1)
    factor = draw.enlargement((116, 146))
    photo = draw.enlarged(np.full((146, 116, 3), 90, np.uint8), factor)
    picture = draw.draw_faces(photo.copy(), draw.scaled_tracks([track], factor), labels)
    shown.write(Annotated(0, 0.0, picture, [track], "a.jpg", enlarged=factor))
    number = np.argwhere(np.any(screen.shown[-1] != picture, axis=2))  # what the window drew over it
    coloured = np.all(picture == colour, axis=2)
    coloured[12:19], coloured[420:] = False, False  # the box's top and bottom lines (its sides are off the photo)
    caption = np.argwhere(coloured)
    assert len(caption) > 300 and caption[:, 0].max() < 12  # at the top left, in the corner the number took before
    (top, left), (bottom, right) = number.min(0), number.max(0)
    assert len(number) and not ((top <= caption[:, 0]) & (caption[:, 0] <= bottom) &
                                (left <= caption[:, 1]) & (caption[:, 1] <= right)).any()


def test_a_results_file_where_an_output_folder_puts_an_annotated_photo_is_refused(tmp_path):
    """`--output labelled/ --json labelled/a.png` on a folder holding a.png: the results were written, then replaced by
    the annotated photo, exit 0 (the README promises another output's file is refused before anything runs). A results
    file is refused a picture's name, which every annotated photo has."""
    photos, labelled = tmp_path / "photos", tmp_path / "labelled"
    photos.mkdir()
    cv2.imwrite(str(photos / "a.png"), DemoSource(faces=1, frames=1).frame(0)[0])
    for option in ("--json", "--csv"):
        result = run_module("realtime", "--source", str(photos), "--no-display", "--output", f"{labelled}/",
                            option, str(labelled / "a.png"))
        assert_one_line_error(result, f"{option} {labelled / 'a.png'}: a picture's name")
        assert result.returncode == 2 and not labelled.exists()  # (the refused folder was left behind, empty)


def test_an_annotated_picture_goes_into_a_named_pipe_through_it(tmp_path):
    """`--output p.png` onto a named pipe (`mkfifo p.png; cat p.png > copy.png &`): the picture was written beside it
    and renamed over it, so the pipe became a file and its reader got nothing and waited for ever."""
    import threading

    from realtime.output import write_picture

    pipe, received = tmp_path / "p.png", []
    os.mkfifo(pipe)
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()))
    reader.start()
    write_picture(pipe, np.full((20, 30, 3), 90, np.uint8))
    reader.join(timeout=10)
    assert pipe.is_fifo() and cv2.imdecode(np.frombuffer(received[0], np.uint8), cv2.IMREAD_COLOR).shape == (20, 30, 3)


def test_a_photo_given_twice_is_saved_once_under_its_own_name_in_an_output_folder():
    """`--source a.jpg a.jpg b.jpg --output labelled/`: both a.jpg were written to `a (2).jpg`, the target the second
    took, and no `a.jpg` was left (found giving one photo twice with --output folder/)."""
    from realtime.output import PhotoFolderWriter

    with tempfile.TemporaryDirectory() as folder:
        sources = [(Path(folder, name), name) for name in ("a.jpg", "a.jpg", "b.jpg")]
        writer = PhotoFolderWriter(Path(folder, "labelled"), sources)
        for index, (_, name) in enumerate(sources):
            writer.write(Annotated(index, float(index), np.full((8, 8, 3), 40 * index, np.uint8), [], image=name))
        writer.close()
        assert sorted(path.name for path in Path(folder, "labelled").iterdir()) == ["a.jpg", "b.jpg"]
        assert writer.photos == 2
        Path(folder, "notes.txt").write_text("notes")  # a file named as the folder: "File exists", which said little
        with pytest.raises(OutputError, match="cannot write into folder .*notes.txt: it is a file"):
            PhotoFolderWriter(Path(folder, "notes.txt"), sources)


@pytest.mark.parametrize("source, message", [
    ("photos", "the annotated photo would overwrite the photo"),
    ("demo:1", "a folder takes the annotated photos of photos; for video or a camera name a file"),
])
def test_a_folder_as_output_is_refused_where_it_would_overwrite_the_photos_or_for_video(tmp_path, tiny_model,
                                                                                     source, message):
    photos = tmp_path / "photos"
    photos.mkdir()
    cv2.imwrite(str(photos / "a.png"), np.full((60, 80, 3), 90, np.uint8))
    before = (photos / "a.png").read_bytes()
    result = run_module("realtime", "--source", str(tmp_path / source) if source == "photos" else source,
                        "--no-display", "--model", str(tiny_model), "--max-frames", "2", "--output", str(photos))
    assert_one_line_error(result, message)
    assert result.returncode == 2 and (photos / "a.png").read_bytes() == before and len(list(photos.iterdir())) == 1


def run_on_terminal(*args: str, size: tuple[int, int] = (100, 30)) -> tuple[int, str]:
    """The program run with standard output and error on a pseudo-terminal of `size` (columns, rows), as in a terminal
    window: its exit code and everything it showed."""
    import fcntl
    import pty
    import struct
    import termios

    try:
        screen, program_side = pty.openpty()
    except OSError:  # a container without /dev/pts
        pytest.skip("no pseudo-terminals here")
    fcntl.ioctl(program_side, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    program = subprocess.Popen([sys.executable, "-m", "realtime", *args], cwd=ROOT, stdin=subprocess.DEVNULL,
                               stdout=program_side, stderr=program_side)
    os.close(program_side)
    shown = []
    while True:
        try:
            chunk = os.read(screen, 65536)
        except OSError:  # the program has closed its side
            break
        if not chunk:
            break
        shown.append(chunk)
    os.close(screen)
    return program.wait(timeout=300), b"".join(shown).decode(errors="replace")


def test_a_headless_run_of_known_length_shows_its_progress_on_a_terminal(tmp_path, tiny_model):
    """Labelling a folder of photos or a video file without a window was silent until its end."""
    from realtime.scene import background

    photos = tmp_path / "photos"
    photos.mkdir()
    for number in range(3):
        cv2.imwrite(str(photos / f"{number}.png"), background(160, 120, seed=number))
    common = ["--no-display", "--model", str(tiny_model)]
    code, shown = run_on_terminal("--source", str(photos), *common, "--json", str(tmp_path / "faces.jsonl"))
    assert code == 0 and "/3 [" in shown and "photos/s]" in shown, shown
    code, shown = run_on_terminal("--source", str(photos), *common, "--json", str(tmp_path / "faces.jsonl"),
                                  size=(0, 0))  # a terminal nobody sized (`script`, `docker -t`): it showed no bar
    assert code == 0 and "/3 [" in shown and "photos/s]" in shown, shown
    (photos / "1b.jpg").write_bytes(b"not a picture")  # what the program says goes above the bar, not after it
    code, shown = run_on_terminal("--source", str(photos), *common, "--json", str(tmp_path / "faces.jsonl"))
    assert code == 1 and "/4 [" in shown, shown
    assert "warning: skipped 1b.jpg" in [line[:23] for line in shown.replace("\r", "\n").splitlines()], shown
    (photos / "1b.jpg").unlink()
    code, shown = run_on_terminal("--source", "demo:1", "--max-frames", "5", *common, "--output", str(tmp_path / "a.mp4"))
    assert code == 0 and "/5 [" in shown and "frames/s]" in shown, shown
    code, shown = run_on_terminal("--source", str(photos), *common)  # the bar is no output to speak of
    assert code == 0 and "note: nothing will be shown or written" in shown, shown
    code, shown = run_on_terminal("--source", str(photos), *common, "--json", "-")  # results on this terminal
    assert code == 0 and "photos/s" not in shown and shown.count('{"schema"') == 3, shown
    assert shown.splitlines()[-1] == "labelled 3 photos: 0 faces; no face found in 3", shown
    piped = run_module("realtime", "--source", str(photos), *common, "--json", str(tmp_path / "faces.jsonl"))
    assert piped.returncode == 0 and "photos/s" not in piped.stderr  # not a terminal: nothing drawn


def test_the_closing_line_of_a_photo_run_counts_in_words_that_agree():
    tally = output.Tally(LABELS)
    face = SimpleNamespace(label=LABELS.index("happy"))
    tally.write(Annotated(0, 0.0, np.zeros((4, 4, 3), np.uint8), [face]))
    assert tally.summary() == "labelled 1 photo: 1 face (happy 1)"  # (not 'a face found in every one')
    tally.write(Annotated(1, 1.0, np.zeros((4, 4, 3), np.uint8), [face, face]))
    assert tally.summary() == "labelled 2 photos: 3 faces (happy 3); a face found in every one"
    alone = output.Tally(LABELS)
    alone.write(Annotated(0, 0.0, np.zeros((4, 4, 3), np.uint8), []))
    assert alone.summary() == "labelled 1 photo: 0 faces; no face found in it"


def test_a_run_on_one_photo_writing_its_results_says_what_it_found(tmp_path, tiny_model):
    """`--source photo.jpg --no-display --json r.jsonl` ended without a word, where a folder's run and a video's say
    what they did."""
    photo = tmp_path / "face.jpg"
    cv2.imwrite(str(photo), DemoSource(faces=1).frame(0)[0])
    result = run_module("realtime", "--source", str(photo), "--model", str(tiny_model), "--no-display",
                        "--json", str(tmp_path / "r.jsonl"))
    assert result.returncode == 0 and result.stderr.startswith("labelled 1 photo: 1 face ("), result.stderr


def test_the_screen_is_the_monitor_around_the_window_else_the_primary_one(monkeypatch):
    side_by_side = [window.Monitor(x=0, y=0, width=1920, height=1080), window.Monitor(x=1920, y=0, width=2560,
                                                                                      height=1440, primary=1)]
    monkeypatch.setattr(window.sys, "platform", "linux")
    monkeypatch.setattr(window, "monitors", lambda display: side_by_side)
    assert window.screen_size((100, 500)) == (1920, 1080)  # the window's middle is on the left monitor
    assert window.screen_size((2000, 100)) == (2560, 1440)
    assert window.screen_size() == window.screen_size((-50, 5000)) == (2560, 1440)  # the primary one
    monkeypatch.setattr(window, "monitors", lambda display: [])  # no RandR to ask: tkinter's screen, or 1920x1080
    assert window.screen_size() == window.whole_screen()


def test_a_slide_show_video_is_recorded_at_its_own_slow_rate(tmp_path, tiny_model):
    """A video of one frame every 2 s: each frame lasts its 2 s, the last one too (was: recorded at 30 fps, the
    last frame a thirtieth of a second, the recording 6.03 s long instead of 8)."""
    clip, video = tmp_path / "slides.mp4", tmp_path / "out.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 0.5, (640, 480))
    for i in range(4):
        writer.write(DemoSource(faces=1).frame(i * 10)[0])
    writer.release()
    result = run_module("realtime", "--source", str(clip), "--model", str(tiny_model), "--no-display",
                        "--output", str(video))
    assert result.returncode == 0, result.stderr[-2000:]
    with av.open(str(video)) as container:
        assert container.duration / 1e6 == pytest.approx(8.0, abs=0.05)
        assert sum(1 for _ in container.decode(video=0)) == 4


def test_a_damaged_adts_packet_of_mpeg_ts_sound_is_left_out_of_a_recording(tmp_path):
    """MPEG-TS's AAC is put into MP4's form packet by packet (aac_adtstoasc); a damaged packet, too short for its
    header (a broadcast recording's lost bytes), raised InvalidDataError, which ended the recording ('cannot write'),
    where FFmpeg's muxers leave such a packet out."""
    from realtime.output import Sound

    source = tmp_path / "in.ts"
    write_clip_with_sound(source, codec="aac")
    with av.open(str(tmp_path / "out.mkv"), "w") as container:
        sound = Sound(av.open(str(source)), container)
        packets = list(sound._packets)
        damaged = av.Packet(b"\xff\xf1\x00")
        damaged.pts, damaged.time_base = packets[3].pts, packets[3].time_base
        sound._packets = iter(packets[:3] + [damaged] + packets[3:])
        sound.copy_until(Fraction(10))
        sound.close()
    assert sound_of(tmp_path / "out.mkv")[1] == pytest.approx(3.0, abs=0.1)
