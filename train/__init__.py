"""The trainer: FER2013 / FER+ / image folders in, a model with its card and report out."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def require_keras(command: str) -> None:
    """Raise train.data.DatasetError, as one line, where Keras or TensorFlow is not installed: the program's own
    install (`pip install -e .`, the README's first command) leaves them out, and the trainer ended in a traceback."""
    import importlib

    from realtime import quiet_stderr

    try:
        with quiet_stderr():
            importlib.import_module("keras")  # (Keras 3 imports its backend, TensorFlow, with it)
    except ImportError:
        from train.data import DatasetError

        raise DatasetError(f"{command} needs Keras and TensorFlow, which the program's own install leaves out: "
                           "pip install -e '.[train]'") from None
