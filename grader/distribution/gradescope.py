"""``grader gradescope --rubric NAME [--budget NAME] -o autograder.zip``: a Gradescope autograder.

The zip holds at its root ``setup.sh`` (installs the grader's wheel and its pinned dependencies,
once, when Gradescope builds the image), ``run_autograder`` (grades each submission:
grader/distribution/autograder_run.py), ``autograder.json`` (rubric, budget, timeout),
``requirements.txt``, a ``Containerfile`` with the same setup, the rubric and its calibration, and
a wheel of the grader built from this checkout with every item (hidden ones too) and the
reference's results precomputed for the budget (grader/distribution/precompute.py), so grading
trains no reference and downloads nothing. It is the instructor's: it holds the hidden items.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement

from grader.distribution.kit import rubric_files
from grader.distribution.wheel import DistributionError, build_wheel, dependencies
from grader.rubric import Rubric, load_rubric

TEMPLATES = Path(__file__).resolve().parent / "templates"
DEFAULT_TIMEOUT_MIN = 40.0  # Gradescope's default autograder timeout
SAFETY = 3.0  # the budget's slowest calibrated grading, times this, must fit the timeout


@dataclass(frozen=True)
class Autograder:
    zip: Path
    budget: str
    size_bytes: int
    names: tuple[str, ...]


def pinned_requirements(requirements: list[str]) -> list[str]:
    """``name==version`` of every installed distribution ``requirements`` need, transitively (the
    versions this checkout was tested and calibrated with)."""
    pins: dict[str, str] = {}
    todo = [Requirement(r) for r in requirements]
    while todo:
        requirement = todo.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        key = re.sub(r"[-_.]+", "-", requirement.name).lower()
        if key in pins:
            continue
        try:
            distribution = importlib.metadata.distribution(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            raise DistributionError(
                f"{requirement.name} is not installed: install the grader first"
            ) from None
        pins[key] = distribution.version
        todo += [Requirement(r) for r in distribution.requires or []]
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


def check_fits(rubric: Rubric, budget: str, timeout_s: float) -> None:
    """A DistributionError when the budget's calibrated grading time does not fit the timeout."""
    try:
        entry = json.loads(rubric.calibration_path.read_text())["budgets"][f"{budget}@default"]
        slowest = float(entry["grading_seconds"]["max"])
    except (OSError, KeyError, ValueError, TypeError):
        return  # not calibrated: nothing to compare with
    if slowest * SAFETY > timeout_s:
        raise DistributionError(
            f"budget '{budget}' of {rubric.name} took up to {slowest:.0f} s per submission when calibrated; "
            f"with a safety factor of {SAFETY:g} that exceeds the {timeout_s / 60:g}-minute timeout: "
            "choose a smaller budget or a longer timeout"
        )


def build_autograder(
    rubric_name: str, out: Path, budget: str = "default", timeout_min: float = DEFAULT_TIMEOUT_MIN
) -> Autograder:
    """Write the autograder zip of ``rubric_name`` to ``out`` (trains the reference once if not cached)."""
    rubric = load_rubric(rubric_name)
    rubric.budget_named(budget)
    check_fits(rubric, budget, timeout_min * 60)
    files = rubric_files(rubric, {item.id for item in rubric.items}, [budget], stand_in=False)
    config = {"rubric": rubric.name, "budget": budget, "timeout_s": timeout_min * 60}
    with tempfile.TemporaryDirectory(prefix="autograder-") as temp:
        readme = f"# The Gradescope autograder of {rubric.title} (instructors only: it holds hidden items)\n"
        wheel = build_wheel(files, f"autograder.{rubric.name.replace('_', '.')}", readme, Path(temp))
        members = {
            "setup.sh": (TEMPLATES / "setup.sh").read_bytes(),
            "run_autograder": (TEMPLATES / "run_autograder").read_bytes(),
            "Containerfile": (TEMPLATES / "Containerfile").read_bytes(),
            "autograder.json": json.dumps(config, indent=2).encode(),
            "requirements.txt": "\n".join(pinned_requirements(dependencies())).encode() + b"\n",
            wheel.name: wheel.read_bytes(),
        }
        members |= {f"rubric/{name}": content for name, content in files.items() if "/" not in name}
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in members.items():
                info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                info.external_attr = (0o755 if name in ("setup.sh", "run_autograder") else 0o644) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, content)
    return Autograder(out, budget, out.stat().st_size, tuple(members))
