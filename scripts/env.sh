# Sourced by build_book.sh and test.sh: make sure .venv holds requirements.txt and
# requirements-torch.txt (PyTorch, for chapter 6 and the backend tests), then use it.
# Needs only Python 3.11 (3.11.5 or newer) on PATH. Re-installs only when one of
# those files or pyproject.toml changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# The pinned requirements need Python 3.11.5 or newer (3.11.x): take the first such
# interpreter on PATH, or the one named by $PYTHON.
if [ -z "${PYTHON:-}" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null &&
       "$candidate" -c 'import sys; sys.exit(not (3, 11, 5) <= sys.version_info[:3] < (3, 12))'; then
      PYTHON="$(command -v "$candidate")"
      break
    fi
  done
fi
if [ -z "${PYTHON:-}" ]; then
  echo "error: need Python >= 3.11.5 and < 3.12 on PATH (python3.11 or python3), or set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements-installed
want="$(cat requirements.txt requirements-torch.txt pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "Installing requirements.txt and requirements-torch.txt into .venv"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements.txt -r requirements-torch.txt
  echo "$want" > "$stamp"
fi
export PATH="$ROOT/.venv/bin:$PATH"
# Quiet, repeatable TensorFlow in notebooks, tests and the build.
export TF_CPP_MIN_LOG_LEVEL=3 TF_ENABLE_ONEDNN_OPTS=0 PYTHONHASHSEED=0 TF_DETERMINISTIC_OPS=1
