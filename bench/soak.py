"""Soak run: many frames through the program's loop with a video and JSON output; memory must stay flat.

    python bench/soak.py                  # 10,000 frames of a generated 640x480 clip with 4 faces
    python bench/soak.py --frames 2000

It runs `realtime.loop.run` (what `python -m realtime --output soak.mp4 --json soak.jsonl` runs),
samples the process's resident memory every 500 frames (a tenth of a shorter run) and after the last, and at the end checks that
every frame is in the video and in the JSON lines. The two files go to a temporary folder, removed at the
end, unless `--out` names a folder to keep them in.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from realtime.__main__ import number  # noqa: E402
from realtime.classify import DEFAULT_MODEL, Classifier  # noqa: E402
from realtime.detect import FaceDetector  # noqa: E402
from realtime.loop import run  # noqa: E402
from realtime.output import JsonLinesWriter, VideoWriter  # noqa: E402
from realtime.pipeline import Pipeline  # noqa: E402
from realtime.scene import DemoSource  # noqa: E402
from realtime.track import ShotCuts, Tracker  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class CountingSource(DemoSource):
    """The demo clip, recording the resident memory every `every` frames."""

    def __init__(self, frames: int, every: int = 500):
        super().__init__(faces=4, frames=frames)
        self.every, self.samples = every, []

    def __iter__(self):  # frames made directly: DemoSource's own iterator keeps every frame's face boxes
        for index in range(self.frames):
            if index % self.every == 0:
                self.samples.append((index, rss_mb()))
            yield self.frame(index)[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=number(int, 1), default=10_000)
    parser.add_argument("--out", help="folder to keep soak.mp4 and soak.jsonl in (default: a temporary one, removed "
                        "at the end)")
    args = parser.parse_args()
    with nullcontext(args.out) if args.out else tempfile.TemporaryDirectory(prefix="soak-") as out:
        return soak(args.frames, Path(out))


def soak(frames: int, out: Path) -> int:
    """The soak run of `frames` frames, its video and JSON lines written into `out`; 0 when it passed."""
    out.mkdir(parents=True, exist_ok=True)
    video, jsonl = out / "soak.mp4", out / "soak.jsonl"
    source = CountingSource(frames, every=max(1, min(500, frames // 10)))  # a short run sampled more often
    pipeline = Pipeline(FaceDetector("sweep"), Classifier(DEFAULT_MODEL), by_turns=True)
    started = time.perf_counter()
    sinks = [VideoWriter(video, source.fps, source.size), JsonLinesWriter(jsonl, pipeline.classifier.labels)]
    stats, stopped = run(source, pipeline, Tracker(), sinks, cuts=ShotCuts())
    seconds = time.perf_counter() - started
    source.samples.append((stats.frames, rss_mb()))  # after the last frame
    capture = cv2.VideoCapture(str(video))
    in_video = 0
    while capture.grab():
        in_video += 1
    lines = jsonl.read_text().splitlines()
    in_json = len(lines)
    numbered = all(json.loads(line)["frame"] == i for i, line in enumerate(lines))
    print(f"{stats.frames} frames in {seconds:.0f} s ({stats.frames / seconds:.1f} FPS), stopped: {stopped}")
    print(f"in the video: {in_video}; JSON lines: {in_json} (numbered in order: {numbered})")
    print("resident memory, MB: " + ", ".join(f"{i}: {mb:.0f}" for i, mb in source.samples))
    # From the first sample after the warm-up (frame 1,000, or a fifth of a shorter run, and at least the first frame,
    # in which the models set themselves up: before it, a 3-frame run grew by 54 MB) to the one after the last frame.
    warm, first = next((i, mb) for i, mb in source.samples if i >= max(1, min(1000, frames // 5)))
    growth = source.samples[-1][1] - first
    print(f"growth after warm-up (frame {warm} to the end, frame {stats.frames}): {growth:+.0f} MB")
    ok = in_video == in_json == stats.frames == frames and numbered and growth < 50
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
