"""Start-up: seconds from process start to the first processed frame, and peak memory then.

    python bench/startup.py                               # old (the commit before LiteRT) vs new, 7 runs each
    python bench/startup.py --runs 9 --old 469191a
    python bench/startup.py --python .venv-lean/bin/python  # also the new path in a base-only install

Each run is `python -m realtime --source PHOTO --no-display --json FILE` in a fresh process, on a
photo (matplotlib's grace_hopper.jpg unless --source), stopped as soon as the first frame has been
through detect, align and classify: the time is counted from just before the process is started,
the memory is its peak resident set (VmHWM) at that point. "old" is the program at --old (by
default the commit before LiteRT: TensorFlow imported by `import mediapipe` and for tf.lite), "new" the
working tree; the variants alternate run by run, after one unrecorded warm-up run each (which
fills the page cache). Also lists whether tensorflow or jax had been imported by then.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from realtime.__main__ import number  # noqa: E402

# Runs in the measured process: the program's own main, stopped after its first processed frame.
CHILD = r"""
import json, os, sys, time
started, report = float(sys.argv[1]), sys.argv[2]
sys.path.insert(0, os.getcwd())
from realtime import pipeline

process = pipeline.Pipeline.process

def first_frame(self, *args, **kwargs):
    result = process(self, *args, **kwargs)
    seconds = time.time() - started
    status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
    heavy = [name for name in ("tensorflow", "jax", "keras") if name in sys.modules]
    with open(report, "w") as handle:
        json.dump({"seconds": seconds, "peak_mb": int(status["VmHWM"].split()[0]) / 1024, "imported": heavy,
                   "faces": len(result.faces)}, handle)
    os._exit(0)

pipeline.Pipeline.process = first_frame
from realtime.__main__ import main
sys.exit(main(sys.argv[3:]))
"""


def measure(python: str, tree: Path, source: str, folder: Path) -> dict:
    report = folder / "report.json"
    report.unlink(missing_ok=True)
    args = ["--source", source, "--no-display", "--json", str(folder / "out.jsonl")]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    started = time.time()
    result = subprocess.run([python, "-c", CHILD, repr(started), str(report), *args], cwd=tree, env=env,
                            capture_output=True, text=True, timeout=300)
    if not report.exists():
        raise SystemExit(f"{python} in {tree} gave no first frame (exit {result.returncode}):\n{result.stderr[-2000:]}")
    return json.loads(report.read_text())


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):6.2f}  p95 {p95:6.2f}  max {ordered[-1]:6.2f}"


def has_commit(revision: str) -> bool:
    """Whether git knows `revision` as a commit in this checkout."""
    try:
        return subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"], cwd=ROOT,
                              capture_output=True).returncode == 0
    except OSError:  # no git
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=number(int, 1), default=7, help="recorded runs of each variant (default 7)")
    parser.add_argument("--old", default="469191a", help="git revision of the old program (default: the commit "
                        "before LiteRT); '' leaves it out")
    parser.add_argument("--python", action="append", default=[],
                        help="another interpreter (e.g. a base-only install) to run the new program with; repeatable")
    parser.add_argument("--source", help="image to start on (default: matplotlib's grace_hopper.jpg)")
    args = parser.parse_args()
    # Each variant runs in its own tree (the old one in a scratch folder): paths given relative to here are made whole.
    args.python = [str(Path(python).absolute()) if os.sep in python else python for python in args.python]
    missing = [python for python in args.python if shutil.which(python) is None]
    if missing:
        parser.error(f"--python {missing[0]}: no such interpreter")
    if args.old and not has_commit(args.old):
        parser.error(f"--old {args.old}: no such commit here (a shallow clone or a copy without git history?); "
                     "--old '' leaves the old program out")
    if args.source and Path(args.source).exists():
        args.source = str(Path(args.source).absolute())

    source = args.source or subprocess.run(
        [sys.executable, "-c", "import matplotlib, pathlib; "
         "print(pathlib.Path(matplotlib.get_data_path()) / 'sample_data' / 'grace_hopper.jpg')"],
        capture_output=True, text=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        variants = []
        if args.old:
            old_tree = folder / "old"
            old_tree.mkdir()
            archive = subprocess.run(["git", "archive", args.old], cwd=ROOT, capture_output=True, check=True).stdout
            with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
                tar.extractall(old_tree, filter="data")
            variants.append((f"old ({args.old})", sys.executable, old_tree))
        variants.append(("new (working tree)", sys.executable, ROOT))
        for python in args.python:
            variants.append((f"new (working tree), {python}", python, ROOT))

        results: dict[str, list[dict]] = {name: [] for name, _, _ in variants}
        for run in range(args.runs + 1):
            for name, python, tree in variants:
                record = measure(python, tree, source, folder)
                if run:  # run 0 is the warm-up
                    results[name].append(record)
                    print(f"  {name}: {record['seconds']:.2f} s, {record['peak_mb']:.0f} MB, "
                          f"imported: {', '.join(record['imported']) or 'neither TF nor JAX'}", flush=True)
    print(f"\nfirst processed frame, {args.runs} runs each (alternating), on {os.cpu_count()} CPUs:")
    for name, records in results.items():
        print(f"{name}\n  seconds  {summary([r['seconds'] for r in records])}\n"
              f"  peak MB  {summary([r['peak_mb'] for r in records])}\n"
              f"  imported {sorted({m for r in records for m in r['imported']}) or 'neither TF nor JAX'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
