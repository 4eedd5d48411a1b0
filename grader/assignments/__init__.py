"""What the grader knows about each assignment beyond its rubric: diagnosis hooks of its function
exercises. Importing this package registers them (``grader.rubric`` does it, before it validates a rubric)."""

from grader.assignments.autoencoders import diagnoses as _autoencoders  # noqa: F401
from grader.assignments.sheet10 import diagnoses as _sheet10  # noqa: F401
from grader.assignments.transposed_conv import diagnoses as _transposed_conv  # noqa: F401
