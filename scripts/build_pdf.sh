#!/usr/bin/env bash
# A PDF of the whole book for offline reading: _build/pdf/book.pdf.
# Builds the single-page HTML book (warnings are errors), then prints it with
# headless Chromium (scripts/build_pdf.py). Installs what it needs through
# scripts/browser_env.sh; MathJax comes from scripts/build_book.sh's pinned copy,
# so run build_book.sh first (test.sh does).
source "$(dirname "${BASH_SOURCE[0]}")/browser_env.sh"
if [ ! -f _build/vendor/node_modules/mathjax/es5/tex-mml-chtml.js ]; then
  echo "error: MathJax is not installed yet: run bash scripts/build_book.sh first." >&2
  exit 1
fi
rm -rf _build/singlehtml
jupyter-book build . --builder singlehtml --warningiserror --nitpick --keep-going
python scripts/build_pdf.py --chromium "$CHROMIUM"
