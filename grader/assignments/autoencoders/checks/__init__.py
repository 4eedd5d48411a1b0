"""Checks of the ``autoencoders`` assignment, one module per part of the sheet; importing this
package registers them (``grader/assignments/registry.py`` does)."""

from grader.assignments.autoencoders.checks import (  # noqa: F401  (each module registers its checks)
    classifier,
    constants,
    conv_autoencoder,
    figures,
    latent,
    training,
    vae,
)
