"""python -m realtime.web: the API through Flask's test client (same JSON as the program), bad uploads, and the
page itself in headless Chromium (skipped where Chromium is not installed)."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("flask")

from realtime.scene import DemoSource  # noqa: E402
from tests.conftest import LABELS, ROOT, run_module  # noqa: E402
from tests.test_realtime import write_av1_clip, write_clip  # noqa: E402


@pytest.fixture(scope="module")
def client(tiny_model, tmp_path_factory):
    from realtime.classify import Classifier
    from realtime.web import create_app

    app = create_app(Classifier(tiny_model), tmp_path_factory.mktemp("results"), max_bytes=2_000_000, max_frames=30)
    return app.test_client()


def program_json(source, model) -> list[dict]:
    """What `python -m realtime --source SOURCE --json -` writes, one object per frame."""
    result = run_module("realtime", "--source", str(source), "--model", str(model), "--json", "-", "--no-display")
    assert result.returncode == 0, result.stderr[-2000:]
    return [json.loads(line) for line in result.stdout.splitlines()]


def post_file(client, url, path, name=None, **kwargs):
    with open(path, "rb") as handle:
        return client.post(url, data={"file": (handle, name or path.name)}, **kwargs)


def test_photo_gives_the_programs_json_and_an_annotated_image(client, tmp_path, tiny_model):
    photo = tmp_path / "same photo.png"
    cv2.imwrite(str(photo), DemoSource(faces=2).frame(0)[0])
    response = post_file(client, "/api/label", photo)
    assert response.status_code == 200, response.json
    record = response.json
    assert record == program_json(photo, tiny_model)[0]  # labels, boxes, probabilities, ids: all the same
    assert list(record) == ["schema", "frame", "time", "image", "faces"] and len(record["faces"]) == 2
    with open(photo, "rb") as handle:  # the raw file as the request body: the same faces
        raw = client.post("/api/label", data=handle.read(), content_type="image/png").json
    assert raw["faces"] == record["faces"] and raw["image"] == "upload.png"
    with open(photo, "rb") as handle:  # as curl --data-binary @photo.png sends it: named by its content (upload.bin)
        raw = client.post("/api/label", data=handle.read(), content_type="application/octet-stream").json
    assert raw["faces"] == record["faces"] and raw["image"] == "upload.png"
    assert post_file(client, "/api/label", photo, name="../../elsewhere.png").json["image"] == "elsewhere.png"

    page = post_file(client, "/api/annotate", photo).json
    assert page["kind"] == "image" and page["records"] == record and page["seconds"] > 0 and page["enlarged"] == 1
    image = client.get(page["media"])
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    annotated = cv2.imdecode(np.frombuffer(image.data, np.uint8), cv2.IMREAD_COLOR)
    x0, y0, x1, y1 = (int(v) for v in record["faces"][0]["box"])
    original = cv2.imread(str(photo))
    assert annotated.shape == original.shape
    assert abs(annotated[y0:y1, x0].astype(int) - original[y0:y1, x0]).max() > 60  # the box is drawn


def test_a_small_photo_is_annotated_enlarged_and_the_answer_says_how_much(client, tmp_path, tiny_model):
    """As the program draws it (draw.enlargement): the page takes its face thumbnails from the annotated picture by the
    records' boxes, which are in the photo's own pixels, times `enlarged`."""
    photo = tmp_path / "small.png"
    cv2.imwrite(str(photo), cv2.resize(DemoSource(faces=1).frame(0)[0], (128, 96), interpolation=cv2.INTER_AREA))
    page = post_file(client, "/api/annotate", photo).json
    assert page["enlarged"] == 3 and page["records"] == program_json(photo, tiny_model)[0]
    annotated = cv2.imdecode(np.frombuffer(client.get(page["media"]).data, np.uint8), cv2.IMREAD_COLOR)
    assert annotated.shape == (288, 384, 3)
    x0, y0, x1, y1 = (round(3 * v) for v in page["records"]["faces"][0]["box"])
    plain = cv2.resize(cv2.imread(str(photo)), (384, 288), interpolation=cv2.INTER_CUBIC)
    assert abs(annotated[y0 + 5:y1 - 5, x0].astype(int) - plain[y0 + 5:y1 - 5, x0]).max() > 60  # the box, there


def test_an_annotated_photo_on_the_page_keeps_the_photo_s_colour_profile(client, tmp_path):
    """A browser applies a photo's colour profile (a phone's Display P3), so an annotated copy without it looked duller
    on the page than the photo the user chose."""
    from PIL import Image, ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    photo, plain = tmp_path / "tagged.jpg", tmp_path / "plain.jpg"
    picture = Image.fromarray(DemoSource(faces=1).frame(0)[0][:, :, ::-1])
    picture.save(photo, quality=95, icc_profile=profile)
    picture.save(plain, quality=95)
    for path, kept in ((photo, profile), (plain, None)):
        image = client.get(post_file(client, "/api/annotate", path).json["media"])
        assert image.mimetype == "image/jpeg" and Image.open(io.BytesIO(image.data)).info.get("icc_profile") == kept


def test_a_photo_cut_short_is_labelled_as_far_as_it_goes_and_the_answer_says_so(client, tmp_path):
    """A JPEG cut short (an interrupted copy) came back as a photo without faces, HTTP 200, the warning only on the
    server's console, which the page's user never sees. It is labelled as the command line labels it (its missing part
    grey), and the answer says so: `warning` in the page's answer, an X-Warning header on /api/label's records."""
    data = cv2.imencode(".jpg", DemoSource(faces=1).frame(0)[0])[1].tobytes()
    whole, cut = tmp_path / "whole.jpg", tmp_path / "cut.jpg"
    whole.write_bytes(data)
    cut.write_bytes(data[: len(data) // 3])
    page = post_file(client, "/api/annotate", cut).json
    assert page["kind"] == "image" and "damaged or cut short" in page["warning"]
    label = post_file(client, "/api/label", cut)
    assert label.status_code == 200 and "damaged or cut short" in label.headers["X-Warning"]
    assert "warning" not in post_file(client, "/api/annotate", whole).json
    assert "X-Warning" not in post_file(client, "/api/label", whole).headers


def test_a_warning_naming_an_upload_in_any_script_fits_in_its_header():
    """A video cut short named `写真.mp4`: its warning, which names it, went into the X-Warning header as it was, which
    an HTTP header cannot hold (Latin-1 only): the server raised, and its client waited for an answer for ever. The
    header is UTF-8 with what is not printable ASCII percent-encoded, the text given back by unquoting it."""
    from urllib.parse import unquote

    from flask import Response

    from realtime.web import with_warning

    for said in ("写真.mp4 ends after 4.8 s of its 10.0 s", "видео 100% cut.mp4: damaged", "plain.mp4, fine"):
        header = with_warning(Response(), said).headers["X-Warning"]
        assert header.encode("ascii") and unquote(header) == said
    assert with_warning(Response(), "plain.mp4, fine").headers["X-Warning"] == "plain.mp4, fine"


def test_video_gives_the_programs_json_and_an_h264_mp4(client, tmp_path, tiny_model):
    import av

    clip = tmp_path / "clip.mp4"
    write_clip(clip, faces=2, frames=12)
    answer = post_file(client, "/api/annotate", clip).json
    assert answer["kind"] == "video"
    assert answer["records"] == program_json(clip, tiny_model)  # sweep, tracker, smoothing: as the program
    assert [r["frame"] for r in answer["records"]] == list(range(12))
    assert all(len(r["faces"]) == 2 for r in answer["records"][2:])
    video = client.get(answer["media"])
    assert video.status_code == 200 and video.mimetype == "video/mp4"
    (tmp_path / "out.mp4").write_bytes(video.data)
    with av.open(str(tmp_path / "out.mp4")) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and (stream.width, stream.height) == (640, 480)
        assert sum(1 for _ in container.decode(stream)) == 12
    assert post_file(client, "/api/label", clip).json == answer["records"]


def test_an_av1_video_is_labelled_as_the_program_labels_it(client, tmp_path, tiny_model):
    clip = tmp_path / "clip.webm"
    write_av1_clip(clip, faces=1, frames=6)
    answer = post_file(client, "/api/label", clip).json  # (it was "cannot read video clip.webm", 400)
    assert isinstance(answer, list) and answer == program_json(clip, tiny_model) and answer[-1]["faces"]


def test_an_animated_gif_is_labelled_as_the_short_video_it_is(client, tmp_path, tiny_model):
    """An animated GIF (a slide show of a frame a second) was labelled as its first frame, as a photo: the program reads
    it as a video, each frame's face shown in that frame."""
    from PIL import Image

    from realtime.scene import background, paste_face

    slides = []
    for index in range(4):
        slide = background(480, 360, seed=20 + index)
        paste_face(slide, 130 + 10 * index, (150 + 60 * index, 190))
        slides.append(Image.fromarray(np.ascontiguousarray(slide[:, :, ::-1])))
    gif = tmp_path / "slides.gif"
    slides[0].save(gif, save_all=True, append_images=slides[1:], duration=1000, loop=0)
    answer = post_file(client, "/api/label", gif).json
    assert isinstance(answer, list) and [len(record["faces"]) for record in answer] == [1] * 4
    assert answer == program_json(gif, tiny_model)


def test_an_uploaded_video_that_changes_frame_size_is_named_by_its_own_name(tmp_path, tiny_model, capfd):
    """The note on a video whose frame size changes named the server's temporary copy
    (/tmp/emotion-overlay-web-.../upload/joined.ts); it names the upload. MPEG-TS (a camcorder's .mts, a recorder's
    .ts) is taken, by its name or by its content: it was refused (415)."""
    from realtime.classify import Classifier
    from realtime.web import create_app
    from tests.test_realtime import write_two_sized_clip

    clip = tmp_path / "joined.ts"
    write_two_sized_clip(clip)
    (tmp_path / "results").mkdir()
    app = create_app(Classifier(tiny_model), tmp_path / "results", max_frames=100)
    records = post_file(app.test_client(), "/api/label", clip).json
    assert isinstance(records, list) and len(records) == 48
    said = capfd.readouterr().err
    assert "note: joined.ts changes frame size at 1.0 s, from 640x480 to 320x240" in said
    assert str(tmp_path / "results") not in said and "upload" not in said
    raw = app.test_client().post("/api/label", data=clip.read_bytes(), content_type="application/octet-stream").json
    assert raw == records  # (an MPEG-TS known by its content: it was refused, 415)


@pytest.mark.parametrize("frames", [1, 2])
def test_a_clip_shorter_than_the_confirmation_shows_its_faces_as_the_program_does(client, tmp_path, tiny_model, frames):
    clip = tmp_path / "short.mp4"
    write_clip(clip, faces=1, frames=frames)
    records = post_file(client, "/api/label", clip).json
    assert records == program_json(clip, tiny_model)
    assert len(records[-1]["faces"]) == 1  # found in every frame: shown by the last (was: none, 3 frames needed)


def test_webcam_frames_are_tracked_as_a_video(client):
    source = DemoSource(faces=1)
    records = []
    for stream in ("a", "a", "a", "a", "b"):
        frame = cv2.imencode(".jpg", source.frame(len(records))[0])[1].tobytes()
        response = client.post("/api/label", data=frame, content_type="image/jpeg", query_string={"stream": stream})
        assert response.status_code == 200, response.json
        records.append(response.json)
    assert [r["frame"] for r in records] == [0, 1, 2, 3, 0]  # a new stream starts afresh
    assert records[0]["time"] == 0 and records[4]["time"] == 0 and 0 < records[1]["time"] < records[3]["time"]
    assert [len(r["faces"]) for r in records] == [0, 0, 1, 1, 0]  # shown once found 3 times, as in a video
    assert records[3]["faces"][0]["id"] == 1 and records[3]["faces"][0]["label"] in LABELS


def test_a_webcam_stream_whose_frames_change_size_or_scene_starts_its_faces_afresh(client):
    """A phone turned mid-stream (853x640 frames, then 640x360): every frame answered, the face found again under a
    new id (was: HTTP 500 from then on, the last frame's boxes outside the new frame); and at a cut to another
    picture the label does not carry over (the stream had no shot-cut watch)."""
    from realtime.scene import background, paste_face

    def post(frame):
        response = client.post("/api/label", data=cv2.imencode(".jpg", frame)[1].tobytes(), content_type="image/jpeg",
                               query_string={"stream": "phone"})
        assert response.status_code == 200, response.json
        return [face["id"] for face in response.json["faces"]]

    upright, turned = background(640, 853, seed=1), background(640, 360, seed=2)
    paste_face(upright, 200, (320, 700))  # low in the upright picture: outside the turned one
    paste_face(turned, 200, (320, 180))
    assert [post(upright) for _ in range(4)] == [[], [], [1], [1]]
    assert [post(turned) for _ in range(4)] == [[], [], [2], [2]]
    assert [post(upright) for _ in range(4)] == [[], [], [3], [3]]  # back again: the same size, another scene


def test_webcam_streams_side_by_side_keep_their_own_frames_and_faces(tiny_model, tmp_path):
    from realtime.classify import Classifier
    from realtime.web import MAX_STREAMS, create_app

    client = create_app(Classifier(tiny_model), tmp_path).test_client()
    one, two = DemoSource(faces=1), DemoSource(faces=2)
    seen = {}
    for index in range(4):  # two tabs, their frames interleaved: each is its own video
        for name, source in (("one", one), ("two", two)):
            frame = cv2.imencode(".jpg", source.frame(index)[0])[1].tobytes()
            record = client.post("/api/label", data=frame, content_type="image/jpeg",
                                 query_string={"stream": name}).json
            seen.setdefault(name, []).append(record)
    for name, faces in (("one", 1), ("two", 2)):
        assert [r["frame"] for r in seen[name]] == [0, 1, 2, 3]
        assert [len(r["faces"]) for r in seen[name]] == [0, 0, faces, faces]  # tracked apart, as in a video
    blank = cv2.imencode(".jpg", np.zeros((48, 48, 3), np.uint8))[1].tobytes()
    for index in range(MAX_STREAMS):  # more streams than are kept: the one idle longest ("one") gives way
        client.post("/api/label", data=blank, content_type="image/jpeg", query_string={"stream": f"new{index}"})
    frames = [client.post("/api/label", data=blank, content_type="image/jpeg",
                          query_string={"stream": name}).json["frame"] for name in ("new3", "one")]
    assert frames == [1, 0]


def test_health_and_a_page_that_fetches_nothing_from_elsewhere(client):
    health = client.get("/api/health").json
    assert health["status"] == "ok" and health["labels"] == LABELS and health["limits"]["video_frames"] == 30
    assert health["classes"] == LABELS
    page = client.get("/").get_data(as_text=True)
    assert 'id="file"' in page and "getUserMedia" in page and "angry" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//|@import""", page)


@pytest.mark.parametrize("field, content, name, status, message", [
    (None, None, None, 400, "no file"),
    ("photo", b"x", "x.jpg", 400, "multipart field 'file'"),
    ("file", b"just some notes", "notes.txt", 415, "notes.txt is not a photo or video this page reads (it is a text "
                                                   "file, not a picture or video; photos: avif, bmp,"),
    ("file", b"just some notes", "notes.mp4", 415, "notes.mp4 is not a photo or video this page reads (it is a text"),
    ("file", b"", "empty.jpg", 400, "the file sent (empty.jpg) is empty"),  # (was: "no file")
    ("file", "jpeg[:200]", "cut.jpg", 400, "cannot read image cut.jpg"),
    ("file", b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100, "broken.mp4", 400, "cannot read video broken.mp4 ("),
    ("file", b"\x00\x00\x00\x10ftypmp42isom\x00\x10\x00\x00mdat" + b"\x00" * 700, "cut.mp4", 400,
     "cannot read video cut.mp4: it is cut short before its index"),  # (the program's words, not the page's guess)
    ("file", b"\xff" * 2_100_000, "big.jpg", 413, "larger than 2 MB"),
    ("file", "31 frames", "long.mp4", 413, "at most 60 s and 30 frames"),
])
def test_bad_uploads_get_a_json_error(client, tmp_path, field, content, name, status, message):
    if content == "jpeg[:200]":  # a photo cut short
        content = cv2.imencode(".jpg", DemoSource(faces=1).frame(0)[0])[1].tobytes()[:200]
    elif content == "31 frames":  # one frame over the limit
        write_clip(tmp_path / name, faces=0, frames=31)
        content = (tmp_path / name).read_bytes()
    response = client.post("/api/label", data={field: (io.BytesIO(content), name)} if field else None)
    assert response.status_code == status, response.json
    assert list(response.json) == ["error"] and message in response.json["error"], response.json
    assert "Traceback" not in response.get_data(as_text=True)


def test_bad_options_give_one_line_errors(tiny_model):
    result = run_module("realtime.web", "--port", "70000")
    assert result.returncode == 2 and result.stderr.startswith("error: argument --port: must be at least 0 and at most")
    result = run_module("realtime.web", "--model", "missing/model.keras", "--port", "0")
    assert result.returncode == 2 and result.stderr.strip().splitlines()[-1].startswith("error: model not found")
    result = run_module("realtime.web", "--classes", "happy,bored", "--port", "0", "--model", str(tiny_model))
    assert result.returncode == 2 and result.stderr.strip().splitlines()[-1].startswith(
        "error: --classes: the model has no class bored")
    result = run_module("realtime.web", "--classes", "happy,contempt", "--model", str(tiny_model), "--port", "0")
    assert result.returncode == 2 and result.stderr.strip().splitlines()[-1].startswith(
        "error: --classes: the model has no class contempt")
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run_module("realtime.web", "--port", str(port))
    assert result.returncode == 2 and result.stderr == f"error: cannot listen on 127.0.0.1:{port}: Address already in use\n"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_server_stopped_while_it_starts_ends_cleanly_and_leaves_no_folder(tiny_model, tmp_path, signum):
    """Ctrl-C or SIGTERM while the model loads: exit 0, no traceback, its temporary folder gone (were: a
    KeyboardInterrupt traceback or death by the signal, the folder left behind)."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    env.pop("DISPLAY", None)
    server = subprocess.Popen([sys.executable, "-m", "realtime.web", "--port", "0", "--model", str(tiny_model)],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob("emotion-overlay-web-*")) and time.monotonic() < deadline:
            time.sleep(0.01)  # its folder is made just before the model is loaded
        server.send_signal(signum)
        _, stderr = server.communicate(timeout=60)
    finally:
        if server.poll() is None:  # (it did not stop: the test fails, without waiting on it for ever)
            server.kill()
            server.communicate()
    assert server.returncode == 0 and "Traceback" not in stderr, stderr
    assert not list(tmp_path.glob("emotion-overlay-web-*"))


class Chromium:
    """Debian's Chromium, headless, driven through the DevTools protocol over a pipe (--remote-debugging-pipe:
    JSON messages ending in a NUL byte, commands on the browser's fd 3, answers on its fd 4)."""

    def __init__(self, profile, size=(1280, 1000), flags=()):
        commands, self._commands = os.pipe()
        self._answers, answers = os.pipe()

        def as_fds_3_and_4():  # in the child, before exec: out of the way first, then onto 3 and 4 (inheritable)
            a, b = os.dup(commands), os.dup(answers)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.process = subprocess.Popen(
            [shutil.which("chromium"), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--remote-debugging-pipe", *flags, "about:blank"], preexec_fn=as_fds_3_and_4, close_fds=False,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(commands)
        os.close(answers)
        self._next, self._buffer, self.session = 0, b"", None
        page = next(t for t in self.send("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self.session = self.send("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]
        self.send("Emulation.setDeviceMetricsOverride", width=size[0], height=size[1], deviceScaleFactor=1, mobile=False)

    def send(self, method, timeout=30, **params):
        self._next += 1
        message = {"id": self._next, "method": method, "params": params}
        if self.session and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self.session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" not in self._buffer:
                if not select.select([self._answers], [], [], max(0.0, deadline - time.monotonic()))[0]:
                    raise TimeoutError(f"no answer to {method} in {timeout} s")
                chunk = os.read(self._answers, 1 << 20)
                if not chunk:
                    raise ConnectionError("Chromium closed its pipe")
                self._buffer += chunk
            text, self._buffer = self._buffer.split(b"\0", 1)
            answer = json.loads(text)
            if answer.get("id") == self._next:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait(self, expression, timeout=60):
        deadline = time.monotonic() + timeout
        while not self.evaluate(expression):
            if time.monotonic() > deadline:
                shown = self.evaluate("[...document.querySelectorAll('[id$=tatus]')].map(e => e.id + ': ' + e.textContent)")
                raise TimeoutError(f"still false after {timeout} s: {expression}; the page says {shown}")
            time.sleep(0.2)

    def open(self, url):
        self.send("Page.navigate", url=url)
        self.wait(f"location.href === {json.dumps(url)} && document.readyState === 'complete'")

    def choose_file(self, selector, path):
        """Pick `path` in a file input, as a user does (the input's change event fires)."""
        element = self.send("Runtime.evaluate", expression=f"document.querySelector({json.dumps(selector)})")
        self.send("DOM.setFileInputFiles", files=[str(path)], objectId=element["result"]["objectId"])

    def screenshot(self, path):
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"]))

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except (OSError, RuntimeError, TimeoutError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._commands)
        os.close(self._answers)


def write_y4m(path: Path, size: tuple[int, int] = (640, 480)) -> np.ndarray:
    """A second of video (YUV4MPEG2, 4:2:0, as Chromium's stand-in camera plays it) of one face on the left of
    the picture; returns the face's box (x0, y0, x1, y1)."""
    from realtime.scene import background, paste_face

    frame = background(*size)
    box = paste_face(frame, 170, (170, 240))
    with open(path, "wb") as video:
        video.write(f"YUV4MPEG2 W{size[0]} H{size[1]} F30:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(30):
            video.write(b"FRAME\n" + cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
    return box


def start_server(model, log) -> tuple[subprocess.Popen, str]:
    """`python -m realtime.web --port 0` (with `model`, or the program's own) in a subprocess; returns it and the
    URL it serves on."""
    server = subprocess.Popen([sys.executable, "-m", "realtime.web", "--port", "0",
                               *(["--model", str(model)] if model else [])], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=log, text=True)
    if select.select([server.stdout], [], [], 180)[0]:
        line = server.stdout.readline()
        if line.startswith("serving on http://127.0.0.1:"):
            return server, line.split()[2]
    server.kill()
    server.wait()
    raise AssertionError(f"the server did not start: {line if 'line' in locals() else 'no output'}")


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Chromium is not installed")
def test_upload_through_the_page_in_headless_chromium(tmp_path, tiny_model):
    photo = tmp_path / "two faces.png"
    cv2.imwrite(str(photo), DemoSource(faces=2).frame(0)[0])
    with open(tmp_path / "server.log", "w") as log:
        server, url = start_server(tiny_model, log)
    try:
        # Chromium's stand-in camera, allowed without asking, filmed from a file: a face on the picture's left
        camera = tmp_path / "camera.y4m"
        face = write_y4m(camera)
        browser = Chromium(tmp_path / "profile", flags=["--use-fake-device-for-media-stream",
                                                        "--use-fake-ui-for-media-stream",
                                                        f"--use-file-for-fake-video-capture={camera}"])
        try:
            browser.open(url)
            browser.choose_file("#file", photo)
            browser.wait("document.querySelectorAll('#faces .face').length === 2 && "
                         "document.getElementById('annotated')?.complete && "
                         "document.getElementById('annotated').naturalWidth === 640")
            status = browser.evaluate("document.getElementById('status').textContent")
            assert status.startswith("two faces.png: 2 faces found, labelled in"), status
            cards = browser.evaluate("[...document.querySelectorAll('#faces .face b')].map(b => b.textContent)")
            assert [card.split(":")[0] for card in cards] == ["Face 1", "Face 2"]
            assert browser.evaluate("document.querySelectorAll('#faces .face tr').length") == 2 * len(LABELS)
            links = browser.evaluate("[...document.querySelectorAll('#result .downloads a')].map(a => a.download)")
            assert links == ["two faces-labelled.jpg", "two faces.jsonl"], links  # (the page shows a JPEG)
            results = browser.evaluate("fetch(document.querySelectorAll('#result .downloads a')[1].href)"
                                       ".then(r => r.text())")
            assert [len(json.loads(line)["faces"]) for line in results.splitlines()] == [2]  # as --json writes it
            smaller_first = [{"id": 2, "label": "sad", "probability": 0.5, "probabilities": {"sad": 0.5}},
                             {"id": 1, "label": "happy", "probability": 0.7, "probabilities": {"happy": 0.7}}]
            browser.evaluate(f"showFaces(document.getElementById('liveFaces'), {json.dumps(smaller_first)})")
            assert browser.evaluate("[...document.querySelectorAll('#liveFaces .face b')].map(b => b.textContent)") == [
                "Face 1: happy 70%", "Face 2: sad 50%"]  # cards by id: they keep their places as a video plays
            browser.evaluate("showFaces(document.getElementById('liveFaces'), [])")
            browser.screenshot(tmp_path / "page.png")  # keep with --basetemp to look at it

            small = tmp_path / "small.png"  # drawn enlarged 3x: the face's thumbnail is cut where the face is drawn
            cv2.imwrite(str(small), cv2.resize(DemoSource(faces=1).frame(0)[0], (128, 96), interpolation=cv2.INTER_AREA))
            browser.choose_file("#file", small)
            browser.wait("document.querySelectorAll('#faces .face').length === 1 && "
                         "document.getElementById('annotated')?.complete && "
                         "document.getElementById('annotated').naturalWidth === 384")
            drawn = urllib.request.urlopen(browser.evaluate("document.getElementById('annotated').src")).read()
            drawn = cv2.imdecode(np.frombuffer(drawn, np.uint8), cv2.IMREAD_COLOR)
            record = json.loads(browser.evaluate("fetch(document.querySelectorAll('#result .downloads a')[1].href)"
                                                 ".then(r => r.text())"))
            thumbnail = browser.evaluate("document.querySelector('#faces .face canvas').toDataURL('image/png')")
            thumbnail = cv2.imdecode(np.frombuffer(base64.b64decode(thumbnail.split(",")[1]), np.uint8), cv2.IMREAD_COLOR)

            def cut(scale):  # the face's box on the annotated picture, at 112x112 as the page shows it
                x0, y0, x1, y1 = (max(0, round(v * scale)) for v in record["faces"][0]["box"])
                return cv2.resize(drawn[y0:y1, x0:x1], (112, 112), interpolation=cv2.INTER_AREA).astype(int)

            assert np.abs(cut(3) - thumbnail).mean() < 0.5 * np.abs(cut(1) - thumbnail).mean()
            assert cv2.imread(str(tmp_path / "page.png")).shape[:2] == (1000, 1280)

            data = cv2.imencode(".jpg", DemoSource(faces=1).frame(0)[0])[1].tobytes()
            (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 3])  # an interrupted copy: the page says so
            browser.choose_file("#file", tmp_path / "cut.jpg")
            browser.wait("document.getElementById('status').textContent.includes('Note: the photo is damaged')")
            assert browser.evaluate("document.getElementById('status').className") == "status error"
            assert browser.evaluate("document.getElementById('file').value") == ""  # (so that the same file chosen
            # again is labelled again: it did nothing)
            clip = tmp_path / "clip.mp4"  # a file chosen while another is labelled takes its place: both were shown
            write_clip(clip, faces=1, frames=30)
            browser.choose_file("#file", clip)
            browser.choose_file("#file", small)
            browser.wait("document.getElementById('annotated')?.tagName === 'IMG' && "
                         "document.getElementById('annotated').complete")
            time.sleep(1.5)  # (the video's answer, had it been waited for, would have come by now)
            assert browser.evaluate("[...document.querySelectorAll('#result img, #result video')].map(e => e.tagName)"
                                    ) == ["IMG"]
            assert browser.evaluate("document.getElementById('status').textContent").startswith("small.png: 1 face")

            browser.evaluate("document.getElementById('start').click()")  # the webcam: frames go to the API
            browser.wait("/^1 face; [0-9.]+ frames.s labelled/.test(document.getElementById('liveStatus').textContent)")
            assert browser.evaluate("document.getElementById('overlay').width") == 640
            # the picture is shown mirrored, and so is the box: drawn around the face on the RIGHT of what is shown
            assert browser.evaluate("getComputedStyle(document.getElementById('camera')).transform") == (
                "matrix(-1, 0, 0, 1, 0, 0)")
            drawn = browser.evaluate("""(() => { const c = document.getElementById('overlay');
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, xs = [];
                for (let i = 3; i < d.length; i += 4) if (d[i] > 0) xs.push(((i - 3) / 4) % c.width);
                return [Math.min(...xs), Math.max(...xs)]; })()""")
            mirrored = (640 - face[2], 640 - face[0])
            assert abs(drawn[0] - mirrored[0]) < 40 and abs(drawn[1] - mirrored[1]) < 60, (drawn, mirrored)
            browser.send("Emulation.setDeviceMetricsOverride", width=880, height=900, deviceScaleFactor=1, mobile=False)
            widths = browser.evaluate("['camera', 'overlay'].map(id => document.getElementById(id)"
                                      ".getBoundingClientRect().width)")  # one column, wider than the picture: the
            assert widths[0] > 640 and widths[0] == widths[1], widths  # boxes were drawn 795 px wide over 640
            browser.evaluate("document.getElementById('stop').click()")
            assert browser.evaluate("document.getElementById('liveStatus').textContent") == "Stopped."
        finally:
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


def png_header(width: int, height: int) -> bytes:
    """The first bytes of a PNG of this size, up to its (here empty) image data: all a decoder reads before it
    allocates the picture."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) + chunk(b"IDAT", b"")


@pytest.mark.parametrize("width, height, message", [(8000, 6000, "8000x6000: at most 40 megapixels"),
                                                    (20000, 20000, "is 400 megapixels: at most 40")])  # (said "over 178")
def test_a_picture_over_the_pixel_limit_is_refused_from_its_header(client, width, height, message):
    """A small file can unpack to a huge picture: it is refused before it is decoded, as a photo or a webcam frame."""
    picture = png_header(width, height)
    for url in ("/api/label", "/api/label?stream=tab"):
        response = client.post(url, data={"file": (io.BytesIO(picture), "huge.png")})
        assert response.status_code == 413, response.json
        assert message in response.json["error"], response.json


def test_a_body_sent_in_chunks_keeps_to_the_upload_limit(client, tmp_path):
    """`Transfer-Encoding: chunked` (no length said): over the limit, 413 (was: cut at the limit unsaid and read as a
    damaged file, a video labelled in part); within it, labelled as the same file sent whole."""
    photo = cv2.imencode(".jpg", DemoSource(faces=1).frame(0)[0])[1].tobytes()

    def chunked(body: bytes):
        return client.post("/api/label", input_stream=io.BytesIO(body), content_type="image/jpeg",
                           headers={"Transfer-Encoding": "chunked"}, environ_overrides={"wsgi.input_terminated": True})

    big = chunked(photo + bytes(3_000_000))  # the client's limit is 2 MB
    assert big.status_code == 413 and big.json["error"] == "the upload is larger than 2 MB"
    whole = client.post("/api/label", data=photo, content_type="image/jpeg").json
    assert chunked(photo).json == whole and len(whole["faces"]) == 1
    from werkzeug.serving import DechunkedInput  # (what the server reads a chunked body through)

    class Sent(io.BytesIO):  # the body as the server reads it: a chunk size that is no number
        def read(self, size=-1):
            return DechunkedInput(io.BytesIO(b"zz\r\nabc\r\n0\r\n\r\n")).read(size)  # (OSError: Invalid chunk header)

    broken = client.post("/api/label", input_stream=Sent(), content_type="image/jpeg",
                         headers={"Transfer-Encoding": "chunked"}, environ_overrides={"wsgi.input_terminated": True})
    assert broken.status_code == 400 and "chunked body cannot be read" in broken.json["error"], broken.json


def test_the_time_said_is_the_labelling_s_not_the_wait_behind_another_upload(tiny_model, tmp_path):
    """The page said a photo was "labelled in 11.23 s" that took 0.12 s: it had waited for a video uploaded before it."""
    from realtime.classify import Classifier
    from realtime.web import Labeller

    labeller, answers = Labeller(Classifier(tiny_model), Classifier(tiny_model), tmp_path), []
    photo = cv2.imencode(".png", DemoSource(faces=1).frame(0)[0])[1].tobytes()
    labeller.label_file(photo, "warm.png", "image/png", annotate=False)  # (the first photo loads the models' caches)
    with labeller.lock:  # another upload being labelled
        waiting = threading.Thread(target=lambda: answers.append(labeller.label_file(photo, "a.png", "image/png", False)))
        started = time.perf_counter()
        waiting.start()
        time.sleep(1.0)
    waiting.join()
    elapsed = time.perf_counter() - started
    assert 0 < answers[0].seconds <= elapsed - 0.95  # (the second it waited for the lock is not counted)


def test_a_netpbm_picture_in_text_is_read_as_a_photo(client):
    """An ASCII PGM (P2) is text, and was refused as a text file (415) once text named as a video was; OpenCV reads it."""
    grey = cv2.cvtColor(DemoSource(faces=1).frame(0)[0], cv2.COLOR_BGR2GRAY)[::4, ::4]
    text = f"P2\n{grey.shape[1]} {grey.shape[0]}\n255\n" + "\n".join(" ".join(map(str, row)) for row in grey) + "\n"
    response = client.post("/api/label", data={"file": (io.BytesIO(text.encode()), "face.pgm")})
    assert response.status_code == 200, response.json
    assert response.json["image"] == "face.pgm"


def test_a_raw_body_is_read_whatever_its_content_type_says(client, tmp_path):
    """curl --data-binary @photo.jpg sends a form's Content-Type; a video sent without a name is known by its bytes."""
    photo = cv2.imencode(".jpg", DemoSource(faces=1).frame(0)[0])[1].tobytes()
    response = client.post("/api/label", data=photo, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200, response.json
    assert len(response.json["faces"]) == 1
    write_clip(tmp_path / "clip.mp4", faces=1, frames=4)
    for kind in ("application/octet-stream", None):
        response = client.post("/api/label", data=(tmp_path / "clip.mp4").read_bytes(), content_type=kind)
        assert response.status_code == 200, response.json
        assert [r["frame"] for r in response.json] == [0, 1, 2, 3]
    response = client.post("/api/label", data=b"just some notes", content_type="application/octet-stream")
    assert response.status_code == 415, response.json


def test_an_iphone_photo_in_heic_is_read_as_a_photo(client):
    """HEIC (OpenCV reads none): labelled as a photo, turned the right way up, not refused or taken for a video."""
    heic = Path(__file__).parent / "data" / "turned.heic"
    for response in (post_file(client, "/api/label", heic, "IMG_0001.HEIC"),
                     client.post("/api/label", data=heic.read_bytes(), content_type="image/heic")):
        assert response.status_code == 200, response.json
        (face,) = response.json["faces"]
        assert 100 < face["box"][0] < face["box"][2] < 230  # where the face is in the picture shown upright (320x240)


def test_every_result_folder_name_mkdtemp_makes_is_served(client, monkeypatch):
    """mkdtemp() names results folders from letters, digits and '_': a name ending in '_' was served as 404."""
    import tempfile

    photo = cv2.imencode(".png", DemoSource(faces=1).frame(0)[0])[1].tobytes()
    for ending in ("_", "9", "z"):
        monkeypatch.setattr(tempfile, "_get_candidate_names", lambda e=ending: iter([f"abc{e * 3}"]))
        page = client.post("/api/annotate", data={"file": (io.BytesIO(photo), "face.png")}).json
        assert page["media"].split("/")[2] == f"tmpabc{ending * 3}"
        assert client.get(page["media"]).status_code == 200, page["media"]
    assert client.get("/results/..%2F..%2Fetc/passwd").status_code == 404  # nothing outside the results folder


def test_a_server_with_classes_names_them_and_answers_only_them(tmp_path, tiny_model):
    """--classes: the page and /api/health named every class of the model, those left out too."""
    from realtime.classify import Classifier
    from realtime.web import create_app

    client = create_app(Classifier(tiny_model, classes=["happy", "sad", "neutral"]), tmp_path).test_client()
    health = client.get("/api/health").json
    assert health["labels"] == LABELS and health["classes"] == ["happy", "sad", "neutral"]
    page = client.get("/").get_data(as_text=True)
    assert "Facial-expression labels (happy, sad, neutral)" in page
    colours = json.loads(re.search(r"const COLOURS = (\{.*?\});", page)[1])  # a face's table: a row each, in this order
    assert list(colours) == ["happy", "sad", "neutral"]
    photo = tmp_path / "face.png"
    cv2.imwrite(str(photo), DemoSource(faces=1).frame(0)[0])
    faces = post_file(client, "/api/label", photo).json["faces"]
    assert faces and all(face["label"] in ("happy", "sad", "neutral") and face["probabilities"]["angry"] == 0
                         for face in faces)


def test_photos_go_to_the_photo_model_and_the_webcam_to_the_video_model(tmp_path, tiny_model):
    """As the program does by default: the ensemble labels photos, one model video and the webcam."""
    from realtime.card import ModelError
    from realtime.classify import DEFAULT_MODEL, DEFAULT_PHOTO_MODEL, Classifier
    from realtime.web import create_app

    video, photos = Classifier(DEFAULT_MODEL), Classifier(DEFAULT_PHOTO_MODEL)
    client = create_app(video, tmp_path, photo_classifier=photos).test_client()
    health = client.get("/api/health").json
    assert (health["model"], health["photo_model"]) == ("ferplus_a", "ferplus_ens")  # (as --model names them; it was
    # a model file for one, a card for the other)
    photo = tmp_path / "face.png"
    cv2.imwrite(str(photo), DemoSource(faces=1).frame(0)[0])
    record = post_file(client, "/api/label", photo).json
    assert record == program_json(photo, DEFAULT_PHOTO_MODEL)[0] != program_json(photo, DEFAULT_MODEL)[0]
    with pytest.raises(ModelError, match="same labels"):
        create_app(Classifier(tiny_model), tmp_path, photo_classifier=photos)


def test_an_upload_without_a_name_is_named_by_its_content():
    """A raw body's name came from its Content-Type alone: curl's --data-binary (application/octet-stream) gave
    upload.bin, a JPEG sent as text/plain upload.txt."""
    from realtime.web import content_suffix

    heic = (Path(__file__).parent / "data" / "turned.heic").read_bytes()
    avif = (Path(__file__).parent / "data" / "plain.avif").read_bytes()
    jpeg = cv2.imencode(".jpg", DemoSource(faces=1).frame(0)[0])[1].tobytes()
    for data, suffix in ((jpeg, ".jpg"), (heic, ".heic"), (avif, ".avif"), (b"RIFF\0\0\0\0WEBPVP8 ", ".webp"),
                         (b"\0\0\0\x18ftypisom", ".mp4"), (b"\x1a\x45\xdf\xa3", ".webm"), (b"RIFF\0\0\0\0AVI ", ".avi"),
                         (b"GIF89a", ".gif"), (b"II*\0", ".tif"), (b"hello", ""),
                         (b"\x00\x00\x01\xba\x44", ".mpg"), (b"FLV\x01\x05", ".flv"),
                         (bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c"), ".wmv")):
        assert content_suffix(data) == suffix, suffix
    packets = b"".join(b"\x47" + bytes(187) for _ in range(3))  # (MPEG-TS: a sync byte every 188 bytes)
    assert content_suffix(packets) == ".ts" and content_suffix(b"\x47" + bytes(400)) == ""
    stamped = b"".join(bytes(4) + b"\x47" + bytes(187) for _ in range(3))  # (a camcorder's: 4-byte time, then a packet)
    assert content_suffix(stamped) == ".m2ts" and content_suffix(bytes(4) + b"\x47" + bytes(400)) == ""
