"""Cheat: terminal escapes in exception messages, replayed by the instructor's terminal.

OSC 52 writes the instructor's clipboard, OSC 8 hides a link, OSC 0 sets the window title,
ESC[?1049h switches to the alternate screen, and the C1 CSI (0x9b) starts a colour code.
They must reach the score table, the reports and summary.md as visible text, never raw.
"""

ESCAPES = (
    "\x1b]52;c;ZWNobyBwd25lZA==\x07 \x1b]8;;http://evil.example/\x07click\x1b]8;;\x07 "
    "\x1b]0;owned\x07 \x1b[?1049h \x9b31m red"
)


def conv_matrix(kernel, input_shape):
    raise ValueError(ESCAPES)


def conv2d_as_matmul(image, kernel):
    raise ValueError(ESCAPES)


def transposed_conv_as_matmul(x, kernel, input_shape):
    raise ValueError(ESCAPES)


def upsample_then_conv(x, size, kernel):
    raise ValueError(ESCAPES)
