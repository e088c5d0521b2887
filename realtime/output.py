"""Output stage: sinks that take each annotated frame: the video file, JSON lines and CSV rows
(the window is realtime/window.py). Every sink has `write(annotated)` and `close()`.

Videos are written so that a hard kill (SIGKILL, a crash, a power cut) loses at most about the
last second: `.mp4`, `.m4v` and `.mov` are H.264 in fragmented MP4 (PyAV; a fragment per second,
each playable on its own, and browsers play H.264), `.mkv` is H.264 in Matroska, which players
read up to where it stops, `.avi` is MJPEG (PyAV too). JSON lines reach the disk at least
once a second, CSV rows too. `-` as the JSON or CSV path writes to standard output.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from realtime.capture import BT709, STREAM_TIMEOUT_MS, colour_profile, main_stream
from realtime.draw import letterboxed
from realtime.track import Track

# delay_moov: the header is written with the first fragment, once the start of every stream is known, so that an edit
# list takes up x264's B-frame delay (with empty_moov the picture came 2 frames after the sound)
FRAGMENTED = {"movflags": "frag_keyframe+delay_moov+default_base_moof", "flush_packets": "1"}
H264 = {".mp4": FRAGMENTED, ".m4v": FRAGMENTED, ".mov": FRAGMENTED, ".mkv": {"flush_packets": "1"}}  # PyAV, with these muxer options
MJPEG = {".avi": {"flush_packets": "1"}}  # PyAV's (FFmpeg's) MJPEG encoder at quality 2 of 31; any picture size
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".jpe", ".bmp", ".webp", ".tif", ".tiff")  # an annotated picture's
SCHEMA = 2  # version of the JSON lines and CSV columns: 2 added raw probabilities, `image` and `schema`


@dataclass
class Annotated:
    """One frame as the sinks get it."""
    index: int  # frame number, from 0
    time: float  # seconds: the frame's time in a file, or since the start for a camera or stream
    frame: np.ndarray  # BGR, with the boxes and labels drawn
    tracks: list[Track]  # the faces shown
    image: str | None = None  # the image's file name, for images and folders of images
    redraw: Callable[[bool], np.ndarray] | None = None  # the picture drawn again, with or without probability bars
    enlarged: int = 1  # `frame` is the picture this many times its size (a small photo, draw.enlargement); `tracks`
    # are in the picture's own pixels, as the results give them


GRID_LEAST_FPS = 10.0  # the least rate of a recording at a constant rate (.avi): a slide's time within 0.1 s


class OutputError(RuntimeError):
    """An output file that cannot be written; the message is meant for the user."""


class VideoWriter:
    """Writes frames at the source's size, each at its time, so that the video keeps the source's timing where
    frames come unevenly (a camera while processing is slower than it, a variable-frame-rate file): H.264 with each
    frame's own timestamp; MJPEG (.avi, a constant rate) and OpenCV's writer at the source's rate (for video,
    GRID_LEAST_FPS at least), each frame from its frame period, repeated until the next one's; a frame whose period is
    filled already is shown from the next one, unless a later frame comes first."""

    def __init__(self, path: str | Path, fps: float, size: tuple[int, int], audio: str | Path | None = None,
                 sound_from: float | None = None, profile: bytes | None = None, photos: bool = False):
        """`audio`: a video file whose sound is carried over (into .mp4, .m4v, .mov and .mkv), from `sound_from`, the
        file's time (seconds) of the first frame the recording gets (None: where its video stream starts).
        `profile`: for an image file, the photo's ICC colour profile, kept in it (`write_picture`). `photos`: frames
        at whole periods of `fps` (a second each), which need no finer rate."""
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in MJPEG and suffix not in H264 and suffix not in IMAGE_SUFFIXES:
            raise OutputError(f"cannot write {self.path}: use one of {', '.join([*H264, *MJPEG, *IMAGE_SUFFIXES])}"
                              + ("; for photos, a folder: end its name with /" if not suffix else ""))
        if not self.path.parent.is_dir():
            raise OutputError(f"cannot write {self.path}: folder {self.path.parent} does not exist")
        check_writable(self.path)  # now, not when the first frame (or, for an image, the last) is written
        # At a constant rate the recording ends a frame period of the source's after the last frame's time, as in
        # H.264 (an .avi of a GIF of 1 s slides, at GRID_LEAST_FPS, showed its last slide for 0.1 s)
        self._source_period, self._last_time, self._first_time = 1 / fps, 0.0, None
        if not photos and (suffix in MJPEG or (suffix in H264 and not h264_available())):  # a constant rate: fine
            fps = max(fps, GRID_LEAST_FPS)  # enough for uneven times
        self.fps, self.size, self.frames = fps, size, 0
        # The newest frame: an image file's, saved on close; at a constant rate, repeated up to the next one's period
        self._writer, self._last, self.profile = None, None, profile
        if suffix in H264 and min(size) < 2:
            raise OutputError(f"cannot write {self.path}: H.264 needs a picture of 2x2 pixels at least, not "
                              f"{size[0]}x{size[1]}; write .avi or an image (.png)")
        if suffix in MJPEG:
            self._writer = EncodedWriter(self.path, fps, size, MJPEG[suffix], codec="mjpeg")
            if audio and has_sound(audio):  # (it was left out without a word)
                print(f"note: {self.path.name} holds no sound (MJPEG .avi); the source's sound is kept in .mp4, .m4v, "
                      ".mov and .mkv", file=sys.stderr)
        elif suffix in H264 and h264_available():
            self._writer = EncodedWriter(self.path, fps, size, H264[suffix], codec="libx264", audio=audio,
                                         sound_from=sound_from)
        elif suffix in H264:
            fourcc = "mp4v" if suffix != ".mkv" else "MJPG"
            print(f"note: H.264 is not available (PyAV with x264 not installed): writing {fourcc}, which some "
                  "players and browsers do not play, without sound", file=sys.stderr)
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
            if not self._writer.isOpened():
                raise OutputError(f"cannot write {self.path} (codec {fourcc} unavailable or path not writable)")

    def write(self, annotated: Annotated) -> None:
        """Write the frame at its time: H.264 with that timestamp; at a constant rate (.avi, OpenCV's writer) from the
        frame period its time falls in, the one before it repeated up to there. (Each frame filled the periods before
        its own time, and one in the period of the next was left out: a GIF's 0.5 s slide between two of 3 s was
        dropped from an .avi at its mean rate.)"""
        frame = annotated.frame
        if self._writer is None:  # an image file: keep the newest frame, at its own size, saved on close
            self._last = frame.copy()
            self.frames += 1
            return
        if frame.shape[1::-1] != self.size:  # from a folder of pictures of several sizes: fitted in, bars around
            frame = letterboxed(frame, self.size)
        if isinstance(self._writer, EncodedWriter) and self._writer.timed:
            self._writer.write(frame, annotated.time)
            self.frames += 1
            return
        self._first_time = annotated.time if self._first_time is None else self._first_time
        elapsed = annotated.time - self._first_time  # (a video file's times count from its start, not its first frame)
        period = int(elapsed * self.fps + 1e-6)
        self._repeat_until(period)  # the last frame, up to this one's period
        if period >= self.frames:  # (written at once: a recording killed now holds it)
            self._writer.write(frame)
            self.frames += 1
        self._last = frame.copy()  # from the next period, where this one's is filled (the caller may draw over it)
        self._last_time = elapsed

    def _repeat_until(self, period: int) -> None:
        """The newest frame, repeated up to `period` (not included)."""
        for _ in range(period - self.frames if self._last is not None else 0):
            self._writer.write(self._last)
            self.frames += 1

    def close(self) -> None:
        if self._writer is None:
            if self._last is not None:
                write_picture(self.path, self._last, self.profile)
            return
        if not (isinstance(self._writer, EncodedWriter) and self._writer.timed):  # the last frame for its source period
            self._repeat_until(int((self._last_time + self._source_period) * self.fps + 1e-6))
        self._writer.release()


def write_picture(path: Path, frame: np.ndarray, profile: bytes | None = None) -> None:
    """`frame` saved in the format of `path`'s suffix, written whole under a temporary name and then renamed (a killed
    run or a full disk leaves no half-written picture; OpenCV's imwrite crashes on a name that is not UTF-8).
    `profile`: the photo's ICC colour profile (`capture.colour_profile`), kept where the format holds one."""
    encoded = with_profile(frame, path.suffix.lower(), profile) if profile else None
    if encoded is None:
        written, array = cv2.imencode(path.suffix, frame)
        if not written:
            raise OutputError(f"cannot encode {path}")
        encoded = array.tobytes()
    if path.is_fifo():  # a named pipe's reader gets the picture (renamed over, the pipe was replaced by a file, and
        try:  # its reader got nothing and waited for ever)
            with open(path, "wb") as pipe:
                pipe.write(encoded)
        except OSError as err:
            raise OutputError(f"cannot write {path}: {err.strerror}") from None
        return
    temporary = path.with_name(f".{path.name}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(encoded)
        os.replace(temporary, path)
    except OSError as err:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise OutputError(f"cannot write {path}: {err.strerror}") from None


# Where a picture format holds an ICC profile, Pillow writes it, as OpenCV cannot: with OpenCV's own settings (JPEG
# quality 95, lossless WebP, LZW-compressed TIFF)
PROFILE_FORMATS = {**dict.fromkeys((".jpg", ".jpeg", ".jpe"), ("JPEG", {"quality": 95})), ".png": ("PNG", {}),
                   ".webp": ("WEBP", {"lossless": True}),
                   **dict.fromkeys((".tif", ".tiff"), ("TIFF", {"compression": "tiff_lzw"}))}


def with_profile(frame: np.ndarray, suffix: str, profile: bytes) -> bytes | None:
    """BGR `frame` encoded in the format of `suffix` with the ICC `profile`; None where the format holds none (BMP)."""
    from PIL import Image

    if suffix not in PROFILE_FORMATS:
        return None
    kind, options = PROFILE_FORMATS[suffix]
    encoded = io.BytesIO()
    Image.fromarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)).save(encoded, kind, icc_profile=profile, **options)
    return encoded.getvalue()


class PhotoFolderWriter:
    """Saves each annotated photo into a folder under its name in the results: its path inside a source folder, or
    the path as given; where one is given by an absolute path or a path climbing out with `..`, each keeps its path
    below the folder they all share (`~/a/x.jpg ~/b/x.jpg` -> `a/x.jpg`, `b/x.jpg`). A picture OpenCV cannot write
    in its own format (HEIC, AVIF, GIF, PGM, a name without a picture's suffix) is saved as JPEG, `.jpg` added to its
    name. Each file is written whole under a temporary name and then renamed, so a run that is killed leaves no
    half-written picture."""

    KEPT = set(IMAGE_SUFFIXES)

    def __init__(self, folder: str | Path, sources: list[tuple[Path, str]]):
        """`sources`: the photos to come, as (file, name in the results) pairs; none of them may be overwritten (nor
        can a results file be: the program refuses a picture's name for one, `check_output_kinds`)."""
        self.folder, self.written = Path(folder), set()
        inside = all(not Path(name).is_absolute() and ".." not in Path(name).parts for _, name in sources)
        shared = "" if inside else os.path.commonpath([os.path.dirname(os.path.abspath(file)) for file, _ in sources])
        originals, self.targets, taken = {os.path.realpath(file) for file, _ in sources}, {}, set()
        self.files = {name: file for file, name in sources}  # (for each photo's colour profile)
        for file, name in sources:
            if name in self.targets:  # the same photo given twice: one annotated copy, under its own name (the second
                continue  # took `x (2).jpg` and both wrote there, leaving no `x.jpg`)
            relative = Path(name if inside else os.path.relpath(os.path.abspath(file), shared))
            target = self.folder / (relative if relative.suffix.lower() in self.KEPT else f"{relative}.jpg")
            target = unused(target, taken)  # `x.pgm`, saved as `x.pgm.jpg`, beside a photo `x.pgm.jpg`
            if os.path.realpath(target) in originals:
                raise OutputError(f"--output {self.folder}: the annotated photo would overwrite the photo {target}; "
                                  "name another folder")  # (it named the photo annotated, not the one overwritten)
            self.targets[name] = target
        try:  # (made once nothing is refused: a refusal left a new, empty folder behind)
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:  # (a file of that name: "File exists")
            why = "it is a file" if self.folder.exists() and not self.folder.is_dir() else err.strerror
            raise OutputError(f"cannot write into folder {self.folder}: {why}") from None
        check_writable(self.folder / ".emotion-overlay-check")

    def write(self, annotated: Annotated) -> None:
        write_picture(self.targets[annotated.image], annotated.frame, colour_profile(self.files[annotated.image]))
        self.written.add(annotated.image)

    @property
    def photos(self) -> int:
        """Photos written so far (one given twice: once)."""
        return len(self.written)

    def close(self) -> None:
        pass


def unused(path: Path, taken: set[Path]) -> Path:
    """`path`, or where another file has it already, `name (2).jpg`, `name (3).jpg`...; then taken too."""
    free, copy = path, 1
    while free in taken:
        copy += 1
        free = path.with_name(f"{path.stem} ({copy}){path.suffix}")
    taken.add(free)
    return free


class Tally:
    """A photo run's answers counted for its closing line: photos, faces by label, photos where no face was found."""

    def __init__(self, labels: list[str]):
        self.labels, self.photos, self.unseen, self.faces = labels, 0, 0, Counter()

    def write(self, annotated: Annotated) -> None:
        self.photos += 1
        self.unseen += not annotated.tracks
        self.faces.update(self.labels[track.label] for track in annotated.tracks)

    def close(self) -> None:
        pass

    def summary(self) -> str:
        labels = ", ".join(f"{label} {count}" for label, count in self.faces.most_common())
        faces = sum(self.faces.values())
        return (f"labelled {self.photos} photo{'s' * (self.photos != 1)}: {faces} face{'s' * (faces != 1)}"
                + (f" ({labels})" if labels else "")
                + (f"; no face found in {'it' if self.photos == 1 else self.unseen}" if self.unseen
                   else "" if self.photos == 1 else "; a face found in every one"))


class Progress:
    """A progress bar on standard error (tqdm): photos or frames done of all, their rate and the time left; it is
    gone when the run ends. For a run of known length that no window shows, where a terminal waits on it. While it
    is up, what the program says on standard error (a photo skipped) goes above it, on lines of its own."""

    def __init__(self, total: int, unit: str):
        from tqdm import tqdm

        self.stderr = sys.stderr
        try:  # a terminal that gives no size (0 columns: a pseudo-terminal nobody sized, as `script` or `docker -t`
            sized = os.get_terminal_size(self.stderr.fileno()).columns > 0  # may leave) had no bar at all: 80x24
        except (OSError, ValueError, AttributeError):
            sized = True
        self.bar = tqdm(total=total, unit=f" {unit}", file=self.stderr, leave=False, dynamic_ncols=sized,
                        ncols=None if sized else 80, nrows=None if sized else 24)
        sys.stderr = self

    def write(self, item: Annotated | str) -> None:
        """A frame done (as a sink), or text for standard error (as sys.stderr), written above the bar."""
        if isinstance(item, str):
            with self.bar.external_write_mode(file=self.stderr):
                self.stderr.write(item)
        else:
            self.bar.update(1)

    def flush(self) -> None:
        self.stderr.flush()

    def __getattr__(self, name: str):  # the rest of a stream (fileno, isatty, encoding) is standard error's
        return getattr(self.stderr, name)

    def close(self) -> None:
        sys.stderr = self.stderr
        self.bar.close()


def check_writable(path: Path) -> None:
    """Raise OutputError unless `path` can be written; leaves no file behind that was not there. A named pipe is not
    opened: its reader would take this open's close for the end of what it reads (`--json pipe`, read by another
    program, got nothing, and the writer then waited for a reader for ever)."""
    if path.is_fifo():
        return
    if not path.parent.is_dir():  # (as --output says it: open()'s 'No such file or directory' named no folder)
        raise OutputError(f"cannot write {path}: folder {path.parent} does not exist")
    existed = path.exists()
    try:
        with open(path, "ab"):
            pass
    except OSError as err:
        raise OutputError(f"cannot write {path}: {err.strerror}") from None
    if not existed:
        path.unlink()


def h264_available() -> bool:
    try:
        import av

        av.codec.Codec("libx264", "w")
        return True
    except Exception:  # noqa: BLE001 - no PyAV, or a build without x264
        return False


class EncodedWriter:
    """A video file through PyAV (which bundles FFmpeg and x264): H.264 (`libx264`) with a keyframe, and so an MP4
    fragment, every second, each frame at its own time from the first one's (`timed`), and the sound of `audio` (a
    video file) interleaved as the frames are written; or MJPEG (`mjpeg`), every frame a JPEG of quality 2 (of 31),
    at `fps`. A full disk is an OutputError, up to the file's last byte."""

    TIME_BASE = Fraction(1, 90000)  # of H.264 frames' timestamps (MPEG's clock)

    def __init__(self, path: Path, fps: float, size: tuple[int, int], muxer_options: dict, codec: str,
                 audio: str | Path | None = None, sound_from: float | None = None):
        import av

        try:  # written through a file of ours: FFmpeg's muxers do not pass on every failed write (a full disk)
            self._file = WatchedFile(path, "wb")
        except OSError as err:
            raise OutputError(f"cannot write {path}: {err.strerror}") from None
        try:
            self._container = av.open(self._file, "w", options=muxer_options)
        except (OSError, av.FFmpegError) as err:
            self._file.close()
            raise OutputError(f"cannot write {path}: {getattr(err, 'strerror', None) or err}") from None
        self.fps = Fraction(fps).limit_denominator(1001)
        self._stream = self._container.add_stream(codec, rate=self.fps)
        if codec == "mjpeg":
            self._stream.width, self._stream.height = size
            self._stream.pix_fmt = "yuvj420p"
            # quality 2 (FF_QP2LAMBDA: 118), as FFmpeg's options (PyAV 15 has no `global_quality` attribute: every
            # .avi recording ended in a traceback there)
            self._stream.codec_context.options = {"flags": "+qscale", "global_quality": str(2 * 118)}
        else:
            # yuv420p takes even sides only: an odd side is made even by repeating the last column or row (a 97x61 video
            # was recorded 96x60, cut, while its results kept 97x61's coordinates)
            self._stream.width, self._stream.height = size[0] + size[0] % 2, size[1] + size[1] % 2
            self._stream.pix_fmt = "yuv420p"
            self._stream.options = {"preset": "veryfast", "crf": "23", "g": str(max(1, round(fps)))}
            # BT.709 (HD's, and what players take an untagged HD video for), said in the file: the pictures were made
            # YUV by BT.601's matrix, untagged, which players showed with colours off (green 198 as 233)
            context = self._stream.codec_context
            context.colorspace = context.color_primaries = context.color_trc = BT709
            context.color_range = 1  # (video range, MPEG's)
        self.timed = codec != "mjpeg"
        if self.timed:
            self._stream.codec_context.time_base = self.TIME_BASE
        self._av, self._frames, self._failed = av, 0, False
        self._first: float | None = None  # the first frame's time
        self._pts = -1  # the last frame's timestamp
        self._sound = Sound.of(audio, self._container, sound_from) if audio else None

    def write(self, frame: np.ndarray, seconds: float | None = None) -> None:
        """`seconds`: the frame's time, where `timed` (from 0 at the first frame written); else it is the next
        frame at `fps`."""
        if frame.shape[1] != self._stream.width or frame.shape[0] != self._stream.height:
            frame = cv2.copyMakeBorder(frame, 0, self._stream.height - frame.shape[0], 0, self._stream.width - frame.shape[1],
                                       cv2.BORDER_REPLICATE)
        image = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="bgr24")
        if self.timed:  # H.264 (MJPEG's .avi is BT.601 at full range, as JPEG is), each frame at its own time (frames
            # put on a grid at the average rate fell behind a variable-rate source)
            image = image.reformat(format="yuv420p", dst_colorspace="ITU709", dst_color_range="MPEG")
            self._first = seconds if self._first is None else self._first
            self._pts = max(self._pts + 1, round((seconds - self._first) / self.TIME_BASE))
            image.pts, image.time_base = self._pts, self.TIME_BASE
        with self._write_errors():
            self._container.mux(self._stream.encode(image))
            self._frames += 1
            if self._sound:  # the sound up to the end of this frame
                self._sound.copy_until(self._end())

    def _end(self) -> float:
        """Where the last frame written ends, in seconds from the first one."""
        return self._pts * self.TIME_BASE + 1 / self.fps if self.timed else self._frames / self.fps

    def release(self) -> None:
        if self._failed:  # the disk filled (or the folder went): that was said; what could be written is there
            with contextlib.suppress(OSError, self._av.FFmpegError):
                self._container.close()
            self._file.close()
            if self._sound:
                self._sound.discard()
            return
        with self._write_errors():
            try:
                self._container.mux(self._stream.encode())  # what the encoder still holds
                if self._sound:  # a run stopped early has the sound up to its last frame, no further
                    self._sound.copy_until(self._end())
                    self._sound.close()
            finally:
                try:
                    self._container.close()
                finally:
                    self._file.close()

    @contextlib.contextmanager
    def _write_errors(self):
        """A full disk or a vanished folder, as an OutputError."""
        try:
            yield
            if self._file.error:  # a write FFmpeg let pass (Matroska's closing ones)
                raise self._file.error
        except (OSError, self._av.FFmpegError) as err:
            self._failed = True
            err = self._file.error or err  # (FFmpeg's own word for it: "Error in PyAV callback")
            raise OutputError(f"cannot write {self._file.name}: {getattr(err, 'strerror', None) or err}") from None


class WatchedFile(io.FileIO):
    """An unbuffered file that writes all it is given (the system may take part of it: the rest is written after,
    or fails) and remembers the first write that failed: FFmpeg's muxers do not report every one."""

    error: OSError | None = None

    def write(self, data) -> int:
        view, done = memoryview(data).cast("B"), 0
        try:
            while done < len(view):
                done += super().write(view[done:])
        except OSError as err:
            self.error = self.error or err
            raise
        return done


def has_sound(source: str | Path) -> bool:
    """Whether a video file (or one at a URL) holds sound."""
    import av

    try:
        with av.open(str(source), timeout=STREAM_TIMEOUT_MS / 1000) as opened:
            return bool(opened.streams.audio)
    except (OSError, av.FFmpegError):
        return False


class Sound:
    """The first audio stream of a video file, carried into an output container packet by packet: copied
    as it is where the container takes its codec, else re-encoded as AAC. The sound is shifted with the
    video, so that both start at the file's first frame."""

    # The codecs each container is given as they are (FFmpeg's muxers accept more than they write or players play:
    # Opus or FLAC into .mov fail as the file starts, "Invalid argument"; PCM in MP4 plays almost nowhere).
    # Matroska: any it takes.
    COPIED = {"mp4": {"aac", "mp3", "alac", "ac3", "eac3", "opus", "flac"}, "mov": {"aac", "mp3", "alac", "ac3", "eac3"},
              "ipod": {"aac", "alac"}}  # (ipod: .m4v)

    @classmethod
    def of(cls, source: str | Path, container, start: float | None = None) -> Sound | None:
        """The sound of `source` for `container` from `start` (seconds, the file's time of the recording's first
        frame; None: where its video stream starts); None when it has none (or cannot be read)."""
        import av

        try:
            opened = av.open(str(source), timeout=STREAM_TIMEOUT_MS / 1000)  # (a video file at a URL: opened again)
        except (OSError, av.FFmpegError):
            return None
        if not opened.streams.audio:
            opened.close()
            return None
        return cls(opened, container, start)

    def __init__(self, opened, container, start: float | None = None):
        from av import FFmpegError
        from av.bitstream import BitStreamFilterContext

        self._input = opened
        self._in = main_stream(opened, "audio")
        video = main_stream(opened, "video") if opened.streams.video else None
        codec = self._in.codec_context.codec.canonical_name  # (`mp3`, where the decoder is `mp3float`)
        copy = codec in self.COPIED.get(container.format.name, container.supported_codecs)
        if copy:
            try:
                self._out = container.add_stream_from_template(self._in)
            except ValueError:  # ("'ipod' format does not support 'mp2' codec": re-encoded)
                copy = False
        if not copy:
            self._out = container.add_stream("aac", rate=self._in.codec_context.sample_rate)
        self._copy, self._container = copy, container
        # AAC as MPEG-TS carries it (ADTS: a header on each packet, no extradata) is put into MP4's form here: with
        # delay_moov, FFmpeg's MP4 muxer does not do it itself ("Malformed AAC bitstream": the recording of a .ts
        # stopped at its first sound packet, "Operation not permitted")
        adts = copy and codec == "aac" and not self._in.codec_context.extradata
        self._adts = BitStreamFilterContext("aac_adtstoasc", self._in) if adts else None
        self._error = FFmpegError
        if start is None:
            start = video.start_time * video.time_base if video and video.start_time is not None else 0
        self._start = Fraction(start)
        self._packets, self._pending = self._input.demux(self._in), None
        self._samples: int | None = None  # re-encoded: the place of the next sample given to the encoder

    def copy_until(self, seconds: Fraction) -> None:
        while True:
            packet = self._pending or next(self._packets, None)
            if packet is None:
                return
            if packet.pts is None:  # the demuxer's flush packet
                self._pending = None
                continue
            at = packet.pts * packet.time_base - self._start
            if at >= seconds:
                self._pending = packet
                return
            self._pending = None
            if at < 0:  # sound from before the first frame
                continue
            shift = round(self._start / packet.time_base)
            if self._copy:
                packet.pts -= shift
                packet.dts = None if packet.dts is None else packet.dts - shift
                try:  # (a damaged ADTS packet, too short for its header: left out, as FFmpeg's own filter does)
                    packets = self._adts.filter(packet) if self._adts else [packet]
                except self._error:
                    continue
                for packet in packets:
                    packet.stream = self._out
                    self._container.mux(packet)
            else:  # each frame at its place in samples from the first (with none, FFmpeg's AAC encoder put its 1,024
                for frame in packet.decode():  # samples of start-up delay before the sound: 21 ms late at 48 kHz)
                    if self._samples is None:  # the first at its own time: samples its decoder left out (Opus's 6.5 ms
                        # to start with) or a packet from before the first frame put every sample 20 ms early
                        own = (frame.pts * frame.time_base - self._start) if frame.pts is not None else 0
                        self._samples = max(0, round(own * frame.sample_rate))
                    frame.pts, frame.time_base = self._samples, Fraction(1, frame.sample_rate)
                    self._samples += frame.samples
                    self._container.mux(self._out.encode(frame))

    def close(self) -> None:
        if not self._copy:
            self._container.mux(self._out.encode())
        self._input.close()

    def discard(self) -> None:
        """Close the source file, writing nothing more (the output could not be written)."""
        self._input.close()


def face_record(track: Track, labels: list[str]) -> dict:
    """A shown face: track id, box, detection score, shown label, smoothed and raw probabilities."""
    return {
        "id": track.id,
        "box": [round(float(v), 1) for v in track.face.box],
        "score": round(track.face.score, 3),
        "label": labels[track.label],
        "probability": round(float(track.probabilities[track.label]), 4),
        "probabilities": {name: round(float(p), 4) for name, p in zip(labels, track.probabilities)},
        "raw": None if track.raw is None else {name: round(float(p), 4) for name, p in zip(labels, track.raw)},
        "held": track.missed > 0,
    }


def readable_name(name: str) -> str:
    """A file name as the results and the window give it: bytes of it that are not UTF-8 (a name in Latin-1, which
    Python holds as lone surrogates, and which neither a UTF-8 file nor OpenCV takes) written as `\\xe9`."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def frame_record(annotated: Annotated, labels: list[str]) -> dict:
    record = {"schema": SCHEMA, "frame": annotated.index, "time": round(annotated.time, 3)}
    if annotated.image is not None:
        record["image"] = readable_name(annotated.image)
    record["faces"] = [face_record(track, labels) for track in annotated.tracks]
    return record


class _TextSink:
    """A text file (or standard output for `-`) that reaches the disk at least once a second."""

    def __init__(self, path: str | Path):
        if str(path) == "-":
            self._file, self._owned = sys.stdout, False
        else:
            try:
                self._file, self._owned = open(path, "w", encoding="utf-8", newline=""), True
            except OSError as err:
                raise OutputError(f"cannot write {path}: {err.strerror}") from None
        self._flushed = time.monotonic()

    quit = False  # set when standard output's reader has gone (`| head`): the run stops, as on a window's quit

    def _write(self, text: str = "") -> None:
        """Write `text`; flush at least once a second (a hard kill loses at most 1 s), on standard output each time."""
        if self.quit:
            return
        try:
            self._file.write(text)
            if self._file is sys.stdout or time.monotonic() - self._flushed >= 1.0:
                self._file.flush()
                self._flushed = time.monotonic()
        except BrokenPipeError:
            self._reader_gone()
        except OSError as err:  # a full disk, a vanished folder
            raise OutputError(f"cannot write {self._file.name}: {err.strerror}") from None

    def _reader_gone(self) -> None:
        self.quit = True
        with contextlib.suppress(OSError, ValueError):  # what is still buffered for the closed pipe goes nowhere
            os.dup2(os.open(os.devnull, os.O_WRONLY), self._file.fileno())

    def close(self) -> None:
        try:
            if self._owned:
                self._file.close()
            elif not self.quit:
                self._file.flush()
        except BrokenPipeError:
            self._reader_gone()
        except OSError as err:
            raise OutputError(f"cannot write {self._file.name}: {err.strerror}") from None


class JsonLinesWriter(_TextSink):
    """One JSON object per frame (`frame_record`); with `copies` (a photo's name in the results -> its annotated copy,
    from PhotoFolderWriter), a photo's record names its copy in `output`: `x.heic` is saved as `x.heic.jpg`, or as
    `x.heic (2).jpg` beside a photo of that name, which its name alone did not tell."""

    def __init__(self, path: str | Path, labels: list[str], copies: dict[str, Path] | None = None):
        super().__init__(path)
        self.labels, self.copies = labels, copies or {}

    def write(self, annotated: Annotated) -> None:
        record = frame_record(annotated, self.labels)
        if annotated.image in self.copies:
            record["output"] = readable_name(str(self.copies[annotated.image]))
        self._write(json.dumps(record) + "\n")

    def skip(self, index: int, seconds: float, image: str, why: str) -> None:
        """A photo that could not be read: its record has no faces and says why (`error`)."""
        record = {"schema": SCHEMA, "frame": index, "time": round(seconds, 3), "image": readable_name(image),
                  "faces": [], "error": why}
        self._write(json.dumps(record) + "\n")


class CsvWriter(_TextSink):
    """One row per shown face per frame: frame, time, image, id, box, score, label, probability, held,
    the smoothed probability of every class, the raw ones (`raw_CLASS`, empty while held), then `error`. A photo with
    no face found has one row with the face's columns empty, and so has a photo that could not be read, saying why in
    `error` (neither had a row: a study's photos could not be told apart from those never given)."""

    def __init__(self, path: str | Path, labels: list[str]):
        super().__init__(path)
        self.labels = labels
        self._rows = io.StringIO()  # a frame's rows, then written at once
        self._write_rows([["schema", "frame", "time", "image", "id", "x0", "y0", "x1", "y1", "score", "label",
                           "probability", "held", *labels, *(f"raw_{name}" for name in labels), "error"]])

    def write(self, annotated: Annotated) -> None:
        rows = []
        for track in annotated.tracks:
            face = face_record(track, self.labels)
            raw = face["raw"] or {}
            rows.append([SCHEMA, annotated.index, round(annotated.time, 3), readable_name(annotated.image or ""), face["id"],
                         *face["box"], face["score"], face["label"], face["probability"], int(face["held"]),
                         *face["probabilities"].values(), *(raw.get(name, "") for name in self.labels), ""])
        if not rows and annotated.image is not None:
            rows = [self._faceless(annotated.index, annotated.time, annotated.image)]
        self._write_rows(rows)

    def skip(self, index: int, seconds: float, image: str, why: str) -> None:
        self._write_rows([self._faceless(index, seconds, image, why)])

    def _faceless(self, index: int, seconds: float, image: str, why: str = "") -> list:
        """The row of a photo without a face: no face found, or (`why`) not read."""
        return [SCHEMA, index, round(seconds, 3), readable_name(image), *[""] * (9 + 2 * len(self.labels)), why]

    def _write_rows(self, rows: list[list]) -> None:
        self._rows.seek(0)
        self._rows.truncate()
        csv.writer(self._rows).writerows(rows)
        self._write(self._rows.getvalue())
