"""The ``autoencoders`` assignment."""
