"""Shared fixtures: small synthetic datasets and a tiny untrained model with its card."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
LABELS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


def pattern_face(label: int, rng: np.random.Generator) -> np.ndarray:
    """A 48x48 face stand-in whose class is learnable: a bright band whose height depends on the label."""
    face = rng.integers(0, 60, (48, 48)).astype(np.uint8)
    top = 4 + 6 * label
    face[top:top + 5, 6:42] = 220
    return face


def write_fer_csv(path: Path, per_split: dict[str, int], seed: int = 0, labels: int = 7) -> list[tuple[int, str]]:
    """A FER2013-layout CSV (gzipped when the name ends in .gz); returns (label, usage) per row."""
    rng = np.random.default_rng(seed)
    rows, lines = [], ["emotion,pixels,Usage"]
    for usage, count in per_split.items():
        for i in range(count):
            label = i % labels
            rows.append((label, usage))
            lines.append(f"{label},{' '.join(map(str, pattern_face(label, rng).ravel()))},{usage}")
    text = "\n".join(lines) + "\n"
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return rows


@pytest.fixture(autouse=True)
def signal_handlers_restored():
    """A test that runs the program's main() in this process leaves SIGINT, SIGTERM and SIGHUP ignored (main ignores
    them once its files are closed, `stop.ignore`), and every process a later test started inherited that: a
    benchmark stopped by SIGTERM in a later test ran on past its timeout. Each test ends with them as it found them."""
    import signal

    kinds = [getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)]
    handlers = {kind: signal.getsignal(kind) for kind in kinds}
    yield
    for kind, handler in handlers.items():
        signal.signal(kind, handler)


@pytest.fixture
def fer_csv(tmp_path) -> Path:
    path = tmp_path / "fer2013.csv"
    write_fer_csv(path, {"Training": 21, "PublicTest": 7, "PrivateTest": 7})
    return path


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """An untrained, very narrow model saved exactly as the trainer saves one, with a card."""
    import keras

    from train.model import build_model, save_model

    folder = tmp_path_factory.mktemp("tiny_model")
    path = folder / "tiny.keras"
    keras.utils.set_random_seed(0)
    calibration = np.random.default_rng(0).integers(0, 256, (64, 48, 48), dtype=np.uint8)
    save_model(build_model(len(LABELS), size=48, width=4), path, calibration)
    card = {"name": "tiny", "labels": LABELS, "input": {"size": 48, "channels": 1, "dtype": "float32", "range": [0, 255]}}
    path.with_suffix(".json").write_text(json.dumps(card))
    return path


def run_module(module: str, *args: str, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    """Run `python -m module args` from the repository root, as a user would."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout, **kwargs)


def assert_one_line_error(result: subprocess.CompletedProcess, fragment: str) -> None:
    """A non-zero exit whose stderr ends in one 'error: ...' line naming the problem, with no traceback."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert fragment in errors[0], errors[0]
