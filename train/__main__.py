"""Train the expression model and write it, its card and its report into models/.

    python -m train --data ../shared/data/fer2013.csv.gz
    python -m train --data ../shared/data/fer2013.csv.gz --ferplus ../shared/data/fer2013new.csv
    python -m train --data path/to/images        # images/train/<class>/*.png, optional val/ and test/
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from train.data import FACE_SIZE, Dataset, DatasetError, load_dataset

PRECISIONS = ("auto", "float32", "mixed")


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m train", description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="fer2013.csv[.gz] or an image folder")
    parser.add_argument("--ferplus", help="FER+ votes (fer2013new.csv): train on soft labels from them")
    parser.add_argument("--out", default="models", help="output folder (default: models)")
    parser.add_argument("--name", help="model name (default: fer2013, ferplus or the folder's name)")
    parser.add_argument("--epochs", type=int, default=45, help="most epochs to train (default: 45)")
    parser.add_argument("--patience", type=int, default=12, help="stop after this many epochs without a better validation accuracy")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (cosine schedule, 2 warm-up epochs)")
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--width", type=int, default=24, help="filters of the first conv block (doubles per block)")
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--class-weight", choices=("sqrt", "balanced", "none"), default="sqrt",
                        help="loss weight per class: inverse square root of its frequency (default), inverse frequency, or none")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help="mixed = float16 on GPU, bfloat16 on CPU; auto = mixed where the hardware supports it")
    parser.add_argument("--flip-average", action="store_true",
                        help="the shipped model averages each face with its mirror image (twice the compute per face)")
    parser.add_argument("--limit", type=int, help="use at most this many faces per split (quick trials, tests)")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def choose_precision(requested: str, tf) -> str:
    """Keras dtype policy: float16 on a GPU, bfloat16 on a CPU with native bf16, else float32."""
    if requested == "float32":
        return "float32"
    if tf.config.list_physical_devices("GPU"):
        return "mixed_float16"
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        flags = ""
    if requested == "mixed" or "avx512_bf16" in flags or "amx_bf16" in flags:
        return "mixed_bfloat16"
    return "float32"


def class_weights(targets: np.ndarray, mode: str) -> np.ndarray:
    counts = np.maximum(targets.sum(0), 1.0)
    if mode == "none":
        return np.ones(len(counts), np.float32)
    weights = (counts.sum() / counts) ** (0.5 if mode == "sqrt" else 1.0)
    return (weights / (weights * counts).sum() * counts.sum()).astype(np.float32)  # mean sample weight 1


def make_augmenter(keras, seed: int):
    layers = keras.layers
    return keras.Sequential([
        layers.RandomFlip("horizontal", seed=seed),
        layers.RandomRotation(12 / 360, fill_mode="reflect", seed=seed + 1),
        layers.RandomTranslation(0.1, 0.1, fill_mode="reflect", seed=seed + 2),
        layers.RandomZoom(0.12, fill_mode="reflect", seed=seed + 3),
        layers.RandomBrightness(0.15, value_range=(0, 255), seed=seed + 4),
        layers.RandomContrast(0.25, value_range=(0, 255), seed=seed + 5),
    ], name="augment")


def subsample(dataset: Dataset, limit: int | None, seed: int) -> Dataset:
    if not limit:
        return dataset
    rng = np.random.default_rng(seed)
    splits = {}
    for name, (faces, targets) in dataset.splits.items():
        keep = np.sort(rng.permutation(len(faces))[:limit])
        splits[name] = (faces[keep], targets[keep])
    return Dataset(dataset.labels, splits, dataset.description + f", at most {limit} per split")


def train(args) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    dataset = subsample(load_dataset(args.data, ferplus=args.ferplus, seed=args.seed), args.limit, args.seed)
    x_train, y_train = dataset.split("train")
    x_val, y_val = dataset.split("val")
    dataset.split("test")  # fail now, not after training, if there is nothing to report on

    import keras
    import tensorflow as tf

    from train.model import build_model, save_model

    tf.get_logger().setLevel("ERROR")
    keras.utils.set_random_seed(args.seed)
    policy = choose_precision(args.precision, tf)
    keras.mixed_precision.set_global_policy(policy)
    name = args.name or ("ferplus" if args.ferplus else "fer2013" if Path(args.data).is_file() else Path(args.data).name)
    out = Path(args.out)
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    print(f"{dataset.description}: {len(x_train)} train / {len(x_val)} val / {len(dataset.splits['test'][0])} test faces, "
          f"classes {', '.join(dataset.labels)}; precision {policy}")

    weights = class_weights(y_train, args.class_weight)
    sample_weights = weights[y_train.argmax(1)]
    augment = make_augmenter(keras, args.seed)
    train_ds = (tf.data.Dataset.from_tensor_slices((x_train[..., None], y_train, sample_weights))
                .shuffle(len(x_train), seed=args.seed, reshuffle_each_iteration=True)
                .batch(args.batch_size)
                .map(lambda x, y, w: (augment(tf.cast(x, tf.float32), training=True), y, w),
                     num_parallel_calls=tf.data.AUTOTUNE)
                .prefetch(tf.data.AUTOTUNE))
    val_ds = tf.data.Dataset.from_tensor_slices((x_val[..., None].astype(np.float32), y_val)).batch(512)

    model = build_model(len(dataset.labels), size=FACE_SIZE, width=args.width)
    steps = max(1, int(np.ceil(len(x_train) / args.batch_size)))
    warmup = min(2 * steps, args.epochs * steps // 4)
    schedule = keras.optimizers.schedules.CosineDecay(args.lr / 10, decay_steps=args.epochs * steps - warmup,
                                                      alpha=0.01, warmup_target=args.lr, warmup_steps=warmup)
    model.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=args.weight_decay),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=args.label_smoothing),
                  metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")])
    checkpoint = out / "checkpoints" / f"{name}.best.keras"
    callbacks = [
        keras.callbacks.ModelCheckpoint(checkpoint, monitor="val_accuracy", mode="max", save_best_only=True),
        keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=args.patience, restore_best_weights=True),
        keras.callbacks.CSVLogger(out / f"{name}_history.csv"),
    ]
    started = time.time()
    history = model.fit(train_ds, validation_data=val_ds, epochs=args.epochs, callbacks=callbacks,
                        verbose=1 if sys.stdout.isatty() else 2)
    minutes = (time.time() - started) / 60

    keras.mixed_precision.set_global_policy("float32")  # ship a float32 model that runs anywhere
    final = build_model(len(dataset.labels), size=FACE_SIZE, width=args.width)
    final.set_weights(model.get_weights())
    model_path = out / f"{name}.keras"
    tflite_bytes = save_model(final, model_path)

    val_history = history.history["val_accuracy"]
    card = {
        "name": name,
        "labels": dataset.labels,
        "input": {"size": FACE_SIZE, "channels": 1, "dtype": "float32", "range": [0, 255]},
        "preprocessing": (f"face crop converted to grayscale, resized to {FACE_SIZE}x{FACE_SIZE} (cv2.INTER_AREA), "
                          "grey levels 0-255 as float32; the model rescales to 0-1 itself"),
        "output": "softmax probabilities in the order of labels",
        "flip_average": args.flip_average,
        "files": {"keras": model_path.name, "tflite": model_path.with_suffix(".tflite").name},
        "dataset": {"description": dataset.description, "labels": "FER+ vote fractions" if args.ferplus else "hard labels",
                    "train": int(len(x_train)), "val": int(len(x_val)), "test": int(len(dataset.splits["test"][0])),
                    "splits": "train = Training, val = PublicTest (model selection), test = PrivateTest (reported once)"
                    if Path(args.data).is_file() else "train/, val/ (or held out of train), test/ (or held out of train)"},
        "parameters": int(final.count_params()),
        "size_bytes": {"keras": model_path.stat().st_size, "tflite": tflite_bytes},
        "training": {"epochs_run": len(val_history), "best_epoch": int(np.argmax(val_history)) + 1,
                     "minutes": round(minutes, 1), "precision": policy, "tensorflow": tf.__version__,
                     "class_weights": dict(zip(dataset.labels, map(float, np.round(weights, 3)))),
                     "arguments": {k: v for k, v in vars(args).items() if k not in ("data", "ferplus", "out")}},
    }
    write_report(model_path, card, dataset, history.history)
    return 0


def write_report(model_path: Path, card: dict, dataset: Dataset, history: dict) -> None:
    """Evaluate the saved model as the realtime program runs it; write card, report and plots."""
    from realtime.classify import Classifier
    from train.evaluate import evaluate
    from train.report import format_report, plot_confusion, plot_curves

    model_path.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")  # Classifier needs the card
    classifier = Classifier(model_path)
    metrics = {split: evaluate(classifier, dataset, split) for split in ("val", "test")}
    test = metrics["test"]
    card["metrics"] = {
        "val_accuracy": round(metrics["val"]["accuracy"], 4),
        "test_accuracy": round(test["accuracy"], 4),
        "test_macro_f1": round(test["macro_f1"], 4),
        "test_per_class_f1": {k: round(v["f1"], 4) for k, v in test["per_class"].items()},
    }
    model_path.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    stem = model_path.with_suffix("")
    report = format_report(test, f"{model_path.name} on {dataset.description}, test split")
    Path(f"{stem}_report.txt").write_text(report)
    plot_confusion(test, card["labels"], Path(f"{stem}_confusion.png"),
                   f"{card['name']}: test accuracy {test['accuracy']:.1%}")
    plot_curves(history, Path(f"{stem}_curves.png"))
    print(report, end="")
    print(f"wrote {model_path} ({card['parameters']:,} parameters, {card['size_bytes']['tflite'] / 1e6:.1f} MB tflite) "
          f"and its card, report and plots")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return train(args)
    except DatasetError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; the best checkpoint so far is in the checkpoints/ folder", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
