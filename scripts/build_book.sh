#!/usr/bin/env bash
# Build the HTML book into _build/html, installing what it needs into .venv first.
# Warnings are errors. The notebooks are not re-executed: the book shows their
# stored outputs, the ones nbval checks (refresh them with scripts/execute_notebooks.py).
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
rm -rf _build/html _build/.doctrees
jupyter-book build . --warningiserror --nitpick --keep-going
python scripts/check_book.py _build/html
echo "Book built: open _build/html/index.html"
