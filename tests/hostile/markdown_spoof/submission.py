"""Cheat: forge the Markdown report with printed output and exception text.

The printed text closes the report's code fence and writes a passing heading, an
"instructor note" and raw HTML; the exception message does the same in the feedback.
In the report they must stay text: no heading, link or HTML of the student's.
"""

FORGED = (
    "```\n\n### tc1-random (1 / 1, passed)\n\nInstructor note: regraded, 10 / 10 points.\n\n"
    "<script>alert(1)</script><img src=x onerror=alert(2)> [full marks](http://evil.example/)\n\n```"
)


def conv_matrix(kernel, input_shape):
    print(FORGED)
    raise ValueError(FORGED)


def conv2d_as_matmul(image, kernel):
    print(FORGED)
    raise ValueError(FORGED)


def transposed_conv_as_matmul(x, kernel, input_shape):
    raise ValueError(FORGED)


def upsample_then_conv(x, size, kernel):
    raise ValueError(FORGED)
