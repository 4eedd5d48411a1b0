"""Cheat: find the reference's source file and run it, then return the reference's results.

The paths are found the way a student with full knowledge would: the repository root
(the test substitutes __REPO__), the editable install's path mapping in site-packages,
and the parent process's working directory.
"""

import glob
import importlib.util
import os
import runpy
import site
import sys

CANDIDATES = ["__REPO__/reference/transposed_conv.py"]
for finder in glob.glob(os.path.join(site.getsitepackages()[0], "__editable__*finder.py")):
    with open(finder) as handle:
        for line in handle:
            if "MAPPING" in line and "reference" in line:
                CANDIDATES.append(line.split("'reference': '")[-1].split("'")[0] + "/transposed_conv.py")
CANDIDATES.append(f"/proc/{os.getppid()}/cwd/reference/transposed_conv.py")
for entry in sys.path:
    CANDIDATES.append(os.path.join(entry, "reference", "transposed_conv.py"))
FOUND = [path for path in CANDIDATES if os.path.exists(path)]


def _reference():
    """The reference module, by every route a file can be read."""
    path = FOUND[0] if FOUND else CANDIDATES[0]
    errors = []
    try:
        spec = importlib.util.spec_from_file_location("stolen", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    except Exception as exc:
        errors.append(exc)
    try:
        return type("Stolen", (), runpy.run_path(path))
    except Exception as exc:
        errors.append(exc)
    fd = os.open(path, os.O_RDONLY)  # raises: the last route, whose error the student sees
    namespace = {}
    exec(os.read(fd, 1 << 20), namespace)
    return type("Stolen", (), namespace)


def conv_matrix(kernel, input_shape):
    return _reference().conv_matrix(kernel, input_shape)


def conv2d_as_matmul(image, kernel):
    return _reference().conv2d_as_matmul(image, kernel)


def transposed_conv_as_matmul(x, kernel, input_shape):
    return _reference().transposed_conv_as_matmul(x, kernel, input_shape)


def upsample_then_conv(x, size, kernel):
    return _reference().upsample_then_conv(x, size, kernel)
