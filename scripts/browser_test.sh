#!/usr/bin/env bash
# The browser test of the built book (tests/browser, on pytest-playwright): every page
# in headless Chromium at 1280 px in light and dark mode and at 390 px, with axe-core
# (see tests/browser/test_book.py for what fails). Build the book first
# (scripts/build_book.sh). Installs what it needs through scripts/browser_env.sh
# (Playwright's Python client, pytest-playwright, axe-core's package, Debian's Chromium).
#
#   bash scripts/browser_test.sh [--screenshots DIR] [pytest options, e.g. -k intro]
source "$(dirname "${BASH_SOURCE[0]}")/browser_env.sh"
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --screenshots) args+=(--screenshot on --full-page-screenshot --output "$2"); shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
export CHROMIUM
pytest -p no:cacheprovider -q -n 3 tests/browser "${args[@]}"
