#!/usr/bin/env bash
# Run every test, installing what it needs into .venv first:
#   lint (ruff), the bumplib unit tests (pytest), every notebook under nbval in
#   strict mode, and the book build with warnings as errors plus a check of the HTML.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

echo "== ruff"
ruff check .
ruff format --check .

echo "== unit tests"
pytest -p no:cacheprovider tests

echo "== notebooks (nbval, strict)"
MPLBACKEND=module://matplotlib_inline.backend_inline KERAS_BACKEND=tensorflow \
  pytest -p no:cacheprovider --nbval --nbval-sanitize-with nbval_sanitize.cfg \
  --nbval-cell-timeout=900 -o testpaths=chapters -o filterwarnings= chapters

echo "== book"
bash scripts/build_book.sh
