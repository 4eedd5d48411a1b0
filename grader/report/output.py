"""What a student's code printed, as a report shows it: without TensorFlow's own log lines.

TensorFlow writes warnings about its internals into the same stream as the student's prints
("AutoGraph could not transform ... Please report this to the TensorFlow team", retracing notes,
absl's ``W0000 00:00:...`` lines). They are not the student's output and not theirs to act on.
The JSON report keeps the output as it was; the Markdown, HTML and Gradescope renderings filter it.
"""

from __future__ import annotations

import re

# A log record of TensorFlow's Python logger or of its C++ (absl) logging.
TF_LOG = re.compile(r"^(?:(?:WARNING|INFO|DEBUG):(?:tensorflow|absl):|[IWD]\d{4} [\d:.]+\s+\d+ [\w.]+:\d+\])")
# The lines that continue AutoGraph's multi-line warning.
CONTINUATION = re.compile(
    r"^(?:Please report this to the TensorFlow team|Cause: |To silence this warning, decorate|"
    r"Instructions for updating:)"
)


def student_output(text: str) -> str:
    """``text`` without TensorFlow's log records and their continuation lines."""
    kept, in_record = [], False
    for line in text.splitlines():
        if TF_LOG.match(line):
            in_record = True
            continue
        if in_record and CONTINUATION.match(line):
            continue
        in_record = False
        kept.append(line)
    return "\n".join(kept)
