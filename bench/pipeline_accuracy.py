"""Labels on real faces: the WHOLE program path (detect, align, classify) scored on labelled photos.

    python bench/pipeline_accuracy.py                        # wild-faces + PublicTest faces in a frame, ours vs fer
    python bench/pipeline_accuracy.py --model models/fer2013.keras models/ferplus.keras --crop 1.25,0 1.0,0.05
    python bench/pipeline_accuracy.py --split test           # PrivateTest: for the final report only
    python bench/pipeline_accuracy.py --ferplus ../shared/data/fer2013new.csv   # faces in a frame by FER+'s majority votes
    python bench/pipeline_accuracy.py --fer2013 '' --conditions as-is grey small-in-frame 64px jpeg-q15 tilt-20 dark side-lit
    python bench/pipeline_accuracy.py --model ferplus_a --views 1 --ferplus ../shared/data/fer2013new.csv --temperature 1 0.7 0.6 0.5
    python bench/pipeline_accuracy.py --fer2013 '' --conditions as-is 32px 24px 16px   # small faces (docs/accuracy.md: How confident)
    python bench/pipeline_accuracy.py --wild '' --ferplus ../shared/data/fer2013new.csv --face-px 16   # the same in a frame
    python bench/pipeline_accuracy.py --fer2013 '' --conditions as-is turned-90 turned-180 --limit 500 [--no-upright]
    python bench/pipeline_accuracy.py --fer2013 '' --conditions as-is sunglasses mask --limit 500 [--no-cascade]

Each photo goes through the code `python -m realtime --source photo.jpg` runs (the detector it
picks for images, the model card's crop, one batched model call); its label is that of the
largest face found. A photo with no face found counts as wrong. Scored over the 7 FER2013 classes
(photos labelled contempt are left out; a model's 'contempt' answer counts as wrong).

Sets:
- wild-faces: real photos with one label each (../shared/data/wild-faces; development only, never trained on).
- FER2013 faces in a frame: each 48x48 face upscaled 4x and centred in a plain frame twice its size, so
  the detector has to find it and the crop has to reproduce its framing; printed beside the model's
  accuracy on the plain 48x48 crops. The difference is what detection and framing cost. With
  `--ferplus VOTES` the faces are scored by FER+'s majority vote instead of FER2013's label (faces
  FER+ drops, and those whose majority is contempt or a tie, are left out): the fair measure for a
  model trained on FER+ votes, which never saw FER2013's labels.

Each accuracy comes with its 95% interval (a bootstrap over the photos); models after the first are
compared with the first photo by photo, and faces in a frame with the plain crops face by face (paired
bootstraps of the difference, in points). `calib.` is the calibration error of the confidence the
program shows (the card's temperature applied): 0 when answers shown at X% are right X% of the time;
`--temperature T ...` prints what other temperatures would give, to choose the card's.

With the `fer` package installed (pip install --no-deps fer==25.10.3) it is scored side by side,
through its own detector (OpenCV cascade) and crop.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from functools import lru_cache, partial
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from realtime.__main__ import number  # noqa: E402
from realtime.align import Crop  # noqa: E402
from realtime.card import ModelError  # noqa: E402
from realtime.classify import DEFAULT_PHOTO_MODEL, Classifier, sharpen  # noqa: E402
from realtime.detect import TURNS, FaceDetector  # noqa: E402
from realtime.pipeline import Pipeline  # noqa: E402
from train.data import FER2013_LABELS, DatasetError, load_fer2013, load_ferplus  # noqa: E402
from train.framing import UPSCALE, in_frame  # noqa: E402
from train.report import bootstrap_intervals, calibration_error, classification_metrics, paired_difference  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MISSED = len(FER2013_LABELS)  # the 'no face found, or a class outside the 7' column


def wild_faces(folder: Path, limit: int | None):
    """(name, BGR photo, label index) for every photo of the 7 classes, the photos read lazily; DatasetError at once
    when the set is not there."""
    return ((path, cv2.imread(str(folder / path)), FER2013_LABELS.index(label))
            for path, label in spread(wild_labels(folder), limit))


def wild_labels(folder: Path) -> list[tuple[str, str]]:
    """(path, label) of every wild-faces photo of the 7 classes, from the set's labels.csv."""
    try:
        with open(folder / "labels.csv", newline="") as handle:
            return [(row["path"], row["label"]) for row in csv.DictReader(handle) if row["label"] in FER2013_LABELS]
    except OSError as err:
        raise DatasetError(f"wild-faces labels not found: {folder / 'labels.csv'} ({err.strerror})") from None


def in_big_frame(photo: np.ndarray, width: int = 1280, height: int = 960, share: float = 0.22,
                 anywhere: bool = False) -> np.ndarray:
    """The photo resized (cv2.INTER_AREA) to `share` of the width of a plain frame, as a face in a wide shot;
    centred a third of the way down, or with `anywhere` at a place drawn from its pixels (the same every run)."""
    scale = share * width / photo.shape[1]
    small = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    frame = np.full((height, width, 3), 200, np.uint8)
    y, x = (height - small.shape[0]) // 3, (width - small.shape[1]) // 2
    if anywhere:
        place = np.random.default_rng(int(photo[::17, ::13].sum()))
        y, x = place.integers(0, height - small.shape[0] + 1), place.integers(0, width - small.shape[1] + 1)
    frame[y:y + small.shape[0], x:x + small.shape[1]] = small
    return frame


def narrowed(photo: np.ndarray, width: int) -> np.ndarray:
    """The photo shrunk to `width` pixels wide (a wild-faces face fills about 90% of it)."""
    return cv2.resize(photo, (width, max(1, width * photo.shape[0] // photo.shape[1])), interpolation=cv2.INTER_AREA)


def tilted(photo: np.ndarray, degrees: float = 20) -> np.ndarray:
    height, width = photo.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1)
    return cv2.warpAffine(photo, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)


def side_lit(photo: np.ndarray) -> np.ndarray:
    """Lit from one side, as in a studio with one lamp: brightness falls from the right edge to 0.2x at the left."""
    gain = np.linspace(0.2, 1.0, photo.shape[1], dtype=np.float32)[None, :, None]
    return (photo * gain).astype(np.uint8)


def photo_detector(mode: str = "tiled", upright: bool = True, cascade: bool = True) -> FaceDetector:
    """The program's detector for photos (`tiled`, no limit on faces, faces lying turned found upright, the Haar
    cascade the last resort where no face is found), or `mode` instead of `tiled`; `upright` False leaves out only the
    turning and `cascade` False only the cascade. (FaceDetector keeps a photo's cascade only with `upright`: made
    without it, it would have lost its cascade too.)"""
    detector = FaceDetector(mode, max_faces=10_000, upright=upright or mode != "sweep")
    if not upright and detector.upright:
        detector._upright = lambda rgb, faces, least: faces  # the faces as found; none found: the cascade's
    if not cascade and detector.cascade:
        detector.cascade.find = lambda *args: []  # (video's `sweep` calls it with a window side and a box)
    return detector


@lru_cache(maxsize=1)
def eye_finder() -> FaceDetector:
    return FaceDetector("tiled", max_faces=10_000, upright=True)


def covered(photo: np.ndarray, what: str) -> np.ndarray:
    """The photo's largest face behind opaque round sunglasses (`sunglasses`: discs 0.72 eye distances wide over
    the eyes, and a bridge) or a face mask (`mask`: nose to chin), placed by the eyes the program finds in the
    photo as it is; a photo where it finds none is left as it is."""
    faces = eye_finder().detect(photo)
    if not faces or faces[0].eyes is None:
        return photo
    eyes = faces[0].eyes
    (lx, ly), (rx, ry) = eyes
    gap, (cx, cy) = float(np.hypot(rx - lx, ry - ly)), eyes.mean(0)
    out = photo.copy()
    if what == "sunglasses":
        for x, y in eyes.astype(int):
            cv2.circle(out, (int(x), int(y)), int(0.36 * gap), (20, 20, 20), -1)
        cv2.line(out, tuple(eyes[0].astype(int)), tuple(eyes[1].astype(int)), (20, 20, 20), max(1, int(0.06 * gap)))
    else:
        corners = [(-1.15, 0.6), (1.15, 0.6), (1.0, 1.6), (0.0, 2.1), (-1.0, 1.6)]  # in eye distances from between the eyes
        cv2.fillPoly(out, [np.array([[cx + a * gap, cy + b * gap] for a, b in corners], np.int32)], (230, 200, 160))
    return out


# Photo conditions other photo sets have (`--conditions`), applied to each wild-faces photo.
CONDITIONS = {
    "as-is": lambda photo: photo,
    "grey": lambda photo: cv2.cvtColor(cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR),
    "small-in-frame": in_big_frame,
    "tiny-in-frame": lambda photo: in_big_frame(photo, 1920, 1080, 0.06),
    "in-12mp": lambda photo: in_big_frame(photo, 4000, 3000, 0.14, anywhere=True),  # a face box about 500 px wide
    **{f"{width}px": partial(narrowed, width=width) for width in (64, 32, 24, 16)},
    "jpeg-q15": lambda photo: cv2.imdecode(cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, 15])[1], cv2.IMREAD_COLOR),
    "tilt-20": tilted,
    # A photo turned without its EXIF orientation (or a scan lying on its side): docs/face-detection.md.
    **{f"turned-{turn}": partial(cv2.rotate, rotateCode=TURNS[turn]) for turn in (90, 180)},
    "dark": lambda photo: (photo * 0.35).astype(np.uint8),
    "side-lit": side_lit,
    "sunglasses": partial(covered, what="sunglasses"),
    "mask": partial(covered, what="mask"),
}


def spread(items, limit: int | None):
    """At most `limit` items, evenly spread over the whole list (the sets are sorted by class)."""
    return items if not limit or limit >= len(items) else [items[i] for i in np.linspace(0, len(items) - 1, limit).astype(int)]


def fer2013_in_frame(faces: np.ndarray, targets: np.ndarray, face_px: int | None = None):
    """Each face in a plain frame twice its size: upscaled 4x, or to `face_px` pixels wide."""
    upscale = face_px / faces.shape[1] if face_px else UPSCALE
    for i in range(len(faces)):
        yield f"#{i}", in_frame(faces[i], upscale), int(targets[i].argmax())


def ferplus_majority(targets: np.ndarray, labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Which faces have one FER+ majority class among the 7, and those classes one-hot over FER2013_LABELS."""
    top = targets.max(1, keepdims=True)
    single = (targets == top).sum(1) == 1
    majority = np.array(labels)[targets.argmax(1)]
    keep = single & np.isin(majority, FER2013_LABELS)
    one_hot = np.eye(len(FER2013_LABELS), dtype=np.float32)[[FER2013_LABELS.index(m) for m in majority[keep]]]
    return keep, one_hot


def largest(faces) -> int:
    return int(np.argmax([(f.box[2] - f.box[0]) * (f.box[3] - f.box[1]) for f in faces]))


class Scorer:
    """Predicted class index (or MISSED) per photo for one model + crop, with the answer's probabilities
    as shown (none where no face was found), and the metrics at the end."""

    def __init__(self, name: str, labels: list[str], temperature: float | None = None):
        """`temperature`: the one the answers were shown at (the model card's); None for a peer's answers."""
        self.name, self.labels, self.temperature = name, labels, temperature
        self.truth, self.predicted, self.answers = [], [], []

    def add(self, truth: int, answer: np.ndarray | None) -> None:
        """`answer`: the probabilities of the photo's largest face, in the order of `labels`."""
        label = None if answer is None else self.labels[int(np.argmax(answer))]
        self.truth.append(truth)
        self.predicted.append(FER2013_LABELS.index(label) if label in FER2013_LABELS else MISSED)
        self.answers.append(answer)

    def calibration_error(self, temperature: float | None = None) -> float:
        """How far the shown confidences are from how often they are right, over the photos with a face;
        `temperature`: what another temperature would have shown (the answers re-sharpened, not re-run)."""
        sharpening = 1.0 if temperature is None else self.temperature / temperature
        shown = [i for i, answer in enumerate(self.answers) if answer is not None]
        answers = sharpen(np.array([self.answers[i] for i in shown]), sharpening) if shown else np.empty((0, 1))
        return calibration_error(answers.max(1), self.right()[shown])

    def metrics(self) -> dict:
        return classification_metrics(np.array(self.truth), np.array(self.predicted), FER2013_LABELS + ["(none)"])

    def right(self) -> np.ndarray:
        return np.array(self.truth) == np.array(self.predicted)


def score(photos, pipelines: dict[str, Pipeline], detector: FaceDetector, fer) -> tuple[dict[str, Scorer], dict]:
    scorers = {name: Scorer(name, p.classifier.labels, p.classifier.temperature) for name, p in pipelines.items()}
    if fer is not None:
        scorers["fer"] = Scorer("fer", FER2013_LABELS)
    found = {"ours": 0, "fer": 0, "photos": 0}
    for _, photo, truth in photos:
        found["photos"] += 1
        if photo is None:
            for scorer in scorers.values():
                scorer.add(truth, None)
            continue
        faces = detector.detect(photo)
        found["ours"] += bool(faces)
        for name, pipeline in pipelines.items():
            scorers[name].add(truth, pipeline.label(photo, faces).probabilities[largest(faces)] if faces else None)
        if fer is not None:
            theirs = fer.detect_emotions(photo.copy())
            found["fer"] += bool(theirs)
            best = max(theirs, key=lambda f: f["box"][2] * f["box"][3]) if theirs else None
            scorers["fer"].add(truth, np.array([best["emotions"][n] for n in FER2013_LABELS]) if best else None)
    return scorers, found


def plain_crop_right(classifier: Classifier, faces: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per face, whether the model alone labels its plain 48x48 crop right."""
    predicted = np.array(classifier.labels)[classifier.predict_many(faces).argmax(1)]
    return predicted == np.array(FER2013_LABELS)[targets.argmax(1)]


def points(difference: tuple[float, float, float]) -> str:
    """A paired difference in accuracy and its 95% interval, in percentage points."""
    mean, low, high = (100 * v for v in difference)
    return f"{mean:+.1f} ({low:+.1f} to {high:+.1f})"


def report(title: str, scorers: dict[str, Scorer], found: dict, extra: dict[str, str] | None = None,
           temperatures: tuple[float, ...] = ()) -> None:
    """`temperatures`: also print the calibration error each of our models would give at these."""
    photos = found["photos"]
    print(f"\n== {title}: {photos} photos")
    header = (f"{'':>32} {'accuracy':>8} {'95% int.':>11} {'macro-F1':>8} {'calib.':>6} {'no face':>8}  "
              + " ".join(f"{n[:7]:>7}" for n in FER2013_LABELS))
    print(header + ("  plain 48x48 crops; in a frame minus plain, points (95% int.)" if extra else ""))
    for name, scorer in scorers.items():
        m = scorer.metrics()
        missing = photos - found["fer" if name == "fer" else "ours"]
        recalls = " ".join(f"{m['per_class'][n]['recall']:7.2f}" for n in FER2013_LABELS)
        f1 = np.mean([m["per_class"][n]["f1"] for n in FER2013_LABELS if m["per_class"][n]["support"]])
        low, high = bootstrap_intervals(m["confusion"])["accuracy"]
        tail = f"  {extra[name]}" if extra and name in extra else ""
        print(f"{name:>32} {m['accuracy']:8.1%} {100 * low:5.1f}-{100 * high:4.1f}% {f1:8.3f} "
              f"{scorer.calibration_error():6.3f} {missing:8d}  {recalls}{tail}")
    print(f"{'':>32} (recall per class; 95% intervals: bootstrap over the photos; calib.: calibration error, how far\n"
          f"{'':>32}  the shown confidence is from how often such answers are right, 0 = as often as it says)")
    for name, scorer in scorers.items():
        if temperatures and scorer.temperature is not None:
            errors = "  ".join(f"{t:g}: {scorer.calibration_error(t):.3f}" for t in temperatures)
            print(f"{name:>32} calibration error at temperature {errors}")
    first, *others = scorers
    for name in others:  # each against the first, on the same photos: a paired interval, far narrower
        print(f"{name:>32} minus {first}: {points(paired_difference(scorers[first].right(), scorers[name].right()))} points")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", nargs="+", default=[str(DEFAULT_PHOTO_MODEL)], help="models to score side by side (default: the program's for photos)")
    parser.add_argument("--crop", nargs="+", metavar="SCALE,SHIFT",
                        help="crops to score side by side (default: each model card's)")
    parser.add_argument("--wild", default=str(DATA / "wild-faces"), help="wild-faces folder ('' to skip)")
    parser.add_argument("--fer2013", default=str(DATA / "fer2013.csv.gz"), help="FER2013 CSV ('' to skip)")
    parser.add_argument("--ferplus", metavar="VOTES", help="score the faces in a frame by these FER+ votes' majority (fer2013new.csv)")
    parser.add_argument("--split", choices=("val", "test"), default="val",
                        help="FER2013 split put into frames: val = PublicTest (default), test = PrivateTest (final report only)")
    parser.add_argument("--detector", default="tiled", help="detector mode (default: tiled, what the program uses for images)")
    parser.add_argument("--views", nargs="+", choices=("1", "6"), default=["6"],
                        help="views per face to score side by side (default 6, what the program uses for images)")
    parser.add_argument("--prior-alpha", nargs="+", type=number(float, 0, 1), metavar="ALPHA",
                        help="corrections for the training class shares to score side by side (default: each card's)")
    parser.add_argument("--temperature", nargs="+", type=number(float, 0.05, 20), metavar="T",
                        help="also print each model's calibration error at these temperatures (its card's "
                             "`temperature` is what the program uses; this finds the one to write there)")
    parser.add_argument("--conditions", nargs="+", choices=CONDITIONS, default=["as-is"],
                        help="wild-faces photos also under these conditions, each scored on its own (default: as-is)")
    parser.add_argument("--face-px", type=number(int, 8, 1000), metavar="PX",
                        help="FER2013 faces placed in their frame this many pixels wide (default: 4x, 192)")
    parser.add_argument("--limit", type=number(int, 1), help="at most this many photos per set")
    parser.add_argument("--no-fer", action="store_true", help="do not score the fer package")
    parser.add_argument("--no-upright", action="store_true",
                        help="leave out the detector's turning of sideways and upside-down faces (as before it; "
                             "the cascade stays, --no-cascade leaves it out)")
    parser.add_argument("--no-cascade", action="store_true",
                        help="leave out the photo detector's last resort, the Haar cascade (as before it)")
    args = parser.parse_args()
    if args.ferplus and not args.fer2013:
        parser.error("--ferplus scores the FER2013 faces in a frame: give --fer2013 too")

    fer = None
    if not args.no_fer:
        try:
            from realtime import quiet_stderr

            with quiet_stderr():
                from fer.fer import FER

                fer = FER(mtcnn=False)
        except ImportError:
            print("note: fer is not installed (pip install --no-deps fer==25.10.3); scoring ours only", file=sys.stderr)
    detector = photo_detector(args.detector, upright=not args.no_upright, cascade=not args.no_cascade)
    pipelines = {}
    for model in args.model:
        for alpha in args.prior_alpha or [None]:
            classifier = Classifier(model, prior_alpha=alpha)
            crops = [Crop(*map(float, c.split(","))) for c in args.crop] if args.crop else [classifier.crop]
            for crop in crops:
                for views in args.views:
                    stems = [Path(m).stem for m in args.model]
                    shown = Path(model).stem if stems.count(Path(model).stem) == 1 else str(Path(model).parent)
                    name = f"{shown} {crop.scale:g}/{crop.shift:+g} x{views}"
                    name += f" a{alpha:g}" if alpha is not None else ""
                    pipelines[name] = Pipeline(detector, classifier, crop, views == "6")
    started = time.perf_counter()
    for condition in args.conditions if args.wild else []:
        change = CONDITIONS[condition]
        photos = ((name, None if photo is None else change(photo), truth)
                  for name, photo, truth in wild_faces(Path(args.wild), args.limit))
        scorers, found = score(photos, pipelines, detector, fer)
        report(f"wild-faces ({args.wild})" + (f", {condition}" if condition != "as-is" else ""), scorers, found,
               temperatures=args.temperature or ())
    if args.fer2013:
        split_name = {"val": "PublicTest", "test": "PrivateTest"}[args.split]
        if args.ferplus:
            data = load_ferplus(args.fer2013, args.ferplus)
            faces, targets = data.split(args.split)
            voted, targets = ferplus_majority(targets, data.labels)
            faces = faces[voted]
        else:
            faces, targets = load_fer2013(args.fer2013).split(args.split)
        keep = spread(np.arange(len(faces)), args.limit)
        faces, targets = faces[keep], targets[keep]
        scorers, found = score(fer2013_in_frame(faces, targets, args.face_px), pipelines, detector, fer)
        plain = {name: plain_crop_right(p.classifier, faces, targets) for name, p in pipelines.items()}
        gaps = {name: f"{right.mean():.1%}; {points(paired_difference(right, scorers[name].right()))}"
                for name, right in plain.items()}
        labels = "FER+ majority votes" if args.ferplus else "FER2013 labels"
        size = f", {args.face_px} px wide" if args.face_px else ""
        report(f"FER2013 {split_name} faces in a frame{size}, {labels}", scorers, found, gaps,
               temperatures=args.temperature or ())
    print(f"\n{time.perf_counter() - started:.0f} s; crop = side/box side, centre shift below the box centre / box side")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (DatasetError, ModelError) as err:
        sys.exit(f"error: {err}")
