"""The ``sheet10`` assignment (seed 000): its declaration for the engine.

Its stage is in ``stages.py``, its probes in ``probes.py``, its checks in ``checks.py``, its
grader-made inputs in ``inputs.py`` and its diagnosis hooks in ``diagnoses.py``.
"""

# What each probe runs of the student's code, for messages such as "... while running X".
PROBE_FUNCTIONS = {
    "dense_models": "build_dense_autoencoder",
    "dense_plot": "plot_reconstructions",
}
