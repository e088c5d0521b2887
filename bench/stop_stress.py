"""Stress the stop path: record demo:2, interrupt at a random moment, check the exit code and the file.

    python bench/stop_stress.py --runs 50

Each run starts `python -m realtime --source demo:2 --output X --no-display` (X cycling through
.avi, .mkv and .mp4), waits until the program has installed its signal handlers (Linux: read from
/proc), then a random 0 to --window seconds (so model loading, start-up and the loop are all hit),
and sends SIGINT or SIGTERM. Every run must exit 130 without a traceback and leave a file that
OpenCV reads at least one frame from. --runs of each signal; a summary at the end. Not a CI test:
it takes about 10 s per run on a 2-core machine.
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from realtime.__main__ import number  # noqa: E402


def handlers_installed(pid: int) -> bool:
    """True once the process catches SIGTERM (our handler; Python alone leaves it at the default)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True  # not Linux, or already gone
    caught = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), 16)
    return bool(caught >> (signal.SIGTERM - 1) & 1)


def readable_frames(path: Path) -> int:
    capture = cv2.VideoCapture(str(path))
    count = 0
    while count < 1000 and capture.read()[0]:
        count += 1
    capture.release()
    return count


def one_run(output: Path, signum: int, window: float, rng: random.Random) -> dict:
    process = subprocess.Popen([sys.executable, "-m", "realtime", "--source", "demo:2", "--output", str(output),
                                "--no-display"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    started = time.perf_counter()
    while process.poll() is None and not handlers_installed(process.pid) and time.perf_counter() - started < 60:
        time.sleep(0.01)
    time.sleep(rng.uniform(0, window))
    at = time.perf_counter() - started
    if process.poll() is not None:
        process.communicate()
        return {"at": at, "result": "ended before the signal", "ok": None}
    process.send_signal(signum)
    sent = time.perf_counter()
    try:
        _, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
    latency = time.perf_counter() - sent
    frames = readable_frames(output) if output.exists() else 0
    problems = []
    if process.returncode != 130:
        problems.append(f"exit {process.returncode}")
    if "Traceback" in stderr:
        problems.append("traceback")
    if frames < 1:
        problems.append("no readable frame" if output.exists() else "no file")
    return {"at": at, "latency": latency, "frames": frames, "ok": not problems,
            "result": ", ".join(problems) or "ok", "stderr": stderr[-600:]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=number(int, 1), default=50, help="runs per signal (default 50)")
    parser.add_argument("--window", type=number(float, 0, low_open=True), default=6.0,
                        help="the signal comes 0 to this many seconds after the handlers are installed (default 6)")
    parser.add_argument("--seed", type=number(int, 0, 2**32 - 1), default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    signals = [signum for _ in range(args.runs) for signum in (signal.SIGINT, signal.SIGTERM)]
    plan = [(signum, (".avi", ".mkv", ".mp4")[i % 3]) for i, signum in enumerate(signals)]  # every pair in 6 runs
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for i, (signum, suffix) in enumerate(plan):
            output = Path(folder) / f"run{i}{suffix}"
            run = {"signal": signal.Signals(signum).name, "suffix": suffix, **one_run(output, signum, args.window, rng)}
            results.append(run)
            print(f"{i + 1:3d}/{len(plan)} {run['signal']:7s} {suffix} at {run['at']:4.1f} s: {run['result']}"
                  + (f" ({run['frames']} frames, exited {run['latency']:.2f} s after the signal)" if "latency" in run else ""),
                  flush=True)
            if run["ok"] is False:
                print("    " + run["stderr"].replace("\n", "\n    "))
    print("\nsummary")
    failed = 0
    for name in ("SIGINT", "SIGTERM"):
        for suffix in (".avi", ".mkv", ".mp4"):
            runs = [r for r in results if r["signal"] == name and r["suffix"] == suffix]
            tested = [r for r in runs if r["ok"] is not None]
            bad = [r for r in tested if not r["ok"]]
            failed += len(bad)
            latencies = [r["latency"] for r in tested]
            print(f"  {name:7s} {suffix}: {len(tested) - len(bad)}/{len(tested)} ok"
                  + (f", exit after the signal p50 {np.median(latencies):.2f} s, max {max(latencies):.2f} s" if latencies else "")
                  + (f"; {len(runs) - len(tested)} ended before the signal" if len(runs) > len(tested) else ""))
    print("all runs exited 130 with a readable file" if not failed else f"{failed} runs FAILED")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
