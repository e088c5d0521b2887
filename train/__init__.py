"""The trainer: FER2013 / FER+ / image folders in, a model with its card and report out."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
