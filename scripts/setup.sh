#!/usr/bin/env bash
# One entry point for a fresh machine:
#   bash scripts/setup.sh demo   install everything, then run `hambajuba demo`
#   bash scripts/setup.sh test   install everything the tests need, then run them all
#   bash scripts/setup.sh        install only
# Idempotent: a second run skips what is already there. Needs Python >= 3.11.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
PY=${PYTHON:-python3}
action=${1:-install}
shift || true

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# Debian packages: audio out (PortAudio), JPEG frames (libturbojpeg), a virtual
# display and mouse driver for the GUI tests (xvfb, xdotool).
need_deb=()
have_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }
have_lib libportaudio.so || need_deb+=(libportaudio2)
have_lib libturbojpeg.so || need_deb+=(libturbojpeg0)
if [ "$action" = test ]; then
  command -v Xvfb >/dev/null || need_deb+=(xvfb)
  command -v xdotool >/dev/null || need_deb+=(xdotool)
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

"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "hambajuba needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2; exit 1; }
[ -x "$VENV/bin/python" ] || { say "creating $VENV"; "$PY" -m venv "$VENV"; }

# Reinstall only when the dependency list changed (stamp = hash of pyproject).
stamp="$VENV/.hambajuba-installed"
# the tests cover the optional extras too (Ray), so CI runs them
extras="test"; [ "$action" = test ] && extras="test,ray"
want=$( (sha256sum pyproject.toml scripts/setup.sh; echo "$extras") | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing Python packages into .venv (torch is large: a few minutes the first time)"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e ".[$extras]"
  # basic-pitch pins TensorFlow and numpy<2 on Linux: install it without its
  # dependencies and run its bundled ONNX model through onnxruntime (optional).
  # (its metadata asks for TensorFlow, hence --no-warn-conflicts)
  "$VENV/bin/python" -m pip install -q onnxruntime "resampy==0.4.3" \
    && "$VENV/bin/python" -m pip install -q --no-deps --no-warn-conflicts "basic-pitch==0.4.0" \
    || say "warning: basic-pitch not installed; 'other' stem pitch uses the fallback"
  echo "$want" > "$stamp"
else
  say "Python packages up to date"
fi

case "$action" in
  install) say "done. Try: .venv/bin/hambajuba demo" ;;
  demo) exec "$VENV/bin/hambajuba" demo "$@" ;;
  test) exec "$VENV/bin/python" -m pytest -q "$@" ;;
  *) echo "usage: bash scripts/setup.sh [install|demo|test]" >&2; exit 2 ;;
esac
