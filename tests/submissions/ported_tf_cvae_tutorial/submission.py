"""Corpus entry ported_tf_cvae_tutorial: Exercise 6 in the idioms of TensorFlow's "Convolutional Variational Autoencoder" tutorial: a CVAE(tf.keras.Model) with a custom train_step, the log variance throughout, a decoder that outputs logits and a sigmoid cross-entropy on them, a Monte Carlo KL (log q(z|x) - log p(z) at a sampled z) instead of the closed form, Adam(1e-4), 10 epochs

Exercises 1 to 5 are the reference. Reference solution: "Assignments (Variational) Autoencoders" (seed 003),
Exercises 1 to 6. The VAE is written in the tutorial's idioms (tensorflow.org/tutorials/generative/cvae,
notebook tensorflow/docs site/en/tutorials/generative/cvae.ipynb, commit 0d13617fbe162a95da7c6930aa69c997a9d62bd8:
CVAE(tf.keras.Model), log_normal_pdf, compute_loss, train_step), wrapped into the contract's functions only as
far as the contract needs.

A model submission: it is graded exactly as a student's file is, so it imports
third-party packages only. Every graded function receives its data from the caller
(the grader, or the demo at the bottom) and never loads data itself.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from sklearn.neighbors import NearestNeighbors  # noqa: E402

IMAGE_SHAPE = (32, 32, 1)
LATENT_SHAPE = (1, 2, 1)

# ---------------------------------------------------------------------------
# Exercise 1: the convolutional autoencoder
# ---------------------------------------------------------------------------


def build_encoder() -> keras.Model:
    """Four Conv2D(16, 3x3, relu, same) + MaxPool(2) blocks, then Conv2D(1) + MaxPool((2, 1)).

    32x32 -> 16 -> 8 -> 4 -> 2 (x16 filters); the 1-filter conv keeps 2x2, and the last
    pooling halves only the height, giving the [1 x 2 x 1] latent code.

    The 1-filter conv is followed by a ReLU as the exercise demands; with the default
    zero bias a latent unit can die (its ReLU is 0 for every image, FINDINGS.md #1).
    A positive initial bias keeps both latent units in their linear range at the start.
    """
    inputs = keras.Input(shape=IMAGE_SHAPE, name="image")
    x = inputs
    for block in range(4):
        x = layers.Conv2D(16, (3, 3), activation="relu", padding="same", name=f"conv{block + 1}")(x)
        x = layers.MaxPooling2D((2, 2), name=f"pool{block + 1}")(x)
    x = layers.Conv2D(
        1,
        (3, 3),
        activation="relu",
        padding="same",
        bias_initializer=keras.initializers.Constant(1.0),
        name="conv_latent",
    )(x)
    latent = layers.MaxPooling2D((2, 1), name="pool_latent")(x)
    return keras.Model(inputs, latent, name="encoder")


def build_decoder() -> keras.Model:
    """Mirror of the encoder: Conv2DTranspose + UpSampling blocks, 1 filter last.

    1x2 -(2,1)-> 2x2 -> 4 -> 8 -> 16 -> 32. The last transposed conv has 1 filter and is
    followed by the last upsampling, as the exercise's "last layers" exception allows.

    Its ReLU output can die too (every pixel 0, loss stuck at the mean of x**2): a small
    positive initial bias starts every output pixel in the ReLU's linear range.
    """
    latent = keras.Input(shape=LATENT_SHAPE, name="latent")
    x = latent
    factors = [(2, 1), (2, 2), (2, 2), (2, 2)]
    for block, factor in enumerate(factors):
        x = layers.Conv2DTranspose(16, (3, 3), activation="relu", padding="same", name=f"deconv{block + 1}")(
            x
        )
        x = layers.UpSampling2D(factor, name=f"up{block + 1}")(x)
    x = layers.Conv2DTranspose(
        1,
        (3, 3),
        activation="relu",
        padding="same",
        bias_initializer=keras.initializers.Constant(0.1),
        name="deconv_out",
    )(x)
    outputs = layers.UpSampling2D((2, 2), name="up_out")(x)
    return keras.Model(latent, outputs, name="decoder")


def build_autoencoder(encoder: keras.Model, decoder: keras.Model) -> keras.Model:
    """encoder then decoder, compiled with Adam and the mean squared error."""
    inputs = keras.Input(shape=encoder.input_shape[1:], name="image")
    autoencoder = keras.Model(inputs, decoder(encoder(inputs)), name="autoencoder")
    autoencoder.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    return autoencoder


def _as_images(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    return x[..., 0] if x.ndim == 4 else x


def plot_reconstructions(x: np.ndarray, x_rec: np.ndarray, n: int = 10) -> Figure:
    """Row 1: the first n originals; row 2: their reconstructions."""
    originals, reconstructions = _as_images(x), _as_images(x_rec)
    fig, axes = plt.subplots(2, n, figsize=(1.2 * n, 2.8), squeeze=False)
    for i in range(n):
        for row, images in enumerate((originals, reconstructions)):
            ax = axes[row, i]
            ax.imshow(images[i], cmap="gray", vmin=0.0, vmax=1.0)
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel("input")
    axes[1, 0].set_ylabel("output")
    fig.suptitle("Originals (top) and reconstructions (bottom)")
    return fig


def _history_dict(history) -> dict:
    return history.history if hasattr(history, "history") else dict(history)


def plot_loss(history) -> Figure:
    """Training (and, if present, validation) loss per epoch."""
    values = _history_dict(history)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for key in ("loss", "val_loss"):
        if key in values:
            epochs = np.arange(1, len(values[key]) + 1)
            ax.plot(epochs, values[key], marker="o", label=key)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend()
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------
# Exercise 2: the latent space
# ---------------------------------------------------------------------------


def plot_latent(z: np.ndarray, y: np.ndarray) -> Figure:
    """Scatter of every latent code, coloured by its digit, with a colorbar."""
    z = np.asarray(z).reshape(len(z), -1)
    fig, ax = plt.subplots(figsize=(6, 5))
    points = ax.scatter(z[:, 0], z[:, 1], c=np.asarray(y), cmap="tab10", vmin=-0.5, vmax=9.5, s=6)
    fig.colorbar(points, ax=ax, ticks=range(10), label="digit")
    ax.set_xlabel("z[0]")
    ax.set_ylabel("z[1]")
    ax.set_title("Latent space")
    return fig


# ---------------------------------------------------------------------------
# Exercise 3: 1-nearest-neighbour classification in the latent space
# ---------------------------------------------------------------------------


def knn_per_digit_accuracy(
    z_train: np.ndarray, y_train: np.ndarray, z_test: np.ndarray, y_test: np.ndarray
) -> np.ndarray:
    """Percentage of test images of each digit whose nearest training code has their label."""
    z_train = np.asarray(z_train).reshape(len(z_train), -1)
    z_test = np.asarray(z_test).reshape(len(z_test), -1)
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    search = NearestNeighbors(n_neighbors=1, metric="euclidean").fit(z_train)
    nearest = search.kneighbors(z_test, return_distance=False)[:, 0]
    correct = y_train[nearest] == y_test
    return np.array([100.0 * correct[y_test == digit].mean() for digit in range(10)])


# A classifier that guesses at random is right for 1 image in 10.
EXPECTED_RANDOM_CORRECT = 100
CLASSIFICATION_LOSS = "sparse categorical cross-entropy"

# ---------------------------------------------------------------------------
# Exercise 4: from autoencoder to classifier
# ---------------------------------------------------------------------------


def build_classifier(encoder: keras.Model) -> keras.Model:
    """The encoder's layers up to its last conv block, then Flatten + Dense(10, softmax)."""
    last_block = encoder.get_layer("pool4").output
    x = layers.Flatten(name="flatten")(last_block)
    outputs = layers.Dense(10, activation="softmax", name="digits")(x)
    classifier = keras.Model(encoder.input, outputs, name="classifier")
    classifier.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return classifier


def train_classifier(model, x_train, y_train, x_test, y_test, epochs: int, batch_size: int):
    """Fit with an evaluation on the test set after every epoch (for the loss curves)."""
    return model.fit(
        x_train,
        y_train,
        epochs=epochs,
        batch_size=batch_size,
        validation_data=(x_test, y_test),
        verbose=0,
    )


# ---------------------------------------------------------------------------
# Exercise 5: the decoder as a generative model
# ---------------------------------------------------------------------------


def latent_grid(z_min, z_max, n: int = 15) -> np.ndarray:
    """(n, n, 2) equidistant points from corner to corner.

    Row 0 is the top of the picture (highest z[1]) and column 0 its left (lowest z[0]),
    so the decoded mosaic lines up with the scatter plot of Exercise 2.
    """
    z_min, z_max = np.asarray(z_min, dtype=float), np.asarray(z_max, dtype=float)
    xs = np.linspace(z_min[0], z_max[0], n)
    ys = np.linspace(z_max[1], z_min[1], n)
    grid_x, grid_y = np.meshgrid(xs, ys)
    return np.stack([grid_x, grid_y], axis=-1).astype(np.float32)


def decode_grid(decoder: keras.Model, grid: np.ndarray) -> np.ndarray:
    """Decode every grid point and tile the images into one (n*H, n*W) mosaic."""
    rows, cols = grid.shape[:2]
    points = np.asarray(grid, dtype=np.float32).reshape((rows * cols,) + tuple(decoder.input_shape[1:]))
    images = np.asarray(decoder.predict(points, verbose=0))
    height, width = images.shape[1:3]
    images = images.reshape(rows, cols, height, width)
    return images.transpose(0, 2, 1, 3).reshape(rows * height, cols * width)


def plot_grid(mosaic: np.ndarray, z_min, z_max) -> Figure:
    """Show the mosaic on the latent axes, so it coincides with the scatter plot."""
    fig, ax = plt.subplots(figsize=(6, 6))
    extent = (z_min[0], z_max[0], z_min[1], z_max[1])
    ax.imshow(mosaic, cmap="gray", extent=extent, origin="upper", aspect="auto")
    ax.set_xlabel("z[0]")
    ax.set_ylabel("z[1]")
    ax.set_title("Decoded latent grid")
    return fig


# ---------------------------------------------------------------------------
# Exercise 6: the variational autoencoder (TensorFlow's CVAE tutorial)
# ---------------------------------------------------------------------------

epochs = 10
# set the dimensionality of the latent space to a plane for visualization later
latent_dim = 2

VAE_EPOCHS = epochs


def log_normal_pdf(sample, mean, logvar, raxis=1):
    log2pi = tf.math.log(2.0 * np.pi)
    return tf.reduce_sum(-0.5 * ((sample - mean) ** 2.0 * tf.exp(-logvar) + logvar + log2pi), axis=raxis)


def sampling(args):
    """The tutorial's CVAE.reparameterize(mean, logvar), as the function of the encoder's Lambda layer.

    The tutorial draws eps with shape=mean.shape; in a Lambda layer the batch size is unknown
    (None) until the model runs, so the shape is read with tf.shape(mean) here.
    """
    mean, logvar = args
    eps = tf.random.normal(shape=tf.shape(mean))
    return eps * tf.exp(logvar * 0.5) + mean


def build_vae_encoder():
    """The tutorial's encoder (inference network), then its encode() split and reparameterize()."""
    encoder = tf.keras.Sequential(
        [
            tf.keras.layers.InputLayer(input_shape=(28, 28, 1)),
            tf.keras.layers.Conv2D(filters=32, kernel_size=3, strides=(2, 2), activation="relu"),
            tf.keras.layers.Conv2D(filters=64, kernel_size=3, strides=(2, 2), activation="relu"),
            tf.keras.layers.Flatten(),
            # No activation
            tf.keras.layers.Dense(latent_dim + latent_dim),
        ]
    )
    x = tf.keras.Input(shape=(28, 28, 1))
    mean, logvar = tf.keras.layers.Lambda(
        lambda h: tf.split(h, num_or_size_splits=2, axis=1), name="encode"
    )(encoder(x))
    z = tf.keras.layers.Lambda(sampling, name="reparameterize")([mean, logvar])
    return tf.keras.Model(x, [mean, logvar, z])


def build_vae_decoder():
    """The tutorial's decoder (generative network): it outputs logits, no activation at the end."""
    return tf.keras.Sequential(
        [
            tf.keras.layers.InputLayer(input_shape=(latent_dim,)),
            tf.keras.layers.Dense(units=7 * 7 * 32, activation=tf.nn.relu),
            tf.keras.layers.Reshape(target_shape=(7, 7, 32)),
            tf.keras.layers.Conv2DTranspose(
                filters=64, kernel_size=3, strides=2, padding="same", activation="relu"
            ),
            tf.keras.layers.Conv2DTranspose(
                filters=32, kernel_size=3, strides=2, padding="same", activation="relu"
            ),
            # No activation
            tf.keras.layers.Conv2DTranspose(filters=1, kernel_size=3, strides=1, padding="same"),
        ]
    )


def kl_loss(z_mean, z_log_var):
    """The tutorial's KL term per sample: logqz_x - logpz, at a z sampled from q(z|x)."""
    z = sampling([z_mean, z_log_var])
    logpz = log_normal_pdf(z, 0.0, 0.0)
    logqz_x = log_normal_pdf(z, z_mean, z_log_var)
    return logqz_x - logpz


def vae_loss(x, x_rec, z_mean, z_log_var):
    """The tutorial's compute_loss on the decoder's logits x_rec: -mean(logpx_z + logpz - logqz_x)."""
    cross_ent = tf.nn.sigmoid_cross_entropy_with_logits(logits=x_rec, labels=x)
    logpx_z = -tf.reduce_sum(cross_ent, axis=[1, 2, 3])
    return -tf.reduce_mean(logpx_z - kl_loss(z_mean, z_log_var))


def compute_loss(model, x):
    mean, logvar = model.encode(x)
    z = model.reparameterize(mean, logvar)
    x_logit = model.decode(z)
    cross_ent = tf.nn.sigmoid_cross_entropy_with_logits(logits=x_logit, labels=x)
    logpx_z = -tf.reduce_sum(cross_ent, axis=[1, 2, 3])
    logpz = log_normal_pdf(z, 0.0, 0.0)
    logqz_x = log_normal_pdf(z, mean, logvar)
    return -tf.reduce_mean(logpx_z + logpz - logqz_x)


class CVAE(tf.keras.Model):
    """Convolutional variational autoencoder."""

    def __init__(self, encoder, decoder):
        super(CVAE, self).__init__()
        self.latent_dim = latent_dim
        self.encoder = encoder
        self.decoder = decoder
        # The tutorial's training loop averages the loss with tf.keras.metrics.Mean(); fit logs it.
        self.loss_tracker = tf.keras.metrics.Mean(name="loss")

    @property
    def metrics(self):
        return [self.loss_tracker]

    @tf.function
    def sample(self, eps=None):
        if eps is None:
            eps = tf.random.normal(shape=(100, self.latent_dim))
        return self.decode(eps, apply_sigmoid=True)

    def encode(self, x):
        mean, logvar, _ = self.encoder(x)
        return mean, logvar

    def reparameterize(self, mean, logvar):
        return sampling([mean, logvar])

    def decode(self, z, apply_sigmoid=False):
        logits = self.decoder(z)
        if apply_sigmoid:
            probs = tf.sigmoid(logits)
            return probs
        return logits

    def call(self, x):
        mean, logvar = self.encode(x)
        return self.decode(self.reparameterize(mean, logvar))

    def train_step(self, data):
        """The tutorial's train_step(model, x, optimizer), run by fit."""
        x = data[0] if isinstance(data, (tuple, list)) else data
        with tf.GradientTape() as tape:
            loss = compute_loss(self, x)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}


def build_vae(encoder, decoder):
    model = CVAE(encoder, decoder)
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-4))
    return model


# ---------------------------------------------------------------------------
# Written answers (graded by the instructor)
# ---------------------------------------------------------------------------

ANSWERS = {
    "2b": (
        "Digits with a distinctive shape form compact clusters: 1 (a thin vertical stroke, "
        "little ink) and 0 (a large round shape, much ink) separate well, and so do 7 and 6 "
        "in part. Digits built from similar strokes overlap: 4 and 9, 3, 5 and 8, and 2 with "
        "several others. Two numbers cannot keep everything that distinguishes ten classes, "
        "so the encoder keeps the most salient factors (amount of ink, slant, roundness) "
        "and digits that differ only in finer details fall onto the same region."
    ),
    "2c": (
        "The last encoder layer is a convolution followed by a ReLU, max(0, x). Every "
        "pre-activation that is negative is set to exactly 0, so all images whose latent "
        "pre-activation is negative end up on the axis z = 0: the points pile up on the "
        "line. If a unit is negative for every image it is 'dead': it always outputs 0, gets "
        "no gradient and never recovers, and that latent dimension carries no information."
    ),
    "3b": (
        "At random, 1 in 10 test images would be right: about 100 of the 1000. The clearly "
        "separated digits of the scatter plot (0 and 1, and to a lesser extent 6 and 7) are "
        "classified well above chance, while the overlapping ones (4/9, 3/5/8, 2) are "
        "classified poorly, because their nearest neighbour in the latent space is often "
        "another digit."
    ),
    "4b": (
        "Training and test loss both fall and stay close to each other, and accuracy rises "
        "far above the 1-NN result: the small network has enough capacity for this data and "
        "does not overfit within these epochs. If the test loss started to rise while the "
        "training loss kept falling, the network would be overfitting."
    ),
    "4c": (
        "Underfitting: add capacity (more filters or layers, a wider Dense layer), train "
        "longer or with a better learning rate. Overfitting: more data or data augmentation "
        "(shifts, small rotations), dropout, weight decay / L2 regularisation, early "
        "stopping on the validation loss, or a smaller network."
    ),
    "5b": (
        "Near the clusters of the scatter plot the decoder produces recognisable digits "
        "(0, 1, 7, 9 ...), and moving across the grid they morph smoothly into one another "
        "(for example the stroke thickens and the shape closes from 1 towards 0). Grid "
        "points between or outside the clusters were never seen in training: the decoder "
        "was never asked to produce anything there, so it outputs blurry mixtures that do "
        "not look like digits. The deterministic latent space has holes."
    ),
    "6b": (
        "The VAE's latent means are centred at the origin and packed into a round region "
        "of about unit scale, because the KL term pulls every posterior towards N(0, I); "
        "the deterministic AE's codes are spread arbitrarily (and clipped at zero by the "
        "ReLU). The VAE's space is continuous and without large gaps: each image is encoded "
        "as a distribution rather than a point, so nearby points decode to similar images."
    ),
    "6d": (
        "The VAE grid over [-3, 3]^2 shows plausible digits almost everywhere, with smooth "
        "transitions between classes, whereas the AE grid contains many non-digit images in "
        "the gaps between clusters. The plain AE only learns a mapping for the training "
        "points, with no constraint on the rest of the latent space, so it is not a proper "
        "generative model: we do not know which latent values to sample. The VAE learns "
        "q(z|x) regularised towards the prior p(z) = N(0, I), and the decoder is trained on "
        "samples around every code, so sampling z ~ N(0, I) and decoding generates new, "
        "realistic digits."
    ),
}
