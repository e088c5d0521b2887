"""Look at a training dataset before training on it: counts, duplicates, blank and unreadable images, pictures.

    python -m train.inspect --data ../shared/data/fer2013.csv.gz --out report/
    python -m train.inspect --data ../shared/data/fer2013.csv.gz --ferplus ../shared/data/fer2013new.csv
    python -m train.inspect --data my_faces/

Prints a Markdown report; with --out, also writes it as report.md beside class_distribution.png,
samples.png (faces of each class), augmented.png (faces through the trainer's own augmentation)
and duplicates.png (duplicate pairs across splits: each column a pair).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from realtime.__main__ import Parser, number
from train import require_keras
from train.__main__ import make_folder, run_command
from train.data import SPLITS, Dataset, load_dataset
from train.duplicates import MIN_CORRELATION, NEAR_BITS, dhash, hamming, in_train, near_duplicates

BLANK_STD = 3.0  # grey-level standard deviation under which a face counts as blank
SPLIT_PAIRS = [(a, b) for i, a in enumerate(SPLITS) for b in SPLITS[i:]]


def parse_args(argv):
    parser = Parser(prog="python -m train.inspect", description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="fer2013.csv[.gz] or an image folder")
    parser.add_argument("--ferplus", help="FER+ votes (fer2013new.csv): classes by majority vote")
    parser.add_argument("--out", help="also write report.md and the pictures into this folder")
    parser.add_argument("--seed", type=number(int, 0, 2**32 - 1), default=0, help="picks the sample faces (and an image folder's held-out splits)")
    return parser.parse_args(argv)


def pooled(dataset: Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every face of every split: faces, class index (majority for vote shares), split name, index within its split."""
    parts = [(name, *dataset.splits[name]) for name in SPLITS if name in dataset.splits]
    faces = np.concatenate([faces for _, faces, _ in parts])
    classes = np.concatenate([targets.argmax(1) for _, _, targets in parts])
    splits = np.concatenate([[name] * len(faces) for name, faces, _ in parts])
    index = np.concatenate([np.arange(len(faces)) for _, faces, _ in parts])
    return faces, classes, splits, index


def pairs_by_split(pairs: np.ndarray, splits: np.ndarray) -> dict[tuple[str, str], int]:
    counts = dict.fromkeys(SPLIT_PAIRS, 0)
    for a, b in zip(splits[pairs[:, 0]], splits[pairs[:, 1]]):
        counts[tuple(sorted((a, b), key=SPLITS.index))] += 1
    return counts


def report(dataset: Dataset, unreadable: list[Path], out: Path | None, seed: int) -> str:
    faces, classes, splits, index = pooled(dataset)
    started = time.time()
    near = near_duplicates(faces)
    is_identical = np.array([np.array_equal(faces[i], faces[j]) for i, j in near], bool).reshape(-1)
    identical, near_only = near[is_identical], near[~is_identical]
    hashes = dhash(faces)
    seconds = time.time() - started
    blank = faces.reshape(len(faces), -1).std(1) < BLANK_STD

    lines = [f"# {dataset.description}", "", f"{len(faces)} faces, {len(dataset.labels)} classes"
             + (" (by majority vote)" if "FER+" in dataset.description else ""), "",
             "## Faces per class and split", "", "| class | " + " | ".join(SPLITS) + " | all |",
             "| --- |" + " ---: |" * (len(SPLITS) + 1)]
    for c, name in enumerate(dataset.labels):
        row = [int(((classes == c) & (splits == split)).sum()) for split in SPLITS]
        lines.append(f"| {name} | " + " | ".join(f"{n:,}" for n in row) + f" | {sum(row):,} |")
    lines.append("| **all** | " + " | ".join(f"{(splits == s).sum():,}" for s in SPLITS) + f" | {len(faces):,} |")

    lines += ["", "## Duplicates", "",
              f"Pairs of faces, by the splits they are in. Identical: the same pixels. Near: not identical, but "
              f"their 64-bit difference hashes (dHash) differ in at most {NEAR_BITS} bits and their grey levels "
              f"correlate at {MIN_CORRELATION:g} or more (found in {seconds:.1f} s).", "",
              "| pairs | " + " | ".join(f"{a}–{b}" for a, b in SPLIT_PAIRS) + " |",
              "| --- |" + " ---: |" * len(SPLIT_PAIRS)]
    for name, pairs in (("identical", identical), ("near", near_only)):
        lines.append(f"| {name} | " + " | ".join(f"{n:,}" for n in pairs_by_split(pairs, splits).values()) + " |")
    lines.append("")
    for split, count in in_train(near, splits).items():
        lines.append(f"- {count:,} {split} faces are identical or near-identical to a training face")
    across = splits[near[:, 0]] != splits[near[:, 1]]
    cross = np.concatenate([near[across & ~is_identical], near[across & is_identical]])  # the near ones first
    identical_set = set(map(tuple, identical))
    names = {(i, j): "identical" if (i, j) in identical_set else f"{hamming(hashes[[i]], hashes[[j]])[0]} bits"
             for i, j in cross[:12]}
    if len(cross):
        lines += ["", "First cross-split pairs (split and position within the split, in file order):", ""]
        lines += [f"- {splits[i]} {index[i]} / {splits[j]} {index[j]}: {names[i, j]}" for i, j in cross[:12]]

    lines += ["", "## Blank and unreadable images", "",
              f"- Blank (grey-level standard deviation under {BLANK_STD:g}): {blank.sum()}"
              + "".join(f"; {splits[i]} {index[i]}" for i in np.flatnonzero(blank)[:20]),
              f"- Unreadable: {len(unreadable)}" + "".join(f"; {path}" for path in unreadable[:20]),
              f"- Photos with no face found (left out): {len(dataset.no_face)}"
              + "".join(f"; {path}" for path in dataset.no_face[:20])]
    if out is not None:
        shown = cross[:12]
        lines += write_pictures(out, dataset.labels, faces, classes, splits, seed,
                                shown, [f"{splits[j]}: {names[i, j]}" for i, j in shown])
    text = "\n".join(lines) + "\n"
    if out is not None:
        (out / "report.md").write_text(text)
    return text


def write_pictures(out: Path, labels: list[str], faces: np.ndarray, classes: np.ndarray, splits: np.ndarray, seed: int,
                   pairs: np.ndarray, pair_titles: list[str]) -> list[str]:
    """The report's PNGs in `out`; returns the Markdown lines that show them."""
    out.mkdir(parents=True, exist_ok=True)
    plot_distribution(labels, classes, splits, out / "class_distribution.png")
    rng = np.random.default_rng(seed)
    train = faces[splits == "train"]
    shown = ["class_distribution"]
    if len(train):  # (none: matplotlib refused a picture of no columns, a traceback)
        samples = [rng.permutation(np.flatnonzero((classes == c) & (splits == "train")))[:10] for c in range(len(labels))]
        plot_faces([list(faces[picks]) for picks in samples], labels, out / "samples.png", "training faces per class")
        plot_faces(augmented(train[rng.choice(len(train), min(6, len(train)), replace=False)], seed),
                   [""] * min(6, len(train)), out / "augmented.png",
                   "the trainer's own augmentation (train.__main__.make_augmenter)",
                   ["original"] + [f"draw {k}" for k in range(1, 8)])
        shown += ["samples", "augmented"]
    if len(pairs):
        plot_faces([list(faces[pairs[:, 0]]), list(faces[pairs[:, 1]])], ["", ""], out / "duplicates.png",
                   "near-duplicates (dHash bits that differ) and identical faces across splits, as listed above",
                   pair_titles)
        shown.append("duplicates")
    return ([line for name in shown for line in ("", f"![{name.replace('_', ' ')}]({name}.png)")]
            + ([] if len(train) else ["", "No training faces: no pictures of them (samples, augmentation)."]))


def augmented(faces: np.ndarray, seed: int, draws: int = 7) -> list[list[np.ndarray]]:
    """Each face, then `draws` random versions of it from exactly the augmentation the trainer trains with."""
    from realtime import quiet_stderr

    with quiet_stderr():
        import keras

    from train.__main__ import make_augmenter

    augment = make_augmenter(keras, seed)
    x = np.repeat(faces[:, None], draws, 1).reshape(-1, *faces.shape[1:], 1).astype(np.float32)
    out = keras.ops.convert_to_numpy(augment(x, training=True)).reshape(len(faces), draws, *faces.shape[1:])
    return [[face, *np.clip(out[i], 0, 255).astype(np.uint8)] for i, face in enumerate(faces)]


def plot_faces(rows: list[list[np.ndarray]], row_names: list[str], path: Path, title: str,
               column_names: list[str] | None = None) -> None:
    plt = _pyplot()
    columns = max(len(row) for row in rows)
    fig, axes = plt.subplots(len(rows), columns, figsize=(1.1 * columns + 1, 1.1 * len(rows) + 0.6), squeeze=False)
    for r, row in enumerate(rows):
        for c, ax in enumerate(axes[r]):
            ax.set_xticks([])
            ax.set_yticks([])
            ax.axis("on" if c < len(row) else "off")
            if c < len(row):
                ax.imshow(row[c], cmap="gray", vmin=0, vmax=255)
            if c == 0:
                ax.set_ylabel(row_names[r], fontsize=8)
            if r == 0 and column_names:
                ax.set_title(column_names[c], fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_distribution(labels: list[str], classes: np.ndarray, splits: np.ndarray, path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(SPLITS)
    for k, split in enumerate(SPLITS):
        counts = [((classes == c) & (splits == split)).sum() for c in range(len(labels))]
        ax.bar(np.arange(len(labels)) + (k - (len(SPLITS) - 1) / 2) * width, counts, width, label=split)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_ylabel("faces")
    ax.set_title("faces per class and split")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def inspect(args) -> int:
    if args.out:  # before the dataset is read, not after
        make_folder(Path(args.out))
        require_keras("python -m train.inspect --out (its augmentation pictures)")
    unreadable: list[Path] = []
    dataset = load_dataset(args.data, ferplus=args.ferplus, seed=args.seed, unreadable=unreadable)
    print(report(dataset, unreadable, Path(args.out) if args.out else None, args.seed), end="")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command(inspect, parse_args(argv), "interrupted")

if __name__ == "__main__":
    sys.exit(main())
