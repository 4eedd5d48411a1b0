"""Models and plots as data: a rubric's ``[models.NAME]`` and ``[plots.NAME]`` tables, typed once.

``[models.build_dense_autoencoder]`` says how the grader builds the student's models: the
arguments it passes and the names of the models the function returns. The worker's probe
``model:build_dense_autoencoder`` (``grader/probes/declared.py``) builds and describes them; the
generic model checks (``grader/checks/models.py``) and the data stages
(``grader/data_stages.py``) read it. ``[plots.plot_reconstructions]`` calls a plotting function
on grader-made inputs (probe ``plot:plot_reconstructions``). Everything is validated when the
rubric loads (docs/authoring.md)::

    [models.build_dense_autoencoder]
    args = [32]
    returns = ["autoencoder", "encoder", "decoder"]
    images = { size = 28, flatten = true }   # what the first model takes
    inputs = { decoder = [32] }               # for a model that declares no input shape
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from grader.functions import NAME

MODEL_FIELDS = ("args", "returns", "images", "inputs")
PLOT_FIELDS = ("args", "kwargs")
SIZES = (28, 32)


class ModelSpecError(ValueError):
    """A ``[models]`` or ``[plots]`` table is invalid; the message names the table and the field."""


@dataclass(frozen=True)
class ImageView:
    """How the grader's images are handed to a model: 28x28 or 32x32 (zero-padded), flat or (H, W, 1)."""

    size: int = 28
    flatten: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"size": self.size, "flatten": self.flatten}

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.size * self.size,) if self.flatten else (self.size, self.size, 1)


@dataclass(frozen=True)
class ModelSpec:
    function: str
    args: tuple[Any, ...] = ()
    returns: tuple[str, ...] = ("model",)
    images: ImageView = ImageView()
    inputs: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def probe(self) -> str:
        return f"model:{self.function}"

    def probe_args(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "args": list(self.args),
            "returns": list(self.returns),
            "images": self.images.as_dict(),
            "inputs": {name: list(shape) for name, shape in self.inputs.items()},
        }


@dataclass(frozen=True)
class PlotSpec:
    function: str
    args: tuple[str, ...] = ()  # grader-made inputs, by name
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def probe(self) -> str:
        return f"plot:{self.function}"

    def probe_args(self) -> dict[str, Any]:
        return {"function": self.function, "args": list(self.args), "kwargs": dict(self.kwargs)}


def parse_image_view(raw: Any, where: str) -> ImageView:
    if raw is None:
        return ImageView()
    if not isinstance(raw, dict) or set(raw) - {"size", "flatten"}:
        raise ModelSpecError(f"{where}: must be a table {{ size = 28 | 32, flatten = true | false }}")
    size, flatten = raw.get("size", 28), raw.get("flatten", False)
    if size not in SIZES or isinstance(size, bool):
        raise ModelSpecError(f"{where}.size: must be 28 or 32 (zero-padded)")
    if not isinstance(flatten, bool):
        raise ModelSpecError(f"{where}.flatten: must be true or false")
    return ImageView(int(size), flatten)


def _unknown(raw: dict[str, Any], known: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ModelSpecError(f"{where}: field '{unknown[0]}': unknown field (use {', '.join(known)})")


def _function(name: str, where: str, contract: tuple[str, ...]) -> None:
    if name not in contract:
        raise ModelSpecError(f"{where}: not a function of the contract ({', '.join(contract)})")


def _tables(raw: Any, kind: str, fields: tuple[str, ...], contract: tuple[str, ...]) -> Any:
    """(function, its table, where) of each ``[kind.FUNCTION]`` table, its name and fields checked."""
    if not isinstance(raw, dict):
        raise ModelSpecError(f"[{kind}]: must be a table of [{kind}.FUNCTION] tables")
    for name, table in raw.items():
        where = f"[{kind}.{name}]"
        _function(name, where, contract)
        if not isinstance(table, dict):
            raise ModelSpecError(f"{where}: must be a table")
        _unknown(table, fields, where)
        yield name, table, where


def parse_models(raw: Any, contract: tuple[str, ...]) -> dict[str, ModelSpec]:
    """``[models.NAME]`` tables -> specs; every field checked."""
    specs = {}
    for name, table, where in _tables(raw, "models", MODEL_FIELDS, contract):
        args = table.get("args", [])
        if not isinstance(args, list):
            raise ModelSpecError(f"{where}: field 'args': must be a list of values")
        returns = table.get("returns", ["model"])
        if (
            not isinstance(returns, list)
            or not returns
            or not all(isinstance(r, str) and NAME.match(r) for r in returns)
            or len(set(returns)) != len(returns)
        ):
            raise ModelSpecError(f"{where}: field 'returns': must be a list of distinct names")
        inputs = table.get("inputs", {})
        if not isinstance(inputs, dict):
            raise ModelSpecError(f"{where}: field 'inputs': must be a table {{ model = [shape] }}")
        for model, shape in inputs.items():
            if model not in returns:
                raise ModelSpecError(f"{where}: field 'inputs.{model}': not one of returns")
            if not isinstance(shape, list) or not all(isinstance(d, int) and d > 0 for d in shape):
                raise ModelSpecError(f"{where}: field 'inputs.{model}': must be a list of positive integers")
        specs[name] = ModelSpec(
            name,
            tuple(args),
            tuple(returns),
            parse_image_view(table.get("images"), f"{where}: field 'images'"),
            {model: tuple(shape) for model, shape in inputs.items()},
        )
    return specs


def parse_plots(raw: Any, contract: tuple[str, ...]) -> dict[str, PlotSpec]:
    """``[plots.NAME]`` tables -> specs: ``args`` name grader-made inputs, ``kwargs`` are literals."""
    specs = {}
    for name, table, where in _tables(raw, "plots", PLOT_FIELDS, contract):
        args, kwargs = table.get("args", []), table.get("kwargs", {})
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise ModelSpecError(f"{where}: field 'args': must be a list of input names")
        if not isinstance(kwargs, dict):
            raise ModelSpecError(f"{where}: field 'kwargs': must be a table of values")
        specs[name] = PlotSpec(name, tuple(args), dict(kwargs))
    return specs
