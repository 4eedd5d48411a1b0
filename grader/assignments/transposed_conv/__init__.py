"""The ``transposed_conv`` assignment."""
