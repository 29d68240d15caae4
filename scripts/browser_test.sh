#!/usr/bin/env bash
# The browser test of the built book (tests/browser, on pytest-playwright): every page
# in headless Chromium at 1280 px in light and dark mode and at 390 px, with axe-core
# (see tests/browser/test_book.py for what fails); in the same run, pytest-check-links
# checks every internal link and anchor of the pages (other hosts are not fetched).
# Build the book first (scripts/build_book.sh). Installs what it needs through
# scripts/browser_env.sh (Playwright's Python client, pytest-playwright, axe-core's
# package, pytest-check-links, Debian's Chromium).
#
#   bash scripts/browser_test.sh [--html-dir DIR] [--screenshots DIR] [pytest options]
source "$(dirname "${BASH_SOURCE[0]}")/browser_env.sh"
html_dir=_build/html
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --screenshots) args+=(--screenshot on --full-page-screenshot --output "$2"); shift 2 ;;
    --html-dir) html_dir=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
if [ ! -d "$html_dir" ]; then
  echo "error: no built book at $html_dir: run bash scripts/build_book.sh first" >&2
  exit 2
fi
mapfile -t pages < <(find "$html_dir" -name '*.html' -not -path '*/_static/*' \
  -not -path '*/_sources/*' | sort)
export CHROMIUM
pytest -p no:cacheprovider -q -n 3 --html-dir "$html_dir" tests/browser \
  --check-links --check-anchors --check-links-ignore '^(https?|mailto):' "${pages[@]}" "${args[@]}"
