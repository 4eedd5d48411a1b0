"""Function exercises as data: a rubric's ``[functions.NAME]`` tables, typed once.

A function exercise declares its arguments in order, the outputs it returns and the cases
the grader calls it on. A case gives each argument as a literal value or as a random array
(shape, dtype, seed, range). Everything is validated when the rubric loads, so a typo is an
error naming the file, the function, the case and the field, never a failure at the end of a
run. The same declaration makes the worker's inputs, the probe's arguments and the words a
feedback sentence uses for a case::

    [functions.conv_matrix]
    args = ["kernel", "input_shape"]

    [functions.conv_matrix.cases.example]
    label = "the slides' example"
    kernel = { values = [[1, 2, 3], [4, 5, 6], [7, 8, 9]] }
    input_shape = { values = [4, 4], type = "tuple" }

    [functions.conv_matrix.cases.random]
    kernel = { random = "normal", shape = [2, 3], seed = 1 }
    input_shape = { values = [5, 4], type = "tuple" }
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

TYPES = ("array", "list", "tuple", "int", "float", "none")  # how the worker hands an argument over
RANDOM = ("normal", "uniform", "integers")
DTYPES = ("float64", "float32", "int64", "int32", "uint8", "bool")
ARG_FIELDS = ("values", "random", "none", "shape", "seed", "dtype", "low", "high", "type")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class FunctionSpecError(ValueError):
    """A ``[functions]`` table is invalid; the message names the function, case and field."""


@dataclass(frozen=True)
class ArgSpec:
    """One argument of one case: a literal value, a random array made from a seed, or None."""

    name: str
    dtype: str
    type: str = "array"
    values: Any = None
    random: str = ""
    shape: tuple[int, ...] = ()
    seed: int = 0
    low: float = 0.0
    high: float = 1.0

    def make(self) -> np.ndarray | None:
        """The argument's value as an array (deterministic: the same every run), or None."""
        if self.type == "none":
            return None
        if not self.random:
            return np.array(self.values, dtype=self.dtype)
        rng = np.random.default_rng(self.seed)
        if self.random == "normal":
            drawn = rng.normal(size=self.shape)
        elif self.random == "uniform":
            drawn = rng.uniform(self.low, self.high, size=self.shape)
        else:
            drawn = rng.integers(int(self.low), int(self.high), size=self.shape, endpoint=True)
        return drawn.astype(self.dtype)

    def describe(self) -> str:
        """The argument in a few words: "(4, 4)", "3x3 1..9", "random 2x3"."""
        if self.type == "none":
            return "None"
        if self.random:
            kind = "" if self.dtype.startswith("float") else f"{self.dtype} "
            return f"random {kind}{_dims(self.shape)}"
        array = np.asarray(self.make())
        if self.type in ("int", "float") or array.ndim == 0:
            return f"{array.item():g}"
        if self.type == "tuple":
            return str(tuple(_plain(array)))
        flat = array.ravel()
        if flat.size <= 4:
            return str(_plain(array))
        if np.array_equal(flat, np.arange(flat[0], flat[0] + flat.size)):
            return f"{_dims(array.shape)} {flat[0]:g}..{flat[-1]:g}"
        return f"{_dims(array.shape)} array"


@dataclass(frozen=True)
class CaseSpec:
    name: str
    label: str  # how feedback names the case ("the slides' example"); empty: the arguments
    args: tuple[ArgSpec, ...]

    def args_text(self) -> str:
        """The arguments in words: ``kernel=3x3 1..9, input_shape=(4, 4)``."""
        return ", ".join(f"{arg.name}={arg.describe()}" for arg in self.args)

    def call_text(self, function: str) -> str:
        """The call in words: ``conv_matrix(kernel=3x3 1..9, input_shape=(4, 4))``."""
        return f"{function}({self.args_text()})"


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    args: tuple[str, ...]
    outputs: tuple[str, ...]  # names of the returned values; one name: the function returns one value
    cases: dict[str, CaseSpec]

    @property
    def probe(self) -> str:
        return probe_name(self.name)

    def probe_args(self) -> dict[str, Any]:
        """What the worker's ``calls`` probe needs: per case, each argument's input key and type."""
        return {
            "function": self.name,
            "outputs": list(self.outputs),
            "cases": {
                case.name: [
                    {"key": input_key(self.name, case.name, a.name), "type": a.type} for a in case.args
                ]
                for case in self.cases.values()
            },
        }

    def inputs(self) -> dict[str, np.ndarray]:
        """Every case's arguments as worker inputs (``case:<function>:<case>:<arg>``); None needs none."""
        return {
            input_key(self.name, case.name, arg.name): arg.make()
            for case in self.cases.values()
            for arg in case.args
            if arg.type != "none"
        }

    def case_args(self, case: str) -> dict[str, Any]:
        return {arg.name: arg.make() for arg in self.cases[case].args}


def probe_name(function: str) -> str:
    return f"calls:{function}"


def input_key(function: str, case: str, arg: str) -> str:
    return f"case:{function}:{case}:{arg}"


def output_key(case: str, output: str) -> str:
    return f"{case}.{output}"


def all_inputs(functions: dict[str, FunctionSpec]) -> dict[str, np.ndarray]:
    merged: dict[str, np.ndarray] = {}
    for spec in functions.values():
        merged.update(spec.inputs())
    return merged


def _plain(array: np.ndarray) -> Any:
    """Nested lists for a message: whole numbers without a trailing .0."""
    whole = array.dtype.kind in "iub" or bool(np.all(np.isfinite(array)) and np.all(array == np.round(array)))
    return array.astype(np.int64).tolist() if whole else array.tolist()


def _dims(shape: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in shape) if shape else "scalar"


# -- parsing ----------------------------------------------------------------------------------------


def parse_functions(table: Any) -> dict[str, FunctionSpec]:
    """The rubric's ``functions`` table; raises FunctionSpecError naming the function, case and field."""
    if not isinstance(table, dict):
        raise FunctionSpecError("[functions]: must be a table")
    return {name: _parse_function(name, raw) for name, raw in table.items()}


def _parse_function(name: str, raw: Any) -> FunctionSpec:
    where = f"[functions.{name}]"
    if not NAME.match(name):
        raise FunctionSpecError(f"{where}: not a Python function name")
    if not isinstance(raw, dict):
        raise FunctionSpecError(f"{where}: must be a table")
    unknown = set(raw) - {"args", "outputs", "cases"}
    if unknown:
        raise FunctionSpecError(
            f"{where}: field '{sorted(unknown)[0]}': unknown field (args, outputs, cases)"
        )
    args = _names(raw.get("args"), f"{where}: field 'args'")
    outputs = _names(raw.get("outputs", ["result"]), f"{where}: field 'outputs'")
    if "label" in args:
        raise FunctionSpecError(f"{where}: field 'args': 'label' is reserved for the case's label")
    cases_raw = raw.get("cases")
    if not isinstance(cases_raw, dict) or not cases_raw:
        raise FunctionSpecError(f"{where}: field 'cases': must be a table of at least one case")
    cases = {
        case: _parse_case(case, body, args, f"{where} case '{case}'") for case, body in cases_raw.items()
    }
    return FunctionSpec(name, args, outputs, cases)


def _names(value: Any, where: str) -> tuple[str, ...]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and NAME.match(v) for v in value)
    ):
        raise FunctionSpecError(f"{where}: must be a non-empty list of names")
    if len(set(value)) != len(value):
        raise FunctionSpecError(f"{where}: names must be distinct")
    return tuple(value)


def _parse_case(name: str, body: Any, args: tuple[str, ...], where: str) -> CaseSpec:
    if not NAME.match(name):
        raise FunctionSpecError(f"{where}: a case name is letters, digits and _")
    if not isinstance(body, dict):
        raise FunctionSpecError(f"{where}: must be a table")
    label = body.get("label", "")
    if not isinstance(label, str):
        raise FunctionSpecError(f"{where}: field 'label': must be a string")
    given = [key for key in body if key != "label"]
    for key in given:
        if key not in args:
            raise FunctionSpecError(f"{where}: field '{key}': not an argument (args: {', '.join(args)})")
    # A case may leave out trailing arguments (the function's defaults apply), never one in the middle.
    count = len(given)
    if set(given) != set(args[:count]):
        missing = next(arg for arg in args if arg not in given)
        raise FunctionSpecError(
            f"{where}: field '{missing}': missing (only trailing arguments may be left out)"
        )
    specs = tuple(_parse_arg(arg, body[arg], f"{where}: field '{arg}") for arg in args[:count])
    return CaseSpec(name, label, specs)


def _parse_arg(name: str, raw: Any, where: str) -> ArgSpec:
    if not isinstance(raw, dict):
        raise FunctionSpecError(f"{where}': must be a table such as {{ values = [1, 2] }}")
    unknown = set(raw) - set(ARG_FIELDS)
    if unknown:
        raise FunctionSpecError(f"{where}.{sorted(unknown)[0]}': unknown field ({', '.join(ARG_FIELDS)})")
    kind = raw.get("type", "array")
    if kind not in TYPES:
        raise FunctionSpecError(f"{where}.type': must be one of {', '.join(TYPES)}")
    if sum(key in raw for key in ("values", "random", "none")) != 1:
        raise FunctionSpecError(f"{where}': give exactly one of 'values' (a literal), 'random' or 'none'")
    if "none" in raw:
        if raw["none"] is not True or len(raw) > 1:
            raise FunctionSpecError(f"{where}': an argument passed as None is written {{ none = true }}")
        return ArgSpec(name, "float64", "none")
    if kind == "none":
        raise FunctionSpecError(f"{where}.type': an argument passed as None is written {{ none = true }}")
    if "values" in raw:
        extra = set(raw) & {"shape", "seed", "low", "high"}
        if extra:
            raise FunctionSpecError(f"{where}.{sorted(extra)[0]}': only a random argument has it")
        default = "int64" if kind in ("int", "tuple") else "float64"
        dtype = _dtype(raw.get("dtype", default), where)
        try:
            np.array(raw["values"], dtype=dtype)
        except (TypeError, ValueError) as exc:
            raise FunctionSpecError(f"{where}.values': not a {dtype} array ({exc})") from None
        return ArgSpec(name, dtype, kind, values=raw["values"])
    random = raw["random"]
    if random not in RANDOM:
        raise FunctionSpecError(f"{where}.random': must be one of {', '.join(RANDOM)}")
    shape = raw.get("shape")
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise FunctionSpecError(f"{where}.shape': must be a list of non-negative integers")
    seed = raw.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise FunctionSpecError(f"{where}.seed': missing, or not a non-negative integer")
    default_high = 255 if random == "integers" else 1.0
    low, high = raw.get("low", 0), raw.get("high", default_high)
    for label, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise FunctionSpecError(f"{where}.{label}': must be a number")
    if high < low:
        raise FunctionSpecError(f"{where}.high': must not be below low")
    dtype = _dtype(raw.get("dtype", "int64" if random == "integers" else "float64"), where)
    return ArgSpec(name, dtype, kind, random=random, shape=tuple(shape), seed=seed, low=low, high=high)


def _dtype(value: Any, where: str) -> str:
    if value not in DTYPES:
        raise FunctionSpecError(f"{where}.dtype': must be one of {', '.join(DTYPES)}")
    return str(value)
