#!/usr/bin/env bash
# Build the HTML book into _build/html, installing what it needs into .venv first
# (and Node.js and npm, for MathJax, when they are missing: see scripts/node_env.sh).
# Warnings are errors. The notebooks are not re-executed: the book shows their
# stored outputs, the ones nbval checks (refresh them with scripts/execute_notebooks.py).
#
# The built book needs no network: MathJax (the npm package pinned in
# _ext/mathjax/package-lock.json) is installed into _build/vendor here and copied
# into the site by _ext/offline_html.py; everything else comes from the Python
# packages. scripts/browser_test.sh tests the pages, their links and anchors, and that
# nothing they load comes from another host.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

vendor=_build/vendor
if [ ! -f "$vendor/node_modules/mathjax/es5/tex-mml-chtml.js" ] ||
   ! cmp -s _ext/mathjax/package-lock.json "$vendor/package-lock.json"; then
  source scripts/node_env.sh  # Node.js and npm: found, installed with apt-get, or a clear error
  echo "Installing MathJax (npm, pinned in _ext/mathjax/package-lock.json) into $vendor"
  mkdir -p "$vendor"
  cp _ext/mathjax/package.json _ext/mathjax/package-lock.json "$vendor/"
  npm ci --prefix "$vendor" --no-audit --no-fund --loglevel=error
fi

rm -rf _build/html _build/.doctrees
jupyter-book build . --warningiserror --nitpick --keep-going
echo "Book built: open _build/html/index.html"
