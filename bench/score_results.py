"""Score the program's own output on a labelled photo set laid out in class folders.

    python -m realtime --source photos/ --no-display --json results.jsonl   # photos/happy/*.jpg, photos/sad/*.jpg, ...
    python bench/score_results.py results.jsonl

    python bench/score_results.py results.jsonl --labels labels.csv         # or labels in a CSV: path,label
    python bench/score_results.py new.jsonl --against old.jsonl             # two runs on the same photos, compared
    python bench/score_results.py results.jsonl --numbers affectnet          # classes given by number (0/, 1/, ...)

This is the path users (and anyone judging the labels) take: the command line as it is, then the
results file. A photo's true class is its top folder inside the source folder (`happy/001.jpg`,
also `happiness/`, `Sad/`, ...), or the first folder below it that names a class (`test/happy/001.jpg`),
or, in no such folder, the class its file name gives as KDEF's and JAFFE's do (`AF01/AF01AFS.JPG`, `KA.AN1.39.tiff`),
or with `--labels` its row in a CSV file of `path,label` rows (a
header row allowed; paths as the results name the photos, that is relative to the source folder, or
relative to a folder above or below it: `images/x.jpg` in the file matches `x.jpg` in the results, when only one does);
its answer is the label of its first face, which is its largest. `--labels` may also name CK+'s Emotion/ folder, or
a file that labels each face of a photo with its box, as ExpW's `label.lst` does: each labelled face is scored by the
face the program found there (their boxes overlapping most, at least 0.3 of their union; none: no face found).
The labels file may also be separated by semicolons, tabs or spaces (RAF-DB's `test_0001.jpg 5`;
RAF-DB's aligned `test_0001_aligned.jpg` matches its `test_0001.jpg`). Classes given by number (AffectNet's
folders `0/` to `7/`, RAF-DB's 1-7, CK+'s emotion numbers) are scored with `--numbers`, which says whose
numbering they follow (`NUMBERINGS`) or names the classes in number order from 0.
A photo where no face was found counts as wrong. Scored over the 7 FER2013 classes: photos in a
`contempt/` folder are left out, and a `contempt` answer counts as wrong (`--with-contempt` scores
8 classes). Images the program could not read (their records say why, in `error`) are left out, with a note.

The confidence shown with each answer is checked too: how often answers shown at 30-40%, 40-50%, ... are
right, and the calibration error (0 = as often as it says). Accuracy, macro-F1 and mean recall come with 95%
intervals (a bootstrap over the photos; with `--people`, over the people, where a set holds several photos of each);
`--against` compares two results files photo by photo, on the photos both scored (a paired bootstrap of the difference).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from realtime.faces import overlap  # noqa: E402
from realtime.labels import (CKPLUS_LABELS, NUMBERINGS, LabelsError, class_folder, class_number,  # noqa: E402
                             matched_labels, numbering, photo_class, read_labels)
from realtime.report import complete_lines, plural  # noqa: E402
from train.data import FER2013_LABELS  # noqa: E402
from train.report import (bootstrap_intervals, calibration_error, classification_metrics, format_report,  # noqa: E402
                          paired_difference, reliability_bins)

PEOPLE_FEW = 10  # fewer people than this (--people): their interval is rough, and said to be
FACE_MATCH = 0.3  # the least overlap (intersection over union) of a labelled face's box with the program's face box
NAMED_UNSCORED = 8  # the most names the note of what was not scored gives
OTHER = "other"  # the answer column for no face found, or an answer outside the scored classes


class Answer(NamedTuple):
    image: str  # the photo, as the results name it
    label: str | None  # the label of its first (largest) face; None: no face found
    probability: float | None  # the confidence shown with that label
    faces: tuple = ()  # every face of the photo: (box x0, y0, x1, y1; label; probability), for labels given by face
    barred: frozenset = frozenset()  # classes its first face's probabilities give as 0 (to the 4 places written;
    # a run with --classes gives them to the classes it left out)


class LabelledFace(NamedTuple):
    number: str  # the face's number in its photo, as the labels file gives it
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in the photo's pixels
    label: str


ScoreError = LabelsError  # input that cannot be scored; the message is meant for the user


def read_answers(path: Path) -> list[Answer]:
    """The answer for every record of a --json results file."""
    answers, unread = [], []
    try:
        lines = complete_lines(path, path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ScoreError(f"cannot read {path} as `python -m realtime --json` results: "
                         f"{getattr(error, 'strerror', None) or 'not a text file'}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            faces, image = record["faces"], record.get("image")
            shown = faces[0].get("probability") if faces else None
            every = tuple((tuple(map(float, face["box"])) if "box" in face else None, face["label"],
                           face.get("probability")) for face in faces)
            barred = frozenset(name for name, value in (faces[0].get("probabilities") or {}).items() if value == 0
                               ) if faces else frozenset()
            answer = Answer(image, faces[0]["label"] if faces else None, None if shown is None else float(shown), every,
                            barred)
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            csv_results = number == 1 and line.startswith("schema,frame,time")
            raise ScoreError(f"{path}, line {number}: not a record of `python -m realtime --json`"
                             + (" (these are --csv results: score the --json ones)" if csv_results else "")) from None
        if not isinstance(image, str):
            raise ScoreError(f"{path}, line {number}: a frame without an image name (the results of a "
                             "video or camera, not of photos)")
        if "error" in record:  # a photo the program could not read: not scored
            unread.append(image)
            continue
        answers.append(answer)
    if unread:
        print(f"note: {len(unread)} photo{'s' * (len(unread) > 1)} the program could not read left out of the scores "
              f"(first: {unread[0]})", file=sys.stderr)
    if not answers:
        raise ScoreError(f"{path} holds no results")
    return answers


def read_face_labels(path: Path) -> dict[str, list[LabelledFace]] | None:
    """{photo path: its labelled faces} from a labels file that gives each face of a photo its box and label, as ExpW's
    `label.lst` does (`image_name face_id top left right bottom confidence label`, a row per face, separated by spaces);
    None for any other labels file."""
    if not path.is_file():
        return None
    try:
        lines = [line.split() for line in path.read_text(encoding="utf-8-sig").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError):
        return None  # (read_labels says why)
    numeric = re.compile(r"[-+]?\d+(\.\d*)?([eE][-+]?\d+)?")
    if not lines or any(len(row) != 8 or not all(numeric.fullmatch(field) for field in row[1:]) for row in lines):
        return None
    faces: dict[str, list[LabelledFace]] = {}
    for name, number, top, left, right, bottom, _, label in lines:
        box = (float(left), float(top), float(right), float(bottom))
        faces.setdefault(Path(name).as_posix(), []).append(LabelledFace(number, box, label))
    return faces


def by_face(answers: list[Answer], faces: dict[str, list[LabelledFace]]) -> tuple[list[Answer], dict[str, str], int]:
    """The answers for each labelled face of `faces` (`read_face_labels`), named `photo#number`: the label of the face
    the program found there (the one its box overlaps most, at least FACE_MATCH of their union; no face found there:
    None); their labels; how many photos matched the labels file by the end of their path (`matched_labels`). Photos
    the file does not label keep their one answer, not scored."""
    matched, by_ending = matched_labels([a.image for a in answers], {path: path for path in faces})
    answered, labels = [], {}
    for answer in answers:
        image = Path(answer.image).as_posix()
        if image not in matched:
            answered.append(answer)
            continue
        found = list(answer.faces)
        for face in faces[matched[image]]:
            overlaps = [0.0 if box is None else overlap(face.box, box)[0] for box, _, _ in found]
            best = int(np.argmax(overlaps)) if overlaps else -1
            _, label, shown = found.pop(best) if best >= 0 and overlaps[best] >= FACE_MATCH else (None, None, None)
            name = f"{image}#{face.number}"
            answered.append(Answer(name, label, None if shown is None else float(shown), barred=answer.barred))
            labels[name] = face.label
    return answered, labels, by_ending


def judge(answers: list[Answer], classes: list[str], labels: dict[str, str] | None = None,
          numbers: list[str | None] | None = None) -> tuple[list[tuple[str, int, int]], int, dict[str, int]]:
    """(photo, true class, answer) per scored photo, as indices into `classes` (an answer of len(classes): no face,
    or a class not scored); photos without a face; what was not scored, with how many photos, by name: folders, or
    with `labels` ({photo: label}, instead of the folders) the labels not scored and photos without one."""
    judged, no_face, unscored = [], 0, Counter()
    for image, label, *_ in answers:
        truth = photo_class(image, labels, numbers)
        if truth not in classes:
            if truth is not None:  # a class left out (contempt)
                not_scored = truth
            elif labels is None:
                not_scored = class_folder(image, numbers) or "(top folder)"
            else:
                given = labels.get(Path(image).as_posix())
                not_scored = "(not in the labels file)" if given is None else given
            unscored[not_scored] += 1
            continue
        judged.append((image, classes.index(truth), classes.index(label) if label in classes else len(classes)))
        no_face += label is None
    return judged, no_face, dict(sorted(unscored.items()))


def metrics_of(judged: list[tuple[str, int, int]], classes: list[str]) -> dict:
    """Metrics over `classes` (+ the "other" column) of photos as `judge` gives them."""
    truth, predicted = (np.array([row[i] for row in judged], int) for i in (1, 2))
    return classification_metrics(truth, predicted, [*classes, OTHER])


def score(answers: list[Answer], classes: list[str], labels: dict[str, str] | None = None,
          numbers: list[str | None] | None = None) -> tuple[dict, int, dict[str, int]]:
    """Metrics over `classes` (+ the "other" column), photos without a face, what was not scored (see `judge`)."""
    judged, no_face, unscored = judge(answers, classes, labels, numbers)
    return metrics_of(judged, classes), no_face, unscored


def right_answers(answers: list[Answer], classes: list[str], labels: dict[str, str] | None,
                  numbers: list[str | None] | None = None) -> dict[str, bool]:
    """{photo: whether its answer is right} for the scored photos of one results file."""
    right = {}
    for image, truth, answer in judge(answers, classes, labels, numbers)[0]:
        right.setdefault(image, truth == answer)
    return right


def person_of(pattern: re.Pattern | None):
    """The group a photo's record belongs to for the intervals: what `pattern` first matches in its file name (the
    person, as `^[^0-9]+` finds `Al_Gore_` in `Al_Gore_0002.jpg`); the photo alone where it matches nothing, or with
    no pattern."""
    def person(image: str) -> str:
        found = pattern.search(Path(image).name) if pattern else None
        return found.group(0) if found and found.group(0) else image
    return person


def group_confusions(judged: list[tuple[str, int, int]], classes: int, person) -> list[np.ndarray]:
    """The confusion matrix (classes + 1 answer columns, rows: truth) of each person's photos among `judged`."""
    matrices: dict[str, np.ndarray] = {}
    for image, truth, answer in judged:
        matrices.setdefault(person(image), np.zeros((classes + 1, classes + 1), np.int64))[truth, answer] += 1
    return list(matrices.values())


def compare(answers: list[Answer], labels: dict[str, str] | None, against: Path,
            table: dict[str, str] | None, classes: list[str], numbers: list[str | None] | None = None,
            faces: dict[str, list[LabelledFace]] | None = None, person=None) -> str:
    """Accuracy of these answers against those of the results file `against` on the photos both scored, with
    a paired 95% interval (`person`: the photos grouped by `person_of`, drawn by group); `table`: the labels file's
    rows, matched to `against`'s photos as to these (`faces`: its labelled faces, where it labels each face)."""
    other = read_answers(against)
    if faces is not None:
        other, other_labels, _ = by_face(other, faces)
    else:
        other_labels = matched_labels([a.image for a in other], table)[0] if table is not None else None
    ours = right_answers(answers, classes, labels, numbers)
    theirs = right_answers(other, classes, other_labels, numbers)
    # The photos paired by their names; where no name is in both, by the end of their path (a run from a folder above
    # the other's) or by their name without its suffix (a converted copy: x.tif against x.jpg), as `--labels` matches,
    # each photo there paired with one here at most
    pairs = {image: image for image in ours if image in theirs}
    if not pairs:
        pairs = matched_labels(list(ours), {image: image for image in theirs})[0]
        taken = Counter(pairs.values())
        pairs = {image: other for image, other in pairs.items() if taken[other] == 1}
    if not theirs:
        raise ScoreError(f"{against} has no photo with a class to score (none in a class folder, or named by the "
                         "labels file)")
    if not pairs:
        raise ScoreError(f"these results and {against} have no scored photo in common (here {next(iter(ours), '-')}, "
                         f"there {next(iter(theirs), '-')}: the names must match, or end alike)")
    now, before = np.array([ours[i] for i in pairs]), np.array([theirs[pairs[i]] for i in pairs])
    difference, low, high = paired_difference(before, now, groups=None if person is None else [person(i) for i in pairs])
    unit = "faces" if faces else "photos"
    both = f"{len(pairs)} {unit} both scored" + (f" (of {len(ours)} here)" if len(pairs) < len(ours) else "")
    return (f"against {against}, on the {both}: accuracy "
            f"{before.mean():.4f} there, "
            f"{now.mean():.4f} here: {difference:+.4f} (95% interval {low:+.4f} to {high:+.4f}); "
            f"right only here {int((now & ~before).sum())}, only there {int((before & ~now).sum())}")


def reliability(answers: list[Answer], classes: list[str], labels: dict[str, str] | None,
                numbers: list[str | None] | None = None, unit: str = "photos") -> str:
    """How often the answers shown at each confidence are right (`unit`: photos, or faces, with a face found), and the
    calibration error."""
    shown = {a.image: a.probability for a in reversed(answers)}  # a photo's first record, as in `judge`
    scored = [(shown[image], truth == answer) for image, truth, answer in judge(answers, classes, labels, numbers)[0]
              if shown[image] is not None]
    if not scored:
        return "calibration: no photo with a face and its probability"
    confidence, right = (np.array(column) for column in zip(*scored))
    lines = [f"calibration error {calibration_error(confidence, right):.3f} (how far the shown probability is from how "
             "often such answers are right; 0 = as often as it says)", f"{'shown':>10} {unit:>7} {'right':>6}"]
    for low, count, _, share in reliability_bins(confidence, right):
        percent = round(100 * low)
        lines.append(f"{f'{percent}-{percent + 10}%':>10} {count:7d} {share:6.0%}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="a --json results file of the program run on a class-folder tree")
    parser.add_argument("--with-contempt", action="store_true", help="score 8 classes, contempt too")
    parser.add_argument("--labels", type=Path, metavar="CSV",
                        help="true labels from a CSV file of path,label rows instead of the class folders (or "
                             "CK+'s Emotion/ folder, with --numbers ckplus; or ExpW's label.lst, a box and label "
                             "for each face: each face is scored by the face the program found there)")
    parser.add_argument("--against", type=Path, metavar="RESULTS",
                        help="another results file of the same photos (another model, option or version): the "
                             "difference in accuracy on the photos both scored, with its 95%% interval")
    parser.add_argument("--numbers", metavar="NUMBERING",
                        help="classes given by number (folders 0/, 1/, ... or labels 0, 1, ...): whose numbering, "
                             f"{', '.join(NUMBERINGS)}, or the class names in number order from 0, comma-separated "
                             "(fer2013: angry,disgust,fear,happy,sad,surprise,neutral)")
    parser.add_argument("--people", metavar="REGEX",
                        help="photos whose file names share what REGEX first matches show one person, and the 95%% "
                             "intervals draw people instead of photos (several photos of a person are not independent "
                             "draws): '^[^0-9]+' for LFW's Al_Gore_0002.jpg, '[FM][0-9]+' for KDEF (F01 in AF01AFS.JPG), "
                             "'^[A-Z]+' for JAFFE, '^S[0-9]+' for CK+, '_[0-9]+_' for RaFD (01 in "
                             "Rafd090_01_Caucasian_female_angry_frontal.jpg)")
    args = parser.parse_args(argv)
    try:
        numbers = None if args.numbers is None else numbering(args.numbers)
        pattern = None if args.people is None else re.compile(args.people)
        person = None if pattern is None else person_of(pattern)
    except LabelsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except re.error as error:
        print(f"error: --people: not a regular expression: {error}", file=sys.stderr)
        return 2
    for path in (args.results, args.labels, args.against):
        if path is not None and not path.is_file() and not (path is args.labels and path.is_dir()):
            print(f"error: {'a folder, not a file' if path.is_dir() else 'file not found'}: {path}", file=sys.stderr)
            return 2
    classes = FER2013_LABELS + ["contempt"] * args.with_contempt
    try:
        answers = read_answers(args.results)
        faces = read_face_labels(args.labels) if args.labels else None
        if faces is not None:  # a label for each face (ExpW): each scored by the face found there
            answers, labels, by_ending = by_face(answers, faces)
            table, numbers = labels, numbers or NUMBERINGS["expw"]
        else:
            table = read_labels(args.labels) if args.labels else None
            labels, by_ending = matched_labels([a.image for a in answers], table) if table is not None else (None, 0)
            if table is not None and answers and not labels:
                raise ScoreError(f"{args.labels} names none of the photos in {args.results} (it names photos as "
                                 f"{next(iter(table))}, the results as {answers[0].image}: the paths must match, or "
                                 "end alike)")
        judged, no_face, unscored = judge(answers, classes, labels, numbers)
        metrics = metrics_of(judged, classes)
        comparison = (compare(answers, labels, args.against, table, classes, numbers, faces, person) if args.against
                      else None)
    except ScoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    where = "label" if labels is not None else "class folder"
    unit = "faces" if faces is not None else "photos"
    if by_ending:
        print(f"note: {by_ending} photos matched to {args.labels} by the end of their path (the results name them "
              "relative to another folder than the labels file does, or otherwise in letter case, slashes or suffix)",
              file=sys.stderr)
    barred = [answer.barred for answer in answers if answer.label is not None]
    never = frozenset.intersection(*barred) if barred else frozenset()  # (a run with --classes left them out)
    if unscored:
        named = list(unscored.items())[:NAMED_UNSCORED]
        left_out = ", ".join(f"{name} ({plural(count, unit[:-1])}"
                             + ("; --with-contempt scores it" if name == "contempt" and name not in never else "") + ")"
                             for name, count in named)
        if len(unscored) > len(named):  # (CK+'s 123 people's folders filled a screen)
            rest = sum(unscored.values()) - sum(count for _, count in named)
            left_out += f" and {len(unscored) - len(named)} more ({plural(rest, unit[:-1])})"
        print(f"note: not scored, not a {where} or a class left out: {left_out}", file=sys.stderr)
        if numbers is None and any(class_number(name) is not None for name in unscored):
            print(f"note: classes given by number are scored with --numbers, which says whose numbering they "
                  f"follow: {', '.join(NUMBERINGS)}, or the class names in number order from 0", file=sys.stderr)
    if not metrics["samples"]:
        hint = "" if labels is not None else (": give the labels with --labels LABELS.csv (path,label rows), or lay the "
                                              "photos out in class folders (happy/, sad/, ...)" + (
            f"; {CKPLUS_LABELS}" if numbers == NUMBERINGS["ckplus"] else ""))
        print(f"error: no photo in {args.results} has a {where} ({', '.join(classes)}){hint}", file=sys.stderr)
        return 2
    present = [name for name in classes if metrics["per_class"][name]["support"]]
    balanced = float(np.mean([metrics["per_class"][name]["recall"] for name in present]))
    groups = None
    scored_never = [name for name in classes if name in never and metrics["per_class"][name]["support"]]
    if scored_never:
        one = len(scored_never) == 1
        print(f"note: {', '.join(scored_never)} {'has' if one else 'have'} probability 0 in every answer of "
              f"{args.results} (as in a run with --classes that left {'it' if one else 'them'} out): "
              f"{'its' if one else 'their'} photos can only count as wrong", file=sys.stderr)
    answered = {answer.image: answer.label for answer in reversed(answers)}  # a photo's first record, as `judge`'s
    outside = Counter(answered[image] for image, *_ in judged if answered[image] not in (*classes, None))
    if outside:  # (an 8-class model's contempt, on a set of FER2013's 7)
        said = ", ".join(f"{plural(count, unit[:-1])} answered {name}" for name, count in outside.items())
        print(f"note: {said}, not among the {len(classes)} classes scored: counted wrong (run the program with --classes "
              f"{','.join(classes)} to have it choose among them)", file=sys.stderr)
    if person is not None:
        groups = group_confusions(judged, len(classes), person)
        found = (pattern.search(Path(image).name) for image, *_ in judged)
        alone = sum(not (match and match.group(0)) for match in found)  # names the pattern does not match
        problem = ("matches none of the photos' file names" if alone == len(judged) else
                   "puts every photo in one group" if len(groups) < 2 else None)
        if problem:
            print(f"error: --people '{args.people}' {problem} (such as {Path(judged[0][0]).name})", file=sys.stderr)
            return 2
        if len(groups) == len(judged):  # (one photo a person, or a pattern that matches the whole name)
            print(f"note: --people '{args.people}' gives every photo a group of its own (no two file names share what "
                  "it matches): the intervals are those drawn by photo", file=sys.stderr)
        if alone:
            print(f"note: --people: {alone} photos' file names do not match '{args.people}': each counted as a person "
                  "of its own", file=sys.stderr)
        if len(groups) < PEOPLE_FEW:
            print(f"note: --people: only {len(groups)} people: intervals drawn over so few are rough", file=sys.stderr)
    intervals = bootstrap_intervals(metrics["confusion"], groups=groups)
    table = {**metrics, "per_class": {name: row for name, row in metrics["per_class"].items() if name != OTHER}}
    print(format_report(table, f"{args.results}: {len(classes)} classes", unit, intervals).rstrip()
          + f"  (over the {len(present)} classes present)")
    print(f"mean recall {balanced:.4f}  95% interval {intervals['mean_recall'][0]:.4f}-{intervals['mean_recall'][1]:.4f}"
          f"  (over the {len(present)} classes present)\nno face found: {no_face}")
    drawn = unit if groups is None else f"{len(groups)} people (--people)"
    print(f"(95% intervals: bootstrap over the {drawn}, how far the figure could move on another set drawn alike)")
    print("\n" + reliability(answers, classes, labels, numbers, unit))
    print(f"\nconfusion (rows: true class, columns: answer; {OTHER}: no face found, or an answer not among the classes "
          "scored" + (", such as contempt)" if "contempt" not in classes else ")"))
    names = [*classes, OTHER]
    print(f"{'':>10} " + " ".join(f"{n[:7]:>7}" for n in names))
    for name, row in zip(classes, metrics["confusion"]):
        print(f"{name:>10} " + " ".join(f"{v:7d}" for v in row))
    if comparison:
        print("\n" + comparison)
    return 0


if __name__ == "__main__":
    sys.exit(main())
