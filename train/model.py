"""The expression CNN: a compact VGG-style network for small grayscale faces.

Input: (size, size, 1) grey levels 0-255 as float32 (the model rescales them itself).
Output: class probabilities (softmax).
"""

from __future__ import annotations

from pathlib import Path

import keras
from keras import layers


def _conv_block(x, filters: int, name: str):
    for i in (1, 2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv{i}")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn{i}")(x)
        x = layers.Activation("relu", name=f"{name}_relu{i}")(x)
    return layers.MaxPooling2D(2, name=f"{name}_pool")(x)


def build_model(num_classes: int, size: int = 48, width: int = 32, dropout: float = 0.4) -> keras.Model:
    """Four conv blocks (width, 2w, 4w, 8w filters), global average pooling, one dense head."""
    inputs = keras.Input((size, size, 1), name="face")
    x = layers.Rescaling(1.0 / 255.0, name="rescale")(inputs)
    for i, mult in enumerate((1, 2, 4, 8)):
        x = _conv_block(x, width * mult, name=f"block{i + 1}")
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    x = layers.Dense(width * 8, use_bias=False, name="fc")(x)
    x = layers.BatchNormalization(momentum=0.9, name="fc_bn")(x)
    x = layers.Activation("relu", name="fc_relu")(x)
    x = layers.Dropout(dropout / 2, name="dropout2")(x)
    outputs = layers.Dense(num_classes, name="logits")(x)
    outputs = layers.Activation("softmax", dtype="float32", name="probs")(outputs)
    return keras.Model(inputs, outputs, name=f"expression_cnn_w{width}")


def init_from(path: Path, labels: list[str], size: int = 48, dropout: float = 0.4) -> keras.Model:
    """A new network for `labels` that starts from the trained model at `path` (fine-tuning).

    It is built afresh at the current precision policy and takes the saved weights layer by
    layer; when the classes differ, the output layer keeps the saved columns of every class the
    two label lists share, and the others start from scratch.
    """
    from realtime.classify import load_keras_model, read_card

    card = read_card(path)
    saved = load_keras_model(path)
    width = int(saved.get_layer("block1_conv1").kernel.shape[-1])
    model = build_model(len(labels), size=size, width=width, dropout=dropout)
    for layer in model.layers:
        if layer.name == "logits" or not layer.weights:
            continue
        layer.set_weights(saved.get_layer(layer.name).get_weights())
    kernel, bias = (w.copy() for w in model.get_layer("logits").get_weights())
    old_kernel, old_bias = saved.get_layer("logits").get_weights()
    for i, name in enumerate(labels):
        if name in card["labels"]:
            j = card["labels"].index(name)
            kernel[:, i], bias[i] = old_kernel[:, j], old_bias[j]
    model.get_layer("logits").set_weights([kernel, bias])
    return model


def set_body_trainable(model: keras.Model, trainable: bool) -> None:
    """Freeze or unfreeze the conv blocks (frozen batch-norm layers also stop updating their statistics)."""
    for layer in model.layers:
        if layer.name.startswith("block"):
            layer.trainable = trainable


def save_model(model: keras.Model, path: Path, calibration_faces) -> int:
    """Write `path` (.keras, float16 weights) and the int8 TFLite copy beside it; returns the TFLite size."""
    from train.export import save_float16, write_tflite

    save_float16(model, path)
    return write_tflite(path, calibration_faces)
