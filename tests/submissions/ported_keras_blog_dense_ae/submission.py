"""Corpus entry ported_keras_blog_dense_ae: 1.4 as the Keras blog's "simplest possible autoencoder"
(F. Chollet, "Building Autoencoders in Keras", 2016, https://blog.keras.io/building-autoencoders-in-keras.html),
in its own idioms (encoding_dim at module level, the decoder built from autoencoder.layers[-1], the
plot with plt.figure / plt.subplot / plt.gray), wrapped into the contract's functions. 3.4 is the reference.

Reference solution: "Exercise sheet 10" (seed 000), the graded parts 1.4 and 3.4.

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

encoding_dim = 32  # 32 floats -> compression of factor 24.5, assuming the input is 784 floats
BATCH_SIZE = 256
EPOCHS = 50


def preprocess(images_uint8):
    x = images_uint8.astype('float32') / 255.
    x = x.reshape((len(x), np.prod(x.shape[1:])))
    return x


def build_dense_autoencoder(encoding_dim=encoding_dim):
    # this is our input placeholder
    input_img = keras.Input(shape=(784,))
    # "encoded" is the encoded representation of the input
    encoded = layers.Dense(encoding_dim, activation='relu')(input_img)
    # "decoded" is the lossy reconstruction of the input
    decoded = layers.Dense(784, activation='sigmoid')(encoded)

    # this model maps an input to its reconstruction
    autoencoder = keras.Model(input_img, decoded)

    # this model maps an input to its encoded representation
    encoder = keras.Model(input_img, encoded)

    # create a placeholder for an encoded (32-dimensional) input
    encoded_input = keras.Input(shape=(encoding_dim,))
    # retrieve the last layer of the autoencoder model
    decoder_layer = autoencoder.layers[-1]
    # create the decoder model
    decoder = keras.Model(encoded_input, decoder_layer(encoded_input))

    autoencoder.compile(optimizer='adam', loss='binary_crossentropy')
    return autoencoder, encoder, decoder


def plot_reconstructions(x, x_rec, n=10):
    fig = plt.figure(figsize=(20, 4))
    for i in range(n):
        # display original
        ax = plt.subplot(2, n, i + 1)
        plt.imshow(x[i].reshape(28, 28))
        plt.gray()
        ax.get_xaxis().set_visible(False)
        ax.get_yaxis().set_visible(False)

        # display reconstruction
        ax = plt.subplot(2, n, i + 1 + n)
        plt.imshow(x_rec[i].reshape(28, 28))
        plt.gray()
        ax.get_xaxis().set_visible(False)
        ax.get_yaxis().set_visible(False)
    return fig


# ---------------------------------------------------------------------------
# 3.4: scaled dot-product attention
# ---------------------------------------------------------------------------


def scaled_dot_product_attention(q, k, v, mask=None):
    """softmax(q k^T / sqrt(d_k) + mask * -1e9) v, with the softmax over the keys (last axis).

    Rank-1 vectors are read as one token (a (1, depth) matrix), so the seed's call with
    three plain lists works; the output then has the shape (depth_v,).
    """
    q, k, v = (tf.convert_to_tensor(t, dtype=tf.float32) for t in (q, k, v))
    single = q.shape.rank == 1
    q, k, v = (t[tf.newaxis, :] if t.shape.rank == 1 else t for t in (q, k, v))
    logits = tf.matmul(q, k, transpose_b=True) / tf.math.sqrt(tf.cast(tf.shape(k)[-1], tf.float32))
    if mask is not None:
        logits += tf.cast(mask, tf.float32) * -1e9
    weights = tf.nn.softmax(logits, axis=-1)
    output = tf.matmul(weights, v)
    if single:
        output, weights = output[0], weights[0]
    return output, weights


# The seed's vectors as one query, one key and one value token of depth 3: a single key
# gets all the weight, so the output is the value vector itself.
ATTENTION_OUTPUT = [0.6, 0.2, 0.9]

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
