"""FER2013 and FER+ packed for the GPU machine, in five parts: one call to it carries at most 64 MiB,
the repository takes about 49 of them, and FER2013 is 94 MB as a gzipped CSV (61 MB as packed here).

    python bench/gpu_data.py pack       # here: .gpu/fer2013.xz.1 to .5 (about 12 MB each) and .gpu/fer2013new.csv
    python3 bench/gpu_data.py unpack    # there, once every part has arrived: .gpu/data/fer2013.csv and fer2013new.csv

The faces' grey levels, labels and splits are stored as numpy arrays (each face's grey levels as differences
from its left neighbour, which compress better) and lzma-compressed; `unpack` rebuilds the CSV row for row,
in the original order (FER+ votes are matched to it by row), and checks it against the checksum `pack` took.
Needs numpy alone, as on the GPU machine. See docs/training.md: Training on the GPU machine.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import lzma
import shutil
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from train.data import DatasetError, _read_fer_rows  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
PACKED = ROOT / ".gpu"
USAGES = ("Training", "PublicTest", "PrivateTest")


def pack(fer2013: Path, ferplus: Path | None, out: Path, parts: int = 5) -> list[Path]:
    rows = list(_read_fer_rows(fer2013))
    if not rows:
        raise DatasetError(f"{fer2013}: no rows")
    labels = np.array([row[1] for row in rows])
    pixels, usage = np.stack([row[2].reshape(-1) for row in rows]), [row[3] for row in rows]
    arrays = {"labels": labels.astype(np.uint8), "usage": np.array([USAGES.index(u) for u in usage], np.uint8),
              "deltas": np.diff(pixels.astype(np.int16), axis=1, prepend=0).astype(np.uint8),
              "sha256": np.frombuffer(checksum(labels, pixels, usage).encode(), np.uint8)}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    packed = lzma.compress(buffer.getvalue(), preset=6)
    out.mkdir(parents=True, exist_ok=True)
    size = -(-len(packed) // parts)
    written = []
    for k in range(parts):
        written.append(out / f"fer2013.xz.{k + 1}")
        written[-1].write_bytes(packed[k * size:(k + 1) * size])
    if ferplus:
        written.append(out / "fer2013new.csv")
        shutil.copyfile(ferplus, written[-1])
    return written


def unpack(folder: Path, out: Path) -> Path:
    parts = sorted(folder.glob("fer2013.xz.*"), key=lambda p: int(p.suffix[1:]))
    if not parts or [int(p.suffix[1:]) for p in parts] != list(range(1, len(parts) + 1)):
        raise DatasetError(f"{folder}: the packed parts are not all there ({[p.name for p in parts]})")
    try:
        arrays = np.load(io.BytesIO(lzma.decompress(b"".join(p.read_bytes() for p in parts))))
    except (lzma.LZMAError, ValueError, OSError) as err:
        raise DatasetError(f"{folder}: the packed parts do not make one whole ({err}): is one missing?") from None
    labels, usage = arrays["labels"].astype(int), [USAGES[u] for u in arrays["usage"]]
    pixels = np.cumsum(arrays["deltas"].astype(np.int64), axis=1).astype(np.uint8)  # (differences wrap at 256)
    if checksum(labels, pixels, usage) != arrays["sha256"].tobytes().decode():
        raise DatasetError(f"{folder}: the unpacked faces differ from the packed ones")
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / "fer2013.csv"
    with open(csv_path, "w") as handle:
        handle.write("emotion,pixels,Usage\n")
        for label, face, split in zip(labels, pixels, usage):
            handle.write(f"{label},{' '.join(map(str, face))},{split}\n")
    if (folder / "fer2013new.csv").exists():
        shutil.copyfile(folder / "fer2013new.csv", out / "fer2013new.csv")
    return csv_path


def checksum(labels: np.ndarray, pixels: np.ndarray, usage) -> str:
    digest = hashlib.sha256(np.asarray(labels, np.int64).tobytes() + np.asarray(pixels, np.uint8).tobytes())
    digest.update(",".join(usage).encode())
    return digest.hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("pack", "unpack"))
    parser.add_argument("--fer2013", default=str(DATA / "fer2013.csv.gz"), help="pack: FER2013 CSV (.gz)")
    parser.add_argument("--ferplus", default=str(DATA / "fer2013new.csv"), help="pack: FER+ votes ('' to leave out)")
    parser.add_argument("--folder", default=str(PACKED), help="where the packed parts are (default .gpu/)")
    parser.add_argument("--parts", type=int, choices=range(1, 10), default=5, metavar="N",
                        help="pack: into N parts, one per call to the GPU machine (default 5: with the repository, "
                             "each stays under the 64 MiB a call carries)")
    args = parser.parse_args()
    try:
        if args.action == "pack":
            for path in pack(Path(args.fer2013), Path(args.ferplus) if args.ferplus else None, Path(args.folder),
                             args.parts):
                print(f"{path}: {path.stat().st_size / 1e6:.1f} MB")
        else:
            print(f"wrote {unpack(Path(args.folder), Path(args.folder) / 'data')}")
    except (DatasetError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
