"""Autograder for deep-learning (autoencoder / VAE) assignments."""

__version__ = "0.1.0"
