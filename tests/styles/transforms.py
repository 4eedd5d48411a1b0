"""Style transforms: rewrite a reference into an equivalent submission written another way.

Each rubric has a style dataclass (which styles are on) and a ``rewrite_*`` function. The
code a style produces is written with ``keras.`` and ``layers.``; the alias style renames
them last. A transform whose anchor is missing from the reference raises, so a changed
reference breaks the generator loudly instead of silently producing the reference again.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

AE_MODELS = ("functional", "sequential", "conv_block")
AE_ACTIVATIONS = ("inline", "activation_layer", "relu_layer")
AE_VAE = ("trackers", "no_trackers", "keras2")
TC_MATRIX = ("loops", "index_arithmetic")
TC_UPSAMPLE = ("repeat", "kron", "method_repeat")


# -- text surgery ---------------------------------------------------------------------------------


def replace_once(source: str, old: str, new: str) -> str:
    count = source.count(old)
    if count != 1:
        raise ValueError(f"style anchor found {count} times (expected once): {old[:60]!r}")
    return source.replace(old, new)


def replace_all(source: str, old: str, new: str) -> str:
    if old not in source:
        raise ValueError(f"style anchor not found: {old[:60]!r}")
    return source.replace(old, new)


def _definition_span(source: str, name: str) -> tuple[int, int]:
    for statement in ast.parse(source).body:
        if isinstance(statement, (ast.FunctionDef, ast.ClassDef)) and statement.name == name:
            start = min([statement.lineno, *(d.lineno for d in statement.decorator_list)])
            return start - 1, statement.end_lineno or statement.lineno
    raise ValueError(f"style anchor: no top-level definition named {name}")


def replace_definition(source: str, name: str, code: str) -> str:
    """The top-level function or class ``name`` replaced by ``code`` (which may define several)."""
    lines = source.split("\n")
    start, end = _definition_span(source, name)
    return "\n".join([*lines[:start], code.strip("\n"), *lines[end:]])


def remove_definition(source: str, name: str) -> str:
    return replace_definition(source, name, "")


def insert_before_definition(source: str, name: str, code: str) -> str:
    lines = source.split("\n")
    start, _ = _definition_span(source, name)
    return "\n".join([*lines[:start], code.strip("\n"), "", "", *lines[start:]])


def insert_after_imports(source: str, code: str) -> str:
    """After the last top-level import (the module's own constants follow)."""
    last = max(
        s.end_lineno or s.lineno
        for s in ast.parse(source).body
        if isinstance(s, (ast.Import, ast.ImportFrom))
    )
    lines = source.split("\n")
    return "\n".join([*lines[:last], "", code.strip("\n"), *lines[last:]])


def add_import(source: str, line: str) -> str:
    return insert_after_imports(source, line)


ALIASES = {
    # (pattern, replacement): applied only after the alias block, so the block itself stays.
    r"\blayers\.": "L.",
    r"\bkeras\.(Model|Sequential|optimizers)\b": r"tfk.\1",
    r"\bkeras\.(Input|initializers|metrics)\b": r"K.\1",
}
ALIAS_BLOCK = "L = tf.keras.layers\ntfk = tf.keras\nK = keras\n"
# Under Keras 2 idioms K is the backend (from keras import backend as K): only tf.keras aliases.
ALIAS_BLOCK_KERAS2 = "L = tf.keras.layers\ntfk = tf.keras\n"


def module_aliases(source: str, keras2: bool = False) -> str:
    """``L = tf.keras.layers``, ``tfk = tf.keras``, ``K = keras``, used everywhere below them."""
    marker = "# module aliases\n"
    block = ALIAS_BLOCK_KERAS2 if keras2 else ALIAS_BLOCK
    source = insert_after_imports(source, marker + block)
    head, tail = source.split(marker + block, 1)
    for pattern, replacement in ALIASES.items():
        replacement = replacement.replace("K.", "tfk.") if keras2 else replacement
        tail, count = re.subn(pattern, replacement, tail)
    return head + marker + block + tail


# -- autoencoders -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AutoencoderStyle:
    model: str = "functional"
    activation: str = "inline"
    partial: bool = False
    aliases: bool = False
    derived: bool = False
    vae: str = "trackers"

    def tags(self) -> tuple[str, ...]:
        tags = [self.model] if self.model != "functional" else []
        tags += [self.activation] if self.activation != "inline" else []
        tags += ["partial"] if self.partial else []
        tags += ["aliases"] if self.aliases else []
        tags += ["derived"] if self.derived else []
        tags += [self.vae] if self.vae != "trackers" else []
        return tuple(tags)


def _conv(style: AutoencoderStyle, kind: str, filters: str, extra: str = "") -> str:
    """One (transposed) conv layer's constructor; ``extra``: more keyword arguments."""
    if style.partial:
        return f"{'Conv' if kind == 'Conv2D' else 'Deconv'}({filters}{extra})"
    activation = ', activation="relu"' if style.activation == "inline" else ""
    return f'layers.{kind}({filters}, (3, 3){activation}, padding="same"{extra})'


def _relu(style: AutoencoderStyle) -> str | None:
    return {"inline": None, "activation_layer": 'layers.Activation("relu")', "relu_layer": "layers.ReLU()"}[
        style.activation
    ]


def _then(style: AutoencoderStyle, var: str, indent: str, add: bool = False) -> str:
    """The line that applies the separate ReLU layer, if the style has one."""
    relu = _relu(style)
    if relu is None:
        return ""
    return f"{indent}{var}.add({relu})\n" if add else f"{indent}{var} = {relu}({var})\n"


LATENT_BIAS = ", bias_initializer=keras.initializers.Constant(1.0)"
OUTPUT_BIAS = ", bias_initializer=keras.initializers.Constant(0.1)"


def _filters_loop(style: AutoencoderStyle) -> tuple[str, str]:
    """(the for-loop header over the four blocks, the filters expression inside it)."""
    if style.derived:
        return "for block in range(N_BLOCKS):", "FILTERS[block]"
    return "for block in range(4):", "16"


def _functional(style: AutoencoderStyle) -> str:
    loop, filters = _filters_loop(style)
    factors = "FACTORS" if style.derived else "[(2, 1), (2, 2), (2, 2), (2, 2)]"
    return f'''def build_encoder() -> keras.Model:
    """Four conv + MaxPool(2) blocks, then Conv2D(1) + MaxPool((2, 1)): the [1 x 2 x 1] code."""
    inputs = keras.Input(shape=IMAGE_SHAPE, name="image")
    x = inputs
    {loop}
        x = {_conv(style, "Conv2D", filters, ', name=f"conv{block + 1}"')}(x)
{_then(style, "x", "        ")}        x = layers.MaxPooling2D((2, 2), name=f"pool{{block + 1}}")(x)
    x = {_conv(style, "Conv2D", "1", LATENT_BIAS + ', name="conv_latent"')}(x)
{_then(style, "x", "    ")}    latent = layers.MaxPooling2D((2, 1), name="pool_latent")(x)
    return keras.Model(inputs, latent, name="encoder")


def build_decoder() -> keras.Model:
    """Conv2DTranspose + UpSampling blocks back to 32x32, 1 filter last."""
    latent = keras.Input(shape=LATENT_SHAPE, name="latent")
    x = latent
    for block, factor in enumerate({factors}):
        x = {_conv(style, "Conv2DTranspose", "16", ', name=f"deconv{block + 1}"')}(x)
{_then(style, "x", "        ")}        x = layers.UpSampling2D(factor, name=f"up{{block + 1}}")(x)
    x = {_conv(style, "Conv2DTranspose", "1", OUTPUT_BIAS + ', name="deconv_out"')}(x)
{_then(style, "x", "    ")}    outputs = layers.UpSampling2D((2, 2), name="up_out")(x)
    return keras.Model(latent, outputs, name="decoder")
'''


def _sequential(style: AutoencoderStyle) -> str:
    loop, filters = _filters_loop(style)
    factors = "FACTORS" if style.derived else "[(2, 1), (2, 2), (2, 2), (2, 2)]"
    return f'''def build_encoder() -> keras.Model:
    """A Sequential encoder: four conv + MaxPool(2) blocks, then Conv2D(1) + MaxPool((2, 1))."""
    model = keras.Sequential(name="encoder")
    model.add(keras.Input(shape=IMAGE_SHAPE))
    {loop}
        model.add({_conv(style, "Conv2D", filters)})
{_then(style, "model", "        ", add=True)}        model.add(layers.MaxPooling2D((2, 2)))
    model.add({_conv(style, "Conv2D", "1", LATENT_BIAS)})
{_then(style, "model", "    ", add=True)}    model.add(layers.MaxPooling2D((2, 1)))
    return model


def build_decoder() -> keras.Model:
    """A Sequential decoder: Conv2DTranspose + UpSampling blocks, 1 filter last."""
    model = keras.Sequential(name="decoder")
    model.add(keras.Input(shape=LATENT_SHAPE))
    for factor in {factors}:
        model.add({_conv(style, "Conv2DTranspose", "16")})
{_then(style, "model", "        ", add=True)}        model.add(layers.UpSampling2D(factor))
    model.add({_conv(style, "Conv2DTranspose", "1", OUTPUT_BIAS)})
{_then(style, "model", "    ", add=True)}    model.add(layers.UpSampling2D((2, 2)))
    return model
'''


def _helper(style: AutoencoderStyle) -> str:
    blocks = (
        "    for filters in FILTERS:\n        x = conv_block(x, filters)\n"
        if style.derived
        else "".join("    x = conv_block(x, 16)\n" for _ in range(4))
    )
    factors = "FACTORS" if style.derived else "[(2, 1), (2, 2), (2, 2), (2, 2)]"
    return f'''def conv_block(x, filters):
    """Conv (3x3, same) with a ReLU, then MaxPooling2D(2)."""
    x = {_conv(style, "Conv2D", "filters")}(x)
{_then(style, "x", "    ")}    return layers.MaxPooling2D((2, 2))(x)


def deconv_block(x, filters, factor):
    """Conv2DTranspose (3x3, same) with a ReLU, then UpSampling2D(factor)."""
    x = {_conv(style, "Conv2DTranspose", "filters")}(x)
{_then(style, "x", "    ")}    return layers.UpSampling2D(factor)(x)


def build_encoder() -> keras.Model:
    inputs = keras.Input(shape=IMAGE_SHAPE)
    x = inputs
{blocks}    x = {_conv(style, "Conv2D", "1", LATENT_BIAS)}(x)
{_then(style, "x", "    ")}    latent = layers.MaxPooling2D((2, 1))(x)
    return keras.Model(inputs, latent, name="encoder")


def build_decoder() -> keras.Model:
    latent = keras.Input(shape=LATENT_SHAPE)
    x = latent
    for factor in {factors}:
        x = deconv_block(x, 16, factor)
    x = {_conv(style, "Conv2DTranspose", "1", OUTPUT_BIAS)}(x)
{_then(style, "x", "    ")}    outputs = layers.UpSampling2D((2, 2))(x)
    return keras.Model(latent, outputs, name="decoder")
'''


# Without layer names, the classifier finds the encoder's fourth pooling layer by its type.
CLASSIFIER_BY_TYPE = '''def build_classifier(encoder: keras.Model) -> keras.Model:
    """The encoder up to its fourth pooling layer, then Flatten + Dense(10, softmax)."""
    pools = [layer for layer in encoder.layers if isinstance(layer, layers.MaxPooling2D)]
    x = layers.Flatten()(pools[-2].output)
    outputs = layers.Dense(10, activation="softmax")(x)
    classifier = keras.Model(encoder.inputs, outputs, name="classifier")
    classifier.compile(
        optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return classifier
'''

VAE_WITHOUT_TRACKERS = '''class VAE(keras.Model):
    """Encoder + decoder with a custom train_step that returns the loss itself (no tracker)."""

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder

    def call(self, x, training=False):
        _, _, z = self.encoder(x, training=training)
        return self.decoder(z, training=training)

    def train_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        with tf.GradientTape() as tape:
            z_mean, z_log_std, z = self.encoder(x, training=True)
            loss = vae_loss(x, self.decoder(z, training=True), z_mean, z_log_std)
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        return {"loss": loss}
'''

KERAS2_SAMPLING = '''def sampling(args):
    """Reparameterisation with the Keras backend, as Keras 2 tutorials write it."""
    z_mean, z_log_std = args
    epsilon = K.random_normal(shape=(K.shape(z_mean)[0], 2))
    return z_mean + K.exp(z_log_std) * epsilon
'''

KERAS2_KL = '''def kl_loss(z_mean, z_log_std):
    """Closed-form KL(N(mean, std^2) || N(0, 1)) per sample, with Keras backend functions."""
    return 0.5 * K.sum(K.square(z_mean) + K.exp(2.0 * z_log_std) - 1.0 - 2.0 * z_log_std, axis=-1)
'''

KERAS2_VAE_LOSS = """def vae_loss(x, x_rec, z_mean, z_log_std):
    reconstruction = K.sum(K.binary_crossentropy(K.batch_flatten(x), K.batch_flatten(x_rec)), axis=-1)
    return K.mean(reconstruction + kl_loss(z_mean, z_log_std))
"""

KERAS2_BUILD_VAE = '''def build_vae(encoder, decoder):
    """The Keras 2 way: a functional model with the VAE loss attached by add_loss."""
    inputs = keras.Input(shape=IMAGE_SHAPE, name="image")
    z_mean, z_log_std, z = encoder(inputs)
    outputs = decoder(z)
    vae = keras.Model(inputs, outputs, name="vae")
    vae.add_loss(vae_loss(inputs, outputs, z_mean, z_log_std))
    vae.compile(optimizer=Adam(lr=1e-3))
    return vae
'''


def keras2_idioms(source: str) -> str:
    """What tests/submissions/keras2_correct does: backend K, Lambda, Adam(lr=...), add_loss."""
    source = add_import(
        source,
        "from keras import backend as K\nfrom keras.layers import Lambda\nfrom keras.optimizers import Adam",
    )
    source = replace_definition(source, "sampling", KERAS2_SAMPLING)
    source = replace_definition(source, "kl_loss", KERAS2_KL)
    source = replace_definition(source, "vae_loss", KERAS2_VAE_LOSS)
    source = remove_definition(source, "VAE")
    source = replace_definition(source, "build_vae", KERAS2_BUILD_VAE)
    source = replace_once(source, "layers.Lambda(sampling", "Lambda(sampling")
    return replace_all(source, "keras.optimizers.Adam(1e-3)", "Adam(lr=1e-3)")


def derived_constants(source: str) -> str:
    """Constants computed from constants and names: ``FILTERS = [16] * 4``, ``VAE_EPOCHS = EPOCHS``."""
    source = replace_once(
        source,
        "LATENT_SHAPE = (1, 2, 1)\n",
        "LATENT_SHAPE = (1, 2, 1)\nFILTERS = [16] * 4\nN_BLOCKS = len(FILTERS)\n"
        "FACTORS = [(2, 1)] + [(2, 2)] * (N_BLOCKS - 1)\n",
    )
    return replace_once(source, "VAE_EPOCHS = 30\n", "EPOCHS = 30\nVAE_EPOCHS = EPOCHS\n")


PARTIAL_FACTORIES = """Conv = functools.partial(layers.Conv2D, kernel_size=(3, 3), padding="same"{activation})
Deconv = functools.partial(layers.Conv2DTranspose, kernel_size=(3, 3), padding="same"{activation})
"""


def rewrite_autoencoders(source: str, style: AutoencoderStyle) -> str:
    if style.vae == "no_trackers":
        source = replace_definition(source, "VAE", VAE_WITHOUT_TRACKERS)
    elif style.vae == "keras2":
        source = keras2_idioms(source)
    builders = {"functional": _functional, "sequential": _sequential, "conv_block": _helper}
    source = remove_definition(source, "build_decoder")
    source = replace_definition(source, "build_encoder", builders[style.model](style))
    if style.model != "functional":
        classifier = CLASSIFIER_BY_TYPE
        if style.vae == "keras2":
            classifier = classifier.replace("keras.optimizers.Adam(1e-3)", "Adam(lr=1e-3)")
        source = replace_definition(source, "build_classifier", classifier)
    if style.derived:
        source = derived_constants(source)
    if style.partial:
        activation = ', activation="relu"' if style.activation == "inline" else ""
        source = add_import(source, "import functools")
        source = replace_once(
            source,
            "IMAGE_SHAPE = (32, 32, 1)\n",
            PARTIAL_FACTORIES.format(activation=activation) + "\nIMAGE_SHAPE = (32, 32, 1)\n",
        )
    if style.aliases:
        source = module_aliases(source, keras2=style.vae == "keras2")
    return source


# -- sheet10 ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sheet10Style:
    aliases: bool = False
    sequential: bool = False
    partial: bool = False
    derived: bool = False
    computed: bool = False
    numpy_attention: bool = False

    def tags(self) -> tuple[str, ...]:
        names = ("aliases", "sequential", "partial", "derived", "computed_output", "numpy_attention")
        flags = (
            self.aliases,
            self.sequential,
            self.partial,
            self.derived,
            self.computed,
            self.numpy_attention,
        )
        return tuple(name for name, on in zip(names, flags, strict=True) if on)


SHEET10_SEQUENTIAL = '''def build_dense_autoencoder(encoding_dim: int = 32):
    """Sequential encoder and decoder, chained into a Sequential autoencoder."""
    encoder = keras.Sequential(
        [keras.Input(shape=(IMAGE_SIZE,)), layers.Dense(encoding_dim, activation="relu")],
        name="dense_encoder",
    )
    decoder = keras.Sequential(
        [keras.Input(shape=(encoding_dim,)), layers.Dense(IMAGE_SIZE, activation="sigmoid")],
        name="dense_decoder",
    )
    autoencoder = keras.Sequential([encoder, decoder], name="dense_autoencoder")
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
    return autoencoder, encoder, decoder
'''

NUMPY_ATTENTION = '''def scaled_dot_product_attention(q, k, v, mask=None):
    """softmax(q k^T / sqrt(d_k) + mask * -1e9) v in NumPy; a rank-1 vector is one token."""
    single = np.ndim(q) == 1
    q, k, v = (np.atleast_2d(np.asarray(t, dtype=np.float64)) for t in (q, k, v))
    logits = q @ np.swapaxes(k, -1, -2) / np.sqrt(k.shape[-1])
    if mask is not None:
        logits = logits + np.asarray(mask, dtype=np.float64) * -1e9
    logits = logits - logits.max(axis=-1, keepdims=True)
    weights = np.exp(logits)
    weights = weights / weights.sum(axis=-1, keepdims=True)
    output = weights @ v
    if single:
        return output[0], weights[0]
    return output, weights
'''

COMPUTED_ATTENTION = """q_vec = np.array([0.8, 0.5, 0.21])
k_vec = np.array([0.1, 0.62, 0.73])
v_vec = np.array([0.6, 0.2, 0.9])
output, attention_weights = scaled_dot_product_attention(q_vec, k_vec, v_vec)
print(output)
ATTENTION_OUTPUT = np.asarray(output).reshape(-1)
"""


def rewrite_sheet10(source: str, style: Sheet10Style) -> str:
    source = replace_once(source, "EPOCHS = 50\n", "EPOCHS = 50\nIMAGE_SIZE = 28 * 28\n")
    source = replace_all(source, "(784,)", "(IMAGE_SIZE,)")
    source = replace_once(source, "layers.Dense(784,", "layers.Dense(IMAGE_SIZE,")
    if style.sequential:
        source = replace_definition(source, "build_dense_autoencoder", SHEET10_SEQUENTIAL)
    if style.numpy_attention:
        source = replace_definition(source, "scaled_dot_product_attention", NUMPY_ATTENTION)
    if style.computed:
        source = replace_once(source, "ATTENTION_OUTPUT = [0.6, 0.2, 0.9]\n", COMPUTED_ATTENTION)
    if style.derived:
        source = replace_once(
            source,
            "BATCH_SIZE = 256\nEPOCHS = 50\n",
            "BATCH_SIZE = 2**8\nN_EPOCHS = 50\nEPOCHS = N_EPOCHS\nPIXEL_MAX = np.float32(255)\n",
        )
        source = replace_once(source, "/ 255.0)", "/ PIXEL_MAX)")
    if style.partial:
        source = add_import(source, "import functools")
        factory = 'Dense = functools.partial(layers.Dense, kernel_initializer="glorot_uniform")\n'
        head, tail = replace_once(source, "BATCH_SIZE = ", factory + "\nBATCH_SIZE = ").split(factory)
        source = head + factory + replace_all(tail, "layers.Dense(", "Dense(")
    if style.aliases:
        source = module_aliases(source)
    return source


# -- transposed convolution -----------------------------------------------------------------------


@dataclass(frozen=True)
class TransposedConvStyle:
    matrix: str = "loops"
    upsample: str = "repeat"
    helper: bool = False
    derived: bool = False
    computed: bool = False

    def tags(self) -> tuple[str, ...]:
        tags = [self.matrix] if self.matrix != "loops" else []
        tags += [self.upsample] if self.upsample != "repeat" else []
        tags += ["helper"] if self.helper else []
        tags += ["derived"] if self.derived else []
        tags += ["computed"] if self.computed else []
        return tuple(tags)


INDEX_MATRIX = """    matrix = np.zeros((out_h * out_w, in_h * in_w))
    for row in range(out_h * out_w):
        i, j = divmod(row, out_w)
        for a in range(k_h):
            for b in range(k_w):
                matrix[row, (i + a) * in_w + (j + b)] = kernel[a, b]
    return matrix
"""

OUTPUT_SHAPE_HELPER = '''def output_shape(input_shape, kernel_shape):
    """The size of a stride-1 'valid' convolution's output."""
    return input_shape[0] - kernel_shape[0] + 1, input_shape[1] - kernel_shape[1] + 1
'''

SLIDE_CONSTANTS = """

SLIDE_KERNEL = np.arange(1, 10).reshape(3, 3)
SLIDE_IMAGE = np.array([[2, 1, 0, 3], [0, 0, 1, 2], [3, 1, 2, 0], [0, 2, 2, 1]])
SLIDE_OUTPUT = conv2d_as_matmul(SLIDE_IMAGE, SLIDE_KERNEL)
print(SLIDE_OUTPUT)
"""


def rewrite_transposed_conv(source: str, style: TransposedConvStyle) -> str:
    if style.matrix == "index_arithmetic":
        start = source.index("    matrix = np.zeros((out_h * out_w, in_h * in_w))\n")
        end = source.index("    return matrix\n") + len("    return matrix\n")
        source = source[:start] + INDEX_MATRIX + source[end:]
    upsampled = "np.repeat(np.repeat(np.asarray(x, dtype=np.float64), size, axis=0), size, axis=1)"
    if style.upsample == "kron":
        source = replace_once(
            source, upsampled, "np.kron(np.asarray(x, dtype=np.float64), np.ones((size, size)))"
        )
    elif style.upsample == "method_repeat":
        source = replace_once(
            source, upsampled, "np.asarray(x, dtype=np.float64).repeat(size, axis=0).repeat(size, axis=1)"
        )
    if style.helper:
        source = insert_before_definition(source, "conv_matrix", OUTPUT_SHAPE_HELPER)
        source = replace_once(
            source,
            "out_h, out_w = in_h - k_h + 1, in_w - k_w + 1",
            "out_h, out_w = output_shape(input_shape, kernel.shape)",
        )
        source = replace_once(
            source,
            "out_shape = (image.shape[0] - kernel.shape[0] + 1, image.shape[1] - kernel.shape[1] + 1)",
            "out_shape = output_shape(image.shape, kernel.shape)",
        )
    if style.derived:
        source = insert_after_imports(source, "DTYPE = np.float64\n")
        source = replace_all(source, "dtype=np.float64", "dtype=DTYPE")
    if style.computed:
        source = source.rstrip("\n") + SLIDE_CONSTANTS
    return source
