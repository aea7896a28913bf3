#!/usr/bin/env bash
# One entry point for a fresh machine:
#   bash scripts/setup.sh demo   install everything, then run `hambajuba demo`
#   bash scripts/setup.sh test   install everything the tests need, then run them all
#   bash scripts/setup.sh        install only
# Idempotent: a second run skips what is already there. Installs from the lock
# files (scripts/lock.sh makes them); needs Linux x86-64 and CPython 3.11 or 3.12.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
PY=${PYTHON:-python3}
action=${1:-install}
shift || true

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# Debian packages: audio out (PortAudio), JPEG frames (libturbojpeg), a virtual
# display and mouse driver for the GUI tests (xvfb, xdotool), Chromium and its
# driver for the web page's browser tests.
need_deb=()
have_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }
have_lib libportaudio.so || need_deb+=(libportaudio2)
have_lib libturbojpeg.so || need_deb+=(libturbojpeg0)
if [ "$action" = test ]; then
  command -v Xvfb >/dev/null || need_deb+=(xvfb)
  command -v xdotool >/dev/null || need_deb+=(xdotool)
  # the web page's browser tests drive Debian's headless Chromium through its driver
  command -v chromium >/dev/null || need_deb+=(chromium)
  command -v chromedriver >/dev/null || need_deb+=(chromium-driver)
fi
if [ ${#need_deb[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Debian packages: ${need_deb[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_deb[@]}" >/dev/null
  elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then
    say "installing Debian packages with sudo: ${need_deb[*]}"
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_deb[@]}" >/dev/null
  else
    say "warning: please install ${need_deb[*]} with your package manager (audio out / JPEG / GUI tests need them)"
  fi
fi

# Linux x86-64 with CPython 3.11 (or 3.12): the platform the lock was resolved for.
[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || {
  echo "hambajuba installs on Linux x86-64 only (the lock is resolved for it); this is $(uname -s)-$(uname -m)" >&2; exit 1; }
"$PY" -c 'import sys; sys.exit(sys.version_info[:2] not in ((3, 11), (3, 12)))' || {
  echo "hambajuba needs CPython 3.11 or 3.12; set PYTHON=/path/to/python3.11" >&2; exit 1; }

# Install exactly what the lock says: every package pinned and hash-checked,
# nothing resolved here. `setup.sh test` adds the test and Ray extras.
lock=requirements.lock; [ "$action" = test ] && lock=requirements-test.lock
nodeps_lock=requirements-nodeps.lock
for f in "$lock" "$nodeps_lock"; do "$PY" scripts/lock_hash.py --check "$f"; done
[ -x "$VENV/bin/python" ] || { say "creating $VENV"; "$PY" -m venv "$VENV"; }

# Reinstall only when a lock or this script changed.
stamp="$VENV/.hambajuba-installed"
want=$(cat "$lock" "$nodeps_lock" scripts/setup.sh | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing Python packages from $lock into .venv (torch is large: a few minutes the first time)"
  pip_install() { "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$@"; }
  pip_install --require-hashes --no-deps -r "$lock"
  # basic-pitch's metadata pins TensorFlow and numpy<2 on Linux: only its ONNX
  # model is used (through onnxruntime, in the lock), so it goes in without its
  # dependencies. Optional: without it the 'other' stem's pitch uses PESTO.
  pip_install --require-hashes --no-deps -r "$nodeps_lock" \
    || say "warning: basic-pitch not installed; 'other' stem pitch uses the fallback"
  # the project itself, with the setuptools the lock pinned (no build isolation:
  # that would resolve a build environment from the index)
  pip_install --no-deps --no-build-isolation -e .
  echo "$want" > "$stamp"
else
  say "Python packages up to date ($lock)"
fi

case "$action" in
  install) say "done. Try: .venv/bin/hambajuba demo" ;;
  demo) exec "$VENV/bin/hambajuba" demo "$@" ;;
  test)
    say "lint: ruff check ."
    "$VENV/bin/ruff" check .
    exec "$VENV/bin/python" -m pytest -q --durations=25 "$@" ;;
  *) echo "usage: bash scripts/setup.sh [install|demo|test]" >&2; exit 2 ;;
esac
