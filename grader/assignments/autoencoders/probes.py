"""Probes of the ``autoencoders`` assignment (seed 003). Run in the worker.

Inputs the parent puts in ``inputs.npz`` (no test labels, no thresholds, no expected
outputs): ``x_train``/``x_test`` (uint8 digits), ``y_train``, the classifier's fit /
validation split of the training images, and grader-made inputs for the function items
(reference latent codes of training images, the reference decoder's weights, grids).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.probes.base import ProbeOutput, StudentCallError, WorkerContext, probe, student_array
from grader.probes.common import (
    build_model,
    decode_points,
    ensure_stage,
    figure_probe,
    grader_grid,
    history_losses,
    images,
    json_floats,
    keras_module,
    latent_codes,
    loss_recorder,
    set_seed,
    trainer,
)
from grader.probes.models import (
    declared_image_size,
    declared_input_shape,
    describe_compiled,
    describe_model,
    describe_optimizer,
    leaf_layers,
    trace_layers,
)

GRID_N = 15
SAMPLING_ROWS = 20000  # enough rows for the sample statistics the check compares


def _require(model: Any, error: dict[str, Any] | None) -> Any:
    if error is not None:
        raise StudentCallError(error)
    return model


# -- Exercise 1: the models as built -----------------------------------------


@probe("ae_models")
def ae_models(ctx: WorkerContext, args: dict[str, Any]) -> ProbeOutput:
    """Architecture of build_encoder(), build_decoder() and build_autoencoder(enc, dec)."""
    set_seed(ctx.budget.get("seed", 0))
    data: dict[str, Any] = {}
    encoder, error = build_model(ctx, "build_encoder")
    latent = None
    if encoder is not None:
        size = declared_image_size(encoder)
        sample = images(ctx, "train", size)[:2]
        data["image_size"] = size
        description, error = ctx.attempt("build_encoder", describe_model, encoder, sample)
        if error is None:
            latent = np.asarray(encoder.predict(sample, verbose=0))
    data["encoder"] = description if error is None else {"error": error}
    decoder, error = build_model(ctx, "build_decoder")
    if decoder is not None:
        shape = declared_input_shape(decoder)
        fits = latent is not None and (shape is None or latent.shape[1:] == shape)
        sample = latent if fits else np.zeros((2,) + (shape or (1, 2, 1)), dtype=np.float32)
        description, error = ctx.attempt("build_decoder", describe_model, decoder, sample)
    data["decoder"] = description if error is None else {"error": error}
    if encoder is not None and decoder is not None:
        autoencoder, error = build_model(ctx, "build_autoencoder", encoder, decoder)
        if autoencoder is not None:
            data["autoencoder"] = describe_compiled(autoencoder)
            data["autoencoder"]["separate"] = encoder is not decoder
        else:
            data["autoencoder"] = {"error": error}
    else:
        missing = "build_encoder" if encoder is None else "build_decoder"
        data["autoencoder"] = {
            "error": {
                "kind": "invalid",
                "name": "build_autoencoder",
                "message": f"not tried: {missing} failed",
            }
        }
    return ProbeOutput(data)


# -- Exercise 1: training under the grader's budget -------------------------------


@trainer("autoencoder")
def train_autoencoder(ctx: WorkerContext, seed: int) -> tuple[dict[str, Any], ProbeOutput]:
    set_seed(seed)
    encoder = _require(*build_model(ctx, "build_encoder"))
    decoder = _require(*build_model(ctx, "build_decoder"))
    autoencoder = _require(*build_model(ctx, "build_autoencoder", encoder, decoder))
    size = declared_image_size(encoder)
    compiled_by_grader = not describe_compiled(autoencoder)["compiled"]
    if compiled_by_grader:
        autoencoder.compile(optimizer="adam", loss="mse")
    x = images(ctx, "train", size)
    x_test = images(ctx, "test", size)
    recorder = loss_recorder()
    history = ctx.guarded(
        "training the model from build_autoencoder",
        autoencoder.fit,
        x,
        x,
        epochs=ctx.budget["epochs"]["autoencoder"],
        batch_size=ctx.budget["batch_size"]["autoencoder"],
        shuffle=True,
        verbose=0,
        callbacks=[recorder],
    )
    z_train = ctx.guarded("build_encoder (predicting)", latent_codes, encoder, x)
    z_test = ctx.guarded("build_encoder (predicting)", latent_codes, encoder, x_test)
    x_rec = ctx.guarded("build_decoder (decoding the latent codes)", _reconstruct, encoder, decoder, x_test)
    arrays = {"x_rec": x_rec, "z_train": z_train, "z_test": z_test}
    if z_train.shape[1] == 2:
        grid = grader_grid(z_train.min(axis=0), z_train.max(axis=0), GRID_N)
        codes_shape = tuple(np.asarray(encoder.predict(x[:1], verbose=0)).shape[1:])
        arrays["mosaic_images"] = ctx.guarded(
            "build_decoder (decoding a grid)", decode_points, decoder, grid.reshape(-1, 2), codes_shape
        )
    data = {
        "loss": history_losses(history).get("loss", []),
        "batch_loss": recorder.epoch_means(),
        "latent_std": json_floats(z_train.std(axis=0)),
        "compiled_by_grader": compiled_by_grader,
        "image_size": size,
        "optimizer": describe_optimizer(autoencoder),
    }
    state = {"encoder": encoder, "decoder": decoder, "encoder_weights": encoder.get_weights(), "size": size}
    return state, ProbeOutput(data, arrays)


def _reconstruct(encoder: Any, decoder: Any, x: np.ndarray) -> np.ndarray:
    """decoder(encoder(x)): the reconstruction must pass through the 2-number latent."""
    codes = encoder.predict(x, verbose=0)
    decoded = np.asarray(decoder.predict(codes, verbose=0), dtype=np.float32)
    return decoded.reshape(decoded.shape[0], decoded.shape[1], -1)


@probe("reference_artifacts")
def reference_artifacts(ctx: WorkerContext, args: dict[str, Any]) -> ProbeOutput:
    """Trusted run only: what the grader needs from the trained reference autoencoder."""
    state = ensure_stage(ctx, "autoencoder")
    encoder, decoder = state["encoder"], state["decoder"]
    x = images(ctx, "train", state["size"])
    x_test = images(ctx, "test", state["size"])[:16]
    z_train = latent_codes(encoder, x)
    z_min, z_max = z_train.min(axis=0), z_train.max(axis=0)
    grid = grader_grid(z_min, z_max, GRID_N)
    latent_shape = [int(dim) for dim in decoder.inputs[0].shape[1:]]
    records = trace_layers(decoder, np.zeros([1] + latent_shape, dtype=np.float32))
    arrays = {
        "z_train": z_train,
        "recon_x": x_test[..., 0],
        "recon_x_rec": _reconstruct(encoder, decoder, x_test),
        "grid": grid,
        "grid_images": decode_points(decoder, grid.reshape(-1, 2)),
    }
    weights = [w for layer in decoder.layers for w in layer.get_weights()]
    for index, weight in enumerate(weights):
        arrays[f"decoder_w{index}"] = np.asarray(weight, dtype=np.float32)
    return ProbeOutput({"decoder_layers": records, "decoder_input": latent_shape}, arrays)


def rebuild_decoder(records: list[dict[str, Any]], input_shape: list[int], weights: list[np.ndarray]) -> Any:
    """The reference decoder rebuilt from plain layer records (works under Keras 2 and 3)."""
    keras = keras_module()
    layers = keras.layers
    makers = {
        "Conv2DTranspose": lambda r: layers.Conv2DTranspose(
            r["filters"],
            tuple(r["kernel_size"]),
            strides=tuple(r["strides"]),
            padding=r["padding"],
            activation=r["activation"],
            use_bias=r.get("use_bias", True),
        ),
        "Conv2D": lambda r: layers.Conv2D(
            r["filters"],
            tuple(r["kernel_size"]),
            strides=tuple(r["strides"]),
            padding=r["padding"],
            activation=r["activation"],
            use_bias=r.get("use_bias", True),
        ),
        "UpSampling2D": lambda r: layers.UpSampling2D(
            tuple(r["size"]), interpolation=r.get("interpolation", "nearest")
        ),
        "Dense": lambda r: layers.Dense(
            r["units"], activation=r["activation"], use_bias=r.get("use_bias", True)
        ),
        "Reshape": lambda r: layers.Reshape(tuple(r["target_shape"])),
        "Activation": lambda r: layers.Activation(r["activation"]),
        "Flatten": lambda r: layers.Flatten(),
    }
    model = keras.Sequential(
        [keras.Input(shape=tuple(input_shape))] + [makers[r["type"]](r) for r in records]
    )
    model.set_weights(weights)
    return model


# -- Exercise 1: the plotting functions ----------------------------------------


@probe("plot_reconstructions")
def plot_reconstructions(ctx: WorkerContext, args: dict[str, Any]) -> ProbeOutput:
    x = ctx.inputs["recon_x"][..., np.newaxis]
    x_rec = ctx.inputs["recon_x_rec"][..., np.newaxis]
    return figure_probe(ctx, "plot_reconstructions", x, x_rec, n=10)


@probe("plot_loss")
def plot_loss(ctx: WorkerContext, args: dict[str, Any]) -> ProbeOutput:
    keras = keras_module()
    history = keras.callbacks.History()
    history.history = {
        "loss": ctx.inputs["history_loss"].tolist(),
        "val_loss": ctx.inputs["history_val_loss"].tolist(),
    }
    history.epoch = list(range(len(history.history["loss"])))
    return figure_probe(ctx, "plot_loss", history)


# -- Exercises 2 and 3: functions graded on the grader's latent codes ----------------


@probe("plot_latent")
def plot_latent(ctx: WorkerContext, args: dict[str, Any]) -> ProbeOutput:
    return figure_probe(ctx, "plot_latent", ctx.inputs["latent_z"].copy(), ctx.inputs["latent_y"].copy())


@probe("knn")
def knn(ctx: WorkerContext, args: dict[str, Any]) -> ProbeOutput:
    """knn_per_digit_accuracy on a hand-made case and on reference latent codes."""
    data: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    for case in ("public", "hidden"):
        inputs = [
            ctx.inputs[f"knn_{case}_{name}"].copy() for name in ("z_train", "y_train", "z_test", "y_test")
        ]
        try:
            arrays[case] = student_array(
                "knn_per_digit_accuracy", ctx.call("knn_per_digit_accuracy", *inputs), np.float64
            )
            data[case] = {"shape": list(arrays[case].shape)}
        except StudentCallError as exc:
            data[case] = {"error": exc.info}
    return ProbeOutput(data, arrays)


# -- Exercise 4: the classifier ------------------------------------------------------


@probe("classifier_structure")
def classifier_structure(ctx: WorkerContext, args: dict[str, Any]) -> ProbeOutput:
    """build_classifier on a fresh student encoder: which encoder layers it reuses, its head."""
    set_seed(ctx.budget.get("seed", 0))
    encoder = _require(*build_model(ctx, "build_encoder"))
    classifier = _require(*build_model(ctx, "build_classifier", encoder))
    size = declared_image_size(encoder)
    sample = images(ctx, "train", size)[:2]
    description = ctx.guarded("build_classifier", describe_model, classifier, sample)
    encoder_records = ctx.guarded("build_encoder", trace_layers, encoder, sample)
    encoder_ids = {id(layer): layer.name for layer in _leaf_layers(encoder)}
    # Only layers the classifier runs count: a subclassed classifier may keep the whole encoder as an
    # attribute and call just its first blocks.
    executed = {record["name"] for record in description["layers"]}
    shared = [
        encoder_ids[id(layer)]
        for layer in _leaf_layers(classifier)
        if id(layer) in encoder_ids and layer.name in executed
    ]
    return ProbeOutput({"classifier": description, "encoder": encoder_records, "shared": shared})


def _leaf_layers(model: Any) -> list[Any]:
    return [layer for layer in leaf_layers(model) if type(layer).__name__ != "InputLayer"]


@trainer("classifier")
def train_classifier(ctx: WorkerContext, seed: int) -> tuple[dict[str, Any], ProbeOutput]:
    """Train build_classifier(trained encoder) with the student's train_classifier."""
    autoencoder = ensure_stage(ctx, "autoencoder")
    encoder = autoencoder["encoder"]
    encoder.set_weights(autoencoder["encoder_weights"])  # every attempt starts from the trained encoder
    set_seed(seed)
    classifier = _require(*build_model(ctx, "build_classifier", encoder))
    size = autoencoder["size"]
    x, y = images(ctx, "train", size), ctx.inputs["y_train"]
    fit, val = ctx.inputs["classifier_fit"], ctx.inputs["classifier_val"]
    epochs, batch = ctx.budget["epochs"]["classifier"], ctx.budget["batch_size"]["classifier"]
    if not describe_compiled(classifier)["compiled"]:
        raise StudentCallError(
            {
                "kind": "invalid",
                "name": "build_classifier",
                "message": "returned a model that is not compiled",
            }
        )
    history, error = ctx.try_call(
        "train_classifier", classifier, x[fit], y[fit], x[val], y[val], epochs, batch
    )
    if error is not None:  # no cascade: the grader trains the classifier itself
        history = ctx.guarded(
            "training the model from build_classifier",
            classifier.fit,
            x[fit],
            y[fit],
            validation_data=(x[val], y[val]),
            epochs=epochs,
            batch_size=batch,
            verbose=0,
        )
    scores = ctx.guarded(
        "predicting with the model from build_classifier",
        classifier.predict,
        images(ctx, "test", size),
        verbose=0,
    )
    data = {"history": history_losses(history), "train_classifier_error": error, "epochs": epochs}
    return {"classifier": classifier}, ProbeOutput(data, {"scores": np.asarray(scores, dtype=np.float32)})


# train_classifier on the grader's own small classifier: 4b does not depend on build_classifier.
HISTORY_EPOCHS = 2
HISTORY_SAMPLES = {"fit": 256, "val": 128}


def _grader_classifier(keras: Any, one_hot: bool) -> Any:
    """A small compiled classifier of 32x32 images, for integer or one-hot labels."""
    model = keras.Sequential(
        [
            keras.Input(shape=(32, 32, 1)),
            keras.layers.Conv2D(8, 3, activation="relu", padding="same"),
            keras.layers.MaxPooling2D(4),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    loss = "categorical_crossentropy" if one_hot else "sparse_categorical_crossentropy"
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    return model


@probe("train_classifier_call")
def train_classifier_call(ctx: WorkerContext, args: dict[str, Any]) -> ProbeOutput:
    """train_classifier(grader's classifier, ...): the History it returns.

    The classifier is the grader's, not build_classifier's, so a broken (or hanging)
    build_classifier costs only Exercise 4a. It is compiled for integer labels; a
    train_classifier that one-hot encodes the labels gets a model compiled for those.
    """
    keras = keras_module()
    x, y = images(ctx, "train", 32), ctx.inputs["y_train"]
    fit = ctx.inputs["classifier_fit"][: HISTORY_SAMPLES["fit"]]
    val = ctx.inputs["classifier_val"][: HISTORY_SAMPLES["val"]]
    arguments = (x[fit], y[fit], x[val], y[val], HISTORY_EPOCHS, 64)
    history, error = ctx.try_call("train_classifier", _grader_classifier(keras, False), *arguments)
    if error is not None and error.get("kind") == "exception":
        history, _ = ctx.try_call("train_classifier", _grader_classifier(keras, True), *arguments)
        if history is not None:
            error = None
    if error is not None:
        raise StudentCallError(error)
    return ProbeOutput({"history": history_losses(history), "epochs": HISTORY_EPOCHS})


# -- Exercise 5: the latent grid ----------------------------------------------------


def _reference_decoder(ctx: WorkerContext, records: list[dict[str, Any]]) -> Any:
    weights = []
    while f"decoder_w{len(weights)}" in ctx.inputs:
        weights.append(ctx.inputs[f"decoder_w{len(weights)}"])
    return rebuild_decoder(records, ctx.inputs["decoder_input"].tolist(), weights)


@probe("decode_grid")
def decode_grid(ctx: WorkerContext, args: dict[str, Any]) -> ProbeOutput:
    """decode_grid(reference decoder, the grader's grid): compared with the reference's mosaic."""
    decoder = _reference_decoder(ctx, args["decoder_layers"])
    array = student_array("decode_grid", ctx.call("decode_grid", decoder, ctx.inputs["ref_grid"].copy()))
    return ProbeOutput({"shape": list(array.shape)}, {"mosaic": array})


@probe("plot_grid")
def plot_grid(ctx: WorkerContext, args: dict[str, Any]) -> ProbeOutput:
    z_min, z_max = ctx.inputs["ref_grid_z_min"].copy(), ctx.inputs["ref_grid_z_max"].copy()
    return figure_probe(ctx, "plot_grid", ctx.inputs["ref_mosaic"].copy(), z_min, z_max)


# -- Exercise 6: the VAE ---------------------------------------------------------------


@probe("vae_models")
def vae_models(ctx: WorkerContext, args: dict[str, Any]) -> ProbeOutput:
    set_seed(ctx.budget.get("seed", 0))
    data: dict[str, Any] = {}
    encoder, error = build_model(ctx, "build_vae_encoder")
    if encoder is not None:
        sample = images(ctx, "train", declared_image_size(encoder))[:2]
        description, error = ctx.attempt("build_vae_encoder", describe_model, encoder, sample)
    data["encoder"] = description if error is None else {"error": error}
    decoder, error = build_model(ctx, "build_vae_decoder")
    if decoder is not None:
        shape = declared_input_shape(decoder) or (2,)
        description, error = ctx.attempt(
            "build_vae_decoder", describe_model, decoder, np.zeros((2,) + shape, np.float32)
        )
    data["decoder"] = description if error is None else {"error": error}
    if encoder is not None and decoder is not None:
        vae, error = build_model(ctx, "build_vae", encoder, decoder)
        data["vae"] = describe_compiled(vae) if vae is not None else {"error": error}
    return ProbeOutput(data)


@probe("sampling")
def sampling(ctx: WorkerContext, args: dict[str, Any]) -> ProbeOutput:
    """sampling([mean, log_std]) eagerly, inside tf.function and in a Lambda layer.

    The graph and Lambda cases see symbolic tensors whose batch size is unknown, as in a real
    encoder: a sampling that reads ``mean.shape`` (TF's CVAE tutorial) fails there, not here only.
    """
    import tensorflow as tf

    keras = keras_module()
    try:
        function = ctx.lookup("sampling")
    except StudentCallError as exc:  # kl_loss is still graded, in either log convention
        return ProbeOutput({case: {"error": exc.info} for case in ("eager", "graph", "symbolic")})
    z_mean = np.tile(np.array([[0.5, -1.0]], np.float32), (SAMPLING_ROWS, 1))
    z_log = np.tile(np.array([[-0.5, 0.3]], np.float32), (SAMPLING_ROWS, 1))
    data: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}

    def eager() -> np.ndarray:
        return student_array("sampling", function([tf.constant(z_mean), tf.constant(z_log)]))

    def traced_twice(signature: list[Any] | None) -> tuple[np.ndarray, np.ndarray]:
        traced = tf.function(lambda a, b: function([a, b]), input_signature=signature)
        first = student_array("sampling", traced(tf.constant(z_mean), tf.constant(z_log)))
        return first, student_array("sampling", traced(tf.constant(z_mean), tf.constant(z_log)))

    def graph() -> np.ndarray:
        first, arrays["graph_second"] = traced_twice([tf.TensorSpec((None, 2), tf.float32)] * 2)
        return first

    def graph_fixed_batch() -> np.ndarray:
        # Only when the unknown batch failed: tells NumPy noise frozen at tracing apart from a shape error.
        first, arrays["graph_fixed_second"] = traced_twice(None)
        return first

    def symbolic() -> np.ndarray:
        # No output_shape: Keras infers it by calling sampling on symbolic (None, 2) tensors.
        mean_in, log_in = keras.Input(shape=(2,)), keras.Input(shape=(2,))
        output = keras.layers.Lambda(function)([mean_in, log_in])
        model = keras.Model([mean_in, log_in], output)
        small = student_array("sampling", model.predict([z_mean[:7], z_log[:7]], verbose=0))
        if small.shape[:1] != (7,):
            raise StudentCallError(
                {
                    "kind": "invalid",
                    "name": "sampling",
                    "message": f"returned {small.shape[0]} rows for a batch of 7 in a Lambda layer",
                }
            )
        return student_array("sampling", model.predict([z_mean, z_log], verbose=0, batch_size=5000))

    cases = {"eager": eager, "graph": graph, "graph_fixed": graph_fixed_batch, "symbolic": symbolic}
    for case, run in cases.items():
        if case == "graph_fixed" and "error" not in data["graph"]:
            continue
        result, error = ctx.attempt("sampling", run)
        if error is None:
            arrays[case] = result
            data[case] = {"shape": list(result.shape)}
        else:
            data[case] = {"error": error}
    return ProbeOutput(data, arrays)


@probe("kl_loss")
def kl_loss(ctx: WorkerContext, args: dict[str, Any]) -> ProbeOutput:
    import tensorflow as tf

    z_mean, z_log = ctx.inputs["kl_mean"], ctx.inputs["kl_log"]
    result = ctx.call("kl_loss", tf.constant(z_mean), tf.constant(z_log))
    # Called twice: a Monte Carlo estimate (TensorFlow's CVAE tutorial) changes between calls.
    again = ctx.call("kl_loss", tf.constant(z_mean), tf.constant(z_log))
    return ProbeOutput(
        {},
        {
            "kl": student_array("kl_loss", result, np.float64),
            "kl_again": student_array("kl_loss", again, np.float64),
        },
    )


KL_REPEATS = 32  # the vae_loss probe's 8 images, repeated for the KL steps (256 rows)


@probe("vae_loss")
def vae_loss(ctx: WorkerContext, args: dict[str, Any]) -> ProbeOutput:
    """vae_loss as the reconstruction gets worse, and as the posterior leaves the prior."""
    import tensorflow as tf

    x = images(ctx, "train", 32)[:8]
    noise = np.random.default_rng(0).uniform(0, 1, size=x.shape).astype(np.float32)
    zeros = np.zeros((len(x), 2), np.float32)
    good = np.clip(0.9 * x + 0.05, 0, 1)
    reconstruction, divergence = [], []
    for level in (0.0, 0.2, 0.5, 0.9):
        x_rec = (1 - level) * good + level * noise
        value = ctx.call(
            "vae_loss", tf.constant(x), tf.constant(x_rec), tf.constant(zeros), tf.constant(zeros)
        )
        reconstruction.append(float(np.mean(student_array("vae_loss", value, np.float64))))
    # The KL steps on many rows: a Monte Carlo KL's noise (its mean's times 1/sqrt(rows)) would
    # reverse the 0 -> 0.5 step for about one seed in five with 8 rows; with 256, never in practice.
    x_kl, good_kl = np.concatenate([x] * KL_REPEATS), np.concatenate([good] * KL_REPEATS)
    zeros_kl = np.zeros((len(x_kl), 2), np.float32)
    for mean in (0.0, 0.5, 1.5, 3.0):
        value = ctx.call(
            "vae_loss",
            tf.constant(x_kl),
            tf.constant(good_kl),
            tf.constant(zeros_kl + mean),
            tf.constant(zeros_kl),
        )
        divergence.append(float(np.mean(student_array("vae_loss", value, np.float64))))
    return ProbeOutput({"reconstruction": json_floats(reconstruction), "divergence": json_floats(divergence)})


# How the grader calls fit on the model from build_vae: with targets first, then without, for a custom
# train_step that uses ``data`` as the images (keras.io's VAE example).
VAE_FITS = ("vae.fit(x, x)", "vae.fit(x)")


@trainer("vae")
def train_vae(ctx: WorkerContext, seed: int) -> tuple[dict[str, Any], ProbeOutput]:
    settings = {
        "epochs": ctx.budget["epochs"]["vae"],
        "batch_size": ctx.budget["batch_size"]["vae"],
        "verbose": 0,
    }
    first_error = None
    for mode in VAE_FITS:
        # Fresh models for each way of calling fit: a failed fit can leave a model that no later fit
        # can train (variables created inside a traced train_step).
        set_seed(seed)
        encoder = _require(*build_model(ctx, "build_vae_encoder"))
        decoder = _require(*build_model(ctx, "build_vae_decoder"))
        vae = _require(*build_model(ctx, "build_vae", encoder, decoder))
        size = declared_image_size(encoder)
        x = images(ctx, "train", size)
        recorder = loss_recorder()
        data = (x, x) if mode == "vae.fit(x, x)" else (x,)
        history, error = ctx.attempt(
            "training the model from build_vae", vae.fit, *data, callbacks=[recorder], **settings
        )
        if error is None:
            break
        first_error = first_error or error
    else:
        raise StudentCallError(first_error)
    x_test = images(ctx, "test", size)
    outputs = ctx.guarded("predicting with build_vae_encoder", encoder.predict, x_test, verbose=0)
    if not isinstance(outputs, (list, tuple)) or len(outputs) < 2:
        raise StudentCallError(
            {
                "kind": "invalid",
                "name": "build_vae_encoder",
                "message": "the encoder must output [z_mean, z_log_std, z]",
            }
        )
    z_mean = np.asarray(outputs[0], np.float32).reshape(len(x_test), -1)
    z_log = np.asarray(outputs[1], np.float32).reshape(len(x_test), -1)
    x_rec = ctx.guarded("predicting with build_vae_decoder", decoder.predict, z_mean, verbose=0)
    x_rec = np.asarray(x_rec, np.float32).reshape(len(x_test), size, size)
    data = {
        "loss": history_losses(history).get("loss", []),
        "batch_loss": recorder.epoch_means(),
        "fit": mode,
        "image_size": size,
        "optimizer": describe_optimizer(vae),
    }
    arrays = {"z_mean": z_mean, "z_log": z_log, "x_rec": x_rec}
    return {"encoder": encoder, "decoder": decoder, "size": size}, ProbeOutput(data, arrays)


@probe("vae_grid")
def vae_grid(ctx: WorkerContext, args: dict[str, Any]) -> ProbeOutput:
    """6c: the student's decode_grid on their own trained VAE decoder over [-3, 3]^2."""
    decoder = ensure_stage(ctx, "vae")["decoder"]
    grid = grader_grid(np.array([-3.0, -3.0]), np.array([3.0, 3.0]), GRID_N)
    raw = ctx.guarded("predicting with build_vae_decoder", decode_points, decoder, grid.reshape(-1, 2))
    array = student_array("decode_grid", ctx.call("decode_grid", decoder, grid.copy()))
    return ProbeOutput({"shape": list(array.shape)}, {"mosaic": array, "raw": raw})
