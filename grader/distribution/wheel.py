"""Build a wheel of the grader from this checkout, without ``reference/`` and with the rubric a kit
or an autograder ships (grader/distribution/kit.py, gradescope.py)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import tomli_w

from grader import __version__

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CHECKOUT = Path(__file__).resolve().parents[2]
GRADER = CHECKOUT / "grader"
# What a kit does not need of the grader package: its own tests (they import the reference).
LEFT_OUT = shutil.ignore_patterns("tests", "__pycache__", "*.pyc")


class DistributionError(Exception):
    """A kit or an autograder could not be built; the message says why."""


def dependencies() -> list[str]:
    """The grader's dependencies as its pyproject.toml declares them."""
    pyproject = CHECKOUT / "pyproject.toml"
    if not pyproject.is_file():
        raise DistributionError(f"no checkout of the grader at {CHECKOUT}: build kits from a checkout")
    return list(tomllib.loads(pyproject.read_text())["project"]["dependencies"])


def build_wheel(rubric_files: dict[str, bytes], local_version: str, readme: str, out: Path) -> Path:
    """A wheel named ``dl-autograder`` (so installing it replaces any grader) holding the ``grader``
    package and ``rubrics/`` with exactly ``rubric_files`` (path under rubrics/ -> bytes)."""
    if not GRADER.is_dir():
        raise DistributionError(f"no grader package at {GRADER}")
    with tempfile.TemporaryDirectory(prefix="grader-wheel-") as temp:
        stage = Path(temp)
        shutil.copytree(GRADER, stage / "grader", ignore=LEFT_OUT)
        for name, content in rubric_files.items():
            target = stage / "rubrics" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        (stage / "README.md").write_text(readme, encoding="utf-8")
        (stage / "pyproject.toml").write_text(_pyproject(local_version), encoding="utf-8")
        out.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-index", "-q", "-w", str(out)]
        if importlib.util.find_spec("setuptools") and importlib.util.find_spec("wheel"):
            command.append("--no-build-isolation")  # offline: this environment's setuptools
        done = subprocess.run([*command, str(stage)], capture_output=True, text=True)
        if done.returncode != 0:
            raise DistributionError(f"building the wheel failed: {done.stderr.strip()[-500:]}")
    wheels = sorted(out.glob("dl_autograder-*.whl"), key=lambda p: p.stat().st_mtime)
    return wheels[-1]


def _pyproject(local_version: str) -> str:
    project = {
        "name": "dl-autograder",
        "version": f"{__version__}+{local_version}",
        "description": "Autograder for TensorFlow/Keras exercises (a distribution without the reference)",
        "readme": "README.md",
        "requires-python": ">=3.10",
        "dependencies": dependencies(),
        "scripts": {"grader": "grader.cli:main"},
    }
    return tomli_w.dumps(
        {
            "build-system": {
                "requires": ["setuptools>=65", "wheel"],
                "build-backend": "setuptools.build_meta",
            },
            "project": project,
            "tool": {
                "setuptools": {
                    "packages": {"find": {"include": ["grader*", "rubrics"], "namespaces": True}},
                    "package-data": {
                        "grader": [
                            "report/templates/*",
                            "review/templates/*",
                            "review/static/*",
                            "distribution/templates/*",
                        ],
                        "rubrics": ["*.toml", "*.json", "*.precomputed/*"],
                    },
                }
            },
        }
    )
