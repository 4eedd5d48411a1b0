"""What the engine learns from the assignment packages (grader/assignments/registry.py), and the
report's plot figures, which come from the probes' replies rather than from a list of names."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from grader import grading
from grader.assignments import has_module, packages, registry
from grader.report import figures
from grader.report.model import ItemResult
from grader.session import ProbeResult
from grader.stages import build_stages


def test_the_packages_are_discovered_not_listed():
    assert packages() == ("autoencoders", "sheet10", "transposed_conv")
    assert has_module("autoencoders", "probes") and not has_module("transposed_conv", "probes")
    assert not has_module("sheet10", "probes")  # its rubric declares its models and stage as data
    assert not has_module("no_such_sheet", "probes")


def test_each_assignment_s_checks_are_registered_with_the_engine_s():
    checks = registry.all_checks()
    assert {"matches_reference", "compiled_loss", "figure_reconstructions"} <= set(checks)  # engine
    assert {"knn_accuracy", "vae_training"} <= set(checks)  # assignments
    assert {"model_architecture", "model_optimizer", "model_loss", "constant_array"} <= set(checks)


def test_what_a_probe_runs_comes_from_its_assignment():
    runs = registry.probe_functions()
    assert runs["ae_models"] == "build_encoder, build_decoder and build_autoencoder"
    stages = build_stages({}, {})
    assert grading._running("plot:plot_reconstructions", stages) == "plot_reconstructions"
    assert grading._running("model:build_dense_autoencoder", stages) == "build_dense_autoencoder"
    assert grading._running("constants", stages) == "your module-level constants"
    assert grading._running("some_new_probe", stages) == "some new probe"  # undeclared: its name


def test_probe_args_and_input_builders_are_the_assignment_s_own():
    args = registry.probe_args("autoencoders", {"decoder_layers": [1]})
    assert args == {"decode_grid": {"decoder_layers": [1]}}
    assert registry.probe_args("sheet10", {}) == {}
    assert registry.probe_args("softmax_sheet", {}) == {}  # a rubric with no package
    assert registry.input_builder("sheet10") is not None
    assert registry.input_builder("transposed_conv") is None
    assert registry.input_builder("softmax_sheet") is None


def _png_probe() -> ProbeResult:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots()
    axes.plot([1, 2])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return ProbeResult({"is_figure": True}, {"png": np.frombuffer(buffer.getvalue(), np.uint8)})


def test_a_figure_is_any_probe_that_returned_the_student_s_png(tmp_path):
    probes = {
        "plot_anything": _png_probe(),
        "no_png": ProbeResult({"is_figure": False}),
        "failed": ProbeResult(error={"kind": "exception", "name": "plot_x", "message": "boom"}),
    }
    assert figures.plot_probes(probes) == ["plot_anything"]
    raw = {"probes": probes, "expected": {}}
    stages = build_stages({}, {})
    written = figures.render(raw, tmp_path, "f", stages)
    assert written == {"plot_anything": "f/plot_anything.png"}
    shown = ItemResult("1", "1", "t", 1.0, 1.0, "passed", "", "public", check="c", probes=["plot_anything"])
    other = ItemResult("2", "1", "t", 1.0, 1.0, "passed", "", "public", check="c", probes=["no_png"])
    figures.attach(SimpleNamespace(items=[shown, other], figures={}, raw=raw), written, stages)
    assert (shown.figures, other.figures) == (["f/plot_anything.png"], [])
