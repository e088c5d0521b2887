"""python -m realtime.report: a picture of a run's results: each face's label over time, and emotion shares.

    python -m realtime --source clip.mp4 --json results.jsonl --no-display
    python -m realtime.report results.jsonl                 # writes results.png beside it
    python -m realtime.report results.jsonl --out report.png

Reads the JSON lines that `--json` writes (any schema version). The timeline has one row per
face (track id; the 20 seen longest), coloured by the label shown in each frame; the shares are
each label's part of all face-frames of the run. The results of photos (each record a photo of its
own) have no timeline: one bar per folder of photos instead, split by the label of each photo's main
face (its largest), and the photos where no face was found.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections import Counter
from pathlib import Path, PurePosixPath

import numpy as np

from realtime.draw import COLOURS, colour_of
from realtime.labels import (CKPLUS_LABELS, CLASS_ALIASES, NUMBERINGS, LabelsError, class_number, matched_labels,
                             numbering, photo_class, read_labels, true_class)

MOST_TRACKS = 20  # rows of a timeline, and folders of photos
COLUMNS = 1000  # about the timeline's width in pixels: where a video has more frames, each column shows its main label
NO_FACE = "no face"
NO_LABEL = "(no label)"  # the group of photos a labels file gives no class
OTHER_COLOURS = [(0.12, 0.47, 0.71), (1.0, 0.5, 0.05), (0.17, 0.63, 0.17), (0.84, 0.15, 0.16), (0.58, 0.4, 0.74),
                 (0.55, 0.34, 0.29), (0.89, 0.47, 0.76), (0.74, 0.74, 0.13), (0.09, 0.75, 0.81)]  # matplotlib's tab10
PICTURE_SUFFIXES = (".png", ".jpg", ".svg", ".pdf")


class ReportError(RuntimeError):
    """Results that cannot be read; the message is meant for the user."""


def complete_lines(path: Path, text: str) -> list[str]:
    """The lines of a JSON-lines file, less a last line that was cut off (no newline, not whole JSON), as a run
    that was killed while writing can leave it; a note says so."""
    lines = text.splitlines()
    if lines and not text.endswith("\n"):
        try:
            json.loads(lines[-1])
        except ValueError:
            print(f"note: the last line of {path} is cut off (a run that was killed?); it is left out", file=sys.stderr)
            lines.pop()
    return lines


def read_results(path: Path) -> list[dict]:
    try:
        lines = complete_lines(path, path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ReportError(f"cannot read {path}: {err.strerror}") from None
    except UnicodeDecodeError:
        raise ReportError(f"{path} is not a text file of `python -m realtime --json` results") from None
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            given = json.loads(line)
            # what the report draws, no more (with every face's probabilities, 100,000 frames of 20 faces took 4 GB)
            record = {"time": float(given["time"]), "frame": int(given["frame"]), "image": given.get("image"),
                      "faces": [{"id": face["id"], "label": face["label"]} for face in given["faces"]]}
            if not all(isinstance(face["id"], int) and isinstance(face["label"], str) for face in record["faces"]):
                raise TypeError("id or label")
        except (ValueError, KeyError, TypeError, AttributeError):
            csv = line.startswith("schema,frame,time")
            raise ReportError(f"{path} line {number} is not a frame of `python -m realtime --json` results"
                              + (" (it is --csv results: give the --json ones)" if csv else "")) from None
        if "error" not in given:  # (a photo that could not be read: not drawn as one without a face)
            records.append(record)
    if not records:
        raise ReportError(f"{path} has no results")
    return records


def timelines(records: list[dict]) -> dict[int, list[tuple[int, str]]]:
    """Per track id: (record's place in the results, shown label) of every frame it was shown in."""
    tracks: dict[int, list[tuple[int, str]]] = {}
    for place, record in enumerate(records):
        for face in record["faces"]:
            tracks.setdefault(face["id"], []).append((place, face["label"]))
    return tracks


def shares(records: list[dict]) -> dict[str, float]:
    """Each label's share of all face-frames."""
    counts = Counter(face["label"] for record in records for face in record["faces"])
    total = sum(counts.values())
    return {label: count / total for label, count in counts.most_common()} if total else {}


def of_photos(records: list[dict]) -> bool:
    """Whether the results are of photos, each record a photo of its own (not the frames of a video or GIF)."""
    names = [record.get("image") for record in records]
    return all(names) and len(set(names)) == len(names)


def photo_groups(records: list[dict], labels: dict[str, str] | None = None,
                 numbers: list[str | None] | None = None) -> tuple[dict[str, Counter], str]:
    """The photos in groups, and what the groups are ("class" or "folder"): by their class where each has one, by
    `labels` ({photo: label}, matched to the results' names) or else by its class folder or file name (KDEF, JAFFE,
    RaFD: `labels.photo_class`; a photo without: NO_LABEL), classes in FER2013's order; else by folder (as their
    names in the results have it; `.` for those at the top). For each group, how many photos' main faces (the first
    listed, the largest) got each label, and how many had no face found."""
    classes = [photo_class(record["image"], labels, numbers) for record in records]
    by_class = labels is not None or all(classes)
    groups: dict[str, Counter] = {}
    for record, given in zip(records, classes):
        group = (given or NO_LABEL) if by_class else str(PurePosixPath(record["image"]).parent)
        groups.setdefault(group, Counter())[record["faces"][0]["label"] if record["faces"] else NO_FACE] += 1
    if by_class:
        order = [*CLASS_ALIASES.values(), NO_LABEL]
        groups = dict(sorted(groups.items(), key=lambda item: order.index(item[0])))
    return groups, "class" if by_class else "folder"


def label_spans(timeline: list[tuple[int, str]], times: list[float],
                last: float | None = None) -> dict[str, list[tuple[float, float]]]:
    """(start, width) spans per label: a face's frames in a row with the same label make one span (one bar to
    draw, where a long video has many thousand frames), from its first frame's time to the time of the frame after
    its last (`times`: each record's; the last frame lasts `last`, else a typical frame's time). Frames in a row are those next
    to each other in the results, however uneven their times: split wherever two frames lay further apart than the
    shortest gap, a face seen in every frame of a variable-frame-rate video, a camera or a stream was drawn as
    thin slivers."""
    gaps = sorted(b - a for a, b in zip(times, times[1:]) if b > a)
    last = last or (gaps[len(gaps) // 2] if gaps else 1 / 30)

    def end(place: int) -> float:
        return times[place + 1] if place + 1 < len(times) else times[place] + last

    spans: dict[str, list[tuple[float, float]]] = {}
    start = previous = current = None
    for place, label in [*timeline, (math.inf, None)]:
        if label != current or current is None or place != previous + 1:
            if current is not None:
                spans.setdefault(current, []).append((times[start], end(previous) - times[start]))
            start, current = place, label
        previous = place
    return spans


def column_spans(spans: dict[str, list[tuple[float, float]]], total: float,
                 columns: int = COLUMNS) -> dict[str, list[tuple[float, float]]]:
    """`spans` (a face's, per label) as `columns` equal columns across `total` seconds would show them: each
    column takes the label that covers most of it, and is drawn where the face is shown for at least half of it.
    Spans narrower than a column were drawn one over another, and the label drawn last took the column whatever
    the others were: 30 minutes of a face labelled happy two frames in three, sad the third, came out all sad."""
    width = total / columns
    cover = np.zeros((len(spans), columns))
    for row, parts in enumerate(spans.values()):
        for start, length in parts:
            begin, end = start / width, (start + length) / width  # in columns
            for column in range(max(int(begin), 0), min(math.ceil(end), columns)):
                cover[row, column] += min(end, column + 1) - max(begin, column)
    labels, best, shown = list(spans), cover.argmax(0), cover.sum(0) >= 0.5
    columned: dict[str, list[tuple[float, float]]] = {}
    column = 0
    while column < columns:
        run = column + 1
        while run < columns and shown[run] == shown[column] and best[run] == best[column]:
            run += 1
        if shown[column]:
            columned.setdefault(labels[best[column]], []).append((column * width, (run - column) * width))
        column = run
    return columned


def label_colours(labels) -> dict[str, tuple[float, float, float]]:
    """Matplotlib colours: an expression's, as the overlay draws it; other labels (a model trained on classes of
    one's own) each one of OTHER_COLOURS, in name order (they were all the same grey)."""
    known = {label: tuple(v / 255 for v in reversed(colour_of(label))) for label in labels if label in COLOURS}
    others = sorted(label for label in labels if label not in COLOURS)
    return known | {label: OTHER_COLOURS[n % len(OTHER_COLOURS)] for n, label in enumerate(others)}


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


def draw_report(records: list[dict], out: Path, title: str, labels: dict[str, str] | None = None,
                numbers: list[str | None] | None = None) -> None:
    """`labels`, `numbers`: photos' classes, for their bars (`photo_groups`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parts, photos = shares(records), of_photos(records)
    colours = label_colours(parts)
    if photos:
        folders, kind = photo_groups(records, labels, numbers)
        largest = set(sorted(folders, key=lambda f: -sum(folders[f].values()))[:MOST_TRACKS])
        rows = [f for f in folders if f in largest] if kind == "class" else sorted(largest)  # (classes in their order)
    else:
        tracks = timelines(records)
        rows = sorted(sorted(tracks, key=lambda t: -len(tracks[t]))[:MOST_TRACKS])
    figure, (left, bars) = plt.subplots(1, 2, figsize=(13, 1.6 + 0.35 * max(3, len(rows))),
                                        gridspec_kw={"width_ratios": [3, 1]})
    if photos:
        draw_folders(left, {folder: folders[folder] for folder in rows}, [*parts, NO_FACE], colours, kind)
        named = len([folder for folder in folders if folder != NO_LABEL])
        count = f"{named} {kind}{'es' if kind == 'class' else 's'}" if named != 1 else f"1 {kind}"
        left.set_title(f"main face's label per photo, by {kind} ({count}"
                       + (f", the {MOST_TRACKS} with most photos)" if len(folders) > MOST_TRACKS else ")"))
    else:
        timed = any(r["time"] != records[0]["time"] for r in records)  # (else by the frames' places)
        times = [r["time"] - records[0]["time"] if timed else place for place, r in enumerate(records)]
        drawn = [label_spans(tracks[track], times, None if timed else 1) for track in rows]  # (by frame: 1 each)
        if len(records) > COLUMNS:  # frames narrower than a pixel: each column the label shown most in it
            total = max((start + width for spans in drawn for bars_of in spans.values() for start, width in bars_of),
                        default=0.0)
            drawn = [column_spans(spans, total) for spans in drawn] if total > 0 else drawn
        for row, spans in enumerate(drawn):
            for label, bars_of in spans.items():
                left.broken_barh(bars_of, (row - 0.4, 0.8), color=colours[label])
        left.set_yticks(range(len(rows)), [f"face {t}" for t in rows])
        left.set_xlabel("seconds" if timed else "frame")
        left.set_title(f"label shown per face over time ({plural(len(tracks), 'face')}"
                       + (f", the {MOST_TRACKS} seen longest)" if len(tracks) > MOST_TRACKS else ")"))
    left.set_ylim(-0.6, max(len(rows), 1) - 0.4)
    left.invert_yaxis()
    bars.barh(list(parts), [100 * v for v in parts.values()], color=[colours[label] for label in parts])
    bars.invert_yaxis()
    bars.set_xlabel("% of faces" if photos else "% of face-frames")
    bars.set_title("emotion shares")
    for y, value in enumerate(parts.values()):
        bars.text(100 * value, y, f" {100 * value:.0f}%", va="center")
    bars.set_xlim(0, 115)
    if not parts:  # (photos: their bars say so, hatched)
        bars.set_yticks([])
        if not photos:
            left.text(0.5, 0.5, "no faces in these results", transform=left.transAxes, ha="center")
    figure.suptitle(title)
    figure.tight_layout()
    partial = out.with_name(f".{out.name}.part")  # written whole, then renamed: a full disk leaves no broken picture
    try:
        figure.savefig(partial, dpi=110, format=out.suffix[1:].lower())
        os.replace(partial, out)
    finally:
        plt.close(figure)
        partial.unlink(missing_ok=True)


def draw_folders(axes, folders: dict[str, Counter], order: list[str], colours: dict, kind: str = "folder") -> None:
    """One bar per folder (or class: `kind`), split into its photos' labels (in `order`) as shares of its photos, each
    part drawn in its label's colour (no face: hatched), and the folder's count of photos at the end."""
    for row, (folder, counts) in enumerate(folders.items()):
        total, start = sum(counts.values()), 0.0
        for label in order:
            width = 100 * counts[label] / total
            if width:
                axes.barh(row, width, left=start, color=(0.9, 0.9, 0.9) if label == NO_FACE else colours[label],
                          hatch="//" if label == NO_FACE else None, edgecolor="white")
                if width >= 6:  # (its label too where it fits: the colours alone sent the reader to the other chart)
                    axes.text(start + width / 2, row, f"{label} {width:.0f}" if width >= 1.3 * len(label) + 4 else
                              f"{width:.0f}", ha="center", va="center", fontsize=8)
            start += width
        axes.text(101, row, f"{total} photo{'s' * (total > 1)}", va="center", fontsize=8)
    top = "all photos" if len(folders) == 1 else "(not in a subfolder)"  # (it said "(top)")
    axes.set_yticks(range(len(folders)), [folder if folder != "." or kind == "class" else top for folder in folders])
    axes.set_xlim(0, 112)
    axes.set_xlabel(f"% of the {kind}'s photos, by the label of each photo's main face (hatched: no face found)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m realtime.report", description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="JSON lines written by python -m realtime --json")
    parser.add_argument("--out", type=Path, help="picture to write: .png, .jpg, .svg or .pdf (default: the results' name with .png)")
    parser.add_argument("--labels", type=Path, metavar="CSV",
                        help="photos' classes from a file of path,label rows (or CK+'s Emotion/ folder), as "
                             "bench/score_results.py reads it: a bar per class (without: per class folder, or per "
                             "class the file names give, as KDEF's, JAFFE's and RaFD's do; else per folder)")
    parser.add_argument("--numbers", metavar="NUMBERING",
                        help=f"classes given by number: {', '.join(NUMBERINGS)}, or the class names in number order "
                             "from 0, comma-separated")
    args = parser.parse_args(argv)
    out = args.out or args.results.with_suffix(".png")
    try:
        records = read_results(args.results)
        numbers = None if args.numbers is None else numbering(args.numbers)
        labels = None
        if args.labels is not None:
            if not of_photos(records):
                raise ReportError(f"--labels: {args.results} holds the frames of a video, not photos")
            labels = matched_labels([record["image"] for record in records], read_labels(args.labels))[0]
            if not labels:
                raise ReportError(f"{args.labels} names none of the photos in {args.results} (the results name them "
                                  f"as {records[0]['image']}: the paths must match, or end alike)")
            given = set(labels.values())
            if numbers is None and not any(map(true_class, given)) and any(class_number(v) is not None for v in given):
                # (every photo was drawn as one "(no label)" bar, and the picture written as if all was well)
                raise ReportError(f"{args.labels} gives classes by number: say whose numbering with --numbers ("
                                  f"{', '.join(NUMBERINGS)}; CK+'s Emotion/ folder: ckplus), or the class names in "
                                  "number order from 0")
        if numbers is not None and labels is None and of_photos(records) and not any(
                photo_class(record["image"], None, numbers) for record in records):
            raise ReportError(f"--numbers {args.numbers}: no photo lies in a class folder numbered so (0/, 1/, ...)" + (
                f"; {CKPLUS_LABELS}" if numbers == NUMBERINGS["ckplus"] else ""))
        if not out.parent.is_dir():
            raise ReportError(f"cannot write {out}: folder {out.parent} does not exist")
        if out.suffix.lower() not in PICTURE_SUFFIXES or out.is_dir():
            raise ReportError(f"cannot write {out}: name a picture file ({', '.join(PICTURE_SUFFIXES)})")
        seconds = records[-1]["time"] - records[0]["time"]
        unseen = sum(not record["faces"] for record in records)
        draw_report(records, out, f"{args.results.name}: " + (
            f"{plural(len(records), 'photo')}, " + (f"no face found in {unseen}" if unseen else "a face found in each")
            if of_photos(records)
            else f"{plural(len(records), 'frame')}, {seconds:.1f} s"), labels, numbers)
    except (ReportError, LabelsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"error: cannot write {out}: {err.strerror or err}", file=sys.stderr)
        return 2
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
