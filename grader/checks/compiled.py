"""The loss a model is compiled with, from a probe that describes compiled models
(``describe_compiled`` in ``grader/probes/models.py``); the rubric names the probe, the model and
the function that builds it."""

from __future__ import annotations

from grader.checks.architecture import canonical_loss, loss_words
from grader.checks.base import CheckInputs, Verdict, check


@check(
    "compiled_loss",
    probes=lambda params: (params["probe"],),
    required_params=("expected", "probe", "model", "function"),
)
def compiled_loss(inputs: CheckInputs) -> Verdict:
    """The model is compiled with the loss the exercise asks for."""
    probe = inputs.params["probe"]
    model = inputs.params["model"]
    function = inputs.params["function"]
    expected = inputs.params["expected"]
    found = canonical_loss(inputs.part(probe, model).get("loss"))
    if found == expected:
        return Verdict.passed(f"{function} compiles with {loss_words(expected)}.")
    return Verdict.failed(
        f"{function} compiles with {loss_words(found)}; the exercise asks for {loss_words(expected)}."
    )
