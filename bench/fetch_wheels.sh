#!/usr/bin/env bash
# Download the wheels bench/gpu_check.sh needs on a GPU machine without network access
# (listed in bench/gpu-wheels.txt) into .whl/ at the repository root (ignored by git).
# Run here, on a machine with network access:  bash bench/fetch_wheels.sh [python]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-python3}
mkdir -p .whl
grep -v '^\s*#' bench/gpu-wheels.txt | grep -v '^\s*$' | while read -r req; do
  "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux1_x86_64 --platform any -d .whl "$req"
done
ls -1 .whl
