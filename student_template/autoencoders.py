"""Student template: "(Variational) Autoencoders" on MNIST, Exercises 1 to 6.

Replace every ``raise NotImplementedError(...)`` with your own code and fill in the
constants and ``ANSWERS`` at the bottom. Keep every name and signature as it is: the
grader looks them up by name. You may add helper functions of your own.

The grader supplies all data, so no graded function loads MNIST itself:

- images are float32 arrays of shape (N, 32, 32, 1) with values in [0, 1]
  (28x28 MNIST padded with 2 zero pixels on every side);
- labels are int arrays of shape (N,);
- latent codes handed to ``plot_latent`` and ``knn_per_digit_accuracy`` are (N, 2) arrays.

Plot functions return a ``matplotlib.figure.Figure`` and must not block on ``plt.show()``.

Check your file before handing it in:

    grader check autoencoders.py --exercise 1   # one exercise (-e 2 for 2a-2c)
    grader check autoencoders.py                # all of them
"""

from __future__ import annotations

import matplotlib

# A non-interactive backend, so that plotting never opens a window or blocks.
matplotlib.use("Agg")

# What the exercises need; F401 is silenced where a name is used only once you fill in a stub.
import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402, F401
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402, F401
from matplotlib.figure import Figure  # noqa: E402
from sklearn.neighbors import NearestNeighbors  # noqa: E402, F401

# ---------------------------------------------------------------------------
# Exercise 1 (4 pt): a convolutional autoencoder
# ---------------------------------------------------------------------------


def build_encoder() -> keras.Model:
    """Build the encoder as its own ``keras.Model``: (32, 32, 1) images -> (1, 2, 1) codes.

    Rules of the exercise:

    - only ``Conv2D`` and pooling layers;
    - every conv has 16 filters of size 3x3, ``padding="same"`` and a ReLU activation;
    - every conv is followed by a pooling layer that halves the spatial size;
    - the exception is the end of the encoder: its last conv has a single filter, and
      the pooling after it must leave a 1x2 map, so that a batch of N images gives an
      output of shape (N, 1, 2, 1).
    """
    raise NotImplementedError("build_encoder")


def build_decoder() -> keras.Model:
    """Build the decoder as its own ``keras.Model``: (1, 2, 1) codes -> (32, 32, 1) images.

    It mirrors the encoder: ``Conv2DTranspose`` layers (16 filters, 3x3, ``padding="same"``,
    ReLU), each followed by an ``UpSampling2D`` that doubles the spatial size.

    The last layer is the exception: a ``Conv2DTranspose`` with 1 filter that produces the
    single image channel. Either the last upsampling follows it, or it works at full
    resolution after the last upsampling with nothing after it. Its activation may be
    relu, sigmoid or linear.
    """
    raise NotImplementedError("build_decoder")


def build_autoencoder(encoder: keras.Model, decoder: keras.Model) -> keras.Model:
    """Chain ``encoder`` and ``decoder`` into one model from images to reconstructions.

    Return it COMPILED with the mean squared error as loss (any optimizer, e.g. Adam).
    The grader trains it itself, with its own number of epochs.
    """
    raise NotImplementedError("build_autoencoder")


def plot_reconstructions(x: np.ndarray, x_rec: np.ndarray, n: int = 10) -> Figure:
    """Show the first ``n`` images of ``x`` next to their reconstructions ``x_rec[:n]``.

    Both arrays have the shape (N, 32, 32, 1). A common layout is the originals in the
    top row and the reconstructions below them. Return the Figure.
    """
    raise NotImplementedError("plot_reconstructions")


def plot_loss(history) -> Figure:
    """Plot the training loss per epoch from a Keras ``History`` returned by ``fit``.

    The values are in ``history.history["loss"]`` (and ``"val_loss"`` when validation
    data was used). Return the Figure.
    """
    raise NotImplementedError("plot_loss")


# ---------------------------------------------------------------------------
# Exercise 2: the latent space
# ---------------------------------------------------------------------------


def plot_latent(z: np.ndarray, y: np.ndarray) -> Figure:
    """(2a, 2 pt) Scatter plot of the latent codes, one point per image.

    ``z`` has the shape (N, 2): put ``z[:, 0]`` on the horizontal and ``z[:, 1]`` on the
    vertical axis. Colour each point by its digit ``y`` (shape (N,)) and add a legend or a
    colorbar so the colours can be read. (Your encoder returns (N, 1, 2, 1): reshape to
    (N, 2) before calling this.) Return the Figure.
    """
    raise NotImplementedError("plot_latent")


# ---------------------------------------------------------------------------
# Exercise 3: 1-nearest-neighbour classification in the latent space
# ---------------------------------------------------------------------------


def knn_per_digit_accuracy(
    z_train: np.ndarray, y_train: np.ndarray, z_test: np.ndarray, y_test: np.ndarray
) -> np.ndarray:
    """(3a, 2 pt) Per-digit accuracy of a 1-nearest-neighbour classifier on latent codes.

    Give every test code (``z_test``, shape (N_test, 2)) the label of the training code
    (``z_train``, shape (N_train, 2)) closest to it in Euclidean distance; use
    ``sklearn.neighbors.NearestNeighbors``. Return a float array of shape (10,): entry
    ``d`` is the percentage (0 to 100) of test images of digit ``d`` labelled correctly.
    """
    raise NotImplementedError("knn_per_digit_accuracy")


# (3b) How many of the 1,000 test images would you expect to be right if the
# classifier guessed at random? A number.
EXPECTED_RANDOM_CORRECT = None

# (3c) The name of the loss you would train a digit classifier with, as a string.
CLASSIFICATION_LOSS = ""

# ---------------------------------------------------------------------------
# Exercise 4: from autoencoder to classifier
# ---------------------------------------------------------------------------


def build_classifier(encoder: keras.Model) -> keras.Model:
    """(4a, 2 pt) Turn an encoder into a digit classifier.

    Reuse the encoder's layers up to and including its last 16-filter conv block, i.e.
    drop the final 1-filter conv with its activation and pooling. Put a ``Flatten`` and a
    ``Dense(10)`` on top (softmax, or raw logits with a loss that expects logits).
    Return the model COMPILED with a suitable classification loss; the labels are
    integers 0 to 9 of shape (N,), not one-hot vectors. Adding ``metrics=["accuracy"]``
    lets you read the test accuracy.
    """
    raise NotImplementedError("build_classifier")


def train_classifier(
    model, x_train, y_train, x_test, y_test, epochs: int, batch_size: int
) -> keras.callbacks.History:
    """(4b, 1 pt) Train ``model`` and return the ``History`` object of ``fit``.

    Train for ``epochs`` epochs with ``batch_size``, and evaluate on the test set after
    every epoch (pass it as validation data), so the history holds both the training
    loss and the test loss per epoch.
    """
    raise NotImplementedError("train_classifier")


# ---------------------------------------------------------------------------
# Exercise 5: the decoder as a generative model
# ---------------------------------------------------------------------------


def latent_grid(z_min, z_max, n: int = 15) -> np.ndarray:
    """(5a) An (n, n, 2) array of equidistant latent points from corner to corner.

    ``z_min`` and ``z_max`` are length-2 arrays: the lower-left and upper-right corners
    of the latent region, both included in the grid. ``grid[i, j]`` is the point drawn
    in row ``i``, column ``j`` of the picture, so that it lines up with the scatter plot:

    - row 0 is the top, i.e. the HIGHEST ``z[1]``;
    - column 0 is the left, i.e. the LOWEST ``z[0]``.

    So ``grid[0, 0] == (z_min[0], z_max[1])`` and ``grid[-1, -1] == (z_max[0], z_min[1])``.
    """
    raise NotImplementedError("latent_grid")


def decode_grid(decoder: keras.Model, grid: np.ndarray) -> np.ndarray:
    """(5a) Decode every point of ``grid`` (n, n, 2) and tile the images into one mosaic.

    Reshape the points to the decoder's input shape (``decoder.input_shape[1:]``: (1, 2, 1)
    for the autoencoder of Exercise 1, (2,) for a VAE decoder), so the same function
    works for both. Return a 2-D array of shape (n*H, n*W) in which the image decoded from
    ``grid[i, j]`` fills rows ``i*H:(i+1)*H`` and columns ``j*W:(j+1)*W``.
    """
    raise NotImplementedError("decode_grid")


def plot_grid(mosaic: np.ndarray, z_min, z_max) -> Figure:
    """(5a) Show the mosaic with ``imshow``, labelled with latent coordinates.

    Choose the axes so the picture covers [z_min[0], z_max[0]] x [z_min[1], z_max[1]] and
    thus coincides with the scatter plot of Exercise 2 (hint: ``extent``). Return the Figure.
    """
    raise NotImplementedError("plot_grid")


# ---------------------------------------------------------------------------
# Exercise 6: the variational autoencoder
# ---------------------------------------------------------------------------

# (6a) How many epochs you trained your VAE for; the exercise asks for at least 30.
VAE_EPOCHS = 0


def sampling(args) -> tf.Tensor:
    """(6a) Reparameterisation: draw z from N(z_mean, std^2) in a differentiable way.

    ``args`` is the list ``[z_mean, z_log_std]``, two tensors of shape (N, 2). Return
    ``z_mean + eps * exp(z_log_std)`` with ``eps`` drawn from a standard normal
    distribution in the same shape.

    Use TensorFlow or Keras operations only, no NumPy: the function runs inside a
    ``Lambda`` layer of the encoder, on symbolic tensors whose batch size is unknown and
    inside ``tf.function``. If you prefer the log variance, use ``exp(0.5 * z_log_var)``
    here and the matching formula in ``kl_loss``: one convention throughout.
    """
    raise NotImplementedError("sampling")


def build_vae_encoder() -> keras.Model:
    """(6a) The VAE encoder: (32, 32, 1) images -> ``[z_mean, z_log_std, z]``.

    Each output has the shape (N, 2); ``z`` comes from a ``Lambda`` layer that calls
    ``sampling``. The model must be convolutional, and only its last layers may be
    ``Dense``. The layer rules of Exercise 1 no longer apply.
    """
    raise NotImplementedError("build_vae_encoder")


def build_vae_decoder() -> keras.Model:
    """(6a) The VAE decoder: latent points of shape (2,) -> (32, 32, 1) images in [0, 1].

    It must be convolutional; only its first layer may be ``Dense`` (for example a Dense
    layer reshaped into a small feature map, then transposed convs and upsampling).
    """
    raise NotImplementedError("build_vae_decoder")


def kl_loss(z_mean, z_log_std) -> tf.Tensor:
    """(6a) KL divergence from N(z_mean, exp(z_log_std)^2) to the prior N(0, 1).

    Use the closed form from the lecture, summed over the latent dimensions: one value
    per sample, shape (N,). TensorFlow operations only.
    """
    raise NotImplementedError("kl_loss")


def vae_loss(x, x_rec, z_mean, z_log_std) -> tf.Tensor:
    """(6a) The VAE loss: a reconstruction term plus ``kl_loss``, averaged over the batch.

    The reconstruction term measures how far ``x_rec`` is from ``x`` (for example the
    binary cross-entropy or squared error summed over the pixels). The total must grow
    when either term grows. Return a scalar tensor. TensorFlow operations only.
    """
    raise NotImplementedError("vae_loss")


def build_vae(encoder: keras.Model, decoder: keras.Model) -> keras.Model:
    """(6a) Combine the VAE encoder and decoder into one model trained on ``vae_loss``.

    Return it COMPILED. The grader trains it with ``vae.fit(x, x, epochs=..., batch_size=...)``
    and, if that raises, with ``vae.fit(x, epochs=..., batch_size=...)``; one of the two
    must work. A ``keras.Model`` subclass with its own ``train_step`` is one way to do this.
    """
    raise NotImplementedError("build_vae")


# (6c) needs no new code: run latent_grid, decode_grid and plot_grid on the VAE
# decoder over [-3, 3] x [-3, 3].

# ---------------------------------------------------------------------------
# Written answers (graded by hand by the instructor)
# ---------------------------------------------------------------------------

ANSWERS = {
    # 2b: which digits form clear clusters in the latent plot, which overlap, and why?
    "2b": "",
    # 2c: why are so many latent values clipped at exactly zero?
    "2c": "",
    # 3b: which digits does the 1-NN classifier get right much more often than others,
    # and how does the latent plot of Exercise 2 explain it?
    "3b": "",
    # 4b: what do the training and test loss curves say about the network's capacity?
    "4b": "",
    # 4c: what would you change if the network underfitted, and if it overfitted?
    "4c": "",
    # 5b: which digits can you recognise in the decoded grid, how do they change across
    # it, and why do some grid points not look like digits?
    "5b": "",
    # 6b: how does the VAE's latent space (of the means) differ from the autoencoder's?
    "6b": "",
    # 6d: how does the VAE's decoded grid differ from Exercise 5's, and why is the VAE a
    # better generative model?
    "6d": "",
}
