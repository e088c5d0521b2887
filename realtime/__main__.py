"""python -m realtime: label the facial expressions of every face in a camera, video or image."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
from pathlib import Path

from realtime import stop, usable_cores

if __name__ == "__main__":  # before the imports below (OpenCV, NumPy: a quarter of a second), so that a Ctrl-C or
    stop.install()  # SIGTERM while they load asks to stop as a later one does (it was a KeyboardInterrupt traceback)

from realtime.align import Crop
from realtime.capture import STREAM_SCHEMES, ImageSource, SourceError, damage_note, is_image_file, open_source
from realtime.classify import BACKENDS, DEFAULT_MODEL, DEFAULT_PHOTO_MODEL, Classifier, ClassesError, ModelError
from realtime.detect import MODES
from realtime.output import OutputError, PhotoFolderWriter, Tally, check_writable
from realtime.photos import SETTINGS
from realtime.track import HYSTERESIS

AUTO_WORKERS = 4  # at most this many photo workers unless --workers asks (each holds about 70 MB of models)


EPILOG = ("window keys: space pause, b probability bars, s snapshot PNG (into the current folder), f full screen, h "
          "key help, q or Esc quit; photos: space or right arrow next, left arrow back, a all the rest. Exit status: 0 "
          "done; 2 bad options or input (one error line); 1 a camera or stream died, a video URL broke off, or some "
          "photos could not be read; 130 Ctrl-C or SIGTERM. More: README.md and docs/usage.md.")


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, like every other error of the program
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def number(kind, low: float, high: float = math.inf, low_open: bool = False):
    """An argparse type: an int or float (`kind`) from `low` (excluded when `low_open`) up to `high`."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not {'an integer' if kind is int else 'a number'}") from None
        if not (low < value if low_open else low <= value) or not value <= high:  # also refuses nan
            bounds = f"more than {low:g}" if low_open else f"at least {low:g}"
            if high < math.inf:
                bounds += f" and at most {high:,}" if isinstance(high, int) else f" and at most {high:g}"
            raise argparse.ArgumentTypeError(f"must be {bounds}, not {text}")
        return value
    return parse


def class_list(text: str) -> list[str]:
    """An argparse type: class names, comma-separated, as the model or photo sets name them (`happiness`, `Anger`);
    the model checks them (`checked_classes`)."""
    return [name.strip() for name in text.split(",") if name.strip()]


def parse_args(argv):
    parser = Parser(prog="python -m realtime", description=__doc__.split(": ", 1)[1], epilog=EPILOG)
    parser.add_argument("--source", default=None, nargs="+", action="extend", metavar="SOURCE",
                        help="camera index, video file, image, several images (photos/*.jpg), folder of images, "
                             "rtsp:// or http(s):// stream, http(s):// image, or "
                             "demo[:N] for a generated clip with N faces (default: camera 0; with --benchmark, "
                             "demo:1 when no camera opens)")
    parser.add_argument("--list-cameras", action="store_true", help="list the cameras that open, with their sizes, and exit")
    parser.add_argument("--width", type=number(int, 16, 7680), help="ask the camera for frames this wide, 16-7680")
    parser.add_argument("--height", type=number(int, 16, 4320), help="ask the camera for frames this high, 16-4320")
    parser.add_argument("--fps", type=number(float, 1, 240), help="ask the camera for this frame rate, 1-240")
    parser.add_argument("--mirror", action=argparse.BooleanOptionalAction, default=True,
                        help="show a camera as a mirror shows you, flipped left to right (default; the recording and "
                             "results too); --no-mirror: as the camera sees. Files and streams are never flipped")
    parser.add_argument("--model", help="model file with its .json card beside it, or the name of a shipped one: "
                             "ferplus_ens (the default for images: three FER+ models averaged), ferplus_a (the default "
                             "for video and cameras), ferplus, ferplus_bal, fer2013")
    parser.add_argument("--classes", type=class_list, metavar="NAMES",
                        help="answer only these of the model's classes, comma-separated (for a photo set labelled with "
                             "FER2013's 7: angry,disgust,fear,happy,sad,surprise,neutral, no contempt); the others get "
                             "probability 0 (default: all the model's)")
    parser.add_argument("--backend", choices=BACKENDS, default="auto",
                        help="auto: Keras on a GPU, TFLite/XNNPACK on a CPU (default)")
    parser.add_argument("--output", help="write the annotated video here (.mp4, .m4v, .mov, .mkv, .avi), or the annotated "
                             "image (.jpg, .png, .bmp; the last frame of a video or folder), or, for photos, a "
                             "folder (an existing one, a name ending in /, or a new name without a suffix) to save "
                             "each annotated photo into")
    parser.add_argument("--json", metavar="FILE", help="write per-frame results as JSON lines here (- for standard output)")
    parser.add_argument("--csv", metavar="FILE",
                        help="write one CSV row per face per frame here (- for standard output)")
    parser.add_argument("--no-display", action="store_true", help="no window (headless machines, batch runs)")
    parser.add_argument("--benchmark", action="store_true", help="print per-stage timings and FPS at the end")
    parser.add_argument("--max-frames", type=number(int, 1), help="stop after this many frames (or photos), 1 or more")
    parser.add_argument("--detector", choices=("auto", *MODES), default="auto",
                        help="short: near faces, fastest; full: faces up to ~5 m; tiled: full + every ~320 px tile, "
                             "for small faces in photos; sweep: full + one tile per frame + a closer look around "
                             "known faces, for small faces in video; auto (default): tiled for images, sweep otherwise")
    parser.add_argument("--min-confidence", type=number(*SETTINGS["min_confidence"]), default=0.5,
                        help="least score of a face found, 0.5 to 1 (default 0.5; the full-range model's own least is 0.6)")
    parser.add_argument("--max-faces", type=number(*SETTINGS["max_faces"]),
                        help="most faces labelled per frame, 1 or more (default: 8 for cameras and live streams, no limit for video files and images)")
    parser.add_argument("--min-face", type=number(*SETTINGS["min_face"]), default=0, help="ignore faces narrower than this many pixels (default 0: none)")
    parser.add_argument("--margin", type=number(float, 0.5, 3, low_open=True),
                        help="face crop side relative to the detection box, more than 0.5 and at most 3 (default: "
                             "the model card's, which matches the framing of its training faces)")
    parser.add_argument("--views", choices=("auto", "1", "6"), default="auto",
                        help="views classified per face: 6 = the crop at 3 sizes, each also mirrored, averaged (more "
                             "accurate, 6x the classify cost); auto (default): 6 for images, 1 for video and cameras")
    parser.add_argument("--smoothing", type=number(*SETTINGS["smoothing"]), default=0.75,
                        help="weight of a face's history in its probabilities, 0-0.95 (default 0.75)")
    parser.add_argument("--no-smooth", action="store_true", help="no temporal smoothing (same as --smoothing 0)")
    parser.add_argument("--hold", type=number(*SETTINGS["hold"]), default=5,
                        help="frames a face stays on screen after the detector loses it, 0 or more (default 5)")
    parser.add_argument("--confirm", type=number(*SETTINGS["confirm"]), default=3,
                        help="frames in a row a new face must be found before it is shown, 1-30 (default 3)")
    parser.add_argument("--hysteresis", type=number(*SETTINGS["hysteresis"]), default=HYSTERESIS,
                        help="lead another class needs over the shown label to replace it, 0-0.9 "
                             f"(default {HYSTERESIS})")
    parser.add_argument("--bars", action="store_true", help="draw a bar chart of all class probabilities per face")
    parser.add_argument("--workers", type=number(int, 1, 64),
                        help="photos labelled side by side, 1-64, each worker with its own detector and model (for a folder "
                             f"or several images; default: the CPU cores, at most {AUTO_WORKERS})")
    args = parser.parse_args(argv)
    args.json, args.csv = ("-" if names_stdout(value) else value for value in (args.json, args.csv))
    if args.json == "-" and args.csv == "-":
        parser.error("--json and --csv cannot both write to standard output")
    if any(not item.strip() for item in args.source or []):  # "" would read the current folder as photos
        parser.error("--source: an empty name (an unset shell variable?)")
    for option in ("output", "json", "csv", "model"):  # "" was taken as not given: nothing written, exit 0
        if getattr(args, option) is not None and not getattr(args, option).strip():
            parser.error(f"--{option}: an empty name (an unset shell variable?)")
    check_name_lengths(parser, args)
    check_output_paths(parser, args)  # (first: a source overwritten is the worse mistake, and says more)
    check_output_kinds(parser, args)
    return args


def check_name_lengths(parser: Parser, args) -> None:
    """Refuse a path with a name longer than the system takes (255 bytes on most): every look at it raised OSError, and
    the run ended in a traceback."""
    try:
        longest = os.pathconf(".", "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # (not asked on this system)
        longest = 255
    given = [("--source", item) for item in args.source or []] + [
        (f"--{option}", getattr(args, option)) for option in ("output", "json", "csv", "model")]
    for option, value in given:
        if value and not value.lower().startswith(STREAM_SCHEMES):
            name = max(Path(value).parts or [""], key=lambda part: len(os.fsencode(part)))
            if len(os.fsencode(name)) > longest:
                parser.error(f"{option}: a name in the path is {len(os.fsencode(name))} bytes long, more than the "
                             f"{longest} this system takes ({name[:40]}...)")


def check_output_kinds(parser: Parser, args) -> None:
    """Refuse a results file named as a picture or a video (`--json out.mp4`: the two options mixed up, and an earlier
    recording overwritten with text), `--output -` (it made a folder named `-`; standard output takes the results) and
    an --output that is a suffix alone (`.jpg` made a hidden folder)."""
    from realtime.capture import IMAGE_SUFFIXES, VIDEO_SUFFIXES
    from realtime.output import H264, MJPEG
    from realtime.output import IMAGE_SUFFIXES as OUTPUT_SUFFIXES

    for option, value in (("--json", args.json), ("--csv", args.csv)):
        suffix = Path(value or "").suffix.lower()
        if suffix in IMAGE_SUFFIXES or suffix in VIDEO_SUFFIXES:
            kind = "a picture" if suffix in IMAGE_SUFFIXES else "a video"
            example = "results.jsonl" if option == "--json" else "results.csv"
            parser.error(f"{option} {value}: {kind}'s name; {option} writes text ({example}); the annotated picture "
                         "or video is --output's")
    if args.output == "-" or names_stdout(args.output):
        parser.error(f"--output {args.output}: standard output takes the results (--json - or --csv -); name a file "
                     "or a folder")
    if args.output and Path(args.output).name.lower() in {*H264, *MJPEG, *OUTPUT_SUFFIXES}:
        parser.error(f"--output {args.output}: name the file (labelled{Path(args.output).name}), or a folder ending in /")


def names_stdout(path: str | None) -> bool:
    """Whether `path` is "-" or another name for standard output (/dev/stdout, /dev/fd/1, the file it is sent to)."""
    if path == "-":
        return True
    try:
        return bool(path) and os.path.samestat(os.stat(path), os.fstat(sys.stdout.fileno()))
    except (OSError, ValueError):  # no such file yet, or no standard output
        return False


def names_folder(path: str, photos: bool = False) -> bool:
    """Whether --output names a folder: one that exists, or a name ending in a slash; for `photos`, also a new name with
    no suffix (`--output labelled`: before, refused for want of one)."""
    new_plain_name = not Path(path).suffix and not os.path.exists(path)
    return path.endswith(("/", os.sep)) or os.path.isdir(path) or photos and new_plain_name


def check_output_paths(parser: Parser, args) -> None:
    """Refuse an output file that is a source file (given, or a photo in a source folder) or another output: it would
    be overwritten. Devices (`/dev/null`) are no files to overwrite."""
    outputs = [(option, value) for option, value in (("--output", args.output), ("--json", args.json),
                                                     ("--csv", args.csv)) if value and value != "-"]
    outputs = [(option, value) for option, value in outputs if not os.path.exists(value) or os.path.isfile(value)]
    sources = [item for item in args.source or [] if os.path.isfile(item)]
    folders = [os.path.realpath(item) for item in args.source or [] if os.path.isdir(item)]
    for number, (option, value) in enumerate(outputs):
        for other, other_value in outputs[:number]:
            if same_file(value, other_value):
                parser.error(f"{other} and {option} name the same file")
        for source in sources:
            if same_file(value, source):
                parser.error(f"{option} names the source file {source}: it would be overwritten")
        real = os.path.realpath(value)
        if os.path.isfile(value) and is_image_file(Path(value)) and any(
                os.path.commonpath([real, folder]) == folder for folder in folders):
            parser.error(f"{option} names {value}, a photo in the source folder: it would be overwritten")


def same_file(a: str, b: str) -> bool:
    """Whether two paths name one file: by its identity where both exist (a hard link too), else by their real paths."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list_cameras:
        return list_cameras_command()
    # Ctrl-C and SIGTERM only ask the loop to stop between frames; a second one hurries it. (One while the modules
    # loaded, as `python -m realtime`, stands.)
    stop.install(keep=__name__ == "__main__")
    from realtime.detect import FaceDetector
    from realtime.draw import drawn_size
    from realtime.loop import camera_failed, close_all, run
    from realtime.output import VideoWriter
    from realtime.pipeline import Pipeline
    from realtime.track import ShotCuts, Tracker
    from realtime.window import Overlay, Window, display_problem

    # With results on standard output, everything else the program says goes to standard error.
    report = sys.stderr if "-" in (args.json, args.csv) else sys.stdout
    display = not args.no_display
    problem = display and display_problem()
    if problem:
        if not (args.output or args.json or args.csv or args.benchmark):
            print(f"error: no display ({problem}); use --no-display with --output, --json, --csv or --benchmark",
                  file=sys.stderr)
            return 2
        print(f"note: no display ({problem}), running headless", file=sys.stderr)
        display = False
    sinks = []
    try:
        # A model asked for is loaded first, so that its errors come first
        classifier = Classifier(args.model, backend=args.backend, classes=args.classes) if args.model else None
        if args.source is None and args.benchmark:
            try:
                source = open_source(0, args.width, args.height, args.fps, args.mirror)
            except SourceError:
                source = open_source("demo:1")
        else:
            source = open_source(args.source if args.source is not None else 0, args.width, args.height, args.fps,
                                 args.mirror)
        photos = isinstance(source, ImageSource)
        asked = [f"--{name}" for name in ("width", "height", "fps") if getattr(args, name)]
        if asked and getattr(source, "kind", None) != "camera":  # (they were ignored unsaid)
            print(f"note: {' '.join(asked)} ask{'s' * (len(asked) == 1)} a camera for a mode; {source.description} is "
                  "not a camera, so it is read as it is", file=sys.stderr)
        classifier = classifier or Classifier(DEFAULT_PHOTO_MODEL if photos else DEFAULT_MODEL, backend=args.backend,
                                              classes=args.classes)
        mode = args.detector if args.detector != "auto" else "tiled" if photos else "sweep"
        # A camera or live stream is labelled as it comes, and 8 faces a frame keep it real-time; a file is labelled
        # whole (a recorded video call of 12 people showed 8 of them).
        max_faces = args.max_faces or (8 if source.live else 10_000)
        detector_options = (mode, args.min_confidence, max_faces, args.min_face)
        detector = FaceDetector(*detector_options, upright=photos)
        crop = Crop(args.margin, classifier.crop.shift) if args.margin else None
        # A run shorter than --confirm frames (a 2-frame clip, --max-frames 1) still shows its faces.
        frames = min(getattr(source, "frame_count", None) or math.inf, args.max_frames or math.inf)
        tracker = (Tracker.for_photos() if photos else
                   Tracker(0.0 if args.no_smooth else args.smoothing, hold=args.hold,
                           confirm=args.confirm, hysteresis=args.hysteresis, frames=frames, max_faces=max_faces,
                           fps=None if source.live else source.fps))
        views = args.views == "6" or (args.views == "auto" and photos)
        # Video whose tracker averages over frames takes an ensemble's members (and the mirrored crop) by turns.
        pipeline = Pipeline(detector, classifier, crop, views, by_turns=tracker.smoothing > 0)
        helpers = [Pipeline(FaceDetector(*detector_options, upright=True),
                            Classifier(classifier.path, backend=classifier.backend, classes=args.classes), crop, views)
                   for _ in range(photo_workers(args.workers, source) - 1)]
        overlay = Overlay(bars=args.bars)
        sinks = open_sinks(args, source, classifier.labels)
        # A small video or camera picture is shown enlarged, as a small photo is, to read its captions; not when it is
        # recorded, as a recording keeps the source's size and the window shows what is recorded.
        enlarge_video = display and not photos and not any(isinstance(sink, VideoWriter) for sink in sinks)
        if display:  # only a run that just shows waits on each photo or on a video's time; a run writing files
            # (its window a preview of the job) and a benchmark go at full speed
            watched = not (args.benchmark or sinks)
            sinks.append(Window(drawn_size(source.size, enlarge_video), overlay,
                                photos=[name for _, name in source.files] if photos else (),
                                step=watched, pace=watched and not (source.live or photos)))
        elif not (sinks or args.benchmark):
            print("note: nothing will be shown or written: --no-display without --output, --json, --csv or "
                  "--benchmark", file=sys.stderr)
        tally = Tally(classifier.labels) if photos else None  # (one photo too: a run writing only --json said nothing)
        sinks += [tally] if tally else []
        on_screen = sys.stdout.isatty() and "-" in (args.json, args.csv)  # results shown where the bar would be
        bar = None if display or args.benchmark or on_screen else progress_bar(source, args.max_frames, sys.stderr)
        sinks += [bar] if bar else []
        stats, stopped = run(source, pipeline, tracker, sinks, overlay=overlay,
                             cuts=None if photos else ShotCuts(fps=None if source.live else source.fps),
                             max_frames=args.max_frames, helpers=helpers,
                             timed=args.benchmark, enlarge_video=enlarge_video)
    except (ModelError, SourceError, OutputError) as err:  # run() has closed the sinks, open_sinks() its own
        print(f"error: {'--classes: ' * isinstance(err, ClassesError)}{err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # a second Ctrl-C or SIGTERM before the loop started
        with contextlib.suppress(Exception):  # the interruption is what the user needs to hear about
            close_all(sinks)
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        stop.ignore()  # the loop is over and its files are closed: late signals must not kill the exit
    if args.benchmark:
        turns = ("" if not pipeline.by_turns else f", its {classifier.member_count} members in turn"
                 if classifier.member_count > 1 else ", each face mirrored every other frame")
        workers = f"; {len(helpers) + 1} photos at a time (stage times are each photo's own)" if helpers else ""
        print(f"source: {source.description}; detector: {mode}; model: {classifier.path.name} "
              f"({classifier.backend}{turns}){workers}", file=report)
        print(stats.summary(), file=report)
    if tally:
        print(tally.summary(), file=sys.stderr)
    crowded = sum(each.detector.crowded for each in [pipeline, *helpers])
    if crowded:  # (faces were left out without a word)
        kept = "the surest" if photos else "the faces followed already, then the surest,"
        print(f"note: {crowded} {'photo' if photos else 'frame'}{'s' * (crowded != 1)} held more than {max_faces} "
              f"face{'s' * (max_faces != 1)}: {kept} were labelled (--max-faces {max_faces}"
              f"{'' if args.max_faces else ' for a camera or live stream'})", file=sys.stderr)
    written = next((sink.photos for sink in sinks if isinstance(sink, PhotoFolderWriter)), None)
    files = [path for path in (args.output, args.json, args.csv) if path and path != "-"]
    until = "interrupted: all labelled until then" if stopped == "interrupted" else None  # (read as a whole run's)
    if photos and args.output:  # (the results' files: the closing line above counts the photos)
        said = "; ".join(filter(None, [None if written is None else f"{written} photo{'s' * (written != 1)}", until]))
        print(f"wrote {args.output}" + (f" ({said})" if said else ""), file=sys.stderr)
    elif files and not photos:  # (a video run that wrote only results ended without a word)
        said = "; ".join(filter(None, [f"{stats.frames} frame{'s' * (stats.frames != 1)}", until]))
        print(f"wrote {', '.join(files)} ({said})", file=sys.stderr)
    elif until:
        print(until.replace("all labelled", "the results of all labelled") + " were written" if files else
              "interrupted", file=sys.stderr)
    cut_short = getattr(source, "cut_short", None) if stopped == "end" else None
    if cut_short and source.path is None:  # a video over the network: its connection was lost
        print(f"error: the video {source.description} ended after {cut_short}: the connection was lost or the server "
              "stopped sending it; everything up to then was written", file=sys.stderr)
        return 1
    note = damage_note(source, ended=stopped == "end")
    if note:
        print(f"warning: {note}", file=sys.stderr)
    if getattr(source, "skipped", None):
        names = ", ".join(name for name, _ in source.skipped[:3]) + (", …" if len(source.skipped) > 3 else "")
        print(f"error: {len(source.skipped)} of {len(source.files)} images could not be read and were skipped "
              f"({names}); the others were labelled", file=sys.stderr)
        return 130 if stopped == "interrupted" else 1
    if camera_failed(source):
        kept = "; everything up to then was written" if args.output or args.json or args.csv else ""
        print(f"error: the {source.kind} stopped delivering frames{kept}", file=sys.stderr)
        return 1
    return 130 if stopped == "interrupted" else 0


def photo_workers(asked: int | None, source) -> int:
    """How many photos to label side by side: what --workers asks, else the CPU cores this process may use (at
    most AUTO_WORKERS); never more than there are photos. Video and cameras: one (each frame follows the last)."""
    if not isinstance(source, ImageSource):
        if asked and asked > 1:
            raise SourceError(f"--workers {asked}: only photos (a folder or several images) are labelled side by "
                              "side; a video's frames are labelled in order")
        return 1
    return max(1, min(asked or min(usable_cores(), AUTO_WORKERS), len(source.files)))


def progress_bar(source, max_frames: int | None, terminal):
    """A Progress sink for a run of more than one photo or frame whose length is known (photos, a video file), where
    `terminal` (standard error) is one; else None."""
    from realtime.output import Progress

    photos = isinstance(source, ImageSource)
    total = min(len(source.files) if photos else getattr(source, "frame_count", None) or math.inf,
                max_frames or math.inf)
    if source.live or not 1 < total < math.inf or not terminal.isatty():
        return None
    return Progress(int(total), "photos" if photos else "frames")


def open_sinks(args, source, labels: list[str]) -> list:
    """The file and standard-output sinks the options ask for (the window is added by the caller)."""
    from realtime.capture import colour_profile
    from realtime.draw import drawn_size
    from realtime.loop import close_all
    from realtime.output import CsvWriter, JsonLinesWriter, VideoWriter

    sinks, folder = [], bool(args.output) and names_folder(args.output, isinstance(source, ImageSource))
    try:
        if folder:  # (made first, as the results may go into it)
            if not isinstance(source, ImageSource):
                raise OutputError(f"--output {args.output}: a folder takes the annotated photos of photos; for "
                                  "video or a camera name a file (.mp4, .mkv, .avi, ...)")
            source.leave_out(Path(args.output))
            sinks.append(PhotoFolderWriter(args.output, source.files))
        for path in (args.json, args.csv):  # before a file is opened (emptied): a results file that cannot be written
            if path and path != "-":  # stops the run with the others as they were (a recording was left empty)
                check_writable(Path(path))
        if args.output and not folder:  # (photos into a video: at the first one's size as drawn, a small one enlarged)
            one_photo = isinstance(source, ImageSource) and len(source.files) == 1
            sinks.append(VideoWriter(args.output, source.fps, drawn_size(source.size, isinstance(source, ImageSource)),
                                     audio=getattr(source, "sound_source", None), sound_from=getattr(source, "start", None),
                                     profile=colour_profile(source.files[0][0]) if one_photo else None,
                                     photos=isinstance(source, ImageSource)))
        if args.json:
            sinks.append(JsonLinesWriter(args.json, labels, sinks[0].targets if folder else None))
        if args.csv:
            sinks.append(CsvWriter(args.csv, labels))
    except OutputError:
        with contextlib.suppress(Exception):  # the error itself is what the user needs to see
            close_all(sinks)
        raise
    return sinks


def list_cameras_command() -> int:
    from realtime.capture import list_cameras

    try:
        cameras = list_cameras()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    for index, width, height, fps in cameras:
        print(f"camera {index}: {width}x{height}" + (f" at {fps:g} FPS" if fps > 0 else ""))
    if not cameras:  # exit 1, so that a script can ask `if python -m realtime --list-cameras` (it was 0)
        print("no camera found (tried indices 0-9; is one connected, and may this user use it?)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
