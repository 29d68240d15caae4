"""The book's own helpers: the figures, tables and measurements of its chapters.

Nothing here is needed to use a bump layer in a model; that is :mod:`bumplib`
itself (reference maths, layers, data, training). The chapters import these
modules by name:

* :mod:`bumplib.book.diagnostics`: the measurements of the worked exercises
  (chapter 4).
* :mod:`bumplib.book.comparison`: bump against Gaussian, many widths at once,
  bumps inside a network (chapter 5).
* :mod:`bumplib.book.production`: saving, serving, XLA, mixed precision and
  several devices (chapter 5).
* :mod:`bumplib.book.plotting`: every figure of the book.
"""
