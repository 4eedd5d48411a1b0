"""Corpus entry ported_numpy_attention_notes: 3.4 as the common NumPy attention of the 'from scratch' tutorials: Q @ K.T / np.sqrt(d_k), np.where(mask, scores, -1e9) (a mask that keeps where True), a max-shifted softmax

Derived from the reference; 3.4 in the idiom of aiml-notes.pages.dev/tutorials/08---Attention-Mechanism-from-Scratch. Reference solution: "Exercise sheet 10" (seed 000), the graded parts 1.4 and 3.4.

A model submission: it imports third-party packages only and is graded exactly as a
student's file is. The grader supplies the images; nothing here loads data.
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

# ---------------------------------------------------------------------------
# 1.4: a dense autoencoder on flattened MNIST
# ---------------------------------------------------------------------------

BATCH_SIZE = 256
EPOCHS = 50


def preprocess(images_uint8: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 784) in [0, 1]: pixel / 255, flattened.

    (tf.keras.utils.normalize would divide each row by its L2 norm instead: the values
    would no longer be pixel intensities in [0, 1].)
    """
    images = np.asarray(images_uint8)
    return (images.reshape(len(images), -1) / 255.0).astype(np.float32)


def build_dense_autoencoder(encoding_dim: int = 32):
    """784 -> Dense(encoding_dim, relu) -> Dense(784, sigmoid), compiled with Adam + BCE.

    Returns (autoencoder, encoder, decoder); the decoder reuses the autoencoder's last layer.
    """
    image = keras.Input(shape=(784,), name="image")
    encoded = layers.Dense(encoding_dim, activation="relu", name="encoded")(image)
    decoder_layer = layers.Dense(784, activation="sigmoid", name="decoded")
    autoencoder = keras.Model(image, decoder_layer(encoded), name="dense_autoencoder")
    encoder = keras.Model(image, encoded, name="dense_encoder")
    code = keras.Input(shape=(encoding_dim,), name="code")
    decoder = keras.Model(code, decoder_layer(code), name="dense_decoder")
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
    return autoencoder, encoder, decoder


def plot_reconstructions(x: np.ndarray, x_rec: np.ndarray, n: int = 10) -> Figure:
    """Originals (top row) and reconstructions (bottom row) of the first n images."""
    fig, axes = plt.subplots(2, n, figsize=(1.2 * n, 2.8), squeeze=False)
    for i in range(n):
        for row, images in enumerate((x, x_rec)):
            ax = axes[row, i]
            ax.imshow(np.asarray(images[i]).reshape(28, 28), cmap="gray", vmin=0.0, vmax=1.0)
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel("input")
    axes[1, 0].set_ylabel("output")
    return fig


# ---------------------------------------------------------------------------
# 3.4: scaled dot-product attention
# ---------------------------------------------------------------------------


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def scaled_dot_product_attention(Q, K, V, mask=None):
    """
    Q: (seq_len_q, d_k)
    K: (seq_len_k, d_k)
    V: (seq_len_k, d_v)
    Returns: (seq_len_q, d_v), attention_weights (seq_len_q, seq_len_k)
    """
    d_k = Q.shape[-1]
    scores = Q @ K.T / np.sqrt(d_k)  # (seq_len_q, seq_len_k)

    if mask is not None:
        scores = np.where(mask, scores, -1e9)

    weights = softmax(scores)  # (seq_len_q, seq_len_k)
    output = weights @ V  # (seq_len_q, d_v)
    return output, weights


# the sheet's vectors as one token each: rows of (1, 3) matrices
q = np.array([[0.8, 0.5, 0.21]])
k = np.array([[0.1, 0.62, 0.73]])
v = np.array([[0.6, 0.2, 0.9]])
out, w = scaled_dot_product_attention(q, k, v)
ATTENTION_OUTPUT = out.reshape(-1)

# ---------------------------------------------------------------------------
# Written answers (graded by the instructor)
# ---------------------------------------------------------------------------

ANSWERS = {
    "1.1": (
        "A plain autoencoder maps each input to one point of the latent space and is trained "
        "only to reconstruct; its latent space can be irregular, with gaps. A VAE's encoder "
        "outputs the parameters of a distribution q(z|x) (a mean and a variance per "
        "dimension), z is sampled with the reparameterisation trick, and the objective is "
        "the evidence lower bound: reconstruction likelihood minus KL(q(z|x) || p(z)) with a "
        "standard normal prior. The KL term makes the latent space smooth and centred, so it "
        "can be sampled to generate data."
    ),
    "1.2": (
        "Denoising of medical images, e.g. low-dose CT: a denoising autoencoder is trained "
        "on pairs of noisy (low-dose) and clean (normal-dose) scans; the encoder compresses "
        "the noisy image into features that capture anatomy but not noise, and the decoder "
        "reconstructs a clean image. Another: anomaly detection, where an AE trained on "
        "healthy scans reconstructs lesions poorly, so a high reconstruction error flags them."
    ),
    "1.3a": (
        "beta-VAE multiplies the KL term by beta > 1. The stronger pressure towards the "
        "factorised prior encourages disentangled latent factors (each dimension one factor "
        "of variation), at the cost of reconstruction quality. Used for interpretable "
        "representation learning."
    ),
    "1.3b": (
        "VQ-VAE replaces the continuous Gaussian latent with a discrete one: the encoder "
        "output is snapped to its nearest vector in a learned codebook (vector quantisation), "
        "trained with a straight-through gradient plus codebook and commitment losses; the "
        "prior over codes is learned afterwards (e.g. with PixelCNN). It avoids posterior "
        "collapse and gives sharp images, speech and video generation."
    ),
    "2.1": (
        "GANs learn an implicit model with a generator and a discriminator in a minimax "
        "game; there is no encoder and no likelihood or ELBO. They give sharper samples but "
        "training is unstable and can mode-collapse. VAEs optimise an explicit lower bound "
        "on the likelihood, train stably, provide an encoder and a smooth latent space, but "
        "their samples tend to be blurrier."
    ),
    "2.2": (
        "DCGAN: convolutional generator and discriminator with strided/transposed "
        "convolutions, batch norm and no pooling, for stable image generation. WGAN: the "
        "critic estimates the Wasserstein-1 distance (weight clipping or gradient penalty), "
        "which gives useful gradients and more stable training, e.g. for high-resolution "
        "images. SAGAN: adds self-attention layers so distant regions are coordinated, e.g. "
        "for ImageNet with coherent global structure. BigGAN: scales GANs up (large batches, "
        "wide models, class-conditional batch norm, truncation trick) for high-fidelity "
        "class-conditional image synthesis."
    ),
    "3.1": (
        "An LSTM cell has a cell state and three gates: the forget gate decides what to drop "
        "from the cell state, the input gate what new candidate values to write, and the "
        "output gate what part of the (tanh of the) cell state becomes the hidden state."
    ),
    "3.2": (
        "A bidirectional LSTM runs one LSTM forwards and one backwards over the sequence and "
        "concatenates their hidden states, so each position sees both past and future "
        "context; this helps tasks where the whole sequence is known (tagging, translation "
        "encoders), at the cost of not being usable for online prediction."
    ),
    "3.3": (
        "LSTMs process tokens sequentially and carry information through a recurrent state; "
        "transformers process all tokens at once with self-attention. Transformers therefore "
        "parallelise over the sequence during training, connect any two positions in one "
        "step (no vanishing gradient over long distances) and scale better to large data."
    ),
}
