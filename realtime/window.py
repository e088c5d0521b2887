"""The window: a sink that shows each annotated frame, with an FPS counter, and takes keys; and whether one can open.

It opens at the frame's own size, shrunk to fit the screen when the frame is larger. Keys:
space pauses and resumes, `b` toggles the probability bars, `s` saves a snapshot PNG, `f`
toggles full screen, `h` shows or hides the key help, `q` or Esc quits (so does closing the window).
Photos get no FPS counter; the window takes each photo's shape. With `step`, each photo stays up
until space or → asks for the next (`a`: the rest without stopping), ← goes back through those shown
before; the last one stays up until the user closes it.
"""

from __future__ import annotations

import ctypes
import functools
import os
import re
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np

from realtime import quiet_stderr, stop
from realtime.draw import CORNERS, draw_corner, draw_help, face_areas, fitted, letterboxed, scaled_tracks
from realtime.output import Annotated, readable_name
from realtime.track import Track

TITLE = "emotion-overlay (h: help, q: quit)"
COMMON_KEYS = [("b", "probability bars"), ("s", "save a snapshot (PNG)"), ("f", "full screen"), ("h", "this help"),
               ("q / Esc", "quit")]
KEYS = [("space", "pause / resume"), *COMMON_KEYS]
PHOTO_KEYS = [("space / ->", "next photo"), ("<- / p", "photo before"), ("a", "the rest without stopping"),
              *COMMON_KEYS]
# The keys that step through photos, as cv2.waitKeyEx gives them: space, n, Enter, then → and Page Down from
# X11 (Qt, GTK), Windows and macOS; p, Backspace, then ← and Page Up likewise.
NEXT = {ord(" "), ord("n"), 13, 0xFF53, 0xFF56, 0x270000, 0x220000, 0xF703, 0xF72D}
BACK = {ord("p"), 8, 0xFF51, 0xFF55, 0x250000, 0x210000, 0xF702, 0xF72C}
KEPT_BYTES = 256 * 2**20  # photos kept to go back to (seven 12-megapixel photos, 700 of 350x350)


@dataclass
class Picture:
    """A picture the window shows: a video's frame, or a photo (kept to go back to)."""
    frame: np.ndarray  # as drawn
    number: int  # its place in the run, from 1
    name: str | None  # a photo's file name (Annotated.image)
    redraw: Callable[[bool], np.ndarray] | None  # how to draw it again (Annotated.redraw)
    bars: bool  # whether `frame` has the probability bars drawn
    tracks: list[Track]  # its faces, as drawn
    rows: int | None = None  # how many classes a face's bars chart (those the model answers); None: all

    @property
    def areas(self) -> list[tuple[int, int, int, int]]:
        """Where its faces, their captions and (with `bars`) their charts are drawn."""
        return face_areas(self.tracks, self.frame.shape[1::-1], self.bars, self.rows)

    @property
    def nbytes(self) -> int:
        return self.frame.nbytes * (2 if self.redraw else 1)  # a redraw keeps the picture as it was too


@dataclass
class Overlay:
    """What the drawing stage adds, as the user toggles it."""
    bars: bool = False
    charted: list[int] | None = None  # the classes the bars show, as indices into the labels (the loop's: those the
    # model answers, --classes); None: all
    redrawable: bool = False  # each frame comes with a way to draw it again (a window: `b` on the picture shown)


def screen_size(near: tuple[int, int] | None = None) -> tuple[int, int]:
    """The width and height of the monitor around the point `near` (the window's middle), else of the primary one:
    on a desktop of several monitors, one monitor, not the whole desktop (a picture letterboxed to two monitors'
    width showed at half its size in full screen on one). From the X server's RandR where there is one, else
    tkinter's screen (Windows, macOS: the main monitor), else 1920x1080."""
    found = monitors(os.environ.get("DISPLAY", "")) if sys.platform.startswith("linux") else []
    if found:
        around = [m for m in found if near and m.x <= near[0] < m.x + m.width and m.y <= near[1] < m.y + m.height]
        chosen = (min(around, key=lambda m: m.width * m.height) if around else
                  next((m for m in found if m.primary), found[0]))
        return chosen.width, chosen.height
    return whole_screen()


@functools.lru_cache(maxsize=1)
def whole_screen() -> tuple[int, int]:
    """tkinter's screen size, asked once (a Tk window made beside OpenCV's, while that one changes, may upset it)."""
    try:
        import tkinter

        root = tkinter.Tk()
        root.withdraw()
        size = root.winfo_screenwidth(), root.winfo_screenheight()
        root.destroy()
        return size
    except Exception:  # no tkinter, or no display it can open
        return 1920, 1080


def libxcb() -> ctypes.CDLL:
    """The system's libxcb (which Qt's X11 plugin loads), its connection calls typed; OSError where it is missing."""
    xcb = ctypes.CDLL("libxcb.so.1")
    xcb.xcb_connect.restype, xcb.xcb_connect.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    return xcb


class Monitor(ctypes.Structure):
    """xcb_randr_monitor_info_t: one monitor of the X server's screen (its outputs follow it)."""
    _fields_ = [("name", ctypes.c_uint32), ("primary", ctypes.c_uint8), ("automatic", ctypes.c_uint8),
                ("outputs", ctypes.c_uint16), ("x", ctypes.c_int16), ("y", ctypes.c_int16),
                ("width", ctypes.c_uint16), ("height", ctypes.c_uint16), ("mm_width", ctypes.c_uint32),
                ("mm_height", ctypes.c_uint32)]


class XcbIterator(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("rem", ctypes.c_int), ("index", ctypes.c_int)]


def monitors(display: str) -> list[Monitor]:
    """The monitors of the X server at `display` as RandR 1.5 lists them (libxcb-randr, as Qt's X11 plugin asks);
    [] where that cannot be asked: no display, no libxcb-randr, a server without RandR 1.5. Called once the
    display is known to answer (display_problem)."""
    if not display:
        return []
    try:
        xcb, randr, libc = libxcb(), ctypes.CDLL("libxcb-randr.so.0"), ctypes.CDLL(None)
    except OSError:
        return []
    pointer, number = ctypes.c_void_p, ctypes.c_uint
    xcb.xcb_get_extension_data.restype, xcb.xcb_get_extension_data.argtypes = ctypes.POINTER(ctypes.c_uint8), [
        pointer, pointer]
    xcb.xcb_get_setup.restype, xcb.xcb_get_setup.argtypes = pointer, [pointer]
    xcb.xcb_setup_roots_iterator.restype, xcb.xcb_setup_roots_iterator.argtypes = XcbIterator, [pointer]
    randr.xcb_randr_query_version.restype, randr.xcb_randr_query_version.argtypes = number, [pointer, number, number]
    randr.xcb_randr_query_version_reply.restype = ctypes.POINTER(ctypes.c_uint32)
    randr.xcb_randr_query_version_reply.argtypes = [pointer, number, pointer]
    randr.xcb_randr_get_monitors.restype = number
    randr.xcb_randr_get_monitors.argtypes = [pointer, ctypes.c_uint32, ctypes.c_uint8]
    randr.xcb_randr_get_monitors_reply.restype, randr.xcb_randr_get_monitors_reply.argtypes = pointer, [
        pointer, number, pointer]
    randr.xcb_randr_get_monitors_monitors_iterator.restype = XcbIterator
    randr.xcb_randr_get_monitors_monitors_iterator.argtypes = [pointer]
    randr.xcb_randr_monitor_info_next.argtypes = [ctypes.POINTER(XcbIterator)]
    libc.free.argtypes = [pointer]
    connection = xcb.xcb_connect(display.encode(), None)
    try:
        if xcb.xcb_connection_has_error(connection):
            return []
        extension = xcb.xcb_get_extension_data(connection, ctypes.addressof(ctypes.c_char.in_dll(randr, "xcb_randr_id")))
        if not extension or not extension[8]:  # xcb_query_extension_reply_t.present
            return []
        version = randr.xcb_randr_query_version_reply(connection, randr.xcb_randr_query_version(connection, 1, 5), None)
        if not version:
            return []
        major, minor = version[2], version[3]
        libc.free(version)
        if (major, minor) < (1, 5):
            return []
        root = ctypes.cast(xcb.xcb_setup_roots_iterator(xcb.xcb_get_setup(connection)).data,
                           ctypes.POINTER(ctypes.c_uint32))[0]  # xcb_screen_t.root
        reply = randr.xcb_randr_get_monitors_reply(connection, randr.xcb_randr_get_monitors(connection, root, 1), None)
        if not reply:
            return []
        found, each = [], randr.xcb_randr_get_monitors_monitors_iterator(reply)
        while each.rem > 0:
            found.append(Monitor.from_buffer_copy(ctypes.string_at(each.data, ctypes.sizeof(Monitor))))
            randr.xcb_randr_monitor_info_next(ctypes.byref(each))
        libc.free(reply)
        return found
    finally:
        xcb.xcb_disconnect(connection)


def display_problem() -> str | None:
    """Why no window can be shown, or None when one can. An OpenCV built without windows (opencv-python-headless,
    which other packages bring and which then takes the place of the one mediapipe installs) cannot show one
    anywhere: its cv2.namedWindow raises "The function is not implemented". On Linux, OpenCV's window (Qt with its
    X11 plugin only, in the opencv-python wheel; on Wayland through XWayland) needs the X server at DISPLAY to take a
    connection from this user: where none answers (an SSH session's forwarding gone, a stale DISPLAY) or it refuses
    (a container or `sudo` without the user's X authority), Qt aborts the whole process."""
    gui = opencv_gui()
    if gui == "NONE":
        return ("this OpenCV was built without windows, as opencv-python-headless is: installed over "
                "opencv-contrib-python? See Troubleshooting in the README")
    if not sys.platform.startswith("linux"):
        return None
    display = os.environ.get("DISPLAY", "")
    if not gui.startswith("QT"):  # an OpenCV of one's own build with GTK, which Wayland serves too
        return None if display or os.environ.get("WAYLAND_DISPLAY") else "neither DISPLAY nor WAYLAND_DISPLAY is set"
    return x_connection_problem(display) if display else "DISPLAY is not set"


def opencv_gui() -> str:
    """The window toolkit OpenCV was built with, as its build information says: QT5 (the opencv-python wheels on
    Linux), GTK3, COCOA, WIN32UI, ..., or NONE (opencv-python-headless and other builds for servers)."""
    found = re.search(r"^\s*GUI:\s*(\S+)", cv2.getBuildInformation(), re.MULTILINE)
    return found.group(1).upper() if found else "UNKNOWN"


def x_connection_problem(display: str, wait: float = 5.0) -> str | None:
    """Why libxcb, as Qt's X11 plugin calls it, cannot connect to the X server named by `display` (`:0`, `:1.0`,
    `localhost:10.0`), or None when it can. libxcb writes a server's reason for refusing to standard error; it is
    caught and said here instead."""
    try:
        xcb = libxcb()
    except OSError:
        return "libxcb.so.1, which OpenCV's window needs, is not installed"
    error = []

    def connect() -> None:
        connection = xcb.xcb_connect(display.encode(), None)
        error.append(xcb.xcb_connection_has_error(connection))
        xcb.xcb_disconnect(connection)

    with quiet_stderr() as said:
        attempt = threading.Thread(target=connect, daemon=True)  # on its own: a socket may take and never answer
        attempt.start()
        attempt.join(wait)
    reason = " ".join(" ".join(said).split())
    if not error:
        return f"the X server at DISPLAY={display} does not reply"
    if error[0] == 0:
        return None
    if reason:
        return f"the X server at DISPLAY={display} refused the connection: {reason}"
    if error[0] == 5:  # XCB_CONN_CLOSED_PARSE_ERR
        return f"DISPLAY={display} is not a display name"
    return f"no X server answers at DISPLAY={display}"


class Window:
    def __init__(self, size: tuple[int, int], overlay: Overlay, snapshots: Path = Path("."),
                 photos: Sequence[str] = (), step: bool = False, pace: bool = False):
        """`photos`: the names of the photos the run labels, in order (none for video or a camera): a photo is
        numbered by its place among them, so a file that cannot be read leaves a gap; `step`: each stays up until a key;
        `pace`: a video file is shown at its own speed, by its frames' times, not as fast as it is labelled."""
        cv2.namedWindow(TITLE, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO | cv2.WINDOW_GUI_NORMAL)  # no toolbar
        self.screen, self.size = screen_size(), size
        cv2.resizeWindow(TITLE, *fitted(size, self.screen))
        self.overlay, self.snapshots, self.photos, self.step = overlay, snapshots, len(photos), step
        self._places = {name: place for place, name in enumerate(photos, 1)}
        self.quit = self.paused = self.help = self.fullscreen = False
        self._fps, self._last, self._count = 0.0, None, 0
        self._shown: Picture | None = None  # what the window shows
        self._corner = CORNERS[0]  # where the FPS counter or the photo's number is: it moves off a face's caption
        self.pace, self._clock = pace, None  # with `pace`: when the video's time 0 is (or would have been) shown
        self._seen: deque[Picture] = deque()  # photos shown, to go back to
        self._at = 0  # which of them is shown
        overlay.redrawable = True  # (0.1 ms a 640x480 frame, 0.25 ms a 1080p one: for windows only)

    def write(self, annotated: Annotated) -> None:
        if self.pace:
            self._wait_for(annotated.time)
        now = time.perf_counter()
        if self._last is not None:
            rate = 1.0 / max(now - self._last, 1e-6)
            self._fps = 0.9 * self._fps + 0.1 * rate if self._fps else rate
        self._last, self._count = now, self._count + 1
        number = self._places.get(annotated.image, self._count)
        picture = Picture(annotated.frame, number, annotated.image, annotated.redraw, self.overlay.bars,
                          scaled_tracks(annotated.tracks, annotated.enlarged),
                          None if self.overlay.charted is None else len(self.overlay.charted))
        if self.photos:
            if self.step and self._seen:  # the photo shown stays up until a key asks for this one (labelled
                self._browse(last=False)  # meanwhile); the last one is held by hold(), however many were skipped
                if self.quit or stop.requested:
                    return
            self._seen.append(picture)
            while sum(photo.nbytes for photo in self._seen) > KEPT_BYTES and len(self._seen) > 1:
                self._seen.popleft()
            self._show_seen(len(self._seen) - 1)
        else:
            self._show_picture(picture)
        self._keys(typed(cv2.waitKeyEx(1)))
        if self.paused:
            while self.paused and not (self.quit or stop.requested):
                self._keys(typed(cv2.waitKeyEx(50)))
            self._last = time.perf_counter()  # a pause is not a slow frame

    def _wait_for(self, seconds: float) -> None:
        """Wait (taking keys) until the frame at `seconds` into the video is due. The clock starts again at the
        first frame, after a pause, and where labelling has fallen behind the video by more than a quarter second
        (a slow machine plays as fast as it labels, and never rushes to catch up)."""
        if self._clock is None or time.perf_counter() - (self._clock + seconds) > 0.25:
            self._clock = time.perf_counter() - seconds
        while (left := self._clock + seconds - time.perf_counter()) > 0.002 and not (
                self.paused or self.quit or stop.requested):
            self._keys(typed(cv2.waitKeyEx(max(1, round(left * 1000)))))

    def hold(self) -> None:
        """Photos: keep the last one shown (← and → go through those before) until q, Esc, the window closed, or
        Ctrl-C / SIGTERM."""
        if self.photos and self._seen:
            self._browse(last=True)

    def _browse(self, last: bool) -> None:
        """Photos: wait on the newest photo until a key asks for the next one (never, for the `last`); ← and →
        show those before and come back; `a` stops waiting for the rest of the run."""
        while not (self.quit or stop.requested):
            key = typed(cv2.waitKeyEx(50))
            if key in NEXT or key in BACK:
                at = self._at + (1 if key in NEXT else -1)
                if 0 <= at < len(self._seen):
                    self._show_seen(at)
                elif at >= len(self._seen) and not last:
                    return
            elif key == ord("a") and not last:
                self.step = False
                return
            else:
                self._keys(key)

    def _show_seen(self, at: int) -> None:
        """The photo kept at `at`."""
        self._at = at
        self._show_picture(self._seen[at])

    def _show_picture(self, picture: Picture) -> None:
        """`picture`, drawn again first if the probability bars were toggled since it was drawn; a photo's file name
        in the window's title."""
        if picture.bars != self.overlay.bars and picture.redraw:
            picture.frame, picture.bars = picture.redraw(self.overlay.bars), self.overlay.bars
        if picture.name:
            cv2.setWindowTitle(TITLE, f"{readable_name(picture.name)} - {TITLE}")
        self._shown = picture
        self._show(picture.frame, picture.number, picture.areas)

    def _show(self, frame: np.ndarray, number: int = 0, faces: list[tuple[int, int, int, int]] = ()) -> None:
        """`frame` in the window, with the FPS counter (video) or the photo's number (several photos) in a corner
        clear of the `faces` (it stays put until a face comes under it), the pause or key help over it; the window
        takes the shape of each picture (a photo of another shape is not stretched)."""
        if not self.fullscreen and frame.shape[1::-1] != tuple(self.size):
            self.size = frame.shape[1::-1]
            cv2.resizeWindow(TITLE, *fitted(self.size, self.screen))
        shown = frame.copy()
        if not self.photos:
            self._corner = draw_corner(shown, f"{self._fps:5.1f} FPS", faces, self._corner)
        elif self.photos > 1:
            self._corner = draw_corner(shown, f"{number} / {self.photos}", faces, self._corner)
        keys = PHOTO_KEYS if self.photos > 1 else KEYS if not self.photos else COMMON_KEYS
        if self.paused or self.help:  # paused, the help under the pause's line (h showed nothing while paused)
            draw_help(shown, [("paused", "space resumes")] * self.paused + keys * self.help, faces,
                      self._corner if self.photos != 1 else CORNERS[0])  # (beside the counter, off the faces)
        if self.fullscreen:  # OpenCV's Qt window goes full screen but leaves the picture at its size
            shown = letterboxed(shown, self.screen)
        cv2.imshow(TITLE, shown)

    def _keys(self, key: int) -> None:
        if key in (ord("q"), 27) or cv2.getWindowProperty(TITLE, cv2.WND_PROP_VISIBLE) < 1:
            self.quit = True
        elif key == ord(" ") and not self.photos:
            self.paused = not self.paused
        elif key == ord("b"):  # on the picture shown at once
            self.overlay.bars = not self.overlay.bars
        elif key == ord("h"):
            self.help = not self.help
        elif key == ord("f"):
            self.fullscreen = not self.fullscreen
            if self.fullscreen:  # the monitor the window is on; the window covers it even where no window manager
                x, y, width, height = cv2.getWindowImageRect(TITLE)  # makes it full screen
                self.screen = screen_size((x + width // 2, y + height // 2))
                cv2.resizeWindow(TITLE, *self.screen)
            cv2.setWindowProperty(TITLE, cv2.WND_PROP_FULLSCREEN,
                                  cv2.WINDOW_FULLSCREEN if self.fullscreen else cv2.WINDOW_NORMAL)
            if not self.fullscreen:
                cv2.resizeWindow(TITLE, *fitted(self.size, self.screen))
        elif key == ord("s"):
            path = self.snapshots / time.strftime("emotion-overlay-%Y%m%d-%H%M%S.png")
            for n in range(2, 100):
                if not path.exists():
                    break
                path = path.with_stem(f"{path.stem.split('~')[0]}~{n}")
            if cv2.imwrite(str(path), self._shown.frame):
                print(f"saved {path.absolute()}", file=sys.stderr)  # (where: the folder the program was started in)
            else:
                print(f"error: cannot write {path}", file=sys.stderr)
        else:
            return
        if key in (ord(" "), ord("b"), ord("h"), ord("f")):  # shown again as it now is (`b` at once, even paused)
            self._show_picture(self._shown)

    def close(self) -> None:
        cv2.destroyAllWindows()


def typed(key: int) -> int:
    """A key from cv2.waitKeyEx, letters in lower case (Caps Lock on still quits with Q)."""
    return ord(chr(key).lower()) if 0 < key < 128 else key
