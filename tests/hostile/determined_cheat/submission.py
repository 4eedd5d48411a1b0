"""The determined cheat of issue 12: about 60 lines that solve nothing.

Every contract function reads reference/autoencoders.py with C open()/read() through ctypes
(past the Python audit hook), finds it through sys.path, the editable-install finder and
site-packages, execs it and delegates to it. Without kernel isolation this earned 17.5 of
the 18.5 automatic points. The read is also tried from TensorFlow's own threads (a
tf.py_function in a tf.data pipeline and in a tf.function), which Landlock must cover too.
"""

import ctypes
import glob
import os
import site
import sys

LIBC = ctypes.CDLL(None, use_errno=True)
NAMES = [
    "build_encoder", "build_decoder", "build_autoencoder", "plot_reconstructions", "plot_loss",
    "plot_latent", "knn_per_digit_accuracy", "build_classifier", "train_classifier", "latent_grid",
    "decode_grid", "plot_grid", "sampling", "build_vae_encoder", "build_vae_decoder", "kl_loss",
    "vae_loss", "build_vae",
]


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


def _candidates():
    roots = [*sys.path, *site.getsitepackages(), "__REPO__"]
    for finder in glob.glob(os.path.join(site.getsitepackages()[0], "__editable__*finder.py")):
        text = _c_read(finder).decode()
        if "'reference': '" in text:
            roots.insert(0, os.path.dirname(text.split("'reference': '")[1].split("'")[0]))
    return [os.path.join(root, "reference", "autoencoders.py") for root in roots if isinstance(root, str)]


def _in_tf_threads(path):
    import tensorflow as tf

    def read(_):
        return tf.constant(_c_read(path))

    pipeline = tf.data.Dataset.range(1).map(lambda i: tf.py_function(read, [i], tf.string))
    try:
        return pipeline.get_single_element().numpy()
    except Exception:
        return tf.function(lambda: tf.py_function(read, [0], tf.string))().numpy()


def _reference(cache={}):
    if not cache:
        errors = []
        for path in _candidates():
            for route in (_c_read, _in_tf_threads):
                try:
                    exec(route(path), cache)
                    return cache
                except Exception as exc:
                    errors.append(f"{route.__name__}({path}): {exc}")
        raise PermissionError(13, "every route was refused: " + " | ".join(errors[:4])[:1500])
    return cache


def _delegate(name):
    return lambda *args, **kwargs: _reference()[name](*args, **kwargs)


for _name in NAMES:
    globals()[_name] = _delegate(_name)
