#!/usr/bin/env bash
# The GPU check of issue 14, in one command (under 8 minutes on an H200):
#   1. the GPU tests (pytest -m gpu: every kernel and xp stage against its numpy twin),
#   2. the numpy-vs-CuPy benchmark suite (bench/test_bench_gpu.py) with roofline figures.
# Results (JSON and logs) go to $OUT when set (the device machine), else bench/results/.
#
# Packages missing on the machine (bench/gpu-wheels.txt) are installed from the wheels in
# $SIGINT_WHEELS (default .whl/ at the repository root; make it with bench/fetch_wheels.sh
# and carry it along), offline: pip install --no-index --find-links.
#
# Usage (repository root):  bash bench/gpu_check.sh
# From this workplace's device tool: run(command="bash bench/gpu_check.sh", carry=[".whl"],
# timeout_s=540) after bash bench/fetch_wheels.sh here; the files come back from $OUT
# (four: gpu-env-*.txt, gpu-tests-*.log, bench-gpu-*.json, bench-gpu-*.log); commit the
# JSON as bench/results/bench-gpu-<device>.json.
set -uo pipefail
cd "$(dirname "$0")/.."
DEST=${OUT:-bench/results}
mkdir -p "$DEST"
PY=${PYTHON:-python3}
WHEELS=${SIGINT_WHEELS:-.whl}
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export SIGINT_CACHE=${SIGINT_CACHE:-/tmp/sigint-cache}
if ! "$PY" -c "import skrf, pydantic, h5netcdf" 2>/dev/null; then
  if [ ! -d "$WHEELS" ]; then
    echo "missing packages and no wheel folder $WHEELS: run bench/fetch_wheels.sh first" >&2
    exit 2
  fi
  "$PY" -m pip install -q --no-index --find-links "$WHEELS" --no-deps --no-compile \
    --no-cache-dir --target /tmp/sigint-site \
    $(grep -v '^\s*#' bench/gpu-wheels.txt | grep -v '^\s*$') || exit 2
  export PYTHONPATH="$PYTHONPATH:/tmp/sigint-site"
fi
DEV=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 | tr -c 'A-Za-z0-9\n' '-' | tr -s '-')
DEV=${DEV:-unknown}
{ nvidia-smi 2>/dev/null; "$PY" -c "import sys, numpy, cupy; print(sys.version); print('numpy', numpy.__version__, 'cupy', cupy.__version__); cupy.show_config()"; } \
  > "$DEST/gpu-env-$DEV.txt" 2>&1
start=$(date +%s)
# -W default: warnings (of CuPy, say) are shown, not errors as in CI, so that one run on a
# lent machine gives every number; the log keeps them.
timeout 150 "$PY" -m pytest -m gpu tests/test_gpu.py -q -rs -W default -p no:cacheprovider 2>&1 | tee "$DEST/gpu-tests-$DEV.log"
tests_rc=${PIPESTATUS[0]}
left=$(( 470 - ($(date +%s) - start) ))
timeout "$left" "$PY" -m pytest bench/test_bench_gpu.py -q -W default -p no:cacheprovider --benchmark-enable \
  --benchmark-json="$DEST/bench-gpu-$DEV.json" 2>&1 | tee "$DEST/bench-gpu-$DEV.log"
bench_rc=${PIPESTATUS[0]}
echo "gpu tests rc=$tests_rc, benchmarks rc=$bench_rc, $(( $(date +%s) - start )) s; results in $DEST"
[ "$tests_rc" -eq 0 ] && [ "$bench_rc" -eq 0 ]
