"""Time the program on a folder of photos, with photos labelled one at a time or side by side (`--workers`).

    python bench/folder_speed.py                          # wild-faces, 400 photos, --workers 1 against 2
    python bench/folder_speed.py --workers 1 2 4 --photos 1000 --rounds 3

Each run is the program as a user runs it (`python -m realtime --source FOLDER --no-display --json FILE`), start-up
included, on the same photos (evenly spread over wild-faces, linked into a scratch folder); the settings alternate
run by run, their order swapped every round, so a busy machine slows them alike. Prints each run's seconds, the
median photos a second of each setting, and its median time against the first setting's. The results files of
every setting must be the same, byte for byte: it checks that too.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pipeline_accuracy import DATA, spread  # noqa: E402
from realtime.__main__ import number  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=number(int, 1, 64), nargs="+", default=[1, 2])
    parser.add_argument("--photos", type=number(int, 1), default=400)
    parser.add_argument("--rounds", type=number(int, 1), default=2)
    args = parser.parse_args()

    photos = spread(sorted((DATA / "wild-faces" / "images").glob("*.jpg")), args.photos)
    if not photos:
        print(f"error: no wild-faces photos in {DATA / 'wild-faces' / 'images'}", file=sys.stderr)
        return 2
    seconds: dict[int, list[float]] = {workers: [] for workers in args.workers}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch, "photos")
        folder.mkdir()
        for photo in photos:
            (folder / photo.name).symlink_to(photo.resolve())
        results: dict[int, bytes] = {}
        for round_ in range(args.rounds):
            for workers in args.workers if round_ % 2 == 0 else args.workers[::-1]:
                out = Path(scratch, f"{workers}.jsonl")
                started = time.perf_counter()
                subprocess.run([sys.executable, "-m", "realtime", "--source", str(folder), "--no-display", "--json",
                                str(out), "--workers", str(workers)], check=True, cwd=Path(__file__).parent.parent)
                seconds[workers].append(time.perf_counter() - started)
                print(f"round {round_ + 1}, --workers {workers}: {seconds[workers][-1]:.1f} s", flush=True)
                results.setdefault(workers, out.read_bytes())
                if out.read_bytes() != results[workers] or results[workers] != results[args.workers[0]]:
                    print(f"error: --workers {workers} wrote other results", file=sys.stderr)
                    return 1
    first = np.median(seconds[args.workers[0]])
    print(f"\n{len(photos)} photos, start-up included, medians of {args.rounds} runs (the results files all the same):")
    for workers, runs in seconds.items():
        print(f"  --workers {workers}: {len(photos) / np.median(runs):5.1f} photos/s, {np.median(runs):6.1f} s "
              f"(runs {min(runs):.1f}-{max(runs):.1f}), {first / np.median(runs):.2f}x the speed of "
              f"--workers {args.workers[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
