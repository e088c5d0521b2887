"""How many webcam frames a second the web page gets labelled: the page in headless Chromium, whose stand-in
camera films a file with one face, against `python -m realtime.web` on this machine.

    python bench/web_camera_rate.py                 # 20 s, the default models
    python bench/web_camera_rate.py --seconds 60 --model models/fer2013.keras

Prints the page's own line ("1 face; 15.1 frames/s labelled, 30 ms per frame"). Needs Chromium
(Debian: chromium) and the web extra (Flask).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from realtime.__main__ import number  # noqa: E402
from realtime.card import run_script  # noqa: E402
from realtime.classify import Classifier  # noqa: E402
from tests.test_web import Chromium, start_server, write_y4m  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=number(float, 0, low_open=True), default=20.0,
                        help="how long the camera runs (default 20)")
    parser.add_argument("--model", default=None, help="a model for the server (default: the program's)")
    args = parser.parse_args()
    if args.model:
        Classifier(args.model)  # a model not there or broken, said here: the server's own error would go to its log
    if shutil.which("chromium") is None:
        print("error: Chromium is not installed (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as folder:
        camera = Path(folder) / "camera.y4m"
        write_y4m(camera)
        with open(Path(folder) / "server.log", "w") as log:
            server, url = start_server(args.model, log)
        try:
            browser = Chromium(Path(folder) / "profile", flags=[
                "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                f"--use-file-for-fake-video-capture={camera}"])
            try:
                browser.open(url)
                browser.evaluate("document.getElementById('start').click()")
                time.sleep(args.seconds)
                print(browser.evaluate("document.getElementById('liveStatus').textContent"))
            finally:
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    run_script(main)
