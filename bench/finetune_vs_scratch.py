"""Fine-tuning the shipped model against training from scratch, on a small folder of faces.

    python bench/finetune_vs_scratch.py --data ../shared/data/fer2013.csv.gz
    python bench/finetune_vs_scratch.py --photos --runs init     # the faces inside 480x360 photos instead

Builds an image folder (`train/`, `val/`, `test/`, one sub-folder per class, 48x48 PNGs) from
FER2013 **PrivateTest** faces, which neither shipped model was trained or selected on (leaving out
every face that is identical or near-identical to another FER2013 face, so none was seen either), then
trains on it with `python -m train` three ways, same data and epochs: from scratch (the default
recipe), fine-tuned from the shipped model (`--init`), and fine-tuned with the body frozen for
the first epochs (`--init --freeze-epochs`). Prints each one's test accuracy (the int8 TFLite
copy, as the program runs it on a CPU) and training time.

With `--photos` every face is saved inside a 480x360 photo instead (enlarged 2-4x, at a random place
on a room-like backdrop), so the trainer has to find and cut out the faces as the program does; each
run is then also scored the way a user would score it: `python -m realtime --source test/ --json`
on the test photos, then `bench/score_results.py`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from realtime.__main__ import number  # noqa: E402
from train.data import FER2013_LABELS, SPLITS, DatasetError, load_fer2013  # noqa: E402
from train.duplicates import near_duplicates  # noqa: E402

CLASSES = ["angry", "happy", "sad", "surprise", "neutral"]
RUNS = {
    "scratch": ("from scratch", []),
    "init": ("fine-tuned (--init)", ["--init", "--lr", "5e-4"]),
    "frozen": ("fine-tuned, body frozen 2 epochs", ["--init", "--lr", "5e-4", "--freeze-epochs", "2"]),
}


def as_photo(face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The 48x48 face enlarged 2-4x and placed at a random spot of a 480x360 room-like photo."""
    from realtime.scene import background

    side = int(rng.integers(96, 193))
    big = cv2.cvtColor(cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC), cv2.COLOR_GRAY2BGR)
    photo = background(480, 360, seed=int(rng.integers(1 << 30)))
    x, y = int(rng.integers(0, 480 - side)), int(rng.integers(0, 360 - side))
    photo[y:y + side, x:x + side] = big
    return photo


def build_folder(data: Path, root: Path, sizes: dict[str, int], seed: int, photos: bool = False) -> None:
    """root/<split>/<class>/<i>.png from PrivateTest faces without duplicates, `sizes[split]` per class
    (each face inside a photo with `photos`)."""
    dataset = load_fer2013(data)
    faces, targets = dataset.split("test")
    labels = targets.argmax(1)
    everything = np.concatenate([dataset.splits[name][0] for name in SPLITS])
    first = len(everything) - len(faces)  # PrivateTest comes last
    duplicated = np.unique(near_duplicates(everything))
    labels[duplicated[duplicated >= first] - first] = -1
    rng = np.random.default_rng(seed)
    for name in CLASSES:
        picks = rng.permutation(np.flatnonzero(labels == FER2013_LABELS.index(name)))
        start = 0
        for split, count in sizes.items():
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in picks[start:start + count]:
                cv2.imwrite(str(folder / f"{i}.png"), as_photo(faces[i], rng) if photos else faces[i])
            start += count


def score_through_program(model: Path, test: Path, work: Path) -> str:
    """The test photos run as a user runs them, and their results scored: accuracy and faces found."""
    results = work / "results.jsonl"
    for command in ([sys.executable, "-m", "realtime", "--source", str(test), "--no-display", "--model", str(model),
                     "--json", str(results)], [sys.executable, str(ROOT / "bench" / "score_results.py"), str(results)]):
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(result.stderr[-2000:])
    return "; ".join(" ".join(line.split()) for line in result.stdout.splitlines()
                     if line.startswith(("accuracy", "no face found")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "fer2013.csv.gz"))
    parser.add_argument("--train", type=number(int, 1), default=60, help="training faces per class (default: 60)")
    parser.add_argument("--epochs", type=number(int, 1), default=12)
    parser.add_argument("--seed", type=number(int, 0, 2**32 - 1), default=0)
    parser.add_argument("--photos", action="store_true", help="save each face inside a 480x360 photo")
    parser.add_argument("--runs", nargs="+", choices=RUNS, default=list(RUNS), help="which trainings (default: all)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        faces = Path(tmp) / "my_faces"
        try:
            build_folder(Path(args.data), faces, {"train": args.train, "val": 20, "test": 100}, args.seed, args.photos)
        except DatasetError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        print(f"{len(CLASSES)} classes ({', '.join(CLASSES)}): {args.train} train, 20 val, 100 test faces each, "
              f"from FER2013 PrivateTest{', each inside a photo' if args.photos else ''}; {args.epochs} epochs per run")
        for key in args.runs:
            name, extra = RUNS[key]
            out = Path(tmp) / key
            started = time.time()
            result = subprocess.run([sys.executable, "-m", "train", "--data", str(faces), "--out", str(out),
                                     "--epochs", str(args.epochs), "--seed", str(args.seed), *extra],
                                    cwd=ROOT, capture_output=True, text=True)
            if result.returncode != 0:
                print(result.stderr[-2000:], file=sys.stderr)
                return 1
            card = json.loads((out / "my_faces.json").read_text())
            print(f"{name:34} test accuracy {card['metrics']['test_accuracy']:.1%}  "
                  f"(best epoch {card['training']['best_epoch']}, {(time.time() - started) / 60:.1f} min)", flush=True)
            if args.photos:
                print(f"{'':34} through the program: {score_through_program(out / 'my_faces.tflite', faces / 'test', out)}",
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
