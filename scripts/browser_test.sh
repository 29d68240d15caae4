#!/usr/bin/env bash
# The real-browser check of the built book: every page of _build/html in headless
# Chromium at 1280 px and 390 px (see scripts/browser_check.py for what fails).
# Build the book first (scripts/build_book.sh). Installs what it needs through
# scripts/browser_env.sh (Playwright's Python client, Debian's Chromium).
#
#   bash scripts/browser_test.sh [HTML_DIR] [browser_check.py options]
source "$(dirname "${BASH_SOURCE[0]}")/browser_env.sh"
python scripts/browser_check.py --chromium "$CHROMIUM" "$@"
