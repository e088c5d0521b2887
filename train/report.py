"""Metrics, the text report and the plots written beside a trained model."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import numpy as np


def confusion_matrix(truth: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
    matrix = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(matrix, (truth, predicted), 1)
    return matrix


def per_class_scores(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall, F1 and support per class of a confusion matrix (rows: truth); 0 where undefined."""
    tp = np.diag(matrix).astype(float)
    support, answered = matrix.sum(1), matrix.sum(0)
    precision = np.divide(tp, answered, out=np.zeros_like(tp), where=answered > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(tp), where=precision + recall > 0)
    return precision, recall, f1, support


def classification_metrics(truth: np.ndarray, predicted: np.ndarray, labels: list[str]) -> dict:
    """Accuracy, macro-F1 and per-class precision/recall/F1/support from integer labels."""
    matrix = confusion_matrix(truth, predicted, len(labels))
    precision, recall, f1, support = per_class_scores(matrix)
    present = support > 0
    return {
        "accuracy": float(np.trace(matrix) / max(1, matrix.sum())),
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "samples": int(matrix.sum()),
        "per_class": {
            name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for name, p, r, f, s in zip(labels, precision, recall, f1, support)
        },
        "confusion": matrix.tolist(),
    }


def bootstrap_intervals(confusion, draws: int = 2000, level: float = 0.95,
                        seed: int = 0, groups=None) -> dict[str, tuple[float, float]]:
    """Percentile-bootstrap intervals of accuracy, macro-F1 and mean recall (over the classes present) from a
    confusion matrix (rows: truth): how far they could move on another set drawn like this one, its samples
    drawn again with replacement. Accuracy draws from all the samples together; macro-F1 and mean recall draw each
    class's samples from its own (a stratified bootstrap, the class counts held), as a class drawn less often, or not
    at all, would otherwise move them by its count alone: a class of 2 faces all labelled wrong fell out of 1 draw in
    8, and lifted the upper end of the mean recall by half as much again as the lower end fell. `groups`: the
    confusion matrices of groups of samples that come together (the photos of one person), summing to `confusion`:
    the groups are drawn again instead, whole, for all three."""
    confusion = np.asarray(confusion, np.int64)
    classes = len(confusion)
    cells = np.repeat(np.arange(classes ** 2), confusion.ravel())  # one cell index, truth * classes + answer, per sample
    if not len(cells):
        return {name: (0.0, 0.0) for name in ("accuracy", "macro_f1", "mean_recall")}
    grouped = None if groups is None else np.asarray(groups, np.int64).reshape(len(groups), classes ** 2)
    counts = confusion.sum(1)
    shares = np.where(counts[:, None] > 0, confusion / np.maximum(counts, 1)[:, None], 1 / classes)  # (rows of 0: any)
    rng, class_rng = np.random.default_rng(seed), np.random.default_rng([seed, 1])  # (the accuracy's draws as before)
    values = {"accuracy": [], "macro_f1": [], "mean_recall": []}
    for _ in range(draws):
        if grouped is None:
            matrix = np.bincount(cells[rng.integers(0, len(cells), len(cells))], minlength=classes ** 2)
            by_class = class_rng.multinomial(counts, shares)
        else:
            matrix = by_class = np.bincount(rng.integers(0, len(grouped), len(grouped)),
                                            minlength=len(grouped)) @ grouped
        matrix, by_class = matrix.reshape(classes, classes), by_class.reshape(classes, classes)
        _, recall, f1, support = per_class_scores(by_class)
        present = support > 0
        values["accuracy"].append(np.trace(matrix) / max(1, matrix.sum()))
        values["macro_f1"].append(f1[present].mean())
        values["mean_recall"].append(recall[present].mean())
    tail = (1 - level) / 2 * 100
    return {name: tuple(float(v) for v in np.percentile(v, [tail, 100 - tail])) for name, v in values.items()}


def reliability_bins(confidence: np.ndarray, right: np.ndarray, bins: int = 10) -> list[tuple[float, int, float, float]]:
    """The answers in equal-width bins of their confidence (the probability of the label given; 1.0 goes in
    the top bin): per bin with answers, its lower edge, how many, their mean confidence and the share right."""
    confidence, right = np.asarray(confidence, float), np.asarray(right, float)
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    return [(b / bins, int((which == b).sum()), float(confidence[which == b].mean()), float(right[which == b].mean()))
            for b in range(bins) if (which == b).any()]


def calibration_error(confidence: np.ndarray, right: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: how far the confidence of the answers is from how often they are right,
    averaged over the 10 bins of `reliability_bins` weighted by the answers in each. 0 = an answer given
    at X% is right X% of the time."""
    rows = reliability_bins(confidence, right, bins)
    answers = sum(count for _, count, _, _ in rows)
    return sum(count * abs(mean - share) for _, count, mean, share in rows) / answers if answers else 0.0


def paired_difference(right_a: np.ndarray, right_b: np.ndarray, draws: int = 2000, level: float = 0.95,
                      seed: int = 0, groups=None) -> tuple[float, float, float]:
    """Accuracy of B minus accuracy of A on the same samples (`right_*`: one bool per sample), with its
    percentile-bootstrap interval, the samples resampled in pairs: narrower than the two accuracies' own
    intervals side by side, as far as the two agree sample by sample. `groups`: a group per sample (the person
    in a photo): the groups are resampled instead, whole."""
    difference = np.asarray(right_b, float) - np.asarray(right_a, float)
    if not len(difference):
        return 0.0, 0.0, 0.0
    rng = np.random.default_rng(seed)
    if groups is None:
        means = np.array([difference[rng.integers(0, len(difference), len(difference))].mean() for _ in range(draws)])
    else:
        which = np.unique(np.asarray(groups), return_inverse=True)[1]
        sums, sizes = np.bincount(which, difference), np.bincount(which)
        means = []
        for _ in range(draws):
            drawn = np.bincount(rng.integers(0, len(sizes), len(sizes)), minlength=len(sizes))
            means.append(drawn @ sums / (drawn @ sizes))
        means = np.array(means)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(difference.mean()), float(low), float(high)


def format_report(metrics: dict, title: str, unit: str = "faces",
                  intervals: dict[str, tuple[float, float]] | None = None) -> str:
    """The per-class table, accuracy and macro-F1; with `intervals` (bootstrap_intervals), each with its 95% interval."""
    def between(name: str) -> str:
        return f"  95% interval {intervals[name][0]:.4f}-{intervals[name][1]:.4f}" if intervals else ""

    lines = [title, "", f"{'class':>10} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>7}"]
    for name, row in metrics["per_class"].items():
        lines.append(f"{name:>10} {row['precision']:9.3f} {row['recall']:7.3f} {row['f1']:6.3f} {row['support']:7d}")
    lines += ["", f"accuracy  {metrics['accuracy']:.4f}  ({metrics['samples']} {unit}){between('accuracy')}",
              f"macro-F1  {metrics['macro_f1']:.4f}{between('macro_f1')}"]
    return "\n".join(lines) + "\n"


def plot_confusion(metrics: dict, labels: list[str], path: Path | BinaryIO, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matrix = np.array(metrics["confusion"], float)
    normalised = matrix / np.maximum(matrix.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    image = ax.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, f"{normalised[i, j]:.2f}", ha="center", va="center",
                    color="white" if normalised[i, j] > 0.5 else "black", fontsize=8)
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_curves(history: dict[str, list[float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key in zip(axes, ("loss", "accuracy")):
        for prefix, style in (("", "-"), ("val_", "--")):
            if prefix + key in history:
                ax.plot(range(1, len(history[prefix + key]) + 1), history[prefix + key], style, marker=".",
                        label=("validation " if prefix else "train ") + key)  # (a point per epoch: one epoch shows)
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
