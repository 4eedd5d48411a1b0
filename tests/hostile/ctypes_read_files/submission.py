"""Cheat: read the grader's files through C open()/read() (ctypes), past the Python audit hook.

Each function first tries plain Python (the audit hook refuses), then the C library (the
kernel must refuse: Landlock), and returns stolen results when a read succeeds:

* conv_matrix: the reference, found through the editable-install finder and site-packages;
* conv2d_as_matmul: another student's submission in the class folder (the reference's copy);
* transposed_conv_as_matmul: the rubric, the calibration and the grader's cache;
* upsample_then_conv: writes outside its temporary folder (the output folder, a marker).
"""

import ctypes
import errno
import glob
import os
import site

LIBC = ctypes.CDLL(None, use_errno=True)
SITE = site.getsitepackages()[0]


def _c_read(path):
    fd = LIBC.open(path.encode(), os.O_RDONLY)
    if fd < 0:
        code = ctypes.get_errno()
        raise PermissionError(code, f"C open() failed: {os.strerror(code)}", path)
    chunks, buffer = [], ctypes.create_string_buffer(1 << 16)
    while (count := LIBC.read(fd, buffer, len(buffer))) > 0:
        chunks.append(buffer.raw[:count])
    LIBC.close(fd)
    return b"".join(chunks)


def _read(path):
    try:
        with open(path, "rb") as handle:  # plain Python: the audit hook refuses
            return handle.read()
    except OSError:
        return _c_read(path)  # C: the kernel refuses


def _exec(paths):
    errors = []
    for path in paths:
        try:
            namespace = {}
            exec(_read(path), namespace)
            return namespace
        except OSError as exc:
            errors.append(exc)
    raise errors[-1] if errors else FileNotFoundError("no candidate")


def _reference_paths():
    found = [os.path.join(SITE, "reference", "transposed_conv.py"), "__REPO__/reference/transposed_conv.py"]
    for finder in glob.glob(os.path.join(SITE, "__editable__*finder.py")):
        text = _c_read(finder).decode()  # readable (it only names paths): the files it names are not
        if "'reference': '" in text:
            found.insert(0, text.split("'reference': '")[1].split("'")[0] + "/transposed_conv.py")
    return found


def conv_matrix(kernel, input_shape):
    return _exec(_reference_paths())["conv_matrix"](kernel, input_shape)


def conv2d_as_matmul(image, kernel):
    other = os.path.join("__CLASS_DIR__", "reference_transposed_conv.py")
    return _exec([other])["conv2d_as_matmul"](image, kernel)


def _try_all(action, targets):
    """Every target, each refused (else the stolen results); the error names each target's refusal."""
    refusals = []
    for name, path in targets.items():
        try:
            action(path)
        except OSError as exc:
            refusals.append(f"{name} {errno.errorcode.get(exc.errno, exc.errno)}")
    if len(refusals) < len(targets):
        return True
    raise PermissionError(13, "refused: " + ", ".join(refusals))


def transposed_conv_as_matmul(x, kernel, input_shape):
    targets = {
        "rubric": "__RUBRIC__",
        "calibration": "__REPO__/rubrics/transposed_conv.calibration.json",
        "cache": "__CACHE__/mnist5k-split-v1.npz",
    }
    _try_all(_read, targets)
    return _exec(_reference_paths())["transposed_conv_as_matmul"](x, kernel, input_shape)


def _c_write(path):
    fd = LIBC.open(path.encode(), os.O_WRONLY | os.O_CREAT, 0o644)
    if fd < 0:
        code = ctypes.get_errno()
        raise PermissionError(code, f"C open() for writing failed: {os.strerror(code)}", path)
    LIBC.write(fd, b"planted", 7)
    LIBC.close(fd)


def upsample_then_conv(x, size, kernel):
    _try_all(_c_write, {"output folder": "__OUT_DIR__/reports/planted_by_c", "marker": "__MARKER_DIR__/written_by_c"})
    return _exec(_reference_paths())["upsample_then_conv"](x, size, kernel)
