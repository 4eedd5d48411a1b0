"""Accident: the last pooling is missing, so the code is (N, 2, 2, 1), one row too many."""

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402


def build_encoder():
    inputs = keras.Input(shape=(32, 32, 1))
    x = inputs
    for _ in range(4):
        x = layers.Conv2D(16, (3, 3), activation="relu", padding="same")(x)
        x = layers.MaxPooling2D((2, 2))(x)
    x = layers.Conv2D(1, (3, 3), activation="relu", padding="same", bias_initializer=keras.initializers.Constant(1.0))(x)
    return keras.Model(inputs, x, name="encoder")  # forgot MaxPooling2D((2, 1))


def build_decoder():
    latent = keras.Input(shape=(2, 2, 1))
    x = latent
    for factor in [(2, 2), (2, 2), (2, 2)]:
        x = layers.Conv2DTranspose(16, (3, 3), activation="relu", padding="same")(x)
        x = layers.UpSampling2D(factor)(x)
    x = layers.Conv2DTranspose(1, (3, 3), activation="relu", padding="same", bias_initializer=keras.initializers.Constant(0.1))(x)
    return keras.Model(latent, layers.UpSampling2D((2, 2))(x), name="decoder")


def build_autoencoder(encoder, decoder):
    inputs = keras.Input(shape=(32, 32, 1))
    model = keras.Model(inputs, decoder(encoder(inputs)))
    model.compile(optimizer="adam", loss="mse")
    return model


def plot_reconstructions(x, x_rec, n=10):
    fig, axes = plt.subplots(2, n, figsize=(1.2 * n, 2.8), squeeze=False)
    for i in range(n):
        for row, images in enumerate((x, x_rec)):
            axes[row, i].imshow(np.asarray(images[i]).squeeze(), cmap="gray", vmin=0, vmax=1)
            axes[row, i].axis("off")
    return fig


def plot_loss(history):
    values = history.history if hasattr(history, "history") else dict(history)
    fig, ax = plt.subplots()
    ax.plot(np.arange(1, len(values["loss"]) + 1), values["loss"], marker="o", label="loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend()
    return fig
