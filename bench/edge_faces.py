"""How many faces cut by the left or right edge of a large picture the photo detector finds, by the share cut off.

A person half out of the photo.

    python bench/edge_faces.py [--photos 20] [--folder ../shared/data/wild-faces/images]

Each of `--photos` portrait photos (evenly spread over the folder) is pasted at 12-20% of the picture's width, cut by
the left edge low in the picture and by the right edge high in it, a fifth, a third and a half of it cut off, into a
generated backdrop of 2000x1500 and of 3000x2000. A face counts as found when a box reaches within half the face's
width of its edge at its height; any other box is counted as another box. Prints the faces found per share cut off,
the other boxes, and the mean detect time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.detection_recall import photo_files  # noqa: E402
from bench.pipeline_accuracy import DATA, spread  # noqa: E402
from realtime.__main__ import number  # noqa: E402
from realtime.photos import photo_detector  # noqa: E402
from realtime.scene import background  # noqa: E402

CUTS = (0.2, 0.35, 0.5)
SIZES = ((2000, 1500), (3000, 2000))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=number(int, 1), default=20)
    parser.add_argument("--folder", type=Path, default=DATA / "wild-faces" / "images")
    args = parser.parse_args()
    files = spread(photo_files(args.folder), args.photos)
    if not files:
        parser.error(f"--folder {args.folder}: no .jpg or .png photos there")
    detector, rng = photo_detector(), np.random.default_rng(0)
    found, others, times = {cut: 0 for cut in CUTS}, 0, []
    for index, file in enumerate(files):
        photo = cv2.imread(str(file))
        for width, height in SIZES:
            side = int(width * rng.uniform(0.12, 0.2))
            face = cv2.resize(photo, (side, side), interpolation=cv2.INTER_AREA)
            for cut in CUTS:
                frame, off = background(width, height, seed=index), int(side * cut)
                low, high = int(height * 0.6), int(height * 0.15)
                frame[low:low + side, :side - off] = face[:, off:]
                frame[high:high + side, width - side + off:] = face[:, :side - off]
                started = time.perf_counter()
                faces = detector.detect(frame)
                times.append(time.perf_counter() - started)
                left = any(f.box[0] < side / 2 and low <= (f.box[1] + f.box[3]) / 2 <= low + side for f in faces)
                right = any(f.box[2] > width - side / 2 and high <= (f.box[1] + f.box[3]) / 2 <= high + side
                            for f in faces)
                found[cut] += left + right
                others += len(faces) - left - right
    total = 2 * len(files) * len(SIZES)
    print(f"{len(files)} photos, each cut by the left and the right edge of {' and '.join(f'{w}x{h}' for w, h in SIZES)}")
    print("  ".join(f"{round(cut * 100)}% cut off: {found[cut]}/{total}" for cut in CUTS)
          + f"; other boxes {others}; detect mean {1000 * np.mean(times):.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
