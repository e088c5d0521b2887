"""emotion-overlay: real-time facial-expression labels over a camera, video or image."""

import contextlib
import os
import sys

# Keep TensorFlow, MediaPipe and OpenCV to errors that matter; set before they are imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")


@contextlib.contextmanager
def quiet_stderr():
    """Send native (C++) log lines to /dev/null while TensorFlow or MediaPipe set themselves up."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
