"""Constants both sides of the sandbox use: the worker's probes and the parent's checks.

The trusted parent never imports worker-side code (``grader/probes``, ``grader/sandbox/worker.py``),
so what both need lives here: plain data, no imports (docs/architecture.md, "The sandbox").
"""

from __future__ import annotations

# A compiled loss that is a custom function is evaluated (in the worker) on these fixed arrays;
# the parent compares the value with what the standard losses give (grader/checks/architecture.py).
LOSS_PROBE_TRUE = ((0.0, 1.0, 0.5, 0.2), (1.0, 0.0, 0.3, 0.9))
LOSS_PROBE_PRED = ((0.1, 0.8, 0.4, 0.3), (0.7, 0.2, 0.5, 0.6))

# While loading, the worker names the derived statement it runs in this file of its output folder,
# so that when a hang in C code outlives its time limit the parent can reload without that statement.
RUNNING_STATEMENT = "running-statement.json"
