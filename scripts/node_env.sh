# Sourced by build_book.sh before it installs the pinned MathJax with npm: make sure
# Node.js and npm are on PATH. When either is missing and this runs as root with
# apt-get, Debian's nodejs and npm are installed (scripts/system_packages.sh);
# otherwise it says what to install and fails.
source "$(dirname "${BASH_SOURCE[0]}")/system_packages.sh"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  install_debian_packages "the offline book's MathJax" nodejs npm || true
fi
missing=()
for tool in node npm; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "error: the book build needs Node.js and npm (npm installs the pinned MathJax that" \
    "the offline book ships); not found: ${missing[*]}." >&2
  echo "  Debian/Ubuntu, as root: apt-get update && apt-get install -y nodejs npm" >&2
  echo "  or install Node.js 18 or newer (it comes with npm) and put node and npm on PATH." >&2
  exit 1
fi
