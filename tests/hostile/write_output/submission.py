"""Cheat: write into the grader's output folder: overwrite another student's report, forge one's own.

The output folder is known (the test substitutes __OUT_DIR__, as a student who read the
instructor's command line would). Every route to a file is tried.
"""

import os
import shutil
import json
import pathlib

import numpy as np

OUT = "__OUT_DIR__"
VICTIM = os.path.join(OUT, "reports", "reference_transposed_conv.json")
MINE = os.path.join(OUT, "reports", "write_output.json")
FORGED = json.dumps({"score": 4.0, "max_score": 4.0, "status": "graded", "items": []})


def _quietly(action, *args):
    try:
        action(*args)
    except Exception:
        pass


def conv_matrix(kernel, input_shape):
    with open(VICTIM, "w") as handle:  # raises: the error the student sees
        handle.write(FORGED)
    return np.zeros((4, 16))


def conv2d_as_matmul(image, kernel):
    _quietly(lambda: pathlib.Path(MINE).write_text(FORGED))
    _quietly(lambda: os.close(os.open(os.path.join(OUT, "gradebook.csv"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)))
    _quietly(os.mkdir, os.path.join(OUT, "reports", "planted"))
    _quietly(os.truncate, VICTIM, 0)
    _quietly(os.remove, VICTIM)
    _quietly(os.chmod, VICTIM, 0o777)
    _quietly(os.utime, VICTIM, (0, 0))
    return np.zeros((2, 2))


def transposed_conv_as_matmul(x, kernel, input_shape):
    with open("forged.json", "w") as handle:  # in the worker's own folder: allowed
        handle.write(FORGED)
    _quietly(os.rename, "forged.json", MINE)
    _quietly(shutil.copyfile, "forged.json", VICTIM)
    _quietly(os.link, "forged.json", os.path.join(OUT, "reports", "linked.json"))
    _quietly(os.symlink, os.path.join(OUT, "reports"), "reports_link")
    _quietly(lambda: open(os.path.join("reports_link", "reference_transposed_conv.json"), "w").write(FORGED))
    _quietly(os.symlink, os.path.abspath("forged.json"), os.path.join(OUT, "reports", "symlinked.json"))
    _quietly(shutil.rmtree, os.path.join(OUT, "reports"))
    return np.zeros(tuple(input_shape))


def upsample_then_conv(x, size, kernel):
    return np.zeros((2, 2))
