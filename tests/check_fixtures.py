"""Synthetic probe data for the check tests, shaped exactly like grader/probes return it.

Layer records follow grader/probes/models.py (``describe_layer`` + ``trace_layers``): shapes
without the batch dimension, pairs as lists. The parent-only ``expected`` data is built by
the real ``grader.inputs.for_assignment`` on a small synthetic dataset, so the checks see
the same keys and shapes as in a grading run. Not a conftest: plain helpers, imported.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import numpy as np

from grader.assignments.registry import all_checks
from grader.checks import CheckInputs, Verdict, ground_truth
from grader.data import Dataset
from grader.inputs import for_assignment, stratified_subset
from grader.rubric import Budget, load_rubric

CHECKS = all_checks()  # the engine's checks and every assignment's

Record = dict[str, Any]

MSE_LOSS = {"kind": "string", "name": "mse"}
NO_LOSS = {"kind": "none"}


# -- running checks -------------------------------------------------------------------


def run(check_name: str, inputs: CheckInputs) -> Verdict:
    """Call the registered check by the name the rubrics use."""
    return CHECKS[check_name].function(inputs)


def make_inputs(
    probes: dict[str, Any],
    arrays: dict[str, dict[str, np.ndarray]] | None = None,
    params: dict[str, Any] | None = None,
    thresholds: dict[str, float] | None = None,
    expected: dict[str, Any] | None = None,
) -> CheckInputs:
    return CheckInputs(
        params=params or {},
        probes=probes,
        arrays=arrays or {},
        thresholds=thresholds or {},
        expected=expected or {},
    )


@cache
def _rubric(name: str) -> Any:
    return load_rubric(name)


def item_params(rubric: str, item_id: str) -> dict[str, Any]:
    """The params a shipped rubric gives an item: tests grade with the production settings."""
    return copy.deepcopy(dict(_rubric(rubric).item(item_id).params))


def student_error(
    kind: str = "exception", name: str = "build_encoder", message: str = "boom", **extra: Any
) -> dict:
    """A student error as the worker reports it (grader/probes/base.py ``error_info``)."""
    return {"kind": kind, "name": name, "message": message} | extra


# -- layer records ----------------------------------------------------------------------


class Layers:
    """Builds layer records in execution order, tracking shapes like a forward pass."""

    def __init__(self, input_shape: list[int]):
        self.input_shape = list(input_shape)
        self.shape = list(input_shape)
        self.records: list[Record] = []

    def _add(self, record: Record, output_shape: list[int]) -> Layers:
        record = {"module": "keras"} | record
        record["input_shape"] = list(self.shape)
        record["output_shape"] = list(output_shape)
        self.records.append(record)
        self.shape = list(output_shape)
        return self

    def conv(
        self,
        name: str,
        filters: int = 16,
        activation: str = "relu",
        padding: str = "same",
        kernel: tuple[int, int] = (3, 3),
        transpose: bool = False,
    ) -> Layers:
        height, width = self.shape[:2]
        if padding == "valid":
            grow = 1 if transpose else -1
            height, width = height + grow * (kernel[0] - 1), width + grow * (kernel[1] - 1)
        record = {
            "name": name,
            "type": "Conv2DTranspose" if transpose else "Conv2D",
            "filters": filters,
            "use_bias": True,
            "kernel_size": list(kernel),
            "strides": [1, 1],
            "padding": padding,
            "activation": activation,
        }
        return self._add(record, [height, width, filters])

    def deconv(self, name: str, filters: int = 16, **kwargs: Any) -> Layers:
        return self.conv(name, filters, transpose=True, **kwargs)

    def pool(self, name: str, size: tuple[int, int] = (2, 2)) -> Layers:
        height, width, channels = self.shape
        record = {
            "name": name,
            "type": "MaxPooling2D",
            "pool_size": list(size),
            "strides": list(size),
            "padding": "valid",
        }
        return self._add(record, [height // size[0], width // size[1], channels])

    def up(self, name: str, size: tuple[int, int] = (2, 2)) -> Layers:
        height, width, channels = self.shape
        record = {"name": name, "type": "UpSampling2D", "size": list(size), "interpolation": "nearest"}
        return self._add(record, [height * size[0], width * size[1], channels])

    def activation(self, name: str, activation: str = "relu") -> Layers:
        return self._add({"name": name, "type": "Activation", "activation": activation}, self.shape)

    def relu_layer(self, name: str) -> Layers:
        """A Keras 3 ``ReLU()`` layer: max_value None is not recorded, slope and threshold are 0."""
        return self._add({"name": name, "type": "ReLU", "negative_slope": 0.0, "threshold": 0.0}, self.shape)

    def batch_norm(self, name: str) -> Layers:
        return self._add({"name": name, "type": "BatchNormalization"}, self.shape)

    def dropout(self, name: str, rate: float = 0.25) -> Layers:
        return self._add({"name": name, "type": "Dropout", "rate": rate}, self.shape)

    def dense(self, name: str, units: int, activation: str = "linear") -> Layers:
        record = {"name": name, "type": "Dense", "units": units, "use_bias": True, "activation": activation}
        return self._add(record, self.shape[:-1] + [units])

    def flatten(self, name: str = "flatten") -> Layers:
        return self._add({"name": name, "type": "Flatten"}, [int(np.prod(self.shape))])

    def reshape(self, name: str, target: list[int]) -> Layers:
        return self._add({"name": name, "type": "Reshape", "target_shape": list(target)}, list(target))

    def lambda_layer(self, name: str, function: str = "sampling", output: list[int] | None = None) -> Layers:
        record = {"name": name, "type": "Lambda", "function": function}
        return self._add(record, output or list(self.shape))

    def describe(
        self, loss: dict | None = None, outputs: list[list[int]] | None = None, **extra: Any
    ) -> dict:
        """What ``describe_model`` returns for a model with these layers."""
        return {
            "class": "Functional",
            "input_shape": list(self.input_shape),
            "output_shapes": outputs or [list(self.shape)],
            "layers": self.records,
            "params": 1000,
            "compiled": loss is not None,
            "loss": loss or NO_LOSS,
        } | extra


def reference_encoder(size: int = 32) -> Layers:
    """4 x [Conv2D(16, 3x3, relu, same), MaxPooling2D(2)], then Conv2D(1) + MaxPooling2D((2, 1))."""
    layers = Layers([size, size, 1])
    for block in range(1, 5):
        layers.conv(f"conv{block}").pool(f"pool{block}")
    return layers.conv("conv_latent", 1).pool("pool_latent", (2, 1))


def reference_decoder() -> Layers:
    """4 x [Conv2DTranspose(16, relu, same), UpSampling2D], then Conv2DTranspose(1) + UpSampling2D."""
    layers = Layers([1, 2, 1])
    for block, size in enumerate([(2, 1), (2, 2), (2, 2), (2, 2)], start=1):
        layers.deconv(f"deconv{block}").up(f"up{block}", size)
    return layers.deconv("deconv_out", 1).up("up_out")


def ae_models(
    encoder: Layers | dict | None = None,
    decoder: Layers | dict | None = None,
    loss: dict | None = None,
    image_size: int = 32,
) -> dict[str, Any]:
    """The ``ae_models`` probe's data; a dict given for a model is used as is (e.g. an error)."""
    encoder = reference_encoder(image_size) if encoder is None else encoder
    decoder = reference_decoder() if decoder is None else decoder
    autoencoder = {
        "compiled": True,
        "loss": MSE_LOSS if loss is None else loss,
        "optimizer": "Adam",
        "separate": True,
    }
    return {
        "ae_models": {
            "image_size": image_size,
            "encoder": encoder.describe() if isinstance(encoder, Layers) else encoder,
            "decoder": decoder.describe() if isinstance(decoder, Layers) else decoder,
            "autoencoder": autoencoder,
        }
    }


def ae_inputs(
    encoder: Layers | dict | None = None,
    decoder: Layers | dict | None = None,
    loss: dict | None = None,
    params: dict[str, Any] | None = None,
    image_size: int = 32,
) -> CheckInputs:
    return make_inputs(ae_models(encoder, decoder, loss, image_size), params=params)


# -- the parent's expected data -----------------------------------------------------------

SMALL_BUDGET = Budget(
    name="test",
    seed=0,
    retries=3,
    train_samples=200,
    test_samples=100,
    epochs={"autoencoder": 5, "classifier": 3, "vae": 5, "dense": 20},
    batch_size={"autoencoder": 64, "classifier": 64, "vae": 64, "dense": 256},
)
GRID_N = 15
TILE = 6  # side of the synthetic decoded images in the mosaics


@cache
def synthetic_dataset() -> Dataset:
    """Random 'digits', 30 train and 15 test per label, shuffled (no real MNIST needed)."""
    rng = np.random.default_rng(11)
    y_train = rng.permutation(np.repeat(np.arange(10), 30)).astype(np.int64)
    y_test = rng.permutation(np.repeat(np.arange(10), 15)).astype(np.int64)
    x_train = rng.integers(0, 256, size=(len(y_train), 28, 28), dtype=np.uint8)
    x_test = rng.integers(0, 256, size=(len(y_test), 28, 28), dtype=np.uint8)
    return Dataset("synthetic", x_train, y_train, x_test, y_test)


def reference_artifacts() -> dict[str, np.ndarray]:
    """What the trained reference would hand over: overlapping latent clusters, a decoded grid."""
    rng = np.random.default_rng(12)
    dataset = synthetic_dataset()
    # the training labels for_assignment keeps under SMALL_BUDGET: z_train[i] belongs to labels[i]
    labels = dataset.y_train[stratified_subset(dataset.y_train, SMALL_BUDGET.train_samples, seed=1)]
    centres = np.stack([np.cos(np.arange(10)), np.sin(np.arange(10))], axis=1) * 2.0
    z_train = (centres[labels] + rng.normal(0, 1.0, size=(len(labels), 2))).astype(np.float32)
    grid = ground_truth.corner_grid(z_train.min(axis=0), z_train.max(axis=0), GRID_N).astype(np.float32)
    recon_x = rng.uniform(0, 1, size=(16, 32, 32)).astype(np.float32)
    return {
        "z_train": z_train,
        "grid": grid,
        "grid_images": rng.uniform(0, 1, size=(GRID_N * GRID_N, TILE, TILE)).astype(np.float32),
        "recon_x": recon_x,
        "recon_x_rec": np.clip(recon_x + rng.normal(0, 0.1, size=recon_x.shape), 0, 1).astype(np.float32),
        "decoder_input": np.array([1, 2, 1]),
        "decoder_w0": rng.normal(size=(3, 3, 16, 1)).astype(np.float32),
    }


@cache
def _expected(assignment: str) -> dict[str, Any]:
    artifacts = reference_artifacts() if assignment == "autoencoders" else {}
    return for_assignment(assignment, SMALL_BUDGET, synthetic_dataset(), artifacts).expected


def expected_for(assignment: str) -> dict[str, Any]:
    """The parent's expected data for an assignment (a fresh copy: tests may not leak changes)."""
    return copy.deepcopy(_expected(assignment))


# -- function exercises (matches_reference) ---------------------------------------------------------------


def reference_calls(rubric: Any, function: str) -> dict[str, np.ndarray]:
    """The reference's results on a function's cases ("<case>.<output>"), computed here in-process
    (grading computes them in a trusted sandbox: grader/reference_calls.py)."""
    import importlib.util

    from grader.functions import output_key
    from grader.probes.calls import as_argument

    spec = rubric.functions[function]
    loader = importlib.util.spec_from_file_location(f"_reference_{rubric.name}", rubric.reference)
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    arrays = {}
    for name, case in spec.cases.items():
        args = [as_argument(arg.make(), arg.type) for arg in case.args]
        result = getattr(module, function)(*args)
        values = [result] if len(spec.outputs) == 1 else list(result)
        for output, value in zip(spec.outputs, values, strict=True):
            arrays[output_key(name, output)] = np.asarray(value, np.float64)
    return arrays


def function_inputs(rubric_name: str, item_id: str, results: dict[str, Any]) -> CheckInputs:
    """CheckInputs for a matches_reference item of a shipped rubric. ``results``: case -> the student's
    array (or tuple of arrays, one per output), or a student error dict."""
    from grader.functions import output_key

    rubric = _rubric(rubric_name)
    params = item_params(rubric_name, item_id)
    spec = rubric.functions[params["function"]]
    data, arrays = {}, {}
    for case, value in results.items():
        if isinstance(value, dict):
            data[case] = {"error": value}
            continue
        values = [value] if len(spec.outputs) == 1 else list(value)
        data[case] = {"shapes": {}}
        for output, array in zip(spec.outputs, values, strict=True):
            arrays[output_key(case, output)] = np.asarray(array, np.float64)
    expected = {
        "functions": rubric.functions,
        "reference_calls": {spec.name: _reference_calls_cached(rubric_name, spec.name)},
    }
    return make_inputs({spec.probe: data}, {spec.probe: arrays}, params, expected=expected)


@cache
def _reference_calls_cached(rubric_name: str, function: str) -> dict[str, np.ndarray]:
    return reference_calls(_rubric(rubric_name), function)


def case_args(rubric_name: str, function: str, case: str) -> dict[str, np.ndarray]:
    return _rubric(rubric_name).functions[function].case_args(case)
