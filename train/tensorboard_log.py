"""TensorBoard logs for `python -m train --tensorboard DIR`.

Keras' own `TensorBoard` callback writes the scalar curves (`epoch_loss`, `epoch_accuracy`,
`epoch_learning_rate` under `DIR/train`, the validation ones under `DIR/validation`);
`ConfusionImage` adds the validation confusion matrix as an image (`confusion_matrix`) per epoch.
"""

from __future__ import annotations

import io
from pathlib import Path

import keras
import numpy as np

from realtime.classify import _quiet_tensorflow
from train.report import classification_metrics, plot_confusion


class ConfusionImage(keras.callbacks.Callback):
    """After each epoch, predict the validation faces and log their confusion matrix as a PNG image."""

    def __init__(self, log_dir: Path, model: keras.Model, faces: np.ndarray, targets: np.ndarray, labels: list[str]):
        super().__init__()
        self.tf = _quiet_tensorflow()
        self.writer = self.tf.summary.create_file_writer(str(log_dir / "validation"))
        self.classifier, self.labels = model, labels
        self.faces, self.truth = faces[..., None].astype(np.float32), targets.argmax(1)

    def on_epoch_end(self, epoch, logs=None):
        predicted = self.classifier.predict(self.faces, batch_size=512, verbose=0).argmax(1)
        png = io.BytesIO()
        plot_confusion(classification_metrics(self.truth, predicted, self.labels), self.labels, png,
                       f"validation, epoch {epoch + 1}")
        with self.writer.as_default():
            self.tf.summary.image("confusion_matrix", self.tf.io.decode_png(png.getvalue())[None], step=epoch)
        self.writer.flush()


def tensorboard_callbacks(log_dir: str, model: keras.Model, faces: np.ndarray, targets: np.ndarray,
                          labels: list[str]) -> list[keras.callbacks.Callback]:
    return [keras.callbacks.TensorBoard(log_dir, write_graph=False),
            ConfusionImage(Path(log_dir), model, faces, targets, labels)]
