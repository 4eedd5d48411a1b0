"""The ``sheet10`` assignment (seed 000): its rubric declares everything as data
(``rubrics/sheet10.toml``: the models, the plot, the training stage and the checks).

What stays in Python is optional: the grader-made inputs of its plot (``inputs.py``) and the
diagnosis hooks that turn a wrong function result into advice (``diagnoses.py``).
"""
