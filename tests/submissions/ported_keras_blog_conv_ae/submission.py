"""Corpus entry ported_keras_blog_conv_ae: Exercise 1 as the Keras blog's convolutional autoencoder
(F. Chollet, "Building Autoencoders in Keras", 2016, https://blog.keras.io/building-autoencoders-in-keras.html,
section "Convolutional autoencoder"), split into the contract's build_encoder / build_decoder, in its own
idioms (from keras.layers import ..., adadelta, binary cross-entropy, a 28x28 input, Conv2D + UpSampling2D
in the decoder, one unpadded Conv2D). Exercises 2 to 6 are the reference.

Reference solution: "Assignments (Variational) Autoencoders" (seed 003), Exercises 1 to 6.

A model submission: it is graded exactly as a student's file is, so it imports
third-party packages only. Every graded function receives its data from the caller
(the grader, or the demo at the bottom) and never loads data itself.

Images are float32 (N, 32, 32, 1) in [0, 1]; latent codes passed to the analysis
functions are (N, 2) arrays.
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

from keras.layers import Conv2D, Input, MaxPooling2D, UpSampling2D
from keras.models import Model

IMAGE_SHAPE = (32, 32, 1)
LATENT_SHAPE = (1, 2, 1)

# ---------------------------------------------------------------------------
# Exercise 1: the convolutional autoencoder
# ---------------------------------------------------------------------------


def build_encoder():
    input_img = Input(shape=(28, 28, 1))  # adapt this if using `channels_first` image data format

    x = Conv2D(16, (3, 3), activation='relu', padding='same')(input_img)
    x = MaxPooling2D((2, 2), padding='same')(x)
    x = Conv2D(8, (3, 3), activation='relu', padding='same')(x)
    x = MaxPooling2D((2, 2), padding='same')(x)
    x = Conv2D(8, (3, 3), activation='relu', padding='same')(x)
    encoded = MaxPooling2D((2, 2), padding='same')(x)

    # at this point the representation is (4, 4, 8) i.e. 128-dimensional
    return Model(input_img, encoded)


def build_decoder():
    encoded_input = Input(shape=(4, 4, 8))
    x = Conv2D(8, (3, 3), activation='relu', padding='same')(encoded_input)
    x = UpSampling2D((2, 2))(x)
    x = Conv2D(8, (3, 3), activation='relu', padding='same')(x)
    x = UpSampling2D((2, 2))(x)
    x = Conv2D(16, (3, 3), activation='relu')(x)
    x = UpSampling2D((2, 2))(x)
    decoded = Conv2D(1, (3, 3), activation='sigmoid', padding='same')(x)
    return Model(encoded_input, decoded)





def build_autoencoder(encoder, decoder):
    input_img = Input(shape=(28, 28, 1))
    autoencoder = Model(input_img, decoder(encoder(input_img)))
    autoencoder.compile(optimizer='adadelta', loss='binary_crossentropy')
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
    last_block = encoder.layers[-3].output  # the blog's encoder: its conv blocks before the code
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
# Exercise 6: the variational autoencoder
# ---------------------------------------------------------------------------

VAE_EPOCHS = 30


def sampling(args):
    """Reparameterisation: z = mean + eps * exp(log_std), eps ~ N(0, 1). TF ops only."""
    z_mean, z_log_std = args
    eps = tf.random.normal(tf.shape(z_mean))
    return z_mean + eps * tf.exp(z_log_std)


def build_vae_encoder() -> keras.Model:
    """Conv blocks, then Dense heads for the mean and log std, and the sampling Lambda."""
    inputs = keras.Input(shape=IMAGE_SHAPE, name="image")
    x = inputs
    for block, filters in enumerate((32, 64)):
        x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same", name=f"conv{block + 1}")(x)
        x = layers.MaxPooling2D((2, 2), name=f"pool{block + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(64, activation="relu", name="hidden")(x)
    z_mean = layers.Dense(2, name="z_mean")(x)
    z_log_std = layers.Dense(2, name="z_log_std")(x)
    z = layers.Lambda(sampling, output_shape=(2,), name="z")([z_mean, z_log_std])
    return keras.Model(inputs, [z_mean, z_log_std, z], name="vae_encoder")


def build_vae_decoder() -> keras.Model:
    """Dense to an 8x8x32 map, then Conv2DTranspose + UpSampling back to 32x32."""
    latent = keras.Input(shape=(2,), name="z")
    x = layers.Dense(8 * 8 * 32, activation="relu", name="hidden")(latent)
    x = layers.Reshape((8, 8, 32), name="reshape")(x)
    for block, filters in enumerate((32, 16)):
        x = layers.Conv2DTranspose(
            filters, (3, 3), activation="relu", padding="same", name=f"deconv{block + 1}"
        )(x)
        x = layers.UpSampling2D((2, 2), name=f"up{block + 1}")(x)
    outputs = layers.Conv2DTranspose(1, (3, 3), activation="sigmoid", padding="same", name="image")(x)
    return keras.Model(latent, outputs, name="vae_decoder")


def kl_loss(z_mean, z_log_std):
    """Closed-form KL(N(mean, std^2) || N(0, 1)) per sample, summed over latent dimensions."""
    return 0.5 * tf.reduce_sum(tf.square(z_mean) + tf.exp(2.0 * z_log_std) - 1.0 - 2.0 * z_log_std, axis=-1)


def vae_loss(x, x_rec, z_mean, z_log_std):
    """Mean over the batch of (binary cross-entropy summed over pixels + KL)."""
    x = tf.reshape(tf.cast(x, tf.float32), (tf.shape(x)[0], -1))
    x_rec = tf.reshape(tf.cast(x_rec, tf.float32), (tf.shape(x_rec)[0], -1))
    x_rec = tf.clip_by_value(x_rec, 1e-7, 1.0 - 1e-7)
    reconstruction = -tf.reduce_sum(x * tf.math.log(x_rec) + (1.0 - x) * tf.math.log(1.0 - x_rec), axis=-1)
    return tf.reduce_mean(reconstruction + kl_loss(z_mean, z_log_std))


class VAE(keras.Model):
    """Encoder + decoder trained on :func:`vae_loss` with a custom training step."""

    def __init__(self, encoder: keras.Model, decoder: keras.Model, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.loss_tracker = keras.metrics.Mean(name="loss")

    @property
    def metrics(self):
        # Listed here so that Keras resets it each epoch and logs it as "loss".
        return [self.loss_tracker]

    def call(self, x, training=False):
        _, _, z = self.encoder(x, training=training)
        return self.decoder(z, training=training)

    def _loss(self, data, training):
        x = data[0] if isinstance(data, (tuple, list)) else data
        z_mean, z_log_std, z = self.encoder(x, training=training)
        return vae_loss(x, self.decoder(z, training=training), z_mean, z_log_std)

    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss = self._loss(data, training=True)
        gradients = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights, strict=True))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def test_step(self, data):
        self.loss_tracker.update_state(self._loss(data, training=False))
        return {"loss": self.loss_tracker.result()}


def build_vae(encoder: keras.Model, decoder: keras.Model) -> keras.Model:
    """The VAE, compiled with Adam; it trains with ``vae.fit(x, epochs=...)``."""
    vae = VAE(encoder, decoder, name="vae")
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    return vae


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
