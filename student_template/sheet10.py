"""Student template: "Exercise sheet 10" (VAEs, GANs, LSTMs and transformers).

Two parts are graded automatically: the dense autoencoder of 1.4 and the attention
function of 3.4. Everything else is a written answer in ``ANSWERS`` at the bottom.

Replace every ``raise NotImplementedError(...)`` with your own code and fill in the
constants. Keep every name and signature as it is: the grader looks them up by name.
The grader supplies the MNIST images, so no graded function loads data itself.

Check your file before handing it in:

    grader check sheet10.py --exercise 1.4   # one exercise
    grader check sheet10.py                  # all of them
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

# ---------------------------------------------------------------------------
# 1.4: a dense autoencoder on flattened MNIST
# ---------------------------------------------------------------------------


def preprocess(images_uint8: np.ndarray) -> np.ndarray:
    """Prepare raw MNIST images for the dense autoencoder.

    Input: uint8 array of shape (N, 28, 28) with pixel values 0 to 255. Output: float32
    array of shape (N, 784) with every pixel scaled into [0, 1] (divide by the largest
    possible pixel value, not by a norm of the image) and every image flattened to a
    row of 784 values.
    """
    raise NotImplementedError("preprocess")


def build_dense_autoencoder(encoding_dim: int = 32) -> tuple[keras.Model, keras.Model, keras.Model]:
    """Build the dense autoencoder and return ``(autoencoder, encoder, decoder)``.

    - ``encoder``: 784 input values -> one ``Dense(encoding_dim)`` layer with ReLU.
    - ``decoder``: ``encoding_dim`` values -> one ``Dense(784)`` layer with a sigmoid.
      It is a model of its own that reuses (shares the weights of) the autoencoder's
      output layer.
    - ``autoencoder``: 784 -> 784, the encoder followed by the decoder layer, returned
      COMPILED with the Adam optimizer and the binary cross-entropy loss.

    The grader trains the autoencoder itself with ``BATCH_SIZE`` and its own epoch budget.
    """
    raise NotImplementedError("build_dense_autoencoder")


# The batch size and the number of epochs that the exercise prescribes for training.
BATCH_SIZE = 0
EPOCHS = 0


def plot_reconstructions(x: np.ndarray, x_rec: np.ndarray, n: int = 10) -> Figure:
    """Show the first ``n`` original digits and their reconstructions.

    ``x`` and ``x_rec`` are flattened images of shape (N, 784) in [0, 1]; reshape each to
    28x28 for ``imshow``. Put the originals in one row and the reconstructions in the
    row below. Return the Figure; do not block on ``plt.show()``.
    """
    raise NotImplementedError("plot_reconstructions")


# ---------------------------------------------------------------------------
# 3.4: scaled dot-product attention
# ---------------------------------------------------------------------------


def scaled_dot_product_attention(q, k, v, mask=None) -> tuple[tf.Tensor, tf.Tensor]:
    """Return ``(output, weights)`` of scaled dot-product attention.

    ``weights`` is the softmax over the LAST axis (the keys) of ``q k^T / sqrt(d_k)``,
    and ``output = weights v``. Shapes, with any leading batch dimensions ``...``:

    - ``q``: (..., seq_q, d_k), ``k``: (..., seq_k, d_k), ``v``: (..., seq_k, d_v);
    - ``output``: (..., seq_q, d_v), ``weights``: (..., seq_q, seq_k).

    ``mask`` (optional) broadcasts to the shape of the weights. 1 means "masked" (ignore
    this key) and 0 means "keep": add ``mask * -1e9`` to the scaled scores before the
    softmax, as in the TensorFlow transformer tutorial.

    Plain rank-1 vectors (for example Python lists) must work too: read each as a single
    token, i.e. a (1, depth) matrix. The output may then be (d_v,) or (1, d_v).
    """
    raise NotImplementedError("scaled_dot_product_attention")


# The attention output for the sheet's query [0.8, 0.5, 0.21], key [0.1, 0.62, 0.73]
# and value [0.6, 0.2, 0.9]: anything that converts to a float array.
ATTENTION_OUTPUT = None

# ---------------------------------------------------------------------------
# Written answers (graded by hand by the instructor)
# ---------------------------------------------------------------------------

ANSWERS = {
    # 1.1: how does a VAE's latent representation, and its training objective, differ
    # from a plain autoencoder's?
    "1.1": "",
    # 1.2: one application of autoencoders in biomedicine, and how it works.
    "1.2": "",
    # 1.3a: what beta-VAE changes compared to a VAE, and what it is used for.
    "1.3a": "",
    # 1.3b: what VQ-VAE changes compared to a VAE, and what it is used for.
    "1.3b": "",
    # 2.1: the characteristic properties of GANs compared to VAEs.
    "2.1": "",
    # 2.2: how DCGAN, WGAN, SAGAN and BigGAN differ from the original GAN, with an
    # application of each.
    "2.2": "",
    # 3.1: the parts of an LSTM unit and what each one does.
    "3.1": "",
    # 3.2: what a bidirectional LSTM is and what it gains over a one-directional LSTM.
    "3.2": "",
    # 3.3: how transformers differ from LSTMs, and their advantages.
    "3.3": "",
}
