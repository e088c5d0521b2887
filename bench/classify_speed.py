"""How long one batched model call takes for 1, 2, 4, 8 and 16 faces, per backend.

    python bench/classify_speed.py [--model models/fer2013.keras] [--repeats 200]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from realtime.__main__ import number  # noqa: E402
from realtime.card import run_script  # noqa: E402
from realtime.classify import DEFAULT_MODEL, Classifier  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(DEFAULT_MODEL))
    parser.add_argument("--repeats", type=number(int, 1), default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'backend':>8} {'faces':>5} {'mean ms':>8} {'p50 ms':>7} {'p95 ms':>7} {'ms/face':>8}")
    for backend in ("tflite", "keras"):
        classifier = Classifier(args.model, backend=backend)
        for faces in (1, 2, 4, 8, 16):
            batch = rng.integers(0, 256, (faces, classifier.size, classifier.size), dtype=np.uint8)
            for _ in range(10):
                classifier.predict(batch)
            times = []
            for _ in range(args.repeats):
                started = time.perf_counter()
                classifier.predict(batch)
                times.append((time.perf_counter() - started) * 1000)
            times = np.array(times)
            print(f"{backend:>8} {faces:>5} {times.mean():8.2f} {np.percentile(times, 50):7.2f} "
                  f"{np.percentile(times, 95):7.2f} {times.mean() / faces:8.2f}")
    return 0


if __name__ == "__main__":
    run_script(main)
