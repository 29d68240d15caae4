#!/usr/bin/env bash
# Run every test, installing what it needs into .venv first:
#   lint (ruff), the workflows (actionlint), the unit tests but the core's (pytest on
#   TensorFlow, one worker per core with pytest-xdist; on JAX and PyTorch the book's
#   tests of tests/backends), the wheels and sdists (built, twine-checked, their
#   contents checked), the core's wheel installed into a fresh environment per backend
#   and the core's tests run there, every notebook under nbval in
#   strict mode (each timed), the book build with warnings as errors, every
#   page in headless Chromium with its links and anchors, and the PDF of the
#   book. Every stage runs even when an earlier one fails, so that one failure
#   does not hide another; the summary at the end lists them all and the exit
#   status is non-zero if any failed.
#
#   bash scripts/test.sh                 # everything
#   bash scripts/test.sh --portability   # only the notebooks, with the data
#                                        # re-rounded (see book/bumpbook/portability.py)
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

mode=all
case "${1:-}" in
  "") ;;
  --portability) mode=portability ;;
  *) echo "usage: bash scripts/test.sh [--portability]" >&2; exit 2 ;;
esac

failed=()
timings=()

# stage NAME COMMAND...: run COMMAND, time it, remember a failure and go on.
stage() {
  local name=$1
  shift
  echo
  echo "== $name"
  local start=$SECONDS
  if "$@"; then
    timings+=("$(printf '%-44s %4d s  ok' "$name" $((SECONDS - start)))")
  else
    timings+=("$(printf '%-44s %4d s  FAILED' "$name" $((SECONDS - start)))")
    failed+=("$name")
  fi
}

# nbval in strict mode on one notebook; the only sanitizer is nbval_sanitize.cfg. pytest loads
# nbval's plugin alone: the other installed plugins (hypothesis, playwright, benchmark...) play
# no part here and importing them cost about 1 s per notebook.
nbval() {
  PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 MPLBACKEND=module://matplotlib_inline.backend_inline \
    KERAS_BACKEND=tensorflow pytest -p nbval.plugin -p no:cacheprovider \
    --nbval --nbval-sanitize-with nbval_sanitize.cfg \
    --nbval-cell-timeout=900 -o testpaths=chapters -o filterwarnings= -q "$1"
}

# The test modules that only the clone runs, on backend $1 (scripts/dists.py).
clone_tests() {
  local modules
  read -ra modules <<< "$(python scripts/dists.py clone-tests "$1")"
  [ ${#modules[@]} -gt 0 ] && KERAS_BACKEND=$1 pytest -p no:cacheprovider -n auto -q "${modules[@]}"
}

notebooks() {
  local label=$1 nb
  for nb in chapters/*.ipynb; do
    stage "$label $(basename "$nb")" nbval "$nb"
  done
}

if [ "$mode" = portability ]; then
  export BUMPLIB_PERTURB_ROUNDING=1
  notebooks "nbval (data re-rounded)"
else
  stage "ruff check" ruff check .
  stage "ruff format --check" ruff format --check .
  stage "actionlint (.github/workflows)" actionlint
  # The core's tests run against the installed wheel (below), once per backend; the clone
  # runs the rest: on TensorFlow every other unit test, on JAX and PyTorch the rest of
  # tests/backends (the book's layers, and models across backends).
  stage "unit tests but the core's (TensorFlow)" clone_tests tensorflow
  for backend in jax torch; do
    stage "book layers, across backends, on $backend" clone_tests "$backend"
  done
  stage "wheels and sdists (build, twine, contents)" python scripts/dists.py build
  for backend in tensorflow jax torch; do
    stage "core wheel installed with $backend" python scripts/dists.py test-installed "$backend"
  done
  notebooks "nbval"
  stage "book build" bash scripts/build_book.sh
  stage "browser test: Chromium, axe, links" bash scripts/browser_test.sh
  stage "PDF of the whole book" bash scripts/build_pdf.sh
fi

echo
echo "== summary"
printf '%s\n' "${timings[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "${#failed[@]} stage(s) failed: ${failed[*]}"
  exit 1
fi
echo "all stages passed"
