#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test: lit (regression tests
# and gtest unit tests, target check-baq), the Python package's pytest suite,
# and lit again on a sanitizer build. Ends with one line per suite and one
# closing "N passed, N failed" over all of them.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh || { echo "0 passed, 1 failed"; exit 1; }

results=build/test-results
rm -rf "$results" && mkdir -p "$results"

lit=/usr/lib/llvm-22/bin/lit
"$lit" -sv --xunit-xml-output "$results/lit.xml" build/test build/unittests
lit_rc=$?

PYTHONPATH=python /usr/bin/python3 -m pytest -q python/tests --junitxml "$results/pytest.xml"
py_rc=$?
# pytest exits 5 when it collected nothing: that is a failure of the suite.

# The GPU-free steps of the GPU check (build products, whole-model lowering,
# ptxas, CUDA runtime symbols and no-GPU errors; GPU steps skipped): < 1 min.
scripts/gpu-check.sh --dry-run --no-build --out "$results/gpu-check"
gpu_rc=$?

# The whole lit suite again on an ASan + UBSan build (build-asan/). Skip with
# BAQ_SKIP_SANITIZER=1 for a quick local run.
san_rc=0
if [[ -z ${BAQ_SKIP_SANITIZER:-} ]]; then
  scripts/sanitize.sh --xunit-xml-output "$results/sanitizer-lit.xml"
  san_rc=$?
fi

/usr/bin/python3 scripts/summarize_tests.py "$results"/*.xml
summary_rc=$?
if ((lit_rc != 0 || py_rc != 0 || gpu_rc != 0 || san_rc != 0 || summary_rc != 0)); then exit 1; fi
