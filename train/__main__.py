"""Train the expression model and write it, its card and its report into --out (default models/).

    python -m train --data ../shared/data/fer2013.csv.gz
    python -m train --data ../shared/data/fer2013.csv.gz --ferplus ../shared/data/fer2013new.csv
    python -m train --data path/to/images        # images/train/<class>/*.png, optional val/ and test/
"""

from __future__ import annotations

import json
import math
import signal
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from realtime import stop
from realtime.__main__ import Parser, number
from realtime.classify import SHIPPED_MODELS
from train import require_keras
from train.data import FACE_SIZE, Dataset, DatasetError, load_dataset, note_left_out
from train.duplicates import cross_split_warning

PRECISIONS = ("auto", "float32", "mixed")
OPTIMIZERS = ("adamw", "sgd-nesterov")


# The widest network --width builds: 80 M parameters, 20 times the shipped width 56's (4096 ran out of memory in a
# traceback)
MAX_WIDTH = 256
# A loss no training that is still learning reaches: Keras clips each answer's probability at 1e-7, so a face costs at
# most about 16 times its class weight. Above it, the training diverged without a NaN (--lr 1e9: 2e19).
DIVERGED_LOSS = 1e4


class TrainingError(RuntimeError):
    """Training failed in a way the user can act on (it diverged, say); the message is shown as is."""


def parse_args(argv):
    parser = Parser(prog="python -m train", description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="fer2013.csv[.gz] or an image folder")
    parser.add_argument("--ferplus", help="FER+ votes (fer2013new.csv): train on soft labels from them")
    parser.add_argument("--out", default="models", help="output folder (default: models)")
    parser.add_argument("--name", help="model name (default: fer2013, ferplus or the folder's name)")
    parser.add_argument("--epochs", type=number(int, 1), default=90, help="epochs to train (default: 90)")
    parser.add_argument("--overwrite", action="store_true", help="replace a model of the same name in --out")
    parser.add_argument("--patience", type=number(int, 0), default=0,
                        help="stop after this many epochs without a better validation accuracy (default: 0, never); "
                             "either way the weights of the best epoch are kept")
    parser.add_argument("--batch-size", type=number(int, 1), default=128, help="faces a training step (default: 128)")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default="adamw",
                        help="adamw (default) or SGD with Nesterov momentum 0.9; both with decoupled weight decay")
    parser.add_argument("--lr", type=number(float, 0, low_open=True), default=2e-3,
                        help="peak learning rate (cosine schedule, 2 warm-up epochs; default: 0.002)")
    parser.add_argument("--weight-decay", type=number(float, 0), default=1e-4,
                        help="decoupled weight decay (default: 0.0001)")
    parser.add_argument("--prior-alpha", type=number(float, 0, 1), default=0.0,
                        help="how far the program corrects the model's answers for the training set's class shares, "
                             "0-1, written into the card (default 0; the shipped ferplus model uses 0.3)")
    parser.add_argument("--temperature", type=number(float, 0.05, 20), default=1.0,
                        help="confidence temperature written into the card: the program shows each answer raised to "
                             "1/T, renormalised (default 1: as the model answers; choose it with "
                             "bench/pipeline_accuracy.py --temperature; docs/accuracy.md: How confident)")
    parser.add_argument("--width", type=number(int, 2, MAX_WIDTH), default=None,  # XNNPACK cannot run a width of 1
                        help=f"filters of the first conv block, doubling per block, 2-{MAX_WIDTH} (default: 56, the "
                             "shipped model; with --init, the model's own)")
    parser.add_argument("--label-smoothing", type=number(float, 0, 0.99), default=0.1,
                        help="share of each target spread over all classes, 0-0.99 (default: 0.1)")
    parser.add_argument("--mixup", type=number(float, 0), default=0.0, metavar="ALPHA",
                        help="blend each training face with another, targets alike, in a Beta(ALPHA, ALPHA) proportion "
                             "(0.2 is usual; default 0: off)")
    parser.add_argument("--cutmix", type=number(float, 0), default=0.0, metavar="ALPHA",
                        help="paste a rectangle of another training face into each, targets mixed by area, Beta(ALPHA, "
                             "ALPHA) (1.0 is usual; default 0: off); with --mixup, each batch takes one of the two")
    parser.add_argument("--class-weight", choices=("sqrt", "balanced", "none"), default="sqrt",
                        help="loss weight per class: inverse square root of its frequency (default), inverse frequency, or none")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help="mixed = float16 on GPU, bfloat16 on CPU; auto = mixed where the hardware supports it")
    parser.add_argument("--flip-average", action="store_true",
                        help="the shipped model averages each face with its mirror image (twice the compute per face)")
    parser.add_argument("--teacher", nargs="+", metavar="MODEL",
                        help="trained models (.keras with cards) whose mean probabilities become part of the targets")
    parser.add_argument("--teacher-weight", type=number(float, 0, 1), default=0.5,
                        help="share of the teacher's probabilities in each target (default: 0.5)")
    parser.add_argument("--init", metavar="MODEL", nargs="?", const=str(SHIPPED_MODELS / "ferplus.keras"),
                        help="fine-tune: start from this trained model (.keras with its card; without MODEL, the "
                             "shipped ferplus model, fine-tuned from the FER2013 one); classes that differ get a new output column, "
                             "shared ones keep theirs")
    parser.add_argument("--freeze-epochs", type=number(int, 0), default=0,
                        help="with --init: train only the head (the layers after the conv blocks) for this many "
                             "epochs, then the whole network (default: 0)")
    parser.add_argument("--tensorboard", metavar="DIR",
                        help="write TensorBoard logs here: loss, accuracy and learning rate curves, and the validation "
                             "confusion matrix as an image, per epoch")
    parser.add_argument("--max-minutes", type=number(float, 0, low_open=True), metavar="M",
                        help="end training early when another epoch would end past M minutes (a machine lent for a "
                             "while, say); the best epoch so far is kept and everything is written as usual")
    parser.add_argument("--limit", type=number(int, 1), help="use at most this many faces per split (quick trials, tests)")
    parser.add_argument("--seed", type=number(int, 0, 2**32 - 1), default=0)
    return parser.parse_args(argv)


def has_gpu(keras) -> bool:
    """Whether the active Keras backend (tensorflow, jax or torch) sees a GPU."""
    backend = keras.config.backend()
    if backend == "jax":
        import jax

        return any(device.platform == "gpu" for device in jax.devices())
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    from realtime.classify import _quiet_tensorflow

    return bool(_quiet_tensorflow().config.list_physical_devices("GPU"))


def choose_precision(requested: str, gpu: bool) -> str:
    """Keras dtype policy: float16 on a GPU, bfloat16 on a CPU with native bf16, else float32."""
    if requested == "float32":
        return "float32"
    if gpu:
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
    """Random flips, small rotations/shifts/zooms, lighting changes and erased patches (training only)."""
    layers = keras.layers
    augment = keras.Sequential([
        layers.RandomFlip("horizontal", seed=seed),
        layers.RandomRotation(12 / 360, fill_mode="reflect", seed=seed + 1),
        layers.RandomTranslation(0.1, 0.1, fill_mode="reflect", seed=seed + 2),
        layers.RandomZoom(0.12, fill_mode="reflect", seed=seed + 3),
        layers.RandomBrightness(0.15, value_range=(0, 255), seed=seed + 4),
        layers.RandomContrast(0.25, value_range=(0, 255), seed=seed + 5),
        layers.RandomErasing(0.5, scale=(0.02, 0.15), value_range=(0, 255), seed=seed + 6),
    ], name="augment")
    if keras.config.backend() == "jax":
        # Keras marks the geometric layers as not XLA-compilable for TensorFlow's sake; under JAX they
        # compile, and without it every training step runs op by op.
        for layer in augment.layers:
            layer.supports_jit = True
    return augment


def teacher_targets(paths: list[str], faces: np.ndarray, labels: list[str]) -> np.ndarray:
    """The mean probabilities of trained models, each averaged with the mirror image's, in dataset label order."""
    return np.mean([_teacher_probs(path, faces, labels) for path in paths], axis=0)


def _teacher_probs(path: str, faces: np.ndarray, labels: list[str]) -> np.ndarray:
    from realtime.classify import ModelError, load_keras_model, read_card

    try:
        card = read_card(Path(path))
        teacher = load_keras_model(Path(path))
    except ModelError as err:
        raise DatasetError(f"cannot use teacher {path}: {str(err).splitlines()[0]}") from None
    missing = [name for name in labels if name not in card["labels"]]
    if missing or int(card["input"]["size"]) != faces.shape[1]:
        raise DatasetError(f"teacher {path} does not match the dataset (labels {card['labels']}, "
                           f"input {card['input']['size']} px)")
    x = faces[..., None].astype(np.float32)
    probs = (teacher.predict(x, batch_size=512, verbose=0) + teacher.predict(x[:, :, ::-1], batch_size=512, verbose=0)) / 2
    probs = probs[:, [card["labels"].index(name) for name in labels]]
    return (probs / probs.sum(1, keepdims=True)).astype(np.float32)


def subsample(dataset: Dataset, limit: int | None, seed: int) -> Dataset:
    if not limit:
        return dataset
    rng = np.random.default_rng(seed)
    splits, clear = {}, {}
    for name, (faces, targets) in dataset.splits.items():
        keep = np.sort(rng.permutation(len(faces))[:limit])
        splits[name] = (faces[keep], targets[keep])
        if dataset.clear is not None:
            clear[name] = dataset.clear[name][keep]
    return replace(dataset, splits=splits, clear=clear if dataset.clear is not None else None,
                   description=dataset.description + f", at most {limit} per split")


@dataclass
class Fitted:
    model: object  # the trained keras.Model, without the augmentation
    history: dict[str, list[float]]  # per epoch, every phase
    best_epoch: int  # 1-based: the epoch whose weights the model holds
    minutes: float
    policy: str
    class_weights: np.ndarray


def load_data(args) -> Dataset:
    """The dataset the arguments name, subsampled by --limit, with every split present."""
    crop = None
    if args.init and Path(args.data).is_dir():  # faces are cut out of photos with the crop of the model trained on
        from realtime.align import Crop
        from realtime.card import read_card

        crop = Crop.from_card(read_card(args.init))
    unreadable: list[Path] = []  # (one damaged photo among thousands stopped the run: the program skips them too)
    whole = load_dataset(args.data, ferplus=args.ferplus, seed=args.seed, crop=crop, unreadable=unreadable)
    dataset = subsample(whole, args.limit, args.seed)
    note_left_out(unreadable, "{} image{} could not be read")
    note_left_out(dataset.no_face, "no face found in {} photo{}")
    if len(dataset.labels) < 2:
        raise DatasetError(f"{args.data}: one class only ({dataset.labels[0]}); a model needs at least two")
    # Per split, the classes it has no faces of; dataset.split() fails now, not after training, if one is missing.
    absent = {split: [name for name, share in zip(dataset.labels, dataset.split(split)[1].sum(0)) if share == 0]
              for split in ("train", "val", "test")}
    if absent["train"]:
        drawn = args.limit and all(whole.split("train")[1][:, dataset.labels.index(name)].any() for name in absent["train"])
        why = (f"--limit {args.limit} drew none of them: raise it" if drawn else
               "an empty class folder, or no face found in its photos")
        raise DatasetError(f"{args.data}: no training faces of {', '.join(absent['train'])} ({why})")
    for split in ("val", "test"):
        if absent[split]:
            print(f"note: the {split} split has no faces of {', '.join(absent[split])}: its accuracy says nothing "
                  "about them", file=sys.stderr)
    return dataset


def check_args(args) -> None:
    if args.init and args.width is not None:
        raise DatasetError("--width goes without --init: a fine-tuned model keeps the width it has")
    if not args.init:
        args.width = args.width or 56
    if args.freeze_epochs and not args.init:
        raise DatasetError("--freeze-epochs goes with --init: it freezes the body of a trained model")
    if args.freeze_epochs > args.epochs:
        raise DatasetError(f"--freeze-epochs {args.freeze_epochs} is more than --epochs {args.epochs}")
    for path in [*(args.teacher or []), *([args.init] if args.init else [])]:  # (before the data is read)
        if not Path(path).is_file():
            raise DatasetError(f"model not found: {path}")
    if args.tensorboard and Path(args.tensorboard).exists() and not Path(args.tensorboard).is_dir():
        raise DatasetError(f"--tensorboard {args.tensorboard} is a file: it takes a folder for the logs")


def fit(args, dataset: Dataset, out: Path, name: str, verbose: int = 2) -> Fitted:
    """Build (or --init) the network and train it on `dataset`; checkpoints and the history CSV go into `out`.

    With --freeze-epochs N, the first N epochs train only the head; the body is then unfrozen and
    the optimizer recompiled, its learning-rate schedule carrying on where it was. Either way the
    weights of the best validation epoch (after unfreezing) are kept. Meanwhile Ctrl-C or SIGTERM
    stops it after the batch in hand (`stop_on_request`), a second one at once.
    """
    stop.install()
    try:
        return _fit(args, dataset, out, name, verbose)
    finally:  # Ctrl-C and SIGTERM as Python has them
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _fit(args, dataset: Dataset, out: Path, name: str, verbose: int) -> Fitted:
    from realtime import quiet_stderr

    with quiet_stderr():
        import keras

    from realtime.classify import ModelError
    from train.mixing import MixedBatches
    from train.model import build_model, init_from, set_body_trainable

    keras.utils.set_random_seed(args.seed)
    policy = choose_precision(args.precision, has_gpu(keras))
    keras.mixed_precision.set_global_policy(policy)
    if verbose:
        print(f"{keras.config.backend()} backend, precision {policy}")
    x_train, y_train = dataset.split("train")
    x_val, y_val = dataset.split("val")
    weights = class_weights(y_train, args.class_weight)
    sample_weights = weights[y_train.argmax(1)]
    if args.teacher:
        y_train = (1 - args.teacher_weight) * y_train + args.teacher_weight * teacher_targets(args.teacher, x_train, dataset.labels)

    if args.init:
        if verbose:
            print(f"starting from {args.init}")
        try:
            model = init_from(Path(args.init), dataset.labels, size=FACE_SIZE)
        except (ModelError, ValueError) as err:
            raise DatasetError(f"cannot start from {args.init}: {str(err).splitlines()[0]}") from None
    else:
        model = build_model(len(dataset.labels), size=FACE_SIZE, width=args.width or 56)
    # Augmentation runs inside the training model (on the GPU where there is one); it is off at inference.
    trainer = keras.Sequential([keras.Input((FACE_SIZE, FACE_SIZE, 1)), make_augmenter(keras, args.seed), model])
    steps = max(1, int(np.ceil(len(x_train) / args.batch_size)))
    warmup = min(2 * steps, args.epochs * steps // 4)
    schedule = keras.optimizers.schedules.CosineDecay(args.lr / 10, decay_steps=args.epochs * steps - warmup,
                                                      alpha=0.01, warmup_target=args.lr, warmup_steps=warmup)
    logger = history_logger(keras, out / f"{name}_history.csv")
    diverged: list[int] = []  # epochs (1-based) whose loss was NaN, infinite or enormous
    callbacks = [
        stop_on_request(keras),
        stop_on_nan(keras, trainer, diverged),  # first: the callbacks after it see such an epoch's accuracy as NaN
        keras.callbacks.ModelCheckpoint(out / "checkpoints" / f"{name}.best.keras", monitor="val_accuracy", mode="max",
                                        save_best_only=True),
        logger,
    ]
    if args.tensorboard:
        from train.tensorboard_log import tensorboard_callbacks

        callbacks += tensorboard_callbacks(args.tensorboard, model, x_val, y_val, dataset.labels)
    history: dict[str, list[float]] = {}
    faces = x_train[..., None].astype(np.float32)
    if args.mixup or args.cutmix:  # one stream of mixed batches for all phases
        inputs = dict(x=MixedBatches(faces, y_train, sample_weights, args.batch_size, args.mixup, args.cutmix, args.seed))
    else:
        inputs = dict(x=faces, y=y_train, sample_weight=sample_weights, batch_size=args.batch_size, shuffle=True)
    phases = [(0, args.freeze_epochs), (args.freeze_epochs, args.epochs)]
    started = time.time()
    if args.max_minutes:
        callbacks.append(stop_in_time(keras, trainer, started + 60 * args.max_minutes))
    for first, last in [(first, last) for first, last in phases if last > first]:
        set_body_trainable(model, first >= args.freeze_epochs)
        if verbose and args.freeze_epochs:  # (Keras heads no phase of one epoch with its "Epoch 1/1")
            print(f"epoch{'s' * (last - first > 1)} {first + 1}" + (f"-{last}" if last - first > 1 else "") +
                  f" of {args.epochs}: " + ("the head only, the body frozen" if first < args.freeze_epochs
                                            else "the whole network"))
        optimizer = make_optimizer(keras, args.optimizer, schedule, args.weight_decay)
        optimizer.iterations.assign(first * steps)  # the schedule carries on across phases
        trainer.compile(optimizer=optimizer,
                        loss=keras.losses.CategoricalCrossentropy(label_smoothing=args.label_smoothing),
                        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")])
        logger.append = first > 0
        early = keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", restore_best_weights=True,
                                              patience=args.patience or args.epochs)
        phase = trainer.fit(**inputs, initial_epoch=first, epochs=last, callbacks=[*callbacks, early],
                            validation_data=(x_val[..., None].astype(np.float32), y_val),
                            validation_batch_size=512, verbose=verbose)
        for key, values in phase.history.items():
            history.setdefault(key, []).extend(values)
        if diverged:  # no later phase starts from a diverged one
            break
    if diverged:
        if np.isnan(phase.history["val_accuracy"]).all():
            raise TrainingError(f"training diverged: the loss became NaN, infinite or enormous in epoch {diverged[0]} "
                                f"(precision {policy}, --lr {args.lr:g}); try "
                                + ("a lower --lr" if policy == "float32" else "--precision float32 or a lower --lr"))
        print(f"warning: the loss became NaN, infinite or enormous in epoch {diverged[0]}; training stopped there and the best "
              "epoch before it is kept", file=sys.stderr)
    if not all(np.isfinite(values).all() for values in model.get_weights()):  # (saved, the model answered nothing)
        raise TrainingError(f"training diverged: the model's weights became NaN or infinite (--lr {args.lr:g}); "
                            "try a lower --lr")
    best_epoch = first + int(np.nanargmax(phase.history["val_accuracy"])) + 1
    return Fitted(model, history, best_epoch, (time.time() - started) / 60, policy, weights)


def history_logger(keras, path: Path):
    """Keras's CSVLogger, counting epochs from 1 as the console, the card's best_epoch and the curves do
    (Keras counts from 0)."""

    class HistoryLogger(keras.callbacks.CSVLogger):
        def on_epoch_end(self, epoch, logs=None):
            super().on_epoch_end(epoch + 1, logs)

    return HistoryLogger(path)


def stop_on_request(keras):
    """A callback that turns Ctrl-C or SIGTERM (which `fit` routes to `stop.requested`) into a
    KeyboardInterrupt after the batch in hand: raised at any moment, it could land in a library's clean-up (JAX's
    garbage-collector callback) and be lost, and training then ran to its end."""

    def check(batch, logs):
        if stop.requested:
            raise KeyboardInterrupt

    return keras.callbacks.LambdaCallback(on_train_batch_end=check, on_test_batch_end=check)


def stop_on_nan(keras, trainer, diverged: list[int]):
    """A callback that ends training after an epoch whose loss or validation loss is NaN, infinite or enormous
    (DIVERGED_LOSS), noting
    the epoch in `diverged` and its validation accuracy as NaN, so that neither the best checkpoint nor the
    weights restored at the end are of it (NaN answers still score some accuracy: all one class)."""

    def check(epoch, logs):
        if not all(math.isfinite(value := logs.get(key, 0.0)) and value < DIVERGED_LOSS for key in ("loss", "val_loss")):
            logs["val_accuracy"] = float("nan")
            diverged.append(epoch + 1)
            trainer.stop_training = True

    return keras.callbacks.LambdaCallback(on_epoch_end=check)


def stop_in_time(keras, trainer, deadline: float):
    """A callback that ends training after the epoch that leaves too little time for one more (the longest
    epoch so far) before `deadline` (time.time())."""
    last = {"end": time.time(), "longest": 0.0}

    def check(epoch, logs):
        now = time.time()
        last["longest"], last["end"] = max(last["longest"], now - last["end"]), now
        if now + last["longest"] > deadline:
            trainer.stop_training = True

    return keras.callbacks.LambdaCallback(on_epoch_end=check)


def make_optimizer(keras, name: str, schedule, weight_decay: float):
    if name == "sgd-nesterov":
        return keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    return keras.optimizers.AdamW(schedule, weight_decay=weight_decay)


def output_place(args) -> tuple[Path, str]:
    """The output folder (made now) and the model's name; refuses to replace a model without --overwrite. Its
    checkpoints/ folder is made once the data has been read: a run that fails before leaves none."""
    if args.name is not None and not args.name.strip():
        raise DatasetError("--name is empty: give the model a name, or leave --name out for the default")
    name = args.name or ("ferplus" if args.ferplus else "fer2013" if Path(args.data).is_file()
                         else Path(args.data).resolve().name)
    if Path(name).name != name or name in (".", ".."):
        raise DatasetError(f"--name {name}: a model name, not a path (the folder is --out)")
    out = Path(args.out)
    if (out / f"{name}.keras").exists() and not args.overwrite:
        raise DatasetError(f"{out / (name + '.keras')} exists: choose another --name or --out, or pass --overwrite")
    make_folder(out)
    return out, name


def make_folder(folder: Path) -> None:
    """Make `folder` (and its parents); one that cannot be made is a DatasetError naming it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DatasetError(f"cannot write into {folder}: {err.strerror}") from None


STALE_OUTPUTS = ("_report.txt", "_confusion.png", "_curves.png")  # what train.export writes beside the TFLite copy


def train(args) -> int:
    check_args(args)
    require_keras("python -m train")  # (before the dataset is read)
    out, name = output_place(args)
    if args.tensorboard:
        make_folder(Path(args.tensorboard))
    dataset = load_data(args)
    make_folder(out / "checkpoints")
    x_train, x_val = dataset.split("train")[0], dataset.split("val")[0]
    print(f"{dataset.description}: {len(x_train)} train / {len(x_val)} val / {len(dataset.splits['test'][0])} test faces, "
          f"classes {', '.join(dataset.labels)}")
    warning = cross_split_warning({name: faces for name, (faces, _) in dataset.splits.items()})
    if warning:
        print(warning, file=sys.stderr)
    # What the card says of the data, written first beside the best checkpoint too: interrupted, that is a model
    # the program and the tools take (--model, --init, train.evaluate, train.export).
    described = data_card(args, dataset, name)
    checkpoint = out / "checkpoints" / f"{name}.best.keras"
    checkpoint.unlink(missing_ok=True)  # an earlier run's: stopped before an epoch ended, this run called it its own
    arguments = {k: v for k, v in vars(args).items() if k not in ("data", "ferplus", "out")}
    # (its arguments too: the tools take the --seed and --limit the faces were drawn by from them)
    checkpoint.with_suffix(".json").write_text(json.dumps({**described, "files": {"keras": checkpoint.name},
                                                           "training": {"arguments": arguments}}, indent=2) + "\n")
    try:
        fitted = fit(args, dataset, out, name, verbose=1 if sys.stdout.isatty() else 2)
    except KeyboardInterrupt:
        if checkpoint.exists():
            print(f"the best epoch so far, with its card: {checkpoint} (its TFLite copy and report: python -m "
                  f"train.export --model {checkpoint} --data {args.data}"
                  + (f" --ferplus {args.ferplus}" if args.ferplus else "") + ")", file=sys.stderr)
        else:
            checkpoint.with_suffix(".json").unlink(missing_ok=True)
            print("no epoch was finished: no model kept", file=sys.stderr)
        raise
    except TrainingError:  # diverged in its first epoch: the checkpoint holds that epoch's NaN weights
        checkpoint.unlink(missing_ok=True)
        checkpoint.with_suffix(".json").unlink(missing_ok=True)
        raise
    except Exception as err:  # (out of memory, say): the card written for the checkpoint goes too, where there is none
        if not checkpoint.exists():
            checkpoint.with_suffix(".json").unlink(missing_ok=True)
        if isinstance(err, MemoryError) or any(word in str(err) for word in ("RESOURCE_EXHAUSTED", "OOM when allocating")):
            raise TrainingError(f"out of memory training this model (width {args.width or 'of --init'}, --batch-size "
                                f"{args.batch_size}): try a smaller --width or --batch-size") from None
        raise
    model = fitted.model

    import keras

    from realtime.classify import file_sha256
    from train.export import finish, save_float16

    model_path = out / f"{name}.keras"
    save_float16(model, model_path)  # whatever the training precision, the file holds float16 weights
    card = {
        **described,
        "files": {"keras": model_path.name},
        "parameters": int(model.count_params()),
        **({"initialised_from": Path(args.init).name} if args.init else {}),
        "size_bytes": {"keras": model_path.stat().st_size},
        "sha256": {"keras": file_sha256(model_path)},  # the program checks the file against it before loading
        "training": {"epochs_run": len(fitted.history["val_accuracy"]), "best_epoch": fitted.best_epoch,
                     "minutes": round(fitted.minutes, 1), "precision": fitted.policy,
                     "keras": f"{keras.__version__} ({keras.config.backend()} backend)",
                     "class_weights": dict(zip(dataset.labels, map(float, np.round(fitted.class_weights, 3)))),
                     "arguments": arguments},
    }
    model_path.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    if keras.config.backend() != "tensorflow":
        for stale in (model_path.with_suffix(".tflite"), *(out / f"{name}{end}" for end in STALE_OUTPUTS)):
            stale.unlink(missing_ok=True)  # an earlier model's (--overwrite): the program would run its TFLite copy
        print(f"wrote {model_path}; the TFLite copy and the report need the tensorflow backend:\n"
              f"  python -m train.export --model {model_path} --data {args.data}"
              + (f" --ferplus {args.ferplus}" if args.ferplus else ""))
        return 0
    finish(model_path, dataset)
    return 0


def data_card(args, dataset: Dataset, name: str) -> dict:
    """The model card's entries that come from the data and the options, not from training: labels, input, the
    class shares, and the crop and grey levels of the training faces (which the program reproduces)."""
    from realtime.classify import ModelError
    from train.framing import crop_for, levels_for

    (x_train, y_train), x_val = dataset.split("train"), dataset.split("val")[0]
    shares = y_train.sum(0) / y_train.sum()
    card = {
        "name": name,
        "labels": dataset.labels,
        "input": {"size": FACE_SIZE, "channels": 1, "dtype": "float32", "range": [0, 255]},
        "preprocessing": (f"face crop converted to grayscale, resized to {FACE_SIZE}x{FACE_SIZE} (cv2.INTER_AREA), "
                          "grey levels 0-255 as float32; the model rescales to 0-1 itself"),
        "output": "softmax probabilities in the order of labels",
        "flip_average": args.flip_average,
        # The training set's class shares; the program divides the answers by their prior_alpha power.
        "class_prior": [max(1e-4, round(float(p), 4)) for p in shares],
        "prior_alpha": args.prior_alpha,
        "temperature": args.temperature,
        "dataset": {"description": dataset.description,
                    "labels": ("FER+ vote fractions" if args.ferplus else "hard labels")
                    + (f", mixed {args.teacher_weight:g} with the probabilities of {len(args.teacher)} teacher model(s)" if args.teacher else ""),
                    "train": int(len(x_train)), "val": int(len(x_val)), "test": int(len(dataset.splits["test"][0])),
                    "splits": "train = Training, val = PublicTest (model selection), test = PrivateTest (reported once)"
                    if Path(args.data).is_file() else "train/, val/ (or held out of train), test/ (or held out of train)"},
    }
    try:  # the framing of the training faces, which the program's crop reproduces: that which cut them out of photos,
        crop = cut_crop(dataset) or crop_for(x_train, 500)  # else as measured on them
    except (ImportError, ModelError):  # a training machine without MediaPipe's face models (a GPU machine with JAX alone)
        crop = None
        print("note: MediaPipe is not installed here, so the card has no crop yet: measure it where it is, with "
              f"python -m train.framing --model {Path(args.out) / (name + '.keras')} --data {args.data}", file=sys.stderr)
    if crop:
        card["crop"] = crop
    card["levels"] = levels_for(x_train)  # their brightness and contrast, into which the program brings its crops
    return card


def cut_crop(dataset: Dataset) -> dict | None:
    """The card's `crop` entry for faces the trainer cut out of photos itself (None for face crops): the crop they
    were cut with (measuring it again on the faces moved it, by 10 grey levels a pixel on real photos)."""
    if dataset.cut_with is None:
        return None
    crop = dataset.cut_with
    return {"scale": round(crop.scale, 3), "shift": round(crop.shift, 3),
            "measured": "the crop the trainer cut the faces out of the training photos with"}


def run_command(work, args, interrupted: str) -> int:
    """`work(args)`, with bad input as one `error:` line (exit 2) and Ctrl-C as `interrupted` (exit 130)."""
    from realtime.card import ModelError

    try:
        return work(args)
    except (DatasetError, ModelError, TrainingError) as err:
        print(f"error: {(str(err).splitlines() or [''])[0]}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        return 130


def main(argv: list[str] | None = None) -> int:
    return run_command(train, parse_args(argv), "interrupted")


if __name__ == "__main__":
    sys.exit(main())
