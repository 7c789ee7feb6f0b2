#!/usr/bin/env bash
# Create .venv and install the pinned dependencies; a no-op when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON_BIN="${PYTHON:-}"
if [ -z "$PYTHON_BIN" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PYTHON_BIN="$candidate"; break
    fi
  done
fi
[ -n "$PYTHON_BIN" ] || { echo "error: Python 3.11 is required (set PYTHON=/path/to/python3.11)" >&2; exit 1; }

apt_install() {  # apt_install WHAT PACKAGE...: Debian packages, installed when run as root
  local what=$1; shift
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[install] installing $* (Debian packages) for $what"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "[install] note: $what needs $* (apt-get install $*); without them it is skipped"
  fi
}

# The browser test drives Debian's Chromium and reads its screenshots with tesseract.
if ! command -v chromium >/dev/null || ! command -v tesseract >/dev/null; then
  apt_install "the browser test" chromium tesseract-ocr
fi
# The Celery stack (make up EXECUTOR=celery) runs Debian's Postgres and Redis servers.
if ! { compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null; } \
    || ! command -v redis-server >/dev/null; then
  apt_install "the Celery stack" postgresql redis-server
fi

stamp_input=$(cat requirements.txt requirements-local.txt requirements-dev.txt constraints.txt scripts/install.sh | sha256sum | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ -f .venv/.installed ] && [ "$(cat .venv/.installed)" = "$stamp_input" ]; then
  echo "[install] .venv is up to date"
  exit 0
fi

[ -x .venv/bin/python ] || "$PYTHON_BIN" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check uv==0.13.8

# llama-cpp-python ships only as source: build its wheel once per machine and keep
# it outside the clone, so new clones (and CI) install it in seconds.
WHEELS="${CREWS_WHEEL_CACHE:-$HOME/.cache/crews/wheels}"
LLAMA_PIN=$(grep -o '^llama-cpp-python\[server\]==[0-9.]*' requirements-local.txt | sed 's/\[server\]//')
LLAMA_VERSION=${LLAMA_PIN#*==}
mkdir -p "$WHEELS"
if ! ls "$WHEELS"/llama_cpp_python-"$LLAMA_VERSION"-*.whl >/dev/null 2>&1; then
  echo "[install] building $LLAMA_PIN once for this machine (about 7 minutes on 2 cores) into $WHEELS"
  .venv/bin/python -m pip wheel --quiet --disable-pip-version-check --no-deps --wheel-dir "$WHEELS" "$LLAMA_PIN"
fi

echo "[install] installing pinned packages"
.venv/bin/uv pip install --python .venv/bin/python --find-links "$WHEELS" \
  -r requirements.txt -r requirements-local.txt -r requirements-dev.txt -c constraints.txt
.venv/bin/uv pip check --python .venv/bin/python
echo "$stamp_input" > .venv/.installed
echo "[install] done"
