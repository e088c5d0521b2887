"""Frame time of the program's pipeline with and without a competing busy process.

    python bench/load_test.py [--threads 1 2] [--blocks 4] [--frames 40]

Runs detect -> align -> classify -> track -> draw (the loop without capture and write) over a
generated 640x480 clip with 4 faces, the default detector (`sweep`) and the int8 TFLite model,
in alternating blocks: quiet, then with one busy Python process (`BUSY`) competing for the CPU.
Each --threads value (TFLite threads) gets its own pipeline, interleaved block by block, so all
see the same background. Prints p50/p95/p99 frame times per condition and the ratio of the p95s
(target: loaded p95 at most 2x quiet p95), for the whole frame and for the classify stage.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from realtime.__main__ import number  # noqa: E402
from realtime.classify import DEFAULT_MODEL, Classifier  # noqa: E402
from realtime.detect import FaceDetector  # noqa: E402
from realtime.draw import draw_faces  # noqa: E402
from realtime.pipeline import Pipeline  # noqa: E402
from realtime.scene import DemoSource  # noqa: E402
from realtime.track import Tracker  # noqa: E402


# The competing busy process: pure Python spinning, which ends when this script does (SIGTERM, SIGKILL, a crash),
# checking about every 10 ms whether its parent is still the one that started it.
BUSY = """
import os, sys
parent = int(sys.argv[1])
while os.getppid() == parent:
    for _ in range(100_000):
        pass
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=number(int, 1), nargs="+", default=[1, 2], help="TFLite thread counts to compare")
    parser.add_argument("--blocks", type=number(int, 1), default=4, help="blocks of each condition (default 4)")
    parser.add_argument("--frames", type=number(int, 1), default=40, help="frames per block (default 40)")
    parser.add_argument("--faces", type=number(int, 0, 9), default=4)
    args = parser.parse_args()

    clip = list(DemoSource(faces=args.faces, frames=60))  # generated once: the generator's own cost is not measured
    setups = {}
    for threads in args.threads:
        classifier = Classifier(DEFAULT_MODEL, backend="tflite", threads=threads)
        setups[threads] = (Pipeline(FaceDetector("sweep", 0.5, 8, 0), classifier, by_turns=True), Tracker(0.75, hold=5))
    times = {(threads, load): {"frame": [], "classify": []} for threads in args.threads for load in ("quiet", "loaded")}
    index = 0

    def frames(threads: int, load: str, count: int, record: bool = True) -> None:
        nonlocal index
        pipeline, tracker = setups[threads]
        for _ in range(count):
            frame = clip[index % len(clip)].copy()
            index += 1
            started = time.perf_counter()
            result = pipeline.process(frame, [track.face.box for track in tracker.tracks])
            draw_faces(frame, tracker.update(result.faces, result.probabilities), pipeline.classifier.labels)
            if record:
                times[threads, load]["frame"].append((time.perf_counter() - started) * 1000)
                times[threads, load]["classify"].append(result.times["classify"] * 1000)

    for threads in args.threads:  # warm-up: XNNPACK set-up and one interpreter per batch size
        frames(threads, "quiet", 15, record=False)
    for block in range(args.blocks):
        for load in ("quiet", "loaded"):
            busy = subprocess.Popen([sys.executable, "-c", BUSY, str(os.getpid())]) if load == "loaded" else None
            try:
                time.sleep(0.3)
                for threads in args.threads:
                    frames(threads, load, args.frames)
            finally:
                if busy:
                    busy.kill()
                    busy.wait()
        print(f"block {block + 1}/{args.blocks} done", file=sys.stderr, flush=True)

    print(f"{args.faces} faces, 640x480, detector sweep, int8 TFLite; {args.blocks} blocks x {args.frames} frames "
          f"per condition, one competing busy process when loaded")
    print(f"{'threads':>7} {'stage':>8} {'load':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}   p95 loaded/quiet")
    for threads in args.threads:
        for stage in ("frame", "classify"):
            p95 = {}
            for load in ("quiet", "loaded"):
                values = np.array(times[threads, load][stage])
                p50, p95[load], p99 = np.percentile(values, [50, 95, 99])
                ratio = f"   {p95['loaded'] / p95['quiet']:.2f}x" if load == "loaded" else ""
                print(f"{threads:>7} {stage:>8} {load:>6} {p50:7.1f} {p95[load]:7.1f} {p99:7.1f}{ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
