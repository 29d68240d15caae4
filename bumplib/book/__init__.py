"""The book's own helpers: the figures, tables and measurements of its chapters.

Nothing here is needed to use a bump layer in a model; that is :mod:`bumplib`
itself (reference maths, layers, data, training). The chapters import these
modules by name:

* :mod:`bumplib.book.diagnostics`: the measurements of the worked exercises
  (chapter 4).
* :mod:`bumplib.book.comparison`: bump against Gaussian, many widths at once,
  bumps inside a network (chapter 5).
* :mod:`bumplib.book.recovery`: the ablation of ``fit_sigma``'s Adam choices,
  ``curve_fit`` on ``log(sigma)`` and the fair baselines (chapter 5).
* :mod:`bumplib.book.production`: saving, serving, XLA, mixed precision with
  loss scaling, and several devices (chapter 5).
* :mod:`bumplib.book.tfp_bump`: TensorFlow Probability's bump, its ``tf.where``
  trap and the fix (chapter 5).
* :mod:`bumplib.book.plotting`: every figure of the book.
"""
