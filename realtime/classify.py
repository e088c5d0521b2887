"""Classify stage: a trained expression model and its JSON card, one batched call per frame.

A model is `NAME.keras` (and usually `NAME.tflite`) with `NAME.json` beside it. The card
says the labels in output order and the input size; faces go in as uint8 grayscale
squares of that size. On a GPU the Keras model runs through TensorFlow (in float32; the
file stores float16 weights); on a CPU the int8 TFLite copy runs through XNNPACK, which is
several times faster for small batches. The TFLite copy runs in LiteRT (ai-edge-litert), which
needs no TensorFlow: the program starts in about a second instead of several (docs/benchmarks.md: Start-up);
TensorFlow's own tf.lite is the fallback where LiteRT is not installed. Where the card records
each file's SHA-256, the file is checked against it before it is loaded: a damaged TFLite file
can crash the interpreter.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import zipfile
from functools import partial
from pathlib import Path

import numpy as np

from realtime import quiet_stderr
from realtime.card import ModelCard, ModelError, file_sha256, read_card  # noqa: F401 - read_card, file_sha256: for the trainer

# The shipped models: models/ in a checkout (and an editable install); inside the package when installed
# from a wheel (`pip install .`, `pip install git+URL`), which carries them as realtime/models.
_CHECKOUT_MODELS = Path(__file__).resolve().parent.parent / "models"
SHIPPED_MODELS = next((folder for folder in (_CHECKOUT_MODELS, Path(__file__).resolve().parent / "models")
                       if (folder / "ferplus.json").is_file()), _CHECKOUT_MODELS)
# A FER+ model: right on real faces far more often than the FER2013 one (docs/accuracy.md).
# Photos get the mean of three FER+ models, right more often still; video and cameras get one of them alone,
# ferplus_a, the best of the three through the program, which leaves the frame time for 30 FPS with 4 faces
# on a 2-core CPU.
DEFAULT_MODEL = SHIPPED_MODELS / "ferplus_a.keras"
DEFAULT_PHOTO_MODEL = SHIPPED_MODELS / "ferplus_ens.json"
BACKENDS = ("auto", "keras", "tflite")
# What runs the .tflite file: LiteRT where installed (auto), or TensorFlow's tf.lite.
RUNTIMES = ("auto", "litert", "tensorflow")


def shipped_model(model: str | Path) -> Path:
    """`model` as a path; a bare name that is no file here (`fer2013`, `ferplus.tflite`) names a shipped model."""
    path = Path(model)
    if (not path.exists() and path.name == str(model) and path.suffix in ("", ".keras", ".tflite", ".json")
            and (SHIPPED_MODELS / f"{path.stem}.json").is_file()):
        return SHIPPED_MODELS / (path.name if path.suffix else f"{path.name}.keras")
    return path


def _quiet_tensorflow(purpose: str = "the trainer"):
    try:
        with quiet_stderr():
            import tensorflow as tf
    except ImportError:
        raise ModelError(f"{purpose} needs TensorFlow, which is not installed "
                         "(pip install 'emotion-overlay[gpu]', or '[train]' without a GPU)") from None
    tf.get_logger().setLevel("ERROR")
    return tf


def _has_tensorflow() -> bool:
    return importlib.util.find_spec("tensorflow") is not None  # without importing it


def _may_have_gpu() -> bool:
    """False where TensorFlow certainly sees no GPU, found without importing it (which takes seconds).

    On Linux TensorFlow's GPUs need the NVIDIA driver (/proc/driver/nvidia) or ROCm's (/dev/kfd); on macOS
    the tensorflow-metal plug-in. Anywhere else, and wherever one of those is there, TensorFlow is asked.
    """
    if not _has_tensorflow():
        return False
    if sys.platform.startswith("linux"):
        return os.path.isdir("/proc/driver/nvidia/gpus") or os.path.exists("/dev/kfd")
    if sys.platform == "darwin":
        return importlib.util.find_spec("tensorflow_metal") is not None
    return True


def tflite_interpreter(runtime: str = "auto"):
    """(name, Interpreter class) that runs .tflite files: LiteRT's, or TensorFlow's for `tensorflow` or
    where LiteRT is not installed. Both take the same arguments and give the same results (tests)."""
    if runtime not in RUNTIMES:
        raise ModelError(f"unknown TFLite runtime '{runtime}' (choose from {', '.join(RUNTIMES)})")
    if runtime != "tensorflow":
        try:
            from ai_edge_litert.interpreter import Interpreter

            return "litert", Interpreter
        except ImportError:
            if runtime == "litert" or not _has_tensorflow():
                raise ModelError("the TFLite backend needs LiteRT, which is not installed "
                                 "(pip install ai-edge-litert)") from None
    return "tensorflow", _quiet_tensorflow("the TFLite backend without LiteRT").lite.Interpreter


def with_dtype(model, dtype: str):
    """The same network with its weights and computation in `dtype` (the float32 softmax output stays)."""
    config = model.get_config()
    for layer in config["layers"]:
        if layer["class_name"] != "InputLayer" and layer["config"].get("name") != "probs":
            layer["config"]["dtype"] = dtype
    copy = model.__class__.from_config(config)
    copy.set_weights([w.astype(dtype) for w in model.get_weights()])
    return copy


def no_network(card: Path, members: list[str], instead: str) -> ModelError:
    """The error for a tool given an ensemble's card where it needs a network (training from it, exporting it)."""
    return ModelError(f"{card} is an ensemble of {', '.join(members)}, with no network of its own: {instead}")


def load_keras_model(path: Path):
    """A saved Keras model in float32; models/ stores float16 weights to halve the file."""
    import keras

    card = Path(path).with_suffix(".json")
    members = ModelCard.load(card).members if card.is_file() else []
    if members:
        raise no_network(card, members, "name its members instead")
    if Path(path).is_file() and not zipfile.is_zipfile(path):  # (Keras would say "File not found")
        raise ModelError(f"cannot load model {path}: it is not a Keras model file (a .keras file is a zip archive)")
    try:
        model = keras.models.load_model(path, compile=False)
        if any(w.dtype != "float32" for w in model.weights):
            model = with_dtype(model, "float32")
    except Exception as err:  # Keras raises many types for a damaged file
        raise ModelError(f"cannot load model {path}: {str(err).splitlines()[0][:200]}") from None
    return model


class KerasModel:
    """A backend: the .keras model through TensorFlow (float32). Called with a float32 batch
    (N, size, size, 1) of grey levels 0-255, it returns (N, classes) probabilities."""

    def __init__(self, path: Path, size: int):
        tf = _quiet_tensorflow("the Keras backend")
        model = load_keras_model(path)
        self.input_shape, self.outputs = tuple(model.input_shape[1:]), int(model.output_shape[-1])
        self._call = tf.function(lambda x: model(x, training=False),
                                 input_signature=[tf.TensorSpec((None, size, size, 1), tf.float32)])

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self._call(batch).numpy()


class TFLiteModel:
    """A backend: the int8 .tflite copy through LiteRT (or tf.lite, `runtime`), XNNPACK on `threads`
    threads. Same call as KerasModel."""

    CHUNK = 128  # TFLite (TF 2.18) returns a wrong number of rows for batches of 256 or more

    def __init__(self, path: Path, size: int, threads: int = 1, runtime: str = "auto", content: bytes | None = None):
        """`content`: the file's bytes, when already read (and checked against the card)."""
        self.runtime, self._interpreter_class = tflite_interpreter(runtime)
        self.path, self.threads, self._shape = path, threads, (size, size, 1)
        # From memory, not model_path: only then does TFLite (LiteRT too) verify the file's structure, and a
        # damaged file gives an error instead of a segmentation fault.
        self._content = path.read_bytes() if content is None else content
        first = self._make(1)
        self._source, self._target = first.get_input_details()[0], first.get_output_details()[0]
        self.input_shape, self.outputs = tuple(self._source["shape"][1:]), int(self._target["shape"][-1])
        # Resizing an interpreter re-prepares XNNPACK (tens of ms), so keep one per batch size:
        # the number of faces changes often but takes few distinct values.
        self._interpreters = {1: first}

    def _make(self, batch: int):
        try:
            with quiet_stderr():
                interpreter = self._interpreter_class(model_content=self._content, num_threads=self.threads)
                face_input = interpreter.get_input_details()[0]
                if batch != face_input["shape"][0]:
                    interpreter.resize_tensor_input(face_input["index"], (batch, *self._shape))
                interpreter.allocate_tensors()
        except Exception as err:
            raise ModelError(f"cannot load model {self.path}: {str(err).splitlines()[0][:200]}") from None
        return interpreter

    def _chunk(self, batch: np.ndarray) -> np.ndarray:
        interpreter = self._interpreters.get(len(batch))
        if interpreter is None:
            interpreter = self._interpreters[len(batch)] = self._make(len(batch))
        interpreter.set_tensor(self._source["index"], batch)
        interpreter.invoke()
        return interpreter.get_tensor(self._target["index"]).copy()

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        probs = np.concatenate([self._chunk(batch[i:i + self.CHUNK]) for i in range(0, len(batch), self.CHUNK)])
        return probs / probs.sum(1, keepdims=True)  # an int8 softmax sums to 1 only within about 1%


def sharpen(probabilities: np.ndarray, power: float) -> np.ndarray:
    """Each row raised to `power` and renormalised (temperature scaling of probabilities): above 1 sharper,
    below 1 flatter; the order of the classes in a row never changes."""
    if power == 1:
        return probabilities
    probabilities = np.asarray(probabilities, np.float64)
    logs = power * np.log(np.maximum(probabilities, 1e-12))
    raised = np.where(probabilities > 0, np.exp(logs - logs.max(-1, keepdims=True)), 0.0)  # (a class left out stays 0)
    return (raised / raised.sum(-1, keepdims=True)).astype(np.float32)


class Ensemble:
    """A backend: the models an ensemble's card names (`members`), each loaded and checked as a model given
    alone; the answer is the mean of theirs. The ensemble's own card gives the crop, the grey levels and
    the class-share correction, applied once to the mean."""

    def __init__(self, card: ModelCard, backend: str, threads: int, runtime: str):
        self.members = []
        for name in card.members:
            member_path = card.path.with_name(f"{name}.keras")
            if not member_path.with_suffix(".json").is_file():
                raise ModelError(f"ensemble {card.path}: its member {name} is not there (no {name}.json beside it)")
            if ModelCard.load(member_path).members:
                raise ModelError(f"ensemble {card.path} names {name}, itself an ensemble: members must be single models")
            member = Classifier(member_path, backend, threads, runtime, prior_alpha=0)
            if (member.labels, member.size) != (card.labels, card.size):
                raise ModelError(f"ensemble {card.path}: member {name} has the labels {', '.join(member.labels)} and "
                                 f"input {member.size}x{member.size}, the ensemble's card "
                                 f"{', '.join(card.labels)} and {card.size}x{card.size}")
            self.members.append(member)
        self.backend, self.runtime = self.members[0].backend, self.members[0].runtime
        self.input_shape, self.outputs = (card.size, card.size, 1), len(card.labels)

    def __call__(self, batch: np.ndarray, member: int | None = None) -> np.ndarray:
        """The mean of the members' answers; with `member`, that member's alone (`member` modulo their number)."""
        if member is not None:
            return self.members[member % len(self.members)]._run(batch)
        return np.mean([member._run(batch) for member in self.members], axis=0)


class ClassesError(ModelError, ValueError):
    """`classes` that do not name two or more of the model's classes: a bad argument (ValueError), which the program
    reports as it reports its model's errors (ModelError)."""


def checked_classes(classes: list[str], labels: list[str]) -> list[str]:
    """`classes` as the model's labels, once each: each by the model's own name for it, or a name photo sets use for
    it (`happiness`, `Anger`); ClassesError unless they are two or more of the model's."""
    from realtime.labels import CLASS_ALIASES

    if isinstance(classes, (str, bytes)) or not all(isinstance(name, str) for name in classes):
        raise ClassesError(f"classes: a list of class names, such as {list(labels[:2])}, not {classes!r}")
    def meaning(name: str) -> str:  # the class a name stands for (`happiness`: happy), or the name, in lower case
        return CLASS_ALIASES.get(name.strip().lower(), name.strip().lower())

    by_meaning = {meaning(name): name for name in labels}
    by_name = {name.strip().lower(): name for name in labels}  # the model's own names first, in any letter case
    named = [by_name.get(name.strip().lower()) or by_meaning.get(meaning(name)) for name in classes]
    missing = [given for given, name in zip(classes, named) if name is None]
    if missing:
        spaced = any(" " in name.strip() for name in missing)  # ("angry disgust fear": one name, to a comma's split)
        raise ClassesError(f"the model has no class {', '.join(missing)} (its classes: {', '.join(labels)}"
                           + ("; separate them with commas" if spaced else "") + ")")
    kept = list(dict.fromkeys(named))
    if len(kept) < 2:
        raise ClassesError(f"name two or more of the model's classes ({', '.join(labels)}), not only "
                           f"{', '.join(kept) or 'none'}")
    return kept


class Classifier:
    def __init__(self, model_path: str | Path = DEFAULT_MODEL, backend: str = "auto", threads: int = 1,
                 runtime: str = "auto", prior_alpha: float | None = None, classes: list[str] | None = None):
        """`threads`: TFLite threads. One keeps the time per frame steady when other processes want the CPU
        (with two on a busy 2-core machine, one call could take 50x longer, waiting for both cores).
        `runtime`: what runs a .tflite file (RUNTIMES); `self.runtime` says which did.
        `prior_alpha`: how far to correct for the training set's class shares (default: the card's).
        `classes`: answer only these of the model's labels (a photo set scored on 7 classes: no `contempt`): a face's
        final answer (`calibrate`) gives the others probability 0, and the rest share what they had. Names as photo
        sets give them are taken (`happiness`); ClassesError (a ValueError) unless they name two or more of the
        model's classes."""
        self.runtime = None
        if not str(model_path).strip():  # ("" is the current folder: 'model . is a folder')
            raise ModelError("model: an empty name")
        path = given = shipped_model(model_path)
        if path.suffix in (".json", ".tflite"):
            path = path.with_suffix(".keras")
        if given.is_dir():
            raise ModelError(f"model {given} is a folder: name the model file (NAME.keras or NAME.tflite, its card "
                             "NAME.json beside it)")
        if not any(file.exists() for file in (given, path, path.with_suffix(".tflite"), path.with_suffix(".json"))):
            raise ModelError(f"model not found: {given}")
        if backend not in BACKENDS:
            raise ModelError(f"unknown backend '{backend}' (choose from {', '.join(BACKENDS)})")
        self.card = ModelCard.load(path)
        self.labels, self.size = self.card.labels, self.card.size
        self.crop = self.card.crop  # the framing of the faces the model was trained on
        # Average each face's probabilities with its mirror image's, in the same model call.
        self.flip_average = self.card.flip_average
        # The training set's class shares bias the answers toward its common classes (FER+: neutral and
        # happy); the card says how far to undo that (docs/accuracy.md).
        self.class_scale = self.card.class_scale(prior_alpha)
        self.classes = list(self.labels) if classes is None else checked_classes(classes, self.labels)
        # (applied to a face's final answer, after the views' mean: each view rescaled alone could change the label)
        self.kept = None if classes is None else np.isin(self.labels, self.classes).astype(np.float32)
        # How sure a model's answers look need not match how often they are right: the FER+ models, trained on
        # soft crowd votes, spread their answers like the votes and undersell them; the FER2013 one oversells.
        # The card's temperature turns a final answer into a confidence to read as "right this often"
        # (docs/accuracy.md: How confident).
        self.temperature = self.card.temperature()
        if self.card.members:
            self._run = Ensemble(self.card, backend, threads, runtime)
            self.path, self.backend, self.runtime = self.card.path, self._run.backend, self._run.runtime
            self._check_shapes(self._run.input_shape, self._run.outputs)
            self._check_answers()
            return
        tflite_path = path.with_suffix(".tflite")
        if backend == "auto":
            # TensorFlow is imported only where a GPU may be there; on a CPU the TFLite path never imports it.
            has_gpu = _may_have_gpu() and bool(_quiet_tensorflow("a GPU").config.list_physical_devices("GPU"))
            backend = "tflite" if tflite_path.exists() and self.card.describes("tflite") and not has_gpu else "keras"
        self.backend = backend
        self.path = tflite_path if backend == "tflite" else path
        if not self.path.exists():
            raise ModelError(f"model file not found: {self.path}")
        if backend == "tflite":
            content = self.path.read_bytes()  # read once: the bytes checked are the bytes run
            self.card.check_file(self.path, content)
            self._run = TFLiteModel(self.path, self.size, threads, runtime, content)
            self.runtime = self._run.runtime
        else:
            self.card.check_file(self.path)
            self._run = KerasModel(self.path, self.size)
        self._check_shapes(self._run.input_shape, self._run.outputs)
        self._check_answers()

    def _check_answers(self) -> None:
        """Refuse a model whose answers are not probabilities (NaN weights answer NaN) before it labels a face.
        The probe, a grey ramp, is also the first call, which the first frame would otherwise pay for."""
        probe = np.linspace(0, 255, self.size * self.size, dtype=np.float32).reshape(1, self.size, self.size, 1)
        answer = np.asarray(self._run(probe), np.float64)
        if not (np.isfinite(answer).all() and answer.min() >= 0 and abs(answer.sum() - 1) < 0.05):
            raise ModelError(f"model {self.path} does not answer with probabilities (NaN or out of range): its weights "
                             "are damaged; train or export it again")

    def _check_shapes(self, input_shape: tuple, outputs: int) -> None:
        if tuple(int(d) for d in input_shape) != (self.size, self.size, 1):
            raise ModelError(f"model {self.path} takes input {input_shape}, but its card says {self.size}x{self.size}x1")
        if outputs != len(self.labels):
            raise ModelError(f"model {self.path} has {outputs} outputs, but its card lists {len(self.labels)} labels")

    @property
    def member_count(self) -> int:
        """How many models answer: an ensemble's members, else 1."""
        return len(self._run.members) if isinstance(self._run, Ensemble) else 1

    def predict(self, faces: np.ndarray, member: int | None = None) -> np.ndarray:
        """Probabilities (N, classes) for uint8 faces (N, size, size), in one model call.

        `member`: an ensemble asks only that one of its members (modulo their number; video asks them in turn,
        and the tracker's average over frames averages them); the ensemble's card still corrects the answer.
        A single model ignores it."""
        if len(faces) == 0:
            return np.empty((0, len(self.labels)), np.float32)
        batch = np.asarray(faces, np.float32).reshape(len(faces), self.size, self.size, 1)
        run = self._run if member is None or not isinstance(self._run, Ensemble) else partial(self._run, member=member)
        if not self.flip_average:
            probabilities = np.asarray(run(batch), np.float32)
        else:
            both = np.asarray(run(np.concatenate([batch, batch[:, :, ::-1]])), np.float32)
            probabilities = (both[: len(faces)] + both[len(faces):]) / 2
        return self.correct(probabilities)

    def correct(self, probabilities: np.ndarray) -> np.ndarray:
        """The model's answers (last axis: classes) with the card's class-share correction."""
        if self.class_scale is None:
            return probabilities
        probabilities = probabilities * self.class_scale
        return probabilities / probabilities.sum(-1, keepdims=True)

    def calibrate(self, probabilities: np.ndarray) -> np.ndarray:
        """A face's final answer (after any averaging over views) as the confidence the program shows; with `classes`,
        over those alone, each at what it had of what they had together (equal shares where they had nothing: an
        int8 model gave the whole face to a class left out)."""
        if self.kept is not None:
            kept = probabilities * self.kept
            total = kept.sum(-1, keepdims=True)
            equal = np.broadcast_to(self.kept / self.kept.sum(), kept.shape).astype(kept.dtype)
            probabilities = np.divide(kept, total, out=equal, where=total > 0)
        return sharpen(probabilities, 1 / self.temperature)

    def predict_many(self, faces: np.ndarray, batch_size: int = 128) -> np.ndarray:
        """Probabilities for a whole dataset, in chunks (for evaluation, not the live loop)."""
        chunks = [self.predict(faces[i:i + batch_size]) for i in range(0, len(faces), batch_size)]
        return np.concatenate(chunks) if chunks else self.predict(faces)
