"""Time a photo through the program's photo path (`PhotoLabeller`): models, or the turned-face step, side by side.

    python bench/photo_speed.py                                # ferplus_ens, with and without looking for turned faces
    python bench/photo_speed.py --models ferplus_ens ferplus --photos 100

Each setting labels the same wild-faces photos (evenly spread over the set), the settings alternating photo by
photo and their order swapped every round, so a busy machine slows them alike. Prints mean, median and p95 ms a
photo, and each setting's median against the first one's.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pipeline_accuracy import DATA, photo_detector, spread  # noqa: E402
from realtime.__main__ import number  # noqa: E402
from realtime.card import ModelError  # noqa: E402
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
    args = parser.parse_args()

    folder = DATA / "wild-faces" / "images"
    photos = [cv2.imread(str(path)) for path in spread(sorted(folder.glob("*.jpg")), args.photos)]
    if not photos:
        print(f"error: no wild-faces photos in {folder}", file=sys.stderr)
        return 2
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


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ModelError as err:  # a model asked for that is not there, or a broken one
        sys.exit(f"error: {err}")
