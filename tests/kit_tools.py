"""A Python environment with only a kit's grader (tests/test_student_kit.py): a fresh venv whose
site-packages links to this venv's dependencies (TensorFlow is not installed again), without the
editable install of this checkout, so ``grader`` is the kit's wheel and ``reference`` is absent."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

LEFT_OUT = ("__editable__", "dl_autograder", "distutils-precedence.pth")


def kit_python(root: Path, wheel: Path) -> Path:
    """The interpreter of a new venv in ``root`` with ``wheel`` pip-installed and the deps linked."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.startswith(LEFT_OUT):
            (Path(purelib) / entry.name).symlink_to(entry)
    install = ["--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)]
    subprocess.run([sys.executable, "-m", "pip", *install], check=True)
    return python
