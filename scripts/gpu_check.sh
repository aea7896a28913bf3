#!/usr/bin/env bash
# The GPU check in one call, on a bare Linux GPU machine (Python 3.12, PyTorch 2.11
# with CUDA, pytest; no network, no venv of ours):
#
#   bash scripts/gpu_check.sh [--out DIR|FILE] [--wheels DIR] [--compile MODE] [--frames N]
#   bash scripts/gpu_check.sh --dry-run      the same steps on this CPU, with .venv and the preview model
#
# Installs what the image lacks from a wheel folder (made by scripts/gpu_wheels.sh on a
# networked machine; default ./gpu-wheels) into .gpu-site/ (never into the system),
# then runs scripts/gpu_check.py: the GPU tests, the engine bench, the steering check
# and Demucs / Beat This! on CUDA. One JSON report: --out (default ./gpu-report.json),
# and the same JSON, compact, as the last line on stdout. docs/gpu.md has the procedure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
wheels="$ROOT/gpu-wheels"
dry=0
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --wheels) wheels=$(cd "$2" && pwd); shift 2 ;;
    --dry-run) dry=1; args+=("$1"); shift ;;
    *) args+=("$1"); shift ;;
  esac
done
say() { echo "[gpu_check] $*" >&2; }

export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1          # nothing is downloaded
export TORCHINDUCTOR_CACHE_DIR="$ROOT/.gpu-cache/inductor"   # a rerun reuses the compiled kernels
if [ "$dry" = 1 ]; then
  PY="$ROOT/.venv/bin/python"
  [ -x "$PY" ] || { echo "gpu_check --dry-run uses the project's .venv: run bash scripts/setup.sh test first" >&2; exit 1; }
  export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
else
  PY=${PYTHON:-python3}
  site="$ROOT/.gpu-site"
  if compgen -G "$wheels/*.whl" >/dev/null; then
    t=$(date +%s)
    say "installing $(ls "$wheels"/*.whl | wc -l) wheels from $wheels into $site"
    "$PY" -m pip install -q --no-index --no-deps --disable-pip-version-check --upgrade \
      --target "$site" "$wheels"/*.whl
    say "wheels installed in $(( $(date +%s) - t )) s"
  else
    say "no wheels in $wheels: using what the image has (make them with scripts/gpu_wheels.sh)"
  fi
  export PYTHONPATH="$ROOT:$site${PYTHONPATH:+:$PYTHONPATH}"
fi
exec "$PY" scripts/gpu_check.py "${args[@]}"
