"""Hyperparameter search over the trainer's recipe with Optuna (TPE sampler).

    python -m train.search --data ../shared/data/fer2013.csv.gz --trials 20 --epochs 10 --limit 5000
    python -m train.search --data my_faces/ --trials 10 --epochs 5 --widths 16 24 --out search/

Each trial is a `python -m train` command line, run through the trainer's own `fit` on the
same data (loaded once); it is scored by its best validation accuracy. Searched: the optimizer
(AdamW or SGD with Nesterov momentum), learning rate, width, weight decay and label smoothing.
Writes trials.csv, trials.md and best.txt (the best trial's exact command line) into --out.
"""

from __future__ import annotations

import csv
import shlex
import sys
import tempfile
from pathlib import Path

from realtime.__main__ import Parser, number
from train import require_keras
from train.__main__ import TrainingError, check_args, fit, load_data, make_folder, run_command
from train.__main__ import parse_args as trainer_args
from train.data import DatasetError

LEARNING_RATES = {"adamw": (3e-4, 1e-2), "sgd-nesterov": (3e-3, 3e-1)}
COLUMNS = ["trial", "val_accuracy", "optimizer", "lr", "width", "weight_decay", "label_smoothing", "best_epoch", "minutes"]


def parse_args(argv):
    parser = Parser(prog="python -m train.search", description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="fer2013.csv[.gz] or an image folder")
    parser.add_argument("--ferplus", help="FER+ votes (fer2013new.csv)")
    parser.add_argument("--trials", type=number(int, 1), required=True, help="trainings to run")
    parser.add_argument("--epochs", type=number(int, 1), default=10, help="epochs per trial (default: 10)")
    parser.add_argument("--limit", type=number(int, 1), help="at most this many faces per split")
    parser.add_argument("--widths", type=number(int, 2), nargs="+", default=[24, 32, 48, 56],
                        help="widths to choose from (default: 24 32 48 56)")
    parser.add_argument("--batch-size", type=number(int, 1), default=128)
    parser.add_argument("--out", default="search", help="folder for trials.csv, trials.md and best.txt (default: search)")
    parser.add_argument("--seed", type=number(int, 0, 2**32 - 1), default=0, help="seeds the sampler and every trial")
    return parser.parse_args(argv)


def recipe(trial, args) -> list[str]:
    """The trainer's arguments for one trial; values rounded so that the command line is exactly what ran."""
    optimizer = trial.suggest_categorical("optimizer", list(LEARNING_RATES))
    lr = trial.suggest_float("lr", *LEARNING_RATES[optimizer], log=True)
    width = trial.suggest_categorical("width", args.widths)
    weight_decay = trial.suggest_float("weight_decay", 1e-5, 1e-2, log=True)
    smoothing = trial.suggest_float("label_smoothing", 0.0, 0.2)
    return ["--optimizer", optimizer, "--lr", f"{lr:.2g}", "--width", str(width), "--weight-decay", f"{weight_decay:.2g}",
            "--label-smoothing", f"{smoothing:.2f}"]


def common(args) -> list[str]:
    """The trainer's arguments every trial shares."""
    return (["--data", args.data] + (["--ferplus", args.ferplus] if args.ferplus else [])
            + ["--epochs", str(args.epochs), "--batch-size", str(args.batch_size), "--seed", str(args.seed)]
            + (["--limit", str(args.limit)] if args.limit else []))


def write_tables(rows: list[dict], best: dict, out: Path) -> None:
    with (out / "trials.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    ranked = sorted(rows, key=lambda row: -row["val_accuracy"])
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
    lines += ["| " + " | ".join(str(row[key]) for key in COLUMNS) + " |" for row in ranked]
    (out / "trials.md").write_text("\n".join(lines) + f"\n\nBest: `{best['command']}`\n")
    (out / "best.txt").write_text(best["command"] + "\n")


def search(args) -> int:
    try:
        import optuna
    except ImportError:
        raise DatasetError("python -m train.search needs Optuna: pip install -e '.[train]'") from None
    require_keras("python -m train.search")
    first = trainer_args(common(args))
    check_args(first)
    dataset = load_data(first)
    out = Path(args.out)
    make_folder(out)
    rows: list[dict] = []

    def objective(trial) -> float:
        argv = common(args) + recipe(trial, args)
        with tempfile.TemporaryDirectory() as scratch:
            (Path(scratch) / "checkpoints").mkdir()
            try:
                fitted = fit(trainer_args(argv), dataset, Path(scratch), "trial", verbose=0)
                best_epoch, minutes = fitted.best_epoch, fitted.minutes
                accuracy = fitted.history["val_accuracy"][best_epoch - 1]
                outcome = f"val accuracy {accuracy:.4f} ({minutes:.1f} min)"
            except TrainingError as err:  # a recipe that diverges is a bad one, not the end of the search
                accuracy, best_epoch, minutes, outcome = 0.0, "diverged", float("nan"), f"{err}; scored 0"
        rows.append({"trial": trial.number, "val_accuracy": round(accuracy, 4), **trial.params,
                     "lr": argv[argv.index("--lr") + 1], "weight_decay": argv[argv.index("--weight-decay") + 1],
                     "label_smoothing": argv[argv.index("--label-smoothing") + 1], "best_epoch": best_epoch,
                     "minutes": round(minutes, 1), "command": "python -m train " + shlex.join(argv)})
        best = max(rows, key=lambda row: row["val_accuracy"])
        write_tables(rows, best, out)  # after every trial, so an interrupted search keeps what it found
        print(f"trial {trial.number}: {outcome} {shlex.join(argv[len(common(args)):])}", flush=True)
        return accuracy

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # (a trial stopped by Ctrl-C: its whole stack, as a warning)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=args.seed))
    study.optimize(objective, n_trials=args.trials)
    if all(row["best_epoch"] == "diverged" for row in rows):
        raise TrainingError(f"every one of the {args.trials} trials diverged (each is named above)")
    best = max(rows, key=lambda row: row["val_accuracy"])
    print(f"\nbest: val accuracy {best['val_accuracy']:.4f} (trial {best['trial']})\n{best['command']}\n"
          f"wrote {out / 'trials.csv'}, {out / 'trials.md'} and {out / 'best.txt'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_command(search, args, f"interrupted; the trials so far are in {args.out}")

if __name__ == "__main__":
    sys.exit(main())
