"""Write the benchmark videos: 640x480, 30 FPS, 10 s, with 1, 2 and 4 moving faces, and
`small4.mp4`: 1280x720 with 4 faces only 50 px wide (a meeting room seen from afar).

    python bench/make_clips.py [--out bench/clips]
    python -m realtime --benchmark --no-display --source bench/clips/faces4.mp4
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from realtime.__main__ import number  # noqa: E402
from realtime.scene import DemoSource, background, paste_face  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "clips"))
    parser.add_argument("--frames", type=number(int, 1), default=300)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for faces in (1, 2, 4):
        source = DemoSource(faces=faces, frames=args.frames)
        path = out / f"faces{faces}.mp4"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), source.fps, source.size)
        for frame in source:
            writer.write(frame)
        writer.release()
        print(f"wrote {path}")
    path = out / "small4.mp4"
    backdrop = background(1280, 720, seed=5)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (1280, 720))
    for i in range(args.frames):
        frame = backdrop.copy()
        for k, (x, y) in enumerate(((250, 200), (600, 450), (950, 250), (1100, 550))):
            paste_face(frame, 50, (x + 10 * math.sin(i / 20 + k), y + 6 * math.sin(i / 15 + k)), flip=bool(k % 2))
        writer.write(frame)
    writer.release()
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
