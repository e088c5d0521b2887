"""python -m realtime: label the facial expressions of every face in a camera, video or image."""

from __future__ import annotations

import argparse
import math
import sys

from realtime import stop
from realtime.align import Crop
from realtime.capture import ImageSource, SourceError, open_source
from realtime.classify import BACKENDS, DEFAULT_MODEL, Classifier, ModelError
from realtime.detect import MODES
from realtime.output import OutputError


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
            bounds += f" and at most {high:g}" if high < math.inf else ""
            raise argparse.ArgumentTypeError(f"must be {bounds}, not {text}")
        return value
    return parse


def parse_args(argv):
    parser = Parser(prog="python -m realtime", description=__doc__.split(": ", 1)[1])
    parser.add_argument("--source", default=None,
                        help="camera index, video file, image, folder of images, rtsp:// or http(s):// stream, or "
                             "demo[:N] for a generated clip with N faces (default: camera 0; with --benchmark, "
                             "demo:1 when no camera opens)")
    parser.add_argument("--model", default=str(DEFAULT_MODEL), help="model file with its .json card beside it")
    parser.add_argument("--backend", choices=BACKENDS, default="auto",
                        help="auto: Keras on a GPU, TFLite/XNNPACK on a CPU (default)")
    parser.add_argument("--output", help="write the annotated video here (.mp4, .avi, .mkv, .mov)")
    parser.add_argument("--json", help="write per-frame results as JSON lines here")
    parser.add_argument("--no-display", action="store_true", help="no window (headless machines, batch runs)")
    parser.add_argument("--benchmark", action="store_true", help="print per-stage timings and FPS at the end")
    parser.add_argument("--max-frames", type=number(int, 1), help="stop after this many frames")
    parser.add_argument("--detector", choices=("auto", *MODES), default="auto",
                        help="short: near faces, fastest; full: faces up to ~5 m; tiled: full + every ~320 px tile, "
                             "for small faces in photos; sweep: full + one tile per frame + a closer look around "
                             "known faces, for small faces in video; auto (default): tiled for images, sweep otherwise")
    parser.add_argument("--min-confidence", type=number(float, 0, 1, low_open=True), default=0.5,
                        help="face detection threshold, more than 0 and at most 1 (default 0.5)")
    parser.add_argument("--max-faces", type=number(int, 1),
                        help="most faces labelled per frame (default: 8 for video and cameras, no limit for images)")
    parser.add_argument("--min-face", type=number(int, 0), default=0, help="ignore faces narrower than this many pixels")
    parser.add_argument("--margin", type=number(float, 0.5, 3, low_open=True),
                        help="face crop side relative to the detection box, more than 0.5 and at most 3 (default: "
                             "the model card's, which matches the framing of its training faces)")
    parser.add_argument("--views", choices=("auto", "1", "6"), default="auto",
                        help="views classified per face: 6 = the crop at 3 sizes, each also mirrored, averaged (more "
                             "accurate, 6x the classify cost); auto (default): 6 for images, 1 for video and cameras")
    parser.add_argument("--smoothing", type=number(float, 0, 0.95), default=0.75,
                        help="weight of a face's history in its probabilities, 0-0.95 (default 0.75)")
    parser.add_argument("--no-smooth", action="store_true", help="no temporal smoothing (same as --smoothing 0)")
    parser.add_argument("--hold", type=number(int, 0), default=5,
                        help="frames a face stays on screen after the detector loses it")
    parser.add_argument("--bars", action="store_true", help="draw a bar chart of all class probabilities per face")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stop.install()  # Ctrl-C and SIGTERM only ask the loop to stop between frames; a second one hurries it
    from realtime.detect import FaceDetector
    from realtime.loop import camera_failed, display_available, run
    from realtime.pipeline import Pipeline
    from realtime.track import Tracker

    display = not args.no_display
    if display and not display_available():
        if not (args.output or args.json or args.benchmark):
            print("error: no display found; use --no-display with --output, --json or --benchmark", file=sys.stderr)
            return 2
        print("note: no display found, running headless", file=sys.stderr)
        display = False
    try:
        classifier = Classifier(args.model, backend=args.backend)
        if args.source is None and args.benchmark:
            try:
                source = open_source(0)
            except SourceError:
                source = open_source("demo:1")
        else:
            source = open_source(args.source if args.source is not None else 0)
        photos = isinstance(source, ImageSource)
        mode = args.detector if args.detector != "auto" else "tiled" if photos else "sweep"
        max_faces = args.max_faces or (10_000 if photos else 8)
        detector = FaceDetector(mode, args.min_confidence, max_faces, args.min_face)
        crop = Crop(args.margin, classifier.crop.shift) if args.margin else None
        # Photos are independent of each other: nothing is smoothed or held from one to the next.
        tracker = Tracker(0.0, hold=0) if photos else Tracker(0.0 if args.no_smooth else args.smoothing, hold=args.hold)
        views = args.views == "6" or (args.views == "auto" and photos)
        stats, stopped = run(source, Pipeline(detector, classifier, crop, views), tracker, output=args.output,
                             json_path=args.json, display=display, bars=args.bars, max_frames=args.max_frames)
    except (ModelError, SourceError, OutputError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # a second Ctrl-C or SIGTERM before the loop started
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        stop.ignore()  # the loop is over and its files are closed: late signals must not kill the exit
    if args.benchmark:
        print(f"source: {source.description}; detector: {mode}; model: {classifier.path.name} "
              f"({classifier.backend})")
        print(stats.summary())
    if args.output:
        print(f"wrote {args.output}", file=sys.stderr)
    if camera_failed(source):
        print(f"error: the {source.kind} stopped delivering frames; everything up to then was written", file=sys.stderr)
        return 1
    return 130 if stopped == "interrupted" else 0


if __name__ == "__main__":
    sys.exit(main())
