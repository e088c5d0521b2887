"""A FER2013 CSV whose Training faces are replaced by the program's own crops of them, to train on.

    python bench/program_crops.py --data ../shared/data/fer2013.csv.gz --out program_crops.csv.gz
    python -m train --data program_crops.csv.gz --ferplus ../shared/data/fer2013new.csv --init models/ferplus.keras ...

Each Training face is placed in a frame (upscaled 4x, as `bench/pipeline_accuracy.py` does), found by
the `tiled` detector, eye-levelled, cut with the model card's crop and brought into its grey levels:
exactly what the program does to a face in a photo. A face the detector misses is kept as it is.
PublicTest and PrivateTest rows are copied unchanged, so validation and test scores stay comparable.
Rows keep their order, so FER+ votes (fer2013new.csv) still match them. About 30 ms a face on the
2-core CPU (16 minutes for FER2013's 28,709 Training faces). See docs/models.md, The FER+ model.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from realtime.align import align_faces  # noqa: E402
from realtime.card import run_script  # noqa: E402
from realtime.classify import DEFAULT_MODEL, Classifier  # noqa: E402
from realtime.detect import FaceDetector  # noqa: E402
from train.data import DatasetError, _read_fer_rows  # noqa: E402
from train.framing import in_frame  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA / "fer2013.csv.gz", help="FER2013 CSV (.csv or .csv.gz)")
    parser.add_argument("--out", type=Path, required=True, help="the new CSV (.csv.gz: gzipped)")
    parser.add_argument("--model", default=str(DEFAULT_MODEL), help="model whose card gives the crop and grey levels")
    args = parser.parse_args()
    classifier = Classifier(args.model)
    detector = FaceDetector("tiled", max_faces=10_000)
    opened = gzip.open if args.out.suffix == ".gz" else open
    started, training, found = time.perf_counter(), 0, 0
    try:
        with opened(args.out, "wt") as out:
            out.write("emotion,pixels,Usage\n")
            for _, emotion, face, usage in _read_fer_rows(args.data):
                if usage == "Training":
                    training += 1
                    frame = in_frame(face)
                    faces = detector.detect(frame)
                    if faces:
                        face = classifier.card.levels.apply(align_faces(frame, faces[:1], classifier.size, classifier.crop))[0]
                        found += 1
                out.write(f"{emotion},{' '.join(map(str, face.ravel()))},{usage}\n")
    except (DatasetError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}: the program's crops of {found} of {training} Training faces "
          f"({training - found} not found, kept as they are), {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    run_script(main)
