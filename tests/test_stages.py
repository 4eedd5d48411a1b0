"""Training stages are declared once (grader/stages.py, grader/assignments/<name>/stages.py).

The engine (session and retries, calibration, rubric validation, grading messages, report
figures) reads the declarations and names no stage itself; a declaration that does not fit
the checks or the worker is an error when it loads. Most tests use a toy stage, which shows
that the engine needs nothing but a declaration.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from rubric_tools import reduced_rubric

import grader.assignments.autoencoders.stages as autoencoder_stages
from grader.assignments.registry import declared_stages
from grader.checks.base import CheckSpec, Verdict
from grader.report import figures
from grader.report.model import ItemResult
from grader.rubric import Budget, RubricError, load_rubric
from grader.sandbox.supervisor import Reply
from grader.session import ProbeResult, ProbeSession
from grader.stages import (
    Stage,
    StageDeclarationError,
    StageFigure,
    Stages,
    Threshold,
    build_stages,
)

ROOT = Path(__file__).resolve().parents[1]


# -- a toy assignment ---------------------------------------------------------------------------------


def toy(name: str = "toy", **changes: Any) -> Stage:
    stage = Stage(
        name=name,
        what=f"training your {name}",
        runs=f"the training of your {name}",
        builder_probe=f"{name}_models",
        check=f"{name}_training",
        metrics=lambda data, arrays, expected: {"loss": data["loss"]},
        degenerate=lambda m, t: f"the loss was {m['loss']:g}" if m["loss"] > t.get("loss_max", 1.0) else None,
        badness=lambda m: m["loss"],
        thresholds=(Threshold("loss_max", "loss", "upper", 0.3),),
    )
    return replace(stage, **changes)


def checks_for(*stages: Stage) -> dict[str, CheckSpec]:
    """The checks a toy assignment would register: one grades each stage, one reads its builder."""

    def nothing(inputs: Any) -> Verdict:
        return Verdict.passed("")

    specs = {}
    for stage in stages:
        specs[stage.check] = CheckSpec(stage.check, nothing, (stage.probe,), ("loss_max",))
        specs[f"{stage.name}_structure"] = CheckSpec(
            f"{stage.name}_structure", nothing, (stage.builder_probe,)
        )
    specs["uses_toy"] = CheckSpec("uses_toy", nothing, ("uses_toy",))
    return specs


# -- the shipped declarations ---------------------------------------------------------------------------


def test_every_declared_stage_is_trained_by_a_worker_trainer_and_uses_worker_probes():
    """The parent never imports the worker's registry; the declarations' probe names must still exist."""
    from grader.probes.all import PROBES
    from grader.probes.common import TRAINERS

    stages = declared_stages()
    assert stages.names == ("autoencoder", "classifier", "vae")
    for stage in stages:
        assert stage.name in TRAINERS, stage.name
        for probe in (stage.probe, stage.builder_probe, *stage.used_by, *(f.probe for f in stage.figures)):
            assert probe in PROBES, f"stage {stage.name}: no worker probe {probe}"
    # A rubric's data stage (sheet10's dense autoencoder) is trained and built by the probe families.
    dense = load_rubric("sheet10").stages.get("dense")
    assert (dense.probe, dense.builder_probe) == ("train:dense", "model:build_dense_autoencoder")
    assert "dense" not in TRAINERS and {"train", "model"} <= set(PROBES)


def test_every_stage_is_read_by_its_check_and_feeds_its_rubric_items():
    stages = load_rubric("sheet10").stages
    checks = {item.check for name in ("autoencoders", "sheet10") for item in load_rubric(name).items}
    for stage in stages:
        assert stage.check in checks
        assert {f.check for f in stage.figures} <= checks


def test_the_engine_names_no_stage():
    """No module of the engine holds a stage's name, training probe or description as a literal."""
    stages = declared_stages()
    names = {text for s in stages for text in (s.name, s.probe, s.what, s.runs)}
    engine = ["stages.py", "session.py", "grading.py", "calibration.py", "rubric.py", "report/figures.py"]
    for module in engine:
        tree = ast.parse((ROOT / "grader" / module).read_text())
        literals = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)}
        assert not literals & names, f"grader/{module} names {sorted(literals & names)}"


def test_the_stage_declarations_import_no_worker_module():
    """They run in the trusted parent: the worker's trainers are named, never imported."""
    modules = [
        "grader.stages",
        "grader.assignments.autoencoders.stages",
        "grader.data_stages",
        "grader.rubric",
    ]
    code = (
        f"import sys, {', '.join(modules)}, grader.report.figures, grader.session\n"
        "print([m for m in sys.modules if m.startswith('grader.probes') or m == 'grader.sandbox.worker'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "[]"


def test_needed_by_lists_a_probe_s_stages_dependencies_first():
    stages = declared_stages()
    assert [s.name for s in stages.needed_by("train:classifier")] == ["autoencoder", "classifier"]
    assert [s.name for s in stages.needed_by("vae_grid")] == ["vae"]
    assert stages.needed_by("ae_models") == ()


# -- a declaration that does not fit is an error when it loads ------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"depends_on": ("toyy",)},
            "field 'depends_on': unknown stage 'toyy' (stages declared before it: toy)",
        ),
        ({"check": "toy_trainig"}, "field 'check': unknown check 'toy_trainig'"),
        (
            {"check": "toy_structure"},
            "field 'check': check 'toy_structure' does not read the training probe 'train:after'",
        ),
        ({"builder_probe": "after_model"}, "field 'builder_probe': no check reads a probe 'after_model'"),
        (
            {"thresholds": (Threshold("los_max", "loss", "upper", 0.3),)},
            "field 'thresholds': 'los_max' is not a parameter of check 'after_training' (it reads loss_max)",
        ),
        (
            {"thresholds": (Threshold("loss_max", "loss", "above", 0.3),)},
            "field 'thresholds': 'loss_max': direction must be one of upper, lower",
        ),
        (
            {"figures": (StageFigure("curve", "train:toy", "after_training", lambda d, a, e: None),)},
            "field 'figures': 'curve' is drawn from 'train:toy', which neither trains nor uses this stage",
        ),
        (
            {"figures": (StageFigure("curve", "train:after", "after_trainig", lambda d, a, e: None),)},
            "field 'figures': 'curve': unknown check 'after_trainig'",
        ),
        ({"name": "toy"}, "field 'name': also declared in grader/assignments/first/stages.py"),
    ],
)
def test_a_declaration_error_names_the_file_the_stage_and_the_field(changes, message):
    first, second = toy(), toy("after", depends_on=("toy",))
    checks = checks_for(first, second)
    with pytest.raises(StageDeclarationError) as caught:
        build_stages({"first": (first,), "second": (replace(second, **changes),)}, checks)
    stage = changes.get("name", "after")
    assert str(caught.value) == f"grader/assignments/second/stages.py: stage '{stage}': {message}"


def test_a_valid_toy_declaration_loads():
    first, second = toy(), toy("after", depends_on=("toy",), used_by=("uses_toy",))
    stages = build_stages({"first": (first,), "second": (second,)}, checks_for(first, second))
    assert stages.names == ("toy", "after")
    assert stages.trained_by("train:after") is second
    assert stages.graded_by("toy_training") is first
    assert [s.name for s in stages.needed_by("uses_toy")] == ["toy", "after"]


def test_a_typo_in_a_shipped_declaration_fails_when_the_rubric_loads(monkeypatch):
    typo = replace(autoencoder_stages.STAGES[0], builder_probe="ae_model")
    monkeypatch.setattr(autoencoder_stages, "STAGES", (typo, *autoencoder_stages.STAGES[1:]))
    with pytest.raises(RubricError) as caught:
        load_rubric("autoencoders")
    assert str(caught.value) == (
        "autoencoders.toml: grader/assignments/autoencoders/stages.py: stage 'autoencoder': "
        "field 'builder_probe': no check reads a probe 'ae_model'"
    )


# -- the rubric's budget trains every stage its items need ---------------------------------------------


def test_a_budget_without_a_stage_an_item_needs_is_a_rubric_error(tmp_path):
    path = reduced_rubric(tmp_path, "autoencoders", ("4a-accuracy",))
    text = path.read_text()
    # The classifier trains on the trained encoder: its item needs the autoencoder stage too.
    budget = re.compile(r"^epochs = \{[^}]*\}$", re.M)  # the first: [budget]'s own, whatever its values
    assert budget.search(text)
    path.write_text(budget.sub("epochs = { classifier = 5 }", text, count=1))
    with pytest.raises(RubricError) as caught:
        load_rubric(path)
    assert str(caught.value) == (
        "autoencoders.toml [budget]: field 'epochs.autoencoder': missing "
        "(item '4a-accuracy' needs training your autoencoder)"
    )


def test_a_stage_missing_from_one_named_budget_is_named(tmp_path):
    path = tmp_path / "sheet10.toml"
    text = (ROOT / "rubrics" / "sheet10.toml").read_text()
    path.write_text(text.replace("batch_size = { dense = 256 }", "batch_size = {}", 1))
    with pytest.raises(RubricError) as caught:
        load_rubric(path)
    assert str(caught.value) == (
        "sheet10.toml [budget]: field 'batch_size.dense': missing "
        "(item '1.4-training' needs training your dense autoencoder)"
    )


# -- the session trains any declared stage under the retry rule -------------------------------------------


@dataclass
class FakeSandbox:
    """Answers probe requests like a worker: ``losses`` per seed for train:toy; train:broken raises."""

    losses: dict[int, float] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    restarts: int = 0

    def ensure_started(self) -> None:
        pass

    def request(self, op: str, payload: dict[str, Any], item: str, timeout: float) -> Reply:
        self.requests.append((op, payload))
        if op == "select":
            return Reply({}, {}, None, "", 0.0)
        if payload["probe"] == "train:toy":
            return Reply({"loss": self.losses[payload["args"]["seed"]]}, {}, None, "", 1.0)
        if payload["probe"] == "train:broken":
            error = {"kind": "exception", "name": "build_broken", "message": "boom", "type": "ValueError"}
            return Reply({}, {}, error, "", 0.1)
        if payload["probe"] == "train:stub":  # the template's stub, left as handed out
            error = {"kind": "not_implemented", "name": "build_stub", "message": "build_stub"}
            return Reply({}, {}, error, "", 0.1)
        return Reply({"probe": payload["probe"]}, {}, None, "", 0.1)


def session_for(sandbox: FakeSandbox, *stages: Stage, retries: int = 2) -> ProbeSession:
    declared = build_stages({"toy": stages}, checks_for(*stages))
    budget = Budget("default", 0, retries, 10, 10, {s.name: 1 for s in stages}, {s.name: 8 for s in stages})
    thresholds = {"toy_training": {"loss_max": 1.0}}
    return ProbeSession(sandbox, budget, {}, thresholds, declared=declared)  # type: ignore[arg-type]


def deadline() -> float:
    return time.monotonic() + 60


def test_a_degenerate_attempt_is_retrained_with_the_next_seed_and_the_good_one_kept():
    sandbox = FakeSandbox({0: 5.0, 1: 0.5})
    session = session_for(sandbox, toy())
    result = session.fetch("train:toy", "item", deadline())
    assert result.ok
    assert result.data["attempts"] == [{"seed": 0, "reason": "the loss was 5"}, {"seed": 1, "reason": None}]
    assert result.data["selected_seed"] == 1
    assert sandbox.requests[-1] == ("select", {"stage": "toy", "attempt": 1, "seed": 1})
    assert [a["seed"] for a in session.stage_summary()["toy"]["attempts"]] == [0, 1]


def test_when_every_attempt_is_degenerate_the_least_bad_is_kept():
    sandbox = FakeSandbox({0: 5.0, 1: 3.0, 2: 4.0})
    result = session_for(sandbox, toy()).fetch("train:toy", "item", deadline())
    assert [a["seed"] for a in result.data["attempts"]] == [0, 1, 2]
    assert result.data["selected_seed"] == 1


def test_a_stage_whose_dependency_fails_is_skipped_in_the_student_s_words():
    sandbox = FakeSandbox()
    session = session_for(sandbox, toy("broken"), toy("after", depends_on=("broken",)))
    result = session.fetch("train:after", "item", deadline())
    assert result.failure is not None and result.failure.reason == "dependency"
    assert result.failure.message == "training your broken failed: build_broken raised ValueError: boom"
    assert [payload["probe"] for _, payload in sandbox.requests] == ["train:broken"]


def test_a_stage_whose_builder_is_a_stub_is_skipped_with_words_not_the_name_twice():
    sandbox = FakeSandbox()
    session = session_for(sandbox, toy("stub"), toy("after", depends_on=("stub",)))
    result = session.fetch("train:after", "item", deadline())
    assert result.failure is not None
    assert result.failure.message == "training your stub failed: not implemented yet: build_stub"


def test_a_probe_that_uses_a_stage_trains_it_first():
    sandbox = FakeSandbox({0: 0.5})
    session = session_for(sandbox, toy(used_by=("uses_toy",)))
    assert session.fetch("uses_toy", "item", deadline()).data == {"probe": "uses_toy"}
    assert [(op, payload.get("probe")) for op, payload in sandbox.requests] == [
        ("probe", "train:toy"),
        ("select", None),
        ("probe", "uses_toy"),
    ]


def test_training_is_not_attempted_after_its_builders_hung():
    from grader.sandbox.supervisor import WorkerFailure

    sandbox = FakeSandbox({0: 0.5})
    session = session_for(sandbox, toy())
    hung = ProbeResult(failure=WorkerFailure("timeout", "timed out"), origin="1-structure")
    session.results["toy_models"] = hung
    assert session.fetch("train:toy", "item", deadline()) is hung
    assert sandbox.requests == []


def test_a_training_probe_s_hang_names_what_the_stage_runs():
    from grader.grading import _running

    stages = declared_stages()
    assert _running("train:classifier", stages) == "build_classifier and train_classifier"
    assert _running("train:vae", stages) == "the training of your VAE"
    assert _running("ae_models", stages) == "build_encoder, build_decoder and build_autoencoder"


# -- calibration reads the declared thresholds -----------------------------------------------------------


def test_calibration_sets_each_declared_threshold_from_the_reference_values(tmp_path):
    from grader.calibration import calibrate

    rubric = load_rubric(reduced_rubric(tmp_path, "autoencoders", ("1-training", "4a-accuracy", "1-relu")))
    values = {"1-training": [("test_mse", 0.04), ("test_mse", 0.05)], "4a-accuracy": [("accuracy", 0.8)] * 2}

    def grade_reference(budget: Budget) -> Any:
        run = budget.seed - rubric.budget.seed
        items = [
            SimpleNamespace(id=i, metrics={m: v[run][1]}) for i, v in values.items() for m in [v[run][0]]
        ]
        return SimpleNamespace(seconds=1.0, items=items, stages={})

    dataset = SimpleNamespace(name="default", fingerprint="abc")
    entry = calibrate(rubric, rubric.budget, dataset, 2, grade_reference)  # type: ignore[arg-type]
    assert set(entry["items"]) == {"1-training", "4a-accuracy"}  # 1-relu grades no stage
    assert entry["items"]["1-training"]["thresholds"] == {"test_mse_max": pytest.approx(0.065)}
    assert entry["items"]["1-training"]["reference"]["test_mse"]["rule"] == "worst * (1 + 0.3)"
    # 4a-accuracy sets margin = 0.2 in its params; the floor (chance) does not bind here.
    assert entry["items"]["4a-accuracy"]["thresholds"] == {"accuracy_min": pytest.approx(0.6)}
    assert entry["items"]["4a-accuracy"]["reference"]["accuracy"]["rule"] == "max(worst - 0.2, 0.1)"
    written = json.loads(rubric.calibration_path.read_text())
    assert written["budgets"]["default@default"]["items"] == entry["items"]


# -- report figures are the stages' declared figures ------------------------------------------------------


def test_report_figures_come_from_the_declared_stages(tmp_path):
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(0)
    x_test = rng.integers(0, 255, size=(12, 28, 28), dtype=np.uint8)
    probes = {
        "train:dense": ProbeResult({"loss": [0.3, 0.2]}, {"predictions": rng.uniform(size=(12, 784))}),
        # A 3-number latent: no scatter of the latent space and no decoder grid, only reconstructions.
        "train:autoencoder": ProbeResult(
            {"image_size": 32}, {"x_rec": rng.uniform(size=(12, 32, 32)), "z_test": rng.normal(size=(12, 3))}
        ),
        "train:vae": ProbeResult(error={"kind": "exception", "name": "build_vae", "message": "boom"}),
    }
    stages = load_rubric("sheet10").stages  # the Python stages and sheet10's data stage "dense"
    raw = {"probes": probes, "expected": {"x_test": x_test, "y_test": np.arange(12) % 10}, "stages": stages}
    written = figures.render(raw, tmp_path, "figures/r")
    assert written == {
        "reconstructions": "figures/r/reconstructions.png",
        "dense_reconstructions": "figures/r/dense_reconstructions.png",
    }
    assert all((tmp_path / f"{name}.png").stat().st_size > 0 for name in written)
    items = [
        ItemResult("1-training", "1", "t", 1.0, 1.0, "passed", "", "public", check="ae_training"),
        ItemResult("1.4-training", "1.4", "t", 1.0, 1.0, "passed", "", "public", check="dense_training"),
        ItemResult("6a-training", "6a", "t", 0.0, 1.0, "error", "", "public", check="vae_training"),
    ]
    report = SimpleNamespace(items=items, figures={}, raw=raw)
    figures.attach(report, written)
    assert [item.figures for item in items] == [
        ["figures/r/reconstructions.png"],
        ["figures/r/dense_reconstructions.png"],
        [],
    ]


def test_a_toy_stage_s_figure_is_drawn_and_attached_without_engine_changes(tmp_path):
    pytest.importorskip("matplotlib")
    from grader.report import plots

    def curve(data: Any, arrays: Any, expected: Any) -> Any:
        return plots.image(np.asarray([data["loss"]]), "your loss")

    stage = toy(figures=(StageFigure("toy_curve", "train:toy", "toy_training", curve),))
    stages = build_stages({"toy": (stage,)}, checks_for(stage))
    raw = {"probes": {"train:toy": ProbeResult({"loss": [0.3, 0.2]})}, "expected": {}}
    written = figures.render(raw, tmp_path, "f", stages)
    assert written == {"toy_curve": "f/toy_curve.png"}
    item = ItemResult("t", "1", "t", 1.0, 1.0, "passed", "", "public", check="toy_training")
    figures.attach(SimpleNamespace(items=[item], figures={}), written, stages)
    assert item.figures == ["f/toy_curve.png"]


def test_stages_is_empty_without_declarations():
    assert Stages().names == () and Stages().figures() == ()
