"""Time a photo through the program's photo path (`PhotoLabeller`): models, or the turned-face step, side by side.

    python bench/photo_speed.py                                # ferplus_ens, with and without looking for turned faces
    python bench/photo_speed.py --models ferplus_ens ferplus --photos 100
    python bench/photo_speed.py --threads 2 --photos 120      # photos a second: one labeller, then one per thread

Each setting labels the same wild-faces photos (evenly spread over the set), the settings alternating photo by
photo and their order swapped every round, so a busy machine slows them alike. Prints mean, median and p95 ms a
photo, and each setting's median against the first one's. With `--threads N`: the photos labelled by one labeller,
then by N threads with a labeller each (as the program's `--workers` does), the two alternating round by round, and
the photos a second of each; and how long a labeller takes to load.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pipeline_accuracy import DATA, photo_detector, spread  # noqa: E402
from realtime.__main__ import number  # noqa: E402
from realtime.card import run_script  # noqa: E402
from realtime.classify import DEFAULT_PHOTO_MODEL  # noqa: E402
from realtime.photos import PhotoLabeller  # noqa: E402


def compared(models: list[str] | None) -> dict[str, PhotoLabeller]:
    """The settings side by side: `models`, or the program's for photos with and without its turned-face step (only
    that step: the Haar cascade stays the last resort in both)."""
    if models:
        return {Path(model).stem: PhotoLabeller(model) for model in models}
    without = PhotoLabeller(DEFAULT_PHOTO_MODEL)
    without.pipeline.detector = photo_detector("tiled", upright=False)
    return {"turned faces looked for": PhotoLabeller(DEFAULT_PHOTO_MODEL), "not looked for": without}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", help="models side by side (default: the program's for photos, with "
                        "and without looking for faces that lie turned)")
    parser.add_argument("--photos", type=number(int, 1), default=100)
    parser.add_argument("--rounds", type=number(int, 1), default=2)
    parser.add_argument("--threads", type=number(int, 2, 64), help="photos a second on this many threads, a labeller "
                        "each, against one labeller (the first --models, default the program's for photos)")
    args = parser.parse_args()

    folder = DATA / "wild-faces" / "images"
    photos = [cv2.imread(str(path)) for path in spread(sorted(folder.glob("*.jpg")), args.photos)]
    if not photos:
        print(f"error: no wild-faces photos in {folder}", file=sys.stderr)
        return 2
    if args.threads:
        return side_by_side_rates(photos, args.threads, args.rounds, args.models[0] if args.models else None)
    settings = compared(args.models)
    times: dict[str, list[float]] = {name: [] for name in settings}
    for round_ in range(args.rounds):
        for photo in photos:
            for name, labeller in list(settings.items())[:: 1 if round_ % 2 == 0 else -1]:
                started = time.perf_counter()
                labeller.label(photo)
                times[name].append(time.perf_counter() - started)
    first = np.median(next(iter(times.values())))
    print(f"{len(photos)} wild-faces photos x {args.rounds} rounds, settings alternating photo by photo")
    for name, spent in times.items():
        ms = np.array(spent) * 1000
        print(f"{name:<28} mean {ms.mean():6.1f} ms  median {np.median(ms):6.1f}  p95 {np.percentile(ms, 95):6.1f}  "
              f"median / first's {np.median(spent) / first:.3f}")
    return 0


def side_by_side_rates(photos: list[np.ndarray], threads: int, rounds: int, model: str | None) -> int:
    """Photos a second of one labeller and of `threads` labellers on as many threads (each taking the next photo),
    the two alternating round by round; and the seconds a labeller takes to load."""
    loads = []
    labellers = []
    for _ in range(threads):
        started = time.perf_counter()
        labellers.append(PhotoLabeller(model or DEFAULT_PHOTO_MODEL))
        loads.append(time.perf_counter() - started)
    for photo in photos[:2]:  # (warm-up: the first calls of a model and of MediaPipe's graph are slower)
        for labeller in labellers:
            labeller.label(photo)
    rates: dict[int, list[float]] = {1: [], threads: []}
    for round_ in range(rounds):
        for count in (1, threads)[:: 1 if round_ % 2 == 0 else -1]:
            queue = iter(photos)
            lock = threading.Lock()

            def work(labeller: PhotoLabeller) -> None:
                while True:
                    with lock:
                        photo = next(queue, None)
                    if photo is None:
                        return
                    labeller.label(photo)

            started = time.perf_counter()
            workers = [threading.Thread(target=work, args=(labeller,)) for labeller in labellers[:count]]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            rates[count].append(len(photos) / (time.perf_counter() - started))
    print(f"{len(photos)} wild-faces photos x {rounds} rounds; a labeller loads in {statistics.median(loads):.2f} s "
          f"(median of {threads})")
    for count, measured in rates.items():
        print(f"{count} thread{'s' * (count > 1)}: {', '.join(f'{rate:.1f}' for rate in measured)} photos a second")
    print(f"{threads} threads / 1: {statistics.median(rates[threads]) / statistics.median(rates[1]):.2f}x (medians)")
    return 0


if __name__ == "__main__":
    run_script(main)
