# Sourced by browser_test.sh and build_pdf.sh: the Python environment of .venv
# (scripts/env.sh), Playwright's Python client (requirements-browser.txt) and a
# Chromium binary in $CHROMIUM:
#   - requirements-browser.txt is installed into .venv when it changed;
#   - Debian's Chromium is installed when /usr/bin/chromium is missing and this
#     runs as root with apt-get (apt-get update && apt-get install -y chromium).
# Otherwise it says what to install and fails.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

stamp=.venv/.browser-requirements-installed
want="$(sha256sum requirements-browser.txt | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] ||
   ! python -c 'import playwright.sync_api, pytest_playwright, axe_playwright_python' 2>/dev/null; then
  echo "Installing requirements-browser.txt into .venv"
  python -m pip install --quiet -r requirements-browser.txt
  echo "$want" > "$stamp"
fi

if [ -z "${CHROMIUM:-}" ]; then
  for candidate in /usr/bin/chromium /usr/bin/chromium-browser; do
    [ -x "$candidate" ] && CHROMIUM=$candidate && break
  done
fi
if [ -z "${CHROMIUM:-}" ]; then
  source "$(dirname "${BASH_SOURCE[0]}")/system_packages.sh"
  install_debian_packages "the browser check and the PDF" chromium && CHROMIUM=/usr/bin/chromium
fi
if [ -z "${CHROMIUM:-}" ] || [ ! -x "$CHROMIUM" ]; then
  echo "error: the browser check and the PDF need Chromium and found none." >&2
  echo "  Debian/Ubuntu, as root: apt-get update && apt-get install -y chromium" >&2
  echo "  or set CHROMIUM=/path/to/chromium (Chromium or Chrome, any recent version)." >&2
  exit 1
fi
