"""python -m realtime.web: a local web page that labels an uploaded photo or video, or the browser's webcam.

The page and its API run the desktop program's own path: photos go through `realtime.loop.run`
with the `tiled` detector and 6 views per face, videos with `sweep` and the tracker, and the
results are the JSON objects `--json` writes (`realtime.output.frame_record`). The model is
loaded once; requests are labelled one at a time (MediaPipe's graphs are not thread-safe).

    GET  /               the page (HTML, CSS and JavaScript inline: nothing is fetched from elsewhere)
    GET  /api/health     {"status": "ok", "model", "photo_model", "backend", "labels", "classes", "limits"}
    POST /api/label      a photo: one frame record; a video: a list of them. The file as the multipart
                         field `file` or as the request body. `?stream=ID`: a webcam frame; the frames of
                         one stream are labelled as video (sweep, tracker), up to MAX_STREAMS streams side by side
    POST /api/annotate   what the page uploads to: {"kind", "records", "media": URL of the annotated
                         image or H.264 MP4, "enlarged": how many times its size a small photo is drawn (the
                         records' boxes are in its own pixels), "seconds"}
Bad uploads get 400, 413 or 415 with {"error": "..."}.
"""

from __future__ import annotations

import contextlib
import io
import logging
import mimetypes
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
import urllib.parse
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from realtime import stop
from realtime.capture import (GIF_SIGNATURES, IMAGE_SUFFIXES, JPEG_SIGNATURE, PNG_SIGNATURE, TIFF_SIGNATURES,
                              VIDEO_SUFFIXES, ImageSource, IndexMissing, Source, SourceError, colour_profile, damage_note,
                              animated, is_heif, is_image_file, is_webp, not_media, open_video)
from realtime.classify import BACKENDS, DEFAULT_MODEL, DEFAULT_PHOTO_MODEL, Classifier, ClassesError, ModelError
from realtime.output import Annotated, OutputError, VideoWriter, frame_record

MAX_BYTES = 100_000_000  # largest upload
MAX_SECONDS, MAX_FRAMES = 60, 1800  # longest video
MAX_PIXELS = 40_000_000  # largest photo or video frame
VIDEO_FACES = 8  # most faces a video frame shows, as the program's --max-faces for a camera: the server is shared
KEPT_RESULTS = 20  # annotated files kept for the page; older ones are deleted
MAX_STREAMS = 4  # webcam streams labelled side by side (tabs, people); a new one beyond them ends the idlest


@dataclass
class Labelled:
    """An upload labelled: "image" or "video", the frame record or the list of them (as --json writes them), the
    annotated file (or None), how many times its size the annotated picture is drawn (more than 1 for a small photo,
    whose faces' boxes are in its own pixels), and what is wrong with the file, if anything (`damage_said`)."""
    kind: str
    records: object
    media: Path | None
    enlarged: int
    warning: str | None
    seconds: float = 0.0  # how long it took, from when the labeller took it up (not waiting for another upload)


def damage_said(source: Source) -> str | None:
    """What the command line warns of, once the upload is read, for a file read only in part: a photo damaged or cut
    short (its missing part grey), a video cut short or with frames that could not be decoded (`damage_note`); None for
    a whole file. The page's user never sees the server's console, and a cut-short photo came back as one without
    faces, unsaid."""
    if isinstance(source, ImageSource):
        return "the photo is damaged or cut short: what is missing of it reads as grey" if source.damaged_photos else None
    return damage_note(source)


# What an X-Warning header keeps as it is: printable ASCII but `%` (an HTTP header holds Latin-1 only, and a warning
# naming an upload `写真.mp4` raised in the server, whose client then waited for an answer for ever)
HEADER_SAFE = "".join(chr(code) for code in range(32, 127) if chr(code) != "%")


def with_warning(response, warning: str | None):
    """`response` with the upload's `warning`, if any, in an X-Warning header (for /api/label, whose body is the
    program's --json records as they are): UTF-8, its other characters percent-encoded (decodeURIComponent, or Python's
    urllib.parse.unquote, gives the text back)."""
    if warning:
        response.headers["X-Warning"] = urllib.parse.quote(warning, safe=HEADER_SAFE)
    return response


class UploadError(Exception):
    """A bad upload: its HTTP status and a message meant for the user."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


MATROSKA_SIGNATURE = b"\x1a\x45\xdf\xa3"  # (WebM's too)
ASF_SIGNATURE = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")  # (WMV's header object)


def video_content_suffix(data: bytes) -> str:
    """The suffix of the video file `data` begins as ("" for none this page knows): MP4/MOV/3GP, Matroska/WebM, AVI,
    MPEG-TS (a recorder's .ts: a sync byte every 188 bytes; a camcorder's .mts/.m2ts: every 192, after a 4-byte time),
    MPEG program stream (.mpg, DVD), ASF (.wmv) or FLV; for an upload whose name and type do not say (curl's
    --data-binary)."""
    if data[4:8] == b"ftyp":
        return ".mp4"
    if data.startswith(MATROSKA_SIGNATURE):
        return ".webm"
    if data[:4] == b"RIFF" and data[8:12] == b"AVI ":
        return ".avi"
    if len(data) > 376 and data[0] == data[188] == data[376] == 0x47:
        return ".ts"
    if len(data) > 388 and data[4] == data[196] == data[388] == 0x47:
        return ".m2ts"
    for signature, suffix in ((b"\x00\x00\x01\xba", ".mpg"), (ASF_SIGNATURE, ".wmv"), (b"FLV\x01", ".flv")):
        if data.startswith(signature):
            return suffix
    return ""


def content_suffix(data: bytes) -> str:
    """The file suffix of a photo or video by how it begins ("" when unknown), to name an upload sent without a
    name: curl's `--data-binary @photo.jpg` comes as application/octet-stream, which was named upload.bin."""
    if is_heif(data[:64]):
        return ".avif" if data[8:12] in (b"avif", b"avis") else ".heic"
    if is_webp(data[:64]):
        return ".webp"
    for signatures, suffix in (((JPEG_SIGNATURE,), ".jpg"), ((PNG_SIGNATURE,), ".png"), (GIF_SIGNATURES, ".gif"),
                               (TIFF_SIGNATURES, ".tif"), ((b"BM",), ".bmp")):
        if data.startswith(signatures):
            return suffix
    return video_content_suffix(data)


def check_picture_size(data: bytes, name: str) -> None:
    """UploadError 413 for a picture over MAX_PIXELS, from its header alone: decoding a small file that unpacks
    to a huge picture would take seconds and gigabytes first. What Pillow cannot read is left to the decoder."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # (said past 89 megapixels)
            with Image.open(io.BytesIO(data)) as picture:
                width, height = picture.size
    except Image.DecompressionBombError as error:  # (past 179 megapixels: it says how many, "(400000000 pixels)")
        pixels = re.findall(r"\((\d+) pixels\)", str(error))
        size = f"{int(pixels[0]) / 1e6:,.0f}" if pixels else f"over {2 * Image.MAX_IMAGE_PIXELS // 1_000_000}"
        raise UploadError(413, f"{name} is {size} megapixels: at most {MAX_PIXELS // 1_000_000}") from None
    except Exception:  # noqa: BLE001 - not a picture Pillow knows: the decoder will say
        return
    if width * height > MAX_PIXELS:
        raise UploadError(413, f"{name} is {width}x{height}: at most {MAX_PIXELS // 1_000_000} megapixels")


class Records:
    """A sink that keeps the JSON object of every frame."""

    def __init__(self, labels: list[str]):
        self.labels, self.records = labels, []
        self.enlarged = 1  # how many times its size the last frame was drawn (a small photo: draw.enlargement)

    def write(self, annotated: Annotated) -> None:
        self.records.append(frame_record(annotated, self.labels))
        self.enlarged = annotated.enlarged

    def close(self) -> None:
        pass


def end_stream(stream: Stream) -> None:
    with contextlib.suppress(Exception):  # (a detector whose graph failed fails to close too)
        stream.pipeline.detector.close()


@dataclass
class Stream:
    """One webcam stream: its own detector (MediaPipe keeps state between a video's frames), tracker and shot-cut
    watch (a label never carries over onto the next person), as a video file's run has."""

    pipeline: object
    tracker: object
    cuts: object
    started: float
    frames: int = 0


class Labeller:
    """The model and the photo detector, loaded once; one upload or webcam frame at a time."""

    def __init__(self, classifier: Classifier, photo_classifier: Classifier, folder: Path,
                 max_seconds: float = MAX_SECONDS, max_frames: int = MAX_FRAMES):
        """`classifier` labels videos and webcam frames; `photo_classifier` photos."""
        from realtime.photos import photo_pipeline

        self.classifier, self.folder = classifier, folder
        self.max_seconds, self.max_frames = max_seconds, max_frames
        self.lock = threading.Lock()
        self.photos = photo_pipeline(photo_classifier)  # as the program does for photos
        self.streams: dict[str, Stream] = {}  # the webcam streams being labelled, the most recently used last

    def label_file(self, data: bytes, name: str, mimetype: str, annotate: bool) -> Labelled:
        """The upload labelled, and annotated with `annotate`."""
        with self.lock:
            started = time.perf_counter()
            work = Path(tempfile.mkdtemp(dir=self.folder))
            kept = False
            try:
                result = self._label_file(data, name, mimetype, work, annotate)
                kept = annotate
                return replace(result, seconds=time.perf_counter() - started)
            finally:
                if not kept:
                    shutil.rmtree(work, ignore_errors=True)
                self._forget_old()

    def _label_file(self, data, name, mimetype, work, annotate):
        from realtime.loop import run
        from realtime.track import ShotCuts, Tracker

        path = work / "upload" / name  # apart from the annotated file, whatever the upload's name
        path.parent.mkdir()
        path.write_bytes(data)
        # A GIF, WebP or PNG of several frames is the short video it is, as the program reads it (it was labelled as
        # its first frame: a slide show of several people gave one face)
        animation = animated(path)
        if animation is not None:  # (`_open` names the others so)
            animation.description = path.name
        image = animation is None and (cv2.haveImageReader(str(path)) or is_image_file(path, by_content=True))
        # Text (ASCII netpbm pictures are text too: read above) named as a video was a "damaged video, or a codec ..."
        plain = None if image or animation else not_media(path)
        video = not (plain or image) and bool(animation or path.suffix.lower() in VIDEO_SUFFIXES or
                                              mimetype.startswith("video/") or video_content_suffix(data))
        if not (image or video):
            raise UploadError(415, f"{name} is not a photo or video this page reads ({plain + '; ' if plain else ''}"
                                   f"photos: {', '.join(sorted(s[1:] for s in IMAGE_SUFFIXES))}; "
                                   f"videos: {', '.join(sorted(s[1:] for s in VIDEO_SUFFIXES))})")
        if image:
            check_picture_size(data, name)  # (HEIC, AVIF: OpenCV reads neither)
            kind, source = "image", self._open(ImageSource, path, f"cannot read image {name} (damaged or cut short?)")
            pipeline, tracker, cuts = self.photos, Tracker.for_photos(), None
        else:
            kind, source = "video", animation or self._open(open_video, path, f"cannot read video {name} (damaged, "
                                                                               "or a codec this program cannot decode)")
            self._check_length(source)
            pipeline, cuts = self._video_pipeline(), ShotCuts(fps=source.fps)
            tracker = Tracker(frames=source.frame_count, max_faces=VIDEO_FACES, fps=source.fps)
        width, height = source.size
        if width * height > MAX_PIXELS:
            source.close()
            raise UploadError(413, f"{name} is {width}x{height}: at most {MAX_PIXELS // 1_000_000} megapixels")
        records = Records(pipeline.classifier.labels)
        sinks = [records]
        media = work / ("annotated.jpg" if kind == "image" else "annotated.mp4") if annotate else None
        try:
            if media:
                sinks.append(VideoWriter(media, source.fps, source.size,
                                         profile=colour_profile(path) if kind == "image" else None))
            run(source, pipeline, tracker, sinks, cuts=cuts, max_frames=self.max_frames)
        except OutputError as err:
            raise UploadError(500, f"cannot write the annotated {kind}: {err}") from None
        finally:
            if pipeline is not self.photos:
                pipeline.detector.close()
        return Labelled(kind, records.records[0] if kind == "image" else records.records, media, records.enlarged,
                        damage_said(source))

    @staticmethod
    def _open(kind, path: Path, message: str):
        """`kind(path)`, described by the upload's own name: its notes (a video that changes frame size) named the
        temporary folder's path."""
        try:
            source = kind(path)
        except IndexMissing as error:  # (what is wrong with the file, told as the program tells it)
            raise UploadError(400, str(error).replace(str(path), path.name)) from None
        except SourceError:
            raise UploadError(400, message) from None
        source.description = path.name
        return source

    def _check_length(self, source: Source) -> None:
        frames = source.frame_count or 0  # (None when the file does not say)
        if frames > self.max_frames or frames / source.fps > self.max_seconds:
            source.close()
            raise UploadError(413, f"the video is {frames / source.fps:.0f} s long ({frames:.0f} frames): at most "
                                   f"{self.max_seconds:g} s and {self.max_frames:,} frames")

    def _video_pipeline(self):
        from realtime.detect import FaceDetector
        from realtime.pipeline import Pipeline

        return Pipeline(FaceDetector("sweep", 0.5, VIDEO_FACES), self.classifier, by_turns=True)  # as the program does

    def label_frame(self, data: bytes, stream: str) -> dict:
        """A webcam frame of stream `stream`: labelled as the next frame of a video, smoothed and tracked."""
        from realtime.track import ShotCuts, Tracker

        check_picture_size(data, "the webcam frame")
        frame = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)  # nothing is drawn: the page does
        if frame is None:
            raise UploadError(415, "a webcam frame must be a JPEG, PNG or WebP image")
        with self.lock:
            arrived = time.monotonic()  # a frame's time is when its turn came, before labelling: the first one's is 0
            current = self.streams.pop(stream, None)
            if current is None:
                if len(self.streams) >= MAX_STREAMS:  # the one whose last frame is oldest gives way
                    end_stream(self.streams.pop(next(iter(self.streams))))
                current = Stream(self._video_pipeline(), Tracker(max_faces=VIDEO_FACES), ShotCuts(), started=arrived)
            if current.cuts.is_cut(frame):  # another person, or the picture's size changed (a phone turned)
                current.tracker.reset()
            try:
                result = current.pipeline.process(frame, [track.face.box for track in current.tracker.tracks])
            except Exception:
                end_stream(current)  # whatever went wrong, the stream's next frame starts afresh
                raise
            self.streams[stream] = current
            tracks = current.tracker.update(result.faces, result.probabilities, frame, result.crops)
            current.frames += 1
            return frame_record(Annotated(current.frames - 1, arrived - current.started, frame, tracks),
                                self.classifier.labels)

    def _forget_old(self) -> None:
        results = sorted((p for p in self.folder.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
        for old in results[:-KEPT_RESULTS]:
            shutil.rmtree(old, ignore_errors=True)


def create_app(classifier: Classifier, folder: Path, max_bytes: int = MAX_BYTES, max_seconds: float = MAX_SECONDS,
               max_frames: int = MAX_FRAMES, photo_classifier: Classifier | None = None):
    """The Flask app; annotated files go to `folder` (the last KEPT_RESULTS are kept). `classifier` labels
    videos and webcam frames, `photo_classifier` photos (default: `classifier`); both must share their labels."""
    from flask import Flask, jsonify, request, send_from_directory
    from werkzeug.exceptions import HTTPException

    from realtime.web_page import page

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = max_bytes
    app.json.sort_keys = False  # the keys in the order the program writes them
    photo_classifier = photo_classifier or classifier
    if photo_classifier.labels != classifier.labels or photo_classifier.classes != classifier.classes:
        raise ModelError("the photo model and the video model must have the same labels, and answer the same classes")
    labeller = Labeller(classifier, photo_classifier, folder, max_seconds, max_frames)
    limits = {"upload_bytes": max_bytes, "video_seconds": max_seconds, "video_frames": max_frames,
              "megapixels": MAX_PIXELS / 1e6}

    def upload() -> tuple[bytes, str, str]:
        """(content, a safe file name, MIME type) of the multipart field `file` or of the raw body."""
        if request.mimetype == "multipart/form-data":
            if "file" not in request.files:
                raise UploadError(400, "no file: send the photo or video as the multipart field 'file'")
            file = request.files["file"]
            data, name, mimetype = file.read(), file.filename or "", file.mimetype or ""
            if not data:  # (said "no file")
                raise UploadError(400, f"the file sent{f' ({file.filename})' if file.filename else ''} is empty")
        else:
            data, name = request.get_data(), ""  # (whatever its Content-Type: curl --data-binary says a form)
            mimetype = "" if request.mimetype == "application/x-www-form-urlencoded" else request.mimetype or ""
        if not data:
            raise UploadError(400, "no file: send a photo or video as the multipart field 'file' or as the body")
        name = Path(name.replace("\\", "/")).name  # the name only: it is saved in a folder of its own
        if name in ("", ".", "..") or "\0" in name or len(name.encode()) > 200:
            name = f"upload{content_suffix(data) or mimetypes.guess_extension(mimetype) or ''}"
        return data, name, mimetype

    @app.get("/")
    def index():
        return page(classifier.labels, classifier.classes), 200, {"Content-Type": "text/html; charset=utf-8"}

    @app.get("/api/health")
    def health():
        return jsonify(status="ok", model=classifier.path.stem, photo_model=photo_classifier.path.stem,
                       backend=classifier.backend,
                       labels=classifier.labels, classes=classifier.classes, limits=limits)

    @app.post("/api/label")
    def label():
        if request.args.get("stream"):
            return jsonify(labeller.label_frame(upload()[0], request.args["stream"]))
        labelled = labeller.label_file(*upload(), annotate=False)
        return with_warning(jsonify(labelled.records), labelled.warning)

    @app.post("/api/annotate")
    def annotate():
        labelled = labeller.label_file(*upload(), annotate=True)
        media = labelled.media
        answer = dict(kind=labelled.kind, records=labelled.records, media=f"/results/{media.parent.name}/{media.name}",
                      enlarged=labelled.enlarged, seconds=round(labelled.seconds, 3))
        if labelled.warning:
            answer["warning"] = labelled.warning
        return with_warning(jsonify(answer), labelled.warning)

    @app.get("/results/<token>/<name>")
    def result(token, name):
        # As named: secure_filename() would strip the "_" that ends some folder names mkdtemp() makes (404).
        return send_from_directory(folder, f"{token}/{name}", max_age=0)  # (it refuses paths out of `folder`)

    @app.before_request
    def whole_streamed_body():
        """A body sent without its length (`Transfer-Encoding: chunked`) is read here, up to the limit: Werkzeug
        would cut it at the limit unsaid (a video cut short), and the rest of the app reads it as any other."""
        environ = request.environ
        if request.content_length is not None or not environ.get("wsgi.input_terminated"):
            return
        try:
            body = environ["wsgi.input"].read(max_bytes + 1)
        except (OSError, ValueError) as error:  # a chunk's size line that is no number (it was a 500)
            raise UploadError(400, f"the upload's chunked body cannot be read: {error}") from None
        if len(body) > max_bytes:
            raise UploadError(413, f"the upload is larger than {max_bytes / 1e6:g} MB")
        environ.update({"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))})
        for streamed in ("wsgi.input_terminated", "HTTP_TRANSFER_ENCODING"):  # (a chunked body has no length)
            environ.pop(streamed, None)

    @app.errorhandler(UploadError)
    def bad_upload(err):
        return jsonify(error=str(err)), err.status

    @app.errorhandler(HTTPException)
    def http_error(err):
        if err.code == 413:
            message = f"the upload is larger than {max_bytes / 1e6:g} MB"
        else:
            message = f"{err.name.lower()}: {err.description}"
        return jsonify(error=message), err.code

    @app.errorhandler(Exception)
    def crash(err):  # never a traceback to the client; one line in the server's log
        print(f"error: {request.method} {request.path}: {type(err).__name__}: {err}", file=sys.stderr)
        return jsonify(error=f"internal error: {type(err).__name__}"), 500

    return app


def parse_args(argv):
    from realtime.__main__ import Parser, class_list, number

    parser = Parser(prog="python -m realtime.web", description=__doc__.split(": ", 1)[1].split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=number(int, 0, 65535), default=8000, help="port (default 8000; 0: any free one)")
    parser.add_argument("--model", help="model file with its .json card beside it, or the name of a shipped one, for "
                             "photos and video alike (default: ferplus_ens for photos, ferplus_a for video and the webcam, "
                             "as the program does)")
    parser.add_argument("--classes", type=class_list, metavar="NAMES",
                        help="answer only these of the model's classes, comma-separated, as the program's --classes")
    parser.add_argument("--backend", choices=BACKENDS, default="auto",
                        help="auto: Keras on a GPU, TFLite/XNNPACK on a CPU (default)")
    return parser.parse_args(argv)


def stop_serving(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # While the server starts, Ctrl-C or SIGTERM only sets a flag, checked once the models are loaded: raised in the
    # midst of loading, a KeyboardInterrupt can be lost in a library's clean-up, and the server would start anyway.
    # A second one hurries it. While it serves, either ends it at once (exit 0).
    stop.install()
    try:
        return serve(args)
    except KeyboardInterrupt:  # a second Ctrl-C or SIGTERM while starting: what it made is gone already
        print("stopped", file=sys.stderr)
        return 0


def serve(args) -> int:
    try:
        from werkzeug.serving import make_server
    except ImportError:
        print("error: the web page needs Flask: pip install 'emotion-overlay[web]'", file=sys.stderr)
        return 2
    try:  # bound here, before the model loads, so that a port in use is one error line at once
        family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
        listening = socket.create_server((args.host, args.port), family=family)
    except OSError as err:
        reason = (err.strerror or str(err)).split(" (while attempting")[0]  # Python's own addition repeats the address
        print(f"error: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
        return 2
    folder = Path(tempfile.mkdtemp(prefix="emotion-overlay-web-"))
    try:  # the annotated files go with the server, however it ends
        try:
            if args.model:
                app = create_app(Classifier(args.model, backend=args.backend, classes=args.classes), folder)
            else:
                app = create_app(Classifier(DEFAULT_MODEL, backend=args.backend, classes=args.classes), folder,
                                 photo_classifier=Classifier(DEFAULT_PHOTO_MODEL, backend=args.backend,
                                                             classes=args.classes))
        except ModelError as err:
            print(f"error: {'--classes: ' * isinstance(err, ClassesError)}{err}", file=sys.stderr)
            return 2
        stop.route(stop_serving)  # (SIGHUP too: the terminal closed; not where ignored, as under nohup)
        if stop.requested:  # stopped while starting
            print("stopped", file=sys.stderr)
            return 0
        server = make_server(args.host, listening.getsockname()[1], app, threaded=True, fd=listening.fileno())
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request (the webcam sends several a second)
        if args.host not in ("127.0.0.1", "localhost", "::1"):
            print(f"note: listening on {args.host}: other machines can reach the page", file=sys.stderr)
        host = f"[{args.host}]" if ":" in args.host else args.host
        print(f"serving on http://{host}:{server.server_address[1]}/ (Ctrl-C to stop)", flush=True)
        try:
            server.serve_forever()
        finally:
            server.server_close()
    finally:
        listening.close()
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
