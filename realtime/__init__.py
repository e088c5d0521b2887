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


def import_mediapipe():
    """`import mediapipe`, without the TensorFlow (and JAX, which TensorFlow imports) that it loads when installed.

    mediapipe 0.10.21's `__init__` imports `mediapipe.tasks.python`, whose `core/optional_dependencies.py`
    runs `from tensorflow.tools.docs import doc_controls` (for its API-doc generator only) and falls back to
    a no-op on ModuleNotFoundError, as it does wherever TensorFlow is not installed. Importing only the
    face-detection submodule would not help: Python imports the parent package first. A None entry in
    sys.modules makes that one import fail as if TensorFlow were absent, saving about 6 s and 500 MB; it is
    removed again at once, so TensorFlow can still be imported later (the Keras backend, the trainer).
    """
    if "mediapipe" in sys.modules or "tensorflow" in sys.modules:  # nothing to save
        import mediapipe

        return mediapipe
    sys.modules["tensorflow"] = None
    try:
        import mediapipe
    finally:
        if "tensorflow" in sys.modules and sys.modules["tensorflow"] is None:
            del sys.modules["tensorflow"]
    return mediapipe
