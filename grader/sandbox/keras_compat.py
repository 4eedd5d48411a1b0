"""Choose the Keras a submission runs under: Keras 3, or Keras 2 (``tf_keras``).

Under Keras 2 the parent starts the worker with ``TF_USE_LEGACY_KERAS=1`` (so
``tf.keras`` is ``tf_keras``) and this module makes ``import keras`` and every
``keras.*`` submodule resolve to ``tf_keras`` too, so Keras 2 code such as
``from keras import backend as K; K.exp(x)`` runs unchanged.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from types import ModuleType
from typing import Any


class _KerasAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolve ``keras`` and ``keras.x.y`` to ``tf_keras`` and ``tf_keras.x.y``."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None):
        if fullname == "keras" or fullname.startswith("keras."):
            target_name = "tf_keras" + fullname[len("keras") :]
            if importlib.util.find_spec(target_name) is None:
                return None
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec: Any) -> ModuleType:
        return importlib.import_module("tf_keras" + spec.name[len("keras") :])

    def exec_module(self, module: ModuleType) -> None:
        pass  # already executed as tf_keras.*


def configure_keras(version: str, threads: int = 0) -> ModuleType | None:
    """Import TensorFlow once, set threads and determinism, and return the keras module.

    ``version == "none"``: the assignment needs no TensorFlow (it is imported only if the
    submission imports it), which saves the ~6 s import.
    """
    if version == "none":
        return None
    import tensorflow as tf

    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(min(2, threads))
    tf.config.experimental.enable_op_determinism()
    if version == "2":
        import tf_keras

        if any(isinstance(finder, _KerasAlias) for finder in sys.meta_path):
            return tf_keras  # configured already (in the zygote this worker was forked from)

        for name in [name for name in sys.modules if name == "keras" or name.startswith("keras.")]:
            del sys.modules[name]
        for name, module in list(sys.modules.items()):
            if name == "tf_keras" or name.startswith("tf_keras."):
                sys.modules["keras" + name[len("tf_keras") :]] = module
        sys.meta_path.insert(0, _KerasAlias())
        return tf_keras
    import keras

    return keras
