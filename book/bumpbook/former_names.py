"""The 2020 thread's layers under the names bumplib 1.0.0 gave them, so that old files load.

bumplib 1.0.0 exported the thread's layers as ``CondBumpLayer``,
``WhereBumpLayer``, ``BumpLayer`` and ``SafeWhereBumpLayer``. They are now the
book's :class:`~bumpbook.QuestionBumpLayer`, :class:`~bumpbook.AnswerWhereBumpLayer`,
:class:`~bumpbook.AnswerBumpLayer` and :class:`~bumpbook.PortableAnswerBumpLayer`.
A ``.keras`` file names each layer by its registered name and stores its weights
under the class name, so loading a file saved then needs a class of each old name:
these subclasses, registered under the old names, add nothing else. Importing
:mod:`bumpbook` registers them; new code uses the new names.
"""

from __future__ import annotations

import keras

from bumpbook.answer_layers import AnswerBumpLayer, AnswerWhereBumpLayer, QuestionBumpLayer
from bumpbook.portable_answer_layer import PortableAnswerBumpLayer

__all__ = ["BumpLayer", "CondBumpLayer", "SafeWhereBumpLayer", "WhereBumpLayer"]


@keras.saving.register_keras_serializable(package="bumplib")
class CondBumpLayer(QuestionBumpLayer):
    """bumplib 1.0.0's name of :class:`~bumpbook.QuestionBumpLayer`."""


@keras.saving.register_keras_serializable(package="bumplib")
class WhereBumpLayer(AnswerWhereBumpLayer):
    """bumplib 1.0.0's name of :class:`~bumpbook.AnswerWhereBumpLayer`."""


@keras.saving.register_keras_serializable(package="bumplib")
class BumpLayer(AnswerBumpLayer):
    """bumplib 1.0.0's name of :class:`~bumpbook.AnswerBumpLayer`."""


@keras.saving.register_keras_serializable(package="bumplib")
class SafeWhereBumpLayer(PortableAnswerBumpLayer):
    """bumplib 1.0.0's name of :class:`~bumpbook.PortableAnswerBumpLayer`."""
