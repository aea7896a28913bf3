#!/usr/bin/env bash
# Build the wheel folder scripts/gpu_check.sh installs on a bare GPU machine, on a
# machine with network: binary wheels for CPython 3.12, manylinux x86-64, of what
# the GPU image lacks, at the versions (and hashes) of requirements-test.lock.
#
#   bash scripts/gpu_wheels.sh [DIR]      (default ./gpu-wheels; at most 60 MiB)
#
# The image brings python3.12, torch 2.11 with CUDA (and triton, the nvidia libs),
# numpy, scipy, pytest and transformers (with huggingface_hub, tokenizers,
# safetensors, ...): those are never packed, torch above all.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-gpu-wheels}
# what the GPU check imports beyond the image (found by listing the distributions
# the check's steps load: diffusers for the engine, the analysis models' packages)
PACKAGES=(diffusers importlib-metadata zipp torchaudio demucs julius lameenc einops
          beat-this rotary-embedding-torch soundfile soxr cffi pycparser pillow)
LIMIT_MB=60
PIP=${PIP:-python3 -m pip}

mkdir -p "$out"; rm -f "$out"/*.whl
reqs=$(mktemp)
for name in "${PACKAGES[@]}"; do
  # the pin and its hash lines, exactly as the lock has them
  awk -v n="$name" 'BEGIN{IGNORECASE=1}
    /^[A-Za-z0-9]/ {take = (tolower($0) ~ "^" tolower(n) "==")}
    take && !/^ *#/' requirements-test.lock > "$reqs.one"
  [ -s "$reqs.one" ] || { echo "gpu_wheels: $name is not in requirements-test.lock" >&2; exit 1; }
  # a wheel built for CPython 3.12; a pure-Python package published only as an
  # sdist is built into a py3 wheel here (same pin, hash-checked sdist)
  if ! $PIP download -q --no-deps --require-hashes --only-binary=:all: --python-version 3.12 \
       --implementation cp --abi cp312 --abi abi3 --abi none --platform manylinux_2_28_x86_64 \
       --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any \
       -d "$out" -r "$reqs.one" 2>/dev/null; then
    $PIP wheel -q --no-deps --require-hashes -w "$out" -r "$reqs.one"
  fi
done
rm -f "$reqs" "$reqs.one"
size=$(du -sm "$out" | cut -f1)
echo "gpu_wheels: $(ls "$out"/*.whl | wc -l) wheels, ${size} MiB in $out"
[ "$size" -le "$LIMIT_MB" ] || { echo "gpu_wheels: over ${LIMIT_MB} MiB" >&2; exit 1; }
