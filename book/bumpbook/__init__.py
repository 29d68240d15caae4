"""The book's own helpers: the 2020 thread's layers, and the figures, tables and measurements.

Nothing here is needed to use a bump layer in a model; that is :mod:`bumplib`
itself (reference maths, layers, data, training), a separate distribution.
This package exports the 2020 thread's layers and training recipe, kept as
the thread wrote them so that the book can study them (their traps
included), the book's training loops compiled on TensorFlow, and its small
models. The chapters import its other
modules by name:

* :mod:`bumpbook.diagnostics`: the measurements of the worked exercises
  (chapter 4).
* :mod:`bumpbook.recovery`: ``curve_fit`` on ``log(sigma)``, the baseline
  of ``fit_sigma`` (chapter 5).
* :mod:`bumpbook.production`: a layer's values and gradients, element by
  element, in its compute dtype (chapter 6).
* :mod:`bumpbook.plotting`: every figure of the book.
"""

from __future__ import annotations

import bumpbook.former_names  # noqa: F401 - registers the names bumplib 1.0.0 saved layers under
from bumpbook.answer_layers import AnswerBumpLayer, AnswerWhereBumpLayer, QuestionBumpLayer
from bumpbook.answer_recipe import answer_epochs, answer_recipe_model, fit_answer_recipe, make_model
from bumpbook.compiled_loop import fit_compiled, fit_full_batch
from bumpbook.models import make_localized_model
from bumpbook.portable_answer_layer import PortableAnswerBumpLayer

__all__ = [
    "AnswerBumpLayer",
    "AnswerWhereBumpLayer",
    "PortableAnswerBumpLayer",
    "QuestionBumpLayer",
    "answer_epochs",
    "answer_recipe_model",
    "fit_answer_recipe",
    "fit_compiled",
    "fit_full_batch",
    "make_localized_model",
    "make_model",
]
