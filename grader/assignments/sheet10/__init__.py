"""The ``sheet10`` assignment."""
