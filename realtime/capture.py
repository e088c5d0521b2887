"""Capture stage: frames from a camera, a network stream, a video file, an image or a folder of images.

A camera (or a live rtsp:// or http(s):// stream) is read on its own thread, which keeps only
the newest frame, so a slow consumer never sees a growing backlog. Files are read in order and no frame is dropped.
"""

from __future__ import annotations

import base64
import codecs
import contextlib
import http.client
import math
import os
import re
import struct
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Callable, Iterator

import cv2
import numpy as np

from realtime import quiet_stderr, stop
from realtime.heif import heif_profile, read_heif

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm", ".pnm",
                  ".gif", ".heic", ".heif", ".hif", ".avif", ".jp2", ".j2k", ".j2c", ".jpf", ".jpx"}
# How an image file begins, for images whose name does not say so (Yale Faces' `subject01.happy` are GIFs).
TIFF_SIGNATURES = (b"II*\x00", b"MM\x00*")
GIF_SIGNATURES = (b"GIF87a", b"GIF89a")
PNM_SIGNATURES = tuple(f"P{kind}{space}".encode() for kind in range(1, 7) for space in " \t\r\n")  # PBM, PGM, PPM
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"
JPEG_2000_SIGNATURES = (b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51")  # a .jp2 file, a bare .j2k stream
IMAGE_SIGNATURES = (JPEG_SIGNATURE, PNG_SIGNATURE, b"BM", *GIF_SIGNATURES, *TIFF_SIGNATURES, *PNM_SIGNATURES,
                    *JPEG_2000_SIGNATURES)
ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")  # PIL's modes with an alpha band
AVFMT_NOTIMESTAMPS = 0x0080  # FFmpeg's flag of a container format whose packets have no timestamps (raw .h264)
DAMAGED_READS = 30  # failed reads in a row after which a video file is taken to have ended (it may be damaged there)
OPENCV_MAX_PIXELS = 1 << 30  # the most pixels cv2.imread reads (CV_IO_MAX_IMAGE_PIXELS); it refuses larger pictures
# The brands an HEIF picture (a phone's HEIC photo) or an AVIF one names in its `ftyp` box, bytes 8-12.
HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis")
# What libjpeg says (through OpenCV) of a JPEG file that ends early or whose data is damaged.
JPEG_DAMAGE = ("Premature end of JPEG file", "premature end of data segment")
WEB_SCHEMES = ("http://", "https://")  # where an image may be fetched from (`fetch_image`)
STREAM_SCHEMES = ("rtsp://", "rtsps://", *WEB_SCHEMES)
STREAM_TIMEOUT_MS = 5000  # give up opening or reading a network stream after this long
# An image at an http(s) URL is fetched whole when it is no larger and comes no slower than this; beyond either, the
# URL is something endless (a camera's stream) and is opened as a stream.
IMAGE_URL_LIMITS = (256 * 2**20, 30.0)  # bytes, seconds
# How far a 1-bit picture is smoothed into grey tones: on 150 wild-faces photos dithered to 1 bit, a face is found in
# 149 and 68.0% are labelled right (68.7% in grey; 2 found without it; sigma 1 / 1.5 / 3: 65.3 / 66.7 / 67.3%).
DESCREEN_SIGMA = 2.0
# What video files are called (a folder's are left out; the web page takes them): a camcorder's AVCHD (.mts, .m2ts),
# a recorder's MPEG-TS, DVD and older formats as well
VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".webm", ".avi", ".mkv", ".ts", ".mts", ".m2ts", ".mpg", ".mpeg", ".3gp",
                  ".wmv", ".asf", ".flv", ".ogv", ".vob"}
# How the path of a URL of a video or a stream ends: such a URL is opened by FFmpeg at once, without asking its server
# first whether it is an image (a server for one client, as `ffmpeg ... -listen 1 http://...` is, answers only the first
# connection: the question took it, and FFmpeg found nothing)
STREAM_URL_SUFFIXES = {*VIDEO_SUFFIXES, ".m3u8", ".m3u", ".mpd", ".mjpg", ".mjpeg", ".sdp", ".h264", ".264", ".h265",
                       ".265"}


CAMERA_INDEX_MAX = 2**31 - 1  # the largest camera index OpenCV takes (a C int)


class SourceError(RuntimeError):
    """A source that cannot be opened or read; the message is meant for the user."""


def shown(url) -> str:
    """A URL as messages and the window show it: a password in it (`rtsp://admin:secret@camera/...`, as cameras are
    given) as `***`, so that it does not end up in logs and screenshots; anything else as it is."""
    url = str(url)
    return re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^/@:]*):[^/]*@", r"\1:***@", url)  # (up to the last @ before the path)


class SoundOnly(SourceError):
    """A file of sound (an .mp3, an .m4a), with or without a cover picture, given as a video."""


class RefusedURL(SourceError):
    """An http(s) server's refusal of a URL (401, 403, 500, ...), as `said` ("the server answered 401 Unauthorized;
    ..."). FFmpeg may still be let in (it answers Digest authentication, which Python's client here does not), so for
    a stream it is said only where FFmpeg cannot open the URL either."""

    def __init__(self, url: str, code: int, reason: str):
        self.code = code
        self.said = f"the server answered {code} {reason}".rstrip()
        if code == 401:
            given = "@" in urllib.parse.urlsplit(url).netloc
            self.said += ("; the user name or password in the URL was refused" if given else
                          "; give the user name and password in the URL: http://USER:PASSWORD@host/...")
        super().__init__(f"no image at {shown(url)} ({self.said})")


class Source:
    """Iterate to get BGR frames. `fps` and `size` describe the source; `close()` releases it."""

    fps: float = 30.0
    size: tuple[int, int] = (0, 0)  # width, height
    offset: float = 0.0  # a video file's: where its first frame lies after the file's start, seconds (results' `time`)
    live: bool = False
    description: str = ""
    fetched: tempfile.TemporaryDirectory | None = None  # where a picture fetched from a URL lies until close()

    def __iter__(self) -> Iterator[np.ndarray]:
        raise NotImplementedError

    def close(self) -> None:
        if self.fetched is not None:
            self.fetched.cleanup()

    def _move_time(self, stamp: float | None) -> None:
        """`time` to the next frame's `stamp` (seconds from the first frame). A variable-frame-rate file (phones record
        them) has frames at uneven times; a stamp that does not move on (none in the file, or a repeated one) counts
        one frame period."""
        self.time = stamp if stamp is not None and stamp > self.time else self.time + 1 / self.fps

    def _ended_early(self, length: float | None) -> str | None:
        """At the end of a video file's frames: how far it came ("3.8 s of its 10.0 s") where that is well short of
        `length`, the length its video stream gives itself (more than 5% and a second short), as a file cut short or a
        lost download leaves it; else None."""
        reached = self.time + 1 / self.fps
        return None if not length or reached >= 0.95 * length - 1.0 else f"{reached:.1f} s of its {length:.1f} s"


def video_stream_length(stream) -> float | None:
    """The length in seconds a PyAV video stream gives itself (MP4's track duration, or its frame count at its rate);
    None where only the container says (Matroska, WebM: the container's length may be its sound's)."""
    if stream.duration:
        return float(stream.duration * stream.time_base)
    rate = float(stream.average_rate or stream.guessed_rate or 0)
    return stream.frames / rate if stream.frames and rate > 0 else None


def main_stream(container, kind: str):
    """The `kind` ("video", "audio") stream of a PyAV container that FFmpeg's players play: not a cover picture (kept
    as a video stream of one frame, which may come first: only that frame was read) nor a second sound track over
    the default one. IndexError where there is none."""
    stream = container.streams.best(kind)
    if stream is None:
        raise IndexError(f"no {kind} stream")
    return stream


def video_file_length(name: str, unreadable: float | None = None) -> float | None:
    """`video_stream_length` of a video file or URL's main video stream; `unreadable` where it cannot be read."""
    import av

    try:
        with quiet_stderr(), av.open(name, timeout=STREAM_TIMEOUT_MS / 1000) as container:
            return video_stream_length(main_stream(container, "video"))
    except Exception:  # noqa: BLE001 - FFmpeg's errors, a lost connection, a name it cannot take
        return unreadable


class CameraSource(Source):
    """A camera (by index) or a network stream (by URL): live, read on its own thread."""

    live = True

    def __init__(self, device: int | str, width: int | None = None, height: int | None = None,
                 fps: float | None = None, capture=None, mirror: bool = False):
        """`device`: a camera index or a stream URL; `width`, `height`, `fps`: what to ask a camera for (it
        may pick the nearest mode it has); `capture`: the stream, already opened by open_stream(); `mirror`: give
        each frame flipped left to right, as a mirror shows the one who looks at the camera."""
        self.kind, self.device = "stream" if isinstance(device, str) else "camera", str(device)
        self.mirror = mirror
        with quiet_stderr():  # OpenCV logs its own line about a device that fails ("Camera index out of range")
            self.capture = capture if capture is not None else cv2.VideoCapture(device)
            if width:
                self.capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            if height:
                self.capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
            if fps:
                self.capture.set(cv2.CAP_PROP_FPS, fps)
            ok, frame = self.capture.read() if self.capture.isOpened() else (False, None)
        if not ok or frame is None:
            self.capture.release()
            if self.kind == "stream":
                raise SourceError(f"cannot open stream {shown(device)} (unreachable, or not a video OpenCV can decode)")
            raise SourceError(f"cannot open camera {device} (is it connected and not used by another program?); "
                              "python -m realtime --list-cameras lists those that open, --source demo:4 plays a "
                              "generated clip")
        self.description = f"{self.kind} {shown(device)}" + (", mirrored" if mirror else "")
        self.size = (frame.shape[1], frame.shape[0])
        reported = self.capture.get(cv2.CAP_PROP_FPS)
        self.fps = reported if 1 <= reported <= 240 else 30.0
        self._frame, self._serial, self._running = frame, 1, True
        self.failed = False
        self._ready = threading.Condition()
        self._thread = threading.Thread(target=self._read_forever, name="camera", daemon=True)
        self._thread.start()

    def _read_forever(self) -> None:
        # (RTSP and the like are real-time protocols: their frames come at their pace already)
        clock = StreamClock() if self.kind == "stream" and self.device.lower().startswith(WEB_SCHEMES) else None
        while self._running:
            ok, frame = self.capture.read()
            if ok and clock is not None:  # a stream's frames no sooner than their time
                clock.wait_for(self.capture.get(cv2.CAP_PROP_POS_MSEC) / 1000, lambda: self._running)
            with self._ready:
                if not ok:
                    self.failed, self._running = True, False
                else:
                    self._frame, self._serial = frame, self._serial + 1
                self._ready.notify_all()

    def __iter__(self) -> Iterator[np.ndarray]:
        seen = 0
        while True:
            with self._ready:
                # Wait in short slices, so that a stop request is noticed at once even while the camera stalls.
                deadline = time.monotonic() + 5.0
                while self._serial == seen and self._running and not stop.requested and time.monotonic() < deadline:
                    self._ready.wait(0.05)
                if self._serial == seen:  # no new frame: stop requested, stopped, died, or stalled for 5 s
                    if self._running and not stop.requested:
                        self.failed = True
                    return
                seen, frame = self._serial, self._frame
            yield cv2.flip(frame, 1) if self.mirror else frame

    def close(self) -> None:
        self._running = False
        self._thread.join(timeout=1.0)
        if not self._thread.is_alive():  # never release a device that a stalled read still uses
            self.capture.release()


class StreamClock:
    """Hands a network stream's frames on at the pace of their timestamps. FFmpeg gives a stream's frames as fast as
    they come, and many come in bursts: an HLS stream a segment (a second or more) at a time, three at its start, a
    file served over HTTP as MPEG-TS all at once; of each burst only the newest frame was labelled (82 frames in 35 s
    of a 30 fps live HLS stream; one of a 3-s .ts file, then 'the stream stopped'). The clock runs CATCH_UP times
    as fast as the timestamps, so that a backlog (frames a server keeps to start a client with, or those that pile
    up in a stall of the network) drains within seconds instead of delaying the rest of the run. Frames without
    timestamps (an MJPEG camera's) and frames late for their time are handed on at once, and a late frame starts
    the count again, so a stream is never held back behind the time it comes in; so does a jump in the timestamps
    (backwards, or more than MAX_AHEAD ahead)."""

    MAX_AHEAD = 4.0  # seconds a frame may be ahead of the clock and still be waited for (under the 5-s stall limit)
    CATCH_UP = 1.5  # a backlog of 3 s drains in 6 s; an HLS segment's frames go on at 45 a second for 30 fps

    def __init__(self):
        self.origin: tuple[float, float] | None = None  # (clock, stamp) the count runs from
        self.last = -math.inf

    def wait_for(self, stamp: float, running) -> None:
        """Wait until the frame of `stamp` (seconds) is due, while `running()`."""
        if not (0 <= stamp < 1e7):  # no timestamps (OpenCV gives a huge negative number)
            return
        now = time.monotonic()
        due = None if self.origin is None else self.origin[0] + (stamp - self.origin[1]) / self.CATCH_UP
        if due is None or stamp < self.last or due - now > self.MAX_AHEAD or due < now:
            self.origin, due = (now, stamp), now  # (late: counted from now on)
        self.last = stamp
        while running() and (left := due - time.monotonic()) > 0:
            time.sleep(min(left, 0.05))


class VideoSource(Source):
    """A video read by OpenCV: a video file served over the network, an animated GIF, and a file PyAV cannot read
    (DecodedVideoSource reads the others)."""

    def __init__(self, path: Path | str, capture=None):
        """`path`: a file, or the URL of a video file that open_stream() has opened as `capture`."""
        with quiet_stderr(), opencv_name(path) as name:  # FFmpeg's own lines ("moov atom not found") about a file
            self.capture = capture if capture is not None else cv2.VideoCapture(name)  # it cannot read
            # A phone stores a portrait video as landscape frames plus a rotation to show them by; turn them.
            self.capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
            ok, self._first = self.capture.read() if self.capture.isOpened() else (False, None)
        if not ok or self._first is None:
            self.capture.release()
            if str(path).lower().startswith(WEB_SCHEMES):  # opened, then unreadable: its index lay at its end
                raise SourceError(f"cannot read video {shown(path)}: an MP4 whose index is at its end needs a server "
                                  "that sends parts of files (HTTP Range requests; Python's http.server does not), or "
                                  "the index moved to its start: ffmpeg -i IN.mp4 -c copy -movflags +faststart OUT.mp4")
            raise SourceError(f"cannot read video {shown(path)} (missing, empty or not a video OpenCV can decode)")
        self.description = shown(path)
        self.path = Path(path) if capture is None else None  # a local file
        self.sound_source = str(path)  # where a recording's sound comes from: the file, at a URL too (recorded without)
        self.size = (self._first.shape[1], self._first.shape[0])
        reported = self.capture.get(cv2.CAP_PROP_FPS)
        self.fps = reported if 0.1 <= reported <= 240 else 30.0  # (a slide show: a frame every few seconds)
        self._rate, self._name = reported, str(path)  # (the rate as the file says, over 240 too)
        self.frame_count = max(0, int(self.capture.get(cv2.CAP_PROP_FRAME_COUNT))) or None  # None: not known
        self._start = self._stamp()
        self.time = 0.0  # seconds from the first frame to the one last yielded, by the file's timestamps
        self.damaged = 0  # frames of a file that could not be decoded, and were left out
        # Where the video ended well before the length its header gives (a file cut short, a download whose
        # connection was lost): how far it came, for a message ("3.8 s of its 10.0 s"); else None.
        self.cut_short: str | None = None

    def _stamp(self) -> float:
        return self.capture.get(cv2.CAP_PROP_POS_MSEC) / 1000

    def _video_length(self) -> float | None:
        """The length of the video stream, where the frames read fall well short of what OpenCV's count suggests (its
        count is the container's length times the rate where the stream gives none: a WebM whose sound runs longer);
        PyAV then asks the stream itself. None where no shortfall is suspected or the stream gives no length; OpenCV's
        count stands where the file cannot be read again (a server for one connection, one that went away)."""
        rough = self.frame_count / self._rate if self.frame_count and self._rate > 0 else None
        return video_file_length(self._name, unreadable=rough) if self._ended_early(rough) else None

    def __iter__(self) -> Iterator[np.ndarray]:
        if self._first is not None:
            first, self._first = self._first, None
            yield first
        while True:
            ok, frame = self.capture.read()
            failed = 0  # a damaged stretch of a file: OpenCV fails a read or two there, then goes on
            while not ok and self.path is not None and failed < DAMAGED_READS:
                failed += 1
                ok, frame = self.capture.read()
            if not ok:
                self.cut_short = self._ended_early(self._video_length())
                return
            if failed:
                self.damaged += failed
            self._move_time(self._stamp() - self._start)
            yield frame

    def close(self) -> None:
        self.capture.release()
        super().close()


def sdr_levels(nits: np.ndarray) -> np.ndarray:
    """Light in nits as an SDR picture's levels (gamma 2.4), a table for cv2.LUT: 203 nits (BT.2408's reference white,
    a face's highlights, paper) is white, and what is brighter is rolled off into the top fifth."""
    light = nits / 203
    light = np.where(light < 0.8, light, 0.8 + 0.2 * np.tanh((light - 0.8) / 0.2))
    return np.rint(255 * np.power(light, 1 / 2.4)).astype(np.uint8)


def hdr10_levels() -> np.ndarray:
    """The 256 levels of a picture coded for PQ (HDR10, as many phones record video: transfer SMPTE ST 2084) as an SDR
    picture's. Read as SDR, such a video was washed out."""
    signal = np.power(np.arange(256) / 255, 4096 / (2523 * 128))  # (ST 2084's constants)
    return sdr_levels(10000 * np.power(np.maximum(signal - 3424 / 4096, 0) / (2413 / 128 - 2392 / 128 * signal),
                                       16384 / 2610))


def hlg_levels() -> np.ndarray:
    """The 256 levels of a picture coded for HLG (ARIB STD-B67, BT.2100: what iPhones record by default, Dolby Vision
    8.4's base, and many Android phones) as an SDR picture's: the light a 1000-nit display shows (BT.2100's OOTF,
    gamma 1.2, taken on each colour rather than on the luminance: a table), where a 75% signal, BT.2408's reference
    white, is 203 nits. Read as SDR, such a video was dark, its reference white grey 191 (360 wild-faces photos coded as
    HLG: 15.8 grey levels below the SDR frames, 1.1 now; 328 kept the SDR frames' labels, 344 now, as 10-bit SDR)."""
    signal, a = np.arange(256) / 255, 0.17883277
    scene = np.where(signal <= 0.5, signal**2 / 3, (np.exp((signal - 0.5 + a * np.log(4 * a)) / a) + 1 - 4 * a) / 12)
    return sdr_levels(1000 * np.power(scene, 1.2))


SMPTE_2084, ARIB_STD_B67 = 16, 18  # FFmpeg's numbers of the PQ and HLG transfers (AVCOL_TRC_*)
BT709, BT601_OR_UNSAID = 1, (2, 5, 6)  # FFmpeg's numbers of YUV matrices: BT.709's; unspecified, BT.470 BG, SMPTE 170M
BT2020_NCL = 9  # FFmpeg's (and its scaler's) number of BT.2020's YUV matrix (AVCOL_SPC_BT2020_NCL, SWS_CS_BT2020)
HDR_LEVELS = {SMPTE_2084: hdr10_levels(), ARIB_STD_B67: hlg_levels()}


def decoded_frames(container, stream, damage=lambda: None) -> Iterator:
    """The frames of a PyAV container's `stream`, packet by packet; a packet that cannot be decoded (damaged, or lost on
    the network) is left out, with `damage()`; the frames end where the file or connection cannot be read on, as
    OpenCV's reading does. (PyAV keeps FFmpeg's log lines to itself: no `quiet_stderr` is needed here, whose temporary
    file a packet would cost.)"""
    import av

    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets, None)
        except (av.FFmpegError, OSError):  # (a connection lost, or closed at a stream's end: an OSError)
            return
        if packet is None:
            return
        try:
            frames = packet.decode()
        except av.FFmpegError:
            damage()
            continue
        yield from frames


class DecodedVideoSource(Source):
    """A video file decoded by PyAV's FFmpeg: turned upright, at its frames' own times, packets that cannot be decoded
    left out (counted in `damaged`).
    Frames whose size differs from the first one's (a browser's recording that changes resolution, files of two
    sizes joined) are scaled to fit the first one's size, centred on black, with a note; OpenCV's reader wrote them
    into a buffer of the first size, garbled. It also decodes what OpenCV's FFmpeg cannot (AV1, as many phone and web
    videos are)."""

    TURNS = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, -90: cv2.ROTATE_90_CLOCKWISE, 270: cv2.ROTATE_90_CLOCKWISE,
             -270: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, -180: cv2.ROTATE_180}  # display matrix: turn

    def __init__(self, path: Path | str, container=None):
        """`path`: a file, or the URL of a video file that `container` holds, opened by PyAV (`opened_stream`)."""
        import av

        self._av, self.damaged = av, 0  # (counted from the first packet on)
        self.damaged_at_end = 0  # of `damaged`, those after the last frame decoded: the file ends in them (counted while
        # the first frame is decoded too: a file damaged before it ended in a traceback)
        self._whole_seen = False  # whether a frame decoded whole has come yet (`_decoded`)
        self._fields = None  # the deinterlacer, from the first interlaced frame on (`_deinterlaced`)
        self.container = container
        try:
            with quiet_stderr():
                self.container = container or av.open(str(path))
                covers = self.container.streams.video  # (a cover picture is a video stream of one frame)
                cover = av.stream.Disposition.attached_pic  # (a Flag: PyAV 15 takes no `&` with a number)
                if self.container.streams.audio and all(cover in stream.disposition for stream in covers):
                    self.container.close()  # (OpenCV's reader would give the cover picture: one frame, "cut short")
                    raise SoundOnly(f"cannot read video {shown(path)}: it holds no video, only sound"
                                    + (" and a cover picture" if covers else ""))
                stream = main_stream(self.container, "video")
                # Two frames decoded side by side: 1080p H.264 in 2.5 ms a frame against 6.5 with one thread. No more:
                # with frame threads FFmpeg loses the frames after damage within about as many frames of the end,
                # unsaid from 4 threads on (damage 4 frames from the end of 90: 84 frames read with 8 threads, 89
                # with 2, as OpenCV's reader read)
                stream.thread_type, stream.thread_count = "AUTO", 2
                # Frames that refer to a damaged one are given too, as OpenCV's reader gave them: this FFmpeg's HEVC
                # decoder left them all out up to the next keyframe (a phone's HEVC video damaged at 1.3 s: 33 of its
                # 87 frames, and 'the file is cut short')
                stream.codec_context.options = {"flags": "+output_corrupt"}
                # Pixels that are not square (DV, DVD, HDV, broadcast: 720x576 shown 16:9, 1440x1080 shown 1920x1080)
                # are widened or narrowed to the shape players show; read as stored, faces were squeezed
                aspect = stream.sample_aspect_ratio or stream.codec_context.sample_aspect_ratio
                self._aspect = float(aspect) if aspect and 0.1 <= aspect <= 10 and aspect != 1 else None
                self._transfer = stream.codec_context.color_trc  # (the stream's: PyAV before 16 gives no frame's own)
                self._frames = self._decoded(stream)
                decoded = next(self._frames)
                first = self._upright(decoded)
        except (av.FFmpegError, IndexError, StopIteration, OSError, ValueError, UnicodeEncodeError):
            with contextlib.suppress(Exception):
                self.container.close()
            raise SourceError(f"cannot read video {shown(path)} (missing, empty or not a video this program can "
                              "decode)") from None
        self.description, self.path = shown(path), None if container else Path(path)  # (`path`: a local file)
        self.sound_source = str(path)  # where a recording's sound comes from: the file, at a URL too (recorded without)
        # The file's time of the first frame given: `time` counts from it, and a recording's sound starts there (a
        # recording that begins mid-way has its frames before the first whole one left out, and its sound ran that far
        # ahead of the picture)
        self._first, self.start = first, decoded.time or 0.0
        # Players show a file's frames from its start, its earliest stream's (its sound may start before the picture):
        # the results' times are so, where `time` counts from the first frame (a video starting 0.5 s after its sound
        # had `time` 0.0 for the frame a player shows at 0.5 s, and results set against the sound were 0.5 s early)
        container_start = self.container.start_time
        self.offset = max(0.0, self.start - container_start / 1e6) if container_start is not None else 0.0
        self.size = first.shape[1::-1]
        # A raw stream (.h264, .265, .m2v: no container, no timestamps) gets FFmpeg's default average rate, 25; the
        # rate its own headers give is the guessed one (a 60-fps .h264 ran 2.4 times as long in `time` and recordings)
        no_timestamps = bool(int(self.container.format.flags) & AVFMT_NOTIMESTAMPS)
        rate = float(stream.guessed_rate if no_timestamps else stream.average_rate or stream.guessed_rate or 0)
        self.fps = rate if 0.1 <= rate <= 240 else 30.0
        seconds = float(stream.duration * stream.time_base) if stream.duration else (self.container.duration or 0) / 1e6
        # (WebM gives no count: estimated from its length, as OpenCV does, for the web page's length limit)
        self.frame_count = stream.frames or (round(seconds * self.fps) if seconds > 0 else None)
        self.length = video_stream_length(stream)  # (for `cut_short`; a Matroska file cut short: its container's)
        if self.length is None and self.path and self.container.duration and matroska_cut_short(self.path):
            self.length = self.container.duration / 1e6
        self.time = 0.0
        self.cut_short: str | None = None  # as VideoSource's
        self.resized = False  # whether a frame of another size has been fitted into `size` (said once)

    def _decoded(self, stream) -> Iterator:
        """The stream's frames (`decoded_frames`, a packet that cannot be decoded counted in `damaged`), deinterlaced,
        from the first whole one on."""
        def damage() -> None:
            self.damaged += 1
            self.damaged_at_end += 1

        for frame in decoded_frames(self.container, stream, damage):
            self.damaged_at_end = 0
            self._whole_seen = self._whole_seen or not frame.is_corrupt
            if self._whole_seen:  # (before the first whole frame, a recording that begins mid-way: grey, left out)
                yield from self._deinterlaced(frame)
            elif self.damaged:  # (or frames that refer to a damaged first one: left out for it, and said so)
                self.damaged += 1
        yield from self._deinterlaced(None)  # (the last frame, which the deinterlacer holds)

    def _deinterlaced(self, frame) -> Iterator:
        """`frame`, its two fields made one picture where it is interlaced (a TV or camcorder recording: 1080i, DV),
        as players show it: FFmpeg's bwdif, a frame for each frame, at its time, one frame behind (None: the frame it
        holds, at the end). Read as stored, everything that moved was combed, in the boxes (overlap 0.88 with those of
        the same frames made progressive, 0.99 now) and the recording. Progressive frames pass as they are."""
        shape = None if frame is None else (frame.width, frame.height, frame.format.name)
        if self._fields is not None and shape not in (None, self._fields_shape):  # another size: the frame held first
            yield from self._deinterlaced(None)
        if self._fields is None and (frame is None or not frame.interlaced_frame):
            if frame is not None:
                yield frame
            return
        if self._fields is None:
            fields = self._av.filter.Graph()
            source = fields.add_buffer(width=frame.width, height=frame.height, format=frame.format,
                                       time_base=frame.time_base)
            fields.link_nodes(source, fields.add("bwdif", "mode=send_frame:deint=interlaced"),
                              fields.add("buffersink")).configure()
            self._fields, self._fields_shape = fields, shape
        self._fields.push(frame)
        while True:
            try:
                yield self._fields.pull()
            except (self._av.BlockingIOError, self._av.EOFError):
                break
        if frame is None:
            self._fields = None

    def _upright(self, frame) -> np.ndarray:
        """A decoded frame as BGR, turned upright."""
        if (frame.format.name == "yuv420p" and frame.color_range != 2 and frame.colorspace in BT601_OR_UNSAID
                and frame.width % 2 == 0 and frame.height % 2 == 0):
            image = cv2.cvtColor(frame.to_ndarray(), cv2.COLOR_YUV2BGR_I420)  # (BT.601 video range, as FFmpeg reads
            # a frame that does not say: faster)
        else:
            # BT.709's and BT.2020's YUV (HD, phone and HDR video) by its matrix, asked for by name: PyAV before 17 used
            # BT.601's where the frame's own was both from and to (by its code; PyAV 18 reads it right), as OpenCV's
            # conversion above does (colourful 8-bit frames: green 180 read 198, hue 2.6 degrees off on average; 0.3;
            # BT.709's green 198 read 233, red 196 read 179, recorded so)
            own = {BT2020_NCL: BT2020_NCL, BT709: "ITU709"}.get(frame.colorspace)  # (the scaler's names for them)
            matrix = {} if own is None else dict(src_colorspace=own, dst_colorspace="ITU709",
                                                 src_color_range=frame.color_range)
            try:  # (full range, other layouts and depths)
                image = frame.to_ndarray(format="bgr24", **matrix)
            except (self._av.FFmpegError, OSError):  # a colour standard FFmpeg's scaler refuses (reserved, YCgCo)
                image = frame.to_ndarray(format="bgr24", src_colorspace="ITU601")
        # (BT.2020's wider primaries are left as they are, colours somewhat dull: mapping them to BT.709's in linear
        # light cost 18-33 ms a frame at 1920x1080, the table 3.3, and changed no label count: the model sees grey)
        levels = HDR_LEVELS.get(getattr(frame, "color_trc", self._transfer))  # PQ (HDR10) or HLG: as SDR's levels
        if levels is not None:
            image = cv2.LUT(image, levels)
        if self._aspect:  # (as stored, before it is turned)
            width = max(1, round(frame.width * self._aspect))
            image = cv2.resize(image, (width, frame.height), interpolation=cv2.INTER_LINEAR if width > frame.width
                               else cv2.INTER_AREA)
        turn = self.TURNS.get(round(getattr(frame, "rotation", 0) or 0))
        return image if turn is None else cv2.rotate(image, turn)

    def _fitted(self, image: np.ndarray) -> np.ndarray:
        """`image` as a frame of `size`: scaled to fit it and centred on black where its own size differs."""
        (width, height), (own_width, own_height) = self.size, image.shape[1::-1]
        if (own_width, own_height) == (width, height):
            return image
        if not self.resized:
            self.resized = True
            print(f"note: {self.description} changes frame size at {self.time:.1f} s, from {width}x{height} to "
                  f"{own_width}x{own_height}: such frames are scaled to fit {width}x{height}", file=sys.stderr)
        scale = min(width / own_width, height / own_height)
        fit_width, fit_height = max(1, round(own_width * scale)), max(1, round(own_height * scale))
        left, top = (width - fit_width) // 2, (height - fit_height) // 2
        fitted = np.zeros((height, width, 3), np.uint8)
        fitted[top:top + fit_height, left:left + fit_width] = cv2.resize(
            image, (fit_width, fit_height), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        return fitted

    def __iter__(self) -> Iterator[np.ndarray]:
        if self._first is not None:
            first, self._first = self._first, None
            yield first
        for frame in self._frames:
            self._move_time(None if frame.time is None else frame.time - self.start)
            yield self._fitted(self._upright(frame))
        self.cut_short = self._ended_early(self.length)

    def close(self) -> None:
        self.container.close()
        super().close()


def damage_note(source: Source, ended: bool = True) -> str | None:
    """What is wrong with a video file read only in part, said once it is read (the command line's warning, the web
    page's): cut short before the length it gives itself (where it `ended`: a run stopped early is no sign of it), or
    frames that could not be decoded, in it or at its end (a copy cut inside its last frames); None for one read whole.
    (A video over the network that broke off is an error, which the command line says itself.)"""
    cut_short = getattr(source, "cut_short", None) if ended else None
    if cut_short:  # (said instead of damage, as it ends where the file does)
        return (f"{source.description} ends after {cut_short}: the file is cut short (an interrupted copy or "
                "download?); all it holds was labelled")
    damaged = getattr(source, "damaged", 0)
    if not damaged:
        return None
    at_end = getattr(source, "damaged_at_end", 0)  # (a file cut short inside its last frames: no frame after them)
    inside, many = damaged - at_end, damaged - at_end > 1
    damage = (f"{inside} frame{'s' * many} could not be decoded and {'were' if many else 'was'} left out; the "
              f"frames after {'them' if many else 'it'} were labelled")
    end = (f"cut short inside its last frame{'s' * (at_end > 1)} ({at_end} could not be decoded and "
           f"{'were' if at_end > 1 else 'was'} left out: an interrupted copy or download, or a recording stopped "
           "by a hard kill?)")
    if not at_end:
        return f"{source.description} is damaged: {damage}"
    if not inside:
        return f"{source.description} is {end}; all before {'them' if at_end > 1 else 'it'} was labelled"
    return f"{source.description} is damaged: {damage}; and it is {end}"


class IndexMissing(SourceError):
    """An MP4 or MOV file cut short before its index: none of its frames can be found."""


def open_video(path: Path) -> Source:
    """A video file, decoded by PyAV, or by OpenCV where PyAV cannot read it."""
    try:
        return DecodedVideoSource(path)
    except SoundOnly:
        raise
    except SourceError as error:
        try:
            return VideoSource(path)
        except SourceError:
            if index_missing(path):  # (it was 'missing, empty or not a video this program can decode')
                raise IndexMissing(f"cannot read video {shown(path)}: it is cut short before its index (the `moov` "
                                   "box an MP4 or MOV file keeps at its end), without which none of its frames can be "
                                   "found: an interrupted copy or download, or a recording stopped before it was "
                                   "finished") from None
            plainly = not_media(path)
            if plainly:
                raise SourceError(f"cannot read {shown(path)}: {plainly}") from None
            raise error from None


def broken_link(path: Path) -> str | None:
    """"a link to TARGET, which does not exist" for a symbolic link whose target is missing; else None."""
    return f"a link to {os.readlink(path)}, which does not exist" if path.is_symlink() and not path.exists() else None


def not_media(path: Path) -> str | None:
    """What a file that no decoder reads plainly is, when it is plain: a broken link, empty, or text (a note given as
    the source said 'cannot read video notes.txt'); None otherwise."""
    if broken_link(path):  # (said "cannot read it as an image")
        return broken_link(path)
    if path.is_dir():  # (PhotoLabeller.label("photos/") said only "cannot read image photos/")
        return "it is a folder: label its photos one by one, or the folder with python -m realtime --source"
    head = file_head(path, 4096)
    if not head:  # (nothing read: empty, or no file to read, a named pipe among them)
        return "the file is empty" if path.is_file() and path.stat().st_size == 0 else None
    try:  # (a multi-byte character cut by the 4096 bytes read is still text)
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < 4096)
    except UnicodeDecodeError:
        return None
    return None if b"\0" in head else "it is a text file, not a picture or video"


def index_missing(path: Path) -> bool:
    """Whether `path` is an MP4/MOV (ISO-BMFF) file that ends inside its media data (`mdat`) before any `moov` box (its
    index): a copy cut short of a file that keeps its index at its end, as cameras and phones write them."""
    try:
        with open(path, "rb") as handle:
            size, at, seen = os.fstat(handle.fileno()).st_size, 0, []
            while at + 8 <= size:
                handle.seek(at)
                length, kind = struct.unpack(">I4s", handle.read(8))
                if length == 1:
                    length = struct.unpack(">Q", handle.read(8))[0]
                elif length == 0:  # (runs to the end of the file)
                    length = size - at
                if length < 8 or kind == b"moov":
                    return False
                seen.append(kind)
                at += length
            return seen[:1] == [b"ftyp"] and seen[-1] == b"mdat" and at > size
    except (OSError, struct.error):
        return False


def matroska_cut_short(path: Path) -> bool:
    """Whether `path` is a Matroska or WebM file shorter than its Segment says it is: a copy cut short. Its streams give
    no length of their own, and the container's may be its sound's (longer than the picture); a Segment of unknown
    size (a live recording's, as browsers write them) says nothing."""
    def number(at: int) -> tuple[int, int]:  # an EBML variable-length size: (value, its length in bytes)
        length = 9 - head[at].bit_length()  # (its first byte's leading zeros, plus one)
        if length > 8 or at + length > len(head):  # (a file that ends inside it: no size read)
            raise ValueError("no EBML size")
        value = head[at] & (0xFF >> length)
        for byte in head[at + 1:at + length]:
            value = value << 8 | byte
        return value, length

    try:
        with open(path, "rb") as handle:
            head, size = handle.read(64), os.fstat(handle.fileno()).st_size
        if not head.startswith(b"\x1a\x45\xdf\xa3"):
            return False
        header, width = number(4)
        at = 4 + width + header  # the Segment's ID, then its size
        if head[at:at + 4] != b"\x18\x53\x80\x67":
            return False
        segment, width = number(at + 4)
        return segment != (1 << 7 * width) - 1 and at + 4 + width + segment > size
    except (OSError, IndexError, ValueError):  # (a header longer than 64 bytes: not said)
        return False


class ImageSource(Source):
    """One image, every image of a folder and its subfolders in path order, or the images of a list (a
    shell glob), each read when its turn comes. `name` is the image last yielded: its path inside the
    folder, as given in the list, or its file name. When there are several, an image that cannot be
    read is skipped with a warning and listed in `skipped`. In a folder, hidden files and folders
    (`.name`, macOS `__MACOSX`) are left out."""

    name: str | None = None

    def __init__(self, path: Path | list[Path]):
        folder = isinstance(path, Path) and path.is_dir()
        if isinstance(path, list):
            self.files, self.description = [(file, file.as_posix()) for file in path], f"{len(path)} images"
        elif folder:
            files = folder_files(path)
            self.files = [(file, file.relative_to(path).as_posix()) for file in files if is_image_file(file)]
            self.description = str(path)
            videos = sum(file.suffix.lower() in VIDEO_SUFFIXES for file in files)
            if videos and self.files:
                print(f"note: left out {videos} video file{'s' * (videos > 1)} in {path}: a folder is read as "
                      "photos; give a video on its own to --source", file=sys.stderr)
            elif videos:
                raise SourceError(f"no images in folder {path}, but {videos} video file{'s' * (videos > 1)}: a "
                                  "folder is read as photos; give a video on its own to --source")
        else:
            self.files, self.description = [(path, path.name)], str(path)
        if not self.files:
            raise SourceError(f"no images in folder {path} (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
        self.folder = folder  # (the photos of a folder, not a list of them)
        self.skipped: list[tuple[str, str]] = []  # (name, why), with a warning each, as the images are read in turn
        self.damaged_photos: list[str] = []  # read damaged or cut short (their missing part grey), warned of too
        first = next((image for image in (read_image(file) for file, _ in self.files) if image is not None), None)
        if first is None:
            raise SourceError(cannot_read(self.files[0][0]) if len(self.files) == 1 else
                              f"none of the {len(self.files)} images{f' in {path}' if folder else ''} can be read")
        self.size = (first.shape[1], first.shape[0])
        self.fps = 30.0 if len(self.files) == 1 and not folder else 1.0

    def leave_out(self, folder: Path) -> None:
        """Leave out the photos inside `folder`, the --output folder, when it lies in the source folder: its annotated
        copies of an earlier run were labelled as photos of their own, and would have been overwritten."""
        inside = os.path.realpath(folder) + os.sep
        kept = [(file, name) for file, name in self.files if not self.folder or not os.path.realpath(file).startswith(inside)]
        if len(kept) < len(self.files) and kept:
            left = len(self.files) - len(kept)
            print(f"note: left out {left} photo{'s' * (left > 1)} in {folder}, the --output folder (a run of this folder "
                  "without that --output labels them too)", file=sys.stderr)
            self.files = kept

    def __iter__(self) -> Iterator[np.ndarray]:
        for file, name in self.files:
            frame = read_image(file, warn=lambda damage, name=name: self._warn_damaged(name, damage))
            if frame is None:  # (one image alone was read at the start already)
                why = too_large(file) or not_media(file) or "cannot read it as an image"
                print(f"warning: skipped {name}: {why}", file=sys.stderr)
                self.skipped.append((name, why))
                continue
            self.name = name  # of the image being yielded
            pages = tiff_pages(file)
            if pages > 1:  # (a scan of several pages, a fax: it was read without a word)
                print(f"note: {name} holds {pages} pages: only the first is labelled", file=sys.stderr)
            yield frame

    def _warn_damaged(self, name: str, damage: str) -> None:
        warn_damaged(name, damage)
        self.damaged_photos.append(name)


def tiff_pages(file: Path) -> int:
    """How many pages (pictures) a TIFF file holds; 1 for any other file and for a TIFF Pillow cannot read."""
    if not file_head(file).startswith(TIFF_SIGNATURES):
        return 1
    from PIL import Image

    try:
        with Image.open(file) as picture:
            return getattr(picture, "n_frames", 1)
    except Exception:  # noqa: BLE001 - not for Pillow (damaged, too large): read as OpenCV reads it
        return 1


def warn_damaged(name: str, damage: str) -> None:
    """The warning for an image read damaged or cut short (`read_image`'s `warn`), naming it."""
    print(f"warning: {name} is damaged or cut short ({damage}); what is missing of it reads as grey", file=sys.stderr)


def read_image(file: Path, warn: Callable[[str], None] | None = None) -> np.ndarray | None:
    """A BGR image (turned as its EXIF orientation says), or None when the file cannot be read as one. OpenCV
    reads most formats; HEIC/HEIF and AVIF are put together from what PyAV decodes (`read_heif`), and the first
    frame of a GIF is decoded with PyAV. A JPEG file that is cut short or damaged still gives an image, its
    missing part grey, and `warn` is told what libjpeg said of it. A picture with transparent parts is read as shown on
    white, and a run-length-coded BMP read whole (`by_pillow`). A picture of two colours only (1-bit: dithered or
    scanned) is read as the grey tones its dots stand for (`descreened`)."""
    if not file.is_file():  # (a named pipe in a folder, `x.jpg`, kept OpenCV waiting for a writer, for ever)
        return None
    head = file_head(file)
    image = by_pillow(file) if head.startswith((PNG_SIGNATURE, b"BM", *TIFF_SIGNATURES)) or is_webp(head) else None
    if image is None:
        image = _read_image(file, head, warn)
        if image is not None and is_webp(head):
            image = exif_oriented(file, image)
    return None if image is None else descreened(image)


def by_pillow(file: Path) -> np.ndarray | None:
    """What OpenCV misreads, read with Pillow, upright, as BGR; None for anything else (OpenCV reads it) and for what
    Pillow cannot read:
    - a PNG, WebP or TIFF picture with transparent parts (an alpha channel, or a palette's or a colour's transparent
      value), laid on white, as viewers show it (and as a GIF's are read). OpenCV gave what a transparent part hides:
      a PNG's or WebP's hidden colours (kept, black, or smeared, as each tool saves them), a TIFF's black.
    - a run-length-coded BMP (RLE8, RLE4): OpenCV carries a row's runs that go past its width (ImageMagick codes each
      row to its padded length) on into the next rows, and the picture came out garbled.
    - a JPEG-compressed TIFF turned a quarter (orientations 5-8): OpenCV reads no TIFF turned so, and FFmpeg gave
      this one black.
    An uncompressed TIFF turned a quarter is left to FFmpeg: Pillow (13.0) garbles it."""
    from PIL import Image, ImageOps

    try:
        with Image.open(file) as picture:
            turned = picture.format == "TIFF" and picture.getexif().get(0x0112) in (5, 6, 7, 8)
            if turned and picture.tag_v2.get(259, 1) == 1:  # (259: compression; 1: none)
                return None
            see_through = picture.format in ("PNG", "WEBP", "TIFF") and (
                picture.mode in ALPHA_MODES or (
                    picture.mode in ("P", "L", "RGB") and "transparency" in picture.info))
            run_length = picture.format == "BMP" and picture.info.get("compression") in (1, 2)
            if not (see_through or run_length or (turned and picture.tag_v2.get(259) in (6, 7))):  # (6, 7: JPEG)
                return None
            if see_through and deeper_than_8_bits(file, picture):  # Pillow keeps a 16-bit band's top 8 bits only
                return deep_on_white(file)
            return pil_on_white(ImageOps.exif_transpose(picture))
    except Exception:  # noqa: BLE001 - not for Pillow (damaged, too large): OpenCV reads it, or says it cannot
        return None


def colour_profile(file: Path) -> bytes | None:
    """The ICC colour profile an image file is tagged with (Display P3, as iPhones and many cameras tag their photos;
    Adobe RGB) where it describes RGB colours, for its annotated copy: the program reads the colours as they are stored,
    not converted (docs/usage.md), and a copy saved without the profile looked duller than the photo. None for a file
    without one, and for a profile of grey or CMYK colours, which the copy's BGR no longer has."""
    from PIL import Image

    if is_heif(file_head(file)):  # (Pillow opens no HEIC or AVIF file)
        profile = heif_profile(file)
    else:
        try:
            with Image.open(file) as picture:  # (the header only)
                profile = picture.info.get("icc_profile")
        except Exception:  # noqa: BLE001 - not for Pillow (damaged): no profile to keep
            return None
    return profile if isinstance(profile, bytes) and profile[16:20] == b"RGB " else None


def deeper_than_8_bits(file: Path, picture) -> bool:
    """Whether a PNG's or TIFF's bands hold more than 8 bits (its header's bit depth)."""
    if picture.format == "TIFF":
        return max(np.atleast_1d(picture.tag_v2.get(258, 8))) > 8  # (258: bits per sample)
    if picture.format != "PNG":  # (a WebP's bands are 8 bits)
        return False
    with open(file, "rb") as handle:
        return handle.read(25)[24:] > b"\x08"  # (IHDR's bit depth)


def deep_on_white(file: Path) -> np.ndarray | None:
    """A 16-bit PNG or TIFF with an alpha band, laid on white, its colours and its alpha each by the bits they use
    (`by_bits_used`: Pillow read 12-bit values, 0-4095, as 0-15, near black or see-through); None where OpenCV does
    not read it so (it is then read as before, its alpha dropped)."""
    with quiet_stderr(), opencv_name(file) as name:
        try:
            image = cv2.imread(name, cv2.IMREAD_UNCHANGED)  # (which leaves the orientation tag to exif_oriented)
        except cv2.error:
            return None
    if image is None or image.dtype != np.uint16 or image.ndim != 3 or image.shape[2] != 4:
        return None
    return exif_oriented(file, on_white(np.dstack([by_bits_used(image[:, :, :3]), by_bits_used(image[:, :, 3:])])))


def pil_on_white(picture) -> np.ndarray:
    """A PIL picture of 8-bit bands as BGR, its transparent parts (if any) laid on white."""
    if picture.mode not in ALPHA_MODES and "transparency" not in picture.info:
        return np.ascontiguousarray(np.asarray(picture.convert("RGB"))[:, :, ::-1])
    rgba = (picture.convert("LA") if picture.mode == "La" else picture).convert("RGBA")  # (no La -> RGBA in Pillow)
    return on_white(cv2.cvtColor(np.asarray(rgba), cv2.COLOR_RGBA2BGRA))


def on_white(bgra: np.ndarray) -> np.ndarray:
    """A BGRA picture (uint8, its alpha not premultiplied) as BGR, laid on white."""
    alpha = bgra[:, :, 3:].astype(np.float32) / 255
    return np.ascontiguousarray(np.rint(bgra[:, :, :3] * alpha + 255 * (1 - alpha)).astype(np.uint8))


def too_large(file: Path) -> str:
    """Why `read_image` gave no picture when the picture is larger than OpenCV reads, for a message; else ""."""
    from PIL import Image

    if not file.is_file():  # (a named pipe: Pillow would wait for a writer)
        return ""
    try:
        with Image.open(file) as picture:
            pixels = picture.width * picture.height
    except Image.DecompressionBombError as error:  # (Pillow's own limit, a sixth of OpenCV's; it says the size)
        pixels = int(next(iter(re.findall(r"\((\d+) pixels\)", str(error))), 0))
    except Exception:  # noqa: BLE001 - what Pillow cannot open either
        pixels = 0
    if pixels <= OPENCV_MAX_PIXELS:
        return ""
    return f"{pixels / 1e6:,.0f} megapixels, more than the {OPENCV_MAX_PIXELS / 1e6:,.0f} this program can read"


def cannot_read(file: Path, name: str | None = None) -> str:
    """The message for an image file `read_image` gave no picture for (called `name`, if given)."""
    why = too_large(file) or not_media(file)  # (an empty or text file named .jpg was only 'cannot read image')
    return f"cannot read image {name or file}" + (f" ({why})" if why else "")


def exif_oriented(file: Path, image: np.ndarray) -> np.ndarray:
    """The picture turned (or mirrored) as its EXIF orientation says: OpenCV does it for JPEG and PNG files, not for
    WebP ones (a phone photo converted to WebP keeps the tag) nor the TIFFs it cannot read; Pillow reads the tag."""
    from PIL import Image

    try:
        with Image.open(file) as picture:
            orientation = picture.getexif().get(0x0112, 1)
    except Exception:  # noqa: BLE001 - a tag Pillow cannot read: the picture as OpenCV read it
        return image
    how = {2: lambda i: cv2.flip(i, 1), 3: lambda i: cv2.rotate(i, cv2.ROTATE_180), 4: lambda i: cv2.flip(i, 0),
           5: cv2.transpose, 6: lambda i: cv2.rotate(i, cv2.ROTATE_90_CLOCKWISE),
           7: lambda i: cv2.rotate(cv2.transpose(i), cv2.ROTATE_180),
           8: lambda i: cv2.rotate(i, cv2.ROTATE_90_COUNTERCLOCKWISE)}.get(orientation)
    return how(image) if how else image


@contextlib.contextmanager
def opencv_name(file: Path) -> Iterator[str]:
    """A name OpenCV can open `file` by: its own, or, where that is not valid UTF-8 (a file named in Latin-1, from an
    old zip or a Windows share), which crashes OpenCV (a segmentation fault), the file's /proc/self/fd link while it is
    held open here."""
    try:
        str(file).encode("utf-8")
    except UnicodeEncodeError:
        pass
    else:
        yield str(file)
        return
    try:
        held = os.open(file, os.O_RDONLY)
    except OSError:
        yield "/nonexistent"  # (what cannot be opened reads as nothing, as a missing file does)
        return
    try:
        yield f"/proc/self/fd/{held}"
    finally:
        os.close(held)


def pnm_white(file: Path, head: bytes) -> int | None:
    """The value that is white in a binary PGM or PPM picture (its header's maxval: 255, 65535, or any other from 1
    to 65535, as a 10- or 12-bit camera's 1023 or 4095); None for any other file or a header that cannot be read."""
    if not head.startswith(PNM_SIGNATURES) or head[1:2] not in (b"5", b"6"):
        return None
    text = file_head(file, 4096)
    fields = re.sub(rb"#[^\r\n]*", b" ", text[2:]).split()  # (a comment runs to the end of its line)
    try:
        white = int(fields[2])
    except (IndexError, ValueError):
        return None
    return white if 0 < white < 65536 else None


def _read_image(file: Path, head: bytes, warn: Callable[[str], None] | None) -> np.ndarray | None:
    if is_heif(head):
        return read_heif(file)
    white = pnm_white(file, head)
    if white not in (None, 255, 65535):  # OpenCV takes the values of a binary PGM/PPM as they are, whatever its white:
        try:
            with quiet_stderr(), opencv_name(file) as name:  # 0-4095 read as 0-15 (near black), 0-100 as 0-100 of 255
                image = cv2.imread(name, cv2.IMREAD_UNCHANGED)
        except cv2.error:  # more pixels than OpenCV reads: the caller says so (too_large)
            return None
        if image is None:
            return None
        image = np.clip(np.rint(image.astype(np.float32) * (255.0 / white)), 0, 255).astype(np.uint8)
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image
    deep = read_deep_image(file) if head.startswith(TIFF_SIGNATURES) and not whole_number_tiff(file) else None
    if deep is not None:
        return deep
    may_be_16_bit = head.startswith((PNG_SIGNATURE, *TIFF_SIGNATURES, *JPEG_2000_SIGNATURES))  # (known once read)
    with quiet_stderr() as said:  # OpenCV logs its own lines about a damaged file
        try:
            with opencv_name(file) as name:
                image = cv2.imread(name, cv2.IMREAD_COLOR | (cv2.IMREAD_ANYDEPTH if may_be_16_bit else 0))
                if image is not None and image.dtype == np.uint16:
                    image = by_bits_used(image)
                elif image is not None and image.dtype != np.uint8:  # signed 16 or 32 bits: OpenCV's 8-bit reading
                    image = cv2.imread(name, cv2.IMREAD_COLOR)
        except cv2.error:  # a picture of more pixels than OpenCV reads (`too_large` says so)
            return None
    damage = next((line for line in said if any(sign in line for sign in JPEG_DAMAGE)), None)
    if image is not None and damage and warn is not None:
        warn(damage.strip().rstrip("."))
    if image is not None or not is_image_head(head):
        return image
    import av

    try:
        with quiet_stderr(), av.open(str(file)) as container:  # FFmpeg's own lines about a damaged file
            frame = next(container.decode(video=0))
            deep = max(component.bits for component in frame.format.components) > 8  # (a 16-bit TIFF turned a quarter)
            image = by_bits_used(frame.to_ndarray(format="bgr48le")) if deep else frame.to_ndarray(format="bgr24")
    except (av.FFmpegError, StopIteration, OSError, ValueError):
        return None
    # OpenCV turns a TIFF by its orientation tag, but fails to read one turned a quarter (5-8); FFmpeg reads it as stored.
    return exif_oriented(file, image) if head.startswith(TIFF_SIGNATURES) else image


def by_bits_used(image: np.ndarray) -> np.ndarray:
    """A 16-bit picture as 8 bits, its white that of the bits its values use: 8, 10, 12, 14 or 16 (a 12-bit camera's
    frames saved in a 16-bit TIFF or PNG, 0-4095, read as black to white; OpenCV read every one as 0-65535, so those
    came out near black, and 8-bit values black)."""
    bits = max(8, int(image.max()).bit_length())
    bits += bits % 2  # (the depths cameras give)
    return np.rint(image.astype(np.float32) * (255.0 / (2**bits - 1))).astype(np.uint8)


def descreened(image: np.ndarray) -> np.ndarray:
    """A BGR picture of two colours only (a 1-bit picture: dithered, halftoned or a black-and-white scan) smoothed
    into the tones its dots stand for (Gaussian, sigma DESCREEN_SIGMA pixels): the detector finds no face in the
    dots themselves (docs/usage.md: What --source reads). Any other picture is returned as it is."""
    colours = None
    for part in (image[::7, ::7], image):  # most pictures show a third colour in the sample already
        packed = part.astype(np.int32)
        packed = packed[:, :, 0] | packed[:, :, 1] << 8 | packed[:, :, 2] << 16
        colours = colours or (int(packed.min()), int(packed.max()))
        if colours[0] == colours[1] or np.any((packed != colours[0]) & (packed != colours[1])):
            return image
    return cv2.GaussianBlur(image, (0, 0), DESCREEN_SIGMA)


def whole_number_tiff(file: Path) -> bool:
    """Whether a TIFF's header says it holds whole numbers (its SampleFormat tag, read without decoding the picture),
    as photos and scans do: OpenCV's colour reader reads those, and `read_deep_image` would decode it once more."""
    from PIL import Image

    try:
        with Image.open(file) as picture:
            sample_format = picture.tag_v2.get(339, 1)  # 1 unsigned, 2 signed integers, 3 floating point
    except Exception:  # noqa: BLE001 - a TIFF Pillow cannot read: let OpenCV decide
        return False
    return all(kind in (1, 2) for kind in np.atleast_1d(sample_format))


def read_deep_image(file: Path) -> np.ndarray | None:
    """A floating-point TIFF (as scientific pictures are, which `cv2.IMREAD_COLOR` refuses or saturates) as 8-bit
    BGR: values in 0..1 scaled to 0..255, any other range stretched over it; None for any other picture."""
    with quiet_stderr(), opencv_name(file) as name:
        image = cv2.imread(name, cv2.IMREAD_UNCHANGED)
    if image is None or image.dtype.kind != "f" or image.size == 0:
        return None
    image = np.nan_to_num(image.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    low, high = float(image.min()), float(image.max())
    if low >= 0.0 and high <= 1.0:
        low, high = 0.0, 1.0
    image = np.clip((image - low) * (255.0 / max(high - low, 1e-12)), 0, 255).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return image[:, :, :3] if image.shape[2] >= 3 else cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2BGR)


def is_image_file(path: Path, by_content: bool = False) -> bool:
    """Whether `path` is an image file: by its suffix, else (or, with `by_content`, only) by how it begins."""
    if not by_content and path.suffix.lower() in IMAGE_SUFFIXES:
        return True
    return is_image_head(file_head(path))


def is_image_head(head: bytes) -> bool:
    """Whether a file that begins so (its first 12 bytes) is an image file."""
    return head.startswith(IMAGE_SIGNATURES) or is_webp(head) or is_heif(head)


def is_webp(head: bytes) -> bool:
    """Whether a file that begins so is a WebP picture."""
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


def is_heif(head: bytes) -> bool:
    """Whether a file that begins so is an HEIF (HEIC) or AVIF picture."""
    return head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS


def file_head(path: Path, size: int = 12) -> bytes:
    """The first `size` bytes of a file (fewer for a shorter one); none for what is not a readable file."""
    if not path.is_file():  # (a named pipe would block the read below)
        return b""
    try:
        with open(path, "rb") as handle:
            return handle.read(size)
    except OSError:
        return b""


def folder_images(folder: Path) -> list[Path]:
    """The images in `folder` and its subfolders (linked folders too), by path; hidden files and folders left out."""
    return [file for file in folder_files(folder) if is_image_file(file)]


def folder_files(folder: Path) -> list[Path]:
    """The files in `folder` and its subfolders (linked folders too), by path; hidden files and folders left out. A
    folder reached both as itself and by a link is read as itself (by the link, first in path order, its photos lost
    their own folder's name: a class folder's)."""
    def walk(follow: bool):
        for where, subfolders, files in os.walk(folder, followlinks=follow, onerror=_warn_unlisted if follow else None):
            subfolders[:] = [name for name in subfolders if not name.startswith(".") and name != "__MACOSX"]
            yield where, subfolders, files

    itself = {os.path.realpath(where) for where, _, _ in walk(False)} - {os.path.realpath(folder)}
    found, seen = [], set()
    for where, subfolders, files in walk(True):
        real = os.path.realpath(where)
        if real in seen or (os.path.islink(where) and real in itself):  # a link back up the tree, or to a folder in it
            subfolders.clear()
            continue
        seen.add(real)
        found += [Path(where, name) for name in files if not name.startswith(".")]
    return sorted(found, key=lambda f: f.relative_to(folder).parts)


def _warn_unlisted(error: OSError) -> None:
    print(f"warning: skipped folder {error.filename}: {error.strerror}", file=sys.stderr)


def list_cameras(indices: range = range(10)) -> list[tuple[int, int, int, float]]:
    """(index, width, height, fps) of every camera that opens and delivers a frame."""
    found = []
    for index in indices:
        if stop.requested:  # Ctrl-C (asked for while the program's modules loaded: `python -m realtime`)
            raise KeyboardInterrupt
        with quiet_stderr():
            capture = cv2.VideoCapture(index)
            ok, frame = capture.read() if capture.isOpened() else (False, None)
            fps = capture.get(cv2.CAP_PROP_FPS)
            capture.release()
        if ok and frame is not None:
            found.append((index, frame.shape[1], frame.shape[0], fps))
    return found


class DecodedStream:
    """A live network stream decoded by PyAV, read by CameraSource as it reads an OpenCV capture (`read`, `get`,
    `release`), each frame at its own size. OpenCV's reader scales every frame to the first one's size, and where the
    size changes (a phone streaming as a webcam, turned: an MJPEG stream going from 640x480 to 480x640) its scaler
    fails and it gave the last frame of the first size, over and over, unsaid: the picture and its labels froze while
    the phone lay turned (30 of 90 frames of such a stream). A frame of another size now goes on as it is (the
    recording fits it in its first size, the tracker starts its faces afresh). A packet that cannot be decoded (one
    lost on the network) is left out; the stream ends where it cannot be read on."""

    def __init__(self, container):
        self.container = container
        self.stream = main_stream(container, "video")
        self._frames = decoded_frames(container, self.stream)
        self._stamp: float | None = None
        # (an MJPEG camera's stream has none: FFmpeg counts its frames at 25 a second, which would pace them)
        self._timed = not int(container.format.flags) & AVFMT_NOTIMESTAMPS

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return True

    def set(self, what: int, value: float) -> bool:  # a stream's size and rate are the sender's
        return False

    def read(self) -> tuple[bool, np.ndarray | None]:
        frame = next(self._frames, None)
        if frame is None:
            return False, None
        self._stamp = frame.time if self._timed else None
        return True, frame.to_ndarray(format="bgr24")

    def get(self, what: int) -> float:
        if what == cv2.CAP_PROP_POS_MSEC:  # (none: a number StreamClock takes for no timestamp, as OpenCV gives)
            return -1.0 if self._stamp is None else self._stamp * 1000
        if what == cv2.CAP_PROP_FPS:
            return float(self.stream.average_rate or 0)
        return 0.0

    def release(self) -> None:
        self.container.close()


def opened_stream(url: str):
    """The stream at `url` opened by PyAV (its container), or None where PyAV cannot open it."""
    import av

    try:
        return av.open(url, timeout=STREAM_TIMEOUT_MS / 1000)
    except av.error.ExitError:  # no answer in time (or Ctrl-C): not another wait as long for OpenCV's reader
        if stop.requested:
            raise KeyboardInterrupt from None
        raise SourceError(f"cannot open stream {shown(url)} (no answer within {STREAM_TIMEOUT_MS // 1000} s)") from None
    except (av.FFmpegError, OSError, ValueError, UnicodeEncodeError):
        return None


PLAYLISTS = {"hls", "dash"}  # formats whose length served is a playlist's, not the video's: live or not, a stream


def served_file(container) -> bool:
    """Whether an opened network stream is a video file served whole: it gives its length in time, or the server gives
    its size (a live stream's has none). A file a hard kill cut short, its length never written, was read as a live
    stream: frames dropped to keep up, and its end 'the stream stopped delivering frames', exit 1."""
    if (container.duration or 0) > 0:
        return True
    try:
        size = container.size or 0  # (PyAV 18.1.1 gives None where the server gives no size; before, a negative number)
    except Exception:  # (PyAV versions, protocols without a size)
        return False
    return size > 0 and not PLAYLISTS & set(container.format.name.split(","))


def open_stream(url: str, width: int | None = None, height: int | None = None) -> Source:
    """A network stream, live like a camera; or, when it has a known length, a video file served over the network.
    Both are decoded by PyAV (a live one by `DecodedStream`, a file as a local one is, `DecodedVideoSource`); where
    PyAV cannot open or read it, by OpenCV's reader, as before."""
    container = opened_stream(url)
    if container is not None and container.streams.video and served_file(container):
        try:  # a video file served over the network: read as a file is (AV1, pixel shape, fields, HDR10, cover)
            return DecodedVideoSource(url, container)
        except SoundOnly:
            raise
        except SourceError:  # (`container` closed)
            container = None
    if container is not None and container.streams.video:
        try:
            return CameraSource(url, width, height, capture=DecodedStream(container))
        except (SourceError, ValueError, IndexError):  # (no frame came: OpenCV's reader has its try)
            pass
    if container is not None:
        with contextlib.suppress(Exception):  # (closed already where CameraSource gave up on it)
            container.close()
    with quiet_stderr():  # FFmpeg logs its own lines about a stream it cannot reach or read
        capture = cv2.VideoCapture(url, cv2.CAP_FFMPEG, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, STREAM_TIMEOUT_MS,
                                                          cv2.CAP_PROP_READ_TIMEOUT_MSEC, STREAM_TIMEOUT_MS])
    if capture.isOpened() and capture.get(cv2.CAP_PROP_FRAME_COUNT) > 0:
        return VideoSource(url, capture)
    return CameraSource(url, width, height, capture=capture)


def open_url(url: str, width: int | None = None, height: int | None = None) -> Source:
    """A photo for the http(s) URL of an image, fetched and read as a file of it would be (labelled by the photo
    path: its model, its views; an animated GIF is a video); a stream for anything else (a camera, a video). A URL
    named as a video or a stream (`live.ts`, `index.m3u8`) is opened as a stream at once (STREAM_URL_SUFFIXES)."""
    try:  # (a host in brackets that is no IPv6 address, or an unclosed bracket, was a traceback)
        urllib.parse.urlsplit(url)
    except ValueError as err:
        raise SourceError(f"bad URL {shown(url)}: {err}") from None
    refused = None
    if not named_as_stream(url):
        fetched, refused = asked_for_image(url)  # (refused: FFmpeg may be let in all the same)
        if fetched is not None:
            return fetched_image(url, fetched)
        if stop.requested:  # Ctrl-C while the server was asked: not another 5 s for FFmpeg to ask it again
            raise KeyboardInterrupt
    try:
        return open_stream(url, width, height)
    except SourceError:
        if refused is None and named_as_stream(url):  # what the server says of it (404 raises its own error here)
            fetched, refused = asked_for_image(url)
            if fetched is not None:  # an image after all, under a video's name
                return fetched_image(url, fetched)
        if refused is None:
            raise
        raise SourceError(f"cannot open stream {shown(url)} ({refused.said})") from None


def asked_for_image(url: str) -> tuple[tempfile.TemporaryDirectory | None, RefusedURL | None]:
    """`fetch_image`'s answer, and the server's refusal (401, 403, 500, ...) where it refused, instead of raised."""
    try:
        return fetch_image(url), None
    except RefusedURL as answer:
        return None, answer


def named_as_stream(url: str) -> bool:
    """Whether an http(s) URL's path ends as a video's or a stream's name does (`.ts`, `.m3u8`, `.mp4`, ...)."""
    return url.lower().startswith(WEB_SCHEMES) and \
        Path(urllib.parse.unquote(urllib.parse.urlsplit(url).path)).suffix.lower() in STREAM_URL_SUFFIXES


def fetched_image(url: str, fetched: tempfile.TemporaryDirectory) -> Source:
    """The source for an image `fetch_image` fetched from `url` into `fetched` (removed when the source is closed)."""
    file = next(Path(fetched.name).iterdir())
    try:
        source = animated(file) or ImageSource(file)
    except SourceError:
        why = too_large(file) or "damaged, cut short, or a kind of image this program cannot read"
        fetched.cleanup()
        raise SourceError(f"cannot read image {shown(url)} ({why})") from None
    source.fetched, source.description = fetched, shown(url)  # (FFmpeg reads only a GIF's first frame from a URL)
    return source


def web_request(url: str) -> urllib.request.Request:
    """A request for an http(s) URL; a user name and password in it (`http://user:password@camera/snapshot.jpg`, as
    cameras are given) are sent as Basic authentication, as FFmpeg sends them (Python's client refuses such a URL)."""
    parts = urllib.parse.urlsplit(url)
    user, at, host = parts.netloc.rpartition("@")
    request = urllib.request.Request(urllib.parse.urlunsplit(parts._replace(netloc=host)) if at else url,
                                     headers={"User-Agent": "emotion-overlay"})
    if at:
        name, _, password = user.partition(":")
        credentials = f"{urllib.parse.unquote(name)}:{urllib.parse.unquote(password)}".encode()
        # (unredirected: not sent on to another server that a redirect names)
        request.add_unredirected_header("Authorization", "Basic " + base64.b64encode(credentials).decode())
    return request


def fetch_image(url: str) -> tempfile.TemporaryDirectory | None:
    """A temporary folder holding the image at an http(s) URL (named as the URL's path ends), or None where the URL
    gives no image: not reachable by Python's HTTP client, not an image, multipart (a camera's MJPEG stream), or
    beyond IMAGE_URL_LIMITS in size or time. A server's 404 or 410 is a SourceError; its other refusals (401, 403,
    500, ...) a RefusedURL."""
    if not url.lower().startswith(WEB_SCHEMES):
        return None
    most, seconds = IMAGE_URL_LIMITS
    started = time.monotonic()
    try:
        with urllib.request.urlopen(web_request(url), timeout=STREAM_TIMEOUT_MS / 1000) as response:
            kind = response.headers.get_content_type()
            head = response.read(12)
            if kind.startswith("multipart/") or not (is_image_head(head) or kind.startswith("image/")):
                return None
            data, size = [head], len(head)
            while chunk := response.read1(1 << 16):  # what has come, not a whole megabyte: a slow server is timed
                data.append(chunk)
                size += len(chunk)
                if stop.requested:  # Ctrl-C while fetching: the program stops as between frames
                    raise KeyboardInterrupt
                if size > most or time.monotonic() - started > seconds:
                    return None
    except urllib.error.HTTPError as answer:
        if answer.code in (404, 410):  # nothing there, for FFmpeg either
            raise SourceError(f"source not found: {shown(url)} (the server answered {answer.code} {answer.reason})") from None
        raise RefusedURL(url, answer.code, answer.reason) from None
    except (OSError, ValueError, http.client.HTTPException):  # urllib's URLError is an OSError
        return None
    name = Path(urllib.parse.unquote(urllib.parse.urlsplit(url).path)).name
    fetched = tempfile.TemporaryDirectory(prefix="emotion-overlay-")
    plain = name and name.isprintable() and len(name) < 200 and not name.startswith(".")  # ("": a URL ending in /)
    Path(fetched.name, name if plain else "image").write_bytes(b"".join(data))
    return fetched


def open_source(spec: str | int | list[str], width: int | None = None, height: int | None = None,
                fps: float | None = None, mirror: bool = False) -> Source:
    """A camera for an integer (or digits), a stream for a URL, `demo[:N]` for a generated clip, else a video,
    image or folder; several images for a list of them (what a shell makes of `photos/*.jpg`). `mirror`: a
    camera's frames flipped left to right (nothing else is mirrored)."""
    if isinstance(spec, list) and len(spec) > 1:
        files = [Path(item) for item in spec]
        for file in files:
            if not file.exists():  # (said after the list of suffixes, the cause was lost)
                raise SourceError(f"source not found: {file}" + (f" ({broken_link(file)})" if broken_link(file) else ""))
            if not file.is_file() or not is_image_file(file):
                raise SourceError(f"several sources must all be image files ({', '.join(sorted(IMAGE_SUFFIXES))}): "
                                  f"{file} is not one")
        return ImageSource(files)
    if isinstance(spec, list):
        spec = spec[0]
    if str(spec) == "demo" or str(spec).startswith("demo:"):
        from realtime.scene import DemoSource

        count = str(spec).partition(":")[2] or "1"
        if not count.isdigit() or not 0 <= int(count) <= 9:
            raise SourceError(f"bad demo source '{spec}': use demo or demo:N with N from 0 to 9")
        return DemoSource(faces=int(count))
    if isinstance(spec, int) or (str(spec).isascii() and str(spec).isdigit()):  # ('²' is a digit, but no number)
        try:
            if int(spec) > CAMERA_INDEX_MAX:  # (OpenCV took one past a C int for a file name: a traceback)
                raise SourceError(f"cannot open camera {spec} (no camera has an index that large)")
            return CameraSource(int(spec), width, height, fps, mirror=mirror)
        except SourceError:
            if isinstance(spec, int) or not Path(spec).exists():
                raise
        # No camera has that index, but a file or folder has that name (`2024`: a year's photos): it is read. (It was
        # 'cannot open camera 2024'; `2024/` or `./2024` were needed.)
    if str(spec).lower().startswith(STREAM_SCHEMES):
        try:
            return open_url(str(spec), width, height)
        except SourceError:
            if stop.requested:  # Ctrl-C while the server kept the program waiting (up to 5 s at each step): that is
                raise KeyboardInterrupt from None  # what ended it, not the server ('cannot open stream', exit 2)
            raise
    path = Path(spec)
    if not path.exists():  # (named as given: Path() makes `file:///x.jpg` `file:/x.jpg`)
        why = "give the file's path, without file://" if str(spec).lower().startswith("file:") else broken_link(path)
        raise SourceError(f"source not found: {spec}" + (f" ({why})" if why else ""))
    if path.is_fifo() or path.is_socket():  # opening one waits for a writer, beyond the reach of Ctrl-C and SIGTERM
        raise SourceError(f"cannot read {path}: a named pipe or socket is not read (a file is opened more than once); "
                          "give a video file, or stream it over rtsp:// or http://")
    animation = animated(path)
    if animation is not None:
        return animation
    if path.is_dir() or is_image_file(path):
        return ImageSource(path)
    return open_video(path)


class AnimationSource(Source):
    """An animated WebP or PNG (APNG), read with Pillow (FFmpeg here gives only its first frame): its frames at
    their own times, as a short video."""

    def __init__(self, path: Path, picture):
        """`picture`: `path` opened by Pillow, of more than one frame; this source closes it."""
        self.picture, self.description, self.path = picture, str(path), None  # (`path`: no sound to carry)
        self.size, self.frame_count = picture.size, picture.n_frames
        # Each frame's duration in ms (read frame by frame: Pillow gives a WebP frame's once it is loaded); 100 where
        # the file gives none or 0, as browsers play such frames. A file cut short: the frames before the cut.
        self.durations: list[float] = []
        for index in range(self.frame_count):
            try:
                picture.seek(index)
                picture.load()
            except (OSError, EOFError, ValueError):
                break
            self.durations.append(picture.info.get("duration") or 100)
        self.fps = min(240.0, max(0.1, 1000 * len(self.durations) / max(sum(self.durations), 1)))  # on average
        self.time = 0.0  # seconds from the first frame to the one last yielded

    def __iter__(self) -> Iterator[np.ndarray]:
        start = 0.0
        for index, duration in enumerate(self.durations):
            self.picture.seek(index)  # (loaded once already: it reads again)
            frame = pil_on_white(self.picture)  # (a sticker's transparent parts)
            self.time, start = start, start + duration / 1000
            yield frame

    def close(self) -> None:
        self.picture.close()
        super().close()


def animated(path: Path) -> Source | None:
    """A GIF, WebP or PNG of more than one frame, read as the short video it is (each frame labelled, tracked and
    smoothed as video's are); None for a still one, which is a photo (as is every such file in a folder: its first
    frame), and for anything else."""
    head = file_head(path)
    if is_webp(head) or head.startswith(PNG_SIGNATURE):
        return animated_picture(path)
    if not head.startswith(GIF_SIGNATURES):
        return None
    try:
        video = VideoSource(path)
    except SourceError:
        return None
    if (video.frame_count or 0) > 1:
        return video
    video.close()
    return None


def animated_picture(path: Path) -> AnimationSource | None:
    """An animated WebP or PNG as an AnimationSource; None for a still one, or one Pillow cannot open."""
    from PIL import Image

    try:
        picture = Image.open(path)
    except Exception:  # noqa: BLE001 - not for Pillow (too large, damaged): read as a photo is, or said why not
        return None
    if getattr(picture, "n_frames", 1) > 1:
        return AnimationSource(path, picture)
    picture.close()
    return None
